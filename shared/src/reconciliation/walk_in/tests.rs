use super::*;
use crate::aggregate::Aggregate;
use crate::testing::at;
use crate::walk_in::tests::{
    CONFLICT, DESK_A, DESK_B, GENERAL, SALE_A, SALE_B, STANDING, conference, eur, recorded,
    seats_with, sell, ticket,
};
use crate::walk_in::{Command, SaleStatus};

fn authority<'a>(conference: &'a Conference, seats: &'a SeatsAvailability) -> Authority<'a> {
    Authority {
        conference,
        seats,
        conflict: CONFLICT,
        now: at(10, 0),
        vouched: &[],
    }
}

fn outcome(events: &[AnyEvent]) -> &Event {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            AnyEvent::WalkIn(
                w @ (Event::Confirmed { .. }
                | Event::PartiallyConfirmed { .. }
                | Event::Rejected { .. }),
            ) => Some(w),
            _ => None,
        })
        .expect("an outcome")
}

fn apply_seats(seats: &SeatsAvailability, events: &[AnyEvent]) -> SeatsAvailability {
    events.iter().fold(seats.clone(), |s, e| match e {
        AnyEvent::Seats(e) => crate::aggregate::Aggregate::evolve(s, e),
        _ => s,
    })
}

#[test]
fn a_sale_with_seats_still_there_is_confirmed_as_a_normal_order() {
    let conf = conference(10);
    let seats = seats_with(5);
    let sale = recorded(sell(
        SALE_A,
        DESK_A,
        5,
        vec![ticket(1, GENERAL, "Ann")],
        19_900,
    ));
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert_eq!(
        outcome(&events),
        &Event::Confirmed {
            order: SALE_A,
            tickets: vec![TicketId::from_u128(701)],
            overbooked: vec![]
        }
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AnyEvent::Order(order::Event::Confirmed { .. })))
    );
    assert!(events.iter().any(|e| matches!(
        e,
        AnyEvent::SeatAssignments(seat_assignments::Event::Assigned { .. })
    )));
    assert!(!events.iter().any(|e| matches!(e, AnyEvent::Conflict(_))));
    let after = apply_seats(&seats, &events);
    assert_eq!(after.remaining(GENERAL), Some(4));
    assert_eq!(after.committed.get(&GENERAL), Some(&1));
}

/// F7: two offline desks sold the last seat; the server grants one and compensates the other.
#[test]
fn two_desks_selling_the_last_seat_one_wins_the_other_is_compensated() {
    let conf = conference(10);
    let seats = seats_with(1);
    let a = recorded(sell(
        SALE_A,
        DESK_A,
        1,
        vec![ticket(1, GENERAL, "Ann")],
        20_000,
    ));
    let b = recorded(sell(
        SALE_B,
        DESK_B,
        1,
        vec![ticket(2, GENERAL, "Bob")],
        19_900,
    ));

    let first = reconcile(&a, authority(&conf, &seats)).unwrap();
    let seats = apply_seats(&seats, &first);
    assert!(matches!(outcome(&first), Event::Confirmed { .. }));

    let second = reconcile(&b, authority(&conf, &seats)).unwrap();
    assert_eq!(
        outcome(&second),
        &Event::Rejected {
            order: SALE_B,
            withdrawn: vec![TicketId::from_u128(702)],
            refund_due: eur(19_900),
            reason: RejectReason::SeatsGone,
            conflict: CONFLICT,
        }
    );
    assert!(second.iter().any(|e| matches!(
        e,
        AnyEvent::Conflict(conflict::Event::Opened { kind: ConflictKind::WalkInRejected { refund_due, .. }, .. })
            if *refund_due == eur(19_900)
    )));
    assert!(
        second
            .iter()
            .any(|e| matches!(e, AnyEvent::Order(order::Event::Cancelled { .. })))
    );
    let seats = apply_seats(&seats, &second);
    assert_eq!(seats.remaining(GENERAL), Some(0));
    assert_eq!(
        seats.committed.get(&GENERAL),
        Some(&1),
        "never more sold than the quota"
    );
}

