//! The storage contract: the [`Database`] trait both engines implement, the records it
//! reads and writes, and the SQL the engines share (filters, statistics). Its errors are in
//! `error.rs`, below it and the capability traits it is made of (`inbound.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use earshot_shared::{Rating, RatingKind, SiteKey, Submission, WidgetSettings};

pub use crate::clock::now_millis;
pub use crate::error::StoreError;
pub(crate) use crate::error::describe_postgres;
use crate::model::{
    AnswerRecord, AnswerSettings, Delivery, DeliveryState, DueDelivery, DueMail, FoldedNotice,
    LinkPurpose, NewReply, OutgoingMail, OwnerNotifications, ReplyOutcome, Session, ThreadMessage,
    User, Webhook, WebhookFormat,
};

/// After this long with nothing to write, the writer tidies up (on SQLite: a checkpoint that
/// truncates the WAL, so an idle collector keeps no WAL on disk).
pub const WRITER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// The columns both engines read a [`FeedbackRow`] from, in the order their row readers
/// expect. New columns go at the end.
pub(crate) const FEEDBACK_COLUMNS: &str = "seq, id, received_at, site_key, rating_kind, rating_value, comment, email, \
     page_url, locale, user_agent, viewport_width, viewport_height, status, spam, user_id, metadata, \
     note, first_response_at, referrer, first_answer_at, answer_by, \
     EXISTS (SELECT 1 FROM screenshots WHERE screenshots.feedback_id = feedback.id), \
     answered_at, unread, unsubscribed_at, replies_kept, \
     (SELECT author || ':' || substr(body, 1, 200) FROM messages \
        WHERE messages.feedback_id = feedback.id ORDER BY messages.id DESC LIMIT 1), \
     (SELECT max(created_at) FROM messages WHERE messages.feedback_id = feedback.id), \
     (SELECT count(*) FROM messages WHERE messages.feedback_id = feedback.id AND messages.author = 'owner'), \
     (SELECT count(*) FROM messages WHERE messages.feedback_id = feedback.id AND messages.author = 'visitor')";

/// Where a submission stands in the owner's triage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FeedbackStatus {
    /// Not looked at yet (every submission starts here).
    #[default]
    New,
    /// Someone is on it.
    InProgress,
    /// Done.
    Resolved,
}

impl FeedbackStatus {
    pub const ALL: [Self; 3] = [Self::New, Self::InProgress, Self::Resolved];
    /// The names stored, exported and accepted in queries, in [`FeedbackStatus::ALL`]'s order.
    pub const NAMES: [&'static str; 3] = ["new", "in-progress", "resolved"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in-progress",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// As the dashboard shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::InProgress => "In progress",
            Self::Resolved => "Resolved",
        }
    }

    /// A stored value; one this build does not know reads as new rather than hiding the row.
    pub(crate) fn stored(text: &str) -> Self {
        Self::parse(text).unwrap_or_default()
    }
}

/// A site as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub key: SiteKey,
    pub name: String,
    /// Normalised origins (see [`crate::origin::normalize_origin`]) allowed to submit.
    pub origins: Vec<String>,
    pub created_at: i64,
    /// How the widget looks and asks on this site, unless the snippet says otherwise.
    pub widget: WidgetSettings,
    /// Feedback older than this many days is deleted; `None` keeps it.
    pub retention_days: Option<u32>,
    /// What the site promises its visitors and tells them by email.
    pub answers: AnswerSettings,
}

impl Site {
    /// A site as just added: no widget defaults, no retention.
    pub(crate) fn added(key: &SiteKey, name: &str, origins: &[String], created_at: i64) -> Self {
        Self {
            key: key.clone(),
            name: name.to_owned(),
            origins: origins.to_vec(),
            created_at,
            widget: WidgetSettings::default(),
            retention_days: None,
            answers: AnswerSettings::default(),
        }
    }
}

/// An API token as listed; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The only site the token may read; `None` means every site.
    pub site: Option<String>,
    pub created_at: i64,
    pub revoked: bool,
}

