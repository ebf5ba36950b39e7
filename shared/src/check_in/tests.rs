use super::*;
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
    }
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
