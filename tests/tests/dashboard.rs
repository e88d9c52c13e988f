//! The owner's dashboard, end to end: the real binary, a real Chromium for what an owner
//! sees, plain HTTP for what an attacker or a script would try. Screenshots of the inbox and
//! the statistics go to target/e2e/.

mod common;

use std::time::Duration;

use common::browser::{self, Browser};
use common::collector::{Collector, Engine, feedback_body, http};
use common::receiver::{Receiver, header};
use common::{cell, eventually, parse_csv};
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
    let mut body = feedback_body(
        comment,
        serde_json::json!({
            "site": site,
            "rating": {"kind": "stars", "value": rating},
            "page_url": format!("{origin}/checkout?step=2"),
            "locale": "en-GB",
            "client": {"viewport_width": 1280, "viewport_height": 720,
                       "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"},
        }),
    );
    if let Some(email) = email {
        body["email"] = email.into();
    }
    assert_eq!(collector.post_feedback(&http(), origin, &body), 201);
    body["id"].as_str().unwrap().to_owned()
}

fn collector_with_two_sites(engine: &Engine) -> Collector {
    collector_with_two_sites_and(engine, &[])
}

fn collector_with_two_sites_and(engine: &Engine, serve_args: &[&str]) -> Collector {
    let collector = Collector::start_on(engine, &[PAGE_ORIGIN], serve_args);
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
    browser.sign_in(collector, email, PASSWORD).await;
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
    let collector = collector_with_two_sites(&Engine::Sqlite);
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
            XSS,
            "Lovely Darjeeling",
            "Other site's feedback",
            "Delivery took two weeks"
        ],
        "those awaiting an answer first (soonest deadline first), then the rest newest first; \
         every site this owner may see; the hostile comment shown as text"
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

    // New feedback arrives while the owner looks: on the next load it tops what awaits no
    // answer, below the two that do.
    submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        4,
        "Just ordered again",
        None,
    );
    browser.client.refresh().await.unwrap();
    assert_eq!(comments_shown(&browser).await[2], "Just ordered again");
    let awaiting = browser
        .client
        .find(Locator::Css(&format!("#feedback-{hostile} .awaiting")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(awaiting.starts_with("Answer by "), "{awaiting}");
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
    // Replies are written in the dashboard, on the submission's own page.
    assert_eq!(reply, format!("/admin/feedback/{hostile}#reply"));

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
    // The filtered page has loaded once its address carries the filter.
    browser
        .wait_for(
            "return location.search.includes('max_rating=2') && document.readyState === 'complete';",
            "the filter was applied",
        )
        .await;
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

    browser
        .client
        .goto(&collector.url("/admin/sites/demo"))
        .await
        .unwrap();
    let snippet = browser
        .client
        .find(Locator::Css("#snippet"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        snippet,
        format!(
            r#"<script src="{}/earshot.js" data-site="demo" async></script>"#,
            collector.origin()
        )
    );
    let copy = browser
        .client
        .find(Locator::Css("button[data-copy]"))
        .await
        .unwrap();
    assert!(
        copy.is_displayed().await.unwrap(),
        "the copy button shows once its script ran"
    );
    browser.screenshot("dashboard-site").await;

    // Signing out ends the session: the inbox asks to sign in again.
    submit_form(&browser, ".signout button").await;
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_url(&collector.url("/admin/login").parse().unwrap())
        .await
        .unwrap();
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
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = collector_with_two_sites(&engine);
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
        assert!(
            inbox.contains("Other site&#39;s feedback") || inbox.contains("Other site's feedback")
        );
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
}

#[test]
fn owner_pages_need_a_session_and_forms_need_their_token() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = collector_with_two_sites(&engine);
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
}

/// The first `<code class="secret">` of a page: a token or webhook secret shown once.
fn shown_secret(html: &str) -> String {
    html.split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no secret on the page"))
        .to_owned()
}

#[test]
fn sites_tokens_webhooks_retention_and_erasure_from_the_dashboard() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let receiver = Receiver::start(vec![500]);
        let collector = Collector::start_on(
            &engine,
            &[PAGE_ORIGIN],
            &["--webhook-retry-secs", "1", "--allow-private-webhooks"],
        );
        collector.add_user(OWNER, PASSWORD, &[]);
        collector.add_user(AGENCY, PASSWORD, &["demo"]);
        let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
        let csrf = owner.csrf.clone();

        // A new site, its origins and widget defaults.
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites",
                &[
                    ("csrf", &csrf),
                    ("name", "Docs"),
                    ("key", "docs"),
                    ("origins", "https://docs.example")
                ]
            ),
            303
        );
        let (status, page) = owner.get(&collector, "/admin/sites/docs");
        assert_eq!(status, 200);
        assert!(
            page.contains("data-site=&quot;docs&quot;") || page.contains("data-site=\"docs\""),
            "the snippet"
        );
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites/docs/widget",
                &[
                    ("csrf", &csrf),
                    ("rating", "thumbs"),
                    ("theme", "dark"),
                    ("color", "#0f766e"),
                    ("lang", ""),
                    ("prompt", "Was this page helpful?")
                ]
            ),
            303
        );
        // The collector's site cache (5 s) may hold the old settings: asked until it
        // serves the new ones.
        let wanted = serde_json::json!({"rating": "thumbs", "color": "#0f766e", "theme": "dark", "prompt": "Was this page helpful?"});
        eventually(
            "the new widget settings served",
            Duration::from_secs(10),
            || {
                let mut config = http()
                    .get(&collector.url("/v1/sites/docs/config"))
                    .call()
                    .unwrap();
                let config: serde_json::Value =
                    serde_json::from_str(&config.body_mut().read_to_string().unwrap()).unwrap();
                (config == wanted).then_some(())
            },
        );
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites/docs/widget",
                &[("csrf", &csrf), ("color", "red"), ("theme", "auto")]
            ),
            400,
            "a colour that is not #rgb is refused"
        );

        // An API token made in the dashboard reads its site, until it is revoked.
        let response = owner
            .agent
            .post(&collector.url("/admin/sites/demo/tokens"))
            .header("Cookie", &owner.cookie)
            .send_form([("csrf", csrf.as_str()), ("name", "nightly backup")])
            .unwrap();
        let token = shown_secret(&response.into_body().read_to_string().unwrap());
        assert!(token.starts_with("eshot_"), "{token}");
        assert_eq!(collector.export(Some(&token), "feedback.csv").0, 200);
        let (_, page) = owner.get(&collector, "/admin/sites/demo");
        let revoke = page
            .split("action=\"/admin/sites/demo/tokens/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap()
            .to_owned();
        assert_eq!(
            owner.post(
                &collector,
                &format!("/admin/sites/demo/tokens/{revoke}/revoke"),
                &[("csrf", &csrf)]
            ),
            303
        );
        assert_eq!(collector.export(Some(&token), "feedback.csv").0, 401);

        // A webhook: the first call fails (500) and is retried; the second succeeds. Signed.
        let response = owner
            .agent
            .post(&collector.url("/admin/sites/demo/webhooks"))
            .header("Cookie", &owner.cookie)
            .send_form([
                ("csrf", csrf.as_str()),
                ("url", receiver.url().as_str()),
                ("format", "json"),
            ])
            .unwrap();
        let secret = shown_secret(&response.into_body().read_to_string().unwrap());
        assert!(secret.starts_with("whsec_"));
        let agency = sign_in_over_http(&collector, AGENCY, PASSWORD).unwrap();
        let agency_csrf = agency.csrf.clone();
        assert_eq!(
            agency.post(
                &collector,
                "/admin/sites/demo/webhooks",
                &[
                    ("csrf", &agency_csrf),
                    ("url", "http://169.254.169.254/"),
                    ("format", "json")
                ]
            ),
            403,
            "only accounts that see every site add webhooks"
        );
        let id = submit(
            &collector,
            "demo",
            PAGE_ORIGIN,
            5,
            "Hooked",
            Some("ada@example.com"),
        );
        let calls = receiver.wait_for(2);
        let (headers, body) = &calls[1];
        let sent: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(sent["event"], "feedback.created");
        assert_eq!(sent["feedback"]["id"], id.as_str());
        assert_eq!(sent["feedback"]["comment"], "Hooked");
        let signature = header(headers, "earshot-signature");
        let (timestamp, mac) = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .unwrap();
        use hmac::Mac;
        let mut expected = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        expected.update(format!("{timestamp}.{body}").as_bytes());
        let expected: String = expected
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(mac, expected, "the signature checks out with the secret");
        assert_eq!(calls[0].1, calls[1].1, "the retry sends the same body");
        assert_eq!(header(headers, "earshot-event"), "feedback.created");
        let delivery = header(headers, "earshot-delivery");
        assert!(delivery.parse::<u64>().is_ok(), "{delivery}");
        assert_eq!(
            header(&calls[0].0, "earshot-delivery"),
            delivery,
            "a retry is the same delivery"
        );
        common::eventually(
            "the delivery log shows it delivered",
            Duration::from_secs(30),
            || {
                let (_, page) = owner.get(&collector, "/admin/sites/demo");
                page.contains("state-delivered").then_some(())
            },
        );
        // Spam is not announced.
        let spam = feedback_body(
            "Cheap watches",
            serde_json::json!({"rating": {"kind": "stars", "value": 1}, "open_ms": 10,
                               "honeypot": "http://spam.example"}),
        );
        assert_eq!(
            collector.post_feedback(&http(), PAGE_ORIGIN, &spam),
            201,
            "spam is answered like feedback (were it refused, the check below would prove nothing)"
        );
        // A submission after it is announced; by then the spam would have been too.
        let later = submit(
            &collector,
            "demo",
            PAGE_ORIGIN,
            4,
            "After the spam",
            Some("ada@example.com"),
        );
        receiver.wait_for(3);
        let calls = receiver.requests.lock().unwrap().clone();
        assert_eq!(calls.len(), 3, "no webhook for spam");
        assert!(
            calls[2].1.contains(&later),
            "the third call is the later submission"
        );

        // Erasure: everything left with one address goes, on the sites this account sees.
        submit(
            &collector,
            "demo",
            PAGE_ORIGIN,
            3,
            "Second from Ada",
            Some("ADA@example.com"),
        );
        submit(
            &collector,
            "demo",
            PAGE_ORIGIN,
            3,
            "From Bob",
            Some("bob@example.com"),
        );
        let response = owner
            .agent
            .post(&collector.url("/admin/erase"))
            .header("Cookie", &owner.cookie)
            .send_form([("csrf", csrf.as_str()), ("email", "ada@example.com")])
            .unwrap();
        assert!(
            response
                .into_body()
                .read_to_string()
                .unwrap()
                .contains("Deleted 3 submissions")
        );
        let (_, csv) = owner.get(&collector, "/admin/export.csv?site=demo");
        let rows = parse_csv(csv.as_bytes()).1;
        assert_eq!(
            rows.iter().map(|r| cell(r, "comment")).collect::<Vec<_>>(),
            ["From Bob"]
        );

        // Retention is kept per site; deleting a site needs its key typed.
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites/demo/retention",
                &[("csrf", &csrf), ("days", "30")]
            ),
            303
        );
        let (_, page) = owner.get(&collector, "/admin/sites/demo");
        assert!(page.contains("value=\"30\""));
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites/docs/delete",
                &[("csrf", &csrf), ("confirm", "nope")]
            ),
            400
        );
        assert_eq!(
            owner.post(
                &collector,
                "/admin/sites/docs/delete",
                &[("csrf", &csrf), ("confirm", "docs")]
            ),
            303
        );
        assert_eq!(owner.get(&collector, "/admin/sites/docs").0, 404);
    }
}

