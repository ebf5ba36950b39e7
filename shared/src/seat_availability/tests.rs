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

// ---- leases ----

const NORTH: crate::ids::DeviceId = crate::ids::DeviceId::from_u128(201);
const L1: LeaseId = LeaseId::from_u128(301);
const L2: LeaseId = LeaseId::from_u128(302);
const SALE: OrderId = OrderId::from_u128(401);

fn until() -> Timestamp {
    crate::testing::at(18, 0)
}

fn grant(lease: LeaseId, quantity: u32) -> Command {
    Command::GrantLease {
        conference: CONF,
        lease,
        desk: NORTH,
        seat_type: GENERAL,
        quantity,
        until: until(),
        venue: false,
    }
}

fn granted(lease: LeaseId, quantity: u32) -> Event {
    Event::LeaseGranted {
        conference: CONF,
        lease,
        desk: NORTH,
        seat_type: GENERAL,
        quantity,
        until: until(),
        venue: false,
    }
}

fn sell(lease: LeaseId, quantity: u32) -> Command {
    Command::SellFromLease {
        conference: CONF,
        lease,
        order: SALE,
        quantity,
    }
}

fn sold(lease: LeaseId, from_lease: u32, beyond_lease: u32) -> Event {
    Event::LeaseSold {
        conference: CONF,
        lease,
        order: SALE,
        seat_type: GENERAL,
        from_lease,
        beyond_lease,
    }
}

fn returned(lease: LeaseId, unsold: u32, why: LeaseEnd) -> Event {
    Event::LeaseReturned {
        conference: CONF,
        lease,
        seat_type: GENERAL,
        unsold,
        why,
    }
}

#[test]
fn a_lease_takes_its_seats_out_of_what_online_buyers_and_other_desks_can_have() {
    let state = SeatsAvailability::given([added(GENERAL, 10), granted(L1, 5)]);
    assert_eq!(state.state().remaining(GENERAL), Some(5));
    assert_eq!(state.state().leased(GENERAL), 5);
    // An online buyer gets only what is left.
    state.when(reserve(A, vec![q(GENERAL, 8)])).then([reserved(
        A,
        vec![q(GENERAL, 5)],
        vec![d(GENERAL, -5)],
    )]);
}

#[test]
fn a_lease_is_granted_whole_or_refused_with_what_is_left() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(grant(L1, 5))
        .then([granted(L1, 5)]);
    SeatsAvailability::given([
        added(GENERAL, 10),
        reserved(A, vec![q(GENERAL, 8)], vec![d(GENERAL, -8)]),
    ])
    .when(grant(L1, 5))
    .then_err(Error::NotEnoughToLease {
        seat_type: GENERAL,
        left: 2,
        wanted: 5,
    });
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(grant(L1, 0))
        .then_err(Error::EmptyLease);
    SeatsAvailability::given([added(GENERAL, 10), granted(L1, 2)])
        .when(grant(L1, 2))
        .then_err(Error::LeaseExists(L1));
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(Command::GrantLease {
            conference: CONF,
            lease: L1,
            desk: NORTH,
            seat_type: UNKNOWN,
            quantity: 1,
            until: until(),
            venue: false,
        })
        .then_err(Error::UnknownSeatType(UNKNOWN));
}

#[test]
fn a_sale_within_the_lease_is_committed_from_it_and_changes_nothing_else() {
    let state = SeatsAvailability::given([added(GENERAL, 10), granted(L1, 5)]);
    state.when(sell(L1, 3)).then([sold(L1, 3, 0)]);
    let after = SeatsAvailability::given([added(GENERAL, 10), granted(L1, 5), sold(L1, 3, 0)]);
    let s = after.state();
    assert_eq!(
        (
            s.remaining(GENERAL),
            s.leased(GENERAL),
            s.committed.get(&GENERAL)
        ),
        (Some(5), 2, Some(&3))
    );
}

