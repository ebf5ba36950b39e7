//! A registration's history: every event about one ticket (its order, seat assignment, walk-in
//! sale, admissions, badge and the conflicts naming it), in words, with desk and server time.

use onsite_shared::conflict::{self, Actor, Resolution};
use onsite_shared::event::{Event, StreamId};
use onsite_shared::ids::ConferenceId;
use onsite_shared::order;
use onsite_shared::walk_in;
use onsite_shared::{badge, check_in, hand_out};
use serde::{Deserialize, Serialize};

use super::{REGISTRATION_COLUMNS, Registration, registration_from, with_admissions};
use crate::params;
use crate::storage::{StoreError, Tx};

/// One line of a registration's history: an event, who caused it, and both clocks.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub event_type: String,
    /// What happened, in words.
    pub summary: String,
    /// The desk's name (or id) when a desk's push is behind the event.
    pub desk: Option<String>,
    /// `true` for the desk's own event; `false` for what the server (or head office) decided.
    pub by_desk: bool,
    /// When it happened, by the clock of whoever did it (a desk's clock for its own events).
    pub occurred_at: String,
    /// When the server recorded it.
    pub recorded_at: String,
}

/// A registration (one ticket) and everything recorded about it: its order, its seat
/// assignment, its walk-in sale, its admissions, its badge and the conflicts that name it.
pub fn history(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    code: &str,
) -> Result<Option<(Registration, Vec<HistoryEntry>)>, StoreError> {
    let rows = tx.query(
        &format!(
            "SELECT {REGISTRATION_COLUMNS} FROM tickets t LEFT JOIN seat_types s \
             ON s.conference = t.conference AND s.seat_type = t.seat_type \
             WHERE t.conference = $1 AND t.code = $2"
        ),
        params![conference.to_string(), code],
    )?;
    let Some(mut registration) = rows.first().map(registration_from).transpose()? else {
        return Ok(None);
    };
    with_admissions(tx, conference, std::slice::from_mut(&mut registration))?;
    let admission = onsite_shared::ids::TicketCode::parse(code)
        .map(|c| StreamId::admission(conference, &c).id)
        .unwrap_or_default();
    let rows = tx.query(
        "SELECT e.event_type, e.schema_version, e.payload, e.occurred_at, e.recorded_at, e.device_id, d.name, e.client_seq \
         FROM events e LEFT JOIN devices d ON d.device_id = e.device_id \
         WHERE (e.stream_type IN ('order', 'seat_assignments', 'walk_in') AND e.stream_id = $2) \
         OR (e.stream_type IN ('admission', 'hand_out') AND e.stream_id = $3) \
         OR (e.stream_type = 'badge' AND e.stream_id = $4) \
         OR (e.stream_type = 'conflict' AND e.stream_id IN (SELECT conflict_id FROM conflicts \
             WHERE conference = $1 AND (detail LIKE $5 OR detail LIKE $6))) \
         ORDER BY e.position",
        params![
            conference.to_string(),
            registration.order_id.clone(),
            admission,
            registration.ticket.clone(),
            format!("%\"{}\"%", registration.order_id),
            format!("%\"{code}\"%"),
        ],
    )?;
    let entries = rows
        .iter()
        .map(|r| {
            let event_type = r.text(0)?;
            let schema = u16::try_from(r.int(1)?).unwrap_or(0);
            let payload = serde_json::from_str(&r.text(2)?)?;
            let summary = Event::decode(&event_type, schema, payload)
                .map(|e| describe(&e))
                .unwrap_or_else(|_| event_type.clone());
            Ok(HistoryEntry {
                event_type,
                summary,
                desk: r.opt_text(6)?.or(r.opt_text(5)?),
                by_desk: r.opt_int(7)?.is_some(),
                occurred_at: r.text(3)?,
                recorded_at: r.text(4)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Some((registration, entries)))
}

fn actor(by: &Actor) -> String {
    match by {
        Actor::Desk { .. } => "the desk".to_owned(),
        Actor::HeadOffice { user } => format!("head office ({user})"),
        Actor::Server => "the server".to_owned(),
    }
}

fn with_note(text: String, note: &str) -> String {
    if note.is_empty() {
        text
    } else {
        format!("{text}: “{note}”")
    }
}

/// A conflict's resolution in words: "refund of EUR 199.00 recorded (cash)", "sale honoured".
pub fn resolution_words(resolution: &Resolution) -> String {
    match resolution {
        Resolution::RefundRecorded { amount, method } => {
            format!(
                "refund of {amount} recorded ({})",
                format!("{method:?}").to_lowercase()
            )
        }
        Resolution::SaleHonoured => "sale honoured".to_owned(),
        Resolution::Dismissed => "dismissed".to_owned(),
        Resolution::Closed => "closed".to_owned(),
    }
}

/// An event in a sentence, for people reading a history.
pub(super) fn describe(event: &Event) -> String {
    match event {
        Event::Order(order::Event::Placed { origin, .. }) => match origin {
            order::OrderOrigin::Online => "Order placed online".to_owned(),
            order::OrderOrigin::Imported { source, .. } => format!("Imported from {source}"),
            order::OrderOrigin::WalkIn { .. } => "Order placed by a walk-in sale".to_owned(),
        },
        Event::CheckIn(check_in::Event::Admitted {
            admission,
            override_reason,
            ..
        }) => {
            let text = format!("Admitted at gate {}", admission.gate);
            with_note(text, override_reason.as_deref().unwrap_or_default())
        }
        Event::CheckIn(check_in::Event::Exited { exit, .. }) => {
            format!("Went out at gate {}", exit.gate)
        }
        Event::CheckIn(check_in::Event::Reentered { entry, .. }) => {
            format!("Came back in at gate {}", entry.gate)
        }
        Event::CheckIn(check_in::Event::Undone { reason, .. }) => {
            with_note("Admission undone".to_owned(), reason)
        }
        Event::CheckIn(check_in::Event::DuplicateFlagged { duplicate, .. }) => format!(
            "Admitted a second time at gate {} (flagged as a duplicate)",
            duplicate.gate
        ),
        Event::CheckIn(check_in::Event::InvalidTicketFlagged { status, .. }) => {
            format!("Admitted on a ticket that is {status:?} (flagged)").to_lowercase()
        }
        Event::HandOut(hand_out::Event::Given { item, given, .. }) => match &given.size {
            Some(size) => format!("Handed out: {item} (size {size})"),
            None => format!("Handed out: {item}"),
        },
        Event::HandOut(hand_out::Event::Undone { item, reason, .. }) => {
            with_note(format!("Hand-out of {item} taken back"), reason)
        }
        Event::HandOut(hand_out::Event::DuplicateFlagged { item, .. }) => {
            format!("{item} handed out a second time (flagged)")
        }
        Event::Badge(badge::Event::Printed { .. }) => "Badge printed".to_owned(),
        Event::Badge(badge::Event::Reprinted { reason, .. }) => {
            with_note("Badge reprinted".to_owned(), reason)
        }
        Event::Badge(badge::Event::NameSet { name }) => {
            match (&name.preferred_name, &name.pronouns) {
                (None, None) => "Name on the badge back to the registration's".to_owned(),
                (n, p) => format!(
                    "Name on the badge set: {}{}",
                    n.as_deref().unwrap_or("(as registered)"),
                    p.as_deref().map(|p| format!(" ({p})")).unwrap_or_default()
                ),
            }
        }
        Event::WalkIn(walk_in::Event::SaleRecorded { sale }) => format!(
            "Walk-in sale of {} ticket(s), {} taken by {:?}",
            sale.tickets.len(),
            sale.amount_taken,
            sale.payment_method
        ),
        Event::WalkIn(walk_in::Event::Confirmed { .. }) => "Sale confirmed".to_owned(),
        Event::WalkIn(walk_in::Event::PartiallyConfirmed { refund_due, .. }) => {
            format!("Sale partly confirmed; refund due {refund_due}")
        }
        Event::WalkIn(walk_in::Event::Rejected { refund_due, .. }) => {
            format!("Sale rejected, seats gone; refund due {refund_due}")
        }
        Event::WalkIn(walk_in::Event::Honoured { .. }) => {
            "Sale honoured over the quota by head office".to_owned()
        }
        Event::Conflict(conflict::Event::Opened { kind, .. }) => {
            format!("Conflict opened: {}", kind.label())
        }
        Event::Conflict(conflict::Event::Acknowledged { by, note, .. }) => {
            with_note(format!("Conflict acknowledged by {}", actor(by)), note)
        }
        Event::Conflict(conflict::Event::Resolved {
            resolution,
            by,
            note,
            ..
        }) => {
            let what = resolution_words(resolution);
            with_note(format!("Conflict {what} by {}", actor(by)), note)
        }
        other => {
            // `order.totals_calculated` → "Order totals calculated".
            let words = other.event_type().replace(['.', '_'], " ");
            let mut chars = words.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        }
    }
}
