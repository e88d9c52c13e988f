//! Properties that must hold for any input, not just the examples we thought of.

use earshot_collector::export::{Format, neutralize_formula, write_export};
use earshot_collector::ingest::parse_submission;
use earshot_collector::store::{self, Database, FeedbackFilter, Store};
use earshot_shared::limits::MAX_COMMENT_CHARS;
use earshot_shared::{ClientInfo, Rating, RatingKind, SiteKey, Submission};
use proptest::prelude::*;

/// What [`Submission::validate`] promises of whatever it accepts, checked independently of
/// its code: the rating within its kind's bounds, a web page address, a comment within the
/// limit. A refusal names one of the submission's fields.
fn check_validation(submission: &Submission) -> Result<(), TestCaseError> {
    let (low, high) = submission.rating.kind.bounds();
    let in_range = (low..=high).contains(&submission.rating.value);
    match submission.validate() {
        Ok(()) => {
            prop_assert!(in_range, "accepted a rating out of range");
            prop_assert!(
                submission.page_url.starts_with("http://")
                    || submission.page_url.starts_with("https://"),
                "accepted a page that is no web address: {:?}",
                submission.page_url
            );
            prop_assert!(submission.comment.chars().count() <= MAX_COMMENT_CHARS);
            prop_assert!(!submission.id.is_nil());
        }
        Err(err) => {
            prop_assert!(
                FIELDS.contains(&err.field()),
                "a refusal names an unknown field: {}",
                err.field()
            );
            // The id is checked first, then the rating.
            if !in_range && !submission.id.is_nil() {
                prop_assert_eq!(err.field(), "rating.value");
            }
        }
    }
    Ok(())
}

/// The fields a refusal may name.
const FIELDS: &[&str] = &[
    "id",
    "rating.value",
    "comment",
    "email",
    "page_url",
    "locale",
    "client.user_agent",
    "client.viewport_width",
    "user_id",
    "metadata",
];

proptest! {
    /// Any bytes decode to a submission or an error, never a panic; only a JSON object can be
    /// a submission, and what validation accepts keeps its promises.
    #[test]
    fn any_bytes_decode_to_a_submission_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(submission) = parse_submission(&bytes) {
            let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
            prop_assert_eq!(first, Some(&b'{'));
            check_validation(&submission)?;
        }
    }

    /// Nor when the bytes are almost a submission: valid JSON with arbitrary values, which
    /// decode to exactly what was sent.
    #[test]
    fn near_miss_json_decodes_or_errors(
        id in "[0-9a-f-]{0,40}",
        site in "\\PC{0,12}",
        kind in "\\PC{0,8}",
        value in any::<i64>(),
        comment in "\\PC{0,64}",
        page in "(https?://shop\\.example/)?\\PC{0,40}",
    ) {
        let body = serde_json::json!({
            "id": id, "site": site, "rating": {"kind": kind, "value": value},
            "comment": comment, "page_url": page,
        });
        if let Ok(submission) = parse_submission(body.to_string().as_bytes()) {
            prop_assert_eq!(&submission.comment, &comment);
            prop_assert_eq!(&submission.page_url, &page);
            prop_assert_eq!(i64::from(submission.rating.value), value);
            prop_assert_eq!(submission.rating.kind.as_str(), kind.as_str());
            check_validation(&submission)?;
        }
    }
}

/// What a comment looks like after the CSV round trip: itself, or with a leading `'` when a
/// spreadsheet would run it as a formula.
fn expected_cell(comment: &str) -> String {
    if comment.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{comment}")
    } else {
        comment.to_owned()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any comment, stored and exported as CSV, parses back exactly (formulas neutralised);
    /// as JSON Lines, it comes back exactly.
    #[test]
    fn comments_survive_the_export(
        comments in proptest::collection::vec("[^\u{0}]{0,80}", 1..16),
        metadata in proptest::collection::btree_map("[a-z_]{1,12}", "[^\u{0}]{0,30}", 0..4),
        user_id in proptest::option::of("[^\u{0}]{1,20}"),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("earshot.db");
        let mut conn = store::open_connection(&path).unwrap();
        let site = SiteKey::parse("demo").unwrap();
        conn.add_site(&site, "Demo", &[]).unwrap();
        let store = Store::open(&path).unwrap();
        let runtime = actix_web::rt::System::new();
        for comment in &comments {
            let submission = Submission {
                id: uuid::Uuid::new_v4(),
                site: site.clone(),
                rating: Rating { kind: RatingKind::Stars, value: 3 },
                comment: comment.clone(),
                email: None,
                page_url: "https://shop.example/".into(),
                referrer: None,
                locale: String::new(),
                client: ClientInfo::default(),
                open_ms: 5_000,
                honeypot: String::new(),
                user_id: user_id.clone(),
                metadata: metadata.clone().into_iter().collect(),
            };
            prop_assert!(submission.validate().is_ok());
            runtime.block_on(store.submit(submission, 1)).unwrap();
        }

        let mut csv = Vec::new();
        write_export(&mut conn, "demo", &FeedbackFilter::default(), Format::Csv, "https://feedback.example", &mut csv, || ()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let column = reader.headers().unwrap().iter().position(|h| h == "comment").unwrap();
        let meta_column = reader.headers().unwrap().iter().position(|h| h == "metadata").unwrap();
        let user_column = reader.headers().unwrap().iter().position(|h| h == "user_id").unwrap();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let exported: Vec<String> = records.iter().map(|r| r[column].to_owned()).collect();
        let expected: Vec<String> = comments.iter().map(|c| expected_cell(c)).collect();
        prop_assert_eq!(exported, expected);
        for record in &records {
            let cell = &record[meta_column];
            let parsed: std::collections::BTreeMap<String, String> =
                if cell.is_empty() { Default::default() } else { serde_json::from_str(cell).unwrap() };
            prop_assert_eq!(&parsed, &metadata);
            let expected_user = user_id.as_deref().map(expected_cell).unwrap_or_default();
            prop_assert_eq!(&record[user_column], expected_user.as_str());
        }
        for comment in &comments {
            prop_assert_eq!(neutralize_formula(comment).into_owned(), expected_cell(comment));
        }

        let mut jsonl = Vec::new();
        write_export(&mut conn, "demo", &FeedbackFilter::default(), Format::Jsonl, "https://feedback.example", &mut jsonl, || ()).unwrap();
        let lines: Vec<serde_json::Value> = std::str::from_utf8(&jsonl).unwrap().lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let exported: Vec<String> = lines.iter().map(|v| v["comment"].as_str().unwrap().to_owned()).collect();
        prop_assert_eq!(exported, comments);
        for line in &lines {
            prop_assert_eq!(&line["metadata"], &serde_json::to_value(&metadata).unwrap());
            prop_assert_eq!(&line["user_id"], &serde_json::to_value(&user_id).unwrap());
        }
    }
}
