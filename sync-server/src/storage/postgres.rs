//! The scale-out backend: PostgreSQL, with any number of `onsite-server` processes on one
//! database.
//!
//! - Every job is its own transaction (READ COMMITTED). Two processes deciding on the same
//!   stream both try to append its next version; `UNIQUE(stream, version)` lets one win and the
//!   other's job is decided again from the new state (optimistic concurrency, bounded retries).
//!   A client's sequence row is locked (`FOR UPDATE`) for the push, so two processes cannot both
//!   accept the same `client_seq`.
//! - Pull is gated by transaction ids (the hazard of tech-anchors §3.2: identity values become
//!   visible out of commit order). Every event row carries the xid8 of the transaction that
//!   wrote it; a pull returns only rows whose transaction is older than the oldest one still
//!   running (`pg_snapshot_xmin(pg_current_snapshot())`), ordered by `(tx, position)`. A
//!   transaction that commits late has an xid at or above that horizon, so it is returned by a
//!   later pull, never skipped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use onsite_shared::ids::ConferenceId;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::{
    COMMON_SCHEMA, Cursor, Dialect, EVENT_COLUMNS, KEY_IMPORTS_BY_CONFERENCE,
    MOVE_ADMISSIONS_OUT_OF_TICKETS, PullError, PullPage, Row, SqlValue, Store, StoreError, Tx,
    migrations,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id TEXT NOT NULL UNIQUE,
    conference TEXT NOT NULL,
    stream_type TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    client_seq BIGINT,
    causation_id TEXT,
    correlation_id TEXT,
    payload TEXT NOT NULL,
    UNIQUE (stream_type, stream_id, version));
CREATE INDEX IF NOT EXISTS events_pull ON events (conference, tx, position);
-- The outcomes of one push's new items (see `COMMON_SCHEMA`'s `outcomes`), one row per push.
CREATE TABLE IF NOT EXISTS push_outcomes (
    client_id TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL,
    outcomes TEXT NOT NULL,
    PRIMARY KEY (client_id, first_seq));
-- `admissions`: see `COMMON_SCHEMA`.
CREATE TABLE IF NOT EXISTS admissions (
    admission_id TEXT PRIMARY KEY, conference TEXT NOT NULL, code TEXT NOT NULL,
    admitted_at TEXT NOT NULL, desk TEXT NOT NULL, gate TEXT NOT NULL);
"#;

/// How often a job is decided again after losing a race before the error is returned.
const MAX_ATTEMPTS: u32 = 50;

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// How many connections one server process holds at most, and how long a job waits for one
/// before it is answered "busy" (503): a database allows a fixed number of connections
/// (`max_connections`), shared by every server process on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    pub max_size: u32,
    pub wait: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait: Duration::from_secs(5),
        }
    }
}

/// r2d2 opens, checks and hands out the connections, each with its prepared statements.
struct Manager {
    config: postgres::Config,
    /// TLS, when the URL asks for it (see [`connection_settings`]).
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// The URL's `sslmode` as libpq spells it, read here (the client library knows only three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS: the URL says `disable`, or says nothing (as before TLS was supported).
    Disable,
    /// TLS when the server offers it (`allow`, `prefer`).
    Prefer,
    /// TLS or no connection (`require`, `verify-ca`, `verify-full`).
    Require,
}

/// The client settings and TLS for a database URL. `sslmode` and `sslrootcert` are read
/// here and taken out of what the client library parses. Whenever TLS is used the server's
/// certificate is verified, chain and host name, against the system's roots or the
/// `sslrootcert` file: libpq's `require` and `prefer` would connect to anyone, which is the
/// hole TLS is there to close, so here every mode that uses TLS verifies like `verify-full`.
pub fn connection_settings(
    url: &str,
) -> Result<
    (
        postgres::Config,
        Option<tokio_postgres_rustls::MakeRustlsConnect>,
        SslMode,
    ),
    StoreError,
