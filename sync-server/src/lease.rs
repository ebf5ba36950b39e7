//! Seat leases: seats head office holds for a desk so that the desk's offline walk-in sales
//! from them are final (the decisions are `SeatsAvailability`'s, in `onsite_shared`).
//!
//! Head office grants a lease to an enrolled, unrevoked desk of the conference, for a seat
//! type, until a time at most [`MAX_LEASE_DAYS`] ahead; it may revoke it, and the desk may give
//! it back. Each lease has a row in `lease_expiry`, written in the granting transaction, so the
//! server's timer task returns it when its time is up ([`expire_due`]) across restarts and
//! without scanning every conference. What a desk learns of any of it, it learns by pulling the
//! conference's `seats` stream.
//!
//! A policy per seat type ([`Policy`]) lets a desk ask for a lease itself, up to a maximum it
//! may hold, and gives every desk a lease without asking: topped up to `auto_per_desk` for
//! every desk of the conference when head office sets the policy (all or nothing) and for a
//! desk when it enrols (as far as seats are left: an enrolment never fails for want of seats).

use chrono::Duration;
use onsite_shared::Timestamp;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, DeviceId, LeaseId, SeatTypeId};
use onsite_shared::seat_availability::{self, LeaseEnd, SeatsAvailability};
use serde::{Deserialize, Serialize};

use crate::params;
use crate::recorder::{Recorder, Rejected};
use crate::storage::{StoreError, Tx, time_text};

/// The furthest ahead a lease may end: a conference's days at the door, not a season.
pub const MAX_LEASE_DAYS: i64 = 14;

/// Error codes of lease requests the domain does not decide.
pub mod code {
    pub const BAD_UNTIL: &str = "lease.bad_until";
    pub const NOT_THIS_DESK: &str = "lease.not_this_desk";
    pub const NOT_FOUND: &str = "lease.not_found";
    pub const DESK_NOT_ELIGIBLE: &str = "lease.desk_not_eligible";
    pub const OVER_DESK_MAXIMUM: &str = "lease.over_desk_maximum";
    pub const BAD_POLICY: &str = "lease.bad_policy";
}

/// The most hours a policy's leases run: [`MAX_LEASE_DAYS`].
pub const MAX_POLICY_HOURS: u32 = 24 * MAX_LEASE_DAYS as u32;
/// The most rows a policy has (a conference's seat types).
pub const MAX_POLICY_ROWS: usize = 64;

/// What head office allows desks for one seat type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyRow {
    pub seat_type: SeatTypeId,
    /// The most seats of this type a desk may hold in open leases by asking.
    pub max_per_desk: u32,
    /// Seats every desk holds without asking (at most `max_per_desk`; 0: none).
    #[serde(default)]
    pub auto_per_desk: u32,
    /// How long a lease granted under this policy runs, in hours (1 to 336).
    pub hours: u32,
}

/// The lease policy of a conference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Policy {
    pub seat_types: Vec<PolicyRow>,
}

/// What a desk asks for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseAsk {
    pub seat_type: SeatTypeId,
    pub quantity: u32,
}

/// What head office asks for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewLease {
    /// The desk that holds it (enrolled for this conference, not revoked), or a venue relay
    /// of the conference: a venue lease, whose seats the relay hands to the desks behind it.
    pub desk: DeviceId,
    pub seat_type: SeatTypeId,
    /// Seats held; at most what is left of the seat type.
    pub quantity: u32,
    /// When it ends (after now, at most 14 days ahead); its unsold seats then go back.
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

/// A lease as head office sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseRow {
    pub lease: LeaseId,
    pub desk: DeviceId,
    /// The desk's name ("North door"), or the venue relay's.
    pub desk_name: String,
    /// Held by a venue relay for the desks behind it.
    pub venue: bool,
    /// A venue lease: seats its relay says it handed to desks, sales not yet forwarded
    /// included (0 for a desk's lease).
    pub handed_out: u32,
    pub seat_type: SeatTypeId,
    pub seat_type_name: String,
    pub granted: u32,
    /// Seats the desk sold from it.
    pub sold: u32,
    /// Seats the desk sold from it after it ended, before the desk heard (taken from what
    /// was left).
    pub sold_after_end: u32,
    /// Seats it still holds (0 once ended).
    pub held: u32,
    /// Seats given back when it ended.
    pub returned: u32,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
    pub ended: Option<LeaseEnd>,
}

