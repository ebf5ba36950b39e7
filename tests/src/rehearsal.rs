//! The doors-open rehearsal (`cargo xtask rehearse`): a real `onsite-server` process on a
//! scratch copy of the demo conference (a data directory of its own, wiped afterwards), and
//! desks on real sockets, each a real desk core with a SQLite file of its own, that check
//! people in, sell at the door and print badges to a virtual printer (cups-pdf) as people
//! arrive: the venue's last hour before the start, compressed by `speed`, with 60–70 % of the
//! arrivals in its last 30 minutes. Walk-ins' badges print; registered people's were printed
//! before the day. Some desks are offline for the whole rush and reconnect at
//! its end; then every desk syncs until all agree, and the report says how long that took.
//!
//! What it reports: check-ins per minute, scan-to-green (the desk's check-in call, from the
//! scan to the answer on screen), how far the desks fell behind the arrivals, sync lag (scan at
//! an online desk → recorded by the server, from the server's own `recorded_at`), conflicts
//! raised, the server's CPU and memory, and whether everything converged.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use onsite_desk_core::printing::{Cups, PrintRequest};
use onsite_desk_core::{CheckInOutcome, CheckInRequest, DeskError, SaleRequest, SaleTicketRequest};
use onsite_shared::badge::AutoPrint;
use onsite_shared::ids::ConferenceId;
use onsite_shared::order::PaymentMethod;

use crate::cups::TestPrinter;
use crate::desk::LocalDesk;
use crate::server::{TempDir, TestServer, server_command};

/// The demo conference's id (`onsite-server demo`).
const DEMO: ConferenceId = ConferenceId::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);

#[derive(Debug, Clone)]
pub struct Plan {
    pub desks: usize,
    /// Check-ins per desk.
    pub check_ins: usize,
    /// Walk-in sales in all.
    pub walk_ins: usize,
    /// Desks offline for the whole rush.
    pub offline: usize,
    /// Venue seconds per real second (the hour before the start takes `3600 / speed` s).
    pub speed: f64,
    /// Print a badge for every walk-in, to a cups-pdf queue.
    pub print: bool,
    pub seed: u64,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            desks: 20,
            check_ins: 2_500,
            walk_ins: 200,
            offline: 5,
            speed: 30.0,
            print: true,
            seed: 1,
        }
    }
}

/// What a rehearsal measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub check_ins: usize,
    pub duplicates_scanned: usize,
    pub walk_ins: usize,
    /// Walk-ins a desk turned away: sold out as of its last sync.
    pub walk_ins_refused: usize,
    pub badges_printed: usize,
    pub rush: Duration,
    pub per_minute: f64,
    pub peak_per_minute: f64,
    pub scan_to_green_ms: Percentiles,
    pub behind_schedule_ms: Percentiles,
    pub sync_lag_ms: Percentiles,
    pub conflicts: BTreeMap<String, usize>,
    pub converged: bool,
    /// From the reconnect until every desk agrees, with a machine per desk: the slowest
    /// desk's sync of each round, added up.
    pub converge: Duration,
    /// The same rounds on this one machine, desk after desk.
    pub converge_one_machine: Duration,
    /// Per round until nothing moved: events pushed and pulled, and the slowest desk's sync.
    pub rounds: Vec<(u64, Duration)>,
    pub server_cpu: Duration,
    pub server_peak_rss_mib: f64,
    pub admitted_on_server: i64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.5),
            p99: at(0.99),
            max: values[values.len() - 1],
        }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.p50, self.p99, self.max
        )
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "  check-ins: {} ({} second scans of a ticket at another door), walk-in sales: {} ({} more turned away: sold out), badges printed: {}",
            self.check_ins,
            self.duplicates_scanned,
            self.walk_ins,
            self.walk_ins_refused,
            self.badges_printed
        )?;
        writeln!(
            f,
            "  rush: {:.1} s; check-ins per minute: {:.0} on average, {:.0} in the busiest minute",
            self.rush.as_secs_f64(),
            self.per_minute,
            self.peak_per_minute
        )?;
        writeln!(f, "  scan-to-green: {}", self.scan_to_green_ms)?;
        writeln!(f, "  behind the arrivals: {}", self.behind_schedule_ms)?;
        writeln!(f, "  sync lag (online desks): {}", self.sync_lag_ms)?;
        writeln!(f, "  conflicts raised: {:?}", self.conflicts)?;
        writeln!(
            f,
            "  converged: {} — {:.2} s after the offline desks reconnected, with a machine per desk \
             ({:.1} s with every desk on this machine, one after another); {} admitted on the server",
            if self.converged { "yes" } else { "NO" },
            self.converge.as_secs_f64(),
            self.converge_one_machine.as_secs_f64(),
            self.admitted_on_server
        )?;
        for (i, (moved, slowest)) in self.rounds.iter().enumerate() {
            writeln!(
                f,
                "    round {}: {moved} events pushed and pulled; slowest desk {:.2} s",
                i + 1,
                slowest.as_secs_f64()
            )?;
        }
        write!(
            f,
            "  server: {:.1} s of CPU ({:.0} % of one core over the rush and convergence), peak RSS {:.1} MiB",
            self.server_cpu.as_secs_f64(),
            100.0 * self.server_cpu.as_secs_f64()
                / (self.rush + self.converge_one_machine)
                    .as_secs_f64()
                    .max(0.001),
            self.server_peak_rss_mib
        )
    }
}

