//! The venue relay with real processes: an upstream server, `onsite-server relay` behind a
//! partition that cuts its uplink, and desks (the real desk core) that sync with the relay
//! first and upstream second.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use onsite_desk_core::CheckInOutcome;
use onsite_desk_core::sync::SyncError;
use onsite_shared::ids::{DeviceId, SeatTypeId};
use onsite_shared::protocol::OutcomeStatus;
use onsite_shared::walk_in::SaleStatus;
use onsite_tests::desk::LocalDesk;
use onsite_tests::partition::Partition;
use onsite_tests::relay::TestRelay;
use onsite_tests::server::{TempDir, TestServer};
use reqwest::Method;
use serde_json::json;

use crate::backup::admitted as upstream_admitted;
use crate::desk::{DEMO, admission_ticket, demo_server, scan, walk_in_at};

/// An upstream server with the demo conference, and a relay whose uplink goes through a
/// partition the test cuts and heals.
struct Venue {
    dir: TempDir,
    server: TestServer,
    uplink: Partition,
    relay: TestRelay,
}

fn venue(label: &str, attendees: u32) -> Result<Venue> {
    let dir = TempDir::new(label)?;
    let server = demo_server(&dir, attendees)?;
    let uplink = Partition::start(&server.url)?;
    let relay = TestRelay::start(
        &dir.path().join("relay"),
        &uplink.url,
        &server.relay_code(DEMO, "Main hall")?,
    )?;
    Ok(Venue {
        dir,
        server,
        uplink,
        relay,
    })
}

/// A desk of the demo conference, enrolled upstream, set to sync with the relay first; it
/// has synced through the relay once.
fn desk_behind(
    server: &TestServer,
    relay: &TestRelay,
    name: &str,
    dir: &TempDir,
) -> Result<LocalDesk> {
    let desk = LocalDesk::enrol(server, DEMO, name, dir.path())?;
    desk.set_relays(std::slice::from_ref(&relay.url))?;
    // The relay learns new desks every two seconds; until then the desk syncs upstream.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        desk.sync()?;
        if desk.sync.status()?.via_relay {
            return Ok(desk);
        }
        ensure!(
            Instant::now() < deadline,
            "{name} never synced through the relay"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `n` codes of people the desk may admit and has not, found by searching as staff would.
fn admissible(desk: &LocalDesk, n: usize) -> Result<Vec<String>> {
    let mut codes: Vec<String> = Vec::with_capacity(n);
    for a in 'a'..='z' {
        for b in 'a'..='z' {
            for e in desk.search(&format!("{a}{b}"))? {
                let code = e.code.as_str().to_owned();
                if e.admits && e.admission.is_none() && !codes.contains(&code) {
                    codes.push(code);
                }
                if codes.len() == n {
                    return Ok(codes);
                }
            }
        }
    }
    anyhow::bail!("only {} people to admit", codes.len())
}

/// Every event upstream holds from `desk`, by sequence: each must be there once.
fn upstream_events_of(server: &TestServer, desk: DeviceId) -> Result<Vec<u64>> {
    let auditor = server.desk(DEMO, &format!("auditor {}", uuid::Uuid::now_v7()))?;
    let mut seqs: Vec<u64> = auditor
        .pull_all()?
        .into_iter()
        .filter(|e| e.device_id == Some(desk) && e.client_seq.is_some())
        .filter_map(|e| e.client_seq)
        .collect();
    seqs.sort_unstable();
    Ok(seqs)
}

/// Every event the desk appended has a final outcome, and the ones upstream recorded are there
/// exactly once.
fn all_decided_once(server: &TestServer, desk: &LocalDesk) -> Result<()> {
    let outbox = desk.outbox(0, 10_000)?;
    ensure!(
        outbox
            .iter()
            .all(|o| o.outcome.is_some_and(OutcomeStatus::is_final)),
        "not all decided: {:?}",
        outbox.iter().map(|o| o.outcome).collect::<Vec<_>>()
    );
    let recorded: Vec<u64> = outbox
        .iter()
        .filter(|o| {
            matches!(
                o.outcome,
                Some(OutcomeStatus::Accepted | OutcomeStatus::Compensated)
            )
        })
        .map(|o| o.client_seq)
        .collect();
    let device = desk.enrolment()?.context("enrolled")?.device;
    let upstream = upstream_events_of(server, device)?;
    ensure!(
        upstream == recorded,
        "upstream holds {upstream:?}, the desk's recorded items are {recorded:?}"
    );
    Ok(())
}

#[test]
fn desks_behind_a_relay_see_each_other_while_the_uplink_is_down_and_upstream_gets_each_event_once()
-> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        relay,
    } = venue("relay", 200)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    let south = desk_behind(&server, &relay, "south", &dir)?;
    let west = desk_behind(&server, &relay, "west", &dir)?;
    ensure!(
        north.roster_size()? >= 200,
        "the roster came through the relay"
    );

    // The venue's uplink fails; the LAN does not.
    uplink.cut();
    let person = admission_ticket(&north, "a")?;
    let code = person.code.as_str();
    ensure!(matches!(
        north.check_in(&scan(code))?,
        CheckInOutcome::Admitted { .. }
    ));
    let report = north.sync()?;
    ensure!(report.held == 1, "held at the venue: {report:?}");
    ensure!(north.sync.status()?.held == 1);

    // Another door hears of it within a second and shows it amber.
    let started = Instant::now();
    loop {
        south.sync()?;
        if south.attendee(code)?.and_then(|e| e.admission).is_some() {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(1),
            "south did not hear within 1 s"
        );
    }
    let propagated = started.elapsed();
    let north_device = north.enrolment()?.context("enrolled")?.device;
    let again = south.check_in(&scan(code))?;
    ensure!(
        matches!(again, CheckInOutcome::AlreadyAdmitted { ref first, .. } if first.desk == north_device),
        "{again:?}"
    );

    // Walk-in counts include the other desks' provisional sales.
    let seat = west
        .availability()?
        .into_iter()
        .find(|a| a.remaining > 10)
        .context("a seat type with seats")?;
    let before = north
        .availability()?
        .into_iter()
        .find(|a| a.seat_type == seat.seat_type)
        .context("seat type at north")?
        .remaining;
    west.sell(&walk_in_at(
        seat.seat_type,
        seat.price.amount_minor,
        2,
        "West",
    ))?;
    west.sync()?;
    north.sync()?;
    let after = north
        .availability()?
        .into_iter()
        .find(|a| a.seat_type == seat.seat_type)
        .context("seat type at north")?
        .remaining;
    ensure!(
        after == before - 2,
        "north counts west's two sales: {before} → {after}"
    );

    // Upstream heard nothing meanwhile.
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == 0,
        "upstream admitted {admitted_upstream}"
    );

    // Healed: the relay forwards everything; the desks learn the decisions through it.
    uplink.heal();
    relay.wait_forwarded(Duration::from_secs(30))?;
    for desk in [&north, &south, &west] {
        desk.sync()?;
        desk.sync()?;
        ensure!(desk.sync.status()?.held == 0);
        all_decided_once(&server, desk)?;
    }
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == 1,
        "upstream admitted {admitted_upstream}"
    );
    let entry = south.attendee(code)?.context("on the roster")?;
    let admission = entry.admission.context("admitted")?;
    ensure!(
        admission.desk == north_device && !admission.pending,
        "{admission:?}"
    );
    eprintln!("LAN propagation desk → relay → desk: {propagated:?}");

    // Head office sees the relay and the desks behind it.
    let relays = server.admin(Method::GET, &format!("/v1/conferences/{DEMO}/relays"), None)?;
    let row = &relays[0];
    ensure!(
        row["name"] == "Main hall" && row["last_seen"].is_string(),
        "{relays}"
    );
    Ok(())
}

