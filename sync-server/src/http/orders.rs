//! Online registration: an order placed by a buyer, read and changed with its access code.

use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use onsite_shared::error_code;
use onsite_shared::protocol::ErrorBody;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Body, Params};
use super::now;
use crate::App;
use crate::storage::{Store, Tx};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, OrderId, SeatTypeId, TicketCode, TicketId};
use onsite_shared::order::{Order, OrderOrigin, OrderStatus, Registrant};
use onsite_shared::seat_assignments::{Attendee, SeatAssignments};
use onsite_shared::seat_availability::SeatQuantity;

use super::conferences::admin_write;
use crate::recorder::{Recorder, Rejected};
use crate::registration;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route(
            "/v1/conferences/{conference}/orders",
            post(place_order::<S>),
        )
        .route(
            "/v1/conferences/{conference}/orders/find",
            post(find_order::<S>),
        )
        .route("/v1/orders/{order}", get(get_order::<S>))
        .route("/v1/orders/{order}/seats", put(change_seats::<S>))
        .route("/v1/orders/{order}/cancel", post(cancel_order::<S>))
        .route("/v1/orders/{order}/registrant", put(assign_registrant::<S>))
        .route("/v1/orders/{order}/payment", post(pay_order))
        .route("/v1/orders/{order}/seats/{position}", put(assign_seat::<S>))
}

// ---- online registration ----

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewOrder {
    #[serde(default)]
    order_id: Option<OrderId>,
    seats: Vec<SeatQuantity>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub access_code: String,
}

