//! A visitor's screenshot, from the widget to the owner: one frame of the tab (Chromium
//! shares it without asking, `--auto-accept-this-tab-capture`) or a file picked on a
//! phone, marked up, sent with the feedback's id, kept while offline, sent again after a
//! failure, and seen by the owner as the visitor left it. Each test leaves screenshots
//! under target/e2e/.

mod common;

use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use fantoccini::elements::ShadowRoot;
use fantoccini::key::Key;
use fantoccini::{Locator, elements::Element};
use serde_json::json;

use common::browser::{self, Browser, displayed, send_as_a_person};
use common::collector::Collector;
use common::host_site::{HostOptions, HostSite, shop_with_collector};
use common::owner::OwnerSession;
use common::{cell, parse_csv};

const OWNER: &str = "owner@shop.example";
const PASSWORD: &str = "correct horse battery staple";

/// What the visitor reads under the thank-you once the screenshot is stored.
const SENT: &str = earshot_shared::texts::SHOT_EN.sent;

/// The demo shop with screenshots turned on for its site, and its owner.
fn shop_taking_screenshots() -> (Collector, HostSite) {
    shop_taking_screenshots_with(HostOptions::default())
}

fn shop_taking_screenshots_with(options: HostOptions) -> (Collector, HostSite) {
    let (collector, shop) = shop_with_collector(options);
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    collector.add_user(OWNER, PASSWORD, &[]);
    (collector, shop)
}

/// The stored submissions, as (id, comment, screenshot link).
fn stored(collector: &Collector) -> Vec<(String, String, String)> {
    let token = collector.create_token(None);
    let (status, csv) = collector.export(Some(&token), "feedback.csv");
    assert_eq!(status, 200);
    parse_csv(&csv)
        .1
        .iter()
        .map(|row| {
            (
                cell(row, "id").to_owned(),
                cell(row, "comment").to_owned(),
                cell(row, "screenshot").to_owned(),
            )
        })
        .collect()
}

/// The screenshot of submission `id` as the owner's dashboard serves it.
fn screenshot_for_owner(collector: &Collector, id: &str) -> (String, Vec<u8>) {
    let owner = OwnerSession::sign_in(collector, OWNER, PASSWORD);
    let (status, content_type, bytes) =
        owner.get_bytes(&format!("/admin/feedback/{id}/screenshot"));
    assert_eq!(status, 200, "the owner can open the screenshot of {id}");
    (content_type, bytes)
}

/// Opens the dialog, rates four stars by keyboard and writes a comment; returns the widget.
async fn fill_in(browser: &Browser, comment: &str) -> ShadowRoot {
    let widget = browser.open_panel().await;
    browser
        .press(&[Key::Space, Key::Right, Key::Right, Key::Right])
        .await;
    let text = widget.find(Locator::Css("#earshot-comment")).await.unwrap();
    text.send_keys(comment).await.unwrap();
    widget
}

/// Waits for the pause a person takes, then sends, and waits until the line under the
/// thank-you that tells how the screenshot fared says `expected`.
async fn send(browser: &Browser, widget: &ShadowRoot, expected: &str) {
    send_as_a_person(widget).await;
    status_says(browser, expected).await;
}

/// Records what the browser answers the editor's capture in `window.captureLog`, so that a
/// test that stops there says where.
const CAPTURE_LOG: &str = "window.captureLog = [];
    const log = (what, promise) => promise.then(
        value => { captureLog.push(what + ' ok'); return value; },
        error => { captureLog.push(what + ' failed: ' + error); throw error; });
    if (navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) {
        const share = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getDisplayMedia = options => log('getDisplayMedia', share(options));
    }
    if (window.ImageCapture) {
        const grab = ImageCapture.prototype.grabFrame;
        ImageCapture.prototype.grabFrame = function () { return log('grabFrame', grab.call(this)); };
    }
    addEventListener('error', e => captureLog.push('error: ' + e.message));
    addEventListener('unhandledrejection', e => captureLog.push('rejection: ' + e.reason));";

