//! Admission at the door (check-in), one stream per ticket code.
//!
//! Two deciders share this state, because the same fact is judged differently in two places:
//! - **At the desk** (`Admit`): a second scan of an admitted ticket is *not* a second admission;
//!   it answers "already admitted at T by desk D at gate G" (F18). Unknown codes and tickets
//!   that admit nobody (add-ons only, withdrawn) are refused with a typed outcome, unless staff
//!   override with a reason (the person is let in; head office sees it).
//! - **On the server** (`RecordAdmission`): an admission pushed by a desk already happened in
//!   the physical world. It is always accepted; a second admission of the same ticket is
//!   flagged as a duplicate linked to the first, and an admission of an unknown, withdrawn or
//!   cancelled ticket is flagged too. Repeating the same admission (same id) changes nothing.
//!
//! Admission rules ([`AdmissionRules`]: a day pass, an earliest entry) are judged on the scan
//! time, in the conference's time zone: outside them the desk answers amber and lets in only
//! with a reason; the server judges again and flags an admission outside the rules that has
//! no reason, saying whether the desk's clock put it on the wrong side (its clock skew, as the
//! push showed it, taken off the scan time).
//!
//! Exits and re-entry: a scan at an exit gate records that the holder went out; a scan at an
//! entrance after that lets them back in (`admission.reentered`), unless the zone refuses
//! re-entry. "Inside" is a property of the ticket (admitted, not out since), so counting
//! tickets inside never counts a person twice, whichever gates they used. The server records
//! every exit and re-entry pushed (they happened), once per movement id.
//!
//! Undo needs a reason and is a new event; the admission it undoes stays in history.
//! "First" means first recorded by the server; the desk shows the earliest device time.

use serde::{Deserialize, Serialize};

use chrono_tz::Tz;

use crate::admission_rules::{AdmissionRules, RuleBreach};
use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::ids::{AdmissionId, ConferenceId, DeviceId, TicketCode, TicketId};

