//! Given what the server has loaded, when a desk's event arrives, then this outcome: one test
//! per desk event type and outcome.

use super::*;
use crate::aggregate::replay;
use crate::check_in::Admission;
use crate::ids::{AdmissionId, DeviceId, OrderId, PrintJobId, SeatTypeId, TicketId};
use crate::order::{self, PaymentMethod};
use crate::seat_assignments::{Attendee, Seat};
use crate::testing::at;
use crate::walk_in::tests::{
    CONF, DESK_A, DESK_B, GENERAL, SALE_A, STANDING, conference, eur, recorded, seats_with, sell,
    ticket,
};

const TICKET: TicketId = TicketId::from_u128(71);
const FIRST: AdmissionId = AdmissionId::from_u128(301);
const SECOND: AdmissionId = AdmissionId::from_u128(302);
const ORDER: OrderId = OrderId::from_u128(501);
const C1: ConflictId = ConflictId::from_u128(901);
const C2: ConflictId = ConflictId::from_u128(902);
const JOB: PrintJobId = PrintJobId::from_u128(401);

fn code() -> TicketCode {
    TicketCode::parse("K7QF-3XP9").unwrap()
}

/// When: the server re-decides `event` against `given`, at ten, with conflict ids C1, C2, ….
fn when(given: &Loaded, event: impl Into<Event>) -> Result<Outcome, Error> {
    redecide(
        &event.into(),
        given,
        Context {
            conference: CONF,
            now: at(10, 0),
            conflicts: (901..).map(ConflictId::from_u128),
            clock_skew_ms: None,
            vouched: Vec::new(),
        },
    )
}

fn outcome(
    status: OutcomeStatus,
    reason: Option<&'static str>,
    desk_event: Option<Event>,
    events: Vec<Event>,
) -> Result<Outcome, Error> {
    Ok(Outcome {
        status,
        reason,
        desk_event,
        events,
    })
}

// ---- admissions ----

fn admission(id: AdmissionId, desk: DeviceId, minute: u32) -> Admission {
    Admission {
        admission: id,
        desk,
        gate: "north".into(),
        at: at(9, minute),
    }
}

fn admitted(a: Admission) -> check_in::Event {
    check_in::Event::Admitted {
        conference: CONF,
        code: code(),
        ticket: Some(TICKET),
        admission: a,
        override_reason: None,
    }
}

fn loaded_admissions(history: &[check_in::Event], status: TicketStatus) -> Loaded {
    Loaded {
        check_in: replay(history),
        ticket_status: status,
        ..Loaded::default()
    }
}

#[test]
fn needs_of_an_admission_are_its_stream_and_its_tickets_status() {
    assert_eq!(
        needs(&admitted(admission(FIRST, DESK_A, 1)).into()),
        vec![
            Need::CheckIn(StreamId::admission(CONF, &code())),
            Need::TicketStatus {
                conference: CONF,
                code: code()
            },
            Need::Conference(StreamId::conference(CONF)),
        ]
    );
}

#[test]
fn a_first_admission_of_a_valid_ticket_is_accepted_as_it_was() {
    let given = loaded_admissions(&[], TicketStatus::Valid);
    let event = admitted(admission(FIRST, DESK_A, 1));
    assert_eq!(
        when(&given, event.clone()),
        outcome(OutcomeStatus::Accepted, None, Some(event.into()), vec![])
    );
}

#[test]
fn a_second_admission_is_recorded_flagged_and_opens_a_conflict() {
    let first = admission(FIRST, DESK_A, 1);
    let second = admission(SECOND, DESK_B, 2);
    let given = loaded_admissions(&[admitted(first.clone())], TicketStatus::Valid);
    assert_eq!(
        when(&given, admitted(second.clone())),
        outcome(
            OutcomeStatus::Accepted,
            Some(reason::DUPLICATE_ADMISSION),
            Some(admitted(second.clone()).into()),
            vec![
                check_in::Event::DuplicateFlagged {
                    conference: CONF,
                    code: code(),
                    duplicate: second.clone(),
                    first: first.clone(),
                }
                .into(),
                conflict::Event::Opened {
                    conflict: C1,
                    conference: CONF,
                    kind: ConflictKind::DuplicateAdmission {
                        code: code(),
                        first,
                        duplicate: second,
                    },
                    at: at(10, 0),
                }
                .into(),
            ]
        )
    );
}

