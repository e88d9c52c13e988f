//! The owner's dashboard under `/admin`: sign in, the inbox (filter, triage, reply, export)
//! and statistics. Pages are rendered on the server with maud, which escapes every value it
//! is given, so visitor text is always shown as text. The pages run no scripts and carry a
//! strict CSP of their own; every form that changes something carries a CSRF token.

//!
//! Each file is one part: `session` (sign in and out), `setup` (the first run), `inbox`
//! (the inbox and statistics), `sites` (sites, tokens, webhooks, erasure), with `auth` (the
//! signed-in owner, CSRF and cross-site checks), `query` (the filters), `pages` and `layout`
//! (the HTML) and `respond` (answers and errors) beneath them. This file only routes.

mod account;
mod auth;
mod inbox;
mod layout;
mod pages;
mod query;
mod respond;
mod session;
mod setup;
mod sites;
mod stats;
mod thread;
mod unmatched;
mod zone;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, web};

pub use auth::{Owner, SESSION_COOKIE};
pub use inbox::MAX_NOTE_CHARS;
pub use query::PAGE_SIZE;
pub use respond::AdminError;
pub use thread::MAX_REPLY_CHARS;

/// The dashboard's pages: its own stylesheet and one small script (the snippet's copy
/// button, the emails' states kept up to date; everything works without it), nothing
/// inline, no other origin (the script reads only the dashboard's own JSON).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers `/admin` and everything under it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(actix_web::middleware::from_fn(auth::guard_posts))
            .wrap(crate::headers::locked_down(CSP))
            .route("", web::get().to(session::home))
            .route("/", web::get().to(session::home))
            .route("/admin.css", web::get().to(stylesheet))
            .route("/admin.js", web::get().to(script))
            .route("/sites", web::get().to(sites::list))
            .route("/sites", web::post().to(sites::create))
            .route("/sites/{key}", web::get().to(sites::show))
            .route("/sites/{key}", web::post().to(sites::update))
            .route("/sites/{key}/widget", web::post().to(sites::widget))
            .route("/sites/{key}/retention", web::post().to(sites::retention))
            .route("/sites/{key}/answers", web::post().to(sites::answers))
            .route("/sites/{key}/tokens", web::post().to(sites::create_token))
            .route(
                "/sites/{key}/tokens/{id}/revoke",
                web::post().to(sites::revoke_token),
            )
            .route("/sites/{key}/webhooks", web::post().to(sites::add_webhook))
            .route(
                "/sites/{key}/webhooks/{id}/delete",
                web::post().to(sites::delete_webhook),
            )
            .route("/sites/{key}/delete", web::post().to(sites::delete))
            .route("/erase", web::get().to(sites::erase_page))
            .route("/erase", web::post().to(sites::erase))
            .route("/setup", web::get().to(setup::page))
            .route("/setup", web::post().to(setup::create))
            .route("/login", web::get().to(session::login_page))
            .route("/login", web::post().to(session::login))
            .route("/logout", web::post().to(session::logout))
            .route("/inbox", web::get().to(inbox::inbox))
            .route("/account", web::get().to(account::show))
            .route("/account", web::post().to(account::save))
            .route("/export.csv", web::get().to(inbox::export_view))
            .route("/stats", web::get().to(inbox::stats_page))
            .route("/feedback/{id}", web::get().to(thread::show))
            .route(
                "/feedback/{id}/screenshot",
                web::get().to(thread::screenshot),
            )
            .route(
                "/feedback/{id}/screenshot/thumbnail",
                web::get().to(thread::screenshot_thumbnail),
            )
            .route(
                "/feedback/{id}/screenshot/view",
                web::get().to(thread::screenshot_page),
            )
            .route("/feedback/{id}/emails.json", web::get().to(thread::emails))
            .route("/feedback/{id}", web::post().to(inbox::triage))
            .route("/feedback/{id}/not-spam", web::post().to(inbox::not_spam))
            .service(
                web::resource("/feedback/{id}/reply")
                    .app_data(web::FormConfig::default().limit(thread::MAX_REPLY_FORM_BYTES))
                    .route(web::post().to(thread::reply)),
            )
            .route("/unmatched", web::get().to(unmatched::list))
            .route("/unmatched/{id}/attach", web::post().to(unmatched::attach))
            .route(
                "/unmatched/{id}/discard",
                web::post().to(unmatched::discard),
            )
            .default_service(web::to(|| async { AdminError::NotFound.error_response() })),
    );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        ))
        .body(include_str!("admin.css"))
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        ))
        .body(include_str!("admin.js"))
}
