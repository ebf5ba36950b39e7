//! The sync protocol without a socket: desk cores whose sync client speaks to the server's own
//! push, pull and enrolment functions in this process, over a real server store (SQLite) and
//! real desk files. Requests and answers still cross as JSON, as they would on the wire. This
//! is the seam a simulated network sits in.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use onsite_desk_core::Enrolment;
use onsite_desk_core::sync::{Answer, PullQuery, PulledPage, Refusal, SyncError, Transport};
use onsite_server::admin::{self, NewConference, NewSeatType};
use onsite_server::head_office::{self, ConflictRow, Decision};
use onsite_server::http::ApiError;
use onsite_server::http::sync::{self as routes, PullQuery as ServerPullQuery};
use onsite_server::import::{self, ImportFile};
use onsite_server::recorder::{Recorder, Rejected};
use onsite_server::registration::{self, PaymentResult};
use onsite_server::storage::PullScope;
use onsite_server::storage::sqlite::SqliteStore;
use onsite_server::{App, Config, Store, devices, event_log};
use onsite_shared::Timestamp;
use onsite_shared::conference::{Conference, ConferenceDetails, OversellPolicy, SeatKind};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{ConferenceId, ConflictId, OrderId, SeatTypeId};
use onsite_shared::money::Currency;
use onsite_shared::order::{Order, OrderOrigin, Payment, PaymentMethod};
use onsite_shared::protocol::{DeskCredentials, EnrolRequest, PushRequest, PushResponse};
use onsite_shared::seat_availability::SeatQuantity;

/// A server in this process: its state over a SQLite file, and the clock it decides with.
pub struct InProcess {
    pub app: Arc<App<SqliteStore>>,
    clock: Box<dyn Fn() -> Timestamp + Send + Sync>,
}

impl InProcess {
    /// A server over `dir/onsite.sqlite3`, on the wall clock.
    pub async fn open(dir: &Path) -> Result<Self> {
        Self::open_with_clock(dir, Box::new(chrono::Utc::now)).await
    }

    /// A server over `dir/onsite.sqlite3` that decides by `clock` (the simulator's).
    pub async fn open_with_clock(
        dir: &Path,
        clock: Box<dyn Fn() -> Timestamp + Send + Sync>,
    ) -> Result<Self> {
        let store = SqliteStore::open(&dir.join("onsite.sqlite3"))?;
        Ok(Self {
            app: Arc::new(App::open(store, Config::default()).await?),
            clock,
        })
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// A published conference with one admission seat type of `quota` seats that refuses
    /// to oversell ([`published_conference`]).
    pub async fn conference(&self, quota: u32) -> Result<(ConferenceId, SeatTypeId)> {
        published_conference(&self.app.store, quota, self.now()).await
    }

    /// Imports `file` (its conference, seat and attendee types, and registrations) in one
    /// transaction, as `onsite-server import` does.
    pub async fn import(&self, file: ImportFile) -> Result<ConferenceId> {
        let id = file
            .conference
            .new
            .id
            .context("an import for the simulator names its conference")?;
        let now = self.now();
        self.app
            .store
            .write(move |tx| {
                let mut rec = Recorder::new(tx, id, now);
                import::ensure_conference(&mut rec, &file)?;
                drop(rec);
                import::import_batch(tx, id, now, &file.source, &file.registrations)?;
                Ok::<_, Rejected>(())
            })
            .await?;
        Ok(id)
    }

    /// The seat types of `conference`: id and name.
    pub async fn seat_types(&self, conference: ConferenceId) -> Result<Vec<(SeatTypeId, String)>> {
        let (conf, _) = self
            .app
            .store
            .read(move |tx| event_log::load::<Conference>(tx, &StreamId::conference(conference)))
            .await?;
        Ok(conf
            .seat_types
            .values()
            .map(|s| (s.id, s.name.clone()))
            .collect())
    }

    /// Head office changes a seat type's quota by `by` seats (a cut may go below what is sold:
    /// the remaining seats go negative, and nothing more is sold).
    pub async fn change_quota(
        &self,
        conference: ConferenceId,
        seat_type: SeatTypeId,
        by: i32,
    ) -> Result<()> {
        let now = self.now();
        self.app
            .store
            .write(move |tx| {
                let mut rec = Recorder::new(tx, conference, now);
                let (conf, _) = rec.load::<Conference>(&StreamId::conference(conference))?;
                let current = conf.seat_types.get(&seat_type).map_or(0, |s| s.quota);
                let quota =
                    u32::try_from((i64::from(current) + i64::from(by)).max(0)).unwrap_or(u32::MAX);
                if quota == current {
                    return Ok(());
                }
                admin::change_quota(&mut rec, seat_type, quota, true)
            })
            .await?;
        Ok(())
    }

    /// A re-enrolment code for a desk that is enrolled already (its file was restored from a
    /// backup), as head office makes one.
    pub async fn reenrolment_code(&self, device: onsite_shared::ids::DeviceId) -> Result<String> {
        let now = self.now();
        let e = self
            .app
            .store
            .write(move |tx| devices::reenroll(tx, device, now))
            .await
            .context("re-enrolling a desk")?;
        Ok(e.code)
    }

    /// A one-time enrolment code for a new desk of `conference`.
    pub async fn enrolment_code(&self, conference: ConferenceId, name: &str) -> Result<String> {
        let (name, now) = (name.to_owned(), self.now());
        let e = self
            .app
            .store
            .write(move |tx| devices::enroll(tx, conference, &name, now))
            .await
            .context("enrolling a desk")?;
        Ok(e.code)
    }

    /// Runs `f` on a recorder of `conference` at the server's time, in one write: what it
    /// returned, or the domain's refusal (its code); a failure of the store is an error.
    async fn record<T: Send + 'static>(
        &self,
        conference: ConferenceId,
        mut f: impl FnMut(&mut Recorder<'_>) -> Result<T, Rejected> + Send + 'static,
    ) -> Result<Result<T, &'static str>> {
        let now = self.now();
        let result = self
            .app
            .store
            .write(move |tx| f(&mut Recorder::new(tx, conference, now)))
            .await;
        match result {
            Ok(t) => Ok(Ok(t)),
            Err(Rejected::Domain { code, .. }) => Ok(Err(code)),
            Err(Rejected::Store(e)) => Err(e.into()),
        }
    }