/// What the caller's roster knows about a scanned code at the moment of the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// A ticket that admits its holder.
    Valid,
    /// No such ticket.
    Unknown,
    /// A ticket for an add-on only (workshop, reception): it admits nobody at the door.
    AddOnOnly,
    /// A walk-in ticket the server withdrew (its sale was rejected).
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Admission {
    pub admission: AdmissionId,
    pub desk: DeviceId,
    pub gate: String,
    #[ts(type = "string")]
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A desk lets someone in.
    Admit {
        conference: ConferenceId,
        code: TicketCode,
        ticket: Option<TicketId>,
        status: TicketStatus,
        admission: Admission,
        /// Staff decided to let the person in although the ticket is not valid.
        override_reason: Option<String>,
        /// The ticket's seat type's rules, judged on `admission.at` in `zone`.
        rules: AdmissionRules,
        zone: Tz,
        /// Whether the gate's zone lets someone who went out back in.
        reentry: bool,
    },
    /// A desk records that the holder went out (an exit gate).
    Exit { exit: Admission },
    /// The server records an exit or a re-entry a desk pushed.
    RecordMovement { event: Event },
    /// A desk takes back an admission made by mistake.
    Undo {
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
    /// The server records an admission a desk pushed (`status` as the server knows the ticket).
    RecordAdmission {
        conference: ConferenceId,
        code: TicketCode,
        ticket: Option<TicketId>,
        status: TicketStatus,
        admission: Admission,
        override_reason: Option<String>,
        rules: AdmissionRules,
        zone: Tz,
        /// The pushing desk's clock less the server's, as its push showed it.
        clock_skew_ms: Option<i64>,
    },
    /// The server records an undo a desk pushed.
    RecordUndo {
        admission: AdmissionId,
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "admission.admitted")]
    Admitted {
        conference: ConferenceId,
        code: TicketCode,
        ticket: Option<TicketId>,
        admission: Admission,
        #[serde(default)]
        override_reason: Option<String>,
    },
    #[serde(rename = "admission.undone")]
    Undone {
        conference: ConferenceId,
        code: TicketCode,
        admission: AdmissionId,
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
    /// The holder went out through an exit gate.
    #[serde(rename = "admission.exited")]
    Exited {
        conference: ConferenceId,
        code: TicketCode,
        exit: Admission,
    },
    /// The holder came back in after going out.
    #[serde(rename = "admission.reentered")]
    Reentered {
        conference: ConferenceId,
        code: TicketCode,
        entry: Admission,
    },
    /// A second admission of the same ticket reached the server.
    #[serde(rename = "admission.duplicate_flagged")]
    DuplicateFlagged {
        conference: ConferenceId,
        code: TicketCode,
        duplicate: Admission,
        first: Admission,
    },
    /// An admission outside its ticket's rules, without a reason, reached the server.
    /// `by_clock`: the desk's clock said inside, the time it showed less its skew says not.
    #[serde(rename = "admission.outside_rules_flagged")]
    OutsideRulesFlagged {
        conference: ConferenceId,
        code: TicketCode,
        admission: Admission,
        breach: RuleBreach,
        by_clock: bool,
    },
    /// An admission of a ticket that should not have let anyone in reached the server.
    #[serde(rename = "admission.invalid_ticket_flagged")]
    InvalidTicketFlagged {
        conference: ConferenceId,
        code: TicketCode,
        admission: Admission,
        status: TicketStatus,
        #[serde(default)]
        override_reason: Option<String>,
    },
}

/// The desk's typed outcomes for a check-in that does not admit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("already admitted at {} by desk {} at gate {}", .first.at, .first.desk, .first.gate)]
    AlreadyAdmitted { first: Admission },
    #[error("no ticket has this code")]
    UnknownTicket,
    #[error("this ticket does not admit its holder here ({0:?})")]
    NotEntitled(TicketStatus),
    #[error("this ticket does not admit now: {0}")]
    OutsideRules(RuleBreach),
    #[error("this ticket is not admitted")]
    NotAdmitted,
    #[error("went out at {} (gate {}); this zone does not let anyone back in", .exited.at, .exited.gate)]
    ReentryRefused { exited: Admission },
    #[error("already out since {} (gate {})", .since.at, .since.gate)]
    AlreadyOut { since: Admission },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the gate is required")]
    GateRequired,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::AlreadyAdmitted { .. } => "admission.already_admitted",
            Error::UnknownTicket => "admission.unknown_ticket",
            Error::NotEntitled(_) => "admission.not_entitled",
            Error::NotAdmitted => "admission.not_admitted",
            Error::OutsideRules(_) => "admission.outside_rules",
            Error::ReentryRefused { .. } => "admission.reentry_refused",
            Error::AlreadyOut { .. } => "admission.already_out",
            Error::ReasonRequired => "admission.reason_required",
            Error::GateRequired => "admission.gate_required",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckIn {
    pub conference: Option<ConferenceId>,
    pub code: Option<TicketCode>,
    /// The admission in force (the first one not undone).
    pub current: Option<Admission>,
    /// Every admission ever recorded for this ticket, undone or not, duplicates included,
    /// and every exit and re-entry.
    pub seen: Vec<AdmissionId>,
    pub duplicates: u32,
    /// The exit since the holder last came in, while they are out.
    pub exited: Option<Admission>,
    /// How the holder last came in (the admission, or the latest re-entry): the gate says
    /// which zone they are in.
    pub came_in: Option<Admission>,
}

impl CheckIn {
    /// Admitted, and not out since.
    pub fn inside(&self) -> bool {
        self.current.is_some() && self.exited.is_none()
    }
}

/// A gate and an override reason as a person typed them: no longer than their limits.
fn check_admission_text(
    admission: &Admission,
    override_reason: &Option<String>,
) -> Result<(), crate::text::TextError> {
    use crate::text::{check, limit};
    check("the gate", &admission.gate, limit::LABEL, false)?;
    check(
        "the reason",
        override_reason.as_deref().unwrap_or_default(),
        limit::REASON,
        true,
    )
}

impl Aggregate for CheckIn {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Admit {
                conference,
                code,
                ticket,
                status,
                admission,
                override_reason,
                rules,
                zone,
                reentry,
            } => {
                check_admission_text(admission, override_reason)?;
                if admission.gate.trim().is_empty() {
                    return Err(Error::GateRequired);
                }
                if let (Some(_), Some(exited)) = (&self.current, &self.exited) {
                    if !reentry && crate::text::given(override_reason).is_none() {
                        return Err(Error::ReentryRefused {
                            exited: exited.clone(),
                        });
                    }
                    return Ok(vec![Event::Reentered {
                        conference: *conference,
                        code: code.clone(),
                        entry: admission.clone(),
                    }]);
                }
                if let Some(first) = &self.current {
                    return Err(Error::AlreadyAdmitted {
                        first: first.clone(),
                    });
                }
                let override_reason = crate::text::given(override_reason);
                match (status, &override_reason) {
                    (TicketStatus::Valid, _) | (_, Some(_)) => {}
                    (TicketStatus::Unknown, None) => return Err(Error::UnknownTicket),
                    (TicketStatus::AddOnOnly | TicketStatus::Withdrawn, None) => {
                        return Err(Error::NotEntitled(*status));
                    }
                }
                let breach = rules.judge(admission.at, *zone).err();
                if let (Some(breach), None) = (&breach, &override_reason) {
                    return Err(Error::OutsideRules(breach.clone()));
                }
                // The reason is kept only where it let someone in.
                let overridden = *status != TicketStatus::Valid || breach.is_some();
                Ok(vec![Event::Admitted {
                    conference: *conference,
                    code: code.clone(),
                    ticket: *ticket,
                    admission: admission.clone(),
                    override_reason: override_reason.filter(|_| overridden),
                }])
            }
            Command::Exit { exit } => {
                check_admission_text(exit, &None)?;
                if exit.gate.trim().is_empty() {
                    return Err(Error::GateRequired);
                }
                if let Some(since) = &self.exited {
                    return Err(Error::AlreadyOut {
                        since: since.clone(),
                    });
                }
                let (Some(conference), Some(code), Some(_)) =
                    (self.conference, self.code.clone(), &self.current)
                else {
                    return Err(Error::NotAdmitted);
                };
                Ok(vec![Event::Exited {
                    conference,
                    code,
                    exit: exit.clone(),
                }])
            }
            Command::RecordMovement { event } => {
                // An exit or a re-entry happened; recorded once per movement id, on a stream
                // the server has (an exit of a ticket it never saw admitted still happened).
                let movement = match event {
                    Event::Exited { exit, .. } => exit,
                    Event::Reentered { entry, .. } => entry,
                    _ => return Ok(vec![]),
                };
                check_admission_text(movement, &None)?;
                if self.seen.contains(&movement.admission) {
                    return Ok(vec![]);
                }
                Ok(vec![event.clone()])
            }
            Command::Undo { desk, at, reason } => {
                crate::text::check("the reason", reason, crate::text::limit::REASON, true)?;
                let current = self.current.as_ref().ok_or(Error::NotAdmitted)?;
                if reason.trim().is_empty() {
                    return Err(Error::ReasonRequired);
                }
                let (Some(conference), Some(code)) = (self.conference, self.code.clone()) else {
                    return Err(Error::NotAdmitted);
                };
                Ok(vec![Event::Undone {
                    conference,
                    code,
                    admission: current.admission,
                    desk: *desk,
                    at: *at,
                    reason: reason.trim().to_owned(),
                }])
            }
            Command::RecordAdmission {
                conference,
                code,
                ticket,
                status,
                admission,
                override_reason,
                rules,
                zone,
                clock_skew_ms,
            } => {
                check_admission_text(admission, override_reason)?;
                if self.seen.contains(&admission.admission) {
                    return Ok(vec![]);
                }
                let override_reason = crate::text::given(override_reason);
                let mut events = vec![Event::Admitted {
                    conference: *conference,
                    code: code.clone(),
                    ticket: *ticket,
                    admission: admission.clone(),
                    override_reason: override_reason.clone(),
                }];
                if let Some(first) = &self.current {
                    events.push(Event::DuplicateFlagged {
                        conference: *conference,
                        code: code.clone(),
                        duplicate: admission.clone(),
                        first: first.clone(),
                    });
                }
                // The rules are judged on the time the desk stamped, and on that time less the
                // desk's clock skew (when it is a minute or more): what the door should have
                // seen. A reason given at the door settles it; a duplicate is flagged already.
                let corrected = match clock_skew_ms {
                    Some(ms) if ms.abs() >= 60_000 => {
                        admission.at - chrono::Duration::milliseconds(*ms)
                    }
                    _ => admission.at,
                };
                if self.current.is_none()
                    && override_reason.is_none()
                    && let Err(breach) = rules.judge(corrected, *zone)
                {
                    events.push(Event::OutsideRulesFlagged {
                        conference: *conference,
                        code: code.clone(),
                        admission: admission.clone(),
                        by_clock: rules.judge(admission.at, *zone).is_ok(),
                        breach,
                    });
                }
                if *status != TicketStatus::Valid {
                    events.push(Event::InvalidTicketFlagged {
                        conference: *conference,
                        code: code.clone(),
                        admission: admission.clone(),
                        status: *status,
                        override_reason,
                    });
                }
                Ok(events)
            }
            Command::RecordUndo {
                admission,
                desk,
                at,
                reason,
            } => {
                let (Some(conference), Some(code)) = (self.conference, self.code.clone()) else {
                    // An undo of an admission the server never saw: nothing to take back.
                    return Ok(vec![]);
                };
                Ok(vec![Event::Undone {
                    conference,
                    code,
                    admission: *admission,
                    desk: *desk,
                    at: *at,
                    reason: reason.trim().to_owned(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Admitted {
                conference,
                code,
                admission,
                ..
            } => {
                self.conference = Some(*conference);
                self.code = Some(code.clone());
                if !self.seen.contains(&admission.admission) {
                    self.seen.push(admission.admission);
                }
                if self.current.is_none() {
                    self.current = Some(admission.clone());
                    self.came_in = Some(admission.clone());
                    self.exited = None;
                }
            }
            Event::Exited { exit, .. } => {
                if !self.seen.contains(&exit.admission) {
                    self.seen.push(exit.admission);
                }
                if self.current.is_some() {
                    self.exited = Some(exit.clone());
                }
            }
            Event::Reentered { entry, .. } => {
                if !self.seen.contains(&entry.admission) {
                    self.seen.push(entry.admission);
                }
                self.exited = None;
                if self.current.is_some() {
                    self.came_in = Some(entry.clone());
                }
            }
            Event::Undone { admission, .. } => {
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.admission == *admission)
                {
                    self.current = None;
                    self.exited = None;
                    self.came_in = None;
                }
            }
            Event::DuplicateFlagged { .. } => self.duplicates += 1,
            Event::InvalidTicketFlagged { .. } | Event::OutsideRulesFlagged { .. } => {}
        }
        self
    }
}

#[cfg(test)]
mod tests;
