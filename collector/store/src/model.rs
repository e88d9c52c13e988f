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
