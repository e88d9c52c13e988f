//! The statistics' SQL, written once for both engines (`?N` parameters; PostgreSQL's `$N`
//! come from [`dollar_numbered`]).
//!
//! Triggers keep counts per hour and per day (`stats_ratings`, `stats_pages`: migrations
//! `sqlite/0008`, `postgres/0004`). A range is read as its whole days from the days, the
//! whole hours left at its ends from the hours, and the partial hours left from `feedback`
//! itself: over 30 days, about 30 days, 46 hours and two partial hours, whatever the number
//! of submissions. On PostgreSQL each writing statement appends its own rows of differences
//! (replicas never wait on one another's counts) and [`COMPACT`] merges them; so every read
//! adds up the rows of a key.

use earshot_shared::RatingKind;

use crate::contract::{Buckets, Dialect, STATS_MIN_PAGE_RATINGS, STATS_PAGES, SqlValue};
use crate::mail_sql::{dollar_numbered, numbered_list};

/// The counts' periods.
pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The whole periods of `span_ms` in `[from, to)`: `[start, end)`, both on the period's
/// boundaries; empty (`start == end`) when there is none.
fn whole(from: i64, to: i64, span_ms: i64) -> (i64, i64) {
    let start = (from + span_ms - 1).div_euclid(span_ms) * span_ms;
    let end = to.div_euclid(span_ms) * span_ms;
    (start, end.max(start))
}

/// A page's address without its query string and fragment: the same page, however reached.
fn page(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "substr(page_url, 1, min(instr(page_url || '?', '?'), instr(page_url || '#', '#')) - 1)"
        }
        Dialect::Postgres => {
            "substr(page_url, 1, least(strpos(page_url || '?', '?'), strpos(page_url || '#', '#')) - 1)"
        }
    }
}

/// A rating on the common 0–100 scale, as a whole number: (value − lowest) × 100 /
/// (highest − lowest), which divides evenly on every scale (checked by a test), so sums of
/// points add and subtract exactly.
fn points() -> String {
    let cases: String = RatingKind::ALL
        .iter()
        .map(|kind| {
            let (low, high) = kind.bounds();
            format!(
                " WHEN '{}' THEN (rating_value - {low}) * {}",
                kind.as_str(),
                100 / (high - low)
            )
        })
        .collect();
    format!("CASE rating_kind{cases} END")
}

/// The range to read for `[from, to)`, widened to whole days or hours at either end when no
/// counted submission arrived in what is added (`arrived(start, end)` says whether one
/// arrived in `[start, end)`): the figures are the same, and whole periods are read from the
/// counts instead of the submissions. The statistics page asks for "the last 30 days until
/// now", which ends inside the current hour: without this, a burst in the last hour would be
/// read submission by submission.
pub(crate) fn widened<E>(
    from: i64,
    to: i64,
    mut arrived: impl FnMut(i64, i64) -> Result<bool, E>,
) -> Result<(i64, i64), E> {
    let mut start = from;
    for span in [DAY_MS, HOUR_MS] {
        let floor = from.div_euclid(span) * span;
        if floor < from && !arrived(floor, from)? {
            start = floor;
            break;
        }
    }
    let mut end = to;
    for span in [DAY_MS, HOUR_MS] {
        let ceiling = (to.div_euclid(span) + 1) * span;
        if to.rem_euclid(span) != 0 && !arrived(to, ceiling)? {
            end = ceiling;
            break;
        }
    }
    Ok((start, end))
}

/// Every window [`widened`] may ask about, for an engine that asks them all up front.
pub(crate) fn probe_windows(from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut windows = Vec::new();
    // Told that every window holds something, it asks about each one.
    let _ = widened(from, to, |start, end| {
        windows.push((start, end));
        Ok::<_, ()>(true)
    });
    windows
}

/// Whether a counted submission of `sites` arrived in `[?1, ?2)` (the sites from `?3`), for
/// [`widened`]: its parameters are the two ends and then the sites.
pub(crate) fn any_arrived(sites: &[String], dialect: Dialect) -> (String, Vec<SqlValue>) {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM feedback WHERE site_key IN ({}) AND NOT spam \
         AND received_at >= ?1 AND received_at < ?2)",
        numbered_list(sites.len(), 3)
    );
    (
        in_dialect(sql, dialect),
        sites.iter().cloned().map(SqlValue::Text).collect(),
    )
}

/// `sql`, written with `?N` parameters, as `dialect` takes it.
fn in_dialect(sql: String, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => sql,
        Dialect::Postgres => dollar_numbered(&sql),
    }
}

