//! A headless Chromium, driven through chromedriver with fantoccini.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::{Element, ShadowRoot};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::{artefacts_dir, browser_required, collector::widget_dir, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Starts Chromium, or returns `None` (saying why) when this machine cannot run the browser
/// tests and the run does not require them.
pub async fn start() -> Option<Browser> {
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let missing = [
        (Path::new(&chromedriver).exists(), "chromedriver"),
        (Path::new(CHROMIUM).exists(), "chromium"),
        (
            widget_dir().join("earshot_widget_bg.wasm").exists(),
            "the built widget (target/widget)",
        ),
    ]
    .into_iter()
    .filter(|(present, _)| !present)
    .map(|(_, name)| name)
    .collect::<Vec<_>>();
    if !missing.is_empty() {
        let message = format!(
            "browser test needs {}: run `cargo xtask test`, or set EARSHOT_ALLOW_SKIPS=1 to skip",
            missing.join(", ")
        );
        assert!(!browser_required(), "{message}");
        eprintln!("SKIPPED: {message}");
        return None;
    }

    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            // chromedriver turns the popup blocker off; visitors have it on, and the widget's
            // window (pages that block WebAssembly) must get past it as it would for them.
            "excludeSwitches": ["disable-popup-blocking"],
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,860",
                // "Add a screenshot" shares this tab as a visitor would after saying yes.
                "--auto-accept-this-tab-capture", "--use-fake-ui-for-media-stream",
                "--auto-select-tab-capture-source-by-title=Ferndale",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(err) if Instant::now() < deadline => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("could not start Chromium through chromedriver: {err}"),
        }
    };
    Some(Browser {
        client,
        driver,
        _profile: profile,
    })
}

