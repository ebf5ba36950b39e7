//! The HTTP API under `/v1`: JSON in and out, errors as `{code, message}`.
//!
//! Status codes: no or unknown credentials 401 (`auth.unauthenticated`), a revoked desk 401
//! (`auth.revoked`), another conference 403 (`auth.forbidden`), malformed JSON 400
//! (`request.malformed`), a body over the limit 413 (`request.too_large`), an unknown event type
//! or schema version 400 with its own code, a domain rule 422 with the rule's code, a sync gap
//! 409 with `expected_client_seq`. None of them changes any state.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use onsite_shared::conference::Conference;
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{
    ClientId, ConferenceId, DeviceId, OrderId, SeatTypeId, TicketCode, TicketId,
};
use onsite_shared::order::{OrderOrigin, OrderStatus, Payment, Registrant};
use onsite_shared::protocol::{ErrorBody, MAX_PULL_LIMIT, PullResponse, PushRequest, PushResponse};
use onsite_shared::seat_assignments::{Attendee, SeatAssignments};
use onsite_shared::seat_availability::SeatQuantity;
use serde::{Deserialize, Serialize};

use crate::admin;
use crate::devices::{self, AuthError};
use crate::recorder::{Recorder, Rejected};
use crate::storage::{CursorError, PullError, Store, StoreError};
use crate::sync::{self, Desk, PushError};
use crate::{head_office, registration};
use onsite_shared::protocol::{DeskCredentials, EnrolRequest};

/// Shared state of the running server.
pub struct App<S> {
    pub store: S,
    pub config: Config,
}

/// Settings of a running server.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How long an online reservation holds its seats before it expires (the book: 15 min).
    pub reservation_hold: chrono::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            reservation_hold: chrono::Duration::minutes(15),
        }
    }
}

fn now() -> onsite_shared::Timestamp {
    chrono::Utc::now()
}

/// Every error the API returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                expected_client_seq: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.body.code, message = %self.body.message, "request failed");
        }
        (self.status, Json(self.body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::STORAGE,
            "the server could not store or read data",
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unknown => ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                e.to_string(),
            ),
            AuthError::Revoked => {
                ApiError::new(StatusCode::UNAUTHORIZED, error_code::REVOKED, e.to_string())
            }
            AuthError::BadCode => ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::BAD_ENROLMENT_CODE,
                e.to_string(),
            ),
            AuthError::NoConference => ApiError::new(
                StatusCode::NOT_FOUND,
                error_code::CONFERENCE_NOT_FOUND,
                e.to_string(),
            ),
            AuthError::NoDevice => ApiError::new(
                StatusCode::NOT_FOUND,
                error_code::DEVICE_NOT_FOUND,
                e.to_string(),
            ),
            AuthError::NameRequired => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error_code::DEVICE_NAME_REQUIRED,
                e.to_string(),
            ),
            AuthError::Store(e) => e.into(),
        }
    }
}

impl From<Rejected> for ApiError {
    fn from(e: Rejected) -> Self {
        match e {
            Rejected::Domain { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            Rejected::Store(e) => e.into(),
        }
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Gap { expected } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, error_code::GAP, e.to_string());
                err.body.expected_client_seq = Some(expected);
                err
            }
            PushError::BadRequest { code, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            PushError::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, error_code::FORBIDDEN, message)
            }
            PushError::Store(e) => e.into(),
        }
    }
}

impl From<PullError> for ApiError {
    fn from(e: PullError) -> Self {
        match e {
            PullError::Cursor(c @ CursorError::Malformed) => ApiError::new(
                StatusCode::BAD_REQUEST,
                error_code::BAD_CURSOR,
                c.to_string(),
            ),
            PullError::Cursor(c @ CursorError::OtherDatabase) => {
                ApiError::new(StatusCode::GONE, error_code::CURSOR_RESET, c.to_string())
            }
            PullError::Store(e) => e.into(),
        }
    }
}

/// `Json` whose rejections are `{code, message}`: 413 for a body over the limit, 400 otherwise.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// `Path` whose rejections are `{code, message}` (400), like every other error.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Params(v)),
            Err(rejection) => Err(malformed(rejection.body_text())),
        }
    }
}

