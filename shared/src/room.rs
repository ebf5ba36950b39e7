//! Rooms and sessions: a workshop, a reception, a lounge. A desk set to a room scans people
//! into it. One stream per ticket code, like admissions: where a person is is a property of
//! their ticket, so a room's occupancy counts each person once, and entering one room leaves
//! the room they were in.
//!
//! The conference lists its rooms ([`Room`]: a name, the seat types whose holders may enter,
//! a capacity). Two deciders share the state, as in [`crate::check_in`]:
//! - **At the desk** (`Enter`): green only for holders of the room's entitlement (an add-on,
//!   or any seat type head office named; none named: everyone); at capacity the room is full.
//!   Both are refused unless staff let the person in with a reason. A second scan of someone
//!   in the room answers "in this room since T" and records nothing. The desk tells the
//!   caller how full the room is ([`fill`]): a warning at 80 % and at 95 %.
//! - **On the server** (`RecordEntry`): an entry a desk pushed already happened. It is always
//!   recorded, once per visit id; one without a reason by someone not entitled, or that took
//!   the room over its capacity as the server counts it (every desk's entries), is flagged
//!   and opens a conflict.
//!
//! Decisions where the issue is silent: room entry does not need an admission at a gate
//! first (a reception may be the first door someone passes); leaving a room is a scan at the
//! room's desk ("left"), or entering another room; an exit from the venue does not empty the
//! rooms (their desks say who left).

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, Timestamp};
use crate::ids::{ConferenceId, DeviceId, RoomVisitId, SeatTypeId, TicketCode};
use crate::text::{self, limit};

/// The most rooms a conference names.
pub const MAX_ROOMS: usize = 64;

/// A room desks can scan people into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Room {
    /// What staff set their desk to, and read: "Workshop A", "Speakers' reception". Never the
    /// name of a gate.
    pub name: String,
    /// Holders of these seat types (an add-on, or an admission type such as VIP) may enter;
    /// none: everyone with a ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seat_types: Vec<SeatTypeId>,
    /// How many people the room holds; none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

impl Room {
    /// Whether a holder of `holds` (the ticket's seat type and the person's add-ons) may enter.
    pub fn admits(&self, holds: &[SeatTypeId]) -> bool {
        self.seat_types.is_empty() || self.seat_types.iter().any(|s| holds.contains(s))
    }

    /// Checks the room on its own (name, capacity); the conference checks the seat types it
    /// names and that no gate has its name. Returns it trimmed, its seat types in order.
    pub fn checked(&self) -> Result<Room, RoomError> {
        text::check("the room name", &self.name, limit::LABEL, false)?;
        let name = self.name.trim();
        if name.is_empty() {
            return Err(RoomError::NameRequired);
        }
        if self.capacity == Some(0) {
            return Err(RoomError::NoCapacity(name.to_owned()));
        }
        let mut seat_types = self.seat_types.clone();
        seat_types.sort();
        seat_types.dedup();
        Ok(Room {
            name: name.to_owned(),
            seat_types,
            capacity: self.capacity,
        })
    }
}

/// Why a list of rooms was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    #[error("a room needs a name")]
    NameRequired,
    #[error("room {0:?} has a capacity of 0; leave it empty for no limit")]
    NoCapacity(String),
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

/// How full a room is after an entry, for the desk's warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Below 80 % of capacity, or no capacity.
    Room,
    /// 80 % or more.
    Filling,
    /// 95 % or more.
    AlmostFull,
    /// At capacity: the next one is refused.
    Full,
    /// Over capacity (people let in with a reason, or by desks offline).
    Over,
}

/// How full a room of `capacity` is with `occupancy` people in it.
pub fn fill(occupancy: u32, capacity: Option<u32>) -> Fill {
    let Some(capacity) = capacity.filter(|c| *c > 0) else {
        return Fill::Room;
    };
    // Integer percentages: 80 % of 10 is 8, of 7 is 5.6 (6 warns, 5 does not).
    let (o, c) = (u64::from(occupancy), u64::from(capacity));
    if o > c {
        Fill::Over
    } else if o == c {
        Fill::Full
    } else if o * 100 >= c * 95 {
        Fill::AlmostFull
    } else if o * 100 >= c * 80 {
        Fill::Filling
    } else {
        Fill::Room
    }
}

