//! System packages, installed with apt-get when missing (Debian and Ubuntu).

use std::process::{Command, Stdio};

/// What building the workspace and running every test needs.
pub(crate) const TEST_PACKAGES: &[&str] = &[
    // Building: Tauri 2 on Linux (WebKitGTK 4.1) and the C parts of some crates.
    "build-essential",
    "pkg-config",
    "file",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libsoup-3.0-dev",
    "libgtk-3-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libxdo-dev",
    // The sync server's scale-out backend, started per test with initdb/pg_ctl; openssl makes
    // the certificates of the cluster that speaks TLS only.
    "postgresql",
    "openssl",
    // The server's systemd unit is checked with systemd-analyze.
    "systemd",
    // Real windows in tests: a virtual X server, window inspection, screenshots.
    "xvfb",
    "xauth",
    "x11-utils",
    "xdotool",
    "imagemagick",
    // Badges: the tests read the PDFs back (pdftotext, pdftoppm, pdfinfo), decode the QR code
    // (zbarimg) and print through a real CUPS with a virtual PDF printer.
    "poppler-utils",
    // The desk app's end-to-end tests: WebKitWebDriver, behind tauri-driver (from crates.io).
    "webkit2gtk-driver",
    "zbar-tools",
    "cups",
    "cups-client",
    "cups-bsd",
    "printer-driver-cups-pdf",
    // The head-office dashboard's browser tests: Debian's Chromium, driven by playwright-core.
    "chromium",
];

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs whatever of `packages` is missing. Does nothing when all are there, so it is fast
/// on a prepared machine and needs no network then.
pub(crate) fn ensure_packages(packages: &[&str]) -> Result<(), String> {
    if Command::new("dpkg-query")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Err("this is not a Debian or Ubuntu system (no dpkg-query); install the packages listed in \
                    xtask/src/system.rs by hand"
            .to_owned());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        println!("==> system packages: all {} present", packages.len());
        return Ok(());
    }
    println!("==> system packages: installing {}", missing.join(" "));
    let sudo = !is_root();
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut cmd = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        let status = cmd
            .status()
            .map_err(|e| format!("could not run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed ({status})", args.join(" ")))
        }
    };
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)?;
    let still: Vec<&str> = missing.into_iter().filter(|p| !is_installed(p)).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after apt-get: {}", still.join(" ")))
    }
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Node.js and npm build the desk's UI. Machines of this kind bring Node 20; a bare Debian gets
/// its own `nodejs` and `npm` packages (Vite 7 needs Node 20.19 or newer).
pub(crate) fn ensure_node() -> Result<(), String> {
    if runs("node", "--version") && runs("npm", "--version") {
        return Ok(());
    }
    ensure_packages(&["nodejs", "npm"])
}

/// `tauri-driver` (the WebDriver front for Tauri apps) from crates.io, into `~/.cargo/bin`.
pub(crate) fn ensure_tauri_driver(cargo: &str) -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    if home.is_some_and(|h| h.join("bin/tauri-driver").exists()) {
        return Ok(());
    }
    println!("==> installing tauri-driver (cargo install)");
    let status = Command::new(cargo)
        .args(["install", "tauri-driver", "--locked", "--version", "2.1.0"])
        .status()
        .map_err(|e| format!("could not run cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo install tauri-driver failed ({status})"))
    }
}
