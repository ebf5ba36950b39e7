//! The API described from the handlers' annotations and the wire types' derived schemas.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};

use super::{
    badges, conferences, devices, hand_outs, leases, orders, payments, public, readiness, reads,
    relays, rooms, sync,
};
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
                       conference administration and head-office reads.\n\n\
                       Every error answers `{code, message}`: `code` is stable (branch on it), \
                       `message` is for people. Ids are UUIDs; times are RFC 3339 in UTC; money \
                       is `{amount_minor, currency}` (integer minor units, ISO 4217).\n\n\
                       A registration front end needs the `public` and `orders` operations only: \
                       read the published conference by its slug, place an order, keep its \
                       access code, then read, change, cancel or find it again with that code."
    ),
    tags(
        (name = "public", description = "What anyone may read: a published conference, by its slug"),
        (name = "orders", description = "Online registration: an order and its access code (`x-access-code`); payments confirmed by head office or the payment provider"),
        (name = "admin", description = "Head office sets a conference up: details, seat types, quotas, attendee types, publishing"),
        (name = "head-office", description = "Head office reads: registrations, admissions, walk-in sales, conflicts"),
        (name = "devices", description = "Desks: enrolment codes, tokens, revocation"),
        (name = "sync", description = "The desks' sync protocol (versions 1 and 2): push the desk's log, pull the authoritative stream; version 2 adds the `held` outcome and the venue feed a relay sends"),
        (name = "relays", description = "Venue relays: head office enrols a relay for a conference; the relay mirrors the log, learns the desks and forwards their pushes on their behalf"),
        (name = "server", description = "The server itself"),
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
        conferences::update_seat_type,
        conferences::set_admission_rules,
        conferences::set_gates,
        conferences::set_result_card,
        badges::get_badges,
        badges::set_templates,
        badges::reset_templates,
        badges::preview,
        badges::set_attendee_type_template,
        badges::set_desk_defaults,
        hand_outs::get_hand_outs,
        hand_outs::set_hand_outs,
        rooms::get_rooms,
        rooms::set_rooms,
        leases::list_leases,
        leases::grant_lease,
        leases::revoke_lease,
        leases::return_lease,
        leases::ask_lease,
        leases::get_policy,
        leases::set_policy,
        readiness::report,
        readiness::list,
        relays::enrol,
        relays::pull,
        relays::desks,
        relays::push,
        relays::status,
        relays::enroll_relay,
        relays::list_relays,
        relays::revoke_relay,
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
    modifiers(&Security, &EventTypes, &CommonErrors)
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
            "relay",
            utoipa::openapi::security::SecurityScheme::Http(bearer(
                "The token a venue relay got when it redeemed its one-time enrolment code",
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

/// The errors every operation shares, said once: the generic 400 and 401 get their codes,
/// and every operation lists the server's own failures (503 when it sheds load, 500 when
/// storage fails), so that a client knows every code it may meet.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::ResponseBuilder;
        let generic = |status: &str, description: &str| -> Option<&'static str> {
            if description.contains('`') {
                return None;
            }
            match status {
                "400" => Some(
                    "`request.malformed`: the body, a path or a query parameter is not what the \
                     operation takes (the message says which)",
                ),
                "401" => Some(
                    "`auth.unauthenticated`: no credentials, or none this server issued; \
                     `auth.revoked`: the desk was revoked",
                ),
                "429" => Some(
                    "`request.rate_limited`: too many attempts from this address; `Retry-After` \
                     says when to try again",
                ),
                _ => None,
            }
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                for (status, response) in &mut op.responses.responses {
                    if let RefOr::T(r) = response
                        && let Some(text) = generic(status, &r.description)
                    {
                        r.description = text.to_owned();
                    }
                }
                let body = utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build();
                for (status, text) in [
                    (
                        "500",
                        "`server.storage`: the server could not store or read data; nothing \
                         was changed, try again",
                    ),
                    (
                        "503",
                        "`server.overloaded`: too many requests at once; try again shortly",
                    ),
                ] {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(text)
                                    .content("application/json", body.clone())
                                    .build(),
                            )
                        });
                }
            }
        }
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
