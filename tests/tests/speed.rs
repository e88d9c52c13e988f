//! Benchmarks kept among the end-to-end tests, run by `cargo xtask bench` (ignored otherwise),
//! each against the release binary with a baseline in the same run:
//!
//! - email: new feedback → the owner's notice accepted by the SMTP server, and the owner's
//!   reply → the visitor's email accepted, beside the same SMTP server taking a message
//!   handed to it directly. Targets: at most 5 s each.
//! - statistics: the statistics page over 1.2 million submissions, beside the same page over
//!   12,000 (a ratio near 1: the time does not grow with the submissions). Target: 0.2 s.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::collector::{Collector, feedback_body, http};
use common::mail::{Mail, SmtpSink};
use common::owner::OwnerSession;

const OWNER: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery";
const SHOP: &str = "https://shop.example";

/// Waits until a message matching `wanted` is in the sink; the time it took.
fn arrival(sink: &SmtpSink, started: Instant, wanted: impl Fn(&Mail) -> bool) -> f64 {
    loop {
        if sink.messages().iter().any(&wanted) {
            return started.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no email after 30 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The baseline: one message handed straight to the SMTP server, as a plain SMTP client.
fn send_directly(port: u16, to: &str) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    let expect = |reader: &mut BufReader<TcpStream>, line: &mut String| loop {
        line.clear();
        reader.read_line(line).unwrap();
        // The last line of a reply has a space after its code.
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect(&mut reader, &mut line);
    let body = format!(
        "From: feedback@shop.example\r\nTo: {to}\r\nSubject: baseline\r\nMessage-ID: <{}@shop.example>\r\n\r\n{}\r\n",
        uuid::Uuid::new_v4().simple(),
        "A reply of ordinary length, with a quoted comment below it.\r\n".repeat(20)
    );
    for command in [
        "EHLO bench\r\n".to_owned(),
        "MAIL FROM:<feedback@shop.example>\r\n".to_owned(),
        format!("RCPT TO:<{to}>\r\n"),
        "DATA\r\n".to_owned(),
        format!("{body}.\r\n"),
        "QUIT\r\n".to_owned(),
    ] {
        writer.write_all(command.as_bytes()).unwrap();
        expect(&mut reader, &mut line);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[ignore = "a benchmark: cargo xtask bench runs it"]
fn email() {
    let sink = SmtpSink::start().expect("smtp-sink");
    let rounds: usize = std::env::var("EARSHOT_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let collector = Collector::start_with(
        &[SHOP],
        &[
            "--smtp-url",
            &sink.url(),
            "--mail-from",
            "feedback@shop.example",
            "--rate-limit-visitor",
            "0",
        ],
    );
    collector.add_user(OWNER, PASSWORD, &[]);
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let (status, _) = owner.post(
        "/admin/account",
        "/admin/account",
        &[("feedback", "each"), ("answers", "on")],
    );
    assert_eq!(status, 303);

    let (mut notices, mut replies, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let visitor = format!("visitor{round}@example.com");
        let body = feedback_body(
            "The checkout button does nothing",
            serde_json::json!({ "email": visitor }),
        );
        let id = body["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        assert_eq!(collector.post_feedback(&http(), SHOP, &body), 201);
        notices.push(arrival(&sink, started, |mail| {
            mail.envelope_to == OWNER && mail.text.contains(&id)
        }));

        let started = Instant::now();
        assert_eq!(owner.reply(&id, "Fixed, thank you!").0, 303);
        replies.push(arrival(&sink, started, |mail| mail.envelope_to == visitor));

        let direct = format!("direct{round}@example.com");
        let started = Instant::now();
        send_directly(sink.port, &direct);
        baseline.push(arrival(&sink, started, |mail| mail.envelope_to == direct));
    }
    let (notice, reply, direct) = (median(notices), median(replies), median(baseline));
    println!("| email (median of {rounds}) | earshot | baseline: direct SMTP | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| new feedback → owner's notice accepted | {notice:.0} ms | {direct:.0} ms | {:.1} |",
        notice / direct
    );
    println!(
        "| owner's reply → visitor's email accepted | {reply:.0} ms | {direct:.0} ms | {:.1} |",
        reply / direct
    );
    println!(
        "EARSHOT_BENCH {}",
        serde_json::json!({
            "rounds": rounds,
            "new_feedback_to_notice_ms": notice,
            "reply_to_visitor_email_ms": reply,
            "direct_smtp_ms": direct,
            "target_ms": 5000,
        })
    );
}

/// Adds `count` submissions to the live database, spread over the 30 days before `now` from
/// `start` on (of `total`): every rating kind, 300 pages reached with query strings, one in
/// a hundred spam. Written straight to the file, as the fastest way to a big database.
fn seed(database: &std::path::Path, start: u64, count: u64, total: u64, now: i64) {
    let mut db = rusqlite::Connection::open(database).unwrap();
    db.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment, \
                 email, page_url, locale, user_agent, viewport_width, viewport_height, spam) \
                 VALUES (?1, 'demo', ?2, ?3, ?4, 'A comment of an ordinary length, as visitors write.', \
                 ?5, ?6, 'en', 'Mozilla/5.0', 1280, 800, ?7)",
            )
            .unwrap();
        let month: i64 = 30 * 86_400_000;
        for i in start..start + count {
            let (kind, value) = match i % 4 {
                0 => ("stars", 1 + (i / 7) % 5),
                1 => ("emoji", 1 + (i / 3) % 5),
                2 => ("thumbs", (i / 5) % 2),
                _ => ("nps", (i / 11) % 11),
            };
            let at = now - month + (i as i64) * month / total as i64;
            let email = (i % 50 == 0).then(|| format!("visitor{i}@example.com"));
            let page = format!("https://shop.example/p/{}?utm={}#top", i % 300, i % 7);
            insert
                .execute(rusqlite::params![
                    uuid::Uuid::new_v4().to_string(),
                    at,
                    kind,
                    value,
                    email,
                    page,
                    i % 100 == 0
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// The median time of `rounds` loads of the statistics page (the last 30 days), in ms.
fn stats_page_ms(owner: &OwnerSession, rounds: usize) -> f64 {
    let times = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let (status, page) = owner.get("/admin/stats");
            assert_eq!(status, 200, "{page}");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(times)
}

#[test]
#[ignore = "a benchmark: cargo xtask bench runs it"]
fn statistics() {
    let rounds: usize = std::env::var("EARSHOT_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let large: u64 = std::env::var("EARSHOT_BENCH_STATS_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_200_000);
    let small = large / 100;
    let collector = Collector::start(&[SHOP]);
    collector.add_user(OWNER, PASSWORD, &[]);
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // The small database is every hundredth row of the large one's month.
    seed(&collector.database(), 0, small, small, now);
    let small_ms = stats_page_ms(&owner, rounds);
    seed(&collector.database(), 0, large - small, large - small, now);
    let large_ms = stats_page_ms(&owner, rounds);
    println!(
        "| statistics page, last 30 days (median of {rounds}) | {large} submissions | {small} submissions | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| time | {large_ms:.0} ms | {small_ms:.0} ms | {:.2} |",
        large_ms / small_ms
    );
    println!(
        "EARSHOT_BENCH {}",
        serde_json::json!({
            "rounds": rounds,
            "large_rows": large,
            "small_rows": small,
            "large_ms": large_ms,
            "small_ms": small_ms,
            "target_ms": 200,
        })
    );
}