/// One stored submission, as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRow {
    /// The order of arrival.
    pub seq: i64,
    pub id: String,
    pub received_at: i64,
    pub site: String,
    pub rating: Rating,
    pub comment: String,
    pub email: Option<String>,
    pub page_url: String,
    /// The page that led the visitor to the site, when the browser said.
    pub referrer: Option<String>,
    pub locale: String,
    pub user_agent: String,
    pub viewport_width: u32,
    pub viewport_height: u32,
    pub status: FeedbackStatus,
    pub spam: bool,
    pub user_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The owner's internal note.
    pub note: String,
    /// When the status was first changed (or the first reply sent), in Unix milliseconds.
    pub first_response_at: Option<i64>,
    /// When an owner first replied to the visitor, in Unix milliseconds.
    pub first_answer_at: Option<i64>,
    /// When the answer is due (the site's promise from its arrival); `None` when the visitor
    /// left no address (or it is spam): nobody to answer.
    pub answer_by: Option<i64>,
    /// Whether the visitor attached a screenshot.
    pub has_screenshot: bool,
    /// When an owner replied to the latest wait (see [`Waiting`]); `None` while it waits.
    pub answered_at: Option<i64>,
    /// The visitor answered and no owner has opened it since.
    pub unread: bool,
    /// When the visitor asked for no more email from the site: nobody can be answered.
    pub unsubscribed_at: Option<i64>,
    /// The visitor stopped all other email from the site but kept the owners' replies in
    /// this conversation.
    pub replies_kept: bool,
    /// The thread's latest message: who wrote it, its first words, when.
    pub latest: Option<LatestMessage>,
    /// How many replies the owners sent, and answers the visitor wrote back.
    pub replies: u32,
    pub visitor_answers: u32,
    /// The whole thread as a JSON array of `{author, author_email, body, at}` (Unix
    /// milliseconds), oldest first: only from
    /// [`Database::for_each_feedback_with_threads_in`].
    pub thread_json: Option<String>,
}

/// The column [`Database::for_each_feedback_with_threads_in`] adds after
/// [`FEEDBACK_COLUMNS`], in each engine's JSON functions.
pub(crate) fn thread_json_column(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "(SELECT json_group_array(json_object('author', author, 'author_email', author_email, \
               'body', body, 'at', created_at)) \
             FROM (SELECT author, author_email, body, created_at FROM messages \
                   WHERE messages.feedback_id = feedback.id ORDER BY messages.id))"
        }
        Dialect::Postgres => {
            "(SELECT coalesce(json_agg(json_build_object('author', author, 'author_email', author_email, \
               'body', body, 'at', created_at) ORDER BY messages.id), '[]'::json)::text \
             FROM messages WHERE messages.feedback_id = feedback.id)"
        }
    }
}

/// The first words of a thread's latest message, as the inbox shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestMessage {
    pub author: crate::model::Author,
    /// At most [`LATEST_MESSAGE_CHARS`] characters of it.
    pub words: String,
    pub at: i64,
}

/// How much of a thread's latest message a listing reads.
pub const LATEST_MESSAGE_CHARS: usize = 200;

impl LatestMessage {
    /// From the columns [`FEEDBACK_COLUMNS`] reads: `author:words`, and the time.
    pub(crate) fn read(joined: Option<String>, at: Option<i64>) -> Option<Self> {
        let (author, words) = joined?
            .split_once(':')
            .map(|(a, w)| (a.to_owned(), w.to_owned()))?;
        Some(Self {
            author: crate::model::Author::stored(&author),
            words,
            at: at?,
        })
    }
}

/// Who a conversation waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Waiting {
    /// An owner's answer is owed, by the deadline: since the submission arrived, or since
    /// the visitor's latest answer.
    OnUs { by: i64 },
    /// An owner answered last; the visitor may answer back.
    OnVisitor,
    /// Nobody: resolved, spam, no address, or the visitor stopped all email (then nobody
    /// *could* answer: see [`Waiting::Unsubscribed`]).
    Closed,
    /// The visitor asked for no more email while an answer was owed or after: no answer
    /// can reach them, which counts as "could not answer", never as a broken promise.
    Unsubscribed,
}

impl Waiting {
    /// As stored, exported and accepted in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnUs { .. } => "waiting-on-us",
            Self::OnVisitor => "waiting-on-visitor",
            Self::Closed => "closed",
            Self::Unsubscribed => "unsubscribed",
        }
    }

    /// As the dashboard shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::OnUs { .. } => "Waiting on us",
            Self::OnVisitor => "Waiting on the visitor",
            Self::Closed => "Closed",
            Self::Unsubscribed => "Could not answer: the visitor stopped all email",
        }
    }
}

impl FeedbackRow {
    /// Who the conversation waits on (the same rule as the filter's [`Awaiting`]).
    pub fn waiting(&self) -> Waiting {
        match self.answer_by {
            None => Waiting::Closed,
            Some(_) if self.spam => Waiting::Closed,
            Some(_) if self.unsubscribed_at.is_some() => Waiting::Unsubscribed,
            Some(_) if self.status == FeedbackStatus::Resolved => Waiting::Closed,
            Some(by) if self.answered_at.is_none() => Waiting::OnUs { by },
            Some(_) => Waiting::OnVisitor,
        }
    }

