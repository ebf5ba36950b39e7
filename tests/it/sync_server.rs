//! The sync server as a real process on SQLite: push/pull, idempotence, gaps, compensations,
//! flags, crashes, and the auth and bad-input matrix.

use anyhow::Result;
use onsite_shared::check_in;
use onsite_shared::event::Event;
use onsite_shared::ids::TicketCode;
use onsite_shared::order::PaymentMethod;
use onsite_shared::protocol::OutcomeStatus;
use onsite_tests::server::{TempDir, TestServer, UNVERSIONED, admission, new_id, sale, sale_event};
use serde_json::json;

fn count(events: &[onsite_shared::Envelope], event_type: &str) -> usize {
    events.iter().filter(|e| e.event_type == event_type).count()
}

#[test]
fn a_walk_in_sale_and_an_admission_round_trip_through_push_and_pull() -> Result<()> {
    let dir = TempDir::new("sync-roundtrip")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;

    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 2);
    let items = desk.items(&[sale_event(s), admission(&conf, &desk, &codes[0])]);
    let pushed_ids: Vec<_> = items.iter().map(|i| i.event.event_id).collect();
    let response = desk.push(items)?;
    assert_eq!(response.last_client_seq, 2);
    assert_eq!(response.outcomes.len(), 2);
    assert!(
        response
            .outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Accepted && o.reason.is_none()),
        "{response:?}"
    );
    // The item's own event comes first among its results, then what the server decided.
    assert_eq!(response.outcomes[0].result_event_ids[0], pushed_ids[0]);
    assert!(response.outcomes[0].result_event_ids.len() > 5);

    let events = desk.pull_all()?;
    for id in &pushed_ids {
        assert_eq!(
            events.iter().filter(|e| e.event_id == *id).count(),
            1,
            "own events come back exactly once"
        );
    }
    assert_eq!(count(&events, "walk_in.confirmed"), 1);
    assert_eq!(count(&events, "seat_assignments.assigned"), 2);
    assert_eq!(count(&events, "admission.admitted"), 1);
    assert!(events.iter().all(|e| e.recorded_at.is_some()));
    // Every event decodes, and positions never repeat.
    for e in &events {
        e.decode()?;
    }
    let page = desk.pull_page(None, 1000)?;
    assert_eq!(page.last_client_seq, 2);
    Ok(())
}

#[test]
fn a_repeated_push_returns_identical_outcomes_and_changes_nothing() -> Result<()> {
    let dir = TempDir::new("sync-repeat")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 1);
    let items = desk.items(&[sale_event(s), admission(&conf, &desk, &codes[0])]);

    let first = desk.push(items.clone())?;
    let before = desk.pull_all()?.len();
    let second = desk.push(items.clone())?;
    assert_eq!(first, second, "the stored outcomes, verbatim");
    assert_eq!(desk.pull_all()?.len(), before, "nothing applied twice");

    // A retry that overlaps: the old items answered from storage, the new one decided.
    let mut overlap = items[1..].to_vec();
    overlap.extend(desk.items(&[admission(&conf, &desk, &codes[0])]));
    let third = desk.push(overlap)?;
    assert_eq!(third.outcomes[0], first.outcomes[1]);
    assert_eq!(third.last_client_seq, 3);
    Ok(())
}

/// A server that kept one outcome row per pushed item (before `push_outcomes`) is upgraded
/// in place: an item pushed to it and repeated afterwards gets its stored outcome back.
#[test]
fn an_item_pushed_before_an_upgrade_is_answered_from_its_stored_outcome() -> Result<()> {
    let dir = TempDir::new("sync-upgrade")?;
    let mut server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 1);
    let items = desk.items(&[sale_event(s), admission(&conf, &desk, &codes[0])]);
    let first = desk.push(items.clone())?;
    server.kill_hard();

    // The file as the older server left it: the outcomes one row per item.
    {
        let db = rusqlite::Connection::open(dir.path().join("onsite.sqlite3"))?;
        let tx = db.unchecked_transaction()?;
        let pushes: Vec<(String, String)> = tx
            .prepare("SELECT client_id, outcomes FROM push_outcomes")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        assert_eq!(pushes.len(), 1, "one row for the push");
        for (client, outcomes) in pushes {
            let outcomes: Vec<serde_json::Value> = serde_json::from_str(&outcomes)?;
            assert_eq!(outcomes.len(), 2);
            for o in outcomes {
                tx.execute(
                    "INSERT INTO outcomes (client_id, client_seq, outcome) VALUES (?1, ?2, ?3)",
                    rusqlite::params![client, o["client_seq"].as_i64(), o.to_string()],
                )?;
            }
        }
        tx.execute("DELETE FROM push_outcomes", [])?;
        tx.commit()?;
    }
    server.restart()?;
    desk.url = server.url.clone();
    let before = desk.pull_all()?.len();
    assert_eq!(
        desk.push(items.clone())?,
        first,
        "the stored outcomes, verbatim"
    );
    assert_eq!(desk.pull_all()?.len(), before, "nothing applied twice");
    // Old and new stored outcomes side by side.
    let mut overlap = items[1..].to_vec();
    overlap.extend(desk.items(&[admission(&conf, &desk, &codes[0])]));
    let third = desk.push(overlap.clone())?;
    assert_eq!(third.outcomes[0], first.outcomes[1]);
    assert_eq!(desk.push(overlap)?, third);
    Ok(())
}