#[test]
fn the_inbox_pages_newest_first_and_keeps_its_filters() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = collector_with_two_sites_and(&engine, &["--rate-limit-visitor", "0"]);
        for n in 1..=27 {
            submit(
                &collector,
                "demo",
                PAGE_ORIGIN,
                4,
                &format!("Comment number {n}."),
                None,
            );
        }
        submit(&collector, "demo", PAGE_ORIGIN, 1, "Not four stars", None);
        let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
        let (_, first) = owner.get(&collector, "/admin/inbox?min_rating=4");
        assert_eq!(first.matches("<article class=\"item\"").count(), 25);
        assert!(first.contains("Comment number 27."), "newest first");
        assert!(!first.contains("Comment number 2."));
        assert!(first.contains("Page 1 of 2"));
        let older = first
            .split("rel=\"next\"")
            .next()
            .and_then(|before| before.rsplit("href=\"").next())
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .replace("&amp;", "&");
        assert_eq!(
            older, "/admin/inbox?min_rating=4&page=2",
            "the next page keeps the filter"
        );
        let (_, second) = owner.get(&collector, &older);
        assert_eq!(second.matches("<article class=\"item\"").count(), 2);
        assert!(second.contains("Comment number 1.") && second.contains("Comment number 2."));
        assert!(!second.contains("Not four stars"));
    }
}

