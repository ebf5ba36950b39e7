//! Seat assignments: who sits in each seat of a confirmed order. This is where attendee names
//! come from, and names are why badges exist (B:1574–1575). One `SeatAssignments` per order,
//! one position per seat, each position a ticket with its own id and printed code.
//!
//! The book's rules (seed digest §2.6): assignments exist only for a confirmed order; assigning
//! needs a name and an email; a *different* email means the seat goes to someone else
//! (unassign, then assign); the same email with another name is an update.
//!
//! Decisions where the book is silent:
//! - A name is a first name or a last name (people with one name exist); an email is required.
//! - The attendee also carries a company and attendee types (speaker, volunteer…), which the
//!   RI never modelled (B:2078–2081) and badges need.
//! - A desk may *correct* the name or company of an assigned seat (a typo spotted at the door);
//!   the email stays, so it is an update, never a re-assignment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError};
use crate::ids::{AttendeeTypeId, ConferenceId, OrderId, SeatTypeId, TicketCode, TicketId};
use crate::order::{OrderStatus, is_plausible_email};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(ts_rs::TS)]
pub struct Attendee {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub attendee_types: Vec<AttendeeTypeId>,
    /// The name to print on the badge when it is not the registered one ("Bill" for William).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    /// A note for the door ("wheelchair user: seat near the aisle"), shown in red on the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Fields an import brought that Onsite does not know ("dietary": "vegan"), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
}

/// The most custom fields one attendee carries.
pub const MAX_CUSTOM_FIELDS: usize = 20;

/// The text a ticket is found by, folded for search ([`crate::text::fold`]): its holder's
/// names, email and company, then its code. The desk's roster and the server's head-office
/// search both keep this, so a search finds the same tickets at the door and at head office.
pub fn search_text(holder: Option<&Attendee>, code: &TicketCode) -> String {
    let text = match holder {
        Some(a) => [
            a.first_name.as_str(),
            &a.last_name,
            &a.email,
            &a.company,
            code.as_str(),
        ]
        .join(" "),
        None => code.as_str().to_owned(),
    };
    crate::text::fold(&text)
}

impl Attendee {
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.last_name),
            (false, true) => self.first_name.clone(),
            (true, _) => self.last_name.clone(),
        }
    }

    fn normalised(&self) -> Attendee {
        let mut types = self.attendee_types.clone();
        types.sort();
        types.dedup();
        let optional = |t: &Option<String>| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        Attendee {
            first_name: self.first_name.trim().to_owned(),
            last_name: self.last_name.trim().to_owned(),
            email: self.email.trim().to_owned(),
            company: self.company.trim().to_owned(),
            attendee_types: types,
            preferred_name: optional(&self.preferred_name),
            pronouns: optional(&self.pronouns),
            note: optional(&self.note),
            custom: self
                .custom
                .iter()
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .collect(),
        }
    }

    /// Checks the rules for an attendee: a name, an email that is plausible when there is one
    /// (a walk-in guest, a member of a group booking may have none), and text no longer than
    /// its limit, without control characters.
    pub fn validate(&self) -> Result<Attendee, Error> {
        use crate::text::{check, limit};
        let a = self.normalised();
        check("the first name", &a.first_name, limit::NAME, false)?;
        check("the last name", &a.last_name, limit::NAME, false)?;
        check("the email", &a.email, limit::EMAIL, false)?;
        check("the company", &a.company, limit::TITLE, false)?;
        let text = |t: &Option<String>| t.as_deref().unwrap_or_default().to_owned();
        check(
            "the preferred name",
            &text(&a.preferred_name),
            limit::NAME,
            false,
        )?;
        check("the pronouns", &text(&a.pronouns), limit::LABEL, false)?;
        check("the note", &text(&a.note), limit::REASON, true)?;
        if a.custom.len() > MAX_CUSTOM_FIELDS {
            return Err(Error::TooManyCustomFields);
        }
        for (k, v) in &a.custom {
            check("a custom field's name", k, limit::LABEL, false)?;
            check("a custom field", v, limit::TITLE, false)?;
        }
        if a.first_name.is_empty() && a.last_name.is_empty() {
            return Err(Error::NameRequired);
        }
        if !a.email.is_empty() && !is_plausible_email(&a.email) {
            return Err(Error::BadEmail(a.email));
        }
        Ok(a)
    }
}

