//! Venue relays. Upstream: head office enrols, lists and revokes a conference's relays; a
//! relay redeems its code, mirrors the log, learns the desks, forwards their pushes and says
//! how it is. A relay itself ([`relay_router`]): the desks' push (held) and pull (with the
//! venue feed), and its health.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use onsite_shared::error_code;
use onsite_shared::ids::{ConferenceId, DeviceId, OrderId};
use onsite_shared::protocol::{
    DeskCredentials, EnrolRequest, ErrorBody, HELD_SINCE, MAX_DECIDED, MAX_VENUE, PushRequest,
    PushResponse, RelayDesk, RelayPush, RelayStatus, VenueSeats, VenueSeatsRequest,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{AdminAuth, Body, DeskAuth, Params, QueryParams, RelayAuth};
use super::now;
use super::sync::{PullQuery, pull_page, push_forwarded};
use crate::App;
use crate::devices::{self, AuthError};
use crate::recorder::Rejected;
use crate::relay::{Venue, held, registry, venue_seats};
use crate::storage::{PullScope, Store, StoreError};
use crate::sync;

/// The most venue-seat allocations one forward may vouch for (a few seat types per sale).
const MAX_ALLOCATIONS: usize = 4 * onsite_shared::protocol::MAX_PUSH_ITEMS;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/relay/enrol", post(enrol::<S>))
        .route("/v1/relay/pull", get(pull::<S>))
        .route("/v1/relay/desks", get(desks::<S>))
        .route("/v1/relay/push", post(push::<S>))
        .route("/v1/relay/status", post(status::<S>))
        .route(
            "/v1/conferences/{conference}/relays",
            post(enroll_relay::<S>).get(list_relays::<S>),
        )
        .route(
            "/v1/conferences/{conference}/relays/{relay}/revoke",
            post(revoke_relay::<S>),
        )
}

