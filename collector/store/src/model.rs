//! The records the store owns beside feedback: owner accounts and their sessions, webhooks
//! and their deliveries.

/// An owner who may sign in to the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    /// The sites this account may see; `None` means every site.
    pub sites: Option<Vec<String>>,
}

impl User {
    /// Whether this account may read (and triage, and export) a site's feedback.
    pub fn may_read(&self, site: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|sites| sites.iter().any(|allowed| allowed == site))
    }
}

/// A signed-in owner, as the dashboard's handlers see them.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// Sent in every form and compared on every POST.
    pub csrf: String,
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"event": "feedback.created", "site": …, "feedback": {…}}`
    Json,
    /// `{"text": "…"}`, which Slack's (and Mattermost's, and Discord's `/slack`) incoming
    /// webhooks accept.
    Slack,
}

impl WebhookFormat {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "json" => Some(Self::Json),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub site: String,
    pub url: String,
    /// The HMAC key; receivers use it to check `Earshot-Signature`.
    pub secret: String,
    pub format: WebhookFormat,
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Not delivered yet; tried again at its next attempt time.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// A stored value; one this build does not know reads as failed (it is not retried).
    pub fn stored(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            _ => Self::Failed,
        }
    }
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub url: String,
    pub feedback_id: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

/// A delivery claimed by this collector's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook: Webhook,
    pub feedback_id: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// Who wrote a message of a submission's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Author {
    /// An owner, from the dashboard.
    Owner,
    /// The visitor, from their conversation page.
    Visitor,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Visitor => "visitor",
        }
    }

    /// A stored value; one this build does not know reads as the visitor's (never shown as
    /// something the owner said).
    pub fn stored(text: &str) -> Self {
        match text {
            "owner" => Self::Owner,
            _ => Self::Visitor,
        }
    }
}

/// One message of a submission's thread (the submission itself is its first word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMessage {
    pub id: i64,
    pub feedback_id: String,
    pub author: Author,
    /// The owner who wrote it (for an owner's reply).
    pub author_email: Option<String>,
    pub body: String,
    pub created_at: i64,
}

/// What an email of the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// An owner's reply, to the visitor.
    Reply,
    /// A visitor's answer on their conversation page, to an owner.
    VisitorAnswer,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::VisitorAnswer => "visitor-answer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reply" => Some(Self::Reply),
            "visitor-answer" => Some(Self::VisitorAnswer),
            _ => None,
        }
    }
}

/// An email as the dashboard lists it. The message itself is written when it is sent, from
/// the thread it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: i64,
    pub kind: MailKind,
    pub feedback_id: String,
    /// The thread message it carries, if any.
    pub thread_message: Option<i64>,
    pub recipient: String,
    /// `Pending` until the SMTP server accepted it (`Delivered`), or every attempt failed.
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub updated_at: i64,
}

/// An email claimed by this collector's mail worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMail {
    pub id: i64,
    /// The stable part of its `Message-ID`: the same at every attempt, so a receiver that
    /// gets it twice (an acknowledgement lost on the way back) can tell.
    pub message_key: String,
    pub kind: MailKind,
    pub feedback_id: String,
    pub thread_message: Option<i64>,
    pub recipient: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// An owner's reply, as the dashboard hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReply {
    pub feedback_id: String,
    /// The owner writing.
    pub author_email: String,
    pub body: String,
    pub now: i64,
}

/// What [`crate::Database::add_reply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Stored, with the email to the visitor queued.
    Queued { message: i64, mail: i64 },
    /// No such submission.
    UnknownFeedback,
    /// The visitor left no address to answer.
    NoEmail,
}
