//! The widget's components in a real Chromium (wasm-bindgen-test): what a visitor sees and
//! can do, without a collector. The end-to-end tests in `tests/` cover the path to the
//! collector.

use std::time::Duration;

use earshot_shared::RatingKind;
use earshot_widget::{App, AppProps, Controller, Position, WidgetConfig};
use wasm_bindgen::{JsCast, JsValue};
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

/// How long [`until`] waits: a busy machine renders late, never this late.
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits until `check` finds what it looks for (Yew renders and moves the focus
/// asynchronously, later on a busy machine), and returns it; fails after [`PATIENCE`].
async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let step = Duration::from_millis(10);
    for _ in 0..PATIENCE.as_millis() / step.as_millis() {
        if let Some(found) = check() {
            return found;
        }
        yew::platform::time::sleep(step).await;
    }
    panic!("still not so after {PATIENCE:?}: {what}");
}

/// Waits until an element matches `css`.
async fn shown(root: &Element, css: &str) -> HtmlElement {
    until(css, || find(root, css)).await
}

/// Waits until nothing matches `css`.
async fn gone(root: &Element, css: &str) {
    until(&format!("{css} gone"), || {
        find(root, css).is_none().then_some(())
    })
    .await
}

/// Waits until `element` has the focus.
async fn focused(element: &Element, what: &str) {
    until(what, || {
        (active_element().as_ref() == Some(element)).then_some(())
    })
    .await
}

async fn render_app() -> Element {
    render_with(&[("data-site", "demo")], Controller::default()).await
}

/// Renders the widget configured by these script attributes into a fresh element.
async fn render_with(attributes: &[(&str, &str)], controller: Controller) -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let config =
        WidgetConfig::from_script(&script_tag(attributes), "http://127.0.0.1:9".into()).unwrap();
    yew::Renderer::<App>::with_root_and_props(
        root.clone(),
        AppProps {
            config,
            controller,
            placeholder: None,
        },
    )
    .render();
    until("the widget rendered", || root.first_element_child()).await;
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
    let dialog = shown(&root, "[role=dialog]").await;
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    let first_star = find(&root, "#earshot-star-1").unwrap();
    focused(&first_star, "focus moves into the dialog").await;
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
    gone(&root, "[role=dialog]").await;
    focused(&launcher, "focus returns to the launcher").await;
}

#[wasm_bindgen_test]
async fn sending_without_a_rating_asks_for_one() {
    let root = render_app().await;
    find(&root, "button.launcher").unwrap().click();
    shown(&root, "button.submit").await.click();
    let alert = shown(&root, "[role=alert]").await;
    assert_eq!(
        alert.text_content().unwrap(),
        "Please choose a rating first."
    );
}

#[wasm_bindgen_test]
async fn choosing_a_star_lights_it_and_those_before_it() {
    let root = render_app().await;
    find(&root, "button.launcher").unwrap().click();
    let third: HtmlInputElement = shown(&root, "#earshot-star-3").await.unchecked_into();
    third.click();
    let lit = || {
        root.query_selector_all("label.star[data-lit]")
            .unwrap()
            .length()
    };
    until("three stars lit", || (lit() == 3).then_some(())).await;
    assert!(third.checked());
}