#[test]
fn a_relay_killed_mid_forward_loses_and_doubles_nothing() -> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        mut relay,
    } = venue("relay-kill", 1_500)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    uplink.cut();
    // More than two forwarded batches' worth, so the kill lands between or inside them.
    let mut admitted = 0u64;
    for code in admissible(&north, 1_100)? {
        if matches!(
            north.check_in(&scan(&code))?,
            CheckInOutcome::Admitted { .. }
        ) {
            admitted += 1;
        }
    }
    ensure!(admitted == 1_100, "{admitted}");
    north.sync()?;
    ensure!(relay.health()?["held"] == admitted, "{}", relay.health()?);
    uplink.heal();
    // Killed as soon as the first batch went, with more to go.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let held = relay.health()?["held"].as_u64().context("held")?;
        if held < admitted {
            ensure!(held > 0, "all forwarded before the kill");
            break;
        }
        ensure!(Instant::now() < deadline, "nothing forwarded");
        std::thread::sleep(Duration::from_millis(5));
    }
    relay.kill_hard();
    relay.restart()?;
    relay.wait_forwarded(Duration::from_secs(30))?;
    north.sync()?;
    north.sync()?;
    all_decided_once(&server, &north)?;
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == admitted,
        "upstream admitted {admitted_upstream}"
    );
    Ok(())
}

#[test]
fn a_desk_fails_over_to_upstream_and_back_without_losing_or_doubling_an_event() -> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        mut relay,
    } = venue("relay-failover", 200)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    let people = admissible(&north, 20)?;

    // Half through the relay, which cannot forward it (its uplink is cut) and then dies.
    uplink.cut();
    for code in &people[..10] {
        north.check_in(&scan(code))?;
    }
    ensure!(north.sync()?.held == 10);
    relay.kill_hard();

    // The rest straight to upstream: the desk fails over on its own.
    for code in &people[10..] {
        north.check_in(&scan(code))?;
    }
    north.sync()?;
    let status = north.sync.status()?;
    ensure!(
        status.server.as_deref() == Some(server.url.as_str()) && !status.via_relay,
        "{status:?}"
    );

    // The relay comes back and forwards its half: upstream has each event once.
    uplink.heal();
    relay.restart()?;
    relay.wait_forwarded(Duration::from_secs(30))?;
    north.sync()?;
    north.sync()?;
    ensure!(north.sync.status()?.via_relay, "back to the relay");
    all_decided_once(&server, &north)?;
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == 20,
        "upstream admitted {admitted_upstream}"
    );
    Ok(())
}

