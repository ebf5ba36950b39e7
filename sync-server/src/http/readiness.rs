//! Readiness before the doors open: desks report, head office reads.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use onsite_shared::ids::ConferenceId;
use onsite_shared::protocol::ErrorBody;
use onsite_shared::readiness::{Facts, ReportAnswer};

use super::error::ApiError;
use super::extract::{AdminAuth, Body, DeskAuth, Params};
use super::now;
use crate::App;
use crate::readiness::{self, DeskReadiness};
use crate::recorder::Rejected;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/sync/readiness", post(report::<S>))
        .route("/v1/conferences/{conference}/readiness", get(list::<S>))
}

/// Report a desk's readiness (a desk).
///
/// The facts of the desk's checklist (roster, last sync, pending events, clock, printer, seats
/// held, disk). The server adds its own ticket count, judges the checklist itself and keeps
/// the facts for head office; the answer has both.
#[utoipa::path(post, path = "/v1/sync/readiness", tag = "sync", request_body = Facts, security(("desk" = [])), responses((status = 200, body = ReportAnswer), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`auth.unauthenticated`, `auth.revoked`", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody), (status = 422, description = "`readiness.bad_report`: a list or a text beyond its bounds", body = ErrorBody)))]
pub(super) async fn report<S: Store>(
    State(app): State<Arc<App<S>>>,
    DeskAuth(desk): DeskAuth,
    Body(facts): Body<Facts>,
) -> Result<Json<ReportAnswer>, ApiError> {
    let now = now();
    Ok(Json(
        app.store
            .write(move |tx| {
                readiness::report(tx, desk.device, desk.conference, facts.clone(), now)
            })
            .await?,
    ))
}

/// Read the desks' readiness.
///
/// Every desk of the conference that is not revoked, with its checklist (each item green,
/// amber or red with the reason; `ready` when all are green) judged now from its last report,
/// aged by how long it has been quiet; `null` for a desk that never reported.
#[utoipa::path(get, path = "/v1/conferences/{conference}/readiness", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = [DeskReadiness]), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn list<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<Vec<DeskReadiness>>, ApiError> {
    let now = now();
    Ok(Json(
        app.store
            .read(move |tx| {
                crate::admin::require_conference(tx, conference)?;
                Ok::<_, Rejected>(readiness::desks(tx, conference, now)?)
            })
            .await?,
    ))
}