/// The statistics' statements and their parameters.
pub(crate) struct Statements {
    /// Ratings per kind, value and bucket; takes `params`.
    pub ratings: String,
    /// The pages that need attention; takes `params`.
    pub pages: String,
    /// How many had a response; takes `response_params`.
    pub responded: String,
    /// The median response time; takes `response_params` and the offset after them.
    pub median: String,
    pub params: Vec<SqlValue>,
    pub response_params: Vec<SqlValue>,
}

/// The statistics' statements over `sites`, for what was received in `[from, to)`.
pub(crate) fn statements(
    sites: &[String],
    from: i64,
    to: i64,
    buckets: Buckets,
    dialect: Dialect,
) -> Statements {
    let Buckets { first, width_ms } = buckets;
    let (hours_from, hours_to) = whole(from, to, HOUR_MS);
    let (days_from, days_to) = whole(from, to, DAY_MS);
    // The sites' parameters, numbered from `start`.
    let list = |start: usize| numbered_list(sites.len(), start);
    let sites_values = sites.iter().cloned().map(SqlValue::Text);
    let mut params = [from, to, hours_from, hours_to, days_from, days_to]
        .map(SqlValue::Int)
        .to_vec();
    params.extend(sites_values.clone());
    let mut response_params = vec![SqlValue::Int(from), SqlValue::Int(to)];
    response_params.extend(sites_values);

    let arrived = |start| {
        format!(
            "site_key IN ({}) AND NOT spam AND received_at >= ?1 AND received_at < ?2",
            list(start)
        )
    };
    // `select` over a table of counts, grouped by `group`: the whole days, then the whole
    // hours outside them.
    let counts = |select: &str, table: &str, group: &str| {
        let sites = list(7);
        format!(
            "SELECT {select} FROM {table} WHERE site_key IN ({sites}) AND span = 'day' \
               AND period >= ?5 AND period < ?6 GROUP BY {group} HAVING sum(n) <> 0 \
             UNION ALL \
             SELECT {select} FROM {table} WHERE site_key IN ({sites}) AND span = 'hour' \
               AND period >= ?3 AND period < ?4 AND (period < ?5 OR period >= ?6) \
               GROUP BY {group} HAVING sum(n) <> 0"
        )
    };
    // The partial hours, as two ranges (one condition with OR would read the whole range
    // from the index): [from, first whole hour) and [end of the whole hours, to).
    let partial = |select: &str, group: &str| {
        let sites = list(7);
        format!(
            "SELECT {select} FROM feedback WHERE site_key IN ({sites}) AND NOT spam \
               AND received_at >= ?1 AND received_at < ?3 AND received_at < ?2 {group} \
             UNION ALL \
             SELECT {select} FROM feedback WHERE site_key IN ({sites}) AND NOT spam \
               AND received_at >= ?4 AND received_at < ?2 {group}"
        )
    };
    let responded = format!("{} AND first_response_at IS NOT NULL", arrived(3));
    let offset = format!("?{}", sites.len() + 3);
    let (page, points) = (page(dialect), points());
    let n = "CAST(sum(n) AS BIGINT)";
    let numbered = |sql: String| in_dialect(sql, dialect);
    Statements {
        ratings: numbered(format!(
            "{} UNION ALL {}",
            partial(
                &format!(
                    "rating_kind, rating_value, (received_at - {first}) / {width_ms} AS bucket, count(*)"
                ),
                "GROUP BY rating_kind, rating_value, bucket"
            ),
            counts(
                &format!(
                    "rating_kind, rating_value, (period - {first}) / {width_ms} AS bucket, {n}"
                ),
                "stats_ratings",
                "rating_kind, rating_value, bucket"
            )
        )),
        pages: numbered(format!(
            "SELECT page, {n} AS ratings, CAST(sum(points) AS DOUBLE PRECISION) / {n} AS satisfaction \
             FROM ({} UNION ALL {}) AS counted \
             GROUP BY page HAVING sum(n) >= {STATS_MIN_PAGE_RATINGS} \
             ORDER BY satisfaction ASC, ratings DESC, page LIMIT {STATS_PAGES}",
            counts(
                &format!("page, {n} AS n, CAST(sum(points) AS BIGINT) AS points"),
                "stats_pages",
                "page"
            ),
            partial(&format!("{page}, 1, {points}"), "")
        )),
        responded: numbered(format!("SELECT count(*) FROM feedback WHERE {responded}")),
        median: numbered(format!(
            "SELECT first_response_at - received_at AS took FROM feedback \
             WHERE {responded} ORDER BY took LIMIT 1 OFFSET {offset}"
        )),
        params,
        response_params,
    }
}