/// Clicks "Add a screenshot" and waits for the editor (at most 20 s).
async fn add_screenshot(browser: &Browser, widget: &ShadowRoot) {
    displayed(widget, "button.shot-add")
        .await
        .click()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(attach) = widget.find(Locator::Css(".shot-attach")).await
            && attach.is_displayed().await.unwrap_or(false)
        {
            return;
        }
        if std::time::Instant::now() > deadline {
            let state = browser
                .client
                .execute(
                    "return [window.captureLog, document.querySelector('earshot-widget').shadowRoot.querySelector('.shot')?.outerHTML];",
                    vec![],
                )
                .await
                .unwrap();
            panic!("the editor never opened: {state}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The demo shop taking screenshots, its page open with the dialog filled in and a frame of
/// the tab attached as it was taken.
async fn feedback_with_a_capture(
    browser: &Browser,
    comment: &str,
) -> (Collector, HostSite, ShadowRoot) {
    let (collector, shop) = shop_taking_screenshots();
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(browser, comment).await;
    add_screenshot(browser, &widget).await;
    displayed(&widget, ".shot-attach")
        .await
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    (collector, shop, widget)
}

/// Waits until the line under the thank-you that tells how the screenshot fared says
/// `expected` (a "Try again" button may follow it).
async fn status_says(browser: &Browser, expected: &str) {
    let script = format!(
        "const line = document.querySelector('earshot-widget').shadowRoot.querySelector('.shot-status');
         return !!line && line.firstChild.textContent === {};",
        json!(expected)
    );
    browser
        .wait_for(&script, &format!("the thank-you says {expected:?}"))
        .await;
}

/// Makes every screenshot upload fail as a dropped connection would (or stops doing so).
async fn block_uploads(browser: &Browser, blocked: bool) {
    browser.cdp("Network.enable", json!({})).await;
    let urls: &[&str] = if blocked { &["*/screenshot"] } else { &[] };
    browser
        .cdp("Network.setBlockedURLs", json!({ "urls": urls }))
        .await;
}

/// Records the page's `earshot:error` events in `window.heard`, from now on.
async fn listen_for_errors(browser: &Browser) {
    browser
        .client
        .execute(
            "window.heard = []; document.addEventListener('earshot:error', e => heard.push(['error', e.detail]));",
            vec![],
        )
        .await
        .unwrap();
}

/// Whether the editor module has been fetched by this page.
async fn editor_fetched(browser: &Browser) -> bool {
    browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/earshot-shot.js'));",
            vec![],
        )
        .await
        .unwrap()
        == json!(true)
}

/// Drags the pointer over `canvas` from (x0, y0) to (x1, y1), offsets from its centre.
/// Picks `picture`, saved as a PNG, in the widget's file input once it is there, as a
/// visitor without screen capture does; the file lives as long as what is returned.
async fn pick_image_file(
    widget: &ShadowRoot,
    picture: &image::RgbImage,
) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    picture
        .save_with_format(file.path(), image::ImageFormat::Png)
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let input = loop {
        if let Ok(input) = widget.find(Locator::Css("input.shot-file")).await {
            break input;
        }
        assert!(std::time::Instant::now() < deadline, "no file input");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    input
        .send_keys(&file.path().display().to_string())
        .await
        .unwrap();
    file
}

async fn drag(browser: &Browser, canvas: &Element, from: (f64, f64), to: (f64, f64)) {
    let at = |(x, y): (f64, f64)| PointerAction::MoveToElement {
        element: canvas.clone(),
        duration: None,
        x,
        y,
    };
    let actions = MouseActions::new("mouse".into())
        .then(at(from))
        .then(PointerAction::Down {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        })
        .then(at(((from.0 + to.0) / 2.0, (from.1 + to.1) / 2.0)))
        .then(at(to))
        .then(PointerAction::Up {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        });
    browser.client.perform_actions(actions).await.unwrap();
}

/// The issue's path: one frame of the tab, a region blacked out with the keyboard and one
/// highlighted with the pointer, sent with the feedback. The owner's image has the region
/// black, pixel for pixel, and no metadata; the editor passes axe and was fetched only
/// when asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_tab_with_a_region_blacked_out_reaches_the_owner_black() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_taking_screenshots();
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "The total is wrong").await;
    assert!(
        !editor_fetched(&browser).await,
        "the editor is not fetched before it is asked for"
    );

    add_screenshot(&browser, &widget).await;
    displayed(&widget, ".shot-attach").await;
    let canvas = widget.find(Locator::Css(".shot-canvas")).await.unwrap();
    assert!(editor_fetched(&browser).await);
    let (width, height) = {
        let size = browser
            .client
            .execute(
                "const c = document.querySelector('earshot-widget').shadowRoot.querySelector('.shot-canvas');
                 return [c.width, c.height, innerWidth, innerHeight];",
                vec![],
            )
            .await
            .unwrap();
        let size: Vec<u32> = serde_json::from_value(size).unwrap();
        // The tab's viewport, give or take its scroll bar and an odd pixel.
        let near = |picture: u32, viewport: u32| picture <= viewport && picture + 20 >= viewport;
        assert!(
            near(size[0], size[2]) && near(size[1], size[3]),
            "the picture is the tab's viewport: {size:?}"
        );
        (size[0], size[1])
    };
    assert_eq!(browser.focus_in_widget().await, "BUTTON.button: Highlight");

    // Highlight with the pointer, then black out with the keyboard: the tool, Tab past
    // Undo (disabled while nothing is drawn) to the picture, Enter draws the frame.
    drag(&browser, &canvas, (-300.0, -150.0), (-150.0, -60.0)).await;
    widget
        .find(Locator::Css("[data-tool=black]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press(&[Key::Tab, Key::Tab, Key::Enter]).await;
    assert_eq!(
        browser
            .client
            .execute(
                "return document.querySelector('earshot-widget').shadowRoot.querySelector('.shot-editor [role=status]').textContent",
                vec![]
            )
            .await
            .unwrap(),
        json!("Area blacked out.")
    );
    browser.screenshot("screenshot-editor").await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "the editor"
    );

    // Undo takes back the last mark only (the black-out); draw it again.
    widget
        .find(Locator::Css(".shot-undo"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The focus is on Undo; Tab goes to the picture.
    browser.press(&[Key::Tab]).await;
    browser.press(&[Key::Enter]).await;

    widget
        .find(Locator::Css(".shot-attach"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    assert_eq!(
        browser.focus_in_widget().await,
        "BUTTON.button: Edit screenshot"
    );
    assert!(
        !widget
            .find(Locator::Css(".shot-add"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    browser.screenshot("screenshot-attached").await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "the form with a screenshot"
    );

    send(&browser, &widget, SENT).await;
    browser.screenshot("screenshot-sent").await;

    let rows = stored(&collector);
    assert_eq!(rows.len(), 1);
    let (id, comment, link) = &rows[0];
    assert_eq!(comment, "The total is wrong");
    assert!(
        link.ends_with(&format!("/admin/feedback/{id}/screenshot")),
        "{link}"
    );
    let (content_type, bytes) = screenshot_for_owner(&collector, id);
    assert_eq!(content_type, "image/png");
    for chunk in [&b"eXIf"[..], b"tEXt", b"iTXt", b"zTXt"] {
        assert!(
            !bytes.windows(4).any(|w| w == chunk),
            "no {} chunk",
            String::from_utf8_lossy(chunk)
        );
    }
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!((image.width(), image.height()), (width, height));
    // The keyboard's frame: the middle quarter of the picture, black to the pixel.
    let (x0, y0) = (width * 3 / 8, height * 3 / 8);
    let (x1, y1) = (x0 + width / 4, y0 + height / 4);
    for y in y0 + 1..y1 - 1 {
        for x in x0 + 1..x1 - 1 {
            assert_eq!(
                image.get_pixel(x, y).0,
                [0, 0, 0],
                "({x}, {y}) is blacked out"
            );
        }
    }
    // The page itself shows (the demo shop is light), and the highlight is drawn.
    let light = (0..width)
        .filter(|x| image.get_pixel(*x, 5).0.iter().all(|c| *c > 200))
        .count();
    assert!(light > width as usize / 2, "the page is in the picture");
    let orange = image.pixels().filter(|p| p.0 == [0xf5, 0x9e, 0x0b]).count();
    assert!(orange > 200, "the highlight is drawn ({orange} pixels)");
    std::fs::write(
        common::artefacts_dir().join("screenshot-as-stored.png"),
        &bytes,
    )
    .unwrap();

    // The owner opens it from the inbox: a page of the dashboard with the image centred and
    // nothing refused by any policy on the way.
    browser
        .run_on_every_page(
            "window.violations = [];
             document.addEventListener('securitypolicyviolation',
               e => violations.push(e.violatedDirective + ' ' + e.blockedURI));",
        )
        .await;
    browser.sign_in(&collector, OWNER, PASSWORD).await;
    browser
        .client
        .find(Locator::LinkText("View the screenshot"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "const image = document.querySelector('.full-shot img');
             return !!image && image.complete && image.naturalWidth > 0;",
            "the full image shows",
        )
        .await;
    let page = browser
        .client
        .execute(
            "const image = document.querySelector('.full-shot img').getBoundingClientRect();
             const main = document.querySelector('main').getBoundingClientRect();
             return {
               path: location.pathname,
               violations: window.violations,
               centred: Math.abs((image.left - main.left) - (main.right - image.right)) <= 2,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        page,
        json!({
            "path": format!("/admin/feedback/{id}/screenshot/view"),
            "violations": [],
            "centred": true,
        })
    );
    browser.screenshot("screenshot-owner-full-image").await;
    browser.close().await;
}

/// On a phone there is no tab to share (no `getDisplayMedia`): the visitor picks an image,
/// which reaches the owner as it was (re-encoded, same size and pixels). In German, as the
/// visitor reads the widget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_visitor_attaches_an_image_file() {
    let Some(browser) = browser::start().await else {
        return;
    };
    // A German visitor: the editor speaks the language the loader chose.
    let (collector, shop) = shop_taking_screenshots_with(HostOptions {
        snippet_attributes: r#"data-lang="de""#.into(),
        ..Default::default()
    });
    browser.client.set_window_size(390, 844).await.unwrap();
    // A phone's browser: a touch screen, and no way to share a tab.
    browser
        .run_on_every_page("delete MediaDevices.prototype.getDisplayMedia;")
        .await;
    browser
        .cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true, "maxTouchPoints": 5 }),
        )
        .await;
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "Photo of the receipt").await;
    displayed(&widget, "button.shot-add")
        .await
        .click()
        .await
        .unwrap();
    // What to pick, in German, then the picker.
    let german = &earshot_shared::texts::SHOT_DE;
    assert_eq!(
        displayed(&widget, ".shot-say").await.text().await.unwrap(),
        german.pick_hint
    );
    displayed(&widget, ".shot-choices button")
        .await
        .click()
        .await
        .unwrap();

    let picture = image::RgbImage::from_fn(600, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let _file = pick_image_file(&widget, &picture).await;
    assert_eq!(
        displayed(&widget, ".shot-title")
            .await
            .text()
            .await
            .unwrap(),
        german.title
    );
    browser.screenshot("screenshot-phone-editor").await;
    widget
        .find(Locator::Css(".shot-attach"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    browser.screenshot("screenshot-phone-attached").await;
    send(&browser, &widget, german.sent).await;

    let rows = stored(&collector);
    assert_eq!(rows.len(), 1);
    let (_, bytes) = screenshot_for_owner(&collector, &rows[0].0);
    let stored = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!((stored.width(), stored.height()), (600, 400));
    assert_eq!(stored.get_pixel(200, 100).0, [200, 100, 120]);
    browser.close().await;
}

/// Offline, the screenshot waits with its submission (IndexedDB) and both are sent when the
/// connection is back: one submission, one screenshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_screenshot_waits_with_its_feedback_and_both_arrive_once() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, _shop, widget) = feedback_with_a_capture(&browser, "Written in a tunnel").await;

    browser.set_offline(true).await;
    send(&browser, &widget, earshot_shared::texts::SHOT_EN.kept).await;
    assert_eq!(
        displayed(&widget, ".thanks-title")
            .await
            .text()
            .await
            .unwrap(),
        "Saved for later"
    );
    browser.screenshot("screenshot-offline").await;
    assert!(stored(&collector).is_empty());

    browser.set_offline(false).await;
    browser
        .wait_for(
            "return !localStorage['earshot-shots:demo'] && Object.keys(localStorage).every(k => !k.startsWith('earshot-queue:'));",
            "the feedback and its screenshot are sent",
        )
        .await;
    let rows = stored(&collector);
    assert_eq!(rows.len(), 1, "one submission");
    assert!(!rows[0].2.is_empty(), "with its screenshot");
    screenshot_for_owner(&collector, &rows[0].0);
    browser.close().await;
}

/// A failed upload is said to the visitor, with a button that sends it again; the second
/// attempt stores it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_that_fails_is_said_and_sent_again_once() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, _shop, widget) = feedback_with_a_capture(&browser, "The map is blank").await;
    listen_for_errors(&browser).await;

    // The upload fails as a dropped connection would; the feedback itself goes through.
    block_uploads(&browser, true).await;
    send(&browser, &widget, earshot_shared::texts::SHOT_EN.failed).await;
    let (_, heard) = browser.heard().await;
    assert_eq!(heard[0][1]["code"], "screenshot-waiting", "{heard}");
    browser.screenshot("screenshot-failed").await;
    let rows = stored(&collector);
    assert_eq!(
        rows.len(),
        1,
        "the feedback is stored without waiting for its screenshot"
    );
    assert!(rows[0].2.is_empty());

    block_uploads(&browser, false).await;
    displayed(&widget, ".shot-retry")
        .await
        .click()
        .await
        .unwrap();
    status_says(&browser, SENT).await;
    let rows = stored(&collector);
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].2.is_empty(), "stored once, with its screenshot");
    browser.close().await;
}

/// A screenshot still unsent when the visitor leaves the page goes out from the next page
/// of the site they open: the loader sees that one is waiting and fetches the editor to
/// send it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_left_unsent_is_sent_from_the_next_page() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop, widget) = feedback_with_a_capture(&browser, "Left in a hurry").await;
    block_uploads(&browser, true).await;
    send(&browser, &widget, earshot_shared::texts::SHOT_EN.failed).await;
    block_uploads(&browser, false).await;

    browser.client.goto(&shop.url()).await.unwrap();
    browser
        .wait_for(
            "return !localStorage['earshot-shots:demo'];",
            "the waiting screenshot is sent",
        )
        .await;
    assert!(editor_fetched(&browser).await, "fetched to send it");
    let rows = stored(&collector);
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].2.is_empty(), "the feedback has its screenshot");
    browser.close().await;
}

