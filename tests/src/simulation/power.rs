//! Power cuts: a SQLite VFS that remembers, for every file of a simulated machine, what was
//! written since that file's last sync, and at a power cut takes all of it back or a seeded
//! part (SQLite's own crash tests do this with a VFS over the real one, `test6.c`).
//!
//! A process that is killed keeps what it wrote: the operating system still holds it and
//! writes it out later. Only a sync puts a write out of a power cut's reach. This VFS wraps
//! the operating system's VFS (every call goes through to the real files) and, for each file
//! under a machine's directory, keeps the content each 512-byte sector had at the last sync
//! before a write changed it, and the length the file had then. At a power cut the machine's
//! files stop taking writes, syncs and deletes (the process is dead: what it does next never
//! reaches the disk); once every handle is closed, each file gets back, per sector, either the
//! synced content (lost) or the new one (it had reached the disk anyway), and its synced
//! length or its new one. The first process to open the database again finds what a real
//! power cut would have left, and SQLite recovers from it.
//!
//! Installed as the process's default VFS, so the desk and the server use it without knowing.
//! Files outside every machine's directory pass straight through.
#![allow(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use rusqlite::ffi;

use super::schedule::Rng;

/// The unit a disk writes whole: a power cut keeps or loses each sector of a write.
const SECTOR: u64 = 512;

/// Whether a machine's power is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Power {
    On,
    /// On for this many more writes, syncs, truncations or deletions, then off.
    For(u32),
    Off,
}

/// What a machine's files hold that a power cut could take back.
#[derive(Default)]
struct Disk {
    /// Machine directory → its power.
    machines: HashMap<PathBuf, Power>,
    /// Every file of a machine that was written since it was opened (full path).
    files: HashMap<PathBuf, Unsynced>,
}

/// One file's writes since its last sync.
#[derive(Default)]
struct Unsynced {
    /// Its length at the last sync.
    synced_len: u64,
    /// Sector → its content at the last sync, for every sector written since.
    before: BTreeMap<u64, Vec<u8>>,
}

fn disk() -> MutexGuard<'static, Disk> {
    static DISK: OnceLock<Mutex<Disk>> = OnceLock::new();
    DISK.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

impl Disk {
    /// The machine a file belongs to, if any.
    fn machine_of(&self, path: &Path) -> Option<&PathBuf> {
        self.machines.keys().find(|root| path.starts_with(root))
    }

    /// Whether an operation that changes `path` on disk reaches it (counting it down when
    /// the power is about to go).
    fn powered(&mut self, path: &Path) -> bool {
        let Some(root) = self.machine_of(path).cloned() else {
            return true;
        };
        let Some(power) = self.machines.get_mut(&root) else {
            return true;
        };
        match *power {
            Power::On => true,
            Power::For(0) | Power::Off => {
                *power = Power::Off;
                false
            }
            Power::For(n) => {
                *power = Power::For(n - 1);
                true
            }
        }
    }
}

/// A machine whose files a power cut can reach: its directory (which exists), until dropped.
pub struct Machine {
    root: PathBuf,
}

impl Machine {
    /// Puts `dir`'s files under the power-cut VFS (installed on first use).
    pub fn new(dir: &Path) -> Result<Self, String> {
        install()?;
        let root = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        disk().machines.insert(root.clone(), Power::On);
        Ok(Self { root })
    }

    /// The power goes after `operations` more writes, syncs, truncations or deletions of the
    /// machine's files: from then on nothing its processes do reaches its disk. Let the
    /// machine work, close every handle on its files, then call [`Machine::restore`] (which
    /// cuts the power first if it is still on).
    pub fn cut_after(&self, operations: u32) {
        disk()
            .machines
            .insert(self.root.clone(), Power::For(operations));
    }

