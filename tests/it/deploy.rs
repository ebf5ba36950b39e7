//! The server as people deploy it (issue 29 §2): settings from a file under the environment
//! and the flags, `config check`, the health check a container runs, the systemd unit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use onsite_tests::server::{TempDir, server_command};
use onsite_tests::workspace;

fn server(args: &[&str], envs: &[(&str, &str)]) -> Result<std::process::Output> {
    let mut cmd = Command::new(workspace::binary("onsite-server")?);
    cmd.args(args)
        .env_remove("ONSITE_CONFIG")
        .env("RUST_BACKTRACE", "0");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Ok(cmd.output()?)
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A settings file gives what no flag or environment variable says; the environment wins
/// over it, a flag over both. `config check` reports the settings `serve` would run with
/// (secrets never shown) and fails on what is wrong; a file with an unknown key is refused.
#[test]
fn settings_come_from_the_file_under_the_environment_and_the_flags_and_config_check_says_so()
-> Result<()> {
    let dir = TempDir::new("settings")?;
    let file = dir.path().join("server.toml");
    let from_file = dir.path().join("from-file");
    std::fs::write(
        &file,
        format!(
            "data_dir = \"{}\"\n[serve]\nclient_timeout_seconds = 20\nmetrics_token = \"file-token-long-enough\"\n",
            from_file.display()
        ),
    )?;
    let config = file.display().to_string();
    let out = server(&["--config", &config, "config", "check"], &[])?;
    let text = said(&out);
    ensure!(out.status.success(), "{text}");
    ensure!(text.contains("clients get 20 s"), "{text}");
    ensure!(
        text.contains(&format!("SQLite in {} (writable)", from_file.display())),
        "{text}"
    );
    ensure!(
        !text.contains("file-token-long-enough"),
        "a secret shown: {text}"
    );
    // The environment over the file; a flag over both; ONSITE_CONFIG names the file too.
    let flagged = dir.path().join("from-flag");
    let out = server(
        &[
            "--data-dir",
            &flagged.display().to_string(),
            "config",
            "check",
        ],
        &[
            ("ONSITE_CONFIG", &config),
            ("ONSITE_CLIENT_TIMEOUT_SECONDS", "30"),
            ("ONSITE_DATA_DIR", "/nonexistent/env-dir"),
        ],
    )?;
    let text = said(&out);
    ensure!(out.status.success(), "{text}");
    ensure!(text.contains("clients get 30 s"), "{text}");
    ensure!(text.contains(&flagged.display().to_string()), "{text}");
    // What is wrong is said, and fails the check.
    let out = server(
        &["--config", &config, "config", "check"],
        &[("ONSITE_METRICS_TOKEN", "short")],
    )?;
    let text = said(&out);
    ensure!(
        !out.status.success() && text.contains("PROBLEM metrics token"),
        "{text}"
    );
    let out = server(
        &["--data-dir", "/proc/no-such-place", "config", "check"],
        &[],
    )?;
    ensure!(
        !out.status.success() && said(&out).contains("PROBLEM SQLite"),
        "{}",
        said(&out)
    );
    std::fs::write(&file, "data_dri = \"/tmp\"\n")?;
    let out = server(&["--config", &config, "config", "check"], &[])?;
    ensure!(
        !out.status.success() && said(&out).contains("no setting \"data_dri\""),
        "{}",
        said(&out)
    );
    Ok(())
}

/// A server run from its settings file alone serves what its data directory holds, and the
/// container's health check (`onsite-server health`) says it is up, and says so when it is not.
#[test]
fn a_server_run_from_its_settings_file_answers_the_health_check() -> Result<()> {
    let dir = TempDir::new("settings-serve")?;
    let data = dir.path().join("data");
    server_command(&data, None, &["demo", "--attendees", "3"])?;
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = \"{}\"\nlog_format = \"json\"\n[serve]\nlisten = \"127.0.0.1:0\"\n",
            data.display()
        ),
    )?;
    let mut child = Command::new(workspace::binary("onsite-server")?)
        .args(["--config", &file.display().to_string(), "serve"])
        .env_remove("ONSITE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("{line:?}"))?
        .to_owned();
    let up = server(&["health", "--url", &url], &[])?;
    ensure!(up.status.success(), "{}", said(&up));
    // The demo's conference is there: the data directory came from the file.
    let public = onsite_tests::server::http_client()
        .build()?
        .get(format!(
            "{url}/v1/public/conferences/cqrs-journey-summit-2026"
        ))
        .send()?;
    ensure!(public.status().is_success(), "{}", public.status());
    onsite_tests::display::terminate(&mut child);
    let down = server(&["health", "--url", &url], &[])?;
    ensure!(!down.status.success(), "{}", said(&down));
    Ok(())
}

/// The systemd unit the README gives is one systemd accepts as it is (no unknown keys, its
/// commands there), with the hardening it promises.
#[test]
fn the_systemd_unit_is_valid_and_hardened() -> Result<()> {
    let dir = TempDir::new("unit")?;
    let unit = std::fs::read_to_string(workspace::root().join("packaging/onsite-server.service"))?;
    for needed in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=onsite",
        "config check",
    ] {
        ensure!(unit.contains(needed), "the unit lacks {needed}");
    }
    // Checked with the binary where it is built (the unit names /usr/bin's).
    let binary = workspace::binary("onsite-server")?;
    let here = dir.path().join("onsite-server.service");
    std::fs::write(
        &here,
        unit.replace("/usr/bin/onsite-server", &binary.display().to_string()),
    )?;
    let out = Command::new("systemd-analyze")
        .args(["verify", &here.display().to_string()])
        .output()
        .context("systemd-analyze (package systemd)")?;
    let text = said(&out);
    ensure!(
        out.status.success() && !text.contains(here.to_string_lossy().as_ref()),
        "{text}"
    );
    Ok(())
}
