//! Events as a contract: the golden corpus in `shared/fixtures/events/`.
//!
//! Every event type has a fixture of its current schema version that must decode to the sample
//! below, and every older fixture must still decode. Changing an event so that stored JSON no
//! longer reads fails here. To add a new event type: add a sample, list it in `EVENT_TYPES`,
//! and run `UPDATE_GOLDEN=1 cargo test -p onsite-shared golden` once to write its fixture.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;

use super::*;
use crate::badge::Print;
use crate::check_in::{Admission, TicketStatus};
use crate::conference::{
    AttendeeType, Colour, ConferenceDetails, OversellPolicy, SeatKind, SeatType,
};
use crate::conflict::{Actor, ConflictKind, Resolution};
use crate::ids::{AdmissionId, AttendeeTypeId, ConflictId, PrintJobId, SeatTypeId};
use crate::money::{Currency, Money};
use crate::order::{OrderLine, OrderOrigin, Payment, PaymentMethod, Registrant};
use crate::seat_assignments::{Attendee, Seat};
use crate::seat_availability::{SeatDelta, SeatQuantity};
use crate::testing::at;
use crate::walk_in::{RejectReason, Sale, SaleLine, SaleTicket};

const CONF: ConferenceId = ConferenceId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
const ORDER: OrderId = OrderId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0007);
const TICKET: TicketId = TicketId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0071);
const DESK: DeviceId = DeviceId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0201);
const GENERAL: SeatTypeId = SeatTypeId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0010);
const CONFLICT: ConflictId = ConflictId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0901);

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn code() -> TicketCode {
    TicketCode::parse("K7QF-3XP9").unwrap()
}

fn q() -> Vec<SeatQuantity> {
    vec![SeatQuantity {
        seat_type: GENERAL,
        quantity: 2,
    }]
}

