use proptest::prelude::*;

use super::*;
use crate::aggregate::{execute, replay};
use crate::testing::AggregateTestExt;

const CONF: ConferenceId = ConferenceId::from_u128(1);
const OTHER_CONF: ConferenceId = ConferenceId::from_u128(2);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const WORKSHOP: SeatTypeId = SeatTypeId::from_u128(11);
const UNKNOWN: SeatTypeId = SeatTypeId::from_u128(99);
const A: OrderId = OrderId::from_u128(100);
const B: OrderId = OrderId::from_u128(101);

fn q(seat_type: SeatTypeId, quantity: u32) -> SeatQuantity {
    SeatQuantity {
        seat_type,
        quantity,
    }
}

fn d(seat_type: SeatTypeId, delta: i64) -> SeatDelta {
    SeatDelta { seat_type, delta }
}

fn added(seat_type: SeatTypeId, n: i64) -> Event {
    Event::AvailableSeatsChanged {
        conference: CONF,
        seats: vec![d(seat_type, n)],
    }
}

fn reserved(reservation: OrderId, details: Vec<SeatQuantity>, changed: Vec<SeatDelta>) -> Event {
    Event::SeatsReserved {
        conference: CONF,
        reservation,
        details,
        available_seats_changed: changed,
    }
}

fn reserve(reservation: OrderId, seats: Vec<SeatQuantity>) -> Command {
    Command::MakeReservation {
        conference: CONF,
        reservation,
        seats,
    }
}

#[test]
fn a_reservation_within_the_quota_is_granted_in_full() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(reserve(A, vec![q(GENERAL, 4)]))
        .then([reserved(A, vec![q(GENERAL, 4)], vec![d(GENERAL, -4)])]);
}

#[test]
fn a_reservation_beyond_what_is_left_is_granted_in_part() {
    SeatsAvailability::given([
        added(GENERAL, 10),
        reserved(B, vec![q(GENERAL, 8)], vec![d(GENERAL, -8)]),
    ])
    .when(reserve(A, vec![q(GENERAL, 5)]))
    .then([reserved(A, vec![q(GENERAL, 2)], vec![d(GENERAL, -2)])]);
}

#[test]
fn nothing_left_grants_nothing_but_still_answers() {
    SeatsAvailability::given([
        added(GENERAL, 1),
        reserved(B, vec![q(GENERAL, 1)], vec![d(GENERAL, -1)]),
    ])
    .when(reserve(A, vec![q(GENERAL, 3)]))
    .then([reserved(A, vec![], vec![])]);
}

#[test]
fn reserving_again_with_the_same_id_adjusts_instead_of_stacking() {
    let history = [
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 4)], vec![d(GENERAL, -4)]),
    ];
    SeatsAvailability::given(history.clone())
        .when(reserve(A, vec![q(GENERAL, 6)]))
        .then([reserved(A, vec![q(GENERAL, 6)], vec![d(GENERAL, -2)])]);
    SeatsAvailability::given(history)
        .when(reserve(A, vec![q(GENERAL, 1)]))
        .then([reserved(A, vec![q(GENERAL, 1)], vec![d(GENERAL, 3)])]);
}

#[test]
fn a_re_reservation_counts_the_seats_it_already_holds_as_available() {
    // 10 seats, A holds 8, 2 left: A may grow to 10 but no further.
    SeatsAvailability::given([
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 8)], vec![d(GENERAL, -8)]),
    ])
    .when(reserve(A, vec![q(GENERAL, 12)]))
    .then([reserved(A, vec![q(GENERAL, 10)], vec![d(GENERAL, -2)])]);
}

#[test]
fn seat_types_left_out_of_a_re_reservation_are_released() {
    SeatsAvailability::given([
        added(GENERAL, 10),
        added(WORKSHOP, 5),
        reserved(
            A,
            vec![q(GENERAL, 2), q(WORKSHOP, 1)],
            vec![d(GENERAL, -2), d(WORKSHOP, -1)],
        ),
    ])
    .when(reserve(A, vec![q(GENERAL, 2)]))
    .then([reserved(A, vec![q(GENERAL, 2)], vec![d(WORKSHOP, 1)])]);
}

