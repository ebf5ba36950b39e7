//! The database's schema versions, the same numbered steps on both backends.
//!
//! A database carries two numbers in `meta`: `schema_version`, the last step it has been
//! through, and `schema_floor`, the oldest schema version a server must know to run on it.
//! At start-up a backend reads them, under its lock (SQLite: an `IMMEDIATE` transaction;
//! PostgreSQL: an advisory lock held by the migrating transaction), and runs what [`plan`]
//! says, every step and the new numbers in that one transaction: a crash leaves the database
//! as it was, and the next start runs the steps again.
//!
//! - Version 1 is the baseline: the schema as servers before versions kept it, reached from
//!   any of their layouts by the backend's own `baseline` (the `CREATE ... IF NOT EXISTS`
//!   schema and the moves those servers made on their own). A database with no
//!   `schema_version` (one of theirs, or a new one) goes through it first.
//! - Each later step is one entry of [`STEPS`], never edited once released; a new layout is a
//!   new step.
//! - Rolling upgrades (several servers on one PostgreSQL database): a step that only adds
//!   (tables, nullable or defaulted columns, indexes) leaves the floor where it was, so servers
//!   that do not know it yet keep starting and running beside the ones that do. A step that
//!   older servers cannot live with (`breaks_older`) raises the floor to itself: from then on
//!   an older server refuses to start, naming both versions. An older server already running
//!   is not stopped by it; such a step's release says to stop them first.
//! - A database newer than the binary is refused when its floor is above what the binary
//!   knows, and used as it is otherwise.

use super::{Dialect, StoreError};

