// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Logging starts once the data directory is known (`onsite_desk::run`'s setup).
    onsite_desk::run();
}
