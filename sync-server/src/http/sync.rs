//! The sync protocol's routes: push and pull for enrolled desks. Each route is a thin wrapper
//! of a function over [`App`] ([`push_from`], [`pull_for`], [`desk_of`]) that a caller without
//! a socket (the simulated network) uses the same way.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use onsite_shared::error_code;
use onsite_shared::protocol::ErrorBody;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Body, DeskAuth, QueryParams};
use super::now;
use crate::App;
use crate::storage::Store;
use axum::response::{IntoResponse, Response};
use onsite_shared::ids::{ClientId, ConferenceId};
use onsite_shared::protocol::{
    MAX_PULL_LIMIT, OutcomeStatus, PullResponse, PushRequest, PushResponse,
};

use crate::devices;
use crate::sync::{self, Desk, PushError};
use onsite_shared::Timestamp;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/sync/push", post(push::<S>))
        .route("/v1/sync/pull", get(pull::<S>))
}

/// Push a desk's events (a desk).
///
/// The desk's log entries after its last acknowledged `client_seq`, in order, with no gap. The
/// server re-decides each: physical facts are accepted (and flagged when they collide), claims on
/// scarce seats that can no longer be had are answered with compensating events. One outcome per
/// item, in order; a repeated push gets the stored outcomes back and changes nothing.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", request_body = PushRequest, security(("desk" = [])), responses((status = 200, description = "One outcome per item, in order", body = PushResponse), (status = 400, description = "`request.malformed`, `sync.unsupported_protocol`, `sync.too_many_items`, `event.unknown_type`, `event.unknown_schema_version`, `event.bad_payload`", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 403, description = "`auth.forbidden` (another conference's event), `sync.wrong_desk` (an event naming another desk)", body = ErrorBody), (status = 409, description = "`sync.gap`: `expected_client_seq` says where to resume; `sync.client_diverged`: this client id pushed another event at that sequence (re-enrol the desk)", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody)))]
pub(super) async fn push<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    Ok(Json(push_from(&app, desk, req, now()).await?))
}

/// A desk's push as the route decides it, without a socket (the route and the simulated
/// network both call it): checked, re-decided and committed with its outcomes at `now`, the
/// server's clock.
pub async fn push_from<S: Store>(
    app: &App<S>,
    desk: Desk,
    req: PushRequest,
    now: Timestamp,
) -> Result<PushResponse, ApiError> {
    push_forwarded(app, desk, req, None, now).await
}

/// [`push_from`], for a push a venue relay forwarded (`relay`) or the desk's own (`None`).
pub async fn push_forwarded<S: Store>(
    app: &App<S>,
    desk: Desk,
    req: PushRequest,
    relay: Option<sync::Forwarded>,
    now: Timestamp,
) -> Result<PushResponse, ApiError> {
    let skew = req.device_time.map(|t| (t - now).num_milliseconds());
    let mut checked = sync::check(desk, req)?;
    if let Some(relay) = relay {
        checked = checked.forwarded(relay);
    }
    let checked = Arc::new(checked);
    // Held here too, so that the request is freed on this task rather than by the writer.
    let request = Arc::clone(&checked);
    let response = app
        .store
        .write(move |tx| {
            let response = sync::push(tx, desk, &checked, now)?;
            if let Some(skew) = skew {
                devices::record_skew(tx, desk.device, skew)?;
            }
            Ok::<_, PushError>(response)
        })
        .await?;
    drop(request);
    for o in &response.outcomes {
        let status = match o.status {
            OutcomeStatus::Accepted => "accepted",
            OutcomeStatus::Compensated => "compensated",
            OutcomeStatus::Rejected => "rejected",
            OutcomeStatus::Duplicate => "duplicate",
            OutcomeStatus::Held => "held",
        };
        ::metrics::counter!("onsite_events_ingested_total", "status" => status).increment(1);
    }
    Ok(response)
}

/// The desk a token speaks for (what the route's `Authorization: Bearer` says).
pub async fn desk_of<S: Store>(app: &App<S>, token: String) -> Result<Desk, ApiError> {
    Ok(app
        .store
        .read(move |tx| devices::authenticate(tx, &token))
        .await?)
}

/// `next_cursor` of a pull, also sent as a header.
pub const NEXT_CURSOR_HEADER: &str = onsite_shared::protocol::NEXT_CURSOR_HEADER;
/// `has_more` of a pull, also sent as a header.
pub const HAS_MORE_HEADER: &str = onsite_shared::protocol::HAS_MORE_HEADER;