#[test]
fn an_admission_of_a_ticket_that_admits_nobody_is_flagged_with_a_conflict() {
    let given = loaded_admissions(&[], TicketStatus::Withdrawn);
    let a = admission(FIRST, DESK_A, 1);
    let then = when(&given, admitted(a.clone())).unwrap();
    assert_eq!(then.status, OutcomeStatus::Accepted);
    assert_eq!(then.reason, Some(reason::INVALID_TICKET_ADMISSION));
    assert_eq!(
        then.events[1],
        conflict::Event::Opened {
            conflict: C1,
            conference: CONF,
            kind: ConflictKind::InvalidTicketAdmission {
                code: code(),
                admission: a,
                status: TicketStatus::Withdrawn,
            },
            at: at(10, 0),
        }
        .into()
    );
}

#[test]
fn a_second_admission_of_an_invalid_ticket_opens_two_conflicts_and_says_duplicate() {
    let given = loaded_admissions(
        &[admitted(admission(FIRST, DESK_A, 1))],
        TicketStatus::Unknown,
    );
    let then = when(&given, admitted(admission(SECOND, DESK_B, 2))).unwrap();
    assert_eq!(then.reason, Some(reason::DUPLICATE_ADMISSION));
    let opened: Vec<ConflictId> = then
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Conflict(conflict::Event::Opened { conflict, .. }) => Some(*conflict),
            _ => None,
        })
        .collect();
    assert_eq!(opened, vec![C1, C2]);
}

#[test]
fn an_admission_pushed_again_is_accepted_and_records_nothing() {
    let a = admission(FIRST, DESK_A, 1);
    let given = loaded_admissions(&[admitted(a.clone())], TicketStatus::Valid);
    assert_eq!(
        when(&given, admitted(a)),
        outcome(OutcomeStatus::Accepted, None, None, vec![])
    );
}

fn undone(admission: AdmissionId) -> check_in::Event {
    check_in::Event::Undone {
        conference: CONF,
        code: code(),
        admission,
        desk: DESK_A,
        at: at(9, 30),
        reason: "wrong person".into(),
    }
}

#[test]
fn an_undo_of_an_admission_is_accepted() {
    let given = loaded_admissions(
        &[admitted(admission(FIRST, DESK_A, 1))],
        TicketStatus::Valid,
    );
    assert_eq!(
        when(&given, undone(FIRST)),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(undone(FIRST).into()),
            vec![]
        )
    );
}

#[test]
fn an_undo_of_a_ticket_never_admitted_is_rejected() {
    let given = loaded_admissions(&[], TicketStatus::Valid);
    assert_eq!(
        when(&given, undone(FIRST)),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::NOT_ADMITTED),
            None,
            vec![]
        )
    );
}

// ---- badges ----

fn printed(job: PrintJobId) -> badge::Event {
    badge::Event::Printed {
        print: badge::Print {
            conference: CONF,
            ticket: TICKET,
            code: code(),
            desk: DESK_A,
            printer: "Badges".into(),
            job,
            at: at(9, 1),
        },
    }
}

#[test]
fn a_badge_print_is_accepted_and_recorded_once() {
    let fresh = Loaded::default();
    assert_eq!(
        needs(&printed(JOB).into()),
        vec![
            Need::Badge(StreamId::badge(TICKET)),
            Need::TicketConference(TICKET)
        ]
    );
    assert_eq!(
        when(&fresh, printed(JOB)),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(printed(JOB).into()),
            vec![]
        )
    );
    let known = Loaded {
        badge: replay(&[printed(JOB)]),
        ..Loaded::default()
    };
    assert_eq!(
        when(&known, printed(JOB)),
        outcome(OutcomeStatus::Accepted, None, None, vec![])
    );
}

// ---- attendee corrections ----

fn attendee(first: &str, email: &str) -> Attendee {
    Attendee {
        first_name: first.into(),
        last_name: "Lovelace".into(),
        email: email.into(),
        company: String::new(),
        attendee_types: vec![],
        ..Default::default()
    }
}

fn assigned_to(holder: Attendee) -> Loaded {
    Loaded {
        assignments: replay(&[
            seat_assignments::Event::Created {
                order: ORDER,
                conference: CONF,
                seats: vec![Seat {
                    position: 1,
                    ticket: TICKET,
                    code: code(),
                    seat_type: GENERAL,
                }],
            },
            seat_assignments::Event::Assigned {
                order: ORDER,
                position: 1,
                ticket: TICKET,
                attendee: holder,
            },
        ]),
        ..Loaded::default()
    }
}

fn corrected(ticket: TicketId, to: Attendee) -> seat_assignments::Event {
    seat_assignments::Event::Updated {
        order: ORDER,
        position: 1,
        ticket,
        attendee: to,
    }
}

#[test]
fn a_correction_of_the_same_person_is_accepted_normalised() {
    let given = assigned_to(attendee("Ada", "ada@example.com"));
    let typed = attendee("  Adah ", "ADA@example.com");
    assert_eq!(
        when(&given, corrected(TICKET, typed)),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(corrected(TICKET, attendee("Adah", "ADA@example.com")).into()),
            vec![]
        )
    );
}