/// One step after the baseline.
pub(crate) struct Step {
    /// What the step does (in the log and in errors).
    pub name: &'static str,
    /// Whether servers that do not know this step must not run on a database that went
    /// through it (it renames, drops or changes the meaning of something they read or write).
    pub breaks_older: bool,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Step {
    pub(crate) fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// The steps after the baseline: `STEPS[i]` takes a database from version `i + 1` to `i + 2`.
/// Written to run again on what they made where the SQL allows (`IF NOT EXISTS`): tests
/// rewind a database to an older layout by taking its stamp away.
pub(crate) const STEPS: &[Step] = &[
    // 2
    Step {
        name: "orders by registrant email, for the registration API's order lookup",
        breaks_older: false,
        sqlite: "CREATE INDEX IF NOT EXISTS orders_by_registrant \
                 ON orders (conference, lower(registrant_email));",
        postgres: "CREATE INDEX IF NOT EXISTS orders_by_registrant \
                   ON orders (conference, lower(registrant_email));",
    },
    // 3
    Step {
        name: "head-office roles and invitations",
        breaks_older: false,
        sqlite: ROLES,
        postgres: ROLES,
    },
    // 4
    Step {
        name: "who made each head-office change",
        breaks_older: false,
        sqlite: CHANGES,
        postgres: CHANGES,
    },
    // 5
    Step {
        name: "imports in a conference's history",
        breaks_older: false,
        sqlite: IMPORT_RUNS,
        postgres: IMPORT_RUNS,
    },
    // 6
    Step {
        name: "hand-outs in force, for head office's counts and export",
        breaks_older: false,
        sqlite: HAND_OUTS,
        postgres: HAND_OUTS,
    },
    // 7
    Step {
        name: "who went out and came back in, for inside-now",
        breaks_older: false,
        sqlite: PRESENCE,
        postgres: PRESENCE,
    },
    // 8
    Step {
        name: "who is in which room, who attended each, and tickets by email for entitlements",
        breaks_older: false,
        sqlite: ROOMS,
        postgres: ROOMS,
    },
    // 9
    Step {
        name: "seat leases' end times (for the timer task that returns them), lease policy, desks' readiness",
        breaks_older: false,
        sqlite: LEASE_EXPIRY,
        postgres: LEASE_EXPIRY,
    },
    // 10
    Step {
        name: "venue relays: upstream's enrolled relays; a relay's own state, held pushes and venue feed",
        breaks_older: false,
        sqlite: RELAYS,
        postgres: RELAYS,
    },
    // 11
    Step {
        name: "venue leases: the seats a relay handed its desks, per sale",
        breaks_older: false,
        sqlite: VENUE_SEATS,
        postgres: VENUE_SEATS,
    },
];

/// On a relay: the seats it handed a desk from one of its venue leases for one sale (the
/// sale's order), `fixed` once the sale itself reached the relay, `reported` once upstream
/// heard of it. Upstream: `venue_allocations`, what relays reported.
const VENUE_SEATS: &str = "\
    CREATE TABLE IF NOT EXISTS relay_allocations ( \
        order_id TEXT NOT NULL, lease_id TEXT NOT NULL, device_id TEXT NOT NULL, \
        seat_type TEXT NOT NULL, quantity BIGINT NOT NULL, until TEXT NOT NULL, \
        at TEXT NOT NULL, fixed INTEGER NOT NULL DEFAULT 0, \
        reported INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (order_id, lease_id)); \
    CREATE INDEX IF NOT EXISTS relay_allocations_by_lease ON relay_allocations (lease_id); \
    CREATE TABLE IF NOT EXISTS venue_allocations ( \
        order_id TEXT NOT NULL, lease_id TEXT NOT NULL, relay_id TEXT NOT NULL, \
        conference TEXT NOT NULL, seat_type TEXT NOT NULL, quantity BIGINT NOT NULL, \
        until TEXT NOT NULL, reported_at TEXT NOT NULL, PRIMARY KEY (order_id, lease_id)); \
    CREATE INDEX IF NOT EXISTS venue_allocations_by_lease ON venue_allocations (lease_id);";

/// Upstream: `relays`, one row per venue relay head office enrolled (its one-time code, then
/// its token, as hashes; what it last said of itself). On a relay: `relay_state` (its
/// credentials and where its mirror of the upstream log stands), `relay_held` (each desk push
/// item, by client and sequence, and upstream's outcome once forwarded) and `relay_venue`
/// (the venue feed: held events, and the ids upstream refused).
const RELAYS: &str = "\
    CREATE TABLE IF NOT EXISTS relays ( \
        relay_id TEXT PRIMARY KEY, conference TEXT NOT NULL, name TEXT NOT NULL, \
        code_hash TEXT UNIQUE, code_expires_at TEXT, token_hash TEXT UNIQUE, \
        created_at TEXT NOT NULL, enrolled_at TEXT, revoked_at TEXT, last_seen TEXT, \
        held BIGINT NOT NULL DEFAULT 0, desks TEXT NOT NULL DEFAULT '[]'); \
    CREATE TABLE IF NOT EXISTS relay_state (key TEXT PRIMARY KEY, value TEXT NOT NULL); \
    CREATE TABLE IF NOT EXISTS relay_held ( \
        client_id TEXT NOT NULL, client_seq BIGINT NOT NULL, device_id TEXT NOT NULL, \
        event_id TEXT NOT NULL, envelope TEXT NOT NULL, app_version TEXT NOT NULL, \
        held_at TEXT NOT NULL, outcome TEXT, PRIMARY KEY (client_id, client_seq)); \
    CREATE INDEX IF NOT EXISTS relay_held_unsent ON relay_held (client_id, client_seq) \
        WHERE outcome IS NULL; \
    CREATE TABLE IF NOT EXISTS relay_venue ( \
        venue_seq BIGINT PRIMARY KEY, device_id TEXT NOT NULL, event_id TEXT NOT NULL, \
        envelope TEXT);";

/// One row per seat lease granted: when it ends, and whether it has (`ended = 1` once
/// returned, revoked or expired, so the timer task skips it). `lease_policy`: per seat type,
/// the most a desk may hold by asking, and what every desk is given without asking.
/// `desk_readiness`: the facts of each desk's last readiness report.
const LEASE_EXPIRY: &str = "\
    CREATE TABLE IF NOT EXISTS lease_expiry ( \
        lease_id TEXT PRIMARY KEY, conference TEXT NOT NULL, until TEXT NOT NULL, \
        ended INTEGER NOT NULL DEFAULT 0); \
    CREATE INDEX IF NOT EXISTS lease_expiry_due ON lease_expiry (ended, until); \
    CREATE TABLE IF NOT EXISTS lease_policy ( \
        conference TEXT NOT NULL, seat_type TEXT NOT NULL, max_per_desk BIGINT NOT NULL, \
        auto_per_desk BIGINT NOT NULL, hours BIGINT NOT NULL, \
        PRIMARY KEY (conference, seat_type)); \
    CREATE TABLE IF NOT EXISTS desk_readiness ( \
        device_id TEXT PRIMARY KEY, conference TEXT NOT NULL, facts TEXT NOT NULL, \
        reported_at TEXT NOT NULL);";

/// `room_presence`: the room each ticket's holder entered last and did not leave (a room's
/// occupancy); `room_attendance`: everyone who ever entered a room, once, with the first
/// time. Tickets by email: a room entry asks what else its holder holds.
const ROOMS: &str = "\
    CREATE TABLE IF NOT EXISTS room_presence ( \
        conference TEXT NOT NULL, code TEXT NOT NULL, room TEXT NOT NULL, \
        visit_id TEXT NOT NULL, desk TEXT NOT NULL, entered_at TEXT NOT NULL, \
        PRIMARY KEY (conference, code)); \
    CREATE INDEX IF NOT EXISTS room_presence_by_room ON room_presence (conference, room); \
    CREATE TABLE IF NOT EXISTS room_attendance ( \
        conference TEXT NOT NULL, room TEXT NOT NULL, code TEXT NOT NULL, \
        first_at TEXT NOT NULL, PRIMARY KEY (conference, room, code)); \
    CREATE INDEX IF NOT EXISTS tickets_by_email ON tickets (conference, lower(email));";

/// A ticket's last exit or re-entry (a ticket admitted and never out has no row): inside now
/// is an admission in force without a row here saying `inside = 0`.
const PRESENCE: &str = "\
    CREATE TABLE IF NOT EXISTS presence ( \
        conference TEXT NOT NULL, code TEXT NOT NULL, inside INTEGER NOT NULL, \
        gate TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (conference, code));";

/// One row per hand-out in force (not taken back, not a flagged duplicate), like
/// `admissions`.
const HAND_OUTS: &str = "\
    CREATE TABLE IF NOT EXISTS hand_outs ( \
        hand_out_id TEXT PRIMARY KEY, conference TEXT NOT NULL, code TEXT NOT NULL, \
        item TEXT NOT NULL, size TEXT, desk TEXT NOT NULL, given_at TEXT NOT NULL); \
    CREATE INDEX IF NOT EXISTS hand_outs_by_item ON hand_outs (conference, item, size);";

/// One row per import run that imported something (`imports` already holds the registrations
/// imported, by source id): when, by whom (`NULL`: the command line),
/// which file from which source, how many rows it had and how many were new.
const IMPORT_RUNS: &str = "\
    CREATE TABLE IF NOT EXISTS import_runs ( \
        id TEXT PRIMARY KEY, conference TEXT NOT NULL, at TEXT NOT NULL, actor TEXT, \
        source TEXT NOT NULL, file TEXT NOT NULL, registrations BIGINT NOT NULL, \
        imported BIGINT NOT NULL); \
    CREATE INDEX IF NOT EXISTS import_runs_by_conference ON import_runs (conference, at);";

/// The actor of each event head office recorded (a person's email, `token NAME`), for the
/// conference's history page. Events without a row were recorded by an import, the command
/// line, or before this step.
const CHANGES: &str = "CREATE TABLE IF NOT EXISTS changes ( \
    event_id TEXT PRIMARY KEY, conference TEXT NOT NULL, actor TEXT NOT NULL);";

/// A person without a row in `user_roles` is an owner: everyone had every right before roles
/// (and a person an older server adds during a rolling upgrade keeps them).
const ROLES: &str = "\
    CREATE TABLE IF NOT EXISTS user_roles (email TEXT PRIMARY KEY, role TEXT NOT NULL); \
    CREATE TABLE IF NOT EXISTS invites ( \
        token_hash TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT NOT NULL, \
        invited_by TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, \
        used_at TEXT);";

/// The schema version this binary knows: the baseline and every step.
pub const LATEST: u32 = 1 + STEPS.len() as u32;

/// What a database says about its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub version: u32,
    pub floor: u32,
}

/// What a start-up does to a database.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The database has no version yet: bring it to the baseline first.
    pub baseline: bool,
    /// Indexes into [`STEPS`], in order.
    pub steps: std::ops::Range<usize>,
    /// The numbers to write afterwards (`None`: nothing changes).
    pub stamp: Option<Stamp>,
}

