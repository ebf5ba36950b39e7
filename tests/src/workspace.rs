//! Paths of the workspace and of the binaries `cargo build --workspace --bins` made.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The target directory: `CARGO_TARGET_DIR` when set, `<root>/target` otherwise.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A workspace binary of the profile this code was built with (debug for the tests, release
/// for the benchmarks). The tests do not build it themselves (that would race with the running
/// cargo); `cargo xtask test` builds every binary before the tests, `cargo xtask bench` too.
pub fn binary(name: &str) -> Result<PathBuf> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let path = target_dir().join(profile).join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build the workspace's binaries first (`cargo xtask test` and `cargo xtask bench` do)",
            path.display()
        );
    }
    Ok(path)
}

/// Where tests leave screenshots and other artefacts for a person to look at (not committed).
pub fn artefacts(kind: &str) -> Result<PathBuf> {
    let dir = target_dir().join("test-artefacts").join(kind);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