> {
    let bad = |why: String| StoreError::Database(format!("the database URL: {why}"));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = SslMode::Disable;
    let mut root: Option<String> = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                mode = match value {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" | "verify-ca" | "verify-full" => SslMode::Require,
                    other => {
                        return Err(bad(format!(
                            "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        )));
                    }
                };
            }
            "sslrootcert" => {
                root = Some(
                    percent_decode(value).ok_or_else(|| bad("sslrootcert is not a path".into()))?,
                );
            }
            _ => kept.push(pair),
        }
    }
    let client_mode = match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
    };
    kept.push(match client_mode {
        "disable" => "sslmode=disable",
        "prefer" => "sslmode=prefer",
        _ => "sslmode=require",
    });
    let config: postgres::Config = format!("{base}?{}", kept.join("&"))
        .parse()
        .map_err(|e: postgres::Error| bad(e.to_string()))?;
    if mode == SslMode::Disable {
        return Ok((config, None, mode));
    }
    let mut roots = rustls::RootCertStore::empty();
    match &root {
        Some(path) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect::<Result<_, _>>())
                .map_err(|e| bad(format!("sslrootcert {path}: {e}")))?;
            if certs.is_empty() {
                return Err(bad(format!("sslrootcert {path} holds no certificate")));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| bad(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok((
        config,
        Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
        mode,
    ))
}

/// Reaches the database once, without changing anything (`onsite-server config check`):
/// the server's version, and whether the connection is encrypted.
pub fn check(url: &str) -> Result<String, StoreError> {
    let (config, tls, _) = connection_settings(url)?;
    let manager = Manager { config, tls };
    let mut conn =
        r2d2::ManageConnection::connect(&manager).map_err(|e| unreachable_database(&e))?;
    let row = conn
        .client
        .query_one(
            "SELECT current_setting('server_version'), \
             COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
            &[],
        )
        .map_err(|e| db_error(&e))?;
    let (version, encrypted): (String, bool) = (row.get(0), row.get(1));
    Ok(format!(
        "PostgreSQL {version}, {}",
        if encrypted {
            "over TLS"
        } else {
            "not encrypted"
        }
    ))
}

/// `%XX` escapes of a URL's query value decoded (a path may hold a space or a `&`).
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone())?,
            None => self.config.connect(NoTls)?,
        };
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    /// A round trip, when a connection is taken out of the pool: one the database closed
    /// (a restart, an idle timeout) is replaced instead of failing the job.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.batch_execute("")
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// The pool, let go on a thread of its own: a `postgres::Client` blocks when it closes,
/// which must not happen on an async thread (where the store may be dropped).
struct Pool(Option<r2d2::Pool<Manager>>);

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn checkout(pool: &Pool) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
    pool.0
        .as_ref()
        .ok_or(StoreError::Closed)?
        .get()
        .map_err(|e| StoreError::Busy(e.to_string()))
}

/// Why a connection could not be made, with every cause (a refused login says what refused
/// it only in its source: "db error: FATAL: …").
fn unreachable_database(e: &postgres::Error) -> StoreError {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    StoreError::Database(why)
}

fn is_retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    matches!(
        e.code(),
        Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn db_error(e: &postgres::Error) -> StoreError {
    if is_retryable(e) {
        StoreError::Conflict(e.to_string())
    } else {
        StoreError::Database(e.to_string())
    }
}

struct PgTx<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
    /// Set when a statement lost a race; the job is then retried.
    conflict: bool,
    read_only: bool,
}

/// A value as the statement's parameter type wants it; text is borrowed, not copied (an
/// import's batch binds megabytes of payloads).
#[derive(Debug)]
enum Bound<'a> {
    Text(&'a str),
    Owned(Option<String>),
    Int8(Option<i64>),
    Int4(Option<i32>),
}

impl Bound<'_> {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Bound::Text(s) => s,
            Bound::Owned(s) => s,
            Bound::Int8(n) => n,
            Bound::Int4(n) => n,
        }
    }
}

fn bind<'a>(value: &'a SqlValue, ty: &Type) -> Bound<'a> {
    match (value, ty) {
        (SqlValue::Null, t) if *t == Type::INT8 => Bound::Int8(None),
        (SqlValue::Null, t) if *t == Type::INT4 => Bound::Int4(None),
        (SqlValue::Null, _) => Bound::Owned(None),
        (SqlValue::Int(n), t) if *t == Type::INT4 => {
            Bound::Int4(Some(i32::try_from(*n).unwrap_or(i32::MAX)))
        }
        (SqlValue::Int(n), t) if *t == Type::TEXT || *t == Type::VARCHAR => {
            Bound::Owned(Some(n.to_string()))
        }
        (SqlValue::Int(n), _) => Bound::Int8(Some(*n)),
        (SqlValue::Text(s), t) if *t == Type::INT8 => Bound::Int8(s.parse::<i64>().ok()),
        (SqlValue::Text(s), _) => Bound::Text(s),
    }
}

