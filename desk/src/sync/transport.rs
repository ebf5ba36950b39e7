//! How a desk's sync client reaches the server: over HTTP in production ([`Http`]), or over
//! whatever a test or the simulator puts in between. What a round does (what to push, what a
//! refusal means, how pages are applied) is the same over every transport; a transport only
//! carries requests and answers.

use std::future::Future;
use std::time::Duration;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::ClientId;
use onsite_shared::protocol::{
    self, DeskCredentials, EnrolRequest, ErrorBody, PushRequest, PushResponse,
};
use onsite_shared::readiness::{Facts, ReportAnswer};

use super::SyncError;
use crate::http;
use crate::store::Enrolment;

/// What the sync client says to the server. An `Err` means the server was not reached (or its
/// answer could not be read): [`SyncError::Unreachable`]; a refusal is an answer.
pub trait Transport: Send + Sync + 'static {
    /// Sends a batch of the outbox.
    fn push(
        &self,
        to: &Enrolment,
        request: &PushRequest,
    ) -> impl Future<Output = Result<Answer<PushResponse>, SyncError>> + Send;

    /// Asks for one page of the authoritative log (door scope).
    fn pull(
        &self,
        to: &Enrolment,
        query: &PullQuery,
    ) -> impl Future<Output = Result<Answer<PulledPage>, SyncError>> + Send;

    /// Trades a one-time enrolment (or re-enrolment) code for a desk's credentials.
    fn redeem(
        &self,
        server_url: &str,
        code: &str,
    ) -> impl Future<Output = Result<Answer<DeskCredentials>, SyncError>> + Send;

    /// Reports the facts of the desk's readiness checklist; the server's count and verdict
    /// come back. A transport without it answers 404, as an older server would.
    fn report_readiness(
        &self,
        _to: &Enrolment,
        _facts: &Facts,
    ) -> impl Future<Output = Result<Answer<ReportAnswer>, SyncError>> + Send {
        std::future::ready(Ok(Answer {
            said: Err(Refusal {
                status: 404,
                body: None,
            }),
            server_time: None,
        }))
    }
}

/// The server's answer: what it said or why it refused, and its clock when it told it.
#[derive(Debug)]
pub struct Answer<T> {
    pub said: Result<T, Refusal>,
    pub server_time: Option<Timestamp>,
}

/// A refusal: the status and, when the server sent one, its `{code, message}`.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub body: Option<ErrorBody>,
}

/// What a pull asks for.
#[derive(Debug, Clone)]
pub struct PullQuery {
    pub client_id: ClientId,
    pub cursor: Option<String>,
    pub limit: u32,
    /// The lowest sequence still `held` at a relay: its decision is asked for (protocol 2).
    pub decided_from: Option<u64>,
    /// The venue cursor (empty: from the start): a relay sends its venue feed (protocol 2).
    pub venue: Option<String>,
}

/// One pull page: the body (a `PullResponse`, decoded by the desk) and the cursor and
/// `has_more` that come ahead of it, so the next page can be asked for while this one is
/// decoded.
#[derive(Debug)]
pub struct PulledPage {
    pub body: bytes::Bytes,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// The sync protocol over HTTP(S): one long-lived client (gzip, rustls), the server's clock
/// from its `Date` header.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Result<Self, SyncError> {
        let client = http::client(Duration::from_secs(60))
            .gzip(true)
            .build()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok(Self { client })
    }

    /// The answer to a request: the body as `T` on success, the refusal otherwise.
    async fn answer<T>(
        res: reqwest::Response,
        read: impl AsyncFnOnce(reqwest::Response) -> Result<T, reqwest::Error>,
    ) -> Result<Answer<T>, SyncError> {
        let server_time = server_date(&res);
        let status = res.status();
        let said = if status.is_success() {
            Ok(read(res).await.map_err(|e| unreachable(&e))?)
        } else {
            Err(Refusal {
                status: status.as_u16(),
                body: res.json().await.ok(),
            })
        };
        Ok(Answer { said, server_time })
    }
}

impl Transport for Http {
    async fn push(
        &self,
        to: &Enrolment,
        request: &PushRequest,
    ) -> Result<Answer<PushResponse>, SyncError> {
        let res = send(|| {
            self.client
                .post(format!("{}/v1/sync/push", to.server_url))
                .bearer_auth(&to.token)
                .json(request)
        })
        .await?;
        Self::answer(res, async |r| r.json().await).await
    }

