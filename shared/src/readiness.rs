//! Is a desk ready for the doors? A checklist judged from facts the desk gathers (and the
//! server adds to): each item green, amber or red with its reason; "ready" is all green.
//!
//! Pure: the facts come in with their ages already measured, so the same facts give the same
//! answer at the desk (offline, on what it last heard) and on the server (which knows its own
//! ticket count and stores what the desk reported for head office's desks page).

use serde::{Deserialize, Serialize};

/// How an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Green,
    Amber,
    Red,
}

/// What an item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// Every ticket the server has is on the desk.
    Roster,
    /// The last sync that went through.
    LastSync,
    /// The desk's events not yet at the server.
    Pending,
    /// The desk's clock against the server's.
    Clock,
    /// The badge printer: chosen, reachable, accepting, the right paper, used today.
    Printer,
    /// Seats held here for final walk-in sales.
    Leases,
    /// Room for the day's events on the desk's disk.
    Disk,
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub item: Item,
    pub level: Level,
    pub reason: String,
}

/// The checklist, worst first within the fixed order of the items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// Every item green.
    pub ready: bool,
    /// The worst item's level.
    pub level: Level,
    pub checks: Vec<Check>,
}

/// What the badge printer said when it was last asked (IPP attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrinterFacts {
    /// The printer chosen at this desk, if any.
    pub chosen: Option<String>,
    /// Whether the spooler answered for it (`None`: not asked).
    pub reachable: Option<bool>,
    /// Why a job sent now would not print (not accepting, stopped), in the spooler's words.
    pub problem: Option<String>,
    /// The paper the badges need (IPP `media`, e.g. `Custom.4x3in`).
    pub media_wanted: Option<String>,
    /// IPP `media-ready`: the paper loaded, where the printer says.
    #[serde(default)]
    pub media_ready: Vec<String>,
    /// IPP `media-supported`.
    #[serde(default)]
    pub media_supported: Vec<String>,
    /// A badge came out of it today (the spooler said completed).
    pub printed_today: bool,
}

/// A seat type that runs out, as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScarceSeat {
    pub name: String,
    /// Left beyond every lease, as of the last sync.
    pub remaining: i64,
    /// Seats this desk's leases still cover.
    pub lease_left: u32,
}

/// What the checklist is judged from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facts {
    /// The last sync pulled until the server had nothing more.
    pub pulled_to_head: bool,
    /// Tickets on the desk's roster.
    pub desk_tickets: u64,
    /// Tickets the server has, as it last said (`None`: never heard).
    pub server_tickets: Option<u64>,
    /// Seconds since the last sync that went through (`None`: never).
    pub last_sync_age_secs: Option<i64>,
    pub pending: u64,
    /// Seconds the oldest pending event has waited.
    pub oldest_pending_age_secs: Option<i64>,
    /// The desk's clock minus the server's, at the last sync.
    pub clock_skew_ms: Option<i64>,
    pub printer: PrinterFacts,
    /// Seat types that sell out (not standing room), with what this desk holds of each.
    pub scarce_seats: Vec<ScarceSeat>,
    /// Free bytes where the desk keeps its database (`None`: unknown).
    pub free_disk_bytes: Option<u64>,
}

/// The server's answer to a desk's report: its own ticket count (the roster item's measure)
/// and the checklist as the server judged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportAnswer {
    pub server_tickets: u64,
    pub readiness: Readiness,
}

/// The most entries a report's lists may have, and the longest text it may carry: a desk's
/// report is its own claim, bounded like every input.
pub const MAX_REPORT_ENTRIES: usize = 64;
pub const MAX_REPORT_TEXT: usize = 500;

impl Facts {
    /// Whether the report stays within [`MAX_REPORT_ENTRIES`] and [`MAX_REPORT_TEXT`].
    pub fn within_bounds(&self) -> bool {
        let p = &self.printer;
        let texts = [&p.chosen, &p.problem, &p.media_wanted]
            .into_iter()
            .flatten()
            .chain(&p.media_ready)
            .chain(&p.media_supported)
            .chain(self.scarce_seats.iter().map(|s| &s.name));
        p.media_ready.len() <= MAX_REPORT_ENTRIES
            && p.media_supported.len() <= MAX_REPORT_ENTRIES
            && self.scarce_seats.len() <= MAX_REPORT_ENTRIES
            && texts.into_iter().all(|t| t.len() <= MAX_REPORT_TEXT)
    }

    /// The same facts `secs` later, with nothing new heard: what head office judges a report
    /// by when the desk has been quiet since.
    pub fn aged(&self, secs: i64) -> Facts {
        let secs = secs.max(0);
        Facts {
            last_sync_age_secs: self.last_sync_age_secs.map(|a| a.saturating_add(secs)),
            oldest_pending_age_secs: self.oldest_pending_age_secs.map(|a| a.saturating_add(secs)),
            ..self.clone()
        }
    }
}

