use super::*;
use crate::admission_rules::{AdmissionRules, RuleBreach};
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const TICKET: TicketId = TicketId::from_u128(71);
const DESK_A: DeviceId = DeviceId::from_u128(201);
const DESK_B: DeviceId = DeviceId::from_u128(202);
const FIRST: AdmissionId = AdmissionId::from_u128(301);
const SECOND: AdmissionId = AdmissionId::from_u128(302);

fn code() -> TicketCode {
    TicketCode::parse("K7QF-3XP9").unwrap()
}

fn admission(id: AdmissionId, desk: DeviceId, minute: u32) -> Admission {
    Admission {
        admission: id,
        desk,
        gate: "north".into(),
        at: at(9, minute),
    }
}

fn admit(status: TicketStatus, a: Admission, override_reason: Option<&str>) -> Command {
    Command::Admit {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        status,
        admission: a,
        override_reason: override_reason.map(str::to_owned),
        rules: AdmissionRules::default(),
        zone: Tz::UTC,
        reentry: true,
    }
}

fn admitted(a: Admission) -> Event {
    Event::Admitted {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        admission: a,
        override_reason: None,
    }
}

#[test]
fn a_valid_ticket_is_admitted() {
    CheckIn::given([])
        .when(admit(
            TicketStatus::Valid,
            admission(FIRST, DESK_A, 1),
            None,
        ))
        .then([admitted(admission(FIRST, DESK_A, 1))]);
}

/// F18 at the desk: a second scan answers when, where and by whom.
#[test]
fn a_second_scan_says_already_admitted_instead_of_admitting_again() {
    CheckIn::given([admitted(admission(FIRST, DESK_A, 1))])
        .when(admit(
            TicketStatus::Valid,
            admission(SECOND, DESK_B, 5),
            None,
        ))
        .then_err(Error::AlreadyAdmitted {
            first: admission(FIRST, DESK_A, 1),
        });
}

#[test]
fn unknown_and_non_admitting_tickets_are_refused_unless_overridden() {
    CheckIn::given([])
        .when(admit(
            TicketStatus::Unknown,
            admission(FIRST, DESK_A, 1),
            None,
        ))
        .then_err(Error::UnknownTicket);
    CheckIn::given([])
        .when(admit(
            TicketStatus::AddOnOnly,
            admission(FIRST, DESK_A, 1),
            None,
        ))
        .then_err(Error::NotEntitled(TicketStatus::AddOnOnly));
    CheckIn::given([])
        .when(admit(
            TicketStatus::Withdrawn,
            admission(FIRST, DESK_A, 1),
            Some("  "),
        ))
        .then_err(Error::NotEntitled(TicketStatus::Withdrawn));
    CheckIn::given([])
        .when(admit(
            TicketStatus::Unknown,
            admission(FIRST, DESK_A, 1),
            Some("bought at the partner booth"),
        ))
        .then([Event::Admitted {
            conference: CONF,
            code: code(),
            ticket: Some(TICKET),
            admission: admission(FIRST, DESK_A, 1),
            override_reason: Some("bought at the partner booth".into()),
        }]);
}

#[test]
fn a_gate_is_required() {
    let mut a = admission(FIRST, DESK_A, 1);
    a.gate = " ".into();
    CheckIn::given([])
        .when(admit(TicketStatus::Valid, a, None))
        .then_err(Error::GateRequired);
}

