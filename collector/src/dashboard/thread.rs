//! One submission on its own page: everything it says, the screenshot the visitor attached,
//! its conversation with the visitor, the reply box, and the emails it caused with where
//! each one stands.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::Owner;
use super::pages::{self, Zone, layout};
use super::respond::{AdminError, html as page, see_other};
use crate::mail::Mailer;
use crate::screenshots::THUMBNAIL_PX;
use crate::state::AppState;
use earshot_store::model::{
    Author, DeliveryState, NewReply, OutgoingMail, ReplyOutcome, ThreadMessage,
};
use earshot_store::{FeedbackRow, Site, now_millis};

/// The longest reply an owner may write, in characters.
pub const MAX_REPLY_CHARS: usize = 10_000;
/// The largest reply form accepted, in bytes: [`MAX_REPLY_CHARS`] characters of up to four
/// UTF-8 bytes, each percent-encoded.
pub const MAX_REPLY_FORM_BYTES: usize = MAX_REPLY_CHARS * 12 + 1024;

/// Everything the page shows.
struct Item {
    row: FeedbackRow,
    sites: Vec<Site>,
    thread: Vec<ThreadMessage>,
    mail: Vec<OutgoingMail>,
    /// Emails waiting in the whole outbox (said when SMTP is not set up).
    pending: u64,
    /// The visitor asked for no more email from this site.
    unsubscribed: bool,
    /// The width and height of the screenshot the visitor attached, if any.
    screenshot: Option<(u32, u32)>,
    /// Emails that came in on this thread, and why email to the visitor bounced.
    inbound: Vec<earshot_store::inbound::InboundMail>,
    bounced: Option<String>,
}

async fn load(state: &AppState, owner: &Owner, id: &str) -> Result<Item, AdminError> {
    let id = id.to_owned();
    let item = state
        .store
        .read_async(move |db| {
            let Some(row) = db.feedback_by_id(&id)? else {
                return Ok(None);
            };
            let unsubscribed = match &row.email {
                Some(email) => !row.replies_kept && db.is_unsubscribed(&row.site, email)?,
                None => false,
            };
            let bounced = match &row.email {
                Some(email) => db.undeliverable(email)?,
                None => None,
            };
            Ok(Some(Item {
                inbound: db.inbound_for(&id)?,
                bounced,
                unsubscribed,
                screenshot: db.screenshot_size(&id)?,
                sites: db.sites()?,
                thread: db.thread(&id)?,
                mail: db.mail_for(&id)?,
                pending: db.pending_mail()?,
                row,
            }))
        })
        .await?;
    // Feedback of a site the account may not see does not exist, as far as it knows.
    match item {
        Some(item) if owner.0.user.may_read(&item.row.site) => Ok(item),
        _ => Err(AdminError::NotFound),
    }
}

/// The size of a screenshot's thumbnail, as the collector made it: within
/// [`THUMBNAIL_PX`] square, its sides in proportion.
fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    let side = f64::from(THUMBNAIL_PX);
    let ratio = f64::min(
        side / f64::from(width.max(1)),
        side / f64::from(height.max(1)),
    );
    let scaled = |length: u32| ((f64::from(length) * ratio).round() as u32).max(1);
    (scaled(width), scaled(height))
}

/// What a screenshot is served under: it can run nothing, load nothing, and is never taken
/// for another type. Opened on its own, the browser's image viewer cannot style it under
/// this policy, so owners see it in [`screenshot_page`] instead.
const SCREENSHOT_CSP: &str = "default-src 'none'; sandbox";

/// `GET /admin/feedback/{id}/screenshot/view`: the full image, centred in a page of the
/// dashboard (its CSP, its header), with the way back to the feedback; the image itself
/// keeps the strict headers of [`screenshot`].
pub(super) async fn screenshot_page(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let item = load(&state, &owner, &id).await?;
    let Some((width, height)) = item.screenshot else {
        return Err(AdminError::NotFound);
    };
    let row = &item.row;
    let site = item
        .sites
        .iter()
        .find(|site| site.key.as_str() == row.site)
        .map_or(row.site.as_str(), |site| site.name.as_str());
    let feedback = format!("/admin/feedback/{}", row.id);
    let body = html! {
        div.heading {
            h1 { "Screenshot of feedback on " (site) }
            a.button href=(feedback) { "Back to the feedback" }
        }
        figure.full-shot {
            img src=(format!("{feedback}/screenshot")) width=(width) height=(height)
                alt=(format!("The screenshot the visitor attached, {width} × {height} pixels"));
            figcaption.hint { (width) " × " (height) " pixels · " (Zone::of(&owner.0).when(row.received_at)) }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Screenshot", Some(&owner.0), "inbox", body),
    ))
}

