//! `POST /v1/feedback`: where every visitor's feedback arrives.
//!
//! The widget sends JSON as `text/plain`, a "simple" request in CORS terms, so the browser
//! sends no preflight and the submission costs one round trip. The site's allowed origins are
//! checked here, per site, which is why this route sets its CORS headers itself rather than
//! through a CORS middleware with one global origin list.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use earshot_shared::limits::MAX_BODY_BYTES;
#[allow(unused_imports)] // ApiError is named in the OpenAPI annotations only.
use earshot_shared::{ApiError, FeedbackAccepted, Submission};
use futures_util::StreamExt;

use crate::error::AppError;
use crate::metrics::Outcome;
use crate::rate_limit::VisitorKey;
use crate::state::AppState;
use earshot_store::{Stored, now_millis};

/// Reads the body, refusing it as soon as it grows past [`MAX_BODY_BYTES`].
async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<web::BytesMut, AppError> {
    read_limited(request, payload, MAX_BODY_BYTES, || {
        AppError::PayloadTooLarge
    })
    .await
}

/// Reads a request's body of at most `limit` bytes: one that says (`Content-Length`) or turns
/// out to be longer is refused with `too_large()` without being read whole.
pub(crate) async fn read_limited(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    too_large: impl Fn() -> AppError,
) -> Result<web::BytesMut, AppError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| AppError::Payload(err.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn check_content_type(request: &HttpRequest) -> Result<(), AppError> {
    let essence = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match essence.as_deref() {
        Some("text/plain" | "application/json") => Ok(()),
        _ => Err(AppError::UnsupportedMediaType),
    }
}

/// Decodes a request body into a submission. Any byte sequence gives a submission or an
/// error, never a panic (see the property tests).
pub fn parse_submission(body: &[u8]) -> Result<Submission, AppError> {
    // serde would take an array of the fields in order as a submission too; only an object
    // is one.
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{') {
        return Err(AppError::InvalidJson {
            message: "a submission is a JSON object".to_owned(),
            field: None,
        });
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let submission = serde_path_to_error::deserialize(&mut json).map_err(|err| {
        let path = err.path().to_string();
        AppError::InvalidJson {
            message: err.into_inner().to_string(),
            field: (path != ".").then_some(path),
        }
    })?;
    json.end().map_err(|err| AppError::InvalidJson {
        message: err.to_string(),
        field: None,
    })?;
    Ok(without_empty_optionals(submission))
}

/// An optional field sent empty (`"email": ""`, as a form with an empty box gives) counts as
/// not sent.
fn without_empty_optionals(mut submission: Submission) -> Submission {
    submission.email = submission.email.filter(|email| !email.trim().is_empty());
    submission.user_id = submission.user_id.filter(|id| !id.is_empty());
    submission.referrer = submission.referrer.filter(|referrer| !referrer.is_empty());
    submission
}

/// Adds the headers that let the page at `origin` read the answer.
pub(crate) fn allow_origin(response: &mut HttpResponse, origin: &HeaderValue) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// Store a visitor's feedback.
///
/// Send the JSON as `text/plain` (no CORS preflight) or `application/json`. `201` means it is
/// committed to disk; the same `id` again answers `200` and stores nothing. Spam is answered
/// like feedback and stored flagged.
#[utoipa::path(post, path = "/v1/feedback", tag = "ingest",
    request_body(content = Submission, content_type = "text/plain"),
    params(("Origin" = String, Header, description = "Must be one of the site's allowed origins")),
    responses(
        (status = 201, description = "Stored", body = FeedbackAccepted),
        (status = 200, description = "Already stored (a retry)", body = FeedbackAccepted),
        (status = 400, description = "invalid-json", body = ApiError),
        (status = 403, description = "origin-not-allowed", body = ApiError),
        (status = 404, description = "unknown-site", body = ApiError),
        (status = 413, description = "payload-too-large", body = ApiError),
        (status = 415, description = "unsupported-media-type", body = ApiError),
        (status = 422, description = "invalid-field", body = ApiError),
        (status = 429, description = "rate-limited; see Retry-After", body = ApiError),
        (status = 500, description = "internal; nothing stored", body = ApiError),
        (status = 503, description = "unavailable: the database cannot be reached; nothing stored; see Retry-After", body = ApiError),
    ))]
pub async fn submit_feedback(
    request: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = match accept(&request, &state, payload, origin.as_ref()).await {
        Ok((response, outcome)) => {
            state.metrics.count_submission(outcome);
            response
        }
        Err(err) => {
            tracing::debug!(code = err.code().as_str(), "feedback refused");
            state
                .metrics
                .count_submission(Outcome::Rejected(err.code()));
            err.error_response()
        }
    };
    // Every answer, refusals included, is readable by the calling page: the widget must see
    // a refusal as final (an unknown site, an origin not allowed) rather than as a network
    // failure it would queue and retry. The answers reveal nothing secret; what is stored is
    // decided by the checks above, not by CORS.
    if let Some(origin) = &origin {
        allow_origin(&mut response, origin);
    }
    response
}

