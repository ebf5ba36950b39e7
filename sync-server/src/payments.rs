//! Payments come from trusted parties only: head office (its token), or a payment provider's
//! webhook signed with a secret the server shares with it. A buyer never says money arrived.
//!
//! A webhook is `POST /v1/payments/webhook` with the provider's event as the body and an
//! `onsite-signature: t=<unix seconds>,v1=<hex>` header, `v1` being HMAC-SHA-256 over
//! `"<t>.<body>"` with the shared secret (the scheme Stripe and others use). A signature more
//! than [`TOLERANCE_SECONDS`] away from the server's clock is refused, and each provider event
//! id is taken once: a replay changes nothing.

use hmac::{KeyInit, Mac};
use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::OrderId;
use onsite_shared::money::{Currency, Money};
use onsite_shared::order::{Payment, PaymentMethod};
use serde::Deserialize;

use crate::params;
use crate::storage::{StoreError, Tx, time_text};

/// How far a webhook's timestamp may be from the server's clock.
pub const TOLERANCE_SECONDS: i64 = 300;
/// The header a provider signs its webhooks in.
pub const SIGNATURE_HEADER: &str = "onsite-signature";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook carries no signature (`{SIGNATURE_HEADER}: t=…,v1=…`)")]
    Missing,
    #[error("the webhook's signature does not match its body")]
    Mismatch,
    #[error("the webhook's signature is older or newer than {TOLERANCE_SECONDS} s")]
    Stale,
}

/// The signature of `body` at `t`, as the provider computes it.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a webhook's signature header against its body, the secret and the server's clock.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: Timestamp,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(SignatureError::Missing);
    };
    let signature = (0..v1.len())
        .step_by(2)
        .map(|i| {
            v1.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(SignatureError::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    // Constant time, so that the signature cannot be found byte by byte.
    mac.verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch)?;
    if (now.timestamp() - t).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// What a provider tells us: this order was paid this much.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProviderEvent {
    /// The provider's id for this event: each is taken once.
    pub id: String,
    pub order_id: OrderId,
    pub amount_minor: i64,
    #[schema(value_type = String)]
    pub currency: Currency,
    /// The provider's reference for the payment.
    #[serde(default)]
    pub reference: String,
}

impl ProviderEvent {
    pub fn payment(&self) -> Payment {
        Payment::Received {
            method: PaymentMethod::Card,
            amount: Money::new(self.amount_minor, self.currency),
            reference: self.reference.clone(),
        }
    }
}

/// Takes a provider event id; `false` when it was taken before (a replay).
pub fn take_event_id(
    tx: &mut dyn Tx,
    id: &str,
    order: OrderId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "INSERT INTO payment_webhooks (event_id, order_id, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id) DO NOTHING",
        params![id, order.to_string(), time_text(&now)],
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(unix, 0).unwrap()
    }

    #[test]
    fn a_signature_holds_for_its_body_secret_and_time_only() {
        let body = br#"{"id":"evt_1"}"#;
        let t = 1_800_000_000;
        let good = format!("t={t},v1={}", sign("s3cret", t, body));
        assert_eq!(verify(Some(&good), body, "s3cret", at(t + 10)), Ok(()));
        assert_eq!(
            verify(Some(&good), br#"{"id":"evt_2"}"#, "s3cret", at(t)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), body, "another", at(t)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&good), body, "s3cret", at(t + TOLERANCE_SECONDS + 1)),
            Err(SignatureError::Stale)
        );
        // The time is signed too: moving it breaks the signature.
        let moved = format!("t={},v1={}", t + 100, sign("s3cret", t, body));
        assert_eq!(
            verify(Some(&moved), body, "s3cret", at(t + 100)),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "t=1", "v1=00", "t=x,v1=zz", "t=1,v1=0"] {
            assert!(verify(Some(bad), body, "s3cret", at(t)).is_err(), "{bad}");
        }
        assert_eq!(
            verify(None, body, "s3cret", at(t)),
            Err(SignatureError::Missing)
        );
    }
}