/// `Query` whose rejections are `{code, message}` (400).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(QueryParams(v)),
            Err(rejection) => Err(malformed(rejection.body_text())),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_code::TOO_LARGE,
            "the request body is too large",
        );
    }
    malformed(rejection.body_text())
}

/// A request that does not parse: 400 `request.malformed`.
fn malformed(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, error_code::MALFORMED, message)
}

fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                "credentials are required",
            )
        })?;
    header
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                "use a Bearer token",
            )
        })
}

/// A request from an enrolled, not revoked desk.
pub struct DeskAuth(pub Desk);

impl<S: Store> FromRequestParts<Arc<App<S>>> for DeskAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let desk = app
            .store
            .read(move |tx| devices::authenticate(tx, &token))
            .await?;
        Ok(DeskAuth(desk))
    }
}

/// A request from head office.
pub struct AdminAuth(pub String);

impl<S: Store> FromRequestParts<Arc<App<S>>> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let who = app.store.read(move |tx| devices::admin(tx, &token)).await?;
        Ok(AdminAuth(who))
    }
}

pub fn router<S: Store>(app: Arc<App<S>>) -> Router {
    Router::new()
        .merge(crate::dashboard::routes())
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/devices/enrol", post(enrol::<S>))
        .route("/v1/sync/push", post(push::<S>))
        .route("/v1/sync/pull", get(pull::<S>))
        .route("/v1/conferences", post(create_conference::<S>))
        .route("/v1/conferences/{conference}", get(get_conference::<S>))
        .route(
            "/v1/conferences/{conference}/seat-types",
            post(add_seat_type::<S>),
        )
        .route(
            "/v1/conferences/{conference}/seat-types/{seat_type}/quota",
            put(change_quota::<S>),
        )
        .route(
            "/v1/conferences/{conference}/attendee-types",
            post(define_attendee_type::<S>),
        )
        .route("/v1/conferences/{conference}/publish", post(publish::<S>))
        .route(
            "/v1/conferences/{conference}/unpublish",
            post(unpublish::<S>),
        )
        .route(
            "/v1/conferences/{conference}/devices",
            post(enroll_device::<S>).get(list_devices::<S>),
        )
        .route("/v1/devices/{device}/revoke", post(revoke_device::<S>))
        .route(
            "/v1/conferences/{conference}/orders",
            post(place_order::<S>),
        )
        .route("/v1/orders/{order}", get(get_order::<S>))
        .route("/v1/orders/{order}/registrant", put(assign_registrant::<S>))
        .route("/v1/orders/{order}/payment", post(pay_order::<S>))
        .route("/v1/orders/{order}/seats/{position}", put(assign_seat::<S>))
        .route(
            "/v1/conferences/{conference}/registrations",
            get(registrations::<S>),
        )
        .route(
            "/v1/conferences/{conference}/admissions",
            get(admissions::<S>),
        )
        .route("/v1/conferences/{conference}/walk-ins", get(walk_ins::<S>))
        .route(
            "/v1/conferences/{conference}/conflicts",
            get(conflicts::<S>),
        )
        .with_state(app)
}

#[utoipa::path(get, path = "/v1/health", tag = "server", responses((status = 200, description = "The server is up", body = Object)))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

#[utoipa::path(post, path = "/v1/devices/enrol", tag = "devices", request_body = EnrolRequest, responses((status = 200, description = "The desk's token, scoped to its conference", body = DeskCredentials), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn enrol<S: Store>(
    State(app): State<Arc<App<S>>>,
    Body(req): Body<EnrolRequest>,
) -> Result<Json<DeskCredentials>, ApiError> {
    let now = now();
    let credentials = app
        .store
        .write(move |tx| devices::redeem(tx, &req.code, now))
        .await?;
    Ok(Json(credentials))
}

