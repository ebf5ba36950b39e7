//! The server the stateful targets speak to: a real store (a SQLite file in a scratch
//! directory) holding one small conference (`world.json`), with ids the golden fixtures use, so
//! that the fixtures' desk events are valid pushes from its desk.
//!
//! One world per process, kept across inputs as a server keeps its state across requests; each
//! input speaks as a new client, so that a retry is decided again rather than answered from an
//! earlier input's sequence.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use onsite_server::import::{self, ImportFile};
use onsite_server::recorder::{Recorder, Rejected};
use onsite_server::storage::sqlite::SqliteStore;
use onsite_server::sync::Desk;
use onsite_server::{App, Config, Store};
use onsite_shared::Timestamp;
use onsite_shared::ids::{ConferenceId, DeviceId};

/// The world's conference, as an import file (also a seed of the `import_json` target).
pub(crate) const CONFERENCE: &str = include_str!("world.json");
/// The desk the pushes come from: the fixtures' device.
pub(crate) const DESK: &str = "01900000-0000-7000-8000-000000000201";

pub(crate) struct World {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) app: App<SqliteStore>,
    pub(crate) desk: Desk,
    pub(crate) now: Timestamp,
    next: AtomicU64,
    _dir: PathBuf,
}

impl World {
    pub(crate) fn get() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(|| World::open().expect("the fuzz world opens"))
    }

    /// A number no other input of this process had: for client ids, sources and ids.
    pub(crate) fn fresh(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn open() -> Result<World, Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("onsite-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let now: Timestamp = "2026-11-23T09:00:00Z".parse()?;
        let file: ImportFile = serde_json::from_str(CONFERENCE)?;
        let conference: ConferenceId = file.conference.new.id.ok_or("world.json names its id")?;
        let app = rt.block_on(async {
            let store = SqliteStore::open(&dir.join("onsite.sqlite3"))?;
            let app = App::open(store, Config::default()).await?;
            app.store
                .write(move |tx| {
                    let mut rec = Recorder::new(tx, conference, now);
                    import::ensure_conference(&mut rec, &file)?;
                    drop(rec);
                    import::import_batch(tx, conference, now, &file.source, &file.registrations)?;
                    Ok::<_, Rejected>(())
                })
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(app)
        })?;
        Ok(World {
            rt,
            app,
            desk: Desk {
                device: DESK.parse::<DeviceId>()?,
                conference,
            },
            now,
            next: AtomicU64::new(1),
            _dir: dir,
        })
    }
}
