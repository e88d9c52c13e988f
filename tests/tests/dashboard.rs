//! The owner's dashboard, end to end: the real binary, a real Chromium for what an owner
//! sees, plain HTTP for what an attacker or a script would try. Screenshots of the inbox and
//! the statistics go to target/e2e/.

mod common;

use std::time::Duration;

use common::browser::{self, Browser};
use common::collector::{Collector, http};
use common::{cell, parse_csv};
use fantoccini::Locator;

const OWNER: &str = "owner@shop.example";
const AGENCY: &str = "client@agency.example";
const PASSWORD: &str = "correct horse battery staple";
const PAGE_ORIGIN: &str = "https://shop.example";
const OTHER_ORIGIN: &str = "https://other.example";

/// What a hostile visitor would write, hoping the dashboard runs it.
const XSS: &str = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\"> the cart button does nothing";

/// Sends a submission to `site` as the widget would; returns its id.
fn submit(
    collector: &Collector,
    site: &str,
    origin: &str,
    rating: u8,
    comment: &str,
    email: Option<&str>,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = serde_json::json!({
        "id": id,
        "site": site,
        "rating": {"kind": "stars", "value": rating},
        "comment": comment,
        "page_url": format!("{origin}/checkout?step=2"),
        "locale": "en-GB",
        "client": {"viewport_width": 1280, "viewport_height": 720,
                   "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"},
        "open_ms": 9000,
    });
    if let Some(email) = email {
        body["email"] = email.into();
    }
    let response = http()
        .post(&collector.url("/v1/feedback"))
        .header("Origin", origin)
        .header("Content-Type", "text/plain")
        .send(body.to_string())
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    id
}

