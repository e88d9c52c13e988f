//! Each kind of email, written when it is sent from what it refers to (the submission, the
//! thread, the site, the owner's period). Visitors read theirs in the language their widget
//! spoke, from the site's name, with a link to their conversation and a one-click
//! unsubscribe; owners get plain notices from Earshot. Visitor text is escaped in every HTML
//! body (maud), and names and subjects are kept to one line.

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use maud::{Markup, html};

use super::mailer::{Failure, MAIL_PER_OWNER_PER_HOUR, Mailer};
use super::text::one_line;
use crate::conversation::links;
use crate::conversation::texts;
use crate::inbound::addresses;
use earshot_shared::RatingKind;
use earshot_store::inbound::ReplyToken;
use earshot_store::model::{DueMail, LinkPurpose, MailKind};
use earshot_store::{FeedbackRow, Site, Store, StoreError};

/// Feedback listed in a digest; the rest is counted.
pub const DIGEST_ITEMS: u32 = 20;

/// An email ready to send, and the keys its limits are counted under.
pub(crate) struct Composed {
    pub message: Message,
}

fn temporary(err: StoreError) -> Failure {
    Failure::Temporary(err.to_string())
}

fn gone() -> Failure {
    Failure::Permanent("what it was about was deleted".to_owned())
}

/// `> ` before every line.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// A notice, not a person: vacation responders stay quiet (RFC 3834).
fn automatic() -> HeaderValue {
    header("Auto-Submitted", "auto-generated".to_owned())
}

const BODY_STYLE: &str = "font-family: system-ui, sans-serif; line-height: 1.5; color: #1d2129";
const QUOTE_STYLE: &str =
    "margin: 0; padding-left: 1em; border-left: 3px solid #ccc; color: #555; white-space: pre-wrap";

fn html_page(lang: &str, body: Markup) -> String {
    html! {
        (maud::DOCTYPE)
        html lang=(lang) {
            head { meta charset="utf-8"; }
            body style=(BODY_STYLE) { (body) }
        }
    }
    .into_string()
}

pub(crate) fn compose(store: &Store, mailer: &Mailer, mail: &DueMail) -> Result<Composed, Failure> {
    let domain = mailer.domain();
    // A plain address only: a display name ("Anyone <victim@…>") would let a stranger choose
    // how the email greets someone else, and dodge that person's unsubscribe.
    let to = Mailbox::new(
        None,
        mail.recipient.trim().parse().map_err(|err| {
            Failure::Permanent(format!("not an address that can receive email: {err}"))
        })?,
    );
    // An address that bounced gets nothing more (the owner sees why on the thread).
    if let Some(reason) = store
        .read(|db| db.undeliverable(&mail.recipient))
        .map_err(temporary)?
    {
        return Err(Failure::Permanent(format!(
            "the address bounced before: {reason}"
        )));
    }
    let mut builder = Message::builder()
        .message_id(Some(format!("<{}@{domain}>", mail.message_key)))
        .to(to)
        .date_now();
    if let Some(feedback) = &mail.feedback_id {
        // Every email about one submission is one thread in a mail client.
        builder = builder
            .in_reply_to(format!("<feedback.{feedback}@{domain}>"))
            .references(format!("<feedback.{feedback}@{domain}>"));
    }
    let message = if mail.kind.to_visitor() {
        to_visitor(store, mailer, mail, builder)?
    } else {
        to_owner(store, mailer, mail, builder)?
    };
    Ok(Composed {
        message: message
            .map_err(|err| Failure::Permanent(format!("the email could not be written: {err}")))?,
    })
}

/// The submission and site an email is about.
fn about(store: &Store, mail: &DueMail) -> Result<(FeedbackRow, Site), Failure> {
    let id = mail.feedback_id.as_deref().ok_or_else(gone)?;
    store
        .read(|db| {
            let Some(feedback) = db.feedback_by_id(id)? else {
                return Ok(None);
            };
            Ok(db.site(&feedback.site)?.map(|site| (feedback, site)))
        })
        .map_err(temporary)?
        .ok_or_else(gone)
}

type Built = Result<Message, lettre::error::Error>;

