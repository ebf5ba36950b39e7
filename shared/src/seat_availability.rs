//! Seat availability for one conference: the only code that decides whether a seat can be had.
//! Authoritative on the server (single writer per conference); desks only read its events.
//!
//! The semantics are the reference implementation's `SeatsAvailability` (seed digest §2.5):
//! - reservations are keyed by reservation id (= order id); for each wanted seat type the grant
//!   is `min(wanted, max(remaining, 0) + already_held)`, so a request may be granted in part;
//! - reserving again with the same id *adjusts* the hold instead of stacking a second one
//!   (seat types missing from the new request are released);
//! - cancel returns the held seats, commit makes them permanent; both are no-ops for an
//!   unknown reservation (retries and late duplicates are harmless);
//! - an unknown seat type is an error (a sale of a removed seat type must be compensated, F10);
//! - cutting a quota below what is held leaves `remaining` negative and keeps every hold (F9).
//!
//! It never grants more than the quota by itself. Honouring more than the quota is an explicit
//! `Overbook` command with a reason, recorded as `SeatsOverbooked` so head office sees it.
//!
//! **Leases** (capacity held by a desk, for final offline sales): head office grants a desk
//! N seats of a seat type until a time; they leave `remaining` at once, like a reservation of
//! its own kind, so online buyers and other desks cannot take them. A desk's sale from its
//! lease is committed from it (`SellFromLease`) and is never refused: the part the lease
//! still covers comes from it, and a part sold after the lease was returned, revoked or
//! expired (the desk had not heard yet; its sale is the physical fact) is taken from what is
//! left, below zero if need be, and said so (`beyond_lease`). Returning a lease (the desk,
//! head office, or its expiry) gives its unsold seats back. A quota cut below what is leased
//! keeps every lease, as it keeps every hold (`remaining` goes negative).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::Timestamp;
use crate::aggregate::{Aggregate, DomainError};
use crate::ids::{ConferenceId, DeviceId, LeaseId, OrderId, SeatTypeId};

/// A quantity of one seat type (the book's `SeatQuantity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeatQuantity {
    pub seat_type: SeatTypeId,
    pub quantity: u32,
}

/// A signed change of the remaining seats of one seat type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatDelta {
    pub seat_type: SeatTypeId,
    pub delta: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds seats to a type's quota (creates the type on first use).
    AddSeats {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        quantity: u32,
    },
    RemoveSeats {
        conference: ConferenceId,
        seat_type: SeatTypeId,
        quantity: u32,
    },
    MakeReservation {
        conference: ConferenceId,
        reservation: OrderId,
        seats: Vec<SeatQuantity>,
    },
    CancelReservation {
        conference: ConferenceId,
        reservation: OrderId,
    },
    CommitReservation {
        conference: ConferenceId,
        reservation: OrderId,
    },
    /// Holds seats for `reservation` beyond what is left. Only on explicit policy or a
    /// head-office decision; never as a side effect of a normal reservation.
    Overbook {
        conference: ConferenceId,
        reservation: OrderId,
        seats: Vec<SeatQuantity>,
        reason: String,
    },
    /// Holds `quantity` seats for `desk` until `until` (refused when fewer are left). A
    /// `venue` lease is held by a venue relay (its id as `desk`) for every desk behind it.
    GrantLease {
        conference: ConferenceId,
        lease: LeaseId,
        desk: DeviceId,
        seat_type: SeatTypeId,
        quantity: u32,
        until: Timestamp,
        venue: bool,
    },
    /// Commits a desk's sale of `quantity` seats made from its lease: never refused.
    SellFromLease {
        conference: ConferenceId,
        lease: LeaseId,
        order: OrderId,
        quantity: u32,
    },
    /// Gives a lease's unsold seats back (nothing for a lease already returned).
    ReturnLease {
        conference: ConferenceId,
        lease: LeaseId,
        why: LeaseEnd,
    },
}

/// Why a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeaseEnd {
    /// The desk gave it back.
    Returned,
    /// Head office took it back.
    Revoked,
    /// Its time was up.
    Expired,
}

