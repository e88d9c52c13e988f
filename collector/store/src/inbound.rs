//! Email that arrives: the reply addresses that name a conversation, the record of every
//! inbound email (taken once, in the transaction of what it caused), and the addresses that
//! bounced. The [`InboundStore`] contract both engines implement, its records, and the SQL
//! they share (`?N` parameters; [`crate::mail_sql::dollar_numbered`] makes PostgreSQL's).

use crate::error::StoreError;
use crate::model::{MailKind, ReplyOutcome};

/// What became of an email that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundOutcome {
    /// A visitor's answer, now in their thread.
    VisitorAnswer,
    /// An owner's reply by email, now in the thread and on its way to the visitor.
    OwnerReply,
    /// An automatic reply (out of office, a list, a robot): noted, nothing else.
    AutoReply,
    /// A bounce: the address it names gets no more email.
    Bounce,
    /// Nobody could be sure whose or which: waits for an owner in the dashboard.
    Unmatched,
    /// Was unmatched; an owner attached it to a thread.
    Attached,
    /// Was unmatched; an owner discarded it.
    Discarded,
}

impl InboundOutcome {
    pub const ALL: [Self; 7] = [
        Self::VisitorAnswer,
        Self::OwnerReply,
        Self::AutoReply,
        Self::Bounce,
        Self::Unmatched,
        Self::Attached,
        Self::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VisitorAnswer => "visitor-answer",
            Self::OwnerReply => "owner-reply",
            Self::AutoReply => "auto-reply",
            Self::Bounce => "bounce",
            Self::Unmatched => "unmatched",
            Self::Attached => "attached",
            Self::Discarded => "discarded",
        }
    }

    /// A stored value; one this build does not know reads as unmatched (an owner looks).
    pub fn stored(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
            .unwrap_or(Self::Unmatched)
    }
}

/// An email as it arrived, reduced to what is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// Its `Message-ID`, or `sha256:` and the hash of its bytes when it has none: the same
    /// email delivered twice (a retry, two replicas, IMAP after a crash) has the same key.
    pub mail_key: String,
    pub received_at: i64,
    /// `http` or `imap`.
    pub source: String,
    /// The `From` address.
    pub sender: String,
    pub subject: String,
    /// Only the new words (quoted history and signature cut), as text.
    pub body: String,
    /// Why it was classed so (a bounce's diagnostic, why it is unmatched).
    pub reason: String,
}

/// What an email that arrived is to do, decided by the collector's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundAction {
    /// The visitor answers in their thread (as on their conversation page).
    VisitorAnswer { feedback_id: String },
    /// An owner replies to the visitor (as from the dashboard).
    OwnerReply {
        feedback_id: String,
        author_email: String,
    },
    /// Noted on the thread (when known), nothing else.
    AutoReply { feedback_id: Option<String> },
    /// `address` gets no more email; the record's reason says why.
    Bounce {
        feedback_id: Option<String>,
        address: String,
    },
    /// Waits for an owner.
    Unmatched,
}

/// What [`InboundStore::take_inbound`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Recorded now, with its effects.
    Recorded {
        id: i64,
        outcome: InboundOutcome,
        feedback_id: Option<String>,
        thread_message: Option<i64>,
    },
    /// An email with this key was taken before; nothing was written.
    Duplicate,
}

/// An inbound email as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    pub id: i64,
    pub received_at: i64,
    pub source: String,
    pub sender: String,
    pub subject: String,
    pub body: String,
    pub outcome: InboundOutcome,
    pub reason: String,
    pub feedback_id: Option<String>,
    pub thread_message: Option<i64>,
    /// Its `Message-ID` (without brackets), or `sha256:…` when it had none.
    pub mail_key: String,
}

/// Whom a reply address speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyToken {
    pub feedback_id: String,
    /// The owner it was given to (a notice's); `None`: the visitor's.
    pub user_id: Option<i64>,
}

/// An email Earshot sent, found by its `Message-ID`'s key (a reply's `In-Reply-To`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub kind: MailKind,
    pub feedback_id: Option<String>,
    pub user_id: Option<i64>,
    pub recipient: String,
}

