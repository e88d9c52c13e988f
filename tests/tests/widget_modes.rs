//! The widget's kinds, modes and page API in Chromium, end to end: each rating scale chosen
//! by the site's settings or the snippet and stored on its scale; the inline block on a
//! documentation page; `window.earshot` and its events, with the user and metadata landing
//! in the export; accents of any colour kept readable; the wasm fetched only when needed.
//! Screenshots go to target/e2e/.

mod common;

use common::browser::{self, Browser, displayed};
use common::collector::Collector;
use common::host_site::{HostOptions, HostSite};
use common::{cell, free_port, parse_csv};
use fantoccini::key::Key;

fn export_rows(collector: &Collector) -> Vec<csv::StringRecord> {
    let token = collector.create_token(Some("demo"));
    let (status, csv) = collector.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200);
    parse_csv(&csv).1
}

/// The ids of the site's stored submissions, as exported.
fn exported_ids(collector: &Collector) -> Vec<String> {
    export_rows(collector)
        .iter()
        .map(|row| cell(row, "id").to_owned())
        .collect()
}

fn site_widget(collector: &Collector, args: &[&str]) {
    let out = collector.cli(&[&["site", "widget", "demo"][..], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rating_kind_is_shown_accessible_and_stored_on_its_scale() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let ports = [free_port(), free_port(), free_port()];
    let origins = ports.map(|port| format!("http://localhost:{port}"));
    let collector = Collector::start(&origins.each_ref().map(String::as_str));
    // The site asks for NPS; a snippet's data-rating wins over that.
    site_widget(&collector, &["--rating", "nps"]);

    let cases = [
        ("", "nps", 11, "How likely are you to recommend us", 3),
        (
            r#"data-rating="thumbs""#,
            "thumbs",
            2,
            "Was this page helpful?",
            0,
        ),
        (
            r#"data-rating="emoji""#,
            "emoji",
            5,
            "How was your visit?",
            2,
        ),
    ];
    for ((attributes, kind, choices, question, expected), port) in cases.into_iter().zip(ports) {
        let shop = HostSite::start_with(
            port,
            &collector.origin(),
            HostOptions {
                snippet_attributes: attributes.to_owned(),
                ..Default::default()
            },
        );
        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.open_panel().await;
        let title = displayed(&widget, ".panel-title").await;
        assert!(
            title.text().await.unwrap().starts_with(question),
            "{kind}: the question fits the scale"
        );
        let radios = widget
            .find_all(fantoccini::Locator::Css("input[name=earshot-rating]"))
            .await
            .unwrap();
        assert_eq!(radios.len(), choices, "{kind}");
        // The first choice has the focus; Space picks it, each arrow moves to the next one.
        let mut keys = vec![Key::Space];
        let steps = if kind == "thumbs" { 1 } else { expected };
        keys.extend(std::iter::repeat_n(Key::Right, steps));
        browser.press(&keys).await;
        // The chosen answer stands out from the others.
        let looks = browser
            .client
            .execute(
                "const root = document.querySelector('earshot-widget').shadowRoot;
                 const chosen = root.querySelectorAll('label.choice[data-selected]');
                 const other = root.querySelector('label.choice:not([data-selected])');
                 return [chosen.length, getComputedStyle(chosen[0]).backgroundColor,
                         getComputedStyle(other).backgroundColor];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(looks[0], 1, "{kind}: one answer chosen");
        assert_ne!(
            looks[1], looks[2],
            "{kind}: the chosen answer is highlighted"
        );
        assert_eq!(
            browser.axe_violations().await,
            Vec::<String>::new(),
            "{kind}: axe, panel open and rated"
        );
        browser.screenshot(&format!("rating-{kind}")).await;
        assert_eq!(
            browser
                .leave_feedback_in_open_panel(&format!("On the {kind} scale"))
                .await,
            "Thank you!"
        );
    }

    let rows = export_rows(&collector);
    let stored: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            (
                cell(row, "rating_kind").to_owned(),
                cell(row, "rating").to_owned(),
                cell(row, "comment").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("nps", "3", "On the nps scale"),
            ("thumbs", "0", "On the thumbs scale"),
            ("emoji", "3", "On the emoji scale"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inline_block_asks_in_the_page_and_stores_the_answer() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let guide = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            page: Some("brewing.html"),
            ..Default::default()
        },
    );
    browser.client.goto(&guide.url()).await.unwrap();
    browser
        .wait_for(
            "return document.querySelector('#was-this-helpful > earshot-widget') !== null",
            "the block in its target element",
        )
        .await;
    let widget = browser.widget().await;
    let legend = displayed(&widget, "legend").await;
    assert_eq!(legend.text().await.unwrap(), "Was this page helpful?");
    assert!(
        widget
            .find(fantoccini::Locator::Css("button.launcher"))
            .await
            .is_err(),
        "no floating launcher inline"
    );
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "inline, asking"
    );
    displayed(&widget, "label[for=earshot-thumbs-1]")
        .await
        .click()
        .await
        .unwrap();
    displayed(&widget, "#earshot-comment").await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "inline, answered"
    );
    assert_eq!(
        browser
            .leave_feedback_in_open_panel("The steeping table is exactly what I needed")
            .await,
        "Thank you!"
    );
    // The button that had the focus is gone; the focus goes to the thank-you in its place.
    assert_eq!(
        browser.focus_in_widget().await,
        "H3.thanks-title: Thank you!"
    );
    browser.screenshot("inline-docs").await;

    let rows = export_rows(&collector);
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "rating_kind"), "thumbs");
    assert_eq!(cell(&rows[0], "rating"), "1");
    assert_eq!(cell(&rows[0], "page_url"), guide.url());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_drives_the_widget_and_hears_from_it() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_on(port, &collector.origin());
    // The visitor arrives by a link from another site: the browser gives the page that other
    // site's origin as its referrer (strict-origin-when-cross-origin).
    browser
        .client
        .goto(&collector.url("/healthz"))
        .await
        .unwrap();
    browser
        .client
        .execute(
            "location.href = arguments[0];",
            vec![serde_json::json!(shop.url())],
        )
        .await
        .unwrap();
    browser
        .wait_for("return !!window.earshot", "the loader")
        .await;
    // As a site's own script would: who the visitor is, facts about the page, then open.
    browser
        .client
        .execute(
            "window.heard = [];
             for (const name of ['open', 'close', 'submit', 'error']) {
               document.addEventListener('earshot:' + name, e => window.heard.push([name, e.detail]));
             }
             earshot.setUser({ id: 'customer-42', email: 'ada@example.com' });
             earshot.setMetadata({ plan: 'pro', seats: 3 });
             earshot.open();",
            vec![],
        )
        .await
        .unwrap();
    let widget = browser.widget().await;
    displayed(&widget, "[role=dialog]").await;
    let email = widget
        .find(fantoccini::Locator::Css("#earshot-email"))
        .await
        .unwrap();
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("ada@example.com"),
        "the page's address is offered"
    );
    browser.press(&[Key::Space, Key::Right]).await;
    assert_eq!(
        browser
            .leave_feedback_in_open_panel("Sent through the API")
            .await,
        "Thank you!"
    );
    browser
        .client
        .execute("earshot.close()", vec![])
        .await
        .unwrap();
    browser.wait_for("return !document.querySelector('earshot-widget').shadowRoot.querySelector('[role=dialog]')",
        "the dialog to close",
    )
    .await;

    let (names, heard) = browser.heard().await;
    assert_eq!(names, ["open", "submit", "close"]);
    let submitted = &heard[1][1];
    assert_eq!(submitted["kind"], "stars");
    assert_eq!(submitted["rating"], 2);
    assert_eq!(submitted["queued"], false);

    let rows = export_rows(&collector);
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "id"), submitted["id"].as_str().unwrap());
    assert_eq!(cell(&rows[0], "user_id"), "customer-42");
    assert_eq!(cell(&rows[0], "email"), "ada@example.com");
    assert_eq!(cell(&rows[0], "metadata"), r#"{"plan":"pro","seats":"3"}"#);
    assert_eq!(
        cell(&rows[0], "referrer"),
        format!("{}/", collector.origin()),
        "where the visitor came from"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_shown_and_reported_to_the_page() {
    let Some(browser) = browser::start().await else {
        return;
    };
    // The site accepts another origin only: the collector refuses this page's feedback.
    let collector = Collector::start(&["https://elsewhere.example"]);
    let shop = HostSite::start_on(free_port(), &collector.origin());
    browser.client.goto(&shop.url()).await.unwrap();
    browser
        .wait_for("return !!window.earshot", "the loader")
        .await;
    browser
        .client
        .execute(
            "window.heard = [];
             document.addEventListener('earshot:error', e => window.heard.push(e.detail));",
            vec![],
        )
        .await
        .unwrap();
    let widget = browser.open_panel().await;
    browser.press(&[Key::Space]).await;
    let text = widget
        .find(fantoccini::Locator::Css("#earshot-comment"))
        .await
        .unwrap();
    text.send_keys("Refused").await.unwrap();
    browser::send_as_a_person(&widget).await;
    let alert = displayed(&widget, "[role=alert]").await;
    assert!(!alert.text().await.unwrap().is_empty());
    browser
        .wait_for("return window.heard.length > 0", "earshot:error")
        .await;
    let heard = browser
        .client
        .execute("return window.heard", vec![])
        .await
        .unwrap();
    assert_eq!(heard[0]["code"], "origin-not-allowed");
    // Refused for good (4xx): nothing is kept to be sent again.
    let queued = browser.client.execute(QUEUED, vec![]).await.unwrap();
    assert_eq!(queued, 0, "a refusal is not queued");
    browser.close().await;
}

/// WCAG contrast ratio of two CSS colours as `getComputedStyle` gives them (`rgb(r, g, b)`).
fn contrast(a: &str, b: &str) -> f64 {
    fn luminance(color: &str) -> f64 {
        let channels: Vec<f64> = color
            .trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .take(3)
            .map(|c| c.trim().parse::<f64>().unwrap() / 255.0)
            .map(|c| {
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            })
            .collect();
        0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    }
    let (a, b) = (luminance(a) + 0.05, luminance(b) + 0.05);
    if a > b { a / b } else { b / a }
}

/// `[color, background-color, outline-color]` of the first element matching `css` in the widget.
async fn computed(browser: &Browser, css: &str) -> [String; 3] {
    let value = browser
        .client
        .execute(
            "const el = document.querySelector('earshot-widget').shadowRoot.querySelector(arguments[0]);
             const s = getComputedStyle(el);
             return [s.color, s.backgroundColor, s.outlineColor];",
            vec![css.into()],
        )
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_accent_colour_keeps_the_text_readable_in_both_themes() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let cases = [
        ("#ffd400", "light", "rgb(255, 255, 255)"),
        ("#0b3d91", "dark", "rgb(31, 36, 48)"),
        ("#777", "light", "rgb(255, 255, 255)"),
        ("#ff4f9a", "dark", "rgb(31, 36, 48)"),
    ];
    let ports = cases.map(|_| free_port());
    let origins = ports.map(|port| format!("http://localhost:{port}"));
    let collector = Collector::start(&origins.each_ref().map(String::as_str));
    for ((color, theme, panel_background), port) in cases.into_iter().zip(ports) {
        let shop = HostSite::start_with(
            port,
            &collector.origin(),
            HostOptions {
                snippet_attributes: format!(r#"data-color="{color}" data-theme="{theme}""#),
                ..Default::default()
            },
        );
        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.widget().await;
        displayed(&widget, "button.launcher").await;
        // The loader's launcher, before the wasm has taken over.
        let [text, background, _] = computed(&browser, "button.launcher").await;
        assert!(
            contrast(&text, &background) >= 4.5,
            "{color}: launcher {text} on {background}"
        );

        browser.open_panel().await;
        browser.press(&[Key::Space]).await;
        let [_, panel, _] = computed(&browser, ".panel-wrap").await;
        assert_eq!(panel, panel_background, "{color}: the {theme} theme");
        let [text, background, _] = computed(&browser, "button.submit").await;
        assert!(
            contrast(&text, &background) >= 4.5,
            "{color}: send button {text} on {background}"
        );
        // The focus ring around the chosen star is the accent, adjusted for the background.
        let [_, _, ring] = computed(&browser, "input:focus-visible + .star").await;
        assert!(
            contrast(&ring, &panel) >= 4.5,
            "{color}: focus ring {ring} on {panel}"
        );
        assert_eq!(
            browser.axe_violations().await,
            Vec::<String>::new(),
            "{color} {theme}"
        );
        browser
            .screenshot(&format!("accent-{}-{theme}", color.trim_start_matches('#')))
            .await;
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wasm_is_fetched_only_after_the_page_has_loaded() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_on(port, &collector.origin());
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget().await;
    displayed(&widget, "button.launcher").await;
    // Nobody touches the launcher: the browser's idle time brings the widget.
    browser
        .wait_for(
            "return performance.getEntriesByType('resource').some(e => e.name.endsWith('.wasm'))",
            "the wasm to be fetched when idle",
        )
        .await;
    let timing = browser
        .client
        .execute(
            "const page = performance.getEntriesByType('navigation')[0];
             const wasm = performance.getEntriesByType('resource').find(e => e.name.endsWith('.wasm'));
             return [page.loadEventEnd, wasm.startTime];",
            vec![],
        )
        .await
        .unwrap();
    let loaded = timing[0].as_f64().unwrap();
    let fetched = timing[1].as_f64().unwrap();
    assert!(
        loaded > 0.0 && fetched >= loaded,
        "the wasm ({fetched} ms) was fetched before the page finished loading ({loaded} ms)"
    );
    // The widget took over the loader's launcher: one launcher, and it works.
    browser.wait_for("return document.querySelector('earshot-widget').shadowRoot.querySelectorAll('button.launcher').length === 1
            && !!document.querySelector('earshot-widget').shadowRoot.querySelector('.earshot > .visually-hidden[role=status]')",
        "the widget to replace the stand-in launcher",
    )
    .await;
    browser.open_panel().await;
    // An English visitor fetches no texts: the wasm speaks English.
    let texts_fetched = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/texts/')).map(e => e.name)";
    assert_eq!(
        browser.client.execute(texts_fetched, vec![]).await.unwrap(),
        serde_json::json!([])
    );
    browser.close().await;
}

/// A language other than English comes beside the wasm, as the collector serves it
/// (`GET /widget/texts/{lang}`), and the whole widget speaks it, the thank-you included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_speaks_the_language_the_loader_chose() {
    use earshot_shared::texts::FR;
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            snippet_attributes: r#"data-lang="fr-CA""#.into(),
            ..Default::default()
        },
    );
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.open_panel().await;
    assert_eq!(
        displayed(&widget, ".panel-title")
            .await
            .text()
            .await
            .unwrap(),
        FR.title
    );
    assert_eq!(
        displayed(&widget, "button.submit")
            .await
            .text()
            .await
            .unwrap(),
        FR.submit
    );
    assert_eq!(
        browser.client.execute(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/texts/')).map(e => new URL(e.name).pathname)",
            vec![],
        ).await.unwrap(),
        serde_json::json!(["/widget/texts/fr"])
    );
    browser.press(&[Key::Space, Key::Right]).await;
    assert_eq!(
        browser.leave_feedback_in_open_panel("Très bien").await,
        FR.thanks_title
    );
    browser.screenshot("widget-french").await;
    let rows = export_rows(&collector);
    assert_eq!(cell(&rows[0], "comment"), "Très bien");
    browser.close().await;
}

/// Calls a page makes before the loader has even run (the queue the README shows) are
/// replayed in order; `setUser(null)` forgets the user, in the form and in what is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_queued_before_the_loader_are_replayed_and_a_null_user_is_forgotten() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            head_html: r#"<script>
window.earshot = window.earshot || { q: [] };
["open", "close", "setUser", "setMetadata"].forEach(function (m) {
  earshot[m] = earshot[m] || function () { earshot.q.push([m, arguments]); };
});
earshot.setUser({ id: "queued-7", email: "queued@example.com" });
earshot.setMetadata({ source: "queue" });
earshot.open();
</script>"#
                .into(),
            ..HostOptions::default()
        },
    );
    browser.client.goto(&shop.url()).await.unwrap();
    // The queued open opens the dialog by itself, with the queued user's address.
    let widget = browser.widget().await;
    displayed(&widget, "[role=dialog]").await;
    let email = displayed(&widget, "#earshot-email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("queued@example.com")
    );
    browser.press(&[Key::Space, Key::Right]).await;
    assert_eq!(
        browser.leave_feedback_in_open_panel("Queued first").await,
        "Thank you!"
    );

    // Forgotten: the next form offers no address and the next submission names no user.
    browser
        .client
        .execute(
            "earshot.close(); earshot.setUser(null); earshot.open();",
            vec![],
        )
        .await
        .unwrap();
    let widget = browser.widget().await;
    browser
        .wait_for(
            "const root = document.querySelector('earshot-widget').shadowRoot;
         const field = root.querySelector('#earshot-email');
         return !!field && field.value === '';",
            "an empty email field",
        )
        .await;
    displayed(&widget, "[role=dialog]").await;
    // Closed and opened again in one go, the dialog still takes the focus: three stars from
    // the keyboard.
    assert!(
        browser.focus_in_widget().await.starts_with("INPUT"),
        "the focus is on the rating: {}",
        browser.focus_in_widget().await
    );
    browser.press(&[Key::Space, Key::Right, Key::Right]).await;
    assert_eq!(
        browser
            .leave_feedback_in_open_panel("After forgetting")
            .await,
        "Thank you!"
    );

    let rows = export_rows(&collector);
    assert_eq!(rows.len(), 2);
    let first = rows
        .iter()
        .find(|row| cell(row, "comment") == "Queued first")
        .unwrap();
    assert_eq!(cell(first, "user_id"), "queued-7");
    assert_eq!(cell(first, "email"), "queued@example.com");
    assert_eq!(cell(first, "metadata"), r#"{"source":"queue"}"#);
    let second = rows
        .iter()
        .find(|row| cell(row, "comment") == "After forgetting")
        .unwrap();
    assert_eq!(cell(second, "user_id"), "");
    assert_eq!(cell(second, "email"), "");
    browser.close().await;
}