/// What a pull asks for (the route's query string).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    #[serde(default)]
    pub conference: Option<ConferenceId>,
    /// `door` leaves out what a door desk does not project (the order streams); `all` by default.
    #[serde(default)]
    #[param(inline)]
    pub scope: Option<crate::storage::PullScope>,
    /// With `client_id` (protocol 2): the final outcomes of this client's items from this
    /// sequence on come back in `outcomes` (for items a relay answered `held`).
    #[serde(default)]
    pub decided_from: Option<u64>,
    /// The venue cursor (protocol 2; empty for the beginning): a relay answers with the other
    /// desks' held events after it in `venue`. A server that is not a relay ignores it.
    #[serde(default)]
    pub venue: Option<String>,
}

/// One page of a pull: the body (a `PullResponse` as JSON), and what the route also sends as
/// headers.
#[derive(Debug)]
pub struct PulledPage {
    pub body: String,
    pub next_cursor: String,
    pub has_more: bool,
}

/// Pull the authoritative events (a desk).
///
/// The conference's events after the cursor, in the server's order, a page at a time; `has_more`
/// says whether to ask again at once. `scope=door` leaves out the online orders' bookkeeping.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullQuery), security(("desk" = [])), responses((status = 200, description = "The authoritative events after the cursor", body = PullResponse), (status = 400, description = "`sync.bad_cursor`, `request.malformed`", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 403, description = "`auth.forbidden`", body = ErrorBody), (status = 410, description = "`sync.cursor_reset`: the cursor belongs to another database (a restore); pull again from the start", body = ErrorBody)))]
pub(super) async fn pull<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    QueryParams(q): QueryParams<PullQuery>,
) -> Result<Response, ApiError> {
    page_response(pull_for(&app, desk, q).await?)
}

/// A pull page as the route answers it: the body, and the cursor and `has_more` as headers
/// too, so a client can ask for the next page while it is still parsing this one.
pub(super) fn page_response(page: PulledPage) -> Result<Response, ApiError> {
    let has_more = if page.has_more { "true" } else { "false" };
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            ),
            (
                axum::http::HeaderName::from_static(NEXT_CURSOR_HEADER),
                axum::http::HeaderValue::from_str(&page.next_cursor).map_err(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        error_code::SERVER_CURSOR,
                        "the cursor is not a header value",
                    )
                })?,
            ),
            (
                axum::http::HeaderName::from_static(HAS_MORE_HEADER),
                axum::http::HeaderValue::from_static(has_more),
            ),
        ],
        page.body,
    )
        .into_response())
}

/// A desk's pull as the route answers it, without a socket.
pub async fn pull_for<S: Store>(
    app: &App<S>,
    desk: Desk,
    q: PullQuery,
) -> Result<PulledPage, ApiError> {
    if q.conference.is_some_and(|c| c != desk.conference) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            error_code::FORBIDDEN,
            "this desk is enrolled for another conference",
        ));
    }
    let mut extra = serde_json::Map::new();
    if let (Some(client), Some(from)) = (q.client_id, q.decided_from) {
        let decided = app
            .store
            .read(move |tx| {
                sync::decided_outcomes(tx, client, from, onsite_shared::protocol::MAX_DECIDED)
            })
            .await?;
        extra.insert(
            "outcomes".into(),
            serde_json::to_value(decided).map_err(crate::storage::StoreError::from)?,
        );
    }
    pull_page(app, desk.conference, q, extra).await
}

/// One page of a conference's log after the query's cursor, with `last_client_seq` for the
/// query's client and the `extra` fields (a relay's venue feed, decided outcomes).
pub(crate) async fn pull_page<S: Store>(
    app: &App<S>,
    conference: ConferenceId,
    q: PullQuery,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<PulledPage, ApiError> {
    let limit = q.limit.unwrap_or(1_000).clamp(1, MAX_PULL_LIMIT);
    let client = q.client_id;
    // Read the client's sequence first: anything it covers is then surely in the page or before.
    let last_client_seq = app
        .store
        .read(move |tx| sync::last_client_seq(tx, client))
        .await?;
    let page = app
        .store
        .pull(conference, q.cursor, limit, q.scope.unwrap_or_default())
        .await?;
    // A `PullResponse`, written by hand: the events are stored as their wire JSON already.
    let mut body =
        String::with_capacity(page.events.iter().map(|e| e.len() + 1).sum::<usize>() + 128);
    body.push_str("{\"events\":[");
    for (i, e) in page.events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(e);
    }
    let mut tail = extra;
    tail.insert("next_cursor".into(), page.next_cursor.clone().into());
    tail.insert("has_more".into(), page.has_more.into());
    tail.insert("last_client_seq".into(), last_client_seq.into());
    let tail = serde_json::Value::Object(tail).to_string();
    body.push_str("],");
    body.push_str(&tail[1..]);
    Ok(PulledPage {
        body,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
    })
}
