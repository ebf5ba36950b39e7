//! The conflict inbox: one stream per item that needs a person. Items are opened by the server
//! when it compensates or flags something a desk pushed (a walk-in sale it could not honour,
//! a duplicate admission, an admission of an invalid ticket, a payment for an expired order).
//! Desks and head office act on them with events, never by editing.
//!
//! Decisions where the issues are silent:
//! - A desk may *acknowledge* an item (seen, being handled at the door); that keeps it open.
//! - *Resolving* closes it: refund recorded (walk-in or late payment), sale honoured by a quota
//!   override (walk-in only), dismissed (needs a note), or acknowledged-and-closed (flags only).
//! - Resolving twice is an error, so two people cannot both refund the same sale.

use serde::{Deserialize, Serialize};

use crate::admission_rules::RuleBreach;
use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::check_in::{Admission, TicketStatus};
use crate::hand_out::Given;
use crate::ids::{ConferenceId, ConflictId, DeviceId, OrderId, TicketCode, TicketId};
use crate::money::Money;
use crate::order::{Payment, PaymentMethod};
use crate::room::{RoomBreach, Visit};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum ConflictKind {
    /// A walk-in sale the server could not (fully) honour: tickets withdrawn, money to return.
    WalkInRejected {
        order: OrderId,
        desk: DeviceId,
        tickets: Vec<TicketId>,
        refund_due: Money,
    },
    DuplicateAdmission {
        code: TicketCode,
        first: Admission,
        duplicate: Admission,
    },
    /// The same item handed out twice to one ticket's holder (two desks, offline).
    DuplicateHandOut {
        code: TicketCode,
        item: String,
        first: Given,
        duplicate: Given,
    },
    /// An entry into a room by someone not entitled, or over its capacity, without a reason.
    RoomEntry {
        code: TicketCode,
        room: String,
        visit: Visit,
        breach: RoomBreach,
    },
    InvalidTicketAdmission {
        code: TicketCode,
        admission: Admission,
        status: TicketStatus,
    },
    /// An admission outside its ticket's rules (a day pass on another day, before the doors
    /// opened) without a reason; `by_clock`: the desk's clock was off.
    AdmissionOutsideRules {
        code: TicketCode,
        admission: Admission,
        breach: RuleBreach,
        by_clock: bool,
    },
    PaymentAfterExpiry {
        order: OrderId,
        payment: Payment,
    },
    /// A desk's walk-in sale the server would not record at all (it named tickets that exist
    /// already, or did not add up): the money the desk says it took must be found.
    SaleRefused {
        order: OrderId,
        desk: DeviceId,
        /// The stable code of what was wrong with it.
        reason: String,
        amount_taken: Money,
    },
}