fn refused(code: &'static str, message: impl Into<String>) -> Rejected {
    Rejected::Domain {
        code,
        message: message.into(),
    }
}

/// The conference's lease policy.
pub fn policy(tx: &mut dyn Tx, conference: ConferenceId) -> Result<Policy, Rejected> {
    let rows = tx.query(
        "SELECT seat_type, max_per_desk, auto_per_desk, hours FROM lease_policy \
         WHERE conference = $1 ORDER BY seat_type",
        params![conference.to_string()],
    )?;
    let count = |r: &crate::storage::Row, i| -> Result<u32, Rejected> {
        Ok(u32::try_from(r.int(i)?).unwrap_or(0))
    };
    let seat_types = rows
        .iter()
        .map(|r| {
            Ok(PolicyRow {
                seat_type: r.parse(0)?,
                max_per_desk: count(r, 1)?,
                auto_per_desk: count(r, 2)?,
                hours: count(r, 3)?,
            })
        })
        .collect::<Result<_, Rejected>>()?;
    Ok(Policy { seat_types })
}

/// Replaces the conference's lease policy and tops every desk of the conference up to what
/// it gives without asking, in one transaction: refused whole (and nothing changed) when a
/// row is out of bounds or the seats are not there for every desk.
pub fn set_policy(rec: &mut Recorder<'_>, new: &Policy) -> Result<(), Rejected> {
    let conference = rec.conference;
    crate::admin::require_conference(rec.tx, conference)?;
    let (conf, _) =
        rec.load::<onsite_shared::conference::Conference>(&StreamId::conference(conference))?;
    if new.seat_types.len() > MAX_POLICY_ROWS {
        return Err(refused(
            code::BAD_POLICY,
            "a policy has one row per seat type",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for row in &new.seat_types {
        let bad = if conf.seat_type(row.seat_type).is_none() {
            Some("a seat type the conference does not have")
        } else if !seen.insert(row.seat_type) {
            Some("a seat type named twice")
        } else if row.auto_per_desk > row.max_per_desk {
            Some("more given without asking than a desk may hold")
        } else if row.max_per_desk > 10_000 {
            Some("more than 10,000 seats per desk")
        } else if !(1..=MAX_POLICY_HOURS).contains(&row.hours) {
            Some("hours outside 1 to 336")
        } else {
            None
        };
        if let Some(why) = bad {
            return Err(refused(code::BAD_POLICY, format!("lease policy: {why}")));
        }
    }
    rec.tx.execute(
        "DELETE FROM lease_policy WHERE conference = $1",
        params![conference.to_string()],
    )?;
    for row in &new.seat_types {
        rec.tx.execute(
            "INSERT INTO lease_policy (conference, seat_type, max_per_desk, auto_per_desk, hours) \
             VALUES ($1, $2, $3, $4, $5)",
            params![
                conference.to_string(),
                row.seat_type.to_string(),
                i64::from(row.max_per_desk),
                i64::from(row.auto_per_desk),
                i64::from(row.hours)
            ],
        )?;
    }
    let desks = rec.tx.query(
        "SELECT device_id FROM devices WHERE conference = $1 AND revoked_at IS NULL \
         ORDER BY created_at",
        params![conference.to_string()],
    )?;
    for d in desks {
        top_up(rec, &new.seat_types, d.parse(0)?)?;
    }
    Ok(())
}

/// Seats of `seat_type` that `desk`'s open leases hold.
fn held_by(seats: &SeatsAvailability, desk: DeviceId, seat_type: SeatTypeId) -> u32 {
    seats
        .leases
        .values()
        .filter(|l| l.desk == desk && l.seat_type == seat_type)
        .map(seat_availability::Lease::unsold)
        .fold(0, u32::saturating_add)
}

/// Grants `desk` what the policy gives every desk, less what it holds already.
fn top_up(rec: &mut Recorder<'_>, rows: &[PolicyRow], desk: DeviceId) -> Result<(), Rejected> {
    for row in rows.iter().filter(|r| r.auto_per_desk > 0) {
        let (seats, _) = rec.load::<SeatsAvailability>(&StreamId::seats(rec.conference))?;
        let missing = row
            .auto_per_desk
            .saturating_sub(held_by(&seats, desk, row.seat_type));
        if missing > 0 {
            grant(
                rec,
                &NewLease {
                    desk,
                    seat_type: row.seat_type,
                    quantity: missing,
                    until: rec.now + Duration::hours(i64::from(row.hours)),
                },
            )?;
        }
    }
    Ok(())
}

/// What a desk is given without asking when it enrols, as far as seats are left (refusals
/// are logged, never the enrolment's).
pub fn on_enrolment(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    desk: DeviceId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let rows = match policy(tx, conference) {
        Ok(p) => p.seat_types,
        Err(Rejected::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "reading the lease policy");
            return Ok(());
        }
    };
    for row in rows.iter().filter(|r| r.auto_per_desk > 0) {
        let mut rec = Recorder::new(tx, conference, now);
        match top_up(&mut rec, std::slice::from_ref(row), desk) {
            Ok(()) => {}
            Err(Rejected::Store(e)) => return Err(e),
            Err(e) => tracing::warn!(%desk, error = %e, "no lease for the new desk"),
        }
        rec.finish()?;
    }
    Ok(())
}

/// A desk asks for a lease itself: granted within what the policy lets a desk hold.
pub fn ask(rec: &mut Recorder<'_>, desk: DeviceId, ask: &LeaseAsk) -> Result<LeaseId, Rejected> {
    let conference = rec.conference;
    let row = policy(rec.tx, conference)?
        .seat_types
        .into_iter()
        .find(|r| r.seat_type == ask.seat_type);
    let (seats, _) = rec.load::<SeatsAvailability>(&StreamId::seats(conference))?;
    let held = held_by(&seats, desk, ask.seat_type);
    let max = row.as_ref().map_or(0, |r| r.max_per_desk);
    if u64::from(held) + u64::from(ask.quantity) > u64::from(max) {
        return Err(refused(
            code::OVER_DESK_MAXIMUM,
            format!("a desk may hold {max} of these seats; this one holds {held}"),
        ));
    }
    let hours = row.map_or(1, |r| r.hours);
    grant(
        rec,
        &NewLease {
            desk,
            seat_type: ask.seat_type,
            quantity: ask.quantity,
            until: rec.now + Duration::hours(i64::from(hours)),
        },
    )
}

/// Grants a lease in the recorder's conference; returns its id.
pub fn grant(rec: &mut Recorder<'_>, new: &NewLease) -> Result<LeaseId, Rejected> {
    let conference = rec.conference;
    crate::admin::require_conference(rec.tx, conference)?;
    if new.until <= rec.now || new.until > rec.now + Duration::days(MAX_LEASE_DAYS) {
        return Err(refused(
            code::BAD_UNTIL,
            format!("a lease ends after now and at most {MAX_LEASE_DAYS} days ahead"),
        ));
    }
    let holder = rec.tx.query(
        "SELECT 0 FROM devices WHERE device_id = $1 AND conference = $2 AND revoked_at IS NULL \
         UNION ALL \
         SELECT 1 FROM relays WHERE relay_id = $1 AND conference = $2 AND revoked_at IS NULL",
        params![new.desk.to_string(), conference.to_string()],
    )?;
    let Some(holder) = holder.first() else {
        return Err(refused(
            code::DESK_NOT_ELIGIBLE,
            "a lease goes to a desk or a venue relay of this conference that is not revoked",
        ));
    };
    let venue = holder.int(0)? == 1;
    let lease = LeaseId::from_uuid(uuid::Uuid::now_v7());
    rec.execute::<SeatsAvailability>(
        &StreamId::seats(conference),
        &seat_availability::Command::GrantLease {
            conference,
            lease,
            desk: new.desk,
            seat_type: new.seat_type,
            quantity: new.quantity,
            until: new.until,
            venue,
        },
    )?;
    rec.tx.execute(
        "INSERT INTO lease_expiry (lease_id, conference, until, ended) VALUES ($1, $2, $3, 0)",
        params![
            lease.to_string(),
            conference.to_string(),
            time_text(&new.until)
        ],
    )?;
    Ok(lease)
}

/// Ends a lease: head office revokes it, or `by_desk` gives it back (only its own). Ending a
/// lease that has ended already changes nothing.
pub fn end(
    rec: &mut Recorder<'_>,
    lease: LeaseId,
    why: LeaseEnd,
    by_desk: Option<DeviceId>,
) -> Result<(), Rejected> {
    let conference = rec.conference;
    let (seats, _) = rec.load::<SeatsAvailability>(&StreamId::seats(conference))?;
    let Some(held) = seats.leases.get(&lease) else {
        return Err(refused(code::NOT_FOUND, "no such lease"));
    };
    if by_desk.is_some_and(|d| d != held.desk) {
        return Err(refused(code::NOT_THIS_DESK, "the lease is another desk's"));
    }
    rec.execute::<SeatsAvailability>(
        &StreamId::seats(conference),
        &seat_availability::Command::ReturnLease {
            conference,
            lease,
            why,
        },
    )?;
    rec.tx.execute(
        "UPDATE lease_expiry SET ended = 1 WHERE lease_id = $1",
        params![lease.to_string()],
    )?;
    Ok(())
}

/// Returns every lease whose time is up; returns how many. Each is claimed first, so two
/// servers on one database expire it once.
pub fn expire_due(tx: &mut dyn Tx, now: Timestamp) -> Result<usize, Rejected> {
    let due = tx.query(
        "SELECT lease_id, conference FROM lease_expiry WHERE ended = 0 AND until <= $1 \
         ORDER BY until LIMIT 100",
        params![time_text(&now)],
    )?;
    let mut expired = 0;
    for row in due {
        let lease: LeaseId = row.parse(0)?;
        let conference: ConferenceId = row.parse(1)?;
        let claimed = tx.execute(
            "UPDATE lease_expiry SET ended = 1 WHERE lease_id = $1 AND ended = 0",
            params![lease.to_string()],
        )?;
        if claimed == 0 {
            continue;
        }
        let mut rec = Recorder::new(tx, conference, now);
        rec.execute::<SeatsAvailability>(
            &StreamId::seats(conference),
            &seat_availability::Command::ReturnLease {
                conference,
                lease,
                why: LeaseEnd::Expired,
            },
        )?;
        rec.finish()?;
        expired += 1;
    }
    Ok(expired)
}

/// Every lease of a conference, newest first, with its desk's and seat type's names.
pub fn list(tx: &mut dyn Tx, conference: ConferenceId) -> Result<Vec<LeaseRow>, Rejected> {
    let (seats, _) = crate::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(conference))?;
    let (conf, _) = crate::event_log::load::<onsite_shared::conference::Conference>(
        tx,
        &StreamId::conference(conference),
    )?;
    let mut names: std::collections::HashMap<String, String> =
        crate::devices::list(tx, Some(conference))?
            .into_iter()
            .map(|d| (d.device_id, d.name))
            .collect();
    names.extend(
        crate::relay::registry::list(tx, conference)?
            .into_iter()
            .map(|r| (r.relay_id, r.name)),
    );
    let mut rows: Vec<LeaseRow> = seats
        .leases
        .iter()
        .map(|(id, l)| LeaseRow {
            lease: *id,
            desk: l.desk,
            desk_name: names
                .get(&l.desk.to_string())
                .cloned()
                .unwrap_or_else(|| l.desk.to_string()),
            venue: l.venue,
            handed_out: 0,
            seat_type: l.seat_type,
            seat_type_name: conf
                .seat_type(l.seat_type)
                .map_or_else(|| l.seat_type.to_string(), |s| s.name.clone()),
            granted: l.granted,
            sold: l.sold,
            sold_after_end: l.beyond,
            held: l.unsold(),
            returned: if l.ended.is_some() {
                l.granted.saturating_sub(l.sold)
            } else {
                0
            },
            until: l.until,
            ended: l.ended,
        })
        .collect();
    for row in rows.iter_mut().filter(|r| r.venue) {
        let handed = crate::storage::count(
            tx,
            "SELECT COALESCE(SUM(quantity), 0) FROM venue_allocations WHERE lease_id = $1",
            params![row.lease.to_string()],
        )?;
        row.handed_out = u32::try_from(handed).unwrap_or(u32::MAX);
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.lease));
    Ok(rows)
}

/// Seats of each seat type held by each desk's open leases ("held by North door: 5").
pub fn held_by_desk(rows: &[LeaseRow]) -> Vec<(SeatTypeId, String, u32)> {
    rows.iter()
        .filter(|r| r.held > 0)
        .map(|r| (r.seat_type, r.desk_name.clone(), r.held))
        .collect()
}