/// The number of submissions waiting in the page's queue (`localStorage`).
const QUEUED: &str =
    "return Object.keys(localStorage).filter(k => k.startsWith('earshot-queue:')).length";

/// A queued entry as the widget writes it: `earshot-queue:{site}:{queued at}:{id}` holding
/// the submission's JSON. `age_days` back from now; `value` a star rating (9 is refused).
fn queue_entry_js(id: &str, age_days: f64, value: u8) -> String {
    format!(
        "localStorage.setItem('earshot-queue:demo:' + Math.round(Date.now() - {age_days} * 86400000) + ':{id}',
           JSON.stringify({{ id: '{id}', site: 'demo', rating: {{ kind: 'stars', value: {value} }},
             comment: 'Written on an earlier visit', page_url: location.href, open_ms: 6000 }}));"
    )
}

/// What an earlier page left in the queue is sent when the widget next loads: a submission
/// queued 6 days ago is stored; one queued 8 days ago is dropped unsent (the README's 7
/// days); one the collector refuses (4xx) is not kept to be sent forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_sends_what_an_earlier_page_left_and_drops_what_is_a_week_old() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (young, old, refused) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let seed = [
        queue_entry_js(&young, 6.0, 5),
        queue_entry_js(&old, 8.0, 4),
        queue_entry_js(&refused, 1.0, 9),
    ]
    .concat();
    let port = free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            // Before the loader runs, as if an earlier visit had left them.
            head_html: format!("<script>{seed}</script>"),
            ..Default::default()
        },
    );
    browser.client.goto(&shop.url()).await.unwrap();
    browser
        .wait_for(
            &format!("{QUEUED} === 0"),
            "the widget to go through its queue",
        )
        .await;
    let ids = exported_ids(&collector);
    assert_eq!(ids, [young], "only the young one is stored");
    browser.close().await;
}

