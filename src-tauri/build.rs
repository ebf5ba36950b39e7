//! The Tauri configuration lives at the repository root (`tauri.conf.json`), as the product
//! layout asks. tauri-build reads `tauri.conf.json` (and the permission files it generates
//! schemas for) from the current directory, so the build script runs it from the root.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("tauri.conf.json").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("ui").display());
    std::env::set_current_dir(&root).expect("the repository root exists");
    tauri_build::build();
}
