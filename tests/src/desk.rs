//! Desks for tests: the real desk core (a SQLite file of its own) enrolled against a real
//! `onsite-server`, with the real sync client driven from a small tokio runtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use onsite_desk_core::printing::Cups;
use onsite_desk_core::sync::{self, SyncClient, SyncError, SyncReport};
use onsite_desk_core::{Desk, print_pending};
use onsite_shared::ids::ConferenceId;
use serde_json::json;

use crate::server::TestServer;

pub struct LocalDesk {
    pub desk: Arc<Desk>,
    pub sync: SyncClient,
    pub db: PathBuf,
    runtime: tokio::runtime::Runtime,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

impl TestServer {
    /// A one-time enrolment code for a new desk of `conference`.
    pub fn enrolment_code(&self, conference: ConferenceId, name: &str) -> Result<String> {
        let e = self.admin(
            reqwest::Method::POST,
            &format!("/v1/conferences/{conference}/devices"),
            Some(json!({"name": name})),
        )?;
        Ok(e["code"].as_str().context("code")?.to_owned())
    }
}

impl LocalDesk {
    /// Opens a desk database under `dir` and enrols it with a fresh code.
    pub fn enrol(
        server: &TestServer,
        conference: ConferenceId,
        name: &str,
        dir: &Path,
    ) -> Result<Self> {
        let desk = Self::open(&dir.join(format!("{name}.sqlite3")))?;
        let code = server.enrolment_code(conference, name)?;
        desk.runtime
            .block_on(sync::enrol(&desk.desk, &server.url, &code))?;
        Ok(desk)
    }

    /// Opens a desk database at `db` and enrols it with a code someone was given.
    pub fn enrol_with_code(server_url: &str, code: &str, db: &Path) -> Result<Self> {
        let desk = Self::open(db)?;
        desk.runtime
            .block_on(sync::enrol(&desk.desk, server_url, code))?;
        Ok(desk)
    }

    /// Opens an existing (or new, unenrolled) desk database.
    pub fn open(db: &Path) -> Result<Self> {
        let desk = Arc::new(Desk::open(db)?);
        Ok(Self {
            sync: SyncClient::new(Arc::clone(&desk))?,
            desk,
            db: db.to_owned(),
            runtime: runtime()?,
        })
    }

    /// The runtime this desk's async calls run on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Sells at the door as the window does: behind a venue relay, seats from its venue
    /// lease first.
    pub fn sell_at_door(
        &self,
        req: &onsite_desk_core::SaleRequest,
    ) -> Result<onsite_desk_core::SaleReceipt> {
        Ok(self.runtime.block_on(self.sync.sell(req, false))?)
    }

    /// One sync round; fails if it does not complete.
    pub fn sync(&self) -> Result<SyncReport> {
        Ok(self.try_sync()?)
    }

    pub fn try_sync(&self) -> Result<SyncReport, SyncError> {
        self.runtime.block_on(self.sync.sync_once())
    }

    /// Runs the print pipeline against `cups` until no job is queued or at the spooler.
    pub fn print_until_settled(&self, cups: &Cups, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let pass = self.runtime.block_on(print_pending(&self.desk, cups))?;
            if pass.active == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "print jobs still active after {timeout:?}: {:?}",
                    self.print_jobs(10)?
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl std::ops::Deref for LocalDesk {
    type Target = Desk;
    fn deref(&self) -> &Desk {
        &self.desk
    }
}
