//! The attendee roster and its search: who holds which ticket, as the door needs it.
//!
//! Search-as-you-type from the first character: the query is folded like the indexed text
//! (lower case, no diacritics), every word of it must start a word of the attendee's name,
//! email, company or ticket code (an FTS5 index with one- to three-character prefix indexes),
//! and a ticket code typed or scanned exactly comes first.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::check_in::TicketStatus;
use onsite_shared::conference::{Conference, SeatKind};
use onsite_shared::ids::{
    AdmissionId, AttendeeTypeId, DeviceId, OrderId, SeatTypeId, TicketCode, TicketId,
};
use onsite_shared::text::fold;

use crate::error::DeskError;
use crate::store::{Desk, parse_time};

/// The most results one search returns.
pub const SEARCH_LIMIT: usize = 20;

/// Where and when a ticket was let in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AdmissionView {
    pub admission: AdmissionId,
    pub desk: DeviceId,
    pub gate: String,
    #[ts(type = "string")]
    pub at: Timestamp,
    /// Recorded at this desk and not yet confirmed by the server.
    pub pending: bool,
    /// Went out since (at an exit gate), and not back in.
    #[ts(type = "string | null")]
    pub out_since: Option<Timestamp>,
}

/// The conference as the door shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConferenceView {
    pub name: String,
    pub attendee_types: Vec<AttendeeTypeView>,
}

/// An attendee type with its badge colour (`#RRGGBB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AttendeeTypeView {
    pub id: AttendeeTypeId,
    pub name: String,
    pub colour: String,
}

/// One ticket and its holder, with everything the door shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RosterEntry {
    pub code: TicketCode,
    pub ticket: TicketId,
    pub order: OrderId,
    pub seat_type: SeatTypeId,
    pub seat_type_name: String,
    /// Whether the seat type admits its holder (an add-on ticket admits nobody).
    pub admits: bool,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub company: String,
    pub attendee_types: Vec<AttendeeTypeId>,
    /// The add-ons (workshops, receptions) this person holds.
    pub entitlements: Vec<String>,
    /// The seat types this person holds: the ticket's own and their add-ons (what a room
    /// lets in by).
    pub holds: Vec<SeatTypeId>,
    /// The room this person entered last and did not leave, if any.
    pub in_room: Option<String>,
    /// Sold at a desk; `provisional` until the server decided; `withdrawn` if it did not honour it.
    pub walk_in: bool,
    pub provisional: bool,
    pub withdrawn: bool,
    pub admission: Option<AdmissionView>,
    /// Admissions of this ticket the server flagged as duplicates.
    pub duplicates: u32,
    pub prints: u32,
    /// What the door hands this person (the conference's items for their seat type, add-ons
    /// and attendee types), and what was handed over already.
    pub hand_outs: Vec<HandOutView>,
    /// The name for the badge, when not the registered one.
    pub preferred_name: Option<String>,
    pub pronouns: Option<String>,
    /// A note for the door: the card shows it in red.
    pub note: Option<String>,
    /// Fields an import brought, by name.
    pub custom: BTreeMap<String, String>,
    /// The seat type's rules say: check the holder's ID.
    pub id_check: bool,
    /// The seat type's rules say: the holder is a minor.
    pub minor: bool,
}

/// One item the door hands a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct HandOutView {
    pub item: String,
    pub name: String,
    /// The sizes staff choose from; empty: one kind.
    pub sizes: Vec<String>,
    /// Handed over already: when, by which desk, which size.
    pub given: Option<GivenView>,
    /// Second hand-outs of this item the server flagged.
    pub duplicates: u32,
}

/// A hand-out in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct GivenView {
    pub desk: DeviceId,
    #[ts(type = "string")]
    pub at: Timestamp,
    pub size: Option<String>,
    /// Recorded at this desk and not yet confirmed by the server.
    pub pending: bool,
}

impl RosterEntry {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// What the door's decision needs to know about this ticket.
    pub fn status(&self) -> TicketStatus {
        if self.withdrawn {
            TicketStatus::Withdrawn
        } else if !self.admits {
            TicketStatus::AddOnOnly
        } else {
            TicketStatus::Valid
        }
    }
}