#[wasm_bindgen_test]
async fn the_widget_mounts_in_its_own_shadow_root() {
    let settings = js_sys::Object::new();
    js_sys::Reflect::set(&settings, &"site".into(), &"demo".into()).unwrap();
    earshot_widget::mount(
        document().create_element(earshot_widget::HOST_TAG).unwrap(),
        settings.into(),
        "http://127.0.0.1:9".into(),
    )
    .unwrap();
    let shadow = until("the widget mounted in its shadow root", || {
        document()
            .query_selector(earshot_widget::HOST_TAG)
            .unwrap()?
            .shadow_root()
            .filter(|shadow| shadow.query_selector("button.launcher").unwrap().is_some())
    })
    .await;
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
            (
                "unreachable_body",
                texts.unreachable_body,
                EN.unreachable_body,
            ),
            ("done", texts.done, EN.done),
            ("choose_rating", texts.choose_rating, EN.choose_rating),
            ("network_error", texts.network_error, EN.network_error),
            ("server_error", texts.server_error, EN.server_error),
            ("retry", texts.retry, EN.retry),
            ("helpful", texts.helpful, EN.helpful),
            ("yes", texts.yes, EN.yes),
            ("no", texts.no, EN.no),
            ("nps_question", texts.nps_question, EN.nps_question),
            ("nps_low", texts.nps_low, EN.nps_low),
            ("nps_high", texts.nps_high, EN.nps_high),
            ("emoji 1", texts.emoji_names[0], EN.emoji_names[0]),
            ("emoji 2", texts.emoji_names[1], EN.emoji_names[1]),
            ("emoji 3", texts.emoji_names[2], EN.emoji_names[2]),
            ("emoji 4", texts.emoji_names[3], EN.emoji_names[3]),
            ("emoji 5", texts.emoji_names[4], EN.emoji_names[4]),
            ("screenshot", texts.screenshot, EN.screenshot),
        ];
        // Words that are the same in English and this language, checked by a person.
        const SAME_AS_ENGLISH: [(&str, &str); 2] = [("es", "no"), ("de", "emoji 3")];
        for (name, text, english) in fields {
            assert!(!text.trim().is_empty(), "{}: {name} is empty", texts.lang);
            if texts.lang != "en" && !SAME_AS_ENGLISH.contains(&(texts.lang, name)) {
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
fn languages_are_found_by_their_primary_subtag() {
    use earshot_widget::i18n::for_tag;
    assert_eq!(for_tag("fr-CA").unwrap().lang, "fr");
    assert_eq!(for_tag("zh_Hant_TW").unwrap().lang, "zh");
    assert_eq!(for_tag("PT-br").unwrap().lang, "pt");
    assert!(for_tag("tlh").is_none());
}

/// The loader passes the texts of the language it chose as the collector serves them
/// (`GET /widget/texts/{lang}`: serde's JSON of the same table); texts that lack one
/// string, or none at all, leave the widget in English rather than half translated.
#[wasm_bindgen_test]
fn the_texts_the_loader_passes_are_the_ones_spoken() {
    use earshot_widget::i18n::{DE, EN, LANGUAGES};
    let settings = |texts: Option<&str>| {
        let settings = js_sys::Object::new();
        js_sys::Reflect::set(&settings, &"site".into(), &"demo".into()).unwrap();
        if let Some(json) = texts {
            let texts = js_sys::JSON::parse(json).unwrap();
            js_sys::Reflect::set(&settings, &"texts".into(), &texts).unwrap();
        }
        WidgetConfig::from_settings(&settings, "https://f.example".into()).unwrap()
    };
    for texts in LANGUAGES {
        let json = serde_json::to_string(texts).unwrap();
        assert_eq!(settings(Some(&json)).texts, texts, "{}", texts.lang);
    }
    let mut german = serde_json::to_value(&DE).unwrap();
    german.as_object_mut().unwrap().remove("retry");
    assert_eq!(*settings(Some(&german.to_string())).texts, EN);
    german["retry"] = serde_json::json!("Erneut versuchen");
    german["emoji_names"] = serde_json::json!(["a", "b", "c", "d"]);
    assert_eq!(*settings(Some(&german.to_string())).texts, EN);
    assert_eq!(*settings(Some("{}")).texts, EN);
    assert_eq!(*settings(None).texts, EN);
}

#[wasm_bindgen_test]
async fn the_widget_speaks_the_language_of_its_tag() {
    let root = render_with(
        &[("data-site", "demo"), ("data-lang", "ja")],
        Controller::default(),
    )
    .await;
    assert_eq!(
        find(&root, "button.launcher")
            .unwrap()
            .text_content()
            .unwrap()
            .trim(),
        "ご意見"
    );
}

#[wasm_bindgen_test]
fn the_loader_draws_the_launcher_in_the_same_words() {
    // The loader shows the launcher before the wasm arrives: its table of launcher texts
    // must say what the widget says once it has taken over.
    let loader = include_str!("../../www/earshot.js");
    for texts in earshot_widget::i18n::LANGUAGES {
        let entry = format!("{}:\"{}\"", texts.lang, texts.launcher);
        assert!(loader.contains(&entry), "www/earshot.js lacks {entry}");
    }
}

#[wasm_bindgen_test]
fn settings_come_from_the_loader_and_inline_blocks_default_to_thumbs() {
    let settings = js_sys::Object::new();
    for (key, value) in [
        ("site", "docs"),
        ("target", "#feedback"),
        ("prompt", " Helpful? "),
    ] {
        js_sys::Reflect::set(&settings, &key.into(), &value.into()).unwrap();
    }
    let config = WidgetConfig::from_settings(&settings, "https://f.example/".into()).unwrap();
    assert!(config.inline);
    assert_eq!(config.rating, RatingKind::Thumbs);
    assert_eq!(config.prompt.as_deref(), Some("Helpful?"));
    assert_eq!(config.base, "https://f.example");
    js_sys::Reflect::set(&settings, &"rating".into(), &"nps".into()).unwrap();
    let config = WidgetConfig::from_settings(&settings, "https://f.example".into()).unwrap();
    assert_eq!(config.rating, RatingKind::Nps);

    let floating = WidgetConfig::from_script(
        &script_tag(&[("data-site", "demo"), ("data-rating", "hearts")]),
        "https://f.example".into(),
    )
    .unwrap();
    assert_eq!(
        floating.rating,
        RatingKind::Stars,
        "an unknown scale is the default"
    );
    assert!(!floating.inline);
}

#[wasm_bindgen_test]
async fn each_rating_kind_is_a_named_radio_group() {
    for (kind, count, names) in [
        ("thumbs", 2, &["Yes", "No"][..]),
        (
            "nps",
            11,
            &["0 – Not at all likely", "10 – Extremely likely"][..],
        ),
        ("emoji", 5, &["Very dissatisfied", "Very satisfied"][..]),
    ] {
        let root = render_with(
            &[("data-site", "demo"), ("data-rating", kind)],
            Controller::default(),
        )
        .await;
        find(&root, "button.launcher").unwrap().click();
        let dialog = shown(&root, "[role=dialog]").await;
        let radios = root
            .query_selector_all("input[type=radio][name=earshot-rating]")
            .unwrap();
        assert_eq!(radios.length(), count, "{kind}");
        for name in names {
            assert!(
                dialog.text_content().unwrap().contains(name),
                "{kind}: {name}"
            );
        }
        let first: HtmlInputElement = radios.get(0).unwrap().unchecked_into();
        focused(&first, &format!("{kind}: focus on the scale")).await;
        first.click();
        shown(&root, "label.choice[data-selected]").await;
        root.remove();
    }
}

#[wasm_bindgen_test]
async fn the_inline_block_asks_first_and_shows_the_form_once_answered() {
    let root = render_with(
        &[("data-site", "demo"), ("data-target", "#here")],
        Controller::default(),
    )
    .await;
    assert!(
        find(&root, "button.launcher").is_none(),
        "no launcher inline"
    );
    assert!(find(&root, "[role=dialog]").is_none(), "no dialog inline");
    let legend = find(&root, "legend").unwrap();
    assert_eq!(legend.text_content().unwrap(), "Was this page helpful?");
    assert!(
        find(&root, "textarea").is_none(),
        "the comment waits for an answer"
    );
    find(&root, "#earshot-thumbs-1").unwrap().click();
    shown(&root, "textarea").await;
    assert!(find(&root, "button.submit").is_some());
    root.remove();
}

#[wasm_bindgen_test]
async fn the_page_opens_the_widget_and_offers_the_visitors_email() {
    let controller = Controller::default();
    // Before the widget exists: remembered and replayed.
    controller.open();
    let user = js_sys::Object::new();
    js_sys::Reflect::set(&user, &"id".into(), &JsValue::from(42)).unwrap();
    js_sys::Reflect::set(&user, &"email".into(), &"ada@example.com".into()).unwrap();
    controller.set_user(user.into()).unwrap();

    let opened = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = opened.clone();
    let listener = gloo::events::EventListener::new(&document(), "earshot:open", move |_| {
        counter.set(counter.get() + 1)
    });
    let root = render_with(&[("data-site", "demo")], controller.clone()).await;
    // open() made before mounting is replayed.
    shown(&root, "[role=dialog]").await;
    assert_eq!(opened.get(), 1, "earshot:open was dispatched");
    assert_eq!(controller.context().user_id.as_deref(), Some("42"));
    controller.close();
    gone(&root, "[role=dialog]").await;
    controller.open();
    let email: HtmlInputElement = shown(&root, "#earshot-email").await.unchecked_into();
    assert_eq!(
        email.value(),
        "ada@example.com",
        "the page's address is offered"
    );
    drop(listener);
    root.remove();
}

#[wasm_bindgen_test]
fn metadata_is_checked_and_kept_as_text() {
    let controller = Controller::default();
    let metadata = js_sys::Object::new();
    js_sys::Reflect::set(&metadata, &"plan".into(), &"pro".into()).unwrap();
    js_sys::Reflect::set(&metadata, &"seats".into(), &JsValue::from(12)).unwrap();
    js_sys::Reflect::set(&metadata, &"beta".into(), &JsValue::TRUE).unwrap();
    controller.set_metadata(metadata.into()).unwrap();
    let kept = controller.context().metadata;
    assert_eq!(kept.get("plan").map(String::as_str), Some("pro"));
    assert_eq!(kept.get("seats").map(String::as_str), Some("12"));
    assert_eq!(kept.get("beta").map(String::as_str), Some("true"));

    let too_many = js_sys::Object::new();
    for i in 0..=earshot_shared::limits::MAX_METADATA_ENTRIES {
        js_sys::Reflect::set(&too_many, &format!("k{i}").into(), &"v".into()).unwrap();
    }
    assert!(controller.set_metadata(too_many.into()).is_err());
    assert_eq!(
        controller.context().metadata,
        kept,
        "a refused call changes nothing"
    );
    assert!(controller.set_metadata("text".into()).is_err());
    controller.set_metadata(JsValue::NULL).unwrap();
    assert!(controller.context().metadata.is_empty());
    let bad_user = js_sys::Object::new();
    js_sys::Reflect::set(&bad_user, &"email".into(), &"not-an-address".into()).unwrap();
    assert!(controller.set_user(bad_user.into()).is_err());
}
