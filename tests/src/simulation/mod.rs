//! Deterministic simulation of a venue's morning (issue 26): real desk cores on their own
//! SQLite files and the real server logic and store (SQLite), in one process, connected by a
//! simulated network ([`network`]) whose faults, like everything else that happens, are drawn
//! from one seed ([`schedule`]). Steps run one at a time to completion; desks and the server
//! die between steps and come back from their files. At the end the network heals, every desk
//! syncs until quiet, and [`invariants`] are checked. A failing seed is cut down to the fewest
//! steps that still fail, and can be replayed.
//!
//! Time is simulated too ([`clock`]): venue time moves a few seconds a step, the server decides
//! by it, and each desk reads it plus an error that jumps (a wrong minute, hour or day).
//!
//! A desk's file is backed up (when it is set up, and now and then) and restored from its
//! backup, losing what it did since; its next push is refused as diverged and head office
//! re-enrols it.
//!
//! Power cuts too ([`power`]): each machine (a desk, the server) keeps its files in a directory
//! of its own under a VFS that can take back what was written and not synced; a desk's file
//! after a power cut must hold all it held before (it syncs every commit), and the server must
//! still hold everything it answered (pushes acknowledged, events pulled).
//!
//! Online buyers order scarce seats on the server, which holds them for [`HOLD_MS`] of its
//! clock and [`GRACE_MS`] more before the order expires; the payment provider confirms payments
//! (some after the hold expired, some twice); the server's timer tick expires what is due; head
//! office changes quotas (a cut may go below what is sold) and decides open conflicts (refunds,
//! honouring a sale beyond the quota, dismissing, closing).
//!
//! Each desk prints badges (asked for, and by auto-print on a fresh admission) on a printer of
//! its own ([`printer`]) through its real print pipeline; printers jam and are cleared.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use onsite_desk_core::sync::{self, SyncClient, SyncError, Transport};
use onsite_desk_core::{
    CheckInRequest, Correction, Desk, DeskError, PrintRequest, SaleRequest, SaleTicketRequest,
};
use onsite_server::admin::{NewConference, NewSeatType};
use onsite_server::head_office::Decision;
use onsite_server::import::{ImportConference, ImportFile, ImportRegistration, ImportSeat};
use onsite_server::registration::PaymentResult;
use onsite_shared::badge::AutoPrint;
use onsite_shared::conference::{ConferenceDetails, OversellPolicy, SeatKind};
use onsite_shared::error_code;
use onsite_shared::ids::{ConferenceId, ConflictId, OrderId, SeatTypeId};
use onsite_shared::money::Currency;
use onsite_shared::order::PaymentMethod;
use onsite_shared::seat_assignments::Attendee;
use onsite_shared::seat_availability::SeatQuantity;

use crate::in_process::InProcess;

mod clock;
pub mod invariants;
pub mod network;
pub mod power;
pub mod printer;
pub mod schedule;

pub use network::Counts;
pub use schedule::{Shape, Step, generate, shrink};

use clock::Clocks;
use network::{Faulty, Net};
use printer::VirtualPrinter;

/// Venue time per step.
const STEP_MS: i64 = 7_000;

/// How long the server holds an online order's seats (about a dozen steps).
const HOLD_MS: i64 = 90_000;

/// How much longer after the hold the order's expiry fires (a few steps, so that payments land
/// in it too).
const GRACE_MS: i64 = 30_000;

/// Registrations imported before the doors open, one general-admission seat each.
const REGISTRATIONS: usize = 24;

/// The seat types of the simulated conference: scarce, under both policies.
struct Seat {
    name: &'static str,
    kind: SeatKind,
    policy: OversellPolicy,
    /// Seats beyond the imported registrations' own.
    spare: u32,
    price_minor: i64,
}