#[test]
fn a_gap_in_the_client_sequence_is_refused_with_the_expected_sequence() -> Result<()> {
    let dir = TempDir::new("sync-gap")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let code = TicketCode::parse("NOPE-0001")?;
    let _lost = desk.items(&[admission(&conf, &desk, &code)]);
    let later = desk.items(&[admission(&conf, &desk, &code)]);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(later))?)?;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "sync.gap");
    assert_eq!(body["expected_client_seq"], 1);
    assert!(
        desk.pull_all()?
            .iter()
            .all(|e| e.event_type != "admission.admitted"),
        "nothing stored"
    );
    Ok(())
}

#[test]
fn two_desks_admitting_the_same_ticket_offline_are_both_recorded_and_the_second_is_flagged()
-> Result<()> {
    let dir = TempDir::new("sync-duplicate")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut north = server.desk(conf.id, "North 1")?;
    let mut south = server.desk(conf.id, "South 1")?;
    let (s, codes) = sale(&conf, &north, conf.general, 19_900, 1);
    north.push_events(&[sale_event(s)])?;

    let a = north.items(&[admission(&conf, &north, &codes[0])]);
    let b = south.items(&[admission(&conf, &south, &codes[0])]);
    let ra = north.push(a)?;
    let rb = south.push(b)?;
    assert_eq!(ra.outcomes[0].reason, None);
    assert_eq!(rb.outcomes[0].status, OutcomeStatus::Accepted);
    assert_eq!(
        rb.outcomes[0].reason.as_deref(),
        Some("admission.duplicate")
    );

    let events = south.pull_all()?;
    assert_eq!(
        count(&events, "admission.admitted"),
        2,
        "both physical facts kept"
    );
    assert_eq!(count(&events, "admission.duplicate_flagged"), 1);
    assert_eq!(count(&events, "conflict.opened"), 1);

    // One push that sells a ticket and admits it twice: each item is decided on what the
    // items before it recorded, although the push reads its tickets' streams up front.
    let (s, codes) = sale(&conf, &north, conf.general, 19_900, 1);
    let r = north.push_events(&[
        admission(&conf, &north, &codes[0]),
        sale_event(s),
        admission(&conf, &north, &codes[0]),
        admission(&conf, &north, &codes[0]),
    ])?;
    let reasons: Vec<Option<&str>> = r.outcomes.iter().map(|o| o.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        vec![
            Some("admission.invalid_ticket"),
            None,
            Some("admission.duplicate"),
            Some("admission.duplicate")
        ]
    );
    Ok(())
}

#[test]
fn an_admission_of_an_unknown_ticket_is_accepted_and_flagged() -> Result<()> {
    let dir = TempDir::new("sync-unknown")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let r = desk.push_events(&[admission(&conf, &desk, &TicketCode::parse("ZZZZ-9999")?)])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted);
    assert_eq!(
        r.outcomes[0].reason.as_deref(),
        Some("admission.invalid_ticket")
    );
    let events = desk.pull_all()?;
    assert_eq!(count(&events, "admission.invalid_ticket_flagged"), 1);
    assert_eq!(count(&events, "conflict.opened"), 1);
    Ok(())
}

/// Admissions of tickets that admit nobody here, in one push with valid ones (a push reads
/// its tickets' statuses together): an add-on ticket and a ticket withdrawn by a
/// compensation are flagged, each with its status; the valid ones are simply accepted.
#[test]
fn a_push_flags_the_admissions_of_add_on_and_withdrawn_tickets() -> Result<()> {
    let dir = TempDir::new("sync-statuses")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(3)?;
    let mut north = server.desk(conf.id, "North 1")?;
    let mut south = server.desk(conf.id, "South 1")?;
    let (general, kept) = sale(&conf, &north, conf.general, 19_900, 2);
    let (workshop, add_on) = sale(&conf, &north, conf.workshop, 5_000, 1);
    north.push_events(&[sale_event(general), sale_event(workshop)])?;
    let (late, partly) = sale(&conf, &south, conf.general, 19_900, 2);
    let r = south.push_events(&[sale_event(late)])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Compensated);

    let codes = [&kept[0], &add_on[0], &partly[0], &partly[1]];
    let admissions: Vec<Event> = codes.iter().map(|c| admission(&conf, &north, c)).collect();
    let r = north.push_events(&admissions)?;
    assert!(
        r.outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Accepted)
    );
    let flagged = r.outcomes.iter().filter(|o| o.reason.is_some()).count();
    assert_eq!(flagged, 2, "{r:?}");
    assert_eq!(r.outcomes[0].reason, None);
    assert_eq!(
        r.outcomes[1].reason.as_deref(),
        Some("admission.invalid_ticket")
    );
    let mut statuses: Vec<String> = north
        .pull_all()?
        .iter()
        .filter(|e| e.event_type == "admission.invalid_ticket_flagged")
        .map(|e| e.payload["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["add_on_only", "withdrawn"]);
    Ok(())
}

#[test]
fn two_desks_selling_the_last_seats_offline_one_wins_and_the_other_is_compensated() -> Result<()> {
    let dir = TempDir::new("sync-last-seat")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(3)?;
    let mut north = server.desk(conf.id, "North 1")?;
    let mut south = server.desk(conf.id, "South 1")?;
    let (a, _) = sale(&conf, &north, conf.general, 19_900, 2);
    let (b, _) = sale(&conf, &south, conf.general, 19_900, 2);
    let ra = north.push_events(&[sale_event(a)])?;
    let rb = south.push_events(&[sale_event(b)])?;
    assert_eq!(ra.outcomes[0].status, OutcomeStatus::Accepted);
    assert_eq!(rb.outcomes[0].status, OutcomeStatus::Compensated);
    assert_eq!(
        rb.outcomes[0].reason.as_deref(),
        Some("walk_in.partially_confirmed")
    );

    let events = north.pull_all()?;
    let partial = events
        .iter()
        .find(|e| e.event_type == "walk_in.partially_confirmed")
        .expect("a compensation");
    assert_eq!(partial.payload["refund_due"]["amount_minor"], 19_900);
    assert_eq!(count(&events, "conflict.opened"), 1);
    let view = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{}", conf.id),
        None,
    )?;
    assert_eq!(
        view["remaining"][conf.general.to_string()],
        0,
        "never more sold than the quota"
    );
    Ok(())
}

