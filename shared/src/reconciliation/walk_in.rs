//! A walk-in sale decided again on the server, against the authoritative seats.
//!
//! [`reconcile`] reserves and commits what is still there. What is not there is handled by
//! each seat type's policy: `overbook` honours it as an explicit overbooking; `reject`
//! (default) compensates — the sale is rejected or partially confirmed, the refund due for
//! what could not be honoured is stated, the rejected tickets are withdrawn, and a conflict is
//! opened for a person. The confirmed part becomes an ordinary confirmed order with seat
//! assignments. A sale of a seat type the conference no longer has is rejected (F10).
//!
//! Decisions where the book is silent:
//! - Partial sales are kept: the people who got a seat keep it (they may already be inside);
//!   the refund covers the rest. Which tickets of a seat type are withdrawn: the last ones sold.
//! - The refund due is the price of the withdrawn tickets, never more than was taken
//!   (a complimentary or invoiced sale has nothing to refund but still needs a person).
//! - Head office can turn a compensation around ([`honour`]): it overbooks the seats that were
//!   missing and reinstates the tickets.

use std::collections::BTreeMap;

use crate::aggregate::{DomainError, Timestamp, execute};
use crate::conference::{Conference, OversellPolicy};
use crate::conflict::{self, ConflictKind};
use crate::event::Event as AnyEvent;
use crate::ids::{ConferenceId, ConflictId, DeviceId, SeatTypeId, TicketId};
use crate::money::Money;
use crate::order::{self, OrderOrigin, OrderStatus, Payment, PaymentMethod};
use crate::protocol::VenueAllocation;
use crate::seat_assignments::{self, Seat};
use crate::seat_availability::{self, SeatQuantity, SeatsAvailability};
use crate::walk_in::{Event, LeaseClaim, RejectReason, Sale, WalkInSale};

/// What the server needs to decide a pushed sale.
#[derive(Debug, Clone, Copy)]
pub struct Authority<'a> {
    pub conference: &'a Conference,
    pub seats: &'a SeatsAvailability,
    /// The id for the conflict to open if the sale must be compensated.
    pub conflict: ConflictId,
    /// The server's clock.
    pub now: Timestamp,
    /// What venue relays say they handed the selling desk from their venue leases for this
    /// sale (the relay that forwarded it, and what relays reported beforehand).
    pub vouched: &'a [Vouched],
}

/// Seats a venue relay says it handed a desk from one of its venue leases for one sale: what
/// a sale's claim on a venue lease is worth, when the relay is the lease's holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vouched {
    pub relay: DeviceId,
    pub allocation: VenueAllocation,
}

