//! Online registration: the book's flow, so that online buyers compete with the desks for seats.
//!
//! The pure process manager (`onsite_shared::registration`) decides; this module drives it.
//! Its commands are executed at once, in the same transaction as the event that caused them
//! (the V3 in-process command bus), and the events they produce are fed back to it until it
//! has nothing more to say. Its state is stored with those events, so nothing it decided can be
//! lost between "decided" and "sent" (F3). Expiry timers are rows in `timers`, written in the
//! same transaction and fired by the server's clock ([`fire_due_timers`]): a restart neither
//! loses nor doubles them (a timer is claimed by one update before it fires).

use std::collections::VecDeque;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::conference::Conference;
use onsite_shared::conflict;
use onsite_shared::conflict::ConflictKind;
use onsite_shared::error_code;
use onsite_shared::event::{Event, StreamId};
use onsite_shared::ids::{CommandId, ConferenceId, ConflictId, OrderId, TicketCode, TicketId};
use onsite_shared::order::{self, Order, OrderOrigin, OrderStatus, Payment, Registrant};
use onsite_shared::registration::{Input, Output, RegistrationProcess, react};
use onsite_shared::seat_assignments::{self, Attendee, Seat, SeatAssignments};
use onsite_shared::seat_availability::{self, SeatQuantity, SeatsAvailability};

use crate::event_log;
use crate::params;
use crate::recorder::{Recorder, Rejected};
use crate::storage::{StoreError, Tx, time_text};

fn rejected(code: &'static str, message: impl Into<String>) -> Rejected {
    Rejected::Domain {
        code,
        message: message.into(),
    }
}

fn load_process(tx: &mut dyn Tx, order: OrderId) -> Result<RegistrationProcess, StoreError> {
    let rows = tx.query(
        "SELECT state FROM processes WHERE order_id = $1",
        params![order.to_string()],
    )?;
    match rows.first() {
        Some(r) => r.json(0),
        None => Ok(RegistrationProcess::default()),
    }
}

fn save_process(
    tx: &mut dyn Tx,
    order: OrderId,
    p: &RegistrationProcess,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO processes (order_id, state) VALUES ($1, $2) \
         ON CONFLICT (order_id) DO UPDATE SET state = excluded.state",
        params![order.to_string(), serde_json::to_string(p)?],
    )?;
    Ok(())
}

/// A random code of `len` characters from an unambiguous alphabet (the book's access code,
/// V3: six characters).
pub fn random_code(len: usize) -> Result<String, StoreError> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect())
}

/// Feeds `first` to the order's process and runs everything it asks for, in this transaction.
fn drive(rec: &mut Recorder<'_>, order: OrderId, first: Input) -> Result<(), Rejected> {
    let mut process = load_process(rec.tx, order)?;
    let mut inputs = VecDeque::from([first]);
    while let Some(input) = inputs.pop_front() {
        process = react(&process, &input);
        let outputs = std::mem::take(&mut process.undispatched);
        for output in outputs {
            inputs.extend(dispatch(rec, &process, output)?);
        }
    }
    save_process(rec.tx, order, &process)?;
    Ok(())
}

