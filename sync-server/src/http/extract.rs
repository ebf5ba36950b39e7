//! Extractors whose rejections are `{code, message}` like every other error, and the two kinds
//! of credentials: a desk's token (it decides the desk) and a head-office token.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use onsite_shared::error_code;

use super::error::{ApiError, malformed};
use crate::App;
use crate::devices;
use crate::storage::Store;
use crate::sync::Desk;

/// `Json` whose rejections are `{code, message}`: 413 for a body over the limit, 400 otherwise.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// `Path` whose rejections are `{code, message}` (400), like every other error.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Params(v)),
            Err(rejection) => Err(malformed(rejection.body_text())),
        }
    }
}

/// `Query` whose rejections are `{code, message}` (400).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(QueryParams(v)),
            Err(rejection) => Err(malformed(rejection.body_text())),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_code::TOO_LARGE,
            "the request body is too large",
        );
    }
    malformed(rejection.body_text())
}

fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                "credentials are required",
            )
        })?;
    header
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_code::UNAUTHENTICATED,
                "use a Bearer token",
            )
        })
}

/// A request from an enrolled, not revoked desk.
pub struct DeskAuth(pub Desk);

impl<S: Store> FromRequestParts<Arc<App<S>>> for DeskAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let desk = app
            .store
            .read(move |tx| devices::authenticate(tx, &token))
            .await?;
        Ok(DeskAuth(desk))
    }
}

/// A request from head office.
pub struct AdminAuth(pub String);

impl<S: Store> FromRequestParts<Arc<App<S>>> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let who = app.store.read(move |tx| devices::admin(tx, &token)).await?;
        Ok(AdminAuth(who))
    }
}

/// A request from an enrolled, not revoked venue relay (its token is never a desk's).
pub struct RelayAuth(pub crate::relay::registry::Relay);

impl<S: Store> FromRequestParts<Arc<App<S>>> for RelayAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let relay = app
            .store
            .read(move |tx| crate::relay::registry::authenticate(tx, &token))
            .await?;
        Ok(RelayAuth(relay))
    }
}
