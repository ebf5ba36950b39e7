use super::*;
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const TICKET: TicketId = TicketId::from_u128(71);
const DESK: DeviceId = DeviceId::from_u128(201);

fn print(job: u128) -> Print {
    Print {
        conference: CONF,
        ticket: TICKET,
        code: TicketCode::parse("K7QF-3XP9").unwrap(),
        desk: DESK,
        printer: "BadgePDF".into(),
        job: PrintJobId::from_u128(job),
        at: at(9, 1),
    }
}

#[test]
fn the_first_print_is_a_print() {
    Badge::given([])
        .when(Command::RecordPrint {
            print: print(1),
            reprint_reason: None,
        })
        .then([Event::Printed { print: print(1) }]);
}

#[test]
fn a_reprint_needs_a_reason_and_is_recorded_as_a_reprint() {
    let history = [Event::Printed { print: print(1) }];
    Badge::given(history.clone())
        .when(Command::RecordPrint {
            print: print(2),
            reprint_reason: Some(" ".into()),
        })
        .then_err(Error::ReprintNeedsReason);
    Badge::given(history)
        .when(Command::RecordPrint {
            print: print(2),
            reprint_reason: Some("coffee on the badge".into()),
        })
        .then([Event::Reprinted {
            print: print(2),
            reason: "coffee on the badge".into(),
        }]);
}

#[test]
fn the_same_job_is_recorded_once() {
    Badge::given([Event::Printed { print: print(1) }])
        .when(Command::RecordPushedPrint {
            print: print(1),
            reprint_reason: None,
        })
        .then_nothing();
}

#[test]
fn the_server_records_a_pushed_print_as_the_desk_recorded_it() {
    // Two offline desks both printed a first badge: both are physical facts.
    Badge::given([Event::Printed { print: print(1) }])
        .when(Command::RecordPushedPrint {
            print: print(2),
            reprint_reason: None,
        })
        .then([Event::Printed { print: print(2) }]);
}

#[test]
fn auto_print_follows_the_desk_policy_and_never_fires_on_a_duplicate_scan() {
    let never_printed = Badge::default();
    let printed = Badge::given([Event::Printed { print: print(1) }])
        .state()
        .clone();
    assert!(should_auto_print(AutoPrint::Always, &printed, true));
    assert!(should_auto_print(
        AutoPrint::IfNeverPrinted,
        &never_printed,
        true
    ));
    assert!(!should_auto_print(
        AutoPrint::IfNeverPrinted,
        &printed,
        true
    ));
    assert!(!should_auto_print(AutoPrint::Never, &never_printed, true));
    for policy in [
        AutoPrint::Always,
        AutoPrint::IfNeverPrinted,
        AutoPrint::Never,
    ] {
        assert!(
            !should_auto_print(policy, &never_printed, false),
            "{policy:?} printed on a duplicate scan"
        );
    }
}

fn name(preferred: Option<&str>, pronouns: Option<&str>, minute: u32) -> NameOnBadge {
    NameOnBadge {
        conference: CONF,
        ticket: TICKET,
        code: TicketCode::parse("K7QF-3XP9").unwrap(),
        desk: DESK,
        at: at(9, minute),
        preferred_name: preferred.map(str::to_owned),
        pronouns: pronouns.map(str::to_owned),
    }
}

#[test]
fn a_name_for_the_badge_only_is_set_trimmed_and_the_same_again_records_nothing() {
    Badge::given([])
        .when(Command::SetName(name(Some(" Bill "), Some("he/him"), 1)))
        .then([Event::NameSet {
            name: name(Some("Bill"), Some("he/him"), 1),
        }]);
    Badge::given([Event::NameSet {
        name: name(Some("Bill"), Some("he/him"), 1),
    }])
    .when(Command::SetName(name(Some("Bill"), Some("he/him"), 2)))
    .then([]);
    // Nothing set and nothing asked: nothing to record.
    Badge::given([])
        .when(Command::SetName(name(Some(" "), None, 1)))
        .then([]);
    Badge::given([])
        .when(Command::SetName(name(Some("Bill\u{7}"), None, 1)))
        .then_err(Error::Text(crate::text::TextError::ControlCharacter {
            field: "the preferred name",
        }));
}
