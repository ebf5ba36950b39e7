//! Badges: one stream per ticket, recording what came out of a printer.
//!
//! A print is recorded only once the spooler accepted the job (the desk's print pipeline
//! decides when). The first print is `Printed`; every later one is a `Reprinted` that needs a
//! reason (lost badge, typo fixed, printer jam), so head office can tell a reprint from a
//! duplicate (F18). On the server a print pushed by a desk is a physical fact: it is accepted
//! as it was recorded; the same job twice changes nothing.
//!
//! Auto-print on check-in is a desk setting; [`should_auto_print`] is its rule. A duplicate
//! scan never prints by itself: only a fresh admission can trigger a print.

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::ids::{ConferenceId, DeviceId, PrintJobId, TicketCode, TicketId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Print {
    pub conference: ConferenceId,
    pub ticket: TicketId,
    pub code: TicketCode,
    pub desk: DeviceId,
    pub printer: String,
    pub job: PrintJobId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The desk's spooler accepted a job. `reprint_reason` is required when the badge was
    /// printed before.
    RecordPrint {
        print: Print,
        reprint_reason: Option<String>,
    },
    /// The server records a print a desk pushed, as the desk recorded it.
    RecordPushedPrint {
        print: Print,
        reprint_reason: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "badge.printed")]
    Printed { print: Print },
    #[serde(rename = "badge.reprinted")]
    Reprinted { print: Print, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("this badge was printed before; a reprint needs a reason")]
    ReprintNeedsReason,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::ReprintNeedsReason => "badge.reprint_needs_reason",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Badge {
    pub prints: u32,
    pub jobs: Vec<PrintJobId>,
    pub last: Option<Print>,
}

impl Badge {
    pub fn was_printed(&self) -> bool {
        self.prints > 0
    }
}

/// The desk setting for printing at check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AutoPrint {
    Always,
    #[default]
    IfNeverPrinted,
    Never,
}

/// Should a check-in print a badge by itself? Only a fresh admission prints; a duplicate scan
/// ("already admitted") never does, whatever the policy.
pub fn should_auto_print(policy: AutoPrint, badge: &Badge, fresh_admission: bool) -> bool {
    if !fresh_admission {
        return false;
    }
    match policy {
        AutoPrint::Always => true,
        AutoPrint::IfNeverPrinted => !badge.was_printed(),
        AutoPrint::Never => false,
    }
}

fn clean(reason: &Option<String>) -> Option<String> {
    reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Aggregate for Badge {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::RecordPrint {
                print,
                reprint_reason,
            } => {
                check_print_text(print, reprint_reason)?;
                if self.jobs.contains(&print.job) {
                    return Ok(vec![]);
                }
                if !self.was_printed() {
                    return Ok(vec![Event::Printed {
                        print: print.clone(),
                    }]);
                }
                let reason = clean(reprint_reason).ok_or(Error::ReprintNeedsReason)?;
                Ok(vec![Event::Reprinted {
                    print: print.clone(),
                    reason,
                }])
            }
            Command::RecordPushedPrint {
                print,
                reprint_reason,
            } => {
                check_print_text(print, reprint_reason)?;
                if self.jobs.contains(&print.job) {
                    return Ok(vec![]);
                }
                Ok(vec![match clean(reprint_reason) {
                    Some(reason) => Event::Reprinted {
                        print: print.clone(),
                        reason,
                    },
                    None => Event::Printed {
                        print: print.clone(),
                    },
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        let (Event::Printed { print } | Event::Reprinted { print, .. }) = event;
        if !self.jobs.contains(&print.job) {
            self.jobs.push(print.job);
            self.prints += 1;
            self.last = Some(print.clone());
        }
        self
    }
}

/// The printer and the reason as typed: no longer than their limits.
fn check_print_text(print: &Print, reason: &Option<String>) -> Result<(), crate::text::TextError> {
    use crate::text::{check, limit};
    check("the printer", &print.printer, limit::TITLE, false)?;
    check(
        "the reprint reason",
        reason.as_deref().unwrap_or_default(),
        limit::REASON,
        true,
    )
}

#[cfg(test)]
mod tests;
