//! The widget's configuration: the `data-*` attributes of its `<script>` tag (the convention
//! of Plausible and Umami) over the site's defaults from `GET /v1/sites/{key}/config`. The
//! loader merges the two; the tag wins.

use earshot_shared::{RatingKind, SiteKey};
use wasm_bindgen::JsValue;
use web_sys::Element;

use crate::i18n::{self, EN, Texts};

/// Everything the widget needs to know about where it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// `data-site`: the site the feedback is for.
    pub site: SiteKey,
    /// The collector's URL, derived by the loader from the script's `src`.
    pub base: String,
    /// `data-label`: the launcher's text, if the owner chose one.
    pub label: Option<String>,
    /// `data-lang`: the language of the widget's text, if the owner chose one.
    pub lang: Option<String>,
    /// `data-position`: the corner the launcher sits in.
    pub position: Position,
    /// `data-rating`: the scale visitors rate on.
    pub rating: RatingKind,
    /// `data-prompt`: the question, if the owner chose one.
    pub prompt: Option<String>,
    /// `data-target`: the widget is a block inside the page ("Was this page helpful?")
    /// instead of a floating launcher.
    pub inline: bool,
    /// The site's promise ("We answer within 2 days."), in the widget's language, when the
    /// site states one: the site's settings carry it as `promise-en`, `promise-fr`…
    pub promise: Option<String>,
    /// The host page's address and referrer when the widget runs in the collector's own
    /// window (`/widget/window`, for pages whose CSP blocks WebAssembly): there, its own
    /// `location` and `document.referrer` are not what the visitor was looking at. `None`
    /// on the page itself; a referrer of `Some("")` means the page had none.
    pub page: Option<String>,
    pub referrer: Option<String>,
    /// The host page's viewport, in the same window: the window's own size says nothing of
    /// the page the visitor was looking at. `None` on the page itself.
    pub viewport: Option<(u32, u32)>,
    /// What the widget says, in the language the loader chose (English unless the loader
    /// passed other texts).
    pub texts: &'static Texts,
    /// The site accepts screenshots (its `screenshots` setting, which `data-screenshots=
    /// "false"` turns off on one page).
    pub screenshots: bool,
}

/// The corner of the viewport the launcher and panel sit in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
    TopRight,
    TopLeft,
}

impl Position {
    /// `bottom-right` (the default), `bottom-left`, `top-right` or `top-left`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "bottom-right" => Some(Self::BottomRight),
            "bottom-left" => Some(Self::BottomLeft),
            "top-right" => Some(Self::TopRight),
            "top-left" => Some(Self::TopLeft),
            _ => None,
        }
    }

    /// As in `data-position`; the widget's root carries it as `data-at`, which the
    /// stylesheet places.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BottomRight => "bottom-right",
            Self::BottomLeft => "bottom-left",
            Self::TopRight => "top-right",
            Self::TopLeft => "top-left",
        }
    }
}

fn bool_text(value: bool) -> String {
    if value { "true" } else { "false" }.to_owned()
}

impl WidgetConfig {
    /// From the `data-*` attributes of a script tag alone, in the language of `data-lang`
    /// if it is one the widget speaks (for tests and pages without the loader: this builds
    /// every language into the wasm).
    pub fn from_script(script: &Element, base: String) -> Result<Self, String> {
        let attribute = |name: &str| script.get_attribute(&["data-", name].concat());
        let texts = attribute("lang")
            .and_then(|lang| i18n::for_tag(&lang))
            .unwrap_or(&EN);
        Self::from_lookup(attribute, base, texts)
    }

    /// From the loader's merged settings: an object of strings keyed like the attributes
    /// without `data-` (`site`, `rating`, `prompt`…), and `texts`, the texts of the
    /// language it chose, when not English.
    pub fn from_settings(settings: &JsValue, base: String) -> Result<Self, String> {
        let texts = js_sys::Reflect::get(settings, &JsValue::from_str("texts"))
            .ok()
            .filter(JsValue::is_object)
            .and_then(|texts| i18n::from_js(&texts))
            .unwrap_or(&EN);
        Self::from_lookup(
            |name| {
                // The site's settings are JSON, where `screenshots` is a boolean.
                js_sys::Reflect::get(settings, &JsValue::from_str(name))
                    .ok()
                    .and_then(|value| value.as_string().or_else(|| value.as_bool().map(bool_text)))
            },
            base,
            texts,
        )
    }

    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        base: String,
        texts: &'static Texts,
    ) -> Result<Self, String> {
        let setting = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let site = setting("site").ok_or("earshot: the script tag has no data-site attribute")?;
        let site = SiteKey::parse(site.trim())
            .map_err(|err| ["earshot: data-site: ", &err.message()].concat())?;
        let inline = setting("target").is_some();
        let lang = setting("lang");
        let promise = setting(&["promise-", texts.lang].concat());
        Ok(Self {
            site,
            base: base.trim_end_matches('/').to_owned(),
            label: setting("label"),
            lang,
            // An unknown value is the default, not a broken widget.
            position: setting("position")
                .and_then(|text| Position::parse(&text))
                .unwrap_or_default(),
            // A page asking "was this helpful?" wants yes or no unless told otherwise.
            rating: setting("rating")
                .and_then(|text| RatingKind::parse(&text))
                .unwrap_or(if inline {
                    RatingKind::Thumbs
                } else {
                    RatingKind::Stars
                }),
            prompt: setting("prompt").map(|text| text.trim().to_owned()),
            inline,
            promise,
            page: setting("page"),
            referrer: lookup("referrer"),
            viewport: setting("viewport-width")
                .zip(setting("viewport-height"))
                .and_then(|(width, height)| Some((width.parse().ok()?, height.parse().ok()?))),
            texts,
            screenshots: lookup("screenshots").is_some_and(|value| value == "true"),
        })
    }

    pub fn feedback_url(&self) -> String {
        [self.base.as_str(), "/v1/feedback"].concat()
    }

    pub fn stylesheet_url(&self) -> String {
        [self.base.as_str(), "/earshot.css"].concat()
    }
}
