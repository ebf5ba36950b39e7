//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `cargo xtask test`: installs the system packages the build and the tests need when they
//!   are missing (Debian/Ubuntu, apt-get, through sudo when not root), then runs every check
//!   and every test, prints a summary, and exits non-zero if anything failed.
//! - `cargo xtask bench [ARGS]`: builds the release binaries and runs `onsite-bench` (figures
//!   as ratios against baselines measured in the same run).
//! - `cargo xtask deps`: only the system packages.
//!
//! Deliberately std-only: it must build in seconds on a fresh machine before anything else.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

mod system;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("test") => test(&root),
        Some("demo") => demo(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("deps") => match system::ensure_packages(system::TEST_PACKAGES) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask <test|demo|bench|deps>");
            eprintln!(
                "  demo  install what is missing, build, load the demo conference and run the server"
            );
            eprintln!(
                "  test  install what is missing, then fmt, clippy, the pure-crate check and every test"
            );
            eprintln!(
                "  bench build for release and run the benchmarks (onsite-bench --help for options)"
            );
            eprintln!("  deps  install the system packages only");
            ExitCode::from(2)
        }
    }
}

/// Crates that would let the pure domain do I/O, read a clock or run async code.
const IMPURE: &[&str] = &[
    "rusqlite",
    "tokio",
    "reqwest",
    "axum",
    "hyper",
    "tauri",
    "postgres",
    "sqlx",
    "rand",
    "getrandom",
];

/// `cargo tree -p onsite-shared` must show none of the impure crates.
fn pure_dependencies(cargo: &str, root: &Path) -> Result<(), String> {
    println!("\n==> pure crate deps: cargo tree -p onsite-shared -e normal");
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "onsite-shared",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let found: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| {
            IMPURE
                .iter()
                .any(|bad| name == bad || name.starts_with(&format!("{bad}-")))
        })
        .collect();
    if found.is_empty() {
        println!("onsite-shared depends on none of: {}", IMPURE.join(", "));
        Ok(())
    } else {
        Err(format!(
            "onsite-shared must stay pure, but depends on: {}",
            found.join(", ")
        ))
    }
}