#[test]
fn a_correction_of_a_seat_that_went_to_someone_else_is_rejected() {
    let given = assigned_to(attendee("Ada", "ada@example.com"));
    assert_eq!(
        when(
            &given,
            corrected(TICKET, attendee("Bob", "bob@example.com"))
        ),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::REASSIGNED),
            None,
            vec![]
        )
    );
}

#[test]
fn a_correction_of_a_ticket_the_order_does_not_have_is_rejected() {
    let given = assigned_to(attendee("Ada", "ada@example.com"));
    let other = TicketId::from_u128(72);
    assert_eq!(
        when(&given, corrected(other, attendee("Ada", "ada@example.com"))),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::UNKNOWN_TICKET),
            None,
            vec![]
        )
    );
}

#[test]
fn a_correction_without_a_name_refuses_the_push() {
    let given = assigned_to(attendee("Ada", "ada@example.com"));
    let nameless = Attendee {
        first_name: " ".into(),
        last_name: String::new(),
        ..attendee("", "ada@example.com")
    };
    assert_eq!(
        when(&given, corrected(TICKET, nameless)).map_err(|e| e.code),
        Err("seat_assignments.name_required")
    );
}

// ---- walk-in sales ----

fn loaded_sale(remaining: i64) -> Loaded {
    Loaded {
        conference: conference(10),
        seats: seats_with(remaining),
        ..Loaded::default()
    }
}

fn sale_of(seat_type: SeatTypeId, n: u128) -> crate::walk_in::Sale {
    let tickets = (1..=n).map(|i| ticket(i, seat_type, "Ann")).collect();
    recorded(sell(
        SALE_A,
        DESK_A,
        10,
        tickets,
        19_900 * i64::try_from(n).unwrap(),
    ))
}

fn sale_recorded(sale: crate::walk_in::Sale) -> sale::Event {
    sale::Event::SaleRecorded { sale }
}

#[test]
fn a_sale_with_seats_left_is_accepted_and_confirmed() {
    let sale = sale_of(GENERAL, 2);
    assert_eq!(
        needs(&sale_recorded(sale.clone()).into()),
        vec![
            Need::Sale(StreamId::walk_in(SALE_A)),
            Need::ExistingTickets {
                conference: CONF,
                tickets: sale.tickets.iter().map(|t| t.ticket).collect(),
                codes: sale.tickets.iter().map(|t| t.code.clone()).collect(),
            },
            Need::Conference(StreamId::conference(CONF)),
            Need::Seats(StreamId::seats(CONF)),
        ]
    );
    let then = when(&loaded_sale(5), sale_recorded(sale.clone())).unwrap();
    assert_eq!(then.status, OutcomeStatus::Accepted);
    assert_eq!(then.reason, None);
    assert_eq!(then.desk_event, Some(sale_recorded(sale).into()));
    assert!(matches!(
        then.events.last(),
        Some(Event::WalkIn(sale::Event::Confirmed { .. }))
    ));
    assert!(
        then.events
            .iter()
            .any(|e| matches!(e, Event::Order(order::Event::Confirmed { .. })))
    );
}

#[test]
fn a_sale_with_no_seats_left_is_compensated_with_a_refund_and_a_conflict() {
    let sale = sale_of(GENERAL, 1);
    let then = when(&loaded_sale(0), sale_recorded(sale)).unwrap();
    assert_eq!(then.status, OutcomeStatus::Compensated);
    assert_eq!(then.reason, Some(reason::WALK_IN_REJECTED));
    assert!(then.events.iter().any(|e| matches!(
        e,
        Event::WalkIn(sale::Event::Rejected { refund_due, conflict: C1, .. })
            if *refund_due == eur(19_900)
    )));
    assert!(then.events.iter().any(|e| matches!(
        e,
        Event::Conflict(conflict::Event::Opened { conflict: C1, .. })
    )));
}

#[test]
fn a_sale_that_partly_fits_is_compensated_partially() {
    let then = when(&loaded_sale(1), sale_recorded(sale_of(GENERAL, 2))).unwrap();
    assert_eq!(then.status, OutcomeStatus::Compensated);
    assert_eq!(then.reason, Some(reason::WALK_IN_PARTIAL));
}

#[test]
fn a_sale_over_the_quota_of_an_overbook_seat_type_is_flagged_as_overbooked() {
    let then = when(&loaded_sale(0), sale_recorded(sale_of(STANDING, 1))).unwrap();
    assert_eq!(then.status, OutcomeStatus::Accepted);
    assert_eq!(then.reason, Some(reason::WALK_IN_OVERBOOKED));
}

