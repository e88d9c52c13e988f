//! No harm to the host page, and no harm from it: the widget works under a strict
//! Content-Security-Policy, under a hostile global stylesheet, and on a phone. Each test
//! leaves a screenshot under target/e2e/ for people to look at.

mod common;

use std::time::Duration;

use common::browser::{self, Browser, displayed};
use common::collector::Collector;
use common::host_site::{HostOptions, HostSite, shop_with_collector};
use common::{cell, parse_csv};

/// What the visitor reads when their feedback is kept because the collector did not answer.
const UNREACHABLE: &str =
    "We could not reach the feedback service; your feedback is kept and will be sent.";
/// What they read when the browser itself is offline.
const OFFLINE: &str = "You seem to be offline. Your feedback is kept in this browser and will be sent as soon as the connection is back.";

fn comments_stored(collector: &Collector) -> Vec<String> {
    let token = collector.create_token(None);
    let (status, csv) = collector.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200);
    parse_csv(&csv)
        .1
        .iter()
        .map(|row| cell(row, "comment").to_owned())
        .collect()
}

/// Waits until the browser's offline queue has been sent (it is emptied as the collector
/// acknowledges each submission).
async fn wait_for_empty_queue(browser: &Browser) {
    browser
        .wait_for(
            "return Object.keys(localStorage).filter(k => k.startsWith('earshot-queue:')).length === 0;",
            "the queue is sent",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_works_under_a_strict_content_security_policy() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = common::free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let c = collector.origin();
    // The policy a careful site would send: nothing inline, no eval, only the collector.
    let csp = format!(
        "default-src 'none'; script-src {c} 'wasm-unsafe-eval'; style-src 'self' {c}; \
         connect-src {c}; img-src 'self' {c}"
    );
    let shop = HostSite::start_with(
        port,
        &c,
        HostOptions {
            csp: Some(csp),
            // The accent arrives as CSSOM custom properties, which CSP allows (a style
            // attribute would be reported).
            snippet_attributes: r##"data-color="#0f766e" data-theme="dark""##.into(),
            ..Default::default()
        },
    );

    browser.client.goto(&shop.url()).await.unwrap();
    assert_eq!(
        browser.leave_feedback("Works under CSP").await,
        "Thank you!"
    );
    browser.screenshot("csp-strict").await;
    assert_eq!(comments_stored(&collector), ["Works under CSP"]);

    // No CSP violations. So that this cannot pass only because a report is still on its way,
    // break the policy on purpose after the widget is done (an image from a marked host) and
    // wait for that report: by then any report from the widget's violations, sent earlier,
    // has arrived too.
    browser
        .client
        .execute(
            "new Image().src = 'http://csp-marker.invalid/after-the-widget.png';",
            vec![],
        )
        .await
        .unwrap();
    let reports = common::eventually_async(
        "the CSP report for the marked image",
        Duration::from_secs(10),
        || {
            let reports = shop.csp_reports.lock().unwrap();
            reports
                .iter()
                .any(|report| report.contains("csp-marker.invalid"))
                .then(|| reports.clone())
        },
    )
    .await;
    assert_eq!(
        reports.len(),
        1,
        "no CSP violations but the marked image: {reports:?}"
    );

    // The reports do arrive when something breaks the policy as a widget might: an inline
    // style.
    browser
        .client
        .execute(
            "const s = document.createElement('style'); s.textContent = 'body{}'; document.head.append(s);",
            vec![],
        )
        .await
        .unwrap();
    let reports = common::eventually_async(
        "a CSP report for the inline style",
        Duration::from_secs(10),
        || {
            let reports = shop.csp_reports.lock().unwrap();
            (reports.len() > 1).then(|| reports.clone())
        },
    )
    .await;
    assert_eq!(
        reports.len(),
        2,
        "the violation detector works: {reports:?}"
    );
    assert!(reports[1].contains("style-src"), "{}", reports[1]);
    browser.close().await;
}

/// What the page heard of the widget, recorded from the start of every page the tab loads
/// (the pages below allow no script of theirs).
const LISTEN: &str = "window.heard = [];
     for (const name of ['open', 'close', 'submit', 'error']) {
       document.addEventListener('earshot:' + name, e => window.heard.push([name, e.detail]));
     }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_page_blocks_webassembly_the_launcher_opens_the_widget_in_a_window() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let ports = [common::free_port(), common::free_port()];
    let collector = Collector::start(&[
        &format!("http://localhost:{}", ports[0]),
        &format!("http://localhost:{}", ports[1]),
    ]);
    let c = collector.origin();
    // The strictest policies that still let the loader run: no 'wasm-unsafe-eval', and
    // frames from nowhere (by default-src, then said outright).
    let strict = format!("default-src 'none'; script-src {c}; style-src {c}; connect-src {c}");
    let policies = [strict.clone(), format!("{strict}; frame-src 'none'")];
    browser.run_on_every_page(LISTEN).await;

    // The second page's visitor reads German: the window fetches the texts as the loader
    // would.
    let languages = [&earshot_shared::texts::EN, &earshot_shared::texts::DE];
    for ((port, csp), texts) in ports.into_iter().zip(policies).zip(languages) {
        let shop = HostSite::start_with(
            port,
            &c,
            HostOptions {
                csp: Some(csp.clone()),
                snippet_attributes: format!(r##"data-color="#0f766e" data-lang="{}""##, texts.lang),
                ..Default::default()
            },
        );
        browser.client.goto(&shop.url()).await.unwrap();
        // What the page says of its visitor reaches the window.
        browser
            .wait_for("return !!window.earshot", "the loader")
            .await;
        browser
            .client
            .execute(
                "earshot.setUser({ id: 'customer-7', email: 'ada@example.com' });
                 earshot.setMetadata({ plan: 'pro' });",
                vec![],
            )
            .await
            .unwrap();
        browser.click_launcher().await;
        let page = browser.switch_to_new_window().await;
        let url = browser.client.current_url().await.unwrap();
        assert_eq!(
            url.as_str(),
            collector.url("/widget/window?site=demo"),
            "{csp}"
        );
        // The widget, open, in the page's language, with the focus on the rating.
        let widget = browser.widget().await;
        displayed(&widget, "[role=dialog]").await;
        assert_eq!(
            browser.client.title().await.unwrap(),
            format!("{} · Demo shop", texts.launcher),
            "the window names the site"
        );
        assert_eq!(
            displayed(&widget, ".panel-title")
                .await
                .text()
                .await
                .unwrap(),
            texts.title
        );
        browser
            .wait_for(
                "return document.querySelector('earshot-widget').shadowRoot.activeElement?.name === 'earshot-rating'",
                "the focus on the rating",
            )
            .await;
        browser
            .press(&[
                fantoccini::key::Key::Space,
                fantoccini::key::Key::Right,
                fantoccini::key::Key::Right,
            ])
            .await;
        browser
            .screenshot(&format!("csp-no-wasm-window-{port}-form"))
            .await;
        let comment = format!("Sent from the window ({port})");
        assert_eq!(
            browser.leave_feedback_in_open_panel(&comment).await,
            texts.thanks_title
        );
        browser
            .screenshot(&format!("csp-no-wasm-window-{port}"))
            .await;
        // Closing the dialog closes the window; the page is back.
        displayed(&widget, ".panel-header .icon-button")
            .await
            .click()
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while browser.client.windows().await.unwrap().len() > 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the window stays open"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        browser.client.switch_to_window(page).await.unwrap();

        // The page heard what it hears of the widget on its own: that it is in a window,
        // then open, submit (with the id that was stored) and close.
        browser
            .wait_for("return window.heard.length >= 4", "the events")
            .await;
        let (names, heard) = browser.heard().await;
        assert_eq!(names, ["error", "open", "submit", "close"], "{heard}");
        assert_eq!(heard[0][1]["code"], "wasm-blocked");
        assert_eq!(heard[0][1]["fallback"], "window");
        assert_eq!(heard[2][1]["rating"], 3);
        assert_eq!(heard[2][1]["queued"], false);

        // Stored for the page the visitor was on, not for the collector's window.
        let token = collector.create_token(None);
        let (status, csv) = collector.export(Some(&token), "feedback.csv");
        assert_eq!(status, 200);
        let csv = String::from_utf8(csv).unwrap();
        let rows = parse_csv(csv.as_bytes()).1;
        let row = rows
            .iter()
            .find(|row| cell(row, "comment") == comment)
            .unwrap_or_else(|| panic!("{comment:?} was not stored: {csv}"));
        assert_eq!(cell(row, "page_url"), shop.url(), "{csv}");
        assert_eq!(cell(row, "id"), heard[2][1]["id"].as_str().unwrap());
        assert_eq!(cell(row, "rating"), "3");
        assert_eq!(cell(row, "user_id"), "customer-7");
        assert_eq!(cell(row, "email"), "ada@example.com");
        assert_eq!(cell(row, "metadata"), r#"{"plan":"pro"}"#);
        // The viewport is the page's, not the small window's.
        let viewport = browser
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        assert_eq!(
            (cell(row, "viewport_width"), cell(row, "viewport_height")),
            (
                viewport[0].to_string().as_str(),
                viewport[1].to_string().as_str()
            ),
            "{csv}"
        );
    }

    // A script opening it with no click behind it: the browser's popup blocker stops the
    // window, and the page hears why.
    browser
        .client
        .execute("window.heard = []; earshot.open();", vec![])
        .await
        .unwrap();
    browser
        .wait_for(
            "return window.heard.length === 1",
            "the popup-blocked error",
        )
        .await;
    let (names, heard) = browser.heard().await;
    assert_eq!(names, ["error"]);
    assert_eq!(heard[0][1]["code"], "popup-blocked", "{heard}");
    assert_eq!(browser.client.windows().await.unwrap().len(), 1);
    browser.close().await;
}

/// An inline block on a page that blocks WebAssembly: its question, and a button that opens
/// the window, where the question is answered on its yes-or-no scale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_page_blocks_webassembly_an_inline_block_asks_through_the_window() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = common::free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let c = collector.origin();
    let guide = HostSite::start_with(
        port,
        &c,
        HostOptions {
            csp: Some(format!(
                "default-src 'none'; script-src {c}; style-src {c}; connect-src {c}"
            )),
            page: Some("brewing.html"),
            ..Default::default()
        },
    );
    browser.client.goto(&guide.url()).await.unwrap();
    let widget = browser.widget().await;
    let question = displayed(&widget, ".window-question").await;
    assert_eq!(question.text().await.unwrap(), "Was this page helpful?");
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "the block in place of the widget"
    );
    browser.screenshot("csp-no-wasm-inline").await;
    displayed(&widget, ".window-block button")
        .await
        .click()
        .await
        .unwrap();
    browser.switch_to_new_window().await;
    let window = browser.widget().await;
    displayed(&window, "[role=dialog]").await;
    let answers = window
        .find_all(fantoccini::Locator::Css("input[name=earshot-rating]"))
        .await
        .unwrap();
    assert_eq!(answers.len(), 2, "yes or no");
    displayed(&window, "label[for=earshot-thumbs-1]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        browser
            .leave_feedback_in_open_panel("Helpful, from the window")
            .await,
        "Thank you!"
    );
    let token = collector.create_token(None);
    let (status, csv) = collector.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200);
    let rows = parse_csv(&csv).1;
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "rating_kind"), "thumbs");
    assert_eq!(cell(&rows[0], "page_url"), guide.url());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_looks_and_works_as_usual_under_hostile_page_styles() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_with_collector(HostOptions {
        hostile_css: true,
        ..Default::default()
    });

    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget_ready().await;
    let launcher = displayed(&widget, "button.launcher").await;
    let rect = launcher.rectangle().await.unwrap();
    // (x, y, width, height): the usual pill in the corner, not blown up by html{font-size:40px}.
    assert!(rect.3 > 30.0 && rect.3 < 60.0, "launcher height {}", rect.3);
    assert!(rect.2 > 80.0 && rect.2 < 200.0, "launcher width {}", rect.2);
    assert_eq!(browser.leave_feedback("Still works").await, "Thank you!");
    browser.screenshot("hostile-css").await;
    assert_eq!(comments_stored(&collector), ["Still works"]);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_fits_a_phone() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (_collector, shop) = shop_with_collector(HostOptions::default());
    browser.client.set_window_size(375, 667).await.unwrap();

    browser.client.goto(&shop.url()).await.unwrap();
    browser.open_panel().await;
    let fits = browser
        .client
        .execute(
            "const r = document.querySelector('earshot-widget').shadowRoot
                 .querySelector('.panel-wrap').getBoundingClientRect();
             return [r.left, r.right, r.top, r.bottom, innerWidth, innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let v: Vec<f64> = fits
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_f64().unwrap())
        .collect();
    let (left, right, top, bottom, width, height) = (v[0], v[1], v[2], v[3], v[4], v[5]);
    assert!(width <= 400.0, "a phone-sized viewport: {width}");
    assert!(
        left >= 0.0 && right <= width,
        "the panel fits across: {left}..{right} of {width}"
    );
    assert!(
        top >= 0.0 && bottom <= height,
        "the panel fits down: {top}..{bottom} of {height}"
    );
    browser.screenshot("phone-panel").await;
    browser.client.set_window_size(1280, 860).await.unwrap();
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_given_while_the_collector_is_down_is_sent_once_when_it_is_back() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (mut collector, shop) = shop_with_collector(HostOptions::default());
    browser.client.goto(&shop.url()).await.unwrap();
    // The widget is loaded (at idle) before the collector goes away.
    let widget = browser.widget_ready().await;
    displayed(&widget, "button.launcher").await;

    collector.kill_9();
    assert_eq!(
        browser.leave_feedback("Sent while you were down").await,
        "Saved for later"
    );
    // The browser is online: it is the service that is away, not the visitor's connection.
    assert_eq!(
        displayed(&widget, ".thanks-body")
            .await
            .text()
            .await
            .unwrap(),
        UNREACHABLE
    );
    assert_eq!(
        browser.focus_in_widget().await,
        "H3.thanks-title: Saved for later",
        "the focus is on the news, not lost to the page"
    );
    browser.screenshot("offline-queued").await;
    let queued = browser
        .client
        .execute(
            "return Object.keys(localStorage).filter(k => k.startsWith('earshot-queue:')).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queued, 1, "kept in the browser");

    collector.restart();
    browser.client.refresh().await.unwrap();
    browser.widget().await;
    wait_for_empty_queue(&browser).await;
    // The page from before the reload may have retried too: still one row. So that this
    // cannot pass only because such a retry is still on its way, send new feedback from this
    // page first: once it is stored, a retry sent before the reload would have been too.
    assert_eq!(
        browser.leave_feedback("After the reload").await,
        "Thank you!"
    );
    assert_eq!(
        comments_stored(&collector),
        ["Sent while you were down", "After the reload"]
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_given_offline_is_kept_and_sent_when_the_connection_is_back() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_with_collector(HostOptions::default());
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget_ready().await;
    displayed(&widget, "button.launcher").await;

    browser.set_offline(true).await;
    assert_eq!(
        browser.leave_feedback("Written on a train").await,
        "Saved for later"
    );
    assert_eq!(
        displayed(&widget, ".thanks-body")
            .await
            .text()
            .await
            .unwrap(),
        OFFLINE
    );
    browser.screenshot("offline-browser").await;

    // The browser's `online` event sends it at once, without a reload.
    browser.set_offline(false).await;
    wait_for_empty_queue(&browser).await;
    assert_eq!(comments_stored(&collector), ["Written on a train"]);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_page_app_gets_the_url_of_the_page_the_visitor_is_on_and_a_chosen_corner() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_with_collector(HostOptions {
        snippet_attributes: r#"data-position="top-left""#.into(),
        ..Default::default()
    });
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget_ready().await;
    let (x, y, _, _) = displayed(&widget, "button.launcher")
        .await
        .rectangle()
        .await
        .unwrap();
    assert!(
        x < 100.0 && y < 100.0,
        "the launcher is in the top-left corner: ({x}, {y})"
    );

    // The app navigates without a page load, as single-page apps do.
    browser
        .client
        .execute(
            "history.pushState({}, '', '/tea/darjeeling?ref=newsletter')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        browser.leave_feedback("After navigating").await,
        "Thank you!"
    );
    browser.screenshot("top-left").await;

    let token = collector.create_token(None);
    let (_, csv) = collector.export(Some(&token), "feedback.csv");
    let (_, rows) = parse_csv(&csv);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        cell(&rows[0], "page_url"),
        format!("{}tea/darjeeling?ref=newsletter", shop.url())
    );
    browser.close().await;
}
