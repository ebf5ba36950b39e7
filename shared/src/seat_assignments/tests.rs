use super::*;
use crate::testing::AggregateTestExt;

const CONF: ConferenceId = ConferenceId::from_u128(1);
const ORDER: OrderId = OrderId::from_u128(7);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const T1: TicketId = TicketId::from_u128(71);
const T2: TicketId = TicketId::from_u128(72);

fn seats() -> Vec<Seat> {
    vec![
        Seat {
            position: 1,
            ticket: T1,
            code: TicketCode::parse("AAAA-0001").unwrap(),
            seat_type: GENERAL,
        },
        Seat {
            position: 2,
            ticket: T2,
            code: TicketCode::parse("AAAA-0002").unwrap(),
            seat_type: GENERAL,
        },
    ]
}

fn created() -> Event {
    Event::Created {
        order: ORDER,
        conference: CONF,
        seats: seats(),
    }
}

fn ada() -> Attendee {
    Attendee {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: "ada@example.com".into(),
        company: "Analytical Engines".into(),
        attendee_types: vec![AttendeeTypeId::parse("speaker").unwrap()],
        ..Default::default()
    }
}

fn assigned(position: u32, ticket: TicketId, attendee: Attendee) -> Event {
    Event::Assigned {
        order: ORDER,
        position,
        ticket,
        attendee,
    }
}

#[test]
fn assignments_exist_only_for_a_confirmed_order() {
    SeatAssignments::given([])
        .when(Command::Create {
            order: ORDER,
            conference: CONF,
            order_status: OrderStatus::ReservationCompleted,
            seats: seats(),
        })
        .then_err(Error::OrderNotConfirmed);
    SeatAssignments::given([])
        .when(Command::Create {
            order: ORDER,
            conference: CONF,
            order_status: OrderStatus::Confirmed,
            seats: seats(),
        })
        .then([created()]);
}

#[test]
fn two_seats_cannot_share_a_ticket() {
    let mut s = seats();
    s[1].ticket = T1;
    SeatAssignments::given([])
        .when(Command::Create {
            order: ORDER,
            conference: CONF,
            order_status: OrderStatus::Confirmed,
            seats: s,
        })
        .then_err(Error::DuplicateSeat);
}

#[test]
fn assigning_needs_a_name_and_an_email() {
    let mut nameless = ada();
    nameless.first_name = " ".into();
    nameless.last_name = String::new();
    SeatAssignments::given([created()])
        .when(Command::Assign {
            position: 1,
            attendee: nameless,
        })
        .then_err(Error::NameRequired);
    let mut bad_email = ada();
    bad_email.email = "ada at example".into();
    SeatAssignments::given([created()])
        .when(Command::Assign {
            position: 1,
            attendee: bad_email,
        })
        .then_err(Error::BadEmail("ada at example".into()));
    // No email at all is allowed (a walk-in guest, one of a group): only a bad one is not.
    let mut without = ada();
    without.email = String::new();
    assert!(without.validate().is_ok());
    // One name is enough: some people have only one.
    let mut mononym = ada();
    mononym.last_name = String::new();
    SeatAssignments::given([created()])
        .when(Command::Assign {
            position: 1,
            attendee: mononym.clone(),
        })
        .then([assigned(1, T1, mononym)]);
}

#[test]
fn a_new_email_means_the_seat_goes_to_someone_else() {
    let mut grace = ada();
    grace.first_name = "Grace".into();
    grace.last_name = "Hopper".into();
    grace.email = "grace@example.com".into();
    SeatAssignments::given([created(), assigned(1, T1, ada())])
        .when(Command::Assign {
            position: 1,
            attendee: grace.clone(),
        })
        .then([
            Event::Unassigned {
                order: ORDER,
                position: 1,
                ticket: T1,
            },
            assigned(1, T1, grace),
        ]);
}

#[test]
fn the_same_email_with_another_name_is_an_update() {
    let mut renamed = ada();
    renamed.last_name = "King".into();
    renamed.email = "ADA@example.com".into();
    SeatAssignments::given([created(), assigned(1, T1, ada())])
        .when(Command::Assign {
            position: 1,
            attendee: renamed.clone(),
        })
        .then([Event::Updated {
            order: ORDER,
            position: 1,
            ticket: T1,
            attendee: renamed,
        }]);
    SeatAssignments::given([created(), assigned(1, T1, ada())])
        .when(Command::Assign {
            position: 1,
            attendee: ada(),
        })
        .then_nothing();
}

#[test]
fn a_desk_correction_keeps_the_email_and_updates_the_rest() {
    let mut fixed = ada();
    fixed.company = "Babbage & Co".into();
    SeatAssignments::given([created(), assigned(1, T1, ada())])
        .when(Command::Correct {
            position: 1,
            first_name: None,
            last_name: None,
            company: Some(" Babbage & Co ".into()),
        })
        .then([Event::Updated {
            order: ORDER,
            position: 1,
            ticket: T1,
            attendee: fixed,
        }]);
    SeatAssignments::given([created()])
        .when(Command::Correct {
            position: 2,
            first_name: Some("X".into()),
            last_name: None,
            company: None,
        })
        .then_err(Error::NotAssigned(2));
}

#[test]
fn unassigning_frees_the_seat_and_unknown_positions_are_refused() {
    SeatAssignments::given([created(), assigned(2, T2, ada())])
        .when(Command::Unassign { position: 2 })
        .then([Event::Unassigned {
            order: ORDER,
            position: 2,
            ticket: T2,
        }]);
    SeatAssignments::given([created()])
        .when(Command::Unassign { position: 2 })
        .then_nothing();
    SeatAssignments::given([created()])
        .when(Command::Unassign { position: 9 })
        .then_err(Error::UnknownPosition(9));
}
