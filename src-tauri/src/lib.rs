//! The Onsite desk app: the Tauri shell around the desk core.
//!
//! # Layout
//! - `run` builds the Tauri application from the root `tauri.conf.json` and opens the window
//!   that loads the static `ui/` page.

/// Starts the desk app and blocks until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the desk app failed to start");
}
