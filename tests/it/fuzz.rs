//! The fuzz targets on stable: every seed of every target, and every input a fuzzer once
//! failed on (kept under `fuzz/regressions/<target>/`, named after what it found), go through
//! the target again. A target fails by panicking, so a fixed finding that comes back fails
//! here.

use std::path::Path;

use onsite_fuzz::{TARGETS, seeds, targets};

#[test]
fn every_fuzz_target_passes_its_seeds_and_every_input_that_once_failed() {
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        for (seed, bytes) in seeds::of(name) {
            eprintln!("{name}: seed {seed}");
            target(&bytes);
        }
        let Ok(kept) = std::fs::read_dir(regressions.join(name)) else {
            continue;
        };
        for entry in kept {
            let path = entry.expect("a directory entry").path();
            eprintln!("{name}: {}", path.display());
            target(&std::fs::read(&path).expect("a kept input reads"));
            replayed += 1;
        }
    }
    eprintln!("{replayed} kept input(s) replayed");
}

/// The push corpus starts from pushes the server takes: each desk event of the golden
/// fixtures, and a sale followed by the admission of its ticket. (A corpus of refused
/// requests would leave the fuzzer outside the decision code.)
#[test]
fn the_push_seeds_are_pushes_the_server_decides() {
    let seeds = seeds::of("push");
    assert!(seeds.len() >= 5, "{} push seeds", seeds.len());
    for (name, bytes) in seeds {
        let answer = targets::push_answer(&bytes)
            .unwrap_or_else(|| panic!("seed {name} is not a push request"))
            .unwrap_or_else(|status| panic!("seed {name} was refused with {status}"));
        assert_eq!(
            answer.outcomes.len(),
            answer.last_client_seq as usize,
            "{name}"
        );
        for o in &answer.outcomes {
            assert_ne!(
                o.status,
                onsite_shared::protocol::OutcomeStatus::Rejected,
                "seed {name}: {o:?}"
            );
        }
    }
}

/// `cargo xtask fuzz` runs what `fuzz/fuzz_targets/` holds and `cargo fuzz` builds what
/// `fuzz/Cargo.toml` names; the regression test replays `TARGETS`. All three name the same.
#[test]
fn every_fuzz_target_is_built_run_and_replayed() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let name = e
                .expect("an entry")
                .file_name()
                .into_string()
                .expect("UTF-8");
            name.strip_suffix(".rs").expect("a .rs file").to_owned()
        })
        .collect();
    files.sort();
    let mut replayed: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    replayed.sort();
    assert_eq!(files, replayed);
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &files {
        assert!(
            manifest.contains(&format!("path = \"fuzz_targets/{name}.rs\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
    }
}
