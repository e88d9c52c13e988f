//! The whole path, end to end: a visitor on a shop's page leaves feedback through the real
//! widget in a real Chromium; the real `earshot` binary stores it in SQLite; the owner gets it
//! back as CSV over HTTP and from the command line.

mod common;

use common::browser::{self, displayed, send_as_a_person};
use common::collector::{Collector, Engine, feedback_body, http};
use common::host_site::HostSite;
use common::{CSV_COLUMNS, cell, parse_csv};
use earshot_shared::{ApiError, ErrorCode};
use fantoccini::Locator;
use fantoccini::key::Key;

/// Text that trips up careless CSV and JSON handling: non-ASCII, a comma, a double quote and
/// a newline.
const COMMENT: &str = "Très bon thé, \"vraiment\" — 素晴らしい!\nSecond line, with a comma";

fn post_feedback(collector: &Collector, origin: Option<&str>, body: &str) -> (u16, String) {
    let mut request = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain;charset=UTF-8");
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    let mut response = request.send(body).unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

fn export_over_http(collector: &Collector, token: Option<&str>) -> (u16, Vec<u8>) {
    collector.export(token, "feedback.csv")
}

fn api_error(body: &str) -> ApiError {
    serde_json::from_str(body).unwrap_or_else(|err| panic!("not a JSON error ({err}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_leaves_feedback_and_the_owner_exports_it() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let Some(browser) = browser::start().await else {
            return;
        };
        let host_port = common::free_port();
        let host_origin = format!("http://localhost:{host_port}");
        let collector = Collector::start_on(&engine, &[&host_origin], &[]);
        let shop = HostSite::start_on(host_port, &collector.origin());

        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.widget_ready().await;
        let launcher = displayed(&widget, "button.launcher").await;
        assert_eq!(launcher.text().await.unwrap(), "Feedback");
        launcher.click().await.unwrap();

        // The dialog opens with the focus on the rating: four stars, by keyboard alone.
        displayed(&widget, "[role=dialog]").await;
        browser
            .press(&[Key::Space, Key::Right, Key::Right, Key::Right])
            .await;
        let fourth = widget.find(Locator::Css("#earshot-star-4")).await.unwrap();
        assert_eq!(
            fourth.prop("checked").await.unwrap().as_deref(),
            Some("true"),
            "4 stars chosen"
        );

        let comment = widget.find(Locator::Css("#earshot-comment")).await.unwrap();
        comment.send_keys(COMMENT).await.unwrap();
        let email = widget.find(Locator::Css("#earshot-email")).await.unwrap();
        email.send_keys("ada@example.com").await.unwrap();
        browser.screenshot("widget-filled").await;
        send_as_a_person(&widget).await;
        let thanks = displayed(&widget, ".thanks-title").await;
        assert_eq!(thanks.text().await.unwrap(), "Thank you!");
        // The focus moves to the thank-you (a screen reader reads it), and the next Tab
        // reaches the button that closes the dialog, not something behind it.
        assert_eq!(
            browser.focus_in_widget().await,
            "H3.thanks-title: Thank you!"
        );
        browser.press(&[Key::Tab]).await;
        assert_eq!(browser.focus_in_widget().await, "BUTTON.button: Close");
        browser.screenshot("widget-thanks").await;
        browser.close().await;

        // Over HTTP with a token…
        let token = collector.create_token(Some("demo"));
        let (status, csv_http) = export_over_http(&collector, Some(&token));
        assert_eq!(status, 200);
        let (header, rows) = parse_csv(&csv_http);
        assert_eq!(header, CSV_COLUMNS);
        assert_eq!(rows.len(), 1, "exactly the one submission");
        let row = &rows[0];
        assert_eq!(cell(row, "site"), "demo");
        assert_eq!(cell(row, "rating_kind"), "stars");
        assert_eq!(cell(row, "rating"), "4");
        assert_eq!(cell(row, "comment"), COMMENT);
        assert_eq!(cell(row, "email"), "ada@example.com");
        assert_eq!(cell(row, "page_url"), shop.url());
        assert_eq!(cell(row, "locale"), "en");
        assert_eq!(cell(row, "status"), "new");
        assert_eq!(cell(row, "spam"), "false", "a person typing is not spam");
        assert!(cell(row, "viewport_width").parse::<u32>().unwrap() > 0);
        assert!(
            cell(row, "user_agent").contains("Chrome"),
            "{}",
            cell(row, "user_agent")
        );
        assert!(uuid::Uuid::parse_str(cell(row, "id")).is_ok());

        // …and from the command line: the same bytes.
        let file = collector.dir.path().join("export.csv");
        let out = collector.cli(&[
            "export",
            "--site",
            "demo",
            "--output",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv_cli = std::fs::read(&file).unwrap();
        assert_eq!(csv_cli, csv_http);
        let stdout = collector.cli(&["export", "--site", "demo"]);
        assert_eq!(stdout.stdout, csv_http);
    }
}

#[test]
fn feedback_from_an_origin_the_site_does_not_allow_is_refused() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &["https://shop.example"], &[]);
        let body = feedback_body("hi", serde_json::json!({})).to_string();

        let (status, answer) = post_feedback(&collector, Some("https://evil.example"), &body);
        assert_eq!(status, 403);
        assert_eq!(api_error(&answer).code, ErrorCode::OriginNotAllowed);
        let (status, answer) = post_feedback(&collector, None, &body);
        assert_eq!(status, 403, "no Origin header: {answer}");

        let (status, _) = post_feedback(&collector, Some("https://shop.example"), &body);
        assert_eq!(status, 201);
        let token = collector.create_token(None);
        let (_, csv) = export_over_http(&collector, Some(&token));
        assert_eq!(
            parse_csv(&csv).1.len(),
            1,
            "only the allowed origin's submission is stored"
        );
    }
}

