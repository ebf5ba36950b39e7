//! Rooms and sessions: the rooms head office sets, and how full each is.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::ConferenceId;
use onsite_shared::protocol::ErrorBody;
use onsite_shared::room::Room;
use serde::{Deserialize, Serialize};

use super::conferences::admin_write;
use super::error::ApiError;
use super::extract::{AdminAuth, Body, Params};
use crate::App;
use crate::admin;
use crate::head_office::{self, RoomAttendance};
use crate::recorder::Rejected;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new().route(
        "/v1/conferences/{conference}/rooms",
        get(get_rooms::<S>).put(set_rooms::<S>),
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct RoomsView {
    /// The rooms desks scan people into.
    rooms: Vec<Room>,
    /// How full each is now and how many came, every desk's scans counted.
    numbers: Vec<RoomAttendance>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct RoomList {
    /// The whole list (at most 64 rooms); an empty list: none.
    rooms: Vec<Room>,
}

/// Read the rooms.
///
/// The rooms desks can be set to (a workshop, a reception): who may enter (holders of the
/// listed seat types; none listed: everyone), the capacity, and per room how many people are
/// in it now and how many entered at all.
#[utoipa::path(get, path = "/v1/conferences/{conference}/rooms", tag = "head-office", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = RoomsView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn get_rooms<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<RoomsView>, ApiError> {
    Ok(Json(
        app.store
            .read(move |tx| {
                admin::require_conference(tx, conference)?;
                let (conf, _) =
                    crate::event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
                Ok::<_, Rejected>(RoomsView {
                    rooms: conf.rooms,
                    numbers: head_office::rooms(tx, conference)?,
                })
            })
            .await?,
    ))
}

/// Set the rooms.
///
/// Replaces the list of rooms, as a `conference.rooms_set` event desks pull. A desk whose gate
/// is set to a room's name scans people into that room. Each room: `name` (never a gate's
/// name), `seat_types` (holders of these may enter: an add-on such as a workshop, or an
/// admission type such as VIP; none: everyone), `capacity` (none: no limit; desks warn at
/// 80 % and 95 % and refuse at 100 % unless staff give a reason).
#[utoipa::path(put, path = "/v1/conferences/{conference}/rooms", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = RoomList, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request (a negative or fractional capacity)", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody), (status = 422, description = "`conference.bad_rooms` (with the reason: no name, named twice or like a gate, a capacity of 0, more than 64), `conference.unknown_seat_type`, `text.too_long`, `text.control_character`", body = ErrorBody)))]
pub(super) async fn set_rooms<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(body): Body<RoomList>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_rooms(rec, &body.rooms),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
