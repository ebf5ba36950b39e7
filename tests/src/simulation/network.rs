//! The simulated network between the desks and the server: per sync round, each request may
//! be lost on the way, delivered twice, delivered with its answer lost, or held back and
//! delivered much later; a partitioned desk reaches nothing. Every fate is drawn from the
//! round's seed, in the order requests are made, so a schedule replays exactly.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use onsite_desk_core::Enrolment;
use onsite_desk_core::sync::{Answer, PullQuery, PulledPage, SyncError, Transport};
use onsite_shared::protocol::{DeskCredentials, PushRequest, PushResponse};

use super::schedule::Rng;
use crate::in_process::InProcess;

/// What the network did, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub delivered: u64,
    pub lost_requests: u64,
    pub lost_answers: u64,
    pub duplicated: u64,
    pub held: u64,
    pub redelivered: u64,
    pub partitioned: u64,
}

struct State {
    /// `None`: a perfect network (setup and the quiet end).
    rng: Option<Rng>,
    down: BTreeSet<usize>,
    held: Vec<(Enrolment, PushRequest)>,
    counts: Counts,
}

/// The network, and the server at the end of it (swapped when the server restarts).
pub struct Net {
    server: Mutex<Option<Arc<InProcess>>>,
    state: Mutex<State>,
}

enum Fate {
    Unreachable(&'static str),
    Delivered {
        twice: bool,
        answer_lost: bool,
        held: bool,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Net {
    pub fn new(server: InProcess) -> Arc<Self> {
        Arc::new(Self {
            server: Mutex::new(Some(Arc::new(server))),
            state: Mutex::new(State {
                rng: None,
                down: BTreeSet::new(),
                held: Vec::new(),
                counts: Counts::default(),
            }),
        })
    }

    pub fn server(&self) -> Arc<InProcess> {
        Arc::clone(lock(&self.server).as_ref().expect("a server is running"))
    }

    /// Stops the server: the caller drops it and opens another with [`Net::start`].
    pub fn stop(&self) -> Option<Arc<InProcess>> {
        lock(&self.server).take()
    }

    pub fn start(&self, server: InProcess) {
        *lock(&self.server) = Some(Arc::new(server));
    }

    /// The faults of the next round, drawn from `seed`; `None`: no faults.
    pub fn round(&self, seed: Option<u64>) {
        lock(&self.state).rng = seed.map(Rng::new);
    }

    /// Takes a desk's link down, or brings it back; whether it is down now.
    pub fn toggle(&self, desk: usize) -> bool {
        let mut s = lock(&self.state);
        if !s.down.remove(&desk) {
            s.down.insert(desk);
        }
        s.down.contains(&desk)
    }

    /// Every link up, no faults.
    pub fn heal(&self) {
        let mut s = lock(&self.state);
        s.down.clear();
        s.rng = None;
    }

    pub fn counts(&self) -> Counts {
        lock(&self.state).counts
    }

    /// A push that was held back, taken out of the network.
    pub fn take_held(&self, pick: u32) -> Option<(Enrolment, PushRequest)> {
        let mut s = lock(&self.state);
        if s.held.is_empty() {
            return None;
        }
        let i = pick as usize % s.held.len();
        s.counts.redelivered += 1;
        Some(s.held.swap_remove(i))
    }

    fn fate(&self, desk: usize) -> Fate {
        let mut s = lock(&self.state);
        if s.down.contains(&desk) {
            s.counts.partitioned += 1;
            return Fate::Unreachable("the desk's link is down");
        }
        let Some(rng) = s.rng.as_mut() else {
            s.counts.delivered += 1;
            return Fate::Delivered {
                twice: false,
                answer_lost: false,
                held: false,
            };
        };
        if rng.percent(10) {
            s.counts.lost_requests += 1;
            return Fate::Unreachable("the request was lost");
        }
        let (twice, answer_lost, held) = (rng.percent(8), rng.percent(10), rng.percent(10));
        s.counts.delivered += 1;
        s.counts.duplicated += u64::from(twice);
        s.counts.lost_answers += u64::from(answer_lost);
        Fate::Delivered {
            twice,
            answer_lost,
            held,
        }
    }

    fn hold(&self, to: &Enrolment, request: &PushRequest) {
        let mut s = lock(&self.state);
        s.counts.held += 1;
        s.held.push((to.clone(), request.clone()));
    }
}

/// One desk's end of the network.
pub struct Faulty {
    pub net: Arc<Net>,
    pub desk: usize,
}

impl Faulty {
    /// This request's fate: whether it goes through twice and whether its answer is lost,
    /// or the error of a request that never arrives; held pushes are copied aside.
    fn fate(&self, push: Option<(&Enrolment, &PushRequest)>) -> Result<(bool, bool), SyncError> {
        match self.net.fate(self.desk) {
            Fate::Unreachable(why) => Err(SyncError::Unreachable(why.into())),
            Fate::Delivered {
                twice,
                answer_lost,
                held,
            } => {
                if let (true, Some((to, request))) = (held, push) {
                    self.net.hold(to, request);
                }
                Ok((twice, answer_lost))
            }
        }
    }
}

fn lost<T>(answer_lost: bool, answer: Answer<T>) -> Result<Answer<T>, SyncError> {
    if answer_lost {
        Err(SyncError::Unreachable("the answer was lost".into()))
    } else {
        Ok(answer)
    }
}

impl Transport for Faulty {
    async fn push(
        &self,
        to: &Enrolment,
        request: &PushRequest,
    ) -> Result<Answer<PushResponse>, SyncError> {
        let (twice, answer_lost) = self.fate(Some((to, request)))?;
        let link = self.net.server().transport();
        let mut answer = link.push(to, request).await?;
        if twice {
            answer = link.push(to, request).await?;
        }
        lost(answer_lost, answer)
    }

    async fn pull(
        &self,
        to: &Enrolment,
        query: &PullQuery,
    ) -> Result<Answer<PulledPage>, SyncError> {
        let (twice, answer_lost) = self.fate(None)?;
        let link = self.net.server().transport();
        let mut answer = link.pull(to, query).await?;
        if twice {
            answer = link.pull(to, query).await?;
        }
        lost(answer_lost, answer)
    }

    async fn redeem(
        &self,
        server_url: &str,
        code: &str,
    ) -> Result<Answer<DeskCredentials>, SyncError> {
        let (twice, answer_lost) = self.fate(None)?;
        let link = self.net.server().transport();
        let mut answer = link.redeem(server_url, code).await?;
        if twice {
            answer = link.redeem(server_url, code).await?;
        }
        lost(answer_lost, answer)
    }
}
