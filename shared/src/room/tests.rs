use super::*;
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const WORKSHOP: SeatTypeId = SeatTypeId::from_u128(11);
const DESK_A: DeviceId = DeviceId::from_u128(201);
const DESK_B: DeviceId = DeviceId::from_u128(202);

fn code() -> TicketCode {
    TicketCode::parse("K7QF-3XP9").unwrap()
}

fn workshop(capacity: Option<u32>) -> Room {
    Room {
        name: "Workshop A".into(),
        seat_types: vec![WORKSHOP],
        capacity,
    }
}

fn visit(id: u128, desk: DeviceId, minute: u32) -> Visit {
    Visit {
        visit: RoomVisitId::from_u128(id),
        desk,
        at: at(10, minute),
    }
}

fn enter(room: Room, entitled: bool, occupancy: u32, v: Visit, why: Option<&str>) -> Command {
    Command::Enter {
        conference: CONF,
        code: code(),
        room,
        entitled,
        occupancy,
        visit: v,
        override_reason: why.map(str::to_owned),
    }
}

fn record(room: Room, entitled: bool, occupancy: u32, v: Visit, why: Option<&str>) -> Command {
    Command::RecordEntry {
        conference: CONF,
        code: code(),
        room,
        entitled,
        occupancy,
        visit: v,
        override_reason: why.map(str::to_owned),
    }
}

fn entered(room: &str, v: Visit, why: Option<&str>) -> Event {
    Event::Entered {
        conference: CONF,
        code: code(),
        room: room.into(),
        visit: v,
        override_reason: why.map(str::to_owned),
    }
}

fn left(room: &str, v: Visit) -> Event {
    Event::Left {
        conference: CONF,
        code: code(),
        room: room.into(),
        visit: v,
    }
}

fn flagged(v: Visit, breach: RoomBreach) -> Event {
    Event::EntryFlagged {
        conference: CONF,
        code: code(),
        room: "Workshop A".into(),
        visit: v,
        breach,
    }
}

#[test]
fn a_holder_of_the_rooms_entitlement_is_let_in() {
    RoomVisits::given([])
        .when(enter(
            workshop(Some(30)),
            true,
            3,
            visit(1, DESK_A, 0),
            None,
        ))
        .then([entered("Workshop A", visit(1, DESK_A, 0), None)]);
}

#[test]
fn someone_without_the_entitlement_is_refused_unless_staff_give_a_reason() {
    RoomVisits::given([])
        .when(enter(
            workshop(None),
            false,
            0,
            visit(1, DESK_A, 0),
            Some("  "),
        ))
        .then_err(Error::NotEntitled("Workshop A".into()));
    RoomVisits::given([])
        .when(enter(
            workshop(None),
            false,
            0,
            visit(1, DESK_A, 0),
            Some(" speaker's guest "),
        ))
        .then([entered(
            "Workshop A",
            visit(1, DESK_A, 0),
            Some("speaker's guest"),
        )]);
}

#[test]
fn a_full_room_refuses_unless_staff_give_a_reason_and_a_reason_not_needed_is_not_kept() {
    RoomVisits::given([])
        .when(enter(
            workshop(Some(30)),
            true,
            30,
            visit(1, DESK_A, 0),
            None,
        ))
        .then_err(Error::Full {
            room: "Workshop A".into(),
            occupancy: 30,
            capacity: 30,
        });
    RoomVisits::given([])
        .when(enter(
            workshop(Some(30)),
            true,
            30,
            visit(1, DESK_A, 0),
            Some("fire marshal agreed"),
        ))
        .then([entered(
            "Workshop A",
            visit(1, DESK_A, 0),
            Some("fire marshal agreed"),
        )]);
    RoomVisits::given([])
        .when(enter(
            workshop(Some(30)),
            true,
            29,
            visit(1, DESK_A, 0),
            Some("just because"),
        ))
        .then([entered("Workshop A", visit(1, DESK_A, 0), None)]);
}

#[test]
fn a_second_scan_in_the_same_room_says_since_when_and_records_nothing() {
    RoomVisits::given([entered("Workshop A", visit(1, DESK_A, 0), None)])
        .when(enter(workshop(None), true, 5, visit(2, DESK_B, 3), None))
        .then_err(Error::AlreadyInRoom {
            since: visit(1, DESK_A, 0),
        });
}

#[test]
fn entering_another_room_moves_the_person_out_of_the_first() {
    let reception = Room {
        name: "Reception".into(),
        seat_types: vec![],
        capacity: None,
    };
    let state = RoomVisits::given([
        entered("Workshop A", visit(1, DESK_A, 0), None),
        entered("Reception", visit(2, DESK_B, 40), None),
    ]);
    assert_eq!(state.state().current.as_ref().unwrap().room, "Reception");
    assert!(state.state().in_room("workshop a").is_none());
    state
        .when(enter(reception, true, 0, visit(3, DESK_B, 41), None))
        .then_err(Error::AlreadyInRoom {
            since: visit(2, DESK_B, 40),
        });
}

#[test]
fn leaving_needs_the_person_in_that_room() {
    RoomVisits::given([])
        .when(Command::Leave {
            room: "Workshop A".into(),
            visit: visit(2, DESK_A, 5),
        })
        .then_err(Error::NotInRoom("Workshop A".into()));
    RoomVisits::given([entered("Reception", visit(1, DESK_A, 0), None)])
        .when(Command::Leave {
            room: "Workshop A".into(),
            visit: visit(2, DESK_A, 5),
        })
        .then_err(Error::NotInRoom("Workshop A".into()));
    RoomVisits::given([entered("Workshop A", visit(1, DESK_A, 0), None)])
        .when(Command::Leave {
            room: " workshop a ".into(),
            visit: visit(2, DESK_A, 5),
        })
        .then([left("Workshop A", visit(2, DESK_A, 5))]);
}