pub(crate) fn currency(conf: &Conference) -> Result<onsite_shared::money::Currency, DeskError> {
    conf.currency()
        .ok_or_else(|| DeskError::refused(&onsite_shared::walk_in::Error::NoConference))
}

/// The rarer parts of an attendee, kept together in the roster's `details`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
}

impl Details {
    pub(crate) fn of(a: &onsite_shared::seat_assignments::Attendee) -> Self {
        Self {
            preferred_name: a.preferred_name.clone(),
            pronouns: a.pronouns.clone(),
            note: a.note.clone(),
            custom: a.custom.clone(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

struct Row {
    source: String,
    ticket: String,
    order: String,
    seat_type: String,
    first_name: String,
    last_name: String,
    email: String,
    company: String,
    attendee_types: String,
    withdrawn: bool,
    provisional: bool,
    details: Option<String>,
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, DeskError> {
    s.parse()
        .map_err(|_| DeskError::Corrupt(format!("bad {what} {s:?}")))
}

/// A ticket code as staff typed it; one that is not a code is no ticket the desk has.
pub(crate) fn code_of(typed: &str) -> Result<TicketCode, DeskError> {
    TicketCode::parse(typed).map_err(|_| DeskError::NoSuchTicket(typed.trim().to_owned()))
}

/// The codes of the tickets on the same order (or walk-in sale) as `code`, itself included,
/// in the order's order: the rows of the streams that hold `code` (an order's seat
/// assignments, a sale).
pub(crate) fn same_order(
    conn: &Connection,
    code: &TicketCode,
) -> Result<Vec<TicketCode>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, MIN(position) FROM roster \
         WHERE stream IN (SELECT stream FROM roster WHERE code = ?1) \
         GROUP BY code ORDER BY MIN(position), code",
    )?;
    let codes = stmt
        .query_map([code.as_str()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    codes
        .iter()
        .map(|c| {
            TicketCode::parse(c).map_err(|_| DeskError::Corrupt(format!("bad ticket code {c:?}")))
        })
        .collect()
}

/// The ticket `typed` stands for: its code as typed, else as a scanner on another keyboard
/// layout meant it ([`onsite_shared::scan::candidates`]); the first the roster knows.
pub(crate) fn scanned(
    conn: &Connection,
    conf: &Conference,
    typed: &str,
) -> Result<Option<(TicketCode, RosterEntry)>, DeskError> {
    for code in onsite_shared::scan::candidates(typed) {
        if let Some(e) = entry(conn, conf, &code)? {
            return Ok(Some((code, e)));
        }
    }
    Ok(None)
}

/// The roster entry of a ticket code, if the desk knows the code.
pub(crate) fn entry(
    conn: &Connection,
    conf: &Conference,
    code: &TicketCode,
) -> Result<Option<RosterEntry>, DeskError> {
    let mut stmt = conn.prepare_cached(
        "SELECT source, ticket, order_id, seat_type, first_name, last_name, email, company, \
         attendee_types, withdrawn, provisional, details FROM roster WHERE code = ?1",
    )?;
    let rows: Vec<Row> = stmt
        .query_map([code.as_str()], |r| {
            Ok(Row {
                source: r.get(0)?,
                ticket: r.get(1)?,
                order: r.get(2)?,
                seat_type: r.get(3)?,
                first_name: r.get(4)?,
                last_name: r.get(5)?,
                email: r.get(6)?,
                company: r.get(7)?,
                attendee_types: r.get(8)?,
                withdrawn: r.get(9)?,
                provisional: r.get(10)?,
                details: r.get(11)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // The server's seat assignment wins over the sale that made the ticket; the sale says
    // whether the ticket was withdrawn.
    let assigned = rows.iter().find(|r| r.source == "assigned");
    let sale = rows.iter().find(|r| r.source == "sale");
    let Some(row) = assigned.or(sale) else {
        return Ok(None);
    };
    let seat_type: SeatTypeId = parse(&row.seat_type, "seat type")?;
    let attendee_types: Vec<AttendeeTypeId> = serde_json::from_str(&row.attendee_types)?;
    let details: Details = match &row.details {
        Some(d) => serde_json::from_str(d)?,
        None => Details::default(),
    };
    let st = conf.seat_type(seat_type);
    let ticket: TicketId = parse(&row.ticket, "ticket")?;
    let (admission, duplicates) = admission_state(conn, code)?;
    // The badge's name only (its state also lists every print job): read for every entry.
    let (prints, name): (u32, Option<String>) = conn
        .prepare_cached(
            "SELECT prints, json_extract(state, '$.name') FROM prints WHERE ticket = ?1",
        )?
        .query_row([&row.ticket], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, None));
    // A name set at a desk for the badge only wins over the registration's.
    let on_badge = name
        .map(|n| serde_json::from_str::<onsite_shared::badge::NameOnBadge>(&n))
        .transpose()?;
    let mut entitlements = BTreeSet::new();
    // The ticket's own seat type and the person's add-ons: who gets which hand-out.
    let mut holds = vec![seat_type];
    if !row.email.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT seat_type FROM roster WHERE email = ?1 COLLATE NOCASE AND withdrawn = 0",
        )?;
        let types = stmt.query_map([&row.email], |r| r.get::<_, String>(0))?;
        for t in types {
            let t: SeatTypeId = parse(&t?, "seat type")?;
            if let Some(st) = conf.seat_type(t).filter(|s| s.kind == SeatKind::AddOn) {
                entitlements.insert(st.name.clone());
                holds.push(t);
            }
        }
    }
    Ok(Some(RosterEntry {
        code: code.clone(),
        ticket,
        order: parse(&row.order, "order")?,
        seat_type,
        seat_type_name: st.map(|s| s.name.clone()).unwrap_or_default(),
        admits: st.is_none_or(|s| s.kind == SeatKind::Admission),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        email: row.email.clone(),
        company: row.company.clone(),
        hand_outs: hand_outs(conn, conf, code, &holds, &attendee_types)?,
        in_room: conn
            .prepare_cached("SELECT room FROM rooms WHERE code = ?1")?
            .query_row([code.as_str()], |r| r.get(0))
            .optional()?,
        holds,
        preferred_name: on_badge
            .as_ref()
            .and_then(|n| n.preferred_name.clone())
            .or(details.preferred_name),
        pronouns: on_badge.and_then(|n| n.pronouns).or(details.pronouns),
        note: details.note,
        custom: details.custom,
        id_check: conf.rules_for(seat_type).id_check,
        minor: conf.rules_for(seat_type).minor,
        attendee_types,
        entitlements: entitlements.into_iter().collect(),
        walk_in: sale.is_some(),
        provisional: assigned.is_none() && sale.is_some_and(|s| s.provisional),
        withdrawn: sale.is_some_and(|s| s.withdrawn),
        admission,
        duplicates,
        prints,
    }))
}

/// The items a holder of `holds` (seat types) and `attendee_types` gets, each with what was
/// handed over already. One indexed read when the conference hands nothing out: none.
pub(crate) fn hand_outs(
    conn: &Connection,
    conf: &Conference,
    code: &TicketCode,
    holds: &[SeatTypeId],
    attendee_types: &[AttendeeTypeId],
) -> Result<Vec<HandOutView>, DeskError> {
    let mut out: Vec<HandOutView> = conf
        .hand_outs_for(holds, attendee_types)
        .map(|i| HandOutView {
            item: i.id.clone(),
            name: i.name.clone(),
            sizes: i.sizes.clone(),
            given: None,
            duplicates: 0,
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT item, desk, at, size, pending, duplicates FROM hand_outs WHERE code = ?1",
    )?;
    let mut rows = stmt.query([code.as_str()])?;
    while let Some(r) = rows.next()? {
        let item: String = r.get(0)?;
        let Some(view) = out.iter_mut().find(|v| v.item == item) else {
            continue;
        };
        view.duplicates = r.get(5)?;
        if let (Some(desk), Some(at)) = (
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ) {
            view.given = Some(GivenView {
                desk: parse(&desk, "desk")?,
                at: parse_time(&at)?,
                size: r.get(3)?,
                pending: r.get(4)?,
            });
        }
    }
    Ok(out)
}

/// A ticket's admission as the desk sees it, and how many duplicate admissions the server
/// flagged: the part of a [`RosterEntry`] a check-in changes.
pub(crate) fn admission_state(
    conn: &Connection,
    code: &TicketCode,
) -> Result<(Option<AdmissionView>, u32), DeskError> {
    let admission = conn
        .prepare_cached(
            "SELECT admission, desk, gate, at, pending, duplicates, exited_at FROM admissions \
             WHERE code = ?1",
        )?
        .query_row([code.as_str()], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    Ok(match admission {
        Some((Some(id), Some(desk), Some(gate), Some(at), pending, duplicates, out)) => (
            Some(AdmissionView {
                admission: parse(&id, "admission")?,
                desk: parse(&desk, "desk")?,
                gate,
                at: parse_time(&at)?,
                pending,
                out_since: out.as_deref().map(parse_time).transpose()?,
            }),
            duplicates,
        ),
        Some((.., duplicates, _)) => (None, duplicates),
        None => (None, 0),
    })
}

/// The FTS5 query for what was typed: every folded word as a prefix, all required.
fn match_query(text: &str) -> Option<String> {
    let folded = fold(text);
    let words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

pub(crate) fn search(
    conn: &Connection,
    conf: &Conference,
    text: &str,
) -> Result<Vec<RosterEntry>, DeskError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    // An exact ticket code first: a scanner types the code and Enter (on another keyboard
    // layout, the code it meant).
    if let Some((code, e)) = scanned(conn, conf, text)? {
        seen.insert(code);
        out.push(e);
    }
    let Some(query) = match_query(text) else {
        return Ok(out);
    };
    let codes: Vec<String> = conn
        .prepare_cached(
            "SELECT r.code FROM roster_search s JOIN roster r ON r.id = s.rowid \
             WHERE roster_search MATCH ?1 LIMIT ?2",
        )?
        .query_map(rusqlite::params![query, SEARCH_LIMIT * 2], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut found = Vec::new();
    for code in codes {
        let code = TicketCode::parse(&code)
            .map_err(|_| DeskError::Corrupt(format!("bad ticket code {code:?}")))?;
        if !seen.insert(code.clone()) {
            continue;
        }
        if let Some(e) = entry(conn, conf, &code)? {
            found.push(e);
        }
        if out.len() + found.len() >= SEARCH_LIMIT {
            break;
        }
    }
    found.sort_by(|a, b| {
        (fold(&a.last_name), fold(&a.first_name), &a.code).cmp(&(
            fold(&b.last_name),
            fold(&b.first_name),
            &b.code,
        ))
    });
    out.extend(found);
    Ok(out)
}

impl Desk {
    /// Search-as-you-type over the roster (name, email, company, ticket code).
    pub fn search(&self, text: &str) -> Result<Vec<RosterEntry>, DeskError> {
        self.read(|conn| {
            let conf = self.conference(conn, Desk::identity(conn)?)?;
            search(conn, &conf, text)
        })
    }

    /// One ticket by its code.
    pub fn attendee(&self, code: &str) -> Result<Option<RosterEntry>, DeskError> {
        let Ok(code) = TicketCode::parse(code) else {
            return Ok(None);
        };
        self.read(|conn| {
            let conf = self.conference(conn, Desk::identity(conn)?)?;
            entry(conn, &conf, &code)
        })
    }

    /// The conference as last pulled, for the window's title and the attendee-type colours;
    /// `None` before enrolment or before the first pull.
    pub fn conference_view(&self) -> Result<Option<ConferenceView>, DeskError> {
        self.read(|conn| {
            let Ok(id) = Desk::identity(conn) else {
                return Ok(None);
            };
            let conf = self.conference(conn, id)?;
            let Some(details) = conf.details.as_ref() else {
                return Ok(None);
            };
            Ok(Some(ConferenceView {
                name: details.name.clone(),
                attendee_types: conf
                    .attendee_types
                    .values()
                    .map(|t| AttendeeTypeView {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        colour: t.badge_colour.as_str().to_owned(),
                    })
                    .collect(),
            }))
        })
    }

    /// How many tickets the desk knows.
    pub fn roster_size(&self) -> Result<u64, DeskError> {
        self.read(|conn| {
            Ok(conn.query_row("SELECT COUNT(DISTINCT code) FROM roster", [], |r| r.get(0))?)
        })
    }
}
