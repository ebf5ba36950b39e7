//! The server's read models, moved by every recorded event in the same transaction:
//! - `seat_types`: the conference's seat types (kind, price, quota, policy);
//! - `orders`: every order with its origin (online, imported, walk-in), status and payment;
//! - `tickets`: every ticket by its code, with its holder and admission state — what the
//!   server consults when it re-decides an admission, and what head office searches.
//!
//! Each statement is idempotent for its event, and all of them are plain SQL that both
//! backends run.

use std::collections::HashMap;

use onsite_shared::event::Event;
use onsite_shared::ids::{ConferenceId, TicketCode};
use onsite_shared::{
    check_in, conference, conflict, hand_out, order, room, seat_assignments, walk_in,
};

use crate::params;
use crate::storage::{SqlValue, StoreError, Tx, time_text};

fn kind_text(kind: conference::SeatKind) -> &'static str {
    match kind {
        conference::SeatKind::Admission => "admission",
        conference::SeatKind::AddOn => "add_on",
    }
}

fn policy_text(policy: conference::OversellPolicy) -> &'static str {
    match policy {
        conference::OversellPolicy::Reject => "reject",
        conference::OversellPolicy::Overbook => "overbook",
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(v)?)
}

/// A ticket's admission, as [`apply`] records an `Admitted` event in `admissions`.
#[derive(Debug)]
pub struct Admitted {
    code: String,
    admission: String,
    at: String,
    desk: String,
    gate: String,
}

impl Admitted {
    /// The admission an event records, or `None` for any other event.
    pub fn of(event: &Event) -> Option<Self> {
        match event {
            Event::CheckIn(check_in::Event::Admitted {
                code, admission, ..
            }) => Some(Self {
                code: code.as_str().to_owned(),
                admission: admission.admission.to_string(),
                at: time_text(&admission.at),
                desk: admission.desk.to_string(),
                gate: admission.gate.clone(),
            }),
            _ => None,
        }
    }
}

/// Records many admissions with one statement per `rows_per_insert` of them, exactly as
/// [`apply`] would one by one. For PostgreSQL, where each statement is a round trip: a push
/// of a hundred admissions made a hundred.
pub fn admit_many(
    tx: &mut dyn Tx,
    conf: ConferenceId,
    admitted: &[Admitted],
) -> Result<(), StoreError> {
    let conf = conf.to_string();
    for chunk in admitted.chunks(tx.dialect().rows_per_insert()) {
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for a in chunk {
            values.extend([
                SqlValue::from(conf.as_str()),
                a.code.as_str().into(),
                a.admission.as_str().into(),
                a.at.as_str().into(),
                a.desk.as_str().into(),
                a.gate.as_str().into(),
            ]);
        }
        // SQLite inserts one row per statement, every admission: its statement is made once.
        static ONE_ROW: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| insert_admissions(1));
        if chunk.len() == 1 {
            tx.execute(&ONE_ROW, &values)?;
        } else {
            tx.execute(&insert_admissions(chunk.len()), &values)?;
        }
    }
    Ok(())
}

/// Records where a ticket's holder is after an exit or a re-entry.
fn move_to(
    tx: &mut dyn Tx,
    c: &str,
    code: &onsite_shared::ids::TicketCode,
    inside: bool,
    movement: &check_in::Admission,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO presence (conference, code, inside, gate, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (conference, code) DO UPDATE SET inside = excluded.inside, \
         gate = excluded.gate, at = excluded.at",
        params![
            c,
            code.as_str(),
            i64::from(inside),
            movement.gate.clone(),
            time_text(&movement.at)
        ],
    )?;
    Ok(())
}

/// Takes an admission out of `admissions` (nothing, if it is not there).
fn leave(
    tx: &mut dyn Tx,
    c: &str,
    code: &onsite_shared::ids::TicketCode,
    admission: onsite_shared::ids::AdmissionId,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM admissions WHERE conference = $1 AND code = $2 AND admission_id = $3",
        params![c, code.as_str(), admission.to_string()],
    )?;
    Ok(())
}

