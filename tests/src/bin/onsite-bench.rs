//! Onsite's benchmarks: `cargo xtask bench` builds the release binaries and runs this.
//!
//! Every figure is reported next to a baseline measured in the same run on the same machine,
//! as a ratio, because absolute numbers from a 2-core CI box mean little on their own:
//! - push ingest through a real `onsite-server` on SQLite vs raw batched SQLite inserts of the
//!   same event rows (target ≥ 50 %), and of every row a push writes, appended to a log as
//!   long as the server's; pushes and baselines take turns (see [`ROUNDS`]), and both start
//!   from serialised input (push bodies, rows);
//! - the same on PostgreSQL with two server processes vs raw batched inserts (target ≥ 40 %);
//! - pull throughput, and the time a fresh desk needs to pull a 50,000-attendee conference
//!   (target ≤ 3 s).
//! - the desk core: a fresh desk's bootstrap of 50,000 attendees (target ≤ 3 s, the median of
//!   `--bootstraps` fresh desks, next to the pull alone), search-as-you-type latency (target
//!   p99 ≤ 2 ms), a durable check-in vs a bare one-row SQLite commit on the same file system
//!   (target ≤ 1.5×), and the resident memory of a desk process holding the roster (target
//!   ≤ 150 MB).
//! - a sign-in flood: a desk's push latency (p99) while 64 clients, each on an address of its
//!   own, try wrong passwords as fast as they are answered, next to the same pushes with
//!   nobody signing in; and the server's resident memory before, at its peak and after.
//! - badges: rendering one badge (target ≤ 10 ms) and 1,000 badges, separately and as sheets
//!   (target ≤ 5 s), next to printpdf writing a one-page PDF with a single rectangle; and the
//!   time from "print" at a desk to the local CUPS accepting the job, next to `lp` handing the
//!   same PDF to the same queue.
//! - the venue relay: how long an admission at one desk takes to show at another desk through
//!   a relay with its uplink cut (p50/p99, the second desk syncing in the background as the app
//!   does), the relay's forward throughput (a desk pushes to the relay, until upstream decided
//!   everything) vs the same desk pushing straight upstream, and a fresh desk's bootstrap
//!   from the relay vs from upstream; a door sale final from the relay's venue lease (asked over
//!   the LAN) vs a provisional one at the desk alone.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use onsite_shared::check_in::{self, Admission};
use onsite_shared::conference::{self, SeatKind};
use onsite_shared::event::{Envelope, Event};
use onsite_shared::ids::{AdmissionId, ConferenceId, SeatTypeId, TicketCode};
use onsite_shared::protocol::{OutcomeStatus, PushItem, PushResponse};
use onsite_shared::seat_assignments;
use onsite_tests::postgres::PgCluster;
use onsite_tests::server::{TempDir, TestDesk, TestServer, server_command};

/// The demo conference's id (`onsite-server demo`).
const DEMO: ConferenceId = ConferenceId::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
/// Items per push, as the desk's sync client sends them.
const BATCH: usize = 100;
/// Desks pushing at once.
const DESKS: usize = 4;

struct Options {
    attendees: u32,
    pg_attendees: u32,
    pushes_per_desk: usize,
    bootstraps: usize,
    only: Option<String>,
}