    /// Whether it awaits an owner's answer: the first, or one to the visitor's latest
    /// answer (resolved feedback does not, nor a visitor who stopped all email).
    pub fn awaits_answer(&self) -> bool {
        matches!(self.waiting(), Waiting::OnUs { .. })
    }

    /// Whether the latest wait was answered on time: `Some(true)` when an owner answered
    /// by its deadline, `Some(false)` when later, or not at all with the deadline past at
    /// `now`; `None` when nothing was owed, or it is not due yet, or nobody could answer.
    pub fn answered_on_time(&self, now: i64) -> Option<bool> {
        let by = self.answer_by?;
        match (self.answered_at, self.waiting()) {
            (Some(at), _) => Some(at <= by),
            (None, Waiting::OnUs { .. }) if by < now => Some(false),
            _ => None,
        }
    }

    /// Whether its answer is late at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        self.awaits_answer() && self.answer_by.is_some_and(|by| by < now)
    }
}

/// What [`Database::add_visitor_answer`] reads of the submission answered.
pub(crate) struct AnsweredFeedback {
    pub email: Option<String>,
    pub spam: bool,
    pub answered_at: Option<i64>,
    pub status: FeedbackStatus,
    pub unsubscribed_at: Option<i64>,
    pub answer_by: Option<i64>,
    pub answer_hours: i64,
}

impl AnsweredFeedback {
    /// The deadline of the promise a visitor's answer at `now` makes: counted from that
    /// answer, when an owner had answered the last wait (or it was resolved). None while an
    /// answer is owed already (the earlier deadline stands), nor for a visitor nobody can
    /// write to.
    pub fn new_promise(&self, now: i64) -> Option<i64> {
        let reachable = self.email.as_deref().is_some_and(|e| !e.trim().is_empty())
            && !self.spam
            && self.unsubscribed_at.is_none();
        let owed = self.answer_by.is_some()
            && self.answered_at.is_none()
            && self.status != FeedbackStatus::Resolved;
        (reachable && !owed).then(|| now + self.answer_hours * 3_600_000)
    }
}

/// Submissions by whether they await an answer (see [`FeedbackRow::awaits_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Awaiting an owner's answer (the first, or one to the visitor's latest answer).
    Answer,
    /// Awaiting it past the deadline at this time.
    Overdue(i64),
    /// Not awaiting one.
    Nothing,
}

/// Whether an export includes submissions flagged as spam.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SpamFilter {
    /// Leave spam out (the default, as in every listing).
    #[default]
    Exclude,
    /// Everything, spam included.
    Include,
    /// Only spam, to review what was caught.
    Only,
}

/// Which submissions an export or listing covers. Empty means everything but spam.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackFilter {
    /// Received at or after, in Unix milliseconds.
    pub from: Option<i64>,
    /// Received before, in Unix milliseconds.
    pub to: Option<i64>,
    pub min_rating: Option<u8>,
    pub max_rating: Option<u8>,
    pub status: Option<FeedbackStatus>,
    pub spam: SpamFilter,
    /// Words the comment, page, email or note contains (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only submissions whose visitor left (`true`) or did not leave (`false`) an email.
    pub has_email: Option<bool>,
    /// Only those that await an answer, are overdue, or await nothing.
    pub awaiting: Option<Awaiting>,
}

/// A parameter of a query built at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlValue {
    Int(i64),
    Text(String),
}

/// The SQL spoken by an engine, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Time buckets of the statistics: bucket `n` starts at `first + n * width_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    pub first: i64,
    pub width_ms: i64,
}

