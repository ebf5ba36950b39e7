//! Check-in at the door, and undoing one; a party (the people on one order) admitted or
//! taken back at once, each admission its own event, all in one transaction.

use rusqlite::Transaction;
use serde::Serialize;

use onsite_shared::admission_rules::RuleBreach;
use onsite_shared::aggregate::Timestamp;
use onsite_shared::check_in::{self, Admission, CheckIn, TicketStatus};
use onsite_shared::conference::{Conference, GateDirection};
use onsite_shared::event::StreamId;
use onsite_shared::ids::{AdmissionId, OrderId, TicketCode};

use crate::command::{self, Refused};
use crate::error::DeskError;
use crate::printing::{self, AutoPrinted};
use crate::room::RoomNumbers;
use crate::roster::{self, RosterEntry};
use crate::store::{Desk, Identity, setting};

/// The most tickets one party check-in or undo takes.
pub const MAX_PARTY: usize = 200;

/// The people on the same order (or walk-in sale) as a ticket: who they are, what they hold,
/// who is in already. Only tickets that admit (an add-on admits nobody), in the order's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Party {
    pub order: OrderId,
    pub members: Vec<RosterEntry>,
}

/// The door's live numbers, from this desk's view of every desk's admissions.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DoorNumbers {
    /// Admitted, not taken back and not out since: each person once, whatever the gates.
    pub inside_now: u64,
    /// Admitted in the last 15 minutes, at any door.
    pub last_15_min: u64,
    /// Check-ins per minute at this desk, over the last 5 minutes.
    pub per_minute_here: f64,
    /// Tickets that admit (not withdrawn, not add-ons) less the admissions in force: who is
    /// still to come.
    pub expected: u64,
    /// Inside now per zone (by the gate each person last came in through), in the order of
    /// the conference's gates; the whole venue when it names none.
    pub zones: Vec<ZoneCount>,
    /// Every room and how full it is.
    pub rooms: Vec<RoomNumbers>,
}

/// How many people are inside a zone now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ZoneCount {
    pub zone: String,
    pub inside_now: u64,
}

/// One line of the check-in card: what it is, and what it says (`attention`: in red).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CardLine {
    pub label: String,
    pub text: String,
    pub attention: bool,
}