#[test]
fn a_sale_that_only_partly_fits_keeps_the_first_tickets_and_refunds_the_rest() {
    let conf = conference(10);
    let seats = seats_with(1);
    let sale = recorded(sell(
        SALE_A,
        DESK_A,
        2,
        vec![ticket(1, GENERAL, "Ann"), ticket(2, GENERAL, "Bob")],
        40_000,
    ));
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert_eq!(
        outcome(&events),
        &Event::PartiallyConfirmed {
            order: SALE_A,
            confirmed: vec![TicketId::from_u128(701)],
            withdrawn: vec![TicketId::from_u128(702)],
            refund_due: eur(19_900),
            reason: RejectReason::SeatsGone,
            conflict: CONFLICT,
        }
    );
    let assigned = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AnyEvent::SeatAssignments(seat_assignments::Event::Assigned { .. })
            )
        })
        .count();
    assert_eq!(assigned, 1);
}

#[test]
fn a_standing_room_sale_beyond_the_quota_is_honoured_as_an_explicit_overbooking() {
    let conf = conference(10);
    let seats = seats_with(0);
    let sale = recorded(sell(
        SALE_A,
        DESK_A,
        0,
        vec![ticket(1, STANDING, "Ann")],
        19_900,
    ));
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    let one_standing = vec![SeatQuantity {
        seat_type: STANDING,
        quantity: 1,
    }];
    assert_eq!(
        outcome(&events),
        &Event::Confirmed {
            order: SALE_A,
            tickets: vec![TicketId::from_u128(701)],
            overbooked: one_standing
        }
    );
    assert!(events.iter().any(|e| matches!(
        e,
        AnyEvent::Seats(seat_availability::Event::SeatsOverbooked { .. })
    )));
    assert_eq!(
        apply_seats(&seats, &events).overbooked.get(&STANDING),
        Some(&1)
    );
}

/// F10: the seat type disappeared while the desk was offline.
#[test]
fn a_sale_of_a_seat_type_the_server_does_not_have_is_rejected() {
    let conf = conference(10);
    let seats = seats_with(5);
    let mut sale = recorded(sell(
        SALE_A,
        DESK_A,
        5,
        vec![ticket(1, GENERAL, "Ann")],
        19_900,
    ));
    let gone = SeatTypeId::from_u128(77);
    sale.tickets[0].seat_type = gone;
    sale.lines[0].seat_type = gone;
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert!(matches!(
        outcome(&events),
        Event::Rejected {
            reason: RejectReason::UnknownSeatType,
            ..
        }
    ));
}

#[test]
fn a_complimentary_sale_that_is_rejected_owes_no_refund_but_still_needs_a_person() {
    let conf = conference(10);
    let seats = seats_with(0);
    let mut command = sell(SALE_A, DESK_A, 1, vec![ticket(1, GENERAL, "Ann")], 0);
    let Command::Sell { payment_method, .. } = &mut command;
    *payment_method = PaymentMethod::Complimentary;
    let sale = recorded(command);
    assert_eq!(sale.total, eur(0));
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert!(matches!(outcome(&events), Event::Rejected { refund_due, .. } if refund_due.is_zero()));
    assert!(events.iter().any(|e| matches!(e, AnyEvent::Conflict(_))));
}

#[test]
fn head_office_can_honour_a_rejected_sale_by_overbooking() {
    let conf = conference(10);
    let seats = seats_with(0);
    let sale = recorded(sell(
        SALE_A,
        DESK_A,
        1,
        vec![ticket(1, GENERAL, "Ann")],
        19_900,
    ));
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    let seats = apply_seats(&seats, &events);
    let state: WalkInSale = events
        .iter()
        .filter_map(|e| match e {
            AnyEvent::WalkIn(w) => Some(w),
            _ => None,
        })
        .fold(WalkInSale::default(), |s, e| s.evolve(e));
    assert_eq!(state.status, SaleStatus::Rejected);
    let honoured = honour(&state, &seats, "head office: extra chairs").unwrap();
    let seats = apply_seats(&seats, &honoured);
    assert_eq!(seats.committed.get(&GENERAL), Some(&1));
    assert_eq!(seats.overbooked.get(&GENERAL), Some(&1));
    assert!(
        honoured
            .iter()
            .any(|e| matches!(e, AnyEvent::WalkIn(Event::Honoured { .. })))
    );
}