/// What [`Database::feedback_stats`] answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsRows {
    /// How many ratings of each kind and value fell in each bucket (its index, unclamped).
    pub ratings: Vec<RatingCount>,
    /// The pages (URL without query or fragment) with at least
    /// [`STATS_MIN_PAGE_RATINGS`] ratings, lowest average satisfaction first (then most
    /// rated), at most [`STATS_PAGES`].
    pub pages: Vec<PageSatisfaction>,
    /// Submissions that had a first response.
    pub responded: u64,
    /// The median time from arrival to first response (the upper median).
    pub median_response_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingCount {
    pub kind: RatingKind,
    pub value: u8,
    pub bucket: i64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageSatisfaction {
    pub url: String,
    pub count: u64,
    /// Average on the common 0–100 scale.
    pub satisfaction: f64,
}

/// Ratings a page needs before the statistics may call it one that needs attention.
pub const STATS_MIN_PAGE_RATINGS: u64 = 3;
/// Pages listed as needing attention.
pub const STATS_PAGES: usize = 5;

impl FeedbackFilter {
    /// The `WHERE` clause for this filter over these sites, and its parameters, in order.
    pub(crate) fn sql(&self, sites: &[String], dialect: Dialect) -> (String, Vec<SqlValue>) {
        let mut values: Vec<SqlValue> = Vec::new();
        let mut param = |value: SqlValue| {
            values.push(value);
            match dialect {
                Dialect::Sqlite => "?".to_owned(),
                Dialect::Postgres => format!("${}", values.len()),
            }
        };
        let mut clause = if sites.is_empty() {
            String::from("1 = 0")
        } else {
            let list: Vec<String> = sites
                .iter()
                .map(|site| param(SqlValue::Text(site.clone())))
                .collect();
            format!("site_key IN ({})", list.join(", "))
        };
        let mut add = |condition: &str, value: SqlValue| {
            let placeholder = param(value);
            clause.push_str(&format!(" AND {condition} {placeholder}"));
        };
        if let Some(from) = self.from {
            add("received_at >=", SqlValue::Int(from));
        }
        if let Some(to) = self.to {
            add("received_at <", SqlValue::Int(to));
        }
        if let Some(min) = self.min_rating {
            add("rating_value >=", SqlValue::Int(min.into()));
        }
        if let Some(max) = self.max_rating {
            add("rating_value <=", SqlValue::Int(max.into()));
        }
        if let Some(status) = self.status {
            add("status =", SqlValue::Text(status.as_str().to_owned()));
        }
        // The same rule as [`FeedbackRow::waiting`]'s `OnUs`.
        const AWAITS: &str = "answer_by IS NOT NULL AND answered_at IS NULL AND status <> 'resolved' \
                              AND NOT spam AND unsubscribed_at IS NULL";
        match self.awaiting {
            Some(Awaiting::Answer) => clause.push_str(&format!(" AND ({AWAITS})")),
            Some(Awaiting::Overdue(now)) => {
                let placeholder = param(SqlValue::Int(now));
                clause.push_str(&format!(" AND ({AWAITS} AND answer_by < {placeholder})"));
            }
            Some(Awaiting::Nothing) => clause.push_str(&format!(" AND NOT ({AWAITS})")),
            None => {}
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // LIKE with its wildcards escaped: the owner's words are matched as written.
            // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE ignores case too.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let like = match dialect {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            let pattern = param(SqlValue::Text(format!("%{escaped}%")));
            clause.push_str(&format!(
                " AND (comment {like} {pattern} ESCAPE '\\' OR page_url {like} {pattern} ESCAPE '\\' \
                 OR coalesce(email, '') {like} {pattern} ESCAPE '\\' OR note {like} {pattern} ESCAPE '\\')"
            ));
            if dialect == Dialect::Sqlite {
                // `?` is positional: each use takes its own copy.
                let copy = values.last().cloned().expect("just pushed");
                values.extend([copy.clone(), copy.clone(), copy]);
            }
        }
        match self.has_email {
            Some(true) => clause.push_str(" AND email IS NOT NULL AND email <> ''"),
            Some(false) => clause.push_str(" AND (email IS NULL OR email = '')"),
            None => {}
        }
        let (no, yes) = match dialect {
            Dialect::Sqlite => ("0", "1"),
            Dialect::Postgres => ("false", "true"),
        };
        match self.spam {
            SpamFilter::Exclude => clause.push_str(&format!(" AND spam = {no}")),
            SpamFilter::Include => {}
            SpamFilter::Only => clause.push_str(&format!(" AND spam = {yes}")),
        }
        (clause, values)
    }
}

/// What happened to a submission handed to [`Store::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Committed now.
    New,
    /// A submission with this id was committed before; nothing was written.
    Duplicate,
}

/// A submission on its way to the database.
#[derive(Debug, Clone)]
pub struct Pending {
    pub submission: Submission,
    pub received_at: i64,
    pub spam: bool,
}

/// What a `201` survives. Both are crash-safe; they differ on power loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Durability {
    /// Every acknowledged submission survives a power loss or OS crash: each batch is
    /// fsynced before it is acknowledged (SQLite `synchronous=FULL`).
    #[default]
    #[cfg_attr(feature = "cli", value(name = "full"))]
    PowerLoss,
    /// Every acknowledged submission survives the collector being killed (`kill -9`, a
    /// crash); the last moments may be lost if the whole machine loses power. About twice
    /// the throughput (SQLite WAL with `synchronous=NORMAL`; on PostgreSQL,
    /// `synchronous_commit=off`, where the server's crash may lose the last moments).
    #[cfg_attr(feature = "cli", value(name = "normal"))]
    ProcessCrash,
}

/// Where the data lives: a SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL, or a libpq `key=value` string.
    Postgres(String),
}