#[test]
fn cancelling_returns_the_held_seats() {
    SeatsAvailability::given([
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 3)], vec![d(GENERAL, -3)]),
    ])
    .when(Command::CancelReservation {
        conference: CONF,
        reservation: A,
    })
    .then([Event::ReservationCancelled {
        conference: CONF,
        reservation: A,
        available_seats_changed: vec![d(GENERAL, 3)],
    }]);
}

#[test]
fn committing_makes_the_seats_permanent() {
    let given = SeatsAvailability::given([
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 3)], vec![d(GENERAL, -3)]),
    ]);
    let (state, events) = execute(
        given.state().clone(),
        &Command::CommitReservation {
            conference: CONF,
            reservation: A,
        },
    )
    .unwrap();
    assert_eq!(
        events,
        vec![Event::ReservationCommitted {
            conference: CONF,
            reservation: A
        }]
    );
    assert_eq!(state.remaining(GENERAL), Some(7));
    assert_eq!(state.committed.get(&GENERAL), Some(&3));
    assert!(state.pending.is_empty());
    // A committed reservation cannot be cancelled any more: the cancel is a no-op.
    assert_eq!(
        state.decide(&Command::CancelReservation {
            conference: CONF,
            reservation: A
        }),
        Ok(vec![])
    );
}

#[test]
fn commit_and_cancel_of_an_unknown_reservation_are_no_ops() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(Command::CommitReservation {
            conference: CONF,
            reservation: A,
        })
        .then_nothing();
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(Command::CancelReservation {
            conference: CONF,
            reservation: A,
        })
        .then_nothing();
}

#[test]
fn an_unknown_seat_type_is_an_error() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(reserve(A, vec![q(UNKNOWN, 1)]))
        .then_err(Error::UnknownSeatType(UNKNOWN));
}

#[test]
fn another_conferences_command_is_refused() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(Command::MakeReservation {
            conference: OTHER_CONF,
            reservation: A,
            seats: vec![q(GENERAL, 1)],
        })
        .then_err(Error::WrongConference {
            expected: CONF,
            got: OTHER_CONF,
        });
}

/// F9: the quota is cut below what is already held.
#[test]
fn a_quota_cut_below_the_holds_leaves_remaining_negative_and_keeps_the_holds() {
    let state: SeatsAvailability = replay(&[
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 8)], vec![d(GENERAL, -8)]),
        Event::AvailableSeatsChanged {
            conference: CONF,
            seats: vec![d(GENERAL, -6)],
        },
    ]);
    assert_eq!(state.remaining(GENERAL), Some(-4));
    assert_eq!(state.held_by(A).and_then(|h| h.get(&GENERAL)), Some(&8));
    // New requests get nothing.
    assert_eq!(
        state.decide(&reserve(B, vec![q(GENERAL, 1)])),
        Ok(vec![reserved(B, vec![], vec![])])
    );
    // The existing hold can shrink, never grow.
    assert_eq!(
        state.decide(&reserve(A, vec![q(GENERAL, 9)])),
        Ok(vec![reserved(A, vec![q(GENERAL, 8)], vec![])])
    );
}

#[test]
fn removing_more_seats_than_the_quota_is_refused() {
    SeatsAvailability::given([added(GENERAL, 3)])
        .when(Command::RemoveSeats {
            conference: CONF,
            seat_type: GENERAL,
            quantity: 4,
        })
        .then_err(Error::QuotaBelowZero {
            seat_type: GENERAL,
            quota: 3,
            requested: 4,
        });
}

#[test]
fn overbooking_is_explicit_needs_a_reason_and_is_visible() {
    let history = [
        added(GENERAL, 1),
        reserved(B, vec![q(GENERAL, 1)], vec![d(GENERAL, -1)]),
    ];
    SeatsAvailability::given(history.clone())
        .when(Command::Overbook {
            conference: CONF,
            reservation: A,
            seats: vec![q(GENERAL, 2)],
            reason: " ".into(),
        })
        .then_err(Error::OverbookWithoutReason);
    let events = SeatsAvailability::given(history.clone())
        .when(Command::Overbook {
            conference: CONF,
            reservation: A,
            seats: vec![q(GENERAL, 2)],
            reason: "standing room".into(),
        })
        .events();
    let state: SeatsAvailability = replay(history.iter().chain(&events));
    assert_eq!(state.remaining(GENERAL), Some(-2));
    assert_eq!(state.overbooked.get(&GENERAL), Some(&2));
    assert_eq!(state.held_by(A).and_then(|h| h.get(&GENERAL)), Some(&2));
}