#[test]
fn standing_room_beyond_the_quota_is_an_explicit_overbooking() -> Result<()> {
    let dir = TempDir::new("sync-overbook")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(3)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (s, _) = sale(&conf, &desk, conf.standing, 9_900, 2);
    let r = desk.push_events(&[sale_event(s)])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted);
    assert_eq!(r.outcomes[0].reason.as_deref(), Some("walk_in.overbooked"));
    assert_eq!(count(&desk.pull_all()?, "seats.overbooked"), 1);
    Ok(())
}

/// Pushes 300 items from another thread, kills the server with SIGKILL after `kill_after_ms`,
/// restarts it and re-pushes everything: every event must exist exactly once.
fn killed_mid_push_keeps_every_event_exactly_once(
    server: &mut TestServer,
    code: &str,
    kill_after_ms: u64,
) -> Result<()> {
    let conf = server.conference(1_000)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let code = TicketCode::parse(code)?;
    let batches: Vec<_> = (0..150)
        .map(|_| {
            desk.items(&[
                admission(&conf, &desk, &code),
                admission(&conf, &desk, &code),
            ])
        })
        .collect();

    // Push from another thread while the server is killed under it.
    let url = desk.url.clone();
    let token = desk.token.clone();
    let bodies: Vec<_> = batches
        .iter()
        .map(|b| serde_json::to_value(desk.request(b.clone())))
        .collect::<Result<_, _>>()?;
    let pusher = std::thread::spawn(move || {
        let client = onsite_tests::server::http_client()
            .build()
            .expect("a client");
        for body in &bodies {
            if client
                .post(format!("{url}/v1/sync/push"))
                .bearer_auth(&token)
                .json(body)
                .send()
                .is_err()
            {
                break;
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(kill_after_ms));
    server.kill_hard();
    let _ = pusher.join();
    server.restart()?;
    desk.url = server.url.clone();
    let survived = desk.pull_page(None, 1)?.last_client_seq;
    eprintln!("the server had {survived} of 300 items when it was killed");
    assert!(survived <= 300);

    // The desk re-pushes everything it has; the server answers what it saw and applies the rest.
    let all: Vec<_> = batches.concat();
    let response = desk.push(all.clone())?;
    assert_eq!(response.last_client_seq, 300);
    let events = desk.pull_all()?;
    for item in &all {
        assert_eq!(
            events
                .iter()
                .filter(|e| e.event_id == item.event.event_id)
                .count(),
            1,
            "exactly once"
        );
    }
    Ok(())
}

#[test]
fn a_server_killed_in_the_middle_of_pushes_keeps_every_event_exactly_once() -> Result<()> {
    let dir = TempDir::new("sync-kill")?;
    let mut server = TestServer::start(dir.path())?;
    killed_mid_push_keeps_every_event_exactly_once(&mut server, "KILL-0001", 150)
}

#[test]
fn bad_requests_are_refused_with_a_clear_code_and_change_nothing() -> Result<()> {
    let dir = TempDir::new("sync-bad")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let other = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let http = server.http();
    let push_url = format!("{}/v1/sync/push", server.url);
    let before = desk.pull_all()?.len();

    // No credentials; unknown credentials.
    let r = http.post(&push_url).json(&json!({})).send()?;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<serde_json::Value>()?["code"],
        "auth.unauthenticated"
    );
    let r = http
        .get(format!("{}/v1/sync/pull", server.url))
        .bearer_auth("osd_nope")
        .send()?;
    assert_eq!(r.status(), 401);
    // A desk token is not a head-office token.
    let r = http
        .post(format!("{}/v1/conferences", server.url))
        .bearer_auth(&desk.token)
        .json(&json!({}))
        .send()?;
    assert_eq!(r.status(), 401);

    // Malformed JSON.
    let r = http
        .post(&push_url)
        .bearer_auth(&desk.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()?;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>()?["code"], "request.malformed");

    // Over the body limit.
    let huge = format!(
        "{{\"pad\":\"{}\"}}",
        "x".repeat(onsite_server_body_limit() + 1)
    );
    let r = http
        .post(&push_url)
        .bearer_auth(&desk.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()?;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<serde_json::Value>()?["code"], "request.too_large");

    // An event type the server does not know.
    let mut items = desk.items(&[admission(&conf, &desk, &TicketCode::parse("AAAA-0000")?)]);
    items[0].event.event_type = "teleport.happened".into();
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(items))?)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("event.unknown_type"))
    );
    // A schema version it does not know.
    desk.next_seq = 1;
    let mut items = desk.items(&[admission(&conf, &desk, &TicketCode::parse("AAAA-0000")?)]);
    items[0].event.schema_version = 99;
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(items))?)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("event.unknown_schema_version"))
    );

    // Another conference's events, and another conference's pull.
    desk.next_seq = 1;
    let other_desk_event = admission(&other, &desk, &TicketCode::parse("AAAA-0000")?);
    let items = desk.items(&[other_desk_event]);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(items))?)?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("auth.forbidden"))
    );
    let r = http
        .get(format!(
            "{}/v1/sync/pull?conference={}",
            server.url, other.id
        ))
        .bearer_auth(&desk.token)
        .send()?;
    assert_eq!(r.status(), 403);

    // A cursor the server never made.
    let r = http
        .get(format!("{}/v1/sync/pull?cursor=garbage", server.url))
        .bearer_auth(&desk.token)
        .send()?;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>()?["code"], "sync.bad_cursor");
    // A path or a query that does not parse.
    for url in [
        format!("{}/v1/conferences/not-a-uuid", server.url),
        format!("{}/v1/sync/pull?limit=many", server.url),
        format!(
            "{}/v1/conferences/{}/conflicts?open=maybe",
            server.url, conf.id
        ),
    ] {
        let token = if url.contains("/sync/") {
            &desk.token
        } else {
            &server.admin_token
        };
        let r = http.get(&url).bearer_auth(token).send()?;
        assert_eq!(r.status(), 400, "{url}");
        assert_eq!(r.json::<serde_json::Value>()?["code"], "request.malformed");
    }

    assert_eq!(
        desk.pull_all()?.len(),
        before,
        "none of it changed any state"
    );
    assert_eq!(desk.pull_page(None, 10)?.last_client_seq, 0);

    // Revoked: 401 with a code the desk understands; the enrolment code cannot be reused.
    server.admin(
        reqwest::Method::POST,
        &format!("/v1/devices/{}/revoke", desk.device),
        None,
    )?;
    let r = http
        .get(format!("{}/v1/sync/pull", server.url))
        .bearer_auth(&desk.token)
        .send()?;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<serde_json::Value>()?["code"], "auth.revoked");
    Ok(())
}

