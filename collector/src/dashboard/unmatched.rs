//! Email that came in without a conversation it surely belongs to (`/admin/unmatched`): an
//! owner attaches each to a submission's thread, as the visitor's answer, or discards it.
//! Nothing of it is rendered as HTML: the pipeline kept only text, and maud escapes it.
//! Also the part of a submission's page that lists the emails that came in on its thread.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::Owner;
use super::pages::{Zone, layout};
use super::respond::{AdminError, html as page, see_other};
use crate::state::AppState;
use earshot_store::inbound::{InboundMail, InboundOutcome};

/// Unmatched emails listed, newest first.
pub const UNMATCHED_LISTED: u32 = 100;
/// The first words of each shown in the list, in characters.
const FIRST_WORDS: usize = 300;

/// Unmatched email may be meant for any site: only an owner of every site sees it.
fn may_see(owner: &Owner) -> bool {
    owner.0.user.sites.is_none()
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    done: Option<String>,
    error: Option<String>,
}

pub(super) async fn list(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    let mails = if may_see(&owner) {
        state
            .store
            .read_async(|db| db.inbound_mail(InboundOutcome::Unmatched, UNMATCHED_LISTED))
            .await?
    } else {
        Vec::new()
    };
    let notice = match query.done.as_deref() {
        Some("attached") => Some("Attached to the conversation as the visitor's answer."),
        Some("discarded") => Some("Discarded."),
        _ => None,
    };
    let error = match query.error.as_deref() {
        Some("unknown") => Some("No submission you may see has that id."),
        Some("gone") => Some("That email was attached or discarded meanwhile."),
        _ => None,
    };
    let zone = Zone::of(&owner.0);
    let body = html! {
        div.heading { h1 { "Unmatched mail" } }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        @if !may_see(&owner) {
            p.empty { "Unmatched mail may be meant for any site, so only owners of every site see it." }
        } @else if mails.is_empty() {
            p.empty { "No unmatched mail. Emails that reach the reply mailbox without a conversation they surely belong to wait here." }
        } @else {
            p.hint { "These emails reached the reply mailbox, but nobody can be sure which conversation they belong to, or who sent them. Attach one to a submission's conversation (its id is the end of the submission page's address) to add it as the visitor's answer, or discard it." }
            ol.unmatched {
                @for mail in &mails {
                    li.card id=(format!("mail-{}", mail.id)) {
                        p.who { (if mail.sender.is_empty() { "(no sender)" } else { mail.sender.as_str() }) " · " (zone.when(mail.received_at)) }
                        p { strong { (if mail.subject.is_empty() { "(no subject)" } else { mail.subject.as_str() }) } }
                        @if mail.body.is_empty() { p.said.none { "No words." } } @else { p.said { (first_words(&mail.body)) } }
                        p.hint { (mail.reason) }
                        form.inline method="post" action=(format!("/admin/unmatched/{}/attach", mail.id)) {
                            input type="hidden" name="csrf" value=(owner.0.csrf);
                            label for=(format!("feedback-{}", mail.id)) { "Submission id" }
                            input id=(format!("feedback-{}", mail.id)) name="feedback" required;
                            button type="submit" { "Attach" }
                        }
                        form.inline method="post" action=(format!("/admin/unmatched/{}/discard", mail.id)) {
                            input type="hidden" name="csrf" value=(owner.0.csrf);
                            button type="submit" { "Discard" }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Unmatched mail", Some(&owner.0), "unmatched", body),
    ))
}

fn first_words(text: &str) -> String {
    match text.char_indices().nth(FIRST_WORDS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[derive(Deserialize)]
pub(super) struct AttachForm {
    csrf: String,
    feedback: String,
}

pub(super) async fn attach(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<i64>,
    form: web::Form<AttachForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    if !may_see(&owner) {
        return Err(AdminError::Forbidden);
    }
    let feedback_id = form.feedback.trim().to_owned();
    let id = id.into_inner();
    let user = owner.0.user.clone();
    let attached = state
        .store
        .read_async(move |db| {
            match db.feedback_by_id(&feedback_id)? {
                Some(row) if user.may_read(&row.site) => {}
                _ => return Ok(Err("unknown")),
            }
            Ok(db
                .attach_inbound(id, &feedback_id, earshot_store::now_millis())?
                .map(|_| feedback_id)
                .ok_or("gone"))
        })
        .await?;
    match attached {
        Ok(feedback_id) => {
            state.mail_bell.ring();
            Ok(see_other(&format!("/admin/feedback/{feedback_id}#thread")))
        }
        Err(error) => Ok(see_other(&format!("/admin/unmatched?error={error}"))),
    }
}

#[derive(Deserialize)]
pub(super) struct DiscardForm {
    csrf: String,
}

pub(super) async fn discard(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<i64>,
    form: web::Form<DiscardForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    if !may_see(&owner) {
        return Err(AdminError::Forbidden);
    }
    let id = id.into_inner();
    let discarded = state
        .store
        .read_async(move |db| db.discard_inbound(id))
        .await?;
    Ok(see_other(if discarded {
        "/admin/unmatched?done=discarded"
    } else {
        "/admin/unmatched?error=gone"
    }))
}

fn label(outcome: InboundOutcome) -> &'static str {
    match outcome {
        InboundOutcome::VisitorAnswer => "The visitor wrote back by email",
        InboundOutcome::OwnerReply => "An owner replied by email",
        InboundOutcome::AutoReply => "An automatic reply (not answered)",
        InboundOutcome::Bounce => "A bounce",
        InboundOutcome::Unmatched => "Unmatched",
        InboundOutcome::Attached => "Attached from unmatched mail",
        InboundOutcome::Discarded => "Discarded",
    }
}

/// On a submission's page: why email to its visitor no longer goes, and the emails that came
/// in on its thread.
pub(super) fn on_thread(inbound: &[InboundMail], bounced: Option<&str>, zone: &Zone) -> Markup {
    html! {
        @if let Some(reason) = bounced {
            section.card.notice #bounced role="note" {
                p { strong { "Email to this visitor bounced." } " No more email goes to their address. The receiving server said: " (reason) }
            }
        }
        @if !inbound.is_empty() {
            section.card #inbound {
                h2 { "Emails that came in" }
                table {
                    thead { tr { th { "From" } th { "What" } th { "Subject" } th { "When" } th { "Note" } } }
                    tbody {
                        @for mail in inbound {
                            tr {
                                td { (mail.sender) }
                                td { (label(mail.outcome)) }
                                td { (mail.subject) }
                                td { (zone.when(mail.received_at)) }
                                td { (mail.reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}
