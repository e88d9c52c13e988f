//! Limits on dashboard sign-in attempts, per source and per account, in bounded memory.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Sign-in attempts allowed in [`LOGIN_WINDOW`] from one source (an IPv4 address or an IPv6
/// /64 network, whatever the user agent says).
pub const LOGIN_ATTEMPTS_PER_SOURCE: u32 = 10;
/// Sign-in attempts allowed in [`LOGIN_WINDOW`] against one account from browsers that have
/// not signed in to it before. A recognised browser is never held back by this count, so
/// strangers' guesses cannot lock the owner out.
pub const LOGIN_ATTEMPTS_PER_ACCOUNT: u32 = 10;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A sign-in source's key: an HMAC of its address under the daily salt (see `rate_limit`).
pub type SourceKey = [u8; 16];

/// Limits on sign-in attempts, per source and per account. Memory stays bounded: sources are
/// kept as fixed-size keys, accounts by id (unknown emails are not remembered at all), and
/// [`LoginLimits::forget_idle`] drops whatever has fully refilled.
#[derive(Clone)]
pub struct LoginLimits {
    by_account: Arc<DefaultKeyedRateLimiter<i64>>,
    by_source: Arc<DefaultKeyedRateLimiter<SourceKey>>,
    clock: DefaultClock,
}

fn login_quota(count: u32) -> Quota {
    let count = NonZeroU32::new(count).expect("non-zero");
    Quota::with_period(LOGIN_WINDOW / count.get())
        .expect("a non-zero period")
        .allow_burst(count)
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            by_account: Arc::new(RateLimiter::keyed(login_quota(LOGIN_ATTEMPTS_PER_ACCOUNT))),
            by_source: Arc::new(RateLimiter::keyed(login_quota(LOGIN_ATTEMPTS_PER_SOURCE))),
            clock: DefaultClock::default(),
        }
    }
}

impl LoginLimits {
    /// Counts one attempt from `source`; `Err` holds how long to wait.
    pub fn check_source(&self, source: &SourceKey) -> Result<(), Duration> {
        let now = self.clock.now();
        self.by_source
            .check_key(source)
            .map_err(|until| until.wait_time_from(now))
    }

    /// Counts one attempt on an account from a browser it does not recognise.
    pub fn check_account(&self, user_id: i64) -> Result<(), Duration> {
        let now = self.clock.now();
        self.by_account
            .check_key(&user_id)
            .map_err(|until| until.wait_time_from(now))
    }

    /// Forgets sources and accounts whose limits have fully refilled.
    pub fn forget_idle(&self) {
        self.by_source.retain_recent();
        self.by_source.shrink_to_fit();
        self.by_account.retain_recent();
        self.by_account.shrink_to_fit();
    }

    /// How many sources and accounts are remembered now.
    pub fn tracked(&self) -> usize {
        self.by_source.len() + self.by_account.len()
    }
}

/// The address a sign-in limit counts against: an IPv4 address, or the /64 network of an
/// IPv6 address (one machine is given a whole /64 and may use any address in it).
pub fn sign_in_source(ip: Option<IpAddr>) -> Option<IpAddr> {
    ip.map(|ip| match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_is_one_source() {
        let a = sign_in_source(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = sign_in_source(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = sign_in_source(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(sign_in_source(Some(v4)), Some(v4));
    }

    #[test]
    fn limits_count_per_source_and_per_account_and_forget_what_refilled() {
        let limits = LoginLimits::default();
        let source = [7u8; 16];
        for _ in 0..LOGIN_ATTEMPTS_PER_SOURCE {
            assert!(limits.check_source(&source).is_ok());
        }
        assert!(limits.check_source(&source).is_err());
        assert!(limits.check_source(&[8u8; 16]).is_ok(), "another source");
        for _ in 0..LOGIN_ATTEMPTS_PER_ACCOUNT {
            assert!(limits.check_account(1).is_ok());
        }
        assert!(limits.check_account(1).is_err());
        assert!(limits.check_account(2).is_ok(), "another account");
        assert_eq!(limits.tracked(), 4);
        limits.forget_idle();
        assert_eq!(limits.tracked(), 4, "nothing has refilled yet");
    }
}