    /// An online buyer orders seats, held for `hold` of the server's time: the order, or the
    /// domain's refusal (its code).
    pub async fn place_order(
        &self,
        conference: ConferenceId,
        seats: Vec<SeatQuantity>,
        hold: registration::Hold,
    ) -> Result<Result<OrderId, &'static str>> {
        let order = OrderId::from_uuid(uuid::Uuid::now_v7());
        self.record(conference, move |rec| {
            registration::place_order(rec, order, seats.clone(), hold, OrderOrigin::Online)
        })
        .await
        .map(|r| r.map(|_access_code| order))
    }

    /// The payment provider confirms that the buyer paid an order's total (what its signed
    /// webhook does): what became of the payment, or the domain's refusal (its code).
    pub async fn pay(
        &self,
        conference: ConferenceId,
        order: OrderId,
    ) -> Result<Result<PaymentResult, &'static str>> {
        self.record(conference, move |rec| {
            let (state, _) = rec.load::<Order>(&StreamId::order(order))?;
            let Some(amount) = state.total else {
                return Ok(PaymentResult::Pending);
            };
            let payment = Payment::Received {
                method: PaymentMethod::Card,
                amount,
                reference: format!("psp-{order}"),
            };
            registration::confirm_payment(rec, order, payment)
        })
        .await
    }

    /// The server's timer tick (every 500 ms in `serve`): fires the reservation timers due by
    /// its clock. How many fired.
    pub async fn fire_timers(&self) -> Result<usize> {
        let now = self.now();
        Ok(self
            .app
            .store
            .write(move |tx| registration::fire_due_timers(tx, now))
            .await?)
    }

    /// The conference's open conflicts.
    pub async fn open_conflicts(&self, conference: ConferenceId) -> Result<Vec<ConflictRow>> {
        Ok(self
            .app
            .store
            .read(move |tx| head_office::conflicts(tx, conference, true))
            .await?)
    }

    /// Head office decides a conflict: done, or the domain's refusal (its code).
    pub async fn decide(
        &self,
        conference: ConferenceId,
        conflict: ConflictId,
        decision: Decision,
    ) -> Result<Result<(), &'static str>> {
        self.record(conference, move |rec| {
            head_office::resolve(rec, conflict, decision, "sim@example.com", "")
        })
        .await
    }

    /// A transport to this server, for a desk's sync client.
    pub fn transport(self: &Arc<Self>) -> Link {
        Link {
            server: Arc::clone(self),
        }
    }
}

/// One desk's link to an [`InProcess`] server.
#[derive(Clone)]
pub struct Link {
    server: Arc<InProcess>,
}

