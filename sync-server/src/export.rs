//! CSV exports for head office: attendees with their admission state, the admission log,
//! walk-in sales, and the hand-outs in force. Plain queries over the projections and the log, one file each.
//!
//! Text that people typed (names, companies, notes) is written so that a spreadsheet shows it
//! instead of running it: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets
//! a leading `'` (OWASP's advice against CSV formula injection). Amounts are in major units
//! with two decimals and the currency in its own column.

use onsite_shared::event::Event;
use onsite_shared::ids::ConferenceId;
use onsite_shared::{check_in, conflict};

use crate::params;
use crate::storage::{StoreError, Tx};

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Attendees,
    Admissions,
    WalkIns,
    HandOuts,
}

impl Export {
    pub fn from_file_name(name: &str) -> Option<Self> {
        match name {
            "attendees.csv" => Some(Export::Attendees),
            "admissions.csv" => Some(Export::Admissions),
            "walk-ins.csv" => Some(Export::WalkIns),
            "hand-outs.csv" => Some(Export::HandOuts),
            _ => None,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Export::Attendees => "attendees.csv",
            Export::Admissions => "admissions.csv",
            Export::WalkIns => "walk-ins.csv",
            Export::HandOuts => "hand-outs.csv",
        }
    }
}

/// Text a spreadsheet would take for a formula, defused.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Minor units in major units with two decimals and the sign kept: `-1950` → `-19.50`.
pub(crate) fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn csv_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("writing CSV: {e}"))
}

