//! The print log (`print_jobs`: a log of side effects, never rebuilt from events) and the
//! commands that queue a job (a print, a retry, auto-print inside a check-in) and record one
//! the spooler completed.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use onsite_badge::Warning;
use onsite_shared::aggregate::Timestamp;
use onsite_shared::badge::{self, AutoPrint, Badge, Print};
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::{PrintJobId, TicketCode, TicketId};

use super::clean;
use super::render::{BadgePreview, render};
use super::settings::{auto_print_setting, printer};
use crate::command;
use crate::error::DeskError;
use crate::projection;
use crate::roster::RosterEntry;
use crate::store::{Desk, parse_time, time_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Sending,
    Sent,
    Completed,
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sending => "sending",
            JobState::Sent => "sent",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<JobState, DeskError> {
        Ok(match s {
            "queued" => JobState::Queued,
            "sending" => JobState::Sending,
            "sent" => JobState::Sent,
            "completed" => JobState::Completed,
            "failed" => JobState::Failed,
            other => return Err(DeskError::Corrupt(format!("print job state {other:?}"))),
        })
    }
}

/// What asked for a print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Auto-print on a fresh admission.
    CheckIn,
    Manual,
    Retry,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::CheckIn => "check_in",
            Trigger::Manual => "manual",
            Trigger::Retry => "retry",
        }
    }

    fn parse(s: &str) -> Trigger {
        match s {
            "check_in" => Trigger::CheckIn,
            "retry" => Trigger::Retry,
            _ => Trigger::Manual,
        }
    }
}

/// One print job, as the print log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PrintJob {
    pub job: PrintJobId,
    pub code: TicketCode,
    pub ticket: TicketId,
    pub printer: String,
    pub template: String,
    pub media: String,
    pub reprint_reason: Option<String>,
    pub trigger: Trigger,
    pub retry_of: Option<PrintJobId>,
    pub state: JobState,
    pub spooler_job: Option<i32>,
    /// Why it failed, in the spooler's words.
    pub reason: Option<String>,
    pub warnings: Vec<Warning>,
    #[ts(type = "string")]
    pub created_at: Timestamp,
    #[ts(type = "string")]
    pub updated_at: Timestamp,
}

/// Print a ticket's badge.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
pub struct PrintRequest {
    pub code: String,
    /// Required when the badge was printed (or sent to a printer) before.
    pub reprint_reason: Option<String>,
    /// Another printer than the desk's own, for this job.
    pub printer: Option<String>,
    /// Print although the layout reported warnings (a name that does not fit).
    pub accept_warnings: bool,
}

/// What a fresh admission did about the badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "badge", rename_all = "snake_case")]
pub enum AutoPrinted {
    /// The policy says no (never, or printed before), or the ticket is not on the roster.
    NotPrinted,
    /// The policy says print, but no badge printer is chosen.
    NoPrinter,
    /// The layout has warnings: a person must look before it prints.
    Held {
        warnings: Vec<Warning>,
    },
    Queued {
        job: PrintJobId,
    },
}

/// Printed before, or on its way to a printer now.
fn printed_or_printing(conn: &Connection, ticket: TicketId) -> Result<bool, DeskError> {
    let (badge, _) = projection::view::<Badge>(conn, &StreamId::badge(ticket))?;
    if badge.was_printed() {
        return Ok(true);
    }
    let active: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM print_jobs WHERE ticket = ?1 \
             AND state IN ('queued', 'sending', 'sent', 'completed')",
        )?
        .query_row([ticket.to_string()], |r| r.get(0))?;
    Ok(active > 0)
}

struct NewJob<'a> {
    entry: &'a RosterEntry,
    preview: BadgePreview,
    printer: String,
    reprint_reason: Option<String>,
    trigger: Trigger,
    retry_of: Option<PrintJobId>,
}

fn insert_job(tx: &Connection, job: &NewJob<'_>, now: Timestamp) -> Result<PrintJobId, DeskError> {
    let id = PrintJobId::from_uuid(uuid::Uuid::now_v7());
    tx.prepare_cached(
        "INSERT INTO print_jobs (job, code, ticket, printer, template, media, reprint_reason, \
         trigger, retry_of, state, warnings, pdf, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?10, ?11, ?12, ?12)",
    )?
    .execute(params![
        id.to_string(),
        job.entry.code.as_str(),
        job.entry.ticket.to_string(),
        job.printer,
        job.preview.template,
        job.preview.media,
        job.reprint_reason,
        job.trigger.as_str(),
        job.retry_of.map(|j| j.to_string()),
        serde_json::to_string(&job.preview.warnings)?,
        job.preview.pdf,
        time_text(&now),
    ])?;
    Ok(id)
}

