//! The signed-in owner's own settings: which emails they get, and the time zone the
//! dashboard shows times in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::auth::Owner;
use super::pages::layout;
use super::respond::{AdminError, html as page, see_other};
use super::zone::{self, Zone};
use crate::state::AppState;
use earshot_store::model::{NotifyFeedback, OwnerNotifications};

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    saved: Option<String>,
}

pub(super) async fn show(
    state: web::Data<AppState>,
    owner: Owner,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AdminError> {
    let id = owner.0.user.id;
    let settings = state
        .store
        .read_async(move |db| db.owner_notifications(id))
        .await?;
    let mail = state.mail.is_some();
    let chosen = Zone::of(&owner.0);
    let body = html! {
        div.heading { h1 { "Your email" } }
        @if query.saved.is_some() { p.notice role="status" { "Saved." } }
        @if !mail {
            section.notice role="note" {
                p { strong { "Email is not set up" } " on this collector (" code { "--smtp-url" } "), so nothing is sent yet." }
            }
        }
        section.card {
            form.stack method="post" action="/admin/account" {
                input type="hidden" name="csrf" value=(owner.0.csrf);
                fieldset {
                    legend { "New feedback on your sites" }
                    @for choice in NotifyFeedback::ALL {
                        div.check {
                            input id=(format!("feedback-{}", choice.as_str())) type="radio" name="feedback" value=(choice.as_str()) checked[settings.feedback == choice];
                            label for=(format!("feedback-{}", choice.as_str())) { (choice.label()) }
                        }
                    }
                }
                div.check {
                    input #answers type="checkbox" name="answers" value="on" checked[settings.answers];
                    label for="answers" { "An email when a visitor answers on their conversation page" }
                }
                p.hint { "Reminders of answers that are due soon always come. At most "
                    (crate::mail::MAIL_PER_OWNER_PER_HOUR) " emails an hour reach you; past that, the notices are gathered into one email an hour later." }
                label for="time_zone" { "Your time zone" }
                select #time_zone name="time_zone" aria-describedby="time-zone-hint" {
                    @for name in zone::names() {
                        option value=(name) selected[name == chosen.name()] { (name) }
                    }
                }
                p.hint #time-zone-hint { "The dashboard shows every time in this zone, and names it. Exports, webhooks and emails keep UTC." }
                div { button.primary type="submit" { "Save" } }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Your email", Some(&owner.0), "account", body),
    ))
}

#[derive(Deserialize)]
pub(super) struct SettingsForm {
    csrf: String,
    feedback: String,
    answers: Option<String>,
    /// Absent: the zone stays as it was.
    time_zone: Option<String>,
}

pub(super) async fn save(
    state: web::Data<AppState>,
    owner: Owner,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AdminError> {
    owner.check_csrf(&form.csrf)?;
    let feedback = NotifyFeedback::parse(&form.feedback).ok_or_else(|| {
        AdminError::BadRequest("feedback is one of each, hourly, daily, off".to_owned())
    })?;
    let settings = OwnerNotifications {
        feedback,
        answers: form.answers.is_some(),
    };
    let time_zone = match form.time_zone.as_deref() {
        Some(name) => Some(
            Zone::named(name)
                .ok_or_else(|| AdminError::BadRequest(format!("no time zone is named {name:?}")))?
                .name()
                .to_owned(),
        ),
        None => None,
    };
    let id = owner.0.user.id;
    state
        .store
        .read_async(move |db| {
            db.set_owner_notifications(id, &settings)?;
            match &time_zone {
                Some(zone) => db.set_time_zone(id, zone),
                None => Ok(()),
            }
        })
        .await?;
    Ok(see_other("/admin/account?saved=1"))
}
