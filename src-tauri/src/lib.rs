//! The Onsite desk app: the Tauri shell around the desk core (`onsite-desk-core`).
//!
//! # Layout
//! - `run` opens the desk's database, starts the two background tasks (sync with the server,
//!   the print pipeline) and opens the window that loads `ui/dist`.
//! - `ipc` holds the commands the window calls; each is a thin call into the desk core. They
//!   are listed once, in `commands.rs`, which the build script and [`COMMANDS`] both read.
//!
//! The database is `--db PATH`, else `ONSITE_DESK_DB`, else `desk.sqlite3` in the app's data
//! directory (the platform's: `~/.local/share/<identifier>` on Linux). The log goes to stderr
//! and to `logs/` beside the database, a new file each day, the last 7 kept: the window shows
//! it and saves a copy for support. The print spooler is `CUPS_SERVER`, else the local CUPS.

pub mod ipc;

/// The commands, from the one list in `src/commands.rs`: their names, and their handlers.
macro_rules! desk_commands {
    ($($name:ident),* $(,)?) => {
        /// Every command the window may call.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        fn invoke_handler<R: tauri::Runtime>()
        -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(ipc::$name),*]
        }
    };
}
include!("commands.rs");

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

/// Days of log files kept.
const LOG_DAYS: usize = 7;

/// The log to stderr and to a daily file in `dir`; the guard flushes the file when dropped.
fn start_logging(dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter =
        || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("desk")
        .filename_suffix("log")
        .max_log_files(LOG_DAYS)
        .build(dir);
    match file {
        Ok(file) => {
            let (writer, guard) = tracing_appender::non_blocking(file);
            let to_file = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .with(to_file)
                .try_init();
            Some(guard)
        }
        Err(e) => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .try_init();
            tracing::warn!(error = %e, dir = %dir.display(), "no log file");
            None
        }
    }
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let path = database_path(app)?;
    let log_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .join("logs");
    let log_guard = start_logging(&log_dir);
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
    {
        // The readiness checklist's printer item: what the spooler says, asked every minute.
        let (desk, cups) = (Arc::clone(&desk), cups.clone());
        tauri::async_runtime::spawn(async move {
            loop {
                if let Err(e) = onsite_desk_core::readiness::probe_printer(&desk, &cups).await {
                    tracing::warn!(error = %e, "asking the spooler about the printer");
                }
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        });
    }
    tracing::info!(db = %path.display(), "desk open");
    app.manage(ipc::DeskApp {
        desk,
        sync,
        print_wake,
        cups,
        log_dir,
        _log_guard: log_guard,
    });
    Ok(())
}

/// Starts the desk app and blocks until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .setup(setup)
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the desk app failed to start");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::COMMANDS;

    fn read(path: &str) -> String {
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
    }

    /// The names in `text` that follow each `start` and end at the next `end`.
    fn names_after(text: &str, start: &str, end: char) -> BTreeSet<String> {
        text.split(start)
            .skip(1)
            .filter_map(|rest| rest.split_once(end).map(|(name, _)| name.trim().to_owned()))
            .collect()
    }

    /// `commands.rs` is the one list; the handlers, the capability and the window's calls
    /// must name exactly the same commands (the build script and `generate_handler!` read the
    /// list itself).
    #[test]
    fn the_handlers_the_capability_and_the_window_name_the_listed_commands() {
        let listed: BTreeSet<String> = COMMANDS.iter().map(|c| (*c).to_owned()).collect();

        // A handler generic over the runtime is named without its parameters.
        let handlers: BTreeSet<String> =
            names_after(&read("src/ipc.rs"), "#[tauri::command]\npub async fn ", '(')
                .into_iter()
                .map(|n| n.split('<').next().unwrap_or_default().to_owned())
                .collect();
        assert_eq!(handlers, listed, "src/ipc.rs against src/commands.rs");

        let config: serde_json::Value =
            serde_json::from_str(&read("../tauri.conf.json")).expect("tauri.conf.json parses");
        let capability: BTreeSet<String> =
            config["app"]["security"]["capabilities"][0]["permissions"]
                .as_array()
                .expect("the main window's capability lists permissions")
                .iter()
                .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
                .map(|p| p.replace('-', "_"))
                .collect();
        assert_eq!(
            capability, listed,
            "tauri.conf.json against src/commands.rs"
        );

        let window = names_after(&read("../ui/src/ipc.ts"), ">(\"", '"');
        assert_eq!(window, listed, "ui/src/ipc.ts against src/commands.rs");
    }
}
