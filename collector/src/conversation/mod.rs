//! The visitor's conversation page, `/conversation/{token}`: their feedback and every reply,
//! and a form to answer. No account: the link in each reply email carries a token of 256
//! random bits, of which the database keeps only the SHA-256, and which expires after
//! [`LINK_DAYS`]. Rendered on the server (it works without JavaScript) in the language the
//! visitor's widget spoke, under a CSP that allows nothing but its own stylesheet and form.

pub mod limits;
pub mod links;
mod page;
pub mod texts;

pub use limits::{ConversationLimits, MAX_ANSWER_CHARS};
use links::{PATH, UNSUBSCRIBE_PATH};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::hash_token;
use crate::state::AppState;
use earshot_store::model::LinkPurpose;
use earshot_store::{StoreError, now_millis};

const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Registers the conversation page, its form and its stylesheet.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(format!("{PATH}.css")).route(web::get().to(stylesheet)))
        .service(
            web::resource(format!("{PATH}/{{token}}"))
                .app_data(web::FormConfig::default().limit(limits::MAX_FORM_BYTES))
                .wrap(page_headers())
                .route(web::get().to(show))
                .route(web::post().to(answer)),
        )
        .service(
            web::resource(format!("{UNSUBSCRIBE_PATH}/{{token}}"))
                .wrap(page_headers())
                .route(web::get().to(unsubscribe_page))
                .route(web::post().to(unsubscribe)),
        )
        .service(
            web::resource(format!("{UNSUBSCRIBE_PATH}/{{token}}/undo"))
                .wrap(page_headers())
                .route(web::post().to(undo_unsubscribe)),
        );
}

/// What every conversation page is answered with: nothing but its own stylesheet and form,
/// never framed, never cached, never indexed, no referrer (the token is in the address).
fn page_headers() -> DefaultHeaders {
    crate::headers::locked_down(CSP).add(("X-Robots-Tag", "noindex"))
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("conversation.css"))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    sent: Option<String>,
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    body: String,
}

/// The visitor's language for pages without a conversation (an expired link): their
/// browser's first language.
fn browser_texts(request: &HttpRequest) -> &'static texts::VisitorTexts {
    let tag = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split([',', ';']).next())
        .unwrap_or("");
    texts::for_locale(tag)
}

/// Counts one page for this visitor; `false` past [`VIEWS_PER_MINUTE`].
fn within_view_limit(state: &AppState, request: &HttpRequest) -> bool {
    let visitor = crate::ingest::visitor_of(state, request, PATH);
    state.conversations.views.check_key(&visitor).is_ok()
}

