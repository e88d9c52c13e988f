//! Accessibility checked by axe-core (the npm package, injected into the page) in Chromium:
//! no violations in the widget, closed, open, and after sending.

mod common;

use common::browser::{self, displayed};
use common::host_site::{HostOptions, shop_with_collector};
use fantoccini::key::Key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_violations_in_the_widget() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (_collector, shop) = shop_with_collector(HostOptions::default());
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = browser.widget_ready().await;
    displayed(&widget, "button.launcher").await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "closed"
    );

    browser.open_panel().await;
    browser.press(&[Key::Space, Key::Right]).await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "open, rated"
    );

    assert_eq!(
        browser.leave_feedback_in_open_panel("Accessible").await,
        "Thank you!"
    );
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "after sending"
    );
    browser.close().await;
}
