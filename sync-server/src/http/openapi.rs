//! The API described from the handlers' annotations and the wire types' derived schemas.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};

use super::{conferences, devices, orders, payments, public, reads, sync};
use crate::App;
use crate::storage::Store;

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new().route("/v1/openapi.json", get(openapi))
}

/// The API described from the handlers' annotations and the wire types' derived schemas, served
/// at `/v1/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Onsite sync server",
        description = "Push/pull sync for the desks at the door, online registration, \
                       conference administration and head-office reads. Errors are `{code, message}`."
    ),
    paths(
        super::health,
        devices::enrol,
        sync::push,
        sync::pull,
        conferences::create_conference,
        conferences::get_conference,
        conferences::add_seat_type,
        conferences::change_quota,
        conferences::define_attendee_type,
        conferences::publish,
        conferences::unpublish,
        devices::enroll_device,
        devices::list_devices,
        devices::revoke_device,
        devices::reenrol_device,
        orders::place_order,
        public::published_conference,
        orders::get_order,
        orders::change_seats,
        orders::cancel_order,
        orders::find_order,
        orders::assign_registrant,
        orders::pay_order,
        payments::confirm,
        payments::webhook,
        orders::assign_seat,
        reads::registrations,
        reads::admissions,
        reads::walk_ins,
        reads::conflicts,
    ),
    modifiers(&Security, &EventTypes)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(what))
                .build()
        };
        components.add_security_scheme(
            "desk",
            utoipa::openapi::security::SecurityScheme::Http(bearer(
                "The token a desk got when it redeemed its one-time enrolment code",
            )),
        );
        components.add_security_scheme(
            "head_office",
            utoipa::openapi::security::SecurityScheme::Http(bearer(
                "A head-office token (`onsite-server admin-token create`)",
            )),
        );
        components.add_security_scheme(
            "access_code",
            utoipa::openapi::security::SecurityScheme::ApiKey(ApiKey::Header(
                ApiKeyValue::with_description(
                    "x-access-code",
                    "The access code returned when the order was placed",
                ),
            )),
        );
    }
}

/// Lists the event types the server knows (from `EVENT_TYPES`) on the envelope's `event_type`.
struct EventTypes;

impl utoipa::Modify for EventTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::{ObjectBuilder, RefOr};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(envelope))) = components.schemas.get_mut("Envelope")
        else {
            return;
        };
        let known: Vec<String> = onsite_shared::event::EVENT_TYPES
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .collect();
        let event_type: Object = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(known))
            .description(Some(
                "`prefix.name`; with `schema_version`, says how to read `payload`",
            ))
            .build();
        envelope.properties.insert(
            "event_type".to_owned(),
            RefOr::T(Schema::Object(event_type)),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}