const SEATS: [Seat; 3] = [
    Seat {
        name: "General admission",
        kind: SeatKind::Admission,
        policy: OversellPolicy::Reject,
        spare: 3,
        price_minor: 19_900,
    },
    Seat {
        name: "Standing room",
        kind: SeatKind::Admission,
        policy: OversellPolicy::Overbook,
        spare: 1,
        price_minor: 9_900,
    },
    Seat {
        name: "Workshop",
        kind: SeatKind::AddOn,
        policy: OversellPolicy::Reject,
        spare: 2,
        price_minor: 5_000,
    },
];

/// Why a run failed: at which step (or at the end), and what.
#[derive(Debug, Clone)]
pub struct Failure {
    pub step: Option<usize>,
    pub what: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step {
            Some(i) => write!(f, "at step {i}: {}", self.what),
            None => write!(f, "at the end: {}", self.what),
        }
    }
}

fn failed(step: Option<usize>, what: impl std::fmt::Display) -> Failure {
    Failure {
        step,
        what: what.to_string(),
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub steps: usize,
    pub sales: u64,
    pub refused_at_desk: u64,
    pub check_ins: u64,
    pub syncs: u64,
    pub failed_syncs: u64,
    pub compensated: u64,
    pub crashes: u64,
    pub server_restarts: u64,
    pub clock_jumps: u64,
    pub undos: u64,
    pub corrections: u64,
    pub backups: u64,
    pub restores: u64,
    pub reenrolments: u64,
    pub quota_changes: u64,
    pub orders: u64,
    pub orders_refused: u64,
    pub payments_confirmed: u64,
    pub payments_after_expiry: u64,
    pub payments_refused: u64,
    pub timers_fired: u64,
    pub decisions: u64,
    pub decisions_refused: u64,
    pub prints: u64,
    /// Badges that came out of the printers (asked for, and auto-printed on admission).
    pub badges: u64,
    pub jams: u64,
    pub power_cuts: u64,
    /// Sectors that power cuts took back.
    pub sectors_lost: u64,
    pub network: Counts,
}

struct SimDesk {
    path: PathBuf,
    client: SyncClient<Faulty>,
    /// Restored from its backup, and not re-enrolled since.
    restored: bool,
    machine: power::Machine,
}

pub(crate) struct World {
    dir: PathBuf,
    clocks: Arc<Clocks>,
    net: Arc<Net>,
    conference: ConferenceId,
    seats: Vec<SeatTypeId>,
    desks: Vec<SimDesk>,
    server_machine: power::Machine,
    /// Every ticket code the morning has seen: imported, and sold at a desk.
    codes: Vec<String>,
    /// Each desk's badge printer (a device of its own: it outlives the desk's restarts).
    printers: Vec<Arc<VirtualPrinter>>,
    /// The online buyers' orders, and whether each was paid.
    orders: Vec<(OrderId, bool)>,
    report: Report,
}

/// A desk restored from a backup is told so by its first push (diverged); restored a second
/// time, after a re-enrolment replaced its token, its old token is refused (401). Either way
/// head office gives it a re-enrolment code.
fn needs_reenrolment(e: &SyncError) -> bool {
    matches!(
        e,
        SyncError::Diverged(_) | SyncError::Server { status: 401, .. }
    )
}

/// Where a desk's backup is kept.
fn backup_of(path: &Path) -> PathBuf {
    path.with_extension("backup")
}

/// Copies a closed SQLite database and its log (if any) over another, whose old log goes.
pub fn copy_database(from: &Path, to: &Path) -> std::io::Result<()> {
    let with = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with(to, suffix));
    }
    std::fs::copy(from, to)?;
    if with(from, "-wal").exists() {
        std::fs::copy(with(from, "-wal"), with(to, "-wal"))?;
    }
    Ok(())
}

