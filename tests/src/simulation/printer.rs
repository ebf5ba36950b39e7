//! The simulator's badge printers, one per desk, behind the print pipeline's spooler seam
//! ([`Spooler`]): the desk's own pipeline sends and follows the jobs, as it does with CUPS.
//!
//! A job handed to a printer that works comes out at once: from then on a badge exists,
//! whatever the desk hears next (its power may go before it records the answer). A printer
//! that jams holds the jobs it is given (it says it is stopped, `media-jam`); the pipeline then
//! cancels them and they fail with the reason. Cleared, it prints what it still holds. Every
//! badge that came out is kept with the job id it was given, for the invariants: no print is
//! recorded that did not come out, and none is recorded twice. And no job is handed over
//! twice (two badges for one print): the pipeline names each job by its id in the title.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use onsite_desk_core::printing::{
    Printer, PrinterState, Spooler, SpoolerError, SpoolerJobState, Submission,
};

/// The printer's name, as each desk's settings name it.
pub const NAME: &str = "Simulated badge printer";

#[derive(Default)]
pub struct VirtualPrinter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    jammed: bool,
    next: i32,
    /// The titles handed over (each names its job), and how many came twice.
    titles: std::collections::BTreeSet<String>,
    twice: u64,
    /// Spooler job id → its title, and whether it came out (`None`: held, or cancelled).
    jobs: BTreeMap<i32, Held>,
}

struct Held {
    title: String,
    printed: bool,
    cancelled: bool,
}

impl VirtualPrinter {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The printer jams, or is cleared.
    pub fn toggle_jam(&self) {
        let mut s = self.state();
        s.jammed = !s.jammed;
    }

    /// Cleared: what it still holds comes out when asked about.
    pub fn clear(&self) {
        self.state().jammed = false;
    }

    /// How many jobs were handed over a second time.
    pub fn jobs_sent_twice(&self) -> u64 {
        self.state().twice
    }

    /// Every badge that came out: spooler job id → title.
    pub fn badges(&self) -> BTreeMap<i32, String> {
        self.state()
            .jobs
            .iter()
            .filter(|(_, h)| h.printed)
            .map(|(id, h)| (*id, h.title.clone()))
            .collect()
    }

    fn check(name: &str) -> Result<(), SpoolerError> {
        if name == NAME {
            Ok(())
        } else {
            Err(SpoolerError::NoSuchPrinter(name.to_owned()))
        }
    }
}

impl Spooler for VirtualPrinter {
    fn printer(&self, name: &str) -> impl Future<Output = Result<Printer, SpoolerError>> + Send {
        let answer = Self::check(name).map(|()| {
            let jammed = self.state().jammed;
            Printer {
                name: NAME.to_owned(),
                info: "the simulator's".to_owned(),
                state: if jammed {
                    PrinterState::Stopped
                } else {
                    PrinterState::Idle
                },
                accepting_jobs: true,
                reasons: if jammed {
                    vec!["media-jam".to_owned()]
                } else {
                    vec![]
                },
                message: String::new(),
                media_supported: vec![],
                media_default: None,
                media_ready: vec![],
            }
        });
        std::future::ready(answer)
    }

    fn submit(
        &self,
        printer: &str,
        job: &Submission<'_>,
    ) -> impl Future<Output = Result<i32, SpoolerError>> + Send {
        let answer = Self::check(printer).map(|()| {
            let mut s = self.state();
            if !s.titles.insert(job.title.to_owned()) {
                s.twice += 1;
            }
            s.next += 1;
            let id = s.next;
            let printed = !s.jammed;
            s.jobs.insert(
                id,
                Held {
                    title: job.title.to_owned(),
                    printed,
                    cancelled: false,
                },
            );
            id
        });
        std::future::ready(answer)
    }

    fn job(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<SpoolerJobState, SpoolerError>> + Send {
        let answer = Self::check(printer).and_then(|()| {
            let mut s = self.state();
            let jammed = s.jammed;
            let held = s
                .jobs
                .get_mut(&job)
                .ok_or_else(|| SpoolerError::Refused(format!("no job {job}")))?;
            Ok(if held.cancelled {
                SpoolerJobState::Failed("job-canceled-by-user".to_owned())
            } else if held.printed {
                SpoolerJobState::Completed
            } else if jammed {
                SpoolerJobState::Active
            } else {
                held.printed = true;
                SpoolerJobState::Completed
            })
        });
        std::future::ready(answer)
    }

    fn cancel(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<(), SpoolerError>> + Send {
        let answer = Self::check(printer).map(|()| {
            if let Some(held) = self.state().jobs.get_mut(&job)
                && !held.printed
            {
                held.cancelled = true;
            }
        });
        std::future::ready(answer)
    }
}