#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", request_body = PushRequest, security(("desk" = [])), responses((status = 200, description = "One outcome per item, in order", body = PushResponse), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 403, description = "Another conference", body = ErrorBody), (status = 409, description = "A gap: `expected_client_seq` says where to resume", body = ErrorBody), (status = 413, description = "Body over the limit", body = ErrorBody)))]
async fn push<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let now = now();
    let skew = req.device_time.map(|t| (t - now).num_milliseconds());
    let checked = Arc::new(sync::check(desk, req)?);
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
    Ok(Json(response))
}

/// `next_cursor` of a pull, also sent as a header.
pub const NEXT_CURSOR_HEADER: &str = onsite_shared::protocol::NEXT_CURSOR_HEADER;
/// `has_more` of a pull, also sent as a header.
pub const HAS_MORE_HEADER: &str = onsite_shared::protocol::HAS_MORE_HEADER;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    client_id: Option<ClientId>,
    #[serde(default)]
    conference: Option<ConferenceId>,
    /// `door` leaves out what a door desk does not project (the order streams); `all` by default.
    #[serde(default)]
    #[param(inline)]
    scope: Option<crate::storage::PullScope>,
}

#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullQuery), security(("desk" = [])), responses((status = 200, description = "The authoritative events after the cursor", body = PullResponse), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 403, description = "Another conference", body = ErrorBody), (status = 410, description = "The cursor belongs to another database; start again", body = ErrorBody)))]
async fn pull<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    QueryParams(q): QueryParams<PullQuery>,
) -> Result<Response, ApiError> {
    if q.conference.is_some_and(|c| c != desk.conference) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            error_code::FORBIDDEN,
            "this desk is enrolled for another conference",
        ));
    }
    let limit = q.limit.unwrap_or(1_000).clamp(1, MAX_PULL_LIMIT);
    let client = q.client_id;
    // Read the client's sequence first: anything it covers is then surely in the page or before.
    let last_client_seq = app
        .store
        .read(move |tx| sync::last_client_seq(tx, client))
        .await?;
    let page = app
        .store
        .pull(
            desk.conference,
            q.cursor,
            limit,
            q.scope.unwrap_or_default(),
        )
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
    let tail = serde_json::json!({
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "last_client_seq": last_client_seq,
    })
    .to_string();
    body.push_str("],");
    body.push_str(&tail[1..]);
    // The cursor is in the headers too, so a client can ask for the next page while it is
    // still parsing this one.
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
        body,
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: String,
}

#[utoipa::path(post, path = "/v1/conferences", tag = "admin", request_body = admin::NewConference, security(("head_office" = [])), responses((status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "A domain rule", body = ErrorBody)))]
async fn create_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Body(new): Body<admin::NewConference>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = now();
    let id = new
        .id
        .unwrap_or_else(|| ConferenceId::from_uuid(uuid::Uuid::now_v7()));
    let id = app
        .store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, id, now);
            admin::create_conference(&mut rec, &new)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ConferenceView {
    id: ConferenceId,
    details: onsite_shared::conference::ConferenceDetails,
    published: bool,
    seat_types: Vec<onsite_shared::conference::SeatType>,
    attendee_types: Vec<onsite_shared::conference::AttendeeType>,
    remaining: std::collections::BTreeMap<SeatTypeId, i64>,
}

#[utoipa::path(get, path = "/v1/conferences/{conference}", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = ConferenceView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<ConferenceView>, ApiError> {
    let view = app
        .store
        .read(move |tx| {
            let (c, _) = crate::storage::load::<Conference>(tx, &StreamId::conference(conference))?;
            let (seats, _) = crate::storage::load::<
                onsite_shared::seat_availability::SeatsAvailability,
            >(tx, &StreamId::seats(conference))?;
            Ok::<_, StoreError>((c, seats))
        })
        .await?;
    let (c, seats) = view;
    let details = c.details.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            error_code::CONFERENCE_NOT_FOUND,
            "no such conference",
        )
    })?;
    Ok(Json(ConferenceView {
        id: conference,
        details,
        published: c.published,
        seat_types: c.seat_types.values().cloned().collect(),
        attendee_types: c.attendee_types.values().cloned().collect(),
        remaining: seats.remaining,
    }))
}

