//! The Tauri configuration lives at the repository root (`tauri.conf.json`), as the product
//! layout asks. tauri-build reads `tauri.conf.json` (and the permission files it generates
//! schemas for) from the current directory, so the build script runs it from the root.

use std::path::Path;

/// The commands, from the one list in `src/commands.rs`.
macro_rules! desk_commands {
    ($($name:ident),* $(,)?) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}
include!("src/commands.rs");

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("tauri.conf.json").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("ui/dist").display());
    println!("cargo:rerun-if-changed=src/commands.rs");
    std::env::set_current_dir(&root).expect("the repository root exists");
    // The app's own commands get permissions (`allow-<command>`), so that the capability in
    // tauri.conf.json can name exactly the ones the window may call.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