// ---- leases ----

use crate::aggregate::execute;
use crate::ids::{DeviceId, LeaseId, OrderId};
use crate::seat_availability::{Command as SeatsCommand, LeaseEnd};
use crate::walk_in::tests::{LEASE_A, with_leases};

fn run(seats: SeatsAvailability, command: &SeatsCommand) -> SeatsAvailability {
    execute(seats, command)
        .expect("the seats command is decided")
        .0
}

/// `quota` seats of General, `leased` of them held by desk A, and every other one sold online.
fn leased_and_the_rest_sold_online(quota: i64, leased: u32) -> SeatsAvailability {
    let seats = run(
        seats_with(quota),
        &SeatsCommand::GrantLease {
            conference: crate::walk_in::tests::CONF,
            lease: LEASE_A,
            desk: DESK_A,
            seat_type: GENERAL,
            quantity: leased,
            until: at(18, 0),
            venue: false,
        },
    );
    let rest = u32::try_from(seats.remaining(GENERAL).unwrap()).unwrap();
    sold_online(seats, OrderId::from_u128(777), rest)
}

/// `seats` after an online buyer's order `order` took `quantity` General seats for good.
fn sold_online(seats: SeatsAvailability, order: OrderId, quantity: u32) -> SeatsAvailability {
    let seats = run(
        seats,
        &SeatsCommand::MakeReservation {
            conference: crate::walk_in::tests::CONF,
            reservation: order,
            seats: vec![SeatQuantity {
                seat_type: GENERAL,
                quantity,
            }],
        },
    );
    run(
        seats,
        &SeatsCommand::CommitReservation {
            conference: crate::walk_in::tests::CONF,
            reservation: order,
        },
    )
}

fn sale_from_lease(n: u128, lease_left: u32) -> crate::walk_in::Sale {
    let tickets = (1..=n).map(|i| ticket(i, GENERAL, "Ann")).collect();
    let price = 19_900 * i64::try_from(n).unwrap();
    recorded(with_leases(
        // The desk's view is stale: it believes one seat beyond the lease is left.
        sell(SALE_A, DESK_A, 1, tickets, price),
        &[(LEASE_A, GENERAL, lease_left)],
    ))
}

#[test]
fn a_sale_within_the_desks_lease_is_confirmed_though_online_buyers_took_every_other_seat() {
    let seats = leased_and_the_rest_sold_online(10, 5);
    assert_eq!(seats.remaining(GENERAL), Some(0));
    let conf = conference(10);
    let sale = sale_from_lease(5, 5);
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert!(matches!(outcome(&events), Event::Confirmed { tickets, .. } if tickets.len() == 5));
    assert!(events.iter().any(|e| matches!(
        e,
        AnyEvent::Seats(seat_availability::Event::LeaseSold {
            from_lease: 5,
            beyond_lease: 0,
            ..
        })
    )));
    assert!(!events.iter().any(|e| matches!(e, AnyEvent::Conflict(_))));
    let after = apply_seats(&seats, &events);
    assert_eq!(after.remaining(GENERAL), Some(0), "nothing oversold");
    assert_eq!(after.committed.get(&GENERAL), Some(&10));
    assert_eq!(after.leased(GENERAL), 0);
}