/// The conversation a token opens, everything the page shows.
async fn open(
    state: &AppState,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<page::Conversation>, StoreError> {
    if !links::well_formed(token) {
        return Ok(None);
    }
    let hash = hash_token(token);
    state
        .store
        .read_async(move |db| {
            let Some(id) = db.link_target(purpose, &hash, now_millis())? else {
                return Ok(None);
            };
            let Some(feedback) = db.feedback_by_id(&id)? else {
                return Ok(None);
            };
            let Some(site) = db.site(&feedback.site)? else {
                return Ok(None);
            };
            // The unsubscribe page reads the thread too, for when the visitor last wrote (it
            // shows none of it: that link may be followed by a mail provider).
            let thread = db.thread(&id)?;
            let unsubscribed_at = match &feedback.email {
                Some(email) => db.unsubscribed_at(&feedback.site, email)?,
                None => None,
            };
            Ok(Some(page::Conversation {
                feedback,
                site_name: site.name,
                thread,
                unsubscribed_at,
            }))
        })
        .await
}

fn respond(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

fn expired(request: &HttpRequest) -> HttpResponse {
    respond(StatusCode::NOT_FOUND, page::expired(browser_texts(request)))
}

fn too_many(request: &HttpRequest) -> HttpResponse {
    let texts = browser_texts(request);
    respond(
        StatusCode::TOO_MANY_REQUESTS,
        page::message(texts, texts.too_many),
    )
}

pub async fn show(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, crate::error::AppError> {
    let conversation = match opened(&state, &request, LinkPurpose::Conversation, &token).await? {
        Ok(conversation) => conversation,
        Err(refusal) => return Ok(refusal),
    };
    let notice = if query.sent.is_some() {
        page::Notice::Sent
    } else {
        page::Notice::None
    };
    Ok(respond(
        StatusCode::OK,
        page::conversation(&conversation, &token, &notice, ""),
    ))
}

/// The conversation a request's link opens, or the page to answer instead (too many
/// requests, an expired link).
async fn opened(
    state: &AppState,
    request: &HttpRequest,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Result<page::Conversation, HttpResponse>, crate::error::AppError> {
    if !within_view_limit(state, request) {
        return Ok(Err(too_many(request)));
    }
    Ok(open(state, purpose, token)
        .await?
        .ok_or_else(|| expired(request)))
}

/// How long after unsubscribing the visitor may undo it, from the page it left them on.
pub const UNDO_MS: i64 = 24 * 3_600_000;

/// The link at the foot of each email: asks first (a link checker that opens it must not
/// unsubscribe anyone); once unsubscribed, says so, with the undo while it lasts.
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, crate::error::AppError> {
    let conversation = match opened(&state, &request, LinkPurpose::Unsubscribe, &token).await? {
        Ok(conversation) => conversation,
        Err(refusal) => return Ok(refusal),
    };
    let shown = match conversation.unsubscribed_at {
        Some(at) => page::Unsubscribe::Done {
            kept: conversation.feedback.replies_kept,
            undo_until: undo_until(at),
        },
        None => page::Unsubscribe::Question,
    };
    Ok(respond(
        StatusCode::OK,
        page::unsubscribe(&conversation, &token, shown),
    ))
}

/// Until when an unsubscribe made at `at` may be undone, if it still may.
fn undo_until(at: i64) -> Option<i64> {
    Some(at + UNDO_MS).filter(|until| *until > now_millis())
}

#[derive(Deserialize)]
pub struct UnsubscribeForm {
    /// `conversation`: stop everything but this conversation's replies.
    keep: Option<String>,
}

/// Unsubscribes the visitor from the site's email: the page's buttons, or a mail client's
/// one-click `POST` (RFC 8058, body `List-Unsubscribe=One-Click`), which stops everything.
/// The visitor's conversations there can no longer be answered (the owners see "could not
/// answer"), except this one when its replies are kept.
pub async fn unsubscribe(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    form: Result<web::Form<UnsubscribeForm>, actix_web::Error>,
) -> Result<HttpResponse, crate::error::AppError> {
    let conversation = match opened(&state, &request, LinkPurpose::Unsubscribe, &token).await? {
        Ok(conversation) => conversation,
        Err(refusal) => return Ok(refusal),
    };
    let Some(email) = conversation.feedback.email.clone() else {
        return Ok(expired(&request));
    };
    let keep = form.is_ok_and(|form| form.keep.as_deref() == Some("conversation"));
    let site = conversation.feedback.site.clone();
    let id = conversation.feedback.id.clone();
    let now = now_millis();
    let at = state
        .store
        .read_async(move |db| {
            db.unsubscribe(&site, &email, now)?;
            db.mark_unsubscribed(&site, &email, keep.then_some(id.as_str()), now)?;
            db.unsubscribed_at(&site, &email)
        })
        .await?
        .unwrap_or(now);
    if keep {
        // Replies given up a moment ago are queued again.
        state.mail_bell.ring();
    }
    Ok(respond(
        StatusCode::OK,
        page::unsubscribe(
            &conversation,
            &token,
            page::Unsubscribe::Done {
                kept: keep,
                undo_until: undo_until(at),
            },
        ),
    ))
}

/// Undoes the unsubscribe, within [`UNDO_MS`] of it: the conversations are answerable
/// again, and what was given up for it is sent after all.
pub async fn undo_unsubscribe(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, crate::error::AppError> {
    let conversation = match opened(&state, &request, LinkPurpose::Unsubscribe, &token).await? {
        Ok(conversation) => conversation,
        Err(refusal) => return Ok(refusal),
    };
    let Some(email) = conversation.feedback.email.clone() else {
        return Ok(expired(&request));
    };
    let site = conversation.feedback.site.clone();
    let now = now_millis();
    let undone = state
        .store
        .read_async(move |db| db.resubscribe(&site, &email, now - UNDO_MS, now))
        .await?;
    if !undone {
        // Too late, or nothing to undo: the page says where things stand.
        let shown = match conversation.unsubscribed_at {
            Some(at) => page::Unsubscribe::Done {
                kept: conversation.feedback.replies_kept,
                undo_until: undo_until(at),
            },
            None => page::Unsubscribe::Question,
        };
        return Ok(respond(
            StatusCode::CONFLICT,
            page::unsubscribe(&conversation, &token, shown),
        ));
    }
    state.mail_bell.ring();
    Ok(respond(
        StatusCode::OK,
        page::unsubscribe(&conversation, &token, page::Unsubscribe::Undone),
    ))
}

pub async fn answer(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    form: Result<web::Form<AnswerForm>, actix_web::Error>,
) -> Result<HttpResponse, crate::error::AppError> {
    let conversation = match opened(&state, &request, LinkPurpose::Conversation, &token).await? {
        Ok(conversation) => conversation,
        Err(refusal) => return Ok(refusal),
    };
    let texts = texts::for_locale(&conversation.feedback.locale);
    let body = match &form {
        Ok(form) => form.body.trim().to_owned(),
        // Larger than any answer may be, or not a form at all.
        Err(_) => {
            return Ok(respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                page::conversation(
                    &conversation,
                    &token,
                    &page::Notice::Error(texts.too_long),
                    "",
                ),
            ));
        }
    };
    let refuse = |status: StatusCode, text: &'static str, kept: &str| {
        respond(
            status,
            page::conversation(&conversation, &token, &page::Notice::Error(text), kept),
        )
    };
    if body.is_empty() {
        return Ok(refuse(StatusCode::BAD_REQUEST, texts.empty_answer, ""));
    }
    if body.chars().count() > MAX_ANSWER_CHARS {
        return Ok(refuse(StatusCode::PAYLOAD_TOO_LARGE, texts.too_long, &body));
    }
    // Counted per conversation, whichever of its links the answer came through.
    if state
        .conversations
        .answers
        .check_key(&conversation.feedback.id)
        .is_err()
    {
        return Ok(refuse(StatusCode::TOO_MANY_REQUESTS, texts.too_many, &body));
    }
    let id = conversation.feedback.id.clone();
    let stored = state
        .store
        .read_async(move |db| db.add_visitor_answer(&id, &body, now_millis()))
        .await?;
    if stored.is_none() {
        return Ok(expired(&request));
    }
    state.mail_bell.ring();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{PATH}/{token}?sent=1")))
        .finish())
}
