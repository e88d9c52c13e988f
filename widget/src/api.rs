//! Talking to the collector: building the submission from what the visitor entered and the
//! page around them, and sending it.

use earshot_shared::feedback::validate_referrer;
use earshot_shared::{ClientInfo, ErrorCode, Rating, Submission};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::config::WidgetConfig;
use crate::controller::PageContext;
use crate::state::WidgetState;

/// Why a submission was not stored.
#[derive(Debug)]
pub enum SendError {
    /// The collector could not be reached.
    Network,
    /// The collector refused it, with its reason: the error's `code` and `message`, read
    /// with the browser's `JSON.parse` (serde's deserialiser would weigh more than the
    /// rest of this file).
    Refused { code: String, message: String },
    /// The collector failed (5xx) or answered something unexpected.
    Server(u16),
}

/// A fresh random id (UUID v4). `crypto.getRandomValues` works on plain-http pages too,
/// unlike `crypto.randomUUID`.
pub fn new_submission_id() -> Uuid {
    let mut bytes = [0u8; 16];
    let crypto = gloo::utils::window()
        .crypto()
        .expect("window.crypto is available");
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .expect("crypto.getRandomValues works");
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The id as text (`67e55044-10b1-…`), written by uuid's own encoder rather than through
/// `to_string`, which would bring the formatting machinery into the wasm.
pub fn id_text(id: Uuid) -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut text).to_owned()
}

/// The submission for what the visitor entered, with the page's facts read now (so a
/// single-page app's current URL is the one sent).
pub fn build_submission(
    config: &WidgetConfig,
    id: Uuid,
    rating: u8,
    state: &WidgetState,
    context: PageContext,
) -> Submission {
    let window = gloo::utils::window();
    let document = gloo::utils::document();
    let page_lang = document
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .filter(|lang| !lang.is_empty());
    let locale = page_lang
        .or_else(|| window.navigator().language())
        .unwrap_or_default();
    let dimension =
        |value: Result<JsValue, JsValue>| value.ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as u32;
    let email = state.email.trim();
    Submission {
        id,
        site: config.site.clone(),
        rating: Rating {
            kind: config.rating,
            value: rating,
        },
        comment: state.comment.clone(),
        email: (!email.is_empty()).then(|| email.to_owned()),
        page_url: config
            .page
            .clone()
            .unwrap_or_else(|| window.location().href().unwrap_or_default()),
        // Left out when there is none, or when the collector would refuse it: the feedback
        // matters more than where the visitor came from.
        referrer: Some(
            config
                .referrer
                .clone()
                .unwrap_or_else(|| document.referrer()),
        )
        .filter(|referrer| !referrer.is_empty() && validate_referrer(referrer).is_ok()),
        locale,
        client: ClientInfo {
            viewport_width: config
                .viewport
                .map_or_else(|| dimension(window.inner_width()), |(width, _)| width),
            viewport_height: config
                .viewport
                .map_or_else(|| dimension(window.inner_height()), |(_, height)| height),
            user_agent: window.navigator().user_agent().unwrap_or_default(),
        },
        open_ms: (js_sys::Date::now() - state.opened_at).clamp(0.0, f64::from(u32::MAX)) as u32,
        honeypot: state.honeypot.clone(),
        user_id: context.user_id,
        metadata: context.metadata,
    }
}

impl SendError {
    /// Whether trying again later may succeed: the network or the collector failed, or the
    /// collector asked us to slow down. A refusal of the submission itself is final.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network => true,
            Self::Server(status) => *status >= 500 || *status == 0,
            Self::Refused { code, .. } => code == ErrorCode::RateLimited.as_str(),
        }
    }
}

/// Posts a submission's JSON as `text/plain`, which needs no CORS preflight. Through the
/// browser's `fetch` directly: an HTTP client crate would bring URL and header formatting
/// code into the wasm for one request.
pub async fn send(config: &WidgetConfig, body: &str) -> Result<(), SendError> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().map_err(|_| SendError::Network)?;
    headers
        .set("Content-Type", "text/plain;charset=UTF-8")
        .map_err(|_| SendError::Network)?;
    init.set_headers(&headers);
    let request = gloo::utils::window().fetch_with_str_and_init(&config.feedback_url(), &init);
    let response: web_sys::Response = JsFuture::from(request)
        .await
        .map_err(|_| SendError::Network)?
        .unchecked_into();
    let status = response.status();
    if (200..300).contains(&status) {
        return Ok(());
    }
    if (400..500).contains(&status) {
        let field = |json: &JsValue, name: &str| {
            js_sys::Reflect::get(json, &JsValue::from_str(name))
                .ok()
                .and_then(|value| value.as_string())
        };
        let text = match response.text() {
            Ok(text) => JsFuture::from(text).await.ok(),
            Err(_) => None,
        };
        let refusal = text
            .and_then(|text| text.as_string())
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .and_then(|json| Some((field(&json, "code")?, field(&json, "message")?)));
        if let Some((code, message)) = refusal {
            return Err(SendError::Refused { code, message });
        }
    }
    Err(SendError::Server(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// What waits in the queue: no network, a server error, and a rate limit (429); what
    /// does not: every other refusal, which sending again would not change.
    #[wasm_bindgen_test]
    fn network_errors_5xx_and_rate_limits_are_queued_other_refusals_are_not() {
        let refused = |code: ErrorCode| SendError::Refused {
            code: code.as_str().to_owned(),
            message: String::new(),
        };
        assert!(SendError::Network.is_transient());
        assert!(SendError::Server(500).is_transient());
        assert!(SendError::Server(503).is_transient());
        assert!(refused(ErrorCode::RateLimited).is_transient());
        assert!(!refused(ErrorCode::OriginNotAllowed).is_transient());
        assert!(!refused(ErrorCode::InvalidField).is_transient());
        assert!(!refused(ErrorCode::UnknownSite).is_transient());
        assert!(!SendError::Server(404).is_transient());
    }
}