#[test]
fn a_desk_revoked_while_the_relay_is_cut_off_is_refused_as_soon_as_it_reconnects() -> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        relay,
    } = venue("relay-revoke", 50)?;
    let south = desk_behind(&server, &relay, "south", &dir)?;
    uplink.cut();
    let device = south.enrolment()?.context("enrolled")?.device;
    server.admin(Method::POST, &format!("/v1/devices/{device}/revoke"), None)?;
    // The relay has not heard: the desk still syncs at the venue.
    south.sync()?;
    uplink.heal();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match south.try_sync() {
            Err(SyncError::Revoked) => break,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        ensure!(
            Instant::now() < deadline,
            "the relay still serves a revoked desk"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    ensure!(south.sync.status()?.revoked);
    Ok(())
}

#[test]
fn a_desk_finds_the_relay_of_its_conference_on_the_venue_network() -> Result<()> {
    let dir = TempDir::new("relay-discovery")?;
    let server = demo_server(&dir, 50)?;
    let relay = TestRelay::start_on(
        &dir.path().join("relay"),
        &server.url,
        &server.relay_code(DEMO, "Foyer")?,
        "0.0.0.0:0",
    )?;
    let ours = relay.health()?["relay"]
        .as_str()
        .context("relay id")?
        .to_owned();
    let port = relay.url.rsplit(':').next().context("port")?.to_owned();
    let desk = LocalDesk::enrol(&server, DEMO, "North", dir.path())?;
    let found = onsite_desk_core::discovery::find_relays(DEMO, Duration::from_secs(5))?;
    let relay_found = found
        .iter()
        .find(|r| r.relay == ours)
        .with_context(|| format!("not found on the network: {found:?}"))?;
    ensure!(
        relay_found.name.starts_with("Foyer") && relay_found.url.ends_with(&format!(":{port}")),
        "{relay_found:?}"
    );
    // Another conference's desk does not list it.
    let elsewhere = onsite_desk_core::discovery::find_relays(
        onsite_shared::ids::ConferenceId::from_uuid(uuid::Uuid::now_v7()),
        Duration::from_secs(2),
    )?;
    ensure!(elsewhere.iter().all(|r| r.relay != ours), "{elsewhere:?}");

    // Bad relay lists change nothing.
    let before = desk.servers()?;
    let too_many: Vec<String> = (0..=onsite_desk_core::MAX_RELAYS)
        .map(|i| format!("http://10.0.0.{i}:7300"))
        .collect();
    ensure!(desk.set_relays(&too_many).is_err());
    ensure!(
        desk.set_relays(&[relay_found.url.clone(), "javascript:alert(1)".into()])
            .is_err()
    );
    ensure!(desk.servers()? == before, "{:?}", desk.servers()?);

    // Chosen by staff, the found address works: the desk syncs through the relay.
    desk.set_relays(std::slice::from_ref(&relay_found.url))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !desk.sync.status()?.via_relay {
        desk.sync()?;
        ensure!(
            Instant::now() < deadline,
            "never synced through the found relay"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn call(
    url: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value)> {
    let client = onsite_tests::server::http_client()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut req = client.request(method, format!("{url}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send()?;
    let status = res.status().as_u16();
    Ok((status, res.json().unwrap_or(serde_json::Value::Null)))
}

fn enrol_relay(
    server: &TestServer,
    conference: onsite_shared::ids::ConferenceId,
) -> Result<String> {
    let code = server.relay_code(conference, "Probe")?;
    let (status, creds) = call(
        &server.url,
        Method::POST,
        "/v1/relay/enrol",
        None,
        Some(serde_json::json!({"code": code})),
    )?;
    ensure!(status == 200, "{status} {creds}");
    ensure!(
        call(
            &server.url,
            Method::POST,
            "/v1/relay/enrol",
            None,
            Some(serde_json::json!({"code": code}))
        )?
        .0 == 401,
        "a code works once"
    );
    Ok(creds["token"].as_str().context("token")?.to_owned())
}

#[test]
fn upstream_refuses_what_a_relay_may_not_say_and_changes_nothing() -> Result<()> {
    use onsite_tests::server::admission;
    let dir = TempDir::new("relay-hostile")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let other = server.conference(10)?;
    let relay = enrol_relay(&server, conf.id)?;
    let mut desk = server.desk(conf.id, "North")?;
    let mut stranger = server.desk(other.id, "Elsewhere")?;
    let code = |c: &str| onsite_shared::ids::TicketCode::parse(c).expect("a code");

    // A desk's code is not a relay's, and tokens do not cross over.
    let desk_code = server.enrolment_code(conf.id, "Spare")?;
    let (status, body) = call(
        &server.url,
        Method::POST,
        "/v1/relay/enrol",
        None,
        Some(serde_json::json!({"code": desk_code})),
    )?;
    ensure!(
        status == 401 && body["code"] == "auth.bad_code",
        "{status} {body}"
    );
    for path in ["/v1/relay/desks", "/v1/relay/pull"] {
        let (status, body) = call(&server.url, Method::GET, path, Some(&desk.token), None)?;
        ensure!(
            status == 401 && body["code"] == "auth.unauthenticated",
            "{path}: {status} {body}"
        );
    }
    let (status, _) = call(
        &server.url,
        Method::GET,
        "/v1/sync/pull",
        Some(&relay),
        None,
    )?;
    ensure!(status == 401, "a relay's token is no desk's");
    let items = desk.items(&[admission(&conf, &desk, &code("AAAA-0001"))]);
    let (status, _) = call(
        &server.url,
        Method::POST,
        "/v1/sync/push",
        Some(&relay),
        Some(serde_json::to_value(desk.request(items.clone()))?),
    )?;
    ensure!(status == 401, "a relay pushes only on a desk's behalf");

    // Forwarding: only for an enrolled desk of the relay's conference, with its own events.
    let forward = |device: onsite_shared::ids::DeviceId,
                   push: &onsite_shared::protocol::PushRequest| {
        call(
            &server.url,
            Method::POST,
            "/v1/relay/push",
            Some(&relay),
            Some(serde_json::json!({"device_id": device, "push": push})),
        )
    };
    let foreign = stranger.items(&[admission(&other, &stranger, &code("BBBB-0001"))]);
    let (status, body) = forward(stranger.device, &stranger.request(foreign))?;
    ensure!(
        status == 403 && body["code"] == "relay.not_its_desk",
        "another conference's desk: {status} {body}"
    );
    let (status, body) = forward(
        onsite_shared::ids::DeviceId::from_uuid(uuid::Uuid::now_v7()),
        &desk.request(items.clone()),
    )?;
    ensure!(
        status == 403 && body["code"] == "relay.not_its_desk",
        "an unknown desk: {status} {body}"
    );
    let spare = server.desk(conf.id, "Spare 2")?;
    let (status, body) = forward(spare.device, &desk.request(items.clone()))?;
    ensure!(
        status == 403 && body["code"] == "sync.wrong_desk",
        "events naming another desk: {status} {body}"
    );
    let (status, body) = call(
        &server.url,
        Method::POST,
        "/v1/relay/push",
        Some(&relay),
        Some(serde_json::json!({"device_id": "not-a-uuid", "push": {}})),
    )?;
    ensure!(
        status == 400 && body["code"] == "request.malformed",
        "{status} {body}"
    );
    let huge = serde_json::json!({"device_id": desk.device, "push": {"padding": "x".repeat(17 * 1024 * 1024)}});
    let (status, _) = call(
        &server.url,
        Method::POST,
        "/v1/relay/push",
        Some(&relay),
        Some(huge),
    )?;
    ensure!(status == 413, "an oversized forward: {status}");
    // A forward vouches for at most four venue seats' allocations per item's worth.
    let allocation = serde_json::json!({"order": uuid::Uuid::now_v7(), "lease": uuid::Uuid::now_v7(),
        "seat_type": uuid::Uuid::now_v7(), "quantity": 1, "until": chrono::Utc::now()});
    let (status, body) = call(
        &server.url,
        Method::POST,
        "/v1/relay/push",
        Some(&relay),
        Some(
            serde_json::json!({"device_id": desk.device, "push": desk.request(items.clone()),
            "allocations": vec![allocation.clone(); 4_001]}),
        ),
    )?;
    ensure!(
        status == 400 && body["code"] == "request.malformed",
        "too many allocations: {status} {body}"
    );
    ensure!(
        server.admin(
            Method::GET,
            &format!("/v1/conferences/{}/admissions", conf.id),
            None
        )?["admitted"]
            == 0,
        "nothing was recorded"
    );

    // A good forward is the desk's own, and a replay gets the same outcomes.
    let request = desk.request(items);
    let (status, first) = forward(desk.device, &request)?;
    ensure!(
        status == 200 && first["outcomes"][0]["status"] == "accepted",
        "{status} {first}"
    );
    let (status, again) = forward(desk.device, &request)?;
    ensure!(status == 200 && again == first, "a replay: {again}");
    let events = desk.pull_all()?;
    let admitted = events
        .iter()
        .find(|e| e.event_type == "admission.admitted")
        .context("admitted")?;
    ensure!(
        admitted.device_id == Some(desk.device),
        "the desk is the author"
    );

    // The desks list is the relay's conference only; a revoked desk is said so and refused.
    let (status, desks) = call(
        &server.url,
        Method::GET,
        "/v1/relay/desks",
        Some(&relay),
        None,
    )?;
    ensure!(status == 200, "{status}");
    let ids: Vec<&str> = desks
        .as_array()
        .context("desks")?
        .iter()
        .filter_map(|d| d["device_id"].as_str())
        .collect();
    ensure!(
        ids.contains(&desk.device.to_string().as_str())
            && !ids.contains(&stranger.device.to_string().as_str()),
        "{desks}"
    );
    server.admin(
        Method::POST,
        &format!("/v1/devices/{}/revoke", desk.device),
        None,
    )?;
    let more = desk.items(&[admission(&conf, &desk, &code("AAAA-0002"))]);
    let (status, body) = forward(desk.device, &desk.request(more))?;
    ensure!(
        status == 403 && body["code"] == "auth.revoked",
        "{status} {body}"
    );

    // Status: bounded, and another conference's desks are left out.
    let too_many: Vec<String> = (0..1_001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let (status, _) = call(
        &server.url,
        Method::POST,
        "/v1/relay/status",
        Some(&relay),
        Some(serde_json::json!({"held": 1, "desks": too_many})),
    )?;
    ensure!(status == 400, "{status}");
    let (status, _) = call(
        &server.url,
        Method::POST,
        "/v1/relay/status",
        Some(&relay),
        Some(serde_json::json!({"held": 1, "desks": [],
            "allocations": vec![allocation; 1_001]})),
    )?;
    ensure!(status == 400, "too many allocations in a status: {status}");
    let (status, _) = call(
        &server.url,
        Method::POST,
        "/v1/relay/status",
        Some(&relay),
        Some(serde_json::json!({"held": 7, "desks": [desk.device, stranger.device]})),
    )?;
    ensure!(status == 200);
    let rows = server.admin(
        Method::GET,
        &format!("/v1/conferences/{}/relays", conf.id),
        None,
    )?;
    ensure!(
        rows[0]["held"] == 7 && rows[0]["desks"] == serde_json::json!([desk.device.to_string()]),
        "{rows}"
    );
    let (status, _) = call(
        &server.url,
        Method::GET,
        &format!("/v1/conferences/{}/relays", conf.id),
        Some(&relay),
        None,
    )?;
    ensure!(status == 401, "a relay is not head office");

    // Revoked: its token stops working at once; another conference cannot revoke it.
    let relay_id = rows[0]["relay_id"].as_str().context("relay id")?;
    let (status, _) = server.admin_raw(
        Method::POST,
        &format!("/v1/conferences/{}/relays/{relay_id}/revoke", other.id),
        None,
    )?;
    ensure!(status == 404, "{status}");
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{}/relays/{relay_id}/revoke", conf.id),
        None,
    )?;
    let (status, body) = call(
        &server.url,
        Method::GET,
        "/v1/relay/desks",
        Some(&relay),
        None,
    )?;
    ensure!(
        status == 401 && body["code"] == "auth.revoked",
        "{status} {body}"
    );
    Ok(())
}

#[test]
fn a_relay_checks_what_desks_push_and_answers_old_desks_in_their_own_terms() -> Result<()> {
    use onsite_tests::server::admission;
    let dir = TempDir::new("relay-desk-hostile")?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(10)?;
    let other = server.conference(10)?;
    let uplink = Partition::start(&server.url)?;
    let mut desk = server.desk(conf.id, "North")?;
    let mut stranger = server.desk(other.id, "Elsewhere")?;
    let relay = TestRelay::start(
        &dir.path().join("relay"),
        &uplink.url,
        &server.relay_code(conf.id, "Hall")?,
    )?;
    uplink.cut();
    desk.url = relay.url.clone();
    stranger.url = relay.url.clone();
    let code = |c: &str| onsite_shared::ids::TicketCode::parse(c).expect("a code");

    // Another conference's desk is unknown here; an event of another conference is refused.
    let foreign = stranger.items(&[admission(&other, &stranger, &code("BBBB-0001"))]);
    let (status, _) = stranger.push_raw(&serde_json::to_value(stranger.request(foreign))?)?;
    ensure!(status == 401, "{status}");
    let mut forged = desk.items(&[admission(&other, &desk, &code("BBBB-0002"))]);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(forged.clone()))?)?;
    ensure!(
        status == 403 && body["code"] == "auth.forbidden",
        "{status} {body}"
    );
    // An event naming another desk.
    forged[0].event.device_id = Some(stranger.device);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(forged))?)?;
    ensure!(
        status == 403 && body["code"] == "sync.wrong_desk",
        "{status} {body}"
    );
    ensure!(relay.health()?["held"] == 0, "nothing held");

    // A gap is refused with where to resume (the refused items above took sequences 1 and 2).
    desk.next_seq = 1;
    let items = desk.items(&[admission(&conf, &desk, &code("AAAA-0001"))]);
    let (status, body) = desk.push_raw(&serde_json::to_value(
        desk.request(desk_items_at(&items, 5)),
    )?)?;
    ensure!(
        status == 409 && body["expected_client_seq"] == 1,
        "{status} {body}"
    );

    // Protocol 2: held at once; a replay says the same; another event at a held sequence diverges.
    let request = desk.request(items);
    let (status, held) = desk.push_raw(&serde_json::to_value(&request)?)?;
    ensure!(
        status == 200 && held["outcomes"][0]["status"] == "held",
        "{status} {held}"
    );
    let (_, again) = desk.push_raw(&serde_json::to_value(&request)?)?;
    ensure!(again == held, "{again}");
    let mut other_event = desk.items(&[admission(&conf, &desk, &code("AAAA-0009"))]);
    other_event[0].client_seq = 1;
    other_event[0].event.client_seq = Some(1);
    let (status, body) = desk.push_raw(&serde_json::to_value(desk.request(other_event))?)?;
    ensure!(
        status == 409 && body["code"] == "sync.client_diverged",
        "{status} {body}"
    );

    // Protocol 1 (an older desk): stored, but no decision yet: 503 and ask again.
    desk.next_seq = 2;
    let old_items = desk.items(&[admission(&conf, &desk, &code("AAAA-0002"))]);
    let mut old = serde_json::to_value(desk.request(old_items))?;
    old["protocol_version"] = 1.into();
    let (status, body) = desk.push_raw(&old)?;
    ensure!(
        status == 503 && body["code"] == "relay.held",
        "{status} {body}"
    );
    ensure!(
        relay.health()?["held"] == 2,
        "both held: {}",
        relay.health()?
    );
    old["protocol_version"] = 99.into();
    let (status, body) = desk.push_raw(&old)?;
    ensure!(
        status == 400 && body["code"] == "sync.unsupported_protocol",
        "{status} {body}"
    );

    // The relay is no upstream: enrolment and head office's routes are not here.
    let (status, body) = call(
        &relay.url,
        Method::POST,
        "/v1/devices/enrol",
        None,
        Some(serde_json::json!({"code": "X"})),
    )?;
    ensure!(
        status == 404 && body["code"] == "relay.upstream_only",
        "{status} {body}"
    );
    // A bad venue cursor starts the feed again rather than failing.
    let (status, _) = call(
        &relay.url,
        Method::GET,
        &format!("/v1/sync/pull?client_id={}&venue=nonsense.%20", desk.client),
        Some(&desk.token),
        None,
    )?;
    ensure!(status == 200);

    // Healed: the older desk asks again and gets the decision in its own terms.
    uplink.heal();
    relay.wait_forwarded(Duration::from_secs(30))?;
    let (status, body) = desk.push_raw(&old_as_v1(&old))?;
    let decided = body["outcomes"][0]["status"].as_str().unwrap_or_default();
    ensure!(
        status == 200 && ["accepted", "compensated", "rejected"].contains(&decided),
        "{status} {body}"
    );
    Ok(())
}

fn desk_items_at(
    items: &[onsite_shared::protocol::PushItem],
    seq: u64,
) -> Vec<onsite_shared::protocol::PushItem> {
    items
        .iter()
        .cloned()
        .map(|mut i| {
            i.client_seq = seq;
            i.event.client_seq = Some(seq);
            i
        })
        .collect()
}

fn old_as_v1(old: &serde_json::Value) -> serde_json::Value {
    let mut v = old.clone();
    v["protocol_version"] = 1.into();
    v
}

#[test]
fn the_window_syncs_through_a_venue_relay_and_says_what_is_held_there() -> Result<()> {
    use crate::desk_app::{css, press, scan as scan_in_window};
    use onsite_tests::display::VirtualDisplay;
    use onsite_tests::webdriver::{TauriDriver, key, screenshot, wait_for_text};
    const WAIT: Duration = Duration::from_secs(30);

    let Venue {
        dir,
        server,
        uplink,
        relay,
    } = venue("relay-window", 60)?;
    // The window's desk, enrolled and bootstrapped before the window opens.
    let db = dir.path().join("window.sqlite3");
    let code = server.enrolment_code(DEMO, "Window")?;
    let (person, seat) = {
        let desk = LocalDesk::enrol_with_code(&server.url, &code, &db)?;
        desk.sync()?;
        let seat = desk
            .availability()?
            .into_iter()
            .find(|a| a.remaining > 10 && !a.overbook)
            .context("a seat type with seats, not overbooked")?;
        (admission_ticket(&desk, "a")?, seat)
    };
    let display = VirtualDisplay::start()?;
    let driver = TauriDriver::start(
        &display,
        &[("ONSITE_DESK_DB", db.to_str().context("utf-8 path")?)],
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let app = onsite_tests::workspace::binary("onsite-desk")?;
    let client = runtime.block_on(driver.session(&app))?;
    // The blocking calls (the relay's health) are made between the window's steps, not
    // inside them.
    let outcome = (|| -> Result<()> {
        runtime.block_on(async {
            // Settings (F4), once the door is up: the relay's address, saved; the sync bar
            // says who it talks to.
            css(&client, "#scan").await?;
            wait_for_text(&client, "#sync-label", "Online", WAIT).await?;
            press(&client, key::F4).await?;
            let input = css(&client, "#relays-input").await?;
            input.send_keys(&relay.url).await?;
            input.send_keys(key::ENTER).await?;
            wait_for_text(&client, "#settings-message", "Saved", WAIT).await?;
            press(&client, key::ESCAPE).await?;
            let host = relay.url.trim_start_matches("http://").to_owned();
            wait_for_text(&client, "#sync-server", &format!("Relay: {host}"), WAIT).await?;
            Ok::<_, anyhow::Error>(())
        })?;
        // Head office grants the relay a venue lease of two seats.
        let until = chrono::Utc::now() + chrono::Duration::hours(2);
        grant_venue_lease(&server, &relay, seat.seat_type, 2, until)?;
        runtime.block_on(async {
            // The uplink fails: a check-in is held at the venue, and the bar says so.
            uplink.cut();
            scan_in_window(&client, person.code.as_str()).await?;
            wait_for_text(&client, "#sync-held", "Held at the venue: 1", WAIT).await?;
            screenshot(&client, "desk-app-relay").await?;

            // The walk-in screen shows the venue's lease and says before the payment that
            // the sale is final from it; the receipt says so.
            press(&client, key::F2).await?;
            let venue = format!("#seats tr[data-seat='{}'] .venue", seat.name);
            wait_for_text(&client, &venue, "2 in the venue's lease: final", WAIT).await?;
            css(
                &client,
                &format!("#seats tr[data-seat='{}'] .add-seat", seat.name),
            )
            .await?
            .click()
            .await?;
            css(&client, "form.sale input.guest").await?.click().await?;
            wait_for_text(
                &client,
                "#sale-finality",
                "Final: the seat comes from the venue's lease",
                WAIT,
            )
            .await?;
            screenshot(&client, "desk-app-venue-lease").await?;
            css(&client, "#confirm-sale").await?.click().await?;
            let receipt = wait_for_text(&client, "#receipt", "Walk-in guest", WAIT).await?;
            ensure!(receipt.contains("Sold — final"), "{receipt}");
            wait_for_text(&client, &venue, "1 in the venue's lease: final", WAIT).await?;
            press(&client, key::F1).await?;
            Ok::<_, anyhow::Error>(())
        })?;
        // Back online: forwarded and decided; nothing held any more.
        uplink.heal();
        relay.wait_forwarded(WAIT)?;
        runtime.block_on(async {
            let deadline = std::time::Instant::now() + WAIT;
            while !client
                .find_all(Locator::Css("#sync-held"))
                .await?
                .is_empty()
            {
                ensure!(std::time::Instant::now() < deadline, "still held");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok::<_, anyhow::Error>(())
        })
    })();
    if outcome.is_err() {
        let _ = runtime.block_on(screenshot(&client, "desk-app-relay-failure"));
    }
    let _ = runtime.block_on(client.close());
    let result = outcome;
    drop(driver);
    result?;
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == 1,
        "upstream admitted {admitted_upstream}"
    );
    Ok(())
}

#[test]
fn a_revoked_relay_takes_nothing_more_and_its_desks_go_on_with_upstream() -> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        relay,
    } = venue("relay-revoked", 60)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    let people = admissible(&north, 3)?;
    // Held at the relay while its uplink is down.
    uplink.cut();
    north.check_in(&scan(&people[0]))?;
    ensure!(north.sync()?.held == 1);
    // Head office revokes the relay; once it hears, it takes nothing more.
    let relays = server.admin(Method::GET, &format!("/v1/conferences/{DEMO}/relays"), None)?;
    let id = relays[0]["relay_id"].as_str().context("relay id")?;
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{DEMO}/relays/{id}/revoke"),
        None,
    )?;
    uplink.heal();
    north.check_in(&scan(&people[1]))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        north.sync()?;
        let status = north.sync.status()?;
        if status.server.as_deref() == Some(server.url.as_str()) && status.held == 0 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "still on the revoked relay: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // What the relay held reaches upstream through the desk itself, once.
    north.sync()?;
    all_decided_once(&server, &north)?;
    let admitted_upstream = upstream_admitted(&server)?;
    ensure!(
        admitted_upstream == 2,
        "upstream admitted {admitted_upstream}"
    );
    Ok(())
}