/// One seat of the order: a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub position: u32,
    pub ticket: TicketId,
    pub code: TicketCode,
    pub seat_type: SeatTypeId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `order_status` is the order's status as the caller read it: only a confirmed order has
    /// seats to assign.
    Create {
        order: OrderId,
        conference: ConferenceId,
        order_status: OrderStatus,
        seats: Vec<Seat>,
    },
    Assign {
        position: u32,
        attendee: Attendee,
    },
    Unassign {
        position: u32,
    },
    /// Fixes the name or company of an assigned seat (`None` keeps the current value).
    Correct {
        position: u32,
        first_name: Option<String>,
        last_name: Option<String>,
        company: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "seat_assignments.created")]
    Created {
        order: OrderId,
        conference: ConferenceId,
        seats: Vec<Seat>,
    },
    #[serde(rename = "seat_assignments.assigned")]
    Assigned {
        order: OrderId,
        position: u32,
        ticket: TicketId,
        attendee: Attendee,
    },
    #[serde(rename = "seat_assignments.updated")]
    Updated {
        order: OrderId,
        position: u32,
        ticket: TicketId,
        attendee: Attendee,
    },
    #[serde(rename = "seat_assignments.unassigned")]
    Unassigned {
        order: OrderId,
        position: u32,
        ticket: TicketId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("seats can be assigned only for a confirmed order")]
    OrderNotConfirmed,
    #[error("the seat assignments already exist")]
    AlreadyExists,
    #[error("the seat assignments do not exist")]
    NotFound,
    #[error("the order has no seat {0}")]
    UnknownPosition(u32),
    #[error("seat {0} is not assigned to anyone")]
    NotAssigned(u32),
    #[error("an attendee needs a name")]
    NameRequired,
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("two seats have the same position or ticket")]
    DuplicateSeat,
    #[error("more than {MAX_CUSTOM_FIELDS} custom fields")]
    TooManyCustomFields,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::OrderNotConfirmed => "seat_assignments.order_not_confirmed",
            Error::AlreadyExists => "seat_assignments.already_exists",
            Error::NotFound => "seat_assignments.not_found",
            Error::UnknownPosition(_) => "seat_assignments.unknown_position",
            Error::NotAssigned(_) => "seat_assignments.not_assigned",
            Error::NameRequired => "seat_assignments.name_required",
            Error::BadEmail(_) => "seat_assignments.bad_email",
            Error::DuplicateSeat => "seat_assignments.duplicate_seat",
            Error::TooManyCustomFields => "seat_assignments.too_many_custom_fields",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub seat: Seat,
    pub attendee: Option<Attendee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeatAssignments {
    pub order: Option<OrderId>,
    pub conference: Option<ConferenceId>,
    pub positions: Vec<Position>,
}

impl SeatAssignments {
    pub fn position(&self, position: u32) -> Option<&Position> {
        self.positions.iter().find(|p| p.seat.position == position)
    }

    fn find(&self, position: u32) -> Result<(OrderId, &Position), Error> {
        let order = self.order.ok_or(Error::NotFound)?;
        let p = self
            .position(position)
            .ok_or(Error::UnknownPosition(position))?;
        Ok((order, p))
    }
}

impl Aggregate for SeatAssignments {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Create {
                order,
                conference,
                order_status,
                seats,
            } => {
                if self.order.is_some() {
                    return Err(Error::AlreadyExists);
                }
                if *order_status != OrderStatus::Confirmed {
                    return Err(Error::OrderNotConfirmed);
                }
                let mut positions: Vec<u32> = seats.iter().map(|s| s.position).collect();
                let mut tickets: Vec<TicketId> = seats.iter().map(|s| s.ticket).collect();
                positions.sort_unstable();
                positions.dedup();
                tickets.sort_unstable();
                tickets.dedup();
                if positions.len() != seats.len() || tickets.len() != seats.len() {
                    return Err(Error::DuplicateSeat);
                }
                Ok(vec![Event::Created {
                    order: *order,
                    conference: *conference,
                    seats: seats.clone(),
                }])
            }
            Command::Assign { position, attendee } => {
                let (order, current) = self.find(*position)?;
                let attendee = attendee.validate()?;
                let ticket = current.seat.ticket;
                let position = *position;
                match &current.attendee {
                    None => Ok(vec![Event::Assigned {
                        order,
                        position,
                        ticket,
                        attendee,
                    }]),
                    Some(old) if old.email.eq_ignore_ascii_case(&attendee.email) => {
                        if *old == attendee {
                            Ok(vec![])
                        } else {
                            Ok(vec![Event::Updated {
                                order,
                                position,
                                ticket,
                                attendee,
                            }])
                        }
                    }
                    Some(_) => Ok(vec![
                        Event::Unassigned {
                            order,
                            position,
                            ticket,
                        },
                        Event::Assigned {
                            order,
                            position,
                            ticket,
                            attendee,
                        },
                    ]),
                }
            }
            Command::Unassign { position } => {
                let (order, current) = self.find(*position)?;
                if current.attendee.is_none() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Unassigned {
                    order,
                    position: *position,
                    ticket: current.seat.ticket,
                }])
            }
            Command::Correct {
                position,
                first_name,
                last_name,
                company,
            } => {
                let (order, current) = self.find(*position)?;
                let old = current
                    .attendee
                    .as_ref()
                    .ok_or(Error::NotAssigned(*position))?;
                let mut attendee = old.clone();
                if let Some(v) = first_name {
                    attendee.first_name = v.clone();
                }
                if let Some(v) = last_name {
                    attendee.last_name = v.clone();
                }
                if let Some(v) = company {
                    attendee.company = v.clone();
                }
                let attendee = attendee.validate()?;
                if attendee == *old {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Updated {
                    order,
                    position: *position,
                    ticket: current.seat.ticket,
                    attendee,
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Created {
                order,
                conference,
                seats,
            } => {
                self.order = Some(*order);
                self.conference = Some(*conference);
                self.positions = seats
                    .iter()
                    .map(|s| Position {
                        seat: s.clone(),
                        attendee: None,
                    })
                    .collect();
            }
            Event::Assigned {
                position, attendee, ..
            }
            | Event::Updated {
                position, attendee, ..
            } => {
                if let Some(p) = self
                    .positions
                    .iter_mut()
                    .find(|p| p.seat.position == *position)
                {
                    p.attendee = Some(attendee.clone());
                }
            }
            Event::Unassigned { position, .. } => {
                if let Some(p) = self
                    .positions
                    .iter_mut()
                    .find(|p| p.seat.position == *position)
                {
                    p.attendee = None;
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests;
