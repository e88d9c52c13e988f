//! The first run: while no owner account exists, `earshot serve` prints a one-time set-up
//! link carrying a random token, valid for [`SETUP_VALID`]. The page behind it creates the
//! first owner and the first site, signs the owner in and ends on the site's snippet.
//!
//! Without the token nobody can create an account from the network, so a stranger who finds
//! a fresh server first cannot take it. The token lives in this process's memory only (its
//! SHA-256, compared in constant time); it is used up by the account it creates. Behind
//! several replicas, open the link printed by the replica you reach, or use `earshot user add`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use earshot_shared::SiteKey;
use maud::{Markup, html};
use serde::Deserialize;

use super::respond::{AdminError, html, see_other};
use super::{auth, pages};
use crate::accounts;
use crate::first_run::Check;
use crate::state::AppState;

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
        return Ok(see_other("/admin/login"));
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
        return Ok(see_other("/admin/login"));
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
            if conn.has_users()? {
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
        Ok(None) => return Ok(see_other("/admin/login")),
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
    Ok(state.store.read_async(|conn| conn.has_users()).await?)
}

fn refused_page(check: Check) -> Markup {
    let why = if check == Check::Expired {
        "This set-up link has expired: it works for one hour after the collector starts."
    } else {
        "This set-up link is not valid: copy the whole link from the collector's log."
    };
    setup_frame(html! {
        p.error role="alert" { (why) }
        p { "Restart " code { "earshot serve" } " for a new link, or create the first account on the server with " code { "earshot user add you@example.com" } "." }
    })
}

/// The set-up pages' frame: no session, one card under the page's title.
fn setup_frame(body: Markup) -> Markup {
    pages::layout(
        "Set up Earshot",
        None,
        "",
        html! {
            section.card.narrow {
                h1 { "Set up Earshot" }
                (body)
            }
        },
    )
}

fn setup_page(token: &str, error: Option<&str>, form: &SetupForm) -> Markup {
    setup_frame(html! {
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
    })
}