/// SplitMix64: the rehearsal's arrivals are the same for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One thing that happens at a desk, at a venue second of the hour before the start.
#[derive(Debug, Clone)]
enum Arrival {
    Scan(String),
    Sale(usize),
}

/// When someone arrives: 35 % spread over the first half hour, 65 % over the second.
fn arrival_second(rng: &mut Rng) -> f64 {
    if rng.unit() < 0.35 {
        rng.unit() * 1800.0
    } else {
        1800.0 + rng.unit() * 1800.0
    }
}

/// Runs a rehearsal in a scratch directory under `dir` and returns its report.
pub fn run(dir: &Path, plan: &Plan) -> Result<Report> {
    ensure!(plan.desks > 0 && plan.offline < plan.desks, "{plan:?}");
    let scratch = TempDir::new(&dir.join("rehearsal").to_string_lossy())?;
    let data = scratch.path().join("server");
    std::fs::create_dir_all(&data)?;
    let attendees = plan.desks * plan.check_ins * 11 / 10 + 100;
    println!("==> a scratch copy of the demo conference ({attendees} attendees)");
    server_command(
        &data,
        None,
        &["demo", "--attendees", &attendees.to_string()],
    )?;
    let server = TestServer::start(&data)?;
    let conference = DEMO;
    let printer = if plan.print {
        Some(TestPrinter::pdf("rehearsal")?)
    } else {
        None
    };

    println!("==> {} desks enrol and pull the conference", plan.desks);
    let desks_dir = scratch.path().join("desks");
    std::fs::create_dir_all(&desks_dir)?;
    let mut desks = Vec::with_capacity(plan.desks);
    for i in 0..plan.desks {
        let desk = LocalDesk::enrol(&server, conference, &format!("Door {i}"), &desks_dir)?;
        desk.sync()?;
        if let Some(p) = &printer {
            // Walk-ins' badges print (made at the desk); people who registered before carry
            // a badge printed in advance, as at most conferences of this size: a virtual
            // printer turning 50,000 check-ins into PDFs would measure Ghostscript.
            desk.set_printer(Some(&p.name))?;
            desk.set_auto_print(AutoPrint::Never)?;
        }
        desks.push(Arc::new(desk));
    }

    // Who comes: admission tickets of the demo, shuffled; each desk gets its share, and one
    // person in a hundred also tries another door (a second scan, flagged as a duplicate).
    let mut rng = Rng(plan.seed);
    let admits: HashSet<String> = desks[0]
        .availability()?
        .into_iter()
        .filter(|s| s.admits)
        .map(|s| s.seat_type.to_string())
        .collect();
    let mut codes = admission_codes(&desks[0].db, &admits)?;
    ensure!(
        codes.len() >= plan.desks * plan.check_ins,
        "{} admission tickets for {} check-ins",
        codes.len(),
        plan.desks * plan.check_ins
    );
    for i in (1..codes.len()).rev() {
        codes.swap(i, rng.below(i + 1));
    }
    let seat_types: Vec<_> = desks[0]
        .availability()?
        .into_iter()
        .filter(|s| s.admits)
        .map(|s| (s.seat_type, s.price.amount_minor))
        .collect();
    ensure!(
        !seat_types.is_empty(),
        "the demo sells no admission seat type"
    );
    let mut schedules: Vec<Vec<(f64, Arrival)>> = vec![Vec::new(); plan.desks];
    let mut duplicates = 0;
    for (i, code) in codes.iter().take(plan.desks * plan.check_ins).enumerate() {
        let desk = i % plan.desks;
        let at = arrival_second(&mut rng);
        schedules[desk].push((at, Arrival::Scan(code.clone())));
        if rng.below(100) == 0 {
            let other = (desk + 1 + rng.below(plan.desks - 1)) % plan.desks;
            if other != desk {
                schedules[other].push(((at + 60.0).min(3599.0), Arrival::Scan(code.clone())));
                duplicates += 1;
            }
        }
    }
    for n in 0..plan.walk_ins {
        let at = arrival_second(&mut rng);
        schedules[n % plan.desks].push((at, Arrival::Sale(rng.below(seat_types.len()))));
    }
    for s in &mut schedules {
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    // The server's CPU and memory, sampled while the doors are open.
    let pid = server.pid().context("the server runs")?;
    let cpu_before = cpu_time(pid)?;
    let sampling = Arc::new(AtomicBool::new(true));
    let peak_rss = Arc::new(Mutex::new(0u64));
    let sampler = {
        let (sampling, peak_rss) = (Arc::clone(&sampling), Arc::clone(&peak_rss));
        let status = format!("/proc/{pid}/status");
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                }) {
                    let mut peak = peak_rss.lock().expect("the peak");
                    *peak = (*peak).max(kib);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };

    println!(
        "==> doors open: the last hour before the start in {:.0} s, {} desks offline",
        3600.0 / plan.speed,
        plan.offline
    );
    let started = Instant::now();
    let rush_on = Arc::new(AtomicBool::new(true));
    let cups = Cups::default();
    let results: Vec<Result<DeskRun>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (i, (desk, schedule)) in desks.iter().zip(schedules).enumerate() {
            let online = i >= plan.offline;
            let (desk, rush_on, cups) = (Arc::clone(desk), Arc::clone(&rush_on), cups.clone());
            let syncer = scope.spawn({
                let desk = Arc::clone(&desk);
                let rush_on = Arc::clone(&rush_on);
                let print = plan.print;
                move || -> Result<()> {
                    while rush_on.load(Ordering::Relaxed) {
                        if online {
                            // A failed round is retried on the next tick, as the app does.
                            let _ = desk.try_sync();
                        }
                        if print {
                            desk.runtime()
                                .block_on(onsite_desk_core::print_pending(&desk.desk, &cups))?;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                    Ok(())
                }
            });
            let seat_types = seat_types.clone();
            let (speed, print) = (plan.speed, plan.print);
            handles.push((
                scope.spawn(move || door(&desk, &schedule, &seat_types, started, speed, print)),
                syncer,
            ));
        }
        let mut out = Vec::new();
        let mut syncers = Vec::new();
        for (door, syncer) in handles {
            out.push(
                door.join()
                    .unwrap_or_else(|_| bail!("a desk's door panicked")),
            );
            syncers.push(syncer);
        }
        rush_on.store(false, Ordering::Relaxed);
        for s in syncers {
            if let Ok(Err(e)) = s.join() {
                out.push(Err(e));
            }
        }
        out
    });
    let rush = started.elapsed();
    let runs = results.into_iter().collect::<Result<Vec<_>>>()?;

    // Every desk syncs in rounds until a round moves nothing. The desks are laptops of their
    // own at a venue, but here they share this machine's cores: so in each round they sync one
    // after another, each with the machine to itself, and the time to converge is what it
    // would be with a machine each: the slowest desk of each round, round after round.
    println!("==> the offline desks reconnect; every desk syncs until all agree");
    let reconnect = Instant::now();
    let mut critical_path = Duration::ZERO;
    let mut settled_at = Duration::ZERO;
    let mut converged = false;
    let mut rounds = Vec::new();
    for _round in 0..60 {
        let mut moved = 0;
        let mut slowest = Duration::ZERO;
        for d in &desks {
            let t = Instant::now();
            let r = d.sync()?;
            slowest = slowest.max(t.elapsed());
            moved += r.pushed + r.pulled;
        }
        let pending: u64 = desks
            .iter()
            .map(|d| d.sync.status().map(|s| s.pending))
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .sum();
        if moved > 0 || pending > 0 {
            critical_path += slowest;
            settled_at = reconnect.elapsed();
            rounds.push((moved, slowest));
            continue;
        }
        converged = true;
        break;
    }
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    if plan.print {
        for d in &desks {
            d.print_until_settled(&cups, Duration::from_secs(120))?;
        }
    }

    // Every desk and the server agree on who is in.
    let scanned: HashSet<&String> = runs.iter().flat_map(|r| r.admitted.iter()).collect();
    let admissions = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{conference}/admissions"),
        None,
    )?;
    let admitted_on_server = admissions["admitted"].as_i64().context("admitted")?;
    let sold_in = runs.iter().map(|r| r.sold_admitted).sum::<usize>() as i64;
    for d in &desks {
        let here = admitted_at(&d.db)?;
        if here != scanned.len() as i64 + sold_in {
            converged = false;
            eprintln!(
                "{} knows {here} people in; {} were scanned in and {sold_in} bought and went in",
                d.db.display(),
                scanned.len()
            );
        }
    }
    let conflicts = server.admin(
        reqwest::Method::GET,
        &format!("/v1/conferences/{conference}/conflicts"),
        None,
    )?;
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for c in conflicts.as_array().context("conflicts")? {
        *by_kind
            .entry(c["kind"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let lags = sync_lags(&server, conference, &runs, plan.offline)?;

    let check_ins: usize = runs.iter().map(|r| r.scans.len()).sum();
    let mut minutes: BTreeMap<u64, usize> = BTreeMap::new();
    for r in &runs {
        for s in &r.scans {
            *minutes.entry(s.done.as_secs() / 60).or_default() += 1;
        }
    }
    let whole_minutes = minutes
        .iter()
        .filter(|(m, _)| **m < rush.as_secs() / 60)
        .map(|(_, n)| *n as f64);
    let peak = if rush.as_secs() >= 60 {
        whole_minutes.fold(0.0, f64::max)
    } else {
        check_ins as f64 / rush.as_secs_f64() * 60.0
    };
    Ok(Report {
        check_ins,
        duplicates_scanned: duplicates,
        walk_ins: runs.iter().map(|r| r.sales).sum(),
        walk_ins_refused: runs.iter().map(|r| r.refused_sales).sum(),
        badges_printed: runs.iter().map(|r| r.prints).sum(),
        rush,
        per_minute: check_ins as f64 / rush.as_secs_f64() * 60.0,
        peak_per_minute: peak,
        scan_to_green_ms: Percentiles::of(
            runs.iter()
                .flat_map(|r| r.scans.iter().map(|s| s.took.as_secs_f64() * 1e3))
                .collect(),
        ),
        behind_schedule_ms: Percentiles::of(
            runs.iter()
                .flat_map(|r| r.scans.iter().map(|s| s.behind.as_secs_f64() * 1e3))
                .collect(),
        ),
        sync_lag_ms: lags,
        conflicts: by_kind,
        converged: converged && admitted_on_server >= scanned.len() as i64,
        converge: critical_path,
        converge_one_machine: settled_at,
        rounds,
        server_cpu: cpu,
        server_peak_rss_mib: *peak_rss.lock().expect("the peak") as f64 / 1024.0,
        admitted_on_server,
    })
}

/// One scan at a door.
struct Scan {
    /// From the rush's start to the answer.
    done: Duration,
    /// Scan to answer.
    took: Duration,
    /// How long after the person's arrival the scan began (the desk was still busy).
    behind: Duration,
}

/// What one door did.
struct DeskRun {
    scans: Vec<Scan>,
    /// Codes this desk admitted (first scans), with their admission ids.
    admitted: Vec<String>,
    admission_ids: Vec<String>,
    /// Tickets sold here that admit (each sale admits its buyer on the spot).
    sold_admitted: usize,
    sales: usize,
    /// Sales the desk refused (sold out as of its last sync).
    refused_sales: usize,
    prints: usize,
}

/// A door works through its arrivals as they come.
fn door(
    desk: &LocalDesk,
    schedule: &[(f64, Arrival)],
    seat_types: &[(onsite_shared::ids::SeatTypeId, i64)],
    started: Instant,
    speed: f64,
    print: bool,
) -> Result<DeskRun> {
    let mut run = DeskRun {
        scans: Vec::with_capacity(schedule.len()),
        admitted: Vec::new(),
        admission_ids: Vec::new(),
        sold_admitted: 0,
        sales: 0,
        refused_sales: 0,
        prints: 0,
    };
    for (n, (at, arrival)) in schedule.iter().enumerate() {
        let due = started + Duration::from_secs_f64(at / speed);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let begun = Instant::now();
        match arrival {
            Arrival::Scan(code) => {
                let outcome = desk.check_in(&CheckInRequest {
                    code: code.clone(),
                    ..CheckInRequest::default()
                })?;
                let took = begun.elapsed();
                match outcome {
                    CheckInOutcome::Admitted { admission, .. } => {
                        run.admitted.push(code.clone());
                        run.admission_ids.push(admission.admission.to_string());
                    }
                    CheckInOutcome::AlreadyAdmitted { .. } => {}
                    other => bail!("{code} at a door: {other:?}"),
                }
                run.scans.push(Scan {
                    done: started.elapsed(),
                    took,
                    behind: begun.saturating_duration_since(due),
                });
            }
            Arrival::Sale(k) => {
                let (seat_type, price) = seat_types[*k];
                let sold = desk.sell(&SaleRequest {
                    tickets: vec![SaleTicketRequest {
                        seat_type,
                        first_name: "Walk".into(),
                        last_name: format!("In {n}"),
                        email: format!("walk-in-{n}@example.com"),
                        company: String::new(),
                        attendee_types: vec![],
                    }],
                    payment_method: PaymentMethod::Cash,
                    amount_taken_minor: price,
                });
                let receipt = match sold {
                    Ok(r) => r,
                    // Sold out as of the desk's last sync: the desk says so at once.
                    Err(DeskError::Refused { .. }) => {
                        run.refused_sales += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                run.sales += 1;
                let code = receipt.tickets[0].code.to_string();
                let outcome = desk.check_in(&CheckInRequest {
                    code: code.clone(),
                    ..CheckInRequest::default()
                })?;
                if matches!(outcome, CheckInOutcome::Admitted { .. }) {
                    run.sold_admitted += 1;
                }
                if print {
                    desk.print_badge(&PrintRequest {
                        code,
                        reprint_reason: None,
                        printer: None,
                        accept_warnings: true,
                    })?;
                    run.prints += 1;
                }
            }
        }
    }
    Ok(run)
}

/// The codes of the demo's tickets of seat types that admit, from a desk's roster.
fn admission_codes(db: &Path, admits: &HashSet<String>) -> Result<Vec<String>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(
        "SELECT code, seat_type FROM roster WHERE source = 'assigned' AND withdrawn = 0 ORDER BY code",
    )?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, t)| admits.contains(t))
        .map(|(c, _)| c)
        .collect())
}

