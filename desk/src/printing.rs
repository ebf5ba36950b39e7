//! Badges and the print pipeline.
//!
//! A print job is a row in `print_jobs`, a log of side effects (never rebuilt from events):
//! `queued` (by a print command, or by auto-print in the check-in's own transaction) →
//! `sending` → `sent` (the spooler accepted it and gave a job id) → `completed`, or `failed`
//! with the spooler's reason. [`print_pending`] moves jobs along; it is the only code that
//! talks to the spooler, and only the command path queues jobs: pulling events or rebuilding
//! projections never prints.
//!
//! `BadgePrinted` (or `BadgeReprinted`) is appended when the spooler reports the job
//! completed, in the same transaction as the job's new state. A job the spooler accepted but
//! that cannot finish (the printer was stopped, the job aborted) is cancelled at the spooler
//! and fails with its reason, so it records no print and cannot come out later by surprise.
//! A desk that stops between handing a job over and hearing the answer finds it `sending` on
//! the next open and marks it failed ("check the printer"), rather than risk a second badge.

pub mod cups;

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use onsite_badge::{BadgeData, Template, TemplateSet, Warning};
use onsite_shared::aggregate::{Aggregate, Timestamp};
use onsite_shared::badge::{self, AutoPrint, Badge, Print};
use onsite_shared::conference::Conference;
use onsite_shared::event::{Event, StreamId};
use onsite_shared::ids::{PrintJobId, TicketCode, TicketId};

use crate::error::DeskError;
use crate::roster::{self, RosterEntry};
use crate::store::{Desk, Identity, parse_time, set_setting, setting, time_text};
use crate::{log, projection};

pub use cups::{Cups, JobState as SpoolerJobState, Printer, PrinterState, SpoolerError};

/// The band colour of a badge whose holder has no attendee type.
const NEUTRAL_BAND: [u8; 3] = [0x5A, 0x62, 0x70];

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

/// A badge rendered for the screen, before anything is printed.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BadgePreview {
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub warnings: Vec<Warning>,
    pub template: String,
    pub width_mm: f32,
    pub height_mm: f32,
    pub media: String,
}

/// A badge preview for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BadgeSvg {
    pub svg: String,
    pub warnings: Vec<Warning>,
    pub template: String,
}

/// The desk's print settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PrintSettings {
    pub printer: Option<String>,
    pub auto_print: AutoPrint,
    pub template: String,
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

fn auto_print_setting(conn: &Connection) -> Result<AutoPrint, DeskError> {
    Ok(match setting(conn, "auto_print")?.as_deref() {
        Some("always") => AutoPrint::Always,
        Some("never") => AutoPrint::Never,
        _ => AutoPrint::IfNeverPrinted,
    })
}

fn templates(conn: &Connection) -> Result<TemplateSet, DeskError> {
    match setting(conn, "badge_templates")? {
        Some(json) => TemplateSet::from_json(&json)
            .map_err(|e| DeskError::Corrupt(format!("stored badge templates: {e}"))),
        None => Ok(TemplateSet::default_set()),
    }
}

fn template_id(conn: &Connection, set: &TemplateSet) -> Result<String, DeskError> {
    Ok(setting(conn, "badge_template")?
        .filter(|id| set.get(id).is_ok())
        .unwrap_or_else(|| set.first().id.clone()))
}

/// What goes on a ticket holder's badge.
pub(crate) fn badge_data(conf: &Conference, entry: &RosterEntry) -> BadgeData {
    let kind = entry
        .attendee_types
        .iter()
        .find_map(|id| conf.attendee_types.get(id));
    BadgeData {
        conference: conf
            .details
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        attendee_type: kind.map_or_else(|| entry.seat_type_name.clone(), |k| k.name.clone()),
        band: kind
            .and_then(|k| onsite_badge::template::parse_hex(k.badge_colour.as_str()))
            .unwrap_or(NEUTRAL_BAND),
        first_name: entry.first_name.clone(),
        last_name: entry.last_name.clone(),
        company: entry.company.clone(),
        entitlements: entry.entitlements.clone(),
        ticket_code: entry.code.to_string(),
    }
}

