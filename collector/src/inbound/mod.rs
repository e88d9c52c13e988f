//! Email that arrives: a visitor's reply lands in their conversation, an owner's reply to a
//! notice goes to the visitor, and nothing is dropped silently.
//!
//! Two ways in, one pipeline ([`take`]): `POST /v1/inbound-email` ([`http`]) and the IMAP
//! watcher. Each email is read within limits ([`reading`]), cut to its new words
//! ([`quotes`]), and matched to a conversation by the reply token in its recipient addresses
//! (`support+<token>@…`, [`addresses`]) or by its `In-Reply-To`/`References` against the
//! `Message-ID`s Earshot sent. It becomes the visitor's answer only when its sender is the
//! visitor's address, and an owner's reply only when the token was given to that owner and
//! the sender is their account's address; automatic replies are noted and change nothing,
//! bounces mark the address undeliverable, everything else waits in the dashboard as
//! unmatched. The store records each email once, by its `Message-ID` (or the hash of its
//! bytes), in the transaction of its effects: a retry, a second replica or a restart after a
//! crash takes it as a duplicate.

pub mod addresses;
pub mod http;
pub mod imap;
pub mod quotes;
pub mod reading;

use lettre::Address;

use crate::auth::hash_token;
use crate::conversation::limits::MAX_ANSWER_CHARS;
use crate::mail::MailBell;
use earshot_store::inbound::{InboundAction, InboundOutcome, InboundRecord, Taken};
use earshot_store::{Database, Store, StoreError, now_millis};
use reading::{Reading, Unreadable};

/// Emails one thread may take in an hour (answers, replies, automatic replies together):
/// past it they wait as unmatched, so two auto-responders that do not say so cannot loop.
pub const INBOUND_PER_THREAD_PER_HOUR: u64 = 10;

/// What the pipeline knows of this collector's own mail.
#[derive(Debug, Clone, Default)]
pub struct InboundSettings {
    /// The watched mailbox (`--inbound-address`); its plus-variants are reply addresses.
    pub address: Option<Address>,
    /// The address email is sent from (`--mail-from`): mail from it is a loop.
    pub mail_from: Option<String>,
    /// The bearer secret `POST /v1/inbound-email` asks for (`--inbound-secret`); without it
    /// the route refuses everything.
    pub secret: Option<String>,
}

/// Where an email came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Http,
    Imap,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Imap => "imap",
        }
    }
}

/// What became of one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub outcome: InboundOutcome,
    pub feedback_id: Option<String>,
    /// It was taken before; nothing changed now.
    pub duplicate: bool,
    pub reason: String,
}

/// Why an email was not taken.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Addresses compared as mailboxes (`mailbox_key`: lower case, no +tag, Gmail without dots).
fn same_mailbox(a: &str, b: &str) -> bool {
    earshot_store::mailbox_key(a) == earshot_store::mailbox_key(b)
}

fn unmatched(reason: impl Into<String>) -> (InboundAction, String) {
    (InboundAction::Unmatched, reason.into())
}

/// The thread an email is about, by the reply token or the emails it answers: the submission,
/// and the owner a token or notice was for (`None`: the visitor's).
fn thread_of(
    db: &mut dyn Database,
    reading: &Reading,
    now: i64,
) -> Result<Option<(String, Option<i64>)>, StoreError> {
    for token in &reading.tokens {
        if let Some(found) = db.reply_token(&hash_token(token), now)? {
            return Ok(Some((found.feedback_id, found.user_id)));
        }
    }
    for reference in &reading.references {
        let Some((key, _domain)) = reference.split_once('@') else {
            continue;
        };
        if let Some(feedback) = key.strip_prefix("feedback.") {
            if db.feedback_by_id(feedback)?.is_some() {
                return Ok(Some((feedback.to_owned(), None)));
            }
            continue;
        }
        if let Some(sent) = db.sent_mail(key)?
            && let Some(feedback) = sent.feedback_id
        {
            let owner = if sent.kind.to_visitor() {
                None
            } else {
                sent.user_id
            };
            return Ok(Some((feedback, owner)));
        }
    }
    Ok(None)
}