/// Executes one command of the process; returns what it answers with.
fn dispatch(
    rec: &mut Recorder<'_>,
    process: &RegistrationProcess,
    output: Output,
) -> Result<Vec<Input>, Rejected> {
    let now = rec.now;
    match output {
        Output::MakeSeatReservation {
            id,
            conference,
            reservation,
            seats,
            deadline,
        } => {
            if deadline <= now {
                // The book's TimeToLive: a request for an order already over is not executed.
                return Ok(vec![]);
            }
            let events = rec.execute::<SeatsAvailability>(
                &StreamId::seats(conference),
                &seat_availability::Command::MakeReservation {
                    conference,
                    reservation,
                    seats,
                },
            )?;
            Ok(events
                .into_iter()
                .filter_map(|e| match e {
                    Event::Seats(seat_availability::Event::SeatsReserved { details, .. }) => {
                        Some(Input::SeatsReserved {
                            correlation: id,
                            details,
                        })
                    }
                    _ => None,
                })
                .collect())
        }
        Output::MarkSeatsAsReserved {
            order,
            seats,
            reservation_expires_at,
        } => {
            rec.execute::<Order>(
                &StreamId::order(order),
                &order::Command::MarkSeatsAsReserved {
                    seats,
                    reservation_expires_at,
                },
            )?;
            Ok(vec![])
        }
        Output::ConfirmOrder { order, payment } => {
            let events = rec.execute::<Order>(
                &StreamId::order(order),
                &order::Command::Confirm { payment },
            )?;
            if events
                .iter()
                .any(|e| matches!(e, Event::Order(order::Event::Confirmed { .. })))
            {
                create_assignments(rec, order)?;
                return Ok(vec![Input::OrderConfirmed]);
            }
            Ok(vec![])
        }
        Output::CommitSeatReservation {
            conference,
            reservation,
        } => {
            rec.execute::<SeatsAvailability>(
                &StreamId::seats(conference),
                &seat_availability::Command::CommitReservation {
                    conference,
                    reservation,
                },
            )?;
            Ok(vec![])
        }
        Output::CancelSeatReservation {
            conference,
            reservation,
        } => {
            rec.execute::<SeatsAvailability>(
                &StreamId::seats(conference),
                &seat_availability::Command::CancelReservation {
                    conference,
                    reservation,
                },
            )?;
            Ok(vec![])
        }
        Output::RejectOrder { order } => {
            rec.execute::<Order>(&StreamId::order(order), &order::Command::Reject)?;
            Ok(vec![])
        }
        Output::ScheduleExpiry { id, order, due_at } => {
            rec.tx.execute(
                "INSERT INTO timers (timer_id, order_id, conference, due_at, fired) VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (timer_id) DO NOTHING",
                params![id.to_string(), order.to_string(), rec.conference.to_string(), time_text(&due_at)],
            )?;
            Ok(vec![])
        }
        Output::EscalatePayment { order, payment } => {
            let conference = process.conference.unwrap_or(rec.conference);
            let id = ConflictId::from_uuid(uuid::Uuid::now_v7());
            rec.execute::<conflict::Conflict>(
                &StreamId::conflict(id),
                &conflict::Command::Open {
                    conflict: id,
                    conference,
                    kind: ConflictKind::PaymentAfterExpiry { order, payment },
                    at: now,
                },
            )?;
            Ok(vec![])
        }
    }
}

/// On confirmation: one ticket per seat, each with its own id and printed code.
fn create_assignments(rec: &mut Recorder<'_>, order: OrderId) -> Result<(), Rejected> {
    let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
    let conference = state
        .conference
        .ok_or_else(|| rejected(error_code::ORDER_NOT_FOUND, "the order does not exist"))?;
    let mut seats = Vec::new();
    let mut position = 0u32;
    for line in &state.seats {
        for _ in 0..line.quantity {
            position += 1;
            let id = uuid::Uuid::now_v7();
            let mut entropy = [0u8; 8];
            getrandom::fill(&mut entropy)
                .map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
            seats.push(Seat {
                position,
                ticket: TicketId::from_uuid(id),
                code: TicketCode::from_entropy(u64::from_le_bytes(entropy)),
                seat_type: line.seat_type,
            });
        }
    }
    rec.execute::<SeatAssignments>(
        &StreamId::seat_assignments(order),
        &seat_assignments::Command::Create {
            order,
            conference,
            order_status: OrderStatus::Confirmed,
            seats,
        },
    )?;
    Ok(())
}

/// How long an online order holds its seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The reservation window: the registrant's countdown, and the time within which the
    /// order can still change.
    pub window: chrono::Duration,
    /// How long after the window the seats stay held before the order expires, so that a
    /// payment made at the last second still finds them (the book's buffer, §2.9).
    pub grace: chrono::Duration,
}

