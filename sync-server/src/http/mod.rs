//! The HTTP API under `/v1`: JSON in and out, errors as `{code, message}`.
//!
//! Status codes: no or unknown credentials 401 (`auth.unauthenticated`), a revoked desk 401
//! (`auth.revoked`), another conference 403 (`auth.forbidden`), malformed JSON 400
//! (`request.malformed`), a body over the limit 413 (`request.too_large`), an unknown event type
//! or schema version 400 with its own code, something that does not exist (a conference, an
//! order, a desk, a conflict, a route) 404, a domain rule 422 with the rule's code, a sync gap
//! 409 with `expected_client_seq`. None of them changes any state.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};

use crate::App;
use crate::storage::Store;

mod badges;
mod conferences;
mod devices;
mod docs;
pub(crate) mod error;
mod extract;
mod hand_outs;
mod leases;
mod openapi;
mod orders;
mod payments;
mod public;
mod readiness;
mod reads;
mod relays;
mod rooms;
pub mod sync;

pub(crate) use badges::svg_response;
pub use error::ApiError;
pub use extract::{AdminAuth, Body, DeskAuth, Params, QueryParams, RelayAuth};
pub use openapi::ApiDoc;
pub use orders::{OrderView, PlacedOrder, TicketView};
pub use relays::relay_router;
pub use sync::{HAS_MORE_HEADER, NEXT_CURSOR_HEADER};

/// Every `/v1` route, each noun's own router merged here.
pub fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/health", get(health))
        .merge(openapi::router())
        .merge(docs::router())
        .merge(sync::router())
        .merge(devices::router())
        .merge(conferences::router())
        .merge(badges::router())
        .merge(hand_outs::router())
        .merge(rooms::router())
        .merge(leases::router())
        .merge(readiness::router())
        .merge(relays::router())
        .merge(orders::router())
        .merge(payments::router())
        .merge(public::router())
        .merge(reads::router())
}

fn now() -> onsite_shared::Timestamp {
    chrono::Utc::now()
}

/// Is the server up?
///
/// The server's version and the database schema version it knows. Answers without a database
/// round trip, for load balancers and monitoring.
#[utoipa::path(get, path = "/v1/health", tag = "server", responses((status = 200, description = "The server is up: its version and the database schema version it knows", body = Object)))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": crate::storage::migrations::LATEST,
    }))
}