/// Builds the server, loads the demo conference (idempotent: a second run adds nothing but
/// fresh desk codes) and runs the server in the foreground until Ctrl-C.
fn demo(root: &Path) -> ExitCode {
    println!("==> building onsite-server");
    if !packages_and_build(root, &["build", "-p", "onsite-server"]) {
        return ExitCode::FAILURE;
    }
    let target = target_dir(root);
    let server = target.join("debug").join("onsite-server");
    let data = target.join("demo-data");
    let listen = env::var("ONSITE_LISTEN").unwrap_or_else(|_| "127.0.0.1:7300".to_owned());
    println!("==> loading the demo conference into {}", data.display());
    let loaded = Command::new(&server)
        .arg("--data-dir")
        .arg(&data)
        .arg("demo")
        .status();
    if !loaded.is_ok_and(|s| s.success()) {
        eprintln!("xtask: loading the demo failed");
        return ExitCode::FAILURE;
    }
    println!();
    println!("==> the sync server is starting on http://{listen}");
    println!("    health:        curl http://{listen}/v1/health");
    println!("    the conference (head office, with the token above):");
    println!(
        "                   curl -H 'Authorization: Bearer <token>' http://{listen}/v1/conferences/01930000-0000-7000-8000-000000000001"
    );
    println!(
        "    enrol a desk:  curl -d '{{\"code\":\"<enrolment code>\"}}' -H 'content-type: application/json' http://{listen}/v1/devices/enrol"
    );
    println!("    The desk app joins the demo with its own issue. Stop with Ctrl-C.");
    println!();
    let served = Command::new(&server)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", &listen])
        .status();
    if served.is_ok_and(|s| s.success()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Builds every binary for release and runs the benchmarks with `args`.
fn bench(root: &Path, args: &[String]) -> ExitCode {
    println!("==> building the release binaries");
    let build = [
        "build",
        "--release",
        "--locked",
        "-p",
        "onsite-server",
        "-p",
        "onsite-desk-core",
        "-p",
        "onsite-tests",
        "--bins",
    ];
    if !packages_and_build(root, &build) {
        return ExitCode::FAILURE;
    }
    let ran = Command::new(target_dir(root).join("release").join("onsite-bench"))
        .args(args)
        .current_dir(root)
        .status();
    if ran.is_ok_and(|s| s.success()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Installs the system packages when missing, then runs `cargo <build>`; says what failed.
fn packages_and_build(root: &Path, build: &[&str]) -> bool {
    if let Err(e) = system::ensure_packages(system::TEST_PACKAGES) {
        eprintln!("xtask: {e}");
        return false;
    }
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(&cargo).args(build).current_dir(root).status();
    if !built.is_ok_and(|s| s.success()) {
        eprintln!("xtask: the build failed");
        return false;
    }
    true
}

/// `CARGO_TARGET_DIR` when set, `<root>/target` otherwise.
fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

struct Step {
    name: &'static str,
    ok: bool,
    took: Duration,
}

fn test(root: &Path) -> ExitCode {
    let mut steps = Vec::new();
    let mut counts: Option<TestCounts> = None;
    let started = Instant::now();

    let t = Instant::now();
    let deps = system::ensure_packages(system::TEST_PACKAGES);
    if let Err(e) = &deps {
        eprintln!("xtask: {e}");
    }
    steps.push(Step {
        name: "system packages",
        ok: deps.is_ok(),
        took: t.elapsed(),
    });

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let run = |steps: &mut Vec<Step>, name: &'static str, args: &[&str]| {
        println!("\n==> {name}: cargo {}", args.join(" "));
        let t = Instant::now();
        let ok = Command::new(&cargo)
            .args(args)
            .current_dir(root)
            .status()
            .map(|s| s.success())
            .unwrap_or_else(|e| {
                eprintln!("xtask: could not run cargo: {e}");
                false
            });
        steps.push(Step {
            name,
            ok,
            took: t.elapsed(),
        });
        ok
    };

    if deps.is_ok() {
        run(&mut steps, "format", &["fmt", "--all", "--check"]);
        run(
            &mut steps,
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        );
        // On its own, so that features unified across the workspace cannot hide an I/O
        // dependency in the pure crate.
        run(
            &mut steps,
            "pure crate alone",
            &["check", "-p", "onsite-shared", "--locked"],
        );
        let t = Instant::now();
        let pure = pure_dependencies(&cargo, root);
        if let Err(e) = &pure {
            eprintln!("xtask: {e}");
        }
        steps.push(Step {
            name: "pure crate deps",
            ok: pure.is_ok(),
            took: t.elapsed(),
        });
        // The integration tests drive the real binaries, so build them first.
        if run(
            &mut steps,
            "build",
            &["build", "--workspace", "--bins", "--locked"],
        ) {
            let t = Instant::now();
            let result = cargo_test(&cargo, root);
            steps.push(Step {
                name: "tests",
                ok: result.as_ref().is_ok_and(|c| c.failed == 0),
                took: t.elapsed(),
            });
            if let Err(e) = &result {
                eprintln!("xtask: could not run cargo test: {e}");
            }
            counts = result.ok();
        }
    }

    println!("\n==> summary ({:.0?} in all)", started.elapsed());
    for s in &steps {
        println!(
            "  {} {:<20} {:>8.1?}",
            if s.ok { "ok  " } else { "FAIL" },
            s.name,
            s.took
        );
    }
    let failed = steps.iter().filter(|s| !s.ok).count();
    if failed == 0 {
        println!("all {} steps passed", steps.len());
    } else {
        println!("{failed} of {} steps failed", steps.len());
    }
    // The last line: the test totals over every crate, in the plain form CI reads.
    let c = counts.unwrap_or_default();
    println!("{} passed, {} failed", c.passed, c.failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct TestCounts {
    passed: u64,
    failed: u64,
}

/// Runs `cargo test`, passing its output through, and adds up its `test result:` lines.
fn cargo_test(cargo: &str, root: &Path) -> std::io::Result<TestCounts> {
    use std::io::{BufRead, BufReader};
    println!("\n==> tests: cargo test --workspace --locked");
    let mut child = Command::new(cargo)
        .args(["test", "--workspace", "--locked"])
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut counts = TestCounts::default();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                counts.passed += number_before(rest, " passed");
                counts.failed += number_before(rest, " failed");
            }
        }
    }
    let status = child.wait()?;
    if !status.success() && counts.failed == 0 {
        // A build error or a crash: count it as a failure so the totals never say "all good".
        counts.failed += 1;
    }
    Ok(counts)
}

/// `"ok. 25 passed; 0 failed; …"`, `" passed"` → 25.
fn number_before(text: &str, label: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