/// A screenshot whose feedback is gone by the time it is sent (erased at the visitor's
/// request, here) is dropped with a word to the visitor, not retried for a week.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_whose_feedback_was_erased_is_dropped_not_retried() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, _shop, widget) = feedback_with_a_capture(&browser, "Please forget me").await;
    widget
        .find(Locator::Css("#earshot-email"))
        .await
        .unwrap()
        .send_keys("gone@example.com")
        .await
        .unwrap();
    block_uploads(&browser, true).await;
    send(&browser, &widget, earshot_shared::texts::SHOT_EN.failed).await;
    let out = collector.cli(&["erase", "gone@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stored(&collector).is_empty());

    block_uploads(&browser, false).await;
    listen_for_errors(&browser).await;
    displayed(&widget, ".shot-retry")
        .await
        .click()
        .await
        .unwrap();
    status_says(&browser, earshot_shared::texts::SHOT_EN.refused).await;
    browser
        .wait_for(
            "return !localStorage['earshot-shots:demo'];",
            "nothing left to retry",
        )
        .await;
    let (_, heard) = browser.heard().await;
    assert_eq!(heard[0][1]["code"], "unknown-submission", "{heard}");
    browser.close().await;
}

/// A site that has not turned screenshots on offers none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_are_offered_only_where_the_site_turned_them_on() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (_collector, shop) = shop_with_collector(HostOptions::default());
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "No pictures here").await;
    assert!(widget.find(Locator::Css(".shot-add")).await.is_err());
    assert!(widget.find(Locator::Css("#earshot-comment")).await.is_ok());
    browser.close().await;
}