#[test]
fn an_enrolment_code_works_once() -> Result<()> {
    let dir = TempDir::new("sync-enrol")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let e = server.admin(
        reqwest::Method::POST,
        &format!("/v1/conferences/{}/devices", conf.id),
        Some(json!({"name": "Desk"})),
    )?;
    let code = e["code"].as_str().unwrap_or_default().to_lowercase();
    let http = server.http();
    let first = http
        .post(format!("{}/v1/devices/enrol", server.url))
        .json(&json!({"code": code}))
        .send()?;
    assert_eq!(first.status(), 200, "typed in lower case still works");
    let again = http
        .post(format!("{}/v1/devices/enrol", server.url))
        .json(&json!({"code": code}))
        .send()?;
    assert_eq!(again.status(), 401);
    assert_eq!(again.json::<serde_json::Value>()?["code"], "auth.bad_code");
    Ok(())
}

fn onsite_server_body_limit() -> usize {
    16 * 1024 * 1024
}

// ---- PostgreSQL: the same protocol, several server processes, the cursor hazard ----

use onsite_tests::postgres::PgCluster;

#[test]
fn on_postgres_push_and_pull_round_trip_repeat_identically_and_refuse_gaps() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("pg-roundtrip")?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 2);
    let items = desk.items(&[sale_event(s), admission(&conf, &desk, &codes[0])]);
    let first = desk.push(items.clone())?;
    assert!(
        first
            .outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Accepted)
    );
    assert_eq!(desk.push(items.clone())?, first);
    let events = desk.pull_all()?;
    for item in &items {
        assert_eq!(
            events
                .iter()
                .filter(|e| e.event_id == item.event.event_id)
                .count(),
            1
        );
    }
    assert_eq!(count(&events, "seat_assignments.assigned"), 2);

    let _lost = desk.items(&[admission(&conf, &desk, &codes[1])]);
    let later = desk.items(&[admission(&conf, &desk, &codes[1])]);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(later))?)?;
    assert_eq!(
        (status, body["expected_client_seq"].as_u64()),
        (409, Some(3))
    );
    Ok(())
}

#[test]
fn on_postgres_a_server_killed_in_the_middle_of_pushes_keeps_every_event_exactly_once() -> Result<()>
{
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("pg-kill")?;
    let mut server = TestServer::start_with(dir.path(), Some(&url))?;
    killed_mid_push_keeps_every_event_exactly_once(&mut server, "KILL-0002", 300)
}