fn to_visitor(
    store: &Store,
    mailer: &Mailer,
    mail: &DueMail,
    builder: lettre::message::MessageBuilder,
) -> Result<Built, Failure> {
    let (feedback, site) = about(store, mail)?;
    // A visitor who stopped all email but kept this conversation's replies still gets them.
    let kept = mail.kind == MailKind::Reply && feedback.replies_kept;
    if !kept
        && store
            .read(|db| db.is_unsubscribed(&feedback.site, &mail.recipient))
            .map_err(temporary)?
    {
        return Err(Failure::Permanent("the visitor unsubscribed".to_owned()));
    }
    let token = |purpose| {
        store
            .read(|db| links::new_token(db, purpose, &feedback.id))
            .map(|token| links::link(&mailer.public_url, purpose, &token))
            .map_err(temporary)
    };
    let unsubscribe = token(LinkPurpose::Unsubscribe)?;
    let texts = texts::for_locale(&feedback.locale);
    let site_name = one_line(&site.name, 100);
    let promise = texts::promise_time(texts, site.answers.answer_hours);
    // An acknowledgement goes to an address nobody has confirmed yet: it carries none of the
    // visitor's words and no way into the conversation, so a stranger cannot use the form to
    // send their own text to someone else. Replies and resolutions come after an owner read
    // the feedback.
    let (subject, opening, conversation) = match mail.kind {
        MailKind::Reply => {
            let id = mail.thread_message.ok_or_else(gone)?;
            let message = store
                .read(|db| db.thread_message(id))
                .map_err(temporary)?
                .ok_or_else(gone)?;
            (
                texts.reply_subject,
                message.body,
                Some(token(LinkPurpose::Conversation)?),
            )
        }
        MailKind::Acknowledgement => (
            texts.ack_subject,
            texts.ack_body.replace("{promise}", &promise),
            None,
        ),
        _ => {
            // Nobody has confirmed the address until an owner answered it or the visitor
            // wrote from their conversation: until then a resolution notice, like an
            // acknowledgement, carries none of the visitor's words.
            let confirmed = !store
                .read(|db| db.thread(&feedback.id))
                .map_err(temporary)?
                .is_empty();
            (
                texts.resolved_subject,
                texts.resolved_body.to_owned(),
                if confirmed {
                    Some(token(LinkPurpose::Conversation)?)
                } else {
                    None
                },
            )
        }
    };
    let comment = if feedback.comment.trim().is_empty() {
        texts.no_comment
    } else {
        feedback.comment.as_str()
    };
    let stop = texts::with_site(texts.unsubscribe, &site_name);
    // With a reply mailbox, pressing Reply reaches the conversation.
    let hint = mailer
        .reply_address
        .as_ref()
        .map(|_| addresses::visitor_hint(texts.lang));
    let mut text = format!("{opening}\n\n-- \n{site_name}\n");
    if let Some(hint) = hint {
        text.push_str(&format!("\n{hint}\n"));
    }
    if let Some(link) = &conversation {
        text.push_str(&format!(
            "\n{}\n{}\n\n{}\n{link}\n{}\n",
            texts.you_wrote,
            quoted(comment),
            texts.open_conversation,
            texts.keep_private,
        ));
    }
    text.push_str(&format!("\n{stop}\n{unsubscribe}\n"));
    let html = html_page(
        texts.lang,
        html! {
            p style="white-space: pre-wrap" { (opening) }
            p { "— " (site_name) }
            @if let Some(hint) = hint {
                p style="color: #555" { (hint) }
            }
            @if let Some(link) = &conversation {
                p style="margin-top: 1.5em; color: #555" { (texts.you_wrote) }
                blockquote style=(QUOTE_STYLE) { (comment) }
                p style="margin-top: 1.5em" { (texts.open_conversation) br; a href=(link) { (link) } }
                p style="font-size: 0.85em; color: #666" { (texts.keep_private) }
            }
            p style="font-size: 0.85em; color: #666" { (stop) " " a href=(unsubscribe) { (texts.unsubscribe_button) } }
        },
    );
    let mut builder = builder
        .from(Mailbox::new(Some(site_name.clone()), mailer.from.clone()))
        .subject(one_line(&texts::with_site(subject, &site_name), 200))
        // One click in the mail client stops every email from this site (RFC 8058); the link
        // only unsubscribes.
        .raw_header(header("List-Unsubscribe", format!("<{unsubscribe}>")))
        .raw_header(header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    if mail.kind != MailKind::Reply {
        builder = builder.raw_header(automatic());
    }
    let reply_to = match &mailer.reply_address {
        // A reply address that names this conversation; the sender is checked when it comes.
        Some(inbound) => Some(
            store
                .read(|db| {
                    let token = ReplyToken {
                        feedback_id: feedback.id.clone(),
                        user_id: None,
                    };
                    addresses::new_reply_address(db, inbound, &token)
                })
                .map_err(temporary)?,
        ),
        None => site
            .answers
            .reply_to
            .as_deref()
            .and_then(|a| a.parse().ok()),
    };
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(Mailbox::new(Some(site_name.clone()), reply_to));
    }
    if mail.kind == MailKind::Reply
        && let Some(answered) = last_email_from_visitor(store, &feedback.id)?
    {
        // The visitor's own email is what this reply answers, so their client threads it.
        builder = builder
            .in_reply_to(format!("<{answered}>"))
            .references(format!(
                "<feedback.{}@{}> <{answered}>",
                feedback.id,
                mailer.domain()
            ));
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(text, html)))
}

