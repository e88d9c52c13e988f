//! The owner's dashboard under `/admin`: sign in, the inbox (filter, triage, reply, export)
//! and statistics. Pages are rendered on the server with maud, which escapes every value it
//! is given, so visitor text is always shown as text. The pages run no scripts and carry a
//! strict CSP of their own; every form that changes something carries a CSRF token.

mod auth;
mod pages;
mod setup;
mod sites;
mod stats;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;

pub use auth::{
    LOGIN_ATTEMPTS_PER_ACCOUNT, LOGIN_ATTEMPTS_PER_SOURCE, LoginLimits, Owner, SESSION_COOKIE,
};
pub use setup::{FirstRun, SETUP_VALID};

use crate::accounts;
use crate::app::AppState;
use crate::export::{self, Format, STATUSES};
use earshot_store::{self as store, FeedbackFilter, Page, Site, StoreError};

/// Submissions per inbox page.
pub const PAGE_SIZE: u64 = 25;
/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// The dashboard's pages: its own stylesheet and one small script (the snippet's copy
/// button; everything works without it), nothing inline, no other origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Why a dashboard request was not served. Answered with a page, not JSON.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("sign in to continue")]
    SignIn { next: String, page: bool },
    #[error("this form has expired; reload the page and try again")]
    Csrf,
    #[error("this form was sent from another site; use the dashboard's own pages")]
    CrossSite,
    #[error("this account may not see that site")]
    Forbidden,
    #[error("there is nothing here")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("the dashboard could not reach its database")]
    Storage(#[from] StoreError),
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { page: true, .. } => StatusCode::SEE_OTHER,
            Self::SignIn { page: false, .. } => StatusCode::UNAUTHORIZED,
            Self::Csrf | Self::CrossSite | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn { next, page: true } = self {
            let target = format!(
                "/admin/login?next={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let Self::Storage(err) = self {
            tracing::error!(error = %err, "dashboard storage failure");
        }
        html(self.status_code(), pages::message(&self.to_string()))
    }
}

fn html(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Registers `/admin` and everything under it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(actix_web::middleware::from_fn(auth::guard_posts))
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, CSP))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::REFERRER_POLICY, "no-referrer"))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .route("", web::get().to(home))
            .route("/", web::get().to(home))
            .route("/admin.css", web::get().to(stylesheet))
            .route("/admin.js", web::get().to(script))
            .route("/sites", web::get().to(sites::list))
            .route("/sites", web::post().to(sites::create))
            .route("/sites/{key}", web::get().to(sites::show))
            .route("/sites/{key}", web::post().to(sites::update))
            .route("/sites/{key}/widget", web::post().to(sites::widget))
            .route("/sites/{key}/retention", web::post().to(sites::retention))
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
            .route("/login", web::get().to(login_page))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/inbox", web::get().to(inbox))
            .route("/export.csv", web::get().to(export_view))
            .route("/stats", web::get().to(stats_page))
            .route("/feedback/{id}", web::post().to(triage))
            .default_service(web::to(|| async { AdminError::NotFound.error_response() })),
    );
}

