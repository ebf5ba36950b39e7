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
