//! How fast the widget is for a visitor, measured in Chromium: a benchmark, not a test (it
//! asserts nothing about time). `cargo xtask bench` runs it with `--ignored` and reads the
//! `EARSHOT_BENCH {json}` line it prints.
//!
//! Each round starts a fresh browser (an empty cache: a first visit) and measures, from the
//! page's own clock (`performance.now()`):
//! - loader → launcher: from the loader starting to the launcher being shown (its stylesheet
//!   loaded), the `earshot:loader` and `earshot:launcher` performance marks;
//! - cold click → interactive: a click on the launcher before the widget has loaded (idle
//!   loading switched off) until the dialog is open with the focus in it (`earshot:open`):
//!   fetching, compiling and starting the wasm included;
//! - warm click → interactive: the same once the widget is loaded, as it is for a visitor
//!   who clicks after the page has settled;
//! - baseline: a native `<dialog>` with the same controls, opened and focused by a click
//!   handler on the same page: the browser's own floor for "click → interactive".

mod common;

use std::time::Duration;

use common::browser::{self, Browser, displayed};
use common::collector::Collector;
use common::host_site::{HostOptions, HostSite};
use serde_json::{Value, json};

/// Idle loading off (so the click is what brings the widget), and the page's clock on the
/// first click and on the widget's `earshot:open`.
const PROBE: &str = "<script>
  window.requestIdleCallback = function () {};
  window.clicked = 0;
  document.addEventListener('click', function () { if (!window.clicked) window.clicked = performance.now(); }, true);
  document.addEventListener('earshot:open', function () { window.opened = performance.now(); });
</script>";

const NATIVE_DIALOG: &str = "
  const button = document.createElement('button');
  button.id = 'baseline';
  button.textContent = 'Native dialog';
  button.style.cssText = 'position:fixed;top:10px;left:10px;z-index:2147483647';
  const dialog = document.createElement('dialog');
  dialog.innerHTML = '<form method=dialog><fieldset><legend>Your rating</legend>'
    + [1, 2, 3, 4, 5].map(n => '<label><input type=radio name=r value=' + n + '>' + n + '</label>').join('')
    + '</fieldset><label>Comment <textarea></textarea></label><label>Email <input type=email></label>'
    + '<button>Send</button></form>';
  document.body.append(button, dialog);
  button.addEventListener('click', function () {
    dialog.showModal();
    dialog.querySelector('input').focus();
    window.native = performance.now();
  });";

/// Waits until `expression` is a positive number in the page, and returns it. The page
/// recorded it (a time on its own clock, or a size), so how often this looks does not change
/// it.
async fn wait_for_number(browser: &Browser, expression: &str) -> f64 {
    browser
        .wait_for(
            &format!("return ({expression}) > 0;"),
            &format!("{expression} to be set"),
        )
        .await;
    browser
        .client
        .execute(&format!("return {expression}"), vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{expression} is not a number"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by `cargo xtask bench`"]
async fn widget_speed_in_chromium() {
    let rounds: usize = std::env::var("EARSHOT_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let port = common::free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let shop = HostSite::start_with(
        port,
        &collector.origin(),
        HostOptions {
            head_html: PROBE.into(),
            ..Default::default()
        },
    );
    let (mut launcher, mut cold, mut warm, mut native, mut transfer) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let browser = browser::start()
            .await
            .expect("Chromium and the built widget");
        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.widget().await;
        let shown = wait_for_number(
            &browser,
            "(performance.getEntriesByName('earshot:launcher')[0] || {}).startTime",
        )
        .await;
        let started = wait_for_number(
            &browser,
            "(performance.getEntriesByName('earshot:loader')[0] || {}).startTime",
        )
        .await;
        launcher.push(shown - started);

        // Nothing has fetched the widget yet: this click does.
        displayed(&widget, "button.launcher")
            .await
            .click()
            .await
            .unwrap();
        let opened = wait_for_number(&browser, "window.opened").await;
        let clicked = wait_for_number(&browser, "window.clicked").await;
        cold.push(opened - clicked);
        transfer.push(
            wait_for_number(
                &browser,
                "(performance.getEntriesByType('resource').find(e => e.name.endsWith('.wasm')) || {}).encodedBodySize",
            )
            .await,
        );

        // Loaded now: close, then the same click again.
        browser
            .client
            .execute(
                "earshot.close(); window.clicked = 0; window.opened = 0;",
                vec![],
            )
            .await
            .unwrap();
        let widget = browser.widget_ready().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        displayed(&widget, "button.launcher")
            .await
            .click()
            .await
            .unwrap();
        let opened = wait_for_number(&browser, "window.opened").await;
        let clicked = wait_for_number(&browser, "window.clicked").await;
        warm.push(opened - clicked);

        // The browser's floor, on the same page.
        browser
            .client
            .execute(
                &format!("earshot.close(); window.clicked = 0; {NATIVE_DIALOG}"),
                vec![],
            )
            .await
            .unwrap();
        browser
            .client
            .find(fantoccini::Locator::Css("#baseline"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let shown = wait_for_number(&browser, "window.native").await;
        let clicked = wait_for_number(&browser, "window.clicked").await;
        native.push(shown - clicked);
        browser.close().await;
    }
    let result: Value = json!({
        "rounds": rounds,
        "loader_to_launcher_ms": median(launcher),
        "cold_click_to_interactive_ms": median(cold),
        "warm_click_to_interactive_ms": median(warm),
        "native_dialog_click_to_interactive_ms": median(native),
        "wasm_transfer_bytes": median(transfer),
    });
    println!("EARSHOT_BENCH {result}");
}
