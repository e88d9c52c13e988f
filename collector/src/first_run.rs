//! The first-run set-up token: while no owner account exists, `earshot serve` prints a
//! one-time link carrying it (see `dashboard::setup`). Only its SHA-256 is kept, in this
//! process's memory, compared in constant time; it is used up by the account it creates.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a set-up link works after `earshot serve` printed it.
pub const SETUP_VALID: Duration = Duration::from_secs(60 * 60);

/// The set-up token this process printed, while no account has used it.
#[derive(Clone, Default)]
pub struct FirstRun(Arc<Mutex<Option<Pending>>>);

#[derive(Clone, Copy)]
pub struct Pending {
    hash: [u8; 32],
    expires: Instant,
}

/// What a token is worth right now.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Valid,
    Expired,
    Wrong,
}

impl FirstRun {
    /// Makes a new token, valid for [`SETUP_VALID`], and returns it for the link. Any earlier
    /// token stops working.
    pub fn arm(&self) -> String {
        let token = crate::auth::random_secret("", 32);
        *self.lock() = Some(Pending {
            hash: Sha256::digest(token.as_bytes()).into(),
            expires: Instant::now() + SETUP_VALID,
        });
        token
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn check(&self, token: &str) -> Check {
        let pending = *self.lock();
        match pending {
            Some(pending) if same_hash(token, &pending.hash) => {
                if Instant::now() < pending.expires {
                    Check::Valid
                } else {
                    Check::Expired
                }
            }
            _ => Check::Wrong,
        }
    }

    /// Takes the token if it is valid, so that two forms sent at once cannot both create an
    /// account; [`FirstRun::put_back`] returns it when the creation fails.
    pub fn take(&self, token: &str) -> Option<Pending> {
        let mut pending = self.lock();
        let valid = pending
            .is_some_and(|found| same_hash(token, &found.hash) && Instant::now() < found.expires);
        if valid { pending.take() } else { None }
    }

    pub fn put_back(&self, taken: Pending) {
        let mut pending = self.lock();
        if pending.is_none() {
            *pending = Some(taken);
        }
    }
}

/// Whether `token` hashes to `hash`, in constant time.
fn same_hash(token: &str, hash: &[u8; 32]) -> bool {
    Sha256::digest(token.as_bytes())
        .as_slice()
        .ct_eq(hash)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once_and_only_itself() {
        let first_run = FirstRun::default();
        assert_eq!(first_run.check("anything"), Check::Wrong);
        let token = first_run.arm();
        assert_eq!(token.len(), 64, "256 random bits, hex");
        assert_eq!(first_run.check(&token), Check::Valid);
        assert_eq!(first_run.check(&token[1..]), Check::Wrong);
        assert!(first_run.take("wrong").is_none());
        let taken = first_run.take(&token).expect("the valid token");
        assert_eq!(first_run.check(&token), Check::Wrong, "used up");
        assert!(first_run.take(&token).is_none(), "no second account");
        first_run.put_back(taken);
        assert_eq!(
            first_run.check(&token),
            Check::Valid,
            "given back on failure"
        );
        let newer = first_run.arm();
        assert_eq!(first_run.check(&token), Check::Wrong, "replaced");
        assert_eq!(first_run.check(&newer), Check::Valid);
    }

    #[test]
    fn an_old_token_has_expired() {
        let first_run = FirstRun::default();
        let token = first_run.arm();
        first_run.lock().as_mut().unwrap().expires = Instant::now() - Duration::from_secs(1);
        assert_eq!(first_run.check(&token), Check::Expired);
        assert!(first_run.take(&token).is_none());
    }
}
