//! Serving connections with limits: how many at once, how long a client may take to send a
//! request's headers (which also closes idle connections), how long its body may stall, and
//! how many requests are handled at once before the rest are shed with 503.
//!
//! `axum::serve` sets none of these: 1,100 idle connections locked everyone out, and
//! slowloris and slow-body connections stayed open for good. Here hyper serves each connection
//! with a timer (so its header-read timeout holds, from the connection's start and after every
//! response), the file-descriptor limit is raised to what the system allows, and connections
//! beyond [`max_connections`] are closed as soon as they are accepted.
//!
//! Behind a reverse proxy (which terminates TLS), the proxy's address is configured as
//! trusted: its requests are the client its `X-Forwarded-For` names, for the rate limits, and
//! its `X-Forwarded-Proto` says whether the browser came over HTTPS, for `Secure` cookies.
//! Anyone else's forwarding headers are dropped before the request is handled ([`from_proxy`]).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// How long requests in flight get to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// The headers a proxy sets to say who the client is and how it came.
const FORWARDING: [&str; 4] = [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "forwarded",
];

/// The address a request is from: from a trusted proxy, the client its `X-Forwarded-For`
/// names (the rightmost address that is not a trusted proxy itself: what the last trusted hop
/// saw; anything left of it the client may have written); from anyone else, the peer, with
/// its forwarding headers taken out so that nothing downstream believes them.
pub fn from_proxy(
    peer: std::net::SocketAddr,
    headers: &mut axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::SocketAddr {
    if !trusted.contains(&peer.ip()) {
        for name in FORWARDING {
            headers.remove(name);
        }
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return std::net::SocketAddr::new(ip, 0),
            // Not an address: the chain cannot be read past it; the proxy is the client.
            Err(_) => return peer,
        }
    }
    peer
}

/// Raises this process's open-file limit as far as the system allows and returns how many
/// connections to hold at once: the limit, less room for the database and the log.
pub fn max_connections() -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1_024);
    usize::try_from(limit.saturating_sub(128))
        .unwrap_or(usize::MAX)
        .clamp(64, 16_384)
}

/// Serves `router` on `listener` until `shutdown`, each connection with `timeout` for its
/// headers; then lets the requests in flight finish (at most [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    timeout: Duration,
    trusted_proxies: Arc<[std::net::IpAddr]>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections()));
    // One limit for the whole server (a layer on the router would make one per route).
    let limited = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(crate::MAX_REQUESTS_IN_FLIGHT)
        .service(router);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Full: this one is closed at once, and everyone already connected goes on.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let limited = limited.clone();
        let trusted = Arc::clone(&trusted_proxies);
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let client = from_proxy(peer, req.headers_mut(), &trusted);
                req.extensions_mut().insert(ConnectInfo(client));
                let answer = limited.clone().oneshot(req.map(axum::body::Body::new));
                async move { Ok::<_, Infallible>(answer.await.unwrap_or_else(|e| match e {})) }
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("requests still in flight after {DRAIN:?}; stopping"),
    }
    Ok(())
}

/// Sheds requests beyond what the server handles at once: 503, and when to try again.
pub async fn overloaded(error: tower::BoxError) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (status, code, message) = if error.is::<tower::load_shed::error::Overloaded>() {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            onsite_shared::error_code::OVERLOADED,
            "the server is busy; try again in a moment",
        )
    } else {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            onsite_shared::error_code::STORAGE,
            "the server could not answer",
        )
    };
    let mut res = (
        status,
        axum::Json(onsite_shared::protocol::ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
            expected_client_seq: None,
        }),
    )
        .into_response();
    res.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_last_address_a_trusted_proxy_saw() {
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let inner: std::net::IpAddr = "10.0.0.3".parse().unwrap();
        let trusted = [proxy, inner];
        let peer = std::net::SocketAddr::new(proxy, 40000);
        let headers = |xff: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert("x-forwarded-for", xff.parse().unwrap());
            h.insert("x-forwarded-proto", "https".parse().unwrap());
            h
        };
        let client = |xff: &str| {
            from_proxy(peer, &mut headers(xff), &trusted)
                .ip()
                .to_string()
        };
        assert_eq!(client("203.0.113.7"), "203.0.113.7");
        assert_eq!(client("1.2.3.4, 203.0.113.7, 10.0.0.3"), "203.0.113.7");
        assert_eq!(client("10.0.0.3"), "10.0.0.2", "only proxies: the proxy");
        assert_eq!(client("203.0.113.7, not-an-address"), "10.0.0.2");
        // From anyone else the headers are gone and the peer is the client.
        let stranger = std::net::SocketAddr::new("198.51.100.1".parse().unwrap(), 1);
        let mut h = headers("203.0.113.7");
        assert_eq!(from_proxy(stranger, &mut h, &trusted), stranger);
        assert!(h.get("x-forwarded-for").is_none() && h.get("x-forwarded-proto").is_none());
        let mut h = headers("203.0.113.7");
        from_proxy(peer, &mut h, &trusted);
        assert!(
            h.get("x-forwarded-proto").is_some(),
            "a trusted proxy's word stays"
        );
    }
}