/// The card for `entry` at `gate`: the fields head office chose, in its order, those with
/// nothing to say left out. The email only when chosen.
pub(crate) fn card(conf: &Conference, entry: &RosterEntry, gate: &str) -> Vec<CardLine> {
    use onsite_shared::conference::CardField;
    let line = |label: &str, text: String, attention: bool| CardLine {
        label: label.to_owned(),
        text,
        attention,
    };
    let mut out = Vec::new();
    for field in conf.result_card.at(gate) {
        let shown = match field {
            CardField::Company => line("Company", entry.company.clone(), false),
            CardField::SeatType => line("Ticket", entry.seat_type_name.clone(), false),
            CardField::AttendeeType => line(
                "Attendee type",
                entry
                    .attendee_types
                    .iter()
                    .map(|a| {
                        conf.attendee_types
                            .get(a)
                            .map_or_else(|| a.to_string(), |t| t.name.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                false,
            ),
            CardField::AddOns => line("Also", entry.entitlements.join(", "), false),
            CardField::HandOuts => line(
                "Hand over",
                entry
                    .hand_outs
                    .iter()
                    .filter(|h| h.given.is_none())
                    .map(|h| h.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                false,
            ),
            CardField::Note => line("Note", entry.note.clone().unwrap_or_default(), true),
            CardField::Email => line("Email", entry.email.clone(), false),
            CardField::Custom(name) => line(
                name,
                entry.custom.get(name).cloned().unwrap_or_default(),
                false,
            ),
        };
        if !shown.text.trim().is_empty() {
            out.push(shown);
        }
    }
    out
}

/// Several tickets admitted in one action.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
pub struct PartyCheckInRequest {
    pub codes: Vec<String>,
    /// The gate; the desk's own gate when `None`.
    pub gate: Option<String>,
}

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
        /// What the card shows for this person at this gate, as head office set it.
        card: Vec<CardLine>,
        admission: Admission,
        /// Let in by a staff override (unknown or not entitled ticket, outside its rules).
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
    /// The ticket does not admit now (a day pass on another day, before the doors open):
    /// staff may let the person in with a reason.
    OutsideRules {
        entry: Option<RosterEntry>,
        breach: RuleBreach,
    },
    /// Let back in after going out.
    Reentered {
        entry: Option<RosterEntry>,
        card: Vec<CardLine>,
        admission: Admission,
    },
    /// Went out at this desk's exit gate.
    Exited {
        entry: Option<RosterEntry>,
        exit: Admission,
    },
    /// Went out earlier, and the zone behind this gate lets nobody back in.
    ReentryRefused {
        entry: Option<RosterEntry>,
        exited: Admission,
    },
    /// An exit scan of someone who is not inside: never admitted, or out already (`since`).
    NotInside {
        entry: Option<RosterEntry>,
        since: Option<Admission>,
    },
    /// Scanned into this desk's room; `room` says how full it is now (warn at 80 %, 95 %).
    EnteredRoom {
        entry: Option<RosterEntry>,
        card: Vec<CardLine>,
        room: RoomNumbers,
        /// Let in by a staff override (not entitled, or the room was full).
        overridden: bool,
    },
    /// In this room already (since when, which desk): nothing recorded; staff may mark that
    /// the person left.
    AlreadyInRoom {
        entry: Option<RosterEntry>,
        room: RoomNumbers,
        since: onsite_shared::room::Visit,
    },
    /// Holds none of the seat types the room lets in: staff may let them in with a reason.
    NotEntitledToRoom {
        entry: Option<RosterEntry>,
        room: RoomNumbers,
    },
    /// The room is at capacity: staff may let the person in with a reason.
    RoomFull {
        entry: Option<RosterEntry>,
        room: RoomNumbers,
    },
    /// Marked as gone out of the room.
    LeftRoom {
        entry: Option<RosterEntry>,
        room: RoomNumbers,
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
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let gate = gate_of(tx, req.gate.as_deref())?;
            let conf = self.conference(tx, id)?;
            if let Some(room) = conf.room(&gate) {
                return crate::room::enter(
                    tx,
                    id,
                    &conf,
                    room,
                    typed,
                    req.override_reason.as_deref(),
                    now,
                );
            }
            let let_in = |tx| {
                admit(
                    tx,
                    id,
                    &conf,
                    typed,
                    &gate,
                    req.override_reason.as_deref(),
                    now,
                )
            };
            let way = conf.gate(&gate).direction;
            if way == GateDirection::In {
                return let_in(tx);
            }
            // An exit, or a gate both ways: whoever is inside goes out.
            let Some((code, entry)) = roster::scanned(tx, &conf, typed)? else {
                return Ok(CheckInOutcome::UnknownTicket {
                    code: typed.to_owned(),
                });
            };
            let stream = StreamId::admission(id.conference, &code);
            let (state, _) = crate::projection::view::<CheckIn>(tx, &stream)?;
            if way == GateDirection::Both && !state.inside() {
                return let_in(tx);
            }
            exit(tx, id, &code, entry, &gate, now)
        })
    }

    /// The door's live numbers (inside now, the last 15 minutes, this desk's pace, who is still
    /// to come), as this desk knows them: its own admissions at once, the others' as pulled.
    pub fn door_numbers(&self) -> Result<DoorNumbers, DeskError> {
        let now = self.now();
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let conf = self.conference(conn, id)?;
            let since =
                |minutes: i64| crate::store::time_text(&(now - chrono::Duration::minutes(minutes)));
            let count = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<u64, DeskError> {
                Ok(conn.prepare_cached(sql)?.query_row(params, |r| r.get(0))?)
            };
            let inside_now = count(
                "SELECT COUNT(*) FROM admissions WHERE admission IS NOT NULL AND exited_at IS NULL",
                &[],
            )?;
            let in_force = count(
                "SELECT COUNT(*) FROM admissions WHERE admission IS NOT NULL",
                &[],
            )?;
            let last_15_min = count(
                "SELECT COUNT(*) FROM admissions WHERE admission IS NOT NULL AND at >= ?1",
                &[&since(15)],
            )?;
            let here_5_min = count(
                "SELECT COUNT(*) FROM admissions \
                 WHERE admission IS NOT NULL AND desk = ?1 AND at >= ?2",
                &[&id.device.to_string(), &since(5)],
            )?;
            let admitting = self.admitting_tickets(conn, &conf)?;
            let expected = admitting.saturating_sub(in_force);
            Ok(DoorNumbers {
                inside_now,
                last_15_min,
                per_minute_here: here_5_min as f64 / 5.0,
                expected,
                zones: zones(conn, &conf)?,
                rooms: crate::room::all(conn, &conf)?,
            })
        })
    }

    /// How many tickets admit, counted again only when the roster changed: its rows are
    /// written whole (a new ticket, a withdrawn sale, a correction: new row ids), so its size
    /// and highest id say so; a check-in changes neither. The add-ons' number stands for a
    /// seat type that changed its kind.
    fn admitting_tickets(
        &self,
        conn: &rusqlite::Connection,
        conf: &Conference,
    ) -> Result<u64, DeskError> {
        // An unknown seat type admits, as at the door.
        let add_ons: Vec<String> = conf
            .seat_types
            .values()
            .filter(|s| s.kind == onsite_shared::conference::SeatKind::AddOn)
            .map(|s| s.id.to_string())
            .collect();
        let (rows, last): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM roster",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let key = (rows, last, add_ons.len());
        let mut cached = self
            .admitting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((k, n)) = *cached
            && k == key
        {
            return Ok(n);
        }
        let n: u64 = conn.query_row(
            "SELECT COUNT(DISTINCT code) FROM roster WHERE withdrawn = 0 \
             AND seat_type NOT IN (SELECT value FROM json_each(?1))",
            [serde_json::to_string(&add_ons)?],
            |r| r.get(0),
        )?;
        *cached = Some((key, n));
        Ok(n)
    }

    /// The people on the same order as `code` (a walk-in sale's tickets are one order).
    pub fn party(&self, code: &str) -> Result<Party, DeskError> {
        let code = crate::roster::code_of(code)?;
        self.read(|conn| {
            let id = Desk::identity(conn)?;
            let conf = self.conference(conn, id)?;
            let entry = roster::entry(conn, &conf, &code)?
                .ok_or_else(|| DeskError::NoSuchTicket(code.to_string()))?;
            let mut members = Vec::new();
            for other in roster::same_order(conn, &code)? {
                if let Some(e) = roster::entry(conn, &conf, &other)?
                    && e.admits
                    && e.order == entry.order
                {
                    members.push(e);
                }
            }
            Ok(Party {
                order: entry.order,
                members,
            })
        })
    }

    /// Admits several tickets at once (a party: "8 of 10 arrived"), each its own admission
    /// event, all in one transaction: every ticket's outcome, as [`Desk::check_in`] gives it.
    /// A code that is in the list twice is checked in once.
    pub fn check_in_party(
        &self,
        req: &PartyCheckInRequest,
    ) -> Result<Vec<CheckInOutcome>, DeskError> {
        let codes = party_codes(&req.codes)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            let gate = gate_of(tx, req.gate.as_deref())?;
            let conf = self.conference(tx, id)?;
            // A party comes in together; at an exit or a room each is scanned on their own.
            if conf.room(&gate).is_some() || conf.gate(&gate).direction != GateDirection::In {
                return Err(DeskError::BadInput(format!(
                    "{gate:?} is not an entrance: scan each ticket there"
                )));
            }
            codes
                .iter()
                .map(|code| admit(tx, id, &conf, code, &gate, None, now))
                .collect()
        })
    }

    /// Takes back several admissions at once (the whole party), in one transaction; the
    /// reason is required and kept on each. Nothing is undone if one of them cannot be.
    pub fn undo_party(&self, codes: &[String], reason: &str) -> Result<(), DeskError> {
        let codes = party_codes(codes)?;
        let codes: Vec<TicketCode> = codes
            .iter()
            .map(|c| TicketCode::parse(c).map_err(|_| DeskError::NoSuchTicket(c.clone())))
            .collect::<Result<_, _>>()?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            for code in &codes {
                undo(tx, id, code, reason, now)?;
            }
            Ok(())
        })
    }

    /// Takes back an admission made by mistake; the reason is required and kept.
    pub fn undo_check_in(&self, code: &str, reason: &str) -> Result<(), DeskError> {
        let code = crate::roster::code_of(code)?;
        let now = self.now();
        self.write(|tx| {
            let id = Desk::identity(tx)?;
            undo(tx, id, &code, reason, now)
        })
    }
}