#[test]
fn the_seat_sold_beyond_the_lease_is_provisional_and_compensated_alone() {
    let seats = leased_and_the_rest_sold_online(10, 5);
    let conf = conference(10);
    let sale = sale_from_lease(6, 5);
    assert_eq!(sale.final_tickets().len(), 5);
    let events = reconcile(&sale, authority(&conf, &seats)).unwrap();
    assert_eq!(
        outcome(&events),
        &Event::PartiallyConfirmed {
            order: SALE_A,
            confirmed: (701..=705).map(TicketId::from_u128).collect(),
            withdrawn: vec![TicketId::from_u128(706)],
            refund_due: eur(19_900),
            reason: RejectReason::SeatsGone,
            conflict: CONFLICT,
        }
    );
    let after = apply_seats(&seats, &events);
    assert_eq!(
        after.committed.get(&GENERAL),
        Some(&10),
        "never beyond the quota"
    );
}

#[test]
fn a_sale_made_before_the_desk_heard_of_a_revocation_stays_sold() {
    let seats = run(
        leased_and_the_rest_sold_online(10, 5),
        &SeatsCommand::ReturnLease {
            conference: crate::walk_in::tests::CONF,
            lease: LEASE_A,
            why: LeaseEnd::Revoked,
        },
    );
    assert_eq!(
        seats.remaining(GENERAL),
        Some(5),
        "the revoked seats went back"
    );
    // Online buyers take the five that came back before the desk's sale arrives.
    let seats = sold_online(seats, OrderId::from_u128(778), 5);
    let conf = conference(10);
    let events = reconcile(&sale_from_lease(2, 5), authority(&conf, &seats)).unwrap();
    assert!(matches!(outcome(&events), Event::Confirmed { .. }));
    assert!(events.iter().any(|e| matches!(
        e,
        AnyEvent::Seats(seat_availability::Event::LeaseSold {
            from_lease: 0,
            beyond_lease: 2,
            ..
        })
    )));
    let after = apply_seats(&seats, &events);
    assert_eq!(
        after.remaining(GENERAL),
        Some(-2),
        "the physical fact stands; head office sees the overbooking"
    );
}

#[test]
fn a_claim_beyond_what_the_lease_covered_or_after_its_end_is_decided_like_any_sale() {
    let conf = conference(10);
    // The lease held 2; the desk claims 3 from it.
    let seats = leased_and_the_rest_sold_online(10, 2);
    let mut greedy = sale_from_lease(3, 3);
    greedy.from_leases[0].quantity = 3;
    let events = reconcile(&greedy, authority(&conf, &seats)).unwrap();
    assert!(
        matches!(outcome(&events), Event::PartiallyConfirmed { confirmed, withdrawn, .. }
            if confirmed.len() == 2 && withdrawn.len() == 1)
    );
    // A claim dated after the lease's end takes nothing from it.
    let mut late = sale_from_lease(1, 2);
    late.sold_at = at(18, 0);
    let events = reconcile(&late, authority(&conf, &seats)).unwrap();
    assert!(matches!(outcome(&events), Event::Rejected { .. }));
    assert!(!events.iter().any(|e| matches!(
        e,
        AnyEvent::Seats(seat_availability::Event::LeaseSold { .. })
    )));
}

#[test]
fn a_claim_on_a_lease_the_desk_does_not_hold_is_refused() {
    let seats = leased_and_the_rest_sold_online(10, 2);
    let sale = sale_from_lease(1, 2);
    assert_eq!(check_leases(&sale, &seats), Ok(()));
    let other_desk = crate::walk_in::Sale {
        desk: DeviceId::from_u128(999),
        ..sale.clone()
    };
    let mut other_type = sale.clone();
    other_type.from_leases[0].seat_type = STANDING;
    let mut unknown = sale;
    unknown.from_leases[0].lease = LeaseId::from_u128(4040);
    for forged in [other_desk, other_type, unknown] {
        assert_eq!(
            check_leases(&forged, &seats).map_err(|e| e.code()),
            Err("walk_in.lease_not_held")
        );
    }
}

mod interleavings {
    use proptest::prelude::*;

    use super::*;
    use crate::walk_in::{HeldLease, WalkInSale};

