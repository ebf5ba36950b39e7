//! The desk's SQLite file: connections, transactions, settings, enrolment. The floor of the
//! crate: it knows the schema and nothing above it (the projections and the print log hook in
//! through [`Desk::open`], in `lib.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use onsite_shared::aggregate::Timestamp;
use onsite_shared::conference::Conference;
use onsite_shared::ids::{ClientId, ConferenceId, DeviceId};
use onsite_shared::protocol::DeskCredentials;

use crate::error::DeskError;
use crate::schema;

/// One desk's local store. Cheap to share (`Arc<Desk>`): every method takes `&self`.
///
/// Two connections: commands write on one (each command one `IMMEDIATE` transaction), queries
/// read on the other, so a search never waits for a pull being applied (WAL).
pub struct Desk {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    path: PathBuf,
    /// The conference's folded state by the log position it was folded to: every check-in
    /// and search needs it, and parsing it each time cost a tenth of a check-in.
    conference: Mutex<Option<(i64, Arc<Conference>)>>,
    /// How many tickets admit (not withdrawn, not add-ons), by what it was counted from (the
    /// roster's size and highest row id): the door's numbers read it every few seconds, and
    /// counting a large roster costs tens of milliseconds.
    pub(crate) admitting: Mutex<Option<(RosterStamp, u64)>>,
    /// Runs in every write transaction before it commits (the search index's queue).
    before_commit: BeforeCommit,
    /// What the desk reads the time from.
    clock: Clock,
}

/// Where a desk reads the time: the wall clock, or a simulated one (skewed, jumping) in the
/// simulator. Everything the desk stamps (admissions, sales, prints, its sync's device time)
/// reads it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock.
pub fn wall_clock() -> Clock {
    Arc::new(chrono::Utc::now)
}

/// What the roster was when something was counted from it: its rows, its highest row id, and
/// the number of add-on seat types.
pub(crate) type RosterStamp = (i64, i64, usize);

/// What [`Desk::write`] runs before each commit.
pub(crate) type BeforeCommit = fn(&Connection) -> Result<(), DeskError>;

/// What enrolment gave this desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub server_url: String,
    pub device: DeviceId,
    pub conference: ConferenceId,
    pub name: String,
    pub token: String,
}

/// The most venue relays a desk is set to try.
pub const MAX_RELAYS: usize = 8;

/// A server's address as typed: trimmed, without a trailing slash, `http://` or `https://`,
/// a host, no spaces; refused otherwise.
pub fn server_address(typed: &str) -> Result<String, DeskError> {
    let url = typed.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && url.len() <= 200
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(DeskError::BadInput(format!(
            "{url:?} is not an http:// or https:// address"
        ))),
    }
}

impl Enrolment {
    /// The same credentials, spoken to another server (a venue relay knows them too).
    pub fn at(&self, server_url: &str) -> Self {
        Self {
            server_url: server_url.to_owned(),
            ..self.clone()
        }
    }

    /// What redeeming a code at `server_url` gave.
    pub(crate) fn redeemed(server_url: String, credentials: &DeskCredentials) -> Self {
        Self {
            server_url,
            device: credentials.device_id,
            conference: credentials.conference_id,
            name: credentials.name.clone(),
            token: credentials.token.clone(),
        }
    }
}

/// Who is appending: the identity stamped on every local event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    pub device: DeviceId,
    pub conference: ConferenceId,
}

fn connection(path: &Path, flags: OpenFlags) -> Result<Connection, DeskError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Every acknowledged command is on disk: a desk that loses power keeps what it did.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Statement journals stay in memory (they are per statement, never needed after a crash).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Plans never depend on bound values. Without this, a statement whose plan peeked at a
    // parameter is re-prepared on every use (rusqlite clears bindings when it caches one).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer's page cache while it stores pulled pages of thousands of events (or rebuilds
