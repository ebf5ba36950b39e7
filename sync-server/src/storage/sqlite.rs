//! The embedded default: a SQLite file in WAL mode, every answer durable.
//!
//! One writer thread owns the write connection. It takes every job that is queued, runs them
//! in one transaction and commits once (group commit). A job that fails leaves the others
//! untouched: the group is rolled back and run again without it, each job in its own
//! savepoint. Readers use their own connections, so a pull never waits for a write. With a
//! single writer, commit order is position order: the pull cursor is a position.
//!
//! Durability is what `synchronous=FULL` gives (every answer is on disk), with the log's sync
//! taken off the writer's path: the writer commits with `synchronous=NORMAL` (SQLite does not
//! sync the log at commit) and hands the group to the syncer thread, which syncs the log file
//! (through SQLite's VFS, [`log_file`]) once for every group that came in meanwhile and only then answers their callers. The writer
//! runs the next group during the sync instead of waiting for it. A commit is visible to
//! readers before it is durable, so a read waits, before it answers, until every commit it may
//! have seen is durable ([`Durability::wait`]): no answer, written or read, shows anything a
//! power cut could take back, and a pull never hands out a position that could be reused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use tokio::sync::oneshot;

mod log_file;
use log_file::LogFile;

use onsite_shared::ids::ConferenceId;

use super::{
    COMMON_SCHEMA, Cursor, Dialect, EVENT_COLUMNS, KEY_IMPORTS_BY_CONFERENCE,
    MOVE_ADMISSIONS_OUT_OF_TICKETS, PullError, PullPage, Row, SqlValue, Store, StoreError, Tx,
    migrations,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    conference TEXT NOT NULL,
    stream_type TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    device_id TEXT,
    client_seq INTEGER,
    causation_id TEXT,
    correlation_id TEXT,
    payload TEXT NOT NULL,
    UNIQUE (stream_type, stream_id, version));
CREATE INDEX IF NOT EXISTS events_by_conference ON events (conference, position);
-- The outcomes of one push's new items (see `COMMON_SCHEMA`'s `outcomes`), one row per push.
CREATE TABLE IF NOT EXISTS push_outcomes (
    client_id TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
    outcomes TEXT NOT NULL,
    PRIMARY KEY (client_id, first_seq)) WITHOUT ROWID;
-- `admissions`: see `COMMON_SCHEMA`.
-- Without a rowid, the rows are the primary key's b-tree: one b-tree to write, not two.
CREATE TABLE IF NOT EXISTS admissions (
    admission_id TEXT PRIMARY KEY, conference TEXT NOT NULL, code TEXT NOT NULL,
    admitted_at TEXT NOT NULL, desk TEXT NOT NULL, gate TEXT NOT NULL) WITHOUT ROWID;
"#;

/// The most jobs committed together.
const MAX_GROUP: usize = 512;

struct SqliteTx<'c>(&'c Connection);

/// Values are bound by reference (SQLite copies them itself): a push binds every payload.
impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Int(n) => ValueRef::Integer(*n),
            SqlValue::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// `$1` → `?1`: SQLite's numbered parameters, so the same statements run on both backends.
