//! Seat leases: head office grants and revokes them, a desk gives its own back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use onsite_shared::ids::{ConferenceId, LeaseId};
use onsite_shared::protocol::ErrorBody;
use onsite_shared::seat_availability::LeaseEnd;

use super::conferences::{Created, admin_write};
use super::error::ApiError;
use super::extract::{AdminAuth, DeskAuth, Params};
use super::now;
use crate::App;
use crate::lease::{self, LeaseAsk, LeaseRow, NewLease, Policy};
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route(
            "/v1/conferences/{conference}/leases",
            get(list_leases::<S>).post(grant_lease::<S>),
        )
        .route(
            "/v1/conferences/{conference}/leases/{lease}/revoke",
            post(revoke_lease::<S>),
        )
        .route("/v1/sync/leases/{lease}/return", post(return_lease::<S>))
        .route("/v1/sync/leases", post(ask_lease::<S>))
        .route(
            "/v1/conferences/{conference}/lease-policy",
            get(get_policy::<S>).put(set_policy::<S>),
        )
}

/// Read the lease policy.
///
/// Per seat type: the most seats a desk may hold by asking, what every desk holds without
/// asking, and how many hours such a lease runs.
#[utoipa::path(get, path = "/v1/conferences/{conference}/lease-policy", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = Policy), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn get_policy<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                lease::policy(tx, conference)
            })
            .await?,
    ))
}

/// Set the lease policy.
///
/// Replaces it whole (an empty list: desks may not ask, nobody is given seats). Every desk of
/// the conference is topped up at once to what it holds without asking, and every desk that
/// enrols later when it enrols. Refused whole, changing nothing, when a row is out of bounds
/// or the seats are not there for every desk.
#[utoipa::path(put, path = "/v1/conferences/{conference}/lease-policy", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = Policy, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody), (status = 422, description = "`lease.bad_policy` (an unknown or repeated seat type, more given than allowed, more than 10,000, hours outside 1 to 336, more than 64 rows), `seats.not_enough_to_lease`", body = ErrorBody)))]
pub(super) async fn set_policy<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    super::extract::Body(policy): super::extract::Body<Policy>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| lease::set_policy(rec, &policy),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a seat lease (a desk).
///
/// A desk online keeps seats for itself ("keep 5 workshop seats at this desk"): granted for the
/// hours the policy says, as long as the desk then holds no more of the seat type than the
/// policy's maximum per desk (none without a policy), and the seats are left.
#[utoipa::path(post, path = "/v1/sync/leases", tag = "sync", request_body = LeaseAsk, security(("desk" = [])), responses((status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 422, description = "`lease.over_desk_maximum`, `seats.not_enough_to_lease`, `seats.empty_lease`, `seats.unknown_seat_type`", body = ErrorBody)))]
pub(super) async fn ask_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    super::extract::Body(ask): super::extract::Body<LeaseAsk>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = crate::admin::write_as(
        &app.store,
        desk.conference,
        now(),
        Some(format!("desk {}", desk.device)),
        move |rec| lease::ask(rec, desk.device, &ask),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// Read the seat leases.
///
/// Every lease granted in the conference, newest first: the desk that holds it, the seat type,
/// how many seats were granted, sold from it (and sold after it ended, before the desk heard),
/// still held, given back, until when, and how it ended.
#[utoipa::path(get, path = "/v1/conferences/{conference}/leases", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = [LeaseRow]), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn list_leases<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Vec<LeaseRow>>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                lease::list(tx, conference)
            })
            .await?,
    ))
}

/// Grant a desk a seat lease.
///
/// Holds `quantity` seats of a seat type for one desk until `until`: they leave what online
/// buyers and other desks can have at once, and the desk's walk-in sales from them, offline or
/// not, are final. The desk learns of it at its next sync. Unsold seats go back when the lease
/// ends (revoked, given back by the desk, or at `until`).
#[utoipa::path(post, path = "/v1/conferences/{conference}/leases", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = NewLease, security(("head_office" = [])), responses((status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`seats.not_enough_to_lease` (fewer seats left), `seats.empty_lease`, `seats.unknown_seat_type`, `lease.bad_until` (not after now, or more than 14 days ahead), `lease.desk_not_eligible` (not a desk of this conference, or revoked)", body = ErrorBody)))]
pub(super) async fn grant_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    super::extract::Body(new): super::extract::Body<NewLease>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| lease::grant(rec, &new),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// Revoke a seat lease.
///
/// Its unsold seats go back at once. The desk hears of it at its next sync; what it sold from
/// the lease before then stays sold (the sale happened). Revoking an ended lease changes
/// nothing.
#[utoipa::path(post, path = "/v1/conferences/{conference}/leases/{lease}/revoke", tag = "admin", params(("conference" = String, Path, format = Uuid), ("lease" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`lease.not_found`", body = ErrorBody)))]
pub(super) async fn revoke_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params((conference, id)): Params<(ConferenceId, LeaseId)>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| {
            crate::admin::require_conference(rec.tx, conference)?;
            lease::end(rec, id, LeaseEnd::Revoked, None)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a seat lease back (a desk).
///
/// The desk no longer needs the seats: the unsold ones go back to everyone. Only the desk that
/// holds the lease may; giving back an ended lease changes nothing.
#[utoipa::path(post, path = "/v1/sync/leases/{lease}/return", tag = "sync", params(("lease" = String, Path, format = Uuid)), security(("desk" = [])), responses((status = 204), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 422, description = "`lease.not_found`, `lease.not_this_desk`", body = ErrorBody)))]
pub(super) async fn return_lease<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    Params(id): Params<LeaseId>,
) -> Result<StatusCode, ApiError> {
    crate::admin::write_as(
        &app.store,
        desk.conference,
        now(),
        Some(format!("desk {}", desk.device)),
        move |rec| lease::end(rec, id, LeaseEnd::Returned, Some(desk.device)),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