/// The desk's chosen template (the first of its set when none is chosen), with its id.
fn current_template(conn: &Connection) -> Result<(String, Template), DeskError> {
    let set = templates(conn)?;
    let id = template_id(conn, &set)?;
    let template = set
        .get(&id)
        .map_err(|e| DeskError::Corrupt(e.to_string()))?
        .clone();
    Ok((id, template))
}

fn render(conn: &Connection, data: &BadgeData) -> Result<BadgePreview, DeskError> {
    let (id, template) = current_template(conn)?;
    let rendered = onsite_badge::render_badge(&template, data)
        .map_err(|e| DeskError::BadInput(e.to_string()))?;
    let (width_mm, height_mm) = template.page.mm();
    Ok(BadgePreview {
        pdf: rendered.pdf,
        warnings: rendered.warnings,
        template: id,
        width_mm,
        height_mm,
        media: template.page.media(),
    })
}

impl Desk {
    fn known_entry(
        &self,
        conn: &Connection,
        id: Identity,
        code: &str,
    ) -> Result<(Arc<Conference>, RosterEntry), DeskError> {
        let parsed =
            TicketCode::parse(code).map_err(|_| DeskError::NoSuchTicket(code.trim().to_owned()))?;
        let conf = self.conference(conn, id)?;
        let entry = roster::entry(conn, &conf, &parsed)?
            .ok_or_else(|| DeskError::NoSuchTicket(code.trim().to_owned()))?;
        Ok((conf, entry))
    }
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
    let policy = auto_print_setting(tx)?;
    let (badge, _) = projection::view::<Badge>(tx, &StreamId::badge(entry.ticket))?;
    if !badge::should_auto_print(policy, &badge, true) {
        return Ok(AutoPrinted::NotPrinted);
    }
    let printed = printed_or_printing(tx, entry.ticket)?;
    if policy == AutoPrint::IfNeverPrinted && printed {
        return Ok(AutoPrinted::NotPrinted);
    }
    let Some(printer) = setting(tx, "printer")? else {
        return Ok(AutoPrinted::NoPrinter);
    };
    let preview = render(tx, &badge_data(conf, entry))?;
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

fn jobs_in(conn: &Connection, state: JobState) -> Result<Vec<PrintJob>, DeskError> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs WHERE state = ?1 ORDER BY seq"
        ))?
        .query_map([state.as_str()], job_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(parse_job).collect()
}