/// Inside now per zone: each person in the zone of the gate they last came in through.
fn zones(conn: &rusqlite::Connection, conf: &Conference) -> Result<Vec<ZoneCount>, DeskError> {
    let mut out: Vec<ZoneCount> =
        conf.gates
            .gates
            .iter()
            .map(|g| g.zone.clone())
            .fold(Vec::new(), |mut zones, z| {
                if !zones
                    .iter()
                    .any(|o: &ZoneCount| o.zone.eq_ignore_ascii_case(&z))
                {
                    zones.push(ZoneCount {
                        zone: z,
                        inside_now: 0,
                    });
                }
                zones
            });
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(in_gate, gate), COUNT(*) FROM admissions \
         WHERE admission IS NOT NULL AND exited_at IS NULL GROUP BY 1",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
    for row in rows {
        let (gate, n) = row?;
        let zone = conf.gate(&gate).zone;
        match out.iter_mut().find(|z| z.zone.eq_ignore_ascii_case(&zone)) {
            Some(z) => z.inside_now += n,
            None => out.push(ZoneCount {
                zone,
                inside_now: n,
            }),
        }
    }
    Ok(out)
}

/// The codes of a party request: trimmed, each once, at least one and at most [`MAX_PARTY`].
fn party_codes(codes: &[String]) -> Result<Vec<String>, DeskError> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        let c = c.trim();
        if !c.is_empty() && !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    if out.is_empty() {
        return Err(DeskError::BadInput("choose at least one ticket".into()));
    }
    if out.len() > MAX_PARTY {
        return Err(DeskError::BadInput(format!(
            "{} tickets at once; at most {MAX_PARTY}",
            out.len()
        )));
    }
    Ok(out)
}