/// Auto-print after a fresh admission, inside the check-in's transaction: the job is queued
/// atomically with the admission. A duplicate scan never gets here.
pub(crate) fn auto_print(
    tx: &Transaction<'_>,
    conf: &Conference,
    entry: Option<&RosterEntry>,
    now: Timestamp,
) -> Result<AutoPrinted, DeskError> {
    let Some(entry) = entry else {
        return Ok(AutoPrinted::NotPrinted);
    };
    let policy = auto_print_setting(tx, conf)?;
    let (badge, _) = projection::view::<Badge>(tx, &StreamId::badge(entry.ticket))?;
    if !badge::should_auto_print(policy, &badge, true) {
        return Ok(AutoPrinted::NotPrinted);
    }
    let printed = printed_or_printing(tx, entry.ticket)?;
    if policy == AutoPrint::IfNeverPrinted && printed {
        return Ok(AutoPrinted::NotPrinted);
    }
    let Some(printer) = printer(tx, conf)? else {
        return Ok(AutoPrinted::NoPrinter);
    };
    let preview = render(tx, conf, entry)?;
    if !preview.warnings.is_empty() {
        return Ok(AutoPrinted::Held {
            warnings: preview.warnings,
        });
    }
    let job = insert_job(
        tx,
        &NewJob {
            entry,
            preview,
            printer,
            reprint_reason: printed.then(|| "printed again at check-in".to_owned()),
            trigger: Trigger::CheckIn,
            retry_of: None,
        },
        now,
    )?;
    Ok(AutoPrinted::Queued { job })
}

const JOB_COLUMNS: &str = "job, code, ticket, printer, template, media, reprint_reason, \
    trigger, retry_of, state, spooler_job, reason, warnings, created_at, updated_at";

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 15]> {
    let mut out: [Option<String>; 15] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = match r.get_ref(i)? {
            rusqlite::types::ValueRef::Null => None,
            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
            other => Some(other.as_str()?.to_owned()),
        };
    }
    Ok(out)
}

fn parse<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, DeskError> {
    v.parse()
        .map_err(|_| DeskError::Corrupt(format!("print job with a bad {what}: {v:?}")))
}

fn parse_job(row: [Option<String>; 15]) -> Result<PrintJob, DeskError> {
    let [
        job,
        code,
        ticket,
        printer,
        template,
        media,
        reprint_reason,
        trigger,
        retry_of,
        state,
        spooler_job,
        reason,
        warnings,
        created_at,
        updated_at,
    ] = row;
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| DeskError::Corrupt(format!("print job without {what}")))
    };
    Ok(PrintJob {
        job: parse(&need(job, "id")?, "id")?,
        code: TicketCode::parse(&need(code, "code")?)
            .map_err(|e| DeskError::Corrupt(e.to_string()))?,
        ticket: parse(&need(ticket, "ticket")?, "ticket")?,
        printer: need(printer, "printer")?,
        template: need(template, "template")?,
        media: need(media, "media")?,
        reprint_reason,
        trigger: Trigger::parse(&need(trigger, "trigger")?),
        retry_of: retry_of.map(|r| parse(&r, "retry_of")).transpose()?,
        state: JobState::parse(&need(state, "state")?)?,
        spooler_job: spooler_job.map(|s| parse(&s, "spooler job")).transpose()?,
        reason,
        warnings: serde_json::from_str(&need(warnings, "warnings")?)?,
        created_at: parse_time(&need(created_at, "created_at")?)?,
        updated_at: parse_time(&need(updated_at, "updated_at")?)?,
    })
}

fn load_job(conn: &Connection, job: PrintJobId) -> Result<Option<PrintJob>, DeskError> {
    conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs WHERE job = ?1"
    ))?
    .query_row([job.to_string()], job_row)
    .optional()?
    .map(parse_job)
    .transpose()
}

pub(super) fn jobs_in(conn: &Connection, state: JobState) -> Result<Vec<PrintJob>, DeskError> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs WHERE state = ?1 ORDER BY seq"
        ))?
        .query_map([state.as_str()], job_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse_job).collect()
}