impl Browser {
    /// The widget's shadow root, once the widget has mounted.
    pub async fn widget(&self) -> ShadowRoot {
        let host = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("earshot-widget"))
            .await
            .expect("the widget's host element never appeared");
        host.shadow_root().await.unwrap()
    }

    /// The widget's shadow root once the wasm has taken over from the loader's stand-in
    /// launcher (or drawn the inline block): what is found in it then stays.
    pub async fn widget_ready(&self) -> ShadowRoot {
        let widget = self.widget().await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let script = "const host = document.querySelector('earshot-widget');
                      return !!(host && host.shadowRoot.querySelector('[role=status]'));";
        while self.client.execute(script, vec![]).await.unwrap() != json!(true) {
            assert!(Instant::now() < deadline, "the widget never took over");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        widget
    }

    /// Clicks the launcher as a visitor would, as soon as there is one: the loader's
    /// stand-in if the wasm is still on its way (a click that also fetches it), else the
    /// widget's own. If the stand-in is replaced under the click, clicks the new one.
    pub async fn click_launcher(&self) -> ShadowRoot {
        let widget = self.widget().await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match displayed(&widget, "button.launcher").await.click().await {
                Ok(()) => return widget,
                Err(err) => assert!(
                    Instant::now() < deadline,
                    "cannot click the launcher: {err}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses keys one after another on whatever has the focus, as a person would.
    pub async fn press(&self, keys: &[Key]) {
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys {
            actions = actions
                .then(KeyAction::Down {
                    value: (*key).into(),
                })
                .then(KeyAction::Up {
                    value: (*key).into(),
                });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Clicks the launcher and waits for the dialog; returns the widget's shadow root.
    pub async fn open_panel(&self) -> ShadowRoot {
        let widget = self.click_launcher().await;
        displayed(&widget, "[role=dialog]").await;
        widget
    }

    /// Opens the widget, gives four stars by keyboard, writes `comment`, waits as a person
    /// would and sends; returns the title shown afterwards ("Thank you!" or, offline,
    /// "Saved for later").
    pub async fn leave_feedback(&self, comment: &str) -> String {
        self.open_panel().await;
        self.press(&[Key::Space, Key::Right, Key::Right, Key::Right])
            .await;
        self.leave_feedback_in_open_panel(comment).await
    }

    /// Writes `comment` in the open, rated panel, waits as a person would and sends; returns
    /// the title shown afterwards.
    pub async fn leave_feedback_in_open_panel(&self, comment: &str) -> String {
        let widget = self.widget().await;
        let text = widget.find(Locator::Css("#earshot-comment")).await.unwrap();
        text.send_keys(comment).await.unwrap();
        send_as_a_person(&widget).await;
        displayed(&widget, ".thanks-title")
            .await
            .text()
            .await
            .unwrap()
    }

    /// The text of the first element `css` matches on the page, once it is there (at most
    /// 10 s).
    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no {css} on the page: {err}"))
            .text()
            .await
            .unwrap()
    }

    /// Runs axe-core on the whole page (a dashboard page), returning the violations as
    /// "rule: help (n nodes: selectors)" lines.
    pub async fn axe_page_violations(&self) -> Vec<String> {
        self.inject_axe().await;
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.length
                        + ' nodes: ' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(result).unwrap()
    }

    async fn inject_axe(&self) {
        let axe = super::root().join("xtask/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|err| {
            panic!(
                "{}: {err} (cargo xtask test installs axe-core)",
                axe.display()
            )
        });
        self.client.execute(&source, vec![]).await.unwrap();
    }

    /// Runs axe-core (the npm package) on the widget, its host element and shadow root, and
    /// returns the violations as "rule: help (n nodes)" lines.
    pub async fn axe_violations(&self) -> Vec<String> {
        self.inject_axe().await;
        let result = self
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

    /// What has the keyboard focus inside the widget, as `tag.class: text` (e.g.
    /// `H3.thanks-title: Thank you!`), or the page's focused element's tag when the focus is
    /// not in the widget.
    pub async fn focus_in_widget(&self) -> String {
        let value = self
            .client
            .execute(
                "const focused = document.querySelector('earshot-widget')?.shadowRoot?.activeElement;
                 if (!focused) return 'page: ' + document.activeElement.tagName;
                 return focused.tagName + '.' + focused.classList[0] + ': ' + focused.textContent.trim();",
                vec![],
            )
            .await
            .unwrap();
        value.as_str().unwrap().to_owned()
    }

    /// Runs `script` in the page until it returns `true`, and fails the test with `what` if
    /// it has not within 20 s: for waiting on the page without a fixed sleep.
    pub async fn wait_for(&self, script: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.client.execute(script, vec![]).await.unwrap();
            if value == serde_json::Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still not seen after 20 s: {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Takes the browser off the network (or puts it back), as a lost connection would:
    /// every request fails and `navigator.onLine` turns false, then `online` fires on return.
    pub async fn set_offline(&self, offline: bool) {
        self.client
            .issue_cmd(DriverCommand::network(offline))
            .await
            .unwrap();
    }

    /// The `earshot:*` events the page recorded in `window.heard`, each as `[name, detail]`:
    /// their names, and the whole list.
    pub async fn heard(&self) -> (Vec<String>, serde_json::Value) {
        let heard = self
            .client
            .execute("return window.heard", vec![])
            .await
            .unwrap();
        let names = heard
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event[0].as_str().unwrap().to_owned())
            .collect();
        (names, heard)
    }

    /// Sends a Chrome DevTools Protocol command to this tab (touch emulation, blocked
    /// addresses…) and returns its result.
    pub async fn cdp(&self, command: &str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(DriverCommand::cdp(command, params))
            .await
            .unwrap()
    }

    /// Runs `source` at the start of every document this tab loads from now on, before the
    /// page's own scripts and whatever its CSP says (Chromium's
    /// `Page.addScriptToEvaluateOnNewDocument`): how a test listens to a page that allows no
    /// script but the collector's.
    pub async fn run_on_every_page(&self, source: &str) {
        self.client
            .issue_cmd(DriverCommand::cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": source }),
            ))
            .await
            .unwrap();
    }

    /// Switches to the one other window this session has, once it has opened (at most
    /// 20 s); returns the handle of the window it left.
    pub async fn switch_to_new_window(&self) -> fantoccini::wd::WindowHandle {
        let current = self.client.window().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let windows = self.client.windows().await.unwrap();
            if let Some(other) = windows.into_iter().find(|window| *window != current) {
                self.client.switch_to_window(other).await.unwrap();
                return current;
            }
            assert!(Instant::now() < deadline, "no new window opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in to the dashboard as a visitor of `/admin/inbox` would: sent to the sign-in
    /// page, then back to the inbox.
    pub async fn sign_in(
        &self,
        collector: &super::collector::Collector,
        email: &str,
        password: &str,
    ) {
        self.client
            .goto(&collector.url("/admin/inbox"))
            .await
            .unwrap();
        let url = self.client.current_url().await.unwrap();
        assert_eq!(url.path(), "/admin/login", "a page asks to sign in first");
        let field = self.client.find(Locator::Css("#email")).await.unwrap();
        field.send_keys(email).await.unwrap();
        let field = self.client.find(Locator::Css("#password")).await.unwrap();
        field.send_keys(password).await.unwrap();
        self.client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_url(&collector.url("/admin/inbox").parse().unwrap())
            .await
            .unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(artefacts_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the browser session; chromedriver is stopped when `self` drops.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A command of chromedriver's own, beside WebDriver's: `POST /session/{id}/{path}` with a
/// JSON body (network emulation, Chrome DevTools Protocol commands).
#[derive(Debug)]
struct DriverCommand {
    path: &'static str,
    body: serde_json::Value,
}

impl DriverCommand {
    /// Chromium's network emulation: offline, or back online.
    fn network(offline: bool) -> Self {
        Self {
            path: "chromium/network_conditions",
            body: json!({ "network_conditions": {
                "offline": offline,
                "latency": 0,
                "download_throughput": -1,
                "upload_throughput": -1,
            }}),
        }
    }

    /// A Chrome DevTools Protocol command.
    fn cdp(command: &str, params: serde_json::Value) -> Self {
        Self {
            path: "goog/cdp/execute",
            body: json!({ "cmd": command, "params": params }),
        }
    }
}

impl fantoccini::wd::WebDriverCompatibleCommand for DriverCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// Waits the moment a person takes before sending (a submission faster than `MIN_OPEN_MS`
/// is flagged as spam), then presses the widget's send button.
pub async fn send_as_a_person(widget: &ShadowRoot) {
    let pause = u64::from(earshot_shared::limits::MIN_OPEN_MS);
    tokio::time::sleep(Duration::from_millis(pause)).await;
    widget
        .find(Locator::Css("button.submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for an element inside a shadow root to exist and be displayed.
pub async fn displayed(root: &ShadowRoot, css: &str) -> Element {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(element) = root.find(Locator::Css(css)).await
            && element.is_displayed().await.unwrap_or(false)
        {
            return element;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never appeared in the widget"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