/// Seats a desk holds for final sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lease {
    pub desk: DeviceId,
    pub seat_type: SeatTypeId,
    pub granted: u32,
    /// Seats sold from it (a sale beyond what it covered counts in `beyond`).
    pub sold: u32,
    /// Seats sold after it ended, taken from what was left.
    #[serde(default)]
    pub beyond: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: Timestamp,
    /// How it ended; `None` while it holds seats.
    #[serde(default)]
    pub ended: Option<LeaseEnd>,
    /// Held by a venue relay (`desk` is the relay's id) for the desks behind it.
    #[serde(default)]
    pub venue: bool,
}

impl Lease {
    /// Seats it still holds (none once it ended).
    pub fn unsold(&self) -> u32 {
        if self.ended.is_some() {
            0
        } else {
            self.granted.saturating_sub(self.sold)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "seats.available_seats_changed")]
    AvailableSeatsChanged {
        conference: ConferenceId,
        seats: Vec<SeatDelta>,
    },
    /// `details` is what the reservation now holds in total (may be less than wanted);
    /// `available_seats_changed` is the effect on the remaining seats.
    #[serde(rename = "seats.reserved")]
    SeatsReserved {
        conference: ConferenceId,
        reservation: OrderId,
        details: Vec<SeatQuantity>,
        available_seats_changed: Vec<SeatDelta>,
    },
    #[serde(rename = "seats.reservation_cancelled")]
    ReservationCancelled {
        conference: ConferenceId,
        reservation: OrderId,
        available_seats_changed: Vec<SeatDelta>,
    },
    #[serde(rename = "seats.reservation_committed")]
    ReservationCommitted {
        conference: ConferenceId,
        reservation: OrderId,
    },
    #[serde(rename = "seats.overbooked")]
    SeatsOverbooked {
        conference: ConferenceId,
        reservation: OrderId,
        seats: Vec<SeatQuantity>,
        reason: String,
    },
    /// A lease granted; a `venue` lease is held by a venue relay (`desk` is the relay's id),
    /// which hands its seats out to the desks behind it.
    #[serde(rename = "seats.lease_granted")]
    LeaseGranted {
        conference: ConferenceId,
        lease: LeaseId,
        desk: DeviceId,
        seat_type: SeatTypeId,
        quantity: u32,
        until: Timestamp,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        venue: bool,
    },
    /// A desk's sale from its lease: `from_lease` seats it still covered, `beyond_lease`
    /// seats sold after it ended (taken from what was left, below zero if need be).
    #[serde(rename = "seats.lease_sold")]
    LeaseSold {
        conference: ConferenceId,
        lease: LeaseId,
        order: OrderId,
        seat_type: SeatTypeId,
        from_lease: u32,
        beyond_lease: u32,
    },
    /// A lease ended; its `unsold` seats went back.
    #[serde(rename = "seats.lease_returned")]
    LeaseReturned {
        conference: ConferenceId,
        lease: LeaseId,
        seat_type: SeatTypeId,
        unsold: u32,
        why: LeaseEnd,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("seat type {0} is not sold at this conference")]
    UnknownSeatType(SeatTypeId),
    #[error("these seats belong to conference {expected}, not {got}")]
    WrongConference {
        expected: ConferenceId,
        got: ConferenceId,
    },
    #[error("cannot remove {requested} seats of {seat_type}: its quota is {quota}")]
    QuotaBelowZero {
        seat_type: SeatTypeId,
        quota: i64,
        requested: u32,
    },
    #[error("an overbooking needs a reason")]
    OverbookWithoutReason,
    #[error("only {left} seats of {seat_type} are left to lease, not {wanted}")]
    NotEnoughToLease {
        seat_type: SeatTypeId,
        left: i64,
        wanted: u32,
    },
    #[error("lease {0} exists already")]
    LeaseExists(LeaseId),
    #[error("there is no lease {0}")]
    UnknownLease(LeaseId),
    #[error("a lease holds at least one seat")]
    EmptyLease,
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::UnknownSeatType(_) => "seats.unknown_seat_type",
            Error::WrongConference { .. } => "seats.wrong_conference",
            Error::QuotaBelowZero { .. } => "seats.quota_below_zero",
            Error::OverbookWithoutReason => "seats.overbook_without_reason",
            Error::NotEnoughToLease { .. } => "seats.not_enough_to_lease",
            Error::LeaseExists(_) => "seats.lease_exists",
            Error::UnknownLease(_) => "seats.unknown_lease",
            Error::EmptyLease => "seats.empty_lease",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeatsAvailability {
    pub conference: Option<ConferenceId>,
    /// The quota per seat type: seats added minus seats removed.
    pub quota: BTreeMap<SeatTypeId, i64>,
    /// Seats that can still be reserved; negative after a quota cut below what is held.
    pub remaining: BTreeMap<SeatTypeId, i64>,
    /// Holds that are neither committed nor cancelled, per reservation.
    pub pending: BTreeMap<OrderId, BTreeMap<SeatTypeId, u32>>,
    /// Seats sold for good, per seat type.
    pub committed: BTreeMap<SeatTypeId, i64>,
    /// Seats granted beyond the quota by explicit overbooking, per seat type.
    pub overbooked: BTreeMap<SeatTypeId, i64>,
    /// Every lease ever granted, open or ended (a late sale still finds its lease).
    pub leases: BTreeMap<LeaseId, Lease>,
}

/// What a public page says about a seat type's availability when it does not give counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    /// A tenth of the quota or less, or five seats or fewer.
    FewLeft,
    SoldOut,
}

