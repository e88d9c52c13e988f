//! Sites in the dashboard: create, edit (name, origins, widget defaults, retention), the
//! snippet, API tokens, webhooks with their delivery log, delete; and erasure by email.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use earshot_shared::{RatingKind, Theme, WidgetSettings};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::Owner;
use super::respond::{AdminError, html as page, see_other};
use crate::owner;
use crate::state::AppState;
use crate::webhooks::{self, Delivery, Webhook, WebhookFormat};
use earshot_store::model::AnswerSettings;
use earshot_store::{Site, TokenInfo};

/// What a page shows once, after an action: a new token or webhook secret, or a message.
#[derive(Debug, Default)]
pub struct Flash {
    pub message: Option<String>,
    pub error: Option<String>,
    pub secret: Option<(String, String)>,
}

impl Owner {
    /// Creating and deleting sites and webhooks is for accounts that see every site.
    fn check_admin(&self) -> Result<(), AdminError> {
        if self.0.user.sites.is_none() {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }
}

/// The origins an owner typed in a form: one per line (commas and spaces also separate).
pub(super) fn origins_from(text: &str) -> Result<Vec<String>, AdminError> {
    Ok(owner::origins(text.split(['\n', ',', ' ']))?)
}

pub(super) fn site_name(name: &str) -> Result<String, AdminError> {
    Ok(owner::site_name(name)?)
}

/// The collector's address as the owner's browser reaches it, for the snippet.
fn public_base(request: &HttpRequest) -> String {
    crate::export::collector_address(request)
}

/// The widget's built-in languages, by their own names, as the site's page offers them.
const WIDGET_LANGUAGES: [(&str, &str); 7] = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("ja", "日本語"),
    ("zh", "中文"),
];

/// A site's submissions as the inbox and the statistics count them (spam apart), and its
/// spam, so the three pages agree.
fn counts(
    conn: &mut dyn earshot_store::Database,
    key: &str,
) -> Result<(u64, u64), earshot_store::StoreError> {
    let spam = earshot_store::FeedbackFilter {
        spam: earshot_store::SpamFilter::Only,
        ..Default::default()
    };
    Ok((
        conn.count_feedback(key, &earshot_store::FeedbackFilter::default())?,
        conn.count_feedback(key, &spam)?,
    ))
}