#[test]
fn the_same_submission_sent_twice_is_stored_once() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &["https://shop.example"], &[]);
        let body = feedback_body("once", serde_json::json!({}));
        let id = body["id"].as_str().unwrap().to_owned();
        let body = body.to_string();

        let (first, answer) = post_feedback(&collector, Some("https://shop.example"), &body);
        assert_eq!(first, 201, "{answer}");
        let accepted: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(accepted["id"], id.as_str());
        let (second, answer) = post_feedback(&collector, Some("https://shop.example"), &body);
        assert_eq!(
            second, 200,
            "a retry succeeds without storing again: {answer}"
        );

        let token = collector.create_token(None);
        let (_, csv) = export_over_http(&collector, Some(&token));
        let (_, rows) = parse_csv(&csv);
        assert_eq!(rows.len(), 1);
        assert_eq!(cell(&rows[0], "id"), id);
    }
}

#[test]
fn the_export_needs_a_valid_token_for_the_site() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &["https://shop.example"], &[]);
        let out = collector.cli(&[
            "site",
            "add",
            "--name",
            "Other",
            "--key",
            "other",
            "--origin",
            "https://other.example",
        ]);
        assert!(out.status.success());

        let (status, body) = export_over_http(&collector, None);
        assert_eq!(status, 401);
        assert_eq!(
            api_error(std::str::from_utf8(&body).unwrap()).code,
            ErrorCode::Unauthorized
        );
        let (status, _) = export_over_http(
            &collector,
            Some("eshot_0000000000000000000000000000000000000000000000000000000000000000"),
        );
        assert_eq!(status, 401);

        let other_sites_token = collector.create_token(Some("other"));
        let (status, body) = export_over_http(&collector, Some(&other_sites_token));
        assert_eq!(status, 403);
        assert_eq!(
            api_error(std::str::from_utf8(&body).unwrap()).code,
            ErrorCode::Forbidden
        );

        // A revoked token stops working at once.
        let token = collector.create_token(Some("demo"));
        assert_eq!(export_over_http(&collector, Some(&token)).0, 200);
        let list = String::from_utf8(collector.cli(&["token", "list"]).stdout).unwrap();
        let id = list
            .lines()
            .last()
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        assert!(collector.cli(&["token", "revoke", &id]).status.success());
        assert_eq!(export_over_http(&collector, Some(&token)).0, 401);
    }
}