/// Places an online order. The reservation window is `hold.window` from now.
pub fn place_order(
    rec: &mut Recorder<'_>,
    order: OrderId,
    seats: Vec<SeatQuantity>,
    hold: Hold,
    origin: OrderOrigin,
) -> Result<String, Rejected> {
    let conference_id = rec.conference;
    let (conference, _) = rec.load::<Conference>(&StreamId::conference(conference_id))?;
    if conference.id.is_none() {
        return Err(rejected(
            error_code::CONFERENCE_NOT_FOUND,
            "the conference does not exist",
        ));
    }
    if !conference.published && origin == OrderOrigin::Online {
        return Err(rejected(
            error_code::CONFERENCE_NOT_PUBLISHED,
            "the conference is not open for registration",
        ));
    }
    let prices = conference.price_list();
    let access_code = random_code(6)?;
    let expires = rec.now + hold.window;
    let events = rec.execute::<Order>(
        &StreamId::order(order),
        &order::Command::Place {
            order,
            conference: conference_id,
            seats: seats.clone(),
            prices,
            access_code: access_code.clone(),
            reservation_expires_at: expires,
            max_seats: (origin == OrderOrigin::Online).then(|| conference.max_seats_per_order()),
            origin,
        },
    )?;
    let placed_event = first_recorded(rec, events.len());
    let is_free = events.iter().any(|e| {
        matches!(
            e,
            Event::Order(order::Event::TotalsCalculated {
                is_free_of_charge: true,
                ..
            })
        )
    });
    let seats = events
        .iter()
        .find_map(|e| match e {
            Event::Order(order::Event::Placed { seats, .. }) => Some(seats.clone()),
            _ => None,
        })
        .unwrap_or(seats);
    drive(
        rec,
        order,
        Input::OrderPlaced {
            event: placed_event,
            order,
            conference: conference_id,
            seats,
            reservation_expires_at: expires,
            is_free_of_charge: is_free,
            now: rec.now,
            expiry_grace: hold.grace,
        },
    )?;
    Ok(access_code)
}

/// The id of the first of `events`, the last ones the recorder appended.
fn first_recorded(rec: &Recorder<'_>, events: usize) -> onsite_shared::ids::EventId {
    let recorded = rec.recorded();
    recorded
        .get(recorded.len().saturating_sub(events))
        .copied()
        .unwrap_or_else(crate::recorder::new_event_id)
}

/// The registrant changes the seats of a pending order, within its window: priced again from
/// today's price list, and reserved again (the seats it held count for it; what cannot be
/// had now is left out, as at placing).
pub fn update_seats(
    rec: &mut Recorder<'_>,
    order: OrderId,
    seats: Vec<SeatQuantity>,
) -> Result<(), Rejected> {
    let (conference, _) = rec.load::<Conference>(&StreamId::conference(rec.conference))?;
    let (current, _) = rec.load::<Order>(&StreamId::order(order))?;
    let online = current.origin == Some(OrderOrigin::Online);
    let events = rec.execute::<Order>(
        &StreamId::order(order),
        &order::Command::UpdateSeats {
            seats,
            prices: conference.price_list(),
            max_seats: online.then(|| conference.max_seats_per_order()),
            at: rec.now,
        },
    )?;
    let event = first_recorded(rec, events.len());
    let mut seats = Vec::new();
    let mut is_free = false;
    for e in &events {
        match e {
            Event::Order(order::Event::Updated { seats: s, .. }) => seats.clone_from(s),
            Event::Order(order::Event::TotalsCalculated {
                is_free_of_charge, ..
            }) => is_free = *is_free_of_charge,
            _ => {}
        }
    }
    drive(
        rec,
        order,
        Input::OrderUpdated {
            event,
            seats,
            is_free_of_charge: is_free,
        },
    )
}

/// The registrant cancels a pending order: its seats go back at once.
pub fn cancel(rec: &mut Recorder<'_>, order: OrderId, reason: &str) -> Result<(), Rejected> {
    rec.execute::<Order>(
        &StreamId::order(order),
        &order::Command::Cancel {
            reason: reason.to_owned(),
        },
    )?;
    drive(rec, order, Input::OrderCancelled)
}

/// The order of a conference that `email` registered and `access_code` opens (the book's
/// "find my order"), with its state: "not found" alike for an unknown email and a wrong code.
pub fn find(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    email: &str,
    access_code: &str,
) -> Result<(OrderId, Order), Rejected> {
    let rows = tx.query(
        "SELECT order_id FROM orders WHERE conference = $1 \
         AND lower(registrant_email) = lower($2) LIMIT 50",
        params![conference.to_string(), email.trim().to_owned()],
    )?;
    for row in rows {
        let order: OrderId = row.parse(0)?;
        if let Ok(state) = check_access(tx, order, access_code) {
            return Ok((order, state));
        }
    }
    Err(rejected(
        error_code::ORDER_NOT_FOUND,
        "no order with this email and access code",
    ))
}