#[test]
fn after_leaving_the_person_may_enter_again() {
    RoomVisits::given([
        entered("Workshop A", visit(1, DESK_A, 0), None),
        left("Workshop A", visit(2, DESK_A, 5)),
    ])
    .when(enter(
        workshop(Some(30)),
        true,
        10,
        visit(3, DESK_A, 9),
        None,
    ))
    .then([entered("Workshop A", visit(3, DESK_A, 9), None)]);
}

#[test]
fn the_server_records_every_entry_and_flags_one_not_entitled_without_a_reason() {
    RoomVisits::given([])
        .when(record(workshop(None), false, 0, visit(1, DESK_A, 0), None))
        .then([
            entered("Workshop A", visit(1, DESK_A, 0), None),
            flagged(visit(1, DESK_A, 0), RoomBreach::NotEntitled),
        ]);
    RoomVisits::given([])
        .when(record(
            workshop(None),
            false,
            0,
            visit(1, DESK_A, 0),
            Some("guest"),
        ))
        .then([entered("Workshop A", visit(1, DESK_A, 0), Some("guest"))]);
}

#[test]
fn the_server_flags_an_entry_over_capacity_counting_every_desk() {
    RoomVisits::given([])
        .when(record(
            workshop(Some(30)),
            true,
            30,
            visit(1, DESK_B, 0),
            None,
        ))
        .then([
            entered("Workshop A", visit(1, DESK_B, 0), None),
            flagged(
                visit(1, DESK_B, 0),
                RoomBreach::OverCapacity {
                    occupancy: 30,
                    capacity: 30,
                },
            ),
        ]);
}

#[test]
fn the_server_records_an_entry_once_and_does_not_count_someone_in_the_room_already() {
    let state = RoomVisits::given([entered("Workshop A", visit(1, DESK_A, 0), None)]);
    // The same visit again: nothing.
    RoomVisits::given([entered("Workshop A", visit(1, DESK_A, 0), None)])
        .when(record(
            workshop(Some(30)),
            true,
            31,
            visit(1, DESK_A, 0),
            None,
        ))
        .then_nothing();
    // Another desk scanned the same person into the same room: it happened, no flag.
    state
        .when(record(
            workshop(Some(30)),
            false,
            31,
            visit(2, DESK_B, 1),
            None,
        ))
        .then([entered("Workshop A", visit(2, DESK_B, 1), None)]);
}

#[test]
fn the_server_records_a_leave_once() {
    let leave = || Command::RecordLeave {
        conference: CONF,
        code: code(),
        room: "Workshop A".into(),
        visit: visit(2, DESK_A, 5),
    };
    RoomVisits::given([entered("Workshop A", visit(1, DESK_A, 0), None)])
        .when(leave())
        .then([left("Workshop A", visit(2, DESK_A, 5))]);
    RoomVisits::given([
        entered("Workshop A", visit(1, DESK_A, 0), None),
        left("Workshop A", visit(2, DESK_A, 5)),
    ])
    .when(leave())
    .then_nothing();
}

#[test]
fn overlong_text_is_refused() {
    RoomVisits::given([])
        .when(enter(
            workshop(None),
            false,
            0,
            visit(1, DESK_A, 0),
            Some(&"x".repeat(limit::REASON + 1)),
        ))
        .events_or_error()
        .unwrap_err();
}

#[test]
fn the_room_warns_at_80_and_95_percent_and_is_full_at_capacity() {
    assert_eq!(fill(5, None), Fill::Room);
    assert_eq!(fill(79, Some(100)), Fill::Room);
    assert_eq!(fill(80, Some(100)), Fill::Filling);
    assert_eq!(fill(94, Some(100)), Fill::Filling);
    assert_eq!(fill(95, Some(100)), Fill::AlmostFull);
    assert_eq!(fill(99, Some(100)), Fill::AlmostFull);
    assert_eq!(fill(100, Some(100)), Fill::Full);
    assert_eq!(fill(101, Some(100)), Fill::Over);
    // Small rooms: 80 % of 7 is 5.6.
    assert_eq!(fill(5, Some(7)), Fill::Room);
    assert_eq!(fill(6, Some(7)), Fill::Filling);
    assert_eq!(fill(u32::MAX, Some(u32::MAX)), Fill::Full);
}

#[test]
fn a_room_admits_holders_of_its_seat_types_or_everyone() {
    assert!(workshop(None).admits(&[GENERAL, WORKSHOP]));
    assert!(!workshop(None).admits(&[GENERAL]));
    let open = Room {
        name: "Lobby".into(),
        seat_types: vec![],
        capacity: None,
    };
    assert!(open.admits(&[]));
}

#[test]
fn a_room_is_checked_on_its_own() {
    let r = Room {
        name: "  Workshop A ".into(),
        seat_types: vec![WORKSHOP, GENERAL, WORKSHOP],
        capacity: Some(3),
    }
    .checked()
    .unwrap();
    assert_eq!(r.name, "Workshop A");
    assert_eq!(r.seat_types, vec![GENERAL, WORKSHOP]);
    let no_name = Room {
        name: "  ".into(),
        seat_types: vec![],
        capacity: None,
    };
    assert_eq!(no_name.checked(), Err(RoomError::NameRequired));
    assert!(matches!(
        workshop(Some(0)).checked(),
        Err(RoomError::NoCapacity(_))
    ));
}
