//! A desk's log from a file (`onsite-server import-desk-log`): what a laptop that never got
//! network again held, exported by `onsite-desk-cli export-log`. It is decided exactly as the
//! pushes the desk would have made ([`crate::sync::check`], [`crate::sync::push`]): the desk
//! must be one the server enrolled for that conference, every event must name it, its
//! sequence continues the desk's (what the server has already is answered from the stored
//! outcomes, so importing a file twice, or a file and then the desk's own sync, counts each
//! event once).

use onsite_shared::aggregate::Timestamp;
use onsite_shared::protocol::{
    DESK_LOG_FORMAT, DeskLog, MAX_PUSH_ITEMS, OutcomeStatus, PushRequest,
};

use crate::params;
use crate::storage::{Store, StoreError};
use crate::sync::{self, Desk, PushError};

#[derive(Debug, thiserror::Error)]
pub enum DeskLogError {
    #[error("this is not a desk's log (format {0:?}, expected {DESK_LOG_FORMAT:?})")]
    Format(String),
    #[error("the server has no desk {0}")]
    NoDesk(String),
    #[error("desk {device} is enrolled for conference {enrolled}, the log says {claimed}")]
    OtherConference {
        device: String,
        enrolled: String,
        claimed: String,
    },
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What importing a log did, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub events: usize,
    pub accepted: usize,
    pub compensated: usize,
    pub rejected: usize,
    /// Already on the server (synced before, or imported before; under this client or
    /// another): counted once, as they were.
    pub already: usize,
    /// The desk was revoked: its events are imported all the same (head office chose to).
    pub revoked: bool,
}

/// Imports `log` as the desk's pushes, in batches of at most [`MAX_PUSH_ITEMS`].
pub async fn import<S: Store>(
    store: &S,
    log: DeskLog,
    now: Timestamp,
) -> Result<Imported, DeskLogError> {
    if log.format != DESK_LOG_FORMAT {
        return Err(DeskLogError::Format(log.format.chars().take(40).collect()));
    }
    let device = log.device.to_string();
    let rows = store
        .read(move |tx| {
            tx.query(
                "SELECT conference, revoked_at FROM devices WHERE device_id = $1",
                params![device],
            )
        })
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| DeskLogError::NoDesk(log.device.to_string()))?;
    let enrolled = row.text(0)?;
    if enrolled != log.conference.to_string() {
        return Err(DeskLogError::OtherConference {
            device: log.device.to_string(),
            enrolled,
            claimed: log.conference.to_string(),
        });
    }
    let desk = Desk {
        device: log.device,
        conference: log.conference,
    };
    let mut imported = Imported {
        events: log.push.items.len(),
        revoked: row.opt_text(1)?.is_some(),
        ..Imported::default()
    };
    let client = log.push.client_id;
    let had = store
        .read(move |tx| sync::last_client_seq(tx, Some(client)))
        .await?;
    let mut push = log.push;
    let mut items = std::mem::take(&mut push.items).into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<_> = items.by_ref().take(MAX_PUSH_ITEMS).collect();
        let req = PushRequest {
            items: batch,
            pending_after: 0,
            ..push.clone()
        };
        let checked = sync::check(desk, req)?;
        let response = store
            .write(move |tx| sync::push(tx, desk, &checked, now))
            .await?;
        for o in &response.outcomes {
            match o.status {
                _ if o.client_seq <= had => imported.already += 1,
                OutcomeStatus::Duplicate => imported.already += 1,
                OutcomeStatus::Accepted => imported.accepted += 1,
                OutcomeStatus::Compensated => imported.compensated += 1,
                OutcomeStatus::Rejected => imported.rejected += 1,
                // The server decides; only a relay holds, and a log is imported upstream.
                OutcomeStatus::Held => {}
            }
        }
    }
    Ok(imported)
}
