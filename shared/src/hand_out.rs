//! Hand-outs at the door: what a person is given (a T-shirt in a size, a meal voucher, a
//! lanyard, a workshop kit), once per item and ticket. One stream per ticket code, like
//! admissions.
//!
//! The conference says which items exist and who gets them ([`Item`], on the conference:
//! everyone, or holders of given seat types, add-ons or attendee types). Two deciders share
//! the state, as in [`crate::check_in`]:
//! - **At the desk** (`Give`): an item already given answers "given at T by desk D" and
//!   records nothing; an item this ticket does not get is refused.
//! - **On the server** (`RecordGiven`): a hand-out a desk pushed already happened. It is
//!   always recorded; a second one of the same item is flagged as a duplicate linked to the
//!   first (and a conflict is opened, like a duplicate admission). Repeating the same
//!   hand-out (same id) changes nothing.
//!
//! Undo needs a reason and is a new event; the hand-out it takes back stays in history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::ids::{AttendeeTypeId, ConferenceId, DeviceId, HandOutId, SeatTypeId, TicketCode};
use crate::text::{self, limit};

/// The most items a conference hands out.
pub const MAX_ITEMS: usize = 32;
/// The most sizes (or variants) one item comes in.
pub const MAX_SIZES: usize = 16;
/// The longest item id.
pub const MAX_ID: usize = 40;
/// The longest size.
pub const MAX_SIZE: usize = 20;

/// Something the door hands out, and who gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// Stable and short: `t-shirt`, `meal-voucher` (lower-case letters, digits, `-` and `_`).
    pub id: String,
    /// What staff read on the card: "T-shirt", "Workshop kit".
    pub name: String,
    /// The sizes or variants staff choose from when they hand it out (`S`, `M`, `L`);
    /// none: it comes in one kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
    /// Holders of these seat types (admission or add-on) get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seat_types: Vec<SeatTypeId>,
    /// Holders of these attendee types get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attendee_types: Vec<AttendeeTypeId>,
}

impl Item {
    /// Whether a holder of `seat_types` (the ticket's and the person's add-ons) and
    /// `attendee_types` gets this item: everyone does when the item names neither.
    pub fn is_for(&self, seat_types: &[SeatTypeId], attendee_types: &[AttendeeTypeId]) -> bool {
        (self.seat_types.is_empty() && self.attendee_types.is_empty())
            || self.seat_types.iter().any(|s| seat_types.contains(s))
            || self
                .attendee_types
                .iter()
                .any(|a| attendee_types.contains(a))
    }

    /// Checks the item on its own (its id, name and sizes); the conference checks the seat
    /// and attendee types it names. Returns it trimmed.
    pub fn checked(&self) -> Result<Item, ItemError> {
        let id = self.id.trim();
        if !is_item_id(id) {
            return Err(ItemError::BadId(id.chars().take(MAX_ID).collect()));
        }
        text::check("the item name", &self.name, limit::TITLE, false)?;
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ItemError::NameRequired(id.to_owned()));
        }
        if self.sizes.len() > MAX_SIZES {
            return Err(ItemError::TooManySizes(id.to_owned()));
        }
        let mut sizes: Vec<String> = Vec::with_capacity(self.sizes.len());
        for s in &self.sizes {
            text::check("a size", s, MAX_SIZE, false)?;
            let s = s.trim();
            if s.is_empty() || sizes.iter().any(|o| o.eq_ignore_ascii_case(s)) {
                return Err(ItemError::BadSizes(id.to_owned()));
            }
            sizes.push(s.to_owned());
        }
        let mut seat_types = self.seat_types.clone();
        seat_types.sort();
        seat_types.dedup();
        let mut attendee_types = self.attendee_types.clone();
        attendee_types.sort();
        attendee_types.dedup();
        Ok(Item {
            id: id.to_owned(),
            name: name.to_owned(),
            sizes,
            seat_types,
            attendee_types,
        })
    }

    /// The size as the item spells it, if `size` is one of its sizes (any case); `None` for an
    /// item that comes in one kind and no size given.
    pub fn size(&self, size: Option<&str>) -> Result<Option<String>, Error> {
        let size = size.map(str::trim).filter(|s| !s.is_empty());
        match (self.sizes.is_empty(), size) {
            (true, None) => Ok(None),
            (true, Some(_)) => Err(Error::NoSizes(self.id.clone())),
            (false, None) => Err(Error::SizeRequired(self.id.clone())),
            (false, Some(s)) => self
                .sizes
                .iter()
                .find(|o| o.eq_ignore_ascii_case(s))
                .map(|o| Some(o.clone()))
                .ok_or_else(|| Error::UnknownSize {
                    item: self.id.clone(),
                    size: s.chars().take(MAX_SIZE).collect(),
                }),
        }
    }
}

