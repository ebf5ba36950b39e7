//! The log file (`-wal`), opened and synced through SQLite's own file layer, its VFS.
//!
//! The syncer thread syncs the log that the writer's connection wrote. It does so through the
//! VFS that wrote it (the process's default, the operating system's files in production), not
//! around it with a file handle of its own: then whatever VFS SQLite runs on sees the sync
//! where it happens. The simulator's power-cut VFS (issue 26) needs exactly that: it keeps
//! every write since the last sync of a file and drops them at a simulated power cut, so a
//! sync it could not see would look like one that never happened.
//!
//! This is the one place of the server that calls SQLite's C interface directly: opening a
//! file and syncing it are VFS methods, which rusqlite does not wrap.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_int};
use std::path::Path;
use std::ptr;

use rusqlite::ffi;

use crate::storage::StoreError;

/// The log file of a database, open through the default VFS for syncing.
pub(super) struct LogFile {
    /// The database's name with its journal's and log's names, as SQLite's own VFS calls
    /// pass them (`sqlite3_create_filename`); it outlives the open file, as VFSes may keep it.
    name: ffi::sqlite3_filename,
    /// The VFS's file object: `szOsFile` bytes, aligned for any of its fields.
    file: Box<[u64]>,
    open: bool,
}

// SAFETY: the file object is used by one thread at a time (the syncer's, through `&mut self`
// or after a move); VFS file objects are not tied to the thread that opened them.
unsafe impl Send for LogFile {}

fn failed(what: &str, rc: c_int) -> StoreError {
    // SAFETY: sqlite3_errstr returns a static, NUL-terminated string for any code.
    let why = unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)) };
    StoreError::Database(format!("{what}: {} ({rc})", why.to_string_lossy()))
}

impl LogFile {
    /// Opens the log of the database at `database` (which must exist: the writer's
    /// connection created it).
    pub(super) fn open(database: &Path) -> Result<Self, StoreError> {
        // SAFETY: a null name asks for the default VFS, which SQLite always has once a
        // connection was opened (it initialised itself then); the pointer lives forever.
        let vfs = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
        if vfs.is_null() {
            return Err(StoreError::Database("SQLite has no default VFS".into()));
        }
        let text = |p: &str| {
            CString::new(p).map_err(|_| StoreError::Database("a NUL in the data path".into()))
        };
        let given = text(
            database
                .to_str()
                .ok_or_else(|| StoreError::Database("the data path is not UTF-8".into()))?,
        )?;
        // The database's full name as SQLite's own opening made it, so that the log is named
        // exactly as the writer's connection named it.
        // SAFETY: `vfs` is registered; `full` has the room its `mxPathname` asks for, and the
        // VFS writes a NUL-terminated name into it.
        let db = unsafe {
            let room = usize::try_from((*vfs).mxPathname).unwrap_or(0) + 1;
            let mut full = vec![0u8; room];
            let name = (*vfs)
                .xFullPathname
                .ok_or_else(|| failed("the VFS cannot name a file", 1))?;
            let rc = name(
                vfs,
                given.as_ptr(),
                c_int::try_from(room).unwrap_or(c_int::MAX),
                full.as_mut_ptr().cast(),
            );
            if rc != ffi::SQLITE_OK {
                return Err(failed("cannot name the database file", rc));
            }
            CStr::from_bytes_until_nul(&full)
                .map_err(|_| StoreError::Database("the VFS gave a name without an end".into()))?
                .to_str()
                .map_err(|_| StoreError::Database("the data path is not UTF-8".into()))?
                .to_owned()
        };
        let (db_name, journal, wal) = (
            text(&db)?,
            text(&format!("{db}-journal"))?,
            text(&format!("{db}-wal"))?,
        );
        // SAFETY: the three names are valid C strings; SQLite copies them into one block,
        // which `Drop` frees.
        let name = unsafe {
            ffi::sqlite3_create_filename(
                db_name.as_ptr(),
                journal.as_ptr(),
                wal.as_ptr(),
                0,
                ptr::null_mut(),
            )
        };
        if name.is_null() {
            return Err(StoreError::Database("out of memory naming the log".into()));
        }
        // SAFETY: `vfs` is a registered VFS; its size field is plain data.
        let size = usize::try_from(unsafe { (*vfs).szOsFile }).unwrap_or(0);
        let mut log = Self {
            name,
            file: vec![0u64; size.div_ceil(8).max(1)].into_boxed_slice(),
            open: false,
        };
        let mut out_flags: c_int = 0;
        // SAFETY: `file` has the size the VFS asked for and lives as long as `log`; the WAL
        // name lives until `Drop` (after the file is closed); the flags are those SQLite uses
        // to open a log that exists.
        let rc = unsafe {
            let open = (*vfs)
                .xOpen
                .ok_or_else(|| failed("the VFS cannot open", 1))?;
            open(
                vfs,
                ffi::sqlite3_filename_wal(name),
                log.file_ptr(),
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_WAL,
                &mut out_flags,
            )
        };
        // A VFS that set the methods must be closed even when it failed (SQLite's rule).
        // SAFETY: reading the methods pointer the VFS may have set in the zeroed file.
        log.open = unsafe { !(*log.file_ptr()).pMethods.is_null() };
        if rc != ffi::SQLITE_OK {
            return Err(failed("cannot open the log file", rc));
        }
        Ok(log)
    }

    fn file_ptr(&mut self) -> *mut ffi::sqlite3_file {
        self.file.as_mut_ptr().cast()
    }

    /// Syncs the log's data to disk (what `fdatasync` does).
    pub(super) fn sync(&mut self) -> Result<(), StoreError> {
        let file = self.file_ptr();
        // SAFETY: the file is open (`open` succeeded) and used by this thread only.
        let rc = unsafe {
            let sync = (*(*file).pMethods)
                .xSync
                .ok_or_else(|| failed("the VFS cannot sync", 1))?;
            sync(file, ffi::SQLITE_SYNC_NORMAL | ffi::SQLITE_SYNC_DATAONLY)
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(failed("cannot sync the log file", rc))
        }
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        if self.open {
            let file = self.file_ptr();
            // SAFETY: closing, once, a file the VFS opened (or set methods on).
            unsafe {
                if let Some(close) = (*(*file).pMethods).xClose {
                    close(file);
                }
            }
        }
        // SAFETY: freed once, after the only file that used it was closed.
        unsafe { ffi::sqlite3_free_filename(self.name) };
    }
}