/// Runs for every statement, so on bytes: one ASCII byte replaced by another keeps UTF-8.
fn sqlite_sql(sql: &str) -> String {
    let mut out = sql.as_bytes().to_vec();
    for i in 1..out.len() {
        if out[i - 1] == b'$' && out[i].is_ascii_digit() {
            out[i - 1] = b'?';
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| sql.to_owned())
}

#[expect(clippy::needless_pass_by_value, reason = "shaped for map_err")]
fn db_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

impl Tx for SqliteTx<'_> {
    fn read_only(&self) -> bool {
        self.0.is_readonly(rusqlite::MAIN_DB).unwrap_or(true)
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(db_error)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(db_error)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(db_error)?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(db_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(db_error)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(n) => SqlValue::Int(n),
                    ValueRef::Real(f) => SqlValue::Text(f.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        SqlValue::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// A unit of work for the writer thread.
trait WriteJob: Send {
    /// Runs the work in the group's transaction; `false` when it failed, and its effects must
    /// be rolled back. A job that has not failed may be run again after a rollback.
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
    /// Whether the job ran and failed: its error is its answer, it does not run again.
    fn failed(&self) -> bool;
    /// Called after the group's commit (or its failure).
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

struct Job<T, E, F> {
    work: F,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> WriteJob for Job<T, E, F>
where
    T: Send,
    E: From<StoreError> + Send,
    F: FnMut(&mut dyn Tx) -> Result<T, E> + Send,
{
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        let result = (self.work)(tx);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn failed(&self) -> bool {
        matches!(self.result, Some(Err(_)))
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let result = match (committed, self.result) {
            (Ok(()), Some(result)) => result,
            (Err(e), Some(Ok(_))) => {
                Err(StoreError::Database(format!("commit failed: {e}")).into())
            }
            (_, Some(Err(e))) => Err(e),
            // Not run: the writer refused the group (see `Durability`).
            (Err(e), None) => Err(StoreError::Database(e).into()),
            (Ok(()), None) => Err(StoreError::Closed.into()),
        };
        let _ = self.reply.send(result);
    }
}

type Queue = mpsc::Sender<Box<dyn WriteJob>>;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<Queue>>,
    /// The writer's and the syncer's threads, joined when the store is dropped.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    durability: Arc<Durability>,
    epoch: String,
}

/// How far the writer's commits are on disk; shared by the writer, the syncer and the readers.
#[derive(Default)]
struct Durability {
    /// Commits begun, counted just before each `COMMIT`: a reader that saw a commit reads a
    /// count that includes it.
    begun: AtomicU64,
    synced: Mutex<Synced>,
    changed: Condvar,
}

#[derive(Default)]
struct Synced {
    /// Every commit counted up to this one is on disk.
    durable: u64,
    /// Why syncing the log failed. Then nothing is answered any more, neither a write nor a
    /// read: what SQLite shows may not be what the disk holds.
    failed: Option<String>,
}

impl Durability {
    fn begin_commit(&self) {
        self.begun.fetch_add(1, Ordering::SeqCst);
    }

    fn begun(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    fn synced(&self) -> std::sync::MutexGuard<'_, Synced> {
        self.synced.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that every commit counted up to `upto` is on disk, or that syncing failed.
    fn advance(&self, upto: u64, result: Result<(), String>) {
        let mut synced = self.synced();
        match result {
            Ok(()) => synced.durable = synced.durable.max(upto),
            Err(e) => {
                synced.failed.get_or_insert(e);
            }
        }
        self.changed.notify_all();
    }

    fn failure(&self) -> Option<String> {
        self.synced().failed.as_deref().map(unsynced)
    }

    /// Blocks until every commit begun so far is on disk: called after a read, it covers every
    /// commit the read saw. At most one sync of the log while the writer is busy; none when
    /// it is not.
    fn wait(&self) -> Result<(), StoreError> {
        let need = self.begun();
        let mut synced = self.synced();
        loop {
            if let Some(e) = &synced.failed {
                return Err(StoreError::Database(unsynced(e)));
            }
            if synced.durable >= need {
                return Ok(());
            }
            synced = self
                .changed
                .wait(synced)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn unsynced(error: &str) -> String {
    format!("the log could not be synced to disk: {error}")
}

/// A group the writer has committed (or failed to), on its way to the syncer.
struct Committed {
    group: Vec<Box<dyn WriteJob>>,
    result: Result<(), String>,
    /// The commits begun when the writer was done with the group: this one's included.
    upto: u64,
}

fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(db_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db_error)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")
        .map_err(db_error)?;
    // Every statement the server runs stays prepared (rusqlite keeps 16 by default; a push
    // alone runs more distinct ones than that, and re-preparing cost a third of its time).
    conn.set_prepared_statement_cache_capacity(256);
    // Plans never depend on bound values: otherwise a statement whose plan peeked at a
    // parameter (a LIMIT, an equality heuristic) is re-prepared on every use, because
    // rusqlite clears the bindings of a statement it caches.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(db_error)?;
    if !read_only {
        // 64 MB of page cache for the one writer (SQLite's default is 2 MB): a push touches
        // tickets and streams all over the file, and every page it misses is a read. And a
        // checkpoint every 40 MB of log rather than 4 MB: pushes rewrite the same index pages,
        // and each checkpoint (run inside a commit) copies them to the file again. Statement
        // and savepoint journals in memory: every job of a group commit runs in a savepoint,
        // and SQLite otherwise spills the pages it saves for a rollback to a temporary file
        // (a write per page, for a rollback that almost never happens). `synchronous=NORMAL`:
        // the syncer thread syncs the log before anything is answered (see the module).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; \
             PRAGMA wal_autocheckpoint = 10000; PRAGMA temp_store = MEMORY;",
        )
        .map_err(db_error)?;
    }
    Ok(conn)
}

/// A dropped store has closed its database: the writer finishes what was queued and closes
/// its connection, the syncer syncs the last commits, and both threads have ended when this
/// returns; pooled readers are closed too. Otherwise the last close, which checkpoints and
/// deletes the log file *by its path*, could come after another store opened the same file
/// (a restart in one process) and delete that store's live log.
impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
        let threads = self
            .threads
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Brings the file to [`migrations::LATEST`] in one `IMMEDIATE` transaction: two processes
/// opening it together (a server and the CLI) take turns, and a crash changes nothing.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let has_meta: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get(0),
        )
        .map_err(db_error)?;
    let value = |key: &str| -> Result<Option<String>, StoreError> {
        if has_meta == 0 {
            return Ok(None);
        }
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db_error)
    };
    let found =
        migrations::stamp_from(value("schema_version")?, value("schema_floor")?.as_deref())?;
    let plan = migrations::plan(found)?;
    if plan.baseline {
        baseline(&tx)?;
    }
    for step in &migrations::STEPS[plan.steps] {
        tx.execute_batch(step.sql(Dialect::Sqlite))
            .map_err(|e| StoreError::Database(format!("migration {:?}: {e}", step.name)))?;
    }
    if let Some(stamp) = plan.stamp {
        tx.execute_batch(&migrations::stamp_sql(stamp))
            .map_err(db_error)?;
    }
    tx.commit().map_err(db_error)
}

/// Version 1 from whatever a server before versions left (or from nothing): the schema as
/// they created it, and the two moves they made on their own when they found an older layout.
fn baseline(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(SCHEMA).map_err(db_error)?;
    tx.execute_batch(COMMON_SCHEMA).map_err(db_error)?;
    let legacy: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('tickets') WHERE name = 'admitted_at'",
            [],
            |r| r.get(0),
        )
        .map_err(db_error)?;
    if legacy > 0 {
        tx.execute_batch(MOVE_ADMISSIONS_OUT_OF_TICKETS)
            .map_err(db_error)?;
    }
    let keyed: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('imports') WHERE name = 'conference'",
            [],
            |r| r.get(0),
        )
        .map_err(db_error)?;
    if keyed == 0 {
        tx.execute_batch(KEY_IMPORTS_BY_CONFERENCE)
            .map_err(db_error)?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (and creates or migrates) the database file and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = open(path, false)?;
        migrate(&mut conn)?;
        let epoch = {
            let tx = conn.transaction().map_err(db_error)?;
            let existing: Option<String> = tx
                .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
                    r.get(0)
                })
                .ok();
            let epoch = match existing {
                Some(e) => e,
                None => {
                    let e = uuid::Uuid::now_v7().simple().to_string();
                    tx.execute("INSERT INTO meta (key, value) VALUES ('epoch', ?1)", [&e])
                        .map_err(db_error)?;
                    e
                }
            };
            tx.commit().map_err(db_error)?;
            epoch
        };
        // The log file, to sync; it stays while the writer's connection is open. Synced now
        // too: what a server that stopped left in the OS's cache is on disk before it is read.
        let mut wal = LogFile::open(path)?;
        wal.sync()?;
        let durability = Arc::new(Durability::default());
        let (queue, jobs) = mpsc::channel::<Box<dyn WriteJob>>();
        let (to_syncer, committed) = mpsc::channel::<Committed>();
        let syncer = Arc::clone(&durability);
        let syncer_thread = thread::Builder::new()
            .name("sqlite-syncer".into())
            .spawn(move || syncer_loop(&mut wal, &syncer, &committed))
            .map_err(|e| StoreError::Database(format!("cannot start the syncer thread: {e}")))?;
        let writer = Arc::clone(&durability);
        let writer_thread = thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, &jobs, &writer, &to_syncer))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(Some(queue)),
            threads: Mutex::new(vec![writer_thread, syncer_thread]),
            readers: Arc::default(),
            durability,
            epoch,
        })
    }

    /// Identifies this database; a cursor from another database (a restore, a new file) is
    /// refused instead of silently skipping or repeating events.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Runs `work` on a reader connection, in a read transaction (one consistent snapshot),
    /// and returns once everything it may have seen is on disk.
    pub async fn read_snapshot<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        let durability = Arc::clone(&self.durability);
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().map_err(|_| StoreError::Closed)?.pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => open(&path, true)?,
            };
            let result = {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Deferred)
                    .map_err(db_error)?;
                let result = work(&mut SqliteTx(&tx));
                tx.rollback().map_err(db_error)?;
                result
            };
            if let Ok(mut pool) = readers.lock()
                && pool.len() < 8
            {
                pool.push(conn);
            }
            durability.wait()?;
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