fn details() -> ConferenceDetails {
    ConferenceDetails {
        name: "CQRS Summit".into(),
        slug: "cqrs-summit".into(),
        description: "Two days of event sourcing".into(),
        venue: "Kongresshaus Zürich".into(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        currency: Currency::EUR,
        max_seats_per_order: None,
        time_zone: None,
        owner_name: None,
    }
}

fn attendee() -> Attendee {
    Attendee {
        first_name: "Łucja".into(),
        last_name: "Ñuñez".into(),
        email: "lucja@example.com".into(),
        company: "Łódź Systems".into(),
        attendee_types: vec![AttendeeTypeId::parse("speaker").unwrap()],
        ..Default::default()
    }
}

fn admission(n: u128) -> Admission {
    Admission {
        admission: AdmissionId::from_u128(n),
        desk: DESK,
        gate: "north".into(),
        at: at(9, 1),
    }
}

fn print() -> Print {
    Print {
        conference: CONF,
        ticket: TICKET,
        code: code(),
        desk: DESK,
        printer: "BadgePDF".into(),
        job: PrintJobId::from_u128(0x51),
        at: at(9, 2),
    }
}

fn sale() -> Sale {
    Sale {
        conference: CONF,
        order: ORDER,
        desk: DESK,
        sold_at: at(9, 5),
        lines: vec![SaleLine {
            seat_type: GENERAL,
            name: "General".into(),
            unit_price: eur(19_900),
            quantity: 1,
        }],
        tickets: vec![SaleTicket {
            ticket: TICKET,
            code: code(),
            seat_type: GENERAL,
            attendee: attendee(),
        }],
        payment_method: PaymentMethod::Cash,
        amount_taken: eur(20_000),
        total: eur(19_900),
        from_leases: vec![],
    }
}

/// One value of every event variant.
fn hand_out(id: u128, minute: u32) -> crate::hand_out::Given {
    crate::hand_out::Given {
        hand_out: crate::ids::HandOutId::from_u128(id),
        desk: DESK,
        at: at(9, minute),
        size: Some("M".into()),
    }
}

fn visit(id: u128, minute: u32) -> crate::room::Visit {
    crate::room::Visit {
        visit: crate::ids::RoomVisitId::from_u128(id),
        desk: DESK,
        at: at(10, minute),
    }
}

/// The built-in template set as the `conference.badge_templates_set` fixture recorded it:
/// before the built-in templates printed pronouns (a pronouns line under the company, the
/// add-ons' box made smaller for it). Fixtures are never rewritten.
fn built_in_set_before_pronouns() -> crate::badge_template::TemplateSet {
    use crate::badge_template::{Element, Field};
    let mut set = crate::badge_template::TemplateSet::default_set();
    for t in &mut set.templates {
        t.elements.retain(|e| {
            !matches!(
                e,
                Element::Text {
                    field: Field::Pronouns,
                    ..
                }
            )
        });
        for e in &mut t.elements {
            if let Element::Text {
                field: Field::Entitlements,
                area,
                ..
            } = e
            {
                (area.y, area.h) = match t.id.as_str() {
                    "badge-4x3in" => (53.0, 18.0),
                    "badge-a6" => (86.0, 14.0),
                    _ => (37.0, 13.0),
                };
            }
        }
    }
    set
}

fn samples() -> Vec<Event> {
    use crate::{
        badge as b, check_in as c, conference as k, conflict as x, order as o,
        seat_assignments as a,
    };
    use crate::{seat_availability as s, walk_in as w};
    let seat_type = SeatType {
        id: GENERAL,
        name: "General admission".into(),
        description: "Both days".into(),
        price: eur(19_900),
        quota: 500,
        kind: SeatKind::Admission,
        policy: OversellPolicy::Reject,
    };
    let delta = vec![SeatDelta {
        seat_type: GENERAL,
        delta: -2,
    }];
    vec![
        k::Event::Created {
            conference: CONF,
            details: details(),
            owner_email: "org@example.com".into(),
        }
        .into(),
        k::Event::Updated {
            conference: CONF,
            details: details(),
        }
        .into(),
        k::Event::Published { conference: CONF }.into(),
        k::Event::Unpublished { conference: CONF }.into(),
        k::Event::SeatTypeCreated {
            conference: CONF,
            seat_type,
        }
        .into(),
        k::Event::SeatTypeUpdated {
            conference: CONF,
            seat_type: GENERAL,
            name: "General".into(),
            description: String::new(),
            price: eur(24_900),
        }
        .into(),
        k::Event::SeatQuotaChanged {
            conference: CONF,
            seat_type: GENERAL,
            previous: 500,
            quota: 450,
        }
        .into(),
        k::Event::SeatTypePolicyChanged {
            conference: CONF,
            seat_type: GENERAL,
            policy: OversellPolicy::Overbook,
        }
        .into(),
        k::Event::SeatTypeRemoved {
            conference: CONF,
            seat_type: GENERAL,
        }
        .into(),
        k::Event::AttendeeTypeDefined {
            conference: CONF,
            attendee_type: AttendeeType {
                id: AttendeeTypeId::parse("speaker").unwrap(),
                name: "Speaker".into(),
                badge_colour: Colour::parse("#E53935").unwrap(),
            },
        }
        .into(),
        k::Event::BadgeTemplatesSet {
            conference: CONF,
            templates: Some(
                crate::badge_template::CheckedTemplates::new(built_in_set_before_pronouns())
                    .unwrap(),
            ),
        }
        .into(),
        k::Event::AttendeeTypeTemplateSet {
            conference: CONF,
            attendee_type: AttendeeTypeId::parse("speaker").unwrap(),
            template: Some("badge-a6".into()),
        }
        .into(),
        k::Event::DeskDefaultsSet {
            conference: CONF,
            defaults: crate::conference::DeskDefaults {
                auto_print: Some(crate::badge::AutoPrint::Always),
                badge_template: Some("badge-4x3in".into()),
                printer: Some("badges".into()),
            },
        }
        .into(),
        k::Event::ResultCardSet {
            conference: CONF,
            card: crate::conference::ResultCard {
                fields: vec![
                    crate::conference::CardField::SeatType,
                    crate::conference::CardField::Note,
                    crate::conference::CardField::Custom("dietary".into()),
                ],
                gates: [(
                    "press desk".to_owned(),
                    vec![crate::conference::CardField::Email],
                )]
                .into(),
            },
        }
        .into(),
        k::Event::GatesSet {
            conference: CONF,
            gates: crate::conference::Gates {
                gates: vec![crate::conference::Gate {
                    name: "north exit".into(),
                    direction: crate::conference::GateDirection::Out,
                    zone: "hall".into(),
                }],
                no_reentry: vec!["workshop".into()],
            },
        }
        .into(),
        k::Event::AdmissionRulesSet {
            conference: CONF,
            seat_type: GENERAL,
            rules: crate::admission_rules::AdmissionRules {
                valid_on: vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()],
                earliest_entry: chrono::NaiveTime::from_hms_opt(8, 0, 0),
                id_check: true,
                minor: false,
            },
        }
        .into(),
        k::Event::RoomsSet {
            conference: CONF,
            rooms: vec![crate::room::Room {
                name: "Workshop A".into(),
                seat_types: vec![GENERAL],
                capacity: Some(30),
            }],
        }
        .into(),
        k::Event::HandOutsSet {
            conference: CONF,
            items: vec![crate::hand_out::Item {
                id: "t-shirt".into(),
                name: "T-shirt".into(),
                sizes: vec!["S".into(), "M".into(), "L".into()],
                seat_types: vec![GENERAL],
                attendee_types: vec![AttendeeTypeId::parse("speaker").unwrap()],
            }],
        }
        .into(),
        s::Event::AvailableSeatsChanged {
            conference: CONF,
            seats: vec![SeatDelta {
                seat_type: GENERAL,
                delta: 500,
            }],
        }
        .into(),
        s::Event::SeatsReserved {
            conference: CONF,
            reservation: ORDER,
            details: q(),
            available_seats_changed: delta,
        }
        .into(),
        s::Event::ReservationCancelled {
            conference: CONF,
            reservation: ORDER,
            available_seats_changed: vec![SeatDelta {
                seat_type: GENERAL,
                delta: 2,
            }],
        }
        .into(),
        s::Event::ReservationCommitted {
            conference: CONF,
            reservation: ORDER,
        }
        .into(),
        s::Event::SeatsOverbooked {
            conference: CONF,
            reservation: ORDER,
            seats: q(),
            reason: "standing room".into(),
        }
        .into(),
        s::Event::LeaseGranted {
            conference: CONF,
            lease: crate::ids::LeaseId::from_u128(801),
            desk: DESK,
            seat_type: GENERAL,
            quantity: 5,
            until: at(18, 0),
            venue: false,
        }
        .into(),
        s::Event::LeaseSold {
            conference: CONF,
            lease: crate::ids::LeaseId::from_u128(801),
            order: ORDER,
            seat_type: GENERAL,
            from_lease: 2,
            beyond_lease: 0,
        }
        .into(),
        s::Event::LeaseReturned {
            conference: CONF,
            lease: crate::ids::LeaseId::from_u128(801),
            seat_type: GENERAL,
            unsold: 3,
            why: s::LeaseEnd::Revoked,
        }
        .into(),
        o::Event::Placed {
            order: ORDER,
            conference: CONF,
            seats: q(),
            reservation_expires_at: at(9, 15),
            access_code_hash: crate::order::access_code_hash("K7QF2X"),
            origin: OrderOrigin::Imported {
                source: "pretix".into(),
                source_id: "ABC12-1".into(),
            },
        }
        .into(),
        o::Event::TotalsCalculated {
            order: ORDER,
            lines: vec![OrderLine {
                seat_type: GENERAL,
                description: "General admission".into(),
                unit_price: eur(19_900),
                quantity: 2,
                line_total: eur(39_800),
            }],
            total: eur(39_800),
            is_free_of_charge: false,
        }
        .into(),
        o::Event::Updated {
            order: ORDER,
            seats: q(),
        }
        .into(),
        o::Event::PartiallyReserved {
            order: ORDER,
            reservation_expires_at: at(9, 15),
            seats: q(),
        }
        .into(),
        o::Event::ReservationCompleted {
            order: ORDER,
            reservation_expires_at: at(9, 15),
            seats: q(),
        }
        .into(),
        o::Event::RegistrantAssigned {
            order: ORDER,
            registrant: Registrant {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                email: "ada@example.com".into(),
            },
        }
        .into(),
        o::Event::Confirmed {
            order: ORDER,
            payment: Payment::Received {
                method: PaymentMethod::Card,
                amount: eur(39_800),
                reference: "psp-9".into(),
            },
        }
        .into(),
        o::Event::Expired { order: ORDER }.into(),
        o::Event::Cancelled {
            order: ORDER,
            reason: "registrant asked".into(),
        }
        .into(),
        a::Event::Created {
            order: ORDER,
            conference: CONF,
            seats: vec![Seat {
                position: 1,
                ticket: TICKET,
                code: code(),
                seat_type: GENERAL,
            }],
        }
        .into(),
        a::Event::Assigned {
            order: ORDER,
            position: 1,
            ticket: TICKET,
            attendee: attendee(),
        }
        .into(),
        a::Event::Updated {
            order: ORDER,
            position: 1,
            ticket: TICKET,
            attendee: attendee(),
        }
        .into(),
        a::Event::Unassigned {
            order: ORDER,
            position: 1,
            ticket: TICKET,
        }
        .into(),
        c::Event::Admitted {
            conference: CONF,
            code: code(),
            ticket: Some(TICKET),
            admission: admission(1),
            override_reason: None,
        }
        .into(),
        c::Event::Undone {
            conference: CONF,
            code: code(),
            admission: AdmissionId::from_u128(1),
            desk: DESK,
            at: at(9, 3),
            reason: "wrong badge scanned".into(),
        }
        .into(),
        c::Event::DuplicateFlagged {
            conference: CONF,
            code: code(),
            duplicate: admission(2),
            first: admission(1),
        }
        .into(),
        c::Event::InvalidTicketFlagged {
            conference: CONF,
            code: code(),
            admission: admission(3),
            status: TicketStatus::Unknown,
            override_reason: Some("printed voucher".into()),
        }
        .into(),
        c::Event::Exited {
            conference: CONF,
            code: code(),
            exit: admission(5),
        }
        .into(),
        c::Event::Reentered {
            conference: CONF,
            code: code(),
            entry: admission(6),
        }
        .into(),
        c::Event::OutsideRulesFlagged {
            conference: CONF,
            code: code(),
            admission: admission(4),
            breach: crate::admission_rules::RuleBreach::WrongDay {
                day: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
                valid_on: vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()],
            },
            by_clock: true,
        }
        .into(),
        b::Event::Printed { print: print() }.into(),
        b::Event::Reprinted {
            print: print(),
            reason: "name misspelt".into(),
        }
        .into(),
        b::Event::NameSet {
            name: b::NameOnBadge {
                conference: CONF,
                ticket: TICKET,
                code: code(),
                desk: DESK,
                at: at(9, 6),
                preferred_name: Some("Bill".into()),
                pronouns: Some("he/him".into()),
            },
        }
        .into(),
        crate::hand_out::Event::Given {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            given: hand_out(601, 0),
        }
        .into(),
        crate::hand_out::Event::Undone {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            hand_out: crate::ids::HandOutId::from_u128(601),
            desk: DESK,
            at: at(9, 5),
            reason: "wrong size".into(),
        }
        .into(),
        crate::hand_out::Event::DuplicateFlagged {
            conference: CONF,
            code: code(),
            item: "t-shirt".into(),
            duplicate: hand_out(602, 2),
            first: hand_out(601, 0),
        }
        .into(),
        crate::room::Event::Entered {
            conference: CONF,
            code: code(),
            room: "Workshop A".into(),
            visit: visit(701, 10),
            override_reason: Some("speaker's guest".into()),
        }
        .into(),
        crate::room::Event::Left {
            conference: CONF,
            code: code(),
            room: "Workshop A".into(),
            visit: visit(702, 50),
        }
        .into(),
        crate::room::Event::EntryFlagged {
            conference: CONF,
            code: code(),
            room: "Workshop A".into(),
            visit: visit(701, 10),
            breach: crate::room::RoomBreach::OverCapacity {
                occupancy: 30,
                capacity: 30,
            },
        }
        .into(),
        w::Event::SaleRecorded { sale: sale() }.into(),
        w::Event::Confirmed {
            order: ORDER,
            tickets: vec![TICKET],
            overbooked: vec![],
        }
        .into(),
        w::Event::PartiallyConfirmed {
            order: ORDER,
            confirmed: vec![TICKET],
            withdrawn: vec![TicketId::from_u128(0x72)],
            refund_due: eur(19_900),
            reason: RejectReason::SeatsGone,
            conflict: CONFLICT,
        }
        .into(),
        w::Event::Rejected {
            order: ORDER,
            withdrawn: vec![TICKET],
            refund_due: eur(19_900),
            reason: RejectReason::SeatsGone,
            conflict: CONFLICT,
        }
        .into(),
        w::Event::Honoured {
            order: ORDER,
            reinstated: vec![TICKET],
            overbooked: q(),
        }
        .into(),
        x::Event::Opened {
            conflict: CONFLICT,
            conference: CONF,
            kind: ConflictKind::WalkInRejected {
                order: ORDER,
                desk: DESK,
                tickets: vec![TICKET],
                refund_due: eur(19_900),
            },
            at: at(10, 0),
        }
        .into(),
        x::Event::Acknowledged {
            conflict: CONFLICT,
            by: Actor::Desk { device: DESK },
            at: at(10, 1),
            note: "on it".into(),
        }
        .into(),
        x::Event::Resolved {
            conflict: CONFLICT,
            resolution: Resolution::RefundRecorded {
                amount: eur(19_900),
                method: PaymentMethod::Cash,
            },
            by: Actor::HeadOffice {
                user: "lena".into(),
            },
            at: at(10, 30),
            note: "refunded in cash at desk 2".into(),
        }
        .into(),
    ]
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("events")
}