/// Redeem a relay's enrolment code (a relay).
///
/// The relay trades the one-time code head office made for it for its token, which names the
/// relay and its conference. The code works once and expires; a desk's code is not a relay's.
#[utoipa::path(post, path = "/v1/relay/enrol", tag = "relays", request_body = EnrolRequest, responses((status = 200, description = "The relay's token, scoped to its conference", body = DeskCredentials), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.bad_code`: unknown, used or expired", body = ErrorBody)))]
pub(super) async fn enrol<S: Store>(
    State(app): State<Arc<App<S>>>,
    Body(req): Body<EnrolRequest>,
) -> Result<Json<DeskCredentials>, ApiError> {
    let now = now();
    Ok(Json(
        app.store
            .write(move |tx| registry::redeem(tx, &req.code, now))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct MirrorQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

/// Pull the conference's whole log (a relay).
///
/// Like a desk's pull, with every stream (the relay serves desks of any scope).
#[utoipa::path(get, path = "/v1/relay/pull", tag = "relays", params(MirrorQuery), security(("relay" = [])), responses((status = 200, description = "The conference's events after the cursor", body = onsite_shared::protocol::PullResponse), (status = 400, description = "`sync.bad_cursor`, `request.malformed`", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 410, description = "`sync.cursor_reset`", body = ErrorBody)))]
pub(super) async fn pull<S: Store>(
    State(app): State<Arc<App<S>>>,
    RelayAuth(relay): RelayAuth,
    QueryParams(q): QueryParams<MirrorQuery>,
) -> Result<Response, ApiError> {
    let q = PullQuery {
        cursor: q.cursor,
        limit: q.limit,
        scope: Some(PullScope::All),
        ..PullQuery::default()
    };
    let page = pull_page(&app, relay.conference, q, serde_json::Map::new()).await?;
    super::sync::page_response(page)
}

/// The conference's desks (a relay).
///
/// Each desk with the hash of its token, whether it is revoked, and the last sequence upstream
/// holds from each of its sync clients: what the relay needs to know the desks while the uplink
/// is down.
#[utoipa::path(get, path = "/v1/relay/desks", tag = "relays", security(("relay" = [])), responses((status = 200, body = Vec<RelayDesk>), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody)))]
pub(super) async fn desks<S: Store>(
    State(app): State<Arc<App<S>>>,
    RelayAuth(relay): RelayAuth,
) -> Result<Json<Vec<RelayDesk>>, ApiError> {
    Ok(Json(
        app.store.read(move |tx| registry::desks(tx, relay)).await?,
    ))
}

/// Forward a desk's push (a relay).
///
/// The desk's push as it made it, decided as that desk's own: the desk is the author, its
/// client's sequence makes a repeat answer with the stored outcomes. Only for a desk of the
/// relay's conference that is enrolled and not revoked.
#[utoipa::path(post, path = "/v1/relay/push", tag = "relays", request_body = RelayPush, security(("relay" = [])), responses((status = 200, description = "One outcome per item, in order", body = PushResponse), (status = 400, description = "As a desk's push: `request.malformed`, `sync.unsupported_protocol`, `sync.too_many_items`, `event.unknown_type`, `event.unknown_schema_version`, `event.bad_payload`", body = ErrorBody), (status = 401, description = "The relay's own token: `auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 403, description = "`relay.not_its_desk` (another conference's, unknown or not enrolled), `auth.revoked` (the desk), `auth.forbidden`, `sync.wrong_desk`", body = ErrorBody), (status = 409, description = "`sync.gap` (with `expected_client_seq`), `sync.client_diverged`", body = ErrorBody)))]
pub(super) async fn push<S: Store>(
    State(app): State<Arc<App<S>>>,
    RelayAuth(relay): RelayAuth,
    Body(req): Body<RelayPush>,
) -> Result<Json<PushResponse>, ApiError> {
    let device = req.device_id;
    let desk = app
        .store
        .read(move |tx| registry::desk_for(tx, relay, device))
        .await
        .map_err(|e| match e {
            AuthError::Revoked => ApiError::new(
                StatusCode::FORBIDDEN,
                error_code::REVOKED,
                format!("desk {device} was revoked"),
            ),
            AuthError::Store(e) => e.into(),
            _ => ApiError::new(
                StatusCode::FORBIDDEN,
                error_code::RELAY_NOT_ITS_DESK,
                format!("desk {device} is not an enrolled desk of this relay's conference"),
            ),
        })?;
    if req.allocations.len() > MAX_ALLOCATIONS {
        return Err(super::error::malformed(format!(
            "at most {MAX_ALLOCATIONS} allocations per forward"
        )));
    }
    let forwarded = sync::Forwarded {
        relay: relay.relay,
        allocations: req.allocations,
    };
    Ok(Json(
        push_forwarded(&app, desk, req.push, Some(forwarded), now()).await?,
    ))
}

/// Say how the relay is (a relay).
///
/// What it holds not yet forwarded, and which desks synced through it lately: head office's
/// desks page shows them.
#[utoipa::path(post, path = "/v1/relay/status", tag = "relays", request_body = RelayStatus, security(("relay" = [])), responses((status = 200, body = Object), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody)))]
pub(super) async fn status<S: Store>(
    State(app): State<Arc<App<S>>>,
    RelayAuth(relay): RelayAuth,
    Body(status): Body<RelayStatus>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if status.desks.len() > registry::MAX_STATUS_DESKS {
        return Err(super::error::malformed(format!(
            "at most {} desks",
            registry::MAX_STATUS_DESKS
        )));
    }
    if status.allocations.len() > onsite_shared::protocol::MAX_STATUS_ALLOCATIONS {
        return Err(super::error::malformed(format!(
            "at most {} allocations",
            onsite_shared::protocol::MAX_STATUS_ALLOCATIONS
        )));
    }
    let now = now();
    app.store
        .write(move |tx| registry::record_status(tx, relay, &status, now))
        .await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewRelay {
    name: String,
}

/// Enrol a venue relay.
///
/// Creates a relay for the conference and returns its one-time code (given to
/// `onsite-server relay --code`, redeemed at `POST /v1/relay/enrol`).
#[utoipa::path(post, path = "/v1/conferences/{conference}/relays", tag = "relays", params(("conference" = String, Path, format = Uuid)), request_body = NewRelay, security(("head_office" = [])), responses((status = 201, description = "The one-time enrolment code", body = devices::Enrolment), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`device.name_required`", body = ErrorBody)))]
pub(super) async fn enroll_relay<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<NewRelay>,
) -> Result<(StatusCode, Json<devices::Enrolment>), ApiError> {
    let now = now();
    let enrolment = app
        .store
        .write(move |tx| registry::enroll(tx, conference, &new.name, now))
        .await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

/// List a conference's venue relays.
///
/// Each relay with its last contact, what it held not yet forwarded and the desks behind it.
#[utoipa::path(get, path = "/v1/conferences/{conference}/relays", tag = "relays", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = Vec<registry::RelayRow>), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn list_relays<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Vec<registry::RelayRow>>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(registry::list(tx, conference)?)
            })
            .await?,
    ))
}

/// Revoke a venue relay.
///
/// Its token stops working at once; what it forwarded stays.
#[utoipa::path(post, path = "/v1/conferences/{conference}/relays/{relay}/revoke", tag = "relays", params(("conference" = String, Path, format = Uuid), ("relay" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`device.not_found`", body = ErrorBody)))]
pub(super) async fn revoke_relay<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params((conference, relay)): Params<(ConferenceId, DeviceId)>,
) -> Result<StatusCode, ApiError> {
    let now = now();
    app.store
        .write(move |tx| registry::revoke(tx, conference, relay, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the relay's own routes, for the venue's desks ----

/// The routes a relay serves the venue's desks.
pub fn relay_router<S: Store>(app: Arc<App<S>>, venue: Arc<Venue>) -> axum::Router {
    let body_timeout = app.config.client_timeout;
    Router::new()
        .route("/v1/health", get(relay_health::<S>))
        .route("/v1/sync/push", post(held_push::<S>))
        .route("/v1/sync/pull", get(venue_pull::<S>))
        .route(
            "/v1/sync/venue-seats/{order}",
            axum::routing::put(venue_seats::<S>),
        )
        .fallback(upstream_only)
        .with_state(app)
        .layer(Extension(venue))
        .layer(axum::extract::DefaultBodyLimit::max(crate::BODY_LIMIT))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::monitoring::per_request))
}

async fn upstream_only(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        error_code::RELAY_UPSTREAM_ONLY,
        format!(
            "this is a venue relay: {} is the upstream server's; ask it there",
            uri.path()
        ),
    )
}

