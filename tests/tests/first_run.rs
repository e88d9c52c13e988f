//! The owner's first hour, in Chromium against the real binary on an empty database: the
//! set-up link from the log, the owner and the first site, feedback sent through the demo
//! page, and signing in again to read it. Along the way every dashboard page is checked with
//! axe-core and at a phone's width (375 px), and screenshots are saved under `target/e2e/`.

mod common;

use std::time::Duration;

use common::browser::{self, Browser};
use common::collector::{Collector, http};
use common::host_site::{HostOptions, HostSite};
use fantoccini::Locator;

const EMAIL: &str = "owner@shop.example";
const PASSWORD: &str = "first-owner-password";
const COMMENT: &str = "The checkout button hides behind the cookie banner.";

/// The set-up link `earshot serve` printed, read from its log.
fn setup_link(collector: &Collector) -> String {
    common::eventually(
        "the set-up link in the log",
        Duration::from_secs(10),
        || {
            let log = collector.log();
            let start = log.find("http://127.0.0.1")?;
            let link: String = log[start..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            link.contains("/admin/setup?token=").then_some(link)
        },
    )
}

async fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn submit(browser: &Browser) {
    browser
        .client
        .find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the browser is on a page whose path starts with `path`.
async fn wait_for_path(browser: &Browser, path: &str) {
    browser
        .wait_for(
            &format!(
                "return location.pathname.startsWith({});",
                serde_json::json!(path)
            ),
            &format!("a page under {path}"),
        )
        .await;
}

/// axe-core finds nothing on the page, and at a phone's width nothing is wider than the
/// screen; `name` is the screenshot's.
async fn check_page(browser: &Browser, collector: &Collector, path: &str, name: &str) {
    browser.client.set_window_size(1280, 860).await.unwrap();
    browser.client.goto(&collector.url(path)).await.unwrap();
    let violations = browser.axe_page_violations().await;
    assert!(violations.is_empty(), "{path}: {violations:#?}");
    browser.client.set_window_size(375, 740).await.unwrap();
    browser.client.refresh().await.unwrap();
    let widths = browser
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(
        scroll <= inner,
        "{path} scrolls sideways on a phone: {scroll} px of content in {inner} px"
    );
    browser.screenshot(&format!("phone-{name}")).await;
    browser.client.set_window_size(1280, 860).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_owner_sets_up_from_the_log_and_reads_the_first_feedback() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let collector = Collector::start_empty();
    let link = setup_link(&collector);
    assert!(link.starts_with(&collector.origin()), "{link}");

    // Without the token, or with a wrong one, nobody can create the first account.
    let agent = http();
    let mut wrong = agent
        .get(&collector.url("/admin/setup?token=0000"))
        .call()
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert!(
        wrong
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("not valid")
    );
    let forged = agent
        .post(&collector.url("/admin/setup"))
        .send_form([
            ("token", "0000"),
            ("email", "stranger@evil.example"),
            ("password", "stranger-password"),
            ("password_again", "stranger-password"),
            ("site_name", "Mine"),
            ("origins", "https://evil.example"),
        ])
        .unwrap();
    assert_eq!(forged.status(), 403);

    // The sign-in page says how to begin.
    browser
        .client
        .goto(&collector.url("/admin/login"))
        .await
        .unwrap();
    let notice = browser.text("[role=note]").await;
    assert!(notice.contains("set-up link"), "{notice}");
    check_page(&browser, &collector, "/admin/login", "sign-in").await;

    // The set-up page: a mistake keeps what was typed and says what is wrong.
    let port = common::free_port();
    let shop_origin = format!("http://localhost:{port}");
    let setup_path = &link[collector.origin().len()..];
    check_page(&browser, &collector, setup_path, "setup").await;
    browser.client.goto(&link).await.unwrap();
    fill(&browser, "#email", EMAIL).await;
    fill(&browser, "#password", PASSWORD).await;
    fill(&browser, "#password_again", "something-else-entirely").await;
    fill(&browser, "#site_name", "Tea shop").await;
    fill(&browser, "#origins", &shop_origin).await;
    submit(&browser).await;
    let error = browser.text("[role=alert]").await;
    assert_eq!(error, "The two passwords differ.");
    fill(&browser, "#password", PASSWORD).await;
    fill(&browser, "#password_again", PASSWORD).await;
    submit(&browser).await;

    // It ends on the new site's page, signed in, with the snippet to paste.
    wait_for_path(&browser, "/admin/sites/").await;
    let snippet = browser
        .client
        .find(Locator::Css("#snippet"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let key = snippet
        .split("data-site=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(
        snippet.contains(&format!("src=\"{}/earshot.js\"", collector.origin())),
        "{snippet}"
    );
    let site_path = format!("/admin/sites/{key}");

    // The link is used up: a second account cannot be made with it.
    let mut again = agent.get(&link).call().unwrap();
    assert_eq!(again.status(), 200, "redirected to sign in");
    let page = again.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("action=\"/admin/login\"") && !page.contains("set-up link"),
        "{page}"
    );

    // A visitor leaves feedback through the demo page, which carries the new snippet.
    let shop = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            site: Some(key.clone()),
            ..Default::default()
        },
    );
    browser.client.goto(&shop.url()).await.unwrap();
    assert_eq!(browser.leave_feedback(COMMENT).await, "Thank you!");

    // The owner signs out, signs in again and reads it.
    browser
        .client
        .goto(&collector.url("/admin/inbox"))
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("form[action='/admin/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&browser, "/admin/login").await;
    fill(&browser, "#email", EMAIL).await;
    fill(&browser, "#password", PASSWORD).await;
    submit(&browser).await;
    wait_for_path(&browser, "/admin/inbox").await;
    let comment = browser.text(".item .comment").await;
    assert_eq!(comment, COMMENT);

    // The submission's own page, from the inbox.
    let item_path = browser
        .client
        .find(Locator::Css(".item a.when"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();

    // Every dashboard page: no axe violation, nothing wider than a phone.
    for (path, name) in [
        ("/admin/inbox", "inbox"),
        (item_path.as_str(), "feedback"),
        ("/admin/stats", "stats"),
        ("/admin/sites", "sites"),
        (site_path.as_str(), "site"),
        ("/admin/erase", "erase"),
        ("/admin/account", "account"),
    ] {
        check_page(&browser, &collector, path, name).await;
    }
    browser.close().await;
}
