//! Badges: one stream per ticket, recording what came out of a printer.
//!
//! A print is recorded only once the spooler accepted the job (the desk's print pipeline
//! decides when). The first print is `Printed`; every later one is a `Reprinted` that needs a
//! reason (lost badge, typo fixed, printer jam), so head office can tell a reprint from a
//! duplicate (F18). On the server a print pushed by a desk is a physical fact: it is accepted
//! as it was recorded; the same job twice changes nothing.
//!
//! The name on the badge can be changed for the badge only ([`NameOnBadge`]: a preferred name,
//! pronouns), at the desk: the registration and the order stay as they are. The last one
//! recorded wins; empty fields go back to what the registration says.
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

/// What a desk set to print instead of the registration's name, for this badge only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameOnBadge {
    pub conference: ConferenceId,
    pub ticket: TicketId,
    pub code: TicketCode,
    pub desk: DeviceId,
    pub at: Timestamp,
    /// `None`: the registration's (preferred) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A desk sets the name and pronouns for this badge only (desk and server alike: the last
    /// one recorded wins).
    SetName(NameOnBadge),
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
    #[serde(rename = "badge.name_set")]
    NameSet { name: NameOnBadge },
}

impl Event {
    pub fn ticket(&self) -> TicketId {
        match self {
            Event::Printed { print } | Event::Reprinted { print, .. } => print.ticket,
            Event::NameSet { name } => name.ticket,
        }
    }

    pub fn conference(&self) -> ConferenceId {
        match self {
            Event::Printed { print } | Event::Reprinted { print, .. } => print.conference,
            Event::NameSet { name } => name.conference,
        }
    }

    pub fn desk(&self) -> DeviceId {
        match self {
            Event::Printed { print } | Event::Reprinted { print, .. } => print.desk,
            Event::NameSet { name } => name.desk,
        }
    }
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
    /// The name set for this badge only, if a desk set one.
    pub name: Option<NameOnBadge>,
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
            Command::SetName(name) => {
                use crate::text::{check, limit};
                let text = |t: &Option<String>| t.as_deref().unwrap_or_default().to_owned();
                check(
                    "the preferred name",
                    &text(&name.preferred_name),
                    limit::NAME,
                    false,
                )?;
                check("the pronouns", &text(&name.pronouns), limit::LABEL, false)?;
                let name = NameOnBadge {
                    preferred_name: clean(&name.preferred_name),
                    pronouns: clean(&name.pronouns),
                    ..name.clone()
                };
                let same = self.name.as_ref().is_some_and(|n| {
                    (&n.preferred_name, &n.pronouns) == (&name.preferred_name, &name.pronouns)
                }) || (self.name.is_none()
                    && name.preferred_name.is_none()
                    && name.pronouns.is_none());
                if same {
                    return Ok(vec![]);
                }
                Ok(vec![Event::NameSet { name }])
            }
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
        let print = match event {
            Event::Printed { print } | Event::Reprinted { print, .. } => print,
            Event::NameSet { name } => {
                self.name = Some(name.clone());
                return self;
            }
        };
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