/// Where the page's policy blocks WebAssembly, the widget's window offers screenshots too,
/// the editor fetched only when asked for there as well, and the picture is stored with
/// the feedback the window sent for the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_for_pages_that_block_webassembly_attaches_screenshots_too() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let port = common::free_port();
    let collector = Collector::start(&[&format!("http://localhost:{port}")]);
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(out.status.success());
    collector.add_user(OWNER, PASSWORD, &[]);
    let c = collector.origin();
    let shop = HostSite::start_with(
        port,
        &c,
        HostOptions {
            csp: Some(format!(
                "default-src 'none'; script-src {c}; style-src {c}; connect-src {c}"
            )),
            ..Default::default()
        },
    );
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    browser.click_launcher().await;
    browser.switch_to_new_window().await;
    let widget = browser.widget().await;
    displayed(&widget, "[role=dialog]").await;
    browser
        .wait_for(
            "return document.querySelector('earshot-widget').shadowRoot.activeElement?.name === 'earshot-rating'",
            "the focus on the rating",
        )
        .await;
    browser.press(&[Key::Space, Key::Right]).await;
    assert!(!editor_fetched(&browser).await);
    add_screenshot(&browser, &widget).await;
    // The visitor chooses the page's tab in the browser's picker (here Chromium, told to
    // choose the tab titled "Ferndale…"); the window itself is not offered.
    displayed(&widget, ".shot-attach").await;
    assert!(editor_fetched(&browser).await);
    browser.screenshot("screenshot-window-editor").await;
    widget
        .find(Locator::Css(".shot-attach"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    let text = widget.find(Locator::Css("#earshot-comment")).await.unwrap();
    text.send_keys("Sent from the window").await.unwrap();
    send(&browser, &widget, SENT).await;

    let token = collector.create_token(None);
    let (_, csv) = collector.export(Some(&token), "feedback.csv");
    let rows = parse_csv(&csv).1;
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "page_url"), shop.url());
    assert!(!cell(&rows[0], "screenshot").is_empty());
    let (content_type, _) = screenshot_for_owner(&collector, cell(&rows[0], "id"));
    assert_eq!(content_type, "image/png");
    browser.close().await;
}

