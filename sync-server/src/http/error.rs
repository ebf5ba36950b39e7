//! Every error the API answers with: `{code, message}` and a status, from the errors of the
//! layers below.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onsite_shared::error_code;
use onsite_shared::protocol::ErrorBody;

use crate::devices::AuthError;
use crate::recorder::Rejected;
use crate::storage::{CursorError, PullError, StoreError};
use crate::sync::PushError;

/// Every error the API returns.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    pub(super) body: ErrorBody,
    /// Seconds to wait before trying again (`Retry-After`), for a 429 or a 503.
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                expected_client_seq: None,
            },
            retry_after: None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The `{code, message}` body this error is answered with.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// A version-1 push a relay holds and cannot decide yet: 503 `relay.held`, ask again.
    pub(crate) fn held_at_the_venue() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            error_code::RELAY_HELD,
            "held at the venue, not decided yet: ask again for the decision",
        );
        e.retry_after = Some(2);
        e
    }

    /// A relay head office revoked: 503 `relay.revoked`, the desk goes to its next server.
    pub(crate) fn relay_revoked() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            error_code::RELAY_REVOKED,
            "this venue relay was revoked by head office: sync with the server",
        )
    }

    /// Too many attempts from here: 429, and when to try again.
    pub(crate) fn rate_limited(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs().max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            error_code::RATE_LIMITED,
            format!("too many requests from this address; try again in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    }
}

/// What a path no route has answers: the `{code, message}` body every error has.
pub(crate) async fn no_such_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        error_code::NO_SUCH_ROUTE,
        format!("there is nothing at {}", uri.path()),
    )
}

/// What a known path answers to a method it does not have.
pub(crate) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        error_code::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.body.code, message = %self.body.message, "request failed");
        }
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Busy(why) = &e {
            tracing::warn!(error = %why, "no database connection free; answered 503");
            let mut busy = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                error_code::OVERLOADED,
                "the server is busy; try again in a moment",
            );
            busy.retry_after = Some(1);
            return busy;
        }
        tracing::error!(error = %e, "storage failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::STORAGE,
            "the server could not store or read data",
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unknown => ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                e.to_string(),
            ),
            AuthError::Revoked => {
                ApiError::new(StatusCode::UNAUTHORIZED, error_code::REVOKED, e.to_string())
            }
            AuthError::BadCode => ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::BAD_ENROLMENT_CODE,
                e.to_string(),
            ),
            AuthError::NoConference => ApiError::new(
                StatusCode::NOT_FOUND,
                error_code::CONFERENCE_NOT_FOUND,
                e.to_string(),
            ),
            AuthError::NoDevice => ApiError::new(
                StatusCode::NOT_FOUND,
                error_code::DEVICE_NOT_FOUND,
                e.to_string(),
            ),
            AuthError::NameRequired => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error_code::DEVICE_NAME_REQUIRED,
                e.to_string(),
            ),
            AuthError::Text(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
            }
            AuthError::Store(e) => e.into(),
        }
    }
}

/// A domain refusal is 422 but for "there is no such thing", which is 404 wherever it is
/// answered.
fn domain_status(code: &str) -> StatusCode {
    match code {
        error_code::CONFERENCE_NOT_FOUND
        | error_code::ORDER_NOT_FOUND
        | error_code::DEVICE_NOT_FOUND
        | error_code::CONFLICT_NOT_FOUND
        | error_code::BADGE_TEMPLATE_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<Rejected> for ApiError {
    fn from(e: Rejected) -> Self {
        match e {
            Rejected::Domain { code, message } => ApiError::new(domain_status(code), code, message),
            Rejected::Store(e) => e.into(),
        }
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Gap { expected } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, error_code::GAP, e.to_string());
                err.body.expected_client_seq = Some(expected);
                err
            }
            PushError::BadRequest { code, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            PushError::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, error_code::FORBIDDEN, message)
            }
            PushError::WrongDesk(message) => {
                ApiError::new(StatusCode::FORBIDDEN, error_code::WRONG_DESK, message)
            }
            PushError::Diverged(message) => {
                ApiError::new(StatusCode::CONFLICT, error_code::CLIENT_DIVERGED, message)
            }
            PushError::Store(e) => e.into(),
        }
    }
}

impl From<PullError> for ApiError {
    fn from(e: PullError) -> Self {
        match e {
            PullError::Cursor(c @ CursorError::Malformed) => ApiError::new(
                StatusCode::BAD_REQUEST,
                error_code::BAD_CURSOR,
                c.to_string(),
            ),
            PullError::Cursor(c @ CursorError::OtherDatabase) => {
                ApiError::new(StatusCode::GONE, error_code::CURSOR_RESET, c.to_string())
            }
            PullError::Store(e) => e.into(),
        }
    }
}

/// A request that does not parse: 400 `request.malformed`.
pub(super) fn malformed(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, error_code::MALFORMED, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_too_busy_to_give_a_connection_is_a_503_to_try_again_not_a_500() {
        let busy = ApiError::from(StoreError::Busy("timed out waiting for connection".into()));
        assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.body.code, error_code::OVERLOADED);
        assert_eq!(busy.retry_after, Some(1));
        let broken = ApiError::from(StoreError::Database("disk full".into()));
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
