//! A private Xvfb server per test, so tests with real windows run anywhere (CI has no screen)
//! and never see each other's windows.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct VirtualDisplay {
    number: u32,
    server: Child,
}

impl VirtualDisplay {
    /// Starts Xvfb on the first free display number from 90 on.
    pub fn start() -> Result<Self> {
        for number in 90..250u32 {
            let lock = PathBuf::from(format!("/tmp/.X{number}-lock"));
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            if lock.exists() || socket.exists() {
                continue;
            }
            let server = Command::new("Xvfb")
                .arg(format!(":{number}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting Xvfb (apt-get install xvfb; `cargo xtask test` installs it)")?;
            let mut display = VirtualDisplay { number, server };
            if display.wait_ready(&socket)? {
                return Ok(display);
            }
            // Lost a race for this number; try the next one.
        }
        bail!("no free X display number between :90 and :249")
    }

    fn wait_ready(&mut self, socket: &Path) -> Result<bool> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.server.try_wait()? {
                if status.success() {
                    bail!("Xvfb exited at once");
                }
                return Ok(false);
            }
            if socket.exists() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("Xvfb :{} did not come up within 10 s", self.number)
    }

    /// The value for `DISPLAY`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// Titles of the visible windows whose title contains `needle`.
    pub fn window_titles(&self, needle: &str) -> Result<Vec<String>> {
        let out = Command::new("xdotool")
            .args([
                "search",
                "--onlyvisible",
                "--name",
                needle,
                "getwindowname",
                "%@",
            ])
            .env("DISPLAY", self.name())
            .output()
            .context("running xdotool (apt-get install xdotool)")?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect())
    }

    /// Waits until a visible window's title contains `needle`; returns its full title.
    pub fn wait_for_window(&self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(title) = self.window_titles(needle)?.into_iter().next() {
                return Ok(title);
            }
            if Instant::now() > deadline {
                bail!("no window titled like {needle:?} appeared within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Saves the whole screen as a PNG.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .env("DISPLAY", self.name())
            .status()
            .context("running import (apt-get install imagemagick)")?;
        if !status.success() {
            bail!("import failed: {status}");
        }
        Ok(())
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        terminate(&mut self.server);
    }
}

/// Stops a child politely (SIGTERM), then for sure. SIGKILL first would orphan the helpers some
/// programs start (WebKit's), and they can hold the test's output pipes open.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
