//! Rooms at the desk: a desk whose gate names one of the conference's rooms (a workshop, a
//! reception) scans people into it. Green only for holders of the room's seat types; the
//! room's fill (as this desk knows every desk's entries) warns at 80 % and 95 % and refuses at
//! capacity; staff may let someone in anyway with a reason. Offline like everything else.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::conference::Conference;
use onsite_shared::event::StreamId;
use onsite_shared::ids::RoomVisitId;
use onsite_shared::room::{self, Fill, Room, RoomVisits, Visit};

use crate::check_in::{CheckInOutcome, card, gate_of};
use crate::command::{self, Refused};
use crate::error::DeskError;
use crate::roster;
use crate::store::{Desk, Identity};

/// How full a room is, as this desk knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RoomNumbers {
    pub name: String,
    /// People in the room now: entered, not left, not gone on to another room.
    pub occupancy: u32,
    pub capacity: Option<u32>,
    pub fill: Fill,
}

/// How many people are in `room` now.
fn occupancy(conn: &Connection, room: &str) -> Result<u32, DeskError> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM rooms WHERE room = ?1")?
        .query_row([room], |r| r.get(0))?)
}

pub(crate) fn numbers(conn: &Connection, room: &Room) -> Result<RoomNumbers, DeskError> {
    let occupancy = occupancy(conn, &room.name)?;
    Ok(RoomNumbers {
        name: room.name.clone(),
        occupancy,
        capacity: room.capacity,
        fill: room::fill(occupancy, room.capacity),
    })
}

/// Every room of the conference with its numbers, in the conference's order.
pub(crate) fn all(conn: &Connection, conf: &Conference) -> Result<Vec<RoomNumbers>, DeskError> {
    conf.rooms.iter().map(|r| numbers(conn, r)).collect()
}

/// A scan at a room's desk inside `tx`: entered (with the room's fill after it), in the room
/// already (since when), not entitled, or the room is full; unknown codes as at a gate. Only
/// an entry records anything.
pub(crate) fn enter(
    tx: &Transaction<'_>,
    id: Identity,
    conf: &Conference,
    room: &Room,
    typed: &str,
    override_reason: Option<&str>,
    now: Timestamp,
) -> Result<CheckInOutcome, DeskError> {
    let Some((code, entry)) = roster::scanned(tx, conf, typed)? else {
        return Ok(CheckInOutcome::UnknownTicket {
            code: typed.to_owned(),
        });
    };
    let entitled = !entry.withdrawn && room.admits(&entry.holds);
    let before = numbers(tx, room)?;
    let visit = Visit {
        visit: RoomVisitId::from_uuid(uuid::Uuid::now_v7()),
        desk: id.device,
        at: now,
    };
    let command = room::Command::Enter {
        conference: id.conference,
        code: code.clone(),
        room: room.clone(),
        entitled,
        occupancy: before.occupancy,
        visit,
        override_reason: override_reason.map(str::to_owned),
    };
    let stream = StreamId::room(id.conference, &code);
    let decided = command::execute::<RoomVisits>(tx, id, &stream, now, |_| Ok(command));
    let entry = Some(entry);
    match decided {
        Ok(_) => {}
        Err(Refused::Domain(room::Error::AlreadyInRoom { since })) => {
            return Ok(CheckInOutcome::AlreadyInRoom {
                entry,
                room: before,
                since,
            });
        }
        Err(Refused::Domain(room::Error::NotEntitled(_))) => {
            return Ok(CheckInOutcome::NotEntitledToRoom {
                entry,
                room: before,
            });
        }
        Err(Refused::Domain(room::Error::Full { .. })) => {
            return Ok(CheckInOutcome::RoomFull {
                entry,
                room: before,
            });
        }
        Err(other) => return Err(other.into()),
    }
    let mut entry = entry;
    if let Some(e) = entry.as_mut() {
        e.in_room = Some(room.name.clone());
    }
    let card = entry
        .as_ref()
        .map(|e| card(conf, e, &room.name))
        .unwrap_or_default();
    Ok(CheckInOutcome::EnteredRoom {
        entry,
        card,
        room: numbers(tx, room)?,
        overridden: !entitled || before.occupancy >= room.capacity.unwrap_or(u32::MAX),
    })
}

impl Desk {
    /// Records that a person left the room this desk is set to (or `room`).
    pub fn leave_room(&self, code: &str, room: Option<&str>) -> Result<CheckInOutcome, DeskError> {
        let code = roster::code_of(code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let conf = self.conference(tx, id)?;
            let name = gate_of(tx, room)?;
            let room = conf.room(&name).cloned().ok_or_else(|| {
                DeskError::BadInput(format!("{name:?} is not one of the conference's rooms"))
            })?;
            let entry = roster::entry(tx, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))?;
            let stream = StreamId::room(id.conference, &code);
            command::execute::<RoomVisits>(tx, id, &stream, now, |_| {
                Ok(room::Command::Leave {
                    room: room.name.clone(),
                    visit: Visit {
                        visit: RoomVisitId::from_uuid(uuid::Uuid::now_v7()),
                        desk: id.device,
                        at: now,
                    },
                })
            })?;
            Ok(CheckInOutcome::LeftRoom {
                entry: Some(crate::roster::RosterEntry {
                    in_room: None,
                    ..entry
                }),
                room: numbers(tx, &room)?,
            })
        })
    }

    /// Every room of the conference and how full it is, as this desk knows it.
    pub fn rooms(&self) -> Result<Vec<RoomNumbers>, DeskError> {
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let conf = self.conference(conn, id)?;
            all(conn, &conf)
        })
    }
}