    #[derive(Debug, Clone)]
    enum Op {
        /// An online buyer takes up to this many seats.
        Online(u32),
        /// Head office grants desk A a lease of this many seats (refused when too few are left).
        Grant(u32),
        /// Head office revokes desk A's newest open lease; the desk is offline and not told.
        Revoke,
        /// Head office cuts the quota.
        Cut(u32),
        /// Desk A syncs its view (its pushed sales are decided first).
        Sync,
        /// Desk A sells this many seats, offline, as its view allows.
        Sell(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1..4u32).prop_map(Op::Online),
            (1..5u32).prop_map(Op::Grant),
            Just(Op::Revoke),
            (1..3u32).prop_map(Op::Cut),
            Just(Op::Sync),
            (1..4u32).prop_map(Op::Sell),
        ]
    }

    const CONF: crate::ids::ConferenceId = crate::walk_in::tests::CONF;
    const QUOTA: i64 = 12;

    struct Desk {
        leases: Vec<HeldLease>,
        remaining: i64,
        outbox: Vec<crate::walk_in::Sale>,
    }

    /// Decides the desk's queued sales on the server, checking each outcome.
    fn push_all(desk: &mut Desk, seats: &mut SeatsAvailability, conf: &Conference) {
        for sale in desk.outbox.drain(..) {
            let events = reconcile(&sale, authority(conf, seats)).expect("reconciled");
            let kept: Vec<TicketId> = match outcome(&events) {
                Event::Confirmed { tickets, .. } => tickets.clone(),
                Event::PartiallyConfirmed { confirmed, .. } => confirmed.clone(),
                _ => vec![],
            };
            for t in sale.final_tickets() {
                assert!(kept.contains(&t), "a final ticket {t} was compensated");
            }
            *seats = apply_seats(seats, &events);
            let beyond: i64 = seats.leases.values().map(|l| i64::from(l.beyond)).sum();
            let sold = seats.committed.get(&GENERAL).copied().unwrap_or(0);
            assert!(
                sold - beyond <= QUOTA,
                "{sold} sold, {beyond} of them after a lease ended, quota {QUOTA}"
            );
        }
    }

    proptest! {
        /// Online orders, grants, revocations, quota cuts and a desk selling offline from its
        /// leases and beyond them, in any order: a ticket the desk sold within a lease it held
        /// is never compensated, and nothing is sold beyond the quota except what a desk sold
        /// from a lease that had ended without its knowing.
        #[test]
        fn a_sale_within_a_held_lease_is_never_compensated(
            ops in proptest::collection::vec(op(), 0..40)
        ) {
            let conf = conference(u32::try_from(QUOTA).unwrap());
            let mut seats = seats_with(QUOTA);
            let mut desk = Desk { leases: vec![], remaining: QUOTA, outbox: vec![] };
            let mut n: u128 = 0;
            for op in ops {
                n += 1;
                match op {
                    Op::Online(k) => {
                        let order = OrderId::from_u128(5_000 + n);
                        let want = k.min(u32::try_from(seats.remaining(GENERAL).unwrap_or(0).max(0)).unwrap());
                        if want == 0 {
                            continue;
                        }
                        seats = run(seats, &SeatsCommand::MakeReservation {
                            conference: CONF,
                            reservation: order,
                            seats: vec![SeatQuantity { seat_type: GENERAL, quantity: want }],
                        });
                        seats = run(seats, &SeatsCommand::CommitReservation { conference: CONF, reservation: order });
                    }
                    Op::Grant(k) => {
                        let lease = LeaseId::from_u128(8_000 + n);
                        if let Ok((next, _)) = execute(seats.clone(), &SeatsCommand::GrantLease {
                            conference: CONF,
                            lease,
                            desk: DESK_A,
                            seat_type: GENERAL,
                            quantity: k,
                            until: at(18, 0),
                            venue: false,
                        }) {
                            seats = next;
                            // Granted online: the desk hears of it at once.
                            desk.leases.push(HeldLease { lease, seat_type: GENERAL, left: k, until: at(18, 0) });
                        }
                    }
                    Op::Revoke => {
                        let open = seats.leases.iter().rev().find(|(_, l)| l.ended.is_none()).map(|(id, _)| *id);
                        if let Some(lease) = open {
                            seats = run(seats, &SeatsCommand::ReturnLease { conference: CONF, lease, why: LeaseEnd::Revoked });
                        }
                    }
                    Op::Cut(k) => {
                        let cut = SeatsCommand::RemoveSeats { conference: CONF, seat_type: GENERAL, quantity: k };
                        if let Ok((next, _)) = execute(seats.clone(), &cut) {
                            seats = next;
                        }
                    }
                    Op::Sync => {
                        push_all(&mut desk, &mut seats, &conf);
                        desk.remaining = seats.remaining(GENERAL).unwrap_or(0);
                        desk.leases.retain(|h| seats.leases.get(&h.lease).is_some_and(|l| l.ended.is_none()));
                    }
                    Op::Sell(k) => {
                        let tickets = (1..=u128::from(k)).map(|i| ticket(n * 100 + i, GENERAL, "Ann")).collect();
                        let command = Command::Sell {
                            view: crate::walk_in::DeskView {
                                conference: Some(conf.clone()),
                                remaining: [(GENERAL, desk.remaining)].into(),
                                leases: desk.leases.clone(),
                            },
                            conference: CONF,
                            order: OrderId::from_u128(9_000 + n),
                            desk: DESK_A,
                            sold_at: at(9, 5),
                            tickets,
                            payment_method: crate::order::PaymentMethod::Cash,
                            amount_taken: eur(19_900 * i64::from(k)),
                        };
                        let Ok(events) = WalkInSale::default().decide(&command) else {
                            continue;
                        };
                        let Some(crate::walk_in::Event::SaleRecorded { sale }) = events.into_iter().next() else {
                            continue;
                        };
                        for claim in &sale.from_leases {
                            if let Some(h) = desk.leases.iter_mut().find(|h| h.lease == claim.lease) {
                                h.left -= claim.quantity;
                            }
                        }
                        desk.remaining -= i64::from(k - sale.from_lease(GENERAL));
                        desk.outbox.push(sale);
                    }
                }
            }
            push_all(&mut desk, &mut seats, &conf);
        }
    }
}