#[test]
fn a_sale_the_server_has_already_is_a_duplicate_and_records_nothing() {
    let sale = sale_of(GENERAL, 1);
    let given = Loaded {
        sale: replay(&[sale_recorded(sale.clone())]),
        ..loaded_sale(5)
    };
    assert_eq!(
        when(&given, sale_recorded(sale)),
        outcome(OutcomeStatus::Duplicate, None, None, vec![])
    );
}

// ---- conflicts ----

fn opened() -> conflict::Event {
    conflict::Event::Opened {
        conflict: C1,
        conference: CONF,
        kind: ConflictKind::WalkInRejected {
            order: SALE_A,
            desk: DESK_A,
            tickets: vec![TicketId::from_u128(701)],
            refund_due: eur(19_900),
        },
        at: at(9, 50),
    }
}

fn loaded_conflict(history: &[conflict::Event]) -> Loaded {
    Loaded {
        conflict: replay(history),
        ..Loaded::default()
    }
}

fn acknowledged() -> conflict::Event {
    conflict::Event::Acknowledged {
        conflict: C1,
        by: Actor::Desk { device: DESK_A },
        at: at(10, 1),
        note: "looking for her".into(),
    }
}

fn resolved(resolution: Resolution, by: Actor) -> conflict::Event {
    conflict::Event::Resolved {
        conflict: C1,
        resolution,
        by,
        at: at(10, 2),
        note: "done".into(),
    }
}

#[test]
fn a_desk_acknowledging_an_open_conflict_is_accepted() {
    assert_eq!(
        when(&loaded_conflict(&[opened()]), acknowledged()),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(acknowledged().into()),
            vec![]
        )
    );
}

#[test]
fn a_desk_recording_a_refund_resolves_the_conflict() {
    let refund = resolved(
        Resolution::RefundRecorded {
            amount: eur(19_900),
            method: PaymentMethod::Cash,
        },
        Actor::Desk { device: DESK_A },
    );
    assert_eq!(
        when(&loaded_conflict(&[opened()]), refund.clone()),
        outcome(OutcomeStatus::Accepted, None, Some(refund.into()), vec![])
    );
}

#[test]
fn a_desk_acting_on_a_conflict_the_server_does_not_have_is_rejected_with_its_reason() {
    assert_eq!(
        when(&loaded_conflict(&[]), acknowledged()),
        outcome(
            OutcomeStatus::Rejected,
            Some("conflict.not_found"),
            None,
            vec![]
        )
    );
}

#[test]
fn honouring_a_sale_or_acting_as_head_office_is_not_a_desks_to_push() {
    let given = loaded_conflict(&[opened()]);
    for event in [
        resolved(Resolution::SaleHonoured, Actor::Desk { device: DESK_A }),
        resolved(
            Resolution::Closed,
            Actor::HeadOffice {
                user: "lena@example.com".into(),
            },
        ),
    ] {
        assert_eq!(
            when(&given, event),
            outcome(
                OutcomeStatus::Rejected,
                Some(reason::CONFLICT_NOT_FOR_DESKS),
                None,
                vec![]
            )
        );
    }
}

#[test]
fn an_action_on_a_resolved_conflict_is_rejected() {
    let closed = resolved(Resolution::Closed, Actor::Desk { device: DESK_B });
    assert_eq!(
        when(&loaded_conflict(&[opened(), closed]), acknowledged()),
        outcome(
            OutcomeStatus::Rejected,
            Some("conflict.already_resolved"),
            None,
            vec![]
        )
    );
}

// ---- what desks may not push ----

#[test]
fn an_event_only_the_server_records_is_rejected_and_needs_nothing() {
    let expired: Event = order::Event::Expired { order: ORDER }.into();
    assert!(needs(&expired).is_empty());
    assert_eq!(
        when(&Loaded::default(), expired),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::NOT_A_DESK_EVENT),
            None,
            vec![]
        )
    );
    let flagged: Event = check_in::Event::DuplicateFlagged {
        conference: CONF,
        code: code(),
        duplicate: admission(SECOND, DESK_B, 2),
        first: admission(FIRST, DESK_A, 1),
    }
    .into();
    assert_eq!(
        when(&Loaded::default(), flagged).map(|o| o.status),
        Ok(OutcomeStatus::Rejected)
    );
}

// ---- what a desk may not do to another conference, or claim ----

const OTHER: ConferenceId = ConferenceId::from_u128(2);

#[test]
fn a_correction_of_another_conferences_order_is_rejected() {
    let mut given = assigned_to(attendee("Ada", "ada@example.com"));
    given.assignments.conference = Some(OTHER);
    assert_eq!(
        when(
            &given,
            corrected(TICKET, attendee("Adah", "ada@example.com"))
        ),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::OTHER_CONFERENCE),
            None,
            vec![]
        )
    );
}