/// Streams `values` (rows of `width`) to `COPY … FROM STDIN` in its text format, a buffer
/// at a time: the server inserts while the rest is still being written.
fn copy_in(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
    width: usize,
    values: &[SqlValue],
) -> Result<(), CopyError> {
    use std::io::Write as _;
    let mut writer = tx.copy_in(sql).map_err(CopyError::Db)?;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut sent = Ok(());
    for row in values.chunks(width.max(1)) {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            copy_text(v, &mut buf);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 16 {
            sent = writer.write_all(&buf);
            buf.clear();
            if sent.is_err() {
                break;
            }
        }
    }
    if sent.is_ok() {
        sent = writer.write_all(&buf);
    }
    match sent {
        Ok(()) => writer.finish().map(drop).map_err(CopyError::Db),
        // Dropping the writer unfinished aborts the `COPY`: nothing of it is kept.
        Err(e) => Err(CopyError::Io(e)),
    }
}

#[derive(Debug)]
enum CopyError {
    Db(postgres::Error),
    Io(std::io::Error),
}

/// `value` in `COPY`'s text format: `\N` for NULL; backslash, tab, newline and carriage
/// return escaped.
fn copy_text(value: &SqlValue, out: &mut Vec<u8>) {
    match value {
        SqlValue::Null => out.extend_from_slice(b"\\N"),
        SqlValue::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        SqlValue::Text(s) => {
            // Copied a run at a time between the few bytes that need escaping.
            let bytes = s.as_bytes();
            let mut from = 0;
            for (i, b) in bytes.iter().enumerate() {
                let escaped: &[u8] = match b {
                    b'\\' => b"\\\\",
                    b'\t' => b"\\t",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    _ => continue,
                };
                out.extend_from_slice(&bytes[from..i]);
                out.extend_from_slice(escaped);
                from = i + 1;
            }
            out.extend_from_slice(&bytes[from..]);
        }
    }
}

fn read_value(row: &postgres::Row, i: usize) -> SqlValue {
    let ty = row.columns()[i].type_();
    let int = |v: Option<i64>| v.map_or(SqlValue::Null, SqlValue::Int);
    if *ty == Type::INT8 {
        int(row.try_get::<_, Option<i64>>(i).ok().flatten())
    } else if *ty == Type::INT4 {
        int(row
            .try_get::<_, Option<i32>>(i)
            .ok()
            .flatten()
            .map(i64::from))
    } else if *ty == Type::INT2 {
        int(row
            .try_get::<_, Option<i16>>(i)
            .ok()
            .flatten()
            .map(i64::from))
    } else if *ty == Type::BOOL {
        int(row
            .try_get::<_, Option<bool>>(i)
            .ok()
            .flatten()
            .map(i64::from))
    } else {
        row.try_get::<_, Option<String>>(i)
            .ok()
            .flatten()
            .map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl PgTx<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql).map_err(|e| db_error(&e))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn run<T>(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        f: impl FnOnce(
            &mut postgres::Transaction<'_>,
            &Statement,
            &[&(dyn ToSql + Sync)],
        ) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let stmt = self.statement(sql)?;
        let bound: Vec<Bound<'_>> = params
            .iter()
            .zip(stmt.params())
            .map(|(v, t)| bind(v, t))
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(Bound::as_sql).collect();
        let result = f(&mut self.tx, &stmt, &refs);
        result.map_err(|e| self.failed(&e))
    }

    fn failed(&mut self, e: &postgres::Error) -> StoreError {
        if is_retryable(e) {
            self.conflict = true;
        }
        db_error(e)
    }
}

