//! Signing in and out of the dashboard.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::auth::{self, Owner, SESSION_COOKIE};
use super::pages;
use super::respond::{AdminError, html, see_other};
use crate::accounts;
use crate::state::AppState;

pub(super) async fn home(_owner: Owner) -> HttpResponse {
    see_other("/admin/inbox")
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

pub(super) async fn login_page(
    state: web::Data<AppState>,
    owner: Option<Owner>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AdminError> {
    let next = auth::safe_next(query.next.as_deref());
    if owner.is_some() {
        return Ok(see_other(&next));
    }
    let first_run = state
        .store
        .read_async(|conn| Ok(!conn.has_users()?))
        .await?;
    Ok(html(
        StatusCode::OK,
        pages::login_page(&next, None, "", first_run),
    ))
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub(super) async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AdminError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.into_inner();
    let next = auth::safe_next(next.as_deref());
    let too_many = |wait: std::time::Duration| {
        let message = too_many_attempts(wait);
        html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(&next, Some(&message), &email),
        )
    };
    // The source is the address alone: a user agent costs nothing to change.
    let source = crate::ingest::visitor_of(&state, &request, "/admin/login");
    if let Err(wait) = state.logins.check_source(&source) {
        return Ok(too_many(wait));
    }
    let lookup = email.clone();
    let found = state
        .store
        .read_async(move |conn| accounts::user_by_email(conn, &lookup))
        .await?;
    // Every email is counted, an account's or not, so that the answers (and when the 429
    // comes) cannot tell which accounts exist. Only an account's own browser is spared.
    let known = found.as_ref().is_some_and(|(_, hash)| {
        request
            .cookie(auth::DEVICE_COOKIE)
            .is_some_and(|cookie| auth::is_known_device(hash, cookie.value()))
    });
    let email_key = state.rate_limits.keyed_hash(
        "/admin/login email",
        accounts::normalize_email(&email).as_bytes(),
    );
    if !known && let Err(wait) = state.logins.check_email(&email_key) {
        return Ok(too_many(wait));
    }
    // A wrong email costs as much time as a wrong password.
    let hash = found
        .as_ref()
        .map_or(accounts::decoy_hash(), |(_, hash)| hash.as_str())
        .to_owned();
    let valid = match state.passwords.verify(hash, password).await {
        Ok(valid) => valid,
        Err(busy) => {
            return Ok(HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
                .insert_header((header::RETRY_AFTER, "1"))
                .content_type("text/html; charset=utf-8")
                .body(pages::login(&next, Some(&busy.to_string()), &email).into_string()));
        }
    };
    let Some((user, hash)) = found.filter(|_| valid) else {
        tracing::info!("dashboard sign-in refused");
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            pages::login(&next, Some("Wrong email or password."), &email),
        ));
    };
    let token = state
        .store
        .read_async(move |conn| accounts::create_session(conn, &user))
        .await?;
    let secure = request.connection_info().scheme() == "https";
    Ok(HttpResponse::SeeOther()
        .cookie(auth::session_cookie(token, secure))
        .cookie(auth::device_cookie(auth::device_token(&hash), secure))
        .insert_header((header::LOCATION, next))
        .finish())
}

/// What the sign-in form says when a limit is reached: the wait in whole minutes, rounded up.
fn too_many_attempts(wait: std::time::Duration) -> String {
    match wait.as_secs().div_ceil(60).max(1) {
        1 => "Too many attempts. Try again in 1 minute.".to_owned(),
        minutes => format!("Too many attempts. Try again in {minutes} minutes."),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    if let Some(cookie) = request.cookie(SESSION_COOKIE) {
        let token = cookie.value().to_owned();
        state
            .store
            .read_async(move |conn| accounts::end_session(conn, &token))
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(auth::expired_cookie())
        .insert_header((header::LOCATION, "/admin/login"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_wait_is_told_in_minutes_singular_or_plural() {
        let told = |secs| too_many_attempts(Duration::from_secs(secs));
        assert_eq!(told(1), "Too many attempts. Try again in 1 minute.");
        assert_eq!(told(60), "Too many attempts. Try again in 1 minute.");
        assert_eq!(told(61), "Too many attempts. Try again in 2 minutes.");
        assert_eq!(told(900), "Too many attempts. Try again in 15 minutes.");
    }
}
