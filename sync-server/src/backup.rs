//! Backups and restores of the embedded SQLite store.
//!
//! - [`backup`] takes a consistent copy while the server runs and serves: `VACUUM INTO` reads
//!   one snapshot of the database (WAL mode lets the writer go on meanwhile) and writes a
//!   compact file, first under a temporary name, synced, then renamed, so a file at the
//!   target is always a whole backup.
//! - [`restore`] puts one back while the server is stopped ([`lock_data_dir`] says whether it
//!   runs): the database as it was is kept beside it first, the backup is checked, and the
//!   restored database gets a new epoch. Desks then notice: their pull cursor belongs to
//!   another database (`sync.cursor_reset`: they pull again from the start, keeping what they
//!   have), and the server holds less of their sequence than they had acknowledged (the pull
//!   says `last_client_seq`), so they push those events again. A restore loses nothing any
//!   desk still holds; what only head office did after the backup is gone.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`, `pg_restore`); after a restore,
//! [`new_epoch`] through `onsite-server restore --new-epoch` tells desks the same way.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// The database file in a data directory.
pub fn database(data_dir: &Path) -> PathBuf {
    data_dir.join("onsite.sqlite3")
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already; choose a new file for the backup")]
    TargetExists(PathBuf),
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{path} is not an Onsite database: {why}")]
    NotOurs { path: PathBuf, why: String },
    #[error("the server is running on {0}; stop it before restoring")]
    InUse(PathBuf),
    #[error("{0}")]
    Database(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a backup or a restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub events: i64,
    pub bytes: u64,
    /// Where the database as it was before a restore was kept (restores only).
    pub kept: Option<PathBuf>,
}

/// Holds the data directory's lock while the server serves on it: a restore takes the same
/// lock, so it cannot pull the database from under a running server. Released when the file
/// is dropped (or the process ends, however it ends).
pub fn lock_data_dir(data_dir: &Path) -> Result<File, BackupError> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("onsite.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse(data_dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// Checks that `path` is a whole Onsite database and says what it holds.
fn check(path: &Path) -> Result<Summary, BackupError> {
    let not_ours = |why: String| BackupError::NotOurs {
        path: path.to_owned(),
        why,
    };
    let conn =
        connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| not_ours(e.to_string()))?;
    let ok: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| not_ours(e.to_string()))?;
    if ok != "ok" {
        return Err(not_ours(format!("SQLite's check says {ok:?}")));
    }
    conn.query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
        r.get::<_, String>(0)
    })
    .map_err(|_| not_ours("it has no epoch (is it a server's database?)".into()))?;
    let events = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .map_err(|e| not_ours(e.to_string()))?;
    Ok(Summary {
        events,
        bytes: std::fs::metadata(path)?.len(),
        kept: None,
    })
}

/// Writes a consistent copy of `db` to `to` (which must not exist), while the server may be
/// running: one snapshot, written under a temporary name, synced, then renamed.
pub fn backup(db: &Path, to: &Path) -> Result<Summary, BackupError> {
    if !db.exists() {
        return Err(BackupError::NoDatabase(db.to_owned()));
    }
    if to.exists() {
        return Err(BackupError::TargetExists(to.to_owned()));
    }
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    {
        let conn = connect(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()])?;
    }
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;
    sync_dir(to)?;
    check(to)
}