fn insert_admissions(rows: usize) -> String {
    format!(
        "INSERT INTO admissions (conference, code, admission_id, admitted_at, desk, gate) \
         VALUES {} ON CONFLICT (admission_id) DO NOTHING",
        crate::storage::placeholders(rows, 6),
    )
}

/// Moves the read models for one recorded event.
pub fn apply(tx: &mut dyn Tx, conf: ConferenceId, event: &Event) -> Result<(), StoreError> {
    let c = conf.to_string();
    match event {
        Event::Conference(e) => match e {
            conference::Event::SeatTypeCreated { seat_type: s, .. } => {
                tx.execute(
                    "INSERT INTO seat_types (conference, seat_type, name, kind, price_minor, currency, quota, policy) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (conference, seat_type) DO NOTHING",
                    params![
                        c,
                        s.id.to_string(),
                        s.name.clone(),
                        kind_text(s.kind),
                        s.price.amount_minor,
                        s.price.currency.as_str(),
                        i64::from(s.quota),
                        policy_text(s.policy),
                    ],
                )?;
            }
            conference::Event::SeatTypeUpdated {
                seat_type,
                name,
                price,
                ..
            } => {
                tx.execute(
                    "UPDATE seat_types SET name = $3, price_minor = $4 WHERE conference = $1 AND seat_type = $2",
                    params![c, seat_type.to_string(), name.clone(), price.amount_minor],
                )?;
            }
            conference::Event::SeatQuotaChanged {
                seat_type, quota, ..
            } => {
                tx.execute(
                    "UPDATE seat_types SET quota = $3 WHERE conference = $1 AND seat_type = $2",
                    params![c, seat_type.to_string(), i64::from(*quota)],
                )?;
            }
            conference::Event::SeatTypePolicyChanged {
                seat_type, policy, ..
            } => {
                tx.execute(
                    "UPDATE seat_types SET policy = $3 WHERE conference = $1 AND seat_type = $2",
                    params![c, seat_type.to_string(), policy_text(*policy)],
                )?;
            }
            conference::Event::SeatTypeRemoved { seat_type, .. } => {
                tx.execute(
                    "UPDATE seat_types SET removed = 1 WHERE conference = $1 AND seat_type = $2",
                    params![c, seat_type.to_string()],
                )?;
            }
            conference::Event::Created { details, .. }
            | conference::Event::Updated { details, .. } => {
                tx.execute(
                    "DELETE FROM conference_slugs WHERE conference = $1",
                    params![c.clone()],
                )?;
                tx.execute(
                    "INSERT INTO conference_slugs (slug, conference) VALUES ($1, $2)",
                    params![details.slug.clone(), c.clone()],
                )?;
            }
            conference::Event::Published { .. }
            | conference::Event::Unpublished { .. }
            | conference::Event::AttendeeTypeDefined { .. }
            | conference::Event::BadgeTemplatesSet { .. }
            | conference::Event::AttendeeTypeTemplateSet { .. }
            | conference::Event::DeskDefaultsSet { .. }
            | conference::Event::HandOutsSet { .. }
            | conference::Event::AdmissionRulesSet { .. }
            | conference::Event::GatesSet { .. }
            | conference::Event::RoomsSet { .. }
            | conference::Event::ResultCardSet { .. } => {}
        },
        Event::Order(e) => apply_order(tx, &c, e)?,
        Event::SeatAssignments(e) => apply_assignments(tx, &c, e)?,
        Event::WalkIn(e) => apply_walk_in(tx, &c, e)?,
        Event::CheckIn(e) => match e {
            // The first admission of a ticket not admitted now comes into force; a later one
            // is flagged a duplicate right after it, and leaves. An undo of the admission in
            // force takes it away (an undo of another changes nothing).
            check_in::Event::Admitted { .. } => {
                if let Some(admitted) = Admitted::of(event) {
                    admit_many(tx, conf, &[admitted])?;
                }
            }
            check_in::Event::DuplicateFlagged {
                code, duplicate, ..
            } => leave(tx, &c, code, duplicate.admission)?,
            check_in::Event::Undone {
                code, admission, ..
            } => {
                leave(tx, &c, code, *admission)?;
                tx.execute(
                    "DELETE FROM presence WHERE conference = $1 AND code = $2",
                    params![c, code.as_str()],
                )?;
            }
            check_in::Event::Exited { code, exit, .. } => move_to(tx, &c, code, false, exit)?,
            check_in::Event::Reentered { code, entry, .. } => move_to(tx, &c, code, true, entry)?,
            check_in::Event::InvalidTicketFlagged { .. }
            | check_in::Event::OutsideRulesFlagged { .. } => {}
        },
        Event::Conflict(e) => apply_conflict(tx, &c, e)?,
        Event::HandOut(e) => apply_hand_out(tx, &c, e)?,
        Event::Room(e) => apply_room(tx, &c, e)?,
        Event::Seats(_) | Event::Badge(_) => {}
    }
    Ok(())
}

