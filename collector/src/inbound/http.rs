//! `POST /v1/inbound-email`: one raw email (`message/rfc822`) from a mail provider's inbound
//! webhook or an MTA's pipe, with the bearer secret `--inbound-secret`. Answers what became of
//! it; refusals are JSON with a stable code.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::reading::{MAX_INBOUND_BYTES, Unreadable};
use super::{Source, TakeError, take};
use crate::error::AppError;
use crate::state::AppState;

/// Where raw emails are posted.
pub const PATH: &str = "/v1/inbound-email";
/// The content types taken: a raw RFC 5322 email (`message/rfc822`); `text/plain` for pipes
/// that cannot say better.
pub const CONTENT_TYPES: [&str; 2] = ["message/rfc822", "text/plain"];

/// Why an inbound email was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InboundErrorCode {
    /// No or a wrong bearer secret, or inbound email is not set up (401).
    Unauthorized,
    /// Larger than the documented limit (413).
    PayloadTooLarge,
    /// Not sent as `message/rfc822` (415).
    UnsupportedMediaType,
    /// Not an email, or too many or too deeply nested MIME parts (400).
    InvalidEmail,
    /// Something failed on the collector; send it again (500).
    Internal,
}

/// The body of a refusal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboundError {
    pub code: InboundErrorCode,
    /// A sentence for people; may change between versions.
    pub message: String,
}

/// What became of an email.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboundTaken {
    /// `visitor-answer`, `owner-reply`, `auto-reply`, `bounce` or `unmatched`.
    pub outcome: String,
    /// It had been taken before (same `Message-ID`): nothing changed.
    pub duplicate: bool,
    /// Why, when it is not a plain answer or reply.
    pub reason: String,
}

fn refuse(status: StatusCode, code: InboundErrorCode, message: impl Into<String>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if code == InboundErrorCode::Unauthorized {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"earshot\""));
    }
    response.json(InboundError {
        code,
        message: message.into(),
    })
}

fn authorized(request: &HttpRequest, secret: Option<&str>) -> bool {
    let Some(secret) = secret.filter(|secret| !secret.is_empty()) else {
        return false;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or_default();
    given.as_bytes().ct_eq(secret.as_bytes()).into()
}

/// Takes one raw email.
#[utoipa::path(
    post,
    path = "/v1/inbound-email",
    tag = "inbound email",
    request_body(
        content((String = "message/rfc822"), (String = "text/plain")),
        description = "One raw RFC 5322 email, headers and body, at most 10 MiB (`text/plain` for pipes that cannot say `message/rfc822`)"
    ),
    security(("inbound_secret" = [])),
    responses(
        (status = 200, description = "Taken (or taken before: `duplicate`)", body = InboundTaken),
        (status = 400, description = "invalid-email: not an email, more than 200 MIME parts, or nested deeper than 12", body = InboundError),
        (status = 401, description = "unauthorized: no or a wrong `--inbound-secret`, or none is set", body = InboundError),
        (status = 413, description = "payload-too-large: over 10 MiB", body = InboundError),
        (status = 415, description = "unsupported-media-type: not message/rfc822", body = InboundError),
        (status = 500, description = "internal: nothing was taken; send it again", body = InboundError),
    ))]
pub async fn inbound_email(
    request: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    if !authorized(&request, state.inbound.secret.as_deref()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            InboundErrorCode::Unauthorized,
            "send the inbound secret as 'Authorization: Bearer <secret>' (--inbound-secret)",
        );
    }
    let essence = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !CONTENT_TYPES.contains(&essence.as_str()) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InboundErrorCode::UnsupportedMediaType,
            "send one raw email as message/rfc822",
        );
    }
    let too_large = format!("the email is larger than {MAX_INBOUND_BYTES} bytes");
    let body = match crate::ingest::read_limited(&request, payload, MAX_INBOUND_BYTES, || {
        AppError::PayloadTooLarge
    })
    .await
    {
        Ok(body) => body,
        Err(AppError::PayloadTooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                InboundErrorCode::PayloadTooLarge,
                too_large,
            );
        }
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                InboundErrorCode::InvalidEmail,
                err.to_string(),
            );
        }
    };
    let store = state.store.clone();
    let settings = state.inbound.clone();
    let bell = state.mail_bell.clone();
    let taken = web::block(move || take(&store, &settings, &bell, &body, Source::Http)).await;
    match taken {
        Ok(Ok(outcome)) => HttpResponse::Ok().json(InboundTaken {
            outcome: outcome.outcome.as_str().to_owned(),
            duplicate: outcome.duplicate,
            reason: outcome.reason,
        }),
        Ok(Err(TakeError::Unreadable(Unreadable::TooLarge))) => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            InboundErrorCode::PayloadTooLarge,
            too_large,
        ),
        Ok(Err(TakeError::Unreadable(why))) => refuse(
            StatusCode::BAD_REQUEST,
            InboundErrorCode::InvalidEmail,
            why.to_string(),
        ),
        Ok(Err(TakeError::Store(err))) => {
            tracing::error!(error = %err, "an inbound email could not be taken");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                InboundErrorCode::Internal,
                "the collector could not take the email; nothing was stored",
            )
        }
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            InboundErrorCode::Internal,
            "the collector is shutting down; nothing was stored",
        ),
    }
}
