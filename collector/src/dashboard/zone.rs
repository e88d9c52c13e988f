//! The time zone an owner reads the dashboard's times in: the IANA database built into the
//! binary (jiff's bundled copy), so every machine offers and shows the same zones.

use jiff::Timestamp;
use jiff::tz::{self, TimeZone};

use crate::accounts::Session;

/// The zone of an account that chose none.
pub const DEFAULT_ZONE: &str = "UTC";

/// A zone's IANA name and its rules.
pub struct Zone {
    name: String,
    zone: TimeZone,
}

impl Zone {
    /// The zone `name` names, if the database knows it.
    pub fn named(name: &str) -> Option<Self> {
        let zone = tz::db().get(name).ok()?;
        Some(Self {
            name: zone.iana_name().unwrap_or(name).to_owned(),
            zone,
        })
    }

    /// The zone the signed-in owner chose (UTC when none, or one the database no longer has).
    pub fn of(owner: &Session) -> Self {
        Self::named(&owner.time_zone).unwrap_or_else(|| Self {
            name: DEFAULT_ZONE.to_owned(),
            zone: TimeZone::UTC,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `2026-11-22 15:03 Europe/Paris`: a stored time in this zone, the zone named.
    pub fn when(&self, millis: i64) -> String {
        format!("{} {}", self.format(millis, "%Y-%m-%d %H:%M"), self.name)
    }

    /// `2026-11-22`: a stored time's day in this zone.
    pub fn day(&self, millis: i64) -> String {
        self.format(millis, "%Y-%m-%d")
    }

    fn format(&self, millis: i64, pattern: &str) -> String {
        let at = Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH);
        at.to_zoned_datetime(self.zone.clone())
            .strftime(pattern)
            .to_string()
    }
}

/// Every zone an owner may choose, sorted, as the account page lists them.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.contains('/') || name == DEFAULT_ZONE)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_zone_with_its_name() {
        // 2026-12-08 13:03 UTC; Paris is an hour ahead in winter, two in summer.
        let winter = 1_796_734_980_000;
        assert_eq!(
            Zone::named("UTC").unwrap().when(winter),
            "2026-12-08 13:03 UTC"
        );
        let paris = Zone::named("Europe/Paris").unwrap();
        assert_eq!(paris.when(winter), "2026-12-08 14:03 Europe/Paris");
        assert_eq!(
            paris.when(winter - 160 * 86_400_000),
            "2026-07-01 15:03 Europe/Paris"
        );
        let auckland = Zone::named("Pacific/Auckland").unwrap();
        assert_eq!(auckland.day(winter + 11 * 3_600_000), "2026-12-09");
        assert!(Zone::named("Mars/Olympus_Mons").is_none());
        let names = names();
        assert!(names.iter().any(|name| name == "Europe/Paris"));
        assert!(names.iter().any(|name| name == "UTC"));
    }
}