async fn home(_owner: Owner) -> HttpResponse {
    see_other("/admin/inbox")
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

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
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
        .read_async(|conn| Ok(conn.users()?.is_empty()))
        .await?;
    Ok(html(
        StatusCode::OK,
        pages::login_page(&next, None, "", first_run),
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
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
        let message = format!(
            "Too many attempts. Try again in {} minutes.",
            wait.as_secs().div_ceil(60).max(1)
        );
        html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(&next, Some(&message), &email),
        )
    };
    // The source is the address alone: a user agent costs nothing to change.
    let source = state.rate_limits.visitor_key(
        auth::sign_in_source(state.trusted_proxies.client_ip(&request)),
        "",
        "/admin/login",
    );
    if let Err(wait) = state.logins.check_source(&source) {
        return Ok(too_many(wait));
    }
    let lookup = email.clone();
    let found = state
        .store
        .read_async(move |conn| accounts::user_by_email(conn, &lookup))
        .await?;
    if let Some((user, hash)) = &found {
        let known = request
            .cookie(auth::DEVICE_COOKIE)
            .is_some_and(|cookie| auth::is_known_device(hash, cookie.value()));
        if !known && let Err(wait) = state.logins.check_account(user.id) {
            return Ok(too_many(wait));
        }
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

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
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

/// The inbox's filters, as its GET form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    pub site: Option<String>,
    pub min_rating: Option<String>,
    pub max_rating: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub has_email: Option<String>,
    pub page: Option<u64>,
}

const DAY_MS: i64 = 86_400_000;

/// A day picked as the end of a range counts whole: "until 2026-11-22" includes that day.
fn until(text: Option<&str>, parsed: i64) -> i64 {
    if text.is_some_and(|text| text.len() == 10) {
        parsed + DAY_MS
    } else {
        parsed
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ViewQuery {
    /// The same filter the export API builds, so the export is exactly what is shown.
    fn filter(&self) -> Result<FeedbackFilter, AdminError> {
        let rating = |value: &Option<String>, name: &str| {
            given(value)
                .map(|v| {
                    v.parse::<u8>().map_err(|_| {
                        AdminError::BadRequest(format!("{name} is a number from 0 to 10"))
                    })
                })
                .transpose()
        };
        export::ExportQuery {
            from: given(&self.from).map(str::to_owned),
            to: given(&self.to).map(str::to_owned),
            min_rating: rating(&self.min_rating, "the lowest rating")?,
            max_rating: rating(&self.max_rating, "the highest rating")?,
            status: given(&self.status).map(str::to_owned),
            spam: Default::default(),
            q: given(&self.q).map(str::to_owned),
            has_email: given(&self.has_email).map(|v| v != "no"),
        }
        .into_filter()
        .map(|mut filter| {
            filter.to = filter.to.map(|to| until(given(&self.to), to));
            filter
        })
        .map_err(AdminError::BadRequest)
    }

    /// This view's query string, for links (export, pages) that keep the filters.
    fn query_string(&self, page: Option<u64>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("site", &self.site),
            ("min_rating", &self.min_rating),
            ("max_rating", &self.max_rating),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("has_email", &self.has_email),
        ] {
            if let Some(value) = given(value) {
                out.append_pair(name, value);
            }
        }
        if let Some(page) = page.filter(|page| *page > 1) {
            out.append_pair("page", &page.to_string());
        }
        out.finish()
    }
}

/// The sites this owner may see, and the ones the view covers (one, or all of them).
async fn scope(
    state: &AppState,
    owner: &Owner,
    site: Option<&str>,
) -> Result<(Vec<Site>, Vec<String>), AdminError> {
    let all = state.store.read_async(|db| db.sites()).await?;
    let visible: Vec<Site> = all
        .into_iter()
        .filter(|site| owner.0.user.may_read(site.key.as_str()))
        .collect();
    let covered = match site {
        Some(site) => {
            owner.check_site(site)?;
            if !visible.iter().any(|s| s.key.as_str() == site) {
                return Err(AdminError::NotFound);
            }
            vec![site.to_owned()]
        }
        None => visible.iter().map(|s| s.key.to_string()).collect(),
    };
    Ok((visible, covered))
}

async fn inbox(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, AdminError> {
    let filter = query.filter()?;
    let (sites, covered) = scope(&state, &owner, given(&query.site)).await?;
    let page = query.page.unwrap_or(1).max(1);
    let (total, rows) = {
        let filter = filter.clone();
        state
            .store
            .read_async(move |conn| {
                let total = conn.count_feedback_in(&covered, &filter)?;
                let mut rows = Vec::new();
                conn.for_each_feedback_in(
                    &covered,
                    &filter,
                    Page::NewestFirst {
                        offset: (page - 1) * PAGE_SIZE,
                        limit: PAGE_SIZE,
                    },
                    &mut |row| {
                        rows.push(row);
                        Ok(())
                    },
                )?;
                Ok((total, rows))
            })
            .await?
    };
    let view = pages::InboxView {
        owner: &owner.0,
        sites: &sites,
        query: &query,
        rows: &rows,
        total,
        page,
        back: format!("/admin/inbox?{}", query.query_string(Some(page))),
        export: format!("/admin/export.csv?{}", query.query_string(None)),
        newer: (page > 1).then(|| format!("/admin/inbox?{}", query.query_string(Some(page - 1)))),
        older: (page * PAGE_SIZE < total)
            .then(|| format!("/admin/inbox?{}", query.query_string(Some(page + 1)))),
    };
    Ok(html(StatusCode::OK, pages::inbox(&view)))
}

/// The inbox's current view as CSV: the same filter, through the export API's code.
async fn export_view(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, AdminError> {
    let filter = query.filter()?;
    let (_, covered) = scope(&state, &owner, given(&query.site)).await?;
    let name = match given(&query.site) {
        Some(site) => format!("earshot-{site}.csv"),
        None => "earshot-feedback.csv".to_owned(),
    };
    Ok(export::stream_export(
        state.store.clone(),
        covered,
        filter,
        Format::Csv,
        &name,
        state.timeouts.export_idle,
    ))
}

#[derive(Deserialize)]
struct TriageForm {
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
    back: Option<String>,
}

async fn triage(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
    form: web::Form<TriageForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    if !STATUSES.contains(&form.status.as_str()) {
        return Err(AdminError::BadRequest(format!(
            "the status is one of {}",
            STATUSES.join(", ")
        )));
    }
    if form.note.chars().count() > MAX_NOTE_CHARS {
        return Err(AdminError::BadRequest(format!(
            "a note has at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let id = id.into_inner();
    let lookup = id.clone();
    let row = state
        .store
        .read_async(move |conn| conn.feedback_by_id(&lookup))
        .await?;
    // Feedback of a site the account may not see does not exist, as far as it knows.
    match row {
        Some(row) if owner.0.user.may_read(&row.site) => {}
        _ => return Err(AdminError::NotFound),
    }
    let (status, note) = (form.status.clone(), form.note.trim().to_owned());
    state
        .store
        .read_async(move |conn| conn.triage(&id, &status, &note))
        .await?;
    let back = auth::safe_next(form.back.as_deref());
    Ok(see_other(&back))
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    pub site: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

async fn stats_page(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, AdminError> {
    let (sites, covered) = scope(&state, &owner, given(&query.site)).await?;
    let parse = |value: &Option<String>| {
        given(value)
            .map(export::parse_time)
            .transpose()
            .map_err(AdminError::BadRequest)
    };
    let now = store::now_millis();
    let from = parse(&query.from)?.unwrap_or(now - 30 * DAY_MS);
    let to = parse(&query.to)?
        .map(|to| until(given(&query.to), to))
        .unwrap_or(now);
    if to <= from {
        return Err(AdminError::BadRequest(
            "the end comes before the start".into(),
        ));
    }
    let filter = FeedbackFilter {
        from: Some(from),
        to: Some(to),
        ..Default::default()
    };
    let report = state
        .store
        .read_async(move |conn| stats::Report::compute(conn, &covered, &filter, from, to))
        .await?;
    Ok(html(
        StatusCode::OK,
        pages::stats(&owner.0, &sites, &query, &report, from, to),
    ))
}
