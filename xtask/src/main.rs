//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `cargo xtask test`: installs the system packages the build and the tests need when they
//!   are missing (Debian/Ubuntu, apt-get, through sudo when not root), then runs every check
//!   and every test, prints a summary, and exits non-zero if anything failed.
//! - `cargo xtask bench [ARGS]`: builds the release binaries and runs `onsite-bench` (figures
//!   as ratios against baselines measured in the same run).
//! - `cargo xtask simulate [ARGS]`: builds and runs `onsite-sim`, the deterministic simulation
//!   (`--seeds N`, `--from S`, `--seed S` to replay one, `--steps K`, `--desks D`).
//! - `cargo xtask demo`: the demo conference on a local server, and the desk app enrolled
//!   against it.
//! - `cargo xtask bindings`: regenerates the UI's TypeScript types from the Rust types.
//! - `cargo xtask bundle [--debug]`: the desk app as a `.deb` (Tauri's bundler), under
//!   `target/<profile>/bundle/deb/`.
//! - `cargo xtask deps`: only the system packages.
//!
//! Deliberately std-only: it must build in seconds on a fresh machine before anything else.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

mod fuzz;
mod system;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("test") => test(&root),
        Some("demo") => demo(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("simulate") => simulate(&root, &args[1..]),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("rehearse") => rehearse(&root, &args[1..]),
        Some("bindings") => bindings(&root),
        Some("bundle") => {
            let debug = args.iter().any(|a| a == "--debug");
            let built = system::ensure_packages(system::TEST_PACKAGES)
                .and_then(|()| ui(&root, false))
                .and_then(|()| bundle(&root, debug));
            match built {
                Ok(deb) => {
                    println!("==> {}", deb.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("deps") => match system::ensure_packages(system::TEST_PACKAGES) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask <test|demo|bench|simulate|fuzz|rehearse|bindings|deps>");
            eprintln!(
                "  demo  install what is missing, build, load the demo conference and run the server"
            );
            eprintln!(
                "  test  install what is missing, then fmt, clippy, the pure-crate check and every test"
            );
            eprintln!(
                "  bench build for release and run the benchmarks (onsite-bench --help for options)"
            );
            eprintln!(
                "  simulate  seeded mornings of desks and a server under faults (--seeds N, --seed S)"
            );
            eprintln!(
                "  rehearse  doors open against a real server: 20 desks, 50,000 check-ins, a report"
            );
            eprintln!("  fuzz  every fuzz target under libFuzzer (--seconds N in all, nightly)");
            eprintln!("  bindings  regenerate ui/src/bindings from the Rust types");
            eprintln!("  bundle  the desk app as a .deb (--debug: the debug build, quicker)");
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

/// Builds the server and the desk app, loads the demo conference (idempotent: a second run
/// adds nothing but fresh desk codes), runs the server, enrols the desk app's database with one
/// of the codes and opens the desk window (when there is a display). Runs until Ctrl-C.
fn demo(root: &Path) -> ExitCode {
    println!("==> building the window, onsite-server and the desk app");
    let build = [
        "build",
        "--locked",
        "-p",
        "onsite-server",
        "-p",
        "onsite-desk",
        "-p",
        "onsite-desk-core",
        "--bins",
    ];
    if !packages_and_build(root, &build) {
        return ExitCode::FAILURE;
    }
    let bin = target_dir(root).join("debug");
    let data = target_dir(root).join("demo-data");
    let listen = env::var("ONSITE_LISTEN").unwrap_or_else(|_| "127.0.0.1:7300".to_owned());
    let url = format!("http://{listen}");
    println!("==> loading the demo conference into {}", data.display());
    let loaded = Command::new(bin.join("onsite-server"))
        .arg("--data-dir")
        .arg(&data)
        .arg("demo")
        .output();
    let Some(out) = loaded.ok().filter(|o| o.status.success()) else {
        eprintln!("xtask: loading the demo failed");
        return ExitCode::FAILURE;
    };
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{printed}");
    // `desk "North door" enrolment code: XXXX-XXXX-XXXX`: the first code goes to the app.
    let code = printed.lines().find_map(|l| {
        l.split_once("enrolment code: ")
            .map(|(_, c)| c.trim().to_owned())
    });

    let mut server = match Command::new(bin.join("onsite-server"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", &listen])
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("xtask: could not start the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listen.parse::<std::net::SocketAddr>().ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while addr.is_some_and(|a| std::net::TcpStream::connect(a).is_err())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }

    let desk_db = data.join("desk-north.sqlite3");
    let enrolled = desk_db.exists()
        || code.as_deref().is_some_and(|code| {
            Command::new(bin.join("onsite-desk-cli"))
                .arg("--db")
                .arg(&desk_db)
                .args(["enrol", "--server", &url, code])
                .status()
                .is_ok_and(|s| s.success())
        });
    println!();
    println!("==> the sync server runs on {url}");
    println!("    dashboard:     {url}/ (head office; sign in with the email and password above)");
    println!("    health:        curl {url}/v1/health");
    println!(
        "    head office:   curl -H 'Authorization: Bearer <token above>' {url}/v1/conferences/01930000-0000-7000-8000-000000000001"
    );
    if !enrolled {
        eprintln!("xtask: could not enrol the desk app's database");
    } else if let Some(printer) = demo_printer() {
        let chosen = Command::new(bin.join("onsite-desk-cli"))
            .arg("--db")
            .arg(&desk_db)
            .args(["print-settings", "--printer", printer])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if chosen {
            println!("==> badges print on {printer}, a virtual PDF printer (cups-pdf):");
            println!(
                "    the PDFs land in ~/PDF of the user the spooler prints for \
                 (/var/spool/cups-pdf/ANONYMOUS for nobody's)"
            );
        }
    }
    let mut desk = None;
    if env::var_os("DISPLAY").is_some() || env::var_os("WAYLAND_DISPLAY").is_some() {
        println!(
            "==> opening the desk app (North door, database {})",
            desk_db.display()
        );
        println!("    F1 door · F2 walk-in sale · F3 conflict inbox · F4 settings");
        println!(
            "    Try: type a name from the roster and press Enter; scan (type) a ticket code + Enter."
        );
        desk = Command::new(bin.join("onsite-desk"))
            .arg("--db")
            .arg(&desk_db)
            .spawn()
            .ok();
    } else {
        println!("==> no display: open the desk app on a desktop with");
        println!(
            "    {} --db {}",
            bin.join("onsite-desk").display(),
            desk_db.display()
        );
        println!("    or drive the same desk from a shell:");
        println!(
            "    {} --db {} search ada",
            bin.join("onsite-desk-cli").display(),
            desk_db.display()
        );
    }
    println!("    Stop with Ctrl-C.");
    println!();
    let served = server.wait();
    if let Some(mut d) = desk {
        let _ = d.kill();
    }
    if served.is_ok_and(|s| s.success()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The demo's badge printer: a cups-pdf queue (`Onsite_Demo_Badges`), added when CUPS and
/// cups-pdf are installed (the test packages bring both) and the spooler runs or can be
/// started, so that a newcomer sees a badge come out. `None` when there is none to add.
fn demo_printer() -> Option<&'static str> {
    const NAME: &str = "Onsite_Demo_Badges";
    let ppd = Path::new("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd");
    let cupsd = Path::new("/usr/sbin/cupsd");
    if !ppd.is_file() || !cupsd.is_file() {
        println!(
            "==> no badge printer: install cups and printer-driver-cups-pdf for a virtual one"
        );
        return None;
    }
    let running = || {
        Command::new("lpstat")
            .arg("-r")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("is running"))
    };
    if !running() {
        // cupsd daemonizes itself; a user who may not start it gets no printer, and is told.
        let _ = Command::new(cupsd).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let added = running()
        && Command::new("lpadmin")
            .args([
                "-p",
                NAME,
                "-E",
                "-v",
                "cups-pdf:/",
                "-m",
                "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd",
            ])
            // CUPS warns that printer drivers are deprecated; cups-pdf has no driverless form.
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !added {
        eprintln!("xtask: could not add the demo's badge printer (is the spooler running?)");
        return None;
    }
    Some(NAME)
}

/// Builds every binary for release and runs the benchmarks with `args`.
fn bench(root: &Path, args: &[String]) -> ExitCode {
    println!("==> building the release binaries");
    release_run(
        root,
        &[
            "-p",
            "onsite-server",
            "-p",
            "onsite-desk-core",
            "-p",
            "onsite-tests",
            "--bins",
        ],
        "onsite-bench",
        args,
    )
}

/// Builds the simulator in release and runs it with `args`.
fn simulate(root: &Path, args: &[String]) -> ExitCode {
    println!("==> building the simulator");
    release_run(
        root,
        &["-p", "onsite-tests", "--bin", "onsite-sim"],
        "onsite-sim",
        args,
    )
}

/// Builds the server and the rehearsal in release and runs the rehearsal with `args`.
fn rehearse(root: &Path, args: &[String]) -> ExitCode {
    println!("==> building the server and the rehearsal");
    release_run(
        root,
        &[
            "-p",
            "onsite-server",
            "-p",
            "onsite-tests",
            "--bin",
            "onsite-server",
            "--bin",
            "onsite-rehearse",
        ],
        "onsite-rehearse",
        args,
    )
}

/// Builds `what` in release (system packages first), then runs the binary `bin` with `args`.
fn release_run(root: &Path, what: &[&str], bin: &str, args: &[String]) -> ExitCode {
    let mut build = vec!["build", "--release", "--locked"];
    build.extend_from_slice(what);
    if !packages_and_build(root, &build) {
        return ExitCode::FAILURE;
    }
    let ran = Command::new(target_dir(root).join("release").join(bin))
        .args(args)
        .current_dir(root)
        .status();
    if ran.is_ok_and(|s| s.success()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Builds the desk's window (`ui/` → `ui/dist`, which the Tauri build embeds): `npm ci` from
/// the committed lockfile when `node_modules` is missing or older than it, the unit tests
/// (Vitest) when `with_tests`, then the type check and the Vite build.
fn ui(root: &Path, with_tests: bool) -> Result<(), String> {
    system::ensure_node()?;
    let dir = root.join("ui");
    let npm = |args: &[&str]| -> Result<(), String> {
        println!("==> ui: npm {}", args.join(" "));
        let ok = Command::new("npm")
            .args(args)
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Ok(())
        } else {
            Err(format!("npm {} failed in ui/", args.join(" ")))
        }
    };
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < modified(&dir.join("package-lock.json")) {
        // npm 11 leaves the foreign-platform builds of rollup's native addon out of the lock it
        // writes, and then its own `npm ci` calls that lock out of sync. `npm install` with the
        // committed lock installs the same locked versions.
        if let Err(e) = npm(&["ci", "--no-audit", "--no-fund"]) {
            eprintln!("xtask: {e}; installing from the lockfile with npm install instead");
            npm(&["install", "--no-audit", "--no-fund"])?;
        }
    }
    if with_tests {
        npm(&["test"])?;
    }
    npm(&["run", "build"])
}

/// The desk app as a `.deb`, through Tauri's bundler (the CLI from the UI's npm dev
/// dependencies). The CLI wants its config beside the app crate's manifest, and the project's
/// is at the root (the layout the brief asks for): for the run, `src-tauri/tauri.conf.json`
/// links to it, and the bundle is turned on with absolute paths, which the build's
/// `generate_context!` reads the same way. Returns the package's path.
fn bundle(root: &Path, debug: bool) -> Result<PathBuf, String> {
    let link = root.join("src-tauri/tauri.conf.json");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("../tauri.conf.json", &link)
        .map_err(|e| format!("linking {}: {e}", link.display()))?;
    let overrides = format!(
        r#"{{"build": {{"frontendDist": "{ui}"}}, "bundle": {{"active": true, "targets": ["deb"], "icon": ["{icon}"]}}}}"#,
        ui = root.join("ui/dist").display(),
        icon = root.join("src-tauri/icons/icon.png").display(),
    );
    let mut args = vec!["build", "--bundles", "deb", "--ci", "--config", &overrides];
    if debug {
        args.push("--debug");
    }
    println!("==> desk app: tauri {}", args.join(" "));
    let built = Command::new(root.join("ui/node_modules/.bin/tauri"))
        .args(&args)
        .current_dir(root.join("src-tauri"))
        .status();
    let _ = std::fs::remove_file(&link);
    if !built.is_ok_and(|s| s.success()) {
        return Err("bundling the desk app failed".into());
    }
    let dir = target_dir(root)
        .join(if debug { "debug" } else { "release" })
        .join("bundle/deb");
    std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("no .deb in {}", dir.display()))
}

/// Rewrites `ui/src/bindings` from the Rust types (the test that checks them, in write mode).
fn bindings(root: &Path) -> ExitCode {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let ok = Command::new(&cargo)
        .args(["test", "-p", "onsite-desk", "--lib", "typescript_bindings"])
        .env("ONSITE_WRITE_BINDINGS", "1")
        .current_dir(root)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
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
    if let Err(e) = ui(root, false) {
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

    let tool = |steps: &mut Vec<Step>, name: &'static str, f: &dyn Fn() -> Result<(), String>| {
        let t = Instant::now();
        let r = f();
        if let Err(e) = &r {
            eprintln!("xtask: {e}");
        }
        steps.push(Step {
            name,
            ok: r.is_ok(),
            took: t.elapsed(),
        });
        r.is_ok()
    };
    let ui_ok = deps.is_ok() && tool(&mut steps, "ui (vitest, build)", &|| ui(root, true));
    let driver_ok = deps.is_ok()
        && tool(&mut steps, "tauri-driver", &|| {
            system::ensure_tauri_driver(&cargo)
        });

    if deps.is_ok() && ui_ok && driver_ok {
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
            // The desk app as a technician installs it: the install test reads the package.
            tool(&mut steps, "desk app .deb", &|| {
                bundle(root, true).map(drop)
            });
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