#[test]
fn forms_need_a_session_before_anything_else_and_must_come_from_the_dashboard() {
    let collector = collector_with_two_sites(&Engine::Sqlite);
    let id = submit(&collector, "demo", PAGE_ORIGIN, 3, "Needs triage", None);
    let path = format!("/admin/feedback/{id}");
    let anonymous = no_redirects();
    // Without a live session every form is 401, whatever its body: missing fields, none at
    // all, or a made-up cookie.
    for (cookie, body) in [
        (None, "status=resolved"),
        (None, ""),
        (Some("earshot_session=made-up"), "nonsense=1"),
        (Some("earshot_session=made-up"), "csrf=x&status=resolved"),
    ] {
        let mut request = anonymous
            .post(&collector.url(&path))
            .content_type("application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let status = request.send(body).unwrap().status().as_u16();
        assert_eq!(status, 401, "{cookie:?} {body:?}");
    }

    // A signed-in owner's browser tricked into posting from another site is refused, even
    // with the right CSRF token; from the dashboard's own page it goes through.
    let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
    let form = [
        ("csrf", owner.csrf.as_str()),
        ("status", "resolved"),
        ("note", ""),
    ];
    let post = |headers: &[(&str, String)]| {
        let mut request = owner
            .agent
            .post(&collector.url(&path))
            .header("Cookie", &owner.cookie);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send_form(form).unwrap().status().as_u16()
    };
    assert_eq!(post(&[("Origin", "https://evil.example".to_owned())]), 403);
    assert_eq!(post(&[("Sec-Fetch-Site", "cross-site".to_owned())]), 403);
    assert_eq!(
        post(&[
            ("Origin", collector.origin()),
            ("Sec-Fetch-Site", "same-site".to_owned())
        ]),
        403,
        "a sibling subdomain is another site for the dashboard"
    );
    let (_, csv) = owner.get(&collector, "/admin/export.csv?site=demo&status=resolved");
    assert_eq!(parse_csv(csv.as_bytes()).1.len(), 0, "nothing changed");
    assert_eq!(
        post(&[
            ("Origin", collector.origin()),
            ("Sec-Fetch-Site", "same-origin".to_owned())
        ]),
        303
    );
    let (_, csv) = owner.get(&collector, "/admin/export.csv?site=demo&status=resolved");
    assert_eq!(parse_csv(csv.as_bytes()).1.len(), 1);
}

/// A webhook in Slack's format gets a message Slack shows as written: `{"text": …}` with the
/// site, the rating on its scale, the comment quoted, the page and the address, and `&`, `<`
/// and `>` escaped, so a visitor's text cannot become a link or a mention.
#[test]
fn a_slack_webhook_gets_a_message_slack_shows_as_written() {
    let receiver = Receiver::start(Vec::new());
    let collector = Collector::start_with(&[PAGE_ORIGIN], &["--allow-private-webhooks"]);
    collector.add_user(OWNER, PASSWORD, &[]);
    let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
    let response = owner
        .agent
        .post(&collector.url("/admin/sites/demo/webhooks"))
        .header("Cookie", &owner.cookie)
        .send_form([
            ("csrf", owner.csrf.as_str()),
            ("url", receiver.url().as_str()),
            ("format", "slack"),
        ])
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    submit(
        &collector,
        "demo",
        PAGE_ORIGIN,
        2,
        "Tea & cake <@channel> <https://evil.example|click>\nSecond line",
        Some("ada@example.com"),
    );
    let calls = receiver.wait_for(1);
    let (headers, body) = &calls[0];
    assert_eq!(header(headers, "content-type"), "application/json");
    let sent: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        sent.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["text"],
        "{body}"
    );
    assert_eq!(
        sent["text"],
        format!(
            "New feedback on Demo shop: stars 2/5\n\
             >Tea &amp; cake &lt;@channel&gt; &lt;https://evil.example|click&gt;\n>Second line\n\
             {PAGE_ORIGIN}/checkout?step=2\n\
             From ada@example.com"
        )
    );
    assert_eq!(header(headers, "earshot-event"), "feedback.created");
}

