//! The widget's components in a real Chromium (wasm-bindgen-test): what a visitor sees and
//! can do, without a collector. The end-to-end tests in `tests/` cover the path to the
//! collector.

use std::time::Duration;

use earshot_widget::{App, AppProps, Position, WidgetConfig};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    gloo::utils::document()
}

fn script_tag(attributes: &[(&str, &str)]) -> Element {
    let script = document().create_element("script").unwrap();
    for (name, value) in attributes {
        script.set_attribute(name, value).unwrap();
    }
    script
}

/// Yew renders asynchronously: let it run before looking at the DOM.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

async fn render_app() -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let config = WidgetConfig::from_script(
        &script_tag(&[("data-site", "demo")]),
        "http://127.0.0.1:9".into(),
    )
    .unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { config }).render();
    settle().await;
    root
}

fn find(root: &Element, css: &str) -> Option<HtmlElement> {
    root.query_selector(css)
        .unwrap()
        .map(|e| e.unchecked_into())
}

fn active_element() -> Option<Element> {
    document().active_element()
}

#[wasm_bindgen_test]
fn configuration_comes_from_the_script_tag() {
    let config = WidgetConfig::from_script(
        &script_tag(&[
            ("data-site", "shop-1"),
            ("data-label", "Tell us"),
            ("data-lang", "fr"),
        ]),
        "https://feedback.shop.example/".into(),
    )
    .unwrap();
    assert_eq!(config.site.as_str(), "shop-1");
    assert_eq!(config.label.as_deref(), Some("Tell us"));
    assert_eq!(config.lang.as_deref(), Some("fr"));
    assert_eq!(config.position, Position::BottomRight, "the default corner");
    let corner = |value: &str| {
        WidgetConfig::from_script(
            &script_tag(&[("data-site", "demo"), ("data-position", value)]),
            "https://x.example".into(),
        )
        .unwrap()
        .position
    };
    assert_eq!(corner("top-left"), Position::TopLeft);
    assert_eq!(corner("bottom-left"), Position::BottomLeft);
    assert_eq!(
        corner("middle"),
        Position::BottomRight,
        "an unknown corner falls back"
    );
    assert_eq!(
        config.feedback_url(),
        "https://feedback.shop.example/v1/feedback"
    );
    assert_eq!(
        config.stylesheet_url(),
        "https://feedback.shop.example/earshot.css"
    );
}

#[wasm_bindgen_test]
fn a_missing_or_malformed_site_key_is_reported() {
    let missing = WidgetConfig::from_script(&script_tag(&[]), "https://x.example".into());
    assert!(missing.unwrap_err().contains("data-site"));
    let malformed = WidgetConfig::from_script(
        &script_tag(&[("data-site", "Not A Key")]),
        "https://x.example".into(),
    );
    assert!(malformed.is_err());
}

#[wasm_bindgen_test]
async fn the_launcher_opens_a_dialog_that_takes_the_focus_and_escape_gives_it_back() {
    let root = render_app().await;
    let launcher = find(&root, "button.launcher").expect("a launcher");
    assert_eq!(launcher.text_content().unwrap().trim(), "Feedback");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    assert!(find(&root, "[role=dialog]").is_none(), "closed at first");

    launcher.click();
    settle().await;
    let dialog = find(&root, "[role=dialog]").expect("the dialog opened");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    let first_star = find(&root, "#earshot-star-1").unwrap();
    assert_eq!(
        active_element(),
        Some(first_star.into()),
        "focus moves into the dialog"
    );
    assert_eq!(
        root.query_selector_all("input[type=radio]")
            .unwrap()
            .length(),
        5
    );
    for label in ["1 star", "5 stars"] {
        assert!(
            dialog.text_content().unwrap().contains(label),
            "{label} is named for screen readers"
        );
    }

    let init = KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    let escape = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    dialog.dispatch_event(&escape).unwrap();
    settle().await;
    assert!(
        find(&root, "[role=dialog]").is_none(),
        "Escape closes the dialog"
    );
    assert_eq!(
        active_element(),
        Some(launcher.into()),
        "focus returns to the launcher"
    );
}

#[wasm_bindgen_test]
async fn sending_without_a_rating_asks_for_one() {
    let root = render_app().await;
    find(&root, "button.launcher").unwrap().click();
    settle().await;
    find(&root, "button.submit").unwrap().click();
    settle().await;
    let alert = find(&root, "[role=alert]").expect("an error message");
    assert_eq!(
        alert.text_content().unwrap(),
        "Please choose a rating first."
    );
}

