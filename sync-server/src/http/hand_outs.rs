//! What the door hands out: the items head office sets, and how many were handed out.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::hand_out::Item;
use onsite_shared::ids::ConferenceId;
use onsite_shared::protocol::ErrorBody;
use serde::{Deserialize, Serialize};

use super::conferences::admin_write;
use super::error::ApiError;
use super::extract::{AdminAuth, Body, Params};
use crate::App;
use crate::admin;
use crate::head_office::{self, ItemHandOuts};
use crate::recorder::Rejected;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new().route(
        "/v1/conferences/{conference}/hand-outs",
        get(get_hand_outs::<S>).put(set_hand_outs::<S>),
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct HandOutsView {
    /// The items the door hands out, and to whom.
    items: Vec<Item>,
    /// How many of each were handed out, by size.
    given: Vec<ItemHandOuts>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct HandOutItems {
    /// The whole list (at most 32 items); an empty list hands out nothing.
    items: Vec<Item>,
}

/// Read the hand-outs.
///
/// The items desks hand out (a T-shirt in sizes, a meal voucher, a workshop kit), who gets
/// each (everyone, or holders of given seat types, add-ons or attendee types), and how many
/// were handed out per item and size.
#[utoipa::path(get, path = "/v1/conferences/{conference}/hand-outs", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = HandOutsView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn get_hand_outs<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<HandOutsView>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                admin::require_conference(tx, conference)?;
                let (conf, _) =
                    crate::event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
                Ok::<_, Rejected>(HandOutsView {
                    items: conf.hand_outs,
                    given: head_office::hand_outs(tx, conference)?.items,
                })
            })
            .await?,
    ))
}

/// Set the hand-outs.
///
/// Replaces the list of items desks hand out, as a `conference.hand_outs_set` event desks
/// pull. Each item: `id` (1 to 40 of `a-z 0-9 - _`), `name`, `sizes` (none, or up to 16
/// different ones), and `seat_types` / `attendee_types` (who gets it; neither: everyone).
#[utoipa::path(put, path = "/v1/conferences/{conference}/hand-outs", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = HandOutItems, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody), (status = 422, description = "`conference.bad_hand_outs` (with the reason), `conference.unknown_seat_type`, `conference.unknown_attendee_type`, `text.too_long`, `text.control_character`", body = ErrorBody)))]
pub(super) async fn set_hand_outs<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(body): Body<HandOutItems>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_hand_outs(rec, &body.items),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
