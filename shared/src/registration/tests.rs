use super::*;
use crate::money::{Currency, Money};
use crate::order::PaymentMethod;
use crate::testing::at;

const CONF: ConferenceId = ConferenceId::from_u128(1);
const ORDER: OrderId = OrderId::from_u128(7);
const PLACED: EventId = EventId::from_u128(500);
const UPDATED: EventId = EventId::from_u128(501);
const GENERAL: crate::ids::SeatTypeId = crate::ids::SeatTypeId::from_u128(10);

fn seats(n: u32) -> Vec<SeatQuantity> {
    vec![SeatQuantity {
        seat_type: GENERAL,
        quantity: n,
    }]
}

fn placed(now: Timestamp) -> Input {
    Input::OrderPlaced {
        event: PLACED,
        order: ORDER,
        conference: CONF,
        seats: seats(2),
        reservation_expires_at: at(9, 15),
        is_free_of_charge: false,
        now,
        expiry_grace: chrono::Duration::minutes(14),
    }
}

fn id(event: EventId) -> CommandId {
    CommandId::from_uuid(event.as_uuid())
}

fn run(inputs: &[Input]) -> RegistrationProcess {
    inputs.iter().fold(RegistrationProcess::default(), |p, i| {
        react(&p, i).mark_dispatched(usize::MAX)
    })
}

/// What reacting to `input` after `history` sends.
#[expect(
    clippy::needless_pass_by_value,
    reason = "tests read better building the input inline"
)]
fn sends(history: &[Input], input: Input) -> (ProcessState, Vec<Output>) {
    let p = react(&run(history), &input);
    (p.state, p.undispatched)
}

fn paid() -> Payment {
    Payment::Received {
        method: PaymentMethod::Card,
        amount: Money::new(39_800, Currency::EUR),
        reference: "psp".into(),
    }
}

#[test]
fn a_placed_order_reserves_seats_and_starts_its_expiry_timer() {
    assert_eq!(
        sends(&[], placed(at(9, 0))),
        (
            ProcessState::AwaitingReservationConfirmation,
            vec![
                Output::MakeSeatReservation {
                    id: id(PLACED),
                    conference: CONF,
                    reservation: ORDER,
                    seats: seats(2),
                    deadline: at(9, 15),
                },
                Output::ScheduleExpiry {
                    id: id(PLACED),
                    order: ORDER,
                    due_at: at(9, 29)
                },
            ]
        )
    );
}

/// The book's buffer: the window closes at 9:15 for the registrant, the seats stay until the
/// expiry fires at 9:29, and a payment that comes in between (the process knows no clock: any
/// payment before the timer) confirms the order; the timer then does nothing.
#[test]
fn a_payment_in_the_grace_after_the_window_still_confirms() {
    let history = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
    ];
    let (state, out) = sends(&history, Input::PaymentReceived { payment: paid() });
    assert_eq!(state, ProcessState::PaymentConfirmationReceived);
    assert_eq!(
        out,
        vec![Output::ConfirmOrder {
            order: ORDER,
            payment: paid()
        }]
    );
    let confirmed = [
        &history[..],
        &[
            Input::PaymentReceived { payment: paid() },
            Input::OrderConfirmed,
        ],
    ]
    .concat();
    assert_eq!(
        sends(&confirmed, Input::ExpiryDue { timer: id(PLACED) }),
        (ProcessState::FullyConfirmed, vec![])
    );
}

/// F4
#[test]
fn a_duplicate_order_placed_starts_nothing() {
    assert_eq!(
        sends(&[placed(at(9, 0))], placed(at(9, 1))),
        (ProcessState::AwaitingReservationConfirmation, vec![])
    );
}

/// F6: the window is over before the process starts.
#[test]
fn an_order_placed_after_its_window_is_rejected_at_once() {
    assert_eq!(
        sends(&[], placed(at(9, 20))),
        (
            ProcessState::Expired,
            vec![Output::RejectOrder { order: ORDER }]
        )
    );
}

#[test]
fn the_answer_to_the_reservation_marks_the_order_reserved() {
    assert_eq!(
        sends(
            &[placed(at(9, 0))],
            Input::SeatsReserved {
                correlation: id(PLACED),
                details: seats(2)
            }
        ),
        (
            ProcessState::ReservationConfirmationReceived,
            vec![Output::MarkSeatsAsReserved {
                order: ORDER,
                seats: seats(2),
                reservation_expires_at: at(9, 15)
            }]
        )
    );
}

/// F5: the registrant changed the order; the answer to the first request arrives late.
#[test]
fn only_the_answer_to_the_latest_request_is_honoured() {
    let history = [
        placed(at(9, 0)),
        Input::OrderUpdated {
            event: UPDATED,
            seats: seats(3),
            is_free_of_charge: false,
        },
    ];
    assert_eq!(
        sends(
            &history,
            Input::SeatsReserved {
                correlation: id(PLACED),
                details: seats(2)
            }
        ),
        (ProcessState::AwaitingReservationConfirmation, vec![])
    );
    assert_eq!(
        sends(
            &history,
            Input::SeatsReserved {
                correlation: id(UPDATED),
                details: seats(3)
            }
        )
        .1,
        vec![Output::MarkSeatsAsReserved {
            order: ORDER,
            seats: seats(3),
            reservation_expires_at: at(9, 15)
        }]
    );
}