fn envelope(event: &Event) -> Envelope {
    let mut e = Envelope::new(
        EventId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_e001),
        event,
        1,
        at(9, 0),
        Metadata {
            device_id: Some(DESK),
            client_seq: Some(1),
            causation_id: None,
            correlation_id: None,
        },
    );
    e.recorded_at = Some(at(9, 0));
    e
}

#[test]
fn golden_every_event_type_is_listed_once_and_has_a_sample() {
    let listed: BTreeSet<&str> = EVENT_TYPES.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        listed.len(),
        EVENT_TYPES.len(),
        "an event type is listed twice"
    );
    let sampled: BTreeSet<String> = samples().iter().map(Event::event_type).collect();
    let listed: BTreeSet<String> = listed.into_iter().map(str::to_owned).collect();
    assert_eq!(sampled, listed, "EVENT_TYPES and the samples disagree");
}

#[test]
fn golden_current_fixtures_decode_to_the_samples() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for sample in samples() {
        let event_type = sample.event_type();
        let version = current_schema_version(&event_type).unwrap();
        let path = fixtures_dir().join(format!("{event_type}.v{version}.json"));
        if update && !path.exists() {
            std::fs::create_dir_all(fixtures_dir()).unwrap();
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&envelope(&sample)).unwrap() + "\n",
            )
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "missing fixture {}; run UPDATE_GOLDEN=1 once for a new type",
                path.display()
            )
        });
        let stored: Envelope =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            stored.decode().as_ref(),
            Ok(&sample),
            "{} no longer decodes to its sample",
            path.display()
        );
        assert_eq!(stored.stream, sample.stream(), "{}: stream", path.display());
    }
}