/// Email that arrives. Each method is its own transaction.
pub trait InboundStore {
    /// Stores a reply address's token, by its hash (expired ones go).
    fn add_reply_token(
        &mut self,
        token_hash: &str,
        token: &ReplyToken,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Whom a reply address speaks for, unless it expired by `now`.
    fn reply_token(&mut self, token_hash: &str, now: i64)
    -> Result<Option<ReplyToken>, StoreError>;
    /// The email Earshot sent with this `Message-ID` key.
    fn sent_mail(&mut self, message_key: &str) -> Result<Option<SentMail>, StoreError>;
    /// Records an email that arrived and does what it asks, in one transaction; an email
    /// whose key was taken before changes nothing. An owner's reply that cannot go (the
    /// visitor left no address, unsubscribed, or the thread is gone) and a visitor's answer
    /// to a thread that is gone are recorded as unmatched, with the reason.
    fn take_inbound(
        &mut self,
        record: &InboundRecord,
        action: &InboundAction,
    ) -> Result<Taken, StoreError>;
    /// Inbound emails with this outcome, newest first.
    fn inbound_mail(
        &mut self,
        outcome: InboundOutcome,
        limit: u32,
    ) -> Result<Vec<InboundMail>, StoreError>;
    fn inbound_by_id(&mut self, id: i64) -> Result<Option<InboundMail>, StoreError>;
    /// The inbound emails recorded on a submission's thread, oldest first.
    fn inbound_for(&mut self, feedback_id: &str) -> Result<Vec<InboundMail>, StoreError>;
    /// How many emails were taken into this thread since `since` (a bound against loops).
    fn inbound_count_since(&mut self, feedback_id: &str, since: i64) -> Result<u64, StoreError>;
    /// Attaches an unmatched email to a thread as the visitor's answer. `None` when it is
    /// not unmatched any more or the submission is gone.
    fn attach_inbound(
        &mut self,
        id: i64,
        feedback_id: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// Discards an unmatched email (its words are dropped, its key kept so a redelivery is
    /// not taken again). Returns whether it was unmatched.
    fn discard_inbound(&mut self, id: i64) -> Result<bool, StoreError>;
    /// Why mail to this address bounced, if it did.
    fn undeliverable(&mut self, email: &str) -> Result<Option<String>, StoreError>;
}

/// The columns of an [`InboundMail`], in its readers' order.
pub(crate) const INBOUND_COLUMNS: &str = "id, received_at, source, sender, subject, body, outcome, reason, feedback_id, thread_message, mail_key";

/// Parameters: token hash, feedback, owner, now, expiry.
pub(crate) const ADD_REPLY_TOKEN: &str = "INSERT INTO reply_tokens (token_hash, feedback_id, user_id, created_at, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

pub(crate) const DROP_EXPIRED_REPLY_TOKENS: &str =
    "DELETE FROM reply_tokens WHERE expires_at <= ?1";

/// Parameters: token hash, now.
pub(crate) const REPLY_TOKEN: &str =
    "SELECT feedback_id, user_id FROM reply_tokens WHERE token_hash = ?1 AND expires_at > ?2";

pub(crate) const SENT_MAIL: &str =
    "SELECT kind, feedback_id, user_id, recipient FROM outbox WHERE message_key = ?1";

/// Parameters: key, received, source, sender, subject, body, outcome, reason. Answers
/// nothing (no row) when the key was taken before.
pub(crate) const INSERT_INBOUND: &str = "INSERT INTO inbound_mail (mail_key, received_at, source, sender, subject, body, outcome, reason) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (mail_key) DO NOTHING RETURNING id";

/// Parameters: id, outcome, reason, feedback (left out when it was deleted meanwhile),
/// thread message.
pub(crate) const SETTLE_INBOUND: &str = "UPDATE inbound_mail SET outcome = ?2, reason = ?3, \
       feedback_id = (SELECT id FROM feedback WHERE id = ?4), thread_message = ?5 WHERE id = ?1";

/// Parameters: address hash, reason, now.
pub(crate) const MARK_UNDELIVERABLE: &str = "INSERT INTO undeliverable (email_hash, reason, created_at) VALUES (?1, ?2, ?3) \
     ON CONFLICT (email_hash) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at";

/// What waits for an address that bounced is given up. Parameters: address, now.
pub(crate) const GIVE_UP_BOUNCED: &str = "UPDATE outbox SET state = 'failed', last_error = 'the address bounced', updated_at = ?2 \
     WHERE lower(recipient) = lower(?1) AND state = 'pending'";

pub(crate) const UNDELIVERABLE: &str = "SELECT reason FROM undeliverable WHERE email_hash = ?1";

pub(crate) const COUNT_SINCE: &str =
    "SELECT count(*) FROM inbound_mail WHERE feedback_id = ?1 AND received_at >= ?2";

pub(crate) const DISCARD: &str = "UPDATE inbound_mail SET outcome = 'discarded', body = '', subject = '' \
     WHERE id = ?1 AND outcome = 'unmatched'";

/// Claims an unmatched email for attaching. Parameters: id, feedback.
pub(crate) const CLAIM_UNMATCHED: &str = "UPDATE inbound_mail SET outcome = 'attached', \
       feedback_id = (SELECT id FROM feedback WHERE id = ?2) \
     WHERE id = ?1 AND outcome = 'unmatched' RETURNING body";

/// A visitor's erasure also takes the emails they sent that wait unmatched (those in a
/// thread go with its submission). Parameter: the address.
pub(crate) const ERASE_UNMATCHED_FROM: &str =
    "DELETE FROM inbound_mail WHERE lower(sender) = lower(?1) AND feedback_id IS NULL";

pub(crate) const SET_THREAD_MESSAGE: &str =
    "UPDATE inbound_mail SET thread_message = ?2 WHERE id = ?1";

/// Why an owner's reply by email could not go.
pub(crate) fn reply_refused(outcome: &ReplyOutcome) -> &'static str {
    match outcome {
        ReplyOutcome::Queued { .. } => "",
        ReplyOutcome::UnknownFeedback => "the submission it answers was deleted",
        ReplyOutcome::NoEmail => "the visitor left no address to answer",
        ReplyOutcome::Unsubscribed => "the visitor asked for no more email from this site",
    }
}

#[cfg(test)]
mod tests;
