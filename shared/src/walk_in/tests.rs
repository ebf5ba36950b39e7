use chrono::NaiveDate;

use super::*;
use crate::aggregate::replay;
use crate::conference::{self, ConferenceDetails, SeatKind, SeatType};
use crate::seat_availability::{self, SeatsAvailability};
use crate::testing::{AggregateTestExt, at};

pub(crate) const CONF: ConferenceId = ConferenceId::from_u128(1);
pub(crate) const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
pub(crate) const STANDING: SeatTypeId = SeatTypeId::from_u128(12);
pub(crate) const DESK_A: DeviceId = DeviceId::from_u128(201);
pub(crate) const DESK_B: DeviceId = DeviceId::from_u128(202);
pub(crate) const SALE_A: OrderId = OrderId::from_u128(601);
pub(crate) const SALE_B: OrderId = OrderId::from_u128(602);
pub(crate) const CONFLICT: ConflictId = ConflictId::from_u128(901);

pub(crate) fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

pub(crate) fn conference(quota: u32) -> Conference {
    let seat = |id, name: &str, policy| SeatType {
        id,
        name: name.into(),
        description: String::new(),
        price: eur(19_900),
        quota,
        kind: SeatKind::Admission,
        policy,
    };
    replay(&[
        conference::Event::Created {
            conference: CONF,
            details: ConferenceDetails {
                name: "CQRS Summit".into(),
                slug: "cqrs".into(),
                description: String::new(),
                venue: String::new(),
                starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                currency: Currency::EUR,
                max_seats_per_order: None,
                time_zone: None,
                owner_name: None,
            },
            owner_email: String::new(),
        },
        conference::Event::SeatTypeCreated {
            conference: CONF,
            seat_type: seat(GENERAL, "General", OversellPolicy::Reject),
        },
        conference::Event::SeatTypeCreated {
            conference: CONF,
            seat_type: seat(STANDING, "Standing", OversellPolicy::Overbook),
        },
    ])
}

pub(crate) fn seats_with(remaining: i64) -> SeatsAvailability {
    replay(&[seat_availability::Event::AvailableSeatsChanged {
        conference: CONF,
        seats: vec![
            seat_availability::SeatDelta {
                seat_type: GENERAL,
                delta: remaining,
            },
            seat_availability::SeatDelta {
                seat_type: STANDING,
                delta: remaining,
            },
        ],
    }])
}

pub(crate) fn ticket(n: u128, seat_type: SeatTypeId, name: &str) -> SaleTicket {
    SaleTicket {
        ticket: TicketId::from_u128(700 + n),
        code: TicketCode::from_entropy(n as u64 * 7919),
        seat_type,
        attendee: Attendee {
            first_name: name.into(),
            last_name: "Walker".into(),
            email: format!("{}@example.com", name.to_lowercase()),
            company: String::new(),
            attendee_types: vec![],
            ..Default::default()
        },
    }
}

pub(crate) fn sell(
    order: OrderId,
    desk: DeviceId,
    desk_sees: i64,
    tickets: Vec<SaleTicket>,
    taken: i64,
) -> Command {
    Command::Sell {
        view: DeskView {
            conference: Some(conference(10)),
            remaining: [(GENERAL, desk_sees), (STANDING, desk_sees)].into(),
            leases: vec![],
        },
        conference: CONF,
        order,
        desk,
        sold_at: at(9, 5),
        tickets,
        payment_method: PaymentMethod::Cash,
        amount_taken: eur(taken),
    }
}

pub(crate) fn recorded(command: Command) -> Sale {
    match WalkInSale::given([]).when(command).events().remove(0) {
        Event::SaleRecorded { sale } => sale,
        other => panic!("expected a recorded sale, got {other:?}"),
    }
}

#[test]
fn the_desk_records_a_sale_its_view_allows_with_prices_from_the_conference() {
    let sale = recorded(sell(
        SALE_A,
        DESK_A,
        2,
        vec![ticket(1, GENERAL, "Ann"), ticket(2, GENERAL, "Bob")],
        40_000,
    ));
    assert_eq!(sale.total, eur(39_800));
    assert_eq!(
        sale.lines,
        vec![SaleLine {
            seat_type: GENERAL,
            name: "General".into(),
            unit_price: eur(19_900),
            quantity: 2
        }]
    );
}

#[test]
fn the_desk_refuses_a_sale_its_own_view_shows_no_seats_for() {
    WalkInSale::given([])
        .when(sell(
            SALE_A,
            DESK_A,
            1,
            vec![ticket(1, GENERAL, "Ann"), ticket(2, GENERAL, "Bob")],
            40_000,
        ))
        .then_err(Error::NoSeatsLeft {
            seat_type: GENERAL,
            name: "General".into(),
            remaining: 1,
            wanted: 2,
        });
    // Standing room is sold beyond the view.
    assert_eq!(
        recorded(sell(
            SALE_A,
            DESK_A,
            0,
            vec![ticket(1, STANDING, "Ann")],
            19_900
        ))
        .tickets
        .len(),
        1
    );
}

