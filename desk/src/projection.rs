//! Projections: the authoritative state with the desk's pending events replayed on top.
//!
//! Every projection row belongs to exactly one stream, and a stream's rows are always written
//! whole by [`refresh`]: fold the stream's remote events, fold its overlay (the desk's own
//! events the server has not sent back yet), replace the rows. So the projections are a pure
//! function of the two logs: a compensation shows as soon as it is pulled, an accepted event
//! moves from the overlay to the remote log without a flicker, and [`rebuild`] gives exactly
//! what the incremental path gave.
//!
//! The two singleton streams that only the server writes (the conference and its seats) are
//! folded incrementally into `authority`, with the last position folded.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use onsite_shared::badge::Badge;
use onsite_shared::check_in::CheckIn;
use onsite_shared::conference::Conference;
use onsite_shared::conflict::Conflict;
use onsite_shared::event::{Envelope, Event, StreamAggregate, StreamId, StreamType};
use onsite_shared::hand_out::HandOuts;
use onsite_shared::room::RoomVisits;
use onsite_shared::seat_assignments::{self, SeatAssignments};
use onsite_shared::seat_availability::SeatsAvailability;
use onsite_shared::walk_in::{SaleStatus, WalkInSale};

use crate::error::DeskError;
use crate::log::{self, stream_key};
use crate::schema::{self, PROJECTION_TABLES};
use crate::store::{Desk, Identity, set_setting, time_text};

/// An aggregate whose streams the desk projects into rows: [`Projected::write`] replaces a
/// stream's rows with what its state says.
pub(crate) trait Projected: StreamAggregate {
    /// Writes the rows of `stream` from `state`, the stream as the desk sees it (`pending`:
    /// with events of the desk's own the server has not sent back yet).
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError>;
}

impl Projected for SeatAssignments {
    fn write(conn: &Connection, stream: &StreamId, state: &Self, _: bool) -> Result<(), DeskError> {
        write_assignments(conn, &stream_key(stream), state)
    }
}

impl Projected for WalkInSale {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        write_sale(conn, &stream_key(stream), state, pending)
    }
}

impl Projected for CheckIn {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        write_admission(conn, stream, state, pending)
    }
}

impl Projected for Badge {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        write_badge(conn, &stream_key(stream), state, pending)
    }
}

impl Projected for HandOuts {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        write_hand_outs(conn, stream, state, pending)
    }
}

impl Projected for RoomVisits {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        let key = stream_key(stream);
        delete_row(conn, "rooms", &key)?;
        let (Some(code), Some(current)) = (&state.code, &state.current) else {
            return Ok(());
        };
        conn.prepare_cached(
            "INSERT INTO rooms (stream, code, room, visit, desk, at, pending) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            key,
            code.as_str(),
            current.room,
            current.since.visit.to_string(),
            current.since.desk.to_string(),
            time_text(&current.since.at),
            pending,
        ])?;
        Ok(())
    }
}

impl Projected for Conflict {
    fn write(
        conn: &Connection,
        stream: &StreamId,
        state: &Self,
        pending: bool,
    ) -> Result<(), DeskError> {
        write_conflict(conn, &stream_key(stream), state, pending)
    }
}

/// The state of a stream as the desk sees it: remote events, then the overlay.
/// Returns the state and whether the overlay was not empty.
pub(crate) fn view<A: StreamAggregate>(
    conn: &Connection,
    stream: &StreamId,
) -> Result<(A, bool), DeskError> {
    let key = stream_key(stream);
    let remote = log::remote_events(conn, &key, None)?;
    let overlay = log::overlay(conn, &key)?;
    Ok((A::fold(remote.iter().chain(&overlay)), !overlay.is_empty()))
}

/// The folded state of an authoritative singleton stream (conference, seats).
pub(crate) fn authority<A: StreamAggregate>(
    conn: &Connection,
    stream: &StreamId,
) -> Result<A, DeskError> {
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM authority WHERE stream = ?1")?
        .query_row([stream_key(stream)], |r| r.get(0))
        .optional()?;
    Ok(match state {
        Some(s) => serde_json::from_str(&s)?,
        None => A::default(),
    })
}

/// The log position an authoritative singleton stream is folded to (`None`: nothing yet).
pub(crate) fn authority_position(
    conn: &Connection,
    stream: &StreamId,
) -> Result<Option<i64>, DeskError> {
    Ok(conn
        .prepare_cached("SELECT position FROM authority WHERE stream = ?1")?
        .query_row([stream_key(stream)], |r| r.get(0))
        .optional()?)
}

