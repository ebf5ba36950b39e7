//! The registration process manager: the book's final `RegistrationProcessManager` (seed digest
//! §2.9, B:8570–8910), as a pure state machine. An input (an event or a timer) goes in; the new
//! state comes out with the commands to send appended to `undispatched`. The shell stores the
//! state together with its undispatched commands in one transaction, sends them, then calls
//! [`RegistrationProcess::mark_dispatched`] (the book's pseudo-transaction, F3).
//!
//! Flow: order placed → reserve seats and start the expiry timer (at the window's end plus a
//! grace period) → seats reserved → mark the
//! order reserved (and confirm at once when it is free) → payment → confirm → commit the seats.
//! Expiry before payment → reject the order and cancel the reservation.
//!
//! Hardening from V3:
//! - a duplicate `OrderPlaced` starts nothing new (F4);
//! - only the `SeatsReserved` that answers the *latest* reservation request is honoured; the
//!   request id is the correlation id (F5);
//! - an order whose window is already over when it is placed is rejected at once (F6), and a
//!   reservation that arrives after expiry is released;
//! - a timer that was superseded is ignored (its command id no longer matches).
//!
//! Ids are derived, not drawn: a command's id is the id of the event that caused it, so the
//! same input always yields the same commands (replay-safe, no randomness here).
//!
//! Decision where the book is silent (F8): a payment that arrives after the order expired
//! cannot confirm it (a confirmed order needs its seats); the process escalates it to a person
//! (refund or re-sell), and never silently keeps the money.

use serde::{Deserialize, Serialize};

use crate::aggregate::Timestamp;
use crate::ids::{CommandId, ConferenceId, EventId, OrderId};
use crate::order::Payment;
use crate::seat_availability::SeatQuantity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessState {
    #[default]
    NotStarted,
    AwaitingReservationConfirmation,
    ReservationConfirmationReceived,
    PaymentConfirmationReceived,
    FullyConfirmed,
    Expired,
    Cancelled,
}

/// What the process reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    OrderPlaced {
        event: EventId,
        order: OrderId,
        conference: ConferenceId,
        seats: Vec<SeatQuantity>,
        reservation_expires_at: Timestamp,
        is_free_of_charge: bool,
        now: Timestamp,
        /// How long after the window the expiry fires (the book's buffer, §2.9: a payment
        /// that arrives just after the countdown still finds its seats). The registrant's
        /// countdown stays the window.
        expiry_grace: chrono::Duration,
    },
    OrderUpdated {
        event: EventId,
        seats: Vec<SeatQuantity>,
        is_free_of_charge: bool,
    },
    /// `correlation` is the id of the `MakeSeatReservation` this answers.
    SeatsReserved {
        correlation: CommandId,
        details: Vec<SeatQuantity>,
    },
    PaymentReceived {
        payment: Payment,
    },
    OrderConfirmed,
    OrderCancelled,
    /// A persisted timer fired.
    ExpiryDue {
        timer: CommandId,
    },
}

/// What the process asks others to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Output {
    /// `deadline`: drop the request unexecuted after this time (the book's TimeToLive).
    MakeSeatReservation {
        id: CommandId,
        conference: ConferenceId,
        reservation: OrderId,
        seats: Vec<SeatQuantity>,
        deadline: Timestamp,
    },
    MarkSeatsAsReserved {
        order: OrderId,
        seats: Vec<SeatQuantity>,
        reservation_expires_at: Timestamp,
    },
    ConfirmOrder {
        order: OrderId,
        payment: Payment,
    },
    CommitSeatReservation {
        conference: ConferenceId,
        reservation: OrderId,
    },
    CancelSeatReservation {
        conference: ConferenceId,
        reservation: OrderId,
    },
    RejectOrder {
        order: OrderId,
    },
    /// Persist a timer: deliver `ExpiryDue { timer: id }` at `due_at`.
    ScheduleExpiry {
        id: CommandId,
        order: OrderId,
        due_at: Timestamp,
    },
    /// A person must decide (refund or re-sell): a payment arrived for an expired order.
    EscalatePayment {
        order: OrderId,
        payment: Payment,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistrationProcess {
    pub order: Option<OrderId>,
    pub conference: Option<ConferenceId>,
    pub state: ProcessState,
    pub seats: Vec<SeatQuantity>,
    pub is_free_of_charge: bool,
    pub reservation_expires_at: Option<Timestamp>,
    /// The latest reservation request; only its answer counts.
    pub reservation_request: Option<CommandId>,
    /// The live expiry timer; a timer with another id was superseded.
    pub expiry_timer: Option<CommandId>,
    /// Commands decided but not yet sent. Stored with the state; sent after commit.
    pub undispatched: Vec<Output>,
}

impl RegistrationProcess {
    /// The commands up to `count` were sent; forget them.
    pub fn mark_dispatched(mut self, count: usize) -> Self {
        let count = count.min(self.undispatched.len());
        self.undispatched.drain(..count);
        self
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            ProcessState::FullyConfirmed | ProcessState::Expired | ProcessState::Cancelled
        )
    }
}

/// Reacts to one input: the next state, with any new commands appended to `undispatched`.
pub fn react(process: &RegistrationProcess, input: &Input) -> RegistrationProcess {
    let mut next = process.clone();
    let out = decide(&mut next, input);
    next.undispatched.extend(out);
    next
}