async fn accept(
    request: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    origin: Option<&HeaderValue>,
) -> Result<(HttpResponse, Outcome), AppError> {
    check_content_type(request)?;
    // Browsers always send Origin with a POST; without one, which site sent it cannot be
    // checked, whatever the body says.
    let origin_text = origin.and_then(|value| value.to_str().ok()).unwrap_or("");
    if origin_text.is_empty() {
        return Err(AppError::OriginNotAllowed(
            "a request without an Origin header".to_owned(),
        ));
    }
    if several_origins(request) {
        return Err(AppError::OriginNotAllowed(SEVERAL_ORIGINS.to_owned()));
    }
    let body = read_body(request, payload).await?;
    let submission = parse_submission(&body)?;

    let site = state
        .sites
        .get(&state.store, submission.site.as_str())
        .await?
        .ok_or_else(|| AppError::UnknownSite(submission.site.to_string()))?;
    if !origin_allowed(request, &site.origins, origin_text, &submission.page_url) {
        return Err(AppError::OriginNotAllowed(origin_text.to_owned()));
    }

    let visitor = visitor_of(state, request, site.key.as_str());
    // Only accepted submissions count against the visitor's and the site's limits; refusals
    // have a limit of their own, so a flood of bad ones is slowed down too, without eating
    // into what a visitor may send once they get it right.
    if let Err(invalid) = submission.validate() {
        if let Err(wait) = state.rate_limits.check_refusal(&visitor) {
            return Err(AppError::RateLimited(wait));
        }
        return Err(invalid.into());
    }
    if let Err(wait) = state.rate_limits.check(&visitor, site.key.as_str()) {
        return Err(AppError::RateLimited(wait));
    }
    let id = submission.id;
    let spam = submission.looks_like_spam();
    match state.store.submit(submission, now_millis()).await {
        Ok(Stored::New) => {
            tracing::debug!(site = %site.key, %id, spam, "feedback stored");
            if !spam && state.mail.is_some() {
                // Owners' notices or the visitor's acknowledgement may have been queued.
                state.mail_bell.ring();
            }
            let outcome = if spam { Outcome::Spam } else { Outcome::Stored };
            Ok((
                HttpResponse::Created().json(FeedbackAccepted { id }),
                outcome,
            ))
        }
        // A retry of something already stored: the client's job is done, so it is a success.
        Ok(Stored::Duplicate) => Ok((
            HttpResponse::build(StatusCode::OK).json(FeedbackAccepted { id }),
            Outcome::Duplicate,
        )),
        Err(err) => Err(err.into()),
    }
}

/// Whether `request` carries more than one `Origin` header. A browser sends one; with
/// several, which one counts would depend on who reads them (a proxy, a cache, this code),
/// so the request is refused rather than judged by the first.
pub(crate) fn several_origins(request: &HttpRequest) -> bool {
    request.headers().get_all(header::ORIGIN).nth(1).is_some()
}

/// What a refusal for [`several_origins`] says.
pub(crate) const SEVERAL_ORIGINS: &str = "a request with more than one Origin header";

/// Who sent `request` to `site`, as the rate limits count visitors: a daily-salted hash of
/// the client's network address (behind the trusted proxies), never the address. The user
/// agent is left out: a client can send a new one with every request.
pub fn visitor_of(state: &AppState, request: &HttpRequest, site: &str) -> VisitorKey {
    state
        .rate_limits
        .visitor_key(state.trusted_proxies.client_ip(request), site)
}

/// Whether a submission sent from `origin` may be stored for a site with these origins: from
/// a page on one of them, or from the collector's own window (`/widget/window`, which the
/// loader opens on pages whose CSP blocks WebAssembly) for a page on one of them. That window
/// is on the collector's origin, so its requests carry that origin; the page it speaks for
/// must still be the site's. (A browser sets `Origin` itself, so a page elsewhere cannot
/// pass for the collector; programs can send anything, as they always could.)
pub(crate) fn origin_allowed(
    request: &HttpRequest,
    origins: &[String],
    origin: &str,
    page_url: &str,
) -> bool {
    let listed = |origin: &str| origins.iter().any(|allowed| allowed == origin);
    listed(origin)
        || (is_own_origin(request, origin)
            && url::Url::parse(page_url)
                .is_ok_and(|page| listed(&page.origin().ascii_serialization())))
}

/// Whether `origin` is this collector's, as the browser reached it: its host and port are
/// the request's `Host` (a reverse proxy in front must pass `Host` on, as most do).
fn is_own_origin(request: &HttpRequest, origin: &str) -> bool {
    let host = request
        .uri()
        .authority()
        .map(|authority| authority.as_str())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
        });
    match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => origin_host.eq_ignore_ascii_case(host),
        _ => false,
    }
}

/// CORS preflight for `POST /v1/feedback`.
///
/// The widget never needs one, but a page that calls the API with extra headers does. Any
/// origin may ask; the `POST` itself checks the site's origins.
#[utoipa::path(options, path = "/v1/feedback", tag = "ingest",
    responses((status = 204, description = "POST with content-type is allowed")))]
pub async fn preflight(request: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish();
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        allow_origin(&mut response, origin);
    }
    response
}