async fn admin_write<S, T, F>(
    app: &App<S>,
    conference: ConferenceId,
    work: F,
) -> Result<T, ApiError>
where
    S: Store,
    T: Send + 'static,
    F: Fn(&mut Recorder<'_>) -> Result<T, Rejected> + Send + 'static,
{
    let now = now();
    Ok(app
        .store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, conference, now);
            work(&mut rec)
        })
        .await?)
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/seat-types", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = admin::NewSeatType, security(("head_office" = [])), responses((status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_seat_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<admin::NewSeatType>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = admin_write(&app, conference, move |rec| admin::add_seat_type(rec, &new)).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct QuotaChange {
    quota: u32,
}

#[utoipa::path(put, path = "/v1/conferences/{conference}/seat-types/{seat_type}/quota", tag = "admin", params(("conference" = String, Path, format = Uuid), ("seat_type" = String, Path, format = Uuid)), request_body = QuotaChange, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_quota<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params((conference, seat_type)): Params<(ConferenceId, SeatTypeId)>,
    Body(change): Body<QuotaChange>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| {
        admin::change_quota(rec, seat_type, change.quota)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/attendee-types", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = admin::NewAttendeeType, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn define_attendee_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<admin::NewAttendeeType>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| {
        admin::define_attendee_type(rec, &new)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/publish", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| admin::publish(rec, true)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/unpublish", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unpublish<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| admin::publish(rec, false)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewDevice {
    name: String,
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/devices", tag = "devices", params(("conference" = String, Path, format = Uuid)), request_body = NewDevice, security(("head_office" = [])), responses((status = 201, description = "The one-time enrolment code", body = devices::Enrolment), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enroll_device<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<NewDevice>,
) -> Result<(StatusCode, Json<devices::Enrolment>), ApiError> {
    let now = now();
    let enrolment = app
        .store
        .write(move |tx| devices::enroll(tx, conference, &new.name, now))
        .await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

#[utoipa::path(get, path = "/v1/conferences/{conference}/devices", tag = "devices", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = Vec<devices::DeviceRow>), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn list_devices<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Vec<devices::DeviceRow>>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| devices::list(tx, Some(conference)))
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/devices/{device}/revoke", tag = "devices", params(("device" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_device<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(device): Params<DeviceId>,
) -> Result<StatusCode, ApiError> {
    let now = now();
    app.store
        .write(move |tx| devices::revoke(tx, device, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- online registration ----

#[derive(Deserialize, utoipa::ToSchema)]
struct NewOrder {
    #[serde(default)]
    order_id: Option<OrderId>,
    seats: Vec<SeatQuantity>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub access_code: String,
}

#[utoipa::path(post, path = "/v1/conferences/{conference}/orders", tag = "orders", params(("conference" = String, Path, format = Uuid)), request_body = NewOrder, responses((status = 201, description = "The order and the access code that reads and changes it", body = PlacedOrder), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn place_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<NewOrder>,
) -> Result<(StatusCode, Json<PlacedOrder>), ApiError> {
    let order_id = new
        .order_id
        .unwrap_or_else(|| OrderId::from_uuid(uuid::Uuid::now_v7()));
    let hold = app.config.reservation_hold;
    let access_code = admin_write(&app, conference, move |rec| {
        registration::place_order(rec, order_id, new.seats.clone(), hold, OrderOrigin::Online)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PlacedOrder {
            order_id,
            access_code,
        }),
    ))
}

fn access_code(parts: &axum::http::HeaderMap) -> Result<String, ApiError> {
    parts
        .get("x-access-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                "the order's access code is required",
            )
        })
}