    /// The power comes back: every file of the machine holds, per sector written since its
    /// last sync, the old content or the new one (every sector old when `all_lost`, else
    /// each drawn from `rng`), and its old length or its new one. Returns how many sectors
    /// were lost.
    pub fn restore(&self, rng: &mut Rng, all_lost: bool) -> Result<u64, String> {
        let mut disk = disk();
        disk.machines.insert(self.root.clone(), Power::Off);
        let mut lost = 0;
        let paths: Vec<PathBuf> = disk
            .files
            .keys()
            .filter(|p| p.starts_with(&self.root))
            .cloned()
            .collect();
        for path in paths {
            let Some(unsynced) = disk.files.get_mut(&path) else {
                continue;
            };
            let say = |e: std::io::Error| format!("{}: {e}", path.display());
            let file = match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    disk.files.remove(&path);
                    continue;
                }
                Err(e) => return Err(say(e)),
            };
            let len = file.metadata().map_err(say)?.len();
            for (sector, content) in &unsynced.before {
                if all_lost || rng.percent(50) {
                    file.write_all_at(content, sector * SECTOR).map_err(say)?;
                    lost += 1;
                }
            }
            let keep_len = len != unsynced.synced_len && !all_lost && rng.percent(50);
            let new_len = if keep_len { len } else { unsynced.synced_len };
            if keep_len {
                // Grown since the sync and the length survived: each new sector holds what was
                // written or, lost, nothing.
                let zeros = vec![0u8; SECTOR as usize];
                let mut sector = unsynced.synced_len.div_ceil(SECTOR);
                while sector * SECTOR < len {
                    if rng.percent(50) {
                        file.write_all_at(&zeros, sector * SECTOR).map_err(say)?;
                        lost += 1;
                    }
                    sector += 1;
                }
            }
            file.set_len(new_len).map_err(say)?;
            unsynced.before.clear();
            unsynced.synced_len = new_len;
        }
        disk.machines.insert(self.root.clone(), Power::On);
        Ok(lost)
    }

    /// `path` (a closed database file, with its log) was replaced by a copy made outside
    /// SQLite, and synced: nothing of it is unsynced any more.
    pub fn replaced(&self, path: &Path) {
        let Some(full) = path.to_str().and_then(full_path) else {
            return;
        };
        let mut wal = full.clone().into_os_string();
        wal.push("-wal");
        let mut disk = disk();
        disk.files.remove(&full);
        disk.files.remove(Path::new(&wal));
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let mut disk = disk();
        disk.machines.remove(&self.root);
        disk.files.retain(|p, _| !p.starts_with(&self.root));
    }
}

/// The operating system's VFS, which this one wraps.
fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    INNER.get().map_or(ptr::null_mut(), |p| p.0)
}

struct VfsPtr(*mut ffi::sqlite3_vfs);
// SAFETY: a registered VFS is immutable and lives for the whole process.
unsafe impl Send for VfsPtr {}
// SAFETY: as above.
unsafe impl Sync for VfsPtr {}

static INNER: OnceLock<VfsPtr> = OnceLock::new();

/// Registers the power-cut VFS as the process's default, once.
fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            // SAFETY: sqlite3_initialize is safe to call any number of times; the default
            // VFS it finds is registered for the process's lifetime.
            let inner = unsafe {
                ffi::sqlite3_initialize();
                ffi::sqlite3_vfs_find(ptr::null())
            };
            if inner.is_null() {
                return Err("SQLite has no default VFS".into());
            }
            let _ = INNER.set(VfsPtr(inner));
            // SAFETY: `inner` is a registered VFS: copying its description is reading plain
            // data. Our copy lives forever (leaked), as a registered VFS must.
            let ours = unsafe {
                let mut v = *inner;
                v.zName = c"onsite-power-cut".as_ptr();
                v.pNext = ptr::null_mut();
                v.pAppData = ptr::null_mut();
                v.szOsFile = c_int::try_from(HEADER).unwrap_or(c_int::MAX) + (*inner).szOsFile;
                v.xOpen = Some(open);
                v.xDelete = Some(delete);
                v.xAccess = Some(access);
                v.xFullPathname = Some(full_pathname);
                Box::leak(Box::new(v))
            };
            // SAFETY: `ours` is a complete VFS that lives forever.
            let rc = unsafe { ffi::sqlite3_vfs_register(ours, 1) };
            if rc == ffi::SQLITE_OK {
                Ok(())
            } else {
                Err(format!("registering the power-cut VFS: {rc}"))
            }
        })
        .clone()
}

/// Our file object: the wrapper's fields, then the real VFS's file at `HEADER` bytes.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// The file's full path when it belongs to a machine (owned, freed at close), else null.
    tracked: *mut PathBuf,
}

const HEADER: usize = std::mem::size_of::<File>().next_multiple_of(16);

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The real file and its methods.
///
/// # Safety
/// `f` is a file this VFS opened and has not closed.
unsafe fn real(f: *mut ffi::sqlite3_file) -> (*mut ffi::sqlite3_file, ffi::sqlite3_io_methods) {
    // SAFETY: per the contract, `f` is our `File` and its inner file is open.
    unsafe {
        let inner = (*f.cast::<File>()).inner;
        (inner, *(*inner).pMethods)
    }
}

/// # Safety
/// As [`real`].
unsafe fn tracked(f: *mut ffi::sqlite3_file) -> Option<&'static Path> {
    // SAFETY: `tracked` is null or a path owned by the open file; it is freed only by
    // `close`, after which SQLite no longer calls us with `f`.
    unsafe { (*f.cast::<File>()).tracked.as_ref().map(PathBuf::as_path) }
}

/// A file's name with its directory's symbolic links resolved: how machines are told apart.
fn full_path(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    let parent = std::fs::canonicalize(path.parent()?).ok()?;
    Some(parent.join(path.file_name()?))
}

