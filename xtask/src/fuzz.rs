//! `cargo xtask fuzz [--seconds N] [TARGET...]`: every fuzz target of `fuzz/` under libFuzzer
//! (cargo-fuzz on the nightly toolchain), from a corpus seeded from the golden fixtures, for N
//! seconds in all (split evenly between the targets), then a table of executions and coverage
//! per target. A target that fails leaves its input in `fuzz/artifacts/<target>/`; once fixed,
//! the input goes to `fuzz/regressions/<target>/`, which the test suite replays on stable.

use std::env;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The targets: one file each in `fuzz/fuzz_targets/`, in name order.
fn targets(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .map(|dir| {
            dir.filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".rs").map(str::to_owned)
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// What libFuzzer said of one run.
#[derive(Debug, Default)]
struct Figures {
    target: String,
    ok: bool,
    execs: u64,
    cov: u64,
    features: u64,
    corpus: u64,
    seconds: f64,
    rss_mb: u64,
}

pub(crate) fn run(root: &Path, args: &[String]) -> ExitCode {
    let mut seconds: u64 = 160;
    let all = targets(root);
    let mut chosen: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => seconds = n,
                None => return usage("--seconds takes a number"),
            },
            name if all.iter().any(|t| t == name) => chosen.push(name.to_owned()),
            name => return usage(&format!("no fuzz target {name}; there are {all:?}")),
        }
    }
    if chosen.is_empty() {
        chosen = all;
    }
    if let Err(e) = ensure_cargo_fuzz() {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    let target_dir = crate::target_dir(root).join("fuzz");
    let corpus = target_dir.join("corpus");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("==> seeding the corpora in {}", corpus.display());
    let seeded = Command::new(&cargo)
        .args(["run", "--locked", "-q", "-p", "onsite-fuzz", "--bin"])
        .arg("onsite-fuzz-seeds")
        .arg("--")
        .arg(&corpus)
        .current_dir(root)
        .status();
    if !seeded.is_ok_and(|s| s.success()) {
        eprintln!("xtask: could not write the seed corpora");
        return ExitCode::FAILURE;
    }
    // Rust code is memory-safe, so no sanitizer (several times the executions per second);
    // debug assertions on, so that an overflow is a finding.
    let fuzz = |verb: &str| {
        let mut c = Command::new("rustup");
        c.args(["run", "nightly", "cargo", "fuzz", verb])
            .args([
                "--fuzz-dir",
                "fuzz",
                "--features",
                "libfuzzer",
                "-s",
                "none",
            ])
            .arg("--debug-assertions")
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(root);
        c
    };
    println!("==> building the fuzz targets (nightly, coverage-instrumented)");
    // One by one: `cargo fuzz build` alone would also build the crate's other binary, which
    // has no libFuzzer to link with.
    for target in &chosen {
        if !fuzz("build")
            .arg(target)
            .status()
            .is_ok_and(|s| s.success())
        {
            eprintln!("xtask: the fuzz target {target} did not build");
            return ExitCode::FAILURE;
        }
    }
    let each = (seconds / chosen.len() as u64).max(1);
    let mut table = Vec::new();
    for target in chosen {
        println!("==> fuzzing {target} for {each} s");
        let started = Instant::now();
        let out = fuzz("run")
            .arg(&target)
            .arg(corpus.join(&target))
            .args([
                "--",
                &format!("-max_total_time={each}"),
                "-print_final_stats=1",
            ])
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .output();
        let (ok, log) = match out {
            Ok(o) => (
                o.status.success(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ),
            Err(e) => (false, e.to_string()),
        };
        let mut figures = figures(&target, &log);
        figures.ok = ok;
        figures.seconds = started.elapsed().as_secs_f64();
        if !ok {
            // The tail says what failed and where libFuzzer left the input.
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
        table.push(figures);
    }
    println!("\n==> fuzzing: {seconds} s in all");
    println!(
        "  {:<15} {:>6} {:>12} {:>9} {:>7} {:>8} {:>7} {:>7}",
        "target", "result", "executions", "exec/s", "cov", "features", "corpus", "rss MB"
    );
    for f in &table {
        println!(
            "  {:<15} {:>6} {:>12} {:>9.0} {:>7} {:>8} {:>7} {:>7}",
            f.target,
            if f.ok { "ok" } else { "FAIL" },
            f.execs,
            f.execs as f64 / f.seconds.max(0.001),
            f.cov,
            f.features,
            f.corpus,
            f.rss_mb
        );
    }
    if table.iter().all(|f| f.ok) {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "xtask: a target failed; its input is under fuzz/artifacts/<target>/. Fix it, then \
             keep the input in fuzz/regressions/<target>/ (the tests replay it)"
        );
        ExitCode::FAILURE
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("xtask: {problem}");
    eprintln!("usage: cargo xtask fuzz [--seconds N] [TARGET...]");
    ExitCode::from(2)
}

/// cargo-fuzz, installed from crates.io when missing; the nightly toolchain must be there.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !nightly {
        return Err("fuzzing needs the nightly toolchain: rustup toolchain install nightly".into());
    }
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    println!("==> installing cargo-fuzz");
    let installed = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        Ok(())
    } else {
        Err("could not install cargo-fuzz".into())
    }
}

/// The figures from libFuzzer's output: its last status line (`#N … cov: C ft: F corp: K/…`)
/// and its final stats.
fn figures(target: &str, log: &str) -> Figures {
    let mut f = Figures {
        target: target.to_owned(),
        ..Figures::default()
    };
    let after = |line: &str, key: &str| -> Option<u64> {
        let rest = line.split(key).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    for line in log.lines() {
        if line.starts_with('#') && line.contains(" cov: ") {
            f.cov = after(line, " cov: ").unwrap_or(f.cov);
            f.features = after(line, " ft: ").unwrap_or(f.features);
            f.corpus = after(line, " corp: ").unwrap_or(f.corpus);
        }
        if let Some(n) = after(line, "stat::number_of_executed_units:") {
            f.execs = n;
        }
        if let Some(n) = after(line, "stat::peak_rss_mb:") {
            f.rss_mb = n;
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::figures;

    #[test]
    fn libfuzzer_output_gives_the_figures() {
        let log = "#2\tINITED cov: 10 ft: 12 corp: 3/90b exec/s: 0 rss: 40Mb\n\
                   #4096\tpulse  cov: 1234 ft: 5678 corp: 321/12Kb lim: 40 exec/s: 2048 rss: 80Mb\n\
                   Done 9000 runs in 4 second(s)\n\
                   stat::number_of_executed_units: 9001\n\
                   stat::peak_rss_mb:              81\n";
        let f = figures("event", log);
        assert_eq!(
            (f.execs, f.cov, f.features, f.corpus, f.rss_mb),
            (9001, 1234, 5678, 321, 81)
        );
    }
}