/// What a stranger may send in a screenshot's place, to the real binary over HTTP: each is
/// refused with its JSON error and nothing is kept, while a good picture for the same
/// submission is still accepted afterwards.
#[test]
fn bombs_cut_pictures_polyglots_and_svg_are_refused_and_nothing_is_stored() {
    const ORIGIN: &str = "https://shop.example";
    let collector = Collector::start(&[ORIGIN]);
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(out.status.success());
    collector.add_user(OWNER, PASSWORD, &[]);
    let body = common::collector::feedback_body(
        "The pay button is grey",
        json!({"page_url": format!("{ORIGIN}/checkout")}),
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    assert_eq!(collector.post_feedback(&agent, ORIGIN, &body), 201);
    let id = body["id"].as_str().unwrap().to_owned();

    let encode = |image: image::DynamicImage, format: image::ImageFormat| {
        let mut out = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut out), format)
            .unwrap();
        out
    };
    let photo = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([x as u8 * 4, y as u8 * 5, 90])
    }));
    let png = encode(photo.clone(), image::ImageFormat::Png);
    // 16.5 megapixels of one grey: a few KB sent, 16.5 MB once decoded.
    let bomb = encode(
        image::DynamicImage::ImageLuma8(image::GrayImage::new(5000, 3300)),
        image::ImageFormat::Png,
    );
    assert!(bomb.len() < 100_000, "{} B", bomb.len());
    let mut polyglot = encode(photo, image::ImageFormat::Jpeg);
    polyglot.extend_from_slice(b"<script>alert(document.cookie)</script>");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;

    let put = |content_type: &str, bytes: &[u8]| {
        let mut response = agent
            .put(&collector.url(&format!("/v1/feedback/{id}/screenshot")))
            .header("Origin", ORIGIN)
            .header("Content-Type", content_type)
            .send(bytes)
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, text)
    };
    for (what, content_type, bytes, status, code) in [
        (
            "a decompression bomb",
            "image/png",
            &bomb[..],
            422,
            "invalid-image",
        ),
        (
            "a PNG cut short",
            "image/png",
            &png[..png.len() / 2],
            422,
            "invalid-image",
        ),
        (
            "a JPEG with a script after it",
            "image/jpeg",
            &polyglot[..],
            422,
            "invalid-image",
        ),
        (
            "an SVG",
            "image/svg+xml",
            &svg[..],
            415,
            "unsupported-media-type",
        ),
        (
            "an SVG called a PNG",
            "image/png",
            &svg[..],
            422,
            "invalid-image",
        ),
    ] {
        let (got, text) = put(content_type, bytes);
        assert_eq!(got, status, "{what}: {text}");
        let error: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: a JSON error, not {text:?}"));
        assert_eq!(error["code"], code, "{what}: {text}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(stored(&collector)[0].2.is_empty(), "{what}: nothing stored");
    }
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let (status, _, _) = owner.get_bytes(&format!("/admin/feedback/{id}/screenshot"));
    assert_eq!(status, 404, "no screenshot to serve");

    assert_eq!(put("image/png", &png).0, 201, "a picture is still accepted");
    assert!(!stored(&collector)[0].2.is_empty());
}

