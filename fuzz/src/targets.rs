//! The targets: one function of bytes each. See the crate's documentation.

use onsite_badge::{BadgeData, Paper, TemplateSet, render_badge, render_sheets, render_svg};
use onsite_desk_core::sync::DecodedPage;
use onsite_server::http::sync::{PullQuery, pull_for, push_from};
use onsite_server::import::{self, CsvRow, ImportError, ImportFile, ImportRegistration};
use onsite_server::recorder::{Recorder, Rejected};
use onsite_server::storage::{Cursor, Dialect, Store};
use onsite_shared::event::{Envelope, Event, Metadata, payload};
use onsite_shared::ids::{ClientId, ConferenceId, EventId, TicketCode};
use onsite_shared::protocol::{PushRequest, PushResponse};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::world::World;

/// An envelope, as anyone may send or store one: decoded the server's way (a strict JSON tree,
/// upcast) and the desk's way (the payload's text straight into the typed event). The two must
/// agree (they once did not on a repeated key: `fuzz/regressions/event/`), and what decodes
/// must encode and decode again to the same event.
pub fn event(data: &[u8]) {
    #[derive(Deserialize)]
    struct Raw<'a> {
        event_type: String,
        schema_version: u16,
        #[serde(borrow)]
        payload: &'a RawValue,
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(raw) = serde_json::from_str::<Raw<'_>>(text) else {
        return;
    };
    let tree = payload::payload_from_str(raw.payload.get())
        .map_err(|e| e.to_string())
        .and_then(|payload| {
            Event::decode(&raw.event_type, raw.schema_version, payload).map_err(|e| e.to_string())
        });
    let direct = Event::decode_json(&raw.event_type, raw.schema_version, raw.payload.get())
        .map_err(|e| e.to_string());
    match (&tree, &direct) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the two decoders read {text} differently"),
        (Err(_), Err(_)) => {}
        _ => panic!("one decoder took {text} and the other did not: {tree:?} / {direct:?}"),
    }
    if let Ok(event) = tree {
        let at = "2026-11-23T09:00:00Z".parse().expect("a time");
        let again = Envelope::new(
            EventId::from_uuid(uuid::Uuid::nil()),
            &event,
            1,
            at,
            Metadata::default(),
        );
        let text = serde_json::to_string(&again).expect("an envelope encodes");
        let back: Envelope = serde_json::from_str(&text).expect("an encoded envelope parses");
        assert_eq!(
            back.decode().as_ref(),
            Ok(&event),
            "{text} does not round-trip"
        );
    }
}

/// A pull page as a desk receives it: decoded and checked before anything is stored.
pub fn pulled_page(data: &[u8]) {
    let _ = DecodedPage::parse(data);
}

/// A push, checked and decided by the server against its store. The server may refuse it
/// (4xx) but never fail on it (5xx), and the same request again (a retry whose answer was
/// lost) answers with the same outcomes, recording nothing new.
pub fn push(data: &[u8]) {
    let _ = push_answer(data);
}

/// What [`push`] checks, and the first answer: `None` when the bytes are not a push request,
/// `Err(status)` when the server refused it.
pub fn push_answer(data: &[u8]) -> Option<Result<PushResponse, u16>> {
    let mut req = serde_json::from_slice::<PushRequest>(data).ok()?;
    let world = World::get();
    req.client_id = ClientId::from_uuid(uuid::Uuid::from_u128(u128::from(world.fresh())));
    Some(world.rt.block_on(async {
        let first = match push_from(&world.app, world.desk, req.clone(), world.now).await {
            Ok(answer) => answer,
            Err(e) => {
                assert!(
                    e.status() < 500,
                    "a push was answered {}: {:?}",
                    e.status(),
                    e.body()
                );
                return Err(e.status());
            }
        };
        let again = push_from(&world.app, world.desk, req, world.now)
            .await
            .unwrap_or_else(|e| panic!("a retried push was refused: {:?}", e.body()));
        assert_same_outcomes(&first, &again);
        Ok(first)
    }))
}

fn assert_same_outcomes(first: &PushResponse, again: &PushResponse) {
    assert_eq!(first.last_client_seq, again.last_client_seq);
    assert_eq!(first.outcomes.len(), again.outcomes.len());
    for (a, b) in first.outcomes.iter().zip(&again.outcomes) {
        assert_eq!(
            (a.client_seq, a.event_id, &a.result_event_ids),
            (b.client_seq, b.event_id, &b.result_event_ids),
            "a retried push answered differently"
        );
    }
}

/// A pull cursor, as a client sends it back: read, and used for a pull of the world's
/// conference. What reads must print back as itself; no cursor makes the server fail.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let world = World::get();
    let epoch = world.app.store.epoch().to_owned();
    // The epoch is random per database: `EPOCH` stands for this one's, so that the fuzzer
    // reaches what is read after it.
    let text = &text.replace("EPOCH", &epoch);
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let mine = Cursor::parse(Some(text), &epoch, dialect);
        if let Ok(cursor) = mine {
            let printed = cursor.to_text(&epoch);
            assert_eq!(Cursor::parse(Some(&printed), &epoch, dialect), Ok(cursor));
        }
        // Another database's cursor with the same text after the epoch is refused as such.
        let _ = Cursor::parse(Some(text), "another", dialect);
    }
    let query = PullQuery {
        cursor: Some(text.to_owned()),
        limit: Some(50),
        ..PullQuery::default()
    };
    world.rt.block_on(async {
        if let Err(e) = pull_for(&world.app, world.desk, query).await {
            assert!(
                e.status() < 500,
                "a pull was answered {}: {:?}",
                e.status(),
                e.body()
            );
        }
    });
}

