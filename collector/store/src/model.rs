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
    /// The IANA time zone the account reads the dashboard's times in (`UTC` unless set).
    pub time_zone: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailKind {
    /// An owner's reply, to the visitor.
    Reply,
    /// A visitor's answer on their conversation page, to an owner.
    VisitorAnswer,
    /// New feedback, to an owner who wants each one.
    NewFeedback,
    /// The new feedback of an hour or a day, to an owner who wants a digest.
    Digest,
    /// An answer's deadline is near, to the owners of the site.
    Reminder,
    /// "We read every message", to a visitor who left an address (when the site says so).
    Acknowledgement,
    /// The visitor's feedback was resolved (when the site says so).
    Resolved,
    /// The notices to one owner that came past their hourly bound, together in one email
    /// an hour later instead of a queue that holds other mail back.
    CatchUp,
}

impl MailKind {
    pub const ALL: [Self; 8] = [
        Self::Reply,
        Self::VisitorAnswer,
        Self::NewFeedback,
        Self::Digest,
        Self::Reminder,
        Self::Acknowledgement,
        Self::Resolved,
        Self::CatchUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::VisitorAnswer => "visitor-answer",
            Self::NewFeedback => "new-feedback",
            Self::Digest => "digest",
            Self::Reminder => "reminder",
            Self::Acknowledgement => "acknowledgement",
            Self::Resolved => "resolved",
            Self::CatchUp => "catch-up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether it goes to the visitor (who may unsubscribe), rather than to an owner.
    pub fn to_visitor(self) -> bool {
        matches!(self, Self::Reply | Self::Acknowledgement | Self::Resolved)
    }

    /// As the dashboard lists it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Reply => "Reply to the visitor",
            Self::VisitorAnswer => "Notice of the visitor's answer",
            Self::NewFeedback => "Notice of new feedback",
            Self::Digest => "Digest",
            Self::Reminder => "Reminder of the deadline",
            Self::Acknowledgement => "Acknowledgement to the visitor",
            Self::Resolved => "Notice that it was resolved",
            Self::CatchUp => "Notices held back by the hourly bound, sent together",
        }
    }
}

/// A notice to an owner that came past their hourly bound, as their catch-up email lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedNotice {
    pub kind: MailKind,
    pub site: Option<String>,
    pub feedback_id: Option<String>,
}

/// An email as the dashboard lists it. The message itself is written when it is sent, from
/// what it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: i64,
    pub kind: MailKind,
    pub feedback_id: Option<String>,
    /// The thread message it carries, if any.
    pub thread_message: Option<i64>,
    pub recipient: String,
    /// `Pending` until the SMTP server accepted it (`Delivered`), or it was given up.
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
    /// The site it is about (`None` for a digest, which covers an owner's sites).
    pub site: Option<String>,
    pub feedback_id: Option<String>,
    pub thread_message: Option<i64>,
    /// The owner it goes to, for owners' notices.
    pub user_id: Option<i64>,
    /// The time a digest covers: from, until (Unix milliseconds).
    pub window: Option<(i64, i64)>,
    pub recipient: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What a link in a visitor's email opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkPurpose {
    /// Their conversation page: read the thread and answer.
    Conversation,
    /// Only unsubscribing (the `List-Unsubscribe` link, which mail providers may follow).
    Unsubscribe,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::Unsubscribe => "unsubscribe",
        }
    }
}

/// What a site tells its visitors and promises them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerSettings {
    /// Where visitors' replies to the owner's emails go (`Reply-To`), such as
    /// support@shop.example; `None` leaves it out.
    pub reply_to: Option<String>,
    /// Every submission with an email awaits an answer within this many hours.
    pub answer_hours: u32,
    /// Whether the widget states the promise beside the email field.
    pub promise_shown: bool,
    /// Whether a visitor who leaves an address gets an acknowledgement.
    pub acknowledge: bool,
    /// Whether a visitor who left an address is told when their feedback is resolved.
    pub notify_resolved: bool,
}

/// The answer time a new site promises, in hours.
pub const DEFAULT_ANSWER_HOURS: u32 = 48;

impl Default for AnswerSettings {
    fn default() -> Self {
        Self {
            reply_to: None,
            answer_hours: DEFAULT_ANSWER_HOURS,
            promise_shown: false,
            acknowledge: false,
            notify_resolved: false,
        }
    }
}

/// How an owner hears of new feedback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NotifyFeedback {
    /// An email for each submission.
    Each,
    /// One email an hour, when there was new feedback.
    Hourly,
    /// One email a day, when there was new feedback.
    #[default]
    Daily,
    /// No email.
    Off,
}

impl NotifyFeedback {
    pub const ALL: [Self; 4] = [Self::Each, Self::Hourly, Self::Daily, Self::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Each => "each",
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.as_str() == text)
    }

    /// The time a digest covers.
    pub fn period_ms(self) -> Option<i64> {
        match self {
            Self::Hourly => Some(3_600_000),
            Self::Daily => Some(86_400_000),
            Self::Each | Self::Off => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Each => "An email for each one",
            Self::Hourly => "An hourly digest",
            Self::Daily => "A daily digest",
            Self::Off => "No email",
        }
    }
}

/// What an owner wants to hear by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerNotifications {
    pub feedback: NotifyFeedback,
    /// A visitor answered on their conversation page.
    pub answers: bool,
}

impl Default for OwnerNotifications {
    fn default() -> Self {
        Self {
            feedback: NotifyFeedback::default(),
            answers: true,
        }
    }
}

/// One answered or awaited submission, for the statistics of promises kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRecord {
    pub site: String,
    pub received_at: i64,
    pub answer_by: i64,
    pub first_answer_at: Option<i64>,
    /// The owner who answered first.
    pub answered_by: Option<String>,
    /// A follow-up: the visitor answered an owner's reply, which made a promise of its own
    /// (deadline counted from that answer). `received_at` is then the answer's time.
    pub follow_up: bool,
    /// The visitor stopped all email before it was answered: nobody could answer, which is
    /// neither kept nor broken.
    pub unreachable: bool,
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
    /// The visitor asked for no more email from this site.
    Unsubscribed,
}
