//! Confirming payments: by head office, or by the payment provider's signed webhook
//! ([`crate::payments`]).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use onsite_shared::error_code;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, OrderId};
use onsite_shared::order::{Order, Payment};
use onsite_shared::protocol::ErrorBody;
use serde::Deserialize;

use super::error::{ApiError, malformed};
use super::extract::{AdminAuth, Body, Params};
use super::now;
use crate::payments::{self, ProviderEvent, SIGNATURE_HEADER};
use crate::recorder::{Recorder, Rejected};
use crate::registration::{self, PaymentResult};
use crate::storage::Store;
use crate::{App, event_log};

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route(
            "/v1/conferences/{conference}/orders/{order}/payment",
            post(confirm::<S>),
        )
        .route("/v1/payments/webhook", post(webhook::<S>))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ConfirmedPayment {
    payment: Payment,
}

fn answer(result: PaymentResult) -> Result<StatusCode, ApiError> {
    match result {
        PaymentResult::Confirmed => Ok(StatusCode::NO_CONTENT),
        PaymentResult::Pending => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_code::ORDER_NOT_RESERVED,
            "no seats are reserved for this order yet",
        )),
        PaymentResult::Escalated => Err(ApiError::new(
            StatusCode::CONFLICT,
            error_code::ORDER_EXPIRED,
            "the reservation expired before the payment arrived; the organiser has been asked to refund it",
        )),
    }
}

/// Confirm an order's payment (head office).
///
/// Payment kinds: `received` (money taken: exactly the order's total, in its currency, with the
/// method and the provider's reference), `invoiced` (to be paid later; the order is confirmed
/// now), `not_required` (only for a free order). Confirming creates the tickets.
/// A payment for an order that expired is not kept silently: the order stays expired and a
/// conflict asks head office to refund it.
#[utoipa::path(post, path = "/v1/conferences/{conference}/orders/{order}/payment", tag = "orders", params(("conference" = String, Path, format = Uuid), ("order" = String, Path, format = Uuid)), request_body = ConfirmedPayment, security(("head_office" = [])), responses((status = 204, description = "Confirmed"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No or unknown credentials", body = ErrorBody), (status = 404, description = "`order.not_found`", body = ErrorBody), (status = 409, description = "`order.expired`: the reservation expired before the payment; escalated for a refund", body = ErrorBody), (status = 422, description = "`order.payment_not_total`, `order.payment_required`, `order.not_reserved` (no seats held yet, or none could be)", body = ErrorBody)))]
pub(super) async fn confirm<S: Store>(
    State(app): State<Arc<App<S>>>,
    _admin: AdminAuth,
    Params((conference, order)): Params<(ConferenceId, OrderId)>,
    Body(confirmed): Body<ConfirmedPayment>,
) -> Result<StatusCode, ApiError> {
    let now = now();
    let result = app
        .store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, conference, now);
            registration::confirm_payment(&mut rec, order, confirmed.payment.clone())
        })
        .await
        .map_err(ApiError::from)?;
    answer(result)
}

/// Why a webhook changed nothing.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("this provider event was taken before")]
    Replayed,
    #[error(transparent)]
    Rejected(#[from] Rejected),
}

impl From<crate::storage::StoreError> for Refused {
    fn from(e: crate::storage::StoreError) -> Self {
        Refused::Rejected(e.into())
    }
}

/// Payment provider webhook.
///
/// The payment provider says an order was paid. Signed with the shared secret
/// (`onsite-signature: t=…,v1=…`, HMAC-SHA-256 over `t.body`); each provider event id is taken
/// once. Off unless the server has a webhook secret.
#[utoipa::path(post, path = "/v1/payments/webhook", tag = "orders", request_body = ProviderEvent, responses((status = 204, description = "Confirmed"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "`payment.bad_signature`", body = ErrorBody), (status = 404, description = "`payment.webhook_disabled`, `order.not_found`", body = ErrorBody), (status = 409, description = "`payment.replayed` (this event id was taken before), `order.expired` (escalated for a refund)", body = ErrorBody), (status = 422, description = "`order.payment_not_total`", body = ErrorBody)))]
pub(super) async fn webhook<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Some(secret) = app.config.payment_webhook_secret.as_deref() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            error_code::WEBHOOK_DISABLED,
            "this server takes no payment webhooks (no secret is configured)",
        ));
    };
    let now = now();
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    payments::verify(signature, &body, secret, now).map_err(|e| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            error_code::WEBHOOK_SIGNATURE,
            e.to_string(),
        )
    })?;
    let event: ProviderEvent =
        serde_json::from_slice(&body).map_err(|e| malformed(e.to_string()))?;
    let result = app
        .store
        .write(move |tx| {
            if !payments::take_event_id(tx, &event.id, event.order_id, now)? {
                return Err(Refused::Replayed);
            }
            let (order, _) = event_log::load::<Order>(tx, &StreamId::order(event.order_id))?;
            let conference = order.conference.ok_or_else(|| Rejected::Domain {
                code: error_code::ORDER_NOT_FOUND,
                message: "no such order".into(),
            })?;
            let mut rec = Recorder::new(tx, conference, now);
            Ok(registration::confirm_payment(
                &mut rec,
                event.order_id,
                event.payment(),
            )?)
        })
        .await
        .map_err(|e| match e {
            Refused::Replayed => ApiError::new(
                StatusCode::CONFLICT,
                error_code::WEBHOOK_REPLAYED,
                e.to_string(),
            ),
            Refused::Rejected(r) => r.into(),
        })?;
    answer(result)
}
