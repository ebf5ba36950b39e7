//! A conference's badges, set by head office: the template set, a template per attendee type,
//! the defaults every desk starts from, and a preview of a template for a sample attendee.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use onsite_shared::badge_template::TemplateSet;
use onsite_shared::conference::{Conference, DeskDefaults};
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{AttendeeTypeId, ConferenceId};
use onsite_shared::protocol::ErrorBody;
use serde::{Deserialize, Serialize};

use super::conferences::admin_write;
use super::error::ApiError;
use super::extract::{AdminAuth, Body, Params, QueryParams};
use crate::App;
use crate::admin;
use crate::recorder::Rejected;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/v1/conferences/{conference}/badges", get(get_badges::<S>))
        .route(
            "/v1/conferences/{conference}/badges/templates",
            put(set_templates::<S>).delete(reset_templates::<S>),
        )
        .route(
            "/v1/conferences/{conference}/badges/templates/{template}/preview",
            get(preview::<S>),
        )
        .route(
            "/v1/conferences/{conference}/attendee-types/{attendee_type}/badge-template",
            put(set_attendee_type_template::<S>),
        )
        .route(
            "/v1/conferences/{conference}/desk-defaults",
            put(set_desk_defaults::<S>),
        )
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct BadgesView {
    /// The template set desks print with (format 1; see the template format in the README).
    #[schema(value_type = Object)]
    templates: TemplateSet,
    /// `true` while head office has set no templates of its own.
    built_in: bool,
    /// The template each attendee type's badges use, where one was chosen.
    attendee_types: BTreeMap<AttendeeTypeId, String>,
    desk_defaults: DeskDefaults,
}

async fn conference<S: Store>(app: &App<S>, id: ConferenceId) -> Result<Conference, ApiError> {
    let conf = app
        .store
        .read(move |tx| {
            crate::event_log::load::<Conference>(tx, &StreamId::conference(id)).map(|(c, _)| c)
        })
        .await?;
    if conf.details.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            error_code::CONFERENCE_NOT_FOUND,
            "no such conference",
        ));
    }
    Ok(conf)
}

/// Read a conference's badge settings.
///
/// The template set desks print with (head office's, or the built-in set of three: 4 × 3 in,
/// A6 and a 54 × 90 mm label), the template per attendee type, and the desk defaults.
#[utoipa::path(get, path = "/v1/conferences/{conference}/badges", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 200, body = BadgesView), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody)))]
pub(super) async fn get_badges<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params(id): Params<ConferenceId>,
) -> Result<Json<BadgesView>, ApiError> {
    let conf = conference(&app, id).await?;
    Ok(Json(BadgesView {
        templates: conf.templates().clone(),
        built_in: conf.badge_templates.is_none(),
        attendee_types: conf.attendee_type_templates.clone(),
        desk_defaults: conf.desk_defaults.clone(),
    }))
}

/// Set the conference's badge templates.
///
/// The body is a whole template set, format 1: `{"format": 1, "templates": [{"id", "name",
/// "page", "elements"}]}`, 1 to 32 templates with distinct ids, each element's box inside its
/// page. It replaces the set desks print with, as a `conference.badge_templates_set` event
/// desks pull. A template that an attendee type or the desk defaults use must stay in the set.
#[utoipa::path(put, path = "/v1/conferences/{conference}/badges/templates", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body(content = Object, description = "A template set, format 1"), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request (not JSON)", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 413, description = "`request.too_large`", body = ErrorBody), (status = 422, description = "`conference.bad_badge_templates` (with the reason: an unknown format, a box outside its page, two templates with one id…), `conference.badge_template_in_use`", body = ErrorBody)))]
pub(super) async fn set_templates<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(body): Body<serde_json::Value>,
) -> Result<StatusCode, ApiError> {
    let set: TemplateSet = serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "conference.bad_badge_templates",
            format!("the badge templates are not valid: {e}"),
        )
    })?;
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_badge_templates(rec, Some(set.clone())),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Go back to the built-in badge templates.
///
/// Refused with `conference.badge_template_in_use` while an attendee type or the desk defaults
/// name a template the built-in set does not have.
#[utoipa::path(delete, path = "/v1/conferences/{conference}/badges/templates", tag = "admin", params(("conference" = String, Path, format = Uuid)), security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.badge_template_in_use`", body = ErrorBody)))]
pub(super) async fn reset_templates<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_badge_templates(rec, None),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct PreviewQuery {
    /// Draw the sample attendee as one of this attendee type (its name and band colour).
    #[serde(default)]
    attendee_type: Option<String>,
}

