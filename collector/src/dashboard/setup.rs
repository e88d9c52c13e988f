//! The first run: while no owner account exists, `earshot serve` prints a one-time set-up
//! link carrying a random token, valid for [`SETUP_VALID`]. The page behind it creates the
//! first owner and the first site, signs the owner in and ends on the site's snippet.
//!
//! Without the token nobody can create an account from the network, so a stranger who finds
//! a fresh server first cannot take it. The token lives in this process's memory only (its
//! SHA-256, compared in constant time); it is used up by the account it creates. Behind
//! several replicas, open the link printed by the replica you reach, or use `earshot user add`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use earshot_shared::SiteKey;
use maud::{Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AdminError, auth, html, pages};
use crate::accounts;
use crate::app::AppState;

/// How long a set-up link works after `earshot serve` printed it.
pub const SETUP_VALID: Duration = Duration::from_secs(60 * 60);

/// The set-up token this process printed, while no account has used it.
#[derive(Clone, Default)]
pub struct FirstRun(Arc<Mutex<Option<Pending>>>);

#[derive(Clone, Copy)]
struct Pending {
    hash: [u8; 32],
    expires: Instant,
}

/// What a token is worth right now.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Valid,
    Expired,
    Wrong,
}

impl FirstRun {
    /// Makes a new token, valid for [`SETUP_VALID`], and returns it for the link. Any earlier
    /// token stops working.
    pub fn arm(&self) -> String {
        let token = crate::auth::random_secret("", 32);
        *self.lock() = Some(Pending {
            hash: Sha256::digest(token.as_bytes()).into(),
            expires: Instant::now() + SETUP_VALID,
        });
        token
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check(&self, token: &str) -> Check {
        let pending = *self.lock();
        match pending {
            Some(pending) if same_hash(token, &pending.hash) => {
                if Instant::now() < pending.expires {
                    Check::Valid
                } else {
                    Check::Expired
                }
            }
            _ => Check::Wrong,
        }
    }

    /// Takes the token if it is valid, so that two forms sent at once cannot both create an
    /// account; [`FirstRun::put_back`] returns it when the creation fails.
    fn take(&self, token: &str) -> Option<Pending> {
        let mut pending = self.lock();
        let valid = pending
            .is_some_and(|found| same_hash(token, &found.hash) && Instant::now() < found.expires);
        if valid { pending.take() } else { None }
    }

    fn put_back(&self, taken: Pending) {
        let mut pending = self.lock();
        if pending.is_none() {
            *pending = Some(taken);
        }
    }
}

/// Whether `token` hashes to `hash`, in constant time.
fn same_hash(token: &str, hash: &[u8; 32]) -> bool {
    Sha256::digest(token.as_bytes())
        .as_slice()
        .ct_eq(hash)
        .into()
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// `GET /admin/setup?token=…`: the form, or why the link does not work.
pub async fn page(
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> Result<HttpResponse, AdminError> {
    if has_owner(&state).await? {
        return Ok(super::see_other("/admin/login"));
    }
    Ok(match state.setup.check(&query.token) {
        Check::Valid => html(
            StatusCode::OK,
            setup_page(&query.token, None, &SetupForm::default()),
        ),
        check => html(StatusCode::FORBIDDEN, refused_page(check)),
    })
}

#[derive(Default, Deserialize)]
pub struct SetupForm {
    token: String,
    email: String,
    password: String,
    password_again: String,
    site_name: String,
    origins: String,
}

/// `POST /admin/setup`: creates the owner and the site, signs the owner in, and goes to the
/// site's page, which shows the snippet.
pub async fn create(
    request: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AdminError> {
    let form = form.into_inner();
    if has_owner(&state).await? {
        return Ok(super::see_other("/admin/login"));
    }
    match state.setup.check(&form.token) {
        Check::Valid => {}
        check => return Ok(html(StatusCode::FORBIDDEN, refused_page(check))),
    }
    let again = |message: String| {
        Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            setup_page(&form.token, Some(&message), &form),
        ))
    };
    let email = form.email.trim().to_owned();
    if earshot_shared::feedback::validate_email(&email).is_err() || email.is_empty() {
        return again("Give an email address of the form name@domain.".into());
    }
    if form.password.chars().count() < accounts::MIN_PASSWORD_CHARS {
        return again(format!(
            "The password needs at least {} characters.",
            accounts::MIN_PASSWORD_CHARS
        ));
    }
    if form.password != form.password_again {
        return again("The two passwords differ.".into());
    }
    let name = match super::sites::site_name(&form.site_name) {
        Ok(name) => name,
        Err(err) => return again(err.to_string()),
    };
    let origins = match super::sites::origins_from(&form.origins) {
        Ok(origins) => origins,
        Err(err) => return again(err.to_string()),
    };

    let Some(taken) = state.setup.take(&form.token) else {
        return Ok(html(StatusCode::FORBIDDEN, refused_page(Check::Wrong)));
    };
    let password = form.password.clone();
    let hash = web::block(move || accounts::hash_password(&password))
        .await
        .map_err(|err| AdminError::BadRequest(err.to_string()))?;
    let key = SiteKey::parse(&crate::sites::random_site_key())
        .expect("random site keys are valid site keys");
    let password_hash = hash.clone();
    let created = state
        .store
        .write_async(move |conn| {
            if !conn.users()?.is_empty() {
                return Ok(None);
            }
            let user = accounts::add_user(conn, &email, &password_hash, None)?;
            let site = conn.add_site(&key, &name, &origins)?;
            let session = accounts::create_session(conn, &user)?;
            Ok(Some((site, session)))
        })
        .await;
    let (site, session) = match created {
        Ok(Some(created)) => created,
        Ok(None) => return Ok(super::see_other("/admin/login")),
        Err(err) => {
            state.setup.put_back(taken);
            return Err(err.into());
        }
    };
    tracing::info!(site = %site.key, "first owner account and site created from the set-up link");
    let secure = request.connection_info().scheme() == "https";
    Ok(HttpResponse::SeeOther()
        .cookie(auth::session_cookie(session, secure))
        .cookie(auth::device_cookie(auth::device_token(&hash), secure))
        .insert_header((header::LOCATION, format!("/admin/sites/{}", site.key)))
        .finish())
}

async fn has_owner(state: &AppState) -> Result<bool, AdminError> {
    Ok(state
        .store
        .read_async(|conn| Ok(!conn.users()?.is_empty()))
        .await?)
}

fn refused_page(check: Check) -> Markup {
    let why = if check == Check::Expired {
        "This set-up link has expired: it works for one hour after the collector starts."
    } else {
        "This set-up link is not valid: copy the whole link from the collector's log."
    };
    pages::layout(
        "Set up Earshot",
        None,
        "",
        html! {
            section.card.narrow {
                h1 { "Set up Earshot" }
                p.error role="alert" { (why) }
                p { "Restart " code { "earshot serve" } " for a new link, or create the first account on the server with " code { "earshot user add you@example.com" } "." }
            }
        },
    )
}

fn setup_page(token: &str, error: Option<&str>, form: &SetupForm) -> Markup {
    pages::layout(
        "Set up Earshot",
        None,
        "",
        html! {
            section.card.narrow {
                h1 { "Set up Earshot" }
                p { "Create the owner account, then the first site that will show the feedback widget." }
                @if let Some(error) = error {
                    p.error role="alert" { (error) }
                }
                form.stack method="post" action="/admin/setup" {
                    input type="hidden" name="token" value=(token);
                    fieldset.stack {
                        legend { "Your account" }
                        label for="email" { "Email" }
                        input #email type="email" name="email" autocomplete="username" required value=(form.email);
                        label for="password" { "Password (at least " (accounts::MIN_PASSWORD_CHARS) " characters)" }
                        input #password type="password" name="password" autocomplete="new-password" required minlength=(accounts::MIN_PASSWORD_CHARS);
                        label for="password_again" { "Password again" }
                        input #password_again type="password" name="password_again" autocomplete="new-password" required minlength=(accounts::MIN_PASSWORD_CHARS);
                    }
                    fieldset.stack {
                        legend { "Your first site" }
                        label for="site_name" { "Name" }
                        input #site_name type="text" name="site_name" required maxlength=(earshot_shared::limits::MAX_SITE_NAME_CHARS) placeholder="Shop" value=(form.site_name);
                        label for="origins" { "Its address (origin), one per line" }
                        textarea #origins name="origins" rows="2" required placeholder="https://shop.example" { (form.origins) }
                    }
                    button.primary type="submit" { "Create the account and the site" }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once_and_only_itself() {
        let first_run = FirstRun::default();
        assert_eq!(first_run.check("anything"), Check::Wrong);
        let token = first_run.arm();
        assert_eq!(token.len(), 64, "256 random bits, hex");
        assert_eq!(first_run.check(&token), Check::Valid);
        assert_eq!(first_run.check(&token[1..]), Check::Wrong);
        assert!(first_run.take("wrong").is_none());
        let taken = first_run.take(&token).expect("the valid token");
        assert_eq!(first_run.check(&token), Check::Wrong, "used up");
        assert!(first_run.take(&token).is_none(), "no second account");
        first_run.put_back(taken);
        assert_eq!(
            first_run.check(&token),
            Check::Valid,
            "given back on failure"
        );
        let newer = first_run.arm();
        assert_eq!(first_run.check(&token), Check::Wrong, "replaced");
        assert_eq!(first_run.check(&newer), Check::Valid);
    }

    #[test]
    fn an_old_token_has_expired() {
        let first_run = FirstRun::default();
        let token = first_run.arm();
        first_run.lock().as_mut().unwrap().expires = Instant::now() - Duration::from_secs(1);
        assert_eq!(first_run.check(&token), Check::Expired);
        assert!(first_run.take(&token).is_none());
    }
}