/// `GET /admin/feedback/{id}/screenshot`: the image a visitor attached, to owners who may
/// see its site (to the others it does not exist).
pub(super) async fn screenshot(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    serve_screenshot(&state, &owner, id.into_inner(), false).await
}

/// `GET /admin/feedback/{id}/screenshot/thumbnail`: its thumbnail, for the feedback's page.
pub(super) async fn screenshot_thumbnail(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    serve_screenshot(&state, &owner, id.into_inner(), true).await
}

async fn serve_screenshot(
    state: &AppState,
    owner: &Owner,
    id: String,
    thumbnail: bool,
) -> Result<HttpResponse, AdminError> {
    let found = state
        .store
        .read_async(move |db| {
            let Some(row) = db.feedback_by_id(&id)? else {
                return Ok(None);
            };
            Ok(db
                .screenshot_image(&id, thumbnail)?
                .map(|image| (row.site, image)))
        })
        .await?;
    match found {
        Some((site, (content_type, bytes))) if owner.0.user.may_read(&site) => {
            Ok(HttpResponse::Ok()
                .content_type(content_type)
                .insert_header((header::CONTENT_SECURITY_POLICY, SCREENSHOT_CSP))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .body(bytes))
        }
        _ => Err(AdminError::NotFound),
    }
}

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    replied: Option<String>,
    saved: Option<String>,
}

