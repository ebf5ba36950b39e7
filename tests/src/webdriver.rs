//! The real desk window driven over WebDriver: `tauri-driver` (from crates.io, installed by
//! `cargo xtask test`) in front of WebKitWebDriver (Debian's `webkit2gtk-driver`), on a
//! private Xvfb. tauri-driver is stopped with SIGTERM: SIGKILL would orphan WebKitWebDriver,
//! which holds the test's output open (platform-notes 3).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::display::{VirtualDisplay, terminate};

/// WebDriver key code points.
pub mod key {
    pub const BACKSPACE: &str = "\u{E003}";
    pub const ENTER: &str = "\u{E007}";
    pub const END: &str = "\u{E010}";
    pub const SHIFT: &str = "\u{E008}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const F1: &str = "\u{E031}";
    pub const F2: &str = "\u{E032}";
    pub const F3: &str = "\u{E033}";
    pub const F4: &str = "\u{E034}";
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tauri_driver() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        let p = Path::new(&home).join("bin/tauri-driver");
        if p.exists() {
            return Ok(p);
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cargo/bin/tauri-driver");
        if p.exists() {
            return Ok(p);
        }
    }
    Ok(PathBuf::from("tauri-driver"))
}

/// tauri-driver on its own ports, with the app's environment.
pub struct TauriDriver {
    child: Child,
    port: u16,
}

impl TauriDriver {
    pub fn start(display: &VirtualDisplay, env: &[(&str, &str)]) -> Result<Self> {
        let (port, native) = (free_port()?, free_port()?);
        let mut cmd = Command::new(tauri_driver()?);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .env("DISPLAY", display.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .context("starting tauri-driver (cargo install tauri-driver --locked)")?;
        let driver = TauriDriver { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                bail!("tauri-driver did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// Starts the app and a WebDriver session on its window.
    pub async fn session(&self, application: &Path) -> Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
        // tauri-driver listens before the WebKitWebDriver behind it does: retry for up to 15 s
        // (on two busy cores WebKitWebDriver can take seconds to come up).
        let mut attempt = 0;
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(client) => return Ok(client),
                Err(_) if attempt < 60 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e).context("a WebDriver session on the desk app"),
            }
        }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// Waits until `css` matches an element whose text contains `needle`, and returns that text.
pub async fn wait_for_text(
    client: &Client,
    css: &str,
    needle: &str,
    timeout: Duration,
) -> Result<String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        if let Ok(elements) = client.find_all(Locator::Css(css)).await {
            for e in elements {
                if let Ok(text) = e.text().await {
                    if text.contains(needle) {
                        return Ok(text);
                    }
                    last = text;
                }
            }
        }
        if Instant::now() > deadline {
            bail!("no {css} with {needle:?} after {timeout:?} (last seen: {last:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot of the window for a person to look at (target/test-artefacts).
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let png = client.screenshot().await?;
    let path = crate::workspace::artefacts("screenshots")?.join(format!("{name}.png"));
    std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
    Ok(())
}