pub async fn list(state: web::Data<AppState>, owner: Owner) -> Result<HttpResponse, AdminError> {
    let sites = state.store.read_async(|db| db.sites()).await?;
    let counts = {
        let keys: Vec<String> = sites.iter().map(|s| s.key.to_string()).collect();
        state
            .store
            .read_async(move |conn| {
                keys.iter()
                    .map(|key| counts(conn, key))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?
    };
    let visible: Vec<(&Site, (u64, u64))> = sites
        .iter()
        .zip(counts)
        .filter(|(site, _)| owner.0.user.may_read(site.key.as_str()))
        .collect();
    let admin = owner.0.user.sites.is_none();
    let body = html! {
        div.heading { h1 { "Sites" } }
        section.card {
            table.stack {
                thead { tr { th scope="col" { "Site" } th scope="col" { "Key" } th scope="col" { "Origins" } th scope="col" { "Feedback (spam apart)" } } }
                tbody {
                    @for (site, count) in &visible {
                        tr {
                            td { a href=(format!("/admin/sites/{}", site.key)) { (site.name) } }
                            td data-label="Key" { code { (site.key) } }
                            td data-label="Origins" { (site.origins.join(" ")) }
                            td data-label="Feedback (spam apart)" { (count.0) @if count.1 > 0 { " · " a href=(format!("/admin/inbox?site={}&spam=only", site.key)) { (count.1) " spam" } } }
                        }
                    }
                }
            }
        }
        @if admin {
            section.card {
                h2 { "Add a site" }
                form.filters method="post" action="/admin/sites" {
                    input type="hidden" name="csrf" value=(owner.0.csrf);
                    div { label for="name" { "Name" } input #name name="name" required maxlength="100"; }
                    div { label for="key" { "Key (optional)" } input #key name="key" pattern="[a-z0-9-]{3,64}"; }
                    div.grow { label for="origins" { "Origins (space or comma separated)" } input #origins name="origins" required placeholder="https://shop.example"; }
                    div.actions { button.primary type="submit" { "Add site" } }
                }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        super::pages::layout("Sites", Some(&owner.0), "sites", body),
    ))
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    #[serde(default)]
    key: String,
    origins: String,
}

pub async fn create(
    state: web::Data<AppState>,
    owner: Owner,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_admin()?;
    let (name, key) = (form.name.clone(), form.key.clone());
    let origins = origins_from(&form.origins)?;
    let site = state
        .store
        .write_async(move |conn| Ok(owner::add_site(conn, &name, &origins, Some(&key))))
        .await??;
    Ok(see_other(&format!("/admin/sites/{}", site.key)))
}

struct SiteData {
    site: Site,
    /// Every submission, spam included (what deleting the site deletes).
    count: u64,
    spam: u64,
    tokens: Vec<TokenInfo>,
    webhooks: Vec<Webhook>,
    deliveries: Vec<Delivery>,
}

async fn load(state: &AppState, owner: &Owner, key: &str) -> Result<SiteData, AdminError> {
    owner.check_site(key)?;
    let key = key.to_owned();
    state
        .store
        .read_async(move |conn| {
            let Some(site) = conn.site(&key)? else {
                return Ok(None);
            };
            Ok(Some(SiteData {
                count: conn.feedback_count(&key)?,
                spam: counts(conn, &key)?.1,
                tokens: conn
                    .tokens()?
                    .into_iter()
                    .filter(|token| token.site.as_deref() == Some(key.as_str()))
                    .collect(),
                webhooks: conn.webhooks(&key)?,
                deliveries: conn.deliveries(&key, 20)?,
                site,
            }))
        })
        .await?
        .ok_or(AdminError::NotFound)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// Which part was just saved (after a form's redirect), to say so.
    saved: Option<String>,
}

pub async fn show(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AdminError> {
    let message = query.saved.as_deref().map(|part| {
        match part {
            "widget" => "Saved: the widget's settings.",
            "retention" => "Saved: how long feedback is kept.",
            "email" => "Saved: the promise and the email to visitors.",
            _ => "Saved.",
        }
        .to_owned()
    });
    let flash = Flash {
        message,
        ..Flash::default()
    };
    render(&request, &state, &owner, &key, flash).await
}

async fn render(
    request: &HttpRequest,
    state: &AppState,
    owner: &Owner,
    key: &str,
    flash: Flash,
) -> Result<HttpResponse, AdminError> {
    let data = load(state, owner, key).await?;
    Ok(page(
        if flash.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        site_page(owner, &data, &public_base(request), &flash),
    ))
}

fn site_page(owner: &Owner, data: &SiteData, base: &str, flash: &Flash) -> Markup {
    let site = &data.site;
    let key = site.key.as_str();
    let csrf = &owner.0.csrf;
    let action = |path: &str| format!("/admin/sites/{key}{path}");
    let admin = owner.0.user.sites.is_none();
    let snippet = owner::snippet(base, &site.key);
    let widget = &site.widget;
    let zone = super::zone::Zone::of(&owner.0);
    let body = html! {
        div.heading {
            h1 { (site.name) }
            p.count { code { (key) } " · " (data.count - data.spam) " submissions, spam apart"
                @if data.spam > 0 { " · " a href=(format!("/admin/inbox?site={key}&spam=only")) { (data.spam) " spam" } } }
            a.button href=(format!("/admin/inbox?site={key}")) { "Inbox" }
        }
        @if let Some(message) = &flash.message { p.notice role="status" { (message) } }
        @if let Some(error) = &flash.error { p.error role="alert" { (error) } }
        @if let Some((what, secret)) = &flash.secret {
            section.card.notice {
                p { "Your new " (what) ", shown only this once:" }
                p { code.secret { (secret) } }
            }
        }
        section.card {
            h2 { "Snippet" }
            label.lead for="snippet" { "Paste this into every page that should show the widget, before " code { "</body>" } ":" }
            textarea #snippet.snippet readonly rows="2" { (snippet) }
            button type="button" data-copy="snippet" hidden { "Copy" }
        }
        section.card {
            h2 { "Name and origins" }
            form.stack method="post" action=(action("")) {
                input type="hidden" name="csrf" value=(csrf);
                label for="name" { "Name" }
                input #name name="name" required maxlength="100" value=(site.name);
                label for="origins" { "Origins allowed to send feedback, one per line" }
                textarea #origins name="origins" rows="3" required { (site.origins.join("\n")) }
                div { button.primary type="submit" { "Save" } }
            }
        }
        section.card {
            h2 { "Widget defaults" }
            p.empty { "The snippet's data-* attributes win over these." }
            form.filters method="post" action=(action("/widget")) {
                input type="hidden" name="csrf" value=(csrf);
                div { label for="rating" { "Rating" }
                    select #rating name="rating" {
                        option value="" { "default" }
                        @for kind in RatingKind::ALL {
                            option value=(kind.as_str()) selected[widget.rating == Some(kind)] { (kind.as_str()) }
                        }
                    }
                }
                div { label for="theme" { "Theme" }
                    select #theme name="theme" {
                        @for theme in Theme::ALL {
                            option value=(theme.as_str()) selected[widget.theme == theme] { (theme.as_str()) }
                        }
                    }
                }
                div { label for="color" { "Accent (#rrggbb)" } input #color name="color" pattern="#([0-9a-fA-F]{3}){1,2}" value=[widget.color.as_deref()]; }
                div { label for="lang" { "Language" }
                    select #lang name="lang" {
                        option value="" selected[widget.lang.is_none()] { "The visitor's browser language" }
                        @for (tag, name) in WIDGET_LANGUAGES {
                            option value=(tag) selected[widget.lang.as_deref() == Some(tag)] { (name) }
                        }
                        // A tag set before the list (pt-BR, from the CLI or the snippet) stays.
                        @if let Some(other) = widget.lang.as_deref().filter(|lang| !WIDGET_LANGUAGES.iter().any(|(tag, _)| tag == lang)) {
                            option value=(other) selected { (other) }
                        }
                    }
                }
                div.grow { label for="prompt" { "Question" } input #prompt name="prompt" maxlength="200" value=[widget.prompt.as_deref()]; }
                div.grow {
                    label.check { input #screenshots type="checkbox" name="screenshots" value="on" checked[widget.screenshots]; " Visitors may attach a screenshot" }
                    p.hint { "Off by default: a screenshot shows what the visitor had on screen, which can be personal data. Only signed-in owners of this site can see them." }
                }
                div.actions { button.primary type="submit" { "Save" } }
            }
        }
        section.card {
            h2 { "Retention" }
            form.filters method="post" action=(action("/retention")) {
                input type="hidden" name="csrf" value=(csrf);
                div { label for="days" { "Delete feedback older than (days; empty keeps it)" }
                    input #days name="days" type="number" min="1" max="36500" value=[site.retention_days]; }
                div.actions { button.primary type="submit" { "Save" } }
            }
        }
        section.card #email {
            h2 { "Answers and email" }
            @let answers = &site.answers;
            form.stack method="post" action=(action("/answers")) {
                input type="hidden" name="csrf" value=(csrf);
                label for="answer-hours" { "Every visitor who leaves an address is answered within (hours)" }
                input #answer-hours name="answer_hours" type="number" min="1" max=(owner::MAX_ANSWER_HOURS) required value=(answers.answer_hours);
                div.check {
                    input #promise-shown type="checkbox" name="promise_shown" value="on" checked[answers.promise_shown];
                    label for="promise-shown" { "Say so in the widget, beside the email field" }
                }
                label for="reply-to" { "Visitors' replies to your emails go to (empty: back to the sender)" }
                input #reply-to name="reply_to" type="email" maxlength="254" placeholder="support@shop.example" value=[answers.reply_to.as_deref()];
                div.check {
                    input #acknowledge type="checkbox" name="acknowledge" value="on" checked[answers.acknowledge];
                    label for="acknowledge" { "Acknowledge each message by email (“we read every message; we answer within …”)" }
                }
                div.check {
                    input #notify-resolved type="checkbox" name="notify_resolved" value="on" checked[answers.notify_resolved];
                    label for="notify-resolved" { "Tell the visitor when their feedback is resolved" }
                }
                div { button.primary type="submit" { "Save" } }
            }
        }
        section.card {
            h2 { "API tokens" }
            p.empty { "For the export API: " code { "GET /v1/sites/" (key) "/feedback.csv" } " with " code { "Authorization: Bearer …" } }
            @if !data.tokens.is_empty() {
                table.tokens.stack {
                    thead { tr { th { "Name" } th { "Created" } th { "State" } th {} } }
                    tbody {
                        @for token in &data.tokens {
                            tr {
                                td data-label="Name" { (token.name) }
                                td data-label="Created" { (zone.when(token.created_at)) }
                                td data-label="State" { @if token.revoked { "revoked" } @else { "active" } }
                                td { @if !token.revoked {
                                    form method="post" action=(action(&format!("/tokens/{}/revoke", token.id))) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { "Revoke" }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
            form.filters method="post" action=(action("/tokens")) {
                input type="hidden" name="csrf" value=(csrf);
                div.grow { label for="token-name" { "What it is for" } input #token-name name="name" required maxlength="100" placeholder="weekly report"; }
                div.actions { button.primary type="submit" { "Create token" } }
            }
        }
        section.card {
            h2 { "Webhooks" }
            p.empty { "Each new submission is POSTed as JSON, signed in " code { "Earshot-Signature: t=…,v1=HMAC-SHA256(secret, \"t.body\")" } ", retried with backoff." }
            @if !data.webhooks.is_empty() {
                table.webhooks.stack {
                    thead { tr { th { "URL" } th { "Body" } th {} } }
                    tbody {
                        @for hook in &data.webhooks {
                            tr {
                                td.url data-label="URL" { (hook.url) }
                                td data-label="Body" { (hook.format.as_str()) }
                                td { @if admin {
                                    form method="post" action=(action(&format!("/webhooks/{}/delete", hook.id))) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { "Remove" }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
            @if admin {
                form.filters method="post" action=(action("/webhooks")) {
                    input type="hidden" name="csrf" value=(csrf);
                    div.grow { label for="hook-url" { "URL" } input #hook-url name="url" type="url" required placeholder="https://hooks.slack.com/services/…"; }
                    div { label for="hook-format" { "Body" }
                        select #hook-format name="format" { option value="json" { "JSON" } option value="slack" { "Slack message" } }
                    }
                    div.actions { button.primary type="submit" { "Add webhook" } }
                }
            }
            @if !data.deliveries.is_empty() {
                h2 { "Recent deliveries" }
                table.deliveries.stack {
                    thead { tr { th { "When" } th { "Feedback" } th { "State" } th { "Attempts" } th { "Last answer" } } }
                    tbody {
                        @for delivery in &data.deliveries {
                            tr {
                                td data-label="When" { (zone.when(delivery.updated_at)) }
                                td data-label="Feedback" { code { (delivery.feedback_id.chars().take(8).collect::<String>()) } }
                                td data-label="State" class=(format!("state-{}", delivery.state.as_str())) { (delivery.state.as_str()) }
                                td data-label="Attempts" { (delivery.attempts) }
                                td data-label="Last answer" {
                                    @if let Some(status) = delivery.last_status { "HTTP " (status) }
                                    @if let Some(error) = &delivery.last_error { (error) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section.card.danger {
                h2 { "Delete this site" }
                p { "Deletes the site and its " (data.count) " submissions, tokens and webhooks. It cannot be undone." }
                form.filters method="post" action=(action("/delete")) {
                    input type="hidden" name="csrf" value=(csrf);
                    div.grow { label for="confirm" { "Type the key, " code { (key) } ", to confirm" } input #confirm name="confirm" required autocomplete="off"; }
                    div.actions { button.danger type="submit" { "Delete site" } }
                }
            }
        }
    };
    super::pages::layout(&site.name, Some(&owner.0), "sites", body)
}

#[derive(Deserialize)]
pub struct UpdateForm {
    csrf: String,
    name: String,
    origins: String,
}

pub async fn update(
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<UpdateForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    let name = site_name(&form.name)?;
    let origins = origins_from(&form.origins)?;
    let site = key.clone();
    state
        .store
        .write_async(move |conn| conn.update_site(&site, &name, &origins))
        .await?;
    Ok(see_other(&format!("/admin/sites/{key}?saved=site")))
}

#[derive(Deserialize)]
pub struct WidgetForm {
    csrf: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    prompt: String,
    /// `on` when the box is ticked; absent when not.
    #[serde(default)]
    screenshots: String,
}

pub async fn widget(
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<WidgetForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let settings = WidgetSettings {
        rating: RatingKind::parse(&form.rating),
        theme: Theme::parse(&form.theme).unwrap_or_default(),
        color: optional(&form.color),
        lang: optional(&form.lang),
        prompt: optional(&form.prompt),
        screenshots: form.screenshots == "on",
    };
    let site = key.clone();
    state
        .store
        .read_async(move |conn| Ok(owner::save_widget(conn, &site, &settings)))
        .await??;
    Ok(see_other(&format!(
        "/admin/sites/{key}?saved=widget#widget"
    )))
}

#[derive(Deserialize)]
pub struct RetentionForm {
    csrf: String,
    #[serde(default)]
    days: String,
}

pub async fn retention(
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<RetentionForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    let days = match form.days.trim() {
        "" => None,
        days => Some(days.parse::<u32>().ok().ok_or_else(|| {
            AdminError::BadRequest(format!(
                "days is a number from 1 to {}",
                owner::MAX_RETENTION_DAYS
            ))
        })?),
    };
    let site = key.clone();
    state
        .store
        .read_async(move |conn| Ok(owner::set_retention(conn, &site, days)))
        .await??;
    Ok(see_other(&format!(
        "/admin/sites/{key}?saved=retention#retention"
    )))
}

#[derive(Deserialize)]
pub struct AnswersForm {
    csrf: String,
    #[serde(default)]
    reply_to: String,
    answer_hours: String,
    promise_shown: Option<String>,
    acknowledge: Option<String>,
    notify_resolved: Option<String>,
}

pub async fn answers(
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<AnswersForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    let answer_hours = form.answer_hours.trim().parse::<u32>().map_err(|_| {
        AdminError::BadRequest(format!(
            "the answer time is a number of hours from 1 to {}",
            owner::MAX_ANSWER_HOURS
        ))
    })?;
    let settings = AnswerSettings {
        reply_to: Some(form.reply_to.clone()),
        answer_hours,
        promise_shown: form.promise_shown.is_some(),
        acknowledge: form.acknowledge.is_some(),
        notify_resolved: form.notify_resolved.is_some(),
    };
    let site = key.clone();
    state
        .store
        .read_async(move |conn| Ok(owner::save_answer_settings(conn, &site, settings)))
        .await??;
    Ok(see_other(&format!("/admin/sites/{key}?saved=email#email")))
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf: String,
    name: String,
}

pub async fn create_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    let name = form.name.trim().to_owned();
    let (site, label) = (key.clone(), name.clone());
    let (_, token) = state
        .store
        .read_async(move |conn| Ok(owner::create_token(conn, &label, Some(&site))))
        .await??;
    let flash = Flash {
        secret: Some((format!("API token \"{name}\""), token)),
        ..Default::default()
    };
    render(&request, &state, &owner, &key, flash).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, i64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let (key, id) = path.into_inner();
    owner.check_site(&key)?;
    let site = key.clone();
    // Only a token of this site, which this account may manage.
    state
        .store
        .read_async(move |conn| Ok(owner::revoke_token(conn, id, Some(&site))))
        .await??
        .then_some(())
        .ok_or(AdminError::NotFound)?;
    Ok(see_other(&format!("/admin/sites/{key}")))
}

#[derive(Deserialize)]
pub struct WebhookForm {
    csrf: String,
    url: String,
    format: String,
}

pub async fn add_webhook(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<WebhookForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    owner.check_admin()?;
    webhooks::validate_url(&form.url).map_err(AdminError::BadRequest)?;
    let format = WebhookFormat::parse(&form.format)
        .ok_or_else(|| AdminError::BadRequest("the body is json or slack".into()))?;
    let (site, url) = (key.clone(), form.url.clone());
    let reach = state.webhook_reach;
    let checked = url.clone();
    actix_web::rt::task::spawn_blocking(move || webhooks::check_reach(&checked, reach))
        .await
        .map_err(|_| AdminError::BadRequest("the webhook could not be checked".into()))?
        .map_err(AdminError::BadRequest)?;
    let hook = state
        .store
        .read_async(move |conn| webhooks::add_webhook(conn, &site, &url, format))
        .await?;
    let flash = Flash {
        secret: Some(("webhook secret".into(), hook.secret)),
        ..Default::default()
    };
    render(&request, &state, &owner, &key, flash).await
}

pub async fn delete_webhook(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, i64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let (key, id) = path.into_inner();
    owner.check_site(&key)?;
    owner.check_admin()?;
    let site = key.clone();
    let found = state
        .store
        .read_async(move |conn| conn.delete_webhook(&site, id))
        .await?;
    if !found {
        return Err(AdminError::NotFound);
    }
    Ok(see_other(&format!("/admin/sites/{key}")))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    confirm: String,
}

pub async fn delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    owner: Owner,
    key: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    owner.check_site(&key)?;
    owner.check_admin()?;
    if form.confirm.trim() != key.as_str() {
        let flash = Flash {
            error: Some(format!("Type the key, {key}, to delete the site.")),
            ..Default::default()
        };
        return render(&request, &state, &owner, &key, flash).await;
    }
    let site = key.clone();
    state
        .store
        .write_async(move |conn| conn.delete_site(&site))
        .await?;
    tracing::info!(site = %key, "site deleted from the dashboard");
    Ok(see_other("/admin/sites"))
}

#[derive(Deserialize)]
pub struct EraseForm {
    csrf: String,
    email: String,
}

pub async fn erase_page(owner: Owner) -> HttpResponse {
    page(StatusCode::OK, erase_markup(&owner, None))
}

fn erase_markup(owner: &Owner, done: Option<(String, u64)>) -> Markup {
    let body = html! {
        div.heading { h1 { "Erase a visitor's feedback" } }
        section.card {
            @if let Some((email, count)) = &done {
                p.notice role="status" { "Deleted " (count) " submission" @if *count != 1 { "s" } " left with " (email) "." }
            }
            p { "Deletes every submission left with this email address, on every site this account sees. It cannot be undone." }
            form.filters method="post" action="/admin/erase" {
                input type="hidden" name="csrf" value=(owner.0.csrf);
                div.grow { label for="erase-email" { "Email address" } input #erase-email name="email" type="email" required; }
                div.actions { button.danger type="submit" { "Erase" } }
            }
        }
    };
    super::pages::layout("Erase", Some(&owner.0), "erase", body)
}

pub async fn erase(
    state: web::Data<AppState>,
    owner: Owner,
    form: web::Form<EraseForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let email = form.email.trim().to_owned();
    let user = owner.0.user.clone();
    let address = email.clone();
    let count = state
        .store
        .read_async(move |conn| Ok(owner::erase(conn, &address, &|key| user.may_read(key))))
        .await??;
    tracing::info!(count, "feedback erased by email from the dashboard");
    Ok(page(
        StatusCode::OK,
        erase_markup(&owner, Some((email, count))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_list_is_every_built_in_language() {
        let listed: Vec<&str> = WIDGET_LANGUAGES.iter().map(|(tag, _)| *tag).collect();
        let built_in: Vec<&str> = earshot_shared::texts::LANGUAGES
            .iter()
            .map(|texts| texts.lang)
            .collect();
        assert_eq!(listed, built_in);
    }
}
