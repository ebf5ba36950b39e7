//! The server's storage: one small SQL interface ([`Tx`]) that both backends implement, the
//! schema, and the pull (each backend pages the log its own way, behind one [`Cursor`]).
//! Everything else is written once on top of it: the event log and snapshots
//! ([`crate::event_log`]), client sequences and push outcomes ([`crate::sync`]), the
//! projections head office reads ([`crate::projection`]).
//!
//! The backends differ only where they must:
//! - **SQLite** (`sqlite`, the embedded default): one writer thread owns the write connection
//!   and commits queued jobs together (group commit), each job in its own savepoint; readers
//!   use their own connections. Commit order is position order, so a pull cursor is a position.
//! - **PostgreSQL** (scale-out, several server processes on one database): every job is its own
//!   transaction, retried when another process appended to the same stream first
//!   (`UNIQUE(stream, version)`); pull is gated by transaction ids so that an event committed
//!   late is never skipped.
//!
//! SQL is written with `$1, $2…` placeholders and plain `TEXT`/`BIGINT` columns so that the
//! same statements run on both.

use std::fmt;
use std::fmt::Write as _;

use onsite_shared::event::DecodeError;
use onsite_shared::ids::ConferenceId;
use serde::de::DeserializeOwned;

pub mod migrations;
pub mod postgres;
pub mod sqlite;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CursorError {
    #[error("the cursor is not one this server made")]
    Malformed,
    #[error("the cursor belongs to another database; start again from the beginning")]
    OtherDatabase,
}

/// Where a pull page ended, opaque to clients: the database's epoch, then
/// `<position>` on SQLite (commit order is position order) or `<tx>.<position>` on PostgreSQL
/// (the committing transaction's id first, so that an event committed late is never skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The transaction id, on PostgreSQL only.
    pub tx: Option<u64>,
    pub position: i64,
}

impl Cursor {
    /// Reads a cursor of this database (`epoch`) and backend; no cursor, or an empty one, is
    /// the beginning.
    pub fn parse(text: Option<&str>, epoch: &str, dialect: Dialect) -> Result<Self, CursorError> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(Self {
                tx: (dialect == Dialect::Postgres).then_some(0),
                position: 0,
            });
        };
        let parts: Vec<&str> = text.split('.').collect();
        let (their_epoch, tx, position) = match (dialect, parts.as_slice()) {
            (Dialect::Sqlite, [e, p]) => (*e, None, *p),
            (Dialect::Postgres, [e, t, p]) => {
                (*e, Some(t.parse().map_err(|_| CursorError::Malformed)?), *p)
            }
            _ => return Err(CursorError::Malformed),
        };
        if their_epoch != epoch {
            return Err(CursorError::OtherDatabase);
        }
        Ok(Self {
            tx,
            position: position.parse().map_err(|_| CursorError::Malformed)?,
        })
    }

    /// The cursor as clients get it.
    pub fn to_text(self, epoch: &str) -> String {
        match self.tx {
            Some(tx) => format!("{epoch}.{tx}.{}", self.position),
            None => format!("{epoch}.{}", self.position),
        }
    }
}

/// What every storage backend offers the server. Work is a closure over a [`Tx`]; `write`
/// may run it more than once (PostgreSQL retries when another process won a race; SQLite
/// runs a group commit again when another job of the group failed), so it must have no
/// effects outside the transaction.
pub trait Store: Send + Sync + 'static {
    fn write<T, E, F>(&self, work: F) -> impl std::future::Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static;

    fn read<T, E, F>(&self, work: F) -> impl std::future::Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static;

    /// One page of a conference's log after `cursor` (the beginning when `None`).
    fn pull(
        &self,
        conference: ConferenceId,
        cursor: Option<String>,
        limit: u32,
        scope: PullScope,
    ) -> impl std::future::Future<Output = Result<PullPage, PullError>> + Send;
}

/// Which of a conference's events a pull returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PullScope {
    /// Every event.
    #[default]
    All,
    /// What a door desk projects: everything but the order streams (the online checkout's
    /// bookkeeping), which halves what a fresh desk has to load.
    Door,
}

impl PullScope {
    /// The SQL condition on `stream_type` (a constant, never user text).
    pub(crate) fn condition(self) -> &'static str {
        match self {
            PullScope::All => "",
            PullScope::Door => " AND stream_type <> 'order'",
        }
    }
}