/// Decides what brings a database stamped `found` (`None`: no stamp) up to [`LATEST`].
pub(crate) fn plan(found: Option<Stamp>) -> Result<Plan, StoreError> {
    plan_for(found, STEPS)
}

fn plan_for(found: Option<Stamp>, steps: &[Step]) -> Result<Plan, StoreError> {
    let latest = 1 + u32::try_from(steps.len()).unwrap_or(u32::MAX);
    let (baseline, from) = match found {
        None => (
            true,
            Stamp {
                version: 1,
                floor: 1,
            },
        ),
        Some(s) if s.floor > latest => {
            return Err(StoreError::TooNew {
                version: s.version,
                floor: s.floor,
                known: latest,
            });
        }
        Some(s) if s.version >= latest => {
            return Ok(Plan {
                baseline: false,
                steps: 0..0,
                stamp: None,
            });
        }
        Some(s) if s.version == 0 => (
            true,
            Stamp {
                version: 1,
                floor: 1,
            },
        ),
        Some(s) => (false, s),
    };
    let first = usize::try_from(from.version - 1).unwrap_or(usize::MAX);
    let floor = steps
        .iter()
        .enumerate()
        .skip(first)
        .filter(|(_, s)| s.breaks_older)
        .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX) + 2)
        .fold(from.floor, u32::max);
    Ok(Plan {
        baseline,
        steps: first..steps.len(),
        stamp: Some(Stamp {
            version: latest,
            floor,
        }),
    })
}

