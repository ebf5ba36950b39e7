use chrono::NaiveDate;

use super::*;
use crate::testing::AggregateTestExt;

const CONF: ConferenceId = ConferenceId::from_u128(1);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(10);
const WORKSHOP: SeatTypeId = SeatTypeId::from_u128(11);

fn details() -> ConferenceDetails {
    ConferenceDetails {
        name: "CQRS Summit".into(),
        slug: "cqrs-summit-2026".into(),
        description: String::new(),
        venue: "Zürich".into(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        currency: Currency::EUR,
        max_seats_per_order: None,
        time_zone: None,
        owner_name: None,
    }
}

fn created() -> Event {
    Event::Created {
        conference: CONF,
        details: details(),
        owner_email: "org@example.com".into(),
    }
}

fn seat_type(id: SeatTypeId, name: &str, kind: SeatKind) -> SeatType {
    SeatType {
        id,
        name: name.into(),
        description: String::new(),
        price: Money::new(19_900, Currency::EUR),
        quota: 100,
        kind,
        policy: OversellPolicy::Reject,
    }
}

fn general_created() -> Event {
    Event::SeatTypeCreated {
        conference: CONF,
        seat_type: seat_type(GENERAL, "General admission", SeatKind::Admission),
    }
}

#[test]
fn a_conference_is_created_once() {
    Conference::given([])
        .when(Command::Create {
            conference: CONF,
            details: details(),
            owner_email: " org@example.com ".into(),
        })
        .then([created()]);
    Conference::given([created()])
        .when(Command::Create {
            conference: CONF,
            details: details(),
            owner_email: "x@example.com".into(),
        })
        .then_err(Error::AlreadyExists);
}

#[test]
fn bad_details_are_refused_with_the_reason() {
    let mut d = details();
    d.slug = "CQRS Summit".into();
    Conference::given([])
        .when(Command::Create {
            conference: CONF,
            details: d,
            owner_email: String::new(),
        })
        .then_err(Error::BadSlug);
    let mut d = details();
    d.ends_on = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    Conference::given([])
        .when(Command::Create {
            conference: CONF,
            details: d,
            owner_email: String::new(),
        })
        .then_err(Error::EndsBeforeStart);
}

#[test]
fn commands_on_a_missing_conference_are_refused() {
    Conference::given([])
        .when(Command::Publish)
        .then_err(Error::NotFound);
}

#[test]
fn a_conference_with_nothing_to_sell_cannot_be_published() {
    Conference::given([created()])
        .when(Command::Publish)
        .then_err(Error::NothingToSell);
    Conference::given([
        created(),
        Event::SeatTypeCreated {
            conference: CONF,
            seat_type: seat_type(WORKSHOP, "Workshop", SeatKind::AddOn),
        },
    ])
    .when(Command::Publish)
    .then_err(Error::NothingToSell);
}

#[test]
fn publishing_twice_is_a_no_op() {
    Conference::given([created(), general_created()])
        .when(Command::Publish)
        .then([Event::Published { conference: CONF }]);
    Conference::given([
        created(),
        general_created(),
        Event::Published { conference: CONF },
    ])
    .when(Command::Publish)
    .then_nothing();
}

#[test]
fn seat_types_are_priced_in_the_conference_currency_with_unique_names() {
    let mut usd = seat_type(GENERAL, "General", SeatKind::Admission);
    usd.price = Money::new(100, Currency::USD);
    Conference::given([created()])
        .when(Command::AddSeatType(usd))
        .then_err(Error::WrongCurrency {
            conference: Currency::EUR,
            price: Currency::USD,
        });
    Conference::given([created(), general_created()])
        .when(Command::AddSeatType(seat_type(
            WORKSHOP,
            "general ADMISSION",
            SeatKind::Admission,
        )))
        .then_err(Error::DuplicateSeatTypeName("general ADMISSION".into()));
}

#[test]
fn a_quota_change_carries_the_previous_and_the_new_quota() {
    Conference::given([created(), general_created()])
        .when(Command::ChangeQuota {
            seat_type: GENERAL,
            quota: 80,
        })
        .then([Event::SeatQuotaChanged {
            conference: CONF,
            seat_type: GENERAL,
            previous: 100,
            quota: 80,
        }]);
    Conference::given([created(), general_created()])
        .when(Command::ChangeQuota {
            seat_type: GENERAL,
            quota: 100,
        })
        .then_nothing();
}

/// F10: seat types cannot disappear from a published conference.
#[test]
fn seat_types_can_be_removed_only_before_the_first_publication() {
    Conference::given([created(), general_created()])
        .when(Command::RemoveSeatType { seat_type: GENERAL })
        .then([Event::SeatTypeRemoved {
            conference: CONF,
            seat_type: GENERAL,
        }]);
    Conference::given([
        created(),
        general_created(),
        Event::Published { conference: CONF },
        Event::Unpublished { conference: CONF },
    ])
    .when(Command::RemoveSeatType { seat_type: GENERAL })
    .then_err(Error::CannotRemoveAfterPublish);
}

#[test]
fn attendee_types_have_a_badge_colour() {
    let speaker = AttendeeType {
        id: AttendeeTypeId::parse("speaker").unwrap(),
        name: "Speaker".into(),
        badge_colour: Colour::parse("#e53935").unwrap(),
    };
    assert_eq!(speaker.badge_colour.as_str(), "#E53935");
    assert!(Colour::parse("red").is_err());
    Conference::given([created()])
        .when(Command::DefineAttendeeType(speaker.clone()))
        .then([Event::AttendeeTypeDefined {
            conference: CONF,
            attendee_type: speaker.clone(),
        }]);
    Conference::given([
        created(),
        Event::AttendeeTypeDefined {
            conference: CONF,
            attendee_type: speaker.clone(),
        },
    ])
    .when(Command::DefineAttendeeType(speaker))
    .then_nothing();
}

#[test]
fn the_currency_is_locked_once_prices_exist() {
    let mut d = details();
    d.currency = Currency::USD;
    Conference::given([created(), general_created()])
        .when(Command::Update { details: d })
        .then_err(Error::CurrencyLocked);
}

#[test]
fn a_time_zone_is_an_iana_name_or_utc() {
    for good in [
        "Europe/Zurich",
        "UTC",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+1",
    ] {
        let mut d = details();
        d.time_zone = Some(good.into());
        assert_eq!(check_details(&d), Ok(()), "{good}");
    }
    for bad in [
        "Zurich",
        "Europe Zurich",
        "europe/zurich",
        "",
        "Europe//Zurich",
        "Europe/<b>",
    ] {
        let mut d = details();
        d.time_zone = Some(bad.into());
        assert_eq!(
            check_details(&d),
            Err(Error::BadTimeZone(bad.into())),
            "{bad}"
        );
    }
}

fn speaker_defined() -> Event {
    Event::AttendeeTypeDefined {
        conference: CONF,
        attendee_type: AttendeeType {
            id: AttendeeTypeId::parse("speaker").unwrap(),
            name: "Speaker".into(),
            badge_colour: Colour::parse("#E53935").unwrap(),
        },
    }
}

fn speaker() -> AttendeeTypeId {
    AttendeeTypeId::parse("speaker").unwrap()
}

/// The built-in set with one more template, `speaker-a6`, a copy of the A6 one.
fn own_set() -> TemplateSet {
    let mut set = TemplateSet::default_set();
    let mut t = set.get("badge-a6").unwrap().clone();
    t.id = "speaker-a6".into();
    t.name = "Speakers (A6)".into();
    set.templates.push(t);
    set
}

fn own_set_event() -> Event {
    Event::BadgeTemplatesSet {
        conference: CONF,
        templates: Some(CheckedTemplates::new(own_set()).unwrap()),
    }
}

#[test]
fn badge_templates_are_set_checked_and_only_once() {
    Conference::given([created()])
        .when(Command::SetBadgeTemplates {
            templates: Some(own_set()),
        })
        .then([own_set_event()]);
    Conference::given([created(), own_set_event()])
        .when(Command::SetBadgeTemplates {
            templates: Some(own_set()),
        })
        .then_nothing();
    // Back to the built-in set.
    Conference::given([created(), own_set_event()])
        .when(Command::SetBadgeTemplates { templates: None })
        .then([Event::BadgeTemplatesSet {
            conference: CONF,
            templates: None,
        }]);
    let mut twice = own_set();
    twice.templates.push(twice.templates[0].clone());
    let mut empty = own_set();
    empty.templates.clear();
    let mut future = own_set();
    future.format = 9;
    let mut shouting = own_set();
    shouting.templates[0].id = "Badge A6".into();
    for bad in [twice, empty, future, shouting] {
        let result = Conference::given([created()])
            .when(Command::SetBadgeTemplates {
                templates: Some(bad),
            })
            .events_or_error();
        assert!(matches!(result, Err(Error::BadTemplates(_))), "{result:?}");
    }
    Conference::given([])
        .when(Command::SetBadgeTemplates { templates: None })
        .then_err(Error::NotFound);
}

#[test]
fn an_attendee_type_gets_a_template_of_the_set() {
    let given = [created(), speaker_defined(), own_set_event()];
    Conference::given(given.clone())
        .when(Command::SetAttendeeTypeTemplate {
            attendee_type: speaker(),
            template: Some("speaker-a6".into()),
        })
        .then([Event::AttendeeTypeTemplateSet {
            conference: CONF,
            attendee_type: speaker(),
            template: Some("speaker-a6".into()),
        }]);
    Conference::given(given.clone())
        .when(Command::SetAttendeeTypeTemplate {
            attendee_type: speaker(),
            template: Some("nope".into()),
        })
        .then_err(Error::UnknownTemplate("nope".into()));
    let sponsor = AttendeeTypeId::parse("sponsor").unwrap();
    Conference::given(given)
        .when(Command::SetAttendeeTypeTemplate {
            attendee_type: sponsor.clone(),
            template: None,
        })
        .then_err(Error::UnknownAttendeeType(sponsor));
}

#[test]
fn a_template_in_use_stays_in_the_set() {
    let chosen = Event::AttendeeTypeTemplateSet {
        conference: CONF,
        attendee_type: speaker(),
        template: Some("speaker-a6".into()),
    };
    let given = [created(), speaker_defined(), own_set_event(), chosen];
    Conference::given(given)
        .when(Command::SetBadgeTemplates { templates: None })
        .then_err(Error::TemplateInUse {
            template: "speaker-a6".into(),
            by: "attendee type speaker".into(),
        });
    let defaults = Event::DeskDefaultsSet {
        conference: CONF,
        defaults: DeskDefaults {
            badge_template: Some("speaker-a6".into()),
            ..DeskDefaults::default()
        },
    };
    Conference::given([created(), own_set_event(), defaults])
        .when(Command::SetBadgeTemplates { templates: None })
        .then_err(Error::TemplateInUse {
            template: "speaker-a6".into(),
            by: "the desk defaults".into(),
        });
}

#[test]
fn the_template_for_a_badge_is_the_attendee_types_then_the_desks_default_then_the_first() {
    let chosen = Event::AttendeeTypeTemplateSet {
        conference: CONF,
        attendee_type: speaker(),
        template: Some("speaker-a6".into()),
    };
    let defaults = Event::DeskDefaultsSet {
        conference: CONF,
        defaults: DeskDefaults {
            badge_template: Some("label-54x90mm".into()),
            ..DeskDefaults::default()
        },
    };
    let bare = Conference::given([created()]);
    assert_eq!(bare.state().template_for(&[speaker()]), "badge-4x3in");
    let given = Conference::given([
        created(),
        speaker_defined(),
        own_set_event(),
        chosen,
        defaults,
    ]);
    let conf = given.state();
    assert_eq!(conf.template_for(&[speaker()]), "speaker-a6");
    assert_eq!(conf.template_for(&[]), "label-54x90mm");
    assert_eq!(conf.templates().templates.len(), 4);
}

#[test]
fn desk_defaults_are_checked_and_trimmed() {
    let defaults = DeskDefaults {
        auto_print: Some(crate::badge::AutoPrint::Always),
        badge_template: Some("badge-a6".into()),
        printer: Some("  badges ".into()),
    };
    let expected = DeskDefaults {
        printer: Some("badges".into()),
        ..defaults.clone()
    };
    Conference::given([created()])
        .when(Command::SetDeskDefaults(defaults))
        .then([Event::DeskDefaultsSet {
            conference: CONF,
            defaults: expected.clone(),
        }]);
    Conference::given([
        created(),
        Event::DeskDefaultsSet {
            conference: CONF,
            defaults: expected.clone(),
        },
    ])
    .when(Command::SetDeskDefaults(expected))
    .then_nothing();
    Conference::given([created()])
        .when(Command::SetDeskDefaults(DeskDefaults {
            badge_template: Some("speaker-a6".into()),
            ..DeskDefaults::default()
        }))
        .then_err(Error::UnknownTemplate("speaker-a6".into()));
    let result = Conference::given([created()])
        .when(Command::SetDeskDefaults(DeskDefaults {
            printer: Some("bad\u{7}queue".into()),
            ..DeskDefaults::default()
        }))
        .events_or_error();
    assert!(matches!(result, Err(Error::Text(_))), "{result:?}");
}

fn speaker_type() -> AttendeeType {
    AttendeeType {
        id: AttendeeTypeId::parse("speaker").unwrap(),
        name: "Speaker".into(),
        badge_colour: Colour::parse("#E53935").unwrap(),
    }
}

#[test]
fn hand_outs_are_checked_against_the_seat_and_attendee_types_and_set_whole() {
    use crate::hand_out::{Item, ItemError};
    let defined = Event::AttendeeTypeDefined {
        conference: CONF,
        attendee_type: speaker_type(),
    };
    let kit = Item {
        id: "workshop-kit".into(),
        name: " Workshop kit ".into(),
        sizes: vec![],
        seat_types: vec![GENERAL],
        attendee_types: vec![speaker_type().id],
    };
    let history = [created(), general_created(), defined];
    Conference::given(history.clone())
        .when(Command::SetHandOuts(vec![kit.clone()]))
        .then([Event::HandOutsSet {
            conference: CONF,
            items: vec![Item {
                name: "Workshop kit".into(),
                ..kit.clone()
            }],
        }]);
    Conference::given(history.clone())
        .when(Command::SetHandOuts(vec![Item {
            seat_types: vec![WORKSHOP],
            ..kit.clone()
        }]))
        .then_err(Error::UnknownSeatType(WORKSHOP));
    Conference::given(history.clone())
        .when(Command::SetHandOuts(vec![kit.clone(), kit.clone()]))
        .then_err(Error::BadHandOuts(ItemError::Duplicate(
            "workshop-kit".into(),
        )));
    let many: Vec<Item> = (0..33)
        .map(|i| Item {
            id: format!("item-{i}"),
            ..kit.clone()
        })
        .collect();
    Conference::given(history.clone())
        .when(Command::SetHandOuts(many))
        .then_err(Error::BadHandOuts(ItemError::TooMany));
    // The same list again records nothing; an empty list takes them all away.
    let set = Event::HandOutsSet {
        conference: CONF,
        items: vec![Item {
            name: "Workshop kit".into(),
            ..kit.clone()
        }],
    };
    let mut with = history.to_vec();
    with.push(set);
    Conference::given(with.clone())
        .when(Command::SetHandOuts(vec![kit]))
        .then([]);
    Conference::given(with)
        .when(Command::SetHandOuts(vec![]))
        .then([Event::HandOutsSet {
            conference: CONF,
            items: vec![],
        }]);
}

#[test]
fn rooms_are_set_checked_never_named_like_a_gate_and_only_once() {
    use crate::room::Room;
    let workshop = Room {
        name: " Workshop A ".into(),
        seat_types: vec![GENERAL],
        capacity: Some(30),
    };
    let history = [created(), general_created()];
    let set = Event::RoomsSet {
        conference: CONF,
        rooms: vec![Room {
            name: "Workshop A".into(),
            ..workshop.clone()
        }],
    };
    Conference::given(history.clone())
        .when(Command::SetRooms(vec![workshop.clone()]))
        .then([set.clone()]);
    let unknown = SeatTypeId::from_u128(999);
    Conference::given(history.clone())
        .when(Command::SetRooms(vec![Room {
            seat_types: vec![unknown],
            ..workshop.clone()
        }]))
        .then_err(Error::UnknownSeatType(unknown));
    assert!(matches!(
        Conference::given(history.clone())
            .when(Command::SetRooms(vec![workshop.clone(), workshop.clone()]))
            .events_or_error(),
        Err(Error::BadRooms(_))
    ));
    assert!(matches!(
        Conference::given(history.clone())
            .when(Command::SetRooms(vec![Room {
                capacity: Some(0),
                ..workshop.clone()
            }]))
            .events_or_error(),
        Err(Error::BadRooms(_))
    ));
    let many: Vec<Room> = (0..=crate::room::MAX_ROOMS)
        .map(|i| Room {
            name: format!("Room {i}"),
            ..workshop.clone()
        })
        .collect();
    assert!(matches!(
        Conference::given(history)
            .when(Command::SetRooms(many))
            .events_or_error(),
        Err(Error::BadRooms(_))
    ));
    // A room may not take a gate's name, nor a gate a room's: a desk is set to one.
    let gates = Event::GatesSet {
        conference: CONF,
        gates: Gates {
            gates: vec![Gate {
                name: "Workshop A".into(),
                direction: GateDirection::In,
                zone: DEFAULT_ZONE.into(),
            }],
            no_reentry: vec![],
        },
    };
    assert!(matches!(
        Conference::given([created(), general_created(), gates])
            .when(Command::SetRooms(vec![workshop.clone()]))
            .events_or_error(),
        Err(Error::BadRooms(_))
    ));
    let with_room = [created(), general_created(), set];
    assert!(matches!(
        Conference::given(with_room.clone())
            .when(Command::SetGates(Gates {
                gates: vec![Gate {
                    name: "workshop a".into(),
                    direction: GateDirection::In,
                    zone: String::new(),
                }],
                no_reentry: vec![],
            }))
            .events_or_error(),
        Err(Error::BadGates(_))
    ));
    // The same list again records nothing; the room is found as people type it.
    let state = Conference::given(with_room.clone());
    assert_eq!(
        state.state().room(" workshop a").unwrap().capacity,
        Some(30)
    );
    state.when(Command::SetRooms(vec![workshop])).then_nothing();
    Conference::given(with_room)
        .when(Command::SetRooms(vec![]))
        .then([Event::RoomsSet {
            conference: CONF,
            rooms: vec![],
        }]);
}
