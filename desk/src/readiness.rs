//! Ready for the doors? What this desk knows for the checklist ([`onsite_shared::readiness`]):
//! its roster against the server's count, its last sync and what waits to be sent, the seat
//! types that run out and what it holds of them, its badge printer as the spooler last
//! described it, and its free disk. The clock's skew is the sync client's to add.

use chrono::TimeZone;
use onsite_shared::aggregate::Timestamp;
use onsite_shared::conference::OversellPolicy;
use onsite_shared::readiness::{Facts, PrinterFacts, ScarceSeat};
use rusqlite::Connection;

use crate::error::DeskError;
use crate::printing::{Printer, Spooler};
use crate::store::{Desk, set_setting, setting, time_text};

/// The start of today where the conference is (its time zone; UTC when it names none).
fn start_of_today(zone: onsite_shared::admission_rules::Tz, now: Timestamp) -> Timestamp {
    let local = now.with_timezone(&zone).date_naive();
    zone.from_local_datetime(&local.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or(now, |t| t.with_timezone(&chrono::Utc))
}

fn printed_since(conn: &Connection, printer: &str, since: Timestamp) -> Result<bool, DeskError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM print_jobs WHERE state = 'completed' AND printer = ?1 \
             AND updated_at >= ?2)",
        )?
        .query_row(rusqlite::params![printer, time_text(&since)], |r| r.get(0))?)
}

impl Desk {
    /// Records what the spooler said of `printer` (`None`: it did not answer), for the
    /// checklist and for head office, which see it until the next probe.
    pub fn record_printer_probe(
        &self,
        printer: &str,
        answer: Option<&Printer>,
    ) -> Result<(), DeskError> {
        let probe = PrinterFacts {
            chosen: Some(printer.to_owned()),
            reachable: Some(answer.is_some()),
            problem: answer.and_then(|p| {
                p.problem().or_else(|| {
                    let paper = ["media-empty", "media-needed", "media-jam"];
                    p.reasons
                        .iter()
                        .find(|r| paper.iter().any(|m| r.starts_with(m)))
                        .map(|r| format!("printer {} reports {r}", p.name))
                })
            }),
            media_wanted: None,
            media_ready: answer.map(|p| p.media_ready.clone()).unwrap_or_default(),
            media_supported: answer
                .map(|p| p.media_supported.clone())
                .unwrap_or_default(),
            printed_today: false,
        };
        let json = serde_json::to_string(&probe)?;
        self.write(|tx| set_setting(tx, "printer_probe", &json))
    }

    /// Keeps the server's ticket count, as it answered the desk's last readiness report.
    pub fn record_server_tickets(&self, tickets: u64) -> Result<(), DeskError> {
        self.write(|tx| set_setting(tx, "server_tickets", &tickets.to_string()))
    }

    /// The facts of this desk's checklist, with `clock_skew_ms` as the sync client measured it.
    pub fn readiness_facts(&self, clock_skew_ms: Option<i64>) -> Result<Facts, DeskError> {
        let now = self.now();
        let status = self.local_status()?;
        let settings = self.print_settings().ok();
        let availability = self.availability().unwrap_or_default();
        let free_disk_bytes = self
            .path()
            .parent()
            .and_then(|dir| fs4::available_space(dir).ok());
        self.read(|conn| {
            let desk_tickets: i64 =
                conn.query_row("SELECT COUNT(DISTINCT code) FROM roster", [], |r| r.get(0))?;
            let server_tickets = setting(conn, "server_tickets")?.and_then(|n| n.parse().ok());
            let conference = Desk::identity(conn)
                .ok()
                .map(|id| self.conference(conn, id))
                .transpose()?;
            let chosen = settings.as_ref().and_then(|s| s.printer.clone());
            let probed: Option<PrinterFacts> =
                setting(conn, "printer_probe")?.and_then(|json| serde_json::from_str(&json).ok());
            let mut printer = match probed {
                Some(p) if p.chosen == chosen => p,
                _ => PrinterFacts {
                    chosen: chosen.clone(),
                    ..PrinterFacts::default()
                },
            };
            if let (Some(name), Some(conf)) = (&chosen, &conference) {
                printer.printed_today =
                    printed_since(conn, name, start_of_today(conf.zone(), now))?;
                printer.media_wanted = crate::printing::default_media(conn, conf).ok();
            }
            let scarce_seats = availability
                .iter()
                .filter(|a| !a.overbook)
                .filter(|a| {
                    conference.as_ref().is_some_and(|c| {
                        c.seat_type(a.seat_type)
                            .is_some_and(|s| s.policy == OversellPolicy::Reject)
                    })
                })
                .map(|a| ScarceSeat {
                    name: a.name.clone(),
                    remaining: a.authoritative - a.pending,
                    lease_left: u32::try_from(a.lease_left).unwrap_or(0),
                })
                .collect();
            Ok(Facts {
                pulled_to_head: status.last_sync.is_some(),
                desk_tickets: u64::try_from(desk_tickets).unwrap_or(0),
                server_tickets,
                last_sync_age_secs: status.last_sync.map(|t| (now - t).num_seconds()),
                pending: status.pending,
                oldest_pending_age_secs: status.oldest_pending_at.map(|t| (now - t).num_seconds()),
                clock_skew_ms,
                printer,
                scarce_seats,
                free_disk_bytes,
            })
        })
    }
}

/// Asks the spooler about this desk's chosen printer and records the answer (nothing to ask
/// when no printer is chosen).
pub async fn probe_printer(desk: &Desk, spooler: &impl Spooler) -> Result<(), DeskError> {
    let Some(name) = desk.print_settings()?.printer else {
        return Ok(());
    };
    let answer = spooler.printer(&name).await.ok();
    desk.record_printer_probe(&name, answer.as_ref())
}