#[test]
fn an_action_on_another_conferences_conflict_is_rejected() {
    let other = match opened() {
        conflict::Event::Opened {
            conflict, kind, at, ..
        } => conflict::Event::Opened {
            conflict,
            conference: OTHER,
            kind,
            at,
        },
        e => e,
    };
    assert_eq!(
        when(&loaded_conflict(&[other]), acknowledged()),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::OTHER_CONFERENCE),
            None,
            vec![]
        )
    );
}

#[test]
fn a_desk_acknowledging_as_head_office_is_rejected() {
    let as_head_office = conflict::Event::Acknowledged {
        conflict: C1,
        by: Actor::HeadOffice {
            user: "lena@example.com".into(),
        },
        at: at(10, 1),
        note: "seen".into(),
    };
    assert_eq!(
        when(&loaded_conflict(&[opened()]), as_head_office),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::CONFLICT_NOT_FOR_DESKS),
            None,
            vec![]
        )
    );
}

#[test]
fn a_badge_print_of_another_conferences_ticket_is_rejected() {
    let given = Loaded {
        ticket_conference: Some(OTHER),
        ..Loaded::default()
    };
    assert_eq!(
        when(&given, printed(JOB)),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::OTHER_CONFERENCE),
            None,
            vec![]
        )
    );
}

fn refused(sale: &crate::walk_in::Sale, why: &'static str) -> Vec<Event> {
    vec![
        conflict::Event::Opened {
            conflict: C1,
            conference: CONF,
            kind: ConflictKind::SaleRefused {
                order: sale.order,
                desk: sale.desk,
                reason: why.to_owned(),
                amount_taken: sale.amount_taken,
            },
            at: at(10, 0),
        }
        .into(),
    ]
}

#[test]
fn a_sale_naming_a_ticket_that_exists_is_not_recorded_and_opens_a_conflict() {
    let sale = sale_of(GENERAL, 2);
    let given = Loaded {
        existing_tickets: 1,
        ..loaded_sale(5)
    };
    assert_eq!(
        when(&given, sale_recorded(sale.clone())),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::TICKET_EXISTS),
            None,
            refused(&sale, reason::TICKET_EXISTS)
        )
    );
}

#[test]
fn a_sale_that_does_not_add_up_is_not_recorded_and_opens_a_conflict() {
    let honest = sale_of(GENERAL, 1);
    let huge = crate::walk_in::Sale {
        amount_taken: eur(i64::MAX),
        ..honest.clone()
    };
    let cheap = crate::walk_in::Sale {
        total: eur(1),
        ..honest.clone()
    };
    let twice = crate::walk_in::Sale {
        tickets: vec![honest.tickets[0].clone(), honest.tickets[0].clone()],
        ..honest.clone()
    };
    for (sale, why) in [
        (huge, "walk_in.amount_out_of_range"),
        (cheap, "walk_in.total_disagrees"),
        (twice, "walk_in.duplicate_ticket"),
    ] {
        assert_eq!(
            when(&loaded_sale(5), sale_recorded(sale.clone())),
            outcome(
                OutcomeStatus::Rejected,
                Some(why),
                None,
                refused(&sale, why)
            ),
            "{why}"
        );
    }
}

#[test]
fn a_sale_claiming_a_lease_the_desk_was_never_granted_is_not_recorded() {
    let honest = sale_of(GENERAL, 1);
    let forged = crate::walk_in::Sale {
        from_leases: vec![crate::walk_in::LeaseClaim {
            lease: crate::ids::LeaseId::from_u128(4040),
            seat_type: GENERAL,
            quantity: 1,
        }],
        ..honest
    };
    let why = "walk_in.lease_not_held";
    assert_eq!(
        when(&loaded_sale(0), sale_recorded(forged.clone())),
        outcome(
            OutcomeStatus::Rejected,
            Some(why),
            None,
            refused(&forged, why)
        )
    );
}

#[test]
fn the_acting_desk_is_the_one_each_desk_event_names() {
    let a = admission(FIRST, DESK_A, 1);
    assert_eq!(Event::from(admitted(a)).acting_desk(), Some(DESK_A));
    assert_eq!(Event::from(printed(JOB)).acting_desk(), Some(DESK_A));
    assert_eq!(Event::from(acknowledged()).acting_desk(), Some(DESK_A));
    assert_eq!(
        Event::from(sale_recorded(sale_of(GENERAL, 1))).acting_desk(),
        Some(DESK_A)
    );
    assert_eq!(
        Event::from(corrected(TICKET, attendee("Ada", "ada@example.com"))).acting_desk(),
        None
    );
}

