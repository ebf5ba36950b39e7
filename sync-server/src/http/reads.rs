//! What head office reads: registrations, admissions, walk-in sales, conflicts.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use onsite_shared::protocol::ErrorBody;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{AdminAuth, Params, QueryParams};
use crate::App;
use crate::storage::Store;
use onsite_shared::ids::ConferenceId;

use crate::head_office;
use crate::recorder::Rejected;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
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
}

// ---- head-office reads ----

/// List registrations.
///
/// Tickets with their holders, seat types, origin (online, import, walk-in) and admission,
/// filtered and paged by the query.
#[utoipa::path(get, path = "/v1/conferences/{conference}/registrations", tag = "head-office", params(("conference" = String, Path, format = Uuid), head_office::RegistrationQuery), security(("head_office" = [])), responses((status = 200, body = head_office::Registrations), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn registrations<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    QueryParams(q): QueryParams<head_office::RegistrationQuery>,
) -> Result<Json<head_office::Registrations>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(head_office::registrations(tx, conference, &q)?)
            })
            .await?,
    ))
}

/// Count admissions.
///
/// Who is in: admitted, expected, and the split by gate and by seat type.
#[utoipa::path(get, path = "/v1/conferences/{conference}/admissions", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = head_office::Admissions), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn admissions<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<head_office::Admissions>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(head_office::admissions(tx, conference)?)
            })
            .await?,
    ))
}

/// Sum walk-in sales.
///
/// What desks sold at the door, per payment method, with what is pending, honoured, rejected
/// and owed back.
#[utoipa::path(get, path = "/v1/conferences/{conference}/walk-ins", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = head_office::WalkIns), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn walk_ins<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<head_office::WalkIns>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(head_office::walk_ins(tx, conference)?)
            })
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ConflictQuery {
    #[serde(default)]
    open: Option<bool>,
}

/// List conflicts.
///
/// What a person must decide: duplicate admissions, sales beyond the quota, payments after
/// expiry; `open=true` for the undecided ones.
#[utoipa::path(get, path = "/v1/conferences/{conference}/conflicts", tag = "head-office", params(("conference" = String, Path, format = Uuid), ConflictQuery), security(("head_office" = [])), responses((status = 200, body = Vec<head_office::ConflictRow>), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn conflicts<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    QueryParams(q): QueryParams<ConflictQuery>,
) -> Result<Json<Vec<head_office::ConflictRow>>, ApiError> {
    let open_only = q.open.unwrap_or(false);
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(head_office::conflicts(tx, conference, open_only)?)
            })
            .await?,
    ))
}