#[test]
fn on_postgres_two_servers_and_sixteen_desks_racing_for_five_seats_never_oversell() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("pg-race")?;
    let first = TestServer::start_with(dir.path(), Some(&url))?;
    let second = first.another()?;
    let conf = first.conference(5)?;
    let mut handles = Vec::new();
    for i in 0..16 {
        let server = if i % 2 == 0 { &first } else { &second };
        let mut desk = server.desk(conf.id, &format!("Desk {i}"))?;
        let (s, _) = sale(&conf, &desk, conf.general, 19_900, 1);
        let items = desk.items(&[sale_event(s)]);
        handles.push(std::thread::spawn(move || desk.push(items)));
    }
    let mut confirmed = 0;
    let mut compensated = 0;
    for h in handles {
        let response = h
            .join()
            .map_err(|_| anyhow::anyhow!("a pusher panicked"))??;
        match response.outcomes[0].status {
            OutcomeStatus::Accepted => confirmed += 1,
            OutcomeStatus::Compensated => compensated += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(
        (confirmed, compensated),
        (5, 11),
        "the server honours as many as exist; every loser is compensated"
    );
    let view = second.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{}", conf.id),
        None,
    )?;
    assert_eq!(view["remaining"][conf.general.to_string()], 0);
    let desk = first.desk(conf.id, "Reader")?;
    let events = desk.pull_all()?;
    assert_eq!(count(&events, "walk_in.confirmed"), 5);
    assert_eq!(count(&events, "walk_in.rejected"), 11);
    assert_eq!(count(&events, "conflict.opened"), 11);
    Ok(())
}

#[test]
fn on_postgres_an_event_committed_late_is_never_skipped_by_pull() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("pg-late")?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let mut reader = server.desk(conf.id, "Reader")?;
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut drain =
        |reader: &mut onsite_tests::server::TestDesk, cursor: &mut Option<String>| -> Result<()> {
            loop {
                let page = reader.pull_page(cursor.as_deref(), 100)?;
                seen.extend(page.events.iter().map(|e| e.event_id));
                *cursor = Some(page.next_cursor);
                if !page.has_more {
                    return Ok(());
                }
            }
        };
    drain(&mut reader, &mut cursor)?;

    // A writer takes an identity value and a transaction id, then waits before committing.
    let mut late_writer = postgres::Client::connect(&url, postgres::NoTls)?;
    let mut late = late_writer.transaction()?;
    let late_id = uuid::Uuid::now_v7().to_string();
    late.execute(
        "INSERT INTO events (event_id, conference, stream_type, stream_id, version, event_type, schema_version, \
         occurred_at, recorded_at, payload) VALUES ($1, $2, 'conference', $2, 1000, 'conference.published', 1, \
         '2026-11-23T09:00:00.000Z', '2026-11-23T09:00:00.000Z', $3)",
        &[&late_id, &conf.id.to_string(), &format!("{{\"conference\":\"{}\"}}", conf.id)],
    )?;
    // Meanwhile other events commit after it, with higher positions.
    desk.push_events(&[admission(&conf, &desk, &TicketCode::parse("LATE-0001")?)])?;
    drain(&mut reader, &mut cursor)?;
    late.commit()?;
    drain(&mut reader, &mut cursor)?;

    let late_id: onsite_shared::ids::EventId = late_id.parse()?;
    assert_eq!(
        seen.iter().filter(|id| **id == late_id).count(),
        1,
        "the late event was delivered once"
    );
    let all_ids: Vec<_> = reader.pull_all()?.iter().map(|e| e.event_id).collect();
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    let mut sorted_all = all_ids;
    sorted_all.sort();
    assert_eq!(
        sorted_seen, sorted_all,
        "incremental pulls saw exactly what a full pull sees"
    );
    Ok(())
}

// ---- head-office reads, on both backends ----

