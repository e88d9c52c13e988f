//! Sites: the key that names a site in every snippet and submission.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::SITE_KEY_BYTES;

/// The public key of a site, as pasted in its snippet (`data-site`). Not a secret: it only
/// says which site a submission is for. Lowercase ASCII letters, digits and `-`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteKey(String);

/// Why a string is not a valid [`SiteKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteKeyError {
    #[error("a site key has {} to {} characters", SITE_KEY_BYTES.start(), SITE_KEY_BYTES.end())]
    Length,
    #[error("a site key holds only lowercase letters, digits and '-'")]
    Characters,
}

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
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<SiteKey>("\"NO\"").unwrap_err();
        assert!(err.to_string().contains("characters"), "{err}");
    }
}