    async fn pull(
        &self,
        to: &Enrolment,
        query: &PullQuery,
    ) -> Result<Answer<PulledPage>, SyncError> {
        let mut url = format!(
            "{}/v1/sync/pull?limit={}&scope=door&client_id={}",
            to.server_url, query.limit, query.client_id
        );
        if let Some(c) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        if let Some(from) = query.decided_from {
            url.push_str(&format!("&decided_from={from}"));
        }
        if let Some(venue) = &query.venue {
            // The feed's cursor is `<feed>.<seq>`: letters, digits and a dot.
            url.push_str("&venue=");
            url.push_str(venue);
        }
        let res = send(|| self.client.get(&url).bearer_auth(&to.token)).await?;
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next_cursor = header(protocol::NEXT_CURSOR_HEADER);
        let has_more = header(protocol::HAS_MORE_HEADER).is_some_and(|v| v == "true");
        Self::answer(res, async |r| {
            Ok(PulledPage {
                body: r.bytes().await?,
                next_cursor,
                has_more,
            })
        })
        .await
    }

    async fn report_readiness(
        &self,
        to: &Enrolment,
        facts: &Facts,
    ) -> Result<Answer<ReportAnswer>, SyncError> {
        let res = self
            .client
            .post(format!("{}/v1/sync/readiness", to.server_url))
            .bearer_auth(&to.token)
            .json(facts)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        Self::answer(res, async |r| r.json().await).await
    }

    async fn redeem(
        &self,
        server_url: &str,
        code: &str,
    ) -> Result<Answer<DeskCredentials>, SyncError> {
        let res = self
            .client
            .post(format!(
                "{}/v1/devices/enrol",
                server_url.trim().trim_end_matches('/')
            ))
            .json(&EnrolRequest {
                code: code.trim().to_owned(),
            })
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        Self::answer(res, async |r| r.json().await).await
    }
}

impl Http {
    /// Gives one of this desk's seat leases back (not part of the sync protocol: it is asked
    /// for online, by staff, and the desk learns of it by pulling).
    pub async fn return_lease(
        &self,
        to: &Enrolment,
        lease: onsite_shared::ids::LeaseId,
    ) -> Result<Answer<()>, SyncError> {
        let res = send(|| {
            self.client
                .post(format!("{}/v1/sync/leases/{lease}/return", to.server_url))
                .bearer_auth(&to.token)
        })
        .await?;
        Self::answer(res, async |_| Ok(())).await
    }

    /// Asks the server for a seat lease for this desk (online, by staff).
    pub async fn ask_lease(
        &self,
        to: &Enrolment,
        seat_type: onsite_shared::ids::SeatTypeId,
        quantity: u32,
    ) -> Result<Answer<()>, SyncError> {
        let body = serde_json::json!({"seat_type": seat_type, "quantity": quantity});
        let res = self
            .client
            .post(format!("{}/v1/sync/leases", to.server_url))
            .bearer_auth(&to.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        Self::answer(res, async |_| Ok(())).await
    }
}

impl Http {
    /// Asks a venue relay for seats from its venue leases for the sale `order` (online, over
    /// the venue network, before the payment is taken); `seats` empty gives them back. Within
    /// `wait`: a relay that does not answer at once is no help at the door.
    pub async fn venue_seats(
        &self,
        to: &Enrolment,
        order: onsite_shared::ids::OrderId,
        seats: &[onsite_shared::seat_availability::SeatQuantity],
        wait: Duration,
    ) -> Result<Answer<onsite_shared::protocol::VenueSeats>, SyncError> {
        let body = onsite_shared::protocol::VenueSeatsRequest {
            seats: seats.to_vec(),
        };
        let res = self
            .client
            .put(format!("{}/v1/sync/venue-seats/{order}", to.server_url))
            .bearer_auth(&to.token)
            .timeout(wait)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        Self::answer(res, async |r| r.json().await).await
    }
}

/// The server's clock, from the `Date` header (whole seconds).
fn server_date(res: &reqwest::Response) -> Option<Timestamp> {
    let date = res
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())?;
    Some(date.into())
}

/// Sends a push or a pull, and once more when it failed on its way without an answer (a
/// pooled connection the server had closed, a server that restarted meanwhile): both are
/// idempotent. A timeout is not sent again: the server may still be working on it, and the
/// next round asks again anyway.
async fn send(
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, SyncError> {
    match request().send().await {
        Ok(res) => Ok(res),
        Err(e) if !e.is_timeout() => {
            tracing::debug!(error = %http::failure(&e), "a sync request failed on its way; once more");
            request().send().await.map_err(|e| unreachable(&e))
        }
        Err(e) => Err(unreachable(&e)),
    }
}

fn unreachable(e: &reqwest::Error) -> SyncError {
    SyncError::Unreachable(http::failure(e))
}
