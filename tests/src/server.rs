//! A real `onsite-server` process on a temporary data directory and a free port, and a small
//! HTTP client for head office and desks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use onsite_shared::check_in::{self, Admission};
use onsite_shared::event::{Envelope, Event, Metadata};
use onsite_shared::ids::{
    AdmissionId, ClientId, ConferenceId, DeviceId, EventId, OrderId, SeatTypeId, TicketCode,
    TicketId,
};
use onsite_shared::money::{Currency, Money};
use onsite_shared::order::PaymentMethod;
use onsite_shared::protocol::{
    PROTOCOL_VERSION, PullResponse, PushItem, PushRequest, PushResponse,
};
use onsite_shared::seat_assignments::Attendee;
use onsite_shared::walk_in::{self, Sale, SaleLine, SaleTicket};
use serde_json::{Value, json};

use crate::display::terminate;
use crate::workspace;

/// A blocking HTTP client builder for tests (TLS provider installed, as in the desk).
pub fn http_client() -> reqwest::blocking::ClientBuilder {
    onsite_desk_core::http::install_tls();
    // Idle connections let go before the server's own idle timeout (15 s) closes them under a
    // request, as the desk's client does.
    reqwest::blocking::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(5))
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("onsite-{label}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SQL (both backends) that makes a database look as servers before versioned migrations
/// left theirs: no schema stamp. A test that rewinds a table to an older layout runs it too,
/// so that the next start goes through the baseline that moves such layouts.
pub const UNVERSIONED: &str = "DELETE FROM meta WHERE key IN ('schema_version', 'schema_floor');";

/// Runs `onsite-server` with arguments and returns what it printed.
pub fn server_command(
    data_dir: &Path,
    database_url: Option<&str>,
    args: &[&str],
) -> Result<String> {
    let mut cmd = Command::new(workspace::binary("onsite-server")?);
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running onsite-server")?;
    if !out.status.success() {
        bail!(
            "onsite-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub struct TestServer {
    pub url: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Extra arguments for `serve`.
    pub serve_args: Vec<String>,
    pub admin_token: String,
    child: Option<Child>,
}

impl TestServer {
    /// Starts a server on a fresh SQLite data directory.
    pub fn start(data_dir: &Path) -> Result<Self> {
        Self::start_with(data_dir, None)
    }

    /// Starts a server on SQLite (`None`) or on a PostgreSQL database.
    pub fn start_with(data_dir: &Path, database_url: Option<&str>) -> Result<Self> {
        let admin_token = server_command(
            data_dir,
            database_url,
            &["admin-token", "create", "--name", "test"],
        )?
        .trim()
        .to_owned();
        let mut server = Self {
            url: String::new(),
            data_dir: data_dir.to_owned(),
            database_url: database_url.map(str::to_owned),
            serve_args: Vec::new(),
            admin_token,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// Restarts the server with extra `serve` arguments.
    pub fn with_serve_args(mut self, args: &[&str]) -> Result<Self> {
        self.serve_args = args.iter().map(|a| (*a).to_owned()).collect();
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
        self.restart()?;
        Ok(self)
    }

    /// An online buyer: places an order and returns `(order id, access code)`.
    pub fn place_order(
        &self,
        conference: ConferenceId,
        seat_type: SeatTypeId,
        quantity: u32,
    ) -> Result<(String, String)> {
        let res = self
            .http()
            .post(format!("{}/v1/conferences/{conference}/orders", self.url))
            .json(&json!({"seats": [{"seat_type": seat_type, "quantity": quantity}]}))
            .send()?;
        if !res.status().is_success() {
            bail!("place order: {} {}", res.status(), res.text()?);
        }
        let v: Value = res.json()?;
        Ok((
            v["order_id"].as_str().context("order id")?.to_owned(),
            v["access_code"].as_str().context("code")?.to_owned(),
        ))
    }

    /// A call on an order with its access code; returns the status and the body.
    pub fn order_call(
        &self,
        method: reqwest::Method,
        path: &str,
        code: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .http()
            .request(method, format!("{}{path}", self.url))
            .header("x-access-code", code);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send()?;
        let status = res.status().as_u16();
        let text = res.text()?;
        Ok((
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)?
            },
        ))
    }

    /// A second server process on the same database (PostgreSQL scale-out).
    pub fn another(&self) -> Result<Self> {
        let mut server = Self {
            url: String::new(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            serve_args: self.serve_args.clone(),
            admin_token: self.admin_token.clone(),
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// Starts the process again on the same data directory (after a stop or a kill).
    pub fn restart(&mut self) -> Result<()> {
        self.start_at("127.0.0.1:0")
    }

    /// Stops the process as an operator would (SIGTERM, then wait).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }

    /// Starts the process again at the address it had: desks keep their server's address.
    pub fn restart_at_same_address(&mut self) -> Result<()> {
        let address = self
            .url
            .strip_prefix("http://")
            .context("an http address")?
            .to_owned();
        self.start_at(&address)
    }

    fn start_at(&mut self, listen: &str) -> Result<()> {
        let mut cmd = Command::new(workspace::binary("onsite-server")?);
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        cmd.args(["serve", "--listen", listen])
            .args(&self.serve_args);
        let (child, url) = spawn_listening(&mut cmd)?;
        self.url = url;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no shutdown, no flush, like a power cut for the process.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn http(&self) -> reqwest::blocking::Client {
        http_client()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a client")
    }

    /// A head-office call; fails on a non-success status.
    pub fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self
            .http()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send()?;
        let status = res.status();
        let text = res.text()?;
        if !status.is_success() {
            bail!("{path}: {status} {text}");
        }
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// The server process's id (for its memory, in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server process's resident memory, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let pid = self.pid().context("the server is not running")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmRSS")
    }

    /// A head-office call that may fail; returns the status and the body.
    pub fn admin_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .http()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send()?;
        let status = res.status().as_u16();
        let text = res.text()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Head office confirms an order paid by card for `amount_minor` EUR.
    pub fn confirm_paid(
        &self,
        conference: ConferenceId,
        order: &str,
        amount_minor: i64,
    ) -> Result<(u16, Value)> {
        self.admin_raw(
            reqwest::Method::POST,
            &format!("/v1/conferences/{conference}/orders/{order}/payment"),
            Some(json!({"payment": {"kind": "received", "method": "card",
                "amount": {"amount_minor": amount_minor, "currency": "EUR"}, "reference": "psp-1"}})),
        )
    }

    /// A published conference with a general admission (quota `general`), a workshop add-on
    /// (quota 5) and standing room under the overbook policy.
    pub fn conference(&self, general: u32) -> Result<TestConference> {
        // Slugs are unique on a server, and some tests make several conferences.
        let slug = format!("cqrs-summit-{}", uuid::Uuid::now_v7().simple());
        let created = self.admin(
            reqwest::Method::POST,
            "/v1/conferences",
            Some(json!({
                "name": "CQRS Summit", "slug": slug, "venue": "Zürich",
                "starts_on": "2026-11-23", "ends_on": "2026-11-24", "currency": "EUR",
                "owner_email": "org@example.com"
            })),
        )?;
        let id: ConferenceId = created["id"].as_str().context("conference id")?.parse()?;
        let seat = |name: &str,
                    price: i64,
                    quota: u32,
                    kind: &str,
                    policy: &str|
         -> Result<SeatTypeId> {
            let v = self.admin(
                reqwest::Method::POST,
                &format!("/v1/conferences/{id}/seat-types"),
                Some(json!({"name": name, "price_minor": price, "quota": quota, "kind": kind, "policy": policy})),
            )?;
            Ok(v["id"].as_str().context("seat type id")?.parse()?)
        };
        let general = seat("General admission", 19_900, general, "admission", "reject")?;
        let workshop = seat("CQRS workshop", 5_000, 5, "add_on", "reject")?;
        let standing = seat("Standing room", 9_900, 0, "admission", "overbook")?;
        self.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{id}/attendee-types"),
            Some(json!({"id": "speaker", "name": "Speaker", "badge_colour": "#E53935"})),
        )?;
        self.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{id}/publish"),
            None,
        )?;
        Ok(TestConference {
            id,
            general,
            workshop,
            standing,
        })
    }

    /// Enrols a desk through the API and trades its code for a token.
    pub fn desk(&self, conference: ConferenceId, name: &str) -> Result<TestDesk> {
        let e = self.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{conference}/devices"),
            Some(json!({"name": name})),
        )?;
        let code = e["code"].as_str().context("code")?;
        let res = self
            .http()
            .post(format!("{}/v1/devices/enrol", self.url))
            .json(&json!({"code": code}))
            .send()?;
        if !res.status().is_success() {
            bail!("enrol: {}", res.text()?);
        }
        let creds: Value = res.json()?;
        Ok(TestDesk {
            url: self.url.clone(),
            token: creds["token"].as_str().context("token")?.to_owned(),
            device: creds["device_id"].as_str().context("device")?.parse()?,
            conference,
            client: ClientId::from_uuid(uuid::Uuid::now_v7()),
            next_seq: 1,
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TestConference {
    pub id: ConferenceId,
    pub general: SeatTypeId,
    pub workshop: SeatTypeId,
    pub standing: SeatTypeId,
}

/// A desk speaking the sync protocol by hand (the real desk core comes with its own issue).
pub struct TestDesk {
    pub url: String,
    pub token: String,
    pub device: DeviceId,
    pub conference: ConferenceId,
    pub client: ClientId,
    pub next_seq: u64,
}

impl TestDesk {
    /// Wraps events as this desk's next log entries.
    pub fn items(&mut self, events: &[Event]) -> Vec<PushItem> {
        events
            .iter()
            .map(|e| {
                let seq = self.next_seq;
                self.next_seq += 1;
                let meta = Metadata {
                    device_id: Some(self.device),
                    client_seq: Some(seq),
                    causation_id: None,
                    correlation_id: None,
                };
                PushItem {
                    client_seq: seq,
                    event: Envelope::new(
                        EventId::from_uuid(uuid::Uuid::now_v7()),
                        e,
                        1,
                        chrono::Utc::now(),
                        meta,
                    ),
                }
            })
            .collect()
    }

    pub fn request(&self, items: Vec<PushItem>) -> PushRequest {
        PushRequest {
            protocol_version: PROTOCOL_VERSION,
            client_id: self.client,
            app_version: "test".into(),
            pending_after: 0,
            device_time: Some(chrono::Utc::now()),
            items,
        }
    }

    /// Pushes; returns the status and the raw body.
    /// A push on a new connection (a test may have restarted the server in between).
    pub fn push_raw(&self, body: &Value) -> Result<(u16, Value)> {
        let res = http_client()
            .build()?
            .post(format!("{}/v1/sync/push", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()?;
        let status = res.status().as_u16();
        Ok((status, res.json().unwrap_or(Value::Null)))
    }

    pub fn push(&self, items: Vec<PushItem>) -> Result<PushResponse> {
        let (status, body) = self.push_raw(&serde_json::to_value(self.request(items))?)?;
        if status != 200 {
            bail!("push: {status} {body}");
        }
        Ok(serde_json::from_value(body)?)
    }

    /// Appends `events` to this desk's log and pushes them.
    pub fn push_events(&mut self, events: &[Event]) -> Result<PushResponse> {
        let items = self.items(events);
        self.push(items)
    }

    pub fn pull_page(&self, cursor: Option<&str>, limit: u32) -> Result<PullResponse> {
        self.pull_page_in("all", cursor, limit)
    }

    /// A page of the events in `scope` (`all` or `door`).
    pub fn pull_page_in(
        &self,
        scope: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullResponse> {
        let mut url = format!(
            "{}/v1/sync/pull?limit={limit}&client_id={}&scope={scope}",
            self.url, self.client
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = http_client()
            .build()?
            .get(url)
            .bearer_auth(&self.token)
            .send()?;
        if !res.status().is_success() {
            bail!("pull: {} {}", res.status(), res.text()?);
        }
        Ok(res.json()?)
    }

    /// Pulls everything from the beginning.
    pub fn pull_all(&self) -> Result<Vec<Envelope>> {
        let mut cursor: Option<String> = None;
        let mut all = Vec::new();
        loop {
            let page = self.pull_page(cursor.as_deref(), 500)?;
            all.extend(page.events);
            cursor = Some(page.next_cursor);
            if !page.has_more {
                return Ok(all);
            }
        }
    }
}

// ---- events a desk pushes, made by hand ----

pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// A walk-in sale of `n` seats of one type, paid in cash.
pub fn sale(
    conf: &TestConference,
    desk: &TestDesk,
    seat_type: SeatTypeId,
    price: i64,
    n: usize,
) -> (Sale, Vec<TicketCode>) {
    let order = OrderId::from_uuid(new_id());
    let tickets: Vec<SaleTicket> = (0..n)
        .map(|i| {
            let id = new_id();
            SaleTicket {
                ticket: TicketId::from_uuid(id),
                code: TicketCode::from_entropy(id.as_u128() as u64),
                seat_type,
                attendee: Attendee {
                    first_name: format!("Walker{i}"),
                    last_name: "Zürich".into(),
                    email: format!("walker{i}.{}@example.com", id.simple()),
                    company: String::new(),
                    attendee_types: vec![],
                    ..Default::default()
                },
            }
        })
        .collect();
    let codes = tickets.iter().map(|t| t.code.clone()).collect();
    let total = Money::new(price * n as i64, Currency::EUR);
    (
        Sale {
            conference: conf.id,
            order,
            desk: desk.device,
            sold_at: chrono::Utc::now(),
            lines: vec![SaleLine {
                seat_type,
                name: "General admission".into(),
                unit_price: Money::new(price, Currency::EUR),
                quantity: n as u32,
            }],
            tickets,
            payment_method: PaymentMethod::Cash,
            amount_taken: total,
            total,
            from_leases: vec![],
        },
        codes,
    )
}

pub fn admission(conf: &TestConference, desk: &TestDesk, code: &TicketCode) -> Event {
    Event::CheckIn(check_in::Event::Admitted {
        conference: conf.id,
        code: code.clone(),
        ticket: None,
        admission: Admission {
            admission: AdmissionId::from_uuid(new_id()),
            desk: desk.device,
            gate: "north".into(),
            at: chrono::Utc::now(),
        },
        override_reason: None,
    })
}

pub fn sale_event(s: Sale) -> Event {
    Event::WalkIn(walk_in::Event::SaleRecorded { sale: s })
}

/// Starts an `onsite-server` command (serve, or relay) and reads the address it says it
/// listens on, its first line (`listening on http://…`).
pub fn spawn_listening(cmd: &mut Command) -> Result<(Child, String)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting onsite-server")?;
    let stdout = child.stdout.take().context("the server's stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?;
    Ok((child, url.to_owned()))
}