/// The rating as people say it: `2 of 5 stars`, `4 of 5 on the faces`, `thumbs up`,
/// `NPS 9 of 10`.
fn rating(feedback: &FeedbackRow) -> String {
    let value = feedback.rating.value;
    let (_, high) = feedback.rating.kind.bounds();
    match feedback.rating.kind {
        RatingKind::Stars => format!("{value} of {high} stars"),
        RatingKind::Emoji => format!("{value} of {high} on the faces"),
        RatingKind::Thumbs if value > 0 => "thumbs up".to_owned(),
        RatingKind::Thumbs => "thumbs down".to_owned(),
        RatingKind::Nps => format!("NPS {value} of {high}"),
    }
}

/// `2026-11-30 14:03 UTC`
fn when(millis: i64) -> String {
    texts::when(millis)
}

fn to_owner(
    store: &Store,
    mailer: &Mailer,
    mail: &DueMail,
    builder: lettre::message::MessageBuilder,
) -> Result<Built, Failure> {
    let builder = builder
        .from(Mailbox::new(
            Some("Earshot".to_owned()),
            mailer.from.clone(),
        ))
        .raw_header(automatic());
    let dashboard = format!("{}/admin", mailer.public_url);
    if mail.kind == MailKind::CatchUp {
        return catch_up(store, mail, builder, &dashboard);
    }
    if mail.kind == MailKind::Digest {
        let (user, (from, to)) = mail.user_id.zip(mail.window).ok_or_else(gone)?;
        let (count, rows) = store
            .read(|db| db.digest_feedback(user, from, to, DIGEST_ITEMS))
            .map_err(temporary)?;
        let subject = match count {
            1 => "1 new submission on your sites".to_owned(),
            n => format!("{n} new submissions on your sites"),
        };
        let mut text = format!("From {} to {}:\n\n", when(from), when(to));
        for row in &rows {
            text.push_str(&format!(
                "* {} on {}: {}\n  {dashboard}/feedback/{}\n",
                rating(row),
                row.site,
                one_line(&row.comment, 200),
                row.id
            ));
        }
        if count > rows.len() as u64 {
            text.push_str(&format!(
                "\nand {} more in the inbox: {dashboard}/inbox\n",
                count - rows.len() as u64
            ));
        }
        let html = html_page(
            "en",
            html! {
                p { "From " (when(from)) " to " (when(to)) ":" }
                ul {
                    @for row in &rows {
                        li {
                            a href=(format!("{dashboard}/feedback/{}", row.id)) { (rating(row)) }
                            " on " (row.site) ": " (one_line(&row.comment, 200))
                        }
                    }
                }
                @if count > rows.len() as u64 {
                    p { "and " (count - rows.len() as u64) " more in the " a href=(format!("{dashboard}/inbox")) { "inbox" } "." }
                }
            },
        );
        return Ok(builder
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(text, html)));
    }

    let (feedback, site) = about(store, mail)?;
    let site_name = one_line(&site.name, 100);
    let item = format!("{dashboard}/feedback/{}", feedback.id);
    // A notice about a visitor with an address can be answered by replying: the reply
    // address names this owner and this submission.
    let mut builder = builder;
    let mut hint = None;
    if let (Some(inbound), Some(user_id)) = (&mailer.reply_address, mail.user_id)
        && feedback
            .email
            .as_deref()
            .is_some_and(|e| !e.trim().is_empty())
    {
        let token = ReplyToken {
            feedback_id: feedback.id.clone(),
            user_id: Some(user_id),
        };
        let address = store
            .read(|db| addresses::new_reply_address(db, inbound, &token))
            .map_err(temporary)?;
        builder = builder.reply_to(Mailbox::new(Some(format!("{site_name} visitor")), address));
        hint = Some(addresses::OWNER_HINT);
    }
    let (subject, lead, extra) = match mail.kind {
        MailKind::VisitorAnswer => {
            let id = mail.thread_message.ok_or_else(gone)?;
            let answer = store
                .read(|db| db.thread_message(id))
                .map_err(temporary)?
                .ok_or_else(gone)?;
            (
                format!("A visitor answered on {site_name}"),
                format!("A visitor answered on {site_name}:"),
                Some(answer.body),
            )
        }
        MailKind::Reminder => {
            if !feedback.awaits_answer() {
                return Err(Failure::Permanent(
                    "not needed: it was answered or resolved before the reminder went".into(),
                ));
            }
            let due = feedback.answer_by.unwrap_or_default();
            (
                format!("An answer is due soon on {site_name}"),
                format!(
                    "This visitor awaits an answer by {}, as {site_name} promises:",
                    when(due)
                ),
                None,
            )
        }
        _ => (
            one_line(
                &format!("New feedback on {site_name}: {}", rating(&feedback)),
                200,
            ),
            format!("New feedback on {site_name} ({}):", rating(&feedback)),
            None,
        ),
    };
    let comment = if feedback.comment.trim().is_empty() {
        "(no comment)"
    } else {
        feedback.comment.as_str()
    };
    let from_visitor = feedback.email.as_deref().unwrap_or("no address left");
    let mut text = match &extra {
        Some(answer) => format!(
            "{lead}\n\n{}\n\nTheir feedback ({}):\n{}\n\nAnswer them from the dashboard:\n{item}\n",
            quoted(answer),
            rating(&feedback),
            quoted(comment)
        ),
        None => format!(
            "{lead}\n\n{}\n\nPage: {}\nFrom: {from_visitor}\n\nOpen it in the dashboard:\n{item}\n",
            quoted(comment),
            feedback.page_url
        ),
    };
    let html = html_page(
        "en",
        html! {
            p { (lead) }
            @if let Some(answer) = &extra {
                blockquote style="margin: 0; padding-left: 1em; border-left: 3px solid #2f5bd3; white-space: pre-wrap" { (answer) }
                p style="margin-top: 1.5em; color: #555" { "Their feedback (" (rating(&feedback)) "):" }
            }
            blockquote style=(QUOTE_STYLE) { (comment) }
            @if extra.is_none() {
                p { "Page: " (feedback.page_url) br; "From: " (from_visitor) }
            }
            p style="margin-top: 1.5em" { a href=(item) { "Open it in the dashboard" } }
            @if let Some(hint) = hint {
                p style="color: #555" { (hint) }
            }
        },
    );
    if let Some(hint) = hint {
        text.push_str(&format!("\n{hint}\n"));
    }
    Ok(builder
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text, html)))
}