#[test]
fn the_desk_refuses_a_sale_that_is_not_paid_in_full() {
    WalkInSale::given([])
        .when(sell(
            SALE_A,
            DESK_A,
            5,
            vec![ticket(1, GENERAL, "Ann")],
            10_000,
        ))
        .then_err(Error::AmountShort {
            taken: eur(10_000),
            total: eur(19_900),
        });
}

#[test]
fn the_desk_refuses_attendees_without_a_name_or_with_a_bad_email() {
    let mut t = ticket(1, GENERAL, "Ann");
    t.attendee.email = "ann".into();
    WalkInSale::given([])
        .when(sell(SALE_A, DESK_A, 5, vec![t], 19_900))
        .then_err(Error::Attendee(seat_assignments::Error::BadEmail(
            "ann".into(),
        )));
}

// ---- leases ----

pub(crate) const LEASE_A: LeaseId = LeaseId::from_u128(801);
pub(crate) const LEASE_B: LeaseId = LeaseId::from_u128(802);

/// `command` with the desk holding `leases` (seat type, seats left, until 18:00).
pub(crate) fn with_leases(mut command: Command, leases: &[(LeaseId, SeatTypeId, u32)]) -> Command {
    let Command::Sell { view, .. } = &mut command;
    view.leases = leases
        .iter()
        .map(|(lease, seat_type, left)| HeldLease {
            lease: *lease,
            seat_type: *seat_type,
            left: *left,
            until: at(18, 0),
        })
        .collect();
    command
}

#[test]
fn a_desk_sells_from_its_lease_first_and_the_sale_says_which_seats_are_final() {
    let sale = recorded(with_leases(
        sell(
            SALE_A,
            DESK_A,
            1,
            vec![
                ticket(1, GENERAL, "Ann"),
                ticket(2, GENERAL, "Bob"),
                ticket(3, GENERAL, "Cy"),
            ],
            59_700,
        ),
        &[(LEASE_A, GENERAL, 1), (LEASE_B, GENERAL, 1)],
    ));
    assert_eq!(
        sale.from_leases,
        vec![
            LeaseClaim {
                lease: LEASE_A,
                seat_type: GENERAL,
                quantity: 1
            },
            LeaseClaim {
                lease: LEASE_B,
                seat_type: GENERAL,
                quantity: 1
            },
        ]
    );
    assert_eq!(sale.from_lease(GENERAL), 2);
    assert_eq!(
        sale.final_tickets(),
        vec![TicketId::from_u128(701), TicketId::from_u128(702)],
        "the first tickets are the final ones; the third is provisional"
    );
}

#[test]
fn a_desk_with_nothing_left_but_its_lease_sells_exactly_the_lease() {
    let two = vec![ticket(1, GENERAL, "Ann"), ticket(2, GENERAL, "Bob")];
    let sale = recorded(with_leases(
        sell(SALE_A, DESK_A, 0, two.clone(), 39_800),
        &[(LEASE_A, GENERAL, 2)],
    ));
    assert_eq!(sale.final_tickets().len(), 2);
    let mut three = two;
    three.push(ticket(3, GENERAL, "Cy"));
    WalkInSale::given([])
        .when(with_leases(
            sell(SALE_A, DESK_A, 0, three, 59_700),
            &[(LEASE_A, GENERAL, 2)],
        ))
        .then_err(Error::NoSeatsLeft {
            seat_type: GENERAL,
            name: "General".into(),
            remaining: 2,
            wanted: 3,
        });
}

#[test]
fn a_lease_past_its_end_or_for_another_seat_type_is_not_drawn_on() {
    let mut expired = with_leases(
        sell(SALE_A, DESK_A, 0, vec![ticket(1, GENERAL, "Ann")], 19_900),
        &[(LEASE_A, GENERAL, 2)],
    );
    let Command::Sell { view, sold_at, .. } = &mut expired;
    view.leases[0].until = *sold_at;
    WalkInSale::given([])
        .when(expired)
        .then_err(Error::NoSeatsLeft {
            seat_type: GENERAL,
            name: "General".into(),
            remaining: 0,
            wanted: 1,
        });
    let standing = recorded(with_leases(
        sell(SALE_A, DESK_A, 3, vec![ticket(1, STANDING, "Ann")], 19_900),
        &[(LEASE_A, GENERAL, 2)],
    ));
    assert!(standing.from_leases.is_empty());
    assert!(standing.final_tickets().is_empty());
}

#[test]
fn a_sale_whose_lease_claims_do_not_match_its_tickets_does_not_add_up() {
    let sale = recorded(with_leases(
        sell(SALE_A, DESK_A, 0, vec![ticket(1, GENERAL, "Ann")], 19_900),
        &[(LEASE_A, GENERAL, 2)],
    ));
    assert_eq!(sale.check(Currency::EUR), Ok(()));
    let claim = sale.from_leases[0];
    for from_leases in [
        vec![LeaseClaim {
            quantity: 2,
            ..claim
        }],
        vec![LeaseClaim {
            quantity: 0,
            ..claim
        }],
        vec![LeaseClaim {
            seat_type: STANDING,
            ..claim
        }],
        vec![claim, claim],
    ] {
        let forged = Sale {
            from_leases,
            ..sale.clone()
        };
        assert_eq!(forged.check(Currency::EUR), Err(Error::LeaseClaimsDisagree));
    }
}
