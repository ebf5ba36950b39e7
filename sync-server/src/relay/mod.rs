//! The venue relay: the same server binary, run at the venue (`onsite-server relay`), so that
//! the desks of one conference keep working together when the venue's uplink fails.
//!
//! Upstream enrols a relay for one conference ([`registry`]). The relay then runs four loops
//! against upstream and serves the desks on the venue network:
//! - **mirror**: pulls the conference's whole log and stores it as it came, so desks pull from
//!   the relay with the same protocol (and a fresh desk bootstraps over the LAN);
//! - **desks**: learns the conference's desks (token hashes, revocations, where each sync
//!   client stands upstream), so desks are known while the uplink is down and a revoked desk
//!   is refused as soon as the relay hears of it;
//! - **forward**: sends each desk's held items upstream in the desk's `client_seq` order, on
//!   its behalf, and keeps upstream's outcomes (exactly once: upstream's sequence per client
//!   makes a repeat answer with the stored outcomes, after a crash or a desk's fail-over);
//! - **status**: tells upstream what it holds and which desks are behind it.
//!
//! A desk's push is stored durably and answered `held` at once ([`held`]); its new events go
//! on the venue feed, which every other desk pulls with the log (protocol 2), so a ticket
//! admitted at one door is admitted at every door within the pull interval.
//!
//! A relay decides nothing: upstream is the authority. It needs no database of its own kind:
//! SQLite in its data directory, the same schema as a server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onsite_shared::ids::{ClientId, ConferenceId, DeviceId};
use onsite_shared::protocol::{
    DeskCredentials, MAX_STATUS_ALLOCATIONS, RelayDesk, RelayPush, RelayStatus, VenueSeatsLeft,
};

use crate::event_log::{self, Append};
use crate::params;
use crate::storage::{Store, StoreError, Tx, time_text};
use crate::{App, Config};

pub mod advertise;
pub mod held;
pub mod registry;
pub mod upstream;
pub mod venue_seats;

use upstream::{Upstream, UpstreamError};

/// Events per mirror page.
const MIRROR_PAGE: u32 = 10_000;
/// Items per forwarded push.
const FORWARD_BATCH: usize = 500;
/// How often the mirror asks upstream for more when it is up to date.
const MIRROR_EVERY: Duration = Duration::from_millis(250);
/// How often the relay learns the desks (and their revocations).
const DESKS_EVERY: Duration = Duration::from_secs(2);
/// How often it tells upstream how it is.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// A desk seen within this is "behind the relay".
const RECENT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("this relay is not enrolled yet: start it once with --code (head office makes one)")]
    NotEnrolled,
    #[error("this relay is enrolled with {enrolled}, not {asked}: use a fresh data directory")]
    OtherUpstream { enrolled: String, asked: String },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the relay keeps about itself (`relay_state`).
#[derive(Debug, Clone)]
pub struct Identity {
    pub upstream: String,
    pub relay: DeviceId,
    pub conference: ConferenceId,
    pub name: String,
    pub token: String,
    /// Names this relay's venue feed (a desk's venue cursor of another feed starts again).
    pub feed: String,
}

fn state(tx: &mut dyn Tx, key: &str) -> Result<Option<String>, StoreError> {
    tx.query(
        "SELECT value FROM relay_state WHERE key = $1",
        params![key.to_owned()],
    )?
    .first()
    .map(|r| r.text(0))
    .transpose()
}

fn set_state(tx: &mut dyn Tx, key: &str, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO relay_state (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key.to_owned(), value.to_owned()],
    )?;
    Ok(())
}

fn identity(tx: &mut dyn Tx) -> Result<Option<Identity>, StoreError> {
    let Some(json) = state(tx, "identity")? else {
        return Ok(None);
    };
    let c: DeskCredentials = serde_json::from_str(&json)?;
    Ok(Some(Identity {
        upstream: state(tx, "upstream")?.unwrap_or_default(),
        relay: c.device_id,
        conference: c.conference_id,
        name: c.name,
        token: c.token,
        feed: state(tx, "feed")?.unwrap_or_default(),
    }))
}

/// The relay's identity: the one kept in its store, or, the first time, the credentials the
/// code buys from upstream (kept before anything else happens).
pub async fn enrol<S: Store>(
    store: &S,
    upstream: &str,
    code: Option<&str>,
) -> Result<Identity, RelayError> {
    let upstream = upstream.trim().trim_end_matches('/').to_owned();
    if let Some(id) = store.read(identity).await? {
        if id.upstream != upstream {
            return Err(RelayError::OtherUpstream {
                enrolled: id.upstream,
                asked: upstream,
            });
        }
        return Ok(id);
    }
    let code = code.ok_or(RelayError::NotEnrolled)?;
    let credentials = upstream::enrol(&upstream, code).await?;
    let json = serde_json::to_string(&credentials).map_err(StoreError::from)?;
    let feed = uuid::Uuid::now_v7().simple().to_string();
    let id = store
        .write(move |tx| {
            set_state(tx, "upstream", &upstream)?;
            set_state(tx, "identity", &json)?;
            set_state(tx, "feed", &feed)?;
            identity(tx)
        })
        .await?;
    id.ok_or(RelayError::NotEnrolled)
}