fn collector_with_two_sites() -> Collector {
    let collector = Collector::start(&[PAGE_ORIGIN]);
    let out = collector.cli(&[
        "site",
        "add",
        "--name",
        "Other Co",
        "--key",
        "other",
        "--origin",
        OTHER_ORIGIN,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    collector.add_user(OWNER, PASSWORD, &[]);
    collector.add_user(AGENCY, PASSWORD, &["other"]);
    collector
}

async fn sign_in(browser: &Browser, collector: &Collector, email: &str) {
    browser
        .client
        .goto(&collector.url("/admin/inbox"))
        .await
        .unwrap();
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/admin/login", "a page asks to sign in first");
    let field = browser.client.find(Locator::Css("#email")).await.unwrap();
    field.send_keys(email).await.unwrap();
    let field = browser
        .client
        .find(Locator::Css("#password"))
        .await
        .unwrap();
    field.send_keys(PASSWORD).await.unwrap();
    browser
        .client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_url(&collector.url("/admin/inbox").parse().unwrap())
        .await
        .unwrap();
}

async fn comments_shown(browser: &Browser) -> Vec<String> {
    let mut comments = Vec::new();
    for element in browser
        .client
        .find_all(Locator::Css(".item .comment"))
        .await
        .unwrap()
    {
        comments.push(element.text().await.unwrap());
    }
    comments
}

async fn submit_form(browser: &Browser, css: &str) {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_signs_in_triages_filters_and_exports_exactly_what_they_see() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let collector = collector_with_two_sites();
    submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        2,
        "Delivery took two weeks",
        None,
    );
    let hostile = submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        1,
        XSS,
        Some("mallory@example.com"),
    );
    submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        5,
        "Lovely Darjeeling",
        Some("ada@example.com"),
    );
    submit(
        &collector,
        "other",
        OTHER_ORIGIN,
        4,
        "Other site's feedback",
        None,
    );

    sign_in(&browser, &collector, OWNER).await;
    assert_eq!(
        comments_shown(&browser).await,
        [
            "Other site's feedback",
            "Lovely Darjeeling",
            XSS,
            "Delivery took two weeks"
        ],
        "newest first, every site this owner may see; the hostile comment shown as text"
    );
    let pwned = browser
        .client
        .execute("return window.pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(
        pwned,
        serde_json::json!(true),
        "nothing the visitor wrote ran"
    );
    assert!(
        browser
            .client
            .find(Locator::Css(".comment img, .comment script"))
            .await
            .is_err(),
        "no element came from visitor text"
    );

    // New feedback arrives while the owner looks: it is at the top on the next load.
    submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        4,
        "Just ordered again",
        None,
    );
    browser.client.refresh().await.unwrap();
    assert_eq!(comments_shown(&browser).await[0], "Just ordered again");
    browser.screenshot("dashboard-inbox").await;

    // Triage the hostile one: in progress, with a note.
    let form = format!("#feedback-{hostile} form.triage");
    let item = browser.client.find(Locator::Css(&form)).await.unwrap();
    item.find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("in-progress")
        .await
        .unwrap();
    item.find(Locator::Css("textarea[name=note]"))
        .await
        .unwrap()
        .send_keys("Asked the dev team")
        .await
        .unwrap();
    item.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "#feedback-{hostile} .status-in-progress"
        )))
        .await
        .unwrap();
    assert_eq!(status.text().await.unwrap(), "In progress");
    let meta = browser
        .client
        .find(Locator::Css(&format!("#feedback-{hostile} .meta")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(meta.contains("First response"), "{meta}");
    let reply = browser
        .client
        .find(Locator::Css(&format!("#feedback-{hostile} a.reply")))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reply,
        "mailto:mallory@example.com?subject=Re%3A%20your%20feedback%20on%20Demo%20shop"
    );

    // Filter: demo only, ratings up to 2, with an email.
    browser
        .client
        .find(Locator::Css("#site"))
        .await
        .unwrap()
        .select_by_value("demo")
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("#max_rating"))
        .await
        .unwrap()
        .select_by_value("2")
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("#has_email"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit_form(&browser, ".filters button[type=submit]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(comments_shown(&browser).await, [XSS]);

    // The export button gives exactly these rows, through the export API's code.
    let export = browser
        .client
        .find(Locator::Css(".heading a.button"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let session = browser
        .client
        .get_named_cookie("earshot_session")
        .await
        .unwrap();
    let mut response = http()
        .get(&collector.url(&export))
        .header("Cookie", &format!("earshot_session={}", session.value()))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (header, rows) = parse_csv(&response.body_mut().read_to_vec().unwrap());
    assert_eq!(header, common::CSV_COLUMNS);
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "id"), hostile);
    assert_eq!(cell(&rows[0], "status"), "in-progress");
    assert_eq!(cell(&rows[0], "comment"), XSS);

    // A text search finds words in comments.
    browser
        .client
        .goto(&collector.url("/admin/inbox?q=darjeeling"))
        .await
        .unwrap();
    assert_eq!(comments_shown(&browser).await, ["Lovely Darjeeling"]);

    browser
        .client
        .goto(&collector.url("/admin/stats?site=demo"))
        .await
        .unwrap();
    let cards = browser
        .client
        .find(Locator::Css(".cards"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cards.contains("4\nsubmissions"), "{cards}");
    assert!(
        browser
            .client
            .find(Locator::Css("svg.chart rect.bar"))
            .await
            .is_ok()
    );
    browser.screenshot("dashboard-stats").await;

    // Signing out ends the session: the inbox asks to sign in again.
    submit_form(&browser, ".signout button").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser
        .client
        .goto(&collector.url("/admin/inbox"))
        .await
        .unwrap();
    assert_eq!(
        browser.client.current_url().await.unwrap().path(),
        "/admin/login"
    );
    browser.close().await;
}

/// An HTTP client that does not follow redirects, carrying a session cookie once signed in.
struct Owner {
    agent: ureq::Agent,
    cookie: String,
    csrf: String,
}

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

fn sign_in_over_http(collector: &Collector, email: &str, password: &str) -> Result<Owner, u16> {
    let agent = no_redirects();
    let response = agent
        .post(&collector.url("/admin/login"))
        .send_form([
            ("email", email),
            ("password", password),
            ("next", "/admin/inbox"),
        ])
        .unwrap();
    if response.status().as_u16() != 303 {
        return Err(response.status().as_u16());
    }
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut page = agent
        .get(&collector.url("/admin/inbox"))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    let html = page.body_mut().read_to_string().unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    Ok(Owner {
        agent,
        cookie,
        csrf,
    })
}

impl Owner {
    fn get(&self, collector: &Collector, path: &str) -> (u16, String) {
        let mut response = self
            .agent
            .get(&collector.url(path))
            .header("Cookie", &self.cookie)
            .call()
            .unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    fn post(&self, collector: &Collector, path: &str, form: &[(&str, &str)]) -> u16 {
        self.agent
            .post(&collector.url(path))
            .header("Cookie", &self.cookie)
            .send_form(form.iter().copied())
            .unwrap()
            .status()
            .as_u16()
    }
}

#[test]
fn an_account_limited_to_one_site_sees_and_exports_nothing_else() {
    let collector = collector_with_two_sites();
    let demo = submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        3,
        "Demo's private feedback",
        None,
    );
    submit(
        &collector,
        "other",
        OTHER_ORIGIN,
        4,
        "Other site's feedback",
        None,
    );
    let agency = sign_in_over_http(&collector, AGENCY, PASSWORD).unwrap();

    let (status, inbox) = agency.get(&collector, "/admin/inbox");
    assert_eq!(status, 200);
    assert!(inbox.contains("Other site&#39;s feedback") || inbox.contains("Other site's feedback"));
    assert!(
        !inbox.contains("Demo's private feedback"),
        "another site's feedback is not listed"
    );
    assert!(
        !inbox.contains("value=\"demo\""),
        "another site is not even offered as a filter"
    );
    assert_eq!(agency.get(&collector, "/admin/inbox?site=demo").0, 403);
    assert_eq!(agency.get(&collector, "/admin/stats?site=demo").0, 403);
    assert_eq!(agency.get(&collector, "/admin/export.csv?site=demo").0, 403);
    let (status, csv) = agency.get(&collector, "/admin/export.csv");
    assert_eq!(status, 200);
    let (_, rows) = parse_csv(csv.as_bytes());
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "site"), "other");
    // Triage of another site's feedback: as if it did not exist.
    let path = format!("/admin/feedback/{demo}");
    let csrf = agency.csrf.clone();
    assert_eq!(
        agency.post(
            &collector,
            &path,
            &[("csrf", &csrf), ("status", "resolved"), ("note", "")]
        ),
        404
    );
    // The API's tokens are scoped the same way: a token for `other` cannot read `demo`.
    let token = collector.create_token(Some("other"));
    assert_eq!(collector.export(Some(&token), "feedback.csv").0, 403);
}

