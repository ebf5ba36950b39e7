//! What the desk's two HTTP clients share (the sync client, and the spooler's IPP client in
//! `printing::cups`): TLS, how a client is built, and how a failure is put in words.

use std::time::Duration;

/// Installs rustls's ring provider for the process (reqwest is built without a default one,
/// to stay clear of aws-lc's C build). Every HTTP client in the process needs it; calling it
/// again does nothing.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client builder with TLS installed, the desk's user agent, a 3-second connect timeout,
/// `timeout` for a whole request, and idle connections let go after 5 seconds: a server closes
/// the ones idle longer than its own timeout (the sync server's is 15 s), and a request sent on
/// a connection the server is closing fails.
pub(crate) fn client(timeout: Duration) -> reqwest::ClientBuilder {
    install_tls();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .user_agent(concat!("onsite-desk/", env!("CARGO_PKG_VERSION")))
}

/// A request's failure with its whole cause chain ("error sending request: …: connection
/// refused"): the top line alone rarely says what happened.
pub(crate) fn failure(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
