//! The relay's client of the upstream server: the same HTTP API a desk speaks, under
//! `/v1/relay`, with the relay's token.

use std::time::Duration;

use onsite_shared::error_code;
use onsite_shared::protocol::{
    DeskCredentials, EnrolRequest, ErrorBody, PullResponse, PushResponse, RelayDesk, RelayPush,
    RelayStatus,
};

/// Why a request to upstream did not give an answer to use.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Not reached, or its answer could not be read: try again later.
    #[error("upstream is unreachable: {0}")]
    Unreachable(String),
    /// It answered with a refusal.
    #[error("upstream refused: {status} {}: {}", body.code, body.message)]
    Refused { status: u16, body: ErrorBody },
}

impl UpstreamError {
    /// The relay's own token was refused: it was revoked (or never valid).
    pub fn relay_refused(&self) -> bool {
        matches!(self, UpstreamError::Refused { status: 401, .. })
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            UpstreamError::Refused { body, .. } => Some(&body.code),
            UpstreamError::Unreachable(_) => None,
        }
    }
}

#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    url: String,
    token: String,
}

fn client() -> Result<reqwest::Client, UpstreamError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .gzip(true)
        .user_agent(concat!("onsite-relay/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| UpstreamError::Unreachable(failure(&e)))
}

fn failure(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn answer<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, UpstreamError> {
    let res = sent.map_err(|e| UpstreamError::Unreachable(failure(&e)))?;
    let status = res.status();
    if status.is_success() {
        return res
            .json()
            .await
            .map_err(|e| UpstreamError::Unreachable(failure(&e)));
    }
    let body = res.json().await.unwrap_or_else(|_| ErrorBody {
        code: error_code::HTTP_ERROR.into(),
        message: format!("HTTP {status}"),
        expected_client_seq: None,
    });
    Err(UpstreamError::Refused {
        status: status.as_u16(),
        body,
    })
}

/// Trades head office's one-time relay code for the relay's credentials.
pub async fn enrol(url: &str, code: &str) -> Result<DeskCredentials, UpstreamError> {
    let url = url.trim().trim_end_matches('/');
    answer(
        client()?
            .post(format!("{url}/v1/relay/enrol"))
            .json(&EnrolRequest {
                code: code.trim().to_owned(),
            })
            .send()
            .await,
    )
    .await
}

impl Upstream {
    pub fn new(url: &str, token: &str) -> Result<Self, UpstreamError> {
        Ok(Self {
            client: client()?,
            url: url.trim().trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One page of the conference's whole log after `cursor`.
    pub async fn pull(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullResponse, UpstreamError> {
        let mut url = format!("{}/v1/relay/pull?limit={limit}", self.url);
        if let Some(c) = cursor.filter(|c| !c.is_empty()) {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        answer(self.client.get(url).bearer_auth(&self.token).send().await).await
    }

    pub async fn desks(&self) -> Result<Vec<RelayDesk>, UpstreamError> {
        answer(
            self.client
                .get(format!("{}/v1/relay/desks", self.url))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }

    /// Forwards one desk's push, on its behalf.
    pub async fn push(&self, push: &RelayPush) -> Result<PushResponse, UpstreamError> {
        answer(
            self.client
                .post(format!("{}/v1/relay/push", self.url))
                .bearer_auth(&self.token)
                .json(push)
                .send()
                .await,
        )
        .await
    }

    pub async fn status(&self, status: &RelayStatus) -> Result<(), UpstreamError> {
        let _: serde_json::Value = answer(
            self.client
                .post(format!("{}/v1/relay/status", self.url))
                .bearer_auth(&self.token)
                .json(status)
                .send()
                .await,
        )
        .await?;
        Ok(())
    }
}