fn not_found(e: Rejected) -> ApiError {
    match e {
        Rejected::Domain {
            code: error_code::ORDER_NOT_FOUND,
            message,
        } => ApiError::new(StatusCode::NOT_FOUND, error_code::ORDER_NOT_FOUND, message),
        other => other.into(),
    }
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketView {
    pub position: u32,
    pub ticket: TicketId,
    pub code: TicketCode,
    pub seat_type: SeatTypeId,
    pub attendee: Option<Attendee>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderView {
    pub order_id: OrderId,
    pub conference_id: ConferenceId,
    pub status: OrderStatus,
    pub seats: Vec<SeatQuantity>,
    pub lines: Vec<onsite_shared::order::OrderLine>,
    pub total: Option<onsite_shared::money::Money>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reservation_expires_at: Option<onsite_shared::Timestamp>,
    pub registrant: Option<Registrant>,
    pub tickets: Vec<TicketView>,
}

#[utoipa::path(get, path = "/v1/orders/{order}", tag = "orders", params(("order" = String, Path, format = Uuid)), security(("access_code" = [])), responses((status = 200, body = OrderView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
) -> Result<Json<OrderView>, ApiError> {
    let code = access_code(&headers)?;
    let view = app
        .store
        .read(move |tx| {
            let state = registration::check_access(tx, order, &code)?;
            let (assignments, _) =
                crate::storage::load::<SeatAssignments>(tx, &StreamId::seat_assignments(order))?;
            Ok::<_, Rejected>((state, assignments))
        })
        .await
        .map_err(not_found)?;
    let (state, assignments) = view;
    Ok(Json(OrderView {
        order_id: order,
        conference_id: state.conference.unwrap_or(ConferenceId::from_u128(0)),
        status: state.status,
        seats: state.seats,
        lines: state.lines,
        total: state.total,
        reservation_expires_at: state.reservation_expires_at,
        registrant: state.registrant,
        tickets: assignments
            .positions
            .into_iter()
            .map(|p| TicketView {
                position: p.seat.position,
                ticket: p.seat.ticket,
                code: p.seat.code,
                seat_type: p.seat.seat_type,
                attendee: p.attendee,
            })
            .collect(),
    }))
}

/// Runs `work` for an order whose access code was checked, with a recorder for its conference.
async fn order_write<S, T, F>(
    app: &App<S>,
    order: OrderId,
    code: String,
    work: F,
) -> Result<T, ApiError>
where
    S: Store,
    T: Send + 'static,
    F: Fn(&mut Recorder<'_>) -> Result<T, Rejected> + Send + 'static,
{
    let now = now();
    app.store
        .write(move |tx| {
            let state = registration::check_access(tx, order, &code)?;
            let conference = state.conference.unwrap_or(ConferenceId::from_u128(0));
            let mut rec = Recorder::new(tx, conference, now);
            work(&mut rec)
        })
        .await
        .map_err(not_found)
}

#[utoipa::path(put, path = "/v1/orders/{order}/registrant", tag = "orders", params(("order" = String, Path, format = Uuid)), request_body = Registrant, security(("access_code" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign_registrant<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
    Body(registrant): Body<Registrant>,
) -> Result<StatusCode, ApiError> {
    let code = access_code(&headers)?;
    order_write(&app, order, code, move |rec| {
        registration::assign_registrant(rec, order, registrant.clone())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewPayment {
    #[serde(default)]
    payment: Option<Payment>,
}

#[utoipa::path(post, path = "/v1/orders/{order}/payment", tag = "orders", params(("order" = String, Path, format = Uuid)), request_body = NewPayment, security(("access_code" = [])), responses((status = 204, description = "Confirmed"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The reservation expired; escalated for a refund", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn pay_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
    Body(new): Body<NewPayment>,
) -> Result<StatusCode, ApiError> {
    let code = access_code(&headers)?;
    let payment = new.payment.unwrap_or(Payment::NotRequired);
    let result = order_write(&app, order, code, move |rec| {
        registration::pay(rec, order, payment.clone())
    })
    .await?;
    match result {
        registration::PaymentResult::Confirmed => Ok(StatusCode::NO_CONTENT),
        registration::PaymentResult::Pending => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_code::ORDER_NOT_RESERVED,
            "no seats are reserved for this order yet",
        )),
        registration::PaymentResult::Escalated => Err(ApiError::new(
            StatusCode::CONFLICT,
            error_code::ORDER_EXPIRED,
            "the reservation expired before the payment arrived; the organiser has been asked to refund it",
        )),
    }
}

#[utoipa::path(put, path = "/v1/orders/{order}/seats/{position}", tag = "orders", params(("order" = String, Path, format = Uuid), ("position" = u32, Path)), request_body = Attendee, security(("access_code" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign_seat<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params((order, position)): Params<(OrderId, u32)>,
    headers: axum::http::HeaderMap,
    Body(attendee): Body<Attendee>,
) -> Result<StatusCode, ApiError> {
    let code = access_code(&headers)?;
    order_write(&app, order, code, move |rec| {
        registration::assign_seat(rec, order, position, attendee.clone())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- head-office reads ----

#[utoipa::path(get, path = "/v1/conferences/{conference}/registrations", tag = "head-office", params(("conference" = String, Path, format = Uuid), head_office::RegistrationQuery), security(("head_office" = [])), responses((status = 200, body = head_office::Registrations), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn registrations<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    QueryParams(q): QueryParams<head_office::RegistrationQuery>,
) -> Result<Json<head_office::Registrations>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| head_office::registrations(tx, conference, &q))
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/conferences/{conference}/admissions", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = head_office::Admissions), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn admissions<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<head_office::Admissions>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| head_office::admissions(tx, conference))
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/conferences/{conference}/walk-ins", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = head_office::WalkIns), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn walk_ins<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<head_office::WalkIns>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| head_office::walk_ins(tx, conference))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ConflictQuery {
    #[serde(default)]
    open: Option<bool>,
}