#[derive(Debug)]
pub struct PullPage {
    /// Each event as its wire JSON (an [`Envelope`]), written straight from the stored columns.
    pub events: Vec<String>,
    pub next_cursor: String,
    pub has_more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Cursor(#[from] CursorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A value crossing the SQL boundary. Ids, JSON and times are text; counts are integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<u64> for SqlValue {
    fn from(v: u64) -> Self {
        SqlValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// Shorthand for a parameter list.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::storage::SqlValue::from($v)),*][..] };
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<SqlValue>);

impl Row {
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.0.get(i) {
            Some(SqlValue::Text(s)) => Ok(s.clone()),
            Some(SqlValue::Int(n)) => Ok(n.to_string()),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected text, found {other:?}"
            ))),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.0.get(i) {
            Some(SqlValue::Null) | None => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.0.get(i) {
            Some(SqlValue::Int(n)) => Ok(*n),
            Some(SqlValue::Text(s)) => s
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("column {i}: {s:?} is not a number"))),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected a number, found {other:?}"
            ))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(i) {
            Some(SqlValue::Null) | None => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn parse<T: std::str::FromStr>(&self, i: usize) -> Result<T, StoreError> {
        let s = self.text(i)?;
        s.parse()
            .map_err(|_| StoreError::Corrupt(format!("column {i}: cannot parse {s:?}")))
    }

    pub fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        let s = self.text(i)?;
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to a stream first; the whole job may be decided again.
    #[error("concurrent append to {0}")]
    Conflict(String),
    #[error("the database failed: {0}")]
    Database(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the store is shutting down")]
    Closed,
    /// Every database connection stayed busy for the pool's wait: try again in a moment.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The database went through a schema step this server does not know, and servers that
    /// do not know it may not run on it.
    #[error(
        "the database is at schema version {version} and needs a server that knows version \
         {floor} or later; this server knows up to {known}: upgrade the server"
    )]
    TooNew {
        version: u32,
        floor: u32,
        known: u32,
    },
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Rows per insert statement. On PostgreSQL every statement is a round trip, so many
    /// (far below its limit on bound parameters). On SQLite a statement is a function call,
    /// and one that writes many rows runs as a statement transaction, which first copies every
    /// page it touches into a rollback journal: one row per statement is cheaper there.
    pub(crate) fn rows_per_insert(self) -> usize {
        match self {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 200,
        }
    }
}

/// An open transaction (or savepoint). Everything the server writes goes through one.
pub trait Tx {
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError>;
    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, StoreError>;
    fn dialect(&self) -> Dialect;
    /// Tells a backend that retries that this job lost a race and should be decided again.
    fn lost_race(&mut self) {}
    /// A reader's transaction: it may not write (not even a snapshot).
    fn read_only(&self) -> bool {
        false
    }
    /// Inserts many rows of `width` values into `table (columns)` in one go, for bulk writes
    /// (an import's batch): PostgreSQL streams them with `COPY`, which it takes at a fraction
    /// of the cost of `INSERT`s with bound parameters; other backends insert row by row. A
    /// clash on a unique key fails the whole call, as one `INSERT` would.
    fn copy_rows(
        &mut self,
        table: &str,
        columns: &str,
        width: usize,
        values: Vec<SqlValue>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            placeholders(1, width)
        );
        for row in values.chunks(width.max(1)) {
            self.execute(&sql, row)?;
        }
        Ok(())
    }
}

/// Rows to write with [`Tx::copy_rows`] rather than `INSERT`s: below it, a `COPY` costs more
/// than it saves (and desks' pushes, which are small, keep their statements).
pub(crate) const COPY_FROM_ROWS: usize = 400;

/// The baseline schema (version 1, see [`migrations`]), the same on both backends.
/// `events.position` and `events.tx` are added per backend (see each backend's `SCHEMA`).
/// Frozen: a change to the schema is a new migration step.
pub(crate) const COMMON_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Each conference's slug, unique across the server (a rule across conferences, which no one
-- conference's stream can keep). Filled from the events by `admin::index_slugs` when empty.
CREATE TABLE IF NOT EXISTS conference_slugs (slug TEXT PRIMARY KEY, conference TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    stream_type TEXT NOT NULL, stream_id TEXT NOT NULL, version BIGINT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (stream_type, stream_id));
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, last_client_seq BIGINT NOT NULL,
    app_version TEXT NOT NULL DEFAULT '', pending BIGINT NOT NULL DEFAULT 0,
    last_seen TEXT, clock_skew_ms BIGINT);