pub(crate) fn gate_of(tx: &rusqlite::Connection, gate: Option<&str>) -> Result<String, DeskError> {
    Ok(match gate {
        Some(g) => g.trim().to_owned(),
        None => setting(tx, "gate")?.unwrap_or_else(|| "main".to_owned()),
    })
}

/// One ticket checked in inside `tx`: admitted, already admitted (when, where), unknown, or
/// not entitled. Only `admitted` records anything; it also queues the badge when the
/// auto-print policy says so (a duplicate scan never prints).
pub(crate) fn admit(
    tx: &Transaction<'_>,
    id: Identity,
    conf: &Conference,
    typed: &str,
    gate: &str,
    override_reason: Option<&str>,
    now: Timestamp,
) -> Result<CheckInOutcome, DeskError> {
    let reentry = conf.reentry(&conf.gate(gate).zone);
    // The code as typed, else as a scanner meant it on another keyboard layout.
    let (code, entry) = match roster::scanned(tx, conf, typed)? {
        Some((code, entry)) => (code, Some(entry)),
        None => match TicketCode::parse(typed) {
            Ok(code) => (code, None),
            Err(_) => {
                return Ok(CheckInOutcome::UnknownTicket {
                    code: typed.to_owned(),
                });
            }
        },
    };
    let status = entry
        .as_ref()
        .map_or(TicketStatus::Unknown, RosterEntry::status);
    let stream = StreamId::admission(id.conference, &code);
    let admission = Admission {
        admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
        desk: id.device,
        gate: gate.to_owned(),
        at: now,
    };
    let rules = entry
        .as_ref()
        .map(|e| conf.rules_for(e.seat_type).clone())
        .unwrap_or_default();
    let outside = rules.judge(now, conf.zone()).is_err();
    let command = check_in::Command::Admit {
        conference: id.conference,
        code: code.clone(),
        ticket: entry.as_ref().map(|e| e.ticket),
        status,
        admission: admission.clone(),
        override_reason: override_reason.map(str::to_owned),
        rules,
        zone: conf.zone(),
        reentry,
    };
    let mut back_in = false;
    let decided = command::execute::<CheckIn>(tx, id, &stream, now, |state| {
        back_in = state.current.is_some() && !state.inside();
        Ok(command)
    });
    if let Err(refused) = decided {
        return match refused {
            Refused::Domain(check_in::Error::AlreadyAdmitted { first }) => {
                Ok(CheckInOutcome::AlreadyAdmitted { entry, first })
            }
            Refused::Domain(check_in::Error::UnknownTicket) => Ok(CheckInOutcome::UnknownTicket {
                code: code.to_string(),
            }),
            Refused::Domain(check_in::Error::NotEntitled(status)) => {
                Ok(CheckInOutcome::NotEntitled { entry, status })
            }
            Refused::Domain(check_in::Error::OutsideRules(breach)) => {
                Ok(CheckInOutcome::OutsideRules { entry, breach })
            }
            Refused::Domain(check_in::Error::ReentryRefused { exited }) => {
                Ok(CheckInOutcome::ReentryRefused { entry, exited })
            }
            other => Err(other.into()),
        };
    }
    // Only the admission changed: the rest of the entry read above still holds.
    let mut entry = entry;
    if let Some(e) = entry.as_mut() {
        (e.admission, e.duplicates) = roster::admission_state(tx, &code)?;
    }
    let card = entry
        .as_ref()
        .map(|e| card(conf, e, gate))
        .unwrap_or_default();
    if back_in {
        return Ok(CheckInOutcome::Reentered {
            entry,
            card,
            admission,
        });
    }
    let print = printing::auto_print(tx, conf, entry.as_ref(), now)?;
    Ok(CheckInOutcome::Admitted {
        entry,
        card,
        admission,
        overridden: status != TicketStatus::Valid || outside,
        print,
    })
}

