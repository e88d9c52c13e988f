//! The conversation page's HTML (maud escapes every value: visitor and owner text is only
//! ever text).

use maud::{DOCTYPE, Markup, html};

use super::limits::MAX_ANSWER_CHARS;
use super::links::{PATH, UNSUBSCRIBE_PATH};
use super::texts::{VisitorTexts, for_locale, when, with_site};
use earshot_store::FeedbackRow;
use earshot_store::model::{Author, ThreadMessage};

/// What the page shows.
pub struct Conversation {
    pub feedback: FeedbackRow,
    pub site_name: String,
    pub thread: Vec<ThreadMessage>,
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

/// The question before unsubscribing, or the answer after.
pub fn unsubscribe(conversation: &Conversation, token: &str, done: bool) -> Markup {
    let texts = for_locale(&conversation.feedback.locale);
    let site = &conversation.site_name;
    let title = with_site(texts.unsubscribe_question, site);
    frame(
        texts,
        &title,
        html! {
            @if done {
                h1 { (with_site(texts.unsubscribed, site)) }
            } @else {
                h1 { (title) }
                form method="post" action=(format!("{UNSUBSCRIBE_PATH}/{token}")) {
                    button type="submit" { (texts.unsubscribe_button) }
                }
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
