//! The simulator's clocks: one venue time that moves only when a step says so, the server's
//! clock on it, and each desk's clock on it plus that desk's error (set wrong by hand, jumped
//! by a time-zone or daylight-saving mistake). Nothing in a simulated morning reads the wall
//! clock, so the times it records are the same for the same seed.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use onsite_desk_core::Clock;
use onsite_shared::Timestamp;

/// The moment a simulated morning starts: doors open at eight.
const START_MS: i64 = 1_795_420_800_000; // 2026-11-23T08:00:00Z

pub(crate) struct Clocks {
    /// Milliseconds since the Unix epoch, venue time.
    now_ms: AtomicI64,
    /// Each desk's clock error, in milliseconds.
    error_ms: Vec<AtomicI64>,
}

fn at(ms: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Clocks {
    pub(crate) fn new(desks: usize) -> Arc<Self> {
        Arc::new(Self {
            now_ms: AtomicI64::new(START_MS),
            error_ms: (0..desks).map(|_| AtomicI64::new(0)).collect(),
        })
    }

    /// Venue time moves on.
    pub(crate) fn advance(&self, ms: i64) {
        self.now_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// A desk's clock jumps by `ms` (and stays wrong by that much more).
    pub(crate) fn jump(&self, desk: usize, ms: i64) {
        self.error_ms[desk].fetch_add(ms, Ordering::Relaxed);
    }

    pub(crate) fn error_ms(&self, desk: usize) -> i64 {
        self.error_ms[desk].load(Ordering::Relaxed)
    }

    pub(crate) fn server(self: &Arc<Self>) -> Box<dyn Fn() -> Timestamp + Send + Sync> {
        let clocks = Arc::clone(self);
        Box::new(move || at(clocks.now_ms.load(Ordering::Relaxed)))
    }

    pub(crate) fn desk(self: &Arc<Self>, desk: usize) -> Clock {
        let clocks = Arc::clone(self);
        Arc::new(move || {
            at(clocks.now_ms.load(Ordering::Relaxed)
                + clocks.error_ms[desk].load(Ordering::Relaxed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desks_read_venue_time_plus_their_error() {
        let clocks = Clocks::new(2);
        let (server, desk) = (clocks.server(), clocks.desk(1));
        assert_eq!(server().to_rfc3339(), "2026-11-23T08:00:00+00:00");
        clocks.advance(5_000);
        clocks.jump(1, -3_600_000);
        assert_eq!(server().to_rfc3339(), "2026-11-23T08:00:05+00:00");
        assert_eq!(desk().to_rfc3339(), "2026-11-23T07:00:05+00:00");
        assert_eq!(clocks.desk(0)(), server());
    }
}
