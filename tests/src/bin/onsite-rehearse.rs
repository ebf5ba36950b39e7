//! The doors-open rehearsal (`cargo xtask rehearse`): see `onsite_tests::rehearsal`.
//!
//! ```text
//! onsite-rehearse [--desks 20] [--check-ins 2500] [--walk-ins 200] [--offline 5]
//!                 [--speed 30] [--no-print] [--seed 1]
//! ```
//! `--check-ins` counts per desk; `--speed` is venue seconds per real second.

use std::process::ExitCode;

use onsite_tests::rehearsal::{self, Plan};

fn parse() -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-print" {
            plan.print = false;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--desks" => plan.desks = number()?,
            "--check-ins" => plan.check_ins = number()?,
            "--walk-ins" => plan.walk_ins = number()?,
            "--offline" => plan.offline = number()?,
            "--seed" => plan.seed = number()? as u64,
            "--speed" => plan.speed = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(plan)
}

fn main() -> ExitCode {
    let plan = match parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("onsite-rehearse: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "rehearsal: {} desks × {} check-ins, {} walk-in sales, {} desks offline for the rush",
        plan.desks, plan.check_ins, plan.walk_ins, plan.offline
    );
    match rehearsal::run(&std::env::temp_dir(), &plan) {
        Ok(report) => {
            println!("\n==> rehearsal report\n{report}");
            if report.converged {
                ExitCode::SUCCESS
            } else {
                eprintln!("onsite-rehearse: the desks and the server did not converge");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("onsite-rehearse: {e:#}");
            ExitCode::FAILURE
        }
    }
}
