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
//!
//! The rooms: [`jobs`] (the print log, and the commands that queue and complete jobs),
//! [`settings`] (the desk's printer, auto-print policy and badge templates), [`render`] (what
//! goes on a badge, rendered as the PDF that prints and the SVG the screen shows),
//! [`pipeline`] (the only code that talks to the spooler, through the [`Spooler`] seam) and
//! [`cups`] (the IPP client, the production spooler).

pub mod cups;
mod jobs;
mod pipeline;
mod render;
mod settings;

pub use cups::{
    Cups, JobState as SpoolerJobState, Printer, PrinterState, SpoolerError, Submission,
};
pub use jobs::{AutoPrinted, JobState, PrintJob, PrintRequest, Trigger};
pub(crate) use jobs::{auto_print, recover};
pub use pipeline::{PrintPass, Spooler, print_pending, run_printing};
pub use render::{BadgePreview, BadgeSvg};
pub use settings::PrintSettings;
pub(crate) use settings::default_media;

/// A reason, printer name or note as typed: trimmed, `None` when empty.
fn clean(reason: Option<&str>) -> Option<String> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}
