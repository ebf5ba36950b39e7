//! Onsite's fuzz targets: every input that crosses a boundary into the desk or the server.
//!
//! Each target is a plain function of bytes, so the same code runs three ways:
//! - under libFuzzer (`cargo xtask fuzz`, nightly, the `libfuzzer` feature builds the
//!   `fuzz_targets/*.rs` binaries, each one line calling its function here);
//! - as regression tests on stable (`tests/it/fuzz.rs` replays every seed and every input that
//!   once failed, kept under `fuzz/regressions/<target>/`);
//! - from [`seeds`], which makes the starting corpus out of the golden event fixtures, the
//!   shipped badge templates and a small conference.
//!
//! A target fails by panicking: on a property it checks (two decoders disagree, a retried push
//! answers differently, an import the checker passed is refused halfway, a server answer of
//! 500), or on a panic in the code under test.

pub mod seeds;
pub mod targets;
mod world;

/// A target: it returns when the input is fine (or not for it), and panics on a finding.
pub type Target = fn(&[u8]);

/// The targets by name, as `cargo fuzz` and the regression tests know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("event", targets::event),
    ("pulled_page", targets::pulled_page),
    ("push", targets::push),
    ("cursor", targets::cursor),
    ("import_csv", targets::import_csv),
    ("import_json", targets::import_json),
    ("badge_template", targets::badge_template),
    ("ticket_code", targets::ticket_code),
];