/// The notices that came past an owner's hourly bound, in one email.
fn catch_up(
    store: &Store,
    mail: &DueMail,
    builder: lettre::message::MessageBuilder,
    dashboard: &str,
) -> Result<Built, Failure> {
    let (user, (from, to)) = mail.user_id.zip(mail.window).ok_or_else(gone)?;
    let notices = store
        .read(|db| db.folded_notices(user, from, to))
        .map_err(temporary)?;
    if notices.is_empty() {
        return Err(Failure::Permanent(
            "not needed: no notice was held back".into(),
        ));
    }
    let what = |kind: MailKind| match kind {
        MailKind::VisitorAnswer => "A visitor answered",
        MailKind::Reminder => "An answer is due soon",
        _ => "New feedback",
    };
    let lines: Vec<(String, String)> = notices
        .iter()
        .map(|notice| {
            let on = notice.site.as_deref().unwrap_or("your sites");
            let link = match &notice.feedback_id {
                Some(id) => format!("{dashboard}/feedback/{id}"),
                None => format!("{dashboard}/inbox"),
            };
            (
                format!("{} on {}", what(notice.kind), one_line(on, 100)),
                link,
            )
        })
        .collect();
    let lead = format!(
        "More than {MAIL_PER_OWNER_PER_HOUR} emails came for you within an hour, so these \
         notices were held back and gathered here:"
    );
    let mut text = format!("{lead}\n\n");
    for (line, link) in &lines {
        text.push_str(&format!("* {line}\n  {link}\n"));
    }
    let html = html_page(
        "en",
        html! {
            p { (lead) }
            ul {
                @for (line, link) in &lines {
                    li { a href=(link) { (line) } }
                }
            }
        },
    );
    let subject = match lines.len() {
        1 => "1 notice held back from the last hour".to_owned(),
        n => format!("{n} notices held back from the last hour"),
    };
    Ok(builder
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text, html)))
}

/// The `Message-ID` of the visitor's latest email in this thread, if they wrote one.
fn last_email_from_visitor(store: &Store, feedback_id: &str) -> Result<Option<String>, Failure> {
    use earshot_store::inbound::InboundOutcome;
    let records = store
        .read(|db| db.inbound_for(feedback_id))
        .map_err(temporary)?;
    Ok(records
        .into_iter()
        .rev()
        .filter(|record| {
            matches!(
                record.outcome,
                InboundOutcome::VisitorAnswer | InboundOutcome::Attached
            )
        })
        .map(|record| record.mail_key)
        .find(|key| !key.starts_with("sha256:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_mark_every_line() {
        assert_eq!(quoted("one\ntwo"), "> one\n> two");
    }
}
