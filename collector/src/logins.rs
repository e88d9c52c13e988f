//! Limits on dashboard sign-in attempts, per source and per email, in bounded memory.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Sign-in attempts allowed in [`LOGIN_WINDOW`] from one source (an IPv4 address or an IPv6
/// /64 network, whatever the user agent says).
pub const LOGIN_ATTEMPTS_PER_SOURCE: u32 = 10;
/// Sign-in attempts allowed in [`LOGIN_WINDOW`] against one account from browsers that have
/// not signed in to it before. A recognised browser is never held back by this count, so
/// strangers' guesses cannot lock the owner out.
pub const LOGIN_ATTEMPTS_PER_ACCOUNT: u32 = 10;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Emails whose attempts are counted one by one. A flood of made-up emails past this many
/// (each attempt also counts against its source) is counted as one more email until the
/// counts drain: memory stays at a few MB whatever is sent.
pub const MAX_TRACKED_EMAILS: usize = 100_000;

/// A sign-in source's key: an HMAC of its address under the daily salt (see `rate_limit`).
pub type SourceKey = [u8; 16];
/// An email's key: an HMAC of the email as accounts store it, under the daily salt.
pub type EmailKey = [u8; 16];

/// Where attempts on emails go once [`MAX_TRACKED_EMAILS`] are counted (an HMAC is never all
/// zeros in practice).
const OVERFLOW_EMAIL: EmailKey = [0; 16];

/// Limits on sign-in attempts, per source and per email. Every email is counted, whether an
/// account has it or not, so the answers cannot tell which accounts exist. Memory stays
/// bounded: keys are fixed-size, emails are at most [`MAX_TRACKED_EMAILS`], and
/// [`LoginLimits::forget_idle`] drops whatever has fully refilled.
#[derive(Clone)]
pub struct LoginLimits<C: Clock + Clone = DefaultClock> {
    by_email: Arc<Limiter<EmailKey, C>>,
    by_source: Arc<Limiter<SourceKey, C>>,
    clock: C,
}

type Limiter<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

fn login_quota(count: u32) -> Quota {
    let count = NonZeroU32::new(count).expect("non-zero");
    Quota::with_period(LOGIN_WINDOW / count.get())
        .expect("a non-zero period")
        .allow_burst(count)
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl<C: Clock + Clone> LoginLimits<C> {
    /// Limits that tell the time by `clock` (a test's clock moves when told).
    pub fn with_clock(clock: C) -> Self {
        let limiter = |count| {
            Arc::new(RateLimiter::new(
                login_quota(count),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ))
        };
        Self {
            by_email: limiter(LOGIN_ATTEMPTS_PER_ACCOUNT),
            by_source: limiter(LOGIN_ATTEMPTS_PER_SOURCE),
            clock,
        }
    }

    /// Counts one attempt from `source`; `Err` holds how long to wait.
    pub fn check_source(&self, source: &SourceKey) -> Result<(), Duration> {
        let now = self.clock.now();
        self.by_source
            .check_key(source)
            .map_err(|until| until.wait_time_from(now))
    }

    /// Counts one attempt on an email (an account's, or one no account has) from a browser
    /// the account does not recognise.
    pub fn check_email(&self, email: &EmailKey) -> Result<(), Duration> {
        let now = self.clock.now();
        let mut key = email;
        if self.by_email.len() >= MAX_TRACKED_EMAILS {
            self.by_email.retain_recent();
            if self.by_email.len() >= MAX_TRACKED_EMAILS {
                key = &OVERFLOW_EMAIL;
            }
        }
        self.by_email
            .check_key(key)
            .map_err(|until| until.wait_time_from(now))
    }

    /// Forgets sources and emails whose limits have fully refilled.
    pub fn forget_idle(&self) {
        self.by_source.retain_recent();
        self.by_source.shrink_to_fit();
        self.by_email.retain_recent();
        self.by_email.shrink_to_fit();
    }

    /// How many sources and emails are remembered now.
    pub fn tracked(&self) -> usize {
        self.by_source.len() + self.by_email.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_per_source_and_per_email_and_forget_what_refilled() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = LoginLimits::with_clock(clock.clone());
        let source = [7u8; 16];
        for _ in 0..LOGIN_ATTEMPTS_PER_SOURCE {
            assert!(limits.check_source(&source).is_ok());
        }
        let wait = limits.check_source(&source).unwrap_err();
        assert_eq!(
            wait,
            LOGIN_WINDOW / LOGIN_ATTEMPTS_PER_SOURCE,
            "one attempt's refill"
        );
        assert!(limits.check_source(&[8u8; 16]).is_ok(), "another source");
        for _ in 0..LOGIN_ATTEMPTS_PER_ACCOUNT {
            assert!(limits.check_email(&[1u8; 16]).is_ok());
        }
        assert!(limits.check_email(&[1u8; 16]).is_err());
        assert!(limits.check_email(&[2u8; 16]).is_ok(), "another email");
        assert_eq!(limits.tracked(), 4);
        limits.forget_idle();
        assert_eq!(limits.tracked(), 4, "nothing has refilled yet");

        // After one attempt's refill the used-up source may try once more, and is kept.
        clock.advance(wait);
        assert!(limits.check_source(&source).is_ok());
        assert!(limits.check_source(&source).is_err());

        // Once the window has passed since the last attempt, every limit is full again and
        // forgotten (governor keeps a key one attempt's refill past that).
        clock.advance(LOGIN_WINDOW + wait);
        limits.forget_idle();
        assert_eq!(limits.tracked(), 0, "everything refilled is forgotten");
        for _ in 0..LOGIN_ATTEMPTS_PER_SOURCE {
            assert!(
                limits.check_source(&source).is_ok(),
                "a full allowance again"
            );
        }
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    /// Made-up emails past the bound share one count instead of growing the table.
    #[test]
    fn emails_counted_are_bounded() {
        let limits = LoginLimits::default();
        for n in 0..MAX_TRACKED_EMAILS as u32 + 50 {
            let mut key = [9u8; 16];
            key[..4].copy_from_slice(&n.to_le_bytes());
            assert!(limits.check_email(&key).is_ok() || n >= MAX_TRACKED_EMAILS as u32);
        }
        assert!(
            limits.tracked() <= MAX_TRACKED_EMAILS + 1,
            "{}",
            limits.tracked()
        );
        let refused = (0..LOGIN_ATTEMPTS_PER_ACCOUNT)
            .filter(|_| limits.check_email(&[7u8; 16]).is_err())
            .count();
        assert!(refused > 0, "past the bound, new emails share one count");
    }
}
