//! A relay's venue leases: seats head office granted the relay (a lease whose holder is the
//! relay), handed out to the desks behind it one sale at a time, so that a walk-in sale at any
//! door of the venue is final while the uplink is down.
//!
//! A desk asks before it takes the payment ([`allocate`], online over the venue network): the
//! relay hands out what its open venue leases still have, in the order desks ask (one writer),
//! durably, and answers at once. The desk names the lease in its sale (`from_leases`); when
//! the relay forwards the sale upstream it vouches for what it handed out ([`for_batch`]), and
//! upstream commits that much from the lease, never compensated. A lease's seats left are what
//! was granted less everything handed out from it: upstream honours a venue claim only as far
//! as its relay vouches, so nothing is sold from it any other way.

use onsite_shared::aggregate::Timestamp;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{DeviceId, LeaseId, OrderId};
use onsite_shared::protocol::{VenueAllocation, VenueSeatsLeft, VenueSeatsRequest};
use onsite_shared::seat_availability::SeatsAvailability;

use crate::params;
use crate::recorder::Rejected;
use crate::storage::{Row, StoreError, Tx, time_text};
use crate::sync::Desk;

/// Error codes of venue-seat requests.
pub mod code {
    /// The order is another desk's.
    pub const OTHER_DESK: &str = "venue_seats.other_desk";
    /// Too many rows, a seat type twice, or more seats than a sale may carry.
    pub const BAD_REQUEST: &str = "venue_seats.bad_request";
}

/// The most seat types one request names.
pub const MAX_ROWS: usize = 16;

fn refused(code: &'static str, message: impl Into<String>) -> Rejected {
    Rejected::Domain {
        code,
        message: message.into(),
    }
}

fn allocation(r: &Row) -> Result<VenueAllocation, StoreError> {
    Ok(VenueAllocation {
        order: r.parse(0)?,
        lease: r.parse(1)?,
        seat_type: r.parse(2)?,
        quantity: u32::try_from(r.int(3)?).unwrap_or(0),
        until: r.parse(4)?,
    })
}

const COLUMNS: &str = "order_id, lease_id, seat_type, quantity, until";

fn of_order(tx: &mut dyn Tx, order: OrderId) -> Result<Vec<VenueAllocation>, StoreError> {
    tx.query(
        &format!("SELECT {COLUMNS} FROM relay_allocations WHERE order_id = $1 ORDER BY lease_id"),
        params![order.to_string()],
    )?
    .iter()
    .map(allocation)
    .collect()
}

/// Seats handed out from `lease` so far, to every desk.
fn handed_out(tx: &mut dyn Tx, lease: LeaseId) -> Result<u64, StoreError> {
    crate::storage::count(
        tx,
        "SELECT COALESCE(SUM(quantity), 0) FROM relay_allocations WHERE lease_id = $1",
        params![lease.to_string()],
    )
}

/// Hands `desk` seats from `relay`'s open venue leases for the sale `order`, as far as they
/// go: what it asks replaces what it was given for the order before (nothing asked: all given
/// back), until the sale reached the relay; then the answer stays what it was.
pub fn allocate(
    tx: &mut dyn Tx,
    relay: DeviceId,
    desk: Desk,
    order: OrderId,
    ask: &VenueSeatsRequest,
    now: Timestamp,
) -> Result<Vec<VenueAllocation>, Rejected> {
    if ask.seats.len() > MAX_ROWS {
        return Err(refused(
            code::BAD_REQUEST,
            format!("at most {MAX_ROWS} seat types"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    for row in &ask.seats {
        if !seen.insert(row.seat_type) {
            return Err(refused(code::BAD_REQUEST, "a seat type named twice"));
        }
        total += u64::from(row.quantity);
    }
    let max = onsite_shared::walk_in::MAX_TICKETS as u64;
    if total > max {
        return Err(refused(
            code::BAD_REQUEST,
            format!("a sale carries at most {max} tickets"),
        ));
    }
    let rows = tx.query(
        "SELECT device_id, fixed FROM relay_allocations WHERE order_id = $1",
        params![order.to_string()],
    )?;
    for r in &rows {
        if r.text(0)? != desk.device.to_string() {
            return Err(refused(code::OTHER_DESK, "this order is another desk's"));
        }
    }
    let mut fixed = false;
    for r in &rows {
        fixed |= r.int(1)? != 0;
    }
    if fixed {
        return Ok(of_order(tx, order)?);
    }
    tx.execute(
        "DELETE FROM relay_allocations WHERE order_id = $1",
        params![order.to_string()],
    )?;
    let (seats, _) =
        crate::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(desk.conference))?;
    let mut open: Vec<_> = seats
        .leases
        .iter()
        .filter(|(_, l)| l.venue && l.desk == relay && l.ended.is_none() && now < l.until)
        .collect();
    // The soonest to end first: its seats are the first to go back unsold.
    open.sort_by_key(|(id, l)| (l.until, **id));
    for row in ask.seats.iter().filter(|r| r.quantity > 0) {
        let mut want = row.quantity;
        for (lease, l) in open.iter().filter(|(_, l)| l.seat_type == row.seat_type) {
            if want == 0 {
                break;
            }
            let handed = handed_out(tx, **lease)?;
            let left = u64::from(l.granted).saturating_sub(handed);
            let take = u32::try_from(left.min(u64::from(want))).unwrap_or(0);
            if take == 0 {
                continue;
            }
            tx.execute(
                "INSERT INTO relay_allocations (order_id, lease_id, device_id, seat_type, \
                 quantity, until, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    order.to_string(),
                    lease.to_string(),
                    desk.device.to_string(),
                    row.seat_type.to_string(),
                    i64::from(take),
                    time_text(&l.until),
                    time_text(&now)
                ],
            )?;
            want -= take;
        }
    }
    Ok(of_order(tx, order)?)
}

/// The sale `order` reached the relay from `desk`: what it was handed stays.
pub fn fix(tx: &mut dyn Tx, desk: DeviceId, order: OrderId) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE relay_allocations SET fixed = 1 WHERE order_id = $1 AND device_id = $2",
        params![order.to_string(), desk.to_string()],
    )?;
    Ok(())
}

