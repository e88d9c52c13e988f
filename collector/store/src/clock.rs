//! Time as the database keeps it: milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::sync::atomic::{AtomicI64, Ordering};

/// How far this process's clock is moved ahead, in milliseconds (see [`move_clock_ahead`]).
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

/// Moves this process's idea of now ahead, for tests of deadlines and reminders that cannot
/// wait two days (`EARSHOT_CLOCK_AHEAD_SECS`, which only debug builds of `earshot serve`
/// read).
pub fn move_clock_ahead(millis: i64) {
    AHEAD_MS.store(millis, Ordering::Relaxed);
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in the database.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
        + AHEAD_MS.load(Ordering::Relaxed)
}

/// A stored time as people read it, the same in every language: `2026-11-22 14:03 UTC`.
pub fn minute(millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// A stored time as RFC 3339 in UTC, as exports and webhooks show it (empty when out of range).
pub fn timestamp(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}