impl Availability {
    /// From a seat type's quota and the seats that can still be reserved.
    pub fn of(quota: i64, remaining: i64) -> Self {
        if remaining <= 0 {
            Availability::SoldOut
        } else if remaining <= 5 || remaining.saturating_mul(10) <= quota {
            Availability::FewLeft
        } else {
            Availability::Available
        }
    }
}

impl SeatsAvailability {
    pub fn remaining(&self, seat_type: SeatTypeId) -> Option<i64> {
        self.remaining.get(&seat_type).copied()
    }

    pub fn held_by(&self, reservation: OrderId) -> Option<&BTreeMap<SeatTypeId, u32>> {
        self.pending.get(&reservation)
    }

    /// Seats of `seat_type` that open leases still hold.
    pub fn leased(&self, seat_type: SeatTypeId) -> i64 {
        self.leases
            .values()
            .filter(|l| l.seat_type == seat_type)
            .map(|l| i64::from(l.unsold()))
            .sum()
    }

    fn check_conference(&self, got: ConferenceId) -> Result<(), Error> {
        match self.conference {
            Some(expected) if expected != got => Err(Error::WrongConference { expected, got }),
            _ => Ok(()),
        }
    }

    fn known(&self, seat_type: SeatTypeId) -> Result<(), Error> {
        if self.quota.contains_key(&seat_type) {
            Ok(())
        } else {
            Err(Error::UnknownSeatType(seat_type))
        }
    }
}

/// Sums quantities per seat type, dropping zeros.
fn by_type(seats: &[SeatQuantity]) -> BTreeMap<SeatTypeId, u32> {
    let mut out: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for s in seats {
        let total = out.entry(s.seat_type).or_default();
        *total = total.saturating_add(s.quantity);
    }
    out.retain(|_, q| *q > 0);
    out
}

fn negated(held: &BTreeMap<SeatTypeId, u32>) -> Vec<SeatDelta> {
    held.iter()
        .map(|(t, q)| SeatDelta {
            seat_type: *t,
            delta: i64::from(*q),
        })
        .collect()
}