async fn relay_health<S: Store>(
    State(app): State<Arc<App<S>>>,
    Extension(venue): Extension<Arc<Venue>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (held, mirrored, desks) = app
        .store
        .read(move |tx| {
            Ok::<_, StoreError>((
                held::unsent(tx)?,
                crate::storage::count(tx, "SELECT COUNT(*) FROM events", &[])?,
                crate::storage::count(
                    tx,
                    "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL",
                    &[],
                )?,
            ))
        })
        .await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "role": "relay",
        "version": env!("CARGO_PKG_VERSION"),
        "relay": venue.id.relay,
        "name": venue.id.name,
        "conference": venue.id.conference,
        "upstream": venue.id.upstream,
        "upstream_reachable": venue.online(),
        "held": held,
        "mirrored": mirrored,
        "desks": desks,
        "venue_seats": venue.seats_left(),
    })))
}

/// A desk's push at the relay: held, answered at once.
async fn held_push<S: Store>(
    State(app): State<Arc<App<S>>>,
    Extension(venue): Extension<Arc<Venue>>,
    DeskAuth(desk): DeskAuth,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if venue.stopped() {
        return Err(ApiError::relay_revoked());
    }
    venue.saw(desk.device);
    let version = req.protocol_version;
    let checked = Arc::new(sync::check(desk, req)?);
    let now = now();
    let response = app
        .store
        .write(move |tx| held::hold(tx, desk, &checked, now))
        .await?;
    venue.held();
    if version < HELD_SINCE && response.outcomes.iter().any(|o| !o.status.is_final()) {
        // An older desk knows no `held`: it asks again, and gets the decision once made.
        return Err(ApiError::held_at_the_venue());
    }
    Ok(Json(response))
}

/// Seats from the relay's venue leases for a desk's walk-in sale, asked before the payment
/// is taken: handed out at once as far as they go (`allocations` may be fewer than asked, or
/// none), kept for the order. The desk names them in its sale; the relay vouches for them
/// when it forwards the sale, and upstream commits them from the lease.
async fn venue_seats<S: Store>(
    State(app): State<Arc<App<S>>>,
    Extension(venue): Extension<Arc<Venue>>,
    DeskAuth(desk): DeskAuth,
    Params(order): Params<OrderId>,
    Body(ask): Body<VenueSeatsRequest>,
) -> Result<Json<VenueSeats>, ApiError> {
    if venue.stopped() {
        return Err(ApiError::relay_revoked());
    }
    venue.saw(desk.device);
    let relay = venue.id.relay;
    let now = now();
    let (allocations, left) = app
        .store
        .write(move |tx| {
            let allocations = venue_seats::allocate(tx, relay, desk, order, &ask, now)?;
            let left = venue_seats::left(tx, relay, desk.conference, now)?;
            Ok::<_, Rejected>((allocations, left))
        })
        .await?;
    venue.set_seats_left(left);
    venue.handed_out();
    Ok(Json(VenueSeats { allocations }))
}

/// A desk's pull at the relay: the mirrored log, with the venue feed and decided outcomes
/// when asked.
async fn venue_pull<S: Store>(
    State(app): State<Arc<App<S>>>,
    Extension(venue): Extension<Arc<Venue>>,
    DeskAuth(desk): DeskAuth,
    QueryParams(q): QueryParams<PullQuery>,
) -> Result<Response, ApiError> {
    if venue.stopped() {
        return Err(ApiError::relay_revoked());
    }
    venue.saw(desk.device);
    if q.conference.is_some_and(|c| c != desk.conference) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            error_code::FORBIDDEN,
            "this desk is enrolled for another conference",
        ));
    }
    let client = q.client_id;
    let decided_from = q.decided_from;
    let cursor = q.venue.clone();
    let feed = venue.id.feed.clone();
    let seats_left = venue.seats_left();
    let extra = app
        .store
        .read(move |tx| {
            let mut extra = serde_json::Map::new();
            if let (Some(client), Some(from)) = (client, decided_from) {
                extra.insert(
                    "outcomes".into(),
                    serde_json::to_value(held::decided(tx, client, from, MAX_DECIDED)?)?,
                );
            }
            if let Some(cursor) = cursor {
                let page = held::venue(tx, &feed, desk.device, &cursor, MAX_VENUE)?;
                extra.insert("venue".into(), serde_json::to_value(page.entries)?);
                if !seats_left.is_empty() {
                    extra.insert("venue_seats".into(), serde_json::to_value(&seats_left)?);
                }
                extra.insert("venue_cursor".into(), page.cursor.into());
                if page.reset {
                    extra.insert("venue_reset".into(), true.into());
                }
            }
            Ok::<_, StoreError>(extra)
        })
        .await?;
    let page = pull_page(&app, desk.conference, q, extra).await?;
    super::sync::page_response(page)
}