/// Like admissions: a hand-out comes into force, a flagged duplicate leaves again right after
/// it, an undo takes it away.
fn apply_hand_out(tx: &mut dyn Tx, c: &str, e: &hand_out::Event) -> Result<(), StoreError> {
    let leave = |tx: &mut dyn Tx, id: &onsite_shared::ids::HandOutId| {
        tx.execute(
            "DELETE FROM hand_outs WHERE conference = $1 AND hand_out_id = $2",
            params![c, id.to_string()],
        )
    };
    match e {
        hand_out::Event::Given {
            code, item, given, ..
        } => {
            tx.execute(
                "INSERT INTO hand_outs (hand_out_id, conference, code, item, size, desk, given_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hand_out_id) DO NOTHING",
                params![
                    given.hand_out.to_string(),
                    c,
                    code.as_str(),
                    item.clone(),
                    given.size.clone(),
                    given.desk.to_string(),
                    time_text(&given.at),
                ],
            )?;
        }
        hand_out::Event::DuplicateFlagged { duplicate, .. } => {
            leave(tx, &duplicate.hand_out)?;
        }
        hand_out::Event::Undone { hand_out, .. } => {
            leave(tx, hand_out)?;
        }
    }
    Ok(())
}

/// As the `room` aggregate has it: an entry puts its holder in the room (someone in it
/// already stays in since their first entry), leaving the room they were in; a leave takes
/// them out of that room only.
fn apply_room(tx: &mut dyn Tx, c: &str, e: &room::Event) -> Result<(), StoreError> {
    match e {
        room::Event::Entered {
            code, room, visit, ..
        } => {
            tx.execute(
                "INSERT INTO room_presence (conference, code, room, visit_id, desk, entered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conference, code) DO UPDATE \
                 SET room = excluded.room, visit_id = excluded.visit_id, desk = excluded.desk, \
                 entered_at = excluded.entered_at \
                 WHERE lower(room_presence.room) <> lower(excluded.room)",
                params![
                    c,
                    code.as_str(),
                    room.clone(),
                    visit.visit.to_string(),
                    visit.desk.to_string(),
                    time_text(&visit.at),
                ],
            )?;
            tx.execute(
                "INSERT INTO room_attendance (conference, room, code, first_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (conference, room, code) DO NOTHING",
                params![c, room.clone(), code.as_str(), time_text(&visit.at)],
            )?;
        }
        room::Event::Left { code, room, .. } => {
            tx.execute(
                "DELETE FROM room_presence WHERE conference = $1 AND code = $2 \
                 AND lower(room) = lower($3)",
                params![c, code.as_str(), room.clone()],
            )?;
        }
        room::Event::EntryFlagged { .. } => {}
    }
    Ok(())
}