/// Escape in the editor cancels, by keyboard alone: a visitor backing out of a capture
/// that shows too much finds nothing attached, and one backing out of
/// a second edit finds the picture attached as it was, without the marks of that edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_in_the_editor_cancels_and_attaches_nothing_new() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_taking_screenshots();
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "My card number shows").await;

    // A capture, blacked out in the middle, then Escape: nothing attached.
    add_screenshot(&browser, &widget).await;
    assert_eq!(browser.focus_in_widget().await, "BUTTON.button: Highlight");
    browser
        .press(&[Key::Tab, Key::Enter, Key::Tab, Key::Enter, Key::Escape])
        .await;
    assert!(
        widget.find(Locator::Css(".shot-editor")).await.is_err(),
        "the editor is closed"
    );
    assert!(
        widget.find(Locator::Css(".shot-thumb")).await.is_err(),
        "Escape attached the picture"
    );
    assert_eq!(
        browser.focus_in_widget().await,
        "BUTTON.button: Add a screenshot"
    );
    // Escape closed the editor only, not the feedback dialog.
    displayed(&widget, "#earshot-comment").await;

    // Attached with the middle blacked out; then edited again, a second black-out drawn
    // higher up, and Escape: the picture stays attached with its first mark only.
    add_screenshot(&browser, &widget).await;
    browser
        .press(&[Key::Tab, Key::Enter, Key::Tab, Key::Enter])
        .await;
    displayed(&widget, ".shot-attach")
        .await
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    assert_eq!(
        browser.focus_in_widget().await,
        "BUTTON.button: Edit screenshot"
    );
    browser.press(&[Key::Enter]).await;
    displayed(&widget, ".shot-attach").await;
    // Black out (the tool is not remembered), then Undo and on to the picture.
    browser
        .press(&[Key::Tab, Key::Enter, Key::Tab, Key::Tab])
        .await;
    let mut keys = vec![Key::Up; 12];
    keys.extend([Key::Enter, Key::Escape]);
    browser.press(&keys).await;
    assert!(widget.find(Locator::Css(".shot-editor")).await.is_err());
    displayed(&widget, ".shot-thumb").await;
    assert_eq!(
        browser.focus_in_widget().await,
        "BUTTON.button: Edit screenshot"
    );
    browser.screenshot("screenshot-escape-kept").await;

    send(&browser, &widget, SENT).await;
    let rows = stored(&collector);
    assert_eq!(rows.len(), 1);
    let (_, bytes) = screenshot_for_owner(&collector, &rows[0].0);
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let (width, height) = (image.width(), image.height());
    let black_in = |rows: std::ops::Range<u32>| {
        let columns = width * 3 / 8 + 2..width * 5 / 8 - 2;
        let all = rows.len() * columns.len();
        let black = rows
            .flat_map(|y| columns.clone().map(move |x| (x, y)))
            .filter(|(x, y)| image.get_pixel(*x, *y).0 == [0, 0, 0])
            .count();
        black as f64 / all as f64
    };
    assert_eq!(
        black_in(height * 3 / 8 + 2..height * 5 / 8 - 2),
        1.0,
        "the first mark is there"
    );
    assert!(
        black_in(height / 8 + 2..height * 3 / 8 - 2) < 0.5,
        "the mark of the cancelled edit is not"
    );
    browser.close().await;
}