/// A running relay's shared state: its identity, the link to upstream, and what the routes
/// and loops tell each other.
pub struct Venue {
    pub id: Identity,
    upstream: Upstream,
    /// Wakes the forwarder (a push was held).
    forward: tokio::sync::Notify,
    /// Wakes the mirror (upstream decided something).
    mirror: tokio::sync::Notify,
    /// The desks that pushed or pulled here, and when last.
    seen: Mutex<HashMap<DeviceId, Instant>>,
    /// Whether the last request to upstream got an answer.
    online: AtomicBool,
    /// Set when upstream refused the relay's own token: the loops stop.
    revoked: AtomicBool,
    /// Wakes the status loop (seats were handed out: upstream should hear at once).
    report: tokio::sync::Notify,
    /// What the venue leases have left to hand out, as of the last mirror or allocation.
    seats_left: Mutex<Option<Vec<VenueSeatsLeft>>>,
}

impl Venue {
    pub fn new(id: Identity) -> Result<Self, RelayError> {
        let upstream = Upstream::new(&id.upstream, &id.token)?;
        Ok(Self {
            id,
            upstream,
            forward: tokio::sync::Notify::new(),
            mirror: tokio::sync::Notify::new(),
            seen: Mutex::new(HashMap::new()),
            online: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            seats_left: Mutex::new(None),
            report: tokio::sync::Notify::new(),
        })
    }

    /// A desk spoke to the relay.
    pub fn saw(&self, desk: DeviceId) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(desk, Instant::now());
    }

    /// What the venue leases have left to hand out, as last computed.
    pub fn seats_left(&self) -> Vec<VenueSeatsLeft> {
        self.seats_left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .unwrap_or_default()
    }

    fn seats_left_known(&self) -> bool {
        self.seats_left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// What the venue leases have left now (after a mirror page or an allocation).
    pub fn set_seats_left(&self, left: Vec<VenueSeatsLeft>) {
        *self
            .seats_left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(left);
    }

    /// Seats were handed out: tell upstream now.
    pub fn handed_out(&self) {
        self.report.notify_one();
    }

    /// A push was held: forward it now.
    pub fn held(&self) {
        self.forward.notify_one();
    }

    pub fn online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    fn recent_desks(&self) -> Vec<DeviceId> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut desks: Vec<DeviceId> = seen
            .iter()
            .filter(|(_, at)| at.elapsed() < RECENT)
            .map(|(d, _)| *d)
            .collect();
        desks.sort();
        desks
    }

    fn answered<T>(&self, result: &Result<T, UpstreamError>) {
        match result {
            Err(UpstreamError::Unreachable(_)) => self.online.store(false, Ordering::Relaxed),
            Err(e) if e.relay_refused() => {
                if !self.revoked.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "upstream refused this relay's token: it was revoked; the relay stops forwarding");
                }
                self.online.store(true, Ordering::Relaxed);
            }
            _ => self.online.store(true, Ordering::Relaxed),
        }
    }

    /// Upstream refused the relay's own token: it forwards nothing any more, so it takes
    /// nothing from desks either (they go to their next server).
    pub fn stopped(&self) -> bool {
        self.revoked.load(Ordering::Relaxed)
    }
}

/// Learns the desks once: their rows for authentication (a revoked desk's token stops
/// working here too) and each client's sequence upstream, kept when higher than the relay's.
pub async fn learn_desks<S: Store>(app: &App<S>, venue: &Venue) -> Result<usize, RelayError> {
    let result = venue.upstream.desks().await;
    venue.answered(&result);
    let desks = result?;
    let conference = venue.id.conference;
    let n = desks.len();
    app.store
        .write(move |tx| store_desks(tx, conference, &desks, chrono::Utc::now()))
        .await?;
    Ok(n)
}