#[test]
fn undo_needs_a_reason_and_allows_a_new_admission() {
    let history = [admitted(admission(FIRST, DESK_A, 1))];
    CheckIn::given(history.clone())
        .when(Command::Undo {
            desk: DESK_A,
            at: at(9, 2),
            reason: "".into(),
        })
        .then_err(Error::ReasonRequired);
    let undone = Event::Undone {
        conference: CONF,
        code: code(),
        admission: FIRST,
        desk: DESK_A,
        at: at(9, 2),
        reason: "scanned the wrong badge".into(),
    };
    CheckIn::given(history.clone())
        .when(Command::Undo {
            desk: DESK_A,
            at: at(9, 2),
            reason: " scanned the wrong badge ".into(),
        })
        .then([undone.clone()]);
    CheckIn::given([history[0].clone(), undone])
        .when(admit(
            TicketStatus::Valid,
            admission(SECOND, DESK_B, 10),
            None,
        ))
        .then([admitted(admission(SECOND, DESK_B, 10))]);
    CheckIn::given([])
        .when(Command::Undo {
            desk: DESK_A,
            at: at(9, 2),
            reason: "x".into(),
        })
        .then_err(Error::NotAdmitted);
}

fn record(status: TicketStatus, a: Admission) -> Command {
    Command::RecordAdmission {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        status,
        admission: a,
        override_reason: None,
        rules: AdmissionRules::default(),
        zone: Tz::UTC,
        clock_skew_ms: None,
    }
}

// ---- admission rules ----

/// A pass for Monday 23 November 2026 only, doors at 08:00, in Zurich.
fn monday_pass() -> AdmissionRules {
    AdmissionRules {
        valid_on: vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()],
        earliest_entry: chrono::NaiveTime::from_hms_opt(8, 0, 0),
        ..AdmissionRules::default()
    }
}

fn zurich() -> Tz {
    Tz::Europe__Zurich
}

/// `at(h, m)` is 23 November 2026 UTC; Zurich is an hour ahead.
fn admit_with_rules(a: Admission, override_reason: Option<&str>) -> Command {
    Command::Admit {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        status: TicketStatus::Valid,
        admission: a,
        override_reason: override_reason.map(str::to_owned),
        rules: monday_pass(),
        zone: zurich(),
        reentry: true,
    }
}

#[test]
fn a_pass_scanned_on_its_day_after_the_doors_opened_admits() {
    // 07:01 UTC is 08:01 in Zurich.
    CheckIn::given([])
        .when(admit_with_rules(
            Admission {
                at: at(7, 1),
                ..admission(FIRST, DESK_A, 1)
            },
            None,
        ))
        .then([admitted(Admission {
            at: at(7, 1),
            ..admission(FIRST, DESK_A, 1)
        })]);
}

#[test]
fn a_scan_before_the_doors_open_is_outside_the_rules_unless_staff_say_why() {
    // 06:30 UTC is 07:30 in Zurich.
    let early = Admission {
        at: at(6, 30),
        ..admission(FIRST, DESK_A, 0)
    };
    CheckIn::given([])
        .when(admit_with_rules(early.clone(), None))
        .then_err(Error::OutsideRules(RuleBreach::TooEarly {
            local: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
            opens: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        }));
    CheckIn::given([])
        .when(admit_with_rules(
            early.clone(),
            Some(" speaker, setting up "),
        ))
        .then([Event::Admitted {
            conference: CONF,
            code: code(),
            ticket: Some(TICKET),
            admission: early,
            override_reason: Some("speaker, setting up".into()),
        }]);
}

#[test]
fn a_monday_pass_on_tuesday_is_outside_the_rules_with_the_reason() {
    let tuesday = Admission {
        at: at(9, 0) + chrono::Duration::days(1),
        ..admission(FIRST, DESK_A, 0)
    };
    CheckIn::given([])
        .when(admit_with_rules(tuesday, None))
        .then_err(Error::OutsideRules(RuleBreach::WrongDay {
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            valid_on: monday_pass().valid_on,
        }));
}

fn record_with_rules(a: Admission, clock_skew_ms: Option<i64>) -> Command {
    Command::RecordAdmission {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        status: TicketStatus::Valid,
        admission: a,
        override_reason: None,
        rules: monday_pass(),
        zone: zurich(),
        clock_skew_ms,
    }
}

