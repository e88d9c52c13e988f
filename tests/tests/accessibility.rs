//! Accessibility checked by axe-core (the npm package, injected into the page) in Chromium:
//! no violations in the widget, closed, open, and after sending.

mod common;

use common::browser::{self, Browser, displayed};
use common::host_site::{HostOptions, shop_with_collector};
use fantoccini::key::Key;

/// Runs axe-core on the widget (its host element and shadow root) and returns the violations
/// as "rule: help (n nodes)" lines.
async fn violations(browser: &Browser) -> Vec<String> {
    let axe = common::root().join("xtask/node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&axe).unwrap_or_else(|err| {
        panic!(
            "{}: {err} (cargo xtask test installs axe-core)",
            axe.display()
        )
    });
    browser.client.execute(&source, vec![]).await.unwrap();
    let result = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document.querySelector('earshot-widget'), { resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes)')))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(result).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_violations_in_the_widget() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (_collector, shop) = shop_with_collector(HostOptions::default());
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget().await;
    displayed(&widget, "button.launcher").await;
    assert_eq!(violations(&browser).await, Vec::<String>::new(), "closed");

    browser.open_panel().await;
    browser.press(&[Key::Space, Key::Right]).await;
    assert_eq!(
        violations(&browser).await,
        Vec::<String>::new(),
        "open, rated"
    );

    assert_eq!(
        browser.leave_feedback_in_open_panel("Accessible").await,
        "Thank you!"
    );
    assert_eq!(
        violations(&browser).await,
        Vec::<String>::new(),
        "after sending"
    );
    browser.close().await;
}