-- One row per pushed item, as servers before `push_outcomes` (per backend) kept them: read
-- when a desk repeats an item that old, never written any more.
CREATE TABLE IF NOT EXISTS outcomes (
    client_id TEXT NOT NULL, client_seq BIGINT NOT NULL, outcome TEXT NOT NULL,
    PRIMARY KEY (client_id, client_seq));
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, conference TEXT NOT NULL, name TEXT NOT NULL,
    code_hash TEXT UNIQUE, code_expires_at TEXT, token_hash TEXT UNIQUE,
    created_at TEXT NOT NULL, enrolled_at TEXT, revoked_at TEXT,
    last_seen TEXT, app_version TEXT, pending BIGINT, clock_skew_ms BIGINT);
CREATE TABLE IF NOT EXISTS admin_tokens (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, email TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seat_types (
    conference TEXT NOT NULL, seat_type TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    price_minor BIGINT NOT NULL, currency TEXT NOT NULL, quota BIGINT NOT NULL, policy TEXT NOT NULL,
    removed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conference, seat_type));
CREATE TABLE IF NOT EXISTS tickets (
    conference TEXT NOT NULL, code TEXT NOT NULL, ticket TEXT NOT NULL, order_id TEXT NOT NULL,
    seat_type TEXT NOT NULL, status TEXT NOT NULL, origin TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '', attendee_types TEXT NOT NULL DEFAULT '[]',
    search TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conference, code));
-- The tickets admitted now, each with its admission in force (the first not undone, as
-- `check_in::CheckIn` has it; a code no ticket has may be here too, let in by a desk).
-- Keyed by the admission's UUIDv7, and admissions are recorded in time order: rows go to
-- the end of the table, so a push of a hundred admissions writes a few pages. Kept on
-- `tickets`, or keyed or indexed by ticket, every admission wrote a page somewhere in the
-- file (push ingest vs raw inserts: about 50 % on tickets, 40 % keyed by ticket, 53 % so). No
-- index by ticket, then: head office's reads ask "which codes are admitted" once per query
-- (`code IN (SELECT code FROM admissions WHERE conference = ...)`), never per ticket.
-- The table itself is per backend (each backend's `SCHEMA`).
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, conference TEXT NOT NULL, origin TEXT NOT NULL, status TEXT NOT NULL,
    access_code TEXT NOT NULL DEFAULT '', total_minor BIGINT, currency TEXT, payment_method TEXT,
    amount_taken_minor BIGINT, desk TEXT, source_id TEXT, registrant_email TEXT,
    placed_at TEXT, expires_at TEXT);
