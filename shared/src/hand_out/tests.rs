use super::*;
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const WORKSHOP: SeatTypeId = SeatTypeId::from_u128(11);
const DESK_A: DeviceId = DeviceId::from_u128(201);
const DESK_B: DeviceId = DeviceId::from_u128(202);
const FIRST: HandOutId = HandOutId::from_u128(601);
const SECOND: HandOutId = HandOutId::from_u128(602);

fn code() -> TicketCode {
    TicketCode::parse("K7QF-3XP9").unwrap()
}

pub(crate) fn t_shirt() -> Item {
    Item {
        id: "t-shirt".into(),
        name: "T-shirt".into(),
        sizes: vec!["S".into(), "M".into(), "L".into()],
        seat_types: vec![],
        attendee_types: vec![],
    }
}

fn kit() -> Item {
    Item {
        id: "workshop-kit".into(),
        name: "Workshop kit".into(),
        sizes: vec![],
        seat_types: vec![WORKSHOP],
        attendee_types: vec![],
    }
}

fn given(id: HandOutId, desk: DeviceId, minute: u32, size: Option<&str>) -> Given {
    Given {
        hand_out: id,
        desk,
        at: at(9, minute),
        size: size.map(str::to_owned),
    }
}

fn give(item: Item, g: Given) -> Command {
    Command::Give {
        conference: CONF,
        code: code(),
        item,
        for_ticket: true,
        given: g,
    }
}

fn given_event(item: &str, g: Given) -> Event {
    Event::Given {
        conference: CONF,
        code: code(),
        item: item.into(),
        given: g,
    }
}

#[test]
fn an_item_is_handed_out_in_the_size_as_the_item_spells_it() {
    HandOuts::given([])
        .when(give(t_shirt(), given(FIRST, DESK_A, 1, Some(" m "))))
        .then([given_event("t-shirt", given(FIRST, DESK_A, 1, Some("M")))]);
}

#[test]
fn an_item_given_already_says_when_and_by_whom_and_records_nothing() {
    let first = given(FIRST, DESK_A, 1, Some("M"));
    HandOuts::given([given_event("t-shirt", first.clone())])
        .when(give(t_shirt(), given(SECOND, DESK_B, 2, Some("L"))))
        .then_err(Error::AlreadyGiven { first });
}

#[test]
fn another_item_is_its_own_record() {
    HandOuts::given([given_event("t-shirt", given(FIRST, DESK_A, 1, Some("M")))])
        .when(give(kit(), given(SECOND, DESK_A, 2, None)))
        .then([given_event("workshop-kit", given(SECOND, DESK_A, 2, None))]);
}

#[test]
fn sizes_are_required_where_offered_and_refused_where_not() {
    HandOuts::given([])
        .when(give(t_shirt(), given(FIRST, DESK_A, 1, None)))
        .then_err(Error::SizeRequired("t-shirt".into()));
    HandOuts::given([])
        .when(give(t_shirt(), given(FIRST, DESK_A, 1, Some("XXL"))))
        .then_err(Error::UnknownSize {
            item: "t-shirt".into(),
            size: "XXL".into(),
        });
    HandOuts::given([])
        .when(give(kit(), given(FIRST, DESK_A, 1, Some("M"))))
        .then_err(Error::NoSizes("workshop-kit".into()));
}

#[test]
fn an_item_this_ticket_does_not_get_is_refused() {
    HandOuts::given([])
        .when(Command::Give {
            conference: CONF,
            code: code(),
            item: kit(),
            for_ticket: false,
            given: given(FIRST, DESK_A, 1, None),
        })
        .then_err(Error::NotForThisTicket("workshop-kit".into()));
}

#[test]
fn undo_needs_a_reason_and_frees_the_item_again() {
    let history = [given_event("t-shirt", given(FIRST, DESK_A, 1, Some("M")))];
    HandOuts::given(history.clone())
        .when(Command::Undo {
            item: "t-shirt".into(),
            desk: DESK_A,
            at: at(9, 3),
            reason: "  ".into(),
        })
        .then_err(Error::ReasonRequired);
    let undone = Event::Undone {
        conference: CONF,
        code: code(),
        item: "t-shirt".into(),
        hand_out: FIRST,
        desk: DESK_A,
        at: at(9, 3),
        reason: "wrong size".into(),
    };
    HandOuts::given(history.clone())
        .when(Command::Undo {
            item: "t-shirt".into(),
            desk: DESK_A,
            at: at(9, 3),
            reason: " wrong size ".into(),
        })
        .then([undone.clone()]);
    HandOuts::given([history[0].clone(), undone])
        .when(give(t_shirt(), given(SECOND, DESK_A, 4, Some("L"))))
        .then([given_event("t-shirt", given(SECOND, DESK_A, 4, Some("L")))]);
}

