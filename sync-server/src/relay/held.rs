//! What a relay keeps of its desks' pushes: every item durably, by client and sequence, the
//! moment it arrives (`relay_held`), answered `held`; upstream's outcome once forwarded; and
//! the venue feed (`relay_venue`), which shares each desk's new events with the venue's
//! other desks and, later, the ids upstream refused.
//!
//! A relay's `clients` row holds the higher of what upstream had of the client (learned with
//! the desks) and what the relay holds, so a desk that pushed straight upstream meanwhile is
//! not asked for it again, and a desk that failed over to upstream and back finds the relay
//! where upstream is.

use onsite_shared::aggregate::Timestamp;
use onsite_shared::event::Envelope;
use onsite_shared::ids::{ClientId, DeviceId, EventId, OrderId};
use onsite_shared::protocol::{
    OutcomeStatus, PushItem, PushOutcome, PushRequest, PushResponse, VenueAllocation, VenueEntry,
};

use crate::params;
use crate::storage::{StoreError, Tx, time_text};
use crate::sync::{self, CheckedPush, Desk, PushError};

/// Holds a checked push: each item the relay has not seen is stored, and shared with the
/// venue when it is new to upstream too; each item it has is answered with upstream's outcome
/// when forwarded, `held` otherwise. A gap refuses the push (409) like upstream; an item at a
/// held sequence with another event id refuses it as diverged.
pub fn hold(
    tx: &mut dyn Tx,
    desk: Desk,
    checked: &CheckedPush,
    now: Timestamp,
) -> Result<PushResponse, PushError> {
    let req = checked.request();
    let last = sync::client_sequence(tx, req.client_id, desk.device)?;
    if let Some(first) = req.items.first()
        && first.client_seq > last + 1
    {
        return Err(PushError::Gap { expected: last + 1 });
    }
    let mut next_venue = next_venue_seq(tx)?;
    let mut outcomes = Vec::with_capacity(req.items.len());
    let mut new_last = last;
    for item in &req.items {
        let rows = tx.query(
            "SELECT event_id, outcome FROM relay_held WHERE client_id = $1 AND client_seq = $2",
            params![req.client_id.to_string(), item.client_seq],
        )?;
        let outcome = if let Some(row) = rows.first() {
            if row.text(0)? != item.event.event_id.to_string() {
                return Err(PushError::Diverged(format!(
                    "client_seq {} was held here before with another event: another copy of \
                     this desk's database pushed first. Ask head office for a re-enrolment code",
                    item.client_seq
                )));
            }
            match row.opt_text(1)? {
                Some(json) => serde_json::from_str(&json).map_err(StoreError::from)?,
                None => held(item),
            }
        } else {
            let envelope = serde_json::to_string(&item.event).map_err(StoreError::from)?;
            tx.execute(
                "INSERT INTO relay_held (client_id, client_seq, device_id, event_id, envelope, \
                 app_version, held_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    req.client_id.to_string(),
                    item.client_seq,
                    desk.device.to_string(),
                    item.event.event_id.to_string(),
                    envelope.clone(),
                    req.app_version.clone(),
                    time_text(&now)
                ],
            )?;
            if item.event.event_type == SALE_RECORDED
                && let Ok(order) = item.event.stream.id.parse::<OrderId>()
            {
                super::venue_seats::fix(tx, desk.device, order)?;
            }
            // Upstream has what is at or below `last` already: it is in the mirror, or will be.
            if item.client_seq > last {
                tx.execute(
                    "INSERT INTO relay_venue (venue_seq, device_id, event_id, envelope) \
                     VALUES ($1, $2, $3, $4)",
                    params![
                        next_venue,
                        desk.device.to_string(),
                        item.event.event_id.to_string(),
                        envelope
                    ],
                )?;
                next_venue += 1;
            }
            held(item)
        };
        new_last = new_last.max(item.client_seq);
        outcomes.push(outcome);
    }
    sync::record_contact(tx, desk, req, new_last, now)?;
    Ok(PushResponse {
        last_client_seq: new_last,
        outcomes,
    })
}

fn held(item: &PushItem) -> PushOutcome {
    PushOutcome {
        client_seq: item.client_seq,
        event_id: item.event.event_id,
        status: OutcomeStatus::Held,
        reason: None,
        result_event_ids: vec![],
    }
}

fn next_venue_seq(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    Ok(crate::storage::count(
        tx,
        "SELECT COALESCE(MAX(venue_seq), 0) FROM relay_venue",
        &[],
    )? + 1)
}

/// The final outcomes the relay holds for a client's items from `from` on, in order.
pub fn decided(
    tx: &mut dyn Tx,
    client: ClientId,
    from: u64,
    limit: usize,
) -> Result<Vec<PushOutcome>, StoreError> {
    tx.query(
        "SELECT outcome FROM relay_held WHERE client_id = $1 AND client_seq >= $2 \
         AND outcome IS NOT NULL ORDER BY client_seq LIMIT $3",
        params![client.to_string(), from, limit as u64],
    )?
    .iter()
    .map(|r| r.json(0))
    .collect()
}

/// One read of the venue feed for `desk` (its own events left out): the entries after
/// `cursor`, the cursor to go on from, and whether the cursor was another feed's (then it
/// starts again from the beginning).
pub struct VenuePage {
    pub entries: Vec<VenueEntry>,
    pub cursor: String,
    pub reset: bool,
}

