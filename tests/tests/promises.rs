//! Promises the README makes about retention, privacy and the dashboard's headers and cookies,
//! checked on the real binary, its real SQLite file and its answers over HTTP.

mod common;

use std::time::Duration;

use common::collector::{Collector, feedback_body, http};
use common::eventually;

const SHOP: &str = "https://shop.example";
const DAY_MS: i64 = 86_400_000;

/// Copies the newest stored submission as one received `days_ago` days ago, straight into
/// the database (as if it had been there that long); returns its id.
fn plant_old_submission(collector: &Collector, days_ago: i64) -> String {
    let db = rusqlite::Connection::open(collector.database()).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let columns: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('feedback') WHERE name NOT IN ('seq', 'id', 'received_at')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let list = columns.join(", ");
    db.execute(
        &format!(
            "INSERT INTO feedback (id, received_at, {list}) \
             SELECT ?1, received_at - ?2, {list} FROM feedback ORDER BY seq DESC LIMIT 1"
        ),
        rusqlite::params![id, days_ago * DAY_MS],
    )
    .unwrap();
    id
}

fn stored(collector: &Collector, id: &str) -> bool {
    let db = rusqlite::Connection::open(collector.database()).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.query_row("SELECT count(*) FROM feedback WHERE id = ?1", [id], |row| {
        row.get::<_, i64>(0)
    })
    .unwrap()
        == 1
}

/// Retention deletes a site's old feedback at once when it is set, then at every interval
/// (`--retention-interval-secs`, an hour unless told otherwise), and nothing newer.
#[test]
fn retention_applies_at_once_and_then_at_every_interval() {
    let collector = Collector::start_with(&[SHOP], &["--retention-interval-secs", "1"]);
    let fresh = feedback_body("Fresh", serde_json::json!({}));
    assert_eq!(collector.post_feedback(&http(), SHOP, &fresh), 201);
    let fresh = fresh["id"].as_str().unwrap().to_owned();

    let before = plant_old_submission(&collector, 3);
    assert!(stored(&collector, &before));
    let out = collector.cli(&["site", "retention", "demo", "--days", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stored(&collector, &before), "applied at once");

    let later = plant_old_submission(&collector, 3);
    eventually("the next retention pass", Duration::from_secs(20), || {
        (!stored(&collector, &later)).then_some(())
    });
    assert!(stored(&collector, &fresh), "newer feedback stays");
}

/// No client address and no query string reach the log, and no address the database: the
/// address a trusted proxy forwards is used for rate limits only.
#[test]
fn logs_and_database_keep_no_client_address_and_no_query_string() {
    let collector = Collector::start_with(&[SHOP], &["--trusted-proxies", "127.0.0.1/32,::1/128"]);
    let token = collector.create_token(Some("demo"));
    let visitor = "203.0.113.77";
    let body = feedback_body("Private words stay private", serde_json::json!({}));
    let status = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", SHOP)
        .header("X-Forwarded-For", visitor)
        .send(body.to_string())
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 201);
    let (status, _) = collector.export(Some(&token), "feedback.csv?q=very-private-words");
    assert_eq!(status, 200);
    // The export's request is logged once it is answered.
    eventually(
        "the export's request logged",
        Duration::from_secs(10),
        || {
            collector
                .log()
                .contains("/v1/sites/demo/feedback.csv")
                .then_some(())
        },
    );
    let log = collector.log();
    assert!(log.contains("/v1/feedback"), "{log}");
    assert!(
        !log.contains(visitor),
        "no client address in the log: {log}"
    );
    assert!(
        !log.contains("very-private-words"),
        "no query string in the log: {log}"
    );
    let mut bytes = std::fs::read(collector.database()).unwrap();
    if let Ok(wal) = std::fs::read(collector.database().with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("Private words stay private"),
        "the database was read"
    );
    assert!(!text.contains(visitor), "no client address in the database");
}

/// The dashboard's pages carry their own CSP and are never cached or framed; its cookies
/// are HttpOnly, SameSite=Strict and kept to their paths, and Secure when served over https.
#[test]
fn dashboard_pages_and_cookies_are_locked_down() {
    const OWNER: &str = "owner@example.com";
    const PASSWORD: &str = "correct horse battery";
    let collector = Collector::start(&[SHOP]);
    collector.add_user(OWNER, PASSWORD, &[]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let base = collector.origin();
    let sign_in = |proto: &str| {
        let response = agent
            .post(&format!("{base}/admin/login"))
            .header("Origin", &base)
            .header("X-Forwarded-Proto", proto)
            .send_form([
                ("email", OWNER),
                ("password", PASSWORD),
                ("next", "/admin/inbox"),
            ])
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "signed in");
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        let cookie = |name: &str| -> Vec<String> {
            let cookie = cookies
                .iter()
                .find(|cookie| cookie.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
            cookie
                .split(';')
                .map(|part| part.trim().to_owned())
                .collect()
        };
        (cookie("earshot_session"), cookie("earshot_device"))
    };

    let (session, device) = sign_in("http");
    for (cookie, path) in [(&session, "Path=/admin"), (&device, "Path=/admin/login")] {
        for flag in ["HttpOnly", "SameSite=Strict", path] {
            assert!(cookie.iter().any(|part| part == flag), "{flag}: {cookie:?}");
        }
        assert!(
            !cookie.iter().any(|part| part == "Secure"),
            "not Secure over plain http: {cookie:?}"
        );
    }
    let (session, device) = sign_in("https");
    for cookie in [&session, &device] {
        assert!(cookie.iter().any(|part| part == "Secure"), "{cookie:?}");
    }

    // A page as the signed-in owner sees it, and the sign-in page as anyone does.
    let session_cookie = session[0].clone();
    for (path, cookie) in [
        ("/admin/inbox", Some(session_cookie.as_str())),
        ("/admin/login", None),
    ] {
        let mut request = agent.get(&format!("{base}{path}"));
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request.call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp:?}");
        }
        assert_eq!(header("cache-control"), "no-store", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
}
