//! A real venue relay: `onsite-server relay` on its own data directory and a free port,
//! enrolled with upstream through whatever address the test gives it (a partition's, to cut
//! its uplink).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use onsite_shared::ids::ConferenceId;
use serde_json::{Value, json};

use crate::display::terminate;
use crate::server::{TestServer, http_client};
use crate::workspace;

impl TestServer {
    /// A one-time enrolment code for a new venue relay of `conference`.
    pub fn relay_code(&self, conference: ConferenceId, name: &str) -> Result<String> {
        let e = self.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{conference}/relays"),
            Some(json!({"name": name})),
        )?;
        Ok(e["code"].as_str().context("code")?.to_owned())
    }
}

pub struct TestRelay {
    pub url: String,
    pub data_dir: PathBuf,
    pub upstream: String,
    child: Option<Child>,
}

impl TestRelay {
    /// Starts a relay on `data_dir`, enrolling it with `code` at `upstream`, on loopback.
    pub fn start(data_dir: &Path, upstream: &str, code: &str) -> Result<Self> {
        Self::start_on(data_dir, upstream, code, "127.0.0.1:0")
    }

    /// The same, listening on `listen` (`0.0.0.0:0`: every interface, as at a venue).
    pub fn start_on(data_dir: &Path, upstream: &str, code: &str, listen: &str) -> Result<Self> {
        let mut relay = Self {
            url: String::new(),
            data_dir: data_dir.to_owned(),
            upstream: upstream.to_owned(),
            child: None,
        };
        relay.spawn(listen, Some(code))?;
        Ok(relay)
    }

    fn spawn(&mut self, listen: &str, code: Option<&str>) -> Result<()> {
        let mut cmd = Command::new(workspace::binary("onsite-server")?);
        cmd.arg("--data-dir").arg(&self.data_dir).args([
            "relay",
            "--upstream",
            &self.upstream,
            "--listen",
            listen,
        ]);
        if let Some(code) = code {
            cmd.args(["--code", code]);
        }
        let (child, url) = crate::server::spawn_listening(&mut cmd)?;
        self.url = url;
        self.child = Some(child);
        // Enrolment happens after the line: ready once it answers its health route.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.health().is_ok() {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("the relay exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the relay did not answer within 20 s")
    }

    /// SIGKILL, like a power cut for the box.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again at the same address, on the same data directory (enrolled already).
    pub fn restart(&mut self) -> Result<()> {
        let address = self
            .url
            .strip_prefix("http://")
            .context("an http address")?
            .to_owned();
        self.spawn(&address, None)
    }

    /// `GET /v1/health`: the relay's state (upstream reachable, events held).
    pub fn health(&self) -> Result<Value> {
        let res = http_client()
            .timeout(Duration::from_secs(5))
            .build()?
            .get(format!("{}/v1/health", self.url))
            .send()?;
        if !res.status().is_success() {
            bail!("health: {}", res.status());
        }
        Ok(res.json()?)
    }

    /// Waits until the relay holds nothing not forwarded (and reaches upstream).
    pub fn wait_forwarded(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let h = self.health()?;
            if h["held"] == 0 && h["upstream_reachable"] == true {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the relay still holds events: {h}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }
}