fn refresh_authority<A: StreamAggregate>(
    conn: &Connection,
    stream: &StreamId,
    fresh: &[(i64, &Event)],
) -> Result<(), DeskError> {
    let key = stream_key(stream);
    let stored: Option<(i64, String)> = conn
        .prepare_cached("SELECT position, state FROM authority WHERE stream = ?1")?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut position, mut state) = match stored {
        Some((p, s)) => (p, serde_json::from_str::<A>(&s)?),
        None => (0, A::default()),
    };
    // Anything stored between the snapshot and this page is read back; the page is in memory.
    let first_fresh = fresh.first().map_or(i64::MAX, |(p, _)| *p);
    let earlier = log::remote_between(conn, &key, position, first_fresh)?;
    for (p, e) in earlier
        .iter()
        .map(|(p, e)| (*p, e))
        .chain(fresh.iter().copied())
    {
        if p <= position {
            continue;
        }
        if let Some(e) = A::pick(e) {
            state = state.evolve(e);
        }
        position = p;
    }
    conn.prepare_cached(
        "INSERT INTO authority (stream, position, state) VALUES (?1, ?2, ?3) \
         ON CONFLICT (stream) DO UPDATE SET position = excluded.position, state = excluded.state",
    )?
    .execute(params![key, position, serde_json::to_string(&state)?])?;
    Ok(())
}

/// Rewrites the projection rows of `stream`. `fresh` are remote events of this stream just
/// stored, in position order (empty when the change came from the outbox).
pub(crate) fn refresh(
    conn: &Connection,
    stream: &StreamId,
    fresh: &[(i64, &Event)],
) -> Result<(), DeskError> {
    match stream.stream_type {
        StreamType::Conference => return refresh_authority::<Conference>(conn, stream, fresh),
        StreamType::Seats => return refresh_authority::<SeatsAvailability>(conn, stream, fresh),
        // A door desk does not project orders (the door scope does not even send them).
        StreamType::Order => return Ok(()),
        _ => {}
    }
    match stream.stream_type {
        StreamType::SeatAssignments => refresh_rows::<SeatAssignments>(conn, stream, fresh),
        StreamType::WalkIn => refresh_rows::<WalkInSale>(conn, stream, fresh),
        StreamType::Admission => refresh_rows::<CheckIn>(conn, stream, fresh),
        StreamType::Badge => refresh_rows::<Badge>(conn, stream, fresh),
        StreamType::HandOut => refresh_rows::<HandOuts>(conn, stream, fresh),
        StreamType::Room => refresh_rows::<RoomVisits>(conn, stream, fresh),
        StreamType::Conflict => refresh_rows::<Conflict>(conn, stream, fresh),
        StreamType::Conference | StreamType::Seats | StreamType::Order => Ok(()),
    }
}

/// Folds a stream's remote events (those stored before `fresh`, then `fresh`) and its overlay,
/// and writes its rows.
fn refresh_rows<A: Projected>(
    conn: &Connection,
    stream: &StreamId,
    fresh: &[(i64, &Event)],
) -> Result<(), DeskError> {
    let key = stream_key(stream);
    let before = fresh.first().map(|(p, _)| *p);
    let earlier = log::remote_events(conn, &key, before)?;
    let overlay = log::overlay(conn, &key)?;
    let state = A::fold(
        earlier
            .iter()
            .chain(fresh.iter().map(|(_, e)| *e))
            .chain(&overlay),
    );
    A::write(conn, stream, &state, !overlay.is_empty())
}

/// Refreshes every stream a page of pulled events touched (events in position order).
pub(crate) fn refresh_page(
    conn: &Connection,
    page: &[(i64, &Envelope, &Event)],
) -> Result<(), DeskError> {
    let mut by_stream: BTreeMap<&StreamId, Vec<(i64, &Event)>> = BTreeMap::new();
    for &(position, envelope, event) in page {
        by_stream
            .entry(&envelope.stream)
            .or_default()
            .push((position, event));
    }
    for (stream, fresh) in by_stream {
        refresh(conn, stream, &fresh)?;
    }
    Ok(())
}

/// Deletes the one row `stream` owns in `table` (its primary key).
fn delete_row(conn: &Connection, table: &str, key: &str) -> Result<(), DeskError> {
    conn.prepare_cached(&format!("DELETE FROM {table} WHERE stream = ?1"))?
        .execute([key])?;
    Ok(())
}

