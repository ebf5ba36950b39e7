//! The sync client: pushes the outbox, pulls the authoritative log, and says how it went.
//!
//! One round ([`SyncClient::sync_once`]): push pending items in `client_seq` order, in batches
//! (a 409 gap says where the server wants to resume); record every outcome; then pull pages
//! until `has_more` is false, asking for the next page (the cursor is in the response headers)
//! while the last one is being applied. [`SyncClient::run`] repeats rounds in the background,
//! right away when nudged after a command, with exponential backoff and jitter while the
//! server is unreachable. A revoked token stops it with a clear status; the local log stays.
//!
//! Everything the server sends is applied in one transaction per page, so a desk killed at any
//! point resumes from the last page it committed; pushes are idempotent by `client_seq`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::error_code;
use onsite_shared::event::{Envelope, Event, StreamId};
use onsite_shared::ids::EventId;
use onsite_shared::protocol::{
    DeskCredentials, OLDEST_PROTOCOL_VERSION, OutcomeStatus, PROTOCOL_VERSION, PushOutcome,
    PushRequest, PushResponse,
};

use crate::error::DeskError;
use crate::log;
use crate::projection;
use crate::store::{Desk, Enrolment, parse_setting, set_setting, setting, time_text};

mod transport;

pub use transport::{Answer, Http, PullQuery, PulledPage, Refusal, Transport};

/// Items per push.
pub const PUSH_BATCH: usize = 500;
/// Events per pull page.
pub const PULL_LIMIT: u32 = 10_000;
/// A clock further off than this is worth a warning at the desk.
pub const SKEW_WARNING_MS: i64 = 60_000;
/// The pause between rounds while the desk syncs with a venue relay: the other desks'
/// events reach this one within it (a pull from a relay on the LAN costs little).
pub const RELAY_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this desk is not enrolled")]
    NotEnrolled,
    #[error("this desk was revoked by head office; it keeps its log but no longer syncs")]
    Revoked,
    #[error("the server is unreachable: {0}")]
    Unreachable(String),
    /// Another copy of this desk's database synced first: the desk re-enrols ([`reenrol`]).
    #[error("{0}")]
    Diverged(String),
    #[error("the server refused: {status} {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error(transparent)]
    Desk(#[from] DeskError),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::NotEnrolled => error_code::SYNC_NOT_ENROLLED,
            SyncError::Revoked => error_code::REVOKED,
            SyncError::Unreachable(_) => error_code::SYNC_UNREACHABLE,
            SyncError::Diverged(_) => error_code::CLIENT_DIVERGED,
            SyncError::Server { code, .. } => code,
            SyncError::Desk(e) => e.code(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncReport {
    pub pushed: u64,
    pub compensated: u64,
    pub rejected: u64,
    pub pulled: u64,
    /// Items a venue relay holds, not decided upstream yet.
    pub held: u64,
}

/// What the sync bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    pub online: bool,
    #[ts(type = "string | null")]
    pub last_sync: Option<Timestamp>,
    pub pending: u64,
    pub oldest_pending_age_secs: Option<i64>,
    /// Desk clock minus server clock, from the last response's `Date` header.
    pub skew_ms: Option<i64>,
    pub skew_warning: bool,
    pub revoked: bool,
    pub enrolled: bool,
    pub last_error: Option<String>,
    /// Another copy of this desk's database synced first: nothing more is pushed until the
    /// desk re-enrols with a code from head office (then it sends everything again).
    pub diverged: bool,
    /// The server the last round spoke to (a venue relay, or the server it enrolled with).
    pub server: Option<String>,
    /// Whether that server is a venue relay (it sends the venue feed).
    pub via_relay: bool,
    /// This desk's events a venue relay holds, not decided upstream yet.
    pub held: u64,
}

/// The pull response, with each event kept as the JSON the server sent (stored as is).
#[derive(Deserialize)]
struct PullPage<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    next_cursor: String,
    has_more: bool,
    /// How much of this desk's sequence the server holds (absent from older servers).
    #[serde(default)]
    last_client_seq: Option<u64>,
    /// The decided outcomes asked for with `decided_from` (protocol 2).
    #[serde(default)]
    outcomes: Option<Vec<PushOutcome>>,
    /// The venue feed (a relay, protocol 2), each event kept as sent.
    #[serde(default, borrow)]
    venue: Option<Vec<WireVenueEntry<'a>>>,
    #[serde(default)]
    venue_cursor: Option<String>,
    #[serde(default)]
    venue_reset: bool,
    #[serde(default)]
    venue_seats: Option<Vec<onsite_shared::protocol::VenueSeatsLeft>>,
}

#[derive(Deserialize)]
struct WireVenueEntry<'a> {
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
    #[serde(default)]
    rejected: Option<EventId>,
}

/// What a page said of the venue feed.
struct VenueUpdate {
    events: Vec<(String, Envelope)>,
    rejected: Vec<EventId>,
    /// `None`: the server has no venue feed.
    cursor: Option<String>,
    reset: bool,
    /// What the relay's venue leases have left to hand out.
    seats: Vec<onsite_shared::protocol::VenueSeatsLeft>,
}