impl Store for SqliteStore {
    async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        // One writer, so no race to lose; the work runs again only when another job of its
        // group failed (see `run_group`).
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job {
            work,
            result: None,
            reply,
        });
        {
            let writer = self.writer.lock().map_err(|_| StoreError::Closed)?;
            let queue = writer.as_ref().ok_or(StoreError::Closed)?;
            // Counted before it is sent: the writer takes it off as it picks it up.
            ::metrics::gauge!("onsite_writer_queue_depth").increment(1.0);
            if queue.send(job).is_err() {
                ::metrics::gauge!("onsite_writer_queue_depth").decrement(1.0);
                return Err(StoreError::Closed.into());
            }
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.read_snapshot(work).await
    }

    async fn pull(
        &self,
        conference: ConferenceId,
        cursor: Option<String>,
        limit: u32,
        scope: super::PullScope,
    ) -> Result<PullPage, PullError> {
        let after = Cursor::parse(cursor.as_deref(), &self.epoch, Dialect::Sqlite)?;
        let epoch = self.epoch.clone();
        let page = self
            .read_snapshot(move |tx| {
                let rows = tx.query(
                    &format!(
                        "SELECT position, {EVENT_COLUMNS} FROM events \
                         WHERE conference = $1 AND position > $2{} ORDER BY position LIMIT $3",
                        scope.condition()
                    ),
                    crate::params![conference.to_string(), after.position, i64::from(limit) + 1],
                )?;
                let has_more = rows.len() > limit as usize;
                let mut next = after;
                let mut events = Vec::with_capacity(rows.len().min(limit as usize));
                for row in rows.iter().take(limit as usize) {
                    next.position = row.int(0)?;
                    events.push(super::envelope_json_from_row(row, 1)?);
                }
                Ok::<_, StoreError>(PullPage {
                    events,
                    next_cursor: next.to_text(&epoch),
                    has_more,
                })
            })
            .await?;
        Ok(page)
    }
}

