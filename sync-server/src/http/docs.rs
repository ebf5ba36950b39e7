//! The API reference at `/docs`: Redoc rendering `/v1/openapi.json`, both served by this
//! server (the bundle is embedded: see `sync-server/assets/redoc/README.md`), so the reference
//! reads with no network beyond the server.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, html};

use crate::App;
use crate::storage::Store;

const REDOC_VERSION: &str = "2.5.4";
const REDOC: &str = include_str!("../../assets/redoc/redoc.standalone.js");

pub(super) fn router<S: Store>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/docs", get(reference))
        .route(&format!("/docs/redoc-{REDOC_VERSION}.js"), get(redoc))
}

/// The page: nothing but the bundle and the document it fetches from this server. Redoc
/// styles with inline styles and searches in a worker it starts from a `blob:`.
async fn reference() -> Response {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Onsite API reference" }
                // No icon: the browser asks for none.
                link rel="icon" href="data:,";
            }
            body {
                redoc spec-url="/v1/openapi.json" {}
                script src={ "/docs/redoc-" (REDOC_VERSION) ".js" } {}
            }
        }
    };
    let mut res = Html(page.into_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; worker-src blob:; \
             style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
             frame-ancestors 'none'",
        ),
    );
    res
}

/// The bundle; its address names its version, so a browser may keep it for a day.
async fn redoc() -> Response {
    let mut res = REDOC.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400"),
    );
    res
}
