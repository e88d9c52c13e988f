//! Rate limits per visitor and per site, and the privacy-preserving visitor key they use.
//!
//! A visitor is never identified by their IP address: the key is an HMAC of the network
//! address (an IPv4 address, or the /64 network of an IPv6 one) and site under a random salt that lives only in memory and is replaced every UTC day
//! (the previous one is dropped), so keys cannot be linked across days or reversed into
//! addresses, and nothing about them reaches the disk. Limits are counted per collector
//! process (see the README).

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How many submissions are allowed per window, per visitor and per site. `None` turns a
/// limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    pub per_visitor: Option<NonZeroU32>,
    pub per_site: Option<NonZeroU32>,
    pub window: Duration,
}

/// Refused submissions a visitor may send per window before being told to wait: enough for
/// a person correcting a form, not for a script probing the API.
pub const REFUSALS_PER_VISITOR: u32 = 30;

/// A visitor's anonymous key for one day: 16 bytes of HMAC-SHA256.
pub type VisitorKey = [u8; 16];

struct DailySalt {
    day: u64,
    salt: [u8; 32],
}

#[derive(Clone)]
pub struct RateLimits {
    per_visitor: Option<Arc<DefaultKeyedRateLimiter<VisitorKey>>>,
    /// Refused submissions (invalid fields) per visitor, counted apart from accepted ones.
    refusals: Arc<DefaultKeyedRateLimiter<VisitorKey>>,
    per_site: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    salt: Arc<Mutex<DailySalt>>,
    clock: DefaultClock,
}

fn quota(count: NonZeroU32, window: Duration) -> Quota {
    // `count` submissions at once, refilled evenly over the window.
    let period = (window / count.get()).max(Duration::from_millis(1));
    Quota::with_period(period)
        .expect("a non-zero period")
        .allow_burst(count)
}

fn random_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).expect("the operating system's random number generator failed");
    salt
}

fn utc_day() -> u64 {
    earshot_store::now_millis() as u64 / 86_400_000
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            per_visitor: config
                .per_visitor
                .map(|count| Arc::new(RateLimiter::keyed(quota(count, config.window)))),
            per_site: config
                .per_site
                .map(|count| Arc::new(RateLimiter::keyed(quota(count, config.window)))),
            refusals: Arc::new(RateLimiter::keyed(quota(
                NonZeroU32::new(REFUSALS_PER_VISITOR).expect("non-zero"),
                config.window,
            ))),
            salt: Arc::new(Mutex::new(DailySalt {
                day: utc_day(),
                salt: random_salt(),
            })),
            clock: DefaultClock::default(),
        }
    }

    /// The visitor's key for today: their network address (see [`source_network`]) within
    /// `scope` (a site's key, or a route). Nothing the client chooses, such as its user
    /// agent, goes in: changing it would make a new visitor for free.
    pub fn visitor_key(&self, ip: Option<IpAddr>, scope: &str) -> VisitorKey {
        let mut value = Vec::with_capacity(16);
        match source_network(ip) {
            Some(IpAddr::V4(ip)) => value.extend_from_slice(&ip.octets()),
            Some(IpAddr::V6(ip)) => value.extend_from_slice(&ip.octets()),
            None => {}
        }
        self.keyed_hash(scope, &value)
    }

    /// A key for `value` within `scope` for today: HMAC-SHA256 under the daily salt, cut to
    /// 16 bytes, so it can be counted but not turned back into the value or linked across
    /// days.
    pub fn keyed_hash(&self, scope: &str, value: &[u8]) -> VisitorKey {
        let salt = {
            let mut current = self.salt.lock().expect("salt lock poisoned");
            let today = utc_day();
            if current.day != today {
                *current = DailySalt {
                    day: today,
                    salt: random_salt(),
                };
            }
            current.salt
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&salt).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        let mut key = [0u8; 16];
        key.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        key
    }

    /// Counts one submission; `Err` holds how long to wait when a limit is reached.
    pub fn check(&self, visitor: &VisitorKey, site: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(limiter) = &self.per_visitor {
            limiter
                .check_key(visitor)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        if let Some(limiter) = &self.per_site {
            limiter
                .check_key(&site.to_owned())
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Counts one refused submission from `visitor`; `Err` holds how long to wait.
    pub fn check_refusal(&self, visitor: &VisitorKey) -> Result<(), Duration> {
        let now = self.clock.now();
        self.refusals
            .check_key(visitor)
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets visitors and sites whose limits have fully refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.refusals.retain_recent();
        self.refusals.shrink_to_fit();
        if let Some(limiter) = &self.per_visitor {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_site {
            limiter.retain_recent();
        }
    }
}

/// The address a limit counts against: an IPv4 address, or the /64 network of an IPv6
/// address (one machine is given a whole /64 and may use any address in it).
pub fn source_network(ip: Option<IpAddr>) -> Option<IpAddr> {
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

    fn limits(per_visitor: u32, per_site: u32) -> RateLimits {
        RateLimits::new(RateLimitConfig {
            per_visitor: NonZeroU32::new(per_visitor),
            per_site: NonZeroU32::new(per_site),
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_visitor_is_limited_and_told_when_to_come_back() {
        let limits = limits(3, 100);
        let ip = Some("203.0.113.7".parse().unwrap());
        let visitor = limits.visitor_key(ip, "demo");
        for _ in 0..3 {
            assert_eq!(limits.check(&visitor, "demo"), Ok(()));
        }
        let wait = limits.check(&visitor, "demo").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        let other = limits.visitor_key(Some("203.0.113.8".parse().unwrap()), "demo");
        assert_eq!(
            limits.check(&other, "demo"),
            Ok(()),
            "another visitor is not affected"
        );
    }

    #[test]
    fn a_site_is_limited_across_visitors() {
        let limits = limits(100, 2);
        for n in 1..=2 {
            let visitor = limits.visitor_key(Some([192, 0, 2, n].into()), "demo");
            assert_eq!(limits.check(&visitor, "demo"), Ok(()));
        }
        let visitor = limits.visitor_key(Some([192, 0, 2, 3].into()), "demo");
        assert!(limits.check(&visitor, "demo").is_err());
        assert_eq!(
            limits.check(&visitor, "other"),
            Ok(()),
            "other sites are not affected"
        );
    }

    #[test]
    fn visitor_keys_depend_on_the_network_and_site_and_hide_the_ip() {
        let limits = limits(1, 1);
        let ip = Some("198.51.100.1".parse().unwrap());
        let key = limits.visitor_key(ip, "demo");
        assert_eq!(key, limits.visitor_key(ip, "demo"));
        assert_ne!(
            key,
            limits.visitor_key(Some("198.51.100.2".parse().unwrap()), "demo")
        );
        assert_ne!(key, limits.visitor_key(ip, "demo2"));
        let six = |text: &str| limits.visitor_key(Some(text.parse().unwrap()), "demo");
        assert_eq!(
            six("2001:db8:1:2:aaaa::1"),
            six("2001:db8:1:2:bbbb::9"),
            "an IPv6 /64 is one visitor"
        );
        assert_ne!(six("2001:db8:1:2::1"), six("2001:db8:1:3::1"));
        let other_process = super::RateLimits::new(RateLimitConfig {
            per_visitor: None,
            per_site: None,
            window: Duration::from_secs(60),
        });
        assert_ne!(
            key,
            other_process.visitor_key(ip, "demo"),
            "keys are salted"
        );
    }
}