fn store_desks(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    desks: &[RelayDesk],
    now: onsite_shared::Timestamp,
) -> Result<(), StoreError> {
    for d in desks {
        tx.execute(
            "INSERT INTO devices (device_id, conference, name, token_hash, created_at, enrolled_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (device_id) DO UPDATE SET \
             name = excluded.name, token_hash = excluded.token_hash, \
             revoked_at = COALESCE(devices.revoked_at, excluded.revoked_at)",
            params![
                d.device_id.to_string(),
                conference.to_string(),
                d.name.clone(),
                d.token_hash.clone(),
                time_text(&now),
                d.revoked.then(|| time_text(&now))
            ],
        )?;
        for c in &d.clients {
            tx.execute(
                "INSERT INTO clients (client_id, device_id, last_client_seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (client_id) DO UPDATE SET last_client_seq = excluded.last_client_seq \
                 WHERE clients.last_client_seq < excluded.last_client_seq \
                 AND clients.device_id = excluded.device_id",
                params![
                    c.client_id.to_string(),
                    d.device_id.to_string(),
                    c.last_client_seq
                ],
            )?;
        }
    }
    Ok(())
}

/// Pulls upstream's log until the mirror is up to date; returns how many events were new.
pub async fn mirror_once<S: Store>(app: &App<S>, venue: &Venue) -> Result<usize, RelayError> {
    let mut new = 0;
    loop {
        let cursor = app.store.read(|tx| state(tx, "mirror_cursor")).await?;
        let result = venue.upstream.pull(cursor.as_deref(), MIRROR_PAGE).await;
        venue.answered(&result);
        let page = match result {
            Err(UpstreamError::Refused { status: 410, .. }) => {
                // Upstream's database was restored: from the start (events kept once by id).
                tracing::warn!("upstream's database changed (a restore): mirroring from the start");
                app.store
                    .write(|tx| {
                        tx.execute("DELETE FROM relay_state WHERE key = 'mirror_cursor'", &[])
                    })
                    .await?;
                continue;
            }
            other => other?,
        };
        let (conference, relay) = (venue.id.conference, venue.id.relay);
        let counted = venue.seats_left_known();
        let has_more = page.has_more;
        let next = page.next_cursor;
        let events = page.events;
        new += app
            .store
            .write(move |tx| {
                let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
                let known = event_log::existing_events(tx, &ids)?;
                let fresh: Vec<Append> = events
                    .iter()
                    .filter(|e| !known.contains(&e.event_id))
                    .map(|e| Append::new(e.clone()))
                    .collect::<Result<_, _>>()?;
                let n = fresh.len();
                event_log::insert_events(tx, conference, fresh)?;
                set_state(tx, "mirror_cursor", &next)?;
                // Only new events change what the venue leases have left (allocations
                // say it themselves).
                let left = if n > 0 || !counted {
                    Some(venue_seats::left(
                        tx,
                        relay,
                        conference,
                        chrono::Utc::now(),
                    )?)
                } else {
                    None
                };
                Ok::<_, StoreError>((n, left))
            })
            .await
            .map(|(n, left)| {
                if let Some(left) = left {
                    venue.set_seats_left(left);
                }
                n
            })?;
        if !has_more {
            return Ok(new);
        }
    }
}

/// Forwards what is held, client by client, batch by batch; returns how many items upstream
/// decided. A client upstream refuses (a gap it cannot fill, a revoked desk) is left for
/// `skip` to say when to try again.
async fn forward_once<S: Store>(
    app: &App<S>,
    venue: &Venue,
    skip: &mut HashMap<ClientId, Instant>,
) -> Result<usize, RelayError> {
    let mut decided = 0;
    let clients = app.store.read(held::unsent_clients).await?;
    for client in clients {
        if skip
            .get(&client)
            .is_some_and(|until| Instant::now() < *until)
        {
            continue;
        }
        while let Some((device, push, allocations)) = app
            .store
            .read(move |tx| held::next_batch(tx, client, FORWARD_BATCH))
            .await?
        {
            let result = venue
                .upstream
                .push(&RelayPush {
                    device_id: device,
                    push,
                    allocations,
                })
                .await;
            venue.answered(&result);
            let response = match result {
                Ok(r) => r,
                Err(e @ UpstreamError::Unreachable(_)) => return Err(e.into()),
                Err(e) if e.relay_refused() => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(%client, desk = %device, error = %e, "upstream refused a desk's items; trying again in a minute");
                    skip.insert(client, Instant::now() + Duration::from_secs(60));
                    break;
                }
            };
            let kept = app
                .store
                .write(move |tx| held::forwarded(tx, client, &response))
                .await?;
            decided += kept;
            venue.mirror.notify_one();
            if kept == 0 {
                break;
            }
        }
    }
    Ok(decided)
}

async fn mirror_loop<S: Store>(app: Arc<App<S>>, venue: Arc<Venue>) {
    let mut failures = 0u32;
    while !venue.stopped() {
        let wait = match mirror_once(&app, &venue).await {
            Ok(_) => {
                failures = 0;
                MIRROR_EVERY
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %e, "mirroring upstream failed; trying again");
                retry(failures)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = venue.mirror.notified() => {}
        }
    }
}