#[test]
fn a_sale_beyond_the_lease_is_still_honoured_and_said_to_be_beyond() {
    // The desk sold 4 from a lease of 3 left (it sold one more than it held): never refused.
    SeatsAvailability::given([added(GENERAL, 10), granted(L1, 5), sold(L1, 2, 0)])
        .when(sell(L1, 4))
        .then([sold(L1, 3, 1)]);
}

#[test]
fn a_lease_returned_revoked_or_expired_gives_its_unsold_seats_back_once() {
    for why in [LeaseEnd::Returned, LeaseEnd::Revoked, LeaseEnd::Expired] {
        let given = [added(GENERAL, 10), granted(L1, 5), sold(L1, 2, 0)];
        SeatsAvailability::given(given.clone())
            .when(Command::ReturnLease {
                conference: CONF,
                lease: L1,
                why,
            })
            .then([returned(L1, 3, why)]);
        let mut ended = given.to_vec();
        ended.push(returned(L1, 3, why));
        let state = SeatsAvailability::given(ended.clone());
        assert_eq!(state.state().remaining(GENERAL), Some(8));
        assert_eq!(state.state().leased(GENERAL), 0);
        state
            .when(Command::ReturnLease {
                conference: CONF,
                lease: L1,
                why,
            })
            .then_nothing();
    }
}

#[test]
fn a_sale_the_desk_made_before_it_heard_of_the_revocation_stays_sold() {
    // Revoked while the desk was offline; it had sold 2 from it meanwhile: both stand, taken
    // from what is left (here: below zero, as a quota cut would leave it).
    let state = SeatsAvailability::given([
        added(GENERAL, 5),
        granted(L1, 5),
        returned(L1, 5, LeaseEnd::Revoked),
        reserved(A, vec![q(GENERAL, 5)], vec![d(GENERAL, -5)]),
    ]);
    state.when(sell(L1, 2)).then([sold(L1, 0, 2)]);
    let after = SeatsAvailability::given([
        added(GENERAL, 5),
        granted(L1, 5),
        returned(L1, 5, LeaseEnd::Revoked),
        reserved(A, vec![q(GENERAL, 5)], vec![d(GENERAL, -5)]),
        sold(L1, 0, 2),
    ]);
    assert_eq!(after.state().remaining(GENERAL), Some(-2));
}

#[test]
fn a_quota_cut_below_what_is_leased_keeps_the_lease() {
    let state = SeatsAvailability::given([
        added(GENERAL, 10),
        granted(L1, 5),
        granted(L2, 4),
        added(GENERAL, -6),
    ]);
    assert_eq!(state.state().remaining(GENERAL), Some(-5));
    assert_eq!(state.state().leased(GENERAL), 9);
    state.when(sell(L2, 4)).then([sold(L2, 4, 0)]);
}

#[test]
fn an_unknown_lease_cannot_be_sold_from_or_returned() {
    SeatsAvailability::given([added(GENERAL, 10)])
        .when(sell(L1, 1))
        .then_err(Error::UnknownLease(L1));
}

#[derive(Debug, Clone)]
enum LeaseOp {
    Seats(Op),
    Grant(u128, u32),
    /// A desk's sale from a lease, made while it held this many unsold (as it knew them).
    Sell(u128, u32),
    End(u128, u8),
}

fn lease_op() -> impl Strategy<Value = LeaseOp> {
    prop_oneof![
        op().prop_map(LeaseOp::Seats),
        (0..3u128, 1..6u32).prop_map(|(l, n)| LeaseOp::Grant(l, n)),
        (0..3u128, 1..4u32).prop_map(|(l, n)| LeaseOp::Sell(l, n)),
        (0..3u128, 0..3u8).prop_map(|(l, w)| LeaseOp::End(l, w)),
    ]
}