impl ConflictKind {
    pub fn label(&self) -> &'static str {
        match self {
            ConflictKind::WalkInRejected { .. } => "refund due",
            ConflictKind::DuplicateAdmission { .. } => "duplicate admission",
            ConflictKind::DuplicateHandOut { .. } => "handed out twice",
            ConflictKind::RoomEntry { .. } => "room entry against its rules",
            ConflictKind::InvalidTicketAdmission { .. } => "admission of an invalid ticket",
            ConflictKind::AdmissionOutsideRules { .. } => "admission outside the ticket's rules",
            ConflictKind::PaymentAfterExpiry { .. } => "payment after expiry",
            ConflictKind::SaleRefused { .. } => "walk-in sale refused",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Desk { device: DeviceId },
    HeadOffice { user: String },
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(ts_rs::TS)]
pub enum Resolution {
    RefundRecorded {
        amount: Money,
        method: PaymentMethod,
    },
    /// Head office raised the quota and honours the sale (the walk-in's compensation is undone).
    SaleHonoured,
    Dismissed,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open {
        conflict: ConflictId,
        conference: ConferenceId,
        kind: ConflictKind,
        at: Timestamp,
    },
    Acknowledge {
        by: Actor,
        at: Timestamp,
        note: String,
    },
    Resolve {
        resolution: Resolution,
        by: Actor,
        at: Timestamp,
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "conflict.opened")]
    Opened {
        conflict: ConflictId,
        conference: ConferenceId,
        kind: ConflictKind,
        at: Timestamp,
    },
    #[serde(rename = "conflict.acknowledged")]
    Acknowledged {
        conflict: ConflictId,
        by: Actor,
        at: Timestamp,
        note: String,
    },
    #[serde(rename = "conflict.resolved")]
    Resolved {
        conflict: ConflictId,
        resolution: Resolution,
        by: Actor,
        at: Timestamp,
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("this conflict is already open")]
    AlreadyOpen,
    #[error("no such conflict")]
    NotFound,
    #[error("this conflict was already resolved")]
    AlreadyResolved,
    #[error("{resolution} does not apply to a {kind}")]
    NotApplicable {
        resolution: &'static str,
        kind: &'static str,
    },
    #[error("dismissing needs a note saying why")]
    NoteRequired,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::AlreadyOpen => "conflict.already_open",
            Error::NotFound => "conflict.not_found",
            Error::AlreadyResolved => "conflict.already_resolved",
            Error::NotApplicable { .. } => "conflict.not_applicable",
            Error::NoteRequired => "conflict.note_required",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Conflict {
    pub id: Option<ConflictId>,
    /// The conference it belongs to (from its opening).
    pub conference: Option<ConferenceId>,
    pub kind: Option<ConflictKind>,
    pub resolution: Option<Resolution>,
    pub acknowledged: bool,
}

impl Aggregate for Conflict {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Open {
                conflict,
                conference,
                kind,
                at,
            } => {
                if self.id.is_some() {
                    return Err(Error::AlreadyOpen);
                }
                Ok(vec![Event::Opened {
                    conflict: *conflict,
                    conference: *conference,
                    kind: kind.clone(),
                    at: *at,
                }])
            }
            Command::Acknowledge { by, at, note } => {
                crate::text::check("the note", note, crate::text::limit::NOTE, true)?;
                let id = self.id.ok_or(Error::NotFound)?;
                if self.resolution.is_some() {
                    return Err(Error::AlreadyResolved);
                }
                Ok(vec![Event::Acknowledged {
                    conflict: id,
                    by: by.clone(),
                    at: *at,
                    note: note.trim().to_owned(),
                }])
            }
            Command::Resolve {
                resolution,
                by,
                at,
                note,
            } => {
                crate::text::check("the note", note, crate::text::limit::NOTE, true)?;
                let id = self.id.ok_or(Error::NotFound)?;
                let kind = self.kind.as_ref().ok_or(Error::NotFound)?;
                if self.resolution.is_some() {
                    return Err(Error::AlreadyResolved);
                }
                let applicable = match resolution {
                    Resolution::RefundRecorded { .. } => matches!(
                        kind,
                        ConflictKind::WalkInRejected { .. }
                            | ConflictKind::PaymentAfterExpiry { .. }
                            | ConflictKind::SaleRefused { .. }
                    ),
                    Resolution::SaleHonoured => matches!(kind, ConflictKind::WalkInRejected { .. }),
                    Resolution::Dismissed | Resolution::Closed => true,
                };
                if !applicable {
                    let name = match resolution {
                        Resolution::RefundRecorded { .. } => "a refund",
                        Resolution::SaleHonoured => "honouring the sale",
                        Resolution::Dismissed => "dismissing",
                        Resolution::Closed => "closing",
                    };
                    return Err(Error::NotApplicable {
                        resolution: name,
                        kind: kind.label(),
                    });
                }
                if *resolution == Resolution::Dismissed && note.trim().is_empty() {
                    return Err(Error::NoteRequired);
                }
                Ok(vec![Event::Resolved {
                    conflict: id,
                    resolution: resolution.clone(),
                    by: by.clone(),
                    at: *at,
                    note: note.trim().to_owned(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Opened {
                conflict,
                conference,
                kind,
                ..
            } => {
                self.id = Some(*conflict);
                self.conference = Some(*conference);
                self.kind = Some(kind.clone());
            }
            Event::Acknowledged { .. } => self.acknowledged = true,
            Event::Resolved { resolution, .. } => self.resolution = Some(resolution.clone()),
        }
        self
    }
}

#[cfg(test)]
mod tests;