#[test]
fn webhooks_may_not_reach_this_machine_or_private_networks_unless_allowed() {
    let collector = collector_with_two_sites(&Engine::Sqlite);
    let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
    let csrf = owner.csrf.clone();
    for url in [
        "http://127.0.0.1:9/hook".to_owned(),
        format!("http://localhost:{}/hook", collector.port),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.7/hook".to_owned(),
        "http://[::1]:9/hook".to_owned(),
    ] {
        let mut response = owner
            .agent
            .post(&collector.url("/admin/sites/demo/webhooks"))
            .header("Cookie", &owner.cookie)
            .send_form([("csrf", csrf.as_str()), ("url", &url), ("format", "json")])
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{url}");
        let page = response.body_mut().read_to_string().unwrap();
        assert!(page.contains("--allow-private-webhooks"), "{url}: {page}");
    }
    let (_, page) = owner.get(&collector, "/admin/sites/demo");
    assert!(!page.contains("whsec_"), "no webhook was added");
}

#[test]
fn a_new_collector_says_how_to_make_the_first_account_and_its_root_leads_to_the_dashboard() {
    let collector = Collector::start(&[PAGE_ORIGIN]);
    let agent = no_redirects();
    let mut page = agent.get(&collector.url("/admin/login")).call().unwrap();
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("No owner account exists yet"), "{html}");
    assert!(html.contains("earshot user add"));

    // The collector's root names the product and leads to the dashboard.
    let mut root = agent.get(&collector.url("/")).call().unwrap();
    assert_eq!(root.status(), 200);
    let html = root.body_mut().read_to_string().unwrap();
    assert!(html.contains("href=\"/admin/\""), "{html}");
    // Browsers ask every page for an icon.
    let icon = agent.get(&collector.url("/favicon.ico")).call().unwrap();
    assert_eq!(icon.status(), 200);
    assert!(
        icon.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    // The API's errors stay JSON.
    let mut missing = agent.get(&collector.url("/v1/nothing")).call().unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("\"not-found\"")
    );

    // Once an account exists, the hint is gone.
    collector.add_user(OWNER, PASSWORD, &[]);
    let mut page = agent.get(&collector.url("/admin/login")).call().unwrap();
    let html = page.body_mut().read_to_string().unwrap();
    assert!(!html.contains("No owner account exists yet"));
}