/// Deletes the tickets `stream` owns, with their words in the search index.
fn delete_tickets(conn: &Connection, key: &str) -> Result<(), DeskError> {
    let rows: Vec<(i64, String)> = conn
        .prepare_cached("SELECT id, search FROM roster WHERE stream = ?1")?
        .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, text) in rows {
        queue_search(conn, id, &text, true)?;
        conn.prepare_cached("DELETE FROM roster WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

/// Queues a change of the full-text index for [`flush_search`]: the words of `text` go in
/// for roster row `id`, or out again (`deleted`; the index is external-content, so taking a
/// row out needs the text it was indexed with).
///
/// Why a queue: FTS5 writes its pending terms out as a new segment whenever a statement
/// opens a savepoint while the index is part of the transaction, and many statements do
/// (`RETURNING`, upserts, triggers). Written in place, a bootstrap makes and merges tens of
/// thousands of tiny segments; queued, each transaction writes the index once, at the end.
fn queue_search(conn: &Connection, id: i64, text: &str, deleted: bool) -> Result<(), DeskError> {
    conn.prepare_cached("INSERT INTO temp.search_queue (id, text, deleted) VALUES (?1, ?2, ?3)")?
        .execute(params![id, text, deleted])?;
    Ok(())
}

/// Applies the queued changes to the full-text index, in order. [`Desk::write`] runs it
/// before every commit (the hook [`Desk::open`] gives the store).
pub(crate) fn flush_search(conn: &Connection) -> Result<(), DeskError> {
    let ops: Vec<(i64, String, bool)> = conn
        .prepare_cached("SELECT id, text, deleted FROM temp.search_queue ORDER BY seq")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    if ops.is_empty() {
        return Ok(());
    }
    for (id, text, deleted) in ops {
        if deleted {
            conn.prepare_cached(
                "INSERT INTO roster_search (roster_search, rowid, search) VALUES ('delete', ?1, ?2)",
            )?
            .execute(params![id, text])?;
        } else {
            conn.prepare_cached("INSERT INTO roster_search (rowid, search) VALUES (?1, ?2)")?
                .execute(params![id, text])?;
        }
    }
    conn.prepare_cached("DELETE FROM temp.search_queue")?
        .execute([])?;
    Ok(())
}

fn insert_ticket(
    conn: &Connection,
    key: &str,
    source: &str,
    t: &TicketRow<'_>,
) -> Result<(), DeskError> {
    let empty = seat_assignments::Attendee::default();
    let search = seat_assignments::search_text(t.attendee, &t.seat.code);
    let a = t.attendee.unwrap_or(&empty);
    // The rarer parts (a preferred name, pronouns, a note, custom fields) as one JSON text,
    // NULL for most tickets, which have none.
    let details = crate::roster::Details::of(a);
    let details = if details.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&details)?)
    };
    // The new row's id from `last_insert_rowid`, not `RETURNING` (see `log::insert_remote`).
    conn.prepare_cached(
        "INSERT INTO roster (code, source, stream, ticket, order_id, position, seat_type, first_name, \
         last_name, email, company, attendee_types, withdrawn, provisional, search, details) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        t.seat.code.as_str(),
        source,
        key,
        t.seat.ticket.to_string(),
        t.order.to_string(),
        t.seat.position,
        t.seat.seat_type.to_string(),
        a.first_name,
        a.last_name,
        a.email,
        a.company,
        serde_json::to_string(&a.attendee_types)?,
        t.withdrawn,
        t.provisional,
        search,
        details,
    ])?;
    queue_search(conn, conn.last_insert_rowid(), &search, false)
}

struct TicketRow<'a> {
    order: onsite_shared::ids::OrderId,
    seat: &'a seat_assignments::Seat,
    attendee: Option<&'a seat_assignments::Attendee>,
    withdrawn: bool,
    provisional: bool,
}

fn write_assignments(
    conn: &Connection,
    key: &str,
    state: &SeatAssignments,
) -> Result<(), DeskError> {
    delete_tickets(conn, key)?;
    let Some(order) = state.order else {
        return Ok(());
    };
    for p in &state.positions {
        insert_ticket(
            conn,
            key,
            "assigned",
            &TicketRow {
                order,
                seat: &p.seat,
                attendee: p.attendee.as_ref(),
                withdrawn: false,
                provisional: false,
            },
        )?;
    }
    Ok(())
}

fn status_text(status: SaleStatus) -> &'static str {
    match status {
        SaleStatus::Provisional => "provisional",
        SaleStatus::Confirmed => "confirmed",
        SaleStatus::PartiallyConfirmed => "partially_confirmed",
        SaleStatus::Rejected => "rejected",
    }
}

