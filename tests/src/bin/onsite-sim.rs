//! The deterministic simulation (`cargo xtask simulate`): runs seeds of a simulated venue
//! morning (see `onsite_tests::simulation`) and, for a seed that fails, prints the failure and
//! the schedule shrunk to the fewest steps that still fail.
//!
//! ```text
//! onsite-sim [--seeds N] [--from S] [--seed S] [--steps K] [--desks D]
//! ```
//! `--seed S` replays one seed (printing its schedule); `--seeds N` runs seeds `from..from+N`.

use std::process::ExitCode;
use std::time::Instant;

use onsite_tests::simulation::{self, Counts, Report, Shape, Step};

struct Args {
    from: u64,
    seeds: u64,
    replay: Option<u64>,
    shape: Shape,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        from: 0,
        seeds: 100,
        replay: None,
        shape: Shape::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--seeds" => args.seeds = value()?,
            "--from" => args.from = value()?,
            "--seed" => args.replay = Some(value()?),
            "--steps" => args.shape.steps = value()? as usize,
            "--desks" => args.shape.desks = value()? as usize,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn add(total: &mut Report, r: &Report) {
    total.steps += r.steps;
    total.sales += r.sales;
    total.refused_at_desk += r.refused_at_desk;
    total.check_ins += r.check_ins;
    total.syncs += r.syncs;
    total.failed_syncs += r.failed_syncs;
    total.compensated += r.compensated;
    total.crashes += r.crashes;
    total.server_restarts += r.server_restarts;
    total.clock_jumps += r.clock_jumps;
    total.undos += r.undos;
    total.corrections += r.corrections;
    total.backups += r.backups;
    total.restores += r.restores;
    total.reenrolments += r.reenrolments;
    total.quota_changes += r.quota_changes;
    total.orders += r.orders;
    total.orders_refused += r.orders_refused;
    total.payments_confirmed += r.payments_confirmed;
    total.payments_after_expiry += r.payments_after_expiry;
    total.timers_fired += r.timers_fired;
    total.payments_refused += r.payments_refused;
    total.decisions += r.decisions;
    total.decisions_refused += r.decisions_refused;
    total.prints += r.prints;
    total.jams += r.jams;
    total.badges += r.badges;
    total.power_cuts += r.power_cuts;
    total.sectors_lost += r.sectors_lost;
    let (t, n): (&mut Counts, &Counts) = (&mut total.network, &r.network);
    t.delivered += n.delivered;
    t.lost_requests += n.lost_requests;
    t.lost_answers += n.lost_answers;
    t.duplicated += n.duplicated;
    t.held += n.held;
    t.redelivered += n.redelivered;
    t.partitioned += n.partitioned;
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("onsite-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("onsite-sim-{}", std::process::id()));
    let seeds: Vec<u64> = match args.replay {
        Some(s) => vec![s],
        None => (args.from..args.from.saturating_add(args.seeds)).collect(),
    };
    let started = Instant::now();
    let mut total = Report::default();
    let mut failures = 0;
    for (n, &seed) in seeds.iter().enumerate() {
        let steps = simulation::generate(seed, args.shape);
        if args.replay.is_some() {
            for (i, s) in steps.iter().enumerate() {
                println!("  {i:>3} {s:?}");
            }
        }
        match simulation::run(&dir, args.shape, &steps) {
            Ok(report) => add(&mut total, &report),
            Err(failure) => {
                failures += 1;
                println!("seed {seed} FAILED {failure}");
                let shrunk = simulation::shrink(&steps, 300, |candidate: &[Step]| {
                    simulation::run(&dir, args.shape, candidate).is_err()
                });
                let last = simulation::run(&dir, args.shape, &shrunk)
                    .err()
                    .map_or_else(|| "(passes when shrunk)".to_owned(), |f| f.to_string());
                println!("  shrunk to {} step(s), failing {last}:", shrunk.len());
                for (i, s) in shrunk.iter().enumerate() {
                    println!("  {i:>3} {s:?}");
                }
                println!("  replay: cargo xtask simulate --seed {seed}");
            }
        }
        if (n + 1) % 100 == 0 {
            println!(
                "{} seed(s), {failures} failed, {:.0?}",
                n + 1,
                started.elapsed()
            );
        }
    }
    let took = started.elapsed();
    println!(
        "simulated {} seed(s) of {} step(s) with {} desk(s) in {took:.1?} ({:.0} ms per seed): {failures} failed",
        seeds.len(),
        args.shape.steps,
        args.shape.desks,
        took.as_secs_f64() * 1000.0 / seeds.len().max(1) as f64,
    );
    println!(
        "  {} sale(s) ({} refused at the desk), {} check-in(s), {} compensation(s); {} sync(s) ({} cut short), {} desk crash(es), {} server restart(s)",
        total.sales,
        total.refused_at_desk,
        total.check_ins,
        total.compensated,
        total.syncs,
        total.failed_syncs,
        total.crashes,
        total.server_restarts
    );
    println!(
        "  {} desk clock jump(s), {} undo(s), {} correction(s), {} backup(s), {} restore(s), {} re-enrolment(s)",
        total.clock_jumps,
        total.undos,
        total.corrections,
        total.backups,
        total.restores,
        total.reenrolments
    );
    println!(
        "  {} quota change(s); {} online order(s) ({} refused), {} paid in time, {} paid after expiry, {} refused (never reserved), {} timer(s) fired; {} head-office decision(s) ({} refused)",
        total.quota_changes,
        total.orders,
        total.orders_refused,
        total.payments_confirmed,
        total.payments_after_expiry,
        total.payments_refused,
        total.timers_fired,
        total.decisions,
        total.decisions_refused
    );
    println!(
        "  {} badge print(s) asked for, {} badge(s) out of the printers, {} printer jam(s) or clearing(s)",
        total.prints, total.badges, total.jams
    );
    println!(
        "  {} power cut(s), {} unsynced sector(s) lost",
        total.power_cuts, total.sectors_lost
    );
    let n = total.network;
    println!(
        "  network: {} delivered, {} requests lost, {} answers lost, {} duplicated, {} held and {} delivered late, {} refused by a partition",
        n.delivered,
        n.lost_requests,
        n.lost_answers,
        n.duplicated,
        n.held,
        n.redelivered,
        n.partitioned
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