/// the projections): a page and its projections fit, instead of spilling to the WAL before
/// the commit. Otherwise the writer keeps SQLite's default (2 MB): see
/// [`Desk::settle_after_bulk_write`].
const BULK_CACHE_KIB: i64 = 32_000;

/// Pulled pages at least this large are stored with [`BULK_CACHE_KIB`] of cache.
pub(crate) const BULK_PAGE: usize = 1_000;

/// The connection that writes: its scratch tables, and a checkpoint every 40 MB of WAL
/// rather than 4 MB (a bootstrap rewrites the same index pages in every page it applies,
/// and each checkpoint copies them to the file again).
fn writer_connection(path: &Path) -> Result<Connection, DeskError> {
    let writer = connection(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    writer.execute_batch(schema::WRITER_TEMP)?;
    writer.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    Ok(writer)
}

/// SQLite's `quick_check`: a desk whose file was damaged (a disk error, pages overwritten)
/// says so on open, rather than go on answering from whatever it still reads.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), DeskError> {
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if problems.iter().all(|p| p == "ok") {
        return Ok(());
    }
    Err(DeskError::Corrupt(format!(
        "{} is damaged ({}); restore it from a backup",
        path.display(),
        problems.into_iter().take(3).collect::<Vec<_>>().join("; ")
    )))
}

pub(crate) fn setting(conn: &Connection, key: &str) -> Result<Option<String>, DeskError> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<(), DeskError> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

pub(crate) fn parse_setting<T: std::str::FromStr>(
    conn: &Connection,
    key: &str,
) -> Result<Option<T>, DeskError> {
    setting(conn, key)?
        .map(|v| {
            v.parse()
                .map_err(|_| DeskError::Corrupt(format!("setting {key} is unreadable: {v:?}")))
        })
        .transpose()
}

pub(crate) fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, DeskError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| DeskError::Corrupt(format!("bad time {s:?}: {e}")))
}