fn write_sale(
    conn: &Connection,
    key: &str,
    state: &WalkInSale,
    pending: bool,
) -> Result<(), DeskError> {
    delete_tickets(conn, key)?;
    delete_row(conn, "sales", key)?;
    let Some(sale) = &state.sale else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT INTO sales (stream, order_id, sold_at, status, state, pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        key,
        sale.order.to_string(),
        time_text(&sale.sold_at),
        status_text(state.status),
        serde_json::to_string(state)?,
        pending,
    ])?;
    for (t, position) in sale.tickets.iter().zip(1u32..) {
        let seat = seat_assignments::Seat {
            position,
            ticket: t.ticket,
            code: t.code.clone(),
            seat_type: t.seat_type,
        };
        insert_ticket(
            conn,
            key,
            "sale",
            &TicketRow {
                order: sale.order,
                seat: &seat,
                attendee: Some(&t.attendee),
                withdrawn: state.withdrawn.contains(&t.ticket),
                provisional: state.status == SaleStatus::Provisional,
            },
        )?;
    }
    Ok(())
}

fn write_admission(
    conn: &Connection,
    stream: &StreamId,
    state: &CheckIn,
    pending: bool,
) -> Result<(), DeskError> {
    let key = stream_key(stream);
    delete_row(conn, "admissions", &key)?;
    let code = match &state.code {
        Some(c) => c.as_str().to_owned(),
        None => match stream.id.split_once('/') {
            Some((_, code)) => code.to_owned(),
            None => return Ok(()),
        },
    };
    if state.seen.is_empty() {
        return Ok(());
    }
    let current = state.current.as_ref();
    conn.prepare_cached(
        "INSERT INTO admissions (stream, code, admission, desk, gate, at, admissions, duplicates, \
         pending, exited_at, exit_gate, in_gate) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        key,
        code,
        current.map(|a| a.admission.to_string()),
        current.map(|a| a.desk.to_string()),
        current.map(|a| a.gate.clone()),
        current.map(|a| time_text(&a.at)),
        state.seen.len(),
        state.duplicates,
        pending,
        state.exited.as_ref().map(|e| time_text(&e.at)),
        state.exited.as_ref().map(|e| e.gate.clone()),
        state.came_in.as_ref().map(|e| e.gate.clone()),
    ])?;
    Ok(())
}

fn write_hand_outs(
    conn: &Connection,
    stream: &StreamId,
    state: &HandOuts,
    pending: bool,
) -> Result<(), DeskError> {
    let key = stream_key(stream);
    conn.prepare_cached("DELETE FROM hand_outs WHERE stream = ?1")?
        .execute([&key])?;
    let code = match &state.code {
        Some(c) => c.as_str().to_owned(),
        None => match stream.id.split_once('/') {
            Some((_, code)) => code.to_owned(),
            None => return Ok(()),
        },
    };
    for (item, s) in &state.items {
        let current = s.current.as_ref();
        conn.prepare_cached(
            "INSERT INTO hand_outs (stream, code, item, hand_out, desk, at, size, duplicates, pending) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            key,
            code,
            item,
            current.map(|g| g.hand_out.to_string()),
            current.map(|g| g.desk.to_string()),
            current.map(|g| time_text(&g.at)),
            current.and_then(|g| g.size.clone()),
            s.duplicates,
            pending,
        ])?;
    }
    Ok(())
}

fn write_badge(
    conn: &Connection,
    key: &str,
    state: &Badge,
    pending: bool,
) -> Result<(), DeskError> {
    delete_row(conn, "prints", key)?;
    let ticket = match (&state.last, &state.name) {
        (Some(print), _) => print.ticket,
        (None, Some(name)) => name.ticket,
        (None, None) => return Ok(()),
    };
    conn.prepare_cached(
        "INSERT INTO prints (stream, ticket, prints, state, pending) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        key,
        ticket.to_string(),
        state.prints,
        serde_json::to_string(state)?,
        pending
    ])?;
    Ok(())
}

fn write_conflict(
    conn: &Connection,
    key: &str,
    state: &Conflict,
    pending: bool,
) -> Result<(), DeskError> {
    delete_row(conn, "conflicts", key)?;
    let Some(id) = state.id else {
        return Ok(());
    };
    // The opening time is in the opening event; the state keeps what decisions need.
    let opened_at = log::first_remote_at(conn, key)?;
    conn.prepare_cached(
        "INSERT INTO conflicts (stream, conflict, opened_at, open, state, pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        key,
        id.to_string(),
        opened_at.unwrap_or_default(),
        state.resolution.is_none(),
        serde_json::to_string(state)?,
        pending,
    ])?;
    Ok(())
}