impl Location {
    /// `--database-url` when given (PostgreSQL), else the SQLite file `--database`.
    pub fn from_options(database: &Path, database_url: Option<&str>) -> Result<Self, StoreError> {
        match database_url.map(str::trim).filter(|url| !url.is_empty()) {
            None => Ok(Self::Sqlite(database.to_owned())),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Self::Postgres(url.to_owned()))
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) => Ok(Self::Sqlite(PathBuf::from(path))),
                None => Err(StoreError::BadLocation(redact(url))),
            },
        }
    }

    /// What to show in logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact(url),
        }
    }
}

/// The URL without its password, for logs and errors.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            // libpq also takes the password as a parameter: `?password=…`.
            if parsed.query_pairs().any(|(key, _)| key == "password") {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(key, value)| {
                        let value = if key == "password" {
                            "***".into()
                        } else {
                            value
                        };
                        (key.into_owned(), value.into_owned())
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(a PostgreSQL connection string)".to_owned(),
    }
}

/// A screenshot as the collector encoded it anew (never the bytes a visitor sent), for
/// [`Database::add_screenshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screenshot {
    pub feedback_id: String,
    /// `image/png` or `image/jpeg`: the type of the image and of its thumbnail.
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub image: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub created_at: i64,
}

/// Everything the collector asks of its database. Implemented by a SQLite connection and by
/// a PostgreSQL connection; each method is its own transaction. Blocking: the server calls
/// it through [`Store::read_async`] / [`Store::write_async`], on the blocking thread pool.
pub trait Database: Send + crate::inbound::InboundStore {
    /// A round trip, for the health check.
    fn ping(&mut self) -> Result<(), StoreError>;

    /// Whether the connection is known to be lost (the server restarted, a proxy dropped
    /// it): the caller replaces it. A file never is.
    fn is_broken(&mut self) -> bool {
        false
    }

    /// Called by the writer after each batch (`idle: false`) and when it has had nothing to
    /// write for [`WRITER_IDLE`] (`idle: true`): on SQLite, keeps the WAL file small.
    /// `Ok(false)` when idle work was held back (a reader of an old snapshot): the writer
    /// calls again after the next [`WRITER_IDLE`] without writes, until it is done.
    fn after_writes(&mut self, idle: bool) -> Result<bool, StoreError> {
        let _ = idle;
        Ok(true)
    }

    // ---- Submissions ---------------------------------------------------------------------

    /// Writes a batch in one transaction, with the webhook deliveries of each new, non-spam
    /// submission. A submission that cannot be stored (its site was deleted meanwhile) fails
    /// alone; `Err` means nothing was written.
    fn write_batch(
        &mut self,
        batch: &[&Pending],
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError>;

    // ---- Sites ---------------------------------------------------------------------------

    fn add_site(
        &mut self,
        key: &SiteKey,
        name: &str,
        origins: &[String],
    ) -> Result<Site, StoreError>;
    /// Renames a site and replaces its allowed origins.
    fn update_site(&mut self, key: &str, name: &str, origins: &[String]) -> Result<(), StoreError>;
    /// Deletes a site with all its feedback, tokens, webhooks and account grants; returns
    /// how many submissions went.
    fn delete_site(&mut self, key: &str) -> Result<u64, StoreError>;
    /// Sets how long a site keeps feedback (`None`: forever).
    fn set_retention(&mut self, key: &str, days: Option<u32>) -> Result<(), StoreError>;
    /// Deletes the feedback every site no longer keeps; returns how many submissions went.
    fn apply_retention(&mut self, now: i64) -> Result<u64, StoreError>;
    /// Deletes everything left with this email address (a visitor's request for erasure),
    /// in these sites; returns how many submissions went.
    fn erase_email(&mut self, email: &str, sites: &[String]) -> Result<u64, StoreError>;
    /// Replaces a site's widget defaults. The caller has validated them.
    fn set_widget_settings(
        &mut self,
        key: &str,
        settings: &WidgetSettings,
    ) -> Result<(), StoreError>;
    fn site(&mut self, key: &str) -> Result<Option<Site>, StoreError>;
    /// Every site, oldest first.
    fn sites(&mut self) -> Result<Vec<Site>, StoreError>;

    // ---- API tokens ----------------------------------------------------------------------

    /// Stores a token's hash (never the token); returns its id.
    fn add_token(&mut self, name: &str, hash: &str, site: Option<&str>) -> Result<i64, StoreError>;
    /// The token with this hash, if it exists and was not revoked.
    fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenInfo>, StoreError>;
    fn tokens(&mut self) -> Result<Vec<TokenInfo>, StoreError>;
    fn revoke_token(&mut self, id: i64) -> Result<(), StoreError>;

    // ---- Feedback ------------------------------------------------------------------------

    /// How many submissions of these sites match `filter`.
    fn count_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
    ) -> Result<u64, StoreError>;
    /// The statistics page's aggregates, computed by the database (a handful of rows,
    /// whatever the number of submissions). The figures are for the submissions received in `[from, to)`, spam apart: whole
    /// hours are read from counts the database keeps as submissions come and go, so the
    /// time taken depends on the length of the range, not on the number of submissions.
    fn feedback_stats(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
        buckets: Buckets,
    ) -> Result<StatsRows, StoreError>;
    /// PostgreSQL: merges the statistics' counts that the writers appended since the last
    /// time (see [`Database::feedback_stats`]); how many rows remain. SQLite keeps one row
    /// per count and has nothing to merge.
    fn compact_stats(&mut self) -> Result<u64, StoreError>;