// ---- hand-outs ----

const HAND_1: crate::ids::HandOutId = crate::ids::HandOutId::from_u128(601);
const HAND_2: crate::ids::HandOutId = crate::ids::HandOutId::from_u128(602);

fn handed(id: crate::ids::HandOutId, desk: DeviceId, size: &str) -> hand_out::Given {
    hand_out::Given {
        hand_out: id,
        desk,
        at: at(9, 1),
        size: Some(size.into()),
    }
}

fn hand_out_given(g: hand_out::Given) -> hand_out::Event {
    hand_out::Event::Given {
        conference: CONF,
        code: code(),
        item: "t-shirt".into(),
        given: g,
    }
}

/// The server has the conference with a T-shirt in S, M, L, the ticket, and `history`.
fn loaded_hand_outs(history: &[hand_out::Event]) -> Loaded {
    let conference = conference(100).evolve(&crate::conference::Event::HandOutsSet {
        conference: CONF,
        items: vec![crate::hand_out::tests::t_shirt()],
    });
    Loaded {
        hand_outs: replay(history),
        conference,
        ticket_status: TicketStatus::Valid,
        ..Loaded::default()
    }
}

#[test]
fn a_hand_out_is_accepted_as_it_was() {
    let event = hand_out_given(handed(HAND_1, DESK_A, "M"));
    assert_eq!(
        when(&loaded_hand_outs(&[]), event.clone()),
        outcome(OutcomeStatus::Accepted, None, Some(event.into()), vec![])
    );
}

#[test]
fn a_second_hand_out_of_an_item_is_recorded_flagged_and_opens_a_conflict() {
    let first = handed(HAND_1, DESK_A, "M");
    let second = handed(HAND_2, DESK_B, "L");
    let given = loaded_hand_outs(&[hand_out_given(first.clone())]);
    assert_eq!(
        when(&given, hand_out_given(second.clone())),
        outcome(
            OutcomeStatus::Accepted,
            Some(reason::DUPLICATE_HAND_OUT),
            Some(hand_out_given(second.clone()).into()),
            vec![
                hand_out::Event::DuplicateFlagged {
                    conference: CONF,
                    code: code(),
                    item: "t-shirt".into(),
                    duplicate: second.clone(),
                    first: first.clone(),
                }
                .into(),
                conflict::Event::Opened {
                    conflict: C1,
                    conference: CONF,
                    kind: ConflictKind::DuplicateHandOut {
                        code: code(),
                        item: "t-shirt".into(),
                        first,
                        duplicate: second,
                    },
                    at: at(10, 0),
                }
                .into(),
            ]
        )
    );
}

/// What a desk claims is checked: the item, its size and the ticket must exist.
#[test]
fn a_hand_out_of_an_item_size_or_ticket_the_conference_does_not_have_is_rejected() {
    let unknown_item = hand_out::Event::Given {
        conference: CONF,
        code: code(),
        item: "gold-bar".into(),
        given: handed(HAND_1, DESK_A, "M"),
    };
    assert_eq!(
        when(&loaded_hand_outs(&[]), unknown_item),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::UNKNOWN_HAND_OUT),
            None,
            vec![]
        )
    );
    for size in ["XXL", "m", ""] {
        assert_eq!(
            when(
                &loaded_hand_outs(&[]),
                hand_out_given(handed(HAND_1, DESK_A, size))
            ),
            outcome(
                OutcomeStatus::Rejected,
                Some(reason::UNKNOWN_HAND_OUT),
                None,
                vec![]
            ),
            "{size:?}"
        );
    }
    let unknown_ticket = Loaded {
        ticket_status: TicketStatus::Unknown,
        ..loaded_hand_outs(&[])
    };
    assert_eq!(
        when(&unknown_ticket, hand_out_given(handed(HAND_1, DESK_A, "M"))),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::HAND_OUT_UNKNOWN_TICKET),
            None,
            vec![]
        )
    );
}

#[test]
fn an_undo_of_a_hand_out_is_accepted_once_it_was_seen_and_rejected_otherwise() {
    let undo = |id| hand_out::Event::Undone {
        conference: CONF,
        code: code(),
        item: "t-shirt".into(),
        hand_out: id,
        desk: DESK_A,
        at: at(9, 3),
        reason: "wrong size".into(),
    };
    let given = loaded_hand_outs(&[hand_out_given(handed(HAND_1, DESK_A, "M"))]);
    assert_eq!(
        when(&given, undo(HAND_1)),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(undo(HAND_1).into()),
            vec![]
        )
    );
    assert_eq!(
        when(&given, undo(HAND_2)),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::NOT_HANDED_OUT),
            None,
            vec![]
        )
    );
}

