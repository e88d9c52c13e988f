//! Sites: the key that names a site in every snippet and submission.

use core::fmt;
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::json::decimal;
use crate::limits::SITE_KEY_BYTES;

/// The public key of a site, as pasted in its snippet (`data-site`). Not a secret: it only
/// says which site a submission is for. Lowercase ASCII letters, digits and `-`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteKey(String);

/// Why a string is not a valid [`SiteKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteKeyError {
    Length,
    Characters,
}

impl SiteKeyError {
    /// What is wrong, in a sentence (the `Display` text), put together without `format!`
    /// because the widget reports it too.
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            Self::Length => [
                "a site key has ",
                &decimal(*SITE_KEY_BYTES.start() as u64),
                " to ",
                &decimal(*SITE_KEY_BYTES.end() as u64),
                " characters",
            ]
            .concat()
            .into(),
            Self::Characters => "a site key holds only lowercase letters, digits and '-'".into(),
        }
    }
}

impl fmt::Display for SiteKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for SiteKeyError {}

impl SiteKey {
    pub fn parse(key: &str) -> Result<Self, SiteKeyError> {
        if !SITE_KEY_BYTES.contains(&key.len()) {
            return Err(SiteKeyError::Length);
        }
        if !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(SiteKeyError::Characters);
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteKey {
    type Error = SiteKeyError;

    fn try_from(key: String) -> Result<Self, Self::Error> {
        Self::parse(&key)
    }
}

impl From<SiteKey> for String {
    fn from(key: SiteKey) -> Self {
        key.0
    }
}

impl fmt::Display for SiteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::str::FromStr for SiteKey {
    type Err = SiteKeyError;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Self::parse(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs() {
        assert_eq!(SiteKey::parse("demo").unwrap().as_str(), "demo");
        assert!(SiteKey::parse("shop-example-2").is_ok());
    }

    #[test]
    fn refuses_bad_keys() {
        assert_eq!(SiteKey::parse("ab"), Err(SiteKeyError::Length));
        assert_eq!(SiteKey::parse(&"a".repeat(65)), Err(SiteKeyError::Length));
        assert_eq!(SiteKey::parse("Shop"), Err(SiteKeyError::Characters));
        assert_eq!(SiteKey::parse("a b c"), Err(SiteKeyError::Characters));
        assert_eq!(SiteKey::parse("<script>"), Err(SiteKeyError::Characters));
        assert_eq!(
            SiteKeyError::Length.to_string(),
            "a site key has 3 to 64 characters"
        );
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<SiteKey>("\"NO\"").unwrap_err();
        assert!(err.to_string().contains("characters"), "{err}");
    }
}
