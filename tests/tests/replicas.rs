//! Two `earshot serve` processes on one PostgreSQL database, as behind a load balancer:
//! interleaved concurrent load on both, the same submission sent to both at once, webhooks
//! sent once, and the same export from either.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};

use common::collector::{Collector, Engine, feedback_body, http};
use common::receiver::Receiver;
use common::{cell, parse_csv};
use earshot_collector::store::Location;
use earshot_collector::webhooks::{self, DeliveryState, WebhookFormat};

const ORIGIN: &str = "https://shop.example";
/// No rate limits, and webhooks may reach the test's receiver on this machine.
const SERVE_ARGS: [&str; 5] = [
    "--rate-limit-visitor",
    "0",
    "--rate-limit-site",
    "0",
    "--allow-private-webhooks",
];
/// Client threads, each sending to both replicas in turn.
const CLIENTS: usize = 8;
const PER_CLIENT: usize = 60;
/// Submissions sent to both replicas at the same moment.
const SHARED: usize = 40;

/// Submission `n` with this id: a rating and tricky text that vary, and the locale and the
/// browser's details filled in, for the exports to compare.
fn body(id: &str, n: usize) -> String {
    feedback_body(
        &format!("submission {n}, \"quoted\", ünïcödé"),
        serde_json::json!({
            "id": id,
            "rating": { "kind": "stars", "value": 1 + n % 5 },
            "locale": "en",
            "client": { "viewport_width": 800, "viewport_height": 600, "user_agent": "replicas" },
        }),
    )
    .to_string()
}

/// Sends a submission; returns its HTTP status.
fn post(agent: &ureq::Agent, url: &str, id: &str, n: usize) -> u16 {
    agent
        .post(url)
        .content_type("text/plain")
        .header("Origin", ORIGIN)
        .send(body(id, n))
        .map(|response| response.status().as_u16())
        .unwrap_or(0)
}

#[test]
fn two_replicas_store_every_submission_once_and_export_the_same() {
    let Some(engine) = Engine::postgres() else {
        return;
    };
    let first = Collector::start_on(&engine, &[ORIGIN], &SERVE_ARGS);
    let second = first.replica();
    let receiver = Receiver::start(Vec::new());
    let Engine::Postgres(database) = &engine else {
        unreachable!()
    };
    let mut db = Location::Postgres(database.url().to_owned())
        .connect()
        .unwrap();
    webhooks::add_webhook(&mut *db, "demo", &receiver.url(), WebhookFormat::Json).unwrap();

    let urls = [first.url("/v1/feedback"), second.url("/v1/feedback")];
    // (id, status) of every answer.
    let answers = Arc::new(Mutex::new(Vec::<(String, u16)>::new()));

    // Interleaved load: each client alternates between the replicas.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (urls, answers) = (urls.clone(), answers.clone());
            std::thread::spawn(move || {
                let agent = http();
                for n in 0..PER_CLIENT {
                    let id = uuid::Uuid::new_v4().to_string();
                    let status = post(&agent, &urls[(client + n) % 2], &id, n);
                    answers.lock().unwrap().push((id, status));
                }
            })
        })
        .collect();
    // Meanwhile, the same submission to both replicas at once (a retry through the load
    // balancer that lands on the other replica).
    let barrier = Arc::new(Barrier::new(2));
    let shared: Vec<_> = (0..2)
        .map(|replica| {
            let (urls, answers, barrier) = (urls.clone(), answers.clone(), barrier.clone());
            let ids: Vec<String> = (0..SHARED)
                .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
                .collect();
            std::thread::spawn(move || {
                let agent = http();
                for (n, id) in ids.iter().enumerate() {
                    barrier.wait();
                    let status = post(&agent, &urls[replica], id, n);
                    answers.lock().unwrap().push((id.clone(), status));
                }
            })
        })
        .collect();
    for thread in clients.into_iter().chain(shared) {
        thread.join().unwrap();
    }

    let answers = answers.lock().unwrap().clone();
    assert_eq!(answers.len(), CLIENTS * PER_CLIENT + 2 * SHARED);
    let mut created: HashMap<&str, usize> = HashMap::new();
    for (id, status) in &answers {
        assert!(
            matches!(status, 200 | 201),
            "{id}: {status}\n{}\n{}",
            first.log(),
            second.log()
        );
        if *status == 201 {
            *created.entry(id).or_default() += 1;
        }
    }
    let acknowledged: HashSet<&str> = answers.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(acknowledged.len(), CLIENTS * PER_CLIENT + SHARED);
    assert!(
        acknowledged.iter().all(|id| created.get(id) == Some(&1)),
        "each submission is created (201) exactly once; the other copy answers 200"
    );

    // Both replicas export the same bytes, holding every acknowledged submission once.
    let token = first.create_token(Some("demo"));
    let (status, from_first) = first.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200);
    let (_, from_second) = second.export(Some(&token), "feedback.csv");
    assert!(
        from_first == from_second,
        "the two replicas export the same CSV"
    );
    let (_, rows) = parse_csv(&from_first);
    let exported: Vec<&str> = rows.iter().map(|row| cell(row, "id")).collect();
    let unique: HashSet<&str> = exported.iter().copied().collect();
    assert_eq!(
        unique.len(),
        exported.len(),
        "no submission is stored twice"
    );
    assert_eq!(
        unique, acknowledged,
        "every acknowledged submission is stored"
    );

    // Both replicas run a webhook worker; each submission is announced once. Once every
    // delivery is recorded as delivered, no worker has anything left to send again, so the
    // calls counted then are all there will be.
    receiver.wait_for(acknowledged.len());
    let expected = acknowledged.len();
    common::eventually(
        "every delivery recorded as delivered",
        std::time::Duration::from_secs(60),
        || {
            let log = db.deliveries("demo", expected as u32 + 10).unwrap();
            (log.len() == expected && log.iter().all(|d| d.state == DeliveryState::Delivered))
                .then_some(())
        },
    );
    let calls = receiver.requests.lock().unwrap().clone();
    let mut announced = HashMap::<String, usize>::new();
    for (_, body) in &calls {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        let id = body["feedback"]["id"].as_str().unwrap().to_owned();
        *announced.entry(id).or_default() += 1;
    }
    assert_eq!(announced.len(), acknowledged.len());
    assert!(
        announced.values().all(|&count| count == 1),
        "a delivery was sent by both replicas"
    );
    eprintln!(
        "{} submissions ({} sent to both replicas) stored once; {} bytes of CSV from each replica; {} webhook calls",
        acknowledged.len(),
        SHARED,
        from_first.len(),
        calls.len()
    );
}
