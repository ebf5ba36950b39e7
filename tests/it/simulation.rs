//! A short sweep of the deterministic simulation (`onsite_tests::simulation`); the long run is
//! `cargo xtask simulate --seeds 10000`.

use anyhow::{Result, anyhow};
use onsite_tests::server::TempDir;
use onsite_tests::simulation::schedule::Rng;
use onsite_tests::simulation::{self, Shape, power};

/// Seeds run by every `cargo xtask test`.
const SWEEP: u64 = 40;

/// Desks selling scarce seats, checking people in and printing badges, online buyers ordering
/// and paying, head office deciding conflicts, over a network that loses, repeats and holds
/// back requests, with desks and the server dying between steps and losing power in the middle
/// of one (what was not synced goes): after every step and after healing, nothing is lost,
/// nothing oversold, every compensation reached its desk, no badge printed twice, and every
/// desk agrees with the server.
#[test]
fn a_short_sweep_of_simulated_mornings_holds_every_invariant() -> Result<()> {
    let dir = TempDir::new("simulation")?;
    let shape = Shape::default();
    let mut checked = 0;
    for seed in 0..SWEEP {
        let steps = simulation::generate(seed, shape);
        let report = simulation::run(&dir.path().join("run"), shape, &steps).map_err(|f| {
            anyhow!("seed {seed} failed {f}; replay: cargo xtask simulate --seed {seed}")
        })?;
        checked += report.steps;
    }
    assert_eq!(checked, SWEEP as usize * shape.steps);
    Ok(())
}

/// The simulator's power cuts are real enough to catch a missing sync: what a connection wrote
/// without syncing is gone after a power cut, and what it synced is kept (a kill of the
/// process, by contrast, loses neither).
#[test]
fn a_power_cut_takes_back_what_was_written_and_not_synced() -> Result<()> {
    let dir = TempDir::new("power-cut")?;
    let machine = power::Machine::new(dir.path()).map_err(|e| anyhow!(e))?;
    let path = dir.path().join("power.sqlite3");
    let rows = |c: &rusqlite::Connection| -> Result<Vec<String>> {
        let mut s = c.prepare("SELECT v FROM t ORDER BY rowid")?;
        let rows = s.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    {
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('synced');",
        )?;
        conn.execute_batch("PRAGMA synchronous = OFF; INSERT INTO t VALUES ('cached');")?;
        assert_eq!(rows(&conn)?, ["synced", "cached"]);
        machine.cut_after(0);
    }
    let lost = machine
        .restore(&mut Rng::new(1), true)
        .map_err(|e| anyhow!(e))?;
    assert!(lost > 0, "the unsynced commit wrote sectors");
    let conn = rusqlite::Connection::open(&path)?;
    assert_eq!(rows(&conn)?, ["synced"]);
    Ok(())
}