#[test]
fn payment_confirms_and_confirmation_commits() {
    let history = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
    ];
    assert_eq!(
        sends(&history, Input::PaymentReceived { payment: paid() }),
        (
            ProcessState::PaymentConfirmationReceived,
            vec![Output::ConfirmOrder {
                order: ORDER,
                payment: paid()
            }]
        )
    );
    let mut all = history.to_vec();
    all.push(Input::PaymentReceived { payment: paid() });
    assert_eq!(
        sends(&all, Input::OrderConfirmed),
        (
            ProcessState::FullyConfirmed,
            vec![Output::CommitSeatReservation {
                conference: CONF,
                reservation: ORDER
            }]
        )
    );
}

#[test]
fn a_free_order_is_confirmed_as_soon_as_its_seats_are_reserved() {
    let free = Input::OrderPlaced {
        event: PLACED,
        order: ORDER,
        conference: CONF,
        seats: seats(1),
        reservation_expires_at: at(9, 15),
        is_free_of_charge: true,
        now: at(9, 0),
        expiry_grace: chrono::Duration::zero(),
    };
    assert_eq!(
        sends(
            &[free],
            Input::SeatsReserved {
                correlation: id(PLACED),
                details: seats(1)
            }
        ),
        (
            ProcessState::PaymentConfirmationReceived,
            vec![
                Output::MarkSeatsAsReserved {
                    order: ORDER,
                    seats: seats(1),
                    reservation_expires_at: at(9, 15)
                },
                Output::ConfirmOrder {
                    order: ORDER,
                    payment: Payment::NotRequired
                },
            ]
        )
    );
}

#[test]
fn expiry_before_payment_rejects_the_order_and_returns_the_seats() {
    let history = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
    ];
    assert_eq!(
        sends(&history, Input::ExpiryDue { timer: id(PLACED) }),
        (
            ProcessState::Expired,
            vec![
                Output::RejectOrder { order: ORDER },
                Output::CancelSeatReservation {
                    conference: CONF,
                    reservation: ORDER
                }
            ]
        )
    );
}

#[test]
fn a_superseded_or_late_timer_is_ignored() {
    let history = [placed(at(9, 0))];
    assert_eq!(
        sends(&history, Input::ExpiryDue { timer: id(UPDATED) }).1,
        vec![]
    );
    let confirmed = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
        Input::PaymentReceived { payment: paid() },
        Input::OrderConfirmed,
    ];
    assert_eq!(
        sends(&confirmed, Input::ExpiryDue { timer: id(PLACED) }),
        (ProcessState::FullyConfirmed, vec![])
    );
}

/// F6: the seats come back after the order already expired; they are released.
#[test]
fn a_reservation_that_arrives_after_expiry_is_released() {
    let history = [placed(at(9, 0)), Input::ExpiryDue { timer: id(PLACED) }];
    assert_eq!(
        sends(
            &history,
            Input::SeatsReserved {
                correlation: id(PLACED),
                details: seats(2)
            }
        )
        .1,
        vec![Output::CancelSeatReservation {
            conference: CONF,
            reservation: ORDER
        }]
    );
}

/// F8: the reservation expired while the payment was in flight.
#[test]
fn a_payment_after_expiry_goes_to_a_person() {
    let history = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
        Input::ExpiryDue { timer: id(PLACED) },
    ];
    assert_eq!(
        sends(&history, Input::PaymentReceived { payment: paid() }),
        (
            ProcessState::Expired,
            vec![Output::EscalatePayment {
                order: ORDER,
                payment: paid()
            }]
        )
    );
}

/// F8, the other way round: payment arrived first, so the timer must not expire the order.
#[test]
fn a_payment_received_before_the_timer_wins() {
    let history = [
        placed(at(9, 0)),
        Input::SeatsReserved {
            correlation: id(PLACED),
            details: seats(2),
        },
        Input::PaymentReceived { payment: paid() },
    ];
    assert_eq!(
        sends(&history, Input::ExpiryDue { timer: id(PLACED) }).1,
        vec![]
    );
}

/// F3: commands are data stored with the state until they are sent.
#[test]
fn undispatched_commands_stay_with_the_state_until_marked_sent() {
    let p = react(&RegistrationProcess::default(), &placed(at(9, 0)));
    assert_eq!(p.undispatched.len(), 2);
    let p = p.mark_dispatched(1);
    assert!(matches!(
        p.undispatched.as_slice(),
        [Output::ScheduleExpiry { .. }]
    ));
    // The same input gives the same commands: replay-safe.
    assert_eq!(
        react(&RegistrationProcess::default(), &placed(at(9, 0)))
            .undispatched
            .len(),
        2
    );
}

#[test]
fn a_cancelled_order_releases_its_seats() {
    assert_eq!(
        sends(&[placed(at(9, 0))], Input::OrderCancelled),
        (
            ProcessState::Cancelled,
            vec![Output::CancelSeatReservation {
                conference: CONF,
                reservation: ORDER
            }]
        )
    );
}