/// PostgreSQL: merges the rows of differences of every period that has new ones into one
/// row per key, and drops keys that count nothing any more. One statement, so a reader sees the
/// rows before or after, never half.
pub(crate) const COMPACT: [&str; 2] = [
    "WITH touched AS (SELECT DISTINCT site_key, span, period FROM stats_ratings WHERE NOT merged), \
          gone AS (DELETE FROM stats_ratings s USING touched t \
                   WHERE s.site_key = t.site_key AND s.span = t.span AND s.period = t.period \
                   RETURNING s.site_key, s.span, s.period, s.rating_kind, s.rating_value, s.n) \
     INSERT INTO stats_ratings (site_key, span, period, rating_kind, rating_value, n, merged) \
     SELECT site_key, span, period, rating_kind, rating_value, sum(n), true FROM gone \
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0",
    "WITH touched AS (SELECT DISTINCT site_key, span, period FROM stats_pages WHERE NOT merged), \
          gone AS (DELETE FROM stats_pages s USING touched t \
                   WHERE s.site_key = t.site_key AND s.span = t.span AND s.period = t.period \
                   RETURNING s.site_key, s.span, s.period, s.page, s.n, s.points) \
     INSERT INTO stats_pages (site_key, span, period, page, n, points, merged) \
     SELECT site_key, span, period, page, sum(n), sum(points), true FROM gone \
     GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The points are whole on every scale, and the migrations' triggers give each kind the
    /// same points as the statements above.
    #[test]
    fn points_are_whole_and_the_triggers_agree() {
        let migrations = [
            include_str!("../migrations/sqlite/0008_statistics.sql"),
            include_str!("../migrations/postgres/0004_statistics.sql"),
        ];
        for kind in RatingKind::ALL {
            let (low, high) = kind.bounds();
            assert_eq!(100 % (high - low), 0, "{kind:?}");
            let step = 100 / (high - low);
            let (sqlite, postgres) = if low == 0 {
                (
                    format!("WHEN '{}' THEN new.rating_value * {step}", kind.as_str()),
                    format!("WHEN ''{}'' THEN rating_value * {step}", kind.as_str()),
                )
            } else {
                (
                    format!(
                        "WHEN '{}' THEN (new.rating_value - {low}) * {step}",
                        kind.as_str()
                    ),
                    format!(
                        "WHEN ''{}'' THEN (rating_value - {low}) * {step}",
                        kind.as_str()
                    ),
                )
            };
            assert!(migrations[0].contains(&sqlite), "{sqlite}");
            assert!(migrations[1].contains(&postgres), "{postgres}");
        }
    }

    #[test]
    fn a_range_widens_over_what_holds_nothing() {
        let empty = |_: i64, _: i64| Ok::<_, ()>(false);
        let full = |_: i64, _: i64| Ok::<_, ()>(true);
        let (from, to) = (DAY_MS + 5 * HOUR_MS + 7, 3 * DAY_MS + HOUR_MS + 9);
        assert_eq!(widened(from, to, empty), Ok((DAY_MS, 4 * DAY_MS)));
        assert_eq!(widened(from, to, full), Ok((from, to)));
        // Something earlier that day, nothing earlier in the hour: the hour widens.
        let hour_only = |start: i64, end: i64| Ok::<_, ()>(end - start > HOUR_MS);
        assert_eq!(
            widened(from, to, hour_only),
            Ok((DAY_MS + 5 * HOUR_MS, 3 * DAY_MS + 2 * HOUR_MS))
        );
        // On the boundaries nothing is asked.
        let never = |_: i64, _: i64| -> Result<bool, ()> { panic!("asked") };
        assert_eq!(widened(DAY_MS, 2 * DAY_MS, never), Ok((DAY_MS, 2 * DAY_MS)));
    }

    #[test]
    fn whole_periods_inside_a_range() {
        // 00:30 to 03:15: hours 1 and 2 whole; no whole day.
        assert_eq!(
            whole(HOUR_MS / 2, 3 * HOUR_MS + HOUR_MS / 4, HOUR_MS),
            (HOUR_MS, 3 * HOUR_MS)
        );
        assert_eq!(whole(HOUR_MS / 2, 3 * HOUR_MS, DAY_MS), (DAY_MS, DAY_MS));
        // On the boundaries: every period whole.
        assert_eq!(whole(DAY_MS, 3 * DAY_MS, DAY_MS), (DAY_MS, 3 * DAY_MS));
        // Within one hour: nothing whole.
        assert_eq!(
            whole(HOUR_MS + 1, HOUR_MS + 2, HOUR_MS),
            (2 * HOUR_MS, 2 * HOUR_MS)
        );
    }
}