/// Preview a badge template.
///
/// The template drawn for a sample attendee (Ada Lovelace, Analytical Engines Ltd, the
/// conference's first two add-ons), as SVG, by the same layout code desks print with. Text
/// that would not fit is listed in the `X-Badge-Warnings` header (`; `-separated).
#[utoipa::path(get, path = "/v1/conferences/{conference}/badges/templates/{template}/preview", tag = "admin", params(("conference" = String, Path, format = Uuid), ("template" = String, Path), PreviewQuery), security(("head_office" = [])), responses((status = 200, content_type = "image/svg+xml", body = String), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`, `badge.template_not_found`", body = ErrorBody), (status = 422, description = "`conference.bad_attendee_type`, `conference.unknown_attendee_type`", body = ErrorBody)))]
pub(super) async fn preview<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params((id, template)): Params<(ConferenceId, String)>,
    QueryParams(query): QueryParams<PreviewQuery>,
) -> Result<Response, ApiError> {
    let conf = conference(&app, id).await?;
    let attendee_type = query
        .attendee_type
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(AttendeeTypeId::parse)
        .transpose()
        .map_err(|e| ApiError::from(bad_attendee_type(&e)))?;
    let (svg, warnings) = crate::badge_preview::svg(&conf, &template, attendee_type.as_ref())?;
    Ok(svg_response(svg, &warnings))
}

pub(crate) fn bad_attendee_type(e: &impl std::fmt::Display) -> Rejected {
    Rejected::Domain {
        code: error_code::BAD_ATTENDEE_TYPE,
        message: e.to_string(),
    }
}

/// An SVG badge, with its warnings in a header; it may not run anything.
pub(crate) fn svg_response(svg: String, warnings: &[onsite_badge::Warning]) -> Response {
    let said: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let said = said.join("; ").replace(['\r', '\n'], " ");
    let mut response = (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&said) {
        response.headers_mut().insert("x-badge-warnings", value);
    }
    response
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct TemplateChoice {
    /// A template of the conference's set; `null`: the desk defaults' template.
    template: Option<String>,
}

/// Choose an attendee type's badge template.
///
/// Badges of holders of this attendee type print with this template at every desk that has not
/// chosen one template for all its badges (a desk knows the media in its printer).
#[utoipa::path(put, path = "/v1/conferences/{conference}/attendee-types/{attendee_type}/badge-template", tag = "admin", params(("conference" = String, Path, format = Uuid), ("attendee_type" = String, Path)), request_body = TemplateChoice, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.unknown_attendee_type`, `conference.unknown_badge_template`, `conference.bad_attendee_type`", body = ErrorBody)))]
pub(super) async fn set_attendee_type_template<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params((conference, attendee_type)): Params<(ConferenceId, String)>,
    Body(choice): Body<TemplateChoice>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_attendee_type_template(rec, &attendee_type, choice.template.clone()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the defaults every desk starts from.
///
/// Auto-print at check-in, the badge template for holders whose attendee type names none, and
/// a print queue name. A desk's own choice wins over these; a desk that chose nothing follows
/// them as soon as it pulls.
#[utoipa::path(put, path = "/v1/conferences/{conference}/desk-defaults", tag = "admin", params(("conference" = String, Path, format = Uuid)), request_body = DeskDefaults, security(("head_office" = [])), responses((status = 204), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`conference.not_found`", body = ErrorBody), (status = 422, description = "`conference.unknown_badge_template`, `text.too_long`, `text.control_character`", body = ErrorBody)))]
pub(super) async fn set_desk_defaults<S: Store>(
    State(app): State<Arc<App<S>>>,
    admin: AdminAuth,
    Params(conference): Params<ConferenceId>,
    Body(defaults): Body<DeskDefaults>,
) -> Result<StatusCode, ApiError> {
    admin_write(
        &app,
        conference,
        Some(format!("token {}", admin.0)),
        move |rec| admin::set_desk_defaults(rec, &defaults),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
