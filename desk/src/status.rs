//! What the desk knows about its own logs: pending events, the last sync, the outbox history.

use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::EventId;
use onsite_shared::protocol::OutcomeStatus;

use crate::error::DeskError;
use crate::log;
use crate::store::{Desk, parse_time, setting};

/// The local half of the sync status (the sync client adds online/offline and skew).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LocalStatus {
    /// Events appended here that the server has not acknowledged.
    pub pending: u64,
    /// When the oldest of them happened (device time).
    #[ts(type = "string | null")]
    pub oldest_pending_at: Option<Timestamp>,
    /// The last time a sync (push and pull) completed.
    #[ts(type = "string | null")]
    pub last_sync: Option<Timestamp>,
    /// The highest `client_seq` the server has acknowledged.
    pub acknowledged: u64,
    /// The desk's own events, acknowledged or not.
    pub appended: u64,
    /// Authoritative events pulled.
    pub pulled: u64,
    /// Acknowledged by a venue relay (`held`), not decided upstream yet.
    pub held: u64,
    /// The server revoked this desk: it keeps working locally and stops syncing.
    pub revoked: bool,
    pub enrolled: bool,
}

/// One of the desk's own events, with the server's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct OutboxItem {
    pub client_seq: u64,
    pub event_id: EventId,
    pub event_type: String,
    #[ts(type = "string")]
    pub occurred_at: Timestamp,
    pub outcome: Option<OutcomeStatus>,
    pub reason: Option<String>,
}

impl Desk {
    pub fn local_status(&self) -> Result<LocalStatus, DeskError> {
        self.read(|conn| {
            let counts = log::counts(conn)?;
            Ok(LocalStatus {
                pending: counts.pending,
                oldest_pending_at: counts.oldest_pending_at,
                last_sync: setting(conn, "last_sync")?
                    .map(|t| parse_time(&t))
                    .transpose()?,
                acknowledged: counts.acknowledged,
                appended: counts.appended,
                pulled: counts.pulled,
                held: counts.held,
                revoked: setting(conn, "revoked")?.is_some(),
                enrolled: setting(conn, "token")?.is_some(),
            })
        })
    }

    /// The desk's own events from `after_seq` on, oldest first, with the server's answers.
    pub fn outbox(&self, after_seq: u64, limit: u32) -> Result<Vec<OutboxItem>, DeskError> {
        self.read(|conn| {
            Ok(log::own_events(conn, after_seq, limit)?
                .into_iter()
                .map(|e| OutboxItem {
                    client_seq: e.client_seq,
                    event_id: e.event_id,
                    event_type: e.event_type,
                    occurred_at: e.occurred_at,
                    outcome: e.outcome,
                    reason: e.reason,
                })
                .collect())
        })
    }
}