/// Reads a stamp from `meta`'s two values (absent: no stamp).
pub(crate) fn stamp_from(
    version: Option<String>,
    floor: Option<&str>,
) -> Result<Option<Stamp>, StoreError> {
    let Some(version) = version else {
        return Ok(None);
    };
    let number = |text: &str| {
        text.parse::<u32>()
            .map_err(|_| StoreError::Corrupt(format!("schema version {text:?}")))
    };
    let version = number(&version)?;
    let floor = floor.map(number).transpose()?.unwrap_or(1);
    Ok(Some(Stamp { version, floor }))
}

/// Writes a stamp (the same SQL on both backends).
pub(crate) fn stamp_sql(stamp: Stamp) -> String {
    format!(
        "INSERT INTO meta (key, value) VALUES ('schema_version', '{}'), ('schema_floor', '{}') \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value;",
        stamp.version, stamp.floor
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADD: Step = Step {
        name: "adds",
        breaks_older: false,
        sqlite: "",
        postgres: "",
    };
    const BREAK: Step = Step {
        name: "breaks",
        breaks_older: true,
        sqlite: "",
        postgres: "",
    };

    fn stamp(version: u32, floor: u32) -> Option<Stamp> {
        Some(Stamp { version, floor })
    }

    #[test]
    fn a_database_without_a_version_goes_through_the_baseline_and_every_step() {
        let plan = plan_for(None, &[ADD, BREAK, ADD]).unwrap();
        assert_eq!(
            plan,
            Plan {
                baseline: true,
                steps: 0..3,
                stamp: stamp(4, 3),
            }
        );
    }

    #[test]
    fn a_database_part_way_runs_the_steps_it_has_not_had() {
        let plan = plan_for(stamp(2, 1), &[ADD, ADD, ADD]).unwrap();
        assert_eq!(plan.steps, 1..3);
        assert!(!plan.baseline);
        assert_eq!(plan.stamp, stamp(4, 1), "only additions: the floor stays");
        // A step that breaks older servers raises the floor to its own version.
        let plan = plan_for(stamp(2, 1), &[ADD, ADD, BREAK, ADD]).unwrap();
        assert_eq!(plan.stamp, stamp(5, 4));
    }

    #[test]
    fn a_database_at_the_latest_version_is_left_alone() {
        let plan = plan_for(stamp(3, 2), &[BREAK, ADD]).unwrap();
        assert_eq!(plan.steps, 0..0);
        assert_eq!(plan.stamp, None);
    }

    #[test]
    fn a_newer_database_is_used_while_its_floor_allows_and_refused_above_it() {
        let plan = plan_for(stamp(5, 3), &[ADD, ADD]).unwrap();
        assert_eq!(
            plan.stamp, None,
            "a rolling upgrade: the newer server only added"
        );
        let refused = plan_for(stamp(5, 4), &[ADD, ADD]).unwrap_err();
        assert!(
            matches!(
                refused,
                StoreError::TooNew {
                    version: 5,
                    floor: 4,
                    known: 3
                }
            ),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("version 4"), "{refused}");
    }

    #[test]
    fn stamps_read_back_and_garbage_is_refused() {
        assert_eq!(stamp_from(None, None).unwrap(), None);
        assert_eq!(
            stamp_from(Some("3".into()), None).unwrap(),
            stamp(3, 1),
            "no floor: 1"
        );
        assert!(stamp_from(Some("x".into()), None).is_err());
    }

    #[test]
    fn the_released_steps_are_numbered_after_the_baseline() {
        assert_eq!(LATEST as usize, STEPS.len() + 1);
        assert!(STEPS.iter().all(|s| !s.name.is_empty()));
    }
}
