//! Statistics for a set of sites over a time range: count, average, distribution, NPS or
//! CSAT, the trend per day (or week), the pages that need attention, and how fast owners
//! answer. Ratings of different kinds are compared on a common 0–100 % "satisfaction"
//! scale: (value − lowest) / (highest − lowest).

use std::collections::{BTreeMap, HashMap};

use earshot_shared::RatingKind;

use earshot_store::model::AnswerRecord;
use earshot_store::{Buckets, Database, StoreError};

/// A page needs this many ratings before it can be called one that needs attention.
pub const MIN_RATINGS_FOR_ATTENTION: u64 = earshot_store::STATS_MIN_PAGE_RATINGS;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq)]
pub struct KindStats {
    pub kind: RatingKind,
    pub count: u64,
    pub average: f64,
    /// How many chose each value, lowest value first (every value of the scale, zeros too).
    pub distribution: Vec<(u8, u64)>,
    /// NPS (promoters − detractors, −100 to 100) for NPS; CSAT (share of the top two values
    /// for stars and faces, of "yes" for thumbs), in percent.
    pub score: (&'static str, f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub start: i64,
    pub count: u64,
    /// Average satisfaction in the bucket, 0–100; `None` without ratings.
    pub satisfaction: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageStat {
    pub url: String,
    pub count: u64,
    pub satisfaction: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub total: u64,
    pub kinds: Vec<KindStats>,
    /// One bucket per day (per week beyond two months).
    pub buckets: Vec<Bucket>,
    pub bucket_days: i64,
    /// The lowest satisfaction first, among pages with enough ratings.
    pub attention: Vec<PageStat>,
    /// Median time from arrival to the first status change, over those that had one.
    pub median_response_ms: Option<i64>,
    pub responded: u64,
    /// Promises kept, per site and per owner who answered.
    pub promises: Vec<PromiseStat>,
}

/// How one site, or one owner, kept the promise to answer in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseStat {
    /// "site" or "owner".
    pub by: &'static str,
    /// The site's key or the owner's email.
    pub who: String,
    /// Answered by the deadline.
    pub kept: u64,
    /// Answered late, or still unanswered past the deadline.
    pub broken: u64,
    /// Of the kept and broken, how many were follow-ups: a visitor answered an owner's reply,
    /// and the site's promise ran again from that answer.
    pub follow_ups: u64,
    /// Could not answer: the visitor stopped all email before an answer came. Neither kept
    /// nor broken.
    pub unreachable: u64,
    /// Median time from arrival to the first answer, over those answered.
    pub median_answer_ms: Option<i64>,
}

impl PromiseStat {
    /// The share kept, in percent, once any promise fell due.
    pub fn share(&self) -> Option<f64> {
        let due = self.kept + self.broken;
        (due > 0).then(|| self.kept as f64 * 100.0 / due as f64)
    }
}

/// The upper median.
fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// What one site or owner did with its promises.
#[derive(Default)]
struct Tally {
    kept: u64,
    broken: u64,
    follow_ups: u64,
    unreachable: u64,
    /// The times to first answer.
    took: Vec<i64>,
}

/// Promises per site and per owner from the records. Every wait on us is a promise: the
/// first from the submission's arrival, and a follow-up from each answer of the visitor
/// after an owner's reply, its deadline counted from that answer. A promise is kept when an
/// owner answered by its deadline, broken when the answer came later or not at all by
/// `now`; one not due yet and not answered counts for nothing yet; one whose visitor stopped
/// all email before it was answered counts as "could not answer", never as broken. The
/// median time to answer is over first answers only.
pub fn promises(records: &[AnswerRecord], now: i64) -> Vec<PromiseStat> {
    // Sites first, then owners, each by name.
    let mut groups: BTreeMap<(bool, &'static str, String), Tally> = BTreeMap::new();
    for record in records {
        if record.unreachable {
            groups
                .entry((false, "site", record.site.clone()))
                .or_default()
                .unreachable += 1;
            continue;
        }
        let outcome = match record.first_answer_at {
            Some(at) => Some(at <= record.answer_by),
            None if record.answer_by < now => Some(false),
            None => None,
        };
        let Some(kept) = outcome else { continue };
        let took = record
            .first_answer_at
            .filter(|_| !record.follow_up)
            .map(|at| at - record.received_at);
        let mut keys = vec![(false, "site", record.site.clone())];
        if let Some(owner) = &record.answered_by {
            keys.push((true, "owner", owner.clone()));
        }
        for key in keys {
            let entry = groups.entry(key).or_default();
            if kept {
                entry.kept += 1;
            } else {
                entry.broken += 1;
            }
            entry.follow_ups += u64::from(record.follow_up);
            entry.took.extend(took);
        }
    }
    groups
        .into_iter()
        .map(|((_, by, who), tally)| PromiseStat {
            by,
            who,
            kept: tally.kept,
            broken: tally.broken,
            follow_ups: tally.follow_ups,
            unreachable: tally.unreachable,
            median_answer_ms: median(tally.took),
        })
        .collect()
}

/// A rating on the common 0–100 scale.
pub fn satisfaction(kind: RatingKind, value: u8) -> f64 {
    let (low, high) = kind.bounds();
    f64::from(value.saturating_sub(low)) * 100.0 / f64::from(high - low)
}

impl Report {
    pub fn compute(
        conn: &mut dyn Database,
        sites: &[String],
        from: i64,
        to: i64,
    ) -> Result<Self, StoreError> {
        let promises = promises(
            &conn.answer_records(sites, from, to)?,
            earshot_store::now_millis(),
        );
        let bucket_days = if to - from > 62 * DAY_MS { 7 } else { 1 };
        let bucket_ms = bucket_days * DAY_MS;
        let first = from - from.rem_euclid(DAY_MS);
        let count = ((to - first + bucket_ms - 1) / bucket_ms).max(1) as usize;
        // The database aggregates; what comes back is a few rows per kind, value and bucket.
        let rows = conn.feedback_stats(
            sites,
            from,
            to,
            Buckets {
                first,
                width_ms: bucket_ms,
            },
        )?;
        let mut buckets: Vec<(u64, f64)> = vec![(0, 0.0); count];
        let mut kinds: BTreeMap<&'static str, (RatingKind, HashMap<u8, u64>)> = BTreeMap::new();
        let mut total = 0;
        for rating in &rows.ratings {
            total += rating.count;
            let index = rating.bucket.clamp(0, count as i64 - 1) as usize;
            buckets[index].0 += rating.count;
            buckets[index].1 += satisfaction(rating.kind, rating.value) * rating.count as f64;
            *kinds
                .entry(rating.kind.as_str())
                .or_insert_with(|| (rating.kind, HashMap::new()))
                .1
                .entry(rating.value)
                .or_default() += rating.count;
        }

        let kinds = kinds
            .into_values()
            .map(|(kind, counts)| {
                let (low, high) = kind.bounds();
                let distribution: Vec<(u8, u64)> = (low..=high)
                    .map(|value| (value, counts.get(&value).copied().unwrap_or(0)))
                    .collect();
                let count: u64 = distribution.iter().map(|(_, n)| n).sum();
                let share = |test: &dyn Fn(u8) -> bool| {
                    distribution
                        .iter()
                        .filter(|(value, _)| test(*value))
                        .map(|(_, n)| *n)
                        .sum::<u64>() as f64
                        * 100.0
                        / count.max(1) as f64
                };
                let score = match kind {
                    RatingKind::Nps => ("NPS", share(&|v| v >= 9) - share(&|v| v <= 6)),
                    RatingKind::Thumbs => ("Helpful", share(&|v| v == 1)),
                    RatingKind::Stars | RatingKind::Emoji => ("CSAT", share(&|v| v >= 4)),
                };
                KindStats {
                    kind,
                    count,
                    average: distribution
                        .iter()
                        .map(|(value, n)| f64::from(*value) * *n as f64)
                        .sum::<f64>()
                        / count.max(1) as f64,
                    distribution,
                    score,
                }
            })
            .collect();
        let attention = rows
            .pages
            .into_iter()
            .map(|page| PageStat {
                url: page.url,
                count: page.count,
                satisfaction: page.satisfaction,
            })
            .collect();
        Ok(Self {
            total,
            kinds,
            buckets: buckets
                .into_iter()
                .enumerate()
                .map(|(i, (count, sum))| Bucket {
                    start: first + i as i64 * bucket_ms,
                    count,
                    satisfaction: (count > 0).then(|| sum / count as f64),
                })
                .collect(),
            bucket_days,
            attention,
            median_response_ms: rows.median_response_ms,
            responded: rows.responded,
            promises,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scale_maps_onto_0_to_100() {
        assert_eq!(satisfaction(RatingKind::Stars, 1), 0.0);
        assert_eq!(satisfaction(RatingKind::Stars, 5), 100.0);
        assert_eq!(satisfaction(RatingKind::Emoji, 3), 50.0);
        assert_eq!(satisfaction(RatingKind::Thumbs, 1), 100.0);
        assert_eq!(satisfaction(RatingKind::Nps, 0), 0.0);
        assert_eq!(satisfaction(RatingKind::Nps, 10), 100.0);
    }

    #[test]
    fn promises_are_kept_broken_or_not_due_yet() {
        let record = |site: &str, by: Option<&str>, answered: Option<i64>, due: i64| AnswerRecord {
            site: site.into(),
            received_at: 0,
            answer_by: due,
            first_answer_at: answered,
            answered_by: by.map(str::to_owned),
            follow_up: false,
            unreachable: false,
        };
        let records = [
            record("shop", Some("ann@example.com"), Some(10), 100),
            record("shop", Some("bob@example.com"), Some(300), 100),
            record("shop", None, None, 100),
            record("shop", None, None, 10_000),
            record("blog", Some("ann@example.com"), Some(50), 100),
        ];
        let stats = promises(&records, 1_000);
        let find = |by: &str, who: &str| {
            stats
                .iter()
                .find(|stat| stat.by == by && stat.who == who)
                .unwrap()
                .clone()
        };
        let shop = find("site", "shop");
        assert_eq!(
            (shop.kept, shop.broken),
            (1, 2),
            "late and unanswered both break it"
        );
        assert_eq!(shop.median_answer_ms, Some(300));
        assert!((shop.share().unwrap() - 100.0 / 3.0).abs() < 1e-9);
        let ann = find("owner", "ann@example.com");
        assert_eq!(
            (ann.kept, ann.broken, ann.median_answer_ms),
            (2, 0, Some(50))
        );
        assert_eq!(find("owner", "bob@example.com").broken, 1);
        assert_eq!(find("site", "blog").share(), Some(100.0));
    }

    #[actix_web::test]
    async fn scores_trend_attention_and_response_time() {
        // On both engines: the aggregation is SQL each engine runs itself.
        for database in earshot_store::testing::databases() {
            scores_on(&database.location).await;
        }
    }

    async fn scores_on(location: &earshot_store::Location) {
        use earshot_shared::{ClientInfo, Rating, SiteKey, Submission};
        use earshot_store::{Durability, Store};
        let mut conn = location.connect().unwrap();
        conn.add_site(&SiteKey::parse("demo").unwrap(), "Demo", &[])
            .unwrap();
        let store = Store::open_at(location, Durability::PowerLoss).unwrap();
        let day0 = 20_000 * DAY_MS; // a midnight
        let submit = |kind, value, page: &str, day: i64| {
            let submission = Submission {
                id: uuid::Uuid::new_v4(),
                site: SiteKey::parse("demo").unwrap(),
                rating: Rating { kind, value },
                comment: String::new(),
                email: None,
                page_url: format!("https://shop.example{page}"),
                referrer: None,
                locale: String::new(),
                client: ClientInfo::default(),
                open_ms: 5_000,
                honeypot: String::new(),
                user_id: None,
                metadata: Default::default(),
            };
            let id = submission.id.to_string();
            (store.submit(submission, day0 + day * DAY_MS + 1_000), id)
        };
        // NPS: 2 promoters (9, 10), 1 passive (8), 1 detractor (3) → 50 - 25 = 25.
        for (value, page) in [(9, "/a?x=1"), (10, "/a"), (8, "/b"), (3, "/b")] {
            submit(RatingKind::Nps, value, page, 0).0.await.unwrap();
        }
        // Stars on day 2: 5, 4, 1 on /c → CSAT 2 of 3.
        let mut ids = Vec::new();
        for value in [5, 4, 1] {
            let (stored, id) = submit(RatingKind::Stars, value, "/c", 2);
            stored.await.unwrap();
            ids.push(id);
        }
        conn.triage(&ids[0], earshot_store::FeedbackStatus::Resolved, "")
            .unwrap();
        let report =
            Report::compute(&mut *conn, &["demo".into()], day0, day0 + 3 * DAY_MS).unwrap();
        assert_eq!(report.total, 7);
        let nps = report
            .kinds
            .iter()
            .find(|k| k.kind == RatingKind::Nps)
            .unwrap();
        assert_eq!(nps.score, ("NPS", 25.0));
        assert_eq!(
            nps.distribution.len(),
            11,
            "every value of the scale, zeros too"
        );
        let stars = report
            .kinds
            .iter()
            .find(|k| k.kind == RatingKind::Stars)
            .unwrap();
        assert_eq!(stars.score.0, "CSAT");
        assert!((stars.score.1 - 200.0 / 3.0).abs() < 1e-9);
        assert!((stars.average - 10.0 / 3.0).abs() < 1e-9);
        assert_eq!(report.bucket_days, 1);
        assert_eq!(
            report.buckets.iter().map(|b| b.count).collect::<Vec<_>>(),
            [4, 0, 3]
        );
        assert_eq!(report.buckets[1].satisfaction, None);
        // Pages with 3+ ratings, worst first; /a (2 ratings) is not judged.
        let pages: Vec<&str> = report.attention.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(pages, ["https://shop.example/c"]);
        assert_eq!(report.responded, 1);
        let median = report.median_response_ms.unwrap();
        assert!(median >= 0, "{median}");
        // Every page of the query, the same page: /a?x=1 and /a count together.
        assert_eq!(
            report.buckets[0].satisfaction,
            Some((90.0 + 100.0 + 80.0 + 30.0) / 4.0)
        );
    }
}