#[test]
fn golden_every_fixture_of_every_version_still_decodes() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let stored: Envelope =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!(
                "{}.v{}.",
                stored.event_type, stored.schema_version
            )),
            "{name}: misnamed"
        );
        let decoded = stored.decode().unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut taken = stored.clone();
        assert_eq!(
            taken.take_event().as_ref(),
            Ok(&decoded),
            "{name}: take_event"
        );
        assert!(taken.payload.is_null(), "{name}: the payload was moved out");
        let payload = serde_json::to_string(&stored.payload).unwrap();
        assert_eq!(
            Event::decode_json(&stored.event_type, stored.schema_version, &payload).as_ref(),
            Ok(&decoded),
            "{name}: decode_json"
        );
        seen += 1;
    }
    assert!(
        seen > EVENT_TYPES.len(),
        "the corpus also keeps old schema versions"
    );
}

#[test]
fn a_v1_admission_is_upcast_to_the_gate_shape() {
    let text = std::fs::read_to_string(fixtures_dir().join("admission.admitted.v1.json")).unwrap();
    let stored: Envelope = serde_json::from_str(&text).unwrap();
    let Ok(Event::CheckIn(check_in::Event::Admitted { admission, .. })) = stored.decode() else {
        panic!("not an admission");
    };
    assert_eq!(admission.gate, "main");
}

