//! The Onsite desk app: the Tauri shell around the desk core (`onsite-desk-core`).
//!
//! # Layout
//! - `run` opens the desk's database, starts the two background tasks (sync with the server,
//!   the print pipeline) and opens the window that loads `ui/dist`.
//! - `ipc` holds the commands the window calls; each is a thin call into the desk core.
//!
//! The database is `--db PATH`, else `ONSITE_DESK_DB`, else `desk.sqlite3` in the app's data
//! directory. The print spooler is `CUPS_SERVER`, else the local CUPS.

pub mod ipc;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use onsite_desk_core::Desk;
use onsite_desk_core::printing::{Cups, run_printing};
use onsite_desk_core::sync::SyncClient;
use tauri::Manager;

fn database_path(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--db" {
            return args
                .next()
                .map(PathBuf::from)
                .ok_or_else(|| "--db needs a path".into());
        }
        if let Some(path) = arg.strip_prefix("--db=") {
            return Ok(PathBuf::from(path));
        }
    }
    if let Some(path) = std::env::var_os("ONSITE_DESK_DB").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("desk.sqlite3"))
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let path = database_path(app)?;
    let desk = Arc::new(Desk::open(&path)?);
    let sync = Arc::new(SyncClient::new(Arc::clone(&desk))?);
    let print_wake = Arc::new(tokio::sync::Notify::new());
    let cups = Cups::default();
    {
        let sync = Arc::clone(&sync);
        tauri::async_runtime::spawn(async move { sync.run(std::future::pending()).await });
    }
    tauri::async_runtime::spawn(run_printing(
        Arc::clone(&desk),
        cups.clone(),
        Arc::clone(&print_wake),
        Duration::from_millis(300),
        std::future::pending(),
    ));
    tracing::info!(db = %path.display(), "desk open");
    app.manage(ipc::DeskApp {
        desk,
        sync,
        print_wake,
        cups,
    });
    Ok(())
}

/// Starts the desk app and blocks until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .setup(setup)
        .invoke_handler(tauri::generate_handler![
            ipc::desk_state,
            ipc::enrol,
            ipc::sync_now,
            ipc::search,
            ipc::attendee,
            ipc::check_in,
            ipc::undo_check_in,
            ipc::correct_attendee,
            ipc::availability,
            ipc::sell,
            ipc::sales,
            ipc::conflicts,
            ipc::act_on_conflict,
            ipc::set_gate,
            ipc::printers,
            ipc::set_printer,
            ipc::set_auto_print,
            ipc::set_badge_template,
            ipc::badge_templates,
            ipc::badge_preview,
            ipc::print_badge,
            ipc::retry_print,
            ipc::print_jobs,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the desk app failed to start");
}