#[test]
fn bad_input_gets_a_json_error_with_a_stable_code() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = Collector::start_on(&engine, &["https://shop.example"], &[]);
        let origin = Some("https://shop.example");

        let (status, body) = post_feedback(&collector, origin, "{not json");
        assert_eq!(
            (status, api_error(&body).code),
            (400, ErrorCode::InvalidJson)
        );

        let wrong_type = feedback_body(
            "x",
            serde_json::json!({ "rating": { "kind": "stars", "value": "five" } }),
        )
        .to_string();
        let (status, body) = post_feedback(&collector, origin, &wrong_type);
        assert_eq!(
            (status, api_error(&body).code),
            (400, ErrorCode::InvalidJson)
        );
        assert_eq!(api_error(&body).field.as_deref(), Some("rating.value"));

        let too_long = feedback_body(
            &"a".repeat(earshot_shared::limits::MAX_COMMENT_CHARS + 1),
            serde_json::json!({}),
        )
        .to_string();
        let (status, body) = post_feedback(&collector, origin, &too_long);
        let error = api_error(&body);
        assert_eq!((status, error.code), (422, ErrorCode::InvalidField));
        assert_eq!(error.field.as_deref(), Some("comment"));

        let unknown = feedback_body("x", serde_json::json!({ "site": "nosuchsite" })).to_string();
        let (status, body) = post_feedback(&collector, origin, &unknown);
        assert_eq!(
            (status, api_error(&body).code),
            (404, ErrorCode::UnknownSite)
        );

        let huge = "x".repeat(earshot_shared::limits::MAX_BODY_BYTES + 1);
        let (status, body) = post_feedback(&collector, origin, &huge);
        assert_eq!(
            (status, api_error(&body).code),
            (413, ErrorCode::PayloadTooLarge)
        );

        let mut response = http()
            .post(&collector.url("/v1/feedback"))
            .content_type("application/x-www-form-urlencoded")
            .header("Origin", "https://shop.example")
            .send("a=b")
            .unwrap();
        assert_eq!(response.status().as_u16(), 415);
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(api_error(&body).code, ErrorCode::UnsupportedMediaType);

        let mut response = http()
            .get(&collector.url("/v1/nothing-here"))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 404);
        assert_eq!(
            api_error(&response.body_mut().read_to_string().unwrap()).code,
            ErrorCode::NotFound
        );

        // Nothing above was stored, and the collector is still up.
        let token = collector.create_token(None);
        let (status, csv) = export_over_http(&collector, Some(&token));
        assert_eq!(status, 200);
        assert_eq!(parse_csv(&csv).1.len(), 0);
        assert!(!collector.log().contains("panicked"), "{}", collector.log());
    }
}

#[test]
fn every_answer_is_readable_by_the_calling_page_but_only_allowed_origins_store() {
    let collector = Collector::start(&["https://shop.example"]);
    let body = feedback_body("cors", serde_json::json!({})).to_string();
    let response = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", "https://shop.example")
        .send(&body)
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://shop.example"
    );

    // A refusal is readable too, so the widget treats it as final instead of queueing it as
    // a network failure; nothing from that origin is stored.
    let other = feedback_body("elsewhere", serde_json::json!({})).to_string();
    let mut response = http()
        .post(&collector.url("/v1/feedback"))
        .content_type("text/plain")
        .header("Origin", "https://evil.example")
        .send(&other)
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://evil.example"
    );
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(api_error(&body).code, ErrorCode::OriginNotAllowed);
    let token = collector.create_token(None);
    let (_, csv) = export_over_http(&collector, Some(&token));
    assert_eq!(parse_csv(&csv).1.len(), 1);
}
