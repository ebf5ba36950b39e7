//! The Onsite sync server: it hosts the authoritative aggregates and re-decides every event a
//! desk pushes; desks pull the authoritative stream back; head office administers conferences
//! and enrols desks through the same API.
//!
//! # Layout
//! - [`storage`]: the SQL interface both backends implement, the event log, snapshots;
//!   `storage::sqlite` is the embedded default.
//! - [`recorder`]: appending events with versions and metadata, projections in the same
//!   transaction; [`projection`]: the server's read models.
//! - [`sync`]: push (re-deciding desk events) and pull.
//! - [`devices`]: desk enrolment and tokens, head-office tokens.
//! - [`admin`]: conference administration.
//! - [`http`]: the axum routes and error mapping.
//!
//! The server is a function of a listener and a shutdown future ([`serve`]), so tests start it
//! on port 0.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;

pub mod admin;
pub mod devices;
pub mod http;
pub mod projection;
pub mod recorder;
pub mod storage;
pub mod sync;

pub use http::App;
pub use storage::Store;

/// The largest request body accepted (a push of 1,000 events with room to spare).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The whole HTTP application for a store.
pub fn app<S: Store>(store: S) -> axum::Router {
    let app = Arc::new(App { store });
    http::router(app)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve<S: Store>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(store))
        .with_graceful_shutdown(shutdown)
        .await
}