/// A screenshot of `width` × `height` pixels, light grey with a black band across its top.
fn screenshot_png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |_, y| {
        if y < 40 {
            image::Rgb([0, 0, 0])
        } else {
            image::Rgb([230, 230, 230])
        }
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Turns screenshots on for `demo` and sends a submission from Ada with a 1200 × 800
/// screenshot, as the widget would; gives the submission's id.
fn feedback_with_a_screenshot(collector: &Collector) -> String {
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = submit(
        collector,
        "demo",
        PAGE_ORIGIN,
        2,
        "The pay button is grey",
        Some("ada@example.com"),
    );
    let response = no_redirects()
        .put(&collector.url(&format!("/v1/feedback/{id}/screenshot")))
        .header("Origin", PAGE_ORIGIN)
        .header("Content-Type", "image/png")
        .send(&screenshot_png(1200, 800)[..])
        .unwrap();
    assert_eq!(response.status(), 201);
    id
}

/// GET with the owner's session cookie (or none): status, headers and bytes.
fn get_bytes(
    collector: &Collector,
    cookie: Option<&str>,
    path: &str,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let mut request = no_redirects().get(&collector.url(path));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_vec().unwrap_or_default();
    (status, headers, body)
}

/// A screenshot a visitor attached: on its feedback's page as a thumbnail that opens the
/// image in a page of the dashboard, and named in the inbox by what it opens; served only
/// to owners who may see the site, under a policy that lets it do nothing; gone with its
/// feedback. On both engines.
#[test]
fn screenshots_are_shown_to_the_sites_owners_only_and_go_with_their_feedback() {
    for engine in Engine::all() {
        eprintln!("on {}", engine.name());
        let collector = collector_with_two_sites(&engine);
        let id = feedback_with_a_screenshot(&collector);

        let owner = sign_in_over_http(&collector, OWNER, PASSWORD).unwrap();
        let (status, page) = owner.get(&collector, &format!("/admin/feedback/{id}"));
        assert_eq!(status, 200);
        let thumbnail_path = format!("/admin/feedback/{id}/screenshot/thumbnail");
        let image_path = format!("/admin/feedback/{id}/screenshot");
        let view_path = format!("/admin/feedback/{id}/screenshot/view");
        assert!(
            page.contains(&format!("href=\"{view_path}\""))
                && page.contains(&format!("src=\"{thumbnail_path}\""))
                && page.contains("width=\"320\" height=\"213\""),
            "{page}"
        );
        // The full image opens in a page of the dashboard (the browser's own viewer cannot
        // style an image served under the image's policy), at its size, with the way back.
        let (status, view) = owner.get(&collector, &view_path);
        assert_eq!(status, 200);
        assert!(
            view.contains(&format!(
                "src=\"{image_path}\" width=\"1200\" height=\"800\""
            )) && view.contains(&format!("href=\"/admin/feedback/{id}\"")),
            "{view}"
        );
        for (path, size) in [(&image_path, (1200, 800)), (&thumbnail_path, (320, 213))] {
            let (status, headers, bytes) = get_bytes(&collector, Some(&owner.cookie), path);
            assert_eq!(status, 200, "{path}");
            assert_eq!(headers["content-type"], "image/png");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(
                headers["content-security-policy"],
                "default-src 'none'; sandbox"
            );
            let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
            assert_eq!(image.dimensions(), size, "{path}");
            // The black band is where it was.
            assert_eq!(image.get_pixel(size.0 / 2, 2).0, [0, 0, 0], "{path}");
            assert_eq!(image.get_pixel(size.0 / 2, size.1 - 2).0, [230, 230, 230]);
        }

        // The inbox says which submissions have one.
        let (status, inbox) = owner.get(&collector, "/admin/inbox?site=demo");
        assert_eq!(status, 200);
        assert!(
            inbox.contains(&format!("href=\"{view_path}\">View the screenshot</a>")),
            "{inbox}"
        );

        // An account of another site, and nobody signed in, get nothing.
        let agency = sign_in_over_http(&collector, AGENCY, PASSWORD).unwrap();
        for path in [&image_path, &thumbnail_path, &view_path] {
            assert_eq!(get_bytes(&collector, Some(&agency.cookie), path).0, 404);
            let (status, _, body) = get_bytes(&collector, None, path);
            assert_ne!(status, 200, "{path} without a session");
            assert!(image::load_from_memory(&body).is_err());
        }

        // Exports link to it, for the owner's eyes only; submissions without one leave the
        // cell empty.
        submit(&collector, "demo", PAGE_ORIGIN, 5, "No picture", None);
        let link = collector.url(&image_path);
        let (status, csv) = owner.get(&collector, "/admin/export.csv?site=demo");
        assert_eq!(status, 200);
        let (_, rows) = parse_csv(csv.as_bytes());
        let cells: Vec<(&str, &str)> = rows
            .iter()
            .map(|row| (cell(row, "id"), cell(row, "screenshot")))
            .collect();
        assert!(cells.contains(&(id.as_str(), link.as_str())), "{cells:?}");
        assert_eq!(cells.iter().filter(|(_, link)| link.is_empty()).count(), 1);
        let token = collector.create_token(Some("demo"));
        let (status, jsonl) = collector.export(Some(&token), "feedback.jsonl");
        assert_eq!(status, 200);
        let records: Vec<serde_json::Value> = String::from_utf8(jsonl)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let with = records.iter().find(|r| r["id"] == id.as_str()).unwrap();
        assert_eq!(with["screenshot"], link.as_str());
        assert!(records.iter().any(|r| r["screenshot"].is_null()));

        // The visitor's erasure takes it along.
        let out = collector.cli(&["erase", "ada@example.com"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            get_bytes(&collector, Some(&owner.cookie), &image_path).0,
            404
        );
    }
}

/// In Chromium: the thumbnail shows on the feedback's page under the dashboard's own CSP,
/// and opens the full image in a page of the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_the_screenshot_on_the_feedbacks_page() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let collector = collector_with_two_sites(&Engine::Sqlite);
    let id = feedback_with_a_screenshot(&collector);

    sign_in(&browser, &collector, OWNER).await;
    browser
        .client
        .goto(&collector.url(&format!("/admin/feedback/{id}")))
        .await
        .unwrap();
    browser
        .wait_for(
            "const img = document.querySelector('a.screenshot img');
             return !!img && img.complete && img.naturalWidth === 320 && img.naturalHeight === 213;",
            "the thumbnail, loaded",
        )
        .await;
    browser.screenshot("dashboard-screenshot").await;
    browser
        .client
        .find(Locator::Css("a.screenshot"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "const img = document.querySelector('figure.full-shot img');
             return location.pathname.endsWith('/screenshot/view') && !!img && img.complete
                 && img.naturalWidth === 1200;",
            "the full image, in the dashboard's page for it",
        )
        .await;
    browser.close().await;
}

/// The text of the first element `css` finds.
async fn text_of(browser: &Browser, css: &str) -> String {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `2026-12-08 14:03 Zone/Name` → (the minute of the day, the zone's name).
fn minute_and_zone(shown: &str) -> (i32, String) {
    let mut parts = shown.split(' ');
    let (_day, time, zone) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
    let (hours, minutes) = time.split_once(':').unwrap();
    (
        hours.parse::<i32>().unwrap() * 60 + minutes.parse::<i32>().unwrap(),
        zone.to_owned(),
    )
}

/// What the inbox, the feedback's page and the site's page show as the feedback's time, the
/// conversation's first message's line, and the site's token's creation.
async fn times_shown(
    browser: &Browser,
    collector: &Collector,
    id: &str,
) -> (String, String, String) {
    browser
        .client
        .goto(&collector.url("/admin/inbox"))
        .await
        .unwrap();
    let listed = text_of(browser, ".item a.when").await;
    browser
        .client
        .goto(&collector.url(&format!("/admin/feedback/{id}")))
        .await
        .unwrap();
    let thread = text_of(browser, "#thread .who").await;
    browser
        .client
        .goto(&collector.url("/admin/sites/demo"))
        .await
        .unwrap();
    let created = text_of(browser, "table.tokens td[data-label=Created]").await;
    (listed, thread, created)
}

/// An owner picks their time zone on their account page; the inbox, the feedback's page and
/// the site's page then show each time in it, the zone named. At a phone's width the site's
/// tokens and webhooks are one card per row, like the other tables, and nothing scrolls
/// sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_in_the_owners_zone_and_a_sites_tables_stack_on_a_phone() {
    let Some(browser) = browser::start().await else {
        return;
    };
    for engine in Engine::all() {
        let collector = collector_with_two_sites_and(&engine, &["--allow-private-webhooks"]);
        let id = submit(
            &collector,
            "demo",
            PAGE_ORIGIN,
            4,
            "What time is it there?",
            Some("visitor@example.com"),
        );
        let token = collector.create_token(Some("demo"));
        sign_in(&browser, &collector, OWNER).await;
        let (listed, thread, _) = times_shown(&browser, &collector, &id).await;
        assert!(listed.ends_with(" UTC"), "{listed}");
        assert!(thread.ends_with(&listed), "{thread}");

        // India is 5 h 30 ahead of UTC all year.
        browser
            .client
            .goto(&collector.url("/admin/account"))
            .await
            .unwrap();
        assert_eq!(
            browser
                .client
                .execute(
                    "const zone = document.querySelector('#time_zone');
                     return [zone.value, zone.options.length > 300];",
                    vec![]
                )
                .await
                .unwrap(),
            serde_json::json!(["UTC", true])
        );
        browser
            .client
            .execute(
                "document.querySelector('#time_zone').value = 'Asia/Kolkata';",
                vec![],
            )
            .await
            .unwrap();
        submit_form(
            &browser,
            "form[action='/admin/account'] button[type=submit]",
        )
        .await;
        browser
            .wait_for(
                "return !!document.querySelector('p.notice');",
                "the account page, saved",
            )
            .await;
        assert_eq!(text_of(&browser, "p.notice").await, "Saved.");
        assert_eq!(
            browser
                .client
                .execute("return document.querySelector('#time_zone').value;", vec![])
                .await
                .unwrap(),
            "Asia/Kolkata"
        );

        let (in_zone, thread_in_zone, created) = times_shown(&browser, &collector, &id).await;
        let (utc, _) = minute_and_zone(&listed);
        let (local, zone) = minute_and_zone(&in_zone);
        assert_eq!(zone, "Asia/Kolkata", "{in_zone}");
        assert_eq!(
            local,
            (utc + 5 * 60 + 30) % (24 * 60),
            "{listed} → {in_zone}"
        );
        assert!(thread_in_zone.ends_with(&in_zone), "{thread_in_zone}");
        assert!(created.ends_with(" Asia/Kolkata"), "{created}");
        // Exports keep UTC: `2026-12-08 13:03 UTC` is `2026-12-08T13:03:…Z` there.
        let (_, csv) = collector.export(Some(&token), "feedback.csv");
        let csv = String::from_utf8(csv).unwrap();
        let utc_minute = listed.trim_end_matches(" UTC").replace(' ', "T");
        assert!(csv.contains(&utc_minute), "{utc_minute} in {csv}");

        // A webhook with a long address, then the site's page on a phone and a desktop.
        browser
            .client
            .execute(
                "document.querySelector('#hook-url').value = arguments[0];",
                vec![serde_json::json!(
                    "http://127.0.0.1:9/hooks/services/T00000000/B00000000/a-rather-long-secret-path"
                )],
            )
            .await
            .unwrap();
        submit_form(&browser, "form[action$='/webhooks'] button[type=submit]").await;
        browser
            .wait_for(
                "return !!document.querySelector('table.webhooks');",
                "the webhook, listed",
            )
            .await;
        for (width, height) in [(375, 812), (1280, 860)] {
            browser.client.set_window_size(width, height).await.unwrap();
            let stacked = browser
                .client
                .execute(
                    "return [document.documentElement.scrollWidth <= window.innerWidth,
                             getComputedStyle(document.querySelector('table.tokens tbody tr')).display,
                             getComputedStyle(document.querySelector('table.webhooks tbody tr')).display];",
                    vec![],
                )
                .await
                .unwrap();
            let rows = if width < 640 { "block" } else { "table-row" };
            assert_eq!(
                stacked,
                serde_json::json!([true, rows, rows]),
                "the site's page at {width} px"
            );
            browser
                .client
                .execute(
                    "document.querySelector('table.tokens').scrollIntoView();",
                    vec![],
                )
                .await
                .unwrap();
            browser
                .screenshot(&format!("site-tables-{width}px-{}", engine.name()))
                .await;
        }
        browser.client.set_window_size(1280, 860).await.unwrap();
        // The statistics count UTC days, for every owner alike, and say so.
        browser
            .client
            .goto(&collector.url("/admin/stats"))
            .await
            .unwrap();
        let hint = text_of(&browser, "form.filters + p.hint").await;
        assert!(
            hint.contains("UTC") && hint.contains("Asia/Kolkata"),
            "{hint}"
        );
    }
    browser.close().await;
}