/// Why a list of items was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("{0:?} is not an item id: 1 to {MAX_ID} lower-case letters, digits, '-' or '_'")]
    BadId(String),
    #[error("item {0:?} needs a name")]
    NameRequired(String),
    #[error("item {0:?} comes in more than {MAX_SIZES} sizes")]
    TooManySizes(String),
    #[error("the sizes of item {0:?} must be different and not empty")]
    BadSizes(String),
    #[error("item {0:?} is in the list twice")]
    Duplicate(String),
    #[error("more than {MAX_ITEMS} items")]
    TooMany,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

/// One hand-out of one item: who gave it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Given {
    pub hand_out: HandOutId,
    pub desk: DeviceId,
    #[ts(type = "string")]
    pub at: Timestamp,
    /// The size given, for an item that comes in sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A desk hands an item over. `item` is the conference's item (the caller looked it up);
    /// `for_ticket` says whether this ticket gets it.
    Give {
        conference: ConferenceId,
        code: TicketCode,
        item: Item,
        for_ticket: bool,
        given: Given,
    },
    /// A desk takes back a hand-out marked by mistake.
    Undo {
        item: String,
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
    /// The server records a hand-out a desk pushed.
    RecordGiven {
        conference: ConferenceId,
        code: TicketCode,
        item: String,
        given: Given,
    },
    /// The server records an undo a desk pushed.
    RecordUndo {
        item: String,
        hand_out: HandOutId,
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "hand_out.given")]
    Given {
        conference: ConferenceId,
        code: TicketCode,
        item: String,
        given: Given,
    },
    #[serde(rename = "hand_out.undone")]
    Undone {
        conference: ConferenceId,
        code: TicketCode,
        item: String,
        hand_out: HandOutId,
        desk: DeviceId,
        at: Timestamp,
        reason: String,
    },
    /// A second hand-out of the same item to the same ticket reached the server.
    #[serde(rename = "hand_out.duplicate_flagged")]
    DuplicateFlagged {
        conference: ConferenceId,
        code: TicketCode,
        item: String,
        duplicate: Given,
        first: Given,
    },
}

impl Event {
    pub fn conference(&self) -> ConferenceId {
        match self {
            Event::Given { conference, .. }
            | Event::Undone { conference, .. }
            | Event::DuplicateFlagged { conference, .. } => *conference,
        }
    }

    pub fn code(&self) -> &TicketCode {
        match self {
            Event::Given { code, .. }
            | Event::Undone { code, .. }
            | Event::DuplicateFlagged { code, .. } => code,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("already handed out at {} by desk {}", .first.at, .first.desk)]
    AlreadyGiven { first: Given },
    #[error("this ticket does not get {0:?}")]
    NotForThisTicket(String),
    #[error("{0:?} was not handed out")]
    NotGiven(String),
    #[error("choose a size of {0:?}")]
    SizeRequired(String),
    #[error("{0:?} comes in one kind; no size")]
    NoSizes(String),
    #[error("{item:?} does not come in size {size:?}")]
    UnknownSize { item: String, size: String },
    #[error("a reason is required")]
    ReasonRequired,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::AlreadyGiven { .. } => "hand_out.already_given",
            Error::NotForThisTicket(_) => "hand_out.not_for_this_ticket",
            Error::NotGiven(_) => "hand_out.not_given",
            Error::SizeRequired(_) => "hand_out.size_required",
            Error::NoSizes(_) => "hand_out.no_sizes",
            Error::UnknownSize { .. } => "hand_out.unknown_size",
            Error::ReasonRequired => "hand_out.reason_required",
        }
    }
}

/// One item's record for one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemState {
    /// The hand-out in force (the first one not taken back).
    pub current: Option<Given>,
    /// Every hand-out ever recorded, taken back or not, duplicates included.
    pub seen: Vec<HandOutId>,
    pub duplicates: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HandOuts {
    pub conference: Option<ConferenceId>,
    pub code: Option<TicketCode>,
    pub items: BTreeMap<String, ItemState>,
}

impl HandOuts {
    /// The hand-out of `item` in force, if any.
    pub fn handed(&self, item: &str) -> Option<&Given> {
        self.items.get(item).and_then(|i| i.current.as_ref())
    }

