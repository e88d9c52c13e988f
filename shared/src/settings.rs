//! A site's widget defaults: what `GET /v1/sites/{key}/config` answers, and what the
//! snippet's `data-*` attributes override.

use serde::{Deserialize, Serialize};

use crate::feedback::{RatingKind, validate_locale};
use crate::limits::MAX_PROMPT_CHARS;

/// How the widget looks and asks, as the owner set it for the site. Every field may be
/// overridden by the snippet's attribute of the same name (`data-rating`, `data-color`…).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSettings {
    /// The rating scale visitors see; unset means stars for the floating widget and thumbs
    /// for an inline block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingKind>,
    /// The accent colour, `#rgb` or `#rrggbb`. The widget derives readable text colours from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Light, dark, or following the visitor's system (`auto`).
    #[serde(default)]
    pub theme: Theme,
    /// The widget's language (BCP 47); unset means the visitor's browser language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The question above the rating; unset means the built-in one for the rating kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Whether visitors may attach a screenshot to their feedback. Off unless the owner
    /// turns it on: a screenshot can show what the visitor had on screen, personal data
    /// included.
    #[serde(default, skip_serializing_if = "is_false")]
    pub screenshots: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// The widget's colour scheme.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follows the visitor's `prefers-color-scheme`.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Self; 3] = [Self::Auto, Self::Light, Self::Dark];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|theme| theme.as_str() == text.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// A setting the collector refuses to store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("the colour must be #rgb or #rrggbb, e.g. #0f766e")]
    Color,
    #[error("the language is not a tag such as fr or pt-BR")]
    Lang,
    #[error("the prompt must have 1 to {MAX_PROMPT_CHARS} characters and no control characters")]
    Prompt,
}

impl SettingsError {
    /// The setting at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Color => "color",
            Self::Lang => "lang",
            Self::Prompt => "prompt",
        }
    }
}

impl WidgetSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(color) = &self.color {
            validate_color(color)?;
        }
        if let Some(lang) = &self.lang
            && (lang.is_empty() || validate_locale(lang).is_err())
        {
            return Err(SettingsError::Lang);
        }
        if let Some(prompt) = &self.prompt {
            let length = prompt.chars().count();
            if !(1..=MAX_PROMPT_CHARS).contains(&length) || prompt.chars().any(char::is_control) {
                return Err(SettingsError::Prompt);
            }
        }
        Ok(())
    }
}

/// `#rgb` or `#rrggbb`, hexadecimal digits in either case.
pub fn validate_color(color: &str) -> Result<(), SettingsError> {
    let digits = color.strip_prefix('#').ok_or(SettingsError::Color)?;
    if matches!(digits.len(), 3 | 6) && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(SettingsError::Color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_unset_and_auto() {
        let settings: WidgetSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, WidgetSettings::default());
        assert_eq!(settings.rating, None);
        assert_eq!(settings.theme, Theme::Auto);
        assert_eq!(
            serde_json::to_string(&settings).unwrap(),
            r#"{"theme":"auto"}"#
        );
    }

    #[test]
    fn colours() {
        for ok in ["#fff", "#0F766E", "#0f766e"] {
            assert_eq!(validate_color(ok), Ok(()), "{ok}");
        }
        for bad in ["", "fff", "#ffff", "#ggg", "red", "#0f766e;x:y", "url(x)"] {
            assert_eq!(validate_color(bad), Err(SettingsError::Color), "{bad}");
        }
    }

    #[test]
    fn each_setting_is_checked() {
        let mut settings = WidgetSettings {
            rating: Some(RatingKind::Nps),
            color: Some("#0f766e".into()),
            theme: Theme::Dark,
            lang: Some("pt-BR".into()),
            prompt: Some("Would you recommend us?".into()),
            screenshots: true,
        };
        assert_eq!(settings.validate(), Ok(()));
        settings.lang = Some("pt_BR".into());
        assert_eq!(settings.validate().unwrap_err().field(), "lang");
        settings.lang = None;
        settings.prompt = Some(String::new());
        assert_eq!(settings.validate().unwrap_err().field(), "prompt");
        settings.prompt = Some("x".repeat(MAX_PROMPT_CHARS + 1));
        assert_eq!(settings.validate().unwrap_err().field(), "prompt");
        settings.prompt = None;
        settings.color = Some("blue".into());
        assert_eq!(settings.validate().unwrap_err().field(), "color");
    }

    #[test]
    fn kinds_and_themes_parse_their_names() {
        for kind in RatingKind::ALL {
            assert_eq!(RatingKind::parse(kind.as_str()), Some(kind));
        }
        for theme in Theme::ALL {
            assert_eq!(Theme::parse(theme.as_str()), Some(theme));
        }
        assert_eq!(RatingKind::parse("hearts"), None);
        assert_eq!(Theme::parse("sepia"), None);
    }
}
