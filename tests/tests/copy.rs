//! `earshot copy` between the engines, with the real binary on real SQLite files and a real
//! PostgreSQL server: SQLite → PostgreSQL → SQLite gives exports byte-identical to the
//! original, and the API token, the owner's password and the webhook's secret still work.

mod common;

use std::path::Path;
use std::process::Output;

use common::collector::{Collector, Engine, binary, feedback_body, http};
use earshot_collector::store::Location;
use earshot_collector::webhooks::WebhookFormat;

const ORIGIN: &str = "https://shop.example";
const PASSWORD: &str = "correct horse battery";

/// `earshot --database-url/--database SOURCE ARGS…`.
fn earshot(source: &Location, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(binary());
    match source {
        Location::Sqlite(path) => command
            .arg("--database")
            .arg(path)
            .env_remove("EARSHOT_DATABASE_URL"),
        Location::Postgres(url) => command.arg("--database-url").arg(url),
    };
    command
        .args(args)
        .env("EARSHOT_LOG", "warn")
        .output()
        .unwrap()
}

/// An export with the collector's address taken out of its screenshot links (the last
/// column), which name the collector that wrote the export.
fn relative_links(csv: &[u8]) -> String {
    let text = String::from_utf8_lossy(csv);
    let parts: Vec<&str> = text.split("/admin/feedback/").collect();
    let mut out = String::new();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            out.push_str("/admin/feedback/");
        }
        if n + 1 < parts.len() {
            out.push_str(&part[..=part.rfind(',').unwrap()]);
        } else {
            out.push_str(part);
        }
    }
    out
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything of `demo`, spam included, as `earshot export` writes it (the same bytes as the
/// export API).
fn export(location: &Location, format: &str) -> Vec<u8> {
    let out = earshot(
        location,
        &[
            "export", "--site", "demo", "--spam", "include", "--format", format,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn sqlite_to_postgres_to_sqlite_keeps_everything() {
    let Some(postgres) = Engine::postgres() else {
        return;
    };
    let Engine::Postgres(scratch) = &postgres else {
        unreachable!()
    };
    let postgres_location = Location::Postgres(scratch.url().to_owned());

    // The original: a collector on SQLite with feedback of every kind, triaged, a token, an
    // owner and a webhook.
    let original = Collector::start_with(
        &[ORIGIN],
        &["--rate-limit-visitor", "0", "--rate-limit-site", "0"],
    );
    let agent = http();
    for n in 0..40 {
        let extra = match n % 4 {
            0 => {
                serde_json::json!({"email": "ada@example.com", "referrer": "https://search.example/"})
            }
            1 => serde_json::json!({"user_id": "customer-42", "metadata": {"plan": "pro"}}),
            2 => serde_json::json!({"open_ms": 10, "comment": "=HYPERLINK(\"x\")"}),
            _ => serde_json::json!({"rating": {"kind": "nps", "value": n % 11}}),
        };
        let body = feedback_body(&format!("feedback {n}, \"quoted\"\nnew line"), extra);
        assert_eq!(original.post_feedback(&agent, ORIGIN, &body), 201);
    }
    let token = original.create_token(Some("demo"));
    original.add_user("owner@shop.example", PASSWORD, &[]);
    let sqlite_location = Location::Sqlite(original.database());
    let mut db = sqlite_location.connect().unwrap();
    db.add_webhook(
        "demo",
        "https://hooks.example/earshot",
        "whsec_kept_secret",
        WebhookFormat::Slack,
    )
    .unwrap();
    let mut ids = Vec::new();
    db.for_each_feedback_in(
        &["demo".to_owned()],
        &Default::default(),
        earshot_collector::store::Page::All,
        &mut |row| {
            ids.push(row.id);
            Ok(())
        },
    )
    .unwrap();
    // Screenshots on ten of them (more than one batch of the copy), every byte value in each.
    let screenshots: Vec<earshot_collector::store::Screenshot> = ids[..10]
        .iter()
        .enumerate()
        .map(|(n, id)| earshot_collector::store::Screenshot {
            feedback_id: id.clone(),
            content_type: "image/png".into(),
            width: 1280,
            height: 720 + n as u32,
            image: (0..=255u8).cycle().take(50_000 + n).collect(),
            thumbnail: (0..=255u8).rev().cycle().take(3_000 + n).collect(),
            created_at: 1_700_000_000_000,
        })
        .collect();
    for screenshot in &screenshots {
        assert!(db.add_screenshot(screenshot).unwrap());
    }
    let kept = |location: &Location| {
        let mut db = location.connect().unwrap();
        for screenshot in &screenshots {
            let id = &screenshot.feedback_id;
            assert_eq!(
                db.screenshot_image(id, false).unwrap(),
                Some((screenshot.content_type.clone(), screenshot.image.clone())),
                "{location:?}"
            );
            assert_eq!(
                db.screenshot_image(id, true).unwrap().unwrap().1,
                screenshot.thumbnail
            );
            assert_eq!(
                db.screenshot_size(id).unwrap(),
                Some((screenshot.width, screenshot.height))
            );
        }
    };
    db.triage(
        &ids[0],
        earshot_collector::store::FeedbackStatus::Resolved,
        "answered",
    )
    .unwrap();
    let webhooks = db.webhooks("demo").unwrap();
    drop(db);
    let csv = export(&sqlite_location, "csv");
    let jsonl = export(&sqlite_location, "jsonl");
    assert!(
        csv.iter().filter(|b| **b == b'\n').count() > 40,
        "every row exported"
    );
    // The collector stops first, as the README asks.
    let mut original = original;
    assert!(original.terminate().success());

    // To PostgreSQL.
    let summary = ok(earshot(&sqlite_location, &["copy", "--to", scratch.url()]));
    assert!(
        summary.contains("feedback") && summary.contains("rows/s"),
        "{summary}"
    );
    assert_eq!(
        export(&postgres_location, "csv"),
        csv,
        "CSV after SQLite → PostgreSQL"
    );
    assert_eq!(export(&postgres_location, "jsonl"), jsonl);
    kept(&postgres_location);

    // A second copy into the same database is refused; with --resume it adds nothing.
    let again = earshot(&sqlite_location, &["copy", "--to", scratch.url()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    ok(earshot(
        &sqlite_location,
        &["copy", "--to", scratch.url(), "--resume"],
    ));
    assert_eq!(export(&postgres_location, "csv"), csv, "nothing twice");

    // And back to a new SQLite file.
    let back = tempfile::tempdir().unwrap();
    let back_file = back.path().join("earshot.db");
    ok(earshot(
        &postgres_location,
        &["copy", "--to", back_file.to_str().unwrap()],
    ));
    let back_location = Location::Sqlite(back_file.clone());
    assert_eq!(
        export(&back_location, "csv"),
        csv,
        "CSV after PostgreSQL → SQLite"
    );
    assert_eq!(export(&back_location, "jsonl"), jsonl);
    kept(&back_location);
    assert_eq!(
        back_location.connect().unwrap().webhooks("demo").unwrap(),
        webhooks,
        "the webhook and its secret"
    );

    // The copy serves: the old token exports, the owner signs in with the old password, and
    // new feedback gets an id after the copied ones.
    let served = Collector::start_existing(&Engine::Sqlite, back);
    let (status, served_csv) = served.export(Some(&token), "feedback.csv?spam=include");
    assert_eq!(status, 200, "the API token still works");
    assert!(
        relative_links(&served_csv) == relative_links(&csv),
        "the served export is the copied one"
    );
    let signed_in = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
        .post(&served.url("/admin/login"))
        .send_form([
            ("email", "owner@shop.example"),
            ("password", PASSWORD),
            ("next", "/admin/inbox"),
        ])
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the password still works");
    assert_eq!(
        served.post_feedback(
            &agent,
            ORIGIN,
            &feedback_body("after the move", serde_json::json!({}))
        ),
        201
    );
    assert!(Path::new(&back_file).exists());
    drop(served);
    drop(original);
}

/// The README's PostgreSQL backup: `pg_dump --format=custom`, then `pg_restore` into an empty
/// database, and collectors on it serve everything as before.
#[test]
fn a_postgresql_dump_restores_into_a_working_database() {
    let Some(postgres) = Engine::postgres() else {
        return;
    };
    let original = Collector::start_on(
        &postgres,
        &[ORIGIN],
        &["--rate-limit-visitor", "0", "--rate-limit-site", "0"],
    );
    let agent = http();
    for n in 0..20 {
        let body = feedback_body(&format!("before the dump {n}"), serde_json::json!({}));
        assert_eq!(original.post_feedback(&agent, ORIGIN, &body), 201);
    }
    let token = original.create_token(Some("demo"));
    let (_, csv) = original.export(Some(&token), "feedback.csv");
    let Engine::Postgres(scratch) = &postgres else {
        unreachable!()
    };
    let dump = original.dir.path().join("earshot.dump");
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(scratch.url())
        .output()
        .unwrap();
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );

    let admin = std::env::var("EARSHOT_TEST_POSTGRES_URL").unwrap();
    let restored =
        std::sync::Arc::new(earshot_collector::store::ScratchDatabase::create(&admin).unwrap());
    let loaded = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", restored.url()])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );

    let served =
        Collector::start_existing(&Engine::Postgres(restored), tempfile::tempdir().unwrap());
    let (status, restored_csv) = served.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200, "the token works on the restored database");
    assert_eq!(restored_csv, csv, "every submission, byte for byte");
    let body = feedback_body("after the restore", serde_json::json!({}));
    assert_eq!(served.post_feedback(&agent, ORIGIN, &body), 201);
}

/// `earshot copy` from a database a collector still runs on says so before it starts, and
/// names `--resume` for the rest; once the collector is stopped, it says nothing of the kind.
#[test]
fn copying_from_a_running_collector_says_so_and_names_resume() {
    for engine in Engine::all() {
        let mut collector = Collector::start_on(&engine, &[ORIGIN], &[]);
        let body = feedback_body("written while copying", serde_json::json!({}));
        assert_eq!(collector.post_feedback(&http(), ORIGIN, &body), 201);
        let source = match &engine {
            Engine::Sqlite => Location::Sqlite(collector.database()),
            Engine::Postgres(database) => Location::Postgres(database.url().to_owned()),
        };
        let targets = tempfile::tempdir().unwrap();
        let target = targets.path().join("live.db");
        let stderr = ok(earshot(
            &source,
            &["copy", "--to", target.to_str().unwrap()],
        ));
        assert!(
            stderr.contains("a collector is") && stderr.contains("--resume"),
            "on {}: {stderr}",
            engine.name()
        );
        if matches!(engine, Engine::Sqlite) {
            collector.terminate();
            let target = targets.path().join("stopped.db");
            let stderr = ok(earshot(
                &source,
                &["copy", "--to", target.to_str().unwrap()],
            ));
            assert!(!stderr.contains("a collector is"), "{stderr}");
        }
    }
}

/// The README's PostgreSQL backup and restore, line by line as written (its `export` line
/// names an example server: the test sets that variable to its own), with only the
/// restored database's name made unique so that test runs cannot collide.
#[test]
fn the_readmes_postgresql_backup_and_restore_work_as_written() {
    let Some(postgres) = Engine::postgres() else {
        return;
    };
    let Engine::Postgres(scratch) = &postgres else {
        unreachable!()
    };
    let original = Collector::start_on(&postgres, &[ORIGIN], &[]);
    let body = feedback_body("before the dump", serde_json::json!({}));
    assert_eq!(original.post_feedback(&http(), ORIGIN, &body), 201);

    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block = readme
        .split("**PostgreSQL.** Use PostgreSQL's own tools")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README's PostgreSQL backup block");
    let name = format!("earshot_restored_{}", uuid::Uuid::new_v4().simple());
    let script: Vec<String> = block
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("export "))
        .map(|line| line.replace("earshot_restored", &name))
        .collect();
    assert!(script.len() >= 4, "{script:?}");
    let mut restored = url::Url::parse(scratch.url()).unwrap();
    restored.set_path(&name);
    let bin_dir = binary().parent().unwrap().to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{}", script.join("\n")))
        .current_dir(dir.path())
        .env("PATH", path)
        .env("EARSHOT_DATABASE_URL", scratch.url())
        .env("RESTORED_URL", restored.as_str())
        .env("EARSHOT_DATABASE", dir.path().join("unused.db"))
        .env("EARSHOT_LOG", "warn")
        .output()
        .unwrap();
    // Whatever happened, the restored database goes.
    let admin = std::env::var("EARSHOT_TEST_POSTGRES_URL").unwrap();
    let dropped = std::process::Command::new("psql")
        .arg(&admin)
        .args(["--quiet", "--command"])
        .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README's commands:\n{}\n{}\n{}",
        script.join("\n"),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dropped.status.success(),
        "{}",
        String::from_utf8_lossy(&dropped.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("demo"), "the restored sites: {listed}");
}
