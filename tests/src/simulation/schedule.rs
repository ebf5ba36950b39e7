//! What happens in a simulated morning, drawn from one seed: the steps, and how a failing
//! schedule is cut down to the fewest steps that still fail.

/// SplitMix64: a seeded stream of numbers, the simulator's only source of chance.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// One thing that happens. Indices are taken modulo what exists when the step runs, so that
/// any subset of a schedule is a schedule (what shrinking needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A desk sells walk-in tickets of one seat type.
    Sell {
        desk: usize,
        seat: usize,
        tickets: u8,
    },
    /// A desk scans one of the ticket codes the simulation knows of.
    CheckIn { desk: usize, pick: u32 },
    /// A desk syncs, over a network whose faults this round are drawn from `faults`.
    Sync { desk: usize, faults: u64 },
    /// A desk prints (or reprints) the badge of one of the codes the simulation knows of.
    Print { desk: usize, pick: u32 },
    /// A desk's badge printer jams, or is cleared.
    Jam { desk: usize },
    /// A desk's process dies between two steps and is reopened from its file.
    Crash { desk: usize },
    /// A desk's link goes down, or comes back.
    Partition { desk: usize },
    /// Head office changes a seat type's quota: releases more seats, or cuts it (perhaps
    /// below what is sold).
    Quota { seat: usize, by: i8 },
    /// An online buyer orders seats of one seat type; they are held until paid or expired.
    Order { seat: usize, seats: u8 },
    /// The payment provider confirms a buyer's payment of an order (of one that may have
    /// expired, or been paid already: a retried webhook).
    Pay { pick: u32 },
    /// The server's timer tick: reservations whose time is up expire.
    Timers,
    /// Head office decides one of the open conflicts (refund, honour the sale, dismiss, close).
    Decide { pick: u32, how: u8 },
    /// The server's process dies between two steps and is reopened from its files.
    RestartServer,
    /// A push the network held back arrives, late.
    Redeliver { pick: u32 },
    /// A desk's clock jumps (set wrong by hand, a time-zone or daylight-saving mistake).
    ClockJump { desk: usize, by_secs: i32 },
    /// A desk takes back an admission made by mistake (of a code it may never have admitted).
    Undo { desk: usize, pick: u32 },
    /// A desk corrects the name on a ticket.
    Correct { desk: usize, pick: u32 },
    /// A copy of a desk's file is taken (a backup).
    Backup { desk: usize },
    /// A desk syncs, sells or prints, and the power goes at the desk or at the server (`server`) in
    /// the middle of it, after a number of disk operations drawn from `luck`: what the
    /// machine's files held unsynced is lost, all of it or a part drawn from `luck`, and it
    /// starts again.
    PowerCut {
        desk: usize,
        server: bool,
        luck: u64,
    },
    /// A desk's file is replaced by its last backup, and the desk started again: what it did
    /// since is gone from it. Its next push is refused as diverged, and head office re-enrols it.
    Restore { desk: usize },
}

/// How far a desk's clock jumps: seconds of drift, a wrong minute, a wrong hour (time zone,
/// daylight saving), a wrong day.
const JUMPS: [i32; 8] = [-86_400, -3_600, -600, -7, 7, 600, 3_600, 86_400];

/// The size of a simulated morning.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub desks: usize,
    pub steps: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            desks: 3,
            steps: 60,
        }
    }
}

/// The schedule of `seed`.
pub fn generate(seed: u64, shape: Shape) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let desks = shape.desks.max(1) as u64;
    let desk = |rng: &mut Rng| rng.below(desks) as usize;
    (0..shape.steps)
        .map(|_| match rng.below(100) {
            0..15 => Step::Sell {
                desk: desk(&mut rng),
                seat: rng.below(3) as usize,
                tickets: 1 + rng.below(2) as u8,
            },
            15..39 => Step::CheckIn {
                desk: desk(&mut rng),
                pick: rng.next_u64() as u32,
            },
            39..42 => Step::Print {
                desk: desk(&mut rng),
                pick: rng.next_u64() as u32,
            },
            42..70 => Step::Sync {
                desk: desk(&mut rng),
                faults: rng.next_u64(),
            },
            70..74 => Step::Crash {
                desk: desk(&mut rng),
            },
            74..76 => Step::PowerCut {
                desk: desk(&mut rng),
                server: false,
                luck: rng.next_u64(),
            },
            76..80 => Step::Partition {
                desk: desk(&mut rng),
            },
            80 => Step::Jam {
                desk: desk(&mut rng),
            },
            81..83 => Step::Quota {
                seat: rng.below(3) as usize,
                by: [-2, -1, 1, 1, 2][rng.below(5) as usize],
            },
            83..87 => Step::Order {
                seat: rng.below(3) as usize,
                seats: 1 + rng.below(2) as u8,
            },
            87..90 => Step::Pay {
                pick: rng.next_u64() as u32,
            },
            90..92 => Step::Timers,
            92..94 => Step::Decide {
                pick: rng.next_u64() as u32,
                how: rng.below(4) as u8,
            },
            94 => Step::RestartServer,
            95 => Step::PowerCut {
                desk: desk(&mut rng),
                server: true,
                luck: rng.next_u64(),
            },
            96 => Step::Redeliver {
                pick: rng.next_u64() as u32,
            },
            97 => Step::ClockJump {
                desk: desk(&mut rng),
                by_secs: JUMPS[rng.below(JUMPS.len() as u64) as usize],
            },
            98 if rng.percent(50) => Step::Backup {
                desk: desk(&mut rng),
            },
            98 => Step::Restore {
                desk: desk(&mut rng),
            },
            99 if rng.percent(50) => Step::Undo {
                desk: desk(&mut rng),
                pick: rng.next_u64() as u32,
            },
            _ => Step::Correct {
                desk: desk(&mut rng),
                pick: rng.next_u64() as u32,
            },
        })
        .collect()
}

/// The fewest steps of `steps` that still fail (greedy chunk removal, halving the chunk), with
/// at most `budget` tries.
pub fn shrink(steps: &[Step], budget: usize, mut fails: impl FnMut(&[Step]) -> bool) -> Vec<Step> {
    let mut current = steps.to_vec();
    let mut tries = 0;
    let mut chunk = current.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        let mut removed = false;
        while i < current.len() && tries < budget {
            let mut candidate = current.clone();
            candidate.drain(i..(i + chunk).min(current.len()));
            tries += 1;
            if fails(&candidate) {
                current = candidate;
                removed = true;
            } else {
                i += chunk;
            }
        }
        if tries >= budget || (chunk == 1 && !removed) {
            return current;
        }
        if !removed {
            chunk = chunk.div_ceil(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_schedule() {
        let shape = Shape::default();
        assert_eq!(generate(7, shape), generate(7, shape));
        assert_ne!(generate(7, shape), generate(8, shape));
    }

    #[test]
    fn shrinking_keeps_only_the_steps_that_matter() {
        let steps = generate(
            3,
            Shape {
                desks: 3,
                steps: 80,
            },
        );
        let culprit = |s: &Step| matches!(s, Step::Crash { .. });
        let culprits = steps.iter().filter(|s| culprit(s)).count();
        assert!(culprits >= 2, "seed 3 has crashes");
        let fails = |s: &[Step]| s.iter().filter(|s| culprit(s)).count() >= 2;
        let shrunk = shrink(&steps, 10_000, fails);
        assert_eq!(shrunk.len(), 2, "{shrunk:?}");
        assert!(shrunk.iter().all(culprit));
    }
}