/// Where amber and red begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub sync_amber_secs: i64,
    pub sync_red_secs: i64,
    /// Pending events younger than this are on their way (green).
    pub pending_amber_secs: i64,
    pub pending_red_secs: i64,
    pub skew_amber_ms: i64,
    pub skew_red_ms: i64,
    /// A scarce seat type with this many left or fewer and nothing held here is amber.
    pub few_seats: i64,
    /// Disk wanted per ticket for the day's events (admissions, prints, sales, their rows).
    pub disk_per_ticket: u64,
    /// Disk wanted whatever the roster (the database's own growth, logs).
    pub disk_floor: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            sync_amber_secs: 5 * 60,
            sync_red_secs: 30 * 60,
            pending_amber_secs: 60,
            pending_red_secs: 10 * 60,
            skew_amber_ms: 60_000,
            skew_red_ms: 5 * 60_000,
            few_seats: 10,
            disk_per_ticket: 8 * 1024,
            disk_floor: 200 * 1024 * 1024,
        }
    }
}

fn ago(secs: i64) -> String {
    match secs.max(0) {
        s @ 0..120 => format!("{s} s ago"),
        s @ 120..7200 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes / (1024 * 1024))
}

fn check(item: Item, level: Level, reason: impl Into<String>) -> Check {
    Check {
        item,
        level,
        reason: reason.into(),
    }
}

fn roster(f: &Facts) -> Check {
    let c = |level, reason: String| check(Item::Roster, level, reason);
    match f.server_tickets {
        None => c(
            Level::Red,
            "the server's roster has not reached this desk".into(),
        ),
        Some(_) if !f.pulled_to_head => c(
            Level::Amber,
            "the last sync stopped before the end of the roster".into(),
        ),
        Some(s) if f.desk_tickets < s => c(
            Level::Red,
            format!(
                "{} of the server's {s} tickets are missing here",
                s - f.desk_tickets
            ),
        ),
        Some(s) if f.desk_tickets > s => c(
            Level::Amber,
            format!(
                "{} tickets here the server does not have yet (sold here, not pushed)",
                f.desk_tickets - s
            ),
        ),
        Some(s) => c(Level::Green, format!("all {s} tickets")),
    }
}

fn last_sync(f: &Facts, b: &Bounds) -> Check {
    let c = |level, reason: String| check(Item::LastSync, level, reason);
    match f.last_sync_age_secs {
        None => c(Level::Red, "never synced".into()),
        Some(a) if a > b.sync_red_secs => c(Level::Red, format!("last synced {}", ago(a))),
        Some(a) if a > b.sync_amber_secs => c(Level::Amber, format!("last synced {}", ago(a))),
        Some(a) => c(Level::Green, format!("synced {}", ago(a))),
    }
}

fn pending(f: &Facts, b: &Bounds) -> Check {
    let c = |level, reason: String| check(Item::Pending, level, reason);
    let age = f.oldest_pending_age_secs.unwrap_or(0);
    match f.pending {
        0 => c(Level::Green, "nothing waiting to be sent".into()),
        n if age > b.pending_red_secs => c(
            Level::Red,
            format!("{n} events not at the server, the oldest from {}", ago(age)),
        ),
        n if age > b.pending_amber_secs => c(
            Level::Amber,
            format!("{n} events not at the server, the oldest from {}", ago(age)),
        ),
        n => c(Level::Green, format!("{n} events on their way")),
    }
}

fn clock(f: &Facts, b: &Bounds) -> Check {
    let c = |level, reason: String| check(Item::Clock, level, reason);
    match f.clock_skew_ms {
        None => c(Level::Amber, "not compared with the server's yet".into()),
        Some(ms) => {
            let text = format!("{:+.1} s from the server's", ms as f64 / 1000.0);
            if ms.abs() > b.skew_red_ms {
                c(Level::Red, text)
            } else if ms.abs() > b.skew_amber_ms {
                c(Level::Amber, text)
            } else {
                c(Level::Green, text)
            }
        }
    }
}

/// A media name's size in millimetres, from PWG self-describing names (`iso_a6_105x148mm`,
/// `na_index-4x6_4x6in`, `custom_101.6x76.2mm_101.6x76.2mm`) and CUPS's `Custom.4x3in`.
fn size_mm(name: &str) -> Option<(f64, f64)> {
    let dims = name
        .strip_prefix("Custom.")
        .or_else(|| name.rsplit('_').next())?;
    let (dims, per_unit) = if let Some(d) = dims.strip_suffix("mm") {
        (d, 1.0)
    } else if let Some(d) = dims.strip_suffix("in") {
        (d, 25.4)
    } else {
        return None;
    };
    let (w, h) = dims.split_once('x')?;
    Some((
        w.parse::<f64>().ok()? * per_unit,
        h.parse::<f64>().ok()? * per_unit,
    ))
}

