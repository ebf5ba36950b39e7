//! The Tauri commands: thin, one per thing the window asks of the desk core. Every argument
//! and answer is a desk-core type (or one of the few view types here), and the TypeScript the
//! window uses for them is generated from these types (`ui/src/bindings/`, see the test below).

use std::sync::Arc;

use onsite_desk_core::printing::Cups;
use onsite_desk_core::sync::{self, SyncClient, SyncError, SyncStatus};
use onsite_desk_core::{
    BadgeName, BadgeSvg, CheckInOutcome, CheckInRequest, ConferenceView, ConflictAction,
    ConflictItem, Correction, Desk, DeskError, DoorNumbers, HandOutOutcome, HandOutRequest,
    LeaseView, Party, PartyCheckInRequest, PrintJob, PrintRequest, PrintSettings, RosterEntry,
    SaleReceipt, SaleRequest, SaleView, SeatAvailability,
};
use onsite_shared::badge::AutoPrint;
use onsite_shared::error_code;
use onsite_shared::ids::{ConferenceId, ConflictId, DeviceId, LeaseId, PrintJobId, SeatTypeId};
use onsite_shared::readiness::Readiness;
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

/// What the window holds on to: the desk core, its sync client and the print pipeline's bell.
pub struct DeskApp {
    pub desk: Arc<Desk>,
    pub sync: Arc<SyncClient>,
    pub print_wake: Arc<tokio::sync::Notify>,
    pub cups: Cups,
    /// Where the desk's log files are (a new one each day).
    pub log_dir: std::path::PathBuf,
    /// Flushes the log file when the app ends.
    pub _log_guard: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// The most of the log the window shows (its end) and a saved copy holds.
const LOG_SHOWN: usize = 256 * 1024;
const LOG_SAVED: usize = 16 * 1024 * 1024;

/// The end of the desk's log files (oldest first), at most `limit` bytes of it.
fn log_text(dir: &std::path::Path, limit: usize) -> Result<String, Failure> {
    let failed = |e: std::io::Error| Failure {
        code: "desk.log_unreadable".into(),
        message: format!("the log in {}: {e}", dir.display()),
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(failed)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    let mut text = Vec::new();
    for f in files.iter().rev() {
        let mut body = std::fs::read(f).map_err(failed)?;
        body.extend(std::mem::take(&mut text));
        text = body;
        if text.len() >= limit {
            break;
        }
    }
    let start = text.len().saturating_sub(limit);
    Ok(String::from_utf8_lossy(&text[start..]).into_owned())
}

impl DeskApp {
    /// After a command that appended something: push it soon, print what it queued.
    fn appended(&self) {
        self.sync.nudge();
        self.print_wake.notify_one();
    }
}

/// A command that did not do what was asked: a stable code the window can branch on and a
/// sentence for the person at the desk. Nothing was changed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl From<DeskError> for Failure {
    fn from(e: DeskError) -> Self {
        Failure {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        Failure {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

type Answer<T> = Result<T, Failure>;

/// Who this desk is, once enrolled.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskIdentity {
    pub server_url: String,
    pub device: DeviceId,
    pub conference: ConferenceId,
    pub name: String,
}

/// Everything the frame of the window shows: identity, gate, the sync bar, the inbox count
/// and the print settings.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskState {
    pub identity: Option<DeskIdentity>,
    /// The servers this desk tries, in order: venue relays, then its own server.
    pub servers: Vec<String>,
    pub conference: Option<ConferenceView>,
    pub gate: String,
    pub sync: SyncStatus,
    pub open_conflicts: u64,
    pub print: PrintSettings,
    pub version: String,
}

/// The end of the desk's log, for the settings page's "Log" (support).
#[tauri::command]
pub async fn desk_log(app: State<'_, DeskApp>) -> Answer<String> {
    log_text(&app.log_dir, LOG_SHOWN)
}

/// Saves a copy of the desk's log as a file to send to head office: in the Downloads folder
/// (the data directory when there is none). Returns where.
#[tauri::command]
pub async fn save_desk_log<R: tauri::Runtime>(
    app: State<'_, DeskApp>,
    handle: tauri::AppHandle<R>,
) -> Answer<String> {
    use tauri::Manager;
    let text = log_text(&app.log_dir, LOG_SAVED)?;
    let dir = handle
        .path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| app.log_dir.clone());
    let name = format!(
        "onsite-desk-log-{}.txt",
        chrono_like_now().replace([':', ' '], "-")
    );
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| Failure {
        code: "desk.log_not_saved".into(),
        message: format!("{}: {e}", path.display()),
    })?;
    tracing::info!(path = %path.display(), "log saved for support");
    Ok(path.display().to_string())
}

/// Now, in the desk's clock, as a file name may carry it.
fn chrono_like_now() -> String {
    let now = onsite_desk_core::wall_clock()();
    now.format("%Y%m%d %H%M%S").to_string()
}

#[tauri::command]
pub async fn desk_state(app: State<'_, DeskApp>) -> Answer<DeskState> {
    let desk = &app.desk;
    let identity = desk.enrolment()?.map(|e| DeskIdentity {
        server_url: e.server_url,
        device: e.device,
        conference: e.conference,
        name: e.name,
    });
    Ok(DeskState {
        identity,
        servers: if desk.enrolment()?.is_some() {
            desk.servers()?
        } else {
            Vec::new()
        },
        conference: desk.conference_view()?,
        gate: desk.gate()?,
        sync: app.sync.status()?,
        open_conflicts: desk.open_conflicts()?,
        print: desk.print_settings()?,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

#[tauri::command]
pub async fn enrol(app: State<'_, DeskApp>, server_url: String, code: String) -> Answer<()> {
    sync::enrol(&app.desk, server_url.trim(), code.trim()).await?;
    app.sync.nudge();
    Ok(())
}

#[tauri::command]
pub async fn reenrol(app: State<'_, DeskApp>, server_url: String, code: String) -> Answer<()> {
    sync::reenrol(&app.desk, server_url.trim(), code.trim()).await?;
    app.sync.nudge();
    Ok(())
}

#[tauri::command]
pub async fn sync_now(app: State<'_, DeskApp>) -> Answer<()> {
    app.sync.nudge();
    Ok(())
}

#[tauri::command]
pub async fn search(app: State<'_, DeskApp>, text: String) -> Answer<Vec<RosterEntry>> {
    Ok(app.desk.search(&text)?)
}

#[tauri::command]
pub async fn attendee(app: State<'_, DeskApp>, code: String) -> Answer<Option<RosterEntry>> {
    Ok(app.desk.attendee(&code)?)
}

#[tauri::command]
pub async fn check_in(app: State<'_, DeskApp>, req: CheckInRequest) -> Answer<CheckInOutcome> {
    let outcome = app.desk.check_in(&req)?;
    // Whatever recorded an event: push it soon.
    if matches!(
        outcome,
        CheckInOutcome::Admitted { .. }
            | CheckInOutcome::Reentered { .. }
            | CheckInOutcome::Exited { .. }
            | CheckInOutcome::EnteredRoom { .. }
    ) {
        app.appended();
    }
    Ok(outcome)
}

#[tauri::command]
pub async fn leave_room(app: State<'_, DeskApp>, code: String) -> Answer<CheckInOutcome> {
    let outcome = app.desk.leave_room(&code, None)?;
    app.appended();
    Ok(outcome)
}

#[tauri::command]
pub async fn undo_check_in(app: State<'_, DeskApp>, code: String, reason: String) -> Answer<()> {
    app.desk.undo_check_in(&code, &reason)?;
    app.appended();
    Ok(())
}

#[tauri::command]
pub async fn door_numbers(app: State<'_, DeskApp>) -> Answer<DoorNumbers> {
    Ok(app.desk.door_numbers()?)
}

#[tauri::command]
pub async fn party(app: State<'_, DeskApp>, code: String) -> Answer<Party> {
    Ok(app.desk.party(&code)?)
}

#[tauri::command]
pub async fn check_in_party(
    app: State<'_, DeskApp>,
    req: PartyCheckInRequest,
) -> Answer<Vec<CheckInOutcome>> {
    let outcomes = app.desk.check_in_party(&req)?;
    if outcomes
        .iter()
        .any(|o| matches!(o, CheckInOutcome::Admitted { .. }))
    {
        app.appended();
    }
    Ok(outcomes)
}

#[tauri::command]
pub async fn undo_party(app: State<'_, DeskApp>, codes: Vec<String>, reason: String) -> Answer<()> {
    app.desk.undo_party(&codes, &reason)?;
    app.appended();
    Ok(())
}

#[tauri::command]
pub async fn hand_out(app: State<'_, DeskApp>, req: HandOutRequest) -> Answer<HandOutOutcome> {
    let outcome = app.desk.hand_out(&req)?;
    if matches!(outcome, HandOutOutcome::Given { .. }) {
        app.appended();
    }
    Ok(outcome)
}

#[tauri::command]
pub async fn undo_hand_out(
    app: State<'_, DeskApp>,
    code: String,
    item: String,
    reason: String,
) -> Answer<RosterEntry> {
    let entry = app.desk.undo_hand_out(&code, &item, &reason)?;
    app.appended();
    Ok(entry)
}

#[tauri::command]
pub async fn set_badge_name(app: State<'_, DeskApp>, code: String, name: BadgeName) -> Answer<()> {
    app.desk.set_badge_name(&code, &name)?;
    app.appended();
    Ok(())
}

#[tauri::command]
pub async fn correct_attendee(
    app: State<'_, DeskApp>,
    code: String,
    correction: Correction,
) -> Answer<()> {
    app.desk.correct_attendee(&code, &correction)?;
    app.appended();
    Ok(())
}

#[tauri::command]
pub async fn availability(app: State<'_, DeskApp>) -> Answer<Vec<SeatAvailability>> {
    Ok(app.desk.availability()?)
}

#[tauri::command]
pub async fn sell(
    app: State<'_, DeskApp>,
    req: SaleRequest,
    admit: Option<bool>,
) -> Answer<SaleReceipt> {
    // Through the sync client: behind a venue relay, seats from its venue lease come first.
    let receipt = app.sync.sell(&req, admit.unwrap_or(false)).await?;
    app.appended();
    Ok(receipt)
}

/// The readiness checklist, with the printer asked now.
#[tauri::command]
pub async fn readiness(app: State<'_, DeskApp>) -> Answer<Readiness> {
    onsite_desk_core::readiness::probe_printer(&app.desk, &app.cups).await?;
    Ok(app.sync.readiness()?)
}

#[tauri::command]
pub async fn sales(app: State<'_, DeskApp>) -> Answer<Vec<SaleView>> {
    Ok(app.desk.sales()?)
}

#[tauri::command]
pub async fn leases(app: State<'_, DeskApp>) -> Answer<Vec<LeaseView>> {
    Ok(app.desk.leases()?)
}

#[tauri::command]
pub async fn return_lease(app: State<'_, DeskApp>, lease: LeaseId) -> Answer<()> {
    app.sync.return_lease(lease).await?;
    Ok(())
}

#[tauri::command]
pub async fn ask_lease(
    app: State<'_, DeskApp>,
    seat_type: SeatTypeId,
    quantity: u32,
) -> Answer<()> {
    app.sync.ask_lease(seat_type, quantity).await?;
    Ok(())
}

#[tauri::command]
pub async fn conflicts(app: State<'_, DeskApp>) -> Answer<Vec<ConflictItem>> {
    Ok(app.desk.conflicts()?)
}

#[tauri::command]
pub async fn act_on_conflict(
    app: State<'_, DeskApp>,
    conflict: ConflictId,
    action: ConflictAction,
) -> Answer<()> {
    app.desk.act_on_conflict(conflict, &action)?;
    app.appended();
    Ok(())
}

#[tauri::command]
pub async fn set_gate(app: State<'_, DeskApp>, gate: String) -> Answer<()> {
    Ok(app.desk.set_gate(&gate)?)
}

/// The venue relays of this desk's conference that answer on the network within three
/// seconds (staff then choose whether to use one).
#[tauri::command]
pub async fn find_relays(
    app: State<'_, DeskApp>,
) -> Answer<Vec<onsite_desk_core::discovery::FoundRelay>> {
    let Some(enrolment) = app.desk.enrolment()? else {
        return Ok(Vec::new());
    };
    tauri::async_runtime::spawn_blocking(move || {
        onsite_desk_core::discovery::find_relays(
            enrolment.conference,
            std::time::Duration::from_secs(3),
        )
    })
    .await
    .map_err(|e| Failure {
        code: "desk.discovery_failed".into(),
        message: e.to_string(),
    })?
    .map_err(Failure::from)
}

/// Sets the venue relays this desk tries before its server, in order (none: the server
/// only), and syncs at once; returns every server it now tries, in order.
#[tauri::command]
pub async fn set_relays(app: State<'_, DeskApp>, relays: Vec<String>) -> Answer<Vec<String>> {
    let servers = app.desk.set_relays(&relays)?;
    app.sync.nudge();
    Ok(servers)
}

/// A printer as the settings screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PrinterView {
    pub name: String,
    pub info: String,
    /// Why a job sent now would not print, if it would not.
    pub problem: Option<String>,
    pub media_supported: Vec<String>,
}

#[tauri::command]
pub async fn printers(app: State<'_, DeskApp>) -> Answer<Vec<PrinterView>> {
    let printers = app.cups.printers().await.map_err(|e| Failure {
        code: error_code::PRINTING_SPOOLER.into(),
        message: e.to_string(),
    })?;
    Ok(printers
        .into_iter()
        .map(|p| PrinterView {
            problem: p.problem(),
            name: p.name,
            info: p.info,
            media_supported: p.media_supported,
        })
        .collect())
}

#[tauri::command]
pub async fn set_printer(app: State<'_, DeskApp>, printer: Option<String>) -> Answer<()> {
    Ok(app.desk.set_printer(printer.as_deref())?)
}

#[tauri::command]
pub async fn set_auto_print(app: State<'_, DeskApp>, policy: AutoPrint) -> Answer<()> {
    Ok(app.desk.set_auto_print(policy)?)
}

#[tauri::command]
pub async fn set_badge_template(app: State<'_, DeskApp>, template: String) -> Answer<()> {
    Ok(app.desk.set_badge_template(&template)?)
}

/// A template the desk can print with.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplateView {
    pub id: String,
    pub name: String,
}

#[tauri::command]
pub async fn badge_templates(app: State<'_, DeskApp>) -> Answer<Vec<TemplateView>> {
    Ok(app
        .desk
        .badge_templates()?
        .templates
        .into_iter()
        .map(|t| TemplateView {
            id: t.id,
            name: t.name,
        })
        .collect())
}

#[tauri::command]
pub async fn badge_preview(app: State<'_, DeskApp>, code: String) -> Answer<BadgeSvg> {
    Ok(app.desk.badge_svg(&code)?)
}

#[tauri::command]
pub async fn print_badge(app: State<'_, DeskApp>, req: PrintRequest) -> Answer<PrintJob> {
    let job = app.desk.print_badge(&req)?;
    app.appended();
    Ok(job)
}

#[tauri::command]
pub async fn retry_print(
    app: State<'_, DeskApp>,
    job: PrintJobId,
    printer: Option<String>,
) -> Answer<PrintJob> {
    let job = app.desk.retry_print(job, printer.as_deref())?;
    app.appended();
    Ok(job)
}

#[tauri::command]
pub async fn print_jobs(app: State<'_, DeskApp>) -> Answer<Vec<PrintJob>> {
    Ok(app.desk.print_jobs(50)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Exports every type the window uses (with the types they contain) into `dir`.
    fn export(dir: &Path) -> Result<(), ts_rs::ExportError> {
        let cfg = ts_rs::Config::new()
            .with_large_int("number")
            .with_out_dir(dir);
        Failure::export_all(&cfg)?;
        DeskState::export_all(&cfg)?;
        PrinterView::export_all(&cfg)?;
        TemplateView::export_all(&cfg)?;
        RosterEntry::export_all(&cfg)?;
        CheckInRequest::export_all(&cfg)?;
        CheckInOutcome::export_all(&cfg)?;
        Party::export_all(&cfg)?;
        DoorNumbers::export_all(&cfg)?;
        PartyCheckInRequest::export_all(&cfg)?;
        HandOutRequest::export_all(&cfg)?;
        HandOutOutcome::export_all(&cfg)?;
        Correction::export_all(&cfg)?;
        BadgeName::export_all(&cfg)?;
        SeatAvailability::export_all(&cfg)?;
        SaleRequest::export_all(&cfg)?;
        SaleReceipt::export_all(&cfg)?;
        SaleView::export_all(&cfg)?;
        LeaseView::export_all(&cfg)?;
        onsite_desk_core::discovery::FoundRelay::export_all(&cfg)?;
        Readiness::export_all(&cfg)?;
        ConflictItem::export_all(&cfg)?;
        ConflictAction::export_all(&cfg)?;
        PrintRequest::export_all(&cfg)?;
        BadgeSvg::export_all(&cfg)?;
        PrintJob::export_all(&cfg)?;
        AutoPrint::export_all(&cfg)?;
        Ok(())
    }

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            std::fs::read_to_string(e.path()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The window's TypeScript types are generated from the Rust types and committed; this
    /// fails when they drift. `ONSITE_WRITE_BINDINGS=1` (or `cargo xtask bindings`) rewrites them.
    #[test]
    fn typescript_bindings_match_the_rust_types() {
        let committed: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        let fresh = std::env::temp_dir().join(format!("onsite-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        export(&fresh).expect("export the bindings");
        if std::env::var_os("ONSITE_WRITE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            export(&committed).expect("write the bindings");
        }
        let (want, have) = (files(&fresh), files(&committed));
        let _ = std::fs::remove_dir_all(&fresh);
        let names = |f: &[(String, String)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&want),
            names(&have),
            "ui/src/bindings is stale: run `cargo xtask bindings`"
        );
        for ((name, a), (_, b)) in want.iter().zip(&have) {
            assert_eq!(
                a, b,
                "ui/src/bindings/{name} is stale: run `cargo xtask bindings`"
            );
        }
    }
}
