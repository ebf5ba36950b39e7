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
use onsite_shared::event::StreamId;
use onsite_shared::ids::{
    ClientId, ConferenceId, DeviceId, OrderId, SeatTypeId, TicketCode, TicketId,
};
use onsite_shared::order::{OrderOrigin, OrderStatus, Payment, Registrant};
use onsite_shared::protocol::{
    ErrorBody, MAX_PULL_LIMIT, PullResponse, PushRequest, PushResponse, error_code,
};
use onsite_shared::seat_assignments::{Attendee, SeatAssignments};
use onsite_shared::seat_availability::SeatQuantity;
use serde::{Deserialize, Serialize};

use crate::admin;
use crate::devices::{self, AuthError, DeskCredentials};
use crate::recorder::{Recorder, Rejected};
use crate::storage::{CursorError, PullError, Store, StoreError};
use crate::sync::{self, Desk, PushError};
use crate::{head_office, registration};

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
            "server.storage",
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
            AuthError::BadCode => {
                ApiError::new(StatusCode::UNAUTHORIZED, "auth.bad_code", e.to_string())
            }
            AuthError::NoConference => {
                ApiError::new(StatusCode::NOT_FOUND, "conference.not_found", e.to_string())
            }
            AuthError::NoDevice => {
                ApiError::new(StatusCode::NOT_FOUND, "device.not_found", e.to_string())
            }
            AuthError::NameRequired => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "device.name_required",
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
                ApiError::new(StatusCode::GONE, "sync.cursor_reset", c.to_string())
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

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_code::TOO_LARGE,
            "the request body is too large",
        );
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        error_code::MALFORMED,
        rejection.body_text(),
    )
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
        .route("/v1/health", get(health))
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

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

#[derive(Deserialize)]
struct EnrolRequest {
    code: String,
}

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

async fn push<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let now = now();
    let skew = req.device_time.map(|t| (t - now).num_milliseconds());
    let req = Arc::new(req);
    let response = app
        .store
        .write(move |tx| {
            let response = sync::push(tx, desk, &req, now)?;
            if let Some(skew) = skew {
                devices::record_skew(tx, desk.device, skew)?;
            }
            Ok::<_, PushError>(response)
        })
        .await?;
    Ok(Json(response))
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    client_id: Option<ClientId>,
    #[serde(default)]
    conference: Option<ConferenceId>,
}

async fn pull<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            error_code::MALFORMED,
            e.body_text(),
        )
    })?;
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
    let page = app.store.pull(desk.conference, q.cursor, limit).await?;
    Ok(Json(PullResponse {
        events: page.events,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
        last_client_seq,
    }))
}

#[derive(Serialize)]
struct Created {
    id: String,
}

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

#[derive(Serialize)]
struct ConferenceView {
    id: ConferenceId,
    details: onsite_shared::conference::ConferenceDetails,
    published: bool,
    seat_types: Vec<onsite_shared::conference::SeatType>,
    attendee_types: Vec<onsite_shared::conference::AttendeeType>,
    remaining: std::collections::BTreeMap<SeatTypeId, i64>,
}

async fn get_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
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
            "conference.not_found",
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

async fn add_seat_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
    Body(new): Body<admin::NewSeatType>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = admin_write(&app, conference, move |rec| admin::add_seat_type(rec, &new)).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Deserialize)]
struct QuotaChange {
    quota: u32,
}

async fn change_quota<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path((conference, seat_type)): Path<(ConferenceId, SeatTypeId)>,
    Body(change): Body<QuotaChange>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| {
        admin::change_quota(rec, seat_type, change.quota)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn define_attendee_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
    Body(new): Body<admin::NewAttendeeType>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| {
        admin::define_attendee_type(rec, &new)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| admin::publish(rec, true)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unpublish<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(&app, conference, move |rec| admin::publish(rec, false)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewDevice {
    name: String,
}

async fn enroll_device<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
    Body(new): Body<NewDevice>,
) -> Result<(StatusCode, Json<devices::Enrolment>), ApiError> {
    let now = now();
    let enrolment = app
        .store
        .write(move |tx| devices::enroll(tx, conference, &new.name, now))
        .await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}

async fn list_devices<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
) -> Result<Json<Vec<devices::DeviceRow>>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| devices::list(tx, Some(conference)))
            .await?,
    ))
}

async fn revoke_device<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(device): Path<DeviceId>,
) -> Result<StatusCode, ApiError> {
    let now = now();
    app.store
        .write(move |tx| devices::revoke(tx, device, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- online registration ----

#[derive(Deserialize)]
struct NewOrder {
    #[serde(default)]
    order_id: Option<OrderId>,
    seats: Vec<SeatQuantity>,
}

#[derive(Serialize, Deserialize)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub access_code: String,
}

async fn place_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(conference): Path<ConferenceId>,
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
            code: "order.not_found",
            message,
        } => ApiError::new(StatusCode::NOT_FOUND, "order.not_found", message),
        other => other.into(),
    }
}

#[derive(Serialize, Deserialize)]
pub struct TicketView {
    pub position: u32,
    pub ticket: TicketId,
    pub code: TicketCode,
    pub seat_type: SeatTypeId,
    pub attendee: Option<Attendee>,
}

#[derive(Serialize, Deserialize)]
pub struct OrderView {
    pub order_id: OrderId,
    pub conference_id: ConferenceId,
    pub status: OrderStatus,
    pub seats: Vec<SeatQuantity>,
    pub lines: Vec<onsite_shared::order::OrderLine>,
    pub total: Option<onsite_shared::money::Money>,
    pub reservation_expires_at: Option<onsite_shared::Timestamp>,
    pub registrant: Option<Registrant>,
    pub tickets: Vec<TicketView>,
}

async fn get_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(order): Path<OrderId>,
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

async fn assign_registrant<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(order): Path<OrderId>,
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

#[derive(Deserialize)]
struct NewPayment {
    #[serde(default)]
    payment: Option<Payment>,
}

async fn pay_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(order): Path<OrderId>,
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
            "order.not_reserved",
            "no seats are reserved for this order yet",
        )),
        registration::PaymentResult::Escalated => Err(ApiError::new(
            StatusCode::CONFLICT,
            "order.expired",
            "the reservation expired before the payment arrived; the organiser has been asked to refund it",
        )),
    }
}

async fn assign_seat<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path((order, position)): Path<(OrderId, u32)>,
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

async fn registrations<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
    query: Result<Query<head_office::RegistrationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<head_office::Registrations>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            error_code::MALFORMED,
            e.body_text(),
        )
    })?;
    Ok(Json(
        app.store
            .read(move |tx| head_office::registrations(tx, conference, &q))
            .await?,
    ))
}

async fn admissions<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
) -> Result<Json<head_office::Admissions>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| head_office::admissions(tx, conference))
            .await?,
    ))
}

async fn walk_ins<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
) -> Result<Json<head_office::WalkIns>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| head_office::walk_ins(tx, conference))
            .await?,
    ))
}

#[derive(Deserialize)]
struct ConflictQuery {
    #[serde(default)]
    open: Option<bool>,
}

async fn conflicts<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Path(conference): Path<ConferenceId>,
    Query(q): Query<ConflictQuery>,
) -> Result<Json<Vec<head_office::ConflictRow>>, ApiError> {
    let open_only = q.open.unwrap_or(false);
    Ok(Json(
        app.store
            .read(move |tx| head_office::conflicts(tx, conference, open_only))
            .await?,
    ))
}