// ---- admission rules ----

/// The conference says General admits on Monday only; a desk whose clock ran a day behind
/// pushes Tuesday's scan stamped Monday. The server takes the push's clock skew off the scan
/// time, records the admission (it happened) and flags it with a conflict that says it was
/// the clock.
#[test]
fn an_admission_a_desks_clock_put_on_the_wrong_day_is_recorded_flagged_and_opens_a_conflict() {
    use crate::admission_rules::{AdmissionRules, RuleBreach};
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let rules = AdmissionRules {
        valid_on: vec![monday],
        ..AdmissionRules::default()
    };
    let conference = conference(100).evolve(&crate::conference::Event::AdmissionRulesSet {
        conference: CONF,
        seat_type: GENERAL,
        rules,
    });
    let given = Loaded {
        conference,
        ticket_seat_type: Some(GENERAL),
        ..loaded_admissions(&[], TicketStatus::Valid)
    };
    let stamped = admission(FIRST, DESK_A, 1);
    let decided = redecide(
        &admitted(stamped.clone()).into(),
        &given,
        Context {
            conference: CONF,
            now: at(10, 0) + chrono::Duration::days(1),
            conflicts: (901..).map(ConflictId::from_u128),
            clock_skew_ms: Some(-24 * 3_600_000),
            vouched: Vec::new(),
        },
    );
    let breach = RuleBreach::WrongDay {
        day: monday + chrono::Days::new(1),
        valid_on: vec![monday],
    };
    assert_eq!(
        decided,
        outcome(
            OutcomeStatus::Accepted,
            Some(reason::OUTSIDE_RULES_ADMISSION),
            Some(admitted(stamped.clone()).into()),
            vec![
                check_in::Event::OutsideRulesFlagged {
                    conference: CONF,
                    code: code(),
                    admission: stamped.clone(),
                    breach: breach.clone(),
                    by_clock: true,
                }
                .into(),
                conflict::Event::Opened {
                    conflict: C1,
                    conference: CONF,
                    kind: ConflictKind::AdmissionOutsideRules {
                        code: code(),
                        admission: stamped,
                        breach,
                        by_clock: true,
                    },
                    at: at(10, 0) + chrono::Duration::days(1),
                }
                .into(),
            ]
        )
    );
    // Without the skew, the same scan is inside the rules.
    assert_eq!(
        when(&given, admitted(admission(SECOND, DESK_A, 1))).map(|o| o.events.len()),
        Ok(0)
    );
}

/// A name for the badge only: recorded for a ticket the server has (the last one wins), and
/// rejected for a ticket it does not know.
#[test]
fn a_badge_name_is_recorded_for_a_known_ticket_and_rejected_for_an_unknown_one() {
    let set = badge::Event::NameSet {
        name: badge::NameOnBadge {
            conference: CONF,
            ticket: TICKET,
            code: code(),
            desk: DESK_A,
            at: at(9, 2),
            preferred_name: Some("Bill".into()),
            pronouns: None,
        },
    };
    let known = Loaded {
        ticket_conference: Some(CONF),
        ..Loaded::default()
    };
    assert_eq!(
        when(&known, set.clone()),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(set.clone().into()),
            vec![]
        )
    );
    assert_eq!(
        when(&Loaded::default(), set),
        outcome(
            OutcomeStatus::Rejected,
            Some(reason::UNKNOWN_TICKET),
            None,
            vec![]
        )
    );
}

// ---- rooms ----

fn room_visit(id: u128, desk: DeviceId, minute: u32) -> room::Visit {
    room::Visit {
        visit: crate::ids::RoomVisitId::from_u128(id),
        desk,
        at: at(10, minute),
    }
}

fn room_entered(v: room::Visit, why: Option<&str>) -> room::Event {
    room::Event::Entered {
        conference: CONF,
        code: code(),
        room: "Workshop A".into(),
        visit: v,
        override_reason: why.map(str::to_owned),
    }
}

/// The server has the conference with "Workshop A" (for holders of STANDING, 30 places),
/// the ticket, whose holder holds `holds`, `occupancy` people in the room, and `history`.
fn loaded_room(history: &[room::Event], holds: &[SeatTypeId], occupancy: u32) -> Loaded {
    let conference = conference(100).evolve(&crate::conference::Event::RoomsSet {
        conference: CONF,
        rooms: vec![room::Room {
            name: "Workshop A".into(),
            seat_types: vec![STANDING],
            capacity: Some(30),
        }],
    });
    Loaded {
        rooms: replay(history),
        conference,
        ticket_status: TicketStatus::Valid,
        holds: holds.to_vec(),
        room_occupancy: occupancy,
        ..Loaded::default()
    }
}