/// A registrations CSV for the world's conference, as `onsite-server import --format csv`
/// reads it: what the checker passes imports whole; what it refuses imports nothing.
pub fn import_csv(data: &[u8]) {
    let mut reader = csv::Reader::from_reader(data);
    let Ok(rows) = reader.deserialize().collect::<Result<Vec<CsvRow>, _>>() else {
        return;
    };
    let Ok(registrations) = import::registrations_from_csv(rows) else {
        return;
    };
    let world = World::get();
    let source = format!("fuzz-csv-{}", world.fresh());
    import_checked(world, world.desk.conference, source, registrations);
}

/// A JSON import file (conference, seat and attendee types, registrations): the conference is
/// created or found, then the registrations go as the CSV's do.
pub fn import_json(data: &[u8]) {
    let Ok(file) = serde_json::from_slice::<ImportFile>(data) else {
        return;
    };
    let world = World::get();
    let id = file.conference.new.id.unwrap_or_else(|| {
        ConferenceId::from_uuid(uuid::Uuid::from_u128(u128::from(world.fresh()) << 64))
    });
    let header = ImportFile {
        registrations: Vec::new(),
        ..file.clone()
    };
    let now = world.now;
    let made = world.rt.block_on(world.app.store.write(move |tx| {
        let mut rec = Recorder::new(tx, id, now);
        import::ensure_conference(&mut rec, &header)
    }));
    match made {
        Ok(_) => import_checked(world, id, file.source, file.registrations),
        Err(Rejected::Domain { .. }) => {}
        Err(e @ Rejected::Store(_)) => panic!("the store failed on a conference import: {e}"),
    }
}

/// The importer's promise: everything that could refuse a registration halfway is found by
/// `check_registrations` first, so a file it passes imports without a refusal.
fn import_checked(
    world: &World,
    conference: ConferenceId,
    source: String,
    registrations: Vec<ImportRegistration>,
) {
    let run = import::ImportRun {
        conference,
        source,
        file: "fuzz".into(),
        actor: None,
    };
    let imported = world.rt.block_on(import::import_registrations(
        &world.app.store,
        run,
        registrations,
        world.now,
        |_| {},
    ));
    match imported {
        Ok(_) | Err(ImportError::Problems(_)) => {}
        Err(ImportError::Refused(e)) => {
            panic!("an import the checker passed was refused halfway: {e}")
        }
        Err(ImportError::Store(e)) => panic!("the store failed on an import: {e}"),
    }
}

/// A badge template set, as head office uploads one: read and checked, then every template
/// laid out and drawn (PDF, SVG, a sheet) for people with short, long, empty and non-Latin
/// names. Nothing a template says may make the renderer panic.
pub fn badge_template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = TemplateSet::from_json(text) else {
        return;
    };
    let people = people();
    for template in &set.templates {
        for person in &people {
            let _ = render_badge(template, person);
            let _ = render_svg(template, person);
        }
        let _ = render_sheets(template, Paper::A4, &people);
    }
}

fn people() -> Vec<BadgeData> {
    let person = |first: &str, last: &str, company: &str, code: &str| BadgeData {
        conference: "Fuzz Summit".into(),
        attendee_type: "Speaker".into(),
        band: [0xE5, 0x39, 0x35],
        first_name: first.into(),
        last_name: last.into(),
        company: company.into(),
        entitlements: vec!["Workshop".into()],
        ticket_code: code.into(),
        ..Default::default()
    };
    vec![
        person("Ada", "Lovelace", "Analytical Engines", "FUZZ-0001"),
        person(
            "Maximilianus-Bartholomaeus",
            "von Hohenzollern-Sigmaringen-Wolkenstein",
            &"Very Long Company Name GmbH & Co. KG ".repeat(4),
            "ABCDEFGHJKMNPQRSTVWXYZ0123456789",
        ),
        person("", "", "", ""),
        person("李", "小龙", "東京 🚀 شركة", "K7QF-3XP9"),
    ]
}

/// What a keyboard-wedge scanner types (or staff type by hand) into the check-in field: a code
/// that reads is at most 32 of `A–Z 0–9 -`, reads again as itself, and reads the same typed in
/// lower case.
pub fn ticket_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(code) = TicketCode::parse(text) else {
        return;
    };
    let s = code.as_str();
    assert!(s.len() <= TicketCode::MAX_LEN, "{s:?} is too long");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
        "{s:?} has a character a code may not have"
    );
    assert_eq!(TicketCode::parse(s).as_ref(), Ok(&code));
    assert_eq!(
        TicketCode::parse(&s.to_ascii_lowercase()).as_ref(),
        Ok(&code)
    );
}
