//! The widget's configuration, read from the `data-*` attributes of its `<script>` tag (the
//! convention of Plausible and Umami).

use earshot_shared::SiteKey;
use web_sys::Element;

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

    /// The stylesheet class that places the widget.
    pub fn class(self) -> &'static str {
        match self {
            Self::BottomRight => "at-bottom-right",
            Self::BottomLeft => "at-bottom-left",
            Self::TopRight => "at-top-right",
            Self::TopLeft => "at-top-left",
        }
    }
}

impl WidgetConfig {
    pub fn from_script(script: &Element, base: String) -> Result<Self, String> {
        let attribute = |name: &str| {
            script
                .get_attribute(name)
                .filter(|value| !value.trim().is_empty())
        };
        let site =
            attribute("data-site").ok_or("earshot: the script tag has no data-site attribute")?;
        let site =
            SiteKey::parse(site.trim()).map_err(|err| format!("earshot: data-site: {err}"))?;
        Ok(Self {
            site,
            base: base.trim_end_matches('/').to_owned(),
            label: attribute("data-label"),
            lang: attribute("data-lang"),
            // An unknown corner is the default corner, not a broken widget.
            position: attribute("data-position")
                .and_then(|text| Position::parse(&text))
                .unwrap_or_default(),
        })
    }

    pub fn feedback_url(&self) -> String {
        [self.base.as_str(), "/v1/feedback"].concat()
    }

    pub fn stylesheet_url(&self) -> String {
        [self.base.as_str(), "/earshot.css"].concat()
    }
}
