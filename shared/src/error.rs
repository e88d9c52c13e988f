//! The JSON error body every Earshot endpoint answers with, and its stable codes.

use serde::{Deserialize, Serialize};

/// A machine-readable reason for a refusal. The kebab-case strings are a public contract:
/// clients and tests match on them, so a variant may be added but never renamed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The body is not valid JSON or does not have the submission's shape (400).
    InvalidJson,
    /// The body is larger than [`crate::limits::MAX_BODY_BYTES`] (413).
    PayloadTooLarge,
    /// The body was sent with a content type other than `text/plain` or `application/json` (415).
    UnsupportedMediaType,
    /// A field breaks one of the validation rules; `field` names it (422).
    InvalidField,
    /// No site has this key (404).
    UnknownSite,
    /// The request's `Origin` is not one of the site's allowed origins (403).
    OriginNotAllowed,
    /// A query parameter of an owner route is malformed (400).
    InvalidQuery,
    /// An owner route was called without a valid bearer token (401).
    Unauthorized,
    /// The token is valid but not for this site (403).
    Forbidden,
    /// No such route or resource (404).
    NotFound,
    /// The method is not served on this route (405).
    MethodNotAllowed,
    /// Too many submissions from this visitor or to this site; `Retry-After` says when to
    /// try again (429).
    RateLimited,
    /// The request was not complete within the collector's time limit (a body sent too
    /// slowly); nothing was stored (408).
    RequestTimeout,
    /// Something failed on the collector; the submission was not stored (500).
    Internal,
    /// The collector cannot reach its database (down, restarting, unreachable); nothing was
    /// stored, and `Retry-After` says when to try again (503).
    Unavailable,
    /// A screenshot names a submission the collector does not have (404): send the
    /// submission first.
    UnknownSubmission,
    /// The site does not accept screenshots (403); its owner can turn them on.
    ScreenshotsOff,
    /// The screenshot is not one whole PNG, JPEG or WebP image of the type it was sent as
    /// (nothing after its end either), or it has more than
    /// [`crate::limits::MAX_SCREENSHOT_PIXELS`] pixels (422).
    InvalidImage,
    /// A code this build does not know yet (a newer collector).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid-json",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::InvalidField => "invalid-field",
            Self::UnknownSite => "unknown-site",
            Self::OriginNotAllowed => "origin-not-allowed",
            Self::InvalidQuery => "invalid-query",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::RateLimited => "rate-limited",
            Self::RequestTimeout => "request-timeout",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::UnknownSubmission => "unknown-submission",
            Self::ScreenshotsOff => "screenshots-off",
            Self::InvalidImage => "invalid-image",
            Self::Unknown => "unknown",
        }
    }
}

/// The body of every error answer: `{"code": "...", "message": "...", "field": "..."}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// A sentence for people; may change between versions.
    pub message: String,
    /// The offending field, for [`ErrorCode::InvalidField`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_documented_strings() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::InvalidField,
            ErrorCode::UnknownSite,
            ErrorCode::OriginNotAllowed,
            ErrorCode::InvalidQuery,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::RateLimited,
            ErrorCode::RequestTimeout,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
            ErrorCode::UnknownSubmission,
            ErrorCode::ScreenshotsOff,
            ErrorCode::InvalidImage,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn unknown_codes_from_a_newer_collector_still_parse() {
        let err: ApiError = serde_json::from_str(r#"{"code":"brand-new","message":"m"}"#).unwrap();
        assert_eq!(err.code, ErrorCode::Unknown);
        assert_eq!(err.field, None);
    }
}