/// Place an order (online registration).
///
/// Reserves the seats asked for and returns the order's id and its access code, which reads and
/// changes the order from then on (`x-access-code`). The seats are held for the reservation window
/// (`reservation_expires_at`, 15 minutes by default); an order that is not paid by then expires
/// and its seats go back (after a short grace period, so that a payment made at the last second
/// still finds them).
///
/// Partial reservations: when fewer seats are left than asked for, the order gets what there is
/// (status `partially_reserved`, `seats` and `total` for what it got); when none are left it gets
/// nothing and owes nothing (total 0). Payment is confirmed by head office or the payment
/// provider's signed webhook, never by the buyer.
#[utoipa::path(post, path = "/v1/conferences/{conference}/orders", tag = "orders", params(("conference" = String, Path, format = Uuid)), request_body = NewOrder, responses((status = 429, description = "`request.rate_limited`: too many orders from this address; `Retry-After` says when", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 201, description = "The order and the access code that reads and changes it", body = PlacedOrder), (status = 400, body = ErrorBody), (status = 422, description = "`conference.not_published`, `order.no_seats`, `order.too_many_seats` (more than `max_seats_per_order`), `order.unknown_seat_type`, `order.already_exists` (the order id is taken)", body = ErrorBody)))]
pub(super) async fn place_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<NewOrder>,
) -> Result<(StatusCode, Json<PlacedOrder>), ApiError> {
    app.guards
        .orders
        .address(peer.ip())
        .map_err(|wait| ApiError::rate_limited(wait.retry_after))?;
    let order_id = new
        .order_id
        .unwrap_or_else(|| OrderId::from_uuid(uuid::Uuid::now_v7()));
    let hold = app.config.hold();
    let access_code = admin_write(&app, conference, None, move |rec| {
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

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketView {
    /// The ticket's place in the order, counting from 1 (`PUT /v1/orders/{order}/seats/{position}`).
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

/// Read an order.
///
/// With its access code (`x-access-code`): its status, seats, priced lines, total, the end of the
/// reservation window, its registrant and, once confirmed, its tickets.
#[utoipa::path(get, path = "/v1/orders/{order}", tag = "orders", params(("order" = String, Path, format = Uuid)), security(("access_code" = [])), responses((status = 200, body = OrderView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`: no access code", body = ErrorBody), (status = 404, description = "`order.not_found` (also for a wrong access code, so codes cannot be probed)", body = ErrorBody)))]
pub(super) async fn get_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
) -> Result<Json<OrderView>, ApiError> {
    let code = access_code(&headers)?;
    let view = app
        .store
        .read(move |tx| {
            let state = registration::check_access(tx, order, &code)?;
            order_view(tx, order, state)
        })
        .await?;
    Ok(Json(view))
}

/// What the registrant sees of an order: its state and its tickets.
fn order_view(tx: &mut dyn Tx, order: OrderId, state: Order) -> Result<OrderView, Rejected> {
    let (assignments, _) =
        crate::event_log::load::<SeatAssignments>(tx, &StreamId::seat_assignments(order))?;
    Ok(OrderView {
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
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct SeatsChange {
    /// The seats the order should hold instead (all of them, not a difference).
    seats: Vec<SeatQuantity>,
}

/// Change the seats of a pending order.
///
/// Replaces the order's seats (give all of them, not a difference) while its reservation window
/// is open: the order is priced again and its seats reserved again, the ones it held counting for
/// it. The window does not restart.
#[utoipa::path(put, path = "/v1/orders/{order}/seats", tag = "orders", params(("order" = String, Path, format = Uuid)), request_body = SeatsChange, security(("access_code" = [])), responses((status = 200, description = "The order as it is now: repriced, its seats reserved again (those that could be had)", body = OrderView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`: no access code", body = ErrorBody), (status = 404, description = "`order.not_found` (also for a wrong access code)", body = ErrorBody), (status = 422, description = "`order.expired` (the window is over), `order.already_confirmed`, `order.cancelled`, `order.no_seats`, `order.too_many_seats`, `order.unknown_seat_type`", body = ErrorBody)))]
pub(super) async fn change_seats<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
    Body(change): Body<SeatsChange>,
) -> Result<Json<OrderView>, ApiError> {
    let code = access_code(&headers)?;
    let view = order_write(&app, order, code, move |rec| {
        registration::update_seats(rec, order, change.seats.clone())?;
        let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
        order_view(rec.tx, order, state)
    })
    .await?;
    Ok(Json(view))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub(super) struct Cancellation {
    /// Why, in the registrant's words (kept on the order's history).
    #[serde(default)]
    reason: String,
}

/// Cancel a pending order.
///
/// The registrant gives the order up before paying: its seats are available again at once. A
/// second cancel changes nothing; a confirmed order is refunded by head office, not cancelled here.
#[utoipa::path(post, path = "/v1/orders/{order}/cancel", tag = "orders", params(("order" = String, Path, format = Uuid)), request_body(content = Cancellation, description = "Optional"), security(("access_code" = [])), responses((status = 200, description = "Cancelled; its seats are available again at once", body = OrderView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`: no access code", body = ErrorBody), (status = 404, description = "`order.not_found` (also for a wrong access code)", body = ErrorBody), (status = 422, description = "`order.already_confirmed` (a paid order is refunded by head office), `order.expired`", body = ErrorBody)))]
pub(super) async fn cancel_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(order): Params<OrderId>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let code = access_code(&headers)?;
    let cancellation: Cancellation = if body.is_empty() {
        Cancellation::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                error_code::MALFORMED,
                e.to_string(),
            )
        })?
    };
    onsite_shared::text::check("the reason", &cancellation.reason, 500, true)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    let reason = if cancellation.reason.trim().is_empty() {
        "cancelled by the registrant".to_owned()
    } else {
        cancellation.reason
    };
    let view = order_write(&app, order, code, move |rec| {
        registration::cancel(rec, order, &reason)?;
        let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
        order_view(rec.tx, order, state)
    })
    .await?;
    Ok(Json(view))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct FindOrder {
    /// The registrant's email, as given on the order (compared without regard to case).
    email: String,
    /// The order's access code.
    access_code: String,
}

/// Find an order by email and access code.
///
/// The book's "find my order": the registrant's email (compared without regard to case) and the
/// order's access code. Limited per address like placing orders, so codes cannot be guessed at
/// speed.
#[utoipa::path(post, path = "/v1/conferences/{conference}/orders/find", tag = "orders", params(("conference" = String, Path, format = Uuid)), request_body = FindOrder, responses((status = 200, body = OrderView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "`order.not_found`: no order of this conference with this email and code (the same answer for either being wrong)", body = ErrorBody), (status = 429, description = "Too many attempts from this address", body = ErrorBody)))]
pub(super) async fn find_order<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Params(conference): Params<ConferenceId>,
    Body(find): Body<FindOrder>,
) -> Result<Json<OrderView>, ApiError> {
    app.guards
        .orders
        .address(peer.ip())
        .map_err(|wait| ApiError::rate_limited(wait.retry_after))?;
    let view = app
        .store
        .read(move |tx| {
            let (order, state) =
                registration::find(tx, conference, &find.email, &find.access_code)?;
            order_view(tx, order, state)
        })
        .await?;
    Ok(Json(view))
}

/// Runs `work` for an order whose access code was checked, with a recorder for its conference.
pub(super) async fn order_write<S, T, F>(
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
        .map_err(ApiError::from)
}

/// Say who registered an order.
///
/// The registrant's name and email (the email finds the order again with its access code).
#[utoipa::path(put, path = "/v1/orders/{order}/registrant", tag = "orders", params(("order" = String, Path, format = Uuid)), request_body = Registrant, security(("access_code" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`: no access code", body = ErrorBody), (status = 404, description = "`order.not_found`", body = ErrorBody), (status = 422, description = "`order.required`, `order.bad_email`, `order.expired`, `order.cancelled`, `text.too_long`", body = ErrorBody)))]
pub(super) async fn assign_registrant<S: Store>(
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

/// Not for buyers: payments are confirmed elsewhere.
///
/// A buyer may not say money arrived: a payment is confirmed by head office
/// (`POST /v1/conferences/{conference}/orders/{order}/payment`) or by the payment provider's
/// signed webhook (`POST /v1/payments/webhook`). Whatever the body, nothing changes.
#[utoipa::path(post, path = "/v1/orders/{order}/payment", tag = "orders", params(("order" = String, Path, format = Uuid)), security(("access_code" = [])), responses((status = 403, description = "`payment.not_trusted`", body = ErrorBody)))]
pub(super) async fn pay_order(Params(_order): Params<OrderId>) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        error_code::PAYMENT_NOT_TRUSTED,
        "a payment is confirmed by head office or the payment provider, not by the buyer",
    )
}

/// Name the attendee of a ticket.
///
/// Positions count from 1, in the order's seats: the first ticket of the order is position 1.
/// Names can be given and changed until the doors; the badge prints what is there then.
#[utoipa::path(put, path = "/v1/orders/{order}/seats/{position}", tag = "orders", params(("order" = String, Path, format = Uuid), ("position" = u32, Path)), request_body = Attendee, security(("access_code" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`: no access code", body = ErrorBody), (status = 404, description = "`order.not_found`", body = ErrorBody), (status = 422, description = "`seat_assignments.not_found` (the order is not confirmed yet), `seat_assignments.unknown_position`, `seat_assignments.name_required`, `seat_assignments.bad_email`, `text.too_long`", body = ErrorBody)))]
pub(super) async fn assign_seat<S: Store>(
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