#[test]
fn a_v1_order_keeps_no_access_code_once_upcast() {
    let text = std::fs::read_to_string(fixtures_dir().join("order.placed.v1.json")).unwrap();
    let stored: Envelope = serde_json::from_str(&text).unwrap();
    assert_eq!(stored.payload["access_code"], "K7QF2X");
    let upcast = upcast(&stored.event_type, 1, stored.payload.clone()).unwrap();
    assert!(upcast.get("access_code").is_none(), "{upcast}");
    assert!(!upcast.to_string().contains("K7QF2X"));
    let Ok(Event::Order(order::Event::Placed {
        access_code_hash, ..
    })) = stored.decode()
    else {
        panic!("not an order");
    };
    assert_eq!(access_code_hash, crate::order::access_code_hash("k7qf2x "));
    assert_eq!(access_code_hash.len(), 64);
}

#[test]
fn readers_ignore_fields_they_do_not_know() {
    let sample = &samples()[2];
    let mut json = serde_json::to_value(envelope(sample)).unwrap();
    json["a_field_from_the_future"] = serde_json::json!(true);
    json["payload"]["another_one"] = serde_json::json!({"x": 1});
    let stored: Envelope = serde_json::from_value(json).unwrap();
    assert_eq!(stored.decode().as_ref(), Ok(sample));
    let payload = serde_json::to_string(&stored.payload).unwrap();
    assert_eq!(
        Event::decode_json(&stored.event_type, stored.schema_version, &payload).as_ref(),
        Ok(sample)
    );
}