#[test]
fn needs_of_a_room_entry_are_its_stream_the_room_and_what_the_holder_holds() {
    let needs = needs(&room_entered(room_visit(1, DESK_A, 0), None).into());
    assert!(needs.contains(&Need::Room(StreamId::room(CONF, &code()))));
    assert!(needs.contains(&Need::RoomOccupancy {
        conference: CONF,
        room: "Workshop A".into()
    }));
    assert!(needs.contains(&Need::Holds {
        conference: CONF,
        code: code()
    }));
}

#[test]
fn a_room_entry_of_an_entitled_holder_with_room_left_is_accepted_as_it_was() {
    let event = room_entered(room_visit(1, DESK_A, 0), None);
    assert_eq!(
        when(&loaded_room(&[], &[GENERAL, STANDING], 12), event.clone()),
        outcome(OutcomeStatus::Accepted, None, Some(event.into()), vec![])
    );
}

#[test]
fn a_room_entry_over_capacity_counting_other_desks_is_recorded_flagged_with_a_conflict() {
    let v = room_visit(1, DESK_B, 3);
    let event = room_entered(v.clone(), None);
    let breach = room::RoomBreach::OverCapacity {
        occupancy: 30,
        capacity: 30,
    };
    let flag = room::Event::EntryFlagged {
        conference: CONF,
        code: code(),
        room: "Workshop A".into(),
        visit: v.clone(),
        breach: breach.clone(),
    };
    assert_eq!(
        when(&loaded_room(&[], &[STANDING], 30), event.clone()),
        outcome(
            OutcomeStatus::Accepted,
            Some(reason::ROOM_ENTRY_FLAGGED),
            Some(event.into()),
            vec![
                flag.into(),
                conflict::Event::Opened {
                    conflict: C1,
                    conference: CONF,
                    kind: ConflictKind::RoomEntry {
                        code: code(),
                        room: "Workshop A".into(),
                        visit: v,
                        breach,
                    },
                    at: at(10, 0),
                }
                .into(),
            ]
        )
    );
}

#[test]
fn a_room_entry_of_someone_not_entitled_is_flagged_unless_the_desk_gave_a_reason() {
    let flagged = when(
        &loaded_room(&[], &[GENERAL], 0),
        room_entered(room_visit(1, DESK_A, 0), None),
    )
    .unwrap();
    assert_eq!(flagged.reason, Some(reason::ROOM_ENTRY_FLAGGED));
    assert!(flagged.events.iter().any(|e| matches!(
        e,
        Event::Conflict(conflict::Event::Opened {
            kind: ConflictKind::RoomEntry {
                breach: room::RoomBreach::NotEntitled,
                ..
            },
            ..
        })
    )));
    let with_reason = room_entered(room_visit(1, DESK_A, 0), Some("speaker's guest"));
    assert_eq!(
        when(&loaded_room(&[], &[GENERAL], 0), with_reason.clone()),
        outcome(
            OutcomeStatus::Accepted,
            None,
            Some(with_reason.into()),
            vec![]
        )
    );
}

#[test]
fn a_room_entry_into_a_room_the_conference_does_not_have_or_of_an_unknown_ticket_is_rejected() {
    let mut elsewhere = room_entered(room_visit(1, DESK_A, 0), None);
    if let room::Event::Entered { room, .. } = &mut elsewhere {
        *room = "Broom cupboard".into();
    }
    assert_eq!(
        when(&loaded_room(&[], &[STANDING], 0), elsewhere),
        Ok(Outcome::rejected(reason::UNKNOWN_ROOM))
    );
    let unknown = Loaded {
        ticket_status: TicketStatus::Unknown,
        ..loaded_room(&[], &[], 0)
    };
    assert_eq!(
        when(&unknown, room_entered(room_visit(1, DESK_A, 0), None)),
        Ok(Outcome::rejected(reason::ROOM_UNKNOWN_TICKET))
    );
}

#[test]
fn a_room_entry_or_leave_pushed_again_is_accepted_and_records_nothing() {
    let entry = room_entered(room_visit(1, DESK_A, 0), None);
    let leave = room::Event::Left {
        conference: CONF,
        code: code(),
        room: "Workshop A".into(),
        visit: room_visit(2, DESK_A, 9),
    };
    let given = loaded_room(&[entry.clone(), leave.clone()], &[STANDING], 31);
    assert_eq!(
        when(&given, entry),
        outcome(OutcomeStatus::Accepted, None, None, vec![])
    );
    assert_eq!(
        when(&given, leave),
        outcome(OutcomeStatus::Accepted, None, None, vec![])
    );
}
