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