/// What an email is to do, and why.
fn decide(
    db: &mut dyn Database,
    settings: &InboundSettings,
    reading: &Reading,
    now: i64,
) -> Result<(InboundAction, String), StoreError> {
    let ours = settings
        .address
        .as_ref()
        .is_some_and(|address| addresses::is_ours(address, &reading.sender))
        || settings
            .mail_from
            .as_deref()
            .is_some_and(|from| same_mailbox(from, &reading.sender));
    if ours {
        return Ok((
            InboundAction::AutoReply { feedback_id: None },
            "sent from Earshot's own address (a loop is never answered)".to_owned(),
        ));
    }
    if let Some(bounce) = &reading.bounce {
        // Only a report on an email Earshot sent, naming its recipient, marks an address: a
        // forged bounce cannot silence someone else.
        let sent = match &bounce.original_message_id {
            Some(id) => match id.split_once('@') {
                Some((key, _)) => db.sent_mail(key)?,
                None => None,
            },
            None => None,
        };
        let words = if bounce.words.is_empty() {
            "the receiving server refused the email".to_owned()
        } else {
            bounce.words.clone()
        };
        return Ok(match (sent, &bounce.address) {
            (Some(sent), Some(address))
                if bounce.failed && same_mailbox(&sent.recipient, address) =>
            {
                (
                    InboundAction::Bounce {
                        feedback_id: sent.feedback_id,
                        address: sent.recipient.trim().to_owned(),
                    },
                    words,
                )
            }
            (Some(sent), _) => (
                InboundAction::AutoReply {
                    feedback_id: sent.feedback_id,
                },
                format!("a delivery report that is not a failure: {words}"),
            ),
            (None, _) => unmatched(format!(
                "a bounce of an email Earshot did not send: {words}"
            )),
        });
    }
    let thread = thread_of(db, reading, now)?;
    if let Some(why) = &reading.automatic {
        return Ok((
            InboundAction::AutoReply {
                feedback_id: thread.map(|(feedback, _)| feedback),
            },
            format!("an automatic reply ({why}): noted, never answered"),
        ));
    }
    let Some((feedback_id, owner)) = thread else {
        return Ok(unmatched(
            "no reply address or thread of Earshot's: nobody can be sure which conversation it belongs to",
        ));
    };
    let Some(feedback) = db.feedback_by_id(&feedback_id)? else {
        return Ok(unmatched("the submission it answers was deleted"));
    };
    if db.inbound_count_since(&feedback_id, now - 3_600_000)? >= INBOUND_PER_THREAD_PER_HOUR {
        return Ok(unmatched(format!(
            "more than {INBOUND_PER_THREAD_PER_HOUR} emails into this conversation within an hour"
        )));
    }
    if reading.words.trim().is_empty() {
        return Ok(unmatched(if reading.attachments.is_empty() {
            "no new words (only quoted history)".to_owned()
        } else {
            format!(
                "only attachments, which are not kept: {}",
                reading.attachments.join(", ")
            )
        }));
    }
    let note = if reading.attachments.is_empty() {
        String::new()
    } else {
        format!("attachments not kept: {}", reading.attachments.join(", "))
    };
    match owner {
        None => {
            let visitor = feedback.email.as_deref().unwrap_or_default();
            if visitor.is_empty() || !same_mailbox(visitor, &reading.sender) {
                return Ok(unmatched(format!(
                    "sent from {} for a conversation whose visitor has another address",
                    reading.sender
                )));
            }
            Ok((InboundAction::VisitorAnswer { feedback_id }, note))
        }
        Some(user_id) => {
            let owner = db.user_by_email(&reading.sender.to_lowercase())?;
            match owner {
                Some((user, _)) if user.id == user_id && user.may_read(&feedback.site) => Ok((
                    InboundAction::OwnerReply {
                        feedback_id,
                        author_email: user.email,
                    },
                    note,
                )),
                _ => Ok(unmatched(format!(
                    "a reply to an owner's notice sent from {}, not that owner's address",
                    reading.sender
                ))),
            }
        }
    }
}

/// At most `max` characters.
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Takes one email: reads it, decides, and records it with its effects, once. The mail bell
/// rings when it queued email (an owner's reply, notices of an answer).
pub fn take(
    store: &Store,
    settings: &InboundSettings,
    bell: &MailBell,
    raw: &[u8],
    source: Source,
) -> Result<Outcome, TakeError> {
    let reading = reading::read(raw)?;
    let now = now_millis();
    let (action, reason) = store.read(|db| decide(db, settings, &reading, now))?;
    let record = InboundRecord {
        mail_key: reading.key.clone(),
        received_at: now,
        source: source.as_str().to_owned(),
        sender: crate::mail::text::one_line(&reading.sender, 300),
        subject: reading.subject.clone(),
        body: bounded(&reading.words, MAX_ANSWER_CHARS),
        reason,
    };
    let taken = store.read(|db| db.take_inbound(&record, &action))?;
    Ok(match taken {
        Taken::Duplicate => Outcome {
            outcome: InboundOutcome::Unmatched,
            feedback_id: None,
            duplicate: true,
            reason: "taken before".to_owned(),
        },
        Taken::Recorded {
            outcome,
            feedback_id,
            ..
        } => {
            if matches!(
                outcome,
                InboundOutcome::VisitorAnswer | InboundOutcome::OwnerReply
            ) {
                bell.ring();
            }
            tracing::info!(
                outcome = outcome.as_str(),
                source = source.as_str(),
                "inbound email taken"
            );
            Outcome {
                outcome,
                feedback_id,
                duplicate: false,
                reason: record.reason,
            }
        }
    })
}

/// Records an email that cannot be read as unmatched, so an owner sees it (the IMAP watcher:
/// a mailbox cannot answer 4xx).
pub fn take_unreadable(
    store: &Store,
    raw: &[u8],
    why: &Unreadable,
    source: Source,
) -> Result<Outcome, StoreError> {
    use sha2::{Digest, Sha256};
    let record = InboundRecord {
        mail_key: format!("sha256:{:x}", Sha256::digest(raw)),
        received_at: now_millis(),
        source: source.as_str().to_owned(),
        sender: String::new(),
        subject: String::new(),
        body: String::new(),
        reason: format!("not read: {why}"),
    };
    let taken = store.read(|db| db.take_inbound(&record, &InboundAction::Unmatched))?;
    Ok(Outcome {
        outcome: InboundOutcome::Unmatched,
        feedback_id: None,
        duplicate: taken == Taken::Duplicate,
        reason: record.reason,
    })
}
