//! The desk database's schema, versioned in code.
//!
//! Two kinds of tables with two rules:
//! - **Logs** (`settings`, `outbox`, `remote`) are history: they are migrated forward, step by
//!   step, by `PRAGMA user_version`, and never lose a row. A newer desk opens an older file; an
//!   older desk refuses a newer one rather than guess.
//! - **Projections** are derived: when their layout changes, [`PROJECTION_VERSION`] moves and
//!   the desk drops them and rebuilds them from the logs on open (which prints nothing).

use rusqlite::Connection;

use crate::error::DeskError;

/// Log migrations; `user_version` = how many have run.
const LOG_MIGRATIONS: &[&str] = &[
    // 1: the two logs and the desk's settings.
    r#"
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE outbox (
        client_seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        stream TEXT NOT NULL,
        event_type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        envelope TEXT NOT NULL,
        -- The server's answer: NULL while pending, else accepted|duplicate|compensated|rejected.
        outcome TEXT,
        reason TEXT);
    CREATE INDEX outbox_by_stream ON outbox (stream, client_seq);
    CREATE TABLE remote (
        position INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        stream TEXT NOT NULL,
        envelope TEXT NOT NULL);
    CREATE INDEX remote_by_stream ON remote (stream, position);
    "#,
    // 2: print jobs. A job is a side effect that happened (or is under way), not a projection:
    // it is never rebuilt from events, so rebuilding can never print.
    r#"
    CREATE TABLE print_jobs (
        seq INTEGER PRIMARY KEY,
        job TEXT NOT NULL UNIQUE,
        code TEXT NOT NULL,
        ticket TEXT NOT NULL,
        printer TEXT NOT NULL,
        template TEXT NOT NULL,
        media TEXT NOT NULL,
        -- Why the badge is printed again; NULL for a first print.
        reprint_reason TEXT,
        -- check_in (auto-print), manual, or retry.
        trigger TEXT NOT NULL,
        retry_of TEXT,
        -- queued, sending, sent, completed, failed.
        state TEXT NOT NULL,
        spooler_job INTEGER,
        reason TEXT,
        warnings TEXT NOT NULL,
        pdf BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE INDEX print_jobs_by_ticket ON print_jobs (ticket, seq);
    CREATE INDEX print_jobs_by_state ON print_jobs (state, seq);
    "#,
    // 3: the venue feed: other desks' events a venue relay holds, not yet decided upstream.
    // Shown on top of the server's state (after it, before this desk's own) until the event
    // is in the remote log, upstream refused it, or the desk talks to a server without a feed.
    r#"
    CREATE TABLE venue (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        stream TEXT NOT NULL,
        envelope TEXT NOT NULL);
    CREATE INDEX venue_by_stream ON venue (stream, seq);
    CREATE INDEX outbox_held ON outbox (client_seq) WHERE outcome = 'held';
    "#,
];

/// Bump when a projection table changes; the projections are then rebuilt from the logs.
pub(crate) const PROJECTION_VERSION: i64 = 7;

pub(crate) const PROJECTION_TABLES: &[&str] = &[
    "authority",
    "roster",
    "roster_search",
    "admissions",
    "sales",
    "conflicts",
    "prints",
    "hand_outs",
    "rooms",
];

const PROJECTIONS: &str = r#"
-- The singleton authoritative streams (conference, seats), folded, with the last position seen.
CREATE TABLE IF NOT EXISTS authority (
    stream TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    state TEXT NOT NULL);
-- One row per ticket and source: 'assigned' (seat assignments, the server's) or 'sale' (a
-- walk-in sale's tickets, provisional until the server decided).
CREATE TABLE IF NOT EXISTS roster (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    ticket TEXT NOT NULL,
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seat_type TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    company TEXT NOT NULL,
    attendee_types TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    provisional INTEGER NOT NULL,
    -- What search finds the ticket by, folded (lower case, no diacritics): names, email,
    -- company, code. The full-text index below holds its words.
    search TEXT NOT NULL,
    -- A preferred name, pronouns, a note, custom fields (JSON); NULL when none.
    details TEXT,
    UNIQUE (code, source));
CREATE INDEX IF NOT EXISTS roster_by_stream ON roster (stream);
CREATE INDEX IF NOT EXISTS roster_by_email ON roster (email COLLATE NOCASE);
-- The words of `roster.search`, word prefixes indexed from one character. The text itself
-- stays in `roster` (external content) and no per-row sizes are kept (nothing ranks): each
-- ticket costs the index its words only, not two more rows.
-- Kept by the projection code through a queue (not by triggers: see `projection::queue_search`).
CREATE VIRTUAL TABLE IF NOT EXISTS roster_search USING fts5 (
    search, content = 'roster', content_rowid = 'id', columnsize = 0,
    tokenize = 'unicode61', prefix = '1 2 3');
CREATE TABLE IF NOT EXISTS admissions (
    stream TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    admission TEXT,
    desk TEXT,
    gate TEXT,
    at TEXT,
    admissions INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    -- While the holder is out (an exit since they last came in): when, and at which gate.
    exited_at TEXT,
    exit_gate TEXT,
    -- The gate of the holder's latest way in (the admission or a re-entry): their zone.
    in_gate TEXT);
CREATE TABLE IF NOT EXISTS sales (
    stream TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    sold_at TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    pending INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (
    stream TEXT PRIMARY KEY,
    conflict TEXT NOT NULL UNIQUE,
    opened_at TEXT NOT NULL,
    open INTEGER NOT NULL,
    state TEXT NOT NULL,
    pending INTEGER NOT NULL);
-- One row per item a ticket's hand-out stream knows: the hand-out in force (NULL columns
-- when taken back), and how many duplicates the server flagged.
CREATE TABLE IF NOT EXISTS hand_outs (
    stream TEXT NOT NULL,
    code TEXT NOT NULL,
    item TEXT NOT NULL,
    hand_out TEXT,
    desk TEXT,
    at TEXT,
    size TEXT,
    duplicates INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    PRIMARY KEY (stream, item));
CREATE INDEX IF NOT EXISTS hand_outs_by_code ON hand_outs (code);
-- Where a ticket's holder is among the rooms: one row per ticket in a room (the room it
-- entered last and did not leave), and how many of its entries the server flagged.
CREATE TABLE IF NOT EXISTS rooms (
    stream TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    room TEXT NOT NULL COLLATE NOCASE,
    visit TEXT NOT NULL,
    desk TEXT NOT NULL,
    at TEXT NOT NULL,
    pending INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rooms_by_room ON rooms (room);
CREATE TABLE IF NOT EXISTS prints (
    stream TEXT PRIMARY KEY,
    ticket TEXT NOT NULL UNIQUE,
    prints INTEGER NOT NULL,
    state TEXT NOT NULL,
    pending INTEGER NOT NULL);
"#;

/// The writer connection's own scratch tables (in memory, never on disk).
pub(crate) const WRITER_TEMP: &str = "
    CREATE TEMP TABLE IF NOT EXISTS search_queue (
        seq INTEGER PRIMARY KEY,
        id INTEGER NOT NULL,
        -- The row's search text: to index it, or (`deleted`) to take its words out again.
        text TEXT NOT NULL,
        deleted INTEGER NOT NULL);";

/// Brings the logs up to date. Returns whether the projections must be rebuilt.
pub(crate) fn migrate(conn: &mut Connection) -> Result<bool, DeskError> {
    let known = i64::try_from(LOG_MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(DeskError::TooNew { found, known });
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (i, step) in LOG_MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    let projection: Option<i64> = tx
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'projection_version'",
            [],
            |r| r.get(0),
        )
        .ok();
    let rebuild = projection != Some(PROJECTION_VERSION);
    if rebuild {
        for table in PROJECTION_TABLES {
            tx.execute_batch(&format!("DROP TABLE IF EXISTS {table};"))?;
        }
    }
    tx.execute_batch(PROJECTIONS)?;
    // `projection_version` is written by the rebuild itself, in its transaction: a crash
    // half-way through leaves it unset and the next open rebuilds again.
    tx.commit()?;
    Ok(rebuild)
}