CREATE INDEX IF NOT EXISTS orders_by_conference ON orders (conference);
CREATE TABLE IF NOT EXISTS walk_ins (
    order_id TEXT PRIMARY KEY, conference TEXT NOT NULL, desk TEXT NOT NULL, sold_at TEXT NOT NULL,
    payment_method TEXT NOT NULL, amount_taken_minor BIGINT NOT NULL, total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL, tickets BIGINT NOT NULL, status TEXT NOT NULL, refund_due_minor BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS conflicts (
    conflict_id TEXT PRIMARY KEY, conference TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
    opened_at TEXT NOT NULL, acknowledged BIGINT NOT NULL DEFAULT 0, resolution TEXT, resolved_at TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS conflicts_by_conference ON conflicts (conference, resolved_at);
-- What each import brought in, by the source's ids within a conference (a second conference
-- from the same source has its own).
CREATE TABLE IF NOT EXISTS imports (
    conference TEXT NOT NULL, source TEXT NOT NULL, source_id TEXT NOT NULL, order_id TEXT NOT NULL,
    PRIMARY KEY (conference, source, source_id));
CREATE TABLE IF NOT EXISTS processes (order_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timers (
    timer_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, conference TEXT NOT NULL,
    due_at TEXT NOT NULL, fired BIGINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS timers_due ON timers (fired, due_at);
CREATE INDEX IF NOT EXISTS tickets_ticket ON tickets (ticket);
-- Every payment provider event taken, so that a replayed webhook changes nothing.
CREATE TABLE IF NOT EXISTS payment_webhooks (
    event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, received_at TEXT NOT NULL);
-- Orders' access codes are not kept in the projection (the order stream keeps their hashes):
-- a database from before forgets the ones it held.
UPDATE orders SET access_code = '' WHERE access_code <> '';
"#;

/// Servers before the `admissions` table kept each ticket's admission in force on `tickets`:
/// moved over once (by each backend, when `tickets` still has `admitted_at`), and the
/// columns dropped. Run twice (a crash in between), it moves nothing twice.
pub(crate) const MOVE_ADMISSIONS_OUT_OF_TICKETS: &str = "\
    INSERT INTO admissions (conference, code, admission_id, admitted_at, desk, gate) \
    SELECT conference, code, admission_id, admitted_at, COALESCE(admitted_desk, ''), \
    COALESCE(admitted_gate, '') FROM tickets \
    WHERE admitted_at IS NOT NULL AND admission_id IS NOT NULL \
    ON CONFLICT (admission_id) DO NOTHING; \
    ALTER TABLE tickets DROP COLUMN admission_id; ALTER TABLE tickets DROP COLUMN admitted_at; \
    ALTER TABLE tickets DROP COLUMN admitted_desk; ALTER TABLE tickets DROP COLUMN admitted_gate;";

/// Servers before kept imports by `(source, source_id)` alone, so a second conference from the
/// same source imported nothing: the table is rebuilt keyed by conference (run by each backend
/// when `imports` has no `conference` column yet), each row's conference its order's.
pub(crate) const KEY_IMPORTS_BY_CONFERENCE: &str = "\
    CREATE TABLE imports_by_conference (conference TEXT NOT NULL, source TEXT NOT NULL, \
    source_id TEXT NOT NULL, order_id TEXT NOT NULL, PRIMARY KEY (conference, source, source_id)); \
    INSERT INTO imports_by_conference (conference, source, source_id, order_id) \
    SELECT COALESCE(o.conference, ''), i.source, i.source_id, i.order_id FROM imports i \
    LEFT JOIN orders o ON o.order_id = i.order_id; \
    DROP TABLE imports; ALTER TABLE imports_by_conference RENAME TO imports;";

pub(crate) const EVENT_COLUMNS: &str = "event_id, conference, stream_type, stream_id, version, event_type, schema_version, \
     occurred_at, recorded_at, device_id, client_seq, causation_id, correlation_id, payload";

/// Writes the wire JSON of an [`Envelope`] from the columns in [`EVENT_COLUMNS`] order,
/// starting at `at`. The payload is stored as JSON and copied as it is: a pull neither parses
/// nor re-encodes it, but for an event stored in an older schema of its type, which goes out
/// upcast to the current one (an old `order.placed` held its access code; v2 holds a hash).
pub(crate) fn envelope_json_from_row(row: &Row, at: usize) -> Result<String, StoreError> {
    fn text(out: &mut Vec<u8>, value: &str) -> Result<(), StoreError> {
        serde_json::to_writer(&mut *out, value)?;
        Ok(())
    }
    /// An optional field, left out when absent (as [`Envelope`] serialises it).
    fn opt_text(out: &mut Vec<u8>, name: &str, value: Option<String>) -> Result<(), StoreError> {
        if let Some(v) = value {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            text(out, &v)?;
        }
        Ok(())
    }
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"event_id\":");
    text(&mut out, &row.text(at)?)?;
    out.extend_from_slice(b",\"stream\":{\"type\":");
    text(&mut out, &row.text(at + 2)?)?;
    out.extend_from_slice(b",\"id\":");
    text(&mut out, &row.text(at + 3)?)?;
    out.extend_from_slice(
        format!("}},\"version\":{},\"event_type\":", row.int(at + 4)?).as_bytes(),
    );
    let event_type = row.text(at + 5)?;
    let stored_schema = row.int(at + 6)?;
    let payload = row.text(at + 13)?;
    let (schema, payload) = match onsite_shared::event::current_schema_version(&event_type) {
        Some(current) if i64::from(current) > stored_schema => {
            let old = u16::try_from(stored_schema)
                .map_err(|_| StoreError::Corrupt(format!("schema version {stored_schema}")))?;
            let upcast =
                onsite_shared::event::upcast(&event_type, old, serde_json::from_str(&payload)?)?;
            (i64::from(current), upcast.to_string())
        }
        _ => (stored_schema, payload),
    };
    text(&mut out, &event_type)?;
    out.extend_from_slice(format!(",\"schema_version\":{schema},\"occurred_at\":").as_bytes());
    text(&mut out, &row.text(at + 7)?)?;
    opt_text(
        &mut out,
        "recorded_at",
        row.opt_text(at + 8)?.filter(|t| !t.is_empty()),
    )?;
    opt_text(&mut out, "device_id", row.opt_text(at + 9)?)?;
    if let Some(n) = row.opt_int(at + 10)? {
        out.extend_from_slice(format!(",\"client_seq\":{n}").as_bytes());
    }
    opt_text(&mut out, "causation_id", row.opt_text(at + 11)?)?;
    opt_text(&mut out, "correlation_id", row.opt_text(at + 12)?)?;
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(payload.as_bytes());
    out.push(b'}');
    String::from_utf8(out).map_err(|e| StoreError::Corrupt(format!("event JSON: {e}")))
}

/// The first column of the first row of `sql` as a count: a `COUNT(*)`, a `MAX(...)` or a
/// stored sequence (0 when there is no row, or it is negative).
pub(crate) fn count(tx: &mut dyn Tx, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
    Ok(tx
        .query(sql, params)?
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0))
}

pub(crate) fn time_text(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `$first,…` for an `IN (…)` of `n` values numbered from `first`.
pub(crate) fn in_list(first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 5);
    for i in first..first + n {
        if i > first {
            out.push(',');
        }
        let _ = write!(out, "${i}");
    }
    out
}

/// `($1,$2),($3,$4)…` for `rows` rows of `columns` values.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push(',');
            }
            let _ = write!(out, "${}", r * columns + c + 1);
        }
        out.push(')');
    }
    out
}