#[test]
fn unknown_types_and_versions_are_clear_errors() {
    assert_eq!(
        Event::decode("teleport.happened", 1, serde_json::json!({})),
        Err(DecodeError::UnknownEventType("teleport.happened".into()))
    );
    assert_eq!(
        Event::decode("order.expired", 9, serde_json::json!({})),
        Err(DecodeError::UnknownSchemaVersion {
            event_type: "order.expired".into(),
            version: 9,
            current: 1
        })
    );
    assert!(matches!(
        Event::decode(
            "order.expired",
            1,
            serde_json::json!({"order": "not a uuid"})
        ),
        Err(DecodeError::BadPayload { .. })
    ));
    // The same from JSON text, which may also be no JSON at all.
    assert_eq!(
        Event::decode_json("teleport.happened", 1, "{}"),
        Err(DecodeError::UnknownEventType("teleport.happened".into()))
    );
    assert!(matches!(
        Event::decode_json("order.expired", 9, "{}"),
        Err(DecodeError::UnknownSchemaVersion { version: 9, .. })
    ));
    for bad in [
        r#"{"order": "not a uuid"}"#,
        "{",
        "",
        "null",
        r#"{}, "payload": {}"#,
    ] {
        assert!(
            matches!(
                Event::decode_json("order.expired", 1, bad),
                Err(DecodeError::BadPayload { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn the_event_enum_round_trips_through_its_tagged_json() {
    for sample in samples() {
        let json = serde_json::to_string(&sample).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample);
    }
}