impl Tx for PgTx<'_> {
    fn read_only(&self) -> bool {
        self.read_only
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        self.run(sql, params, |tx, stmt, p| tx.execute(stmt, p))
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, StoreError> {
        let rows = self.run(sql, params, |tx, stmt, p| tx.query(stmt, p))?;
        Ok(rows
            .iter()
            .map(|r| Row((0..r.len()).map(|i| read_value(r, i)).collect()))
            .collect())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn copy_rows(
        &mut self,
        table: &str,
        columns: &str,
        width: usize,
        values: Vec<SqlValue>,
    ) -> Result<(), StoreError> {
        let sql = format!("COPY {table} ({columns}) FROM STDIN");
        match copy_in(&mut self.tx, &sql, width, &values) {
            Ok(()) => Ok(()),
            Err(CopyError::Db(e)) => Err(self.failed(&e)),
            Err(CopyError::Io(e)) => Err(StoreError::Database(format!("copying rows: {e}"))),
        }
    }

    fn lost_race(&mut self) {
        self.conflict = true;
    }
}

/// Brings the database to [`migrations::LATEST`] in one transaction that holds an advisory
/// lock: servers starting together take turns, the second finds the work done, and a crash
/// changes nothing. The epoch is written here too, the first time.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(|e| db_error(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock(727274)", &[])
        .map_err(|e| db_error(&e))?;
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .map_err(|e| db_error(&e))?
        .get(0);
    let mut value = |key: &str| -> Result<Option<String>, StoreError> {
        if !has_meta {
            return Ok(None);
        }
        Ok(tx
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .map_err(|e| db_error(&e))?
            .map(|r| r.get(0)))
    };
    let found =
        migrations::stamp_from(value("schema_version")?, value("schema_floor")?.as_deref())?;
    let plan = migrations::plan(found)?;
    if plan.baseline {
        // Version 1 from whatever a server before versions left (or from nothing): the schema
        // as they created it, and the two moves they made on their own on an older layout.
        tx.batch_execute(&format!(
            "{SCHEMA}\n{COMMON_SCHEMA}\n\
             DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'tickets' \
             AND column_name = 'admitted_at') THEN {MOVE_ADMISSIONS_OUT_OF_TICKETS} END IF; END $$;\n\
             DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'imports' \
             AND column_name = 'conference') THEN {KEY_IMPORTS_BY_CONFERENCE} END IF; END $$;"
        ))
        .map_err(|e| db_error(&e))?;
    }
    for step in &migrations::STEPS[plan.steps] {
        tx.batch_execute(step.sql(Dialect::Postgres))
            .map_err(|e| StoreError::Database(format!("migration {:?}: {e}", step.name)))?;
    }
    if let Some(stamp) = plan.stamp {
        tx.batch_execute(&migrations::stamp_sql(stamp))
            .map_err(|e| db_error(&e))?;
    }
    let epoch = uuid::Uuid::now_v7().simple().to_string();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING",
        &[&epoch],
    )
    .map_err(|e| db_error(&e))?;
    tx.commit().map_err(|e| db_error(&e))
}

enum Step<T, E> {
    Done(Result<T, E>),
    Retry,
}

pub struct PgStore {
    pool: Arc<Pool>,
    epoch: String,
}

impl PgStore {
    /// Connects, creates or migrates the schema (see [`migrate`]) and reads the database's
    /// epoch.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PoolLimits::default())
    }

    /// [`PgStore::open`] with the pool's limits.
    pub fn open_with(url: &str, limits: PoolLimits) -> Result<Self, StoreError> {
        let (config, tls, _) = connection_settings(url)?;
        let manager = Manager { config, tls };
        // One connection first, for the reason when there is none (the pool would only say
        // that it timed out): a refused password, an untrusted certificate, no such host.
        let first =
            r2d2::ManageConnection::connect(&manager).map_err(|e| unreachable_database(&e))?;
        std::thread::spawn(move || drop(first))
            .join()
            .map_err(|_| StoreError::Closed)?;
        let pool = r2d2::Pool::builder()
            .max_size(limits.max_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(limits.wait)
            .test_on_check_out(true)
            .build(manager)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let pool = Pool(Some(pool));
        let mut conn = checkout(&pool)?;
        migrate(&mut conn.client)?;
        let epoch: String = conn
            .client
            .query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])
            .map_err(|e| db_error(&e))?
            .get(0);
        drop(conn);
        Ok(Self {
            pool: Arc::new(pool),
            epoch,
        })
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }
}

