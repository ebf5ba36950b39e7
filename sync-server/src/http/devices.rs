//! Desks: enrolment with a one-time code, and head office's enrolling, listing and revoking.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use onsite_shared::protocol::ErrorBody;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{AdminAuth, Body, Params};
use super::now;
use crate::App;
use crate::storage::Store;
use onsite_shared::ids::{ConferenceId, DeviceId};
use onsite_shared::protocol::{DeskCredentials, EnrolRequest};

use crate::devices;
use crate::recorder::Rejected;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/devices/enrol", post(enrol::<S>))
        .route(
            "/v1/conferences/{conference}/devices",
            post(enroll_device::<S>).get(list_devices::<S>),
        )
        .route("/v1/devices/{device}/revoke", post(revoke_device::<S>))
        .route("/v1/devices/{device}/reenrol", post(reenrol_device::<S>))
}

/// Redeem an enrolment code (a desk).
///
/// A desk trades the one-time code head office gave it for its token, which names the desk and
/// its conference for every later call. The code works once and expires.
#[utoipa::path(post, path = "/v1/devices/enrol", tag = "devices", request_body = EnrolRequest, responses((status = 200, description = "The desk's token, scoped to its conference", body = DeskCredentials), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.bad_code`: unknown, used or expired", body = ErrorBody)))]
pub(super) async fn enrol<S: Store>(
    State(app): State<Arc<App<S>>>,
    Body(req): Body<EnrolRequest>,
) -> Result<Json<DeskCredentials>, ApiError> {
    let now = now();
    let credentials = app
        .store
        .write(move |tx| {
            let credentials = devices::redeem(tx, &req.code, now)?;
            // What the lease policy gives every desk, in the same transaction.
            crate::lease::on_enrolment(tx, credentials.conference_id, credentials.device_id, now)?;
            Ok::<_, devices::AuthError>(credentials)
        })
        .await?;
    Ok(Json(credentials))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct NewDevice {
    name: String,
}

/// Enrol a desk.
///
/// Creates a desk of the conference and returns its one-time enrolment code (typed or scanned
/// at the desk, redeemed at `POST /v1/devices/enrol`).
#[utoipa::path(post, path = "/v1/conferences/{conference}/devices", tag = "devices", params(("conference" = String, Path, format = Uuid)), request_body = NewDevice, security(("head_office" = [])), responses((status = 422, description = "`device.name_required`", body = ErrorBody), (status = 201, description = "The one-time enrolment code", body = devices::Enrolment), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn enroll_device<S: Store>(
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

/// List a conference's desks.
///
/// Each desk with its state (enrolled, revoked), its last contact, what it had not pushed yet
/// and how far its clock was off at its last push.
#[utoipa::path(get, path = "/v1/conferences/{conference}/devices", tag = "devices", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = Vec<devices::DeviceRow>), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn list_devices<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Vec<devices::DeviceRow>>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(devices::list(tx, Some(conference))?)
            })
            .await?,
    ))
}

/// Revoke a desk.
///
/// Its token stops working at once (a lost laptop); what it pushed stays.
#[utoipa::path(post, path = "/v1/devices/{device}/revoke", tag = "devices", params(("device" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`device.not_found`", body = ErrorBody)))]
pub(super) async fn revoke_device<S: Store>(
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

/// Re-enrol a desk.
///
/// A new one-time code for an enrolled desk whose database was copied or restored: redeemed,
/// it gives the same desk a new token (the old one stops working), and the desk pushes its
/// log again under a new client id.
#[utoipa::path(post, path = "/v1/devices/{device}/reenrol", tag = "devices", params(("device" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 201, description = "The one-time re-enrolment code", body = devices::Enrolment), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`device.not_found`: no such desk, or revoked", body = ErrorBody)))]
pub(super) async fn reenrol_device<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(device): Params<DeviceId>,
) -> Result<(StatusCode, Json<devices::Enrolment>), ApiError> {
    let now = now();
    let enrolment = app
        .store
        .write(move |tx| devices::reenroll(tx, device, now))
        .await?;
    Ok((StatusCode::CREATED, Json(enrolment)))
}
