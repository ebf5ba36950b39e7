//! The print pipeline: the only code that talks to the spooler. It sends queued jobs, follows
//! sent ones until the spooler says completed (then the print is recorded) or failed.
//!
//! It speaks to a [`Spooler`]: CUPS over IPP in production ([`Cups`]), the simulator's virtual
//! printers in tests. What a pass does with the answers is the same over every spooler.

use std::future::Future;

use serde::Serialize;

use super::cups::{Cups, JobState as SpoolerJobState, Printer, SpoolerError, Submission};
use super::jobs::{JobState, PrintJob, jobs_in, set_state};
use crate::error::DeskError;
use crate::store::Desk;

/// What the print pipeline asks of a spooler.
pub trait Spooler: Send + Sync {
    /// The printer's state: whether a job sent now would print.
    fn printer(&self, name: &str) -> impl Future<Output = Result<Printer, SpoolerError>> + Send;

    /// Hands a PDF over; the spooler's job id once it accepted it.
    fn submit(
        &self,
        printer: &str,
        job: &Submission<'_>,
    ) -> impl Future<Output = Result<i32, SpoolerError>> + Send;

    /// Where a job the spooler accepted is now.
    fn job(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<SpoolerJobState, SpoolerError>> + Send;

    /// Cancels a job, so that it cannot print later.
    fn cancel(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<(), SpoolerError>> + Send;
}

impl Spooler for Cups {
    fn printer(&self, name: &str) -> impl Future<Output = Result<Printer, SpoolerError>> + Send {
        Cups::printer(self, name)
    }

    fn submit(
        &self,
        printer: &str,
        job: &Submission<'_>,
    ) -> impl Future<Output = Result<i32, SpoolerError>> + Send {
        Cups::submit(self, printer, job)
    }

    fn job(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<SpoolerJobState, SpoolerError>> + Send {
        Cups::job(self, printer, job)
    }

    fn cancel(
        &self,
        printer: &str,
        job: i32,
    ) -> impl Future<Output = Result<(), SpoolerError>> + Send {
        Cups::cancel(self, printer, job)
    }
}

/// What one pass of the print pipeline left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ts_rs::TS)]
pub struct PrintPass {
    /// Jobs still queued or at the spooler.
    pub active: usize,
}

/// Moves every job along once: sends the queued ones, asks the spooler about the sent ones.
/// Call it after a print command and every few hundred milliseconds while `active > 0`.
pub async fn print_pending(desk: &Desk, cups: &impl Spooler) -> Result<PrintPass, DeskError> {
    let queued = desk.read(|conn| jobs_in(conn, JobState::Queued))?;
    for job in queued {
        send(desk, cups, &job).await?;
    }
    let sent = desk.read(|conn| jobs_in(conn, JobState::Sent))?;
    for job in sent {
        follow(desk, cups, &job).await?;
    }
    let active = desk.read(|conn| {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM print_jobs WHERE state IN ('queued', 'sending', 'sent')",
            [],
            |r| r.get::<_, i64>(0),
        )?)
    })?;
    Ok(PrintPass {
        active: usize::try_from(active).unwrap_or(0),
    })
}

/// Runs [`print_pending`] until `shutdown` resolves: every `interval` while jobs are active,
/// and at once when `wake` is notified (after a print command or a check-in).
pub async fn run_printing(
    desk: std::sync::Arc<Desk>,
    cups: impl Spooler,
    wake: std::sync::Arc<tokio::sync::Notify>,
    interval: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let active = match print_pending(&desk, &cups).await {
            Ok(pass) => pass.active,
            Err(e) => {
                tracing::warn!(error = %e, "print pipeline");
                1
            }
        };
        let idle = if active > 0 {
            interval
        } else {
            std::time::Duration::from_secs(3600)
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }
}

async fn send(desk: &Desk, cups: &impl Spooler, job: &PrintJob) -> Result<(), DeskError> {
    // Is the printer there and able to print? A stopped printer would accept the job and
    // hold it; better to say so now.
    match cups.printer(&job.printer).await {
        Ok(p) => {
            if let Some(problem) = p.problem() {
                return desk.job_failed(job.job, &problem);
            }
        }
        Err(e) => return desk.job_failed(job.job, &e.to_string()),
    }
    let now = desk.now();
    desk.write(|tx| set_state(tx, job.job, JobState::Sending, None, None, now))?;
    let pdf = desk
        .print_job_pdf(job.job)?
        .ok_or_else(|| DeskError::Corrupt("print job without its PDF".into()))?;
    // The job's id in the title: the spooler's queue then says which of the desk's jobs each
    // of its jobs is (what a person checks when the desk stopped while handing one over).
    let title = format!("Badge {} (job {})", job.code, job.job);
    let submitted = cups
        .submit(
            &job.printer,
            &Submission {
                title: &title,
                media: &job.media,
                pdf: &pdf,
            },
        )
        .await;
    let now = desk.now();
    match submitted {
        Ok(spooler_job) => {
            desk.write(|tx| set_state(tx, job.job, JobState::Sent, Some(spooler_job), None, now))
        }
        Err(e) => desk.write(|tx| {
            set_state(
                tx,
                job.job,
                JobState::Failed,
                None,
                Some(&e.to_string()),
                now,
            )
        }),
    }
}

async fn follow(desk: &Desk, cups: &impl Spooler, job: &PrintJob) -> Result<(), DeskError> {
    let Some(spooler_job) = job.spooler_job else {
        return desk.job_failed(job.job, "sent without a spooler job id");
    };
    match cups.job(&job.printer, spooler_job).await {
        Ok(SpoolerJobState::Completed) => desk.job_completed(job),
        Ok(SpoolerJobState::Failed(reason)) => {
            // A stopped job can be resumed at the printer; cancel it so it cannot print later.
            let _ = cups.cancel(&job.printer, spooler_job).await;
            desk.job_failed(job.job, &reason)
        }
        Ok(SpoolerJobState::Active) => match cups.printer(&job.printer).await {
            Ok(p) => match p.problem() {
                Some(problem) => {
                    let _ = cups.cancel(&job.printer, spooler_job).await;
                    desk.job_failed(job.job, &format!("{problem}; the job was cancelled"))
                }
                None => Ok(()),
            },
            // The spooler went away for a moment: ask again on the next pass.
            Err(_) => Ok(()),
        },
        // The spooler forgot the job (restarted without its history): nobody can say.
        Err(SpoolerError::Refused(reason)) => desk.job_failed(
            job.job,
            &format!("the spooler lost track of job {spooler_job}: {reason}"),
        ),
        Err(_) => Ok(()),
    }
}