impl Aggregate for SeatsAvailability {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::AddSeats {
                conference,
                seat_type,
                quantity,
            } => {
                self.check_conference(*conference)?;
                Ok(vec![Event::AvailableSeatsChanged {
                    conference: *conference,
                    seats: vec![SeatDelta {
                        seat_type: *seat_type,
                        delta: i64::from(*quantity),
                    }],
                }])
            }
            Command::RemoveSeats {
                conference,
                seat_type,
                quantity,
            } => {
                self.check_conference(*conference)?;
                self.known(*seat_type)?;
                let quota = self.quota.get(seat_type).copied().unwrap_or(0);
                if i64::from(*quantity) > quota {
                    return Err(Error::QuotaBelowZero {
                        seat_type: *seat_type,
                        quota,
                        requested: *quantity,
                    });
                }
                Ok(vec![Event::AvailableSeatsChanged {
                    conference: *conference,
                    seats: vec![SeatDelta {
                        seat_type: *seat_type,
                        delta: -i64::from(*quantity),
                    }],
                }])
            }
            Command::MakeReservation {
                conference,
                reservation,
                seats,
            } => {
                self.check_conference(*conference)?;
                let wanted = by_type(seats);
                for seat_type in seats.iter().map(|s| s.seat_type) {
                    self.known(seat_type)?;
                }
                let existing = self.pending.get(reservation).cloned().unwrap_or_default();
                let mut details = Vec::new();
                let mut changed = Vec::new();
                let types: std::collections::BTreeSet<SeatTypeId> =
                    wanted.keys().chain(existing.keys()).copied().collect();
                for seat_type in types {
                    let want = i64::from(wanted.get(&seat_type).copied().unwrap_or(0));
                    let held = i64::from(existing.get(&seat_type).copied().unwrap_or(0));
                    let remaining = self.remaining.get(&seat_type).copied().unwrap_or(0);
                    let actual = want.min(remaining.max(0) + held);
                    let delta = actual - held;
                    if actual > 0 {
                        // `actual <= want <= u32::MAX`.
                        details.push(SeatQuantity {
                            seat_type,
                            quantity: u32::try_from(actual).unwrap_or(u32::MAX),
                        });
                    }
                    if delta != 0 {
                        changed.push(SeatDelta {
                            seat_type,
                            delta: -delta,
                        });
                    }
                }
                Ok(vec![Event::SeatsReserved {
                    conference: *conference,
                    reservation: *reservation,
                    details,
                    available_seats_changed: changed,
                }])
            }
            Command::CancelReservation {
                conference,
                reservation,
            } => {
                self.check_conference(*conference)?;
                let Some(held) = self.pending.get(reservation) else {
                    return Ok(vec![]);
                };
                Ok(vec![Event::ReservationCancelled {
                    conference: *conference,
                    reservation: *reservation,
                    available_seats_changed: negated(held),
                }])
            }
            Command::CommitReservation {
                conference,
                reservation,
            } => {
                self.check_conference(*conference)?;
                if !self.pending.contains_key(reservation) {
                    return Ok(vec![]);
                }
                Ok(vec![Event::ReservationCommitted {
                    conference: *conference,
                    reservation: *reservation,
                }])
            }
            Command::Overbook {
                conference,
                reservation,
                seats,
                reason,
            } => {
                self.check_conference(*conference)?;
                if reason.trim().is_empty() {
                    return Err(Error::OverbookWithoutReason);
                }
                for s in seats {
                    self.known(s.seat_type)?;
                }
                let seats: Vec<SeatQuantity> = by_type(seats)
                    .into_iter()
                    .map(|(seat_type, quantity)| SeatQuantity {
                        seat_type,
                        quantity,
                    })
                    .collect();
                if seats.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::SeatsOverbooked {
                    conference: *conference,
                    reservation: *reservation,
                    seats,
                    reason: reason.trim().to_owned(),
                }])
            }
            Command::GrantLease {
                conference,
                lease,
                desk,
                seat_type,
                quantity,
                until,
                venue,
            } => {
                self.check_conference(*conference)?;
                self.known(*seat_type)?;
                if self.leases.contains_key(lease) {
                    return Err(Error::LeaseExists(*lease));
                }
                if *quantity == 0 {
                    return Err(Error::EmptyLease);
                }
                let left = self.remaining(*seat_type).unwrap_or(0);
                if i64::from(*quantity) > left {
                    return Err(Error::NotEnoughToLease {
                        seat_type: *seat_type,
                        left,
                        wanted: *quantity,
                    });
                }
                Ok(vec![Event::LeaseGranted {
                    conference: *conference,
                    lease: *lease,
                    desk: *desk,
                    seat_type: *seat_type,
                    quantity: *quantity,
                    until: *until,
                    venue: *venue,
                }])
            }
            Command::SellFromLease {
                conference,
                lease,
                order,
                quantity,
            } => {
                self.check_conference(*conference)?;
                let held = self.leases.get(lease).ok_or(Error::UnknownLease(*lease))?;
                let from_lease = (*quantity).min(held.unsold());
                Ok(vec![Event::LeaseSold {
                    conference: *conference,
                    lease: *lease,
                    order: *order,
                    seat_type: held.seat_type,
                    from_lease,
                    beyond_lease: quantity - from_lease,
                }])
            }
            Command::ReturnLease {
                conference,
                lease,
                why,
            } => {
                self.check_conference(*conference)?;
                let held = self.leases.get(lease).ok_or(Error::UnknownLease(*lease))?;
                if held.ended.is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::LeaseReturned {
                    conference: *conference,
                    lease: *lease,
                    seat_type: held.seat_type,
                    unsold: held.unsold(),
                    why: *why,
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::AvailableSeatsChanged { conference, seats } => {
                self.conference.get_or_insert(*conference);
                for s in seats {
                    *self.quota.entry(s.seat_type).or_default() += s.delta;
                    *self.remaining.entry(s.seat_type).or_default() += s.delta;
                }
            }
            Event::SeatsReserved {
                reservation,
                details,
                available_seats_changed,
                ..
            } => {
                for s in available_seats_changed {
                    *self.remaining.entry(s.seat_type).or_default() += s.delta;
                }
                let held = by_type(details);
                if held.is_empty() {
                    self.pending.remove(reservation);
                } else {
                    self.pending.insert(*reservation, held);
                }
            }
            Event::ReservationCancelled {
                reservation,
                available_seats_changed,
                ..
            } => {
                for s in available_seats_changed {
                    *self.remaining.entry(s.seat_type).or_default() += s.delta;
                }
                self.pending.remove(reservation);
            }
            Event::ReservationCommitted { reservation, .. } => {
                if let Some(held) = self.pending.remove(reservation) {
                    for (seat_type, q) in held {
                        *self.committed.entry(seat_type).or_default() += i64::from(q);
                    }
                }
            }
            Event::SeatsOverbooked {
                reservation, seats, ..
            } => {
                let held = self.pending.entry(*reservation).or_default();
                for s in seats {
                    *held.entry(s.seat_type).or_default() += s.quantity;
                    *self.remaining.entry(s.seat_type).or_default() -= i64::from(s.quantity);
                    *self.overbooked.entry(s.seat_type).or_default() += i64::from(s.quantity);
                }
            }
            Event::LeaseGranted {
                lease,
                desk,
                seat_type,
                quantity,
                until,
                venue,
                ..
            } => {
                *self.remaining.entry(*seat_type).or_default() -= i64::from(*quantity);
                self.leases.insert(
                    *lease,
                    Lease {
                        desk: *desk,
                        seat_type: *seat_type,
                        granted: *quantity,
                        sold: 0,
                        beyond: 0,
                        until: *until,
                        ended: None,
                        venue: *venue,
                    },
                );
            }
            Event::LeaseSold {
                lease,
                seat_type,
                from_lease,
                beyond_lease,
                ..
            } => {
                // From the lease: already out of `remaining`. Beyond it: taken now.
                *self.remaining.entry(*seat_type).or_default() -= i64::from(*beyond_lease);
                *self.committed.entry(*seat_type).or_default() +=
                    i64::from(*from_lease) + i64::from(*beyond_lease);
                if let Some(l) = self.leases.get_mut(lease) {
                    l.sold += from_lease;
                    l.beyond += beyond_lease;
                }
            }
            Event::LeaseReturned {
                lease,
                seat_type,
                unsold,
                why,
                ..
            } => {
                *self.remaining.entry(*seat_type).or_default() += i64::from(*unsold);
                if let Some(l) = self.leases.get_mut(lease) {
                    l.ended = Some(*why);
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod availability_tests {
    use super::Availability;

    #[test]
    fn availability_is_sold_out_few_left_or_available() {
        assert_eq!(Availability::of(100, 0), Availability::SoldOut);
        assert_eq!(
            Availability::of(100, -3),
            Availability::SoldOut,
            "a cut quota"
        );
        assert_eq!(Availability::of(1_000, 100), Availability::FewLeft);
        assert_eq!(Availability::of(1_000, 101), Availability::Available);
        assert_eq!(Availability::of(10, 5), Availability::FewLeft);
        assert_eq!(Availability::of(10, 6), Availability::Available);
    }
}

#[cfg(test)]
mod tests;
