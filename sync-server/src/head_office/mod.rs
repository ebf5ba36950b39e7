//! What head office reads: registrations, admissions against what was expected, walk-in sales,
//! open conflicts (desks are in `devices`). Plain queries over the projections, the same SQL on
//! both backends. A registration's [`history`] and head office's [`decisions`] on conflicts
//! are rooms of their own.

mod decisions;
mod history;

pub use decisions::{Decision, resolve};
pub use history::{HistoryEntry, history, resolution_words};

use std::collections::HashMap;

use onsite_shared::ids::ConferenceId;
use serde::{Deserialize, Serialize};

use crate::params;
use crate::storage::{Row, SqlValue, StoreError, Tx};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// Matches name, email, company and ticket code; case and accents do not matter.
    #[serde(default)]
    pub q: Option<String>,
    /// `online`, `imported` or `walk_in`.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub admitted: Option<bool>,
    #[serde(default)]
    pub attendee_type: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub code: String,
    pub ticket: String,
    pub order_id: String,
    pub seat_type: String,
    pub seat_type_name: String,
    pub kind: String,
    pub status: String,
    pub origin: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub company: String,
    pub attendee_types: Vec<String>,
    pub admitted_at: Option<String>,
    pub admitted_desk: Option<String>,
    pub admitted_gate: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registrations {
    pub total: i64,
    pub registrations: Vec<Registration>,
}

const REGISTRATION_COLUMNS: &str = "t.code, t.ticket, t.order_id, t.seat_type, COALESCE(s.name, ''), \
     COALESCE(s.kind, 'admission'), t.status, t.origin, t.first_name, t.last_name, t.email, t.company, \
     t.attendee_types";

/// A registration as `REGISTRATION_COLUMNS` read it; its admission comes from
/// [`with_admissions`].
fn registration_from(r: &Row) -> Result<Registration, StoreError> {
    Ok(Registration {
        code: r.text(0)?,
        ticket: r.text(1)?,
        order_id: r.text(2)?,
        seat_type: r.text(3)?,
        seat_type_name: r.text(4)?,
        kind: r.text(5)?,
        status: r.text(6)?,
        origin: r.text(7)?,
        first_name: r.text(8)?,
        last_name: r.text(9)?,
        email: r.text(10)?,
        company: r.text(11)?,
        attendee_types: r.json(12)?,
        admitted_at: None,
        admitted_desk: None,
        admitted_gate: None,
    })
}

/// Fills in each registration's admission in force, with one query for all of them (a page
/// of registrations; see `admissions` in the schema for why not a join per ticket).
fn with_admissions(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    registrations: &mut [Registration],
) -> Result<(), StoreError> {
    if registrations.is_empty() {
        return Ok(());
    }
    let mut values = vec![SqlValue::from(conference.to_string())];
    values.extend(
        registrations
            .iter()
            .map(|r| SqlValue::from(r.code.as_str())),
    );
    let rows = tx.query(
        &format!(
            "SELECT code, admitted_at, desk, gate FROM admissions \
             WHERE conference = $1 AND code IN ({})",
            crate::storage::in_list(2, registrations.len())
        ),
        &values,
    )?;
    let mut admitted = HashMap::with_capacity(rows.len());
    for r in &rows {
        admitted.insert(r.text(0)?, (r.text(1)?, r.text(2)?, r.text(3)?));
    }
    for registration in registrations {
        if let Some((at, desk, gate)) = admitted.remove(&registration.code) {
            registration.admitted_at = Some(at);
            registration.admitted_desk = Some(desk);
            registration.admitted_gate = Some(gate);
        }
    }
    Ok(())
}

