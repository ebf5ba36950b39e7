//! Check-in at the door, and undoing one.

use serde::Serialize;

use onsite_shared::check_in::{self, Admission, CheckIn, TicketStatus};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{AdmissionId, TicketCode};

use crate::command::{self, Refused};
use crate::error::DeskError;
use crate::printing::{self, AutoPrinted};
use crate::roster::{self, RosterEntry};
use crate::store::{Desk, setting};

#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
pub struct CheckInRequest {
    /// The ticket code, typed, scanned, or picked from a search result.
    pub code: String,
    /// The gate; the desk's own gate when `None`.
    pub gate: Option<String>,
    /// Staff let the person in although the ticket is not valid, and say why.
    pub override_reason: Option<String>,
}

/// What the door shows after a check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckInOutcome {
    Admitted {
        entry: Option<RosterEntry>,
        admission: Admission,
        /// Let in by a staff override (unknown or not entitled ticket).
        overridden: bool,
        /// What auto-print did (queued a badge in the same transaction, or why not).
        print: AutoPrinted,
    },
    AlreadyAdmitted {
        entry: Option<RosterEntry>,
        first: Admission,
    },
    UnknownTicket {
        code: String,
    },
    NotEntitled {
        entry: Option<RosterEntry>,
        status: TicketStatus,
    },
}

impl Desk {
    /// Checks a ticket in: admitted, already admitted (when, where), unknown, or not entitled.
    /// Only `admitted` records anything; it also queues the badge when the auto-print policy
    /// says so (a duplicate scan never prints).
    pub fn check_in(&self, req: &CheckInRequest) -> Result<CheckInOutcome, DeskError> {
        let typed = req.code.trim();
        if typed.is_empty() {
            return Err(DeskError::BadInput("type or scan a ticket code".into()));
        }
        let Ok(code) = TicketCode::parse(typed) else {
            return Ok(CheckInOutcome::UnknownTicket {
                code: typed.to_owned(),
            });
        };
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let gate = match &req.gate {
                Some(g) => g.trim().to_owned(),
                None => setting(tx, "gate")?.unwrap_or_else(|| "main".to_owned()),
            };
            let conf = self.conference(tx, id)?;
            let entry = roster::entry(tx, &conf, &code)?;
            let status = entry
                .as_ref()
                .map_or(TicketStatus::Unknown, RosterEntry::status);
            let stream = StreamId::admission(id.conference, &code);
            let admission = Admission {
                admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
                desk: id.device,
                gate,
                at: now,
            };
            let command = check_in::Command::Admit {
                conference: id.conference,
                code: code.clone(),
                ticket: entry.as_ref().map(|e| e.ticket),
                status,
                admission: admission.clone(),
                override_reason: req.override_reason.clone(),
            };
            if let Err(refused) = command::execute::<CheckIn>(tx, id, &stream, now, |_| Ok(command))
            {
                return match refused {
                    Refused::Domain(check_in::Error::AlreadyAdmitted { first }) => {
                        Ok(CheckInOutcome::AlreadyAdmitted { entry, first })
                    }
                    Refused::Domain(check_in::Error::UnknownTicket) => {
                        Ok(CheckInOutcome::UnknownTicket {
                            code: code.to_string(),
                        })
                    }
                    Refused::Domain(check_in::Error::NotEntitled(status)) => {
                        Ok(CheckInOutcome::NotEntitled { entry, status })
                    }
                    other => Err(other.into()),
                };
            }
            // Only the admission changed: the rest of the entry read above still holds.
            let mut entry = entry;
            if let Some(e) = entry.as_mut() {
                (e.admission, e.duplicates) = roster::admission_state(tx, &code)?;
            }
            let print = printing::auto_print(tx, &conf, entry.as_ref(), now)?;
            Ok(CheckInOutcome::Admitted {
                entry,
                admission,
                overridden: status != TicketStatus::Valid,
                print,
            })
        })
    }

    /// Takes back an admission made by mistake; the reason is required and kept.
    pub fn undo_check_in(&self, code: &str, reason: &str) -> Result<(), DeskError> {
        let code =
            TicketCode::parse(code).map_err(|_| DeskError::NoSuchTicket(code.trim().to_owned()))?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let stream = StreamId::admission(id.conference, &code);
            command::execute::<CheckIn>(tx, id, &stream, now, |_| {
                Ok(check_in::Command::Undo {
                    desk: id.device,
                    at: now,
                    reason: reason.to_owned(),
                })
            })?;
            Ok(())
        })
    }
}