#[wasm_bindgen_test]
async fn choosing_a_star_lights_it_and_those_before_it() {
    let root = render_app().await;
    find(&root, "button.launcher").unwrap().click();
    settle().await;
    let third: HtmlInputElement = find(&root, "#earshot-star-3").unwrap().unchecked_into();
    third.click();
    settle().await;
    assert!(third.checked());
    let lit = root.query_selector_all("label.star.lit").unwrap().length();
    assert_eq!(lit, 3);
}

#[wasm_bindgen_test]
async fn the_widget_mounts_in_its_own_shadow_root() {
    earshot_widget::mount(
        script_tag(&[("data-site", "demo")]),
        "http://127.0.0.1:9".into(),
    )
    .unwrap();
    settle().await;
    let host = document()
        .query_selector(earshot_widget::HOST_TAG)
        .unwrap()
        .expect("the host element");
    let shadow = host.shadow_root().expect("an open shadow root");
    let link = shadow
        .query_selector("link[rel=stylesheet]")
        .unwrap()
        .unwrap();
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("http://127.0.0.1:9/earshot.css")
    );
    assert!(shadow.query_selector("button.launcher").unwrap().is_some());
    // Other tests render into the light DOM of the same page; what matters is that nothing
    // of this widget is reachable from the page's own DOM.
    assert!(
        document()
            .query_selector(&format!("{} button", earshot_widget::HOST_TAG))
            .unwrap()
            .is_none(),
        "nothing leaks into the page"
    );
}

#[wasm_bindgen_test]
fn every_language_has_every_text_translated() {
    use earshot_widget::i18n::{EN, LANGUAGES};
    assert_eq!(LANGUAGES.len(), 7);
    for texts in LANGUAGES {
        // Every field of `Texts`, as (name, value), so a new text is checked as soon as it
        // exists.
        let fields = [
            ("launcher", texts.launcher, EN.launcher),
            ("title", texts.title, EN.title),
            ("close", texts.close, EN.close),
            ("rating_legend", texts.rating_legend, EN.rating_legend),
            ("comment_label", texts.comment_label, EN.comment_label),
            (
                "comment_placeholder",
                texts.comment_placeholder,
                EN.comment_placeholder,
            ),
            ("email_label", texts.email_label, EN.email_label),
            ("email_hint", texts.email_hint, EN.email_hint),
            ("honeypot_label", texts.honeypot_label, EN.honeypot_label),
            ("submit", texts.submit, EN.submit),
            ("sending", texts.sending, EN.sending),
            ("thanks_title", texts.thanks_title, EN.thanks_title),
            ("thanks_body", texts.thanks_body, EN.thanks_body),
            ("queued_title", texts.queued_title, EN.queued_title),
            ("queued_body", texts.queued_body, EN.queued_body),
            ("done", texts.done, EN.done),
            ("choose_rating", texts.choose_rating, EN.choose_rating),
            ("network_error", texts.network_error, EN.network_error),
            ("server_error", texts.server_error, EN.server_error),
            ("retry", texts.retry, EN.retry),
        ];
        for (name, text, english) in fields {
            assert!(!text.trim().is_empty(), "{}: {name} is empty", texts.lang);
            if texts.lang != "en" {
                assert_ne!(text, english, "{}: {name} is still in English", texts.lang);
            }
        }
        for (n, star) in texts.star_names.iter().enumerate() {
            assert!(
                star.contains(&(n + 1).to_string()),
                "{}: star name {star:?}",
                texts.lang
            );
        }
    }
}

#[wasm_bindgen_test]
fn languages_are_chosen_by_tag_then_browser_then_english() {
    use earshot_widget::i18n::{for_tag, texts};
    assert_eq!(for_tag("fr-CA").unwrap().lang, "fr");
    assert_eq!(for_tag("zh_Hant_TW").unwrap().lang, "zh");
    assert_eq!(for_tag("PT-br").unwrap().lang, "pt");
    assert!(for_tag("tlh").is_none());
    assert_eq!(texts(Some("de")).lang, "de");
    // Headless Chromium speaks English, and an unknown data-lang falls back to it.
    assert_eq!(texts(Some("tlh")).lang, "en");
    assert_eq!(texts(None).lang, "en");
}

#[wasm_bindgen_test]
async fn the_widget_speaks_the_language_of_its_tag() {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let config = WidgetConfig::from_script(
        &script_tag(&[("data-site", "demo"), ("data-lang", "ja")]),
        "http://127.0.0.1:9".into(),
    )
    .unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { config }).render();
    settle().await;
    assert_eq!(
        find(&root, "button.launcher")
            .unwrap()
            .text_content()
            .unwrap()
            .trim(),
        "ご意見"
    );
}