/// One scan at a room's desk: which visit, by which desk, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Visit {
    pub visit: RoomVisitId,
    pub desk: DeviceId,
    #[ts(type = "string")]
    pub at: Timestamp,
}

/// Why the server flagged an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "breach", rename_all = "snake_case")]
pub enum RoomBreach {
    /// The person holds none of the seat types the room admits.
    NotEntitled,
    /// The room held `occupancy` people (capacity `capacity`) before this entry.
    OverCapacity { occupancy: u32, capacity: u32 },
}

impl std::fmt::Display for RoomBreach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoomBreach::NotEntitled => write!(f, "not entitled to this room"),
            RoomBreach::OverCapacity {
                occupancy,
                capacity,
            } => write!(f, "the room held {occupancy} of {capacity} already"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A room's desk lets someone in. `room` is the conference's room (the caller looked it
    /// up); `entitled`: whether the person holds one of its seat types; `occupancy`: how many
    /// people are in it now, as the desk counts them.
    Enter {
        conference: ConferenceId,
        code: TicketCode,
        room: Room,
        entitled: bool,
        occupancy: u32,
        visit: Visit,
        override_reason: Option<String>,
    },
    /// A room's desk records that the person left it.
    Leave { room: String, visit: Visit },
    /// The server records an entry a desk pushed, with what the server knows: the room as
    /// the conference has it, the entitlement and the occupancy as every desk's entries say.
    RecordEntry {
        conference: ConferenceId,
        code: TicketCode,
        room: Room,
        entitled: bool,
        occupancy: u32,
        visit: Visit,
        override_reason: Option<String>,
    },
    /// The server records that a person left a room (a desk pushed it).
    RecordLeave {
        conference: ConferenceId,
        code: TicketCode,
        room: String,
        visit: Visit,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum Event {
    #[serde(rename = "room.entered")]
    Entered {
        conference: ConferenceId,
        code: TicketCode,
        room: String,
        visit: Visit,
        /// Why staff let someone in who is not entitled, or into a full room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    #[serde(rename = "room.left")]
    Left {
        conference: ConferenceId,
        code: TicketCode,
        room: String,
        visit: Visit,
    },
    /// An entry without a reason by someone not entitled, or over the room's capacity,
    /// reached the server.
    #[serde(rename = "room.entry_flagged")]
    EntryFlagged {
        conference: ConferenceId,
        code: TicketCode,
        room: String,
        visit: Visit,
        breach: RoomBreach,
    },
}

impl Event {
    pub fn conference(&self) -> ConferenceId {
        match self {
            Event::Entered { conference, .. }
            | Event::Left { conference, .. }
            | Event::EntryFlagged { conference, .. } => *conference,
        }
    }

    pub fn code(&self) -> &TicketCode {
        match self {
            Event::Entered { code, .. }
            | Event::Left { code, .. }
            | Event::EntryFlagged { code, .. } => code,
        }
    }

    pub fn visit(&self) -> &Visit {
        match self {
            Event::Entered { visit, .. }
            | Event::Left { visit, .. }
            | Event::EntryFlagged { visit, .. } => visit,
        }
    }
}

/// The desk's typed outcomes for a room scan that records nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("in this room since {} (desk {})", .since.at, .since.desk)]
    AlreadyInRoom { since: Visit },
    #[error("not entitled to {0:?}")]
    NotEntitled(String),
    #[error("{room:?} is full ({occupancy} of {capacity})")]
    Full {
        room: String,
        occupancy: u32,
        capacity: u32,
    },
    #[error("not in {0:?}")]
    NotInRoom(String),
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl DomainError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Text(e) => e.code(),
            Error::AlreadyInRoom { .. } => "room.already_in_room",
            Error::NotEntitled(_) => "room.not_entitled",
            Error::Full { .. } => "room.full",
            Error::NotInRoom(_) => "room.not_in_room",
        }
    }
}

/// Where a ticket's holder is: the room they entered last and have not left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InRoom {
    pub room: String,
    pub since: Visit,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomVisits {
    pub conference: Option<ConferenceId>,
    pub code: Option<TicketCode>,
    pub current: Option<InRoom>,
    /// Every entry and exit ever recorded, flagged or not.
    pub seen: Vec<RoomVisitId>,
    pub flagged: u32,
}

impl RoomVisits {
    /// Whether the holder is in `room` now (names compare as people type them).
    pub fn in_room(&self, room: &str) -> Option<&Visit> {
        self.current
            .as_ref()
            .filter(|c| c.room.eq_ignore_ascii_case(room.trim()))
            .map(|c| &c.since)
    }
}

fn check_text(room: &str, override_reason: &Option<String>) -> Result<(), Error> {
    text::check("the room", room, limit::LABEL, false)?;
    text::check(
        "the reason",
        override_reason.as_deref().unwrap_or_default(),
        limit::REASON,
        true,
    )?;
    Ok(())
}

impl Aggregate for RoomVisits {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Enter {
                conference,
                code,
                room,
                entitled,
                occupancy,
                visit,
                override_reason,
            } => {
                check_text(&room.name, override_reason)?;
                if let Some(since) = self.in_room(&room.name) {
                    return Err(Error::AlreadyInRoom {
                        since: since.clone(),
                    });
                }
                let why = text::given(override_reason);
                if !entitled && why.is_none() {
                    return Err(Error::NotEntitled(room.name.clone()));
                }
                let full = room.capacity.filter(|c| occupancy >= c);
                if let (Some(capacity), None) = (full, &why) {
                    return Err(Error::Full {
                        room: room.name.clone(),
                        occupancy: *occupancy,
                        capacity,
                    });
                }
                // The reason is kept only where it let someone in.
                let overridden = !entitled || full.is_some();
                Ok(vec![Event::Entered {
                    conference: *conference,
                    code: code.clone(),
                    room: room.name.clone(),
                    visit: visit.clone(),
                    override_reason: why.filter(|_| overridden),
                }])
            }
            Command::Leave { room, visit } => {
                check_text(room, &None)?;
                let (Some(conference), Some(code), Some(current)) =
                    (self.conference, self.code.clone(), &self.current)
                else {
                    return Err(Error::NotInRoom(room.trim().to_owned()));
                };
                if self.in_room(room).is_none() {
                    return Err(Error::NotInRoom(room.trim().to_owned()));
                }
                Ok(vec![Event::Left {
                    conference,
                    code,
                    room: current.room.clone(),
                    visit: visit.clone(),
                }])
            }
            Command::RecordEntry {
                conference,
                code,
                room,
                entitled,
                occupancy,
                visit,
                override_reason,
            } => {
                check_text(&room.name, override_reason)?;
                if self.seen.contains(&visit.visit) {
                    return Ok(vec![]);
                }
                let why = text::given(override_reason);
                let already = self.in_room(&room.name).is_some();
                let mut events = vec![Event::Entered {
                    conference: *conference,
                    code: code.clone(),
                    room: room.name.clone(),
                    visit: visit.clone(),
                    override_reason: why.clone(),
                }];
                let flag = |breach| Event::EntryFlagged {
                    conference: *conference,
                    code: code.clone(),
                    room: room.name.clone(),
                    visit: visit.clone(),
                    breach,
                };
                if why.is_none() && !already {
                    if !entitled {
                        events.push(flag(RoomBreach::NotEntitled));
                    }
                    if let Some(capacity) = room.capacity.filter(|c| occupancy >= c) {
                        events.push(flag(RoomBreach::OverCapacity {
                            occupancy: *occupancy,
                            capacity,
                        }));
                    }
                }
                Ok(events)
            }
            Command::RecordLeave {
                conference,
                code,
                room,
                visit,
            } => {
                check_text(room, &None)?;
                if self.seen.contains(&visit.visit) {
                    return Ok(vec![]);
                }
                // It happened; it empties the room only if the person was in it.
                Ok(vec![Event::Left {
                    conference: *conference,
                    code: code.clone(),
                    room: room.trim().to_owned(),
                    visit: visit.clone(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &Event) -> Self {
        let visit = event.visit().visit;
        match event {
            Event::Entered {
                conference,
                code,
                room,
                visit,
                ..
            } => {
                self.conference = Some(*conference);
                self.code = Some(code.clone());
                if self.in_room(room).is_none() {
                    self.current = Some(InRoom {
                        room: room.clone(),
                        since: visit.clone(),
                    });
                }
            }
            Event::Left { room, .. } => {
                if self.in_room(room).is_some() {
                    self.current = None;
                }
            }
            Event::EntryFlagged { .. } => self.flagged += 1,
        }
        if !self.seen.contains(&visit) {
            self.seen.push(visit);
        }
        self
    }
}

#[cfg(test)]
mod tests;
