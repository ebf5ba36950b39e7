use super::*;
use crate::money::Currency;
use crate::testing::{AggregateTestExt, at};

const CONF: ConferenceId = ConferenceId::from_u128(1);
const ID: ConflictId = ConflictId::from_u128(901);
const DESK: DeviceId = DeviceId::from_u128(201);

fn refund_due() -> ConflictKind {
    ConflictKind::WalkInRejected {
        order: OrderId::from_u128(601),
        desk: DESK,
        tickets: vec![TicketId::from_u128(701)],
        refund_due: Money::new(19_900, Currency::EUR),
    }
}

fn duplicate() -> ConflictKind {
    let a = |n, m| Admission {
        admission: crate::ids::AdmissionId::from_u128(n),
        desk: DESK,
        gate: "north".into(),
        at: at(9, m),
    };
    ConflictKind::DuplicateAdmission {
        code: TicketCode::parse("AB-1").unwrap(),
        first: a(1, 1),
        duplicate: a(2, 3),
    }
}

fn opened(kind: ConflictKind) -> Event {
    Event::Opened {
        conflict: ID,
        conference: CONF,
        kind,
        at: at(10, 0),
    }
}

fn head_office() -> Actor {
    Actor::HeadOffice {
        user: "lena".into(),
    }
}

#[test]
fn a_refund_due_is_resolved_by_recording_the_refund() {
    let refund = Resolution::RefundRecorded {
        amount: Money::new(19_900, Currency::EUR),
        method: PaymentMethod::Cash,
    };
    Conflict::given([opened(refund_due())])
        .when(Command::Resolve {
            resolution: refund.clone(),
            by: Actor::Desk { device: DESK },
            at: at(10, 5),
            note: "".into(),
        })
        .then([Event::Resolved {
            conflict: ID,
            resolution: refund,
            by: Actor::Desk { device: DESK },
            at: at(10, 5),
            note: "".into(),
        }]);
}

#[test]
fn a_conflict_is_resolved_once() {
    Conflict::given([
        opened(refund_due()),
        Event::Resolved {
            conflict: ID,
            resolution: Resolution::SaleHonoured,
            by: head_office(),
            at: at(10, 5),
            note: String::new(),
        },
    ])
    .when(Command::Resolve {
        resolution: Resolution::Closed,
        by: head_office(),
        at: at(10, 6),
        note: String::new(),
    })
    .then_err(Error::AlreadyResolved);
}

#[test]
fn resolutions_must_fit_the_kind_of_conflict() {
    Conflict::given([opened(duplicate())])
        .when(Command::Resolve {
            resolution: Resolution::SaleHonoured,
            by: head_office(),
            at: at(10, 5),
            note: String::new(),
        })
        .then_err(Error::NotApplicable {
            resolution: "honouring the sale",
            kind: "duplicate admission",
        });
}

#[test]
fn dismissing_needs_a_note() {
    Conflict::given([opened(duplicate())])
        .when(Command::Resolve {
            resolution: Resolution::Dismissed,
            by: head_office(),
            at: at(10, 5),
            note: " ".into(),
        })
        .then_err(Error::NoteRequired);
}

#[test]
fn acknowledging_keeps_the_item_open() {
    let ack = Event::Acknowledged {
        conflict: ID,
        by: Actor::Desk { device: DESK },
        at: at(10, 1),
        note: "told the gate lead".into(),
    };
    Conflict::given([opened(duplicate())])
        .when(Command::Acknowledge {
            by: Actor::Desk { device: DESK },
            at: at(10, 1),
            note: "told the gate lead".into(),
        })
        .then([ack.clone()]);
    Conflict::given([opened(duplicate()), ack])
        .when(Command::Resolve {
            resolution: Resolution::Closed,
            by: head_office(),
            at: at(10, 5),
            note: String::new(),
        })
        .then([Event::Resolved {
            conflict: ID,
            resolution: Resolution::Closed,
            by: head_office(),
            at: at(10, 5),
            note: String::new(),
        }]);
}

#[test]
fn a_conflict_is_opened_once() {
    Conflict::given([opened(duplicate())])
        .when(Command::Open {
            conflict: ID,
            conference: CONF,
            kind: duplicate(),
            at: at(10, 0),
        })
        .then_err(Error::AlreadyOpen);
}