// ---- properties ----

#[derive(Debug, Clone)]
enum Op {
    Add(usize, u32),
    Remove(usize, u32),
    Reserve(u128, Vec<(usize, u32)>),
    Cancel(u128),
    Commit(u128),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..6u32).prop_map(|(t, n)| Op::Add(t, n)),
        (0..2usize, 0..6u32).prop_map(|(t, n)| Op::Remove(t, n)),
        (
            0..5u128,
            proptest::collection::vec((0..2usize, 0..8u32), 0..3)
        )
            .prop_map(|(r, s)| Op::Reserve(r, s)),
        (0..5u128).prop_map(Op::Cancel),
        (0..5u128).prop_map(Op::Commit),
    ]
}

const TYPES: [SeatTypeId; 2] = [GENERAL, WORKSHOP];

fn command(op: &Op) -> Command {
    match op {
        Op::Add(t, n) => Command::AddSeats {
            conference: CONF,
            seat_type: TYPES[*t],
            quantity: *n,
        },
        Op::Remove(t, n) => Command::RemoveSeats {
            conference: CONF,
            seat_type: TYPES[*t],
            quantity: *n,
        },
        Op::Reserve(r, seats) => Command::MakeReservation {
            conference: CONF,
            reservation: OrderId::from_u128(1000 + r),
            seats: seats.iter().map(|(t, n)| q(TYPES[*t], *n)).collect(),
        },
        Op::Cancel(r) => Command::CancelReservation {
            conference: CONF,
            reservation: OrderId::from_u128(1000 + r),
        },
        Op::Commit(r) => Command::CommitReservation {
            conference: CONF,
            reservation: OrderId::from_u128(1000 + r),
        },
    }
}

fn held(state: &SeatsAvailability, t: SeatTypeId) -> i64 {
    state
        .pending
        .values()
        .map(|h| i64::from(h.get(&t).copied().unwrap_or(0)))
        .sum()
}

proptest! {
    /// Whatever happens, seats held plus seats sold never exceed the quota unless the quota was
    /// cut afterwards, a reservation never grows beyond what was left, and the books balance.
    #[test]
    fn never_grants_more_than_the_quota(ops in proptest::collection::vec(op(), 0..60)) {
        let mut state = SeatsAvailability::default();
        let mut history = Vec::new();
        let mut quota_was_cut = false;
        for op in &ops {
            let before = state.clone();
            let Ok((next, events)) = execute(state.clone(), &command(op)) else { continue };
            if matches!(op, Op::Remove(_, n) if *n > 0) {
                quota_was_cut = true;
            }
            for e in &events {
                if let Event::SeatsReserved { available_seats_changed, .. } = e {
                    for c in available_seats_changed {
                        // A grant (negative delta) never exceeds what was left before it.
                        prop_assert!(-c.delta <= before.remaining(c.seat_type).unwrap_or(0).max(0));
                    }
                }
                let overbooked = matches!(e, Event::SeatsOverbooked { .. });
                prop_assert!(!overbooked, "overbooked without being asked");
            }
            history.extend(events);
            state = next;
            for t in TYPES {
                let quota = state.quota.get(&t).copied().unwrap_or(0);
                let sold = state.committed.get(&t).copied().unwrap_or(0);
                prop_assert_eq!(state.remaining(t).unwrap_or(0), quota - held(&state, t) - sold);
                if !quota_was_cut {
                    prop_assert!(held(&state, t) + sold <= quota);
                    prop_assert!(state.remaining(t).unwrap_or(0) >= 0);
                }
            }
        }
        // Replaying the recorded events rebuilds exactly the same state.
        prop_assert_eq!(replay::<SeatsAvailability>(&history), state);
    }
}
