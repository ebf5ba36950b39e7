//! `onsite-desk-cli`: the desk core without a window, for operations and tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use onsite_desk_core::printing::{Cups, JobState, PrintRequest, print_pending};
use onsite_desk_core::sync::{self, SyncClient};
use onsite_desk_core::{
    CheckInOutcome, CheckInRequest, ConflictAction, Correction, Desk, HandOutRequest,
    PartyCheckInRequest, SaleRequest,
};
use onsite_shared::badge::AutoPrint;

#[derive(Parser)]
#[command(version, about = "The Onsite desk core on the command line")]
struct Cli {
    /// The desk's database file.
    #[arg(long, env = "ONSITE_DESK_DB", default_value = "onsite-desk.sqlite3")]
    db: PathBuf,
    /// Answers as JSON, for scripts (the commands that answer in lines otherwise).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trades a one-time enrolment code for this desk's credentials.
    Enrol {
        /// The sync server, e.g. http://127.0.0.1:7300
        #[arg(long, env = "ONSITE_SERVER_URL")]
        server: String,
        code: String,
    },
    /// Re-enrols this desk with a re-enrolment code head office made for it (after a copy of
    /// its database, or an older backup, synced first): everything is pushed again.
    Reenrol {
        #[arg(long, env = "ONSITE_SERVER_URL")]
        server: String,
        code: String,
    },
    /// Pushes what is pending and pulls what is new, once.
    Sync,
    /// The venue relays to sync with before the server this desk enrolled with, in order
    /// (none: clears them); prints the servers the desk tries, in order.
    Relays { urls: Vec<String> },
    /// The venue relays of this desk's conference that announce themselves on the network
    /// (DNS-SD), one per line: address, name; `--use` makes the desk sync with them first.
    FindRelays {
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        #[arg(long = "use")]
        use_them: bool,
    },
    /// The sync status and the local logs, as JSON.
    Status,
    /// Searches the roster.
    Search { text: String },
    /// One ticket and its holder, as JSON.
    Attendee { code: String },
    /// Corrects a holder's details at the desk: a `Correction` as JSON (a file, or `-` for
    /// standard input), e.g. `{"first_name": "Zoë", "company": "Contoso"}`.
    Correct { code: String, file: PathBuf },
    /// Sets this desk's gate.
    Gate { name: String },
    /// The seats a walk-in sale may take, as JSON.
    Availability,
    /// The seat leases head office granted this desk: what each still covers (final sales).
    Leases,
    /// Ready for the doors? The checklist as JSON, the printer asked now (exit status 0 when
    /// every item is green, 3 otherwise).
    Readiness,
    /// Gives a seat lease back to the server (online), so its unsold seats go to everyone.
    ReturnLease { lease: onsite_shared::ids::LeaseId },
    /// Asks the server (online) to hold seats for this desk, within head office's policy.
    AskLease {
        seat_type: onsite_shared::ids::SeatTypeId,
        quantity: u32,
    },
    /// Sells walk-in seats: a `SaleRequest` as JSON (a file, or `-` for standard input); the
    /// receipt as JSON.
    Sell { file: PathBuf },
    /// This desk's walk-in sales and what the server decided, as JSON.
    Sales,
    /// The conflict inbox, as JSON.
    Conflicts,
    /// Acts on an inbox item: a `ConflictAction` as JSON, e.g.
    /// `{"action": "close", "note": "same person"}` or
    /// `{"action": "record_refund", "amount_minor": 24900, "method": "cash", "note": "…"}`.
    Conflict { id: String, action: String },
    /// Checks a ticket in (at a room's desk: scans the holder into the room).
    CheckIn {
        code: String,
        #[arg(long)]
        gate: Option<String>,
        /// Let the person in although the ticket is not valid, saying why.
        #[arg(long = "override")]
        override_reason: Option<String>,
    },
    /// The people on the same order as a ticket, as JSON.
    Party { code: String },
    /// Checks several tickets in at once (a party), each its own admission, in one go.
    CheckInParty {
        #[arg(required = true)]
        codes: Vec<String>,
        #[arg(long)]
        gate: Option<String>,
    },
    /// Takes back admissions (one person, or a whole party), saying why.
    Undo {
        #[arg(required = true)]
        codes: Vec<String>,
        #[arg(long)]
        reason: String,
    },
    /// Marks an item (`t-shirt`) as handed over to a ticket's holder; prints the outcome as
    /// JSON (`given`, or `already_given` with when and by which desk).
    HandOut {
        code: String,
        item: String,
        /// The size handed over, for an item that comes in sizes.
        #[arg(long)]
        size: Option<String>,
    },
    /// Marks that a ticket's holder left the room this desk is set to (or `--room`); prints
    /// the outcome as JSON with the room's numbers.
    LeaveRoom {
        code: String,
        #[arg(long)]
        room: Option<String>,
    },
    /// Every room and how full it is, as this desk knows it, as JSON.
    Rooms,
    /// Takes back a hand-out marked by mistake, saying why.
    UndoHandOut {
        code: String,
        item: String,
        #[arg(long)]
        reason: String,
    },
    /// Sets the name and pronouns printed on a ticket's badge, for the badge only (the
    /// registration stays as it is); left out: back to the registration's.
    BadgeName {
        code: String,
        #[arg(long)]
        preferred_name: Option<String>,
        #[arg(long)]
        pronouns: Option<String>,
    },
    /// Writes every event not synced yet to a file head office imports
    /// (`onsite-server import-desk-log`), for a laptop that never gets network again.
    ExportLog {
        #[arg(long)]
        to: PathBuf,
    },
    /// Rebuilds every projection from the two logs.
    Rebuild,
    /// Lists the printers the OS spooler (CUPS) knows, with their media.
    Printers,
    /// Shows the print settings, or changes them.
    PrintSettings {
        /// The desk's badge printer (a CUPS queue name); `none` to clear it.
        #[arg(long)]
        printer: Option<String>,
        /// Printing at check-in: always, if_never_printed or never.
        #[arg(long)]
        auto_print: Option<String>,
        /// The badge template id (see `badge-templates`).
        #[arg(long)]
        template: Option<String>,
    },
    /// Prints the desk's badge templates (JSON), or replaces them from a file.
    BadgeTemplates {
        #[arg(long)]
        load: Option<PathBuf>,
    },
    /// Renders a ticket's badge to a PDF file without printing it.
    Badge {
        code: String,
        #[arg(long, default_value = "badge.pdf")]
        out: PathBuf,
    },
    /// Prints a ticket's badge and waits until the spooler has finished with it.
    Print {
        code: String,
        /// Needed when the badge was printed before.
        #[arg(long)]
        reason: Option<String>,
        /// Another printer than the desk's own.
        #[arg(long)]
        printer: Option<String>,
        /// Print although the name does not fit.
        #[arg(long)]
        accept_warnings: bool,
    },
    /// The latest print jobs, as JSON.
    PrintJobs {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Runs searches for every one- and two-letter prefix and prints this process's peak
    /// resident memory (for the benchmark of a desk holding a large roster).
    Measure,
    /// Appends check-ins as fast as it can while syncing in the background, printing
    /// `committed N` with each check-in's `client_seq` once its transaction is committed
    /// (for crash tests: kill it at any moment).
    Hammer {
        #[arg(long, default_value_t = 1_000)]
        count: u32,
        /// Ticket codes are `<prefix>-<n>`, admitted by override (unknown to the server).
        #[arg(long, default_value = "HAMMER")]
        prefix: String,
    },
}

/// A file's text, or standard input's for `-`.
fn read_input(path: &std::path::Path) -> Result<String> {
    if path == std::path::Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let desk = Arc::new(Desk::open(&cli.db).with_context(|| format!("open {}", cli.db.display()))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Command::Enrol { server, code } if cli.json => {
            let e = runtime.block_on(sync::enrol(&desk, &server, &code))?;
            // Never the token: it is the desk's secret.
            let shown = serde_json::json!({
                "name": e.name, "device": e.device, "conference": e.conference,
                "server_url": e.server_url,
            });
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        Command::Enrol { server, code } => {
            let e = runtime.block_on(sync::enrol(&desk, &server, &code))?;
            println!(
                "enrolled as {} ({}) for conference {}",
                e.name, e.device, e.conference
            );
        }
        Command::Reenrol { server, code } => {
            let e = runtime.block_on(sync::reenrol(&desk, &server, &code))?;
            println!(
                "re-enrolled as {} ({}); the next sync sends everything again",
                e.name, e.device
            );
        }
        Command::FindRelays { seconds, use_them } => {
            let conference = desk
                .enrolment()?
                .context("enrol the desk first: relays are found by its conference")?
                .conference;
            let found = onsite_desk_core::discovery::find_relays(
                conference,
                std::time::Duration::from_secs(seconds),
            )?;
            for r in &found {
                println!("{}\t{}", r.url, r.name);
            }
            if use_them && !found.is_empty() {
                let urls: Vec<String> = found.into_iter().map(|r| r.url).collect();
                desk.set_relays(&urls)?;
            }
        }
        Command::Relays { urls } => {
            for server in desk.set_relays(&urls)? {
                println!("{server}");
            }
        }
        Command::Sync => {
            let client = SyncClient::new(Arc::clone(&desk))?;
            let report = runtime.block_on(client.sync_once())?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::Status => {
            let client = SyncClient::new(Arc::clone(&desk))?;
            println!("{}", serde_json::to_string_pretty(&client.status()?)?);
            println!("{}", serde_json::to_string_pretty(&desk.local_status()?)?);
        }
        Command::Search { text } if cli.json => {
            println!("{}", serde_json::to_string_pretty(&desk.search(&text)?)?);
        }
        Command::Attendee { code } => {
            let found = desk
                .attendee(&code)?
                .with_context(|| format!("no ticket {code} on this desk's roster"))?;
            println!("{}", serde_json::to_string_pretty(&found)?);
        }
        Command::Correct { code, file } => {
            let correction: Correction = serde_json::from_str(&read_input(&file)?)
                .context("the correction is not valid JSON")?;
            desk.correct_attendee(&code, &correction)?;
        }
        Command::Gate { name } => desk.set_gate(&name)?,
        Command::Availability => {
            println!("{}", serde_json::to_string_pretty(&desk.availability()?)?);
        }
        Command::Sell { file } => {
            let sale: SaleRequest =
                serde_json::from_str(&read_input(&file)?).context("the sale is not valid JSON")?;
            println!("{}", serde_json::to_string_pretty(&desk.sell(&sale)?)?);
        }
        Command::Readiness => {
            let cups = onsite_desk_core::printing::Cups::default();
            runtime.block_on(onsite_desk_core::readiness::probe_printer(&desk, &cups))?;
            let readiness = SyncClient::new(Arc::clone(&desk))?.readiness()?;
            println!("{}", serde_json::to_string_pretty(&readiness)?);
            if !readiness.ready {
                std::process::exit(3);
            }
        }
        Command::Leases => println!("{}", serde_json::to_string_pretty(&desk.leases()?)?),
        Command::ReturnLease { lease } => {
            let client = SyncClient::new(Arc::clone(&desk))?;
            let report = runtime.block_on(client.return_lease(lease))?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::AskLease {
            seat_type,
            quantity,
        } => {
            let client = SyncClient::new(Arc::clone(&desk))?;
            let report = runtime.block_on(client.ask_lease(seat_type, quantity))?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::Sales => println!("{}", serde_json::to_string_pretty(&desk.sales()?)?),
        Command::Conflicts => {
            println!("{}", serde_json::to_string_pretty(&desk.conflicts()?)?);
        }
        Command::Conflict { id, action } => {
            let id = id
                .parse()
                .with_context(|| format!("{id:?} is not an inbox item's id"))?;
            let action: ConflictAction =
                serde_json::from_str(&action).context("the action is not valid JSON")?;
            desk.act_on_conflict(id, &action)?;
        }
        Command::Search { text } => {
            for e in desk.search(&text)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    e.code,
                    e.full_name(),
                    e.company,
                    e.seat_type_name,
                    e.admission
                        .as_ref()
                        .map_or_else(String::new, |a| format!("admitted {}", a.at))
                );
            }
        }
        Command::CheckIn {
            code,
            gate,
            override_reason,
        } => {
            let outcome = desk.check_in(&CheckInRequest {
                code,
                gate,
                override_reason,
            })?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
        }
        Command::Party { code } => {
            println!("{}", serde_json::to_string_pretty(&desk.party(&code)?)?);
        }
        Command::CheckInParty { codes, gate } => {
            let outcomes = desk.check_in_party(&PartyCheckInRequest { codes, gate })?;
            println!("{}", serde_json::to_string_pretty(&outcomes)?);
        }
        Command::Undo { codes, reason } => desk.undo_party(&codes, &reason)?,
        Command::HandOut { code, item, size } => {
            let outcome = desk.hand_out(&HandOutRequest { code, item, size })?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
        }
        Command::LeaveRoom { code, room } => {
            let outcome = desk.leave_room(&code, room.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
        }
        Command::Rooms => println!("{}", serde_json::to_string_pretty(&desk.rooms()?)?),
        Command::UndoHandOut { code, item, reason } => {
            desk.undo_hand_out(&code, &item, &reason)?;
        }
        Command::BadgeName {
            code,
            preferred_name,
            pronouns,
        } => desk.set_badge_name(
            &code,
            &onsite_desk_core::BadgeName {
                preferred_name,
                pronouns,
            },
        )?,
        Command::ExportLog { to } => {
            let n = desk.export_log(&to)?;
            println!("{n} events not synced written to {}", to.display());
        }
        Command::Rebuild => desk.rebuild_projections()?,
        Command::Printers => {
            let printers = runtime.block_on(Cups::default().printers())?;
            println!("{}", serde_json::to_string_pretty(&printers)?);
        }
        Command::PrintSettings {
            printer,
            auto_print,
            template,
        } => {
            if let Some(p) = printer {
                desk.set_printer(Some(p.as_str()).filter(|p| *p != "none"))?;
            }
            if let Some(policy) = auto_print {
                let policy: AutoPrint =
                    serde_json::from_value(serde_json::Value::String(policy))
                        .context("--auto-print is always, if_never_printed or never")?;
                desk.set_auto_print(policy)?;
            }
            if let Some(t) = template {
                desk.set_badge_template(&t)?;
            }
            println!("{}", serde_json::to_string_pretty(&desk.print_settings()?)?);
        }
        Command::BadgeTemplates { load } => {
            if let Some(file) = load {
                let json = std::fs::read_to_string(&file)
                    .with_context(|| format!("read {}", file.display()))?;
                desk.set_badge_templates(&json)?;
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&desk.badge_templates()?)?
            );
        }
        Command::Badge { code, out } => {
            let preview = desk.badge_preview(&code)?;
            std::fs::write(&out, &preview.pdf)
                .with_context(|| format!("write {}", out.display()))?;
            println!("{}", serde_json::to_string_pretty(&preview)?);
        }
        Command::Print {
            code,
            reason,
            printer,
            accept_warnings,
        } => {
            let job = desk.print_badge(&PrintRequest {
                code,
                reprint_reason: reason,
                printer,
                accept_warnings,
            })?;
            let cups = Cups::default();
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let job = loop {
                runtime.block_on(print_pending(&desk, &cups))?;
                let now = desk.print_job(job.job)?.context("the job vanished")?;
                let settled = matches!(now.state, JobState::Completed | JobState::Failed);
                if settled || std::time::Instant::now() > deadline {
                    break now;
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            println!("{}", serde_json::to_string_pretty(&job)?);
            if job.state == JobState::Failed {
                anyhow::bail!(
                    "the badge did not print: {}",
                    job.reason.unwrap_or_default()
                );
            }
        }
        Command::PrintJobs { limit } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&desk.print_jobs(limit)?)?
            );
        }
        Command::Measure => {
            let mut found = 0;
            for a in 'a'..='z' {
                found += desk.search(&a.to_string())?.len();
                for b in 'a'..='z' {
                    found += desk.search(&format!("{a}{b}"))?.len();
                }
            }
            let status = std::fs::read_to_string("/proc/self/status")?;
            let peak = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .context("no VmHWM in /proc/self/status")?
                .trim();
            println!(
                "roster {} tickets, {found} results, peak RSS {peak}",
                desk.roster_size()?
            );
        }
        Command::Hammer { count, prefix } => {
            let client = Arc::new(SyncClient::new(Arc::clone(&desk))?);
            let background = Arc::clone(&client);
            runtime.spawn(async move {
                loop {
                    let _ = background.sync_once().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
            let mut out = std::io::stdout().lock();
            for n in 1..=count {
                let code = format!("{prefix}-{n}");
                let outcome = desk.check_in(&CheckInRequest {
                    code: code.clone(),
                    gate: None,
                    override_reason: Some("crash test".into()),
                })?;
                if matches!(outcome, CheckInOutcome::Admitted { .. }) {
                    // The desk's own events are numbered without gaps: the last is the count.
                    writeln!(out, "committed {}", desk.local_status()?.appended)?;
                } else {
                    writeln!(out, "{code} was admitted before: nothing appended")?;
                }
                out.flush()?;
            }
            runtime.block_on(client.sync_once())?;
            writeln!(out, "done")?;
        }
    }
    Ok(())
}