/// A value as it comes out of the wire: serialized by one side, read by the other.
fn across<T: serde::Serialize, U: serde::de::DeserializeOwned>(value: &T) -> Result<U, SyncError> {
    serde_json::to_vec(value)
        .and_then(|bytes| serde_json::from_slice(&bytes))
        .map_err(|e| SyncError::Unreachable(format!("not sent as JSON: {e}")))
}

fn refusal<T>(e: &ApiError, server_time: Timestamp) -> Answer<T> {
    Answer {
        said: Err(Refusal {
            status: e.status(),
            body: Some(e.body().clone()),
        }),
        server_time: Some(server_time),
    }
}

impl Transport for Link {
    async fn push(
        &self,
        to: &Enrolment,
        request: &PushRequest,
    ) -> Result<Answer<PushResponse>, SyncError> {
        let app = &self.server.app;
        let now = self.server.now();
        let request: PushRequest = across(request)?;
        let desk = match routes::desk_of(app, to.token.clone()).await {
            Ok(desk) => desk,
            Err(e) => return Ok(refusal(&e, now)),
        };
        Ok(match routes::push_from(app, desk, request, now).await {
            Ok(response) => Answer {
                said: Ok(across(&response)?),
                server_time: Some(now),
            },
            Err(e) => refusal(&e, now),
        })
    }

    async fn pull(
        &self,
        to: &Enrolment,
        query: &PullQuery,
    ) -> Result<Answer<PulledPage>, SyncError> {
        let app = &self.server.app;
        let now = self.server.now();
        let desk = match routes::desk_of(app, to.token.clone()).await {
            Ok(desk) => desk,
            Err(e) => return Ok(refusal(&e, now)),
        };
        let q = ServerPullQuery {
            cursor: query.cursor.clone().filter(|c| !c.is_empty()),
            limit: Some(query.limit),
            client_id: Some(query.client_id),
            conference: None,
            scope: Some(PullScope::Door),
            decided_from: query.decided_from,
            venue: query.venue.clone(),
        };
        Ok(match routes::pull_for(app, desk, q).await {
            Ok(page) => Answer {
                said: Ok(PulledPage {
                    next_cursor: Some(page.next_cursor),
                    has_more: page.has_more,
                    body: page.body.into(),
                }),
                server_time: Some(now),
            },
            Err(e) => refusal(&e, now),
        })
    }

    async fn redeem(
        &self,
        _server_url: &str,
        code: &str,
    ) -> Result<Answer<DeskCredentials>, SyncError> {
        let app = &self.server.app;
        let now = self.server.now();
        let request: EnrolRequest = across(&EnrolRequest {
            code: code.trim().to_owned(),
        })?;
        let redeemed = app
            .store
            .write(move |tx| devices::redeem(tx, &request.code, now))
            .await;
        Ok(match redeemed {
            Ok(credentials) => Answer {
                said: Ok(across(&credentials)?),
                server_time: Some(now),
            },
            Err(e) => refusal(&ApiError::from(e), now),
        })
    }
}

/// A published conference with one admission seat type ("General admission", 199 EUR) of
/// `quota` seats that refuses to oversell, written to any store.
pub async fn published_conference<S: onsite_server::storage::Store>(
    store: &S,
    quota: u32,
    now: Timestamp,
) -> Result<(ConferenceId, SeatTypeId)> {
    let id = ConferenceId::from_uuid(uuid::Uuid::now_v7());
    let seat = store
        .write(move |tx| {
            let mut rec = Recorder::new(tx, id, now);
            admin::create_conference(
                &mut rec,
                &NewConference {
                    id: Some(id),
                    details: ConferenceDetails {
                        name: "In-process Summit".into(),
                        slug: format!("in-process-{id}"),
                        description: String::new(),
                        venue: "Here".into(),
                        starts_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
                            .unwrap_or_default(),
                        ends_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default(),
                        currency: Currency::EUR,
                        max_seats_per_order: None,
                        time_zone: None,
                        owner_name: None,
                    },
                    owner_email: "org@example.com".into(),
                },
            )?;
            let seat = admin::add_seat_type(
                &mut rec,
                &NewSeatType {
                    id: None,
                    name: "General admission".into(),
                    description: String::new(),
                    price_minor: 19_900,
                    quota,
                    kind: SeatKind::Admission,
                    policy: OversellPolicy::Reject,
                },
            )?;
            admin::publish(&mut rec, true)?;
            Ok::<_, Rejected>(seat)
        })
        .await?;
    Ok((id, seat))
}