    fn seen(&self, id: HandOutId) -> bool {
        self.items.values().any(|i| i.seen.contains(&id))
    }
}

/// The shape of an item id: 1 to [`MAX_ID`] lower-case letters, digits, `-` and `_`.
fn is_item_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

/// An item id as a desk may send it: the shape of [`Item::id`], so that nothing else is
/// stored under one.
fn check_item_id(item: &str) -> Result<(), Error> {
    if is_item_id(item) {
        Ok(())
    } else {
        Err(Error::NotForThisTicket(item.chars().take(MAX_ID).collect()))
    }
}

fn check_given(given: &Given) -> Result<(), Error> {
    text::check(
        "the size",
        given.size.as_deref().unwrap_or_default(),
        MAX_SIZE,
        true,
    )?;
    Ok(())
}

impl Aggregate for HandOuts {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Give {
                conference,
                code,
                item,
                for_ticket,
                given,
            } => {
                check_given(given)?;
                if !for_ticket {
                    return Err(Error::NotForThisTicket(item.id.clone()));
                }
                if let Some(first) = self.handed(&item.id) {
                    return Err(Error::AlreadyGiven {
                        first: first.clone(),
                    });
                }
                let size = item.size(given.size.as_deref())?;
                Ok(vec![Event::Given {
                    conference: *conference,
                    code: code.clone(),
                    item: item.id.clone(),
                    given: Given {
                        size,
                        ..given.clone()
                    },
                }])
            }
            Command::Undo {
                item,
                desk,
                at,
                reason,
            } => {
                text::check("the reason", reason, limit::REASON, true)?;
                let current = self
                    .handed(item)
                    .ok_or_else(|| Error::NotGiven(item.clone()))?;
                if reason.trim().is_empty() {
                    return Err(Error::ReasonRequired);
                }
                let (Some(conference), Some(code)) = (self.conference, self.code.clone()) else {
                    return Err(Error::NotGiven(item.clone()));
                };
                Ok(vec![Event::Undone {
                    conference,
                    code,
                    item: item.clone(),
                    hand_out: current.hand_out,
                    desk: *desk,
                    at: *at,
                    reason: reason.trim().to_owned(),
                }])
            }
            Command::RecordGiven {
                conference,
                code,
                item,
                given,
            } => {
                check_item_id(item)?;
                check_given(given)?;
                if self.seen(given.hand_out) {
                    return Ok(vec![]);
                }
                let mut events = vec![Event::Given {
                    conference: *conference,
                    code: code.clone(),
                    item: item.clone(),
                    given: given.clone(),
                }];
                if let Some(first) = self.handed(item) {
                    events.push(Event::DuplicateFlagged {
                        conference: *conference,
                        code: code.clone(),
                        item: item.clone(),
                        duplicate: given.clone(),
                        first: first.clone(),
                    });
                }
                Ok(events)
            }
            Command::RecordUndo {
                item,
                hand_out,
                desk,
                at,
                reason,
            } => {
                text::check("the reason", reason, limit::REASON, true)?;
                let (Some(conference), Some(code)) = (self.conference, self.code.clone()) else {
                    return Ok(vec![]);
                };
                if !self
                    .items
                    .get(item)
                    .is_some_and(|s| s.seen.contains(hand_out))
                {
                    // A hand-out the server never saw: nothing to take back.
                    return Ok(vec![]);
                }
                Ok(vec![Event::Undone {
                    conference,
                    code,
                    item: item.clone(),
                    hand_out: *hand_out,
                    desk: *desk,
                    at: *at,
                    reason: reason.trim().to_owned(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::Given {
                conference,
                code,
                item,
                given,
            } => {
                self.conference = Some(*conference);
                self.code = Some(code.clone());
                let state = self.items.entry(item.clone()).or_default();
                if !state.seen.contains(&given.hand_out) {
                    state.seen.push(given.hand_out);
                }
                if state.current.is_none() {
                    state.current = Some(given.clone());
                }
            }
            Event::Undone { item, hand_out, .. } => {
                if let Some(state) = self.items.get_mut(item)
                    && state
                        .current
                        .as_ref()
                        .is_some_and(|c| c.hand_out == *hand_out)
                {
                    state.current = None;
                }
            }
            Event::DuplicateFlagged { item, .. } => {
                self.items.entry(item.clone()).or_default().duplicates += 1;
            }
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests;