/// Why a sale could not be reconciled at all (the shell answers the push with a rejection).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Seats(#[from] seat_availability::Error),
    #[error(transparent)]
    Order(#[from] order::Error),
    #[error(transparent)]
    Assignments(#[from] seat_assignments::Error),
    #[error(transparent)]
    Conflict(#[from] conflict::Error),
    #[error(transparent)]
    Money(#[from] crate::money::MoneyError),
    #[error("the sale is for conference {got}, not {expected}")]
    WrongConference {
        expected: ConferenceId,
        got: ConferenceId,
    },
}

impl DomainError for ReconcileError {
    fn code(&self) -> &'static str {
        match self {
            ReconcileError::Seats(e) => e.code(),
            ReconcileError::Order(e) => e.code(),
            ReconcileError::Assignments(e) => e.code(),
            ReconcileError::Conflict(e) => e.code(),
            ReconcileError::Money(_) => "walk_in.money",
            ReconcileError::WrongConference { .. } => "walk_in.wrong_conference",
        }
    }
}

/// Checks that every lease a pushed sale claims is one the selling desk was granted, or a
/// venue lease, for the seat type it claims it for (a forged or confused claim refuses the
/// sale, changing nothing). What a claim on a venue lease is worth, [`reconcile`] decides.
pub fn check_leases(sale: &Sale, seats: &SeatsAvailability) -> Result<(), crate::walk_in::Error> {
    for claim in &sale.from_leases {
        match seats.leases.get(&claim.lease) {
            Some(l) if (l.venue || l.desk == sale.desk) && l.seat_type == claim.seat_type => {}
            _ => return Err(crate::walk_in::Error::LeaseNotHeld(claim.lease)),
        }
    }
    Ok(())
}

/// What of a claim on a venue lease stands: the seats the relay holding the lease says it
/// handed out for this sale (in the forward that carried it, or reported before); nothing
/// otherwise: a claim nobody vouches for makes no sale final, and its seats are decided like
/// any others. One relay's word on one sale and lease is one allocation, however often said.
fn vouched(sale: &Sale, claim: &LeaseClaim, holder: DeviceId, authority: &Authority<'_>) -> u32 {
    authority
        .vouched
        .iter()
        .filter(|v| v.relay == holder)
        .map(|v| v.allocation)
        .filter(|a| a.order == sale.order && a.lease == claim.lease)
        .map(|a| a.quantity)
        .max()
        .unwrap_or(0)
}

/// Re-decides a desk's sale against the authoritative seats. Returns every resulting event,
/// across streams, in the order they are to be appended: the desk's `SaleRecorded` first.
pub fn reconcile(sale: &Sale, authority: Authority<'_>) -> Result<Vec<AnyEvent>, ReconcileError> {
    let Authority {
        conference,
        seats,
        conflict: conflict_id,
        now,
        ..
    } = authority;
    if let Some(expected) = conference.id
        && expected != sale.conference
    {
        return Err(ReconcileError::WrongConference {
            expected,
            got: sale.conference,
        });
    }
    let mut out: Vec<AnyEvent> = vec![Event::SaleRecorded { sale: sale.clone() }.into()];
    let known = |t: SeatTypeId| conference.seat_type(t).is_some() && seats.quota.contains_key(&t);
    let mut seats_state = seats.clone();

    // First what the desk sold from its leases: final, committed from the lease (or beyond
    // it, below zero if need be, when the lease ended before the desk heard). What the desk
    // claims is capped at what the lease could still have covered: its grant, less what was
    // sold from it, and nothing after its end by the desk's own clock.
    let mut from_lease: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for claim in &sale.from_leases {
        let Some(lease) = seats_state.leases.get(&claim.lease) else {
            continue;
        };
        let cap = lease
            .granted
            .saturating_sub(lease.sold)
            .saturating_sub(lease.beyond);
        let claimed = if lease.venue {
            claim
                .quantity
                .min(vouched(sale, claim, lease.desk, &authority))
        } else {
            claim.quantity
        };
        let quantity = if sale.sold_at < lease.until {
            claimed.min(cap)
        } else {
            0
        };
        if quantity == 0 || !known(claim.seat_type) {
            continue;
        }
        let (next, events) = execute(
            seats_state,
            &seat_availability::Command::SellFromLease {
                conference: sale.conference,
                lease: claim.lease,
                order: sale.order,
                quantity,
            },
        )?;
        seats_state = next;
        out.extend(events.into_iter().map(AnyEvent::from));
        *from_lease.entry(claim.seat_type).or_default() += quantity;
    }

    // How many of each seat type can be honoured, and how many by overbooking.
    let mut wanted: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for t in &sale.tickets {
        *wanted.entry(t.seat_type).or_default() += 1;
    }
    let mut reserve = Vec::new();
    let mut overbook = Vec::new();
    let mut granted: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    let mut reason = RejectReason::SeatsGone;
    for (seat_type, want) in &wanted {
        if !known(*seat_type) {
            reason = RejectReason::UnknownSeatType;
            continue;
        }
        let leased = from_lease.get(seat_type).copied().unwrap_or(0).min(*want);
        let rest = want - leased;
        let left = u32::try_from(seats_state.remaining(*seat_type).unwrap_or(0).max(0))
            .unwrap_or(u32::MAX);
        let get = rest.min(left);
        if get > 0 {
            reserve.push(SeatQuantity {
                seat_type: *seat_type,
                quantity: get,
            });
        }
        let short = rest - get;
        let policy = conference
            .seat_type(*seat_type)
            .map(|s| s.policy)
            .unwrap_or_default();
        if short > 0 && policy == OversellPolicy::Overbook {
            overbook.push(SeatQuantity {
                seat_type: *seat_type,
                quantity: short,
            });
            granted.insert(*seat_type, *want);
        } else {
            granted.insert(*seat_type, leased + get);
        }
    }

    // Which tickets stay: the first `granted` of each seat type, in the order they were sold.
    let mut kept_per_type: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    let (mut confirmed, mut withdrawn) = (Vec::new(), Vec::new());
    for t in &sale.tickets {
        let kept = kept_per_type.entry(t.seat_type).or_default();
        if *kept < granted.get(&t.seat_type).copied().unwrap_or(0) {
            *kept += 1;
            confirmed.push(t);
        } else {
            withdrawn.push(t);
        }
    }

    // Seats: reserve, overbook, commit, all under the order's id.
    let seat_commands = [
        (!reserve.is_empty()).then(|| seat_availability::Command::MakeReservation {
            conference: sale.conference,
            reservation: sale.order,
            seats: reserve.clone(),
        }),
        (!overbook.is_empty()).then(|| seat_availability::Command::Overbook {
            conference: sale.conference,
            reservation: sale.order,
            seats: overbook.clone(),
            reason: "walk-in sale under the overbook policy".to_owned(),
        }),
        Some(seat_availability::Command::CommitReservation {
            conference: sale.conference,
            reservation: sale.order,
        }),
    ];
    for command in seat_commands.into_iter().flatten() {
        let (next, events) = execute(seats_state, &command)?;
        seats_state = next;
        out.extend(events.into_iter().map(AnyEvent::from));
    }

    // The order: placed for everything sold, reserved for what was honoured.
    let prices = sale.price_list();
    let requested: Vec<SeatQuantity> = wanted
        .iter()
        .map(|(seat_type, quantity)| SeatQuantity {
            seat_type: *seat_type,
            quantity: *quantity,
        })
        .collect();
    let honoured: Vec<SeatQuantity> = granted
        .iter()
        .filter(|(_, q)| **q > 0)
        .map(|(seat_type, quantity)| SeatQuantity {
            seat_type: *seat_type,
            quantity: *quantity,
        })
        .collect();
    let mut order_commands = vec![
        order::Command::Place {
            order: sale.order,
            conference: sale.conference,
            seats: requested,
            prices,
            access_code: String::new(),
            reservation_expires_at: sale.sold_at,
            origin: OrderOrigin::WalkIn {
                desk: sale.desk,
                payment_method: sale.payment_method,
                amount_taken: sale.amount_taken,
            },
            max_seats: None,
        },
        order::Command::MarkSeatsAsReserved {
            seats: honoured,
            reservation_expires_at: sale.sold_at,
        },
    ];
    let payment = match sale.payment_method {
        _ if sale.total.is_zero() => Payment::NotRequired,
        PaymentMethod::Invoice => Payment::Invoiced {
            reference: format!("walk-in {}", sale.order),
        },
        method => Payment::Received {
            method,
            amount: sale.amount_taken,
            reference: format!("walk-in {}", sale.order),
        },
    };
    if confirmed.is_empty() {
        order_commands.push(order::Command::Cancel {
            reason: "walk-in sale rejected: no seats left".to_owned(),
        });
    } else {
        order_commands.push(order::Command::Confirm { payment });
    }
    let mut order_state = order::Order::default();
    for command in &order_commands {
        let (next, events) = execute(order_state, command)?;
        order_state = next;
        out.extend(events.into_iter().map(AnyEvent::from));
    }

    // Seat assignments for the tickets that stand.
    if order_state.status == OrderStatus::Confirmed {
        let seats_list: Vec<Seat> = confirmed
            .iter()
            .zip(1u32..)
            .map(|(t, position)| Seat {
                position,
                ticket: t.ticket,
                code: t.code.clone(),
                seat_type: t.seat_type,
            })
            .collect();
        let mut assignments = seat_assignments::SeatAssignments::default();
        let mut commands = vec![seat_assignments::Command::Create {
            order: sale.order,
            conference: sale.conference,
            order_status: OrderStatus::Confirmed,
            seats: seats_list,
        }];
        commands.extend(confirmed.iter().zip(1u32..).map(|(t, position)| {
            seat_assignments::Command::Assign {
                position,
                attendee: t.attendee.clone(),
            }
        }));
        for command in &commands {
            let (next, events) = execute(assignments, command)?;
            assignments = next;
            out.extend(events.into_iter().map(AnyEvent::from));
        }
    }

    // The outcome, with compensation when tickets were withdrawn.
    let confirmed_ids: Vec<TicketId> = confirmed.iter().map(|t| t.ticket).collect();
    let withdrawn_ids: Vec<TicketId> = withdrawn.iter().map(|t| t.ticket).collect();
    if withdrawn.is_empty() {
        out.push(
            Event::Confirmed {
                order: sale.order,
                tickets: confirmed_ids,
                overbooked: overbook,
            }
            .into(),
        );
        return Ok(out);
    }
    let mut refund = Money::zero(sale.total.currency);
    for t in &withdrawn {
        let price = sale
            .lines
            .iter()
            .find(|l| l.seat_type == t.seat_type)
            .map(|l| l.unit_price);
        if let Some(price) = price {
            refund = refund.plus(price)?;
        }
    }
    let taken = if sale.payment_method == PaymentMethod::Invoice {
        0
    } else {
        sale.amount_taken.amount_minor
    };
    let refund_due = Money::new(refund.amount_minor.min(taken.max(0)), refund.currency);
    out.push(if confirmed_ids.is_empty() {
        Event::Rejected {
            order: sale.order,
            withdrawn: withdrawn_ids.clone(),
            refund_due,
            reason,
            conflict: conflict_id,
        }
        .into()
    } else {
        Event::PartiallyConfirmed {
            order: sale.order,
            confirmed: confirmed_ids,
            withdrawn: withdrawn_ids.clone(),
            refund_due,
            reason,
            conflict: conflict_id,
        }
        .into()
    });
    let (_, opened) = execute(
        conflict::Conflict::default(),
        &conflict::Command::Open {
            conflict: conflict_id,
            conference: sale.conference,
            kind: ConflictKind::WalkInRejected {
                order: sale.order,
                desk: sale.desk,
                tickets: withdrawn_ids,
                refund_due,
            },
            at: now,
        },
    )?;
    out.extend(opened.into_iter().map(AnyEvent::from));
    Ok(out)
}

/// Head office honours a compensated sale by overriding the quota: the missing seats are
/// overbooked and committed, and the withdrawn tickets are reinstated. The conflict is resolved
/// by the caller with `Resolution::SaleHonoured`.
pub fn honour(
    sale: &WalkInSale,
    seats: &SeatsAvailability,
    reason: &str,
) -> Result<Vec<AnyEvent>, ReconcileError> {
    let Some(recorded) = &sale.sale else {
        return Ok(vec![]);
    };
    if sale.withdrawn.is_empty() {
        return Ok(vec![]);
    }
    let mut missing: BTreeMap<SeatTypeId, u32> = BTreeMap::new();
    for t in recorded
        .tickets
        .iter()
        .filter(|t| sale.withdrawn.contains(&t.ticket))
    {
        *missing.entry(t.seat_type).or_default() += 1;
    }
    let overbooked: Vec<SeatQuantity> = missing
        .into_iter()
        .map(|(seat_type, quantity)| SeatQuantity {
            seat_type,
            quantity,
        })
        .collect();
    let mut out: Vec<AnyEvent> = Vec::new();
    let mut state = seats.clone();
    for command in [
        seat_availability::Command::Overbook {
            conference: recorded.conference,
            reservation: recorded.order,
            seats: overbooked.clone(),
            reason: reason.to_owned(),
        },
        seat_availability::Command::CommitReservation {
            conference: recorded.conference,
            reservation: recorded.order,
        },
    ] {
        let (next, events) = execute(state, &command)?;
        state = next;
        out.extend(events.into_iter().map(AnyEvent::from));
    }
    out.push(
        Event::Honoured {
            order: recorded.order,
            reinstated: sale.withdrawn.clone(),
            overbooked,
        }
        .into(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests;
