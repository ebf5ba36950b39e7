//! What anyone may read, without credentials: a published conference, found by its slug, with
//! what a registration page shows (details, seat types, prices and availability).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use onsite_shared::conference::{Conference, SeatKind};
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, SeatTypeId};
use onsite_shared::money::{Currency, Money};
use onsite_shared::protocol::ErrorBody;
use onsite_shared::seat_availability::{Availability, SeatsAvailability};
use serde::Serialize;

use super::error::ApiError;
use super::extract::Params;
use crate::App;
use crate::recorder::Rejected;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new().route(
        "/v1/public/conferences/{slug}",
        get(published_conference::<S>),
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PublicSeatType {
    id: SeatTypeId,
    name: String,
    description: String,
    price: Money,
    kind: SeatKind,
    availability: Availability,
    /// The exact count, only where the server is set to show it
    /// (`--public-exact-availability`).
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PublicConference {
    /// The id the order calls take (`POST /v1/conferences/{conference}/orders`).
    id: ConferenceId,
    slug: String,
    name: String,
    description: String,
    venue: String,
    #[schema(value_type = String, format = Date)]
    starts_on: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    ends_on: chrono::NaiveDate,
    currency: Currency,
    /// Where its dates and times are local (an IANA name), when head office said.
    #[serde(skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    /// The most seats one order may hold.
    max_seats_per_order: u32,
    seat_types: Vec<PublicSeatType>,
}

/// Read a published conference (anyone).
///
/// What a registration page shows: the conference's details, and each seat type with its price
/// and availability (`available`, `few_left`, `sold_out`; exact counts only when the server is set
/// to give them). The `id` is what the order calls take. Unpublished conferences are not found.
#[utoipa::path(get, path = "/v1/public/conferences/{slug}", tag = "public", params(("slug" = String, Path, description = "The conference's slug, as in its site's address")), responses((status = 200, body = PublicConference), (status = 404, description = "`conference.not_found`: no published conference with this slug", body = ErrorBody)))]
pub(super) async fn published_conference<S: Store>(
    State(app): State<Arc<App<S>>>,
    Params(slug): Params<String>,
) -> Result<Json<PublicConference>, ApiError> {
    let exact = app.config.public_exact_availability;
    let found = app
        .store
        .read(move |tx| {
            let Some(id) = crate::admin::conference_by_slug(tx, &slug)? else {
                return Ok::<_, Rejected>(None);
            };
            let (conference, _) =
                crate::event_log::load::<Conference>(tx, &StreamId::conference(id))?;
            let (seats, _) = crate::event_log::load::<SeatsAvailability>(tx, &StreamId::seats(id))?;
            Ok(Some((id, conference, seats)))
        })
        .await?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            error_code::CONFERENCE_NOT_FOUND,
            "no published conference with this slug",
        )
    };
    let (id, conference, seats) = found.ok_or_else(not_found)?;
    if !conference.published {
        return Err(not_found());
    }
    let details = conference.details.clone().ok_or_else(not_found)?;
    let seat_types = conference
        .seat_types
        .values()
        .map(|t| {
            let quota = seats.quota.get(&t.id).copied().unwrap_or(0);
            let remaining = seats.remaining(t.id).unwrap_or(0);
            PublicSeatType {
                id: t.id,
                name: t.name.clone(),
                description: t.description.clone(),
                price: t.price,
                kind: t.kind,
                availability: Availability::of(quota, remaining),
                remaining: exact.then_some(remaining.max(0)),
            }
        })
        .collect();
    Ok(Json(PublicConference {
        id,
        max_seats_per_order: conference.max_seats_per_order(),
        slug: details.slug,
        name: details.name,
        description: details.description,
        venue: details.venue,
        starts_on: details.starts_on,
        ends_on: details.ends_on,
        currency: details.currency,
        time_zone: details.time_zone,
        seat_types,
    }))
}