fn c_name<'a>(name: *const c_char) -> Option<&'a str> {
    if name.is_null() {
        return None;
    }
    // SAFETY: SQLite passes NUL-terminated names that live while the call does.
    unsafe { CStr::from_ptr(name) }.to_str().ok()
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner_vfs = inner_vfs();
    // SAFETY: SQLite gave us `szOsFile` bytes at `f`: our header, then room for the real
    // VFS's file, which its xOpen fills in.
    unsafe {
        let me = f.cast::<File>();
        let inner = f.cast::<u8>().add(HEADER).cast::<ffi::sqlite3_file>();
        ptr::write(
            me,
            File {
                base: ffi::sqlite3_file {
                    pMethods: ptr::null(),
                },
                inner,
                tracked: ptr::null_mut(),
            },
        );
        (*inner).pMethods = ptr::null();
        let Some(real_open) = (*inner_vfs).xOpen else {
            return ffi::SQLITE_CANTOPEN;
        };
        let rc = real_open(inner_vfs, name, inner, flags, out_flags);
        if (*inner).pMethods.is_null() {
            return rc;
        }
        (*me).base.pMethods = &METHODS;
        if let Some(path) = c_name(name).and_then(full_path) {
            let mut disk = disk();
            if disk.machine_of(&path).is_some() {
                if !disk.files.contains_key(&path) {
                    let mut size: i64 = 0;
                    if let Some(file_size) = (*(*inner).pMethods).xFileSize {
                        file_size(inner, &mut size);
                    }
                    disk.files.insert(
                        path.clone(),
                        Unsynced {
                            synced_len: u64::try_from(size).unwrap_or(0),
                            before: BTreeMap::new(),
                        },
                    );
                }
                (*me).tracked = Box::into_raw(Box::new(path));
            }
        }
        rc
    }
}

unsafe extern "C" fn delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    let inner_vfs = inner_vfs();
    let path = c_name(name).and_then(full_path);
    let mut disk = disk();
    if let Some(path) = &path
        && !disk.powered(path)
    {
        return ffi::SQLITE_IOERR_DELETE;
    }
    // SAFETY: forwarding SQLite's own arguments to the real VFS.
    let rc = unsafe {
        match (*inner_vfs).xDelete {
            Some(real_delete) => real_delete(inner_vfs, name, sync_dir),
            None => ffi::SQLITE_IOERR_DELETE,
        }
    };
    if rc == ffi::SQLITE_OK
        && let Some(path) = &path
    {
        disk.files.remove(path);
    }
    rc
}

unsafe extern "C" fn access(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    let inner_vfs = inner_vfs();
    // SAFETY: forwarding SQLite's own arguments to the real VFS.
    unsafe {
        match (*inner_vfs).xAccess {
            Some(real_access) => real_access(inner_vfs, name, flags, out),
            None => ffi::SQLITE_IOERR_ACCESS,
        }
    }
}

unsafe extern "C" fn full_pathname(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n: c_int,
    out: *mut c_char,
) -> c_int {
    let inner_vfs = inner_vfs();
    // SAFETY: forwarding SQLite's own arguments to the real VFS.
    unsafe {
        match (*inner_vfs).xFullPathname {
            Some(real_full) => real_full(inner_vfs, name, n, out),
            None => ffi::SQLITE_CANTOPEN,
        }
    }
}

/// Keeps the synced content of every sector in `from..to` not kept yet (below the synced
/// length: beyond it, a lost sector is the length's business).
///
/// # Safety
/// `inner` is an open real file.
unsafe fn keep_before(
    inner: *mut ffi::sqlite3_file,
    methods: &ffi::sqlite3_io_methods,
    unsynced: &mut Unsynced,
    from: u64,
    to: u64,
) {
    let Some(real_read) = methods.xRead else {
        return;
    };
    let mut sector = from / SECTOR;
    while sector * SECTOR < to.min(unsynced.synced_len) {
        if let std::collections::btree_map::Entry::Vacant(slot) = unsynced.before.entry(sector) {
            let mut content = vec![0u8; SECTOR as usize];
            // SAFETY: reading one sector into a buffer of that size; a short read (the
            // sector straddles the end) fills the rest with zeros.
            unsafe {
                real_read(
                    inner,
                    content.as_mut_ptr().cast(),
                    SECTOR as c_int,
                    i64::try_from(sector * SECTOR).unwrap_or(i64::MAX),
                );
            }
            slot.insert(content);
        }
        sector += 1;
    }
}

unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes each file it opened once; we free what `open` allocated.
    unsafe {
        let (inner, methods) = real(f);
        let rc = methods.xClose.map_or(ffi::SQLITE_OK, |c| c(inner));
        let me = f.cast::<File>();
        if !(*me).tracked.is_null() {
            drop(Box::from_raw((*me).tracked));
            (*me).tracked = ptr::null_mut();
        }
        rc
    }
}

unsafe extern "C" fn read(f: *mut ffi::sqlite3_file, buf: *mut c_void, n: c_int, at: i64) -> c_int {
    // SAFETY: forwarding to the real file.
    unsafe {
        let (inner, methods) = real(f);
        methods
            .xRead
            .map_or(ffi::SQLITE_IOERR_READ, |r| r(inner, buf, n, at))
    }
}

unsafe extern "C" fn write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    at: i64,
) -> c_int {
    // SAFETY: forwarding to the real file, after keeping what it overwrites.
    unsafe {
        let (inner, methods) = real(f);
        let Some(real_write) = methods.xWrite else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let Some(path) = tracked(f) else {
            return real_write(inner, buf, n, at);
        };
        // Held across the write: a sync in between must not count it as synced.
        let mut disk = disk();
        if !disk.powered(path) {
            return ffi::SQLITE_IOERR_WRITE;
        }
        if let Some(unsynced) = disk.files.get_mut(path) {
            let from = u64::try_from(at).unwrap_or(0);
            let to = from + u64::try_from(n).unwrap_or(0);
            keep_before(inner, &methods, unsynced, from, to);
        }
        real_write(inner, buf, n, at)
    }
}

unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: forwarding to the real file, after keeping what it cuts off.
    unsafe {
        let (inner, methods) = real(f);
        let Some(real_truncate) = methods.xTruncate else {
            return ffi::SQLITE_IOERR_TRUNCATE;
        };
        let Some(path) = tracked(f) else {
            return real_truncate(inner, size);
        };
        let mut disk = disk();
        if !disk.powered(path) {
            return ffi::SQLITE_IOERR_TRUNCATE;
        }
        if let Some(unsynced) = disk.files.get_mut(path) {
            let from = u64::try_from(size).unwrap_or(0);
            keep_before(inner, &methods, unsynced, from, u64::MAX);
        }
        real_truncate(inner, size)
    }
}

unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: forwarding to the real file; once synced, nothing of it can be lost.
    unsafe {
        let (inner, methods) = real(f);
        let Some(real_sync) = methods.xSync else {
            return ffi::SQLITE_IOERR_FSYNC;
        };
        let Some(path) = tracked(f) else {
            return real_sync(inner, flags);
        };
        let mut disk = disk();
        if !disk.powered(path) {
            return ffi::SQLITE_IOERR_FSYNC;
        }
        let rc = real_sync(inner, flags);
        if rc == ffi::SQLITE_OK
            && let Some(unsynced) = disk.files.get_mut(path)
        {
            let mut size: i64 = 0;
            if let Some(file_size) = methods.xFileSize {
                file_size(inner, &mut size);
            }
            unsynced.before.clear();
            unsynced.synced_len = u64::try_from(size).unwrap_or(0);
        }
        rc
    }
}

/// Methods that change nothing on disk go straight through.
macro_rules! forward {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(f: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: forwarding to the real file.
            unsafe {
                let (inner, methods) = real(f);
                methods.$method.map_or($missing, |m| m(inner $(, $arg)*))
            }
        }
    };
}

forward!(file_size, xFileSize, (size: *mut i64), ffi::SQLITE_IOERR_FSTAT);
forward!(lock, xLock, (level: c_int), ffi::SQLITE_IOERR_LOCK);
forward!(unlock, xUnlock, (level: c_int), ffi::SQLITE_IOERR_UNLOCK);
forward!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int), ffi::SQLITE_IOERR_CHECKRESERVEDLOCK);
forward!(file_control, xFileControl, (op: c_int, arg: *mut c_void), ffi::SQLITE_NOTFOUND);
forward!(sector_size, xSectorSize, (), SECTOR as c_int);
forward!(device_characteristics, xDeviceCharacteristics, (), 0);
forward!(shm_map, xShmMap, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR_SHMMAP);
forward!(shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int), ffi::SQLITE_IOERR_SHMLOCK);
forward!(shm_unmap, xShmUnmap, (delete: c_int), ffi::SQLITE_OK);
forward!(fetch, xFetch, (at: i64, n: c_int, out: *mut *mut c_void), ffi::SQLITE_OK);
forward!(unfetch, xUnfetch, (at: i64, p: *mut c_void), ffi::SQLITE_OK);

unsafe extern "C" fn shm_barrier(f: *mut ffi::sqlite3_file) {
    // SAFETY: forwarding to the real file.
    unsafe {
        let (inner, methods) = real(f);
        if let Some(barrier) = methods.xShmBarrier {
            barrier(inner);
        }
    }
}
