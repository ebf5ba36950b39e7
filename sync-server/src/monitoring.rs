//! What a person on call needs: `/metrics` in Prometheus's text format, and a request id on
//! every log line of a request.
//!
//! Measured where they happen (the `metrics` facade; free when nothing records): push and pull
//! latency, events ingested by outcome, the SQLite writer's queue depth and group sizes, sign-in
//! attempts refused. Read from the database when scraped: open conflicts, and per desk the
//! events it still has to push and how long ago it was last heard from (its sync lag).
//!
//! `/metrics` is off unless the server has a metrics token, and then answers only with it
//! (`Authorization: Bearer …`): the figures name desks and conferences.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::storage::{Store, StoreError};
use crate::{App, params};

/// The header that carries a request's id, in the answer too.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Push and pull latency buckets, in seconds: a push of a few events is milliseconds; a fresh
/// desk's first pull page is up to a few seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Jobs in one SQLite group commit (at most `storage::sqlite`'s `MAX_GROUP`).
const GROUP_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed the first time it is asked for (a process may serve
/// several apps, as the tests do; they share it). `None` when another recorder was there.
pub fn handle() -> Option<&'static PrometheusHandle> {
    if let Some(h) = HANDLE.get() {
        return Some(h);
    }
    let built = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Suffix("_group_size".into()), GROUP_BUCKETS)
        })
        .and_then(PrometheusBuilder::install_recorder);
    match built {
        Ok(h) => Some(HANDLE.get_or_init(|| h)),
        Err(e) => {
            tracing::warn!(error = %e, "no metrics recorder");
            HANDLE.get()
        }
    }
}

/// Every request: a fresh id (whatever the client sent), on its span, so every log line of
/// the request carries it, and on the answer; push and pull timed.
pub async fn per_request(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let value = HeaderValue::from_str(&id).expect("hex digits are a header value");
    req.headers_mut().insert(REQUEST_ID_HEADER, value.clone());
    let timed = match req.uri().path() {
        "/v1/sync/push" => Some("onsite_push_seconds"),
        "/v1/sync/pull" => Some("onsite_pull_seconds"),
        _ => None,
    };
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let mut res = next.run(req).instrument(span).await;
    if let Some(name) = timed {
        ::metrics::histogram!(name, "status" => res.status().as_str().to_owned())
            .record(started.elapsed().as_secs_f64());
    }
    res.headers_mut().insert(REQUEST_ID_HEADER, value);
    res
}

/// The figures read from the database at a scrape.
struct Scraped {
    open_conflicts: i64,
    desks: Vec<(String, String, Option<i64>, Option<String>)>,
}

fn scrape(tx: &mut dyn crate::storage::Tx) -> Result<Scraped, StoreError> {
    let open_conflicts = tx
        .query(
            "SELECT COUNT(*) FROM conflicts WHERE resolution IS NULL",
            params![],
        )?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    let desks = tx
        .query(
            "SELECT device_id, name, pending, last_seen FROM devices WHERE revoked_at IS NULL",
            params![],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?, r.opt_int(2)?, r.opt_text(3)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Scraped {
        open_conflicts,
        desks,
    })
}

/// `GET /metrics`: the Prometheus text, with the metrics token only.
pub async fn metrics<S: Store>(
    State(app): State<std::sync::Arc<App<S>>>,
    req: Request,
) -> Response {
    let Some(token) = app.config.metrics_token.as_deref() else {
        return crate::http::error::no_such_route(req.uri().clone())
            .await
            .into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as hashes: how long the comparison takes says nothing of the token.
    if crate::devices::hash(given) != crate::devices::hash(token) {
        return (StatusCode::UNAUTHORIZED, "the metrics token is required\n").into_response();
    }
    let Some(handle) = handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no metrics recorder\n").into_response();
    };
    match app.store.read(scrape).await {
        Ok(s) => {
            ::metrics::gauge!("onsite_open_conflicts").set(s.open_conflicts as f64);
            let now = chrono::Utc::now();
            for (device, name, pending, last_seen) in s.desks {
                let labels = [("desk", device), ("name", name)];
                ::metrics::gauge!("onsite_desk_pending_events", &labels)
                    .set(pending.unwrap_or(0) as f64);
                if let Some(seen) = last_seen
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    let age = (now - seen.with_timezone(&chrono::Utc)).num_milliseconds();
                    ::metrics::gauge!("onsite_desk_last_sync_age_seconds", &labels)
                        .set(age.max(0) as f64 / 1000.0);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: reading the database failed"),
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
