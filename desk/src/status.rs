//! What the desk knows about its own logs: pending events, the last sync, the outbox history.

use serde::Serialize;

use onsite_shared::aggregate::Timestamp;
use onsite_shared::ids::EventId;
use onsite_shared::protocol::OutcomeStatus;

use crate::error::DeskError;
use crate::store::{Desk, parse_setting, parse_time, setting};

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

pub(crate) fn outcome_text(s: OutcomeStatus) -> &'static str {
    match s {
        OutcomeStatus::Accepted => "accepted",
        OutcomeStatus::Duplicate => "duplicate",
        OutcomeStatus::Compensated => "compensated",
        OutcomeStatus::Rejected => "rejected",
    }
}

fn parse_outcome(s: &str) -> Option<OutcomeStatus> {
    match s {
        "accepted" => Some(OutcomeStatus::Accepted),
        "duplicate" => Some(OutcomeStatus::Duplicate),
        "compensated" => Some(OutcomeStatus::Compensated),
        "rejected" => Some(OutcomeStatus::Rejected),
        _ => None,
    }
}

impl Desk {
    pub fn local_status(&self) -> Result<LocalStatus, DeskError> {
        self.read(|conn| {
            let acknowledged: u64 = parse_setting(conn, "acked_seq")?.unwrap_or(0);
            let (pending, oldest): (u64, Option<String>) = conn.query_row(
                "SELECT COUNT(*), MIN(occurred_at) FROM outbox WHERE client_seq > ?1",
                [acknowledged],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let appended: u64 =
                conn.query_row("SELECT COALESCE(MAX(client_seq), 0) FROM outbox", [], |r| {
                    r.get(0)
                })?;
            let pulled: u64 = conn.query_row("SELECT COUNT(*) FROM remote", [], |r| r.get(0))?;
            Ok(LocalStatus {
                pending,
                oldest_pending_at: oldest.map(|t| parse_time(&t)).transpose()?,
                last_sync: setting(conn, "last_sync")?
                    .map(|t| parse_time(&t))
                    .transpose()?,
                acknowledged,
                appended,
                pulled,
                revoked: setting(conn, "revoked")?.is_some(),
                enrolled: setting(conn, "token")?.is_some(),
            })
        })
    }

    /// The desk's own events from `after_seq` on, oldest first, with the server's answers.
    pub fn outbox(&self, after_seq: u64, limit: u32) -> Result<Vec<OutboxItem>, DeskError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT client_seq, event_id, event_type, occurred_at, outcome, reason FROM outbox \
                 WHERE client_seq > ?1 ORDER BY client_seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(rusqlite::params![after_seq, limit], |r| {
                Ok((
                    r.get::<_, u64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (client_seq, event_id, event_type, occurred_at, outcome, reason) = row?;
                out.push(OutboxItem {
                    client_seq,
                    event_id: event_id
                        .parse()
                        .map_err(|_| DeskError::Corrupt(format!("bad event id {event_id:?}")))?,
                    event_type,
                    occurred_at: parse_time(&occurred_at)?,
                    outcome: outcome.as_deref().and_then(parse_outcome),
                    reason,
                });
            }
            Ok(out)
        })
    }
}