proptest! {
    /// Random interleavings of online reservations, quota changes, lease grants, desk sales
    /// and lease ends: the books balance (remaining = quota − held − sold − leased), nothing
    /// beyond the quota is granted unless the quota was cut or a desk sold after its lease
    /// ended, a sale the desk made within what its lease still covered is committed from it
    /// whole, and no desk sale is ever refused.
    #[test]
    fn leases_never_oversell_and_never_refuse_a_sale_within_them(
        ops in proptest::collection::vec(lease_op(), 0..80)
    ) {
        let mut state = SeatsAvailability::default();
        let mut history = Vec::new();
        let mut cut_or_beyond = false;
        for op in &ops {
            let command = match op {
                LeaseOp::Seats(o) => {
                    if matches!(o, Op::Remove(_, n) if *n > 0) {
                        cut_or_beyond = true;
                    }
                    command(o)
                }
                LeaseOp::Grant(l, n) => Command::GrantLease {
                    conference: CONF,
                    lease: LeaseId::from_u128(5000 + l),
                    desk: NORTH,
                    seat_type: GENERAL,
                    quantity: *n,
                    until: until(),
                    venue: false,
                },
                LeaseOp::Sell(l, n) => Command::SellFromLease {
                    conference: CONF,
                    lease: LeaseId::from_u128(5000 + l),
                    order: OrderId::from_u128(6000 + history.len() as u128),
                    quantity: *n,
                },
                LeaseOp::End(l, w) => Command::ReturnLease {
                    conference: CONF,
                    lease: LeaseId::from_u128(5000 + l),
                    why: [LeaseEnd::Returned, LeaseEnd::Revoked, LeaseEnd::Expired][usize::from(*w)],
                },
            };
            let unsold_before = match op {
                LeaseOp::Sell(l, _) => state.leases.get(&LeaseId::from_u128(5000 + l)).map(Lease::unsold),
                _ => None,
            };
            let decided = execute(state.clone(), &command);
            if let (LeaseOp::Sell(_, n), Some(unsold)) = (op, unsold_before) {
                let (_, events) = decided.clone().expect("a sale from a known lease is never refused");
                let Some(Event::LeaseSold { from_lease, beyond_lease, .. }) = events.first() else {
                    panic!("{events:?}");
                };
                prop_assert_eq!(from_lease + beyond_lease, *n);
                if *n <= unsold {
                    prop_assert_eq!(*beyond_lease, 0, "a sale within the lease comes from it whole");
                } else {
                    cut_or_beyond = true;
                }
            }
            let Ok((next, events)) = decided else { continue };
            history.extend(events);
            state = next;
            for t in TYPES {
                let quota = state.quota.get(&t).copied().unwrap_or(0);
                let sold = state.committed.get(&t).copied().unwrap_or(0);
                prop_assert_eq!(
                    state.remaining(t).unwrap_or(0),
                    quota - held(&state, t) - sold - state.leased(t)
                );
                if !cut_or_beyond {
                    prop_assert!(state.remaining(t).unwrap_or(0) >= 0);
                }
            }
        }
        prop_assert_eq!(replay::<SeatsAvailability>(&history), state);
    }
}

#[test]
fn a_venue_lease_says_so_and_a_lease_granted_before_venue_leases_is_a_desks() {
    let venue = Event::LeaseGranted {
        conference: CONF,
        lease: L1,
        desk: NORTH,
        seat_type: GENERAL,
        quantity: 3,
        until: until(),
        venue: true,
    };
    let json = serde_json::to_value(&venue).unwrap();
    assert_eq!(json["payload"]["venue"], true);
    let state = SeatsAvailability::default()
        .evolve(&Event::AvailableSeatsChanged {
            conference: CONF,
            seats: vec![SeatDelta {
                seat_type: GENERAL,
                delta: 10,
            }],
        })
        .evolve(&venue);
    assert!(state.leases[&L1].venue);
    // A desk's lease is written as before venue leases existed, and read back as a desk's.
    let desk = serde_json::to_value(granted(L1, 3)).unwrap();
    assert!(desk["payload"].get("venue").is_none(), "{desk}");
    let back: Event = serde_json::from_value(desk).unwrap();
    assert_eq!(back, granted(L1, 3));
}