#[test]
fn owner_pages_need_a_session_and_forms_need_their_token() {
    let collector = collector_with_two_sites();
    let id = submit(&collector, "demo", PAGE_ORIGIN, 3, "Needs triage", None);
    let anonymous = no_redirects();
    for path in [
        "/admin",
        "/admin/inbox",
        "/admin/stats",
        "/admin/export.csv?site=demo",
    ] {
        let response = anonymous.get(&collector.url(path)).call().unwrap();
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert!(
            response
                .headers()
                .get("location")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("/admin/login?next="),
            "{path}"
        );
    }
    let response = anonymous
        .post(&collector.url(&format!("/admin/feedback/{id}")))
        .send_form([("csrf", "x"), ("status", "resolved")])
        .unwrap();
    assert_eq!(response.status().as_u16(), 401, "a form without a session");

    assert_eq!(
        sign_in_over_http(&collector, OWNER, "wrong password").err(),
        Some(401)
    );
    assert_eq!(
        sign_in_over_http(&collector, "nobody@example.com", PASSWORD).err(),
        Some(401)
    );
    let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
    let path = format!("/admin/feedback/{id}");
    assert_eq!(
        owner.post(
            &collector,
            &path,
            &[("csrf", "forged"), ("status", "resolved"), ("note", "")]
        ),
        403,
        "a form from elsewhere (wrong CSRF token) changes nothing"
    );
    let csrf = owner.csrf.clone();
    assert_eq!(
        owner.post(
            &collector,
            &path,
            &[("csrf", &csrf), ("status", "resolved"), ("note", "done")]
        ),
        303
    );
    let (_, csv) = owner.get(&collector, "/admin/export.csv?site=demo&status=resolved");
    assert_eq!(parse_csv(csv.as_bytes()).1.len(), 1);

    // Guessing is slowed down: after the allowed attempts, even the right password waits.
    let mut last = 0;
    for _ in 0..12 {
        last = sign_in_over_http(&collector, AGENCY, "guess")
            .err()
            .unwrap();
    }
    assert_eq!(last, 429);
    assert_eq!(
        sign_in_over_http(&collector, AGENCY, PASSWORD).err(),
        Some(429)
    );
}