fn import_file(conference: ConferenceId) -> ImportFile {
    let attendee = |n: usize| Attendee {
        first_name: format!("Guest{n}"),
        last_name: "Simulated".into(),
        email: format!("guest{n}@example.com"),
        company: String::new(),
        attendee_types: vec![],
        ..Default::default()
    };
    let mut registrations: Vec<ImportRegistration> = (0..REGISTRATIONS)
        .map(|n| ImportRegistration {
            source_id: format!("r{n}"),
            registrant: None,
            seats: vec![ImportSeat {
                seat_type: SEATS[0].name.into(),
                ticket_code: Some(format!("SIM-{n:04}")),
                attendee: attendee(n),
                line: None,
            }],
        })
        .collect();
    registrations[0].seats.push(ImportSeat {
        seat_type: SEATS[2].name.into(),
        ticket_code: Some("SIM-W000".into()),
        attendee: attendee(0),
        line: None,
    });
    let held = |i: usize| match i {
        0 => REGISTRATIONS as u32,
        2 => 1,
        _ => 0,
    };
    ImportFile {
        source: "simulation".into(),
        conference: ImportConference {
            new: NewConference {
                id: Some(conference),
                details: ConferenceDetails {
                    name: "Simulated Summit".into(),
                    slug: "simulated-summit".into(),
                    description: String::new(),
                    venue: "Everywhere".into(),
                    starts_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
                    ends_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default(),
                    currency: Currency::EUR,
                    max_seats_per_order: None,
                    time_zone: None,
                    owner_name: None,
                },
                owner_email: "org@example.com".into(),
            },
            published: true,
        },
        seat_types: SEATS
            .iter()
            .enumerate()
            .map(|(i, s)| NewSeatType {
                id: None,
                name: s.name.into(),
                description: String::new(),
                price_minor: s.price_minor,
                quota: held(i) + s.spare,
                kind: s.kind,
                policy: s.policy,
            })
            .collect(),
        attendee_types: vec![],
        registrations,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(None, format!("no runtime: {e}")))
}

/// Runs `steps` in a fresh directory under `dir`; what happened, or the first invariant that
/// did not hold.
pub fn run(dir: &Path, shape: Shape, steps: &[Step]) -> Result<Report, Failure> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| failed(None, e))?;
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let mut world = World::open(dir, shape).await?;
        for (i, step) in steps.iter().enumerate() {
            world
                .step(*step)
                .await
                .map_err(|what| failed(Some(i), what))?;
            invariants::check_step(&world, *step)
                .await
                .map_err(|what| failed(Some(i), what))?;
        }
        world.quiesce().await.map_err(|what| failed(None, what))?;
        invariants::check(&world)
            .await
            .map_err(|what| failed(None, what))?;
        world.report.steps = steps.len();
        world.report.badges = world.printers.iter().map(|p| p.badges().len() as u64).sum();
        world.report.network = world.net.counts();
        Ok(world.report)
    });
    drop(runtime);
    let _ = std::fs::remove_dir_all(dir);
    result
}

