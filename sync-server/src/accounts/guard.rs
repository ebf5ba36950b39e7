//! How often sign-ins (and anonymous orders) may be tried: per client address and per account,
//! with governor's rate limiters, and a lockout per account that doubles with each failure
//! after the first few, so that guessing a password costs hours, not seconds.
//!
//! The state is in memory, per server process: several processes on one database each count
//! on their own (a guesser spread over them gets their sum).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Failures in a row an account may have before it is locked.
pub const FREE_FAILURES: u32 = 5;
/// The first lockout; each further failure doubles it, up to [`MAX_LOCKOUT`].
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(3_600);
/// Accounts whose failures are remembered at most (the oldest lockouts go first).
const REMEMBERED: usize = 10_000;

/// Why an attempt was turned away, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Lockout {
    failures: u32,
    until: Option<Instant>,
    last: Instant,
}

/// Rate limits for one kind of attempt.
pub struct Guard {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    lockouts: Mutex<HashMap<String, Lockout>>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let n = |v: u32| NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n(per_minute)).allow_burst(n(burst))
}

impl Guard {
    /// Sign-ins: 20 a minute from one address (10 at once), 10 a minute for one account
    /// (5 at once), and the lockout after [`FREE_FAILURES`].
    pub fn sign_in() -> Self {
        Self::new(quota(20, 10), quota(10, 5))
    }

    /// Anonymous orders: 30 a minute from one address (10 at once); no accounts.
    pub fn orders() -> Self {
        Self::new(quota(30, 10), quota(30, 10))
    }

    fn new(per_address: Quota, per_account: Quota) -> Self {
        Self {
            per_address: governor::RateLimiter::keyed(per_address),
            per_account: governor::RateLimiter::keyed(per_account),
            lockouts: Mutex::new(HashMap::new()),
        }
    }

    fn locks(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lockout>> {
        self.lockouts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// May `address` try now?
    pub fn address(&self, address: IpAddr) -> Result<(), TooMany> {
        self.per_address
            .check_key(&address)
            .map_err(|not_until| TooMany {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// May `account` (an email, normalised by the caller) be tried now?
    pub fn account(&self, account: &str) -> Result<(), TooMany> {
        if let Some(until) = self.locks().get(account).and_then(|l| l.until) {
            let now = Instant::now();
            if until > now {
                return Err(TooMany {
                    retry_after: until - now,
                });
            }
        }
        self.per_account
            .check_key(&account.to_owned())
            .map_err(|not_until| TooMany {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// A wrong password for `account`: after [`FREE_FAILURES`] in a row it is locked, for
    /// [`FIRST_LOCKOUT`] doubled by each failure since.
    pub fn failed(&self, account: &str) {
        let now = Instant::now();
        let mut locks = self.locks();
        if locks.len() >= REMEMBERED && !locks.contains_key(account) {
            // Forget what no longer locks anything; failing that, the oldest.
            locks.retain(|_, l| l.until.is_some_and(|u| u > now));
            if locks.len() >= REMEMBERED
                && let Some(oldest) = locks
                    .iter()
                    .min_by_key(|(_, l)| l.last)
                    .map(|(k, _)| k.clone())
            {
                locks.remove(&oldest);
            }
        }
        let entry = locks.entry(account.to_owned()).or_insert(Lockout {
            failures: 0,
            until: None,
            last: now,
        });
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        if entry.failures >= FREE_FAILURES {
            let doublings = (entry.failures - FREE_FAILURES).min(16);
            let lock = FIRST_LOCKOUT
                .saturating_mul(1 << doublings)
                .min(MAX_LOCKOUT);
            entry.until = Some(now + lock);
        }
    }

    /// The right password: the account's failures are forgotten.
    pub fn succeeded(&self, account: &str) {
        self.locks().remove(account);
    }

    /// Forgets limiter state that no longer limits anything (run now and then).
    pub fn tidy(&self) {
        self.per_address.retain_recent();
        self.per_account.retain_recent();
        let now = Instant::now();
        self.locks().retain(|_, l| {
            l.until.is_some_and(|u| u > now) || now.duration_since(l.last) < MAX_LOCKOUT
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_free_failures_and_the_lock_doubles() {
        let guard = Guard::new(quota(1_000, 1_000), quota(1_000, 1_000));
        for _ in 0..FREE_FAILURES - 1 {
            guard.failed("ada@example.com");
            assert_eq!(guard.account("ada@example.com"), Ok(()));
        }
        guard.failed("ada@example.com");
        let first = guard.account("ada@example.com").unwrap_err().retry_after;
        assert!(first > FIRST_LOCKOUT - Duration::from_secs(1) && first <= FIRST_LOCKOUT);
        guard.failed("ada@example.com");
        let second = guard.account("ada@example.com").unwrap_err().retry_after;
        assert!(
            second > first + Duration::from_secs(20),
            "{first:?} then {second:?}"
        );
        assert_eq!(
            guard.account("bob@example.com"),
            Ok(()),
            "others are not locked"
        );
        guard.succeeded("ada@example.com");
        assert_eq!(guard.account("ada@example.com"), Ok(()));
    }

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let guard = Guard::new(quota(60, 3), quota(1_000, 1_000));
        let here: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..3 {
            assert_eq!(guard.address(here), Ok(()));
        }
        let wait = guard.address(here).unwrap_err().retry_after;
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(guard.address([10, 0, 0, 1].into()), Ok(()));
    }

    #[test]
    fn the_lockouts_remembered_are_bounded() {
        let guard = Guard::new(quota(1_000, 1_000), quota(1_000_000, 1_000_000));
        for i in 0..REMEMBERED + 50 {
            guard.failed(&format!("guess{i}@example.com"));
        }
        assert!(guard.locks().len() <= REMEMBERED);
    }
}
