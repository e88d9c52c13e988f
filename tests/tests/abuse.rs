//! A public endpoint meets the internet: rate limits, spam, and owners finding what they need
//! in what was kept. Against the real binary over HTTP.

mod common;

use common::collector::{Collector, Engine, feedback_body, http};
use common::{cell, parse_csv};
use earshot_collector::rate_limit::REFUSALS_PER_VISITOR;
use earshot_shared::limits::RATE_LIMIT_PER_VISITOR;
use earshot_shared::{ApiError, ErrorCode};

const ORIGIN: &str = "https://shop.example";

/// A valid submission with this many stars and this comment; `extra` fields are merged over
/// it.
fn submission(rating: u8, comment: &str, extra: serde_json::Value) -> String {
    let mut fields = serde_json::json!({ "rating": { "kind": "stars", "value": rating } });
    if let serde_json::Value::Object(extra) = extra {
        fields.as_object_mut().unwrap().extend(extra);
    }
    feedback_body(comment, fields).to_string()
}

/// Posts as the visitor whose browser says `user_agent`; returns status, Retry-After and body.
fn post_as(collector: &Collector, user_agent: &str, body: &str) -> (u16, Option<String>, String) {
    let mut response = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", ORIGIN)
        .header("User-Agent", user_agent)
        .send(body)
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    (
        status,
        retry_after,
        response.body_mut().read_to_string().unwrap(),
    )
}

fn export(collector: &Collector, token: &str, path_and_query: &str) -> (u16, String) {
    let (status, body) = collector.export(Some(token), path_and_query);
    (status, String::from_utf8(body).unwrap())
}

#[test]
fn a_visitor_who_sends_too_much_is_told_when_to_come_back() {
    let collector = Collector::start(&[ORIGIN]);
    for n in 0..RATE_LIMIT_PER_VISITOR {
        let (status, _, body) = post_as(
            &collector,
            "Bot/1.0",
            &submission(3, &n.to_string(), serde_json::json!({})),
        );
        assert_eq!(status, 201, "submission {n}: {body}");
    }
    let (status, retry_after, body) = post_as(
        &collector,
        "Bot/1.0",
        &submission(3, "one more", serde_json::json!({})),
    );
    assert_eq!(status, 429);
    let error: ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.code, ErrorCode::RateLimited);
    let wait: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");

    let (status, _, _) = post_as(
        &collector,
        "Person/2.0",
        &submission(5, "me too", serde_json::json!({})),
    );
    assert_eq!(status, 201, "another visitor is not held back");
}

#[test]
fn a_flooded_site_refuses_the_excess_from_everyone() {
    let collector = Collector::start_with(
        &[ORIGIN],
        &["--rate-limit-site", "5", "--rate-limit-visitor", "0"],
    );
    for n in 0..5 {
        let (status, _, _) = post_as(
            &collector,
            &format!("Browser/{n}"),
            &submission(4, "hi", serde_json::json!({})),
        );
        assert_eq!(status, 201);
    }
    let (status, retry_after, _) = post_as(
        &collector,
        "Browser/new",
        &submission(4, "hi", serde_json::json!({})),
    );
    assert_eq!(status, 429);
    assert!(retry_after.is_some());
}

#[test]
fn spam_is_answered_like_feedback_and_kept_apart() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &[ORIGIN], &[]);
        let bodies = [
            submission(
                5,
                "filled the hidden field",
                serde_json::json!({ "honeypot": "https://casino.example" }),
            ),
            submission(5, "sent in a blink", serde_json::json!({ "open_ms": 150 })),
            submission(4, "a real person", serde_json::json!({})),
        ];
        for body in &bodies {
            let (status, _, answer) = post_as(&collector, "Mixed/1.0", body);
            assert_eq!(
                status, 201,
                "spam gets the same answer as feedback: {answer}"
            );
        }
        let token = collector.create_token(Some("demo"));

        let (_, csv) = export(&collector, &token, "feedback.csv");
        let (_, rows) = parse_csv(csv.as_bytes());
        assert_eq!(rows.len(), 1, "spam is not in the normal export");
        assert_eq!(cell(&rows[0], "comment"), "a real person");

        let (_, csv) = export(&collector, &token, "feedback.csv?spam=only");
        let (_, rows) = parse_csv(csv.as_bytes());
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|row| cell(row, "spam") == "true"));

        let (_, csv) = export(&collector, &token, "feedback.csv?spam=include");
        assert_eq!(parse_csv(csv.as_bytes()).1.len(), 3);
    }
}

