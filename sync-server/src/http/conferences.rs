//! Conference administration by head office: create, read, seat types and quotas, attendee
//! types, publishing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use onsite_shared::admission_rules::AdmissionRules;
use onsite_shared::error_code;
use onsite_shared::protocol::ErrorBody;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{AdminAuth, Body, Params};
use super::now;
use crate::App;
use crate::storage::Store;
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, SeatTypeId};

use crate::admin;
use crate::recorder::{Recorder, Rejected};
use crate::storage::StoreError;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/conferences", post(create_conference::<S>))
        .route("/v1/conferences/{conference}", get(get_conference::<S>))
        .route(
            "/v1/conferences/{conference}/seat-types",
            post(add_seat_type::<S>),
        )
        .route(
            "/v1/conferences/{conference}/seat-types/{seat_type}",
            put(update_seat_type::<S>),
        )
        .route("/v1/conferences/{conference}/gates", put(set_gates::<S>))
        .route(
            "/v1/conferences/{conference}/result-card",
            put(set_result_card::<S>),
        )
        .route(
            "/v1/conferences/{conference}/seat-types/{seat_type}/admission-rules",
            put(set_admission_rules::<S>),
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
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Created {
    pub(super) id: String,
}

/// Create a conference.
///
/// Head office creates a conference as a draft (unpublished) with its details; seat types, attendee
/// types and quotas follow, and publishing opens it for registration. The slug is the conference's
/// address on a registration site and is unique on the server.
#[utoipa::path(post, path = "/v1/conferences", tag = "admin", request_body = admin::NewConference, security(("head_office" = [])), responses((status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`conference.required` (a name, a slug), `conference.bad_slug`, `conference.slug_taken` (another conference has it), `conference.ends_before_start`, `conference.bad_time_zone` (not an IANA name such as `Europe/Zurich`), `conference.already_exists` (the id is taken), `text.too_long`", body = ErrorBody)))]
pub(super) async fn create_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Body(new): Body<admin::NewConference>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = new
        .id
        .unwrap_or_else(|| ConferenceId::from_uuid(uuid::Uuid::now_v7()));
    let actor = format!("token {}", admin.0);
    admin_write(&app, id, Some(actor), move |rec| {
        admin::create_conference(rec, &new)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ConferenceView {
    id: ConferenceId,
    details: onsite_shared::conference::ConferenceDetails,
    published: bool,
    seat_types: Vec<onsite_shared::conference::SeatType>,
    attendee_types: Vec<onsite_shared::conference::AttendeeType>,
    remaining: std::collections::BTreeMap<SeatTypeId, i64>,
    /// Seats held for desks by open leases, per seat type (not in `remaining`; who holds
    /// them: `/leases`). Left out when none.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    held_for_desks: std::collections::BTreeMap<SeatTypeId, i64>,
    /// The admission rules of the seat types that have any (left out when none has).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    admission_rules: std::collections::BTreeMap<SeatTypeId, AdmissionRules>,
    /// The gates head office named (left out when none).
    #[serde(skip_serializing_if = "is_default_gates")]
    gates: onsite_shared::conference::Gates,
    /// What the check-in card shows (left out while it is the default).
    #[serde(skip_serializing_if = "is_default_card")]
    result_card: onsite_shared::conference::ResultCard,
    /// The rooms desks scan people into (left out when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rooms: Vec<onsite_shared::room::Room>,
}

fn is_default_card(c: &onsite_shared::conference::ResultCard) -> bool {
    *c == onsite_shared::conference::ResultCard::default()
}

fn is_default_gates(g: &onsite_shared::conference::Gates) -> bool {
    *g == onsite_shared::conference::Gates::default()
}

/// Read a conference as head office sees it.
///
/// Its details, whether it is published, its seat types and attendee types, and the seats that
/// can still be reserved per seat type (`remaining`: negative after a quota cut below what is held),
/// and those held for desks by seat leases (`held_for_desks`).
#[utoipa::path(get, path = "/v1/conferences/{conference}", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = ConferenceView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn get_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<Json<ConferenceView>, ApiError> {
    let view = app
        .store
        .read(move |tx| {
            let (c, _) =
                crate::event_log::load::<Conference>(tx, &StreamId::conference(conference))?;
            let (seats, _) = crate::event_log::load::<
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
        held_for_desks: c
            .seat_types
            .keys()
            .map(|t| (*t, seats.leased(*t)))
            .filter(|(_, n)| *n > 0)
            .collect(),
        remaining: seats.remaining,
        admission_rules: c.admission_rules,
        gates: c.gates,
        result_card: c.result_card,
        rooms: c.rooms,
    }))
}

/// Runs `work` on the conference, its events attributed to `actor` (a head-office token by
/// its name; `None`: an online buyer).
pub(super) async fn admin_write<S, T, F>(
    app: &App<S>,
    conference: ConferenceId,
    actor: Option<String>,
    work: F,
) -> Result<T, ApiError>
where
    S: Store,
    T: Send + 'static,
    F: Fn(&mut Recorder<'_>) -> Result<T, Rejected> + Send + 'static,
{
    Ok(admin::write_as(&app.store, conference, now(), actor, work).await?)
}

/// Add a seat type.
///
/// A seat type is what a ticket is for: an admission (lets its holder in) or an add-on (a workshop,
/// a reception: printed on the badge, admits nobody at the door), with a price in the conference's
/// currency, a quota, and what desks may do when it is gone (`reject`, or `overbook`: standing room).
#[utoipa::path(post, path = "/v1/conferences/{conference}/seat-types", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = admin::NewSeatType, security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 201, body = Created), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`conference.required`, `conference.negative_price`, `conference.wrong_currency`, `conference.duplicate_seat_type_name`, `conference.seat_type_exists`, `text.too_long`", body = ErrorBody)))]
pub(super) async fn add_seat_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<admin::NewSeatType>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::add_seat_type(rec, &new),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct QuotaChange {
    quota: u32,
    /// Confirms a quota below the seats already sold or held: they stay sold or held, and the
    /// seat type shows as overbooked (negative remaining) until head office resolves it.
    #[serde(default)]
    overbook: bool,
}

/// Change a seat type's quota.
///
/// Seats already held or sold stay held or sold: a quota below them is allowed and shows as
/// negative remaining (an overbooking to resolve), never as a silent cancellation.
#[utoipa::path(put, path = "/v1/conferences/{conference}/seat-types/{seat_type}/quota", tag = "admin", params(("conference" = String, Path, format = Uuid), ("seat_type" = String, Path, format = Uuid)), request_body = QuotaChange, security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`seats.quota_below_taken` (below the seats sold or held, without `overbook`), `conference.unknown_seat_type`, `seats.unknown_seat_type`", body = ErrorBody)))]
pub(super) async fn change_quota<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params((conference, seat_type)): Params<(ConferenceId, SeatTypeId)>,
    Body(change): Body<QuotaChange>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::change_quota(rec, seat_type, change.quota, change.overbook),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Edit a seat type.
///
/// Its name, description and price (in the conference's currency), and its oversell policy.
/// Orders already placed keep the prices they were placed at; the quota has its own operation
/// and the kind stays (tickets were sold as what they are).
#[utoipa::path(put, path = "/v1/conferences/{conference}/seat-types/{seat_type}", tag = "admin", params(("conference" = String, Path, format = Uuid), ("seat_type" = String, Path, format = Uuid)), request_body = admin::SeatTypeChange, security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`conference.unknown_seat_type`, `conference.required`, `conference.negative_price`, `conference.duplicate_seat_type_name`, `text.too_long`", body = ErrorBody)))]
pub(super) async fn update_seat_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params((conference, seat_type)): Params<(ConferenceId, SeatTypeId)>,
    Body(change): Body<admin::SeatTypeChange>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::update_seat_type(rec, seat_type, &change),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set what the check-in card shows.
///
/// `fields`, in order, for every gate (the name always shows): `company`, `seat_type`,
/// `attendee_type`, `add_ons`, `hand_outs`, `note` (in red), `email` (hidden unless listed),
/// `{"custom": "dietary"}` (a field the import brought); `gates`: a gate's own list by name.
/// The default: seat type, add-ons, hand-outs, note.
#[utoipa::path(put, path = "/v1/conferences/{conference}/result-card", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = onsite_shared::conference::ResultCard, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request (an unknown field)", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.bad_result_card`, `text.too_long`, `text.control_character`", body = ErrorBody)))]
pub(super) async fn set_result_card<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(card): Body<onsite_shared::conference::ResultCard>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_result_card(rec, &card),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the conference's gates.
///
/// Each gate desks may be set to: its name, its direction (`in`, `out`, `both`: a scan lets in
/// whoever is out and out whoever is in) and the zone behind it (`venue` when not said); and
/// `no_reentry`: the zones that let nobody back in once they went out. A gate not listed is an
/// entrance to the venue. The whole list is replaced.
#[utoipa::path(put, path = "/v1/conferences/{conference}/gates", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = onsite_shared::conference::Gates, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request (a direction that is not in, out or both)", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.bad_gates` (a gate named twice, no name, more than 64), `text.too_long`, `text.control_character`", body = ErrorBody)))]
pub(super) async fn set_gates<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(gates): Body<onsite_shared::conference::Gates>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_gates(rec, &gates),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a seat type's admission rules.
///
/// The days (in the conference's time zone) its tickets admit on (`valid_on`, none: every
/// day; each a day of the conference), the earliest local entry time (`earliest_entry`,
/// `"08:00:00"`), and what the door must check (`id_check`, `minor`). Desks judge them
/// offline on the scan time; the server judges again. `{}` takes every rule away.
#[utoipa::path(put, path = "/v1/conferences/{conference}/seat-types/{seat_type}/admission-rules", tag = "admin", params(("conference" = String, Path, format = Uuid), ("seat_type" = String, Path, format = Uuid)), request_body = AdmissionRules, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request (a date or time that does not parse)", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.unknown_seat_type`, `conference.bad_admission_rules` (a day outside the conference, more than 31 days)", body = ErrorBody)))]
pub(super) async fn set_admission_rules<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params((conference, seat_type)): Params<(ConferenceId, SeatTypeId)>,
    Body(rules): Body<AdmissionRules>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_admission_rules(rec, seat_type, &rules),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Define an attendee type.
///
/// Attendee types (speaker, press, staff) are badges' colours and labels; registrations carry
/// any number of them. Defining an existing id again changes its name and colour.
#[utoipa::path(post, path = "/v1/conferences/{conference}/attendee-types", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = admin::NewAttendeeType, security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`conference.bad_attendee_type`, `conference.bad_colour` (not `#RRGGBB`)", body = ErrorBody)))]
pub(super) async fn define_attendee_type<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(new): Body<admin::NewAttendeeType>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::define_attendee_type(rec, &new),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish a conference.
///
/// Opens it for online registration and makes it readable at
/// `GET /v1/public/conferences/{slug}`. Publishing twice changes nothing.
#[utoipa::path(post, path = "/v1/conferences/{conference}/publish", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 422, description = "`conference.nothing_to_sell` (no seat type yet)", body = ErrorBody)))]
pub(super) async fn publish<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::publish(rec, true),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpublish a conference.
///
/// Closes online registration and hides the public page; orders and desks carry on.
#[utoipa::path(post, path = "/v1/conferences/{conference}/unpublish", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody)))]
pub(super) async fn unpublish<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::publish(rec, false),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