#[utoipa::path(get, path = "/v1/conferences/{conference}/conflicts", tag = "head-office", params(("conference" = String, Path, format = Uuid), ConflictQuery), security(("head_office" = [])), responses((status = 200, body = Vec<head_office::ConflictRow>), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
async fn conflicts<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    QueryParams(q): QueryParams<ConflictQuery>,
) -> Result<Json<Vec<head_office::ConflictRow>>, ApiError> {
    let open_only = q.open.unwrap_or(false);
    Ok(Json(
        app.store
            .read(move |tx| head_office::conflicts(tx, conference, open_only))
            .await?,
    ))
}

// ---- the OpenAPI document ----

/// The API described from the handlers' annotations and the wire types' derived schemas, served
/// at `/v1/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Onsite sync server",
        description = "Push/pull sync for the desks at the door, online registration, \
                       conference administration and head-office reads. Errors are `{code, message}`."
    ),
    paths(
        health,
        enrol,
        push,
        pull,
        create_conference,
        get_conference,
        add_seat_type,
        change_quota,
        define_attendee_type,
        publish,
        unpublish,
        enroll_device,
        list_devices,
        revoke_device,
        place_order,
        get_order,
        assign_registrant,
        pay_order,
        assign_seat,
        registrations,
        admissions,
        walk_ins,
        conflicts,
    ),
    modifiers(&Security, &EventTypes)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(what))
                .build()
        };
        components.add_security_scheme(
            "desk",
            utoipa::openapi::security::SecurityScheme::Http(bearer(
                "The token a desk got when it redeemed its one-time enrolment code",
            )),
        );
        components.add_security_scheme(
            "head_office",
            utoipa::openapi::security::SecurityScheme::Http(bearer(
                "A head-office token (`onsite-server admin-token create`)",
            )),
        );
        components.add_security_scheme(
            "access_code",
            utoipa::openapi::security::SecurityScheme::ApiKey(ApiKey::Header(
                ApiKeyValue::with_description(
                    "x-access-code",
                    "The access code returned when the order was placed",
                ),
            )),
        );
    }
}

/// Lists the event types the server knows (from `EVENT_TYPES`) on the envelope's `event_type`.
struct EventTypes;

impl utoipa::Modify for EventTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::{ObjectBuilder, RefOr};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(envelope))) = components.schemas.get_mut("Envelope")
        else {
            return;
        };
        let known: Vec<String> = onsite_shared::event::EVENT_TYPES
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .collect();
        let event_type: Object = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(known))
            .description(Some(
                "`prefix.name`; with `schema_version`, says how to read `payload`",
            ))
            .build();
        envelope.properties.insert(
            "event_type".to_owned(),
            RefOr::T(Schema::Object(event_type)),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}