impl World {
    async fn open(dir: &Path, shape: Shape) -> Result<Self, Failure> {
        let setup = |e: &dyn std::fmt::Display| failed(None, format!("setting up: {e}"));
        let server_dir = dir.join("server");
        std::fs::create_dir_all(&server_dir).map_err(|e| setup(&e))?;
        let server_machine = power::Machine::new(&server_dir).map_err(|e| setup(&e))?;
        let clocks = Clocks::new(shape.desks.max(1));
        let server = InProcess::open_with_clock(&server_dir, clocks.server())
            .await
            .map_err(|e| setup(&e))?;
        let conference = ConferenceId::from_u128(0x0193_0000_0000_7000_8000_5131_0000_0001);
        server
            .import(import_file(conference))
            .await
            .map_err(|e| setup(&e))?;
        let by_name = server.seat_types(conference).await.map_err(|e| setup(&e))?;
        let seats = SEATS
            .iter()
            .map(|s| {
                by_name
                    .iter()
                    .find(|(_, name)| name == s.name)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| setup(&format!("no seat type {}", s.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut codes: Vec<String> = (0..REGISTRATIONS).map(|n| format!("SIM-{n:04}")).collect();
        codes.push("SIM-W000".into());
        let net = Net::new(server);
        let mut world = Self {
            dir: dir.to_owned(),
            clocks,
            net,
            conference,
            seats,
            desks: Vec::new(),
            server_machine,
            codes,
            printers: Vec::new(),
            orders: Vec::new(),
            report: Report::default(),
        };
        for i in 0..shape.desks.max(1) {
            let desk_dir = dir.join(format!("desk-{i}"));
            std::fs::create_dir_all(&desk_dir).map_err(|e| setup(&e))?;
            let machine = power::Machine::new(&desk_dir).map_err(|e| setup(&e))?;
            let path = desk_dir.join("desk.sqlite3");
            let client = world.open_desk(i, &path).map_err(|e| setup(&e))?;
            let code = world
                .net
                .server()
                .enrolment_code(conference, &format!("Desk {i}"))
                .await
                .map_err(|e| setup(&e))?;
            sync::enrol_over(client.transport(), client.desk(), "simulated", &code)
                .await
                .map_err(|e| setup(&e))?;
            client.sync_once().await.map_err(|e| setup(&e))?;
            client
                .desk()
                .set_printer(Some(printer::NAME))
                .and_then(|()| client.desk().set_auto_print(AutoPrint::IfNeverPrinted))
                .map_err(|e| setup(&e))?;
            world.printers.push(Arc::default());
            world.desks.push(SimDesk {
                path,
                client,
                restored: false,
                machine,
            });
            // The backup taken when the desk was set up, the evening before.
            world.backup(i).map_err(|e| setup(&e))?;
        }
        Ok(world)
    }

    fn open_desk(&self, i: usize, path: &Path) -> Result<SyncClient<Faulty>, DeskError> {
        let desk = Arc::new(Desk::open_with_clock(path, self.clocks.desk(i))?);
        Ok(SyncClient::over(
            desk,
            Faulty {
                net: Arc::clone(&self.net),
                desk: i,
            },
        ))
    }

    fn desk(&self, i: usize) -> &SimDesk {
        &self.desks[i % self.desks.len()]
    }

    async fn step(&mut self, step: Step) -> Result<(), String> {
        self.clocks.advance(STEP_MS);
        match step {
            Step::Sell {
                desk,
                seat,
                tickets,
            } => self.sell(desk, seat, tickets),
            Step::CheckIn { desk, pick } => {
                self.check_in(desk, pick)?;
                // The pipeline wakes on a check-in: an auto-printed badge goes out now.
                self.print_pass(desk % self.desks.len()).await
            }
            Step::Print { desk, pick } => {
                let i = desk % self.desks.len();
                self.print(i, pick)?;
                self.print_pass(i).await
            }
            Step::Jam { desk } => {
                self.report.jams += 1;
                self.printers[desk % self.desks.len()].toggle_jam();
                Ok(())
            }
            Step::Sync { desk, faults } => {
                self.net.round(Some(faults));
                let result = self.desk(desk).client.sync_once().await;
                self.net.round(None);
                self.report.syncs += 1;
                match result {
                    Ok(r) => {
                        self.report.compensated += r.compensated;
                        Ok(())
                    }
                    Err(SyncError::Unreachable(_)) => {
                        self.report.failed_syncs += 1;
                        Ok(())
                    }
                    Err(e) if needs_reenrolment(&e) => self.reenrol(desk % self.desks.len()).await,
                    Err(e) => Err(format!("desk {desk}'s sync: {e}")),
                }
            }
            Step::Crash { desk } => {
                self.report.crashes += 1;
                self.restart_desk(desk % self.desks.len(), |_, _| Ok(()))
            }
            Step::Backup { desk } => {
                self.report.backups += 1;
                self.backup(desk % self.desks.len())
            }
            Step::Restore { desk } => {
                self.report.restores += 1;
                let i = desk % self.desks.len();
                self.restart_desk(i, |path, machine| {
                    copy_database(&backup_of(path), path)?;
                    machine.replaced(path);
                    Ok(())
                })?;
                self.desks[i].restored = true;
                Ok(())
            }
            Step::Partition { desk } => {
                self.net.toggle(desk % self.desks.len());
                Ok(())
            }
            Step::Quota { seat, by } => {
                let seat = self.seats[seat % self.seats.len()];
                self.report.quota_changes += 1;
                self.net
                    .server()
                    .change_quota(self.conference, seat, i32::from(by))
                    .await
                    .map_err(|e| format!("changing a quota: {e}"))
            }
            Step::RestartServer => {
                self.report.server_restarts += 1;
                self.restart_server(|_| Ok(0)).await
            }
            Step::PowerCut { desk, server, luck } => {
                self.report.power_cuts += 1;
                self.power_cut(desk % self.desks.len(), server, luck).await
            }
            Step::ClockJump { desk, by_secs } => {
                self.clock_jump(desk, by_secs);
                Ok(())
            }
            Step::Order { seat, seats } => self.order(seat, seats).await,
            Step::Pay { pick } => self.pay(pick).await,
            Step::Timers => self.fire_timers().await,
            Step::Decide { pick, how } => self.decide(pick, how).await,
            Step::Undo { desk, pick } => self.undo(desk, pick),
            Step::Correct { desk, pick } => self.correct(desk, pick),
            Step::Redeliver { pick } => {
                let Some((to, request)) = self.net.take_held(pick) else {
                    return Ok(());
                };
                let answer = self
                    .net
                    .server()
                    .transport()
                    .push(&to, &request)
                    .await
                    .map_err(|e| format!("a late push: {e}"))?;
                match answer.said {
                    Err(r) if r.status >= 500 => Err(format!("a late push answered {r:?}")),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The server's process stops (every handle on its files closed), `meanwhile` happens to
    /// its machine (returning the sectors it lost), and it starts again.
    async fn restart_server(
        &mut self,
        meanwhile: impl FnOnce(&power::Machine) -> Result<u64, String>,
    ) -> Result<(), String> {
        drop(self.net.stop());
        self.report.sectors_lost += meanwhile(&self.server_machine)?;
        let server = InProcess::open_with_clock(&self.dir.join("server"), self.clocks.server())
            .await
            .map_err(|e| format!("reopening the server: {e}"))?;
        self.net.start(server);
        Ok(())
    }

    /// The desk's process stops (every handle on its file closed), `meanwhile` happens to its
    /// file, and it starts again.
    fn restart_desk(
        &mut self,
        i: usize,
        meanwhile: impl FnOnce(&Path, &power::Machine) -> std::io::Result<()>,
    ) -> Result<(), String> {
        let SimDesk {
            path,
            client,
            restored,
            machine,
        } = self.desks.remove(i);
        drop(client);
        meanwhile(&path, &machine).map_err(|e| format!("desk {i}'s file: {e}"))?;
        let client = self.open_desk(i, &path).map_err(|e| e.to_string())?;
        self.desks.insert(
            i,
            SimDesk {
                path,
                client,
                restored,
                machine,
            },
        );
        Ok(())
    }

    /// Desk `i` syncs (or, when the power goes at the desk, sells now and then), and the power
    /// goes at the desk or the server after a few disk operations; the machine starts again
    /// with what its disk kept. The desk keeps every event it had and every answer it had
    /// stored (it syncs every commit); what the server answered is checked after the step.
    async fn power_cut(&mut self, i: usize, at_server: bool, luck: u64) -> Result<(), String> {
        let mut rng = schedule::Rng::new(luck);
        let all = rng.percent(50);
        let operations = rng.below(48) as u32;
        let before = self.desks[i]
            .client
            .desk()
            .outbox(0, u32::MAX)
            .map_err(|e| e.to_string())?;
        if at_server {
            self.server_machine.cut_after(operations);
        } else {
            self.desks[i].machine.cut_after(operations);
        }
        let activity = if at_server { 0 } else { rng.below(3) };
        if activity == 1 {
            // Whatever the desk answers (the sale may fail as the disk goes) is not checked:
            // an unanswered sale may or may not be kept, never half.
            let _ = self.sell(i, rng.below(3) as usize, 1);
        } else if activity == 2 {
            // The power may go between handing a job to the printer and recording the answer.
            let _ = self.print(i, rng.next_u64() as u32);
            let _ = onsite_desk_core::print_pending(
                self.desks[i].client.desk(),
                self.printers[i].as_ref(),
            )
            .await;
        } else {
            self.net.round(None);
            let _ = self.desks[i].client.sync_once().await;
        }
        if at_server {
            return self.restart_server(|m| m.restore(&mut rng, all)).await;
        }
        let mut lost = 0;
        self.restart_desk(i, |_, machine| {
            lost = machine
                .restore(&mut rng, all)
                .map_err(std::io::Error::other)?;
            Ok(())
        })?;
        self.report.sectors_lost += lost;
        let after = self.desks[i]
            .client
            .desk()
            .outbox(0, u32::MAX)
            .map_err(|e| e.to_string())?;
        for item in &before {
            let kept = after.iter().find(|a| a.client_seq == item.client_seq);
            let same = kept.is_some_and(|a| {
                a.event_id == item.event_id && (item.outcome.is_none() || a.outcome == item.outcome)
            });
            if !same {
                return Err(format!(
                    "desk {i} came back from a power cut ({lost} sector(s) lost) without its \
                     event {}: before {item:?}, after {kept:?}",
                    item.client_seq
                ));
            }
        }
        Ok(())
    }

    /// A copy of the desk's file, taken with the desk closed.
    fn backup(&mut self, i: usize) -> Result<(), String> {
        self.restart_desk(i, |path, _| copy_database(path, &backup_of(path)))
    }

    /// Head office makes a re-enrolment code for the desk, and the desk redeems it: a new sync
    /// client that pushes its whole log again.
    async fn reenrol(&mut self, i: usize) -> Result<(), String> {
        let client = &self.desks[i].client;
        let device = client
            .desk()
            .enrolment()
            .map_err(|e| e.to_string())?
            .ok_or("a restored desk is enrolled")?
            .device;
        let code = self
            .net
            .server()
            .reenrolment_code(device)
            .await
            .map_err(|e| e.to_string())?;
        match sync::reenrol_over(client.transport(), client.desk(), "simulated", &code).await {
            Ok(_) => {
                self.report.reenrolments += 1;
                self.desks[i].restored = false;
                Ok(())
            }
            // Partitioned: the desk asks again after its next diverged push.
            Err(SyncError::Unreachable(_)) => Ok(()),
            Err(e) => Err(format!("desk {i} re-enrolling: {e}")),
        }
    }

    fn clock_jump(&mut self, desk: usize, by_secs: i32) {
        self.clocks
            .jump(desk % self.desks.len(), i64::from(by_secs) * 1_000);
        self.report.clock_jumps += 1;
    }

    fn undo(&mut self, desk: usize, pick: u32) -> Result<(), String> {
        let code = self.codes[pick as usize % self.codes.len()].clone();
        match self
            .desk(desk)
            .client
            .desk()
            .undo_check_in(&code, "scanned by mistake")
        {
            Ok(()) => {
                self.report.undos += 1;
                Ok(())
            }
            // Not admitted here (or at all): nothing to take back.
            Err(DeskError::Refused { .. } | DeskError::NoSuchTicket(_)) => Ok(()),
            Err(e) => Err(format!("desk {desk} undoing {code}: {e}")),
        }
    }

    fn correct(&mut self, desk: usize, pick: u32) -> Result<(), String> {
        let code = self.codes[pick as usize % self.codes.len()].clone();
        let n = self.report.corrections;
        let correction = Correction {
            first_name: Some(format!("Corrected{n}")),
            last_name: None,
            company: Some(format!("Desk {desk} Ltd")),
        };
        match self
            .desk(desk)
            .client
            .desk()
            .correct_attendee(&code, &correction)
        {
            Ok(()) => {
                self.report.corrections += 1;
                Ok(())
            }
            Err(DeskError::Refused { .. } | DeskError::NoSuchTicket(_)) => Ok(()),
            Err(e) => Err(format!("desk {desk} correcting {code}: {e}")),
        }
    }

    fn sell(&mut self, desk: usize, seat: usize, tickets: u8) -> Result<(), String> {
        let i = seat % self.seats.len();
        let n = self.report.sales + self.report.refused_at_desk;
        let request = SaleRequest {
            tickets: (0..tickets)
                .map(|t| SaleTicketRequest {
                    seat_type: self.seats[i],
                    first_name: format!("Walker{n}"),
                    last_name: format!("T{t}"),
                    email: format!("walker{n}.{t}@example.com"),
                    company: String::new(),
                    attendee_types: vec![],
                })
                .collect(),
            payment_method: PaymentMethod::Cash,
            amount_taken_minor: SEATS[i].price_minor * i64::from(tickets),
        };
        match self.desk(desk).client.desk().sell(&request) {
            Ok(receipt) => {
                self.report.sales += 1;
                self.codes
                    .extend(receipt.tickets.iter().map(|t| t.code.to_string()));
                Ok(())
            }
            Err(DeskError::Refused { .. }) => {
                self.report.refused_at_desk += 1;
                Ok(())
            }
            Err(e) => Err(format!("desk {desk} selling: {e}")),
        }
    }

    fn check_in(&mut self, desk: usize, pick: u32) -> Result<(), String> {
        let code = self.codes[pick as usize % self.codes.len()].clone();
        let i = desk % self.desks.len();
        match self.desk(i).client.desk().check_in(&CheckInRequest {
            code,
            gate: Some(format!("gate {i}")),
            override_reason: None,
        }) {
            Ok(_) => {
                self.report.check_ins += 1;
                Ok(())
            }
            Err(DeskError::Refused { .. } | DeskError::NoSuchTicket(_)) => Ok(()),
            Err(e) => Err(format!("desk {desk} checking in: {e}")),
        }
    }

    /// Desk `i` asks for the badge of a code (a reprint, with a reason, when it was printed).
    fn print(&mut self, i: usize, pick: u32) -> Result<(), String> {
        let code = self.codes[pick as usize % self.codes.len()].clone();
        let request = PrintRequest {
            code: code.clone(),
            reprint_reason: Some("lost it on the way in".into()),
            printer: None,
            accept_warnings: true,
        };
        match self.desks[i].client.desk().print_badge(&request) {
            Ok(_) => {
                self.report.prints += 1;
                Ok(())
            }
            // A ticket this desk does not know yet, or one withdrawn.
            Err(DeskError::Refused { .. } | DeskError::NoSuchTicket(_)) => Ok(()),
            Err(e) => Err(format!("desk {i} printing {code}: {e}")),
        }
    }

    /// One pass of desk `i`'s print pipeline over its printer.
    async fn print_pass(&mut self, i: usize) -> Result<(), String> {
        onsite_desk_core::print_pending(self.desks[i].client.desk(), self.printers[i].as_ref())
            .await
            .map(|_| ())
            .map_err(|e| format!("desk {i}'s print pipeline: {e}"))
    }

    async fn order(&mut self, seat: usize, seats: u8) -> Result<(), String> {
        let seat_type = self.seats[seat % self.seats.len()];
        let order = self
            .net
            .server()
            .place_order(
                self.conference,
                vec![SeatQuantity {
                    seat_type,
                    quantity: u32::from(seats),
                }],
                onsite_server::registration::Hold {
                    window: chrono::Duration::milliseconds(HOLD_MS),
                    grace: chrono::Duration::milliseconds(GRACE_MS),
                },
            )
            .await
            .map_err(|e| format!("placing an order: {e}"))?;
        match order {
            Ok(order) => {
                self.report.orders += 1;
                self.orders.push((order, false));
            }
            Err(_) => self.report.orders_refused += 1,
        }
        Ok(())
    }

    async fn pay(&mut self, pick: u32) -> Result<(), String> {
        if self.orders.is_empty() {
            return Ok(());
        }
        let i = pick as usize % self.orders.len();
        let order = self.orders[i].0;
        let paid = self
            .net
            .server()
            .pay(self.conference, order)
            .await
            .map_err(|e| format!("paying order {order}: {e}"))?;
        match paid {
            Ok(PaymentResult::Confirmed) => {
                self.report.payments_confirmed += 1;
                self.orders[i].1 = true;
            }
            Ok(PaymentResult::Escalated) => {
                self.report.payments_after_expiry += 1;
                self.orders[i].1 = true;
            }
            Ok(PaymentResult::Pending) => {}
            // Its seats were never reserved (sold out when it was placed): nothing to pay for.
            Err(error_code::ORDER_NOT_RESERVED) => self.report.payments_refused += 1,
            Err(code) => return Err(format!("paying order {order} was refused: {code}")),
        }
        Ok(())
    }

    async fn fire_timers(&mut self) -> Result<(), String> {
        self.report.timers_fired += self
            .net
            .server()
            .fire_timers()
            .await
            .map_err(|e| format!("firing timers: {e}"))? as u64;
        Ok(())
    }

    async fn decide(&mut self, pick: u32, how: u8) -> Result<(), String> {
        let server = self.net.server();
        let open = server
            .open_conflicts(self.conference)
            .await
            .map_err(|e| format!("listing conflicts: {e}"))?;
        if open.is_empty() {
            return Ok(());
        }
        let conflict = &open[pick as usize % open.len()];
        let id: ConflictId = conflict
            .conflict_id
            .parse()
            .map_err(|e| format!("a conflict id: {e}"))?;
        let decision = match how % 4 {
            0 => Decision::RecordRefund(PaymentMethod::Cash),
            1 => Decision::HonourSale,
            2 => Decision::Dismiss,
            _ => Decision::Close,
        };
        match server
            .decide(self.conference, id, decision)
            .await
            .map_err(|e| format!("deciding {}: {e}", conflict.kind))?
        {
            Ok(()) => self.report.decisions += 1,
            // Not a decision this kind of conflict takes (no money to return, no sale to
            // honour), or seats no longer there to honour it with.
            Err(_) => self.report.decisions_refused += 1,
        }
        Ok(())
    }

    /// The network heals; every desk syncs until nothing is left to say; every hold still
    /// running has run out and expired.
    async fn quiesce(&mut self) -> Result<(), String> {
        self.clocks.advance(HOLD_MS + GRACE_MS + STEP_MS);
        self.fire_timers().await?;
        for i in 0..self.desks.len() {
            self.printers[i].clear();
            // Send what is queued, then hear what became of it.
            self.print_pass(i).await?;
            self.print_pass(i).await?;
        }
        self.net.heal();
        for round in 0..3 {
            for i in 0..self.desks.len() {
                match self.desks[i].client.sync_once().await {
                    Ok(_) => {}
                    Err(e) if needs_reenrolment(&e) => {
                        self.reenrol(i).await?;
                        self.desks[i].client.sync_once().await.map_err(|e| {
                            format!("desk {i}'s sync after re-enrolling (round {round}): {e}")
                        })?;
                    }
                    Err(e) => {
                        return Err(format!(
                            "desk {i}'s sync after healing (round {round}): {e}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