#[test]
fn exports_are_filtered_and_come_as_csv_or_json_lines() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &[ORIGIN], &["--rate-limit-visitor", "0"]);
        for rating in 1..=5u8 {
            let (status, _, _) = post_as(
                &collector,
                "A",
                &submission(
                    rating,
                    &format!("rated {rating}, \"ok\"\n="),
                    serde_json::json!({}),
                ),
            );
            assert_eq!(status, 201);
        }
        let token = collector.create_token(None);

        let (status, csv) = export(
            &collector,
            &token,
            "feedback.csv?min_rating=2&max_rating=4&status=new",
        );
        assert_eq!(status, 200);
        let ratings: Vec<String> = parse_csv(csv.as_bytes())
            .1
            .iter()
            .map(|row| cell(row, "rating").to_owned())
            .collect();
        assert_eq!(ratings, ["2", "3", "4"]);

        let (_, csv) = export(&collector, &token, "feedback.csv?from=2999-01-01");
        assert_eq!(parse_csv(csv.as_bytes()).1.len(), 0);
        let (_, csv) = export(
            &collector,
            &token,
            "feedback.csv?from=2000-01-01&to=2999-01-01T00:00:00Z",
        );
        assert_eq!(parse_csv(csv.as_bytes()).1.len(), 5);

        for bad in [
            "feedback.csv?status=lost",
            "feedback.csv?from=yesterday",
            "feedback.csv?colour=red",
            "feedback.csv?min_rating=-1",
        ] {
            let (status, body) = export(&collector, &token, bad);
            assert_eq!(status, 400, "{bad}");
            assert_eq!(
                serde_json::from_str::<ApiError>(&body).unwrap().code,
                ErrorCode::InvalidQuery,
                "{bad}"
            );
        }

        let (status, jsonl) = export(&collector, &token, "feedback.jsonl?min_rating=4");
        assert_eq!(status, 200);
        let records: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["rating"], 4);
        assert_eq!(
            records[0]["comment"], "rated 4, \"ok\"\n=",
            "JSON Lines carry the text exactly"
        );
        assert_eq!(records[1]["spam"], false);

        // The CLI builds the same filter.
        let out = collector.cli(&[
            "export",
            "--site",
            "demo",
            "--format",
            "jsonl",
            "--max-rating",
            "1",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<_> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
        assert_eq!(lines.len(), 1);
        assert!(
            out.stderr.is_empty(),
            "no progress bar without a terminal: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Posts as a visitor behind a proxy that says the visitor is `forwarded_for`.
fn post_forwarded(collector: &Collector, forwarded_for: &str) -> u16 {
    http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", ORIGIN)
        .header("User-Agent", "Same/1.0")
        .header("X-Forwarded-For", forwarded_for)
        .send(&submission(4, "via a proxy", serde_json::json!({})))
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    // Not trusted (the default): a visitor who varies X-Forwarded-For is still one visitor.
    let collector = Collector::start_with(&[ORIGIN], &["--rate-limit-visitor", "2"]);
    let statuses: Vec<u16> = ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
        .iter()
        .map(|ip| post_forwarded(&collector, ip))
        .collect();
    assert_eq!(statuses, [201, 201, 429]);

    // Behind a trusted proxy (here, this machine), each forwarded address is its own visitor.
    let collector = Collector::start_with(
        &[ORIGIN],
        &[
            "--rate-limit-visitor",
            "2",
            "--trusted-proxies",
            "127.0.0.1/32,::1",
        ],
    );
    let statuses: Vec<u16> = ["1.1.1.1", "1.1.1.1", "1.1.1.1", "2.2.2.2"]
        .iter()
        .map(|ip| post_forwarded(&collector, ip))
        .collect();
    assert_eq!(statuses, [201, 201, 429, 201]);
}

#[test]
fn only_objects_are_submissions_and_an_empty_optional_field_is_absent() {
    let collector = Collector::start(&[ORIGIN]);
    // The fields in order, as an array: serde alone would take it.
    let array = format!(
        r#"["{}","demo",{{"kind":"stars","value":4}},"","","https://shop.example/","",{{}},6000,"",null,{{}}]"#,
        uuid::Uuid::new_v4()
    );
    let (status, _, body) = post_as(&collector, "Array/1.0", &array);
    assert_eq!(status, 400, "{body}");
    let error: ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.code, ErrorCode::InvalidJson);

    let (status, _, body) = post_as(
        &collector,
        "Form/1.0",
        &submission(
            5,
            "no address",
            serde_json::json!({ "email": "", "user_id": "" }),
        ),
    );
    assert_eq!(status, 201, "an empty email is no email: {body}");
    let token = collector.create_token(Some("demo"));
    let (_, csv) = export(&collector, &token, "feedback.csv");
    let (_, rows) = parse_csv(csv.as_bytes());
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "email"), "");
    assert_eq!(cell(&rows[0], "user_id"), "");
}

#[test]
fn refused_submissions_do_not_use_up_what_a_visitor_may_send() {
    let collector = Collector::start(&[ORIGIN]);
    let invalid = || submission(9, "nine stars", serde_json::json!({}));
    // More refusals than the visitor's limit of accepted submissions...
    for _ in 0..RATE_LIMIT_PER_VISITOR + 5 {
        let (status, _, body) = post_as(&collector, "Fixer/1.0", &invalid());
        assert_eq!(status, 422, "{body}");
    }
    // ...and the visitor may still send their full allowance once they get it right.
    for _ in 0..RATE_LIMIT_PER_VISITOR {
        let (status, _, body) = post_as(
            &collector,
            "Fixer/1.0",
            &submission(4, "fixed", serde_json::json!({})),
        );
        assert_eq!(status, 201, "{body}");
    }
    // Refusals have a limit of their own.
    let mut statuses = Vec::new();
    for _ in 0..REFUSALS_PER_VISITOR {
        statuses.push(post_as(&collector, "Fixer/1.0", &invalid()).0);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.contains(&422));
}

#[test]
fn metrics_can_ask_for_a_token() {
    let collector = Collector::start_with(&[ORIGIN], &["--metrics-token", "s3cret-metrics"]);
    let status = |token: Option<&str>| {
        let mut request = http().get(&collector.url("/metrics"));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request.call().unwrap().status().as_u16()
    };
    assert_eq!(status(None), 401);
    assert_eq!(status(Some("s3cret-metricX")), 401);
    assert_eq!(status(Some("s3cret-metrics")), 200);
}