pub(super) async fn show(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AdminError> {
    let item = load(&state, &owner, &id).await?;
    if item.row.unread {
        // Opened: the visitor's answers in it are read.
        let read = id.to_string();
        state
            .store
            .read_async(move |db| db.mark_read(&read))
            .await?;
    }
    let notice = if query.replied.is_some() {
        Some("Your reply is waiting to be sent.")
    } else {
        query
            .saved
            .is_some()
            .then_some("Saved: the status and the note.")
    };
    Ok(page(
        StatusCode::OK,
        item_page(&owner, &item, state.mail.as_deref(), notice, None),
    ))
}

#[derive(Deserialize)]
pub(super) struct ReplyForm {
    csrf: String,
    #[serde(default)]
    body: String,
}

pub(super) async fn reply(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let item = load(&state, &owner, &id).await?;
    let body = form.body.trim().to_owned();
    let refused = |error: &str| {
        page(
            StatusCode::BAD_REQUEST,
            item_page(
                &owner,
                &item,
                state.mail.as_deref(),
                None,
                Some((error, &body)),
            ),
        )
    };
    if body.is_empty() {
        return Ok(refused("Write a reply first."));
    }
    if body.chars().count() > MAX_REPLY_CHARS {
        return Ok(refused(&format!(
            "A reply has at most {MAX_REPLY_CHARS} characters."
        )));
    }
    let reply = NewReply {
        feedback_id: id.to_string(),
        author_email: owner.0.user.email.clone(),
        body: body.clone(),
        now: now_millis(),
    };
    let outcome = state
        .store
        .read_async(move |db| db.add_reply(&reply))
        .await?;
    match outcome {
        ReplyOutcome::Queued { .. } => {
            state.mail_bell.ring();
            Ok(see_other(&format!("/admin/feedback/{id}?replied=1#thread")))
        }
        ReplyOutcome::NoEmail => Ok(refused("This visitor left no email address to reply to.")),
        ReplyOutcome::Unsubscribed => Ok(refused(
            "This visitor asked for no more email from this site: the reply was not sent.",
        )),
        ReplyOutcome::UnknownFeedback => Err(AdminError::NotFound),
    }
}

/// `GET /admin/feedback/{id}/emails.json`: where each email of a submission stands, for
/// the page's script to show a reply turning to sent without a reload.
pub(super) async fn emails(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let item = load(&state, &owner, &id).await?;
    let zone = Zone::of(&owner.0);
    let states: Vec<serde_json::Value> = item
        .mail
        .iter()
        .map(|mail| {
            let (class, label) = mail_state(mail);
            serde_json::json!({
                "id": mail.id,
                "state": class,
                "label": label,
                "attempts": mail.attempts,
                "updated": zone.when(mail.updated_at),
                "error": mail.last_error.as_deref().unwrap_or(""),
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(states))
}

fn mail_state(mail: &OutgoingMail) -> (&'static str, &'static str) {
    match mail.state {
        DeliveryState::Delivered => ("sent", "Sent"),
        DeliveryState::Failed => ("failed", "Failed"),
        DeliveryState::Pending if mail.attempts == 0 => ("pending", "Waiting to be sent"),
        DeliveryState::Pending => ("pending", "Retrying"),
    }
}

fn item_page(
    owner: &Owner,
    item: &Item,
    mailer: Option<&Mailer>,
    notice: Option<&str>,
    error: Option<(&str, &str)>,
) -> Markup {
    let row = &item.row;
    let site = item.sites.iter().find(|site| site.key.as_str() == row.site);
    let site_name = site.map_or(row.site.as_str(), |site| site.name.as_str());
    let back = format!("/admin/feedback/{}", row.id);
    let zone = Zone::of(&owner.0);
    let body = html! {
        div.heading {
            h1 { "Feedback on " (site_name) }
            a.button href=(format!("/admin/inbox?site={}", row.site)) { "Back to the inbox" }
        }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if mailer.is_none() {
            section.notice role="note" {
                p { strong { "Email is not set up." } " Replies are kept in the outbox and sent once the collector runs with "
                    code { "--smtp-url" } " and " code { "--mail-from" } " (see the README). "
                    (item.pending) " email" @if item.pending != 1 { "s" } " waiting." }
            }
        }
        (pages::item(&owner.0, &item.sites, &back, row))
        section.card #thread {
            h2 { "Conversation" }
            ol.thread {
                li.visitor {
                    p.who { "The visitor" @if let Some(email) = &row.email { " (" (email) ")" } " wrote · " (zone.when(row.received_at)) }
                    @if row.comment.trim().is_empty() { p.said.none { "No comment." } } @else { p.said { (row.comment) } }
                    @if let Some((width, height)) = item.screenshot {
                        @let (thumb_width, thumb_height) = thumbnail_size(width, height);
                        a.screenshot href=(format!("/admin/feedback/{}/screenshot/view", row.id)) {
                            img src=(format!("/admin/feedback/{}/screenshot/thumbnail", row.id))
                                width=(thumb_width) height=(thumb_height)
                                alt=(format!("The screenshot the visitor attached, {width} × {height} pixels: opens the full image"));
                        }
                    }
                }
                @for message in &item.thread {
                    @let by_owner = message.author == Author::Owner;
                    li class=(if by_owner { "owner" } else { "visitor" }) {
                        p.who {
                            @if by_owner { (message.author_email.as_deref().unwrap_or("An owner")) " replied" } @else { "The visitor wrote back" }
                            " · " (zone.when(message.created_at))
                        }
                        p.said { (message.body) }
                    }
                }
            }
            @if item.unsubscribed {
                p.empty { "This visitor asked for no more email from this site, so there is no replying by email. No answer is owed: it counts as “could not answer”, never as a missed promise. You can still note and resolve it." }
            } @else if let Some(email) = &row.email {
                @if let Some((error, _)) = error { p.error role="alert" { (error) } }
                form.stack #reply method="post" action=(format!("/admin/feedback/{}/reply", row.id)) {
                    input type="hidden" name="csrf" value=(owner.0.csrf);
                    @if row.replies_kept {
                        p.hint { "The visitor stopped all other email from this site, but kept the replies in this conversation." }
                    }
                    label for="reply-body" { "Reply to " (email) }
                    textarea #reply-body name="body" rows="6" required maxlength=(MAX_REPLY_CHARS) { (error.map_or("", |(_, kept)| kept)) }
                    p.hint {
                        "Sent as “" (site_name) "”"
                        @if let Some(mailer) = mailer { " from " (mailer.from_address()) }
                        @match site.and_then(|site| site.answers.reply_to.as_deref()) {
                            _ if mailer.is_some_and(|mailer| mailer.reply_address.is_some()) => { "; the visitor's reply by email comes back into this conversation" }
                            Some(reply_to) => { ", replies to " (reply_to) }
                            None => { " (set a reply address on the " a href=(format!("/admin/sites/{}#email", row.site)) { "site's page" } ")" }
                        }
                        ". The email quotes the feedback and links to a page where the visitor can answer."
                    }
                    div { button.primary type="submit" { "Send reply" } }
                }
            } @else {
                p.empty { "The visitor left no email address, so there is no one to reply to." }
            }
        }
        (super::unmatched::on_thread(&item.inbound, item.bounced.as_deref(), &zone))
        @if !item.mail.is_empty() {
            section.card #emails data-poll=(format!("/admin/feedback/{}/emails.json", row.id)) {
                h2 { "Emails" }
                table.stack {
                    thead { tr { th { "To" } th { "What" } th { "State" } th { "Attempts" } th { "Last change" } th { "Last error" } } }
                    tbody {
                        @for mail in &item.mail {
                            @let (class, label) = mail_state(mail);
                            tr data-mail=(mail.id) {
                                td.address data-label="To" { (mail.recipient) }
                                td data-label="What" { (mail.kind.label()) }
                                td data-label="State" aria-live="polite" { span class={ "mail mail-" (class) } { (label) } }
                                td.attempts data-label="Attempts" { (mail.attempts) }
                                td.updated data-label="Last change" { (zone.when(mail.updated_at)) }
                                td.error data-label="Last error" { (mail.last_error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Feedback", Some(&owner.0), "inbox", body)
}