#[test]
fn undo_of_an_item_not_given_is_refused() {
    HandOuts::given([])
        .when(Command::Undo {
            item: "t-shirt".into(),
            desk: DESK_A,
            at: at(9, 3),
            reason: "oops".into(),
        })
        .then_err(Error::NotGiven("t-shirt".into()));
}

/// The cross-desk case: two offline desks handed the same item over; the server keeps both
/// and flags the second against the first.
#[test]
fn the_server_records_a_second_hand_out_and_flags_it() {
    let first = given(FIRST, DESK_A, 1, Some("M"));
    let second = given(SECOND, DESK_B, 2, Some("L"));
    HandOuts::given([given_event("t-shirt", first.clone())])
        .when(Command::RecordGiven {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            given: second.clone(),
        })
        .then([
            given_event("t-shirt", second.clone()),
            Event::DuplicateFlagged {
                conference: CONF,
                code: code(),
                item: "t-shirt".into(),
                duplicate: second,
                first,
            },
        ]);
}

#[test]
fn the_server_records_the_same_hand_out_once() {
    let first = given(FIRST, DESK_A, 1, Some("M"));
    HandOuts::given([given_event("t-shirt", first.clone())])
        .when(Command::RecordGiven {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            given: first,
        })
        .then([]);
}

#[test]
fn the_server_takes_back_only_a_hand_out_it_saw() {
    let history = [given_event("t-shirt", given(FIRST, DESK_A, 1, Some("M")))];
    let undo = |id| Command::RecordUndo {
        item: "t-shirt".into(),
        hand_out: id,
        desk: DESK_A,
        at: at(9, 3),
        reason: "wrong size".into(),
    };
    HandOuts::given(history.clone()).when(undo(SECOND)).then([]);
    HandOuts::given(history)
        .when(undo(FIRST))
        .then([Event::Undone {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            hand_out: FIRST,
            desk: DESK_A,
            at: at(9, 3),
            reason: "wrong size".into(),
        }]);
}

#[test]
fn items_are_for_everyone_or_for_the_seat_and_attendee_types_they_name() {
    let speaker = AttendeeTypeId::parse("speaker").unwrap();
    assert!(t_shirt().is_for(&[GENERAL], &[]));
    assert!(!kit().is_for(&[GENERAL], &[]));
    assert!(kit().is_for(&[GENERAL, WORKSHOP], &[]));
    let gift = Item {
        attendee_types: vec![speaker.clone()],
        ..kit()
    };
    assert!(gift.is_for(&[GENERAL], std::slice::from_ref(&speaker)));
}

#[test]
fn an_item_is_checked_and_trimmed() {
    let messy = Item {
        id: " t-shirt ".into(),
        name: " T-shirt ".into(),
        sizes: vec![" S ".into(), "M".into()],
        seat_types: vec![WORKSHOP, GENERAL, WORKSHOP],
        attendee_types: vec![],
    };
    assert_eq!(
        messy.checked(),
        Ok(Item {
            id: "t-shirt".into(),
            name: "T-shirt".into(),
            sizes: vec!["S".into(), "M".into()],
            seat_types: vec![GENERAL, WORKSHOP],
            attendee_types: vec![],
        })
    );
    for bad in ["", "T-Shirt", "t shirt", "<script>", &"x".repeat(41)] {
        let item = Item {
            id: bad.into(),
            ..t_shirt()
        };
        assert!(
            matches!(item.checked(), Err(ItemError::BadId(_))),
            "{bad:?}"
        );
    }
    let twice = Item {
        sizes: vec!["M".into(), "m".into()],
        ..t_shirt()
    };
    assert_eq!(twice.checked(), Err(ItemError::BadSizes("t-shirt".into())));
    let unnamed = Item {
        name: " ".into(),
        ..t_shirt()
    };
    assert_eq!(
        unnamed.checked(),
        Err(ItemError::NameRequired("t-shirt".into()))
    );
}