/// An exit scan: the holder goes out (recorded), or is not inside to go out.
fn exit(
    tx: &Transaction<'_>,
    id: Identity,
    code: &TicketCode,
    entry: RosterEntry,
    gate: &str,
    now: Timestamp,
) -> Result<CheckInOutcome, DeskError> {
    let stream = StreamId::admission(id.conference, code);
    let exit = Admission {
        admission: AdmissionId::from_uuid(uuid::Uuid::now_v7()),
        desk: id.device,
        gate: gate.to_owned(),
        at: now,
    };
    let decided = command::execute::<CheckIn>(tx, id, &stream, now, |_| {
        Ok(check_in::Command::Exit { exit: exit.clone() })
    });
    let mut entry = entry;
    match decided {
        Ok(_) => {
            (entry.admission, entry.duplicates) = roster::admission_state(tx, code)?;
            Ok(CheckInOutcome::Exited {
                entry: Some(entry),
                exit,
            })
        }
        Err(Refused::Domain(check_in::Error::AlreadyOut { since })) => {
            Ok(CheckInOutcome::NotInside {
                entry: Some(entry),
                since: Some(since),
            })
        }
        Err(Refused::Domain(check_in::Error::NotAdmitted)) => Ok(CheckInOutcome::NotInside {
            entry: Some(entry),
            since: None,
        }),
        Err(other) => Err(other.into()),
    }
}

fn undo(
    tx: &Transaction<'_>,
    id: Identity,
    code: &TicketCode,
    reason: &str,
    now: Timestamp,
) -> Result<(), DeskError> {
    let stream = StreamId::admission(id.conference, code);
    command::execute::<CheckIn>(tx, id, &stream, now, |_| {
        Ok(check_in::Command::Undo {
            desk: id.device,
            at: now,
            reason: reason.to_owned(),
        })
    })?;
    Ok(())
}