/// What the relay says it has left to hand out of `seat_type` from its venue leases.
fn venue_left(relay: &TestRelay, seat_type: SeatTypeId) -> Result<u64> {
    let health = relay.health()?;
    Ok(health["venue_seats"]
        .as_array()
        .context("venue_seats")?
        .iter()
        .find(|r| r["seat_type"] == seat_type.to_string())
        .and_then(|r| r["left"].as_u64())
        .unwrap_or(0))
}

/// Head office grants the relay a venue lease of `quantity` seats of `seat_type`, until
/// `until`; returns the lease's id once the relay knows it.
fn grant_venue_lease(
    server: &TestServer,
    relay: &TestRelay,
    seat_type: SeatTypeId,
    quantity: u64,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let relay_id = relay.health()?["relay"].clone();
    let granted = server.admin(
        Method::POST,
        &format!("/v1/conferences/{DEMO}/leases"),
        Some(
            json!({"desk": relay_id, "seat_type": seat_type, "quantity": quantity, "until": until}),
        ),
    )?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while venue_left(relay, seat_type)? != quantity {
        ensure!(
            Instant::now() < deadline,
            "the relay never learnt its lease"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(granted["id"].as_str().context("lease id")?.to_owned())
}

/// Every seat of `seat_type` left upstream goes to a desk elsewhere (as online buyers would
/// take them): only a lease can make a door sale of it final.
fn rest_elsewhere(
    server: &TestServer,
    seat_type: SeatTypeId,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let box_office = server.desk(DEMO, "Box office")?;
    let rest = crate::desk::server_remaining(server, DEMO, seat_type)?;
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{DEMO}/leases"),
        Some(json!({"desk": box_office.device, "seat_type": seat_type,
                    "quantity": rest, "until": until})),
    )?;
    Ok(())
}

#[test]
fn walk_ins_behind_a_relay_are_final_from_its_venue_lease_while_the_uplink_is_down() -> Result<()> {
    let Venue {
        dir,
        server,
        uplink,
        relay,
    } = venue("venue-lease", 50)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    let south = desk_behind(&server, &relay, "south", &dir)?;
    let west = desk_behind(&server, &relay, "west", &dir)?;
    let seat = north
        .availability()?
        .into_iter()
        .find(|a| a.remaining > 10 && !a.overbook && a.price.amount_minor > 0)
        .context("a priced seat type with seats, not overbooked")?;
    let (seat_type, price) = (seat.seat_type, seat.price.amount_minor);

    // Head office grants the relay a venue lease of three seats.
    let relay_id = relay.health()?["relay"]
        .as_str()
        .context("relay id")?
        .to_owned();
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    let lease = grant_venue_lease(&server, &relay, seat_type, 3, until)?;
    for desk in [&north, &south, &west] {
        desk.sync()?;
    }
    let venue_left_at = |desk: &LocalDesk| -> Result<i64> {
        Ok(desk
            .availability()?
            .into_iter()
            .find(|a| a.seat_type == seat_type)
            .context("the seat type")?
            .venue_left)
    };
    ensure!(
        venue_left_at(&north)? == 3,
        "the desk says before the payment that three would be final"
    );

    // The uplink fails; meanwhile every other seat of the type goes elsewhere upstream.
    uplink.cut();
    rest_elsewhere(&server, seat_type, until)?;

    // A sale the desk refuses (less cash taken than its total) gives the relay's seats back.
    let mut short = walk_in_at(seat_type, price, 2, "Short");
    short.amount_taken_minor = 0;
    ensure!(north.sell_at_door(&short).is_err(), "short cash is refused");
    ensure!(venue_left(&relay, seat_type)? == 3, "the seats went back");

    // Two doors sell: the venue lease covers three of the four, in the order asked.
    let at_north = north.sell_at_door(&walk_in_at(seat_type, price, 2, "North"))?;
    ensure!(
        at_north.final_tickets.len() == 2,
        "north's two are final: {at_north:?}"
    );
    south.sync()?;
    ensure!(venue_left_at(&south)? == 1, "south hears what north took");
    let at_south = south.sell_at_door(&walk_in_at(seat_type, price, 2, "South"))?;
    ensure!(
        at_south.final_tickets.len() == 1,
        "south's first is final, its second provisional: {at_south:?}"
    );
    ensure!(venue_left(&relay, seat_type)? == 0);

    // A desk that names the venue lease without asking the relay (a forged claim) is
    // believed at its own desk only.
    let order = onsite_shared::ids::OrderId::from_uuid(uuid::Uuid::now_v7());
    let forged = west.sell_as(
        &walk_in_at(seat_type, price, 1, "West"),
        false,
        order,
        &[onsite_shared::protocol::VenueAllocation {
            order,
            lease: lease.parse()?,
            seat_type,
            quantity: 1,
            until,
        }],
    )?;
    ensure!(forged.final_tickets.len() == 1);

    // Hostile asks at the relay change nothing.
    let north_token = north.enrolment()?.context("enrolled")?.token;
    let south_token = south.enrolment()?.context("enrolled")?.token;
    for desk in [&north, &south, &west] {
        desk.sync()?;
    }
    let path = format!("/v1/sync/venue-seats/{}", at_north.order);
    let (status, body) = call(
        &relay.url,
        Method::PUT,
        &path,
        Some(&south_token),
        Some(json!({"seats": [{"seat_type": seat_type, "quantity": 1}]})),
    )?;
    ensure!(
        status == 422 && body["code"] == "venue_seats.other_desk",
        "{status} {body}"
    );
    // North's sale reached the relay: asking again (for nothing) gives nothing back.
    let (status, body) = call(
        &relay.url,
        Method::PUT,
        &path,
        Some(&north_token),
        Some(json!({"seats": []})),
    )?;
    ensure!(
        status == 200 && body["allocations"][0]["quantity"] == 2,
        "{status} {body}"
    );
    let fresh = format!("/v1/sync/venue-seats/{}", uuid::Uuid::now_v7());
    let twice = json!({"seats": [{"seat_type": seat_type, "quantity": 1},
                                  {"seat_type": seat_type, "quantity": 1}]});
    let many = json!({"seats": [{"seat_type": seat_type, "quantity": 51}]});
    let rows: Vec<_> = (0..17)
        .map(|_| json!({"seat_type": uuid::Uuid::now_v7(), "quantity": 1}))
        .collect();
    for (body, want, code) in [
        (twice, 422, "venue_seats.bad_request"),
        (many, 422, "venue_seats.bad_request"),
        (json!({"seats": rows}), 422, "venue_seats.bad_request"),
        (json!({"seats": "all"}), 400, "request.malformed"),
    ] {
        let (status, said) = call(
            &relay.url,
            Method::PUT,
            &fresh,
            Some(&north_token),
            Some(body),
        )?;
        ensure!(status == want && said["code"] == code, "{status} {said}");
    }
    let (status, _) = call(
        &relay.url,
        Method::PUT,
        "/v1/sync/venue-seats/not-an-order",
        Some(&north_token),
        Some(json!({"seats": []})),
    )?;
    ensure!(status == 400, "{status}");
    let (status, _) = call(
        &relay.url,
        Method::PUT,
        &fresh,
        None,
        Some(json!({"seats": []})),
    )?;
    ensure!(status == 401, "{status}");
    let elsewhere = server.conference(10)?;
    let stranger = server.desk(elsewhere.id, "Elsewhere")?;
    let (status, _) = call(
        &relay.url,
        Method::PUT,
        &fresh,
        Some(&stranger.token),
        Some(json!({"seats": [{"seat_type": seat_type, "quantity": 1}]})),
    )?;
    ensure!(status == 401, "another conference's desk: {status}");
    let huge = "x".repeat(17 * 1024 * 1024);
    let (status, _) = call(
        &relay.url,
        Method::PUT,
        &fresh,
        Some(&north_token),
        Some(json!({"seats": [], "pad": huge})),
    )?;
    ensure!(status == 413, "{status}");
    ensure!(venue_left(&relay, seat_type)? == 0, "nothing handed out");

    // Healed: upstream commits the venue lease's three from it; the rest is decided as ever.
    uplink.heal();
    relay.wait_forwarded(Duration::from_secs(30))?;
    for desk in [&north, &south, &west] {
        desk.sync()?;
        desk.sync()?;
        all_decided_once(&server, desk)?;
    }
    let sale = |desk: &LocalDesk, order| -> Result<_> {
        desk.sales()?
            .into_iter()
            .find(|s| s.order == order)
            .context("the sale in the journal")
    };
    let n = sale(&north, at_north.order)?;
    ensure!(
        n.status == SaleStatus::Confirmed && n.withdrawn.is_empty(),
        "{n:?}"
    );
    let s = sale(&south, at_south.order)?;
    ensure!(
        s.status == SaleStatus::PartiallyConfirmed && s.withdrawn.len() == 1,
        "south keeps its final ticket, the provisional one is withdrawn: {s:?}"
    );
    ensure!(!s.withdrawn.contains(&at_south.final_tickets[0]));
    let w = sale(&west, order)?;
    ensure!(
        w.status == SaleStatus::Rejected,
        "the forged claim made nothing final: {w:?}"
    );
    let row = crate::desk::lease_row(&server, DEMO, &lease)?;
    ensure!(
        row["venue"] == true && row["desk_name"] == "Main hall" && row["sold"] == 3,
        "{row}"
    );
    ensure!(crate::desk::server_remaining(&server, DEMO, seat_type)? == 0);

    // A lease goes to a relay of this conference that is not revoked, and nobody else.
    let (_, other_relay) = server.admin_raw(
        Method::POST,
        &format!("/v1/conferences/{}/relays", elsewhere.id),
        Some(json!({"name": "Elsewhere hall"})),
    )?;
    server.admin(
        Method::POST,
        &format!("/v1/conferences/{DEMO}/relays/{relay_id}/revoke"),
        None,
    )?;
    for holder in [relay_id, other_relay["device_id"].to_string()] {
        let holder = holder.trim_matches('"').to_owned();
        let (status, body) = server.admin_raw(
            Method::POST,
            &format!("/v1/conferences/{DEMO}/leases"),
            Some(json!({"desk": holder, "seat_type": seat_type, "quantity": 1, "until": until})),
        )?;
        ensure!(
            status == 422 && body["code"] == "lease.desk_not_eligible",
            "{status} {body}"
        );
    }
    Ok(())
}

#[test]
fn a_sale_from_the_venue_lease_stays_final_when_its_desk_pushes_it_past_a_dead_relay() -> Result<()>
{
    let Venue {
        dir,
        server,
        uplink: _uplink,
        mut relay,
    } = venue("venue-fail-over", 50)?;
    let north = desk_behind(&server, &relay, "north", &dir)?;
    let seat = north
        .availability()?
        .into_iter()
        .find(|a| a.remaining > 10 && !a.overbook)
        .context("a seat type with seats, not overbooked")?;
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    let lease = grant_venue_lease(&server, &relay, seat.seat_type, 2, until)?;
    north.sync()?;
    rest_elsewhere(&server, seat.seat_type, until)?;

    let sold = north.sell_at_door(&walk_in_at(
        seat.seat_type,
        seat.price.amount_minor,
        2,
        "North",
    ))?;
    ensure!(sold.final_tickets.len() == 2, "{sold:?}");
    // The relay tells upstream what it handed out at once, before the sale reaches it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while crate::desk::lease_row(&server, DEMO, &lease)?["handed_out"] != 2 {
        ensure!(
            Instant::now() < deadline,
            "upstream never heard of the seats handed out"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The relay dies before the desk pushed; the desk pushes the sale itself.
    relay.kill_hard();
    north.sync()?;
    ensure!(!north.sync.status()?.via_relay);
    north.sync()?;
    all_decided_once(&server, &north)?;
    let sale = north
        .sales()?
        .into_iter()
        .find(|s| s.order == sold.order)
        .context("the sale")?;
    ensure!(
        sale.status == SaleStatus::Confirmed && sale.withdrawn.is_empty(),
        "final from the venue lease though the relay never forwarded it: {sale:?}"
    );
    let row = crate::desk::lease_row(&server, DEMO, &lease)?;
    ensure!(row["sold"] == 2 && row["handed_out"] == 2, "{row}");
    Ok(())
}
