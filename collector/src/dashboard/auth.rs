//! Signing in and out, the session extractor, CSRF checks and login rate limits.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::respond::AdminError;
use crate::accounts::{self, Session};
use crate::state::AppState;

/// The session cookie: HttpOnly, SameSite=Strict, limited to the dashboard's paths.
pub const SESSION_COOKIE: &str = "earshot_session";
/// The cookie a browser keeps after signing in, so that it is recognised next time and never
/// held back by the attempts of others on the same account.
pub const DEVICE_COOKIE: &str = "earshot_device";
/// How long a browser stays recognised after its last sign-in.
pub const DEVICE_DAYS: i64 = 365;

/// The value of the device cookie for `password_hash`'s account: a random nonce and its
/// HMAC under the account's password hash, which only the server knows. Changing the
/// password forgets every recognised browser.
pub fn device_token(password_hash: &str) -> String {
    let nonce = crate::auth::random_secret("", 16);
    let mac = device_mac(password_hash, &nonce);
    format!("{nonce}.{mac}")
}

/// Whether a device cookie was given to a browser that signed in to this account.
pub fn is_known_device(password_hash: &str, token: &str) -> bool {
    let Some((nonce, mac)) = token.split_once('.') else {
        return false;
    };
    let expected = device_mac(password_hash, nonce);
    expected.len() == mac.len()
        && expected
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn device_mac(password_hash: &str, nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(password_hash.as_bytes()).expect("any key length");
    mac.update(b"earshot-device\0");
    mac.update(nonce.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The device cookie: sent only to the sign-in form, HttpOnly, SameSite=Strict.
pub fn device_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, token)
        .path("/admin/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::days(DEVICE_DAYS))
        .finish()
}

/// The signed-in owner. Handlers that take one are for owners only: without a session, a
/// page asks to sign in (a redirect) and anything else answers `401`.
pub struct Owner(pub Session);

impl FromRequest for Owner {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A POST's session was looked up already, before its body (see `guard_posts`).
        if let Some(session) = request.extensions().get::<Session>().cloned() {
            return Box::pin(async move { Ok(Owner(session)) });
        }
        let token = request
            .cookie(SESSION_COOKIE)
            .map(|cookie| cookie.value().to_owned());
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let page = request.method() == Method::GET;
        let next = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        Box::pin(async move {
            let sign_in = || AdminError::SignIn { next, page };
            let (Some(token), Some(state)) = (token, state) else {
                return Err(sign_in());
            };
            let session = state
                .store
                .read_async(move |conn| accounts::session(conn, &token))
                .await?;
            session.map(Owner).ok_or_else(sign_in)
        })
    }
}

impl Owner {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), AdminError> {
        let expected = self.0.csrf.as_bytes();
        let sent = sent.as_bytes();
        // Compared in constant time: every byte is looked at whatever the first difference.
        let same = expected.len() == sent.len()
            && expected
                .iter()
                .zip(sent)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(AdminError::Csrf) }
    }

    /// Refuses a site this account may not see.
    pub fn check_site(&self, site: &str) -> Result<(), AdminError> {
        if self.0.user.may_read(site) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }
}

/// Every POST under `/admin` must come from the dashboard's own pages (a second defence
/// beside the SameSite cookie and the CSRF token), and every POST but the sign-in form needs
/// a live session before anything else is looked at: a stranger's form is answered `401`
/// the same way whatever its body holds.
pub async fn guard_posts(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if request.method() != Method::POST {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    if !from_this_site(request.request()) {
        let refusal = AdminError::CrossSite.error_response();
        return Ok(request.into_response(refusal).map_into_right_body());
    }
    // Signing in and the first-run set-up are the two forms sent without a session; the
    // set-up form carries its one-time token instead.
    if !matches!(request.path(), "/admin/login" | "/admin/setup") {
        let token = request
            .cookie(SESSION_COOKIE)
            .map(|cookie| cookie.value().to_owned());
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let session = match (token, state) {
            (Some(token), Some(state)) => {
                match state
                    .store
                    .read_async(move |conn| accounts::session(conn, &token))
                    .await
                {
                    Ok(session) => session,
                    Err(err) => {
                        let failure = AdminError::Storage(err).error_response();
                        return Ok(request.into_response(failure).map_into_right_body());
                    }
                }
            }
            _ => None,
        };
        let Some(session) = session else {
            let refusal = AdminError::SignIn {
                next: String::new(),
                page: false,
            }
            .error_response();
            return Ok(request.into_response(refusal).map_into_right_body());
        };
        request.extensions_mut().insert(session);
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// Whether a POST comes from a page of this collector: `Sec-Fetch-Site: same-origin` where
/// the browser sends it, else an `Origin` naming this host. A client that sends neither (a
/// script, `curl`) is not a browser tricked into posting and is let through to the session
/// and CSRF checks.
fn from_this_site(request: &HttpRequest) -> bool {
    let headers = request.headers();
    if crate::ingest::several_origins(request) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    match headers.get(header::ORIGIN).map(|origin| origin.to_str()) {
        None => true,
        Some(Ok(origin)) => origin
            .split_once("://")
            .is_some_and(|(_, host)| host == request.connection_info().host()),
        Some(Err(_)) => false,
    }
}

/// The session cookie for `token`; `Secure` when the dashboard is served over https.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::days(
            accounts::SESSION_DAYS,
        ))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn expired_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// Where to go after signing in: only a dashboard path, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/admin") && !next.starts_with("//") && !next.contains('\\') =>
        {
            next.to_owned()
        }
        _ => "/admin/inbox".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_cookie_is_known_to_its_account_only() {
        let token = device_token("$argon2id$hash-of-the-owner");
        assert!(is_known_device("$argon2id$hash-of-the-owner", &token));
        assert!(!is_known_device("$argon2id$another-hash", &token));
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!is_known_device(
            "$argon2id$hash-of-the-owner",
            &format!("{nonce}.00")
        ));
        assert!(!is_known_device("$argon2id$hash-of-the-owner", "garbage"));
    }
}
