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

/// Posts as the visitor at `address` (the collector trusts this machine as its proxy) whose
/// browser says `user_agent`; returns status, Retry-After and body.
fn post_from(
    collector: &Collector,
    address: &str,
    user_agent: &str,
    body: &str,
) -> (u16, Option<String>, String) {
    let mut response = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", ORIGIN)
        .header("User-Agent", user_agent)
        .header("X-Forwarded-For", address)
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

/// A visitor is their network address, whatever user agent they claim: an IPv4 address or an
/// IPv6 /64. (Before, a new user agent was a new visitor, and 300 submissions a minute from
/// one address went through.)
#[test]
fn a_visitor_who_sends_too_much_is_told_when_to_come_back() {
    let collector = Collector::start_with(&[ORIGIN], &["--trusted-proxies", "127.0.0.1"]);
    for (address, other_address, other_network) in [
        ("203.0.113.7", "203.0.113.8", "198.51.100.1"),
        ("2001:db8:5:5::1", "2001:db8:5:5:ffff::2", "2001:db8:5:6::1"),
    ] {
        for n in 0..RATE_LIMIT_PER_VISITOR {
            let (status, _, body) = post_from(
                &collector,
                address,
                &format!("Bot/{n}"),
                &submission(3, &n.to_string(), serde_json::json!({})),
            );
            assert_eq!(status, 201, "{address}, submission {n}: {body}");
        }
        let (status, retry_after, body) = post_from(
            &collector,
            address,
            "Bot/a-new-one",
            &submission(3, "one more", serde_json::json!({})),
        );
        assert_eq!(
            status, 429,
            "{address}: a new user agent is the same visitor"
        );
        let error: ApiError = serde_json::from_str(&body).unwrap();
        assert_eq!(error.code, ErrorCode::RateLimited);
        let wait: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
        assert!((1..=60).contains(&wait), "Retry-After: {wait}");
        if address.contains(':') {
            let (status, _, _) = post_from(
                &collector,
                other_address,
                "Bot/0",
                &submission(3, "same /64", serde_json::json!({})),
            );
            assert_eq!(status, 429, "an IPv6 /64 is one visitor");
        } else {
            let (status, _, _) = post_from(
                &collector,
                other_address,
                "Bot/0",
                &submission(5, "me too", serde_json::json!({})),
            );
            assert_eq!(status, 201, "another IPv4 address is another visitor");
        }
        let (status, _, _) = post_from(
            &collector,
            other_network,
            "Bot/0",
            &submission(5, "me too", serde_json::json!({})),
        );
        assert_eq!(status, 201, "another network is not held back");
    }
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
    let began = std::time::Instant::now();
    // More refusals than the visitor's limit of accepted submissions...
    let refused_first = RATE_LIMIT_PER_VISITOR + 5;
    for _ in 0..refused_first {
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
    // Refusals have a limit of their own: the rest of the 30, then 429 with the wait.
    let mut answers = Vec::new();
    for _ in 0..REFUSALS_PER_VISITOR {
        let (status, retry_after, _) = post_as(&collector, "Fixer/1.0", &invalid());
        answers.push((status, retry_after));
    }
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    let first_429 = statuses
        .iter()
        .position(|status| *status == 429)
        .expect("a 429 once the refusals are used up");
    // The allowance refills evenly (one refusal per 2 s): as many more as that made room for
    // may come first (a figure from the elapsed time as slack, not a timed assertion).
    let refill = (60 / REFUSALS_PER_VISITOR) as u64;
    let slack = (began.elapsed().as_secs() / refill + 1) as usize;
    let expected = (REFUSALS_PER_VISITOR - refused_first) as usize;
    assert!(
        (expected..=expected + slack).contains(&first_429),
        "first 429 after {first_429} refusals, expected {expected} (+{slack}): {statuses:?}"
    );
    assert!(statuses[..first_429].iter().all(|status| *status == 422));
    let wait: u64 = answers[first_429]
        .1
        .as_deref()
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!((1..=refill).contains(&wait), "Retry-After: {wait}");
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

/// Requests with a made-up method each (any token is a method), over one kept-alive
/// connection; each is answered before the next is sent.
fn send_made_up_methods(collector: &Collector, prefix: &str, count: usize) {
    use std::io::{BufRead, BufReader, Read, Write};
    let stream = std::net::TcpStream::connect(("127.0.0.1", collector.port)).unwrap();
    // One write per request, sent at once (not held back waiting for an acknowledgement).
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for n in 0..count {
        let request = format!("{prefix}{n} /v1/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        writer.write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "the collector closed the connection after {n} requests"
            );
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        reader.read_exact(&mut vec![0; length]).unwrap();
    }
}

/// Memory and `/metrics` that a stranger cannot grow: any method a client makes up is
/// labelled `other`. (Before, each one was a series of its own kept for good: 20,000 of them
/// took the collector from 46 to 142 MB and `/metrics` to 117 MB.)
#[test]
fn made_up_methods_grow_neither_memory_nor_the_metrics() {
    const MADE_UP: usize = 20_000;
    const MEMORY_GROWTH_BOUND: u64 = 5 * 1024 * 1024;
    const METRICS_BOUND: usize = 64 * 1024;
    let collector = Collector::start(&[ORIGIN]);
    // The first requests grow the allocator's pools once; what follows must not.
    send_made_up_methods(&collector, "WARM", 1_000);
    let before = collector.resident_bytes();
    send_made_up_methods(&collector, "MADEUP", MADE_UP);
    let after = collector.resident_bytes();
    let metrics = http()
        .get(&collector.url("/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    eprintln!(
        "resident {} KiB before, {} KiB after {MADE_UP} made-up methods; /metrics {} bytes",
        before / 1024,
        after / 1024,
        metrics.len()
    );
    assert!(
        after <= before + MEMORY_GROWTH_BOUND,
        "resident memory grew from {} KiB to {} KiB",
        before / 1024,
        after / 1024
    );
    assert!(
        metrics.len() < METRICS_BOUND,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains(r#"method="other",route="/v1/feedback",status="405""#),
        "{metrics}"
    );
}

/// A proxy named in the collector's environment is not used for webhooks: through it, the
/// check that a webhook reaches only public addresses would see only the proxy. (Before,
/// every delivery went to the proxy, and this receiver never heard of it.)
#[test]
fn webhooks_ignore_proxies_in_the_environment() {
    use common::receiver::Receiver;
    use earshot_collector::store::Location;
    use earshot_collector::webhooks::{self, WebhookFormat};

    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let mut args = vec!["--allow-private-webhooks".to_owned()];
    for name in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        args.push(format!("--env={name}={proxy_url}"));
    }
    args.extend(["--env=NO_PROXY=".to_owned(), "--env=no_proxy=".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let collector = Collector::start_with(&[ORIGIN], &args);
    let receiver = Receiver::start(Vec::new());
    let mut db = Location::Sqlite(collector.database()).connect().unwrap();
    webhooks::add_webhook(&mut *db, "demo", &receiver.url(), WebhookFormat::Json).unwrap();

    let (status, _, body) = post_as(
        &collector,
        "Visitor/1.0",
        &submission(4, "straight to the receiver", serde_json::json!({})),
    );
    assert_eq!(status, 201, "{body}");
    let calls = receiver.wait_for(1);
    assert!(calls[0].1.contains("straight to the receiver"));
    assert!(
        proxy.accept().is_err(),
        "nothing connected to the proxy in the environment"
    );
}