impl Store for PgStore {
    async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        let mut work = work;
        tokio::task::spawn_blocking(move || {
            let mut conn = checkout(&pool)?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let step = {
                    let Conn { client, statements } = &mut *conn;
                    match client.transaction() {
                        Err(e) => Step::Done(Err(db_error(&e).into())),
                        Ok(tx) => {
                            let mut ptx = PgTx {
                                tx,
                                statements,
                                conflict: false,
                                read_only: false,
                            };
                            let result = work(&mut ptx);
                            let lost_race = ptx.conflict;
                            match result {
                                Ok(value) => match ptx.tx.commit() {
                                    Ok(()) => Step::Done(Ok(value)),
                                    Err(e) if is_retryable(&e) && attempt < MAX_ATTEMPTS => {
                                        Step::Retry
                                    }
                                    Err(e) => Step::Done(Err(db_error(&e).into())),
                                },
                                Err(e) => {
                                    let _ = ptx.tx.rollback();
                                    if lost_race && attempt < MAX_ATTEMPTS {
                                        Step::Retry
                                    } else {
                                        Step::Done(Err(e))
                                    }
                                }
                            }
                        }
                    }
                };
                match step {
                    Step::Done(result) => return result,
                    Step::Retry => {
                        // Lost a race: back off a little (with jitter) and decide again.
                        let jitter = u64::from(uuid::Uuid::now_v7().as_bytes()[15] % 8);
                        std::thread::sleep(Duration::from_millis(
                            u64::from(attempt.min(10)) + jitter,
                        ));
                    }
                }
            }
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || {
            let mut conn = checkout(&pool)?;
            let Conn { client, statements } = &mut *conn;
            let tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(|e| db_error(&e))?;
            let mut ptx = PgTx {
                tx,
                statements,
                conflict: false,
                read_only: true,
            };
            let result = work(&mut ptx);
            let _ = ptx.tx.rollback();
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    async fn pull(
        &self,
        conference: ConferenceId,
        cursor: Option<String>,
        limit: u32,
        scope: super::PullScope,
    ) -> Result<PullPage, PullError> {
        let after = Cursor::parse(cursor.as_deref(), &self.epoch, Dialect::Postgres)?;
        let epoch = self.epoch.clone();
        let page = self
            .read(move |tx| {
                let rows = tx.query(
                    &format!("SELECT position, tx::text, {EVENT_COLUMNS} \
                     FROM events WHERE conference = $1 AND (tx, position) > ($2::text::xid8, $3) \
                     AND tx < pg_snapshot_xmin(pg_current_snapshot()){} ORDER BY tx, position LIMIT $4", scope.condition()),
                    crate::params![conference.to_string(), after.tx.unwrap_or(0).to_string(), after.position, i64::from(limit) + 1],
                )?;
                let has_more = rows.len() > limit as usize;
                let mut next = after;
                let mut events = Vec::with_capacity(rows.len().min(limit as usize));
                for row in rows.iter().take(limit as usize) {
                    next = Cursor { tx: Some(row.parse(1)?), position: row.int(0)? };
                    events.push(super::envelope_json_from_row(row, 2)?);
                }
                Ok::<_, StoreError>(PullPage { events, next_cursor: next.to_text(&epoch), has_more })
            })
            .await?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::{SqlValue, copy_text};

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_structure() {
        let mut out = Vec::new();
        for v in [
            SqlValue::Text("plain Zoë".into()),
            SqlValue::Text("a\\b\tc\nd\re".into()),
            SqlValue::Text("\\N".into()),
            SqlValue::Null,
            SqlValue::Int(-42),
        ] {
            copy_text(&v, &mut out);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain Zoë|a\\\\b\\tc\\nd\\re|\\\\N|\\N|-42|"
        );
    }
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    #[test]
    fn sslmode_is_read_as_libpq_spells_it_and_taken_out_of_the_url() {
        let (config, tls, mode) =
            connection_settings("postgres://u@db.example/onsite?application_name=onsite").unwrap();
        assert_eq!((mode, tls.is_none()), (SslMode::Disable, true));
        assert_eq!(config.get_ssl_mode(), postgres::config::SslMode::Disable);
        assert_eq!(config.get_application_name(), Some("onsite"));
        for (given, want) in [
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-full", SslMode::Require),
            ("verify-ca", SslMode::Require),
        ] {
            let (config, tls, mode) =
                connection_settings(&format!("postgres://u@db.example/onsite?sslmode={given}"))
                    .unwrap();
            assert_eq!(mode, want, "{given}");
            assert!(tls.is_some(), "{given}");
            assert_ne!(config.get_ssl_mode(), postgres::config::SslMode::Disable);
        }
    }

    #[test]
    fn a_bad_sslmode_or_root_certificate_is_refused_with_the_reason() {
        for (url, says) in [
            ("postgres://db/x?sslmode=sometimes", "sslmode"),
            (
                "postgres://db/x?sslmode=require&sslrootcert=/no/such/file.pem",
                "sslrootcert",
            ),
            (
                "postgres://db/x?sslmode=require&sslrootcert=%ZZ",
                "sslrootcert",
            ),
        ] {
            match connection_settings(url) {
                Err(StoreError::Database(m)) => assert!(m.contains(says), "{url}: {m}"),
                Err(other) => panic!("{url}: {other}"),
                Ok(_) => panic!("{url}: accepted"),
            }
        }
        assert_eq!(percent_decode("a%20b%26c").as_deref(), Some("a b&c"));
    }
}