fn options() -> Result<Options> {
    let mut o = Options {
        attendees: 50_000,
        pg_attendees: 10_000,
        pushes_per_desk: 100,
        bootstraps: 3,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--attendees" => o.attendees = value()?.parse()?,
            "--pg-attendees" => o.pg_attendees = value()?.parse()?,
            "--pushes-per-desk" => o.pushes_per_desk = value()?.parse()?,
            "--bootstraps" => o.bootstraps = value()?.parse::<usize>()?.max(1),
            "--only" => o.only = Some(value()?),
            "-h" | "--help" => {
                println!(
                    "onsite-bench [--attendees N] [--pg-attendees N] [--pushes-per-desk N] [--bootstraps N] [--only sqlite|postgres|flood|desk|badges|relay]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(o)
}

fn main() -> Result<()> {
    let o = options()?;
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; run `cargo xtask bench` for figures that mean something"
        );
    }
    let want = |what: &str| o.only.as_deref().is_none_or(|only| only == what);
    if want("sqlite") {
        sqlite(&o)?;
    }
    if want("postgres") {
        postgres(&o)?;
    }
    if want("flood") {
        sign_in_flood()?;
    }
    if want("desk") {
        desk(&o)?;
    }
    if want("badges") {
        badges()?;
    }
    if want("relay") {
        relay(&o)?;
    }
    Ok(())
}

/// Waits until the relay's health says `ready`.
fn relay_until(
    relay: &onsite_tests::relay::TestRelay,
    what: &str,
    mut ready: impl FnMut(&serde_json::Value) -> bool,
) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let h = relay.health()?;
        if ready(&h) {
            return Ok(h);
        }
        if Instant::now() > deadline {
            bail!("the relay never {what}: {h}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pushes `items` in batches of the desk's size, one after the other.
fn push_all(desk: &TestDesk, items: &[PushItem]) -> Result<()> {
    for chunk in items.chunks(onsite_desk_core::sync::PUSH_BATCH) {
        desk.push(chunk.to_vec())?;
    }
    Ok(())
}

fn admissions_of(desk: &mut TestDesk, codes: &[TicketCode]) -> Vec<PushItem> {
    let events: Vec<Event> = codes
        .iter()
        .map(|code| {
            Event::CheckIn(check_in::Event::Admitted {
                conference: desk.conference,
                code: code.clone(),
                ticket: None,
                admission: Admission {
                    admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
                    desk: desk.device,
                    gate: "north".into(),
                    at: chrono::Utc::now(),
                },
                override_reason: None,
            })
        })
        .collect();
    desk.items(&events)
}

fn relay(o: &Options) -> Result<()> {
    use onsite_desk_core::CheckInRequest;
    use onsite_tests::desk::LocalDesk;
    use onsite_tests::partition::Partition;
    use onsite_tests::relay::TestRelay;

    println!(
        "Venue relay, demo conference with {} attendees",
        o.attendees
    );
    let dir = TempDir::new("bench-relay")?;
    load_demo(dir.path(), None, o.attendees)?;
    let server = TestServer::start(dir.path())?;
    let uplink = Partition::start(&server.url)?;
    let relay = TestRelay::start(
        &dir.path().join("relay"),
        &uplink.url,
        &server.relay_code(DEMO, "Bench relay")?,
    )?;
    let reader = server.desk(DEMO, "Reader")?;
    let (events, _) = bootstrap(&reader)?;
    let codes = admission_codes(&events)?;
    // The mirror is complete when it stops growing.
    let mut last = -1i64;
    relay_until(&relay, "finished mirroring", |h| {
        let now = h["mirrored"].as_i64().unwrap_or(0);
        let done = now > 0 && now == last;
        last = now;
        if !done {
            std::thread::sleep(Duration::from_millis(300));
        }
        done
    })?;

    // A desk the relay knows: enrolled upstream, learned by the relay.
    let behind = |name: &str| -> Result<LocalDesk> {
        let known = relay.health()?["desks"].as_u64().unwrap_or(0);
        let desk = LocalDesk::enrol(&server, DEMO, name, dir.path())?;
        relay_until(&relay, "learned the desk", |h| {
            h["desks"].as_u64().unwrap_or(0) > known
        })?;
        desk.set_relays(std::slice::from_ref(&relay.url))?;
        Ok(desk)
    };

    // Bootstrap: a fresh desk from upstream, then one from the relay, in turns.
    let (mut from_upstream, mut from_relay) = (Vec::new(), Vec::new());
    for i in 0..o.bootstraps {
        let up = LocalDesk::enrol(&server, DEMO, &format!("Up {i}"), dir.path())?;
        let started = Instant::now();
        up.sync()?;
        from_upstream.push(started.elapsed());
        drop(up);
        let lan = behind(&format!("Lan {i}"))?;
        let started = Instant::now();
        lan.sync()?;
        from_relay.push(started.elapsed());
        anyhow::ensure!(
            lan.sync.status()?.via_relay,
            "bootstrapped through the relay"
        );
    }
    from_upstream.sort();
    from_relay.sort();
    let (up, lan) = (
        from_upstream[from_upstream.len() / 2],
        from_relay[from_relay.len() / 2],
    );
    println!(
        "  fresh desk bootstrap from the relay: {:.2} s vs from upstream {:.2} s (×{:.2}; medians of {})",
        lan.as_secs_f64(),
        up.as_secs_f64(),
        lan.as_secs_f64() / up.as_secs_f64(),
        from_relay.len()
    );

    // Forward throughput: the same admissions pushed straight upstream, and through the relay
    // until upstream decided every one.
    const N: usize = 2_000;
    anyhow::ensure!(codes.len() >= 2 * N + 200, "{} codes: too few", codes.len());
    let mut direct = server.desk(DEMO, "Direct")?;
    let items = admissions_of(&mut direct, &codes[..N]);
    let started = Instant::now();
    push_all(&direct, &items)?;
    let direct_took = started.elapsed();
    let known = relay.health()?["desks"].as_u64().unwrap_or(0);
    let mut via = server.desk(DEMO, "Via relay")?;
    relay_until(&relay, "learned the desk", |h| {
        h["desks"].as_u64().unwrap_or(0) > known
    })?;
    via.url = relay.url.clone();
    let items = admissions_of(&mut via, &codes[N..2 * N]);
    let started = Instant::now();
    push_all(&via, &items)?;
    let held_took = started.elapsed();
    relay_until(&relay, "forwarded everything", |h| h["held"] == 0)?;
    let relay_took = started.elapsed();
    println!(
        "  forward throughput: {:.0} events/s through the relay (held at the desk's push in {:.0} ms, decided upstream after {:.2} s) vs {:.0} events/s pushed straight upstream (×{:.2})",
        per_second(N, relay_took),
        ms(held_took),
        relay_took.as_secs_f64(),
        per_second(N, direct_took),
        direct_took.as_secs_f64() / relay_took.as_secs_f64()
    );

    // LAN propagation with the uplink cut: admitted at one desk, shown at another.
    let north = behind("North")?;
    let south = behind("South")?;
    // A venue lease for the door sales below, learned by the relay before the uplink fails.
    north.sync()?;
    let seat = north
        .availability()?
        .into_iter()
        .filter(|a| !a.overbook)
        .max_by_key(|a| a.remaining)
        .context("a seat type")?;
    const SALES: u32 = 40;
    anyhow::ensure!(
        seat.remaining > i64::from(3 * SALES),
        "{seat:?}: too few seats"
    );
    let relay_id = relay.health()?["relay"].clone();
    server.admin(
        reqwest::Method::POST,
        &format!("/v1/conferences/{DEMO}/leases"),
        Some(serde_json::json!({
            "desk": relay_id, "seat_type": seat.seat_type, "quantity": SALES,
            "until": chrono::Utc::now() + chrono::Duration::hours(2),
        })),
    )?;
    relay_until(&relay, "learned its venue lease", |h| {
        h["venue_seats"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["left"] == SALES))
    })?;
    uplink.cut();
    north.sync()?;
    south.sync()?;
    // Door sales while the uplink is down: one ticket each, final from the venue lease (the
    // relay asked over the LAN first) vs provisional (the desk alone), in turns.
    let (mut from_venue, mut alone) = (Vec::new(), Vec::new());
    for i in 0..SALES {
        let sale = |who: &str| onsite_desk_core::SaleRequest {
            tickets: vec![onsite_desk_core::SaleTicketRequest {
                seat_type: seat.seat_type,
                first_name: format!("{who}{i}"),
                last_name: "Walker".into(),
                email: String::new(),
                company: String::new(),
                attendee_types: vec![],
            }],
            payment_method: onsite_shared::order::PaymentMethod::Cash,
            amount_taken_minor: seat.price.amount_minor,
        };
        let started = Instant::now();
        let receipt = north.sell_at_door(&sale("Venue"))?;
        from_venue.push(started.elapsed());
        anyhow::ensure!(
            receipt.final_tickets.len() == 1,
            "final from the venue lease"
        );
        let started = Instant::now();
        let receipt = north.sell(&sale("Alone"))?;
        alone.push(started.elapsed());
        anyhow::ensure!(receipt.final_tickets.is_empty(), "provisional");
    }
    from_venue.sort();
    alone.sort();
    println!(
        "  door sale, uplink cut: final from the relay's venue lease p50 {:.1} ms, p99 {:.1} ms vs provisional at the desk alone p50 {:.1} ms (×{:.1}; {SALES} each)",
        ms(percentile(&from_venue, 0.50)),
        ms(percentile(&from_venue, 0.99)),
        ms(percentile(&alone, 0.50)),
        percentile(&from_venue, 0.50).as_secs_f64() / percentile(&alone, 0.50).as_secs_f64(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let south_desk = std::sync::Arc::clone(&south.desk);
    let background = std::thread::spawn(move || -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = onsite_desk_core::sync::SyncClient::new(south_desk)?;
        runtime.block_on(client.run(async {
            let _ = stopped.await;
        }));
        Ok(())
    });
    let (mut lags, mut pushes) = (Vec::new(), Vec::new());
    let mut jitter: u64 = 2026;
    for code in codes[2 * N..].iter().take(60) {
        let started = Instant::now();
        north.check_in(&CheckInRequest {
            code: code.as_str().to_owned(),
            gate: None,
            override_reason: None,
        })?;
        north.sync()?;
        pushes.push(started.elapsed());
        loop {
            if south
                .attendee(code.as_str())?
                .is_some_and(|e| e.admission.is_some())
            {
                break;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(10), "never shown");
            std::thread::sleep(Duration::from_millis(2));
        }
        lags.push(started.elapsed());
        // Scans come at any moment, not in step with the other desk's pulls: a pause drawn
        // from a fixed sequence (a waiting time of its own would lock to the pull's period).
        jitter = jitter
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        std::thread::sleep(Duration::from_millis(50 + (jitter >> 33) % 1_000));
    }
    let _ = stop.send(());
    background
        .join()
        .map_err(|_| anyhow::anyhow!("the sync thread panicked"))??;
    lags.sort();
    pushes.sort();
    println!(
        "  LAN propagation desk → relay → desk (uplink cut, the other desk syncing every {} ms): p50 {:.0} ms, p99 {:.0} ms (target: within 1 s); of which the scan and the first desk's sync round: p50 {:.0} ms",
        onsite_desk_core::sync::RELAY_INTERVAL.as_millis(),
        ms(percentile(&lags, 0.50)),
        ms(percentile(&lags, 0.99)),
        ms(percentile(&pushes, 0.50)),
    );
    Ok(())
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Reports `measured` against `baseline` over all their turns, judged by `target`, and turn
/// by turn beneath.
fn report(label: &str, measured: &Turns, baseline: &Turns, target: f64) {
    let (value, base) = (rate(measured), rate(baseline));
    let ratio = value / base;
    let verdict = if ratio >= target { "meets" } else { "misses" };
    println!(
        "  {label}: {value:.0}/s vs baseline {base:.0}/s = {:.0} % ({verdict} the {:.0} % target)",
        ratio * 100.0,
        target * 100.0
    );
    println!("    {}", turn_by_turn(measured, baseline));
}

/// What loading the demo took: registrations imported, and the time (the whole
/// `onsite-server demo` process, start to end).
struct Imported {
    registrations: usize,
    /// Every event in the log after the import.
    events: usize,
    took: Duration,
}

/// Loads the demo conference into a store and reports how long the import took, against the
/// importer's target of 5,000 registrations a second on either backend.
fn load_demo(dir: &Path, database_url: Option<&str>, attendees: u32) -> Result<Imported> {
    let started = Instant::now();
    server_command(
        dir,
        database_url,
        &["demo", "--attendees", &attendees.to_string()],
    )?;
    let took = started.elapsed();
    let rate = per_second(attendees as usize, took);
    println!(
        "  import: {:.1} s ({rate:.0} registrations/s; target ≥ 5,000/s: {})",
        took.as_secs_f64(),
        if rate >= 5_000.0 { "meets" } else { "misses" }
    );
    let count = "SELECT COUNT(*) FROM events";
    let events: i64 = match database_url {
        None => {
            rusqlite::Connection::open(dir.join("onsite.sqlite3"))?
                .query_row(count, [], |r| r.get(0))?
        }
        Some(url) => postgres::Client::connect(url, postgres::NoTls)?
            .query_one(count, &[])?
            .get(0),
    };
    Ok(Imported {
        registrations: attendees as usize,
        events: usize::try_from(events)?,
        took,
    })
}

/// The import's events against a raw baseline's event rows measured in the same run: how
/// much of the raw insert rate the importer keeps while deciding, projecting and writing
/// several events per registration.
fn report_import(imported: &Imported, raw: &Turns) {
    let events = imported.events;
    let per_second_events = per_second(events, imported.took);
    println!(
        "  import vs raw event inserts: {:.1} events per registration, {per_second_events:.0} events/s vs {:.0}/s = {:.0} %",
        events as f64 / imported.registrations as f64,
        rate(raw),
        100.0 * per_second_events / rate(raw)
    );
}

/// `DESKS` desks, enrolled in turn on `servers`, each with its batches of admissions of
/// distinct tickets taken from a pulled log: `pushes_per_desk` batches, or as many as the
/// conference has distinct admission tickets for (a smaller conference, fewer pushes).
fn pushing_desks(
    servers: &[&TestServer],
    events: &[Envelope],
    pushes_per_desk: usize,
) -> Result<Vec<(TestDesk, Vec<Vec<PushItem>>)>> {
    let codes = admission_codes(events)?;
    let pushes_per_desk = pushes_per_desk.min(codes.len() / (DESKS * BATCH));
    if pushes_per_desk == 0 {
        bail!(
            "{} admission tickets: {DESKS} desks need at least {} for one push of {BATCH} each",
            codes.len(),
            DESKS * BATCH
        );
    }
    let per_desk = pushes_per_desk * BATCH;
    let mut work = Vec::new();
    for (i, chunk) in codes.chunks(per_desk).take(DESKS).enumerate() {
        let server = servers[i % servers.len()];
        let mut desk = server.desk(DEMO, &format!("Desk {i}"))?;
        let batches = admission_batches(&mut desk, chunk, pushes_per_desk);
        work.push((desk, batches));
    }
    Ok(work)
}

/// A fresh desk pulls everything, as fast as the protocol allows: the next page is requested
/// (its cursor is in the headers) while a second thread parses the last one, as the desk's sync
/// client does. Returns the events and the time.
fn bootstrap(desk: &TestDesk) -> Result<(Vec<Envelope>, Duration)> {
    use onsite_shared::protocol::{
        HAS_MORE_HEADER, MAX_PULL_LIMIT, NEXT_CURSOR_HEADER, PullResponse,
    };
    let started = Instant::now();
    let http = onsite_tests::server::http_client().build()?;
    let (to_parser, pages) = std::sync::mpsc::channel::<Vec<u8>>();
    let parser = std::thread::spawn(move || -> Result<Vec<Envelope>> {
        let mut all = Vec::new();
        for body in pages {
            let page: PullResponse = serde_json::from_slice(&body)?;
            all.extend(page.events);
        }
        Ok(all)
    });
    let mut cursor = String::new();
    loop {
        let res = http
            .get(format!(
                "{}/v1/sync/pull?scope=door&limit={MAX_PULL_LIMIT}&cursor={cursor}",
                desk.url
            ))
            .bearer_auth(&desk.token)
            .send()?
            .error_for_status()?;
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .with_context(|| format!("no {name} header"))
        };
        cursor = header(NEXT_CURSOR_HEADER)?;
        let more = header(HAS_MORE_HEADER)? == "true";
        to_parser.send(res.bytes()?.to_vec())?;
        if !more {
            break;
        }
    }
    drop(to_parser);
    let all = parser
        .join()
        .map_err(|_| anyhow::anyhow!("the parser panicked"))??;
    Ok((all, started.elapsed()))
}

/// The codes of tickets that admit their holder, from a pulled log.
fn admission_codes(events: &[Envelope]) -> Result<Vec<TicketCode>> {
    let mut admits: Vec<SeatTypeId> = Vec::new();
    let mut codes = Vec::new();
    for e in events {
        match e.decode()? {
            Event::Conference(conference::Event::SeatTypeCreated { seat_type, .. })
                if seat_type.kind == SeatKind::Admission =>
            {
                admits.push(seat_type.id);
            }
            Event::SeatAssignments(seat_assignments::Event::Created { seats, .. }) => codes.extend(
                seats
                    .into_iter()
                    .filter(|s| admits.contains(&s.seat_type))
                    .map(|s| s.code),
            ),
            _ => {}
        }
    }
    Ok(codes)
}

/// One push batch per entry: admissions of distinct tickets, as `desk`'s log would hold them.
fn admission_batches(
    desk: &mut TestDesk,
    codes: &[TicketCode],
    batches: usize,
) -> Vec<Vec<PushItem>> {
    codes
        .chunks(BATCH)
        .take(batches)
        .map(|chunk| admissions_of(desk, chunk))
        .collect()
}

/// Every desk pushes its batches at once (one thread each); returns the items and wall time.
/// Push ingest and its raw baselines run in this many turns, one after the other, and each
/// is timed over all of its turns: this machine's disk and CPU drift by up to ×2 within a
/// minute, and a baseline measured only after the pushes compared two different machines.
const ROUNDS: usize = 5;

/// Each desk's batches for `round` of [`ROUNDS`].
fn round_of<T: Clone>(per_desk: &[Vec<T>], round: usize) -> Vec<Vec<T>> {
    per_desk
        .iter()
        .map(|batches| {
            let per_round = batches.len().div_ceil(ROUNDS);
            batches
                .iter()
                .skip(round * per_round)
                .take(per_round)
                .cloned()
                .collect()
        })
        .collect()
}

/// Every desk pushes its batches at once, each on its own kept-alive client (as a desk's
/// sync client). Returns the items pushed and the time. The bodies were serialised before
/// (as the raw baselines' rows are) and the answers are read after the clock stops: the
/// desks are other machines, and on this 2-core one their JSON work would be charged to the
/// server it competes with.
fn push_round(
    desks: &[(TestDesk, reqwest::blocking::Client)],
    round: Vec<Vec<Push>>,
) -> Result<(usize, Duration)> {
    let items: usize = round.iter().flatten().map(|p| p.items).sum();
    let started = Instant::now();
    let answers = std::thread::scope(|scope| -> Result<Vec<Vec<Vec<u8>>>> {
        let handles: Vec<_> = desks
            .iter()
            .zip(round)
            .map(|((desk, http), pushes)| {
                scope.spawn(move || -> Result<Vec<Vec<u8>>> {
                    let mut answers = Vec::with_capacity(pushes.len());
                    for push in pushes {
                        let res = http
                            .post(format!("{}/v1/sync/push", desk.url))
                            .bearer_auth(&desk.token)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(push.body)
                            .send()?;
                        let status = res.status();
                        let body = res.bytes()?.to_vec();
                        if !status.is_success() {
                            bail!("push: {status} {}", String::from_utf8_lossy(&body));
                        }
                        answers.push(body);
                    }
                    Ok(answers)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("a pusher panicked"))?)
            .collect()
    })?;
    let took = started.elapsed();
    let mut answered = 0;
    for body in answers.iter().flatten() {
        let res: PushResponse = serde_json::from_slice(body)?;
        if let Some(bad) = res
            .outcomes
            .iter()
            .find(|o| o.status != OutcomeStatus::Accepted)
        {
            bail!("an admission was not simply accepted: {bad:?}");
        }
        answered += res.outcomes.len();
    }
    if answered != items {
        bail!("{items} items pushed, {answered} outcomes");
    }
    Ok((items, took))
}

/// The `(items, time)` of each turn of one side of a comparison.
type Turns = Vec<(usize, Duration)>;

/// Items per second over all of `turns`.
fn rate(turns: &Turns) -> f64 {
    let (n, t) = turns
        .iter()
        .fold((0, Duration::ZERO), |(n, t), (m, u)| (n + m, t + *u));
    per_second(n, t)
}

/// `measured` against `baseline` turn by turn, as "lowest–median–highest %": how far the
/// headline ratio (over all turns) can be trusted on a machine whose speed drifts.
fn turn_by_turn(measured: &Turns, baseline: &Turns) -> String {
    let mut ratios: Vec<f64> = measured
        .iter()
        .zip(baseline)
        .map(|(&(n, t), &(m, u))| 100.0 * per_second(n, t) / per_second(m, u))
        .collect();
    ratios.sort_by(f64::total_cmp);
    match (ratios.first(), ratios.get(ratios.len() / 2), ratios.last()) {
        (Some(lo), Some(mid), Some(hi)) => format!("turn by turn {lo:.0}–{mid:.0}–{hi:.0} %"),
        _ => "no turns".to_owned(),
    }
}

/// A raw baseline's row per pushed item: event id, stream, envelope.
type RawRow = (String, String, String);

/// The rows each desk's pushes store, batch by batch, as a raw baseline inserts them.
fn rows(work: &[(TestDesk, Vec<Vec<PushItem>>)]) -> Vec<Vec<Vec<RawRow>>> {
    work.iter()
        .map(|(_, batches)| {
            batches
                .iter()
                .map(|batch| {
                    batch
                        .iter()
                        .map(|item| {
                            (
                                item.event.event_id.to_string(),
                                item.event.stream.to_string(),
                                serde_json::to_string(&item.event).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// What a raw baseline writes per pushed item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Only the event row.
    Event,
    /// Every row the server writes for a push of admissions: each event and each admission
    /// in force (keyed by its UUIDv7, as the server's `admissions`), and the push's outcomes
    /// (one row per push).
    Everything,
}

/// Raw batched SQLite inserts, on a file of their own (WAL, `synchronous=FULL`): one
/// transaction per batch, on disk when its commit returns, as every answer of the server is
/// (the server syncs its log on a thread of its own, see its `storage::sqlite`).
struct RawSqlite {
    db: rusqlite::Connection,
    rows: Rows,
    n: usize,
}

impl RawSqlite {
    /// A file holding `log` as the baseline stores events: a raw baseline appends to a log
    /// as long as the server's, not to an empty table whose indexes are a fraction of the
    /// size (and all in memory).
    fn log_file(path: &Path, log: &[Envelope]) -> Result<()> {
        let mut db = rusqlite::Connection::open(path)?;
        db.execute_batch(
            "CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
                 stream TEXT NOT NULL, version INTEGER NOT NULL, envelope TEXT NOT NULL,
                 UNIQUE (stream, version));",
        )?;
        let tx = db.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO events (event_id, stream, version, envelope) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in log {
                insert.execute((
                    e.event_id.to_string(),
                    e.stream.to_string(),
                    i64::try_from(e.version)?,
                    serde_json::to_string(e)?,
                ))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Opens a copy of `log` (see [`RawSqlite::log_file`]) and creates the other tables.
    fn open(log: &Path, path: &Path, rows: Rows) -> Result<Self> {
        std::fs::copy(log, path)?;
        let db = rusqlite::Connection::open(path)?;
        db.pragma_update(None, "journal_mode", "wal")?;
        db.pragma_update(None, "synchronous", "full")?;
        db.execute_batch(
            "CREATE TABLE outcomes (client_id TEXT NOT NULL, first_seq INTEGER NOT NULL,
                 outcomes TEXT NOT NULL, PRIMARY KEY (client_id, first_seq)) WITHOUT ROWID;
             CREATE TABLE admissions (admission_id TEXT PRIMARY KEY, code TEXT NOT NULL,
                 admitted_at TEXT NOT NULL) WITHOUT ROWID;",
        )?;
        Ok(Self { db, rows, n: 0 })
    }

    /// Inserts every desk's batches of one round; returns the rows and the time.
    fn insert(&mut self, round: &[Vec<Vec<RawRow>>]) -> Result<(usize, Duration)> {
        let started = Instant::now();
        let mut n = 0;
        for batch in round.iter().flatten() {
            let tx = self.db.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (event_id, stream, version, envelope) VALUES (?1, ?2, 1, ?3)",
                )?;
                let mut outcome = tx.prepare_cached(
                    "INSERT INTO outcomes (client_id, first_seq, outcomes) VALUES ('c', ?1, ?2)",
                )?;
                let mut admission = tx.prepare_cached(
                    "INSERT INTO admissions (admission_id, code, admitted_at) VALUES (?1, ?2, ?3)",
                )?;
                let first = self.n + 1;
                for (id, stream, envelope) in batch {
                    insert.execute((id, stream, envelope))?;
                    n += 1;
                    self.n += 1;
                    if self.rows == Rows::Everything {
                        admission.execute((id, stream, "2026-11-23T09:00:00Z"))?;
                    }
                }
                // As the server keeps them: one row per push, its items' outcomes together.
                if self.rows == Rows::Everything {
                    let ids: Vec<&str> = batch.iter().map(|(id, _, _)| id.as_str()).collect();
                    outcome.execute((i64::try_from(first)?, serde_json::to_string(&ids)?))?;
                }
            }
            tx.commit()?;
        }
        Ok((n, started.elapsed()))
    }
}

fn sqlite(o: &Options) -> Result<()> {
    println!(
        "SQLite (embedded default), demo conference with {} attendees",
        o.attendees
    );
    let dir = TempDir::new("bench-sqlite")?;
    let imported = load_demo(dir.path(), None, o.attendees)?;
    let server = TestServer::start(dir.path())?;

    let fresh = server.desk(DEMO, "Fresh desk")?;
    let (events, took) = bootstrap(&fresh)?;
    println!(
        "  fresh desk pull: {} events in {:.2} s = {:.0} events/s (target ≤ 3 s for 50,000 attendees: {})",
        events.len(),
        took.as_secs_f64(),
        per_second(events.len(), took),
        match (o.attendees >= 50_000, took <= Duration::from_secs(3)) {
            (false, _) => "not judged below 50,000 attendees",
            (true, true) => "meets",
            (true, false) => "misses",
        }
    );

    let work = pushing_desks(&[&server], &events, o.pushes_per_desk)?;
    let baseline_rows = rows(&work);
    let log = dir.path().join("raw-log.sqlite");
    RawSqlite::log_file(&log, &events)?;
    let mut raw_events = RawSqlite::open(&log, &dir.path().join("raw.sqlite"), Rows::Event)?;
    let mut raw_all = RawSqlite::open(&log, &dir.path().join("raw-all.sqlite"), Rows::Everything)?;
    let (desks, batches) = with_clients(work)?;
    let (mut pushed, mut raw, mut all) = (Turns::new(), Turns::new(), Turns::new());
    for round in 0..ROUNDS {
        pushed.push(push_round(&desks, round_of(&batches, round))?);
        raw.push(raw_events.insert(&round_of(&baseline_rows, round))?);
        all.push(raw_all.insert(&round_of(&baseline_rows, round))?);
    }
    println!(
        "  push ingest: {DESKS} desks × {} pushes of {BATCH} admissions, in {ROUNDS} turns with the baselines",
        batches[0].len()
    );
    report("push ingest vs the event rows alone", &pushed, &raw, 0.5);
    report_import(&imported, &raw);
    println!(
        "  push ingest vs every row it writes (event, admission, outcomes): {:.0} % ({})",
        100.0 * rate(&pushed) / rate(&all),
        turn_by_turn(&pushed, &all)
    );
    head_office_after_the_rush(&server)
}

/// Head office reading the numbers after the rush, on the server the pushes just filled
/// (40,000 admissions by default): each read that asks about admissions next to the plain registration
/// list (medians of 5). Admissions have no index by ticket (see the server's schema), so a
/// read that looked them up ticket by ticket would show here as seconds, not milliseconds.
fn head_office_after_the_rush(server: &TestServer) -> Result<()> {
    let base = format!("/v1/conferences/{DEMO}");
    let median_ms = |path: &str| -> Result<f64> {
        let mut took = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            server.admin(reqwest::Method::GET, path, None)?;
            took.push(started.elapsed());
        }
        took.sort();
        Ok(ms(took[took.len() / 2]))
    };
    let plain = median_ms(&format!("{base}/registrations?limit=100"))?;
    println!("  head office after the rush: registrations, a page of 100: {plain:.1} ms");
    for (what, path) in [
        (
            "admitted",
            format!("{base}/registrations?admitted=true&limit=100"),
        ),
        (
            "not admitted",
            format!("{base}/registrations?admitted=false&limit=100"),
        ),
        (
            "admissions by seat type and gate",
            format!("{base}/admissions"),
        ),
    ] {
        let took = median_ms(&path)?;
        println!(
            "    {what}: {took:.1} ms = {:.1}× the plain page",
            took / plain
        );
    }
    Ok(())
}

/// Raw batched PostgreSQL inserts: one connection per desk, all at once, one transaction
/// per batch.
struct RawPostgres {
    connections: Vec<postgres::Client>,
}

impl RawPostgres {
    fn open(url: &str) -> Result<Self> {
        let mut setup = postgres::Client::connect(url, postgres::NoTls)?;
        setup.batch_execute(
            "CREATE TABLE raw_events (position BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
                 stream TEXT NOT NULL, version BIGINT NOT NULL, envelope TEXT NOT NULL,
                 UNIQUE (stream, version))",
        )?;
        let connections = (0..DESKS)
            .map(|_| Ok(postgres::Client::connect(url, postgres::NoTls)?))
            .collect::<Result<_>>()?;
        Ok(Self { connections })
    }

    /// Inserts every desk's batches of one round, each desk on its connection.
    fn insert(&mut self, round: Vec<Vec<Vec<RawRow>>>) -> Result<(usize, Duration)> {
        let started = Instant::now();
        let n = std::thread::scope(|scope| -> Result<usize> {
            let handles: Vec<_> = self
                .connections
                .iter_mut()
                .zip(round)
                .map(|(db, batches)| {
                    scope.spawn(move || -> Result<usize> {
                        let mut n = 0;
                        for batch in batches {
                            let mut tx = db.transaction()?;
                            let insert = tx.prepare(
                                "INSERT INTO raw_events (event_id, stream, version, envelope) VALUES ($1, $2, 1, $3)",
                            )?;
                            for (id, stream, envelope) in &batch {
                                tx.execute(&insert, &[id, stream, envelope])?;
                                n += 1;
                            }
                            tx.commit()?;
                        }
                        Ok(n)
                    })
                })
                .collect();
            let mut n = 0;
            for h in handles {
                n += h
                    .join()
                    .map_err(|_| anyhow::anyhow!("an inserter panicked"))??;
            }
            Ok(n)
        })?;
        Ok((n, started.elapsed()))
    }
}

/// One push request, serialised.
#[derive(Clone)]
struct Push {
    items: usize,
    body: Vec<u8>,
}

/// The pushing desks, each with the kept-alive client its pushes go through (made before any
/// clock starts, as a desk's sync client), and their pushes, serialised.
#[expect(clippy::type_complexity, reason = "a pair of two plain lists")]
fn with_clients(
    work: Vec<(TestDesk, Vec<Vec<PushItem>>)>,
) -> Result<(Vec<(TestDesk, reqwest::blocking::Client)>, Vec<Vec<Push>>)> {
    let mut desks = Vec::new();
    let mut pushes = Vec::new();
    for (desk, batches) in work {
        pushes.push(
            batches
                .into_iter()
                .map(|batch| {
                    Ok(Push {
                        items: batch.len(),
                        body: serde_json::to_vec(&desk.request(batch))?,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        );
        desks.push((desk, onsite_tests::server::http_client().build()?));
    }
    Ok((desks, pushes))
}

fn postgres(o: &Options) -> Result<()> {
    println!(
        "PostgreSQL, two server processes, demo conference with {} attendees",
        o.pg_attendees
    );
    let cluster = PgCluster::start()?;
    let url = cluster.database("bench")?;
    let dir = TempDir::new("bench-pg")?;
    let imported = load_demo(dir.path(), Some(&url), o.pg_attendees)?;
    let first = TestServer::start_with(dir.path(), Some(&url))?;
    let second = first.another()?;
    let fresh = first.desk(DEMO, "Fresh desk")?;
    let (events, took) = bootstrap(&fresh)?;
    println!(
        "  fresh desk pull: {} events in {:.2} s = {:.0} events/s",
        events.len(),
        took.as_secs_f64(),
        per_second(events.len(), took)
    );
    // Half the desks talk to each server process.
    let work = pushing_desks(&[&first, &second], &events, o.pushes_per_desk)?;
    let baseline = rows(&work);
    let mut raw_inserts = RawPostgres::open(&url)?;
    let (desks, batches) = with_clients(work)?;
    let (mut pushed, mut raw) = (Turns::new(), Turns::new());
    for round in 0..ROUNDS {
        pushed.push(push_round(&desks, round_of(&batches, round))?);
        raw.push(raw_inserts.insert(round_of(&baseline, round))?);
    }
    println!(
        "  push ingest: {DESKS} desks over 2 servers × {} pushes of {BATCH} admissions, in {ROUNDS} turns with the baseline",
        batches[0].len()
    );
    report("push ingest", &pushed, &raw, 0.4);
    report_import(&imported, &raw);
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// The desk core against a local server holding the demo conference.
/// The server's resident memory and its peak (`VmRSS`, `VmHWM`), in MiB.
fn memory_mib(server: &TestServer) -> Result<(f64, f64)> {
    let pid = server.pid().context("the server runs")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .with_context(|| format!("{name} of the server"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// One desk's pushes of one admission each, one after the other; their latencies, sorted.
fn push_latencies(
    desk: &mut TestDesk,
    conference: ConferenceId,
    n: usize,
) -> Result<Vec<Duration>> {
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let code = TicketCode::from_entropy(0xF100_D000 + i as u64);
        let items = desk.items(&[Event::CheckIn(check_in::Event::Admitted {
            conference,
            code,
            ticket: None,
            admission: Admission {
                admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
                desk: desk.device,
                gate: "north".into(),
                at: chrono::Utc::now(),
            },
            override_reason: None,
        })]);
        let t = Instant::now();
        desk.push(items)?;
        took.push(t.elapsed());
    }
    took.sort();
    Ok(took)
}

fn sign_in_flood() -> Result<()> {
    println!(
        "Sign-in flood: 64 clients on addresses of their own, wrong passwords, as fast as answered"
    );
    let dir = TempDir::new("bench-flood")?;
    server_command(
        dir.path(),
        None,
        &[
            "user",
            "add",
            "--email",
            "office@example.com",
            "--password",
            "a long enough password",
        ],
    )?;
    let server = TestServer::start(dir.path())?;
    let conf = server.conference(100)?;
    let mut desk = server.desk(conf.id, "North")?;
    push_latencies(&mut desk, conf.id, 20)?;
    let (before, _) = memory_mib(&server)?;
    let idle = push_latencies(&mut desk, conf.id, 300)?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answered = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let flooded = std::thread::scope(|s| -> Result<Vec<Duration>> {
        for i in 0..64u8 {
            let (stop, answered, url) = (&stop, &answered, server.url.clone());
            s.spawn(move || {
                let Ok(c) = onsite_tests::server::http_client()
                    .redirect(reqwest::redirect::Policy::none())
                    .local_address(std::net::IpAddr::from([127, 0, 2, i + 1]))
                    .build()
                else {
                    return;
                };
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let Ok((cookie, csrf)) = onsite_tests::dashboard::login_page(&c, &url) else {
                        continue;
                    };
                    let email = format!("guess{i}.{n}@example.com");
                    let status =
                        onsite_tests::dashboard::login(&c, &url, &cookie, &csrf, &email, "wrong")
                            .map_or(0, |r| r.status().as_u16());
                    *answered
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .entry(status)
                        .or_default() += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        let took = push_latencies(&mut desk, conf.id, 300);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        took
    })?;
    std::thread::sleep(Duration::from_secs(1));
    let (after, peak) = memory_mib(&server)?;
    let (p99_idle, p99_flood) = (percentile(&idle, 0.99), percentile(&flooded, 0.99));
    println!(
        "  push p99 during the flood: {:.1} ms vs {:.1} ms idle = ×{:.1} (p50 {:.1} ms vs {:.1} ms)",
        ms(p99_flood),
        ms(p99_idle),
        ms(p99_flood) / ms(p99_idle),
        ms(percentile(&flooded, 0.5)),
        ms(percentile(&idle, 0.5))
    );
    let answered = answered
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    println!("  sign-ins answered during the flood, by status: {answered:?}");
    println!("  server memory: {before:.0} MiB before, peak {peak:.0} MiB, {after:.0} MiB after");
    Ok(())
}

fn desk(o: &Options) -> Result<()> {
    use onsite_desk_core::CheckInRequest;
    use onsite_tests::desk::LocalDesk;

    println!("Desk core, demo conference with {} attendees", o.attendees);
    let dir = TempDir::new("bench-desk")?;
    load_demo(dir.path(), None, o.attendees)?;
    let server = TestServer::start(dir.path())?;

    // Bootstrap, next to the pull alone (download and parse, nothing stored), taken in turns
    // and judged by the median: one run on this machine varies by a tenth either way.
    let reader = server.desk(DEMO, "Reader")?;
    let (mut boots, mut pulls) = (Vec::new(), Vec::new());
    let mut last: Option<(LocalDesk, _, _)> = None;
    for i in 0..o.bootstraps {
        let (events, pull_only) = bootstrap(&reader)?;
        pulls.push(pull_only);
        // The previous fresh desk's file goes: five of them are a gigabyte.
        if let Some((old, _, _)) = last.take() {
            let db = old.db.clone();
            drop(old);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
        let desk = LocalDesk::enrol(&server, DEMO, &format!("Bench desk {i}"), dir.path())?;
        let started = Instant::now();
        let report = desk.sync()?;
        boots.push(started.elapsed());
        last = Some((desk, events, report));
    }
    let (desk, events, report) = last.context("at least one bootstrap")?;
    let tickets = desk.roster_size()?;
    // Opening the bootstrapped file again, which runs SQLite's quick_check first.
    let opened = Instant::now();
    drop(onsite_desk_core::Desk::open(&desk.db)?);
    let open_took = opened.elapsed();
    boots.sort();
    pulls.sort();
    let (boot, pull_only) = (boots[boots.len() / 2], pulls[pulls.len() / 2]);
    println!(
        "  fresh desk bootstrap: {} events, {tickets} tickets stored and projected in {:.2} s \
         (median of {}: {:.2}–{:.2} s; the pull alone {:.2} s, ×{:.1}; target ≤ 3 s for 50,000 attendees: {})",
        report.pulled,
        boot.as_secs_f64(),
        boots.len(),
        boots[0].as_secs_f64(),
        boots[boots.len() - 1].as_secs_f64(),
        pull_only.as_secs_f64(),
        boot.as_secs_f64() / pull_only.as_secs_f64(),
        match (o.attendees >= 50_000, boot <= Duration::from_secs(3)) {
            (false, _) => "not judged below 50,000 attendees",
            (true, true) => "meets",
            (true, false) => "misses",
        }
    );

    println!(
        "  opening that desk's file (with SQLite's quick_check): {:.0} ms",
        ms(open_took)
    );

    // The readiness checklist a sync round ends with (and the window shows): its facts read
    // from the 50,000-ticket roster, judged; against a search's p50 below.
    let mut judged = Vec::with_capacity(10);
    for _ in 0..10 {
        let t = Instant::now();
        desk.sync.readiness()?;
        judged.push(t.elapsed());
    }
    judged.sort();
    println!(
        "  readiness checklist (facts from the roster, judged): median {:.1} ms",
        ms(percentile(&judged, 0.5))
    );

    // Search as you type: every prefix of 200 attendees' names, and 200 scanned codes.
    let mut names = Vec::new();
    let mut codes = Vec::new();
    for e in &events {
        if let Ok(Event::SeatAssignments(seat_assignments::Event::Assigned { attendee, .. })) =
            e.decode()
            && names.len() < 200
            && e.event_id.as_uuid().as_u128() % 97 == 0
        {
            names.push(format!("{} {}", attendee.first_name, attendee.last_name));
        }
    }
    let admit = admission_codes(&events)?;
    codes.extend(
        admit
            .iter()
            .step_by(admit.len() / 200 + 1)
            .map(|c| c.to_string()),
    );
    let mut queries: Vec<String> = Vec::new();
    for name in &names {
        let chars: Vec<char> = name.chars().collect();
        for n in 1..=chars.len() {
            queries.push(chars[..n].iter().collect());
        }
    }
    queries.extend(codes.iter().cloned());
    for q in queries.iter().take(50) {
        desk.search(q)?;
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut results = 0;
    for q in &queries {
        let t = Instant::now();
        results += desk.search(q)?.len();
        times.push(t.elapsed());
    }
    times.sort();
    let p99 = percentile(&times, 0.99);
    println!(
        "  search as you type: {} queries ({results} results), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms \
         (target p99 ≤ 2 ms: {})",
        queries.len(),
        ms(percentile(&times, 0.5)),
        ms(p99),
        ms(times[times.len() - 1]),
        if p99 <= Duration::from_millis(2) {
            "meets"
        } else {
            "misses"
        }
    );

    // The door's live numbers, read every 5 s while the door is open: against one search.
    let mut numbers = Vec::with_capacity(20);
    for _ in 0..20 {
        let t = Instant::now();
        desk.door_numbers()?;
        numbers.push(t.elapsed());
    }
    numbers.sort();
    println!(
        "  door numbers (inside now, last 15 min, pace, still to come): median {:.1} ms = {:.0}× a search's p50, \
         {:.2} % of the 5 s between reads",
        ms(percentile(&numbers, 0.5)),
        ms(percentile(&numbers, 0.5)) / ms(percentile(&times, 0.5)).max(1e-6),
        100.0 * ms(percentile(&numbers, 0.5)) / 5_000.0
    );

    // A durable check-in vs a bare one-row commit on the same file system, taken in turns
    // so that both see the same disk (this machine's sync latency drifts by ×2 within a
    // minute), compared by their medians.
    let n = 300;
    let bare_db = rusqlite::Connection::open(dir.path().join("bare.sqlite3"))?;
    bare_db.pragma_update(None, "journal_mode", "wal")?;
    bare_db.pragma_update(None, "synchronous", "full")?;
    bare_db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")?;
    let mut insert = bare_db.prepare("INSERT INTO t (v) VALUES (?1)")?;
    let mut bare = Vec::with_capacity(n);
    let mut admitted = Vec::with_capacity(n);
    // The codes are taken from the end, n for the bare check-in, n for the one with hand-outs.
    let mut untouched = admit.iter().rev();
    for (i, code) in untouched.by_ref().take(n).enumerate() {
        let t = Instant::now();
        insert.execute([format!("row {i}")])?;
        bare.push(t.elapsed());
        let t = Instant::now();
        desk.check_in(&CheckInRequest {
            code: code.to_string(),
            gate: None,
            override_reason: None,
        })?;
        admitted.push(t.elapsed());
    }
    bare.sort();
    admitted.sort();
    let (bare, admitted) = (percentile(&bare, 0.5), percentile(&admitted, 0.5));
    let ratio = admitted.as_secs_f64() / bare.as_secs_f64();
    println!(
        "  check-in (event + projections, durable): median {:.2} ms vs a bare one-row commit {:.2} ms = ×{ratio:.2} \
         (target ≤ ×1.5: {})",
        ms(admitted),
        ms(bare),
        if ratio <= 1.5 { "meets" } else { "misses" }
    );

    // The same with the result card's hand-outs: three items (a T-shirt in sizes and a
    // voucher for everyone, a kit for the workshop's holders), the check-in's card listing
    // them, then one of them marked given; each against a bare commit taken in turn.
    let conference = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{DEMO}"),
        None,
    )?;
    let workshop = conference["seat_types"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["kind"] == "add_on"))
        .map(|s| s["id"].clone())
        .context("a workshop")?;
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/hand-outs"),
        Some(serde_json::json!({"items": [
            {"id": "t-shirt", "name": "T-shirt", "sizes": ["S", "M", "L", "XL"]},
            {"id": "voucher", "name": "Meal voucher"},
            {"id": "kit", "name": "Workshop kit", "seat_types": [workshop]},
        ]})),
    )?;
    desk.sync()?;
    let (mut bare, mut carded, mut handed) = (Vec::new(), Vec::new(), Vec::new());
    for (i, code) in untouched.take(n).enumerate() {
        let t = Instant::now();
        insert.execute([format!("card {i}")])?;
        bare.push(t.elapsed());
        let t = Instant::now();
        let outcome = desk.check_in(&CheckInRequest {
            code: code.to_string(),
            gate: None,
            override_reason: None,
        })?;
        carded.push(t.elapsed());
        let onsite_desk_core::CheckInOutcome::Admitted {
            entry: Some(entry), ..
        } = outcome
        else {
            bail!("{code} was not admitted with its card");
        };
        if entry.hand_outs.len() < 2 {
            bail!("the card lacks the hand-outs: {:?}", entry.hand_outs);
        }
        let t = Instant::now();
        desk.hand_out(&onsite_desk_core::HandOutRequest {
            code: code.to_string(),
            item: "t-shirt".into(),
            size: Some("M".into()),
        })?;
        handed.push(t.elapsed());
    }
    for v in [&mut bare, &mut carded, &mut handed] {
        v.sort();
    }
    let (bare, carded, handed) = (
        percentile(&bare, 0.5),
        percentile(&carded, 0.5),
        percentile(&handed, 0.5),
    );
    let ratio = carded.as_secs_f64() / bare.as_secs_f64();
    println!(
        "  check-in with the result card's hand-outs: median {:.2} ms vs a bare one-row commit {:.2} ms = ×{ratio:.2} \
         (target ≤ ×1.5: {}); marking a hand-out given: {:.2} ms = ×{:.2}",
        ms(carded),
        ms(bare),
        if ratio <= 1.5 { "meets" } else { "misses" },
        ms(handed),
        handed.as_secs_f64() / bare.as_secs_f64(),
    );

    // A room's desk: the scan counts the room's people (its occupancy decides the warning
    // and the refusal) and records the entry, against a bare commit taken in turn.
    server.admin(
        reqwest::Method::PUT,
        &format!("/v1/conferences/{DEMO}/rooms"),
        Some(serde_json::json!({"rooms": [{"name": "Plenary", "capacity": 100_000}]})),
    )?;
    desk.sync()?;
    desk.set_gate("Plenary")?;
    let (mut bare, mut entered) = (Vec::new(), Vec::new());
    for (i, code) in admit.iter().rev().take(n).enumerate() {
        let t = Instant::now();
        insert.execute([format!("room {i}")])?;
        bare.push(t.elapsed());
        let t = Instant::now();
        let outcome = desk.check_in(&CheckInRequest {
            code: code.to_string(),
            gate: None,
            override_reason: None,
        })?;
        entered.push(t.elapsed());
        if !matches!(
            outcome,
            onsite_desk_core::CheckInOutcome::EnteredRoom { .. }
        ) {
            bail!("{code} did not enter the room: {outcome:?}");
        }
    }
    bare.sort();
    entered.sort();
    let (bare, entered) = (percentile(&bare, 0.5), percentile(&entered, 0.5));
    let ratio = entered.as_secs_f64() / bare.as_secs_f64();
    println!(
        "  room entry (occupancy counted, entry recorded): median {:.2} ms vs a bare one-row commit {:.2} ms = ×{ratio:.2} \
         (target ≤ ×1.5: {})",
        ms(entered),
        ms(bare),
        if ratio <= 1.5 { "meets" } else { "misses" },
    );
    desk.set_gate("main")?;

    // Walk-in sales at the door: from this desk's seat lease (final: the lease is drawn on in
    // the sale's transaction) and beyond it (provisional), each against a bare commit.
    let seat = server.admin(
        reqwest::Method::POST,
        &format!("/v1/conferences/{DEMO}/seat-types"),
        Some(serde_json::json!({
            "name": "Bench walk-in", "price_minor": 1_000, "quota": 10_000, "kind": "admission",
        })),
    )?;
    let seat_type: onsite_shared::ids::SeatTypeId =
        seat["id"].as_str().context("seat type id")?.parse()?;
    let sales = 100;
    server.admin(
        reqwest::Method::POST,
        &format!("/v1/conferences/{DEMO}/leases"),
        Some(serde_json::json!({
            "desk": desk.enrolment()?.context("enrolled")?.device,
            "seat_type": seat_type, "quantity": sales,
            "until": chrono::Utc::now() + chrono::Duration::hours(2),
        })),
    )?;
    desk.sync()?;
    let sale = |i: usize| onsite_desk_core::SaleRequest {
        tickets: vec![onsite_desk_core::SaleTicketRequest {
            seat_type,
            first_name: format!("Bench{i}"),
            last_name: "Walker".into(),
            email: format!("bench{i}@example.com"),
            company: String::new(),
            attendee_types: vec![],
        }],
        payment_method: onsite_shared::order::PaymentMethod::Cash,
        amount_taken_minor: 1_000,
    };
    let (mut bare, mut leased, mut beyond) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..2 * sales {
        let t = Instant::now();
        insert.execute([format!("sale {i}")])?;
        bare.push(t.elapsed());
        let t = Instant::now();
        let receipt = desk.sell(&sale(i))?;
        let took = t.elapsed();
        if i < sales {
            if receipt.final_tickets.len() != 1 {
                bail!("sale {i} was not from the lease: {receipt:?}");
            }
            leased.push(took);
        } else {
            if !receipt.final_tickets.is_empty() {
                bail!("sale {i} came from a lease that was used up");
            }
            beyond.push(took);
        }
    }
    for v in [&mut bare, &mut leased, &mut beyond] {
        v.sort();
    }
    let (bare, leased, beyond) = (
        percentile(&bare, 0.5),
        percentile(&leased, 0.5),
        percentile(&beyond, 0.5),
    );
    println!(
        "  walk-in sale of one ticket from the desk's lease (final): median {:.2} ms = ×{:.2} a bare one-row commit ({:.2} ms); beyond the lease (provisional): {:.2} ms = ×{:.2}",
        ms(leased),
        leased.as_secs_f64() / bare.as_secs_f64(),
        ms(bare),
        ms(beyond),
        beyond.as_secs_f64() / bare.as_secs_f64(),
    );

    // Resident memory of a desk process holding the roster.
    let out = std::process::Command::new(onsite_tests::workspace::binary("onsite-desk-cli")?)
        .arg("--db")
        .arg(&desk.db)
        .arg("measure")
        .output()?;
    if !out.status.success() {
        bail!("measure: {}", String::from_utf8_lossy(&out.stderr));
    }
    println!(
        "  desk process after 702 searches: {} (target ≤ 150 MB)",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    Ok(())
}

/// Rendering badges, and handing them to the local CUPS.
fn badges() -> Result<()> {
    use onsite_badge::{BadgeData, Paper, TemplateSet, render_badge, render_sheets};
    use onsite_desk_core::printing::Cups;
    use onsite_desk_core::{JobState, PrintRequest, print_pending};
    use onsite_tests::cups::TestPrinter;
    use onsite_tests::desk::LocalDesk;
    use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions, Pt, Rect};

    println!("Badges");
    let set = TemplateSet::default_set();
    let template = set.first();
    let person = |i: usize| BadgeData {
        conference: "CQRS Journey Summit 2026".into(),
        attendee_type: "Attendee".into(),
        band: [0x1F, 0x3A, 0x93],
        first_name: ["Zoë", "Łukasz", "María José", "Ñuñez"][i % 4].into(),
        last_name: format!("Fernández-Łódź {i}"),
        company: "Zürich Rück AG".into(),
        entitlements: vec!["Event sourcing workshop".into()],
        ticket_code: format!("B{i:05}-QX"),
        ..Default::default()
    };
    // Warm up: the embedded fonts are parsed once per process.
    render_badge(template, &person(0))?;

    let n = 1_000;
    let floor = {
        let t = Instant::now();
        for _ in 0..n {
            let page = PdfPage::new(
                Mm(101.6),
                Mm(76.2),
                vec![Op::DrawRectangle {
                    rectangle: Rect::from_xywh(Pt(0.0), Pt(0.0), Pt(288.0), Pt(40.0)),
                }],
            );
            let mut warnings = Vec::new();
            let bytes = PdfDocument::new("floor")
                .with_pages(vec![page])
                .save(&PdfSaveOptions::default(), &mut warnings);
            std::hint::black_box(bytes);
        }
        t.elapsed()
    };
    let (separate, size) = {
        let t = Instant::now();
        let mut size = 0;
        for i in 0..n {
            size += render_badge(template, &person(i))?.pdf.len();
        }
        (t.elapsed(), size / n)
    };
    let people: Vec<BadgeData> = (0..n).map(person).collect();
    let sheets_a6 = {
        let t = Instant::now();
        let s = render_sheets(set.get("badge-a6")?, Paper::A4, &people)?;
        std::hint::black_box(s.pdf.len());
        t.elapsed()
    };
    let one = separate / n as u32;
    println!(
        "  one badge (4 × 3 in, {size} bytes): {:.2} ms vs a one-rectangle printpdf page {:.2} ms = ×{:.1} \
         (target ≤ 10 ms: {})",
        ms(one),
        ms(floor) / n as f64,
        separate.as_secs_f64() / floor.as_secs_f64(),
        if one <= Duration::from_millis(10) {
            "meets"
        } else {
            "misses"
        }
    );
    println!(
        "  1,000 badges: {:.2} s as separate PDFs, {:.2} s as A6 sheets on A4 (250 pages) \
         (target ≤ 5 s: {})",
        separate.as_secs_f64(),
        sheets_a6.as_secs_f64(),
        if separate.max(sheets_a6) <= Duration::from_secs(5) {
            "meets"
        } else {
            "misses"
        }
    );

    // Print → accepted by the local CUPS, through a desk's pipeline, vs `lp` of the same PDF.
    let printer = TestPrinter::pdf("bench")?;
    let dir = TempDir::new("bench-badges")?;
    load_demo(dir.path(), None, 200)?;
    let server = TestServer::start(dir.path())?;
    let desk = LocalDesk::enrol(&server, DEMO, "Badge bench", dir.path())?;
    desk.sync()?;
    desk.set_printer(Some(&printer.name))?;
    let cups = Cups::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let codes: Vec<String> = desk
        .search("a")?
        .into_iter()
        .filter(|e| e.admits)
        .map(|e| e.code.to_string())
        .take(10)
        .collect();
    let rounds = 20;
    let mut pipeline = Vec::new();
    let mut sample = None;
    for i in 0..rounds {
        let code = &codes[i % codes.len()];
        let t = Instant::now();
        let job = desk.print_badge(&PrintRequest {
            code: code.clone(),
            reprint_reason: Some("bench".into()),
            ..PrintRequest::default()
        })?;
        runtime.block_on(print_pending(&desk, &cups))?;
        let state = desk.print_job(job.job)?.context("job")?.state;
        pipeline.push(t.elapsed());
        if !matches!(state, JobState::Sent | JobState::Completed) {
            bail!("job {state:?} after one pass");
        }
        sample.get_or_insert(job.job);
    }
    let pdf = desk
        .print_job_pdf(sample.context("a job")?)?
        .context("pdf")?;
    let file = dir.path().join("badge.pdf");
    std::fs::write(&file, pdf)?;
    let mut lp = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let out = std::process::Command::new("lp")
            .args(["-d", &printer.name, "-o", "media=Custom.4x3in"])
            .arg(&file)
            .output()?;
        lp.push(t.elapsed());
        if !out.status.success() {
            bail!("lp: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    desk.print_until_settled(&cups, Duration::from_secs(120))?;
    pipeline.sort();
    lp.sort();
    let (p, l) = (percentile(&pipeline, 0.5), percentile(&lp, 0.5));
    println!(
        "  print → accepted by CUPS (render, queue, printer check, IPP Print-Job): p50 {:.1} ms, \
         max {:.1} ms vs `lp` of the same PDF p50 {:.1} ms = ×{:.2}",
        ms(p),
        ms(pipeline[pipeline.len() - 1]),
        ms(l),
        p.as_secs_f64() / l.as_secs_f64()
    );
    Ok(())
}