/// A phone (no `getDisplayMedia`, a touch screen, 390 px wide) before the picker opens: the
/// visitor is told what to pick and how to take a screenshot first, the editor's help
/// speaks of fingers, not keys, and a photo too large to send as it is is made smaller and
/// the visitor is told so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_visitor_is_told_what_to_pick_and_that_it_was_made_smaller() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let english = &earshot_shared::texts::SHOT_EN;
    let (collector, shop) = shop_taking_screenshots();
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .run_on_every_page("delete MediaDevices.prototype.getDisplayMedia;")
        .await;
    browser
        .cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true, "maxTouchPoints": 5 }),
        )
        .await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "The photo of my receipt").await;
    displayed(&widget, "button.shot-add")
        .await
        .click()
        .await
        .unwrap();

    // A word first, in the place of the button, and no picker yet.
    assert_eq!(
        displayed(&widget, ".shot-note .shot-say")
            .await
            .text()
            .await
            .unwrap(),
        english.pick_hint
    );
    assert!(widget.find(Locator::Css("input.shot-file")).await.is_err());
    assert!(
        !widget
            .find(Locator::Css(".shot-add"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    assert_eq!(
        browser.focus_in_widget().await,
        format!("BUTTON.button: {}", english.choose_file)
    );
    browser.screenshot("screenshot-phone-hint").await;
    displayed(&widget, ".shot-choices button")
        .await
        .click()
        .await
        .unwrap();

    // A photo of 2400 × 1800 pixels of noise: over 2 MB as PNG and as JPEG.
    let mut seed: u32 = 0x2545_f491;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    };
    let picture =
        image::RgbImage::from_fn(2400, 1800, |_, _| image::Rgb([noise(), noise(), noise()]));
    let _file = pick_image_file(&widget, &picture).await;
    assert_eq!(
        displayed(&widget, ".shot-help").await.text().await.unwrap(),
        english.help_touch,
        "a touch screen's help"
    );
    browser.screenshot("screenshot-phone-editor-touch").await;
    widget
        .find(Locator::Css(".shot-attach"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    send(&browser, &widget, english.sent_smaller).await;
    browser.screenshot("screenshot-phone-sent-smaller").await;

    let rows = stored(&collector);
    let (_, bytes) = screenshot_for_owner(&collector, &rows[0].0);
    let stored = image::load_from_memory(&bytes).unwrap();
    assert!(
        stored.width() < 2400 && stored.height() < 1800,
        "made smaller: {} × {}",
        stored.width(),
        stored.height()
    );
    browser.close().await;
}

/// A capture the visitor cancels (the browser's answer is refused once, here): a quiet word,
/// not an error, with "Choose an image" and "Try again" on a row of their own in the place of
/// "Add a screenshot". Then, by keyboard: the help names the bigger steps, Page Up and Home
/// take the frame from the middle to the corner in eight presses, and a click on the
/// backdrop leaves the focus in the editor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_capture_is_a_quiet_word_and_the_keyboard_reaches_a_corner_fast() {
    let Some(browser) = browser::start().await else {
        return;
    };
    let english = &earshot_shared::texts::SHOT_EN;
    let (collector, shop) = shop_taking_screenshots();
    // Before CAPTURE_LOG, which wraps whatever getDisplayMedia is then.
    browser
        .run_on_every_page(
            "const share = MediaDevices.prototype.getDisplayMedia;
             let cancelled = false;
             MediaDevices.prototype.getDisplayMedia = function (options) {
               if (cancelled) return share.call(this, options);
               cancelled = true;
               return Promise.reject(new DOMException('Permission denied by user', 'NotAllowedError'));
             };",
        )
        .await;
    browser.run_on_every_page(CAPTURE_LOG).await;
    browser.client.goto(&shop.url()).await.unwrap();
    let widget = fill_in(&browser, "The map does not load").await;
    displayed(&widget, "button.shot-add")
        .await
        .click()
        .await
        .unwrap();

    let say = displayed(&widget, ".shot-note .shot-say").await;
    assert_eq!(say.text().await.unwrap(), english.capture_refused);
    let layout = browser
        .client
        .execute(
            "const root = document.querySelector('earshot-widget').shadowRoot;
             const say = root.querySelector('.shot-say');
             const buttons = [...root.querySelectorAll('.shot-note button')];
             return {
               muted: getComputedStyle(say).color === getComputedStyle(root.querySelector('#earshot-email-hint')).color,
               failed: root.querySelector('.shot-note').classList.contains('shot-failed'),
               inSentence: say.querySelectorAll('button').length,
               buttons: buttons.map(b => b.textContent),
               belowSentence: buttons.every(b => b.getBoundingClientRect().top >= say.getBoundingClientRect().bottom),
               oneRow: new Set(buttons.map(b => Math.round(b.getBoundingClientRect().top))).size,
               addShown: root.querySelector('.shot-add').offsetParent !== null,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        layout,
        json!({
            "muted": true,
            "failed": false,
            "inSentence": 0,
            "buttons": [english.choose_file, english.retry],
            "belowSentence": true,
            "oneRow": 1,
            "addShown": false,
        })
    );
    assert_eq!(
        browser.focus_in_widget().await,
        format!("BUTTON.button: {}", english.choose_file)
    );
    browser.screenshot("screenshot-capture-cancelled").await;
    assert_eq!(
        browser.axe_violations().await,
        Vec::<String>::new(),
        "the form after a cancelled capture"
    );

    // "Try again" by keyboard takes the tab this time.
    browser.press(&[Key::Tab, Key::Enter]).await;
    displayed(&widget, ".shot-attach").await;
    assert_eq!(
        widget
            .find(Locator::Css(".shot-help"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        english.help
    );
    assert!(english.help.contains("Page Up"));
    // Black out, on to the picture, four big steps up and four left: the top left corner.
    let mut keys = vec![Key::Tab, Key::Enter, Key::Tab];
    keys.extend([Key::PageUp; 4]);
    keys.extend([Key::Home; 4]);
    browser.press(&keys).await;
    browser.press(&[Key::Enter]).await;
    assert!(
        browser.focus_in_widget().await.starts_with("CANVAS."),
        "{}",
        browser.focus_in_widget().await
    );

    // A click on the backdrop, beside the editor's box (which keeps 16 px from the edges).
    let corner = PointerAction::MoveTo {
        duration: None,
        x: 4.0,
        y: 4.0,
    };
    browser
        .client
        .perform_actions(
            MouseActions::new("mouse".into())
                .then(corner)
                .then(PointerAction::Down {
                    button: fantoccini::actions::MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: fantoccini::actions::MOUSE_BUTTON_LEFT,
                }),
        )
        .await
        .unwrap();
    let focus = browser.focus_in_widget().await;
    assert!(focus.starts_with("CANVAS."), "the focus went to {focus}");
    browser.screenshot("screenshot-keyboard-corner").await;

    displayed(&widget, ".shot-attach")
        .await
        .click()
        .await
        .unwrap();
    displayed(&widget, ".shot-thumb").await;
    send(&browser, &widget, SENT).await;
    let rows = stored(&collector);
    let (_, bytes) = screenshot_for_owner(&collector, &rows[0].0);
    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let (w, h) = (image.width(), image.height());
    for y in 1..h / 4 - 1 {
        for x in 1..w / 4 - 1 {
            assert_eq!(image.get_pixel(x, y).0, [0, 0, 0], "({x}, {y}) is black");
        }
    }
    browser.close().await;
}

/// A JPEG saved at a low quality, just under the upload limit, grows when decoded and saved
/// again at the collector's quality: what is stored must still keep the limit the upload was
/// held to. Over HTTP, to the real binary.
#[test]
fn a_picture_that_would_grow_when_encoded_anew_is_stored_within_the_limit() {
    use earshot_shared::limits::MAX_SCREENSHOT_BYTES;
    const ORIGIN: &str = "https://shop.example";
    let jpeg = |image: &image::RgbImage, quality: u8| {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(image)
            .unwrap();
        out
    };
    // Noise, 1500 pixels wide, as many rows as fit the limit at quality 50 (about 4 % under).
    let mut seed: u32 = 0x9e37_79b9;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    };
    let field =
        image::RgbImage::from_fn(1500, 4000, |_, _| image::Rgb([noise(), noise(), noise()]));
    let rows_that_fit = {
        let sample = jpeg(
            &image::imageops::crop_imm(&field, 0, 0, 1500, 200).to_image(),
            50,
        );
        (200 * MAX_SCREENSHOT_BYTES * 96 / 100 / sample.len()) as u32
    };
    let picture = image::imageops::crop_imm(&field, 0, 0, 1500, rows_that_fit.min(4000)).to_image();
    let sent = jpeg(&picture, 50);
    assert!(sent.len() <= MAX_SCREENSHOT_BYTES, "{} B", sent.len());
    // The case in point: the same pixels at quality 85 are over the limit.
    let decoded = image::load_from_memory(&sent).unwrap().to_rgb8();
    let again = jpeg(&decoded, 85);
    assert!(
        again.len() > MAX_SCREENSHOT_BYTES,
        "{} B sent, {} B at quality 85",
        sent.len(),
        again.len()
    );

    let collector = Collector::start(&[ORIGIN]);
    let out = collector.cli(&["site", "widget", "demo", "--screenshots", "on"]);
    assert!(out.status.success());
    collector.add_user(OWNER, PASSWORD, &[]);
    let body = common::collector::feedback_body(
        "The photo of the shelf",
        json!({"page_url": format!("{ORIGIN}/shelf")}),
    );
    let agent = common::collector::http();
    assert_eq!(collector.post_feedback(&agent, ORIGIN, &body), 201);
    let id = body["id"].as_str().unwrap();
    let response = agent
        .put(&collector.url(&format!("/v1/feedback/{id}/screenshot")))
        .header("Origin", ORIGIN)
        .header("Content-Type", "image/jpeg")
        .send(&sent[..])
        .unwrap();
    assert_eq!(response.status(), 201);

    let (content_type, stored) = screenshot_for_owner(&collector, id);
    assert_eq!(content_type, "image/jpeg");
    assert!(
        stored.len() <= MAX_SCREENSHOT_BYTES,
        "{} B sent, {} B stored: over the {MAX_SCREENSHOT_BYTES} B limit",
        sent.len(),
        stored.len()
    );
    let image = image::load_from_memory(&stored).unwrap();
    eprintln!(
        "{} × {}, {} B sent; {} B at quality 85; stored {} × {}, {} B",
        picture.width(),
        picture.height(),
        sent.len(),
        again.len(),
        image.width(),
        image.height(),
        stored.len()
    );
}
