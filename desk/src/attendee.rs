//! Corrections to an attendee's name or company, made at the door (a typo on the badge).
//!
//! Decision where the issue is silent: only a ticket the server has assigned can be corrected
//! (an imported, online or confirmed walk-in ticket). A provisional walk-in ticket's holder was
//! typed at this desk minutes ago; it is corrected once the sale is confirmed. The email is not
//! correctable at the door: it identifies the person, and the server refuses a correction
//! whose email differs (the seat may have gone to someone else meanwhile).
//!
//! The name on the badge (a preferred name, pronouns) can also be set for the badge only: the
//! registration stays as it is, and any ticket the desk knows can have one, a provisional
//! walk-in's too.

use onsite_shared::badge::{self, Badge, NameOnBadge};
use onsite_shared::event::StreamId;
use onsite_shared::seat_assignments::{self, SeatAssignments};

use crate::command;
use crate::error::DeskError;
use crate::store::Desk;

/// The name printed on a badge instead of the registration's, and pronouns; empty fields go
/// back to what the registration says.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
pub struct BadgeName {
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
}

/// The fields a door correction may change; `None` keeps the current value.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
pub struct Correction {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
}

impl Desk {
    /// Sets the name and pronouns printed on a ticket's badge, for the badge only.
    pub fn set_badge_name(&self, code: &str, name: &BadgeName) -> Result<(), DeskError> {
        let code = crate::roster::code_of(code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let conf = self.conference(tx, id)?;
            let entry = crate::roster::entry(tx, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))?;
            let stream = StreamId::badge(entry.ticket);
            command::execute::<Badge>(tx, id, &stream, now, |_| {
                Ok(badge::Command::SetName(NameOnBadge {
                    conference: id.conference,
                    ticket: entry.ticket,
                    code: code.clone(),
                    desk: id.device,
                    at: now,
                    preferred_name: name.preferred_name.clone(),
                    pronouns: name.pronouns.clone(),
                }))
            })?;
            Ok(())
        })
    }

    /// Corrects the name or company of a ticket's holder.
    pub fn correct_attendee(&self, code: &str, correction: &Correction) -> Result<(), DeskError> {
        let code = crate::roster::code_of(code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let row: Option<(String, u32)> = rusqlite::OptionalExtension::optional(
                tx.prepare_cached(
                    "SELECT order_id, position FROM roster WHERE code = ?1 AND source = 'assigned'",
                )?
                .query_row([code.as_str()], |r| Ok((r.get(0)?, r.get(1)?))),
            )?;
            let Some((order, position)) = row else {
                return Err(DeskError::NoSuchTicket(code.to_string()));
            };
            let order = order
                .parse()
                .map_err(|_| DeskError::Corrupt(format!("bad order {order:?}")))?;
            let stream = StreamId::seat_assignments(order);
            command::execute::<SeatAssignments>(tx, id, &stream, now, |_| {
                Ok(seat_assignments::Command::Correct {
                    position,
                    first_name: correction.first_name.clone(),
                    last_name: correction.last_name.clone(),
                    company: correction.company.clone(),
                })
            })?;
            Ok(())
        })
    }
}