// ---- venue leases (held by a relay for the desks behind it) ----

const RELAY: DeviceId = DeviceId::from_u128(950);
const OTHER_RELAY: DeviceId = DeviceId::from_u128(951);

/// `quota` General seats, `leased` of them held by the relay for the venue, every other one
/// sold online.
fn venue_leased_and_the_rest_sold_online(quota: i64, leased: u32) -> SeatsAvailability {
    let seats = run(
        seats_with(quota),
        &SeatsCommand::GrantLease {
            conference: crate::walk_in::tests::CONF,
            lease: LEASE_A,
            desk: RELAY,
            seat_type: GENERAL,
            quantity: leased,
            until: at(18, 0),
            venue: true,
        },
    );
    let rest = u32::try_from(seats.remaining(GENERAL).unwrap()).unwrap();
    sold_online(seats, OrderId::from_u128(777), rest)
}

fn handed(quantity: u32) -> crate::protocol::VenueAllocation {
    crate::protocol::VenueAllocation {
        order: SALE_A,
        lease: LEASE_A,
        seat_type: GENERAL,
        quantity,
        until: at(18, 0),
    }
}

/// When: the server reconciles `sale` as forwarded by `relay`, vouching for `allocations`.
fn forwarded_by(
    relay: Option<DeviceId>,
    allocations: &[crate::protocol::VenueAllocation],
    sale: &crate::walk_in::Sale,
    seats: &SeatsAvailability,
) -> Vec<AnyEvent> {
    let conf = conference(10);
    let vouched: Vec<Vouched> = relay
        .into_iter()
        .flat_map(|relay| {
            allocations
                .iter()
                .map(move |&allocation| Vouched { relay, allocation })
        })
        .collect();
    reconcile(
        sale,
        Authority {
            vouched: &vouched,
            ..authority(&conf, seats)
        },
    )
    .unwrap()
}