/// How many people a desk knows to be in.
fn admitted_at(db: &Path) -> Result<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM admissions WHERE admission IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Scan at an online desk → recorded by the server: the server's `recorded_at` of each
/// admission less the desk's `at` (one machine, one clock).
fn sync_lags(
    server: &TestServer,
    conference: ConferenceId,
    runs: &[DeskRun],
    offline: usize,
) -> Result<Percentiles> {
    let online: HashSet<&String> = runs
        .iter()
        .skip(offline)
        .flat_map(|r| r.admission_ids.iter())
        .collect();
    let reader = server.desk(conference, "Lag reader")?;
    let mut lags = Vec::new();
    for e in reader.pull_all()? {
        if e.event_type != "admission.admitted" {
            continue;
        }
        let admission = &e.payload["admission"];
        let Some(id) = admission["admission"].as_str() else {
            continue;
        };
        if !online.contains(&id.to_owned()) {
            continue;
        }
        let at: chrono::DateTime<chrono::Utc> = admission["at"].as_str().context("at")?.parse()?;
        let recorded = e.recorded_at.context("recorded_at")?;
        lags.push((recorded - at).num_microseconds().unwrap_or(0) as f64 / 1e3);
    }
    Ok(Percentiles::of(lags))
}

/// User plus system CPU time of a process so far.
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command may hold spaces: fields count from after its closing parenthesis.
    let rest = stat.rsplit_once(')').context("/proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}