/// Checks the order's access code (the book's record locator): a wrong one is "not found",
/// never "wrong code", so codes cannot be probed.
pub fn check_access(tx: &mut dyn Tx, order: OrderId, access_code: &str) -> Result<Order, Rejected> {
    let (state, _) = event_log::load::<Order>(tx, &StreamId::order(order))?;
    if state.id.is_none() || !state.opens_with(access_code) {
        return Err(rejected(
            error_code::ORDER_NOT_FOUND,
            "no order with this id and access code",
        ));
    }
    Ok(state)
}

pub fn assign_registrant(
    rec: &mut Recorder<'_>,
    order: OrderId,
    registrant: Registrant,
) -> Result<(), Rejected> {
    rec.execute::<Order>(
        &StreamId::order(order),
        &order::Command::AssignRegistrant(registrant),
    )?;
    Ok(())
}

/// What became of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentResult {
    Confirmed,
    /// The order had expired (or was cancelled): the payment went to a person (F8).
    Escalated,
    /// Not confirmable yet (no seats reserved yet); nothing happened.
    Pending,
}

pub fn pay(
    rec: &mut Recorder<'_>,
    order: OrderId,
    payment: Payment,
) -> Result<PaymentResult, Rejected> {
    drive(rec, order, Input::PaymentReceived { payment })?;
    let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
    Ok(match state.status {
        OrderStatus::Confirmed => PaymentResult::Confirmed,
        OrderStatus::Expired | OrderStatus::Cancelled => PaymentResult::Escalated,
        OrderStatus::Created
        | OrderStatus::PartiallyReserved
        | OrderStatus::ReservationCompleted => PaymentResult::Pending,
    })
}

/// A payment confirmed by a trusted party (head office, a signed provider webhook), for an
/// order of the recorder's conference. Money for an order still open must settle it exactly
/// ([`Order::settled_by`]); money for one that expired goes to a person, whatever it is.
pub fn confirm_payment(
    rec: &mut Recorder<'_>,
    order: OrderId,
    payment: Payment,
) -> Result<PaymentResult, Rejected> {
    let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
    if state.id.is_none() || state.conference != Some(rec.conference) {
        return Err(rejected(
            error_code::ORDER_NOT_FOUND,
            "no such order in this conference",
        ));
    }
    if !matches!(state.status, OrderStatus::Expired | OrderStatus::Cancelled) {
        state.settled_by(&payment).map_err(|e| Rejected::Domain {
            code: onsite_shared::DomainError::code(&e),
            message: e.to_string(),
        })?;
    }
    pay(rec, order, payment)
}

pub fn assign_seat(
    rec: &mut Recorder<'_>,
    order: OrderId,
    position: u32,
    attendee: Attendee,
) -> Result<(), Rejected> {
    rec.execute::<SeatAssignments>(
        &StreamId::seat_assignments(order),
        &seat_assignments::Command::Assign { position, attendee },
    )?;
    Ok(())
}

/// Fires every timer that is due: claims it (so no other process fires it too), then lets the
/// order's process decide. Returns how many fired.
pub fn fire_due_timers(tx: &mut dyn Tx, now: Timestamp) -> Result<usize, Rejected> {
    let due = tx.query(
        "SELECT timer_id, order_id, conference FROM timers WHERE fired = 0 AND due_at <= $1 ORDER BY due_at LIMIT 100",
        params![time_text(&now)],
    )?;
    let mut fired = 0;
    for row in due {
        let timer: CommandId = row.parse(0)?;
        let claimed = tx.execute(
            "UPDATE timers SET fired = 1 WHERE timer_id = $1 AND fired = 0",
            params![timer.to_string()],
        )?;
        if claimed == 0 {
            continue;
        }
        let order: OrderId = row.parse(1)?;
        let conference: ConferenceId = row.parse(2)?;
        let mut rec = Recorder::new(tx, conference, now);
        drive(&mut rec, order, Input::ExpiryDue { timer })?;
        fired += 1;
    }
    Ok(fired)
}
