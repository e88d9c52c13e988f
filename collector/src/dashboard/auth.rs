//! Signing in and out, the session extractor, CSRF checks and login rate limits.

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AdminError;
use crate::accounts::{self, Session};
use crate::app::AppState;

/// The session cookie: HttpOnly, SameSite=Strict, limited to the dashboard's paths.
pub const SESSION_COOKIE: &str = "earshot_session";

/// Sign-in attempts allowed per account and per visitor in [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: u32 = 10;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Limits on sign-in attempts, per email address and per visitor (a keyed hash of address
/// and user agent, as for submissions): guessing passwords is slow whichever is varied.
#[derive(Clone)]
pub struct LoginLimits {
    by_account: Arc<DefaultKeyedRateLimiter<String>>,
    by_visitor: Arc<DefaultKeyedRateLimiter<[u8; 16]>>,
    clock: DefaultClock,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let count = NonZeroU32::new(LOGIN_ATTEMPTS).expect("non-zero");
        let quota = Quota::with_period(LOGIN_WINDOW / LOGIN_ATTEMPTS)
            .expect("a non-zero period")
            .allow_burst(count);
        Self {
            by_account: Arc::new(RateLimiter::keyed(quota)),
            by_visitor: Arc::new(RateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }
}

impl LoginLimits {
    /// Counts one attempt; `Err` holds how long to wait.
    pub fn check(&self, email: &str, visitor: [u8; 16]) -> Result<(), Duration> {
        let now = self.clock.now();
        self.by_account
            .check_key(&email.trim().to_lowercase())
            .map_err(|until| until.wait_time_from(now))?;
        self.by_visitor
            .check_key(&visitor)
            .map_err(|until| until.wait_time_from(now))?;
        Ok(())
    }
}

/// The signed-in owner. Handlers that take one are for owners only: without a session, a
/// page asks to sign in (a redirect) and anything else answers `401`.
pub struct Owner(pub Session);

impl FromRequest for Owner {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
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
