//! Talking to the collector: building the submission from what the visitor entered and the
//! page around them, and sending it.

use earshot_shared::{ApiError, ClientInfo, Rating, Submission};
use gloo::net::http::Request;
use serde::Serialize;
use uuid::Uuid;
use wasm_bindgen::JsValue;

use crate::config::WidgetConfig;
use crate::controller::PageContext;
use crate::state::WidgetState;

/// Why a submission was not stored.
#[derive(Debug)]
pub enum SendError {
    /// The collector could not be reached.
    Network,
    /// The collector refused it, with its reason.
    Refused(ApiError),
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
        page_url: window.location().href().unwrap_or_default(),
        locale,
        client: ClientInfo {
            viewport_width: dimension(window.inner_width()),
            viewport_height: dimension(window.inner_height()),
            user_agent: window.navigator().user_agent().unwrap_or_default(),
        },
        open_ms: (js_sys::Date::now() - state.opened_at).clamp(0.0, f64::from(u32::MAX)) as u32,
        honeypot: state.honeypot.clone(),
        user_id: context.user_id,
        metadata: context.metadata,
    }
}

/// JSON through the browser's own `JSON.stringify`, which keeps `serde_json`'s serialiser out
/// of the wasm.
pub fn to_json(value: &impl Serialize) -> Result<String, SendError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let js = value
        .serialize(&serializer)
        .map_err(|_| SendError::Server(0))?;
    js_sys::JSON::stringify(&js)
        .map(String::from)
        .map_err(|_| SendError::Server(0))
}

impl SendError {
    /// Whether trying again later may succeed: the network or the collector failed, or the
    /// collector asked us to slow down. A refusal of the submission itself is final.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network => true,
            Self::Server(status) => *status >= 500 || *status == 0,
            Self::Refused(refusal) => refusal.code == earshot_shared::ErrorCode::RateLimited,
        }
    }
}

/// Posts a submission's JSON as `text/plain`, which needs no CORS preflight.
pub async fn send(config: &WidgetConfig, body: &str) -> Result<(), SendError> {
    let response = Request::post(&config.feedback_url())
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(body.to_owned())
        .map_err(|_| SendError::Network)?
        .send()
        .await
        .map_err(|_| SendError::Network)?;
    let status = response.status();
    if (200..300).contains(&status) {
        return Ok(());
    }
    if (400..500).contains(&status) {
        let refusal = response
            .text()
            .await
            .ok()
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .and_then(|json| serde_wasm_bindgen::from_value::<ApiError>(json).ok());
        if let Some(refusal) = refusal {
            return Err(SendError::Refused(refusal));
        }
    }
    Err(SendError::Server(status))
}