fn decide(p: &mut RegistrationProcess, input: &Input) -> Vec<Output> {
    match input {
        Input::OrderPlaced {
            event,
            order,
            conference,
            seats,
            reservation_expires_at,
            is_free_of_charge,
            now,
            expiry_grace,
        } => {
            if p.state != ProcessState::NotStarted {
                // F4: a duplicate OrderPlaced finds the existing process; nothing new starts.
                return vec![];
            }
            p.order = Some(*order);
            p.conference = Some(*conference);
            p.seats = seats.clone();
            p.is_free_of_charge = *is_free_of_charge;
            p.reservation_expires_at = Some(*reservation_expires_at);
            if reservation_expires_at <= now {
                p.state = ProcessState::Expired;
                return vec![Output::RejectOrder { order: *order }];
            }
            let id = CommandId::from_uuid(event.as_uuid());
            p.state = ProcessState::AwaitingReservationConfirmation;
            p.reservation_request = Some(id);
            p.expiry_timer = Some(id);
            vec![
                Output::MakeSeatReservation {
                    id,
                    conference: *conference,
                    reservation: *order,
                    seats: seats.clone(),
                    deadline: *reservation_expires_at,
                },
                Output::ScheduleExpiry {
                    id,
                    order: *order,
                    due_at: reservation_expires_at
                        .checked_add_signed(*expiry_grace)
                        .unwrap_or(*reservation_expires_at),
                },
            ]
        }
        Input::OrderUpdated {
            event,
            seats,
            is_free_of_charge,
        } => {
            let (Some(order), Some(conference), Some(deadline)) =
                (p.order, p.conference, p.reservation_expires_at)
            else {
                return vec![];
            };
            if !matches!(
                p.state,
                ProcessState::AwaitingReservationConfirmation
                    | ProcessState::ReservationConfirmationReceived
            ) {
                return vec![];
            }
            let id = CommandId::from_uuid(event.as_uuid());
            p.state = ProcessState::AwaitingReservationConfirmation;
            p.reservation_request = Some(id);
            p.seats = seats.clone();
            p.is_free_of_charge = *is_free_of_charge;
            vec![Output::MakeSeatReservation {
                id,
                conference,
                reservation: order,
                seats: seats.clone(),
                deadline,
            }]
        }
        Input::SeatsReserved {
            correlation,
            details,
        } => {
            let (Some(order), Some(conference), Some(expires)) =
                (p.order, p.conference, p.reservation_expires_at)
            else {
                return vec![];
            };
            if p.reservation_request != Some(*correlation) {
                // F5: an answer to an older request.
                return vec![];
            }
            match p.state {
                ProcessState::AwaitingReservationConfirmation => {
                    p.state = ProcessState::ReservationConfirmationReceived;
                    let mut out = vec![Output::MarkSeatsAsReserved {
                        order,
                        seats: details.clone(),
                        reservation_expires_at: expires,
                    }];
                    if p.is_free_of_charge && !details.is_empty() {
                        p.state = ProcessState::PaymentConfirmationReceived;
                        out.push(Output::ConfirmOrder {
                            order,
                            payment: Payment::NotRequired,
                        });
                    }
                    out
                }
                // The reservation came back after the order expired: give the seats back.
                ProcessState::Expired | ProcessState::Cancelled => {
                    vec![Output::CancelSeatReservation {
                        conference,
                        reservation: order,
                    }]
                }
                ProcessState::NotStarted
                | ProcessState::ReservationConfirmationReceived
                | ProcessState::PaymentConfirmationReceived
                | ProcessState::FullyConfirmed => vec![],
            }
        }
        Input::PaymentReceived { payment } => {
            let Some(order) = p.order else {
                return vec![];
            };
            match p.state {
                ProcessState::ReservationConfirmationReceived => {
                    p.state = ProcessState::PaymentConfirmationReceived;
                    vec![Output::ConfirmOrder {
                        order,
                        payment: payment.clone(),
                    }]
                }
                ProcessState::Expired | ProcessState::Cancelled => {
                    vec![Output::EscalatePayment {
                        order,
                        payment: payment.clone(),
                    }]
                }
                ProcessState::NotStarted
                | ProcessState::AwaitingReservationConfirmation
                | ProcessState::PaymentConfirmationReceived
                | ProcessState::FullyConfirmed => vec![],
            }
        }
        Input::OrderConfirmed => {
            let (Some(order), Some(conference)) = (p.order, p.conference) else {
                return vec![];
            };
            if p.state == ProcessState::FullyConfirmed {
                return vec![];
            }
            p.state = ProcessState::FullyConfirmed;
            p.expiry_timer = None;
            vec![Output::CommitSeatReservation {
                conference,
                reservation: order,
            }]
        }
        Input::OrderCancelled => {
            let (Some(order), Some(conference)) = (p.order, p.conference) else {
                return vec![];
            };
            if p.is_finished() {
                return vec![];
            }
            p.state = ProcessState::Cancelled;
            p.expiry_timer = None;
            vec![Output::CancelSeatReservation {
                conference,
                reservation: order,
            }]
        }
        Input::ExpiryDue { timer } => {
            let (Some(order), Some(conference)) = (p.order, p.conference) else {
                return vec![];
            };
            if p.expiry_timer != Some(*timer) {
                return vec![];
            }
            match p.state {
                ProcessState::AwaitingReservationConfirmation
                | ProcessState::ReservationConfirmationReceived => {
                    p.state = ProcessState::Expired;
                    p.expiry_timer = None;
                    vec![
                        Output::RejectOrder { order },
                        Output::CancelSeatReservation {
                            conference,
                            reservation: order,
                        },
                    ]
                }
                // Payment already received: the order is being confirmed; let it finish.
                ProcessState::NotStarted
                | ProcessState::PaymentConfirmationReceived
                | ProcessState::FullyConfirmed
                | ProcessState::Expired
                | ProcessState::Cancelled => vec![],
            }
        }
    }
}

#[cfg(test)]
mod tests;
