//! Nothing acknowledged is lost: the collector is killed with SIGKILL, or stopped with
//! SIGTERM as a service manager does, in the middle of a load of concurrent submissions,
//! restarted on the same database, and every submission that got a `201` is there, exactly
//! once. SIGTERM also ends the process cleanly: requests in flight finish, the background
//! workers stop, exit status 0.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::collector::{Collector, Engine, feedback_body, http};
use common::{cell, parse_csv};

const CLIENTS: usize = 16;
const NO_RATE_LIMITS: [&str; 4] = ["--rate-limit-visitor", "0", "--rate-limit-site", "0"];

/// How the collector is stopped under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Kill9,
    Term,
}

#[test]
fn every_acknowledged_submission_survives_kill_9() {
    survives(&Engine::Sqlite, "full", Stop::Kill9);
}

#[test]
fn every_acknowledged_submission_survives_kill_9_with_sync_normal() {
    survives(&Engine::Sqlite, "normal", Stop::Kill9);
}

#[test]
fn every_acknowledged_submission_survives_kill_9_on_postgres() {
    if let Some(postgres) = Engine::postgres() {
        survives(&postgres, "full", Stop::Kill9);
    }
}

#[test]
fn sigterm_under_load_finishes_cleanly_and_loses_nothing() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        survives(&engine, "full", Stop::Term);
    }
}

fn survives(engine: &Engine, sync: &str, how: Stop) {
    // Every client here is the same visitor (same address, same user agent): lift the limits.
    let mut args = NO_RATE_LIMITS.to_vec();
    args.extend(["--sync", sync]);
    let mut collector = Collector::start_on(engine, &["https://shop.example"], &args);
    let url = collector.url("/v1/feedback");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, acknowledged, stop) = (url.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = http();
                // Bounded: each client stops after 2,000 requests even if never told to.
                for _ in 0..2_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = feedback_body("under load", serde_json::json!({}));
                    let answer = agent
                        .post(&url)
                        .content_type("text/plain")
                        .header("Origin", "https://shop.example")
                        .send(body.to_string());
                    match answer {
                        Ok(response) if response.status() == 201 => acknowledged
                            .lock()
                            .unwrap()
                            .push(body["id"].as_str().unwrap().to_owned()),
                        Ok(response) => {
                            assert!(response.status().is_server_error(), "{}", response.status())
                        }
                        Err(_) => break, // the collector is gone
                    }
                }
            })
        })
        .collect();

    // Let the load run, then stop the collector in the middle of it. Not a wait for
    // something to happen: the load runs until 500 are acknowledged or for 20 s, whichever
    // comes first, and the collector is stopped either way (the check below needs 100).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().unwrap().len() < 500 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    match how {
        Stop::Kill9 => collector.kill_9(),
        Stop::Term => {
            let status = collector.terminate();
            assert!(
                status.success(),
                "SIGTERM ends the collector cleanly, not {status}; log:\n{}",
                collector.log()
            );
            let log = collector.log();
            assert!(
                log.contains("stopping: letting background work finish")
                    && log.contains("INFO earshot: stopped"),
                "the shutdown is logged:\n{log}"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "the load ran: {} acknowledged",
        acknowledged.len()
    );

    collector.restart();
    let token = collector.create_token(None);
    let (_, csv) = collector.export(Some(&token), "feedback.csv");
    let (_, rows) = parse_csv(&csv);
    let stored: Vec<&str> = rows.iter().map(|row| cell(row, "id")).collect();
    let unique: HashSet<&str> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "no submission is stored twice");
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !unique.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged submissions were lost",
        missing.len(),
        acknowledged.len()
    );
    eprintln!(
        "{} acknowledged before {how:?}, {} stored (the rest were in flight)",
        acknowledged.len(),
        stored.len()
    );
}

#[test]
fn the_same_submission_sent_concurrently_is_stored_once_and_every_sender_succeeds() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &["https://shop.example"], &NO_RATE_LIMITS);
        let url = collector.url("/v1/feedback");
        for _round in 0..5 {
            let body = feedback_body("under load", serde_json::json!({})).to_string();
            let senders: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    let (url, body) = (url.clone(), body.clone());
                    std::thread::spawn(move || {
                        http()
                            .post(&url)
                            .content_type("text/plain")
                            .header("Origin", "https://shop.example")
                            .send(body)
                            .unwrap()
                            .status()
                            .as_u16()
                    })
                })
                .collect();
            let statuses: Vec<u16> = senders.into_iter().map(|s| s.join().unwrap()).collect();
            assert_eq!(
                statuses.iter().filter(|s| **s == 201).count(),
                1,
                "{statuses:?}"
            );
            assert!(
                statuses.iter().all(|s| *s == 201 || *s == 200),
                "{statuses:?}"
            );
        }
        let token = collector.create_token(None);
        let (_, csv) = collector.export(Some(&token), "feedback.csv");
        let (_, rows) = parse_csv(&csv);
        assert_eq!(rows.len(), 5);
    }
}