/// How many people are in `room` now, as every desk's entries say.
pub fn room_occupancy(tx: &mut dyn Tx, conf: ConferenceId, room: &str) -> Result<u32, StoreError> {
    let rows = tx.query(
        "SELECT COUNT(*) FROM room_presence WHERE conference = $1 AND lower(room) = lower($2)",
        params![conf.to_string(), room],
    )?;
    let n = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The seat types a ticket's holder holds, as the desk reckons them: the ticket's own (unless
/// withdrawn) and the add-ons of tickets with the same email that are not withdrawn.
pub fn holds(
    tx: &mut dyn Tx,
    conf: ConferenceId,
    code: &TicketCode,
) -> Result<Vec<onsite_shared::ids::SeatTypeId>, StoreError> {
    let rows = tx.query(
        "SELECT seat_type FROM tickets WHERE conference = $1 AND code = $2 \
         AND status <> 'withdrawn' \
         UNION SELECT o.seat_type FROM tickets t \
         JOIN tickets o ON o.conference = t.conference AND lower(o.email) = lower(t.email) \
         JOIN seat_types s ON s.conference = o.conference AND s.seat_type = o.seat_type \
         WHERE t.conference = $1 AND t.code = $2 AND t.email <> '' \
         AND o.status <> 'withdrawn' AND s.kind = 'add_on'",
        params![conf.to_string(), code.as_str()],
    )?;
    rows.iter()
        .map(|r| r.text(0))
        .filter_map(|t| match t {
            Ok(t) => t.parse().ok().map(Ok),
            Err(e) => Some(Err(e)),
        })
        .collect()
}

fn apply_order(tx: &mut dyn Tx, c: &str, e: &order::Event) -> Result<(), StoreError> {
    let set_status = |tx: &mut dyn Tx, order: &onsite_shared::ids::OrderId, status: &str| {
        tx.execute(
            "UPDATE orders SET status = $2 WHERE order_id = $1",
            params![order.to_string(), status],
        )
    };
    match e {
        order::Event::Placed {
            order,
            reservation_expires_at,
            origin,
            ..
        } => {
            let (kind, method, taken, desk, source_id) = match origin {
                order::OrderOrigin::Online => ("online", None, None, None, None),
                order::OrderOrigin::Imported { source_id, .. } => {
                    ("imported", None, None, None, Some(source_id.clone()))
                }
                order::OrderOrigin::WalkIn {
                    desk,
                    payment_method,
                    amount_taken,
                } => (
                    "walk_in",
                    Some(json_text(payment_method)?.trim_matches('"').to_owned()),
                    Some(amount_taken.amount_minor),
                    Some(desk.to_string()),
                    None,
                ),
            };
            tx.execute(
                "INSERT INTO orders (order_id, conference, origin, status, payment_method, \
                 amount_taken_minor, desk, source_id, expires_at) VALUES ($1,$2,$3,'created',$4,$5,$6,$7,$8) \
                 ON CONFLICT (order_id) DO NOTHING",
                params![
                    order.to_string(),
                    c,
                    kind,
                    method,
                    taken,
                    desk,
                    source_id,
                    time_text(reservation_expires_at),
                ],
            )?;
        }
        order::Event::TotalsCalculated { order, total, .. } => {
            tx.execute(
                "UPDATE orders SET total_minor = $2, currency = $3 WHERE order_id = $1",
                params![
                    order.to_string(),
                    total.amount_minor,
                    total.currency.as_str()
                ],
            )?;
        }
        order::Event::RegistrantAssigned { order, registrant } => {
            tx.execute(
                "UPDATE orders SET registrant_email = $2 WHERE order_id = $1",
                params![order.to_string(), registrant.email.clone()],
            )?;
        }
        order::Event::Updated { order, .. } => {
            set_status(tx, order, "created")?;
        }
        order::Event::PartiallyReserved { order, .. } => {
            set_status(tx, order, "partially_reserved")?;
        }
        order::Event::ReservationCompleted { order, .. } => {
            set_status(tx, order, "reservation_completed")?;
        }
        order::Event::Confirmed { order, .. } => {
            set_status(tx, order, "confirmed")?;
        }
        order::Event::Expired { order } => {
            set_status(tx, order, "expired")?;
        }
        order::Event::Cancelled { order, .. } => {
            set_status(tx, order, "cancelled")?;
        }
    }
    Ok(())
}

/// A registration the importer recorded without projecting it ([`imported`]): its order and
/// its tickets as the job left them.
pub struct Imported {
    pub order: order::Order,
    pub tickets: seat_assignments::SeatAssignments,
}

/// Writes the rows that [`apply`] would have left after an imported registration's events,
/// whole and many per statement: one `orders` row per order (its final status, total and
/// registrant) and one `tickets` row per ticket (its holder and search text). The importer
/// records without projecting ([`crate::recorder::Recorder::unprojected`]) and calls this
/// once per batch; `tests/it/import.rs` checks the rows against event-by-event projection.
pub fn imported(tx: &mut dyn Tx, conf: ConferenceId, all: &[Imported]) -> Result<(), StoreError> {
    let c = conf.to_string();
    let per_statement = tx.dialect().rows_per_insert();
    let mut orders = Vec::with_capacity(all.len());
    let mut tickets = Vec::new();
    for r in all {
        let o = &r.order;
        let id =
            o.id.ok_or_else(|| StoreError::Corrupt("an imported order without an id".into()))?;
        let source_id = match &o.origin {
            Some(order::OrderOrigin::Imported { source_id, .. }) => Some(source_id.clone()),
            _ => None,
        };
        orders.push(vec![
            SqlValue::from(id.to_string()),
            SqlValue::from(c.as_str()),
            SqlValue::from("imported"),
            SqlValue::from(json_text(&o.status)?.trim_matches('"')),
            SqlValue::from(o.total.map(|t| t.amount_minor)),
            SqlValue::from(o.total.map(|t| t.currency.as_str().to_owned())),
            SqlValue::from(source_id),
            SqlValue::from(o.registrant.as_ref().map(|r| r.email.clone())),
            SqlValue::from(o.reservation_expires_at.as_ref().map(time_text)),
        ]);
        for p in &r.tickets.positions {
            let a = p.attendee.as_ref();
            let text = |f: fn(&seat_assignments::Attendee) -> &str| {
                SqlValue::from(a.map(f).unwrap_or_default())
            };
            tickets.push(vec![
                SqlValue::from(c.as_str()),
                SqlValue::from(p.seat.code.as_str()),
                SqlValue::from(p.seat.ticket.to_string()),
                SqlValue::from(id.to_string()),
                SqlValue::from(p.seat.seat_type.to_string()),
                SqlValue::from("valid"),
                SqlValue::from("imported"),
                text(|a| &a.first_name),
                text(|a| &a.last_name),
                text(|a| &a.email),
                text(|a| &a.company),
                SqlValue::from(match a {
                    Some(a) => json_text(&a.attendee_types)?,
                    None => "[]".to_owned(),
                }),
                SqlValue::from(seat_assignments::search_text(a, &p.seat.code)),
            ]);
        }
    }
    insert_rows(
        tx,
        "INSERT INTO orders (order_id, conference, origin, status, total_minor, currency, \
         source_id, registrant_email, expires_at) VALUES",
        orders,
        per_statement,
    )?;
    insert_rows(
        tx,
        "INSERT INTO tickets (conference, code, ticket, order_id, seat_type, status, origin, \
         first_name, last_name, email, company, attendee_types, search) VALUES",
        tickets,
        per_statement,
    )
}

/// Inserts `rows` (each with the statement's columns, in order) `per_statement` at a time.
pub(crate) fn insert_rows(
    tx: &mut dyn Tx,
    insert: &str,
    rows: Vec<Vec<SqlValue>>,
    per_statement: usize,
) -> Result<(), StoreError> {
    let width = rows.first().map_or(0, Vec::len);
    let target = insert
        .strip_prefix("INSERT INTO ")
        .and_then(|t| t.strip_suffix(" VALUES"))
        .and_then(|t| t.split_once(" ("))
        .and_then(|(table, columns)| Some((table, columns.strip_suffix(')')?)));
    if let Some((table, columns)) = target
        && tx.dialect() == crate::storage::Dialect::Postgres
        && rows.len() >= crate::storage::COPY_FROM_ROWS
    {
        return tx.copy_rows(table, columns, width, rows.into_iter().flatten().collect());
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<SqlValue>> = rows.by_ref().take(per_statement).collect();
        let sql = format!(
            "{insert} {}",
            crate::storage::placeholders(chunk.len(), width)
        );
        let values: Vec<SqlValue> = chunk.into_iter().flatten().collect();
        tx.execute(&sql, &values)?;
    }
    Ok(())
}

/// Sets a ticket's holder and the text head office finds it by
/// ([`seat_assignments::search_text`], as the desk's roster has it).
fn set_holder(
    tx: &mut dyn Tx,
    ticket: &onsite_shared::ids::TicketId,
    a: Option<&seat_assignments::Attendee>,
) -> Result<(), StoreError> {
    let rows = tx.query(
        "SELECT code FROM tickets WHERE ticket = $1",
        params![ticket.to_string()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let code = TicketCode::parse(&row.text(0)?)
        .map_err(|e| StoreError::Corrupt(format!("a ticket's code: {e}")))?;
    let empty = seat_assignments::Attendee {
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
        company: String::new(),
        attendee_types: vec![],
        ..Default::default()
    };
    let search = seat_assignments::search_text(a, &code);
    let a = a.unwrap_or(&empty);
    tx.execute(
        "UPDATE tickets SET first_name = $2, last_name = $3, email = $4, company = $5, attendee_types = $6, \
         search = $7 WHERE ticket = $1",
        params![
            ticket.to_string(),
            a.first_name.clone(),
            a.last_name.clone(),
            a.email.clone(),
            a.company.clone(),
            json_text(&a.attendee_types)?,
            search,
        ],
    )?;
    Ok(())
}

fn apply_assignments(
    tx: &mut dyn Tx,
    c: &str,
    e: &seat_assignments::Event,
) -> Result<(), StoreError> {
    match e {
        seat_assignments::Event::Created { order, seats, .. } => {
            for s in seats {
                tx.execute(
                    "INSERT INTO tickets (conference, code, ticket, order_id, seat_type, status, origin) \
                     VALUES ($1, $2, $3, $4, $5, 'valid', \
                     COALESCE((SELECT origin FROM orders WHERE order_id = $4), 'online')) \
                     ON CONFLICT (conference, code) DO UPDATE SET status = 'valid'",
                    params![c, s.code.as_str(), s.ticket.to_string(), order.to_string(), s.seat_type.to_string()],
                )?;
            }
        }
        seat_assignments::Event::Assigned {
            ticket, attendee, ..
        }
        | seat_assignments::Event::Updated {
            ticket, attendee, ..
        } => set_holder(tx, ticket, Some(attendee))?,
        seat_assignments::Event::Unassigned { ticket, .. } => set_holder(tx, ticket, None)?,
    }
    Ok(())
}

fn set_ticket_status(
    tx: &mut dyn Tx,
    tickets: &[onsite_shared::ids::TicketId],
    status: &str,
) -> Result<(), StoreError> {
    for t in tickets {
        tx.execute(
            "UPDATE tickets SET status = $2 WHERE ticket = $1",
            params![t.to_string(), status],
        )?;
    }
    Ok(())
}

fn set_sale(
    tx: &mut dyn Tx,
    order: &onsite_shared::ids::OrderId,
    status: &str,
    refund: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE walk_ins SET status = $2, refund_due_minor = $3 WHERE order_id = $1",
        params![order.to_string(), status, refund],
    )?;
    Ok(())
}

fn apply_conflict(tx: &mut dyn Tx, c: &str, e: &conflict::Event) -> Result<(), StoreError> {
    match e {
        conflict::Event::Opened {
            conflict, kind, at, ..
        } => {
            let detail = serde_json::to_value(kind)?;
            let kind_text = detail["kind"].as_str().unwrap_or("unknown").to_owned();
            tx.execute(
                "INSERT INTO conflicts (conflict_id, conference, kind, detail, opened_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (conflict_id) DO NOTHING",
                params![conflict.to_string(), c, kind_text, detail.to_string(), time_text(at)],
            )?;
        }
        conflict::Event::Acknowledged { conflict, .. } => {
            tx.execute(
                "UPDATE conflicts SET acknowledged = 1 WHERE conflict_id = $1",
                params![conflict.to_string()],
            )?;
        }
        conflict::Event::Resolved {
            conflict,
            resolution,
            at,
            note,
            ..
        } => {
            tx.execute(
                "UPDATE conflicts SET resolution = $2, resolved_at = $3, note = $4 WHERE conflict_id = $1",
                params![conflict.to_string(), json_text(resolution)?, time_text(at), note.clone()],
            )?;
        }
    }
    Ok(())
}

fn apply_walk_in(tx: &mut dyn Tx, c: &str, e: &walk_in::Event) -> Result<(), StoreError> {
    match e {
        walk_in::Event::SaleRecorded { sale } => {
            tx.execute(
                "INSERT INTO walk_ins (order_id, conference, desk, sold_at, payment_method, amount_taken_minor, \
                 total_minor, currency, tickets, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'provisional') \
                 ON CONFLICT (order_id) DO NOTHING",
                params![
                    sale.order.to_string(),
                    c,
                    sale.desk.to_string(),
                    time_text(&sale.sold_at),
                    json_text(&sale.payment_method)?.trim_matches('"').to_owned(),
                    sale.amount_taken.amount_minor,
                    sale.total.amount_minor,
                    sale.total.currency.as_str(),
                    sale.tickets.len() as u64,
                ],
            )?;
            for t in &sale.tickets {
                tx.execute(
                    "INSERT INTO tickets (conference, code, ticket, order_id, seat_type, status, origin, \
                     first_name, last_name, email, company, attendee_types, search) \
                     VALUES ($1, $2, $3, $4, $5, 'provisional', 'walk_in', $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (conference, code) DO NOTHING",
                    params![
                        c,
                        t.code.as_str(),
                        t.ticket.to_string(),
                        sale.order.to_string(),
                        t.seat_type.to_string(),
                        t.attendee.first_name.clone(),
                        t.attendee.last_name.clone(),
                        t.attendee.email.clone(),
                        t.attendee.company.clone(),
                        json_text(&t.attendee.attendee_types)?,
                        seat_assignments::search_text(Some(&t.attendee), &t.code),
                    ],
                )?;
            }
        }
        walk_in::Event::Confirmed { order, tickets, .. } => {
            set_ticket_status(tx, tickets, "valid")?;
            set_sale(tx, order, "confirmed", 0)?;
        }
        walk_in::Event::PartiallyConfirmed {
            order,
            confirmed,
            withdrawn,
            refund_due,
            ..
        } => {
            set_ticket_status(tx, confirmed, "valid")?;
            set_ticket_status(tx, withdrawn, "withdrawn")?;
            set_sale(tx, order, "partially_confirmed", refund_due.amount_minor)?;
        }
        walk_in::Event::Rejected {
            order,
            withdrawn,
            refund_due,
            ..
        } => {
            set_ticket_status(tx, withdrawn, "withdrawn")?;
            set_sale(tx, order, "rejected", refund_due.amount_minor)?;
        }
        walk_in::Event::Honoured {
            order, reinstated, ..
        } => {
            set_ticket_status(tx, reinstated, "valid")?;
            set_sale(tx, order, "honoured", 0)?;
        }
    }
    Ok(())
}

/// What the server knows about a ticket code, for deciding an admission.
pub fn ticket_facts(
    tx: &mut dyn Tx,
    conf: ConferenceId,
    code: &onsite_shared::ids::TicketCode,
) -> Result<Option<TicketFacts>, StoreError> {
    Ok(ticket_statuses(tx, conf, &[code])?.remove(code))
}

/// What an admission's re-decision needs to know of a ticket the server has: its status and
/// its seat type (whose admission rules apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketFacts {
    pub status: check_in::TicketStatus,
    pub seat_type: Option<onsite_shared::ids::SeatTypeId>,
}

/// [`ticket_facts`] of many tickets in one query (a push of a hundred admissions asks
/// once), and one for the conference's add-on seat types. A code that is not in the map is
/// unknown.
pub fn ticket_statuses(
    tx: &mut dyn Tx,
    conf: ConferenceId,
    codes: &[&onsite_shared::ids::TicketCode],
) -> Result<HashMap<onsite_shared::ids::TicketCode, TicketFacts>, StoreError> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    // A handful of seat types, read once, rather than joined to every ticket.
    let add_ons: std::collections::HashSet<String> = tx
        .query(
            "SELECT seat_type FROM seat_types WHERE conference = $1 AND kind = 'add_on'",
            params![conf.to_string()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let list = crate::storage::in_list(2, codes.len());
    let mut values = vec![SqlValue::from(conf.to_string())];
    values.extend(codes.iter().map(|c| SqlValue::from(c.as_str())));
    let rows = tx.query(
        &format!(
            "SELECT status, seat_type, code FROM tickets WHERE conference = $1 AND code IN ({list})"
        ),
        &values,
    )?;
    rows.iter()
        .map(|r| {
            let code = onsite_shared::ids::TicketCode::parse(&r.text(2)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let seat_type = r.text(1)?;
            let status = match r.text(0)?.as_str() {
                "withdrawn" => check_in::TicketStatus::Withdrawn,
                _ if add_ons.contains(&seat_type) => check_in::TicketStatus::AddOnOnly,
                _ => check_in::TicketStatus::Valid,
            };
            let seat_type = seat_type.parse().ok();
            Ok((code, TicketFacts { status, seat_type }))
        })
        .collect()
}

/// The conference a ticket belongs to, if any ticket has this id.
pub fn ticket_conference(
    tx: &mut dyn Tx,
    ticket: onsite_shared::ids::TicketId,
) -> Result<Option<ConferenceId>, StoreError> {
    let rows = tx.query(
        "SELECT conference FROM tickets WHERE ticket = $1 LIMIT 1",
        params![ticket.to_string()],
    )?;
    rows.first().map(|r| r.parse(0)).transpose()
}

/// How many tickets exist already among `tickets` (by id, in any conference) and `codes` (in
/// `conference`): a desk's new tickets must be new.
pub fn existing_tickets(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    tickets: &[onsite_shared::ids::TicketId],
    codes: &[TicketCode],
) -> Result<usize, StoreError> {
    if tickets.is_empty() && codes.is_empty() {
        return Ok(0);
    }
    let ids = crate::storage::in_list(2, tickets.len().max(1));
    let by_code = crate::storage::in_list(2 + tickets.len().max(1), codes.len().max(1));
    let mut values = vec![SqlValue::from(conference.to_string())];
    // An empty list would be `IN ()`, which not every database takes: a value no ticket has.
    values.extend(tickets.iter().map(|t| SqlValue::from(t.to_string())));
    if tickets.is_empty() {
        values.push(SqlValue::from(""));
    }
    values.extend(codes.iter().map(|c| SqlValue::from(c.as_str())));
    if codes.is_empty() {
        values.push(SqlValue::from(""));
    }
    let rows = tx.query(
        &format!(
            "SELECT COUNT(*) FROM tickets WHERE ticket IN ({ids}) \
             OR (conference = $1 AND code IN ({by_code}))"
        ),
        &values,
    )?;
    Ok(rows
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0))
}