/// A pull page decoded and checked, ready to store (decoding needs no database, so it runs
/// while the previous page is being written).
pub struct DecodedPage {
    events: Vec<(String, Envelope, Event)>,
    next_cursor: String,
    has_more: bool,
    last_client_seq: Option<u64>,
    outcomes: Vec<PushOutcome>,
    venue: Option<VenueUpdate>,
    /// The setting the cursor is kept under (one per server).
    cursor_key: String,
}

impl DecodedPage {
    pub fn parse(body: &[u8]) -> Result<Self, DeskError> {
        let page: PullPage<'_> = serde_json::from_slice(body)?;
        let mut events = Vec::with_capacity(page.events.len());
        for raw in &page.events {
            let (envelope, event) = log::decode_envelope(raw.get())?;
            events.push((raw.get().to_owned(), envelope, event));
        }
        let venue = match (page.venue, page.venue_cursor) {
            (Some(entries), Some(cursor)) => {
                let mut update = VenueUpdate {
                    events: Vec::new(),
                    rejected: Vec::new(),
                    cursor: Some(cursor),
                    reset: page.venue_reset,
                    seats: page.venue_seats.unwrap_or_default(),
                };
                for e in entries {
                    if let Some(raw) = e.event {
                        // Checked like any event the desk stores: it must decode.
                        let (envelope, _) = log::decode_envelope(raw.get())?;
                        update.events.push((raw.get().to_owned(), envelope));
                    }
                    update.rejected.extend(e.rejected);
                }
                Some(update)
            }
            _ => None,
        };
        Ok(Self {
            events,
            next_cursor: page.next_cursor,
            has_more: page.has_more,
            last_client_seq: page.last_client_seq,
            outcomes: page.outcomes.unwrap_or_default(),
            venue,
            cursor_key: "cursor".to_owned(),
        })
    }

    /// Keeps the cursor under another setting (the cursor of one server of several).
    fn for_server(mut self, cursor_key: String) -> Self {
        self.cursor_key = cursor_key;
        self
    }
}

/// The setting a server's pull cursor is kept under: `cursor` for the server the desk
/// enrolled with (as before there were several), `cursor@<address>` for a relay.
fn cursor_key(enrolment_url: &str, server: &str) -> String {
    if enrolment_url == server {
        "cursor".to_owned()
    } else {
        format!("cursor@{server}")
    }
}

/// What applying a page did.
#[derive(Debug, Clone, Copy)]
pub struct PageApplied {
    pub received: usize,
    pub new: usize,
    pub has_more: bool,
}

impl Desk {
    /// The next batch to push: items after the last acknowledged sequence.
    fn push_request(
        &self,
        limit: usize,
        protocol_version: u32,
    ) -> Result<Option<PushRequest>, DeskError> {
        self.read(|conn| {
            let client_id = parse_setting(conn, "client_id")?
                .ok_or_else(|| DeskError::Corrupt("no client id".into()))?;
            let (items, total) = log::pending(conn, limit)?;
            if items.is_empty() {
                return Ok(None);
            }
            Ok(Some(PushRequest {
                protocol_version,
                client_id,
                app_version: env!("CARGO_PKG_VERSION").to_owned(),
                pending_after: total - items.len() as u64,
                device_time: Some(self.now()),
                items,
            }))
        })
    }

    /// Records the server's answers. An item the server did not record (`rejected`) or holds
    /// under another id (`duplicate`) leaves the overlay, so its stream is refreshed.
    fn record_push(&self, response: &PushResponse) -> Result<(), DeskError> {
        self.write(|tx| {
            let mut refresh: Vec<StreamId> = Vec::new();
            for o in &response.outcomes {
                refresh.extend(log::record_outcome(tx, o)?);
            }
            if response.last_client_seq > log::acknowledged(tx)? {
                log::set_acknowledged(tx, response.last_client_seq)?;
            }
            refresh.sort();
            refresh.dedup();
            for stream in &refresh {
                projection::refresh(tx, stream, &[])?;
            }
            Ok(())
        })
    }

    /// The desk's log starts again as a new sync client: new credentials, a new client id,
    /// nothing acknowledged (every event is pushed again), not revoked.
    fn restart_sync(
        &self,
        server_url: &str,
        credentials: &DeskCredentials,
    ) -> Result<Enrolment, DeskError> {
        let server_url = server_url.trim().trim_end_matches('/').to_owned();
        self.write(|tx| {
            let client = onsite_shared::ids::ClientId::from_uuid(uuid::Uuid::now_v7());
            set_setting(tx, "client_id", &client.to_string())?;
            set_setting(tx, "server_url", &server_url)?;
            set_setting(tx, "token", &credentials.token)?;
            tx.execute("DELETE FROM settings WHERE key = 'revoked'", [])?;
            log::set_acknowledged(tx, 0)
        })?;
        Ok(Enrolment::redeemed(server_url, credentials))
    }