/// What the relay handed `desk` for the sales `orders`: what it vouches for upstream.
pub fn for_batch(
    tx: &mut dyn Tx,
    desk: DeviceId,
    orders: &[OrderId],
) -> Result<Vec<VenueAllocation>, StoreError> {
    let mut out = Vec::new();
    for order in orders {
        let rows = tx.query(
            &format!(
                "SELECT {COLUMNS} FROM relay_allocations WHERE order_id = $1 AND device_id = $2"
            ),
            params![order.to_string(), desk.to_string()],
        )?;
        for r in &rows {
            out.push(allocation(r)?);
        }
    }
    Ok(out)
}

/// Seats the relay's open venue leases have left to hand out, by seat type (for its health
/// and the desks' screens; computed in a write, so the seats stream's snapshot moves on and
/// the next time folds only what came since).
pub fn left(
    tx: &mut dyn Tx,
    relay: DeviceId,
    conference: onsite_shared::ids::ConferenceId,
    now: Timestamp,
) -> Result<Vec<VenueSeatsLeft>, StoreError> {
    let (seats, _) = crate::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(conference))?;
    let mut out: std::collections::BTreeMap<_, u64> = std::collections::BTreeMap::new();
    for (lease, l) in seats
        .leases
        .iter()
        .filter(|(_, l)| l.venue && l.desk == relay && l.ended.is_none() && now < l.until)
    {
        let handed = handed_out(tx, *lease)?;
        *out.entry(l.seat_type).or_default() += u64::from(l.granted).saturating_sub(handed);
    }
    Ok(out
        .into_iter()
        .map(|(seat_type, left)| VenueSeatsLeft { seat_type, left })
        .collect())
}

/// What the relay handed out that upstream has not heard of yet (at most `limit`), with
/// when each was handed out (so that only what was said is marked said).
pub fn unreported(
    tx: &mut dyn Tx,
    limit: usize,
) -> Result<Vec<(VenueAllocation, String)>, StoreError> {
    tx.query(
        &format!(
            "SELECT {COLUMNS}, at FROM relay_allocations WHERE reported = 0 \
             ORDER BY at LIMIT $1"
        ),
        params![limit as u64],
    )?
    .iter()
    .map(|r| Ok((allocation(r)?, r.text(5)?)))
    .collect()
}

/// Upstream heard of these: not said again (unless handed out anew meanwhile).
pub fn reported(tx: &mut dyn Tx, said: &[(VenueAllocation, String)]) -> Result<(), StoreError> {
    for (a, at) in said {
        tx.execute(
            "UPDATE relay_allocations SET reported = 1 WHERE order_id = $1 AND lease_id = $2 \
             AND quantity = $3 AND at = $4",
            params![
                a.order.to_string(),
                a.lease.to_string(),
                i64::from(a.quantity),
                at.clone()
            ],
        )?;
    }
    Ok(())
}
