//! Helpers for the end-to-end tests: the real `earshot` binary on a free port with its own
//! database, a host site on another origin, and a headless Chromium driven over WebDriver.

#![allow(dead_code)]

pub mod browser;
pub mod collector;
pub mod dovecot;
pub mod host_site;
pub mod mail;
pub mod owner;
pub mod receiver;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where screenshots and other artefacts for people to look at go.
pub fn artefacts_dir() -> PathBuf {
    let dir = root().join("target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether a test must fail when what it needs (Chromium, the built widget, PostgreSQL,
/// schemathesis, the self-contained binary) is missing. It must, unless the run says
/// `EARSHOT_ALLOW_SKIPS=1`: a skip is never silent. `cargo xtask test` installs everything and
/// sets `EARSHOT_E2E_REQUIRED`, which no skip overrides.
pub fn browser_required() -> bool {
    std::env::var_os("EARSHOT_E2E_REQUIRED").is_some()
        || std::env::var_os("EARSHOT_ALLOW_SKIPS").is_none()
}

/// The CSV header row, as documented in the README.
pub const CSV_COLUMNS: [&str; 28] = [
    "id",
    "received_at",
    "site",
    "rating_kind",
    "rating",
    "comment",
    "email",
    "page_url",
    "locale",
    "user_agent",
    "viewport_width",
    "viewport_height",
    "status",
    "spam",
    "user_id",
    "metadata",
    "referrer",
    "screenshot",
    "conversation",
    "answer_by",
    "first_response_at",
    "first_answer_at",
    "answered_on_time",
    "replies",
    "visitor_answers",
    "last_message_at",
    "unsubscribed",
    "note",
];

/// Parses an export back into its header and rows.
pub fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.records().collect::<Result<Vec<_>, _>>().unwrap();
    (header, rows)
}

/// The value of `column` in `row`.
pub fn cell<'a>(row: &'a csv::StringRecord, column: &str) -> &'a str {
    let index = CSV_COLUMNS.iter().position(|c| *c == column).unwrap();
    &row[index]
}

/// Polls `check` until it returns `Some`, and fails the test with `what` if it has not within
/// `limit`. For waiting on something that happens in the background (a delivery, a
/// checkpoint) without a fixed sleep: it returns as soon as the thing is seen, and the limit
/// is only how long a broken build may take to fail.
pub fn eventually<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "still not seen after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Like [`eventually`], for async tests: polls `check` without blocking the runtime's
/// thread, for something outside the browser (for the page, see `Browser::wait_for`).
pub async fn eventually_async<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "still not seen after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