#[test]
fn a_sale_from_the_venue_lease_forwarded_by_its_relay_is_final() {
    let seats = venue_leased_and_the_rest_sold_online(10, 3);
    let sale = sale_from_lease(2, 2);
    assert!(
        check_leases(&sale, &seats).is_ok(),
        "a venue lease is any desk's to claim"
    );
    let allocations = [handed(2)];
    let events = forwarded_by(Some(RELAY), &allocations, &sale, &seats);
    assert!(matches!(outcome(&events), Event::Confirmed { tickets, .. } if tickets.len() == 2));
    let after = apply_seats(&seats, &events);
    assert_eq!(after.remaining(GENERAL), Some(0), "nothing oversold");
    assert_eq!(after.leases[&LEASE_A].sold, 2);
    assert_eq!(after.leased(GENERAL), 1);
}

#[test]
fn a_venue_lease_claim_is_worth_only_what_its_relay_vouches_for() {
    let seats = venue_leased_and_the_rest_sold_online(10, 3);
    // The desk claims three; the relay handed it one.
    let sale = sale_from_lease(3, 3);
    let allocations = [handed(1)];
    let events = forwarded_by(Some(RELAY), &allocations, &sale, &seats);
    assert!(matches!(
        outcome(&events),
        Event::PartiallyConfirmed { confirmed, withdrawn, .. }
            if confirmed.len() == 1 && withdrawn.len() == 2
    ));
    assert_eq!(apply_seats(&seats, &events).leases[&LEASE_A].sold, 1);
}

#[test]
fn a_venue_lease_claim_nobody_vouches_for_is_decided_like_any_other_seat() {
    let seats = venue_leased_and_the_rest_sold_online(10, 3);
    let sale = sale_from_lease(2, 2);
    let allocations = [handed(2)];
    for (relay, why) in [
        (None, "pushed straight upstream"),
        (
            Some(OTHER_RELAY),
            "forwarded by a relay that does not hold the lease",
        ),
        (Some(DESK_A), "the desk itself"),
    ] {
        let events = forwarded_by(relay, &allocations, &sale, &seats);
        assert!(
            matches!(outcome(&events), Event::Rejected { withdrawn, .. } if withdrawn.len() == 2),
            "{why}"
        );
        let after = apply_seats(&seats, &events);
        assert_eq!(after.leases[&LEASE_A].sold, 0, "{why}");
        assert_eq!(after.leased(GENERAL), 3, "{why}: the lease keeps its seats");
    }
    // Vouched for another order: not this sale's.
    let other = [crate::protocol::VenueAllocation {
        order: SALE_B,
        ..handed(2)
    }];
    let events = forwarded_by(Some(RELAY), &other, &sale, &seats);
    assert!(matches!(outcome(&events), Event::Rejected { .. }));
}

#[test]
fn a_desk_lease_is_still_only_its_own_desks() {
    // Desk B claims desk A's (non-venue) lease: refused, as before venue leases.
    let seats = leased_and_the_rest_sold_online(10, 5);
    let tickets = vec![ticket(1, GENERAL, "Ann")];
    let sale = recorded(with_leases(
        sell(SALE_B, DESK_B, 1, tickets, 19_900),
        &[(LEASE_A, GENERAL, 1)],
    ));
    assert!(check_leases(&sale, &seats).is_err());
}

#[test]
fn a_relay_that_says_the_same_allocation_twice_vouches_for_it_once() {
    // Forwarded with the sale, and reported before: one allocation of one seat.
    let seats = venue_leased_and_the_rest_sold_online(10, 3);
    let sale = sale_from_lease(2, 2);
    let events = forwarded_by(Some(RELAY), &[handed(1), handed(1)], &sale, &seats);
    assert_eq!(apply_seats(&seats, &events).leases[&LEASE_A].sold, 1);
    assert!(matches!(
        outcome(&events),
        Event::PartiallyConfirmed { withdrawn, .. } if withdrawn.len() == 1
    ));
}