/// Refreshes the planner's statistics after a bulk load. PostgreSQL plans from them, and
/// after a large import they lag until autovacuum comes round: meanwhile a lookup by a list
/// of ticket codes plans as a scan of the whole table. (SQLite's planner does not use any
/// here, and analysing a large file would take a while.)
pub fn refresh_statistics(tx: &mut dyn Tx) -> Result<(), StoreError> {
    if tx.dialect() == Dialect::Postgres {
        tx.execute("ANALYZE", &[])?;
    }
    Ok(())
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onsite_shared::event::Envelope;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(placeholders(2, 3), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }

    /// The pull writes envelopes from columns; they must read as [`Envelope`] writes them,
    /// absent metadata left out rather than `null`.
    #[test]
    fn envelope_json_from_columns_is_the_envelope_serialised() {
        let at = "2026-11-23T09:00:00Z";
        let event_id = "01930000-0000-7000-8000-0000000000e1";
        let columns = |device: SqlValue, seq: SqlValue, cause: SqlValue| {
            Row(vec![
                SqlValue::Int(7),
                event_id.into(),
                "conference-x".into(),
                "admission".into(),
                "c/ABC123".into(),
                SqlValue::Int(1),
                "admission.admitted".into(),
                SqlValue::Int(2),
                at.into(),
                at.into(),
                device,
                seq,
                cause.clone(),
                cause,
                r#"{"ticket":"ABC123"}"#.into(),
            ])
        };
        let bare = columns(SqlValue::Null, SqlValue::Null, SqlValue::Null);
        let full = columns(
            "01930000-0000-7000-8000-0000000000d1".into(),
            SqlValue::Int(42),
            "01930000-0000-7000-8000-0000000000c1".into(),
        );
        for (row, metadata) in [(bare, false), (full, true)] {
            let json = envelope_json_from_row(&row, 1).unwrap();
            let envelope: Envelope = serde_json::from_str(&json).unwrap();
            assert_eq!(envelope.client_seq.is_some(), metadata);
            assert_eq!(envelope.causation_id.is_some(), metadata);
            let written: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(written, serde_json::to_value(&envelope).unwrap(), "{json}");
            assert!(!json.contains("null"), "{json}");
        }
    }

    #[test]
    fn a_cursor_reads_back_as_it_was_written_and_refuses_others() {
        for (dialect, cursor) in [
            (
                Dialect::Sqlite,
                Cursor {
                    tx: None,
                    position: 42,
                },
            ),
            (
                Dialect::Postgres,
                Cursor {
                    tx: Some(7),
                    position: 42,
                },
            ),
        ] {
            let text = cursor.to_text("e1");
            assert_eq!(Cursor::parse(Some(&text), "e1", dialect), Ok(cursor));
            assert_eq!(
                Cursor::parse(Some(&text), "e2", dialect),
                Err(CursorError::OtherDatabase)
            );
            assert_eq!(
                Cursor::parse(None, "e1", dialect).map(|c| c.position),
                Ok(0)
            );
            assert_eq!(
                Cursor::parse(Some(""), "e1", dialect).map(|c| c.position),
                Ok(0)
            );
        }
        for bad in ["e1", "e1.x", "e1.1.2.3", "e1.-.1", ".."] {
            assert_eq!(
                Cursor::parse(Some(bad), "e1", Dialect::Sqlite).err(),
                Some(CursorError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            Cursor::parse(Some("e1.1"), "e1", Dialect::Postgres),
            Err(CursorError::Malformed)
        );
        assert_eq!(
            Cursor::parse(Some("e1.x.1"), "e1", Dialect::Postgres),
            Err(CursorError::Malformed)
        );
    }

    #[test]
    fn in_lists_start_where_asked() {
        assert_eq!(in_list(2, 3), "$2,$3,$4");
        assert_eq!(in_list(1, 1), "$1");
    }
}