    /// Calls `each` with the submissions of these sites that match `filter`, one row in
    /// memory at a time; returns how many there were.
    fn for_each_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        page: Page,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
    /// [`Database::for_each_feedback_in`] in arrival order, each row with its whole thread
    /// ([`FeedbackRow::thread_json`]), for exports that carry the conversation.
    fn for_each_feedback_with_threads_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
    fn feedback_by_id(&mut self, id: &str) -> Result<Option<FeedbackRow>, StoreError>;
    /// Sets a submission's status and note. The first change of status away from `new`
    /// records the time of the first response. Returns whether the submission exists.
    fn triage(&mut self, id: &str, status: FeedbackStatus, note: &str) -> Result<bool, StoreError>;

    // ---- Screenshots ---------------------------------------------------------------------

    /// Stores a submission's screenshot. `false` when it has one already (a retry), which
    /// stays as it is.
    fn add_screenshot(&mut self, screenshot: &Screenshot) -> Result<bool, StoreError>;
    /// A submission's screenshot, or its thumbnail: the content type and the bytes.
    fn screenshot_image(
        &mut self,
        feedback_id: &str,
        thumbnail: bool,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// The width and height of a submission's screenshot, if it has one.
    fn screenshot_size(&mut self, feedback_id: &str) -> Result<Option<(u32, u32)>, StoreError>;

    // ---- Owner accounts ------------------------------------------------------------------

    /// Adds an account (email already normalised). `sites: None` reaches every site.
    fn add_user(
        &mut self,
        email: &str,
        password_hash: &str,
        sites: Option<&[String]>,
    ) -> Result<User, StoreError>;
    /// The account with this (normalised) email and its password hash.
    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Every account, oldest first.
    fn users(&mut self) -> Result<Vec<User>, StoreError>;
    /// Whether any account exists, without reading them.
    fn has_users(&mut self) -> Result<bool, StoreError>;
    /// Stores a session (by the hash of its token) and drops the expired ones.
    fn add_session(
        &mut self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The session with this token hash, unless it has expired by `now`.
    fn session(&mut self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError>;
    fn end_session(&mut self, token_hash: &str) -> Result<(), StoreError>;
    /// Sets the IANA time zone an account reads the dashboard's times in (checked by the
    /// caller); its sessions carry it from their next request.
    fn set_time_zone(&mut self, user_id: i64, zone: &str) -> Result<(), StoreError>;

    // ---- Webhooks ------------------------------------------------------------------------

    fn add_webhook(
        &mut self,
        site: &str,
        url: &str,
        secret: &str,
        format: WebhookFormat,
    ) -> Result<i64, StoreError>;
    /// A site's webhooks, oldest first.
    fn webhooks(&mut self, site: &str) -> Result<Vec<Webhook>, StoreError>;
    /// A webhook by id within a site.
    fn webhook(&mut self, site: &str, id: i64) -> Result<Option<Webhook>, StoreError>;
    /// Removes a webhook of `site` (and its log). Returns whether it existed.
    fn delete_webhook(&mut self, site: &str, id: i64) -> Result<bool, StoreError>;
    /// The latest deliveries to a site's webhooks, newest first.
    fn deliveries(&mut self, site: &str, limit: u32) -> Result<Vec<Delivery>, StoreError>;
    /// Claims up to `limit` pending deliveries due by `now`: they are not due again before
    /// `lease_until`, so another collector sharing the database does not send them too.
    fn claim_due_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    /// Records one attempt of a delivery.
    fn record_delivery(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError>;

    // ---- Conversations and email -------------------------------------------------------

    /// Replaces what a site promises and tells its visitors by email.
    fn set_answer_settings(
        &mut self,
        key: &str,
        settings: &AnswerSettings,
    ) -> Result<(), StoreError>;
    /// What an owner wants to hear by email.
    fn owner_notifications(&mut self, user_id: i64) -> Result<OwnerNotifications, StoreError>;
    fn set_owner_notifications(
        &mut self,
        user_id: i64,
        notifications: &OwnerNotifications,
    ) -> Result<(), StoreError>;
    /// Records that `email` wants no more email from `site`, and gives up what waits for it
    /// there. Returns whether the site exists.
    fn unsubscribe(&mut self, site: &str, email: &str, now: i64) -> Result<bool, StoreError>;
    /// After [`Database::unsubscribe`]: the conversations of `email` on `site` can no longer
    /// be answered (they leave "needs an answer" and count as "could not answer"), except
    /// `kept`, whose visitor keeps the owners' replies in it (those given up are sent after
    /// all).
    fn mark_unsubscribed(
        &mut self,
        site: &str,
        email: &str,
        kept: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// When `email` asked for no more email from `site`, if it did.
    fn unsubscribed_at(&mut self, site: &str, email: &str) -> Result<Option<i64>, StoreError>;
    /// Undoes `email`'s unsubscribe from `site` if it was made at `since` or later: its
    /// conversations are answerable again, and what was given up for it is sent after all.
    /// Returns whether there was such an unsubscribe.
    fn resubscribe(
        &mut self,
        site: &str,
        email: &str,
        since: i64,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Whether `email` asked for no more email from `site`.
    fn is_unsubscribed(&mut self, site: &str, email: &str) -> Result<bool, StoreError>;
    /// Queues a digest for each owner whose hourly or daily period has ended and who has
    /// new feedback in it; returns how many were queued.
    fn queue_digests(&mut self, now: i64) -> Result<u64, StoreError>;
    /// Queues a reminder to the owners of each submission whose answer is due within
    /// `lead_ms` and who were not reminded yet; returns for how many submissions.
    fn queue_reminders(&mut self, now: i64, lead_ms: i64) -> Result<u64, StoreError>;
    /// The feedback an owner's digest lists: of the sites they may read, not spam, received
    /// in `[from, to)`, newest first, at most `limit`; and how many there were in all.
    fn digest_feedback(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<(u64, Vec<FeedbackRow>), StoreError>;
    /// The submissions of these sites received in `[from, to)` that had a deadline, for
    /// the share of promises kept and the time to first answer.
    fn answer_records(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<AnswerRecord>, StoreError>;
    /// Stores an owner's reply in its submission's thread and queues the email to the
    /// visitor, in one transaction. The first reply records the time to first answer (and of
    /// first response), and moves a new submission to in progress.
    fn add_reply(&mut self, reply: &NewReply) -> Result<ReplyOutcome, StoreError>;
    /// Stores a visitor's answer in the thread and queues a notice to every owner who may
    /// read the site, in one transaction; the conversation is unread and waits on us again,
    /// with a deadline counted from the answer unless one was owed already (see
    /// [`AnsweredFeedback::new_promise`]). `None` when the submission no longer exists.
    fn add_visitor_answer(
        &mut self,
        feedback_id: &str,
        body: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// An owner said a submission flagged as spam is not: it counts everywhere from now on,
    /// statistics included, and, when its visitor left an address, waits on us with a
    /// deadline counted from `now`. Nothing is sent for it (no notice, acknowledgement or
    /// webhook: they would be news of long ago). Returns whether spam was restored.
    fn restore_spam(&mut self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// An owner opened a submission: the visitor's answers in it are read.
    fn mark_read(&mut self, feedback_id: &str) -> Result<(), StoreError>;
    /// The email of a thread message, by the mail worker.
    fn thread_message(&mut self, id: i64) -> Result<Option<ThreadMessage>, StoreError>;
    /// A submission's thread, oldest first.
    fn thread(&mut self, feedback_id: &str) -> Result<Vec<ThreadMessage>, StoreError>;
    /// The emails of a submission, oldest first.
    fn mail_for(&mut self, feedback_id: &str) -> Result<Vec<OutgoingMail>, StoreError>;
    /// How many emails wait in the outbox.
    fn pending_mail(&mut self) -> Result<u64, StoreError>;
    /// Claims up to `limit` emails due by `now`, as [`Database::claim_due_deliveries`] does.
    fn claim_due_mail(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueMail>, StoreError>;
    /// Records an owner's notice that came past their hourly bound as folded, and queues a
    /// catch-up email to them, sent at `send_at`, unless one waits already that will list it;
    /// in one transaction.
    fn fold_notice(&mut self, mail: &DueMail, now: i64, send_at: i64) -> Result<(), StoreError>;
    /// The notices folded for an owner in `[from, to)`, oldest first.
    fn folded_notices(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<FoldedNotice>, StoreError>;
    /// Records one attempt of an email (`status` is unused).
    fn record_mail(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError>;
    /// Stores a link for a submission's visitor, by its token's hash (expired links go).
    fn add_link(
        &mut self,
        purpose: LinkPurpose,
        feedback_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The submission a link opens for `purpose`, unless the link expired by `now`.
    fn link_target(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError>;

    // ---- Shorthands ----------------------------------------------------------------------

    /// How many submissions a site holds, spam included.
    fn feedback_count(&mut self, site_key: &str) -> Result<u64, StoreError> {
        let everything = FeedbackFilter {
            spam: SpamFilter::Include,
            ..FeedbackFilter::default()
        };
        self.count_feedback_in(&[site_key.to_owned()], &everything)
    }

    /// How many submissions of a site match `filter`.
    fn count_feedback(
        &mut self,
        site_key: &str,
        filter: &FeedbackFilter,
    ) -> Result<u64, StoreError> {
        self.count_feedback_in(&[site_key.to_owned()], filter)
    }
}

/// Which rows of a listing: all of them in arrival order (exports), or a page of the newest
/// first (the inbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    All,
    NewestFirst {
        offset: u64,
        limit: u64,
    },
    /// The soonest deadline first (for feedback awaiting an answer).
    DeadlineFirst {
        offset: u64,
        limit: u64,
    },
}

impl Page {
    /// The same on both engines.
    pub(crate) fn order_by(self) -> String {
        match self {
            Page::All => "ORDER BY seq".to_owned(),
            Page::NewestFirst { offset, limit } => {
                format!("ORDER BY seq DESC LIMIT {limit} OFFSET {offset}")
            }
            Page::DeadlineFirst { offset, limit } => {
                format!("ORDER BY answer_by, seq LIMIT {limit} OFFSET {offset}")
            }
        }
    }
}

/// The outcome of one webhook delivery attempt, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// `pending` (to retry), `delivered` or `failed`.
    pub state: DeliveryState,
    pub attempts: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub next_attempt_at: i64,
    pub now: i64,
}

/// Mail providers known to deliver `a.b@` and `ab@` to the same mailbox, with the other
/// domain names they answer to: their addresses are compared without the dots.
const DOTLESS_PROVIDERS: [(&str, &str); 2] =
    [("gmail.com", "gmail.com"), ("googlemail.com", "gmail.com")];

/// The form of an address that names its mailbox, for counting acknowledgements and
/// matching unsubscribes: lower case, the `+tag` of plus-addressing removed, and dots dropped
/// where the provider ignores them. `Victim+1@Gmail.com` and `v.i.c.t.i.m@googlemail.com`
/// both become `victim@gmail.com`, so variants of one address count as one.
pub fn mailbox_key(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    let local = local.split('+').next().unwrap_or(local);
    match DOTLESS_PROVIDERS.iter().find(|(name, _)| *name == domain) {
        Some((_, canonical)) => format!("{}@{canonical}", local.replace('.', "")),
        None => format!("{local}@{domain}"),
    }
}

/// How an address is kept among those that unsubscribed and those acknowledged today: the
/// SHA-256 of its [`mailbox_key`], so these lists do not hold the addresses themselves.
pub fn email_hash(email: &str) -> String {
    sha256_hex(&mailbox_key(email))
}

/// The hash unsubscribes were kept by before addresses were normalised (the address in lower
/// case): an unsubscribe of that time still counts.
pub(crate) fn legacy_email_hash(email: &str) -> String {
    sha256_hex(&email.trim().to_lowercase())
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The day (UTC, counted from the Unix epoch) a time in milliseconds falls on: an address
/// gets at most one acknowledgement from a site per day.
pub(crate) fn day_of(millis: i64) -> i64 {
    millis.div_euclid(86_400_000)
}

/// A new email's `Message-ID` key: 128 random bits.
pub(crate) fn message_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub(crate) fn parse_rating_kind(kind: &str) -> RatingKind {
    RatingKind::parse(kind).unwrap_or_default()
}

/// Metadata is stored as a JSON object, or NULL when there is none.
pub(crate) fn metadata_json(metadata: &earshot_shared::Metadata) -> Option<String> {
    (!metadata.is_empty()).then(|| serde_json::to_string(metadata).unwrap_or_default())
}

pub(crate) fn parse_metadata(json: Option<String>) -> BTreeMap<String, String> {
    json.and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Settings this build cannot read fall back to the defaults rather than hiding the site.
pub(crate) fn parse_widget(json: &str) -> WidgetSettings {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) fn widget_json(settings: &WidgetSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}