/// The venue feed after `cursor` (`<feed>.<seq>`; empty or another feed's: the beginning).
pub fn venue(
    tx: &mut dyn Tx,
    feed: &str,
    desk: DeviceId,
    cursor: &str,
    limit: usize,
) -> Result<VenuePage, StoreError> {
    let after = cursor
        .split_once('.')
        .filter(|(f, _)| *f == feed)
        .and_then(|(_, seq)| seq.parse::<u64>().ok());
    let reset = after.is_none() && !cursor.is_empty();
    let after = after.unwrap_or(0);
    let rows = tx.query(
        "SELECT venue_seq, event_id, envelope FROM relay_venue \
         WHERE venue_seq > $1 AND device_id <> $2 ORDER BY venue_seq LIMIT $3",
        params![after, desk.to_string(), limit as u64],
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let seq = u64::try_from(r.int(0)?).unwrap_or(0);
        let (event, rejected) = match r.opt_text(2)? {
            Some(json) => (Some(serde_json::from_str::<Envelope>(&json)?), None),
            None => (None, Some(r.parse::<EventId>(1)?)),
        };
        entries.push(VenueEntry {
            seq,
            event,
            rejected,
        });
    }
    // Past the desk's own entries too: up to the last one returned when the page is full,
    // else to the end of the feed as this read sees it.
    let next = match entries.last() {
        Some(last) if entries.len() >= limit => last.seq,
        _ => crate::storage::count(
            tx,
            "SELECT COALESCE(MAX(venue_seq), 0) FROM relay_venue",
            &[],
        )?
        .max(after),
    };
    Ok(VenuePage {
        entries,
        cursor: format!("{feed}.{next}"),
        reset,
    })
}

/// The clients with items not yet forwarded, oldest first.
pub fn unsent_clients(tx: &mut dyn Tx) -> Result<Vec<ClientId>, StoreError> {
    tx.query(
        "SELECT client_id FROM relay_held WHERE outcome IS NULL \
         GROUP BY client_id ORDER BY MIN(held_at)",
        &[],
    )?
    .iter()
    .map(|r| r.parse(0))
    .collect()
}

/// The next items of `client` to forward: the first unsent one and those that follow it
/// without a gap, at most `limit`, as the desk's push (`None` when nothing is left).
pub fn next_batch(
    tx: &mut dyn Tx,
    client: ClientId,
    limit: usize,
) -> Result<Option<(DeviceId, PushRequest, Vec<VenueAllocation>)>, StoreError> {
    let rows = tx.query(
        "SELECT client_seq, device_id, envelope, app_version FROM relay_held \
         WHERE client_id = $1 AND outcome IS NULL ORDER BY client_seq LIMIT $2",
        params![client.to_string(), limit as u64],
    )?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let device: DeviceId = first.parse(1)?;
    let app_version = first.text(3)?;
    let mut items: Vec<PushItem> = Vec::with_capacity(rows.len());
    for r in &rows {
        let seq = u64::try_from(r.int(0)?).unwrap_or(0);
        if items.last().is_some_and(|l| l.client_seq + 1 != seq) {
            break;
        }
        items.push(PushItem {
            client_seq: seq,
            event: serde_json::from_str(&r.text(2)?)?,
        });
    }
    // The sales in the batch, for what the relay handed them from its venue leases.
    let sales: Vec<OrderId> = items
        .iter()
        .filter(|i| i.event.event_type == SALE_RECORDED)
        .filter_map(|i| i.event.stream.id.parse().ok())
        .collect();
    let allocations = super::venue_seats::for_batch(tx, device, &sales)?;
    let unsent = crate::storage::count(
        tx,
        "SELECT COUNT(*) FROM relay_held WHERE client_id = $1 AND outcome IS NULL",
        params![client.to_string()],
    )?;
    Ok(Some((
        device,
        PushRequest {
            protocol_version: 1,
            client_id: client,
            app_version,
            pending_after: unsent.saturating_sub(items.len() as u64),
            device_time: None,
            items,
        },
        allocations,
    )))
}

/// The event type of a desk's walk-in sale (its stream's id is the sale's order).
const SALE_RECORDED: &str = "walk_in.sale_recorded";

/// Keeps upstream's answer to a forwarded batch: each item's final outcome; a refused event
/// goes on the venue feed as refused, so the desks stop showing it.
pub fn forwarded(
    tx: &mut dyn Tx,
    client: ClientId,
    response: &PushResponse,
) -> Result<usize, StoreError> {
    let mut next_venue = next_venue_seq(tx)?;
    let mut kept = 0;
    for o in response.outcomes.iter().filter(|o| o.status.is_final()) {
        let changed = tx.execute(
            "UPDATE relay_held SET outcome = $4 WHERE client_id = $1 AND client_seq = $2 \
             AND event_id = $3 AND outcome IS NULL",
            params![
                client.to_string(),
                o.client_seq,
                o.event_id.to_string(),
                serde_json::to_string(o)?
            ],
        )?;
        kept += changed as usize;
        if changed == 1 && o.status == OutcomeStatus::Rejected {
            tx.execute(
                "INSERT INTO relay_venue (venue_seq, device_id, event_id, envelope) \
                 SELECT $1, device_id, event_id, NULL FROM relay_held \
                 WHERE client_id = $2 AND client_seq = $3",
                params![next_venue, client.to_string(), o.client_seq],
            )?;
            next_venue += 1;
        }
    }
    Ok(kept)
}

/// How many desk events the relay holds that upstream has not decided.
pub fn unsent(tx: &mut dyn Tx) -> Result<u64, StoreError> {
    crate::storage::count(
        tx,
        "SELECT COUNT(*) FROM relay_held WHERE outcome IS NULL",
        &[],
    )
}