fn head_office_reads_match_what_was_pushed(server: &TestServer) -> Result<()> {
    let conf = server.conference(3)?;
    let mut north = server.desk(conf.id, "North 1")?;
    let mut south = server.desk(conf.id, "South 1")?;
    let (cash, cash_codes) = sale(&conf, &north, conf.general, 19_900, 2);
    north.push_events(&[sale_event(cash)])?;
    let (mut card, _) = sale(&conf, &south, conf.general, 19_900, 2);
    card.payment_method = PaymentMethod::Card;
    let r = south.push_events(&[sale_event(card)])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Compensated);
    north.push_events(&[admission(&conf, &north, &cash_codes[0])])?;
    south.push_events(&[admission(&conf, &south, &cash_codes[0])])?;

    let base = format!("/v1/conferences/{}", conf.id);
    let all = server.admin(reqwest::Method::GET, &format!("{base}/registrations"), None)?;
    assert_eq!(
        all["total"], 4,
        "two walk-in tickets, one kept and one withdrawn from the second sale, all listed"
    );
    let found = server.admin(
        reqwest::Method::GET,
        &format!("{base}/registrations?q=ZURICH%20walker0"),
        None,
    )?;
    assert_eq!(
        found["total"], 2,
        "accent- and case-insensitive search: {found}"
    );
    let admitted = server.admin(
        reqwest::Method::GET,
        &format!("{base}/registrations?admitted=true"),
        None,
    )?;
    assert_eq!(admitted["total"], 1);
    assert_eq!(admitted["registrations"][0]["admitted_gate"], "north");
    let walk_in = server.admin(
        reqwest::Method::GET,
        &format!("{base}/registrations?origin=walk_in&admitted=false"),
        None,
    )?;
    assert_eq!(walk_in["total"], 3);

    let admissions = server.admin(reqwest::Method::GET, &format!("{base}/admissions"), None)?;
    assert_eq!(
        admissions["admitted"], 1,
        "one person, admitted once, whatever the duplicate"
    );
    assert_eq!(
        admissions["expected"], 3,
        "valid tickets of admission seat types"
    );
    assert_eq!(admissions["by_gate"][0]["gate"], "north");

    let sales = server.admin(reqwest::Method::GET, &format!("{base}/walk-ins"), None)?;
    let methods = sales["by_payment_method"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by = |m: &str| {
        methods
            .iter()
            .find(|r| r["payment_method"] == m)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (
            by("cash")["sales"].as_i64(),
            by("cash")["taken_minor"].as_i64()
        ),
        (Some(1), Some(39_800))
    );
    assert_eq!(
        (
            by("card")["compensated"].as_i64(),
            by("card")["refund_due_minor"].as_i64()
        ),
        (Some(1), Some(19_900))
    );

    let open = server.admin(
        reqwest::Method::GET,
        &format!("{base}/conflicts?open=true"),
        None,
    )?;
    let kinds: Vec<_> = open
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["kind"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds.len(), 2, "{open}");
    assert!(
        kinds.contains(&"walk_in_rejected".to_owned())
            && kinds.contains(&"duplicate_admission".to_owned())
    );

    let devices = server.admin(reqwest::Method::GET, &format!("{base}/devices"), None)?;
    let desk = devices
        .as_array()
        .and_then(|d| d.iter().find(|x| x["name"] == "North 1"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(desk["app_version"], "test");
    assert!(
        desk["last_seen"].is_string() && desk["clock_skew_ms"].is_i64(),
        "{desk}"
    );

    // One push admitting a ticket twice (on PostgreSQL a push's admissions reach
    // `admissions` together): the first admission is the one head office sees.
    let first = admission(&conf, &north, &cash_codes[1]);
    let mut second = admission(&conf, &north, &cash_codes[1]);
    if let Event::CheckIn(check_in::Event::Admitted { admission, .. }) = &mut second {
        admission.gate = "side".into();
        admission.at += chrono::Duration::minutes(1);
    }
    north.push_events(&[first, second])?;
    let admitted = server.admin(
        reqwest::Method::GET,
        &format!("{base}/registrations?admitted=true"),
        None,
    )?;
    assert_eq!(admitted["total"], 2, "{admitted}");
    let gates: Vec<_> = admitted["registrations"]
        .as_array()
        .map(|r| r.iter().map(|r| r["admitted_gate"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(gates, [json!("north"), json!("north")], "{admitted}");

    // The admission in force undone: that ticket is no longer admitted.
    let undo = undo_of(&north.pull_all()?, &cash_codes[0])?;
    let r = north.push_events(&[undo])?;
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted);
    let admitted = server.admin(
        reqwest::Method::GET,
        &format!("{base}/registrations?admitted=true"),
        None,
    )?;
    assert_eq!(admitted["total"], 1, "{admitted}");
    assert_eq!(admitted["registrations"][0]["code"], cash_codes[1].as_str());
    Ok(())
}

/// An undo, by the desk that admitted it, of the first admission of `code` in `log`.
fn undo_of(log: &[onsite_shared::Envelope], code: &TicketCode) -> Result<Event> {
    let (conference, admission) = log
        .iter()
        .filter(|e| e.event_type == "admission.admitted")
        .find_map(|e| match e.decode() {
            Ok(Event::CheckIn(check_in::Event::Admitted {
                conference,
                code: c,
                admission,
                ..
            })) if c == *code => Some((conference, admission)),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("{} was never admitted", code.as_str()))?;
    Ok(Event::CheckIn(check_in::Event::Undone {
        conference,
        code: code.clone(),
        admission: admission.admission,
        desk: admission.desk,
        at: chrono::Utc::now(),
        reason: "let in by mistake".into(),
    }))
}

/// Rewinds a server's database to the layout before the `admissions` table: each ticket's
/// admission in force on `tickets` itself. The same SQL on both backends.
const ADMISSIONS_ON_TICKETS: &str = "\
    ALTER TABLE tickets ADD COLUMN admission_id TEXT; ALTER TABLE tickets ADD COLUMN admitted_at TEXT; \
    ALTER TABLE tickets ADD COLUMN admitted_desk TEXT; ALTER TABLE tickets ADD COLUMN admitted_gate TEXT; \
    UPDATE tickets SET \
      admission_id = (SELECT a.admission_id FROM admissions a WHERE a.conference = tickets.conference AND a.code = tickets.code), \
      admitted_at = (SELECT a.admitted_at FROM admissions a WHERE a.conference = tickets.conference AND a.code = tickets.code), \
      admitted_desk = (SELECT a.desk FROM admissions a WHERE a.conference = tickets.conference AND a.code = tickets.code), \
      admitted_gate = (SELECT a.gate FROM admissions a WHERE a.conference = tickets.conference AND a.code = tickets.code); \
    DROP TABLE admissions;";

/// A database written by a server that kept admissions on `tickets` is moved over when a
/// newer server starts on it: head office sees the same admissions, and the ones that come
/// after (an undo of an admission from before the upgrade included).
fn admissions_survive_the_upgrade(
    server: &mut TestServer,
    rewind: &dyn Fn(&str) -> Result<()>,
) -> Result<()> {
    let conf = server.conference(3)?;
    let mut desk = server.desk(conf.id, "North 1")?;
    let (s, codes) = sale(&conf, &desk, conf.general, 19_900, 3);
    desk.push_events(&[
        sale_event(s),
        admission(&conf, &desk, &codes[0]),
        admission(&conf, &desk, &codes[1]),
    ])?;
    server.kill_hard();
    rewind(ADMISSIONS_ON_TICKETS)?;
    server.restart()?;
    desk.url = server.url.clone();

    let base = format!("/v1/conferences/{}", conf.id);
    let admitted = |server: &TestServer| -> Result<Vec<String>> {
        let r = server.admin(
            reqwest::Method::GET,
            &format!("{base}/registrations?admitted=true"),
            None,
        )?;
        let mut codes: Vec<String> = r["registrations"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|r| r["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        codes.sort();
        Ok(codes)
    };
    let mut before = vec![codes[0].as_str().to_owned(), codes[1].as_str().to_owned()];
    before.sort();
    assert_eq!(admitted(server)?, before, "moved over");
    let undo = undo_of(&desk.pull_all()?, &codes[0])?;
    desk.push_events(&[undo, admission(&conf, &desk, &codes[2])])?;
    let mut after = vec![codes[1].as_str().to_owned(), codes[2].as_str().to_owned()];
    after.sort();
    assert_eq!(admitted(server)?, after);
    // Started again on the moved database: nothing moved twice.
    server.kill_hard();
    server.restart()?;
    assert_eq!(admitted(server)?, after);
    Ok(())
}

#[test]
fn admissions_survive_the_upgrade_on_sqlite() -> Result<()> {
    let dir = TempDir::new("admissions-upgrade")?;
    let mut server = TestServer::start(dir.path())?;
    let file = dir.path().join("onsite.sqlite3");
    admissions_survive_the_upgrade(&mut server, &|sql| {
        rusqlite::Connection::open(&file)?
            .execute_batch(&format!("BEGIN; {sql} {UNVERSIONED} COMMIT;"))?;
        Ok(())
    })
}

#[test]
fn admissions_survive_the_upgrade_on_postgres() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("admissions-upgrade-pg")?;
    let mut server = TestServer::start_with(dir.path(), Some(&url))?;
    admissions_survive_the_upgrade(&mut server, &|sql| {
        postgres::Client::connect(&url, postgres::NoTls)?
            .batch_execute(&format!("BEGIN; {sql} {UNVERSIONED} COMMIT;"))?;
        Ok(())
    })
}

#[test]
fn head_office_reads_match_what_desks_pushed_on_sqlite() -> Result<()> {
    let dir = TempDir::new("ho-sqlite")?;
    head_office_reads_match_what_was_pushed(&TestServer::start(dir.path())?)
}

#[test]
fn head_office_reads_match_what_desks_pushed_on_postgres() -> Result<()> {
    let pg = PgCluster::start()?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("ho-pg")?;
    head_office_reads_match_what_was_pushed(&TestServer::start_with(dir.path(), Some(&url))?)
}

#[test]
fn pull_responses_are_compressed() -> Result<()> {
    let dir = TempDir::new("gzip")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let desk = server.desk(conf.id, "North 1")?;
    let raw = onsite_tests::server::http_client().no_gzip().build()?;
    let res = raw
        .get(format!("{}/v1/sync/pull", server.url))
        .bearer_auth(&desk.token)
        .header("accept-encoding", "gzip")
        .send()?;
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    Ok(())
}

/// Every `$ref` in `value`.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_describes_routes_the_server_really_has() -> Result<()> {
    let dir = TempDir::new("openapi")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let doc: serde_json::Value = server
        .http()
        .get(format!("{}/v1/openapi.json", server.url))
        .send()?
        .error_for_status()?
        .json()?;
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));

    // Every reference points at a schema the document defines.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling reference {r}"
        );
    }
    // The envelope lists the event types the server knows.
    let known = doc["components"]["schemas"]["Envelope"]["properties"]["event_type"]["enum"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(known, onsite_shared::event::EVENT_TYPES.len());

    // Every documented operation reaches a handler: axum answers an unrouted path with 404 and an
    // empty body, and a wrong method with 405; every handler answers with JSON or 2xx.
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 20, "{} paths", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        let url = format!(
            "{}{}",
            server.url,
            path.replace("{conference}", &conf.id.to_string())
                .replace("{seat_type}", &conf.general.to_string())
                .replace("{position}", "1")
                .replace("{order}", &new_id().to_string())
                .replace("{device}", &new_id().to_string())
                .replace("{slug}", "no-such-slug")
        );
        for method in item.as_object().expect("operations").keys() {
            let method: reqwest::Method = method.to_uppercase().parse()?;
            let mut req = server
                .http()
                .request(method.clone(), &url)
                .bearer_auth(&server.admin_token);
            if method == reqwest::Method::POST || method == reqwest::Method::PUT {
                req = req.json(&json!({}));
            }
            let res = req.send()?;
            let status = res.status().as_u16();
            let body = res.text()?;
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !body.contains("request.not_found"),
                "{method} {path} reaches no handler"
            );
            assert!(
                status < 300 || serde_json::from_str::<serde_json::Value>(&body).is_ok(),
                "{method} {path}: {status} with a non-JSON body {body:?}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 23, "{operations} operations");

    // A front end can be written from the document alone: every operation says what it does
    // (a summary and a description), and every error it may answer names its codes.
    let code = regex_lite_code();
    let mut missing = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("operations") {
            for field in ["summary", "description"] {
                if op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                    missing.push(format!("{method} {path}: no {field}"));
                }
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                let description = response["description"].as_str().unwrap_or("");
                if status.starts_with('4') && !code(description) {
                    missing.push(format!(
                        "{method} {path}: {status} names no error code ({description:?})"
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    Ok(())
}

/// Whether a text names an error code: `` `noun.what` `` in backticks.
fn regex_lite_code() -> impl Fn(&str) -> bool {
    |text: &str| {
        text.split('`').skip(1).step_by(2).any(|quoted| {
            let mut parts = quoted.split('.');
            matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
                if !a.is_empty() && !b.is_empty()
                    && quoted.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'))
        })
    }
}

/// 200 desks push at once against a PostgreSQL that takes 20 connections: the server's pool
/// holds at most its size (16 here, so the database never refuses a connection), and every
/// push either succeeds or is answered 503 to try again, never a 500; the ones answered 503
/// succeed when pushed again, and every admission is recorded once.
#[test]
fn on_postgres_200_concurrent_pushes_on_20_connections_succeed_or_get_a_clear_503() -> Result<()> {
    let pg = PgCluster::start_with_max_connections(20)?;
    let url = pg.database("onsite")?;
    let dir = TempDir::new("pg-pool")?;
    let server = TestServer::start_with(dir.path(), Some(&url))?;
    let conf = server.conference(10)?;
    let mut desks = Vec::new();
    for i in 0..200 {
        desks.push(server.desk(conf.id, &format!("Desk {i}"))?);
    }
    let code = |i: usize| TicketCode::parse(&format!("LD{i:02X}-PQRS")).expect("a code");
    let bodies: Vec<_> = desks
        .iter_mut()
        .enumerate()
        .map(|(i, d)| {
            let items = d.items(&[admission(&conf, d, &code(i))]);
            serde_json::to_value(d.request(items)).expect("a push")
        })
        .collect();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let running: Vec<_> = desks
            .iter()
            .zip(&bodies)
            .map(|(d, body)| s.spawn(move || d.push_raw(body).map(|(status, _)| status)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().expect("a pusher").unwrap_or(0))
            .collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + busy, 200, "only 200 or 503: {statuses:?}");
    // What was answered 503 goes through when pushed again.
    for ((d, body), status) in desks.iter().zip(&bodies).zip(&statuses) {
        if *status == 503 {
            let (again, answer) = d.push_raw(body)?;
            assert_eq!(again, 200, "{answer}");
        }
    }
    let conflicts = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{}/conflicts", conf.id),
        None,
    )?;
    let flagged = conflicts.as_array().map_or(0, Vec::len);
    assert_eq!(
        flagged, 200,
        "one unknown-ticket flag per admission, each once"
    );
    eprintln!("200 concurrent pushes: {ok} at once, {busy} answered 503 and pushed again");
    Ok(())
}

/// TLS to PostgreSQL, as managed databases require: on a cluster that refuses connections
/// without TLS, the server connects with `sslmode=require` and the cluster's CA
/// (`sslrootcert`), and its connections are encrypted. Without the CA the certificate is not
/// trusted, under a name the certificate does not carry it is refused, and without TLS the
/// database refuses: never a silent fall back to plain text.
#[test]
fn on_postgres_with_tls_the_server_verifies_the_database_and_never_falls_back() -> Result<()> {
    let pg = PgCluster::start_with_tls()?;
    let plain = pg.database("onsite")?;
    let dir = TempDir::new("pg-tls")?;
    let ca = pg.ca().display().to_string();
    let with = |url: &str, query: &str| format!("{url}?{query}");
    for (url, says) in [
        (plain.clone(), "no encryption"),
        (with(&plain, "sslmode=require"), "certificate"),
        (
            with(
                &plain.replace("127.0.0.1", "localhost"),
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            "certificate",
        ),
    ] {
        let refused = onsite_tests::server::server_command(dir.path(), Some(&url), &["demo"]);
        let err = format!("{:#}", refused.expect_err("refused"));
        assert!(err.contains(says), "{url}: {err}");
    }
    let secure = with(&plain, &format!("sslmode=require&sslrootcert={ca}"));
    onsite_tests::server::server_command(dir.path(), Some(&secure), &["demo", "--attendees", "5"])?;
    let server = TestServer::start_with(dir.path(), Some(&secure))?;
    let conference = server.admin(
        reqwest::Method::GET,
        "/v1/conferences/01930000-0000-7000-8000-000000000001",
        None,
    )?;
    assert_eq!(conference["published"], true, "{conference}");
    let mut admin = postgres::Client::connect(&pg.url("postgres"), postgres::NoTls)?;
    let encrypted: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid \
             WHERE a.datname = 'onsite' AND s.ssl",
            &[],
        )?
        .get(0);
    assert!(encrypted >= 1, "the server's connections use TLS");
    Ok(())
}