pub(super) fn set_state(
    tx: &Connection,
    job: PrintJobId,
    state: JobState,
    spooler_job: Option<i32>,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<(), DeskError> {
    tx.prepare_cached(
        "UPDATE print_jobs SET state = ?2, spooler_job = COALESCE(?3, spooler_job), \
         reason = ?4, updated_at = ?5 WHERE job = ?1",
    )?
    .execute(params![
        job.to_string(),
        state.as_str(),
        spooler_job,
        reason,
        time_text(&now)
    ])?;
    Ok(())
}

/// On open: a job left `sending` was handed over, or not, when the desk stopped. Sending it
/// again could print a second badge, so it fails and a person checks the printer.
pub(crate) fn recover(tx: &Connection) -> Result<(), DeskError> {
    tx.execute(
        "UPDATE print_jobs SET state = 'failed', reason = 'the desk stopped while handing this \
         job to the spooler; check the printer before retrying' WHERE state = 'sending'",
        [],
    )?;
    Ok(())
}

impl Desk {
    /// Queues a badge for printing. A reprint needs a reason; a badge with layout warnings
    /// needs `accept_warnings`; nothing is queued otherwise.
    pub fn print_badge(&self, req: &PrintRequest) -> Result<PrintJob, DeskError> {
        let now = self.now();
        let reason = clean(req.reprint_reason.as_deref());
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let (conf, entry) = self.known_entry(tx, id, &req.code)?;
            let printer = match clean(req.printer.as_deref()) {
                Some(p) => p,
                None => printer(tx, &conf)?.ok_or_else(|| {
                    DeskError::BadInput("choose a badge printer in the settings first".into())
                })?,
            };
            if printed_or_printing(tx, entry.ticket)? && reason.is_none() {
                return Err(DeskError::refused(&badge::Error::ReprintNeedsReason));
            }
            let preview = render(tx, &conf, &entry)?;
            if !preview.warnings.is_empty() && !req.accept_warnings {
                return Err(DeskError::BadgeWarnings(preview.warnings));
            }
            let job = insert_job(
                tx,
                &NewJob {
                    entry: &entry,
                    preview,
                    printer,
                    reprint_reason: reason.clone(),
                    trigger: Trigger::Manual,
                    retry_of: None,
                },
                now,
            )?;
            load_job(tx, job)?.ok_or_else(|| DeskError::Corrupt("job vanished".into()))
        })
    }

    /// Sends a failed job again, to its printer or another one, as a new job (the failed one
    /// stays in the log with its reason). The badge is rendered anew from today's data.
    pub fn retry_print(
        &self,
        job: PrintJobId,
        printer: Option<&str>,
    ) -> Result<PrintJob, DeskError> {
        let now = self.now();
        let printer = clean(printer);
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let failed = load_job(tx, job)?
                .ok_or_else(|| DeskError::BadInput(format!("no print job {job}")))?;
            if failed.state != JobState::Failed {
                return Err(DeskError::BadInput(format!(
                    "print job {job} is {}, only a failed job can be retried",
                    failed.state.as_str()
                )));
            }
            let (conf, entry) = self.known_entry(tx, id, failed.code.as_str())?;
            let printed = printed_or_printing(tx, entry.ticket)?;
            let preview = render(tx, &conf, &entry)?;
            let new = insert_job(
                tx,
                &NewJob {
                    entry: &entry,
                    preview,
                    printer: printer.unwrap_or(failed.printer),
                    reprint_reason: failed
                        .reprint_reason
                        .or_else(|| printed.then(|| "retry of a failed print".to_owned())),
                    trigger: Trigger::Retry,
                    retry_of: Some(job),
                },
                now,
            )?;
            load_job(tx, new)?.ok_or_else(|| DeskError::Corrupt("job vanished".into()))
        })
    }

    /// The print log, newest first.
    pub fn print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>, DeskError> {
        self.read(|conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM print_jobs ORDER BY seq DESC LIMIT ?1"
                ))?
                .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], job_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(parse_job).collect()
        })
    }

    pub fn print_job(&self, job: PrintJobId) -> Result<Option<PrintJob>, DeskError> {
        self.read(|conn| load_job(conn, job))
    }

    /// The PDF a job sent (or will send).
    pub fn print_job_pdf(&self, job: PrintJobId) -> Result<Option<Vec<u8>>, DeskError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT pdf FROM print_jobs WHERE job = ?1",
                    [job.to_string()],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    pub(super) fn job_failed(&self, job: PrintJobId, reason: &str) -> Result<(), DeskError> {
        let now = self.now();
        self.write(|tx| set_state(tx, job, JobState::Failed, None, Some(reason), now))
    }

    /// The spooler printed it: record the print as an event, with the job's new state.
    pub(super) fn job_completed(&self, job: &PrintJob) -> Result<(), DeskError> {
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            command::execute::<Badge>(tx, id, &StreamId::badge(job.ticket), now, |state| {
                // Two first prints can race (a retry and a manual print): the second is a
                // reprint.
                let reason = job.reprint_reason.clone().or_else(|| {
                    state
                        .was_printed()
                        .then(|| "printed again before the first print was recorded".to_owned())
                });
                Ok(badge::Command::RecordPrint {
                    print: Print {
                        conference: id.conference,
                        ticket: job.ticket,
                        code: job.code.clone(),
                        desk: id.device,
                        printer: job.printer.clone(),
                        job: job.job,
                        at: now,
                    },
                    reprint_reason: reason,
                })
            })?;
            set_state(tx, job.job, JobState::Completed, None, None, now)
        })
    }
}