async fn forward_loop<S: Store>(app: Arc<App<S>>, venue: Arc<Venue>) {
    let mut failures = 0u32;
    let mut skip = HashMap::new();
    while !venue.stopped() {
        let wait = match forward_once(&app, &venue, &mut skip).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(decided = n, "forwarded held desk events upstream");
                }
                failures = 0;
                Duration::from_secs(1)
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %e, "forwarding failed; trying again");
                retry(failures)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = venue.forward.notified() => {}
        }
    }
}

async fn desks_loop<S: Store>(app: Arc<App<S>>, venue: Arc<Venue>) {
    let mut tick = tokio::time::interval(DESKS_EVERY);
    while !venue.stopped() {
        tick.tick().await;
        if let Err(e) = learn_desks(&app, &venue).await {
            tracing::debug!(error = %e, "learning the desks failed; trying again");
        }
    }
}

async fn status_loop<S: Store>(app: Arc<App<S>>, venue: Arc<Venue>) {
    let mut tick = tokio::time::interval(STATUS_EVERY);
    while !venue.stopped() {
        tokio::select! {
            _ = tick.tick() => {}
            () = venue.report.notified() => {}
        }
        let read = app
            .store
            .read(|tx| {
                Ok::<_, StoreError>((
                    held::unsent(tx)?,
                    venue_seats::unreported(tx, MAX_STATUS_ALLOCATIONS)?,
                ))
            })
            .await;
        let (held, unreported) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "counting what the relay holds");
                continue;
            }
        };
        let status = RelayStatus {
            held,
            desks: venue.recent_desks(),
            allocations: unreported.iter().map(|(a, _)| *a).collect(),
        };
        let result = venue.upstream.status(&status).await;
        venue.answered(&result);
        match result {
            Ok(()) if !unreported.is_empty() => {
                if let Err(e) = app
                    .store
                    .write(move |tx| venue_seats::reported(tx, &unreported))
                    .await
                {
                    tracing::warn!(error = %e, "noting what upstream heard");
                }
            }
            Ok(()) => {}
            Err(e) => tracing::debug!(error = %e, "telling upstream how the relay is"),
        }
    }
}

/// Up to 2 s between attempts while upstream cannot be reached: the uplink may come back any
/// moment, and what the relay holds should go as soon as it does (one small request per
/// loop, so trying often costs little).
fn retry(failures: u32) -> Duration {
    Duration::from_millis((250u64 << failures.min(3)).min(2_000))
}

/// How a relay is run.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The upstream server's address.
    pub upstream: &'a str,
    /// Head office's one-time code, the first time.
    pub code: Option<&'a str>,
    /// Whether to announce the relay on the venue network (DNS-SD).
    pub advertise: bool,
}

/// Runs a relay on `listener` until `shutdown`: enrolled (or enrolling with the code), the
/// desks learned once if upstream answers (the ones learned before serve otherwise), then the
/// loops, the announcement on the network and the desks' routes.
pub async fn serve<S: Store>(
    listener: tokio::net::TcpListener,
    store: S,
    options: Options<'_>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayError> {
    crate::monitoring::handle();
    let id = enrol(&store, options.upstream, options.code).await?;
    tracing::info!(relay = %id.relay, conference = %id.conference, upstream = %id.upstream, "relay enrolled");
    let app = Arc::new(App::open(store, config).await?);
    let venue = Arc::new(Venue::new(id)?);
    if let Err(e) = learn_desks(&app, &venue).await {
        tracing::warn!(error = %e, "upstream not reached at start: serving the desks known from before");
    }
    let _advert = match listener.local_addr() {
        Ok(addr) if options.advertise => match advertise::advertise(&venue.id, addr) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "not announced on the venue network; desks need its address typed");
                None
            }
        },
        _ => None,
    };
    let tasks = [
        tokio::spawn(mirror_loop(Arc::clone(&app), Arc::clone(&venue))),
        tokio::spawn(forward_loop(Arc::clone(&app), Arc::clone(&venue))),
        tokio::spawn(desks_loop(Arc::clone(&app), Arc::clone(&venue))),
        tokio::spawn(status_loop(Arc::clone(&app), Arc::clone(&venue))),
    ];
    let timeout = app.config.client_timeout;
    let trusted = app.config.trusted_proxies.clone().into();
    let router = crate::http::relay_router(Arc::clone(&app), venue);
    let result = crate::connections::serve(listener, router, timeout, trusted, shutdown).await;
    for t in tasks {
        t.abort();
    }
    result.map_err(|e| StoreError::Database(e.to_string()).into())
}