/// The log file next to the database file.
fn writer_loop(
    mut conn: Connection,
    jobs: &mpsc::Receiver<Box<dyn WriteJob>>,
    durability: &Durability,
    syncer: &mpsc::Sender<Committed>,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        ::metrics::gauge!("onsite_writer_queue_depth").decrement(group.len() as f64);
        ::metrics::histogram!("onsite_writer_group_size").record(group.len() as f64);
        let result = match durability.failure() {
            Some(e) => Err(e),
            None => run_group(&mut conn, &mut group, durability),
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, jobs = group.len(), "group commit failed");
        }
        let committed = Committed {
            group,
            result,
            upto: durability.begun(),
        };
        if let Err(mpsc::SendError(lost)) = syncer.send(committed) {
            let e = "the syncer thread stopped".to_owned();
            durability.advance(lost.upto, Err(e.clone()));
            for job in lost.group {
                job.finish(Err(e.clone()));
            }
        }
    }
}

/// Syncs the log once for every group committed since the last sync, then answers them.
fn syncer_loop(wal: &mut LogFile, durability: &Durability, committed: &mpsc::Receiver<Committed>) {
    let mut durable = 0;
    while let Ok(first) = committed.recv() {
        let mut batch = vec![first];
        while let Ok(more) = committed.try_recv() {
            batch.push(more);
        }
        let upto = batch.iter().map(|c| c.upto).max().unwrap_or(durable);
        if upto > durable {
            let synced = wal.sync().map_err(|e| e.to_string());
            if let Err(e) = &synced {
                tracing::error!(error = %e, "syncing the log failed; nothing more is answered");
            }
            durability.advance(upto, synced);
            durable = upto;
        }
        let failure = durability.failure();
        for c in batch {
            let result = match (c.result, &failure) {
                (Ok(()), Some(e)) => Err(e.clone()),
                (result, _) => result,
            };
            for job in c.group {
                job.finish(result.clone());
            }
        }
    }
}

