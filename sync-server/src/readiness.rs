//! Desks' readiness for the doors: each desk reports the facts of its checklist after a sync
//! ([`onsite_shared::readiness`]); the server adds its own ticket count, judges the checklist
//! itself (never the desk's verdict), keeps the facts, and answers. Head office reads every
//! desk's checklist judged again at read time, the facts aged by how long the desk has been
//! quiet (a desk that stopped syncing turns amber, then red, by itself).

use onsite_shared::Timestamp;
use onsite_shared::ids::{ConferenceId, DeviceId};
use onsite_shared::readiness::{self, Bounds, Facts, Readiness, ReportAnswer};
use serde::{Deserialize, Serialize};

use crate::params;
use crate::recorder::Rejected;
use crate::storage::{StoreError, Tx, time_text};

/// Error code of a report out of bounds.
pub const BAD_REPORT: &str = "readiness.bad_report";

/// One desk's checklist for head office.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeskReadiness {
    pub desk: DeviceId,
    pub name: String,
    /// When the desk last reported (`None`: never; its checklist is then not known).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reported_at: Option<Timestamp>,
    pub readiness: Option<Readiness>,
}

fn tickets(tx: &mut dyn Tx, conference: ConferenceId) -> Result<u64, StoreError> {
    crate::storage::count(
        tx,
        "SELECT COUNT(*) FROM tickets WHERE conference = $1",
        params![conference.to_string()],
    )
}

/// Takes a desk's report: judged with the server's ticket count, kept, answered.
pub fn report(
    tx: &mut dyn Tx,
    desk: DeviceId,
    conference: ConferenceId,
    mut facts: Facts,
    now: Timestamp,
) -> Result<ReportAnswer, Rejected> {
    if !facts.within_bounds() {
        return Err(Rejected::Domain {
            code: BAD_REPORT,
            message: format!(
                "a readiness report has at most {} entries per list and {} bytes per text",
                readiness::MAX_REPORT_ENTRIES,
                readiness::MAX_REPORT_TEXT
            ),
        });
    }
    let server_tickets = tickets(tx, conference)?;
    facts.server_tickets = Some(server_tickets);
    let json = serde_json::to_string(&facts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "DELETE FROM desk_readiness WHERE device_id = $1",
        params![desk.to_string()],
    )?;
    tx.execute(
        "INSERT INTO desk_readiness (device_id, conference, facts, reported_at) \
         VALUES ($1, $2, $3, $4)",
        params![
            desk.to_string(),
            conference.to_string(),
            json,
            time_text(&now)
        ],
    )?;
    Ok(ReportAnswer {
        server_tickets,
        readiness: readiness::assess(&facts, &Bounds::default()),
    })
}

/// Every desk of the conference with its checklist as of `now`.
pub fn desks(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    now: Timestamp,
) -> Result<Vec<DeskReadiness>, StoreError> {
    let rows = tx.query(
        "SELECT d.device_id, d.name, r.facts, r.reported_at FROM devices d \
         LEFT JOIN desk_readiness r ON r.device_id = d.device_id \
         WHERE d.conference = $1 AND d.revoked_at IS NULL ORDER BY d.created_at",
        params![conference.to_string()],
    )?;
    rows.iter()
        .map(|r| {
            let reported_at = r
                .opt_text(3)?
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))
                })
                .transpose()?;
            let facts: Option<Facts> = r
                .opt_text(2)?
                .map(|f| serde_json::from_str(&f))
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let readiness = facts.zip(reported_at).map(|(f, at)| {
                readiness::assess(&f.aged((now - at).num_seconds()), &Bounds::default())
            });
            Ok(DeskReadiness {
                desk: r.parse(0)?,
                name: r.text(1)?,
                reported_at,
                readiness,
            })
        })
        .collect()
}
