//! The conversation page's HTML (maud escapes every value: visitor and owner text is only
//! ever text).

use maud::{DOCTYPE, Markup, html};

use super::limits::MAX_ANSWER_CHARS;
use super::links::{PATH, UNSUBSCRIBE_PATH};
use super::texts::{VisitorTexts, for_locale, masked, when, with_site};
use earshot_store::model::{Author, ThreadMessage};
use earshot_store::{FeedbackRow, Waiting};

/// What the page shows.
pub struct Conversation {
    pub feedback: FeedbackRow,
    pub site_name: String,
    pub thread: Vec<ThreadMessage>,
    /// When the visitor's address stopped email from the site, if it did.
    pub unsubscribed_at: Option<i64>,
}

/// Where an unsubscribe page stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribe {
    /// Asking first.
    Question,
    /// Stopped (all, or all but this conversation's replies); undoable until the time.
    Done { kept: bool, undo_until: Option<i64> },
    /// The unsubscribe was undone.
    Undone,
}

/// What the visitor is told above the form.
pub enum Notice {
    None,
    Sent,
    Error(&'static str),
}

fn frame(texts: &VisitorTexts, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(texts.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="stylesheet" href=(format!("{PATH}.css"));
            }
            body { main { (body) } }
        }
    }
}

/// Text with its line breaks kept (the stylesheet keeps them; no HTML is built from it).
fn said(text: &str) -> Markup {
    html! { p.said { (text) } }
}

pub fn conversation(
    conversation: &Conversation,
    token: &str,
    notice: &Notice,
    kept: &str,
) -> Markup {
    let texts = for_locale(&conversation.feedback.locale);
    let title = with_site(texts.page_title, &conversation.site_name);
    let feedback = &conversation.feedback;
    frame(
        texts,
        &title,
        html! {
            h1 { (title) }
            @match notice {
                Notice::Sent => p.notice role="status" { (texts.answer_sent) },
                Notice::Error(text) => p.error role="alert" { (text) },
                Notice::None => {},
            }
            ol.thread {
                li.visitor {
                    p.who { (texts.you) " · " time { (when(feedback.received_at)) } }
                    @if feedback.comment.trim().is_empty() {
                        p.said.none { (texts.no_comment) }
                    } @else {
                        (said(&feedback.comment))
                    }
                }
                @for message in &conversation.thread {
                    @let owner = message.author == Author::Owner;
                    li class=(if owner { "owner" } else { "visitor" }) {
                        p.who {
                            @if owner { (conversation.site_name) } @else { (texts.you) }
                            " · " time { (when(message.created_at)) }
                        }
                        (said(&message.body))
                    }
                }
            }
            form method="post" action=(format!("{PATH}/{token}")) {
                label for="answer" { (texts.your_answer) }
                textarea #answer name="body" rows="6" required maxlength=(MAX_ANSWER_CHARS) { (kept) }
                button type="submit" { (texts.send) }
            }
            p.private { (texts.keep_private) }
        },
    )
}

/// The question before unsubscribing (naming the site and the address, and saying whether
/// an answer is still owed), or the answer after, with an undo while it lasts.
pub fn unsubscribe(conversation: &Conversation, token: &str, state: Unsubscribe) -> Markup {
    let texts = for_locale(&conversation.feedback.locale);
    let site = &conversation.site_name;
    let feedback = &conversation.feedback;
    let title = match state {
        Unsubscribe::Question => with_site(texts.unsubscribe_question, site),
        Unsubscribe::Done { kept: false, .. } => with_site(texts.unsubscribed, site),
        Unsubscribe::Done { kept: true, .. } => with_site(texts.unsubscribed_kept, site),
        Unsubscribe::Undone => with_site(texts.resubscribed, site),
    };
    let address = masked(feedback.email.as_deref().unwrap_or_default());
    // The visitor's latest word, from which an owed answer is counted.
    let asked = conversation
        .thread
        .iter()
        .rev()
        .find(|message| message.author == Author::Visitor)
        .map_or(feedback.received_at, |message| message.created_at);
    let owed = matches!(feedback.waiting(), Waiting::OnUs { .. });
    frame(
        texts,
        &title,
        html! {
            h1 { (title) }
            p { (texts.unsubscribe_address.replace("{address}", &address)) }
            @match state {
                Unsubscribe::Question => {
                    @if owed {
                        p.notice { (with_site(texts.answer_owed, site).replace("{date}", &when(asked))) }
                    }
                    form method="post" action=(format!("{UNSUBSCRIBE_PATH}/{token}")) {
                        @if owed || feedback.answered_at.is_some() {
                            button.secondary type="submit" name="keep" value="conversation" { (texts.keep_reply_button) }
                        }
                        button type="submit" { (texts.unsubscribe_button) }
                    }
                }
                Unsubscribe::Done { undo_until, .. } => {
                    @if let Some(until) = undo_until {
                        form method="post" action=(format!("{UNSUBSCRIBE_PATH}/{token}/undo")) {
                            p { (texts.undo_hint.replace("{date}", &when(until))) }
                            button type="submit" { (texts.undo_button) }
                        }
                    }
                }
                Unsubscribe::Undone => {}
            }
        },
    )
}

/// A link that expired or never existed.
pub fn expired(texts: &VisitorTexts) -> Markup {
    message(texts, texts.link_expired)
}

/// A page that only says something.
pub fn message(texts: &VisitorTexts, text: &str) -> Markup {
    frame(texts, text, html! { p.notice role="alert" { (text) } })
}
