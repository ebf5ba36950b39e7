//! The starting corpus of each target, made from what the project already has: the golden
//! event fixtures (every event type and schema version), the shipped badge templates, and the
//! fuzz world's conference. Made at run time, so the corpus follows the fixtures.

use std::path::{Path, PathBuf};

use onsite_shared::event::Envelope;
use onsite_shared::protocol::PROTOCOL_VERSION;
use serde_json::{Value, json};

use crate::world;

/// One seed: a name (its file name in the corpus) and its bytes.
pub type Seed = (String, Vec<u8>);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the fuzz crate sits in the workspace")
        .to_owned()
}

/// The golden fixtures, by file name, in name order.
fn fixtures() -> Vec<(String, String)> {
    let dir = root().join("shared/fixtures/events");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a fixture reads");
            let name = path
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or("fixture")
                .to_owned();
            (name, text)
        })
        .collect();
    out.sort();
    out
}

fn seed(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Seed {
    (name.into(), bytes.into())
}

/// The seeds of `target` (one of [`crate::TARGETS`]).
pub fn of(target: &str) -> Vec<Seed> {
    match target {
        "event" => fixtures()
            .into_iter()
            .map(|(name, text)| seed(name, text))
            .collect(),
        "pulled_page" => {
            let events: Vec<Value> = fixtures()
                .iter()
                .map(|(_, text)| serde_json::from_str(text).expect("a fixture is JSON"))
                .collect();
            let page = |events: &[Value]| {
                json!({ "events": events, "next_cursor": "EPOCH.7", "has_more": false }).to_string()
            };
            let mut out = vec![seed("all", page(&events)), seed("empty", page(&[]))];
            out.extend(
                events
                    .chunks(1)
                    .zip(fixtures())
                    .map(|(one, (name, _))| seed(name, page(one))),
            );
            out
        }
        "push" => push_seeds(),
        "cursor" => [
            "",
            "EPOCH.0",
            "EPOCH.12",
            "EPOCH.3.12",
            "EPOCH.-1",
            "other.5",
            ".",
        ]
        .iter()
        .enumerate()
        .map(|(i, c)| seed(format!("cursor-{i}"), *c))
        .collect(),
        "import_csv" => vec![seed(
            "registrations",
            "source_id,seat_type,ticket_code,first_name,last_name,email,company,attendee_types\n\
             s1,General,,Grace,Hopper,grace@example.com,Navy,speaker\n\
             s1,Workshop,CSV-0001,Grace,Hopper,grace@example.com,Navy,\n\
             s2,Standing room,,Alan,Turing,alan@example.com,,attendee;speaker\n",
        )],
        "import_json" => {
            let mut unnamed: Value = serde_json::from_str(world::CONFERENCE).expect("JSON");
            unnamed["conference"]
                .as_object_mut()
                .expect("an object")
                .remove("id");
            unnamed["conference"]["slug"] = json!("fuzz-summit-two");
            vec![
                seed("world", world::CONFERENCE),
                seed("by-slug", unnamed.to_string()),
            ]
        }
        "badge_template" => {
            let path = root().join("shared/assets/templates.json");
            vec![seed(
                "shipped",
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            )]
        }
        "ticket_code" => [
            "K7QF-3XP9",
            " k7qf-3xp9\r\n",
            "FUZZ-0001",
            "ABCDEFGHJKMNPQRSTVWXYZ0123456789",
        ]
        .iter()
        .enumerate()
        .map(|(i, c)| seed(format!("code-{i}"), *c))
        .collect(),
        other => panic!("no target {other}"),
    }
}

/// Pushes from the world's desk: each desk event of the fixtures alone, and a walk-in sale
/// followed by the admission of the ticket it sold.
fn push_seeds() -> Vec<Seed> {
    let request = |events: &[&Value]| {
        let items: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut e = (*e).clone();
                e["client_seq"] = json!(i + 1);
                json!({ "client_seq": i + 1, "event": e })
            })
            .collect();
        json!({
            "protocol_version": PROTOCOL_VERSION,
            "client_id": "01900000-0000-7000-8000-00000000c001",
            "app_version": "fuzz",
            "items": items,
        })
        .to_string()
    };
    let desk_events: Vec<(String, Value)> = fixtures()
        .into_iter()
        .filter_map(|(name, text)| {
            let envelope: Envelope = serde_json::from_str(&text).ok()?;
            let event = envelope.decode().ok()?;
            event
                .is_desk_event()
                .then(|| (name, serde_json::from_str(&text).expect("JSON")))
        })
        .collect();
    let by_name = |wanted: &str| {
        desk_events
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no desk event fixture {wanted}"))
    };
    let mut out: Vec<Seed> = desk_events
        .iter()
        .map(|(name, e)| seed(name.clone(), request(&[e])))
        .collect();
    let mut admitted = by_name("admission.admitted.v2").clone();
    admitted["event_id"] = json!("01900000-0000-7000-8000-00000000e002");
    out.push(seed(
        "sale-then-admission",
        request(&[by_name("walk_in.sale_recorded.v1"), &admitted]),
    ));
    out
}