fn set_state(
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

fn clean(reason: Option<&str>) -> Option<String> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

impl Desk {
    pub fn print_settings(&self) -> Result<PrintSettings, DeskError> {
        self.read(|conn| {
            let set = templates(conn)?;
            Ok(PrintSettings {
                printer: setting(conn, "printer")?,
                auto_print: auto_print_setting(conn)?,
                template: template_id(conn, &set)?,
            })
        })
    }

    /// Chooses this desk's badge printer (a spooler queue name); `None` forgets it.
    pub fn set_printer(&self, printer: Option<&str>) -> Result<(), DeskError> {
        let printer = clean(printer);
        self.write(|tx| match printer {
            Some(p) => set_setting(tx, "printer", &p),
            None => {
                tx.execute("DELETE FROM settings WHERE key = 'printer'", [])?;
                Ok(())
            }
        })
    }

    pub fn set_auto_print(&self, policy: AutoPrint) -> Result<(), DeskError> {
        let value = match policy {
            AutoPrint::Always => "always",
            AutoPrint::IfNeverPrinted => "if_never_printed",
            AutoPrint::Never => "never",
        };
        self.write(|tx| set_setting(tx, "auto_print", value))
    }

    /// The badge templates this desk can use (the default set until others are loaded).
    pub fn badge_templates(&self) -> Result<TemplateSet, DeskError> {
        self.read(templates)
    }

    /// Loads a template set (JSON, format 1). A set that does not read changes nothing.
    pub fn set_badge_templates(&self, json: &str) -> Result<(), DeskError> {
        let set = TemplateSet::from_json(json).map_err(|e| DeskError::BadInput(e.to_string()))?;
        let text = serde_json::to_string(&set)?;
        self.write(|tx| set_setting(tx, "badge_templates", &text))
    }

    pub fn set_badge_template(&self, id: &str) -> Result<(), DeskError> {
        self.write(|tx| {
            templates(tx)?
                .get(id)
                .map_err(|e| DeskError::BadInput(e.to_string()))?;
            set_setting(tx, "badge_template", id)
        })
    }

    /// The ticket holder's badge, rendered with the desk's template: for the screen, and to
    /// see the warnings before printing.
    pub fn badge_preview(&self, code: &str) -> Result<BadgePreview, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            render(conn, &badge_data(&conf, &entry))
        })
    }

    /// The badge as the screen previews it (SVG of the same layout), with its warnings.
    pub fn badge_svg(&self, code: &str) -> Result<BadgeSvg, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            let (template_id, template) = current_template(conn)?;
            let (svg, warnings) = onsite_badge::render_svg(&template, &badge_data(&conf, &entry))
                .map_err(|e| DeskError::BadInput(e.to_string()))?;
            Ok(BadgeSvg {
                svg,
                warnings,
                template: template_id,
            })
        })
    }

    /// Every badge's data, for sheets printed ahead of the event.
    pub fn badge_data(&self, code: &str) -> Result<BadgeData, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let (conf, entry) = self.known_entry(conn, id, code)?;
            Ok(badge_data(&conf, &entry))
        })
    }

    /// Queues a badge for printing. A reprint needs a reason; a badge with layout warnings
    /// needs `accept_warnings`; nothing is queued otherwise.
    pub fn print_badge(&self, req: &PrintRequest) -> Result<PrintJob, DeskError> {
        let now = chrono::Utc::now();
        let reason = clean(req.reprint_reason.as_deref());
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let (conf, entry) = self.known_entry(tx, id, &req.code)?;
            let printer = match clean(req.printer.as_deref()) {
                Some(p) => p,
                None => setting(tx, "printer")?.ok_or_else(|| {
                    DeskError::BadInput("choose a badge printer in the settings first".into())
                })?,
            };
            if printed_or_printing(tx, entry.ticket)? && reason.is_none() {
                return Err(DeskError::refused(&badge::Error::ReprintNeedsReason));
            }
            let preview = render(tx, &badge_data(&conf, &entry))?;
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
        let now = chrono::Utc::now();
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
            let preview = render(tx, &badge_data(&conf, &entry))?;
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

    fn job_failed(&self, job: PrintJobId, reason: &str) -> Result<(), DeskError> {
        let now = chrono::Utc::now();
        self.write(|tx| set_state(tx, job, JobState::Failed, None, Some(reason), now))
    }

    /// The spooler printed it: record the print as an event, with the job's new state.
    fn job_completed(&self, job: &PrintJob) -> Result<(), DeskError> {
        let now = chrono::Utc::now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let stream = StreamId::badge(job.ticket);
            let (state, _) = projection::view::<Badge>(tx, &stream)?;
            // Two first prints can race (a retry and a manual print): the second is a reprint.
            let reason = job.reprint_reason.clone().or_else(|| {
                state
                    .was_printed()
                    .then(|| "printed again before the first print was recorded".to_owned())
            });
            let events = state
                .decide(&badge::Command::RecordPrint {
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
                .map_err(|e| DeskError::refused(&e))?;
            for e in &events {
                log::append(tx, id, &Event::Badge(e.clone()), now)?;
            }
            projection::refresh(tx, &stream, &[])?;
            set_state(tx, job.job, JobState::Completed, None, None, now)
        })
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
pub async fn print_pending(desk: &Desk, cups: &Cups) -> Result<PrintPass, DeskError> {
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
    cups: Cups,
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

async fn send(desk: &Desk, cups: &Cups, job: &PrintJob) -> Result<(), DeskError> {
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
    let now = chrono::Utc::now();
    desk.write(|tx| set_state(tx, job.job, JobState::Sending, None, None, now))?;
    let pdf = desk
        .print_job_pdf(job.job)?
        .ok_or_else(|| DeskError::Corrupt("print job without its PDF".into()))?;
    let title = format!("Badge {}", job.code);
    let submitted = cups
        .submit(
            &job.printer,
            &cups::Submission {
                title: &title,
                media: &job.media,
                pdf: &pdf,
            },
        )
        .await;
    let now = chrono::Utc::now();
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

async fn follow(desk: &Desk, cups: &Cups, job: &PrintJob) -> Result<(), DeskError> {
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