/// The export as CSV bytes (UTF-8, a header row, `\n` line ends).
pub fn write(
    tx: &mut dyn Tx,
    conference: ConferenceId,
    export: Export,
) -> Result<Vec<u8>, StoreError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let c = conference.to_string();
    match export {
        Export::Attendees => {
            out.write_record([
                "ticket_code",
                "first_name",
                "last_name",
                "email",
                "company",
                "seat_type",
                "attendee_types",
                "origin",
                "status",
                "admitted",
                "admitted_at",
                "gate",
                "desk",
            ])
            .map_err(csv_error)?;
            // Every ticket's admission in force, read once and matched in memory (see
            // `admissions` in the schema for why not a join per ticket).
            let mut admitted = std::collections::HashMap::new();
            for r in &tx.query(
                "SELECT a.code, a.admitted_at, a.gate, COALESCE(d.name, a.desk) FROM admissions a \
                 LEFT JOIN devices d ON d.device_id = a.desk WHERE a.conference = $1",
                params![c.clone()],
            )? {
                admitted.insert(r.text(0)?, [r.text(1)?, r.text(2)?, r.text(3)?]);
            }
            let rows = tx.query(
                "SELECT t.code, t.first_name, t.last_name, t.email, t.company, COALESCE(s.name, t.seat_type), \
                 t.attendee_types, t.origin, t.status \
                 FROM tickets t LEFT JOIN seat_types s ON s.conference = t.conference AND s.seat_type = t.seat_type \
                 WHERE t.conference = $1 ORDER BY t.last_name, t.first_name, t.code",
                params![c],
            )?;
            for r in &rows {
                let code = r.text(0)?;
                let types: Vec<String> = r.json(6)?;
                let [at, gate, desk] = admitted.remove(&code).unwrap_or_default();
                out.write_record([
                    cell(&code),
                    cell(&r.text(1)?),
                    cell(&r.text(2)?),
                    cell(&r.text(3)?),
                    cell(&r.text(4)?),
                    cell(&r.text(5)?),
                    types.join(" "),
                    r.text(7)?,
                    r.text(8)?,
                    if at.is_empty() { "no" } else { "yes" }.to_owned(),
                    at,
                    cell(&gate),
                    cell(&desk),
                ])
                .map_err(csv_error)?;
            }
        }
        Export::Admissions => {
            out.write_record([
                "desk_time",
                "server_time",
                "what",
                "ticket_code",
                "first_name",
                "last_name",
                "gate",
                "desk",
                "note",
            ])
            .map_err(csv_error)?;
            let rows = tx.query(
                "SELECT e.occurred_at, e.recorded_at, e.event_type, e.schema_version, e.payload, \
                 COALESCE(t.first_name, ''), COALESCE(t.last_name, ''), COALESCE(d.name, e.device_id, '') \
                 FROM events e LEFT JOIN tickets t ON t.conference = e.conference \
                 AND t.code = SUBSTR(e.stream_id, LENGTH(e.conference) + 2) \
                 LEFT JOIN devices d ON d.device_id = e.device_id \
                 WHERE e.conference = $1 AND e.stream_type = 'admission' ORDER BY e.position",
                params![c],
            )?;
            for r in &rows {
                let schema = u16::try_from(r.int(3)?).unwrap_or(0);
                let payload = serde_json::from_str(&r.text(4)?)?;
                let Ok(Event::CheckIn(e)) = Event::decode(&r.text(2)?, schema, payload) else {
                    continue;
                };
                let (what, code, gate, note) = match &e {
                    check_in::Event::Admitted {
                        code,
                        admission,
                        override_reason,
                        ..
                    } => (
                        "admitted",
                        code,
                        admission.gate.as_str(),
                        override_reason.clone().unwrap_or_default(),
                    ),
                    check_in::Event::Undone { code, reason, .. } => {
                        ("undone", code, "", reason.clone())
                    }
                    check_in::Event::DuplicateFlagged {
                        code, duplicate, ..
                    } => (
                        "duplicate_flagged",
                        code,
                        duplicate.gate.as_str(),
                        String::new(),
                    ),
                    check_in::Event::Exited { code, exit, .. } => {
                        ("exited", code, exit.gate.as_str(), String::new())
                    }
                    check_in::Event::Reentered { code, entry, .. } => {
                        ("reentered", code, entry.gate.as_str(), String::new())
                    }
                    check_in::Event::OutsideRulesFlagged {
                        code,
                        admission,
                        breach,
                        by_clock,
                        ..
                    } => (
                        "outside_rules_flagged",
                        code,
                        admission.gate.as_str(),
                        if *by_clock {
                            format!("{breach} (the desk's clock was off)")
                        } else {
                            breach.to_string()
                        },
                    ),
                    check_in::Event::InvalidTicketFlagged {
                        code,
                        admission,
                        status,
                        ..
                    } => (
                        "invalid_ticket_flagged",
                        code,
                        admission.gate.as_str(),
                        format!("{status:?}").to_lowercase(),
                    ),
                };
                out.write_record([
                    r.text(0)?,
                    r.text(1)?,
                    what.to_owned(),
                    cell(code.as_str()),
                    cell(&r.text(5)?),
                    cell(&r.text(6)?),
                    cell(gate),
                    cell(&r.text(7)?),
                    cell(&note),
                ])
                .map_err(csv_error)?;
            }
        }
        Export::WalkIns => {
            out.write_record([
                "order_id",
                "sold_at",
                "desk",
                "payment_method",
                "tickets",
                "total",
                "taken",
                "refund_due",
                "currency",
                "status",
                "conflict_resolution",
            ])
            .map_err(csv_error)?;
            let rows = tx.query(
                "SELECT w.order_id, w.sold_at, COALESCE(d.name, w.desk), w.payment_method, w.tickets, w.total_minor, \
                 w.amount_taken_minor, w.refund_due_minor, w.currency, w.status, \
                 (SELECT MAX(c.resolution) FROM conflicts c WHERE c.conference = w.conference AND c.detail LIKE '%' || w.order_id || '%') \
                 FROM walk_ins w LEFT JOIN devices d ON d.device_id = w.desk \
                 WHERE w.conference = $1 ORDER BY w.sold_at, w.order_id",
                params![c],
            )?;
            for r in &rows {
                let resolution = r
                    .opt_text(10)?
                    .and_then(|s| serde_json::from_str::<conflict::Resolution>(&s).ok())
                    .map(|res| match res {
                        conflict::Resolution::RefundRecorded { .. } => "refund_recorded",
                        conflict::Resolution::SaleHonoured => "sale_honoured",
                        conflict::Resolution::Dismissed => "dismissed",
                        conflict::Resolution::Closed => "closed",
                    })
                    .unwrap_or_default();
                out.write_record([
                    r.text(0)?,
                    r.text(1)?,
                    cell(&r.text(2)?),
                    r.text(3)?,
                    r.int(4)?.to_string(),
                    amount(r.int(5)?),
                    amount(r.int(6)?),
                    amount(r.int(7)?),
                    r.text(8)?,
                    r.text(9)?,
                    resolution.to_owned(),
                ])
                .map_err(csv_error)?;
            }
        }
        Export::HandOuts => {
            out.write_record([
                "ticket_code",
                "first_name",
                "last_name",
                "item",
                "size",
                "given_at",
                "desk",
            ])
            .map_err(csv_error)?;
            let rows = tx.query(
                "SELECT h.code, COALESCE(t.first_name, ''), COALESCE(t.last_name, ''), h.item, \
                 COALESCE(h.size, ''), h.given_at, COALESCE(d.name, h.desk) FROM hand_outs h \
                 LEFT JOIN tickets t ON t.conference = h.conference AND t.code = h.code \
                 LEFT JOIN devices d ON d.device_id = h.desk \
                 WHERE h.conference = $1 ORDER BY h.item, h.given_at, h.code",
                params![c],
            )?;
            for r in &rows {
                out.write_record([
                    cell(&r.text(0)?),
                    cell(&r.text(1)?),
                    cell(&r.text(2)?),
                    r.text(3)?,
                    cell(&r.text(4)?),
                    r.text(5)?,
                    cell(&r.text(6)?),
                ])
                .map_err(csv_error)?;
            }
        }
    }
    out.into_inner().map_err(csv_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+2"), "'-1+2");
        assert_eq!(cell("Zoë O'Neil"), "Zoë O'Neil");
        // A ticket code may start with a minus (codes from another system are kept).
        assert_eq!(cell("-2-3"), "'-2-3");
    }

    #[test]
    fn amounts_keep_their_sign() {
        assert_eq!(amount(-1_950), "-19.50");
        assert_eq!(amount(5), "0.05");
        assert_eq!(amount(19_900), "199.00");
    }
}