/// Derives every projection again from the two logs.
pub(crate) fn rebuild(conn: &Connection) -> Result<(), DeskError> {
    // The index is emptied whole by FTS5's `delete-all`: an external-content index takes a
    // row out only given the text it was indexed with, and the roster is emptied below.
    conn.execute_batch("INSERT INTO roster_search (roster_search) VALUES ('delete-all');")?;
    conn.execute_batch("DELETE FROM temp.search_queue;")?;
    for table in PROJECTION_TABLES.iter().filter(|t| **t != "roster_search") {
        conn.execute_batch(&format!("DELETE FROM {table};"))?;
    }
    // The remote log in pages, exactly as a pull applies it.
    let mut after = 0i64;
    loop {
        let page = log::remote_page(conn, after, 5_000)?;
        let Some((last, _, _)) = page.last() else {
            break;
        };
        after = *last;
        let page: Vec<_> = page.iter().map(|(p, e, v)| (*p, e, v)).collect();
        refresh_page(conn, &page)?;
    }
    // Then every stream the desk has its own events in.
    for stream in log::own_streams(conn)? {
        refresh(conn, &stream, &[])?;
    }
    Ok(())
}

/// Every projection row as text, in a stable order.
pub(crate) fn dump(conn: &Connection) -> Result<Vec<String>, DeskError> {
    // Every word the search index holds, by the ticket it finds (a word left behind by a
    // ticket that is gone shows with no code): the index, not the text it was made from.
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.roster_search_words \
         USING fts5vocab(main, roster_search, instance);",
    )?;
    let queries = [
        "SELECT stream, position, state FROM authority ORDER BY stream",
        "SELECT code, source, stream, ticket, order_id, position, seat_type, first_name, last_name, email, \
         company, attendee_types, withdrawn, provisional, search, details FROM roster ORDER BY code, source",
        "SELECT r.code, r.source, w.term, w.offset FROM roster_search_words w \
         LEFT JOIN roster r ON r.id = w.doc ORDER BY r.code, r.source, w.offset, w.term",
        "SELECT stream, code, admission, desk, gate, at, admissions, duplicates, pending, exited_at, \
         exit_gate, in_gate FROM admissions ORDER BY stream",
        "SELECT stream, order_id, sold_at, status, state, pending FROM sales ORDER BY stream",
        "SELECT stream, conflict, opened_at, open, state, pending FROM conflicts ORDER BY stream",
        "SELECT stream, ticket, prints, state, pending FROM prints ORDER BY stream",
        "SELECT stream, code, item, hand_out, desk, at, size, duplicates, pending FROM hand_outs \
         ORDER BY stream, item",
        "SELECT stream, code, room, visit, desk, at, pending FROM rooms ORDER BY stream",
    ];
    let mut out = Vec::new();
    for sql in queries {
        let mut stmt = conn.prepare(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut line = String::new();
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                line.push_str(&format!("{v:?}|"));
            }
            out.push(line);
        }
    }
    Ok(out)
}

impl Desk {
    /// The conference as `conn` sees it (`Conference::default()` before the first pull),
    /// folded again only when the log moved it.
    pub(crate) fn conference(
        &self,
        conn: &Connection,
        id: Identity,
    ) -> Result<Arc<Conference>, DeskError> {
        let stream = StreamId::conference(id.conference);
        let Some(position) = authority_position(conn, &stream)? else {
            return Ok(Arc::new(Conference::default()));
        };
        self.conference_at(position, || authority::<Conference>(conn, &stream))
    }

    /// Drops every projection and derives it again from the two logs. Prints nothing, sends
    /// nothing: it only reads the logs.
    pub fn rebuild_projections(&self) -> Result<(), DeskError> {
        self.prepare_bulk_write()?;
        self.write(|tx| {
            rebuild(tx)?;
            set_setting(
                tx,
                "projection_version",
                &schema::PROJECTION_VERSION.to_string(),
            )
        })?;
        self.settle_after_bulk_write()
    }

    /// Checks the search index against the roster it was made from (FTS5's `integrity-check`
    /// against its content): a word left behind by a ticket that is gone, or a ticket whose
    /// words are missing, is an error. For tests and diagnostics.
    pub fn check_search_index(&self) -> Result<(), DeskError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO roster_search (roster_search, rank) VALUES ('integrity-check', 1)",
                [],
            )?;
            Ok(())
        })
    }

    /// Every projection row, as text, table by table in a stable order: for tests that compare
    /// a rebuilt store with an incrementally maintained one.
    pub fn projection_dump(&self) -> Result<Vec<String>, DeskError> {
        self.read(dump)
    }
}
