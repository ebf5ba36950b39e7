//! A short sweep of the deterministic simulation (`onsite_tests::simulation`); the long run is
//! `cargo xtask simulate --seeds 10000`.

use anyhow::{Result, anyhow};
use onsite_tests::server::TempDir;
use onsite_tests::simulation::{self, Shape};

/// Seeds run by every `cargo xtask test`.
const SWEEP: u64 = 40;

/// Desks selling scarce seats and checking people in, over a network that loses, repeats and
/// holds back requests, with desks and the server dying between steps: after healing, nothing
/// is lost, nothing oversold, every compensation reached its desk and every desk agrees with
/// the server.
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