    fn set_acked(&self, seq: u64) -> Result<(), DeskError> {
        self.write(|tx| log::set_acknowledged(tx, seq))
    }

    /// Every event not acknowledged yet, as a file head office can import
    /// (`onsite-server import-desk-log`): for a laptop that never gets network again. Written
    /// under a temporary name, synced, then renamed; `to` must not exist. Returns how many.
    pub fn export_log(&self, to: &std::path::Path) -> Result<usize, DeskError> {
        use std::io::Write;
        if to.exists() {
            return Err(DeskError::BadInput(format!(
                "{} exists already; choose a new file",
                to.display()
            )));
        }
        let now = self.now();
        let log = self.read(|conn| {
            let id = Desk::identity(conn)?;
            let client_id = parse_setting(conn, "client_id")?
                .ok_or_else(|| DeskError::Corrupt("no client id".into()))?;
            let (items, _) = log::pending(conn, usize::MAX >> 1)?;
            Ok(onsite_shared::protocol::DeskLog {
                format: onsite_shared::protocol::DESK_LOG_FORMAT.to_owned(),
                conference: id.conference,
                device: id.device,
                exported_at: now,
                push: PushRequest {
                    protocol_version: PROTOCOL_VERSION,
                    client_id,
                    app_version: env!("CARGO_PKG_VERSION").to_owned(),
                    pending_after: 0,
                    device_time: Some(now),
                    items,
                },
            })
        })?;
        let mut partial = to.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let io = |e: std::io::Error| DeskError::BadInput(format!("{}: {e}", to.display()));
        let mut file = std::fs::File::create(&partial).map_err(io)?;
        serde_json::to_writer(&mut file, &log)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, to).map_err(io)?;
        Ok(log.push.items.len())
    }

    /// The server holds only `held` of this desk's sequence, less than the desk had
    /// acknowledged: it was restored from an older backup. What it lacks becomes pending
    /// again (to push at once); returns whether anything did.
    fn server_lacks(&self, held: u64) -> Result<bool, DeskError> {
        self.write(|tx| {
            let acked = log::acknowledged(tx)?;
            if held >= acked {
                return Ok(false);
            }
            tracing::warn!(
                held,
                acked,
                "the server lacks events this desk pushed (a restore): pushing them again"
            );
            log::set_acknowledged(tx, held)?;
            Ok(true)
        })
    }

    /// Forgets the pull position: the next pull starts from the beginning (the remote log
    /// keeps every event once by its id, so nothing is stored twice).
    fn reset_cursor(&self, key: &str) -> Result<(), DeskError> {
        self.write(|tx| {
            tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    fn pull_cursor(&self, key: &str) -> Result<Option<String>, DeskError> {
        self.read(|conn| setting(conn, key))
    }

    /// Where this desk's venue feed stands, and the lowest sequence still `held`.
    fn venue_position(&self) -> Result<(Option<String>, Option<u64>), DeskError> {
        self.read(|conn| Ok((setting(conn, "venue_cursor")?, log::first_held(conn)?)))
    }

    /// Stores one pull page (the response body) and everything it changes, in one transaction.
    pub fn apply_pull_page(&self, body: &[u8]) -> Result<PageApplied, DeskError> {
        self.store_pull_page(DecodedPage::parse(body)?)
    }

    /// Stores one decoded pull page and everything it changes, in one transaction.
    pub fn store_pull_page(&self, page: DecodedPage) -> Result<PageApplied, DeskError> {
        let received = page.events.len();
        if received >= crate::store::BULK_PAGE {
            self.prepare_bulk_write()?;
        }
        let applied = self.write(|tx| {
            let mut fresh = Vec::with_capacity(received);
            for (raw, envelope, event) in &page.events {
                if let Some(position) = log::insert_remote(tx, envelope, raw)? {
                    fresh.push((position, envelope, event));
                }
            }
            projection::refresh_page(tx, &fresh)?;
            set_setting(tx, &page.cursor_key, &page.next_cursor)?;
            let mut refresh: Vec<StreamId> = Vec::new();
            for o in page.outcomes.iter().filter(|o| o.status.is_final()) {
                refresh.extend(log::record_outcome(tx, o)?);
            }
            if let Some(venue) = &page.venue {
                if venue.reset {
                    refresh.extend(log::clear_venue(tx)?);
                }
                refresh.extend(log::insert_venue(tx, &venue.events)?);
                refresh.extend(log::remove_venue(tx, &venue.rejected)?);
                match &venue.cursor {
                    Some(c) => {
                        set_setting(tx, "venue_cursor", c)?;
                        set_setting(tx, "venue_seats", &serde_json::to_string(&venue.seats)?)?;
                    }
                    None => {
                        refresh.extend(log::clear_venue(tx)?);
                        tx.execute(
                            "DELETE FROM settings WHERE key IN ('venue_cursor', 'venue_seats')",
                            [],
                        )?;
                    }
                }
            }
            if received > 0 {
                log::prune_venue(tx)?;
            }
            refresh.sort();
            refresh.dedup();
            for stream in &refresh {
                projection::refresh(tx, stream, &[])?;
            }
            Ok(PageApplied {
                received,
                new: fresh.len(),
                has_more: page.has_more,
            })
        });
        // Freeing a page (thousands of events, each many small allocations) took an eighth
        // of a bootstrap's critical path, the writer's thread; another thread does it.
        // (Should no thread be had, the page is freed here as the closure is dropped.)
        let _ = std::thread::Builder::new()
            .name("desk-free-page".into())
            .spawn(move || drop(page));
        applied
    }

    /// What the last sync round found, as any client of this desk left it.
    pub fn last_sync_outcome(&self) -> Result<SyncOutcome, DeskError> {
        self.read(|conn| {
            Ok(match setting(conn, "last_sync_outcome")? {
                Some(json) => serde_json::from_str(&json).unwrap_or_default(),
                None => SyncOutcome::default(),
            })
        })
    }

    fn record_sync_outcome(&self, outcome: &SyncOutcome) -> Result<(), DeskError> {
        let json = serde_json::to_string(outcome)?;
        self.write(|tx| set_setting(tx, "last_sync_outcome", &json))
    }

    fn sync_succeeded(&self, at: Timestamp) -> Result<(), DeskError> {
        self.write(|tx| set_setting(tx, "last_sync", &time_text(&at)))
    }

    fn set_revoked(&self) -> Result<(), DeskError> {
        self.write(|tx| set_setting(tx, "revoked", &time_text(&self.now())))
    }

    /// The remote log's stream keys, for tests and diagnostics.
    pub fn remote_streams(&self) -> Result<u64, DeskError> {
        self.read(log::remote_stream_count)
    }
}

/// What a refusal means to the sync client.
fn refused(refusal: Refusal) -> SyncError {
    let status = refusal.status;
    let (code, message) = refusal.body.map_or_else(
        || (error_code::HTTP_ERROR.to_owned(), format!("HTTP {status}")),
        |b| (b.code, b.message),
    );
    if code == error_code::REVOKED {
        return SyncError::Revoked;
    }
    if code == error_code::CLIENT_DIVERGED {
        return SyncError::Diverged(message);
    }
    SyncError::Server {
        status,
        code,
        message,
    }
}

/// Trades a one-time code (enrolment or re-enrolment) for a desk's credentials.
async fn redeem(
    transport: &impl Transport,
    server_url: &str,
    code: &str,
) -> Result<DeskCredentials, SyncError> {
    transport
        .redeem(server_url, code)
        .await?
        .said
        .map_err(refused)
}

/// Trades a one-time enrolment code for this desk's credentials and keeps them (over HTTP).
pub async fn enrol(desk: &Desk, server_url: &str, code: &str) -> Result<Enrolment, SyncError> {
    enrol_over(&Http::new()?, desk, server_url, code).await
}

/// [`enrol`], over any transport.
pub async fn enrol_over(
    transport: &impl Transport,
    desk: &Desk,
    server_url: &str,
    code: &str,
) -> Result<Enrolment, SyncError> {
    if let Some(e) = desk.enrolment()? {
        return Err(DeskError::AlreadyEnrolled(e.name).into());
    }
    let credentials = redeem(transport, server_url, code).await?;
    Ok(desk.set_enrolment(server_url, &credentials)?)
}

/// Re-enrols a desk whose database was copied or restored from a backup (its pushes were
/// answered [`SyncError::Diverged`]) with a re-enrolment code head office made for this very
/// desk: a new token, and a new sync client that pushes every event of the log again. The
/// server answers the ones it has already `duplicate`; nothing is lost, nothing counts twice.
pub async fn reenrol(desk: &Desk, server_url: &str, code: &str) -> Result<Enrolment, SyncError> {
    reenrol_over(&Http::new()?, desk, server_url, code).await
}

/// [`reenrol`], over any transport.
pub async fn reenrol_over(
    transport: &impl Transport,
    desk: &Desk,
    server_url: &str,
    code: &str,
) -> Result<Enrolment, SyncError> {
    let Some(current) = desk.enrolment()? else {
        return Err(SyncError::NotEnrolled);
    };
    let credentials = redeem(transport, server_url, code).await?;
    if credentials.device_id != current.device || credentials.conference_id != current.conference {
        return Err(DeskError::BadInput(format!(
            "this code is for desk {} ({}), not this one ({}); ask for this desk's own",
            credentials.name, credentials.device_id, current.device
        ))
        .into());
    }
    Ok(desk.restart_sync(server_url, &credentials)?)
}

/// How the last sync round ended: whether it reached the server, and its error if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub reached: bool,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
struct NetState {
    online: bool,
    skew_ms: Option<i64>,
    last_error: Option<String>,
    diverged: bool,
    /// The server the last round spoke to, and whether it is a venue relay.
    server: Option<String>,
    via_relay: bool,
    /// The protocol version to push with: this desk's, or an older server's.
    protocol: Option<u32>,
    /// When the desk last reported its readiness, and what the server judged.
    reported: Option<(std::time::Instant, onsite_shared::readiness::Readiness)>,
}

/// How often a desk reports its readiness when nothing in its checklist changed.
pub const READINESS_REPORT_EVERY: Duration = Duration::from_secs(30);

/// The background sync of one desk, over HTTP unless told otherwise.
pub struct SyncClient<T: Transport = Http> {
    desk: Arc<Desk>,
    transport: T,
    net: Mutex<NetState>,
    wake: tokio::sync::Notify,
    /// Pause between rounds while everything works.
    pub interval: Duration,
}

struct Fetched {
    page: DecodedPage,
    next_cursor: Option<String>,
    has_more: bool,
}

impl SyncClient {
    pub fn new(desk: Arc<Desk>) -> Result<Self, SyncError> {
        Ok(Self::over(desk, Http::new()?))
    }

    /// Gives one of this desk's seat leases back, then syncs so the desk sees it ended and its
    /// seats back with everyone. Online only: offline, the lease runs until it ends.
    pub async fn return_lease(
        &self,
        lease: onsite_shared::ids::LeaseId,
    ) -> Result<SyncReport, SyncError> {
        let Some(to) = self.desk.enrolment()? else {
            return Err(SyncError::NotEnrolled);
        };
        self.transport
            .return_lease(&to, lease)
            .await?
            .said
            .map_err(refused)?;
        self.sync_once().await
    }

    /// Asks the server to hold `quantity` seats of `seat_type` for this desk (within what head
    /// office's policy lets a desk hold), then syncs so the desk sells from them at once.
    /// Online only; asked twice, it holds twice (each ask is a lease of its own).
    pub async fn ask_lease(
        &self,
        seat_type: onsite_shared::ids::SeatTypeId,
        quantity: u32,
    ) -> Result<SyncReport, SyncError> {
        let Some(to) = self.desk.enrolment()? else {
            return Err(SyncError::NotEnrolled);
        };
        self.transport
            .ask_lease(&to, seat_type, quantity)
            .await?
            .said
            .map_err(refused)?;
        self.sync_once().await
    }
}

/// How long a sale waits for the venue relay's seats before it goes on without them.
pub const VENUE_SEATS_WAIT: Duration = Duration::from_millis(1500);

impl SyncClient {
    /// Sells at the door (and lets the buyers in when `admit` says so). When this desk talks
    /// to a venue relay that holds a venue lease of the seat types sold, and its own leases do
    /// not cover the sale, it first asks the relay for seats from the venue lease: those
    /// tickets are final, as from its own lease. A relay that does not answer within
    /// [`VENUE_SEATS_WAIT`], or has none left, changes nothing: the sale is made as before
    /// (provisional beyond the desk's own leases).
    pub async fn sell(
        &self,
        req: &crate::walk_in::SaleRequest,
        admit: bool,
    ) -> Result<crate::walk_in::SaleReceipt, SyncError> {
        let order = onsite_shared::ids::OrderId::from_uuid(uuid::Uuid::now_v7());
        let relay = {
            let net = self.net();
            net.server.clone().filter(|_| net.via_relay)
        };
        let need = match relay {
            Some(_) => self.desk.venue_need(req)?,
            None => Vec::new(),
        };
        let mut handed = Vec::new();
        let to = match (relay, need.is_empty()) {
            (Some(relay), false) => self.desk.enrolment()?.map(|to| to.at(&relay)),
            _ => None,
        };
        if let Some(to) = &to {
            match self
                .transport
                .venue_seats(to, order, &need, VENUE_SEATS_WAIT)
                .await
            {
                Ok(Answer {
                    said: Ok(seats), ..
                }) => handed = seats.allocations,
                Ok(Answer { said: Err(r), .. }) => {
                    tracing::warn!(status = r.status, "the venue relay handed no seats");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the venue relay did not answer; selling without its seats")
                }
            }
        }
        let sold = self.desk.sell_as(req, admit, order, &handed);
        if let (Err(_), Some(to), false) = (&sold, &to, handed.is_empty()) {
            // Nothing was sold: the seats go back to the venue (if the relay hears).
            let _ = self
                .transport
                .venue_seats(to, order, &[], VENUE_SEATS_WAIT)
                .await;
        }
        let receipt = sold?;
        self.nudge();
        Ok(receipt)
    }
}

impl<T: Transport> SyncClient<T> {
    /// A sync client that reaches the server through `transport`.
    pub fn over(desk: Arc<Desk>, transport: T) -> Self {
        // What the last round of any client of this desk found (a command line is a new
        // process each time): online if it reached the server, its error if it did not.
        let last = desk.last_sync_outcome().unwrap_or_default();
        let net = NetState {
            online: last.reached,
            last_error: last.error,
            ..NetState::default()
        };
        Self {
            desk,
            transport,
            net: Mutex::new(net),
            wake: tokio::sync::Notify::new(),
            interval: Duration::from_secs(5),
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn desk(&self) -> &Arc<Desk> {
        &self.desk
    }

    fn net(&self) -> std::sync::MutexGuard<'_, NetState> {
        self.net
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks the background task for a round now (after a command, or "sync now").
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self) -> Result<SyncStatus, DeskError> {
        let local = self.desk.local_status()?;
        let net = self.net();
        let now = self.desk.now();
        Ok(SyncStatus {
            online: net.online,
            last_sync: local.last_sync,
            pending: local.pending,
            oldest_pending_age_secs: local
                .oldest_pending_at
                .map(|t| (now - t).num_seconds().max(0)),
            skew_ms: net.skew_ms,
            skew_warning: net.skew_ms.is_some_and(|s| s.abs() > SKEW_WARNING_MS),
            revoked: local.revoked,
            enrolled: local.enrolled,
            last_error: net.last_error.clone(),
            diverged: net.diverged,
            server: net.server.clone(),
            via_relay: net.via_relay,
            held: local.held,
        })
    }

    /// What an answer says of the server's clock: this desk's skew against it.
    fn note_date<A>(&self, answer: &Answer<A>) {
        let Some(server) = answer.server_time else {
            return;
        };
        // Over HTTP the time has whole seconds: the skew is known to about a second.
        let skew = (self.desk.now() - server).num_milliseconds();
        self.net().skew_ms = Some(skew);
    }

    fn credentials(&self) -> Result<Enrolment, SyncError> {
        let enrolment = self.desk.enrolment()?.ok_or(SyncError::NotEnrolled)?;
        if self.desk.local_status()?.revoked {
            return Err(SyncError::Revoked);
        }
        Ok(enrolment)
    }

    /// One round: push everything pending, then pull everything new.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let result = self.round().await;
        let mut net = self.net();
        let before = (net.online, net.last_error.clone());
        match &result {
            Ok(_) => {
                net.online = true;
                net.last_error = None;
                net.diverged = false;
            }
            Err(e) => {
                net.online = matches!(
                    e,
                    SyncError::Server { .. } | SyncError::Desk(_) | SyncError::Diverged(_)
                );
                net.last_error = Some(e.to_string());
                net.diverged = matches!(e, SyncError::Diverged(_));
            }
        }
        let after = (net.online, net.last_error.clone());
        drop(net);
        if after != before {
            // Kept for the next process; written when it changes, not every round.
            self.desk.record_sync_outcome(&SyncOutcome {
                reached: after.0,
                error: after.1,
            })?;
        }
        if let Err(SyncError::Revoked) = &result {
            self.desk.set_revoked()?;
        }
        result
    }

    /// One round with the first server that answers, in the desk's order (venue relays, then
    /// the server it enrolled with). A server that cannot be reached, or a relay that does not
    /// know this desk yet, hands over to the next.
    async fn round(&self) -> Result<SyncReport, SyncError> {
        let enrolment = self.credentials()?;
        let servers = self.desk.servers()?;
        let mut failed = None;
        for (i, server) in servers.iter().enumerate() {
            let last = i + 1 == servers.len();
            let to = enrolment.at(server);
            match self.round_at(&enrolment, &to).await {
                Err(SyncError::Unreachable(e)) if !last => {
                    tracing::debug!(%server, error = %e, "server unreachable; trying the next");
                    failed = Some(e);
                }
                Err(SyncError::Server {
                    status: 401, code, ..
                }) if !last && code == error_code::UNAUTHENTICATED => {
                    tracing::info!(%server, "this relay does not know this desk yet; trying the next");
                }
                Err(SyncError::Server { status, code, .. }) if !last && status >= 500 => {
                    // A relay that cannot take anything now (revoked, overloaded, failing).
                    tracing::info!(%server, status, %code, "this server cannot sync now; trying the next");
                }
                other => {
                    let mut net = self.net();
                    net.server = Some(server.clone());
                    if other.is_err() {
                        net.via_relay = false;
                    }
                    drop(net);
                    return other;
                }
            }
        }
        Err(SyncError::Unreachable(failed.unwrap_or_default()))
    }

    /// One round with one server: push, pull (the venue feed too), report readiness.
    async fn round_at(
        &self,
        enrolment: &Enrolment,
        to: &Enrolment,
    ) -> Result<SyncReport, SyncError> {
        let key = cursor_key(&enrolment.server_url, &to.server_url);
        let enrolment = to;
        let mut report = SyncReport::default();
        self.push_all(enrolment, &mut report).await?;
        let mut pulled = self.pull_all(enrolment, &key, &mut report).await;
        if let Ok(true) = pulled {
            // The server was restored and lacks some of what this desk pushed: again now.
            self.push_all(enrolment, &mut report).await?;
            pulled = self.pull_all(enrolment, &key, &mut report).await;
        }
        // Large pages were stored (a bootstrap, a long time offline), whether or not the pull
        // then completed: checkpoint now, not in a check-in, and let the writer's big cache go
        // (it costs every later commit). The pull's own error, if any, is the one reported.
        let settled = self.desk.settle_if_bulk_write();
        pulled?;
        settled?;
        self.desk.sync_succeeded(self.desk.now())?;
        self.report_readiness(enrolment).await;
        Ok(report)
    }

    /// The facts of this desk's readiness checklist, with the clock's skew as measured here.
    pub fn readiness_facts(&self) -> Result<onsite_shared::readiness::Facts, DeskError> {
        let skew = self.net().skew_ms;
        self.desk.readiness_facts(skew)
    }

    /// This desk's readiness checklist, judged here from what it knows now.
    pub fn readiness(&self) -> Result<onsite_shared::readiness::Readiness, DeskError> {
        Ok(onsite_shared::readiness::assess(
            &self.readiness_facts()?,
            &onsite_shared::readiness::Bounds::default(),
        ))
    }

    /// Tells the server how ready this desk is (for head office), when its checklist changed
    /// or every [`READINESS_REPORT_EVERY`]; keeps the server's ticket count for the roster
    /// item. A failure here fails nothing: it is said in the log and tried next round.
    async fn report_readiness(&self, enrolment: &Enrolment) {
        let facts = match self.readiness_facts() {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "gathering the readiness facts");
                return;
            }
        };
        let judged =
            onsite_shared::readiness::assess(&facts, &onsite_shared::readiness::Bounds::default());
        let due = match &self.net().reported {
            Some((at, last)) => at.elapsed() >= READINESS_REPORT_EVERY || *last != judged,
            None => true,
        };
        if !due {
            return;
        }
        match self.transport.report_readiness(enrolment, &facts).await {
            Ok(Answer {
                said: Ok(answer), ..
            }) => {
                if let Err(e) = self.desk.record_server_tickets(answer.server_tickets) {
                    tracing::warn!(error = %e, "keeping the server's ticket count");
                }
                self.net().reported = Some((std::time::Instant::now(), judged));
            }
            Ok(Answer {
                said: Err(refusal), ..
            }) => {
                tracing::debug!(
                    status = refusal.status,
                    "the server did not take the readiness report"
                );
                self.net().reported = Some((std::time::Instant::now(), judged));
            }
            Err(e) => tracing::debug!(error = %e, "reporting readiness"),
        }
    }

    async fn push_all(
        &self,
        enrolment: &Enrolment,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut gaps = 0;
        loop {
            let protocol = self.net().protocol.unwrap_or(PROTOCOL_VERSION);
            let Some(request) = self.desk.push_request(PUSH_BATCH, protocol)? else {
                break;
            };
            let answer = self.transport.push(enrolment, &request).await?;
            self.note_date(&answer);
            let response = match answer.said {
                Ok(response) => response,
                Err(Refusal {
                    status: 400,
                    body: Some(body),
                }) if body.code == error_code::UNSUPPORTED_PROTOCOL
                    && protocol > OLDEST_PROTOCOL_VERSION =>
                {
                    // An older server: speak its version (it never answers `held`).
                    tracing::info!(
                        protocol,
                        "the server speaks an older sync protocol; stepping down"
                    );
                    self.net().protocol = Some(protocol - 1);
                    continue;
                }
                Err(Refusal {
                    status: 409,
                    body: Some(body),
                }) => {
                    if body.code == error_code::CLIENT_DIVERGED {
                        return Err(SyncError::Diverged(body.message));
                    }
                    let Some(expected) = body.expected_client_seq.filter(|_| gaps < 3) else {
                        return Err(SyncError::Server {
                            status: 409,
                            code: body.code,
                            message: body.message,
                        });
                    };
                    // The server has less than this desk believed: resend from where it is.
                    gaps += 1;
                    self.desk.set_acked(expected.saturating_sub(1))?;
                    continue;
                }
                Err(refusal) => return Err(refused(refusal)),
            };
            // The server holds more of this desk's sequence than its log has: the file was
            // restored from a backup (or copied) after it had synced. The server cannot tell
            // when what was pushed again is a prefix of what it has; taking its sequence as
            // acknowledged would give the desk's next events numbers the server has, and they
            // would never be sent.
            let appended = self.desk.read(log::appended)?;
            if response.last_client_seq > appended {
                return Err(SyncError::Diverged(format!(
                    "the server has {} events from this desk and its database only {appended}: \
                     it was restored from an older backup (or copied) after it had synced. Ask \
                     head office for a re-enrolment code and re-enrol this desk; it then sends \
                     everything again and nothing is lost",
                    response.last_client_seq
                )));
            }
            for o in &response.outcomes {
                report.pushed += 1;
                match o.status {
                    OutcomeStatus::Compensated => report.compensated += 1,
                    OutcomeStatus::Rejected => report.rejected += 1,
                    OutcomeStatus::Held => report.held += 1,
                    OutcomeStatus::Accepted | OutcomeStatus::Duplicate => {}
                }
            }
            self.desk.record_push(&response)?;
        }
        Ok(())
    }

    /// One page; the first of a round (`first`) also asks for the venue feed and for the
    /// decisions on items still held.
    async fn fetch(
        &self,
        enrolment: &Enrolment,
        key: &str,
        cursor: Option<String>,
        first: bool,
    ) -> Result<Fetched, SyncError> {
        let (venue, decided_from) = if first {
            let (venue, held) = self.desk.venue_position()?;
            (Some(venue.unwrap_or_default()), held)
        } else {
            (None, None)
        };
        let asked_venue = venue.is_some();
        let query = PullQuery {
            client_id: self.desk.client_id()?,
            cursor,
            limit: PULL_LIMIT,
            decided_from,
            venue,
        };
        let answer = self.transport.pull(enrolment, &query).await?;
        self.note_date(&answer);
        let PulledPage {
            body,
            next_cursor,
            has_more,
        } = answer.said.map_err(refused)?;
        let key = key.to_owned();
        let mut page = tokio::task::spawn_blocking(move || DecodedPage::parse(&body))
            .await
            .map_err(|e| DeskError::Corrupt(format!("decoding a page panicked: {e}")))??
            .for_server(key);
        if asked_venue {
            let via_relay = page.venue.is_some();
            self.net().via_relay = via_relay;
            if !via_relay {
                // Not a relay: what a relay's feed said is no longer vouched for.
                page.venue = Some(VenueUpdate {
                    events: Vec::new(),
                    rejected: Vec::new(),
                    cursor: None,
                    reset: false,
                    seats: Vec::new(),
                });
            }
        }
        Ok(Fetched {
            page,
            next_cursor,
            has_more,
        })
    }

    /// Pulls until up to date. Returns whether the server lacks events this desk had pushed
    /// (it was restored from an older backup): they are pending again.
    async fn pull_all(
        &self,
        enrolment: &Enrolment,
        key: &str,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let mut cursor = self.desk.pull_cursor(key)?;
        let mut fetched = match self.fetch(enrolment, key, cursor.clone(), true).await {
            // The cursor is another database's (the server was restored): from the start.
            Err(SyncError::Server {
                status: 410, code, ..
            }) if code == error_code::CURSOR_RESET => {
                tracing::warn!("the server's database changed (a restore): pulling from the start");
                self.desk.reset_cursor(key)?;
                cursor = None;
                self.fetch(enrolment, key, None, true).await?
            }
            other => other?,
        };
        let lacks = match fetched.page.last_client_seq {
            Some(held) => self.desk.server_lacks(held)?,
            None => false,
        };
        loop {
            // Ask for the next page while this one is applied.
            let next = match (&fetched.next_cursor, fetched.has_more) {
                (Some(c), true) => Some(self.fetch(enrolment, key, Some(c.clone()), false)),
                _ => None,
            };
            let desk = Arc::clone(&self.desk);
            let page = fetched.page;
            let apply = tokio::task::spawn_blocking(move || desk.store_pull_page(page));
            let (applied, next) = match next {
                Some(next) => {
                    let (applied, next) = tokio::join!(apply, next);
                    (applied, Some(next))
                }
                None => (apply.await, None),
            };
            let applied = applied
                .map_err(|e| DeskError::Corrupt(format!("applying a page panicked: {e}")))??;
            report.pulled += applied.new as u64;
            if !applied.has_more {
                return Ok(lacks);
            }
            fetched = match next {
                Some(next) => next?,
                None => {
                    // No cursor header (an older server): ask with the stored cursor.
                    let c = self.desk.pull_cursor(key)?;
                    if c == cursor {
                        return Ok(lacks);
                    }
                    cursor = c;
                    self.fetch(enrolment, key, cursor.clone(), false).await?
                }
            };
        }
    }

    /// Syncs until `shutdown` completes: a round every `interval`, at once when nudged, with
    /// exponential backoff (1 s doubling to 30 s, ±50 % jitter) while the server is
    /// unreachable. Stops for good when the desk is revoked.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            let delay = match self.sync_once().await {
                Ok(_) => {
                    failures = 0;
                    if self.net().via_relay {
                        self.interval.min(RELAY_INTERVAL)
                    } else {
                        self.interval
                    }
                }
                Err(SyncError::Revoked) => {
                    tracing::warn!("desk revoked; syncing stops, the local log stays");
                    return;
                }
                Err(SyncError::NotEnrolled) => Duration::from_secs(3600),
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::info!(error = %e, failures, "sync failed; backing off");
                    backoff(failures)
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(delay) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

/// 1 s doubling up to 30 s, each with ±50 % jitter so desks that lost the server together do
/// not come back together.
pub fn backoff(failures: u32) -> Duration {
    let base_ms = 1_000u64
        .saturating_mul(1 << failures.saturating_sub(1).min(5))
        .min(30_000);
    let mut r = [0u8; 2];
    let jitter = if getrandom::fill(&mut r).is_ok() {
        f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    // base × [0.5, 1.5)
    Duration::from_millis((base_ms as f64 * (0.5 + jitter)) as u64)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_to_thirty_seconds_with_jitter() {
        for failures in 1..20 {
            let d = backoff(failures).as_millis();
            let base = (1_000u128 << (failures - 1).min(5)).min(30_000);
            assert!(d >= base / 2 && d <= base * 3 / 2, "{failures}: {d} ms");
        }
    }
}
