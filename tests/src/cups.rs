//! A real CUPS for tests: the system's `cupsd` (started without systemd when it is not
//! running) and virtual PDF printers (`printer-driver-cups-pdf`), one queue per test, removed
//! on drop. `cargo xtask test` installs the packages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

const CUPS_PDF_PPD: &str = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd";

fn run(program: &str, args: &[&str]) -> Result<Output> {
    let out = Command::new(program).args(args).output().with_context(|| {
        format!("could not run {program} (is CUPS installed? cargo xtask deps)")
    })?;
    ensure!(
        out.status.success(),
        "{program} {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

/// Starts cupsd when `lpstat -r` says it is not running. Safe to call from every test.
pub fn ensure_cupsd() -> Result<()> {
    static STARTED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut started = STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *started {
        return Ok(());
    }
    let running = |_: ()| {
        Command::new("lpstat")
            .arg("-r")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("is running"))
    };
    if !running(()) {
        // cupsd daemonizes itself and is ready within a fraction of a second.
        let status = Command::new("/usr/sbin/cupsd")
            .status()
            .context("could not start /usr/sbin/cupsd (is the cups package installed?)")?;
        ensure!(status.success(), "cupsd did not start: {status}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !running(()) {
            ensure!(
                Instant::now() < deadline,
                "cupsd did not come up within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    *started = true;
    Ok(())
}

/// A cups-pdf queue of the test's own.
pub struct TestPrinter {
    pub name: String,
}

impl TestPrinter {
    pub fn pdf(label: &str) -> Result<Self> {
        ensure_cupsd()?;
        let name = format!(
            "Onsite_{label}_{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        );
        run(
            "lpadmin",
            &["-p", &name, "-E", "-v", "cups-pdf:/", "-m", CUPS_PDF_PPD],
        )?;
        Ok(Self { name })
    }

    /// Stops the queue (`cupsdisable`), with the reason the spooler will report.
    pub fn stop(&self, reason: &str) -> Result<()> {
        run("cupsdisable", &["-r", reason, &self.name])?;
        Ok(())
    }

    /// The PDF cups-pdf wrote for a spooler job, once it is complete (the file appears before
    /// it is fully written: wait for its size to settle and for a `%%EOF`).
    pub fn output(&self, spooler_job: i32, timeout: Duration) -> Result<PathBuf> {
        let suffix = format!("-job_{spooler_job}.pdf");
        let mut dirs: Vec<PathBuf> = vec![
            PathBuf::from("/root/PDF"),
            PathBuf::from("/var/spool/cups-pdf/ANONYMOUS"),
        ];
        if let Some(home) = std::env::var_os("HOME") {
            dirs.insert(0, Path::new(&home).join("PDF"));
        }
        let deadline = Instant::now() + timeout;
        let mut last: Option<(PathBuf, u64)> = None;
        loop {
            let found = dirs.iter().find_map(|d| {
                std::fs::read_dir(d).ok()?.flatten().find_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(&suffix).then(|| e.path())
                })
            });
            if let Some(path) = found {
                let size = std::fs::metadata(&path)?.len();
                let complete = std::fs::read(&path)
                    .map(|b| b.windows(5).rev().take(64).any(|w| w == b"%%EOF"))
                    .unwrap_or(false);
                if complete && last.as_ref().is_some_and(|(p, s)| *p == path && *s == size) {
                    return Ok(path);
                }
                last = Some((path, size));
            }
            if Instant::now() > deadline {
                bail!("no complete cups-pdf output for job {spooler_job} in {dirs:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        let _ = Command::new("lpadmin").args(["-x", &self.name]).output();
    }
}

/// `pdfinfo`'s page size in points, e.g. `(288.0, 216.0)`, and its page count.
pub fn pdf_pages(path: &Path) -> Result<((f32, f32), u32)> {
    let out = run("pdfinfo", &[path.to_str().context("path")?])?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .with_context(|| format!("pdfinfo gave no {name}: {text}"))
    };
    let size = field("Page size:")?;
    let mut numbers = size
        .split_whitespace()
        .filter_map(|w| w.parse::<f32>().ok());
    let w = numbers.next().context("page width")?;
    let h = numbers.next().context("page height")?;
    let pages = field("Pages:")?.parse()?;
    Ok(((w, h), pages))
}

/// The text of a PDF, as `pdftotext` extracts it.
pub fn pdf_text(path: &Path) -> Result<String> {
    let out = run("pdftotext", &[path.to_str().context("path")?, "-"])?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Renders the first page to a PNG (`pdftoppm`) and returns its path and pixel size.
pub fn pdf_png(path: &Path, dpi: u32) -> Result<(PathBuf, (u32, u32))> {
    // Not `with_extension`: cups-pdf's file names carry dots of their own.
    let name = path.to_str().context("path")?;
    let stem = PathBuf::from(name.strip_suffix(".pdf").unwrap_or(name));
    run(
        "pdftoppm",
        &[
            "-r",
            &dpi.to_string(),
            "-png",
            "-singlefile",
            "-f",
            "1",
            path.to_str().context("path")?,
            stem.to_str().context("path")?,
        ],
    )?;
    let mut png = stem.into_os_string();
    png.push(".png");
    let png = PathBuf::from(png);
    let bytes = std::fs::read(&png).with_context(|| format!("{}", png.display()))?;
    ensure!(bytes.len() > 24 && &bytes[1..4] == b"PNG", "not a PNG");
    let w = u32::from_be_bytes(bytes[16..20].try_into()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into()?);
    Ok((png, (w, h)))
}

/// The QR codes `zbarimg` finds in an image.
pub fn qr_codes(png: &Path) -> Result<Vec<String>> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .context("could not run zbarimg (zbar-tools)")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect())
}
