//! `earshot backup` on a live SQLite database: the copy is consistent, holds every
//! submission acknowledged before the backup began although feedback keeps arriving, and a
//! collector restored from it serves it. Against the real binary.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::collector::{Collector, binary, feedback_body, http};
use common::eventually;

const ORIGIN: &str = "https://shop.example";
const ROWS_BEFORE: usize = 2_000;
const WRITERS: usize = 4;

fn submit(agent: &ureq::Agent, collector: &Collector) -> (String, Instant) {
    let body = feedback_body("kept safe in a backup", serde_json::json!({}));
    assert_eq!(collector.post_feedback(agent, ORIGIN, &body), 201);
    (body["id"].as_str().unwrap().to_owned(), Instant::now())
}

#[test]
fn a_backup_under_load_is_consistent_and_holds_everything_acknowledged_before_it() {
    let collector = Arc::new(Collector::start_with(
        &[ORIGIN],
        &["--rate-limit-visitor", "0", "--rate-limit-site", "0"],
    ));
    let agent = http();
    let mut acknowledged: Vec<(String, Instant)> = (0..ROWS_BEFORE)
        .map(|_| submit(&agent, &collector))
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (collector, stop, during) = (collector.clone(), stop.clone(), during.clone());
            std::thread::spawn(move || {
                let agent = http();
                while !stop.load(Ordering::Relaxed) {
                    let one = submit(&agent, &collector);
                    during.lock().unwrap().push(one);
                }
            })
        })
        .collect();
    eventually("writers under way", Duration::from_secs(30), || {
        (during.lock().unwrap().len() >= 100).then_some(())
    });

    let copy = collector.dir.path().join("backup.db");
    let began = Instant::now();
    let out = collector.cli(&["backup", "--output", copy.to_str().unwrap()]);
    let backed_up_while = during.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    acknowledged.append(&mut during.lock().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("integrity ok"), "{said}");
    eprintln!("{said}");

    // Checked independently of the collector's code: SQLite's own integrity check, and the
    // ids in the copy.
    let conn =
        rusqlite::Connection::open_with_flags(&copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut statement = conn.prepare("SELECT id FROM feedback").unwrap();
    let in_copy: HashSet<String> = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let before: Vec<&(String, Instant)> = acknowledged
        .iter()
        .filter(|(_, acked)| *acked < began)
        .collect();
    assert!(
        before.len() > ROWS_BEFORE,
        "writes went on before the backup"
    );
    for (id, _) in &before {
        assert!(
            in_copy.contains(id),
            "acknowledged before the backup, missing from it"
        );
    }
    assert!(
        acknowledged.len() > before.len(),
        "feedback kept arriving while the backup ran ({backed_up_while} during the test)"
    );

    // A second backup to the same file is refused rather than overwriting it.
    let again = collector.cli(&["backup", "--output", copy.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // Restoring is starting a collector on the copy: it serves what the copy holds.
    let export = Command::new(binary())
        .args(["export", "--site", "demo"])
        .env("EARSHOT_DATABASE", &copy)
        .env_remove("EARSHOT_DATABASE_URL")
        .env("EARSHOT_LOG", "warn")
        .output()
        .unwrap();
    assert!(export.status.success());
    let (_, rows) = common::parse_csv(&export.stdout);
    assert_eq!(rows.len(), in_copy.len());
}

/// A backup and a copy hold password hashes, webhook secrets, visitors' addresses and
/// screenshots: only their owner may read them (0600), whatever the umask. (Before, both
/// were created 0644, readable by every user of the machine.)
#[test]
fn backups_and_copies_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let collector = Collector::start(&[ORIGIN]);
    submit(&http(), &collector);
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();

    let backup = collector.dir.path().join("backup.db");
    let out = collector.cli(&["backup", "--output", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&backup) & 0o777, 0o600, "the backup");

    let copy = collector.dir.path().join("copy.db");
    let out = collector.cli(&["copy", "--to", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&copy) & 0o777, 0o600, "the copy");
    for file in std::fs::read_dir(collector.dir.path()).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("copy.db") || name.starts_with("backup.db") {
            assert_eq!(mode(&path) & 0o077, 0, "{name} is readable by others");
        }
    }
}