/// A desk whose clock ran a day behind stamped Tuesday's scan as Monday: inside the rules by
/// its clock, so it let the person in. The server takes the skew its push showed off the scan
/// time and flags the admission, saying it was the clock.
#[test]
fn the_server_flags_a_desk_whose_clock_put_a_scan_on_the_wrong_day() {
    let stamped = admission(FIRST, DESK_A, 0);
    let day_behind = -24 * 3_600_000;
    CheckIn::given([])
        .when(record_with_rules(stamped.clone(), Some(day_behind)))
        .then([
            admitted(stamped.clone()),
            Event::OutsideRulesFlagged {
                conference: CONF,
                code: code(),
                admission: stamped.clone(),
                breach: RuleBreach::WrongDay {
                    day: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
                    valid_on: monday_pass().valid_on,
                },
                by_clock: true,
            },
        ]);
    // A clock a few seconds off changes nothing; nor does one whose error stays in the day.
    CheckIn::given([])
        .when(record_with_rules(stamped.clone(), Some(20_000)))
        .then([admitted(stamped.clone())]);
    CheckIn::given([])
        .when(record_with_rules(stamped.clone(), Some(-3_600_000)))
        .then([admitted(stamped)]);
}

#[test]
fn the_server_flags_an_admission_outside_the_rules_without_a_reason_and_keeps_one_with() {
    let early = Admission {
        at: at(6, 30),
        ..admission(FIRST, DESK_A, 0)
    };
    CheckIn::given([])
        .when(record_with_rules(early.clone(), None))
        .then([
            admitted(early.clone()),
            Event::OutsideRulesFlagged {
                conference: CONF,
                code: code(),
                admission: early.clone(),
                breach: RuleBreach::TooEarly {
                    local: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                    opens: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                },
                by_clock: false,
            },
        ]);
    let mut with_reason = record_with_rules(early.clone(), None);
    if let Command::RecordAdmission {
        override_reason, ..
    } = &mut with_reason
    {
        *override_reason = Some("speaker".into());
    }
    CheckIn::given([]).when(with_reason).then([Event::Admitted {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        admission: early,
        override_reason: Some("speaker".into()),
    }]);
}

/// F18 on the server: two offline desks admitted the same person.
#[test]
fn the_server_accepts_a_second_admission_and_flags_it_linked_to_the_first() {
    CheckIn::given([admitted(admission(FIRST, DESK_A, 1))])
        .when(record(TicketStatus::Valid, admission(SECOND, DESK_B, 0)))
        .then([
            admitted(admission(SECOND, DESK_B, 0)),
            Event::DuplicateFlagged {
                conference: CONF,
                code: code(),
                duplicate: admission(SECOND, DESK_B, 0),
                first: admission(FIRST, DESK_A, 1),
            },
        ]);
}

#[test]
fn the_server_accepts_and_flags_an_admission_of_an_invalid_ticket() {
    CheckIn::given([])
        .when(record(TicketStatus::Unknown, admission(FIRST, DESK_A, 1)))
        .then([
            admitted(admission(FIRST, DESK_A, 1)),
            Event::InvalidTicketFlagged {
                conference: CONF,
                code: code(),
                admission: admission(FIRST, DESK_A, 1),
                status: TicketStatus::Unknown,
                override_reason: None,
            },
        ]);
}

#[test]
fn the_same_admission_recorded_twice_changes_nothing() {
    CheckIn::given([admitted(admission(FIRST, DESK_A, 1))])
        .when(record(TicketStatus::Valid, admission(FIRST, DESK_A, 1)))
        .then_nothing();
}

#[test]
fn a_duplicate_stays_a_duplicate_after_the_first_is_undone_elsewhere() {
    let state = CheckIn::given([
        admitted(admission(FIRST, DESK_A, 1)),
        admitted(admission(SECOND, DESK_B, 3)),
        Event::DuplicateFlagged {
            conference: CONF,
            code: code(),
            duplicate: admission(SECOND, DESK_B, 3),
            first: admission(FIRST, DESK_A, 1),
        },
    ]);
    assert_eq!(state.state().current, Some(admission(FIRST, DESK_A, 1)));
    assert_eq!(state.state().duplicates, 1);
}

