//! Checking passwords on a small fixed pool of threads, each with its argon2 memory allocated
//! once and reused.
//!
//! Every sign-in runs argon2id over 19 MiB on purpose; run on any thread, a flood of wrong
//! sign-ins took the server from 2.4 GiB to 12 GiB (each thread's allocator arena kept what it
//! had handed out) and slowed every push. Here at most [`Hasher::threads`] checks run at once
//! and their memory never moves; a check that cannot start within [`WAIT`] is answered
//! [`Busy`] rather than queued behind the flood.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// How long a sign-in may wait for a free hashing thread before it is turned away.
pub const WAIT: Duration = Duration::from_millis(250);
/// The most memory one check may use (a stored hash with larger parameters is refused).
const MAX_BLOCKS: usize = 64 * 1024;

/// No hashing thread came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once; try again in a moment")]
pub struct Busy;

struct Check {
    password: String,
    stored: Option<String>,
    answer: tokio::sync::oneshot::Sender<bool>,
}

/// The pool. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Check>,
    slots: Arc<tokio::sync::Semaphore>,
    threads: usize,
}

impl Hasher {
    /// Starts `threads` hashing threads (at least one).
    pub fn start(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, inbox) = mpsc::channel::<Check>();
        let inbox = Arc::new(std::sync::Mutex::new(inbox));
        for i in 0..threads {
            let inbox = Arc::clone(&inbox);
            let started = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || {
                    let mut blocks = vec![Block::default(); Params::DEFAULT.block_count()];
                    loop {
                        let next = inbox
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok(check) = next else { return };
                        let matches =
                            check_with(&mut blocks, &check.password, check.stored.as_deref());
                        let _ = check.answer.send(matches);
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "no thread for password checks");
            }
        }
        Self {
            jobs,
            slots: Arc::new(tokio::sync::Semaphore::new(threads)),
            threads,
        }
    }

    /// How many checks run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether `password` matches the stored PHC string; for an unknown person pass `None`,
    /// which checks against a fixed hash so that the answer takes as long either way.
    pub async fn matches(&self, password: &str, stored: Option<&str>) -> Result<bool, Busy> {
        let permit = tokio::time::timeout(WAIT, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Check {
                password: password.to_owned(),
                stored: stored.map(str::to_owned),
                answer,
            })
            .map_err(|_| Busy)?;
        let matches = answered.await.unwrap_or(false);
        drop(permit);
        Ok(matches)
    }
}

/// The PHC string unknown people are checked against (the default parameters, a fixed salt).
fn dummy() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$bm8gc3VjaCBwZXJzb24$Yd7rG9d3vQdH1y7H1p9yWWm3S3f8l9x6P3dW0f5z8xQ"
}

/// Checks `password` against `stored` (or the dummy) in `blocks`, grown only for a stored
/// hash with more memory than the default, up to [`MAX_BLOCKS`].
fn check_with(blocks: &mut Vec<Block>, password: &str, stored: Option<&str>) -> bool {
    let known = stored.is_some();
    let Ok(hash) = PasswordHash::new(stored.unwrap_or(dummy())) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&hash),
        Algorithm::try_from(hash.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt.as_ref(), hash.hash.as_ref()) else {
        return false;
    };
    let needed = params.block_count();
    if needed > MAX_BLOCKS {
        return false;
    }
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    let computed = argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..needed])
        .is_ok();
    // `Output`'s equality is constant time.
    let same = argon2::password_hash::phc::Output::new(&out).is_ok_and(|o| &o == expected);
    computed && same && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_is_a_hash_of_the_default_parameters() {
        let hash = PasswordHash::new(dummy()).unwrap();
        let params = Params::try_from(&hash).unwrap();
        assert_eq!(
            (
                params.m_cost(),
                params.t_cost(),
                params.p_cost(),
                params.block_count()
            ),
            (
                Params::DEFAULT.m_cost(),
                Params::DEFAULT.t_cost(),
                Params::DEFAULT.p_cost(),
                Params::DEFAULT.block_count()
            )
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pool_checks_as_argon2_does_and_turns_away_what_it_cannot_start() {
        let stored = super::super::hash_password("correct horse battery").unwrap();
        let pool = Hasher::start(1);
        assert_eq!(
            pool.matches("correct horse battery", Some(&stored)).await,
            Ok(true)
        );
        assert_eq!(
            pool.matches("correct horse batterY", Some(&stored)).await,
            Ok(false)
        );
        assert_eq!(pool.matches("correct horse battery", None).await, Ok(false));
        assert_eq!(pool.matches("x", Some("not a phc string")).await, Ok(false));
        // Many at once on one thread: some are turned away, none wait past `WAIT` for a slot.
        let started = std::time::Instant::now();
        let all: Vec<_> = (0..200)
            .map(|_| {
                let pool = pool.clone();
                let stored = stored.clone();
                tokio::spawn(async move { pool.matches("wrong password", Some(&stored)).await })
            })
            .collect();
        let mut busy = 0;
        for a in all {
            match a.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(Busy) => busy += 1,
            }
        }
        assert!(busy > 0, "a burst on one thread turns some away");
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