/// Runs a group of jobs in one transaction and commits it (the syncer then syncs the log once
/// for all of them, and for the groups committed while it syncs).
///
/// First with no savepoints: SQLite copies every page a savepoint changes into a journal, a
/// cost every push would pay for a rollback that almost never happens. When a job fails, the
/// transaction is rolled back and the group runs again, each job in its own savepoint and the
/// failed one left out (its error is its answer). The others are decided again as if it had
/// never come; work may run more than once (see [`Store::write`]).
fn run_group(
    conn: &mut Connection,
    group: &mut [Box<dyn WriteJob>],
    durability: &Durability,
) -> Result<(), String> {
    if run_jobs(conn, group, false, durability)? {
        return Ok(());
    }
    if group.iter().all(|job| job.failed()) {
        return Ok(());
    }
    run_jobs(conn, group, true, durability).map(|_| ())
}

/// Runs the group's jobs that have not failed, and commits. Without savepoints, stops at the
/// first failure, rolls everything back and returns `false`.
fn run_jobs(
    conn: &mut Connection,
    group: &mut [Box<dyn WriteJob>],
    savepoints: bool,
    durability: &Durability,
) -> Result<bool, String> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    for job in group.iter_mut().filter(|job| !job.failed()) {
        if !savepoints {
            if !job.run(&mut SqliteTx(&tx)) {
                tx.rollback().map_err(|e| e.to_string())?;
                return Ok(false);
            }
            continue;
        }
        tx.execute_batch("SAVEPOINT job")
            .map_err(|e| e.to_string())?;
        if job.run(&mut SqliteTx(&tx)) {
            tx.execute_batch("RELEASE job").map_err(|e| e.to_string())?;
        } else {
            tx.execute_batch("ROLLBACK TO job; RELEASE job")
                .map_err(|e| e.to_string())?;
        }
    }
    durability.begin_commit();
    tx.commit().map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_become_sqlite_ones() {
        assert_eq!(
            sqlite_sql("a = $1 AND b = $12 AND c = '$'"),
            "a = ?1 AND b = ?12 AND c = '$'"
        );
    }

    fn job(
        value: i64,
        fail: bool,
    ) -> (
        Box<dyn WriteJob>,
        oneshot::Receiver<Result<usize, StoreError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let mut runs = 0;
        let work = move |tx: &mut dyn Tx| {
            runs += 1;
            tx.execute("INSERT INTO t (v) VALUES ($1)", &[SqlValue::Int(value)])?;
            if fail {
                return Err(StoreError::Corrupt(format!("job {value} fails")));
            }
            Ok(runs)
        };
        let job: Box<dyn WriteJob> = Box::new(Job {
            work,
            result: None,
            reply,
        });
        (job, answer)
    }

    /// A writer connection on a file of its own, removed with the returned guard.
    fn scratch() -> (Connection, ScratchFile) {
        let path =
            std::env::temp_dir().join(format!("onsite-group-{}.sqlite", uuid::Uuid::now_v7()));
        let conn = open(&path, false).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        (conn, ScratchFile(path))
    }

    struct ScratchFile(PathBuf);

    impl Drop for ScratchFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    fn values(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Dropping a store closes its database before the drop returns, even with a write still
    /// running: a store opened next on the same path (a restart in one process) must never
    /// meet this one's last close, which deletes the log file by its path.
    #[test]
    fn a_dropped_store_has_closed_its_files() {
        let dir = std::env::temp_dir().join(format!("onsite-drop-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("onsite.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        let (reply, _answer) = oneshot::channel();
        let slow: Box<dyn WriteJob> = Box::new(Job {
            work: |_: &mut dyn Tx| {
                std::thread::sleep(std::time::Duration::from_millis(300));
                Ok::<_, StoreError>(())
            },
            result: None,
            reply,
        });
        store
            .writer
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .send(slow)
            .unwrap();
        drop(store);
        let open: Vec<PathBuf> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| target.starts_with(&dir))
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(open.is_empty(), "still open after the drop: {open:?}");
    }

    #[test]
    fn a_failed_job_leaves_the_rest_of_its_group_committed() {
        let (mut conn, _file) = scratch();
        let (a, a_answer) = job(1, false);
        let (b, b_answer) = job(2, true);
        let (c, c_answer) = job(3, false);
        let mut group = vec![a, b, c];
        run_group(&mut conn, &mut group, &Durability::default()).unwrap();
        for job in group {
            job.finish(Ok(()));
        }
        // The job before the failure ran twice (its first run was rolled back), the one
        // after it once; the failed job's insert is gone.
        assert_eq!(a_answer.blocking_recv().unwrap().unwrap(), 2);
        assert!(matches!(
            b_answer.blocking_recv().unwrap(),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(c_answer.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(values(&conn), vec![1, 3]);
    }

    /// The `admissions` projection holds, for each ticket, the admission in force as the
    /// `CheckIn` aggregate has it, through duplicates, undos of the admission in force and of
    /// a duplicate, and admissions again after an undo.
    #[test]
    fn the_admissions_projection_follows_the_check_in_aggregate() {
        use std::collections::BTreeMap;

        use onsite_shared::aggregate::Aggregate;
        use onsite_shared::check_in::{CheckIn, Command, TicketStatus};
        use onsite_shared::event::Event;
        use onsite_shared::ids::{AdmissionId, DeviceId, TicketCode};

        let (mut conn, _file) = scratch();
        migrate(&mut conn).unwrap();
        let conf = ConferenceId::from_u128(1);
        let desk = DeviceId::from_u128(9);
        let at = chrono::DateTime::UNIX_EPOCH;
        let admit = |code: &str, n: u128| Command::RecordAdmission {
            conference: conf,
            code: TicketCode::parse(code).unwrap(),
            ticket: None,
            status: TicketStatus::Valid,
            admission: onsite_shared::check_in::Admission {
                admission: AdmissionId::from_u128(n),
                desk,
                gate: format!("gate {n}"),
                at,
            },
            override_reason: None,
            rules: Default::default(),
            zone: onsite_shared::admission_rules::Tz::UTC,
            clock_skew_ms: None,
        };
        let undo = |n: u128| Command::RecordUndo {
            admission: AdmissionId::from_u128(n),
            desk,
            at,
            reason: "wrong person".into(),
        };
        let steps = [
            ("AAAA-0001", admit("AAAA-0001", 1)),
            ("AAAA-0001", admit("AAAA-0001", 2)),
            ("BBBB-0002", admit("BBBB-0002", 3)),
            ("BBBB-0002", admit("BBBB-0002", 6)),
            ("AAAA-0001", undo(1)),
            ("AAAA-0001", admit("AAAA-0001", 4)),
            ("AAAA-0001", undo(2)),
            ("BBBB-0002", undo(3)),
            ("CCCC-0003", admit("CCCC-0003", 5)),
            ("CCCC-0003", admit("CCCC-0003", 5)),
        ];
        let mut states: BTreeMap<&str, CheckIn> = BTreeMap::new();
        for (code, command) in &steps {
            let state = states.remove(code).unwrap_or_default();
            let events = state.decide(command).unwrap();
            for e in &events {
                crate::projection::apply(&mut SqliteTx(&conn), conf, &Event::CheckIn(e.clone()))
                    .unwrap();
            }
            states.insert(code, events.iter().fold(state, CheckIn::evolve));
        }
        let in_force: Vec<(String, String)> = states
            .iter()
            .filter_map(|(code, s)| {
                let a = s.current.as_ref()?;
                Some(((*code).to_owned(), a.admission.to_string()))
            })
            .collect();
        assert_eq!(in_force.len(), 2, "AAAA-0001 by 4 and CCCC-0003 by 5");
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT code, admission_id FROM admissions ORDER BY code")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, in_force);
    }

    #[test]
    fn a_group_that_succeeds_runs_each_job_once() {
        let (mut conn, _file) = scratch();
        let (a, a_answer) = job(1, false);
        let (b, b_answer) = job(2, false);
        let mut group = vec![a, b];
        run_group(&mut conn, &mut group, &Durability::default()).unwrap();
        for job in group {
            job.finish(Ok(()));
        }
        assert_eq!(a_answer.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(b_answer.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(values(&conn), vec![1, 2]);
    }

    #[test]
    fn a_read_waits_until_the_commits_it_may_have_seen_are_on_disk() {
        let durability = Arc::new(Durability::default());
        durability.begin_commit();
        let (done, finished) = mpsc::channel();
        let reader = Arc::clone(&durability);
        let handle = thread::spawn(move || {
            let waited = reader.wait();
            let _ = done.send(());
            waited
        });
        assert!(
            finished
                .recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "answered before the commit was synced"
        );
        durability.advance(1, Ok(()));
        finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("answered once synced");
        assert!(handle.join().unwrap().is_ok());
        // Nothing begun since: no wait.
        assert!(durability.wait().is_ok());
    }

    #[test]
    fn after_a_failed_sync_nothing_is_answered() {
        let durability = Durability::default();
        durability.begin_commit();
        durability.advance(1, Err("I/O error".into()));
        assert!(matches!(durability.wait(), Err(StoreError::Database(_))));
        assert!(durability.failure().unwrap().contains("I/O error"));
        // A later success does not undo it.
        durability.advance(2, Ok(()));
        assert!(durability.wait().is_err());
    }

    /// A store on a scratch file, and a runtime to drive it from a test (the file first, so
    /// that it is removed after the store has closed).
    fn scratch_store(name: &str) -> (ScratchFile, SqliteStore, tokio::runtime::Runtime) {
        let path =
            std::env::temp_dir().join(format!("onsite-{name}-{}.sqlite", uuid::Uuid::now_v7()));
        let file = ScratchFile(path);
        let store = SqliteStore::open(&file.0).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        (file, store, runtime)
    }

    #[test]
    fn a_write_is_answered_once_the_log_is_synced() {
        let (_file, store, runtime) = scratch_store("synced");
        runtime.block_on(async {
            for i in 0..20 {
                store
                    .write(move |tx| {
                        tx.execute(
                            "INSERT INTO meta (key, value) VALUES ($1, 'x')",
                            &[SqlValue::Text(format!("k{i}"))],
                        )
                    })
                    .await
                    .unwrap();
                let begun = store.durability.begun();
                assert!(begun > 0);
                assert_eq!(store.durability.synced().durable, begun);
            }
            let n = store
                .read(|tx| tx.query("SELECT COUNT(*) FROM meta WHERE value = 'x'", &[]))
                .await
                .unwrap();
            assert_eq!(n[0].int(0).unwrap(), 20);
        });
    }

    #[test]
    fn after_a_failed_sync_the_store_refuses_writes_and_reads() {
        let (file, store, runtime) = scratch_store("unsynced");
        store.durability.advance(0, Err("I/O error".into()));
        let written =
            runtime
                .block_on(store.write(|tx| {
                    tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", &[])
                }));
        assert!(
            matches!(&written, Err(StoreError::Database(e)) if e.contains("I/O error")),
            "{written:?}"
        );
        let read = runtime.block_on(store.read(|tx| tx.query("SELECT 1", &[])));
        assert!(read.is_err());
        drop(store);
        let conn = open(&file.0, true).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM meta WHERE key = 'k'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0, "the refused write changed nothing");
    }
}