/// Whether two media names are the same paper: the same name, or the same size within a
/// millimetre either way round.
fn same_size(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    match (size_mm(a), size_mm(b)) {
        (Some((aw, ah)), Some((bw, bh))) => {
            let near = |x: f64, y: f64| (x - y).abs() <= 1.0;
            (near(aw, bw) && near(ah, bh)) || (near(aw, bh) && near(ah, bw))
        }
        _ => false,
    }
}

fn is_custom(name: &str) -> bool {
    name.starts_with("Custom.") || name.starts_with("custom_")
}

fn printer(p: &PrinterFacts) -> Check {
    let c = |level, reason: String| check(Item::Printer, level, reason);
    let Some(name) = &p.chosen else {
        return c(Level::Red, "no badge printer chosen".into());
    };
    match p.reachable {
        None => return c(Level::Amber, format!("{name}: not asked yet")),
        Some(false) => return c(Level::Red, format!("{name}: the spooler does not answer")),
        Some(true) => {}
    }
    if let Some(problem) = &p.problem {
        return c(Level::Red, problem.clone());
    }
    if let Some(wanted) = &p.media_wanted {
        let fits = |names: &[String]| names.iter().any(|m| same_size(m, wanted));
        if !p.media_ready.is_empty() && !fits(&p.media_ready) {
            // Many drivers report their default sizes here, not what a sensor saw: a person
            // looks, rather than the desk refusing.
            return c(
                Level::Amber,
                format!(
                    "{name} says {} is loaded; badges need {wanted}: check the paper",
                    p.media_ready.join(", ")
                ),
            );
        }
        let custom_ok = is_custom(wanted)
            && p.media_supported
                .iter()
                .any(|m| m.starts_with("custom_min_"));
        if p.media_ready.is_empty()
            && !p.media_supported.is_empty()
            && !fits(&p.media_supported)
            && !custom_ok
        {
            return c(Level::Red, format!("{name} cannot print on {wanted}"));
        }
    }
    if !p.printed_today {
        return c(
            Level::Amber,
            format!("{name} is ready; nothing printed on it today yet"),
        );
    }
    c(Level::Green, format!("{name} is ready and printed today"))
}

fn leases(f: &Facts, b: &Bounds) -> Check {
    let c = |level, reason: String| check(Item::Leases, level, reason);
    let short: Vec<&ScarceSeat> = f
        .scarce_seats
        .iter()
        .filter(|s| s.lease_left == 0 && s.remaining <= b.few_seats)
        .collect();
    if !short.is_empty() {
        let names: Vec<&str> = short.iter().map(|s| s.name.as_str()).collect();
        return c(
            Level::Amber,
            format!(
                "almost gone and none held here (sales are provisional): {}",
                names.join(", ")
            ),
        );
    }
    let held: Vec<String> = f
        .scarce_seats
        .iter()
        .filter(|s| s.lease_left > 0)
        .map(|s| format!("{} {}", s.name, s.lease_left))
        .collect();
    if held.is_empty() {
        c(Level::Green, "none held here; seats are left".into())
    } else {
        c(Level::Green, format!("held here: {}", held.join(", ")))
    }
}

fn disk(f: &Facts, b: &Bounds) -> Check {
    let c = |level, reason: String| check(Item::Disk, level, reason);
    let tickets = f
        .server_tickets
        .unwrap_or(f.desk_tickets)
        .max(f.desk_tickets);
    let wanted = b
        .disk_floor
        .saturating_add(tickets.saturating_mul(b.disk_per_ticket));
    match f.free_disk_bytes {
        None => c(Level::Amber, "free space unknown".into()),
        Some(free) if free < wanted => c(
            Level::Red,
            format!("{} free, the day needs about {}", mib(free), mib(wanted)),
        ),
        Some(free) if free < wanted.saturating_mul(4) => c(
            Level::Amber,
            format!(
                "{} free, little beyond the {} the day needs",
                mib(free),
                mib(wanted)
            ),
        ),
        Some(free) => c(Level::Green, format!("{} free", mib(free))),
    }
}

/// Judges the checklist.
pub fn assess(facts: &Facts, bounds: &Bounds) -> Readiness {
    let checks = vec![
        roster(facts),
        last_sync(facts, bounds),
        pending(facts, bounds),
        clock(facts, bounds),
        printer(&facts.printer),
        leases(facts, bounds),
        disk(facts, bounds),
    ];
    let level = checks.iter().map(|c| c.level).max().unwrap_or(Level::Green);
    Readiness {
        ready: level == Level::Green,
        level,
        checks,
    }
}

#[cfg(test)]
mod tests;
