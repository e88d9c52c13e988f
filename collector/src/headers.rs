//! The headers every server-rendered page carries (the dashboard, the visitor's conversation
//! pages): its own CSP, never framed, never cached, no referrer, no type sniffing.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

/// A page locked down under `csp`.
pub fn locked_down(csp: &'static str) -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, csp))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::CACHE_CONTROL, "no-store"))
}
