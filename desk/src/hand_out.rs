//! Hand-outs at the door: marking an item as handed over (once per item and ticket), and
//! taking a mark back with a reason. Offline like everything else; a second desk that marks
//! the same item before it heard of the first is flagged by the server.

use serde::{Deserialize, Serialize};

use onsite_shared::event::StreamId;
use onsite_shared::hand_out::{self, Given, HandOuts};
use onsite_shared::ids::HandOutId;

use crate::command::{self, Refused};
use crate::error::DeskError;
use crate::roster::{self, GivenView, RosterEntry};
use crate::store::Desk;

#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
pub struct HandOutRequest {
    pub code: String,
    /// The item's id (`t-shirt`).
    pub item: String,
    /// The size handed over, for an item that comes in sizes.
    pub size: Option<String>,
}

/// What the door shows after marking a hand-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum HandOutOutcome {
    /// Marked; the entry shows it.
    Given { entry: RosterEntry },
    /// Handed over before (here or at a desk this one heard from): nothing recorded.
    AlreadyGiven {
        entry: RosterEntry,
        first: GivenView,
    },
}

impl Desk {
    /// Marks an item as handed over to a ticket's holder. An item this ticket does not get, a
    /// size the item does not come in, or a missing size is refused; an item handed over
    /// already answers when and by whom.
    pub fn hand_out(&self, req: &HandOutRequest) -> Result<HandOutOutcome, DeskError> {
        let code = roster::code_of(&req.code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let conf = self.conference(tx, id)?;
            let entry = roster::entry(tx, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))?;
            let item = conf.hand_out(req.item.trim()).ok_or_else(|| {
                DeskError::refused(&hand_out::Error::NotForThisTicket(
                    req.item.trim().chars().take(hand_out::MAX_ID).collect(),
                ))
            })?;
            let command = hand_out::Command::Give {
                conference: id.conference,
                code: code.clone(),
                item: item.clone(),
                for_ticket: entry.hand_outs.iter().any(|h| h.item == item.id),
                given: Given {
                    hand_out: HandOutId::from_uuid(uuid::Uuid::now_v7()),
                    desk: id.device,
                    at: now,
                    size: req.size.clone(),
                },
            };
            let stream = StreamId::hand_out(id.conference, &code);
            match command::execute::<HandOuts>(tx, id, &stream, now, |_| Ok(command)) {
                Ok(_) => {}
                Err(Refused::Domain(hand_out::Error::AlreadyGiven { first })) => {
                    let first = entry
                        .hand_outs
                        .iter()
                        .find(|h| h.item == item.id)
                        .and_then(|h| h.given.clone())
                        .unwrap_or(GivenView {
                            desk: first.desk,
                            at: first.at,
                            size: first.size,
                            pending: false,
                        });
                    return Ok(HandOutOutcome::AlreadyGiven { entry, first });
                }
                Err(other) => return Err(other.into()),
            }
            let entry = roster::entry(tx, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))?;
            Ok(HandOutOutcome::Given { entry })
        })
    }

    /// Takes back a hand-out marked by mistake; the reason is required and kept.
    pub fn undo_hand_out(
        &self,
        code: &str,
        item: &str,
        reason: &str,
    ) -> Result<RosterEntry, DeskError> {
        let code = roster::code_of(code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let conf = self.conference(tx, id)?;
            let stream = StreamId::hand_out(id.conference, &code);
            command::execute::<HandOuts>(tx, id, &stream, now, |_| {
                Ok(hand_out::Command::Undo {
                    item: item.trim().to_owned(),
                    desk: id.device,
                    at: now,
                    reason: reason.to_owned(),
                })
            })?;
            roster::entry(tx, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))
        })
    }
}
