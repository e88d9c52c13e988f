//! SQLite under sustained writes with a long export running: the export holds exactly what
//! was acknowledged before it began, and the write-ahead log does not keep the size it grew
//! to. Against the real binary over HTTP.

mod common;

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::collector::{Collector, feedback_body, http};
use common::eventually;

const ORIGIN: &str = "https://shop.example";
/// Rows stored before the export, so that it spans many of the engine's chunks.
const ROWS_BEFORE: usize = 4_000;
/// Clients submitting all through the export.
const WRITERS: usize = 4;

/// One submission as a client saw it.
struct Sent {
    id: String,
    sent: Instant,
    acknowledged: Instant,
}

fn submit(agent: &ureq::Agent, collector: &Collector, comment: &str) -> Sent {
    let body = feedback_body(comment, serde_json::json!({}));
    let sent = Instant::now();
    assert_eq!(collector.post_feedback(agent, ORIGIN, &body), 201);
    Sent {
        id: body["id"].as_str().unwrap().to_owned(),
        sent,
        acknowledged: Instant::now(),
    }
}

fn wal_bytes(collector: &Collector) -> u64 {
    let mut wal = collector.database().into_os_string();
    wal.push("-wal");
    std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0)
}

#[test]
fn an_export_under_load_holds_what_was_acknowledged_before_it_and_the_wal_shrinks_after() {
    let collector = Arc::new(Collector::start_with(
        &[ORIGIN],
        &["--rate-limit-visitor", "0", "--rate-limit-site", "0"],
    ));
    let comment = "feedback long enough to make the log grow ".repeat(20);
    let agent = http();
    let mut sent: Vec<Sent> = (0..ROWS_BEFORE)
        .map(|_| submit(&agent, &collector, &comment))
        .collect();
    let token = collector.create_token(Some("demo"));

    // Writers submit without pause until the export is over.
    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (collector, stop, during, comment) = (
                collector.clone(),
                stop.clone(),
                during.clone(),
                comment.clone(),
            );
            std::thread::spawn(move || {
                let agent = http();
                while !stop.load(Ordering::Relaxed) {
                    let one = submit(&agent, &collector, &comment);
                    during.lock().unwrap().push(one);
                }
            })
        })
        .collect();
    eventually("writers under way", Duration::from_secs(30), || {
        (during.lock().unwrap().len() >= 100).then_some(())
    });

    // The export, read slowly, so that many submissions are acknowledged while it runs.
    let began = Instant::now();
    let mut response = http()
        .get(&collector.url("/v1/sites/demo/feedback.csv"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut reader = response.body_mut().as_reader();
    let mut csv = Vec::new();
    let mut piece = [0u8; 16 * 1024];
    let mut first_bytes = None;
    loop {
        let read = reader.read(&mut piece).unwrap();
        if read == 0 {
            break;
        }
        first_bytes.get_or_insert_with(Instant::now);
        csv.extend_from_slice(&piece[..read]);
        std::thread::sleep(Duration::from_millis(5));
    }
    let first_bytes = first_bytes.expect("the export sent something");
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    sent.append(&mut during.lock().unwrap());

    let (_, rows) = common::parse_csv(&csv);
    let exported: std::collections::HashSet<&str> =
        rows.iter().map(|row| common::cell(row, "id")).collect();
    assert_eq!(exported.len(), rows.len(), "each row once");
    let before: Vec<&Sent> = sent.iter().filter(|s| s.acknowledged < began).collect();
    let after: Vec<&Sent> = sent.iter().filter(|s| s.sent > first_bytes).collect();
    assert!(
        after.len() >= 10,
        "submissions were acknowledged while the export ran ({} of them), so it could have taken them",
        after.len()
    );
    for one in &before {
        assert!(
            exported.contains(one.id.as_str()),
            "acknowledged before the export, missing"
        );
    }
    for one in &after {
        assert!(
            !exported.contains(one.id.as_str()),
            "sent after the export began, yet in it"
        );
    }
    eprintln!(
        "export: {} rows; {} acknowledged before it, {} sent while it ran",
        rows.len(),
        before.len(),
        after.len()
    );

    // Once nothing is written and nothing read, the log is emptied.
    let grown = wal_bytes(&collector);
    eprintln!("WAL after the burst: {grown} bytes");
    eventually(
        "the WAL truncated when idle",
        Duration::from_secs(30),
        || (wal_bytes(&collector) == 0).then_some(()),
    );
    let mut metrics = http().get(&collector.url("/metrics")).call().unwrap();
    let metrics = metrics.body_mut().read_to_string().unwrap();
    assert!(metrics.contains("earshot_sqlite_wal_bytes 0"), "{metrics}");
    assert!(
        metrics.contains("earshot_sqlite_database_bytes "),
        "{metrics}"
    );
}