impl Desk {
    /// Opens (or creates) the desk database file at `path` and migrates its logs forward;
    /// `true` when the projections' layout changed and they must be rebuilt.
    /// [`Desk::open`] is the whole open sequence.
    pub(crate) fn open_file(
        path: &Path,
        before_commit: BeforeCommit,
        clock: Clock,
    ) -> Result<(Self, bool), DeskError> {
        let path = path.to_owned();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                DeskError::BadInput(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        // A file that is there but empty is a desk that lost its data (a failed copy, a full
        // disk), not a new desk: opening it would start an empty, unenrolled log in its place.
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
            return Err(DeskError::Corrupt(format!(
                "{} is empty (0 bytes): this is not a desk's database any more; restore it \
                 from a backup, or move it away to start a new desk",
                path.display()
            )));
        }
        let mut writer = writer_connection(&path)?;
        check_integrity(&writer, &path)?;
        let rebuild = schema::migrate(&mut writer)?;
        {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if setting(&tx, "client_id")?.is_none() {
                // A fresh log is a new sync client: its `client_seq` starts at 1.
                let client = ClientId::from_uuid(uuid::Uuid::now_v7());
                set_setting(&tx, "client_id", &client.to_string())?;
            }
            tx.commit()?;
        }
        let reader = connection(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let desk = Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            path,
            conference: Mutex::new(None),
            admitting: Mutex::new(None),
            before_commit,
            clock,
        };
        Ok((desk, rebuild))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The time, by this desk's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The conference folded to log `position`: the one folded last if it is that one, else
    /// `fold`'s, which is kept for next time.
    pub(crate) fn conference_at(
        &self,
        position: i64,
        fold: impl FnOnce() -> Result<Conference, DeskError>,
    ) -> Result<Arc<Conference>, DeskError> {
        let mut cached = self
            .conference
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, conf)) = cached.as_ref()
            && *at == position
        {
            return Ok(Arc::clone(conf));
        }
        let conf = Arc::new(fold()?);
        *cached = Some((position, Arc::clone(&conf)));
        Ok(conf)
    }

    /// Copies the write-ahead log into the database file, on a thread and a connection of
    /// its own (a `PASSIVE` checkpoint never blocks the writer or the readers). After a large
    /// pull the log holds tens of megabytes; left to SQLite, that checkpoint would run inside
    /// whichever commit next crosses the threshold: the first check-in at the door.
    fn checkpoint_in_background(&self) {
        let path = self.path.clone();
        let started = std::thread::Builder::new()
            .name("desk-checkpoint".into())
            .spawn(move || {
                let done = connection(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .and_then(|c| Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?));
                if let Err(e) = done {
                    tracing::warn!(error = %e, "checkpoint failed; SQLite's own will follow");
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no thread for a checkpoint; SQLite's own will follow");
        }
    }

    fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind (the transaction
        // rolls back on drop), so the connection is still good.
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in one `IMMEDIATE` transaction and commits it (durably) when it succeeds.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        let mut conn = Self::lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        (self.before_commit)(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on the read connection, in one read transaction (a consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        let mut conn = Self::lock(&self.reader);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }

    pub(crate) fn identity(conn: &Connection) -> Result<Identity, DeskError> {
        let device = parse_setting(conn, "device_id")?.ok_or(DeskError::NotEnrolled)?;
        let conference = parse_setting(conn, "conference_id")?.ok_or(DeskError::NotEnrolled)?;
        Ok(Identity { device, conference })
    }

    /// This log's sync client id.
    pub fn client_id(&self) -> Result<ClientId, DeskError> {
        self.read(|conn| {
            parse_setting(conn, "client_id")?
                .ok_or_else(|| DeskError::Corrupt("no client id".into()))
        })
    }

    /// The enrolment, once the desk has one.
    pub fn enrolment(&self) -> Result<Option<Enrolment>, DeskError> {
        self.read(|conn| {
            let Some(token) = setting(conn, "token")? else {
                return Ok(None);
            };
            let id = Self::identity(conn)?;
            Ok(Some(Enrolment {
                server_url: setting(conn, "server_url")?.unwrap_or_default(),
                device: id.device,
                conference: id.conference,
                name: setting(conn, "desk_name")?.unwrap_or_default(),
                token,
            }))
        })
    }

    /// Records the credentials a one-time code was traded for. A desk is enrolled once: its log
    /// belongs to that device and conference.
    pub fn set_enrolment(
        &self,
        server_url: &str,
        credentials: &DeskCredentials,
    ) -> Result<Enrolment, DeskError> {
        let server_url = server_url.trim().trim_end_matches('/').to_owned();
        self.write(|tx| {
            if let Some(device) = setting(tx, "device_id")? {
                return Err(DeskError::AlreadyEnrolled(device));
            }
            set_setting(tx, "server_url", &server_url)?;
            set_setting(tx, "device_id", &credentials.device_id.to_string())?;
            set_setting(tx, "conference_id", &credentials.conference_id.to_string())?;
            set_setting(tx, "desk_name", &credentials.name)?;
            set_setting(tx, "token", &credentials.token)?;
            Ok(())
        })?;
        Ok(Enrolment::redeemed(server_url, credentials))
    }

    /// Points the desk at another address of its server (the server moved, a new port).
    pub fn set_server_url(&self, server_url: &str) -> Result<(), DeskError> {
        let url = server_address(server_url)?;
        self.write(|tx| set_setting(tx, "server_url", &url))
    }

    /// The servers this desk syncs with, in the order it tries them: the venue relays set with
    /// [`Desk::set_relays`] first, then the server it enrolled with (always there, last).
    pub fn servers(&self) -> Result<Vec<String>, DeskError> {
        self.read(|conn| {
            let upstream = setting(conn, "server_url")?.unwrap_or_default();
            let mut servers: Vec<String> = match setting(conn, "relays")? {
                Some(json) => serde_json::from_str(&json).unwrap_or_default(),
                None => Vec::new(),
            };
            servers.retain(|s| *s != upstream);
            servers.push(upstream);
            Ok(servers)
        })
    }

    /// The venue relays to try before the server this desk enrolled with, in order (none: sync
    /// with that server only). Each an `http://` or `https://` address; at most
    /// [`MAX_RELAYS`]. Bad input changes nothing.
    pub fn set_relays(&self, relays: &[String]) -> Result<Vec<String>, DeskError> {
        if relays.len() > MAX_RELAYS {
            return Err(DeskError::BadInput(format!(
                "at most {MAX_RELAYS} relays, not {}",
                relays.len()
            )));
        }
        let mut clean: Vec<String> = Vec::with_capacity(relays.len());
        for r in relays {
            let url = server_address(r)?;
            if !clean.contains(&url) {
                clean.push(url);
            }
        }
        let json = serde_json::to_string(&clean)?;
        self.write(|tx| set_setting(tx, "relays", &json))?;
        self.servers()
    }

    /// The gate this desk admits at (a desk setting; `main` until set).
    pub fn gate(&self) -> Result<String, DeskError> {
        self.read(|conn| Ok(setting(conn, "gate")?.unwrap_or_else(|| "main".to_owned())))
    }

    pub fn set_gate(&self, gate: &str) -> Result<(), DeskError> {
        let gate = gate.trim();
        if gate.is_empty() {
            return Err(DeskError::BadInput("the gate needs a name".into()));
        }
        self.write(|tx| set_setting(tx, "gate", gate))
    }

    /// Gives the writer a page cache that a bulk write (a pulled page of thousands of events,
    /// a rebuild) fits in.
    pub(crate) fn prepare_bulk_write(&self) -> Result<(), DeskError> {
        Self::lock(&self.writer).pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
        Ok(())
    }

    /// Settles (see [`Desk::settle_after_bulk_write`]) if the writer still holds the bulk
    /// page cache: a sync round that stored a large page, even one that then failed, calls
    /// this before it returns.
    pub(crate) fn settle_if_bulk_write(&self) -> Result<(), DeskError> {
        if self.writer_cache_size()? == -BULK_CACHE_KIB {
            self.settle_after_bulk_write()?;
        }
        Ok(())
    }

    /// The writer connection's page cache, as `PRAGMA cache_size` says it (negative: KiB).
    /// For tests and diagnostics.
    pub fn writer_cache_size(&self) -> Result<i64, DeskError> {
        Ok(Self::lock(&self.writer).pragma_query_value(None, "cache_size", |r| r.get(0))?)
    }

    /// After bulk writes: the log is checkpointed in the background (see
    /// [`Desk::checkpoint_in_background`]), and the writer starts again with a connection of
    /// SQLite's default cache size. Its big cache cost every later commit: when an insert
    /// rebalances a B-tree, SQLite lends a page the lock-byte page's number, and the commit
    /// then walks its whole page cache to drop pages past the end of the file (9 % of a
    /// check-in with 32 MB of cache).
    pub fn settle_after_bulk_write(&self) -> Result<(), DeskError> {
        self.checkpoint_in_background();
        let fresh = writer_connection(&self.path)?;
        *Self::lock(&self.writer) = fresh;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::server_address;

    #[test]
    fn a_server_address_is_http_or_https_with_a_host_and_nothing_else() {
        assert_eq!(
            server_address(" http://10.0.0.5:7300/ ").unwrap(),
            "http://10.0.0.5:7300"
        );
        assert_eq!(
            server_address("https://onsite.example").unwrap(),
            "https://onsite.example"
        );
        for bad in [
            "",
            "10.0.0.5:7300",
            "ftp://x",
            "http://",
            "http://a b",
            "http://x\ny",
            "javascript:alert(1)",
            &format!("http://{}", "a".repeat(300)),
        ] {
            assert!(server_address(bad).is_err(), "{bad:?}");
        }
    }
}
