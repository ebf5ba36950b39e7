//! The Onsite sync server: it hosts the authoritative aggregates and re-decides every event a
//! desk pushes; desks pull the authoritative stream back; head office administers conferences
//! and enrols desks through the same API.
//!
//! # Layout
//! - [`storage`]: the SQL interface both backends implement, and the pull;
//!   `storage::sqlite` is the embedded default. [`event_log`]: appending and loading streams
//!   (with snapshots), on top of it.
//! - [`recorder`]: appending events with versions and metadata, projections in the same
//!   transaction; [`projection`]: the server's read models.
//! - [`sync`]: push (re-deciding desk events) and pull.
//! - [`devices`]: desk enrolment and tokens, head-office tokens.
//! - [`admin`]: conference administration; [`registration`]: online orders and their timers;
//!   [`payments`]: who may say an order was paid (head office, a signed provider webhook);
//!   [`lease`]: seats held for a desk's final offline sales; [`readiness`]: desks' checklists
//!   before the doors open;
//!   [`import`] and [`demo`]: bringing registrations in; [`head_office`]: what head office reads.
//! - [`http`]: the `/v1` API, one module per noun, and its error mapping; [`dashboard`]: the
//!   head-office web pages. Both are routers over [`App`], merged in [`app`].
//!
//! The server is a function of a listener and a shutdown future ([`serve`]), so tests start it
//! on port 0.

use std::future::Future;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod accounts;
pub mod admin;
pub mod backup;
pub mod badge_preview;
pub mod connections;
pub mod dashboard;
pub mod demo;
pub mod desk_log;
pub mod devices;
pub mod event_log;
pub mod export;
pub mod head_office;
pub mod http;
pub mod import;
pub mod lease;
pub mod monitoring;
pub mod payments;
pub mod projection;
pub mod readiness;
pub mod recorder;
pub mod registration;
pub mod relay;
pub mod storage;
pub mod sync;

pub use storage::Store;

/// Shared state of the running server: what every route of the API and the dashboard gets.
pub struct App<S> {
    pub store: S,
    pub config: Config,
    pub(crate) guards: Guards,
    /// Imports started from the dashboard, running or done (this process's).
    pub(crate) imports: dashboard::imports::Jobs,
}

impl<S: Store> App<S> {
    /// The server's state over a store: what [`serve`] answers requests with, and what a
    /// caller without a socket (the simulated network) calls the routes' functions with.
    pub async fn open(store: S, config: Config) -> Result<Self, storage::StoreError> {
        let login_key = store.write(|tx| accounts::signing_key(tx, "login")).await?;
        let indexed = store.write(admin::index_slugs).await?;
        if indexed > 0 {
            tracing::info!(
                indexed,
                "indexed the slugs of conferences created before the index"
            );
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        let guards = Guards {
            hasher: accounts::hasher::Hasher::start(threads),
            sign_in: accounts::guard::Guard::sign_in(),
            orders: accounts::guard::Guard::orders(),
            login_key,
        };
        Ok(Self {
            store,
            config,
            guards,
            imports: dashboard::imports::Jobs::default(),
        })
    }
}

/// What keeps floods and guessers from wearing the server down.
pub(crate) struct Guards {
    /// Password checks, on a fixed pool of threads.
    pub hasher: accounts::hasher::Hasher,
    pub sign_in: accounts::guard::Guard,
    pub orders: accounts::guard::Guard,
    /// Signs the sign-in form's pre-session (shared by every process on one database).
    pub login_key: Vec<u8>,
}

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long an online reservation holds its seats before it expires (the book: 15 min).
    pub reservation_hold: chrono::Duration,
    /// How long after that the order really expires and its seats go back (the book's buffer:
    /// the RI waits 14 more minutes; 5 by default here, see `registration::Hold`).
    pub reservation_grace: chrono::Duration,
    /// Whether the public conference read gives exact seat counts, not only "available / few
    /// left / sold out".
    pub public_exact_availability: bool,
    /// The secret payment webhooks are signed with ([`payments`]); none: no webhooks.
    pub payment_webhook_secret: Option<String>,
    /// How long a client may take to send a request's headers (idle connections are closed
    /// after it), and how long a request's body may stall.
    pub client_timeout: std::time::Duration,
    /// The token `/metrics` answers to ([`monitoring`]); none: `/metrics` is off.
    pub metrics_token: Option<String>,
    /// The reverse proxies whose forwarding headers are believed ([`connections`]).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            reservation_hold: chrono::Duration::minutes(15),
            reservation_grace: chrono::Duration::minutes(5),
            public_exact_availability: false,
            payment_webhook_secret: None,
            client_timeout: std::time::Duration::from_secs(15),
            metrics_token: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Config {
    /// How online orders hold their seats.
    pub fn hold(&self) -> registration::Hold {
        registration::Hold {
            window: self.reservation_hold,
            grace: self.reservation_grace,
        }
    }
}

/// The largest request body accepted (a push of 1,000 events with room to spare).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Requests handled at once; the rest are answered 503 at once (load shedding).
pub const MAX_REQUESTS_IN_FLIGHT: usize = 512;

/// The whole HTTP application for a store.
pub fn app<S: Store>(app: Arc<App<S>>) -> axum::Router {
    let body_timeout = app.config.client_timeout;
    axum::Router::new()
        .merge(http::router())
        .merge(dashboard::routes())
        .route("/metrics", axum::routing::get(monitoring::metrics::<S>))
        .fallback(http::error::no_such_route)
        .method_not_allowed_fallback(http::error::method_not_allowed)
        .with_state(app)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .layer(RequestDecompressionLayer::new())
        // The fastest gzip level: a fresh desk's pull is dozens of megabytes of JSON that
        // compress ~15× even so, and level 6 cost more CPU than the pull itself.
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(monitoring::per_request))
        // Every answer: a browser never guesses a content type, and nothing is cached (the
        // dashboard and the API answer with what changes; an asset says otherwise itself).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Serves until `shutdown` completes, then finishes the requests in flight, with the limits
/// of [`connections`]. Alongside the
/// HTTP server, a task fires due reservation timers and returns expired seat leases every half second (and forgets rate-limit
/// state that limits nothing any more, every minute).
pub async fn serve<S: Store>(
    listener: TcpListener,
    store: S,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    monitoring::handle();
    let app_state = Arc::new(
        App::open(store, config)
            .await
            .map_err(std::io::Error::other)?,
    );
    let timers = tokio::spawn(fire_timers(Arc::clone(&app_state)));
    let timeout = app_state.config.client_timeout;
    let trusted = app_state.config.trusted_proxies.clone().into();
    let result = connections::serve(listener, app(app_state), timeout, trusted, shutdown).await;
    timers.abort();
    result
}

async fn fire_timers<S: Store>(app: Arc<App<S>>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        if ticks.is_multiple_of(120) {
            app.guards.sign_in.tidy();
            app.guards.orders.tidy();
        }
        let now = chrono::Utc::now();
        // One write for both: the timer task costs the writer one transaction a tick.
        match app
            .store
            .write(move |tx| {
                let fired = registration::fire_due_timers(tx, now)?;
                Ok::<_, recorder::Rejected>((fired, lease::expire_due(tx, now)?))
            })
            .await
        {
            Ok((0, 0)) => {}
            Ok((fired, expired)) => {
                tracing::info!(
                    fired,
                    expired,
                    "reservation timers fired, seat leases expired"
                );
            }
            Err(e) => tracing::warn!(error = %e, "firing timers failed; retrying"),
        }
    }
}