/// A submission queued by another tab while this page's queue was empty (so no retry is
/// running) is sent when the browser comes back online: the `online` event alone sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_back_online_sends_what_is_queued() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = common::host_site::shop_with_collector(HostOptions::default());
    browser.client.goto(&shop.url()).await.unwrap();
    // The widget itself, not the loader's stand-in: it looked at its (empty) queue as it
    // started, before drawing anything, and found nothing to retry.
    browser.wait_for(
        "return !!document.querySelector('earshot-widget').shadowRoot.querySelector('.earshot > .visually-hidden[role=status]')",
        "the widget to load",
    )
    .await;
    let id = uuid::Uuid::new_v4().to_string();
    browser
        .client
        .execute(&queue_entry_js(&id, 0.0, 3), vec![])
        .await
        .unwrap();
    browser.set_offline(true).await;
    browser.set_offline(false).await;
    browser
        .wait_for(&format!("{QUEUED} === 0"), "the queue to be sent")
        .await;
    let ids = exported_ids(&collector);
    assert_eq!(ids, [id]);
    browser.close().await;
}

/// A collector that answers 429 (the visitor's limit is spent) does not lose the
/// submission: the page hears `queued: true`, the visitor is told it will be sent, and it
/// waits in the browser's queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_submission_is_queued_not_lost() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = free_port();
    let collector = Collector::start_with(
        &[&format!("http://localhost:{port}")],
        &["--rate-limit-visitor", "1"],
    );
    let shop = HostSite::start_on(port, &collector.origin());
    browser.client.goto(&shop.url()).await.unwrap();
    browser
        .wait_for("return !!window.earshot", "the loader")
        .await;
    // The page spends this visitor's one submission a minute (same address, same browser).
    let spent = browser
        .client
        .execute_async(
            &format!(
                "const done = arguments[0];
                 fetch('{}/v1/feedback', {{ method: 'POST', headers: {{ 'Content-Type': 'text/plain' }},
                   body: JSON.stringify({{ id: crypto.randomUUID(), site: 'demo',
                     rating: {{ kind: 'stars', value: 2 }}, comment: 'first', page_url: location.href,
                     open_ms: 6000 }}) }}).then(r => done(r.status), e => done(String(e)));",
                collector.origin()
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(spent, 201);
    browser
        .client
        .execute(
            "window.heard = [];
             document.addEventListener('earshot:submit', e => window.heard.push(e.detail));",
            vec![],
        )
        .await
        .unwrap();
    let title = browser.leave_feedback("Second thoughts").await;
    assert!(!title.is_empty());
    browser
        .wait_for("return window.heard.length === 1", "earshot:submit")
        .await;
    let heard = browser
        .client
        .execute("return window.heard[0]", vec![])
        .await
        .unwrap();
    assert_eq!(heard["queued"], true, "{heard}");
    let queued = browser.client.execute(QUEUED, vec![]).await.unwrap();
    assert_eq!(queued, 1, "kept in the browser to be sent again");
    assert!(
        collector.log().contains("status=429"),
        "the collector did refuse it for now: {}",
        collector.log()
    );
    browser.close().await;
}

/// The widget is fetched when the visitor reaches for it: with a browser that is never idle
/// (the page's idle callback never comes), hovering the launcher fetches it, and so does
/// giving it the keyboard focus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hovering_or_focusing_the_launcher_fetches_the_widget() {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction};

    let Some(browser) = browser::start().await else {
        return;
    };
    let (_collector, shop) = common::host_site::shop_with_collector(HostOptions {
        head_html: "<script>window.requestIdleCallback = function () { window.idleAsked = true; return 0; };</script>"
            .into(),
        ..Default::default()
    });
    const WASM: &str =
        "return performance.getEntriesByType('resource').some(e => e.name.endsWith('.wasm'))";
    for reach in ["hover", "focus"] {
        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.widget().await;
        let launcher = displayed(&widget, "button.launcher").await;
        // The loader has drawn its launcher and left the rest to idle time, which never
        // comes: nothing has fetched the widget.
        browser
            .wait_for(
                "return window.idleAsked === true",
                "the loader to wait for idle time",
            )
            .await;
        let fetched = browser.client.execute(WASM, vec![]).await.unwrap();
        assert_eq!(
            fetched, false,
            "{reach}: fetched before anyone reached for it"
        );
        match reach {
            "hover" => browser
                .client
                .perform_actions(MouseActions::new("mouse".into()).then(
                    PointerAction::MoveToElement {
                        element: launcher,
                        duration: None,
                        x: 0.0,
                        y: 0.0,
                    },
                ))
                .await
                .unwrap(),
            _ => {
                browser
                    .client
                    .execute(
                        "document.querySelector('earshot-widget').shadowRoot.querySelector('button.launcher').focus()",
                        vec![],
                    )
                    .await
                    .unwrap();
            }
        }
        browser
            .wait_for(WASM, &format!("the widget to be fetched on {reach}"))
            .await;
    }
    browser.close().await;
}