/// Puts the backup `from` in place of `db`, the server being stopped (the caller holds the
/// data directory's lock). The database as it was is kept beside it (a consistent copy,
/// `….before-restore-<time>`); the restored one gets a new epoch.
pub fn restore(
    db: &Path,
    from: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Summary, BackupError> {
    check(from)?;
    let kept = if db.exists() {
        let kept = with_suffix(
            db,
            &format!(".before-restore-{}", now.format("%Y%m%dT%H%M%SZ")),
        );
        let conn = connect(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.execute("VACUUM INTO ?1", [kept.to_string_lossy()])?;
        drop(conn);
        File::open(&kept)?.sync_all()?;
        Some(kept)
    } else {
        None
    };
    let restoring = with_suffix(db, ".restoring");
    let _ = std::fs::remove_file(&restoring);
    std::fs::copy(from, &restoring)?;
    {
        let conn = connect(&restoring, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        set_new_epoch(&conn)?;
    }
    File::open(&restoring)?.sync_all()?;
    // The old log and shared memory belong to the old file: gone before the new one is in
    // place, or SQLite would replay the old log onto the restored pages.
    for side in ["-wal", "-shm"] {
        match std::fs::remove_file(with_suffix(db, side)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::rename(&restoring, db)?;
    sync_dir(db)?;
    Ok(Summary { kept, ..check(db)? })
}

fn set_new_epoch(conn: &Connection) -> Result<(), BackupError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [uuid::Uuid::now_v7().simple().to_string()],
    )?;
    Ok(())
}

/// Gives a PostgreSQL database restored with `pg_restore` a new epoch (see the module doc).
/// Events restored into another cluster carry transaction ids of the cluster they came from,
/// which may be ahead of this one's: pull would not show them until its ids caught up, so
/// they take this transaction's id.
pub fn new_epoch(tx: &mut dyn crate::storage::Tx) -> Result<(), crate::storage::StoreError> {
    tx.execute(
        "UPDATE meta SET value = $1 WHERE key = 'epoch'",
        crate::params![uuid::Uuid::now_v7().simple().to_string()],
    )?;
    tx.execute(
        "UPDATE events SET tx = pg_current_xact_id() WHERE tx > pg_current_xact_id()",
        crate::params![],
    )?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Syncs the directory holding `path`, so that a rename in it survives a power cut.
fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_in(dir: &Path) -> PathBuf {
        let db = database(dir);
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = wal; \
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); \
             INSERT INTO meta VALUES ('epoch', 'first'); \
             CREATE TABLE events (position INTEGER PRIMARY KEY, body TEXT); \
             INSERT INTO events (body) VALUES ('a'), ('b');",
        )
        .unwrap();
        db
    }

    fn epoch(db: &Path) -> String {
        Connection::open(db)
            .unwrap()
            .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
                r.get(0)
            })
            .unwrap()
    }

    #[test]
    fn a_backup_is_whole_and_a_restore_keeps_what_was_there_and_changes_the_epoch() {
        let dir = tempfile_dir("backup");
        let db = database_in(&dir);
        let to = dir.join("copy.sqlite3");
        let taken = backup(&db, &to).unwrap();
        assert_eq!(taken.events, 2);
        assert!(matches!(
            backup(&db, &to),
            Err(BackupError::TargetExists(_))
        ));
        Connection::open(&db)
            .unwrap()
            .execute("INSERT INTO events (body) VALUES ('c')", [])
            .unwrap();
        let restored = restore(&db, &to, chrono::Utc::now()).unwrap();
        assert_eq!(restored.events, 2);
        let kept = restored.kept.unwrap();
        assert_eq!(
            check(&kept).unwrap().events,
            3,
            "the database as it was is kept"
        );
        assert_ne!(epoch(&db), "first");
        assert_eq!(epoch(&to), "first", "the backup itself is left as it was");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_whole_onsite_database_is_not_restored_and_changes_nothing() {
        let dir = tempfile_dir("not-ours");
        let db = database_in(&dir);
        let junk = dir.join("junk.sqlite3");
        std::fs::write(&junk, b"not a database at all").unwrap();
        let other = dir.join("other.sqlite3");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        for bad in [&junk, &other, &dir.join("missing.sqlite3")] {
            assert!(
                matches!(
                    restore(&db, bad, chrono::Utc::now()),
                    Err(BackupError::NotOurs { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(epoch(&db), "first");
        assert_eq!(check(&db).unwrap().events, 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_data_directory_is_locked_while_held() {
        let dir = tempfile_dir("lock");
        let held = lock_data_dir(&dir).unwrap();
        assert!(matches!(lock_data_dir(&dir), Err(BackupError::InUse(_))));
        drop(held);
        drop(lock_data_dir(&dir).unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("onsite-{label}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