// ---- exits and re-entry ----

const EXIT: AdmissionId = AdmissionId::from_u128(311);
const BACK: AdmissionId = AdmissionId::from_u128(312);

fn exited(a: Admission) -> Event {
    Event::Exited {
        conference: CONF,
        code: code(),
        exit: a,
    }
}

fn reentered(a: Admission) -> Event {
    Event::Reentered {
        conference: CONF,
        code: code(),
        entry: a,
    }
}

#[test]
fn an_exit_scan_records_the_exit_once_and_only_for_someone_inside() {
    let first = admission(FIRST, DESK_A, 1);
    let out = admission(EXIT, DESK_B, 30);
    CheckIn::given([admitted(first.clone())])
        .when(Command::Exit { exit: out.clone() })
        .then([exited(out.clone())]);
    CheckIn::given([admitted(first), exited(out.clone())])
        .when(Command::Exit {
            exit: admission(BACK, DESK_B, 31),
        })
        .then_err(Error::AlreadyOut { since: out.clone() });
    CheckIn::given([])
        .when(Command::Exit { exit: out })
        .then_err(Error::NotAdmitted);
}

#[test]
fn someone_who_went_out_comes_back_in_unless_the_zone_refuses_re_entry() {
    let first = admission(FIRST, DESK_A, 1);
    let out = admission(EXIT, DESK_B, 30);
    let back = admission(BACK, DESK_A, 45);
    let history = [admitted(first.clone()), exited(out.clone())];
    CheckIn::given(history.clone())
        .when(admit(TicketStatus::Valid, back.clone(), None))
        .then([reentered(back.clone())]);
    let refused = Command::Admit {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        status: TicketStatus::Valid,
        admission: back.clone(),
        override_reason: None,
        rules: AdmissionRules::default(),
        zone: Tz::UTC,
        reentry: false,
    };
    CheckIn::given(history.clone())
        .when(refused)
        .then_err(Error::ReentryRefused { exited: out });
    // Back inside: another scan at an entrance is the usual "already admitted".
    CheckIn::given([history[0].clone(), history[1].clone(), reentered(back)])
        .when(admit(
            TicketStatus::Valid,
            admission(SECOND, DESK_A, 50),
            None,
        ))
        .then_err(Error::AlreadyAdmitted { first });
}

#[test]
fn inside_is_admitted_and_not_out_since_and_an_undo_takes_both_back() {
    let first = admission(FIRST, DESK_A, 1);
    let out = admission(EXIT, DESK_B, 30);
    let state = |events: &[Event]| crate::aggregate::replay::<CheckIn>(events);
    assert!(state(&[admitted(first.clone())]).inside());
    assert!(!state(&[admitted(first.clone()), exited(out.clone())]).inside());
    assert!(
        state(&[
            admitted(first.clone()),
            exited(out.clone()),
            reentered(admission(BACK, DESK_A, 45))
        ])
        .inside()
    );
    let undone = Event::Undone {
        conference: CONF,
        code: code(),
        admission: FIRST,
        desk: DESK_A,
        at: at(10, 0),
        reason: "wrong ticket".into(),
    };
    let after = state(&[admitted(first), exited(out), undone]);
    assert!(!after.inside() && after.exited.is_none());
}

#[test]
fn the_server_records_each_exit_and_re_entry_once() {
    let first = admission(FIRST, DESK_A, 1);
    let out = admission(EXIT, DESK_B, 30);
    CheckIn::given([admitted(first.clone())])
        .when(Command::RecordMovement {
            event: exited(out.clone()),
        })
        .then([exited(out.clone())]);
    CheckIn::given([admitted(first), exited(out.clone())])
        .when(Command::RecordMovement { event: exited(out) })
        .then([]);
}