const REGISTRATION_FILTER: &str = "FROM tickets t LEFT JOIN seat_types s ON s.conference = t.conference AND s.seat_type = t.seat_type \
     WHERE t.conference = $1 AND ($2 = '' OR t.search LIKE $2) AND ($3 = '' OR t.origin = $3) \
     AND ($4 = '' \
       OR ($4 = 'yes' AND t.code IN (SELECT code FROM admissions WHERE conference = $1)) \
       OR ($4 = 'no' AND t.code NOT IN (SELECT code FROM admissions WHERE conference = $1))) \
     AND ($5 = '' OR t.attendee_types LIKE $5 ESCAPE '\\')";

/// `text` for a `LIKE … ESCAPE '\'` pattern: its `%`, `_` and `\` match themselves.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn registrations(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    q: &RegistrationQuery,
) -> Result<Registrations, StoreError> {
    let search =
        q.q.as_deref()
            .map(onsite_shared::text::fold)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", s.replace(['%', '_'], "")))
            .unwrap_or_default();
    let admitted = match q.admitted {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    // The type as a JSON string inside the stored array; `%`, `_` and `\` in it match
    // themselves (`ESCAPE '\'`).
    let attendee_type = q
        .attendee_type
        .as_deref()
        .map(|t| format!("%\"{}\"%", like_literal(t)))
        .unwrap_or_default();
    let filter = params![
        conference.to_string(),
        search,
        q.origin.clone().unwrap_or_default(),
        admitted,
        attendee_type,
    ]
    .to_vec();
    let total = tx.query(&format!("SELECT COUNT(*) {REGISTRATION_FILTER}"), &filter)?;
    let total = total.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
    let mut page = filter;
    page.push(i64::from(q.limit.unwrap_or(100).min(1_000)).into());
    page.push(i64::from(q.offset.unwrap_or(0)).into());
    let rows = tx.query(
        &format!(
            "SELECT {REGISTRATION_COLUMNS} {REGISTRATION_FILTER} \
             ORDER BY t.last_name, t.first_name, t.code LIMIT $6 OFFSET $7"
        ),
        &page,
    )?;
    let mut registrations = rows
        .iter()
        .map(registration_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
    with_admissions(tx, conference, &mut registrations)?;
    Ok(Registrations {
        total,
        registrations,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeatTypeAdmissions {
    pub seat_type: String,
    pub name: String,
    pub expected: i64,
    pub admitted: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateAdmissions {
    pub gate: String,
    pub admitted: i64,
    /// Inside now through this gate (came in here last, not out since).
    pub inside: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Admissions {
    pub expected: i64,
    pub admitted: i64,
    /// Admitted and not out since: each person once, whatever gates they used.
    pub inside_now: i64,
    pub by_seat_type: Vec<SeatTypeAdmissions>,
    pub by_gate: Vec<GateAdmissions>,
}

/// Admitted against expected: valid tickets of admission seat types.
pub fn admissions(tx: &mut dyn Tx, conference: ConferenceId) -> Result<Admissions, StoreError> {
    let rows = tx.query(
        // The tickets are counted in one pass and then joined to their seat types: joined
        // first, every admission seat type would scan the conference's tickets again.
        "SELECT s.seat_type, s.name, CAST(COALESCE(t.expected, 0) AS BIGINT), \
         CAST(COALESCE(t.admitted, 0) AS BIGINT) \
         FROM seat_types s LEFT JOIN (SELECT seat_type, COUNT(*) AS expected, \
         SUM(CASE WHEN code IN (SELECT code FROM admissions WHERE conference = $1) \
         THEN 1 ELSE 0 END) AS admitted \
         FROM tickets WHERE conference = $1 AND status = 'valid' GROUP BY seat_type) t \
         ON t.seat_type = s.seat_type WHERE s.conference = $1 AND s.kind = 'admission' \
         ORDER BY s.name",
        params![conference.to_string()],
    )?;
    let by_seat_type: Vec<SeatTypeAdmissions> = rows
        .iter()
        .map(|r| {
            Ok(SeatTypeAdmissions {
                seat_type: r.text(0)?,
                name: r.text(1)?,
                expected: r.int(2)?,
                admitted: r.int(3)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let gates = tx.query(
        "SELECT gate, COUNT(*) FROM admissions WHERE conference = $1 \
         AND code IN (SELECT code FROM tickets WHERE conference = $1) GROUP BY gate ORDER BY gate",
        params![conference.to_string()],
    )?;
    let mut by_gate: Vec<GateAdmissions> = gates
        .iter()
        .map(|r| {
            Ok(GateAdmissions {
                gate: r.text(0)?,
                admitted: r.int(1)?,
                inside: 0,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    // Who is inside, by the gate they last came in through: an admission in force that no
    // exit since took out (a re-entry moves the person to its gate).
    let inside = tx.query(
        "SELECT CASE WHEN p.inside = 1 THEN p.gate ELSE a.gate END, COUNT(*) FROM admissions a \
         LEFT JOIN presence p ON p.conference = a.conference AND p.code = a.code \
         WHERE a.conference = $1 AND COALESCE(p.inside, 1) = 1 \
         AND a.code IN (SELECT code FROM tickets WHERE conference = $1) \
         GROUP BY CASE WHEN p.inside = 1 THEN p.gate ELSE a.gate END",
        params![conference.to_string()],
    )?;
    let mut inside_now = 0;
    for r in &inside {
        let (gate, n) = (r.text(0)?, r.int(1)?);
        inside_now += n;
        match by_gate.iter_mut().find(|g| g.gate == gate) {
            Some(g) => g.inside = n,
            None => by_gate.push(GateAdmissions {
                gate,
                admitted: 0,
                inside: n,
            }),
        }
    }
    by_gate.sort_by(|a, b| a.gate.cmp(&b.gate));
    Ok(Admissions {
        expected: by_seat_type.iter().map(|s| s.expected).sum(),
        admitted: by_seat_type.iter().map(|s| s.admitted).sum(),
        inside_now,
        by_seat_type,
        by_gate,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentMethodSales {
    pub payment_method: String,
    pub sales: i64,
    pub tickets: i64,
    pub taken_minor: i64,
    pub refund_due_minor: i64,
    pub compensated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WalkIns {
    pub currency: Option<String>,
    pub by_payment_method: Vec<PaymentMethodSales>,
}

/// Walk-in sales by payment method. The money is added up here, checked: a sum that does not
/// fit is an error for this figure (head office's pages show it in its place), never a wrong
/// number. (Sales are bounded when a desk pushes them; a database from before may hold more.)
pub fn walk_ins(tx: &mut dyn Tx, conference: ConferenceId) -> Result<WalkIns, StoreError> {
    let rows = tx.query(
        "SELECT payment_method, tickets, amount_taken_minor, refund_due_minor, \
         CASE WHEN status IN ('rejected', 'partially_confirmed') THEN 1 ELSE 0 END, currency \
         FROM walk_ins WHERE conference = $1 ORDER BY payment_method",
        params![conference.to_string()],
    )?;
    let overflow =
        || StoreError::Corrupt("the walk-in sales' money does not add up in 64 bits".into());
    let mut currency = None;
    let mut by_payment_method: Vec<PaymentMethodSales> = Vec::new();
    for r in &rows {
        let method = r.text(0)?;
        currency = r.opt_text(5)?;
        if by_payment_method
            .last()
            .is_none_or(|p| p.payment_method != method)
        {
            by_payment_method.push(PaymentMethodSales {
                payment_method: method,
                sales: 0,
                tickets: 0,
                taken_minor: 0,
                refund_due_minor: 0,
                compensated: 0,
            });
        }
        let Some(p) = by_payment_method.last_mut() else {
            continue;
        };
        p.sales += 1;
        p.tickets = p.tickets.checked_add(r.int(1)?).ok_or_else(overflow)?;
        p.taken_minor = p.taken_minor.checked_add(r.int(2)?).ok_or_else(overflow)?;
        p.refund_due_minor = p
            .refund_due_minor
            .checked_add(r.int(3)?)
            .ok_or_else(overflow)?;
        p.compensated += r.int(4)?;
    }
    Ok(WalkIns {
        currency,
        by_payment_method,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictRow {
    pub conflict_id: String,
    pub kind: String,
    pub detail: serde_json::Value,
    pub opened_at: String,
    pub acknowledged: bool,
    pub resolution: Option<serde_json::Value>,
    pub resolved_at: Option<String>,
    pub note: Option<String>,
}

/// Conflicts, the open ones only when `open_only`.
pub fn conflicts(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    open_only: bool,
) -> Result<Vec<ConflictRow>, StoreError> {
    let rows = tx.query(
        "SELECT conflict_id, kind, detail, opened_at, acknowledged, resolution, resolved_at, note FROM conflicts \
         WHERE conference = $1 AND ($2 = 0 OR resolved_at IS NULL) ORDER BY opened_at",
        params![conference.to_string(), i64::from(open_only)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(ConflictRow {
                conflict_id: r.text(0)?,
                kind: r.text(1)?,
                detail: r.json(2)?,
                opened_at: r.text(3)?,
                acknowledged: r.int(4)? != 0,
                resolution: r
                    .opt_text(5)?
                    .map(|s| serde_json::from_str(&s))
                    .transpose()?,
                resolved_at: r.opt_text(6)?,
                note: r.opt_text(7)?,
            })
        })
        .collect()
}

/// How many of one size (or kind) of an item were handed out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SizeHandOuts {
    /// `null` for an item that comes in one kind.
    pub size: Option<String>,
    pub given: i64,
}

/// One item and how many were handed out (taken-back hand-outs and flagged duplicates not
/// counted).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemHandOuts {
    pub item: String,
    pub name: String,
    pub given: i64,
    pub by_size: Vec<SizeHandOuts>,
    /// The people who get it, as the desks reckon it: valid tickets that admit whose holder
    /// (the ticket's seat type, the add-ons on the same email, the attendee types) the item
    /// is for. Still to hand out: `expected − given`.
    #[serde(default)]
    pub expected: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HandOuts {
    /// The conference's items in its order, then any item handed out that the conference no
    /// longer lists.
    pub items: Vec<ItemHandOuts>,
}

/// One room as head office sees it: how full it is now, and how many people came.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomAttendance {
    pub room: String,
    pub capacity: Option<u32>,
    /// In the room now (entered, not left, not gone on to another room), every desk counted.
    pub inside_now: i64,
    /// Everyone who entered at least once.
    pub attended: i64,
}

/// Every room of the conference (in its order; a room no longer listed but with people
/// recorded in it after), with its numbers.
pub fn rooms(tx: &mut dyn Tx, conference: ConferenceId) -> Result<Vec<RoomAttendance>, StoreError> {
    use onsite_shared::conference::Conference;
    use onsite_shared::event::StreamId;
    let (conf, _) = crate::event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
    let mut out: Vec<RoomAttendance> = conf
        .rooms
        .iter()
        .map(|r| RoomAttendance {
            room: r.name.clone(),
            capacity: r.capacity,
            inside_now: 0,
            attended: 0,
        })
        .collect();
    let find = |out: &mut Vec<RoomAttendance>, room: String| -> usize {
        match out.iter().position(|r| r.room.eq_ignore_ascii_case(&room)) {
            Some(at) => at,
            None => {
                out.push(RoomAttendance {
                    room,
                    capacity: None,
                    inside_now: 0,
                    attended: 0,
                });
                out.len() - 1
            }
        }
    };
    let c = conference.to_string();
    for r in &tx.query(
        "SELECT room, COUNT(*) FROM room_presence WHERE conference = $1 GROUP BY room",
        params![c.clone()],
    )? {
        let at = find(&mut out, r.text(0)?);
        out[at].inside_now += r.int(1)?;
    }
    for r in &tx.query(
        "SELECT room, COUNT(*) FROM room_attendance WHERE conference = $1 GROUP BY room",
        params![c],
    )? {
        let at = find(&mut out, r.text(0)?);
        out[at].attended += r.int(1)?;
    }
    Ok(out)
}

/// Hand-outs per item and size.
pub fn hand_outs(tx: &mut dyn Tx, conference: ConferenceId) -> Result<HandOuts, StoreError> {
    use onsite_shared::conference::Conference;
    use onsite_shared::event::StreamId;
    let (conf, _) = crate::event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
    let mut items: Vec<ItemHandOuts> = conf
        .hand_outs
        .iter()
        .map(|i| ItemHandOuts {
            item: i.id.clone(),
            name: i.name.clone(),
            given: 0,
            by_size: i
                .sizes
                .iter()
                .map(|s| SizeHandOuts {
                    size: Some(s.clone()),
                    given: 0,
                })
                .collect(),
            expected: 0,
        })
        .collect();
    let rows = tx.query(
        "SELECT item, size, COUNT(*) FROM hand_outs WHERE conference = $1 \
         GROUP BY item, size ORDER BY item, size",
        params![conference.to_string()],
    )?;
    for r in &rows {
        let (item, size, n) = (r.text(0)?, r.opt_text(1)?, r.int(2)?);
        let at = match items.iter().position(|i| i.item == item) {
            Some(at) => at,
            None => {
                items.push(ItemHandOuts {
                    name: item.clone(),
                    item,
                    given: 0,
                    by_size: vec![],
                    expected: 0,
                });
                items.len() - 1
            }
        };
        let entry = &mut items[at];
        entry.given += n;
        match entry.by_size.iter_mut().find(|s| s.size == size) {
            Some(s) => s.given += n,
            None => entry.by_size.push(SizeHandOuts { size, given: n }),
        }
    }
    if !conf.hand_outs.is_empty() {
        for (at, n) in entitled(tx, conference, &conf)?.into_iter().enumerate() {
            items[at].expected = n;
        }
    }
    Ok(HandOuts { items })
}

/// For each of the conference's items, how many holders of valid admitting tickets get it,
/// reckoned as the desk's roster does (`Conference::hand_outs_for` on the ticket's seat
/// type, the add-ons of the same email, the attendee types). One pass over the tickets.
fn entitled(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    conf: &onsite_shared::conference::Conference,
) -> Result<Vec<i64>, StoreError> {
    use onsite_shared::conference::SeatKind;
    use onsite_shared::ids::{AttendeeTypeId, SeatTypeId};
    let rows = tx.query(
        "SELECT seat_type, lower(email), attendee_types FROM tickets \
         WHERE conference = $1 AND status = 'valid'",
        params![conference.to_string()],
    )?;
    let kind = |s: &SeatTypeId| conf.seat_type(*s).map(|t| t.kind);
    let mut add_ons: HashMap<String, Vec<SeatTypeId>> = HashMap::new();
    let mut holders: Vec<(SeatTypeId, String, Vec<AttendeeTypeId>)> = Vec::new();
    for r in &rows {
        let Ok(seat_type) = r.text(0)?.parse::<SeatTypeId>() else {
            continue;
        };
        let email = r.text(1)?;
        if kind(&seat_type) == Some(SeatKind::AddOn) {
            if !email.is_empty() {
                add_ons.entry(email).or_default().push(seat_type);
            }
            continue;
        }
        let types: Vec<AttendeeTypeId> = serde_json::from_str(&r.text(2)?).unwrap_or_default();
        holders.push((seat_type, email, types));
    }
    let mut counts = vec![0i64; conf.hand_outs.len()];
    for (seat_type, email, types) in &holders {
        let mut holds = vec![*seat_type];
        if let Some(more) = add_ons.get(email) {
            holds.extend(more);
        }
        for (n, item) in counts.iter_mut().zip(&conf.hand_outs) {
            if item.is_for(&holds, types) {
                *n += 1;
            }
        }
    }
    Ok(counts)
}
