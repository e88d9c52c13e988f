//! Storage: one contract ([`Database`]), two engines.
//!
//! - **SQLite** (the default): one file beside the binary. Reads use a small pool of
//!   connections, which WAL mode lets run beside the writer.
//! - **PostgreSQL** (`--database-url postgres://…`): for several collector replicas behind a
//!   load balancer, sharing one database.
//!
//! On both, submissions are written by a single writer thread per collector that commits them
//! in batches (group commit): under load, one commit covers many submissions, and a
//! submission is acknowledged only after the transaction holding it has committed. The
//! submission id is unique in the table, so the same submission sent twice (a retry, or to
//! two replicas at once) is stored once.

mod postgres;
pub mod sqlite;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use earshot_shared::{Rating, RatingKind, SiteKey, Submission, WidgetSettings};
use tokio::sync::oneshot;

use crate::accounts::{Session, User};
use crate::webhooks::{Delivery, DueDelivery, Webhook, WebhookFormat};

pub use postgres::{PgConn, ScratchDatabase};
pub use sqlite::open_connection;

/// How many queued submissions one transaction may hold.
const MAX_BATCH: usize = 512;
/// How many submissions may wait for the writer before `submit` waits too.
const WRITE_QUEUE: usize = 4_096;
/// After this long with nothing to write, the writer tidies up (on SQLite: a checkpoint that
/// truncates the WAL, so an idle collector keeps no WAL on disk).
pub const WRITER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("backup failed: {0}")]
    Backup(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL over TLS: {0}")]
    Tls(String),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("{0} is not a database address this build knows (postgres://… or a SQLite file)")]
    BadLocation(String),
    #[error("the database connection stopped: {0}")]
    Unavailable(String),
    #[error(
        "the database was written by a newer Earshot (schema {found}, this build knows {known})"
    )]
    NewerSchema { found: usize, known: usize },
    #[error("the transaction holding this submission failed: {0}")]
    BatchFailed(String),
    #[error("writing the export failed: {0}")]
    Export(String),
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("no site has the key {0:?}")]
    UnknownSite(String),
    #[error("a site with the key {0:?} exists already")]
    SiteExists(String),
    #[error("no token has the id {0}")]
    UnknownToken(i64),
    #[error("an account with the email {0:?} exists already")]
    UserExists(String),
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
}

impl Site {
    /// A site as just added: no widget defaults, no retention.
    fn added(key: &SiteKey, name: &str, origins: &[String], created_at: i64) -> Self {
        Self {
            key: key.clone(),
            name: name.to_owned(),
            origins: origins.to_vec(),
            created_at,
            widget: WidgetSettings::default(),
            retention_days: None,
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
    pub locale: String,
    pub user_agent: String,
    pub viewport_width: u32,
    pub viewport_height: u32,
    pub status: String,
    pub spam: bool,
    pub user_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The owner's internal note.
    pub note: String,
    /// When the status was first changed, in Unix milliseconds.
    pub first_response_at: Option<i64>,
}

/// Whether an export includes submissions flagged as spam.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
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
    pub status: Option<String>,
    pub spam: SpamFilter,
    /// Words the comment, page, email or note contains (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only submissions whose visitor left (`true`) or did not leave (`false`) an email.
    pub has_email: Option<bool>,
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

/// A rating on the common 0–100 scale, in SQL: (value − lowest) / (highest − lowest).
fn satisfaction_sql() -> String {
    let cases: String = RatingKind::ALL
        .iter()
        .map(|kind| {
            let (low, high) = kind.bounds();
            format!(
                " WHEN '{}' THEN (rating_value - {low}) * 100.0 / {}",
                kind.as_str(),
                high - low
            )
        })
        .collect();
    format!("CASE rating_kind{cases} END")
}

/// The statements behind [`Database::feedback_stats`], for `clause` (from
/// [`FeedbackFilter::sql`]) in `dialect`: ratings per kind, value and bucket; the pages
/// that need attention; the count and the median of response times (the last takes the
/// offset as one more parameter at the end).
pub(crate) fn stats_sql(clause: &str, buckets: Buckets, dialect: Dialect) -> [String; 4] {
    let Buckets { first, width_ms } = buckets;
    // The page without its query string and fragment: the same page, however reached.
    let page = match dialect {
        Dialect::Sqlite => {
            "substr(page_url, 1, min(instr(page_url || '?', '?'), instr(page_url || '#', '#')) - 1)"
        }
        Dialect::Postgres => {
            "substr(page_url, 1, least(strpos(page_url || '?', '?'), strpos(page_url || '#', '#')) - 1)"
        }
    };
    let offset = match dialect {
        Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres => format!("${}", clause.matches('$').count() + 1),
    };
    let satisfaction = satisfaction_sql();
    [
        format!(
            "SELECT rating_kind, rating_value, (received_at - {first}) / {width_ms} AS bucket, count(*) \
             FROM feedback WHERE {clause} GROUP BY rating_kind, rating_value, bucket"
        ),
        format!(
            "SELECT {page} AS page, count(*) AS ratings, CAST(avg({satisfaction}) AS DOUBLE PRECISION) AS satisfaction \
             FROM feedback WHERE {clause} GROUP BY page HAVING count(*) >= {STATS_MIN_PAGE_RATINGS} \
             ORDER BY satisfaction ASC, ratings DESC, page LIMIT {STATS_PAGES}"
        ),
        format!("SELECT count(*) FROM feedback WHERE {clause} AND first_response_at IS NOT NULL"),
        format!(
            "SELECT first_response_at - received_at AS took FROM feedback \
             WHERE {clause} AND first_response_at IS NOT NULL ORDER BY took LIMIT 1 OFFSET {offset}"
        ),
    ]
}

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
        if let Some(status) = &self.status {
            add("status =", SqlValue::Text(status.clone()));
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

type WriteReply = oneshot::Sender<Result<Stored, StoreError>>;

struct WriteJob {
    pending: Pending,
    reply: WriteReply,
}

/// What a `201` survives. Both are crash-safe; they differ on power loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// Every acknowledged submission survives a power loss or OS crash: each batch is
    /// fsynced before it is acknowledged (SQLite `synchronous=FULL`).
    #[default]
    #[value(name = "full")]
    PowerLoss,
    /// Every acknowledged submission survives the collector being killed (`kill -9`, a
    /// crash); the last moments may be lost if the whole machine loses power. About twice
    /// the throughput (SQLite WAL with `synchronous=NORMAL`; on PostgreSQL,
    /// `synchronous_commit=off`, where the server's crash may lose the last moments).
    #[value(name = "normal")]
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
                None => Err(StoreError::BadLocation(postgres::redact(url))),
            },
        }
    }

    /// What to show in logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => postgres::redact(url),
        }
    }

    /// One connection, with the schema brought up to date: for the command line's one-off
    /// work. The server uses [`Store::open`].
    pub fn connect(&self) -> Result<Box<dyn Database>, StoreError> {
        Ok(match self {
            Self::Sqlite(path) => Box::new(sqlite::open_connection(path)?),
            Self::Postgres(url) => Box::new(postgres::connect_migrated(url)?),
        })
    }
}

/// Everything the collector asks of its database. Implemented by a SQLite connection and by
/// a PostgreSQL connection; each method is its own transaction. Blocking: the server calls
/// it through [`Store::read_async`] / [`Store::write_async`], on the blocking thread pool.
pub trait Database: Send {
    /// A round trip, for the health check.
    fn ping(&mut self) -> Result<(), StoreError>;

    /// Whether the connection is known to be lost (the server restarted, a proxy dropped
    /// it): the caller replaces it. A file never is.
    fn is_broken(&mut self) -> bool {
        false
    }

    /// Called by the writer after each batch (`idle: false`) and once it has had nothing to
    /// write for [`WRITER_IDLE`] (`idle: true`): on SQLite, keeps the WAL file small.
    fn after_writes(&mut self, idle: bool) -> Result<(), StoreError> {
        let _ = idle;
        Ok(())
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
    /// Calls `each` with the submissions of these sites that match `filter`, one row in
    /// memory at a time; returns how many there were.
    /// The statistics page's aggregates over the matching feedback, computed by the database
    /// (a handful of rows, whatever the number of submissions).
    fn feedback_stats(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        buckets: Buckets,
    ) -> Result<StatsRows, StoreError>;

    fn for_each_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        page: Page,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
    fn feedback_by_id(&mut self, id: &str) -> Result<Option<FeedbackRow>, StoreError>;
    /// Sets a submission's status and note. The first change of status away from `new`
    /// records the time of the first response. Returns whether the submission exists.
    fn triage(&mut self, id: &str, status: &str, note: &str) -> Result<bool, StoreError>;

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
    NewestFirst { offset: u64, limit: u64 },
}

impl Page {
    /// The same on both engines.
    fn order_by(self) -> String {
        match self {
            Page::All => "ORDER BY seq".to_owned(),
            Page::NewestFirst { offset, limit } => {
                format!("ORDER BY seq DESC LIMIT {limit} OFFSET {offset}")
            }
        }
    }
}

/// The outcome of one webhook delivery attempt, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// `pending` (to retry), `delivered` or `failed`.
    pub state: &'static str,
    pub attempts: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub next_attempt_at: i64,
    pub now: i64,
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in the database.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn parse_rating_kind(kind: &str) -> RatingKind {
    RatingKind::parse(kind).unwrap_or_default()
}

/// Metadata is stored as a JSON object, or NULL when there is none.
fn metadata_json(metadata: &BTreeMap<String, String>) -> Option<String> {
    (!metadata.is_empty()).then(|| serde_json::to_string(metadata).unwrap_or_default())
}

fn parse_metadata(json: Option<String>) -> BTreeMap<String, String> {
    json.and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Settings this build cannot read fall back to the defaults rather than hiding the site.
fn parse_widget(json: &str) -> WidgetSettings {
    serde_json::from_str(json).unwrap_or_default()
}

fn widget_json(settings: &WidgetSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}

/// The connections a [`Store`] hands out.
enum Pool {
    /// Idle SQLite connections; a new one is opened when none is free.
    Sqlite {
        path: PathBuf,
        idle: Mutex<Vec<rusqlite::Connection>>,
    },
    Postgres(r2d2::Pool<postgres::Manager>),
}

/// The handle the server shares between workers. Cloning is cheap.
#[derive(Clone)]
pub struct Store {
    location: Arc<Location>,
    writer: mpsc::SyncSender<WriteJob>,
    pool: Arc<Pool>,
    exports: Arc<tokio::sync::Semaphore>,
}

impl Store {
    /// Opens the SQLite database `path` and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_at(&Location::Sqlite(path.to_owned()), Durability::PowerLoss)
    }

    /// Opens the database (migrating it) with the writer committing at the given
    /// durability.
    pub fn open_at(location: &Location, durability: Durability) -> Result<Self, StoreError> {
        let (writer_conn, pool): (Box<dyn Database>, Pool) = match location {
            Location::Sqlite(path) => {
                let conn = sqlite::open_connection(path)?;
                sqlite::set_durability(&conn, durability)?;
                let pool = Pool::Sqlite {
                    path: path.clone(),
                    idle: Mutex::default(),
                };
                (Box::new(conn), pool)
            }
            Location::Postgres(url) => {
                let mut conn = postgres::connect_migrated(url)?;
                conn.set_durability(durability)?;
                (Box::new(conn), Pool::Postgres(postgres::pool(url)?))
            }
        };
        let (writer, jobs) = mpsc::sync_channel(WRITE_QUEUE);
        let reopen_at = location.clone();
        let reopen = move || -> Result<Box<dyn Database>, StoreError> {
            let Location::Postgres(url) = &reopen_at else {
                return Err(StoreError::WriterGone);
            };
            let mut conn = postgres::connect_migrated(url)?;
            conn.set_durability(durability)?;
            Ok(Box::new(conn))
        };
        thread::Builder::new()
            .name("earshot-writer".into())
            .spawn(move || run_writer(writer_conn, jobs, reopen))
            .expect("spawning the storage writer thread");
        Ok(Self {
            location: Arc::new(location.clone()),
            writer,
            pool: Arc::new(pool),
            exports: Arc::new(tokio::sync::Semaphore::new(
                earshot_shared::limits::MAX_CONCURRENT_EXPORTS,
            )),
        })
    }

    /// Waits for one of the [`MAX_CONCURRENT_EXPORTS`] export slots, held until the permit
    /// is dropped. Blocking: call from a blocking context.
    ///
    /// [`MAX_CONCURRENT_EXPORTS`]: earshot_shared::limits::MAX_CONCURRENT_EXPORTS
    pub fn export_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, StoreError> {
        futures_executor::block_on(self.exports.clone().acquire_owned())
            .map_err(|_| StoreError::WriterGone)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Stores a submission and returns once it is committed (or known from before). Spam is
    /// stored too, flagged, so the owner can review what was caught.
    pub async fn submit(
        &self,
        submission: Submission,
        received_at: i64,
    ) -> Result<Stored, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob {
            pending: Pending {
                spam: submission.looks_like_spam(),
                submission,
                received_at,
            },
            reply,
        };
        // The queue is bounded; when it is full, wait for room on a blocking thread rather
        // than on the async worker.
        let writer = self.writer.clone();
        match writer.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(job)) => {
                let sent =
                    actix_web::rt::task::spawn_blocking(move || writer.send(job).is_ok()).await;
                if !sent.unwrap_or(false) {
                    return Err(StoreError::WriterGone);
                }
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
        }
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `work` on a pooled connection and puts the connection back. Blocking: call
    /// from a blocking context (a thread of its own, or the blocking pool).
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &*self.pool {
            Pool::Sqlite { path, idle } => {
                let pooled = idle.lock().expect("connection pool poisoned").pop();
                let mut conn = match pooled {
                    Some(conn) => conn,
                    None => sqlite::open_connection(path)?,
                };
                let result = work(&mut conn);
                idle.lock().expect("connection pool poisoned").push(conn);
                result
            }
            Pool::Postgres(pool) => {
                // A connection lost while idle (the server restarted) is handed back, which
                // makes the pool drop it, and another is taken.
                let mut conn = pool.get()?;
                for _ in 0..postgres::POOL_SIZE {
                    if !conn.is_broken() {
                        break;
                    }
                    drop(conn);
                    conn = pool.get()?;
                }
                work(&mut *conn)
            }
        }
    }

    /// Runs `write` on a pooled connection on the blocking thread pool: for the dashboard's
    /// and the command line's rare edits; submissions go through [`Store::submit`].
    pub async fn write_async<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut dyn Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.read_async(write).await
    }

    /// Runs `read` on a pooled connection on the blocking thread pool.
    pub async fn read_async<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut dyn Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        actix_web::rt::task::spawn_blocking(move || store.read(read))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }
}

/// Commits what is queued, in batches. A lost connection is replaced before the next batch.
fn run_writer(
    mut conn: Box<dyn Database>,
    jobs: mpsc::Receiver<WriteJob>,
    reopen: impl Fn() -> Result<Box<dyn Database>, StoreError>,
) {
    let mut wrote_since_idle = false;
    loop {
        let first = match jobs.recv_timeout(WRITER_IDLE) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if std::mem::take(&mut wrote_since_idle)
                    && let Err(err) = conn.after_writes(true)
                {
                    tracing::warn!(error = %err, "idle database maintenance failed");
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        wrote_since_idle = true;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if conn.is_broken() {
            match reopen() {
                Ok(fresh) => {
                    tracing::warn!("the writer's database connection was lost; reconnected");
                    conn = fresh;
                }
                Err(err) => {
                    tracing::error!(error = %err, "the writer's database connection was lost and cannot be reopened");
                    for job in batch {
                        let _ = job
                            .reply
                            .send(Err(StoreError::Unavailable(err.to_string())));
                    }
                    continue;
                }
            }
        }
        let pending: Vec<&Pending> = batch.iter().map(|job| &job.pending).collect();
        let mut written = conn.write_batch(&pending);
        if written.is_err() && conn.is_broken() {
            // Lost mid-batch: reconnect and send the batch again. Safe: what was committed
            // before the connection went comes back as a duplicate, stored once.
            match reopen() {
                Ok(fresh) => {
                    tracing::warn!(
                        "the writer's database connection was lost mid-batch; reconnected"
                    );
                    conn = fresh;
                    written = conn.write_batch(&pending);
                }
                Err(err) => {
                    tracing::error!(error = %err, "the writer's database connection cannot be reopened")
                }
            }
        }
        let outcomes = match written {
            Ok(outcomes) => outcomes,
            // The whole transaction failed (on PostgreSQL one bad row aborts it): write each
            // submission alone, so only the bad one fails. Not when the connection is gone:
            // then each would fail the same way (the next batch reconnects).
            Err(err) if batch.len() > 1 && !conn.is_broken() => {
                tracing::warn!(error = %err, size = batch.len(), "a batch failed; writing its submissions one by one");
                pending
                    .iter()
                    .map(|one| match conn.write_batch(&[one]) {
                        Ok(mut outcome) => outcome.pop().unwrap_or(Err(StoreError::WriterGone)),
                        Err(err) => Err(StoreError::BatchFailed(err.to_string())),
                    })
                    .collect()
            }
            Err(err) => {
                tracing::error!(error = %err, size = batch.len(), "writing a batch failed");
                let message = err.to_string();
                pending
                    .iter()
                    .map(|_| Err(StoreError::BatchFailed(message.clone())))
                    .collect()
            }
        };
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(outcome);
        }
        if let Err(err) = conn.after_writes(false) {
            tracing::warn!(error = %err, "database maintenance after a batch failed");
        }
    }
}

/// The databases a test runs against: a SQLite file always, and a scratch PostgreSQL
/// database when `EARSHOT_TEST_POSTGRES_URL` names a server (`cargo xtask test` starts one
/// and requires it).
#[cfg(test)]
pub(crate) mod testing {
    use super::{Location, ScratchDatabase};

    pub struct TestDatabase {
        pub location: Location,
        _dir: tempfile::TempDir,
        _scratch: Option<ScratchDatabase>,
    }

    pub fn databases() -> Vec<TestDatabase> {
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec![TestDatabase {
            location: Location::Sqlite(dir.path().join("earshot.db")),
            _dir: dir,
            _scratch: None,
        }];
        match std::env::var("EARSHOT_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let scratch =
                    ScratchDatabase::create(&admin).expect("a scratch PostgreSQL database");
                all.push(TestDatabase {
                    location: Location::Postgres(scratch.url().to_owned()),
                    _dir: tempfile::tempdir().unwrap(),
                    _scratch: Some(scratch),
                });
            }
            _ if std::env::var_os("EARSHOT_E2E_REQUIRED").is_some() => {
                panic!(
                    "EARSHOT_TEST_POSTGRES_URL is not set: the PostgreSQL engine would go untested"
                )
            }
            _ => eprintln!("EARSHOT_TEST_POSTGRES_URL is not set: testing SQLite only"),
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::testing::databases;
    use super::*;
    use earshot_shared::ClientInfo;
    use uuid::Uuid;

    fn submission(site: &str, id: Uuid) -> Submission {
        Submission {
            id,
            site: SiteKey::parse(site).unwrap(),
            rating: Rating {
                kind: RatingKind::Stars,
                value: 5,
            },
            comment: "ok".into(),
            email: None,
            page_url: "https://shop.example/".into(),
            locale: "en".into(),
            client: ClientInfo::default(),
            open_ms: 10_000,
            honeypot: String::new(),
            user_id: None,
            metadata: BTreeMap::new(),
        }
    }

    fn store_with_site(location: &Location) -> Store {
        let store = Store::open_at(location, Durability::PowerLoss).unwrap();
        store
            .read(|db| {
                db.add_site(
                    &SiteKey::parse("demo").unwrap(),
                    "Demo",
                    &["https://shop.example".into()],
                )
            })
            .unwrap();
        store
    }

    #[actix_web::test]
    async fn a_submission_is_stored_once() {
        for database in databases() {
            let store = store_with_site(&database.location);
            let id = Uuid::new_v4();
            assert_eq!(
                store.submit(submission("demo", id), 1).await.unwrap(),
                Stored::New
            );
            assert_eq!(
                store.submit(submission("demo", id), 2).await.unwrap(),
                Stored::Duplicate
            );
            let count = store.read(|db| db.feedback_count("demo")).unwrap();
            assert_eq!(count, 1, "{:?}", database.location);
        }
    }

    #[actix_web::test]
    async fn concurrent_submissions_are_all_committed() {
        for database in databases() {
            let store = store_with_site(&database.location);
            let shared_id = Uuid::new_v4();
            let mut waiting = Vec::new();
            for n in 0..200 {
                let id = if n % 10 == 0 {
                    shared_id
                } else {
                    Uuid::new_v4()
                };
                let store = store.clone();
                waiting.push(actix_web::rt::spawn(async move {
                    store.submit(submission("demo", id), n).await
                }));
            }
            let mut new = 0;
            for handle in waiting {
                if handle.await.unwrap().unwrap() == Stored::New {
                    new += 1;
                }
            }
            // 180 distinct ids plus the shared one stored once.
            assert_eq!(new, 181, "{:?}", database.location);
            assert_eq!(store.read(|db| db.feedback_count("demo")).unwrap(), 181);
        }
    }

    #[actix_web::test]
    async fn two_stores_on_one_database_store_a_shared_id_once() {
        // Two collectors (replicas) on one database, the same ids sent to both at once.
        for database in databases() {
            let first = store_with_site(&database.location);
            let second = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
            let mut waiting = Vec::new();
            for _ in 0..50 {
                let id = Uuid::new_v4();
                for store in [&first, &second] {
                    let store = store.clone();
                    waiting.push(actix_web::rt::spawn(async move {
                        store.submit(submission("demo", id), 1).await
                    }));
                }
            }
            let mut new = 0;
            for handle in waiting {
                if handle.await.unwrap().unwrap() == Stored::New {
                    new += 1;
                }
            }
            assert_eq!(new, 50, "{:?}", database.location);
            assert_eq!(second.read(|db| db.feedback_count("demo")).unwrap(), 50);
        }
    }

    #[actix_web::test]
    async fn a_submission_for_a_missing_site_fails_alone() {
        for database in databases() {
            let store = store_with_site(&database.location);
            let bad = store.submit(submission("gone", Uuid::new_v4()), 1);
            let good = store.submit(submission("demo", Uuid::new_v4()), 1);
            let (bad, good) = futures_util::future::join(bad, good).await;
            assert!(bad.is_err(), "{:?}", database.location);
            assert_eq!(good.unwrap(), Stored::New);
        }
    }

    #[actix_web::test]
    async fn retention_and_erasure_delete_only_what_they_should() {
        for database in databases() {
            let store = store_with_site(&database.location);
            let day = 86_400_000;
            let now = now_millis();
            for (age_days, email) in [
                (40, Some("ada@example.com")),
                (10, Some("ADA@example.com")),
                (1, Some("bob@example.com")),
                (50, None),
            ] {
                let mut s = submission("demo", Uuid::new_v4());
                s.email = email.map(str::to_owned);
                store.submit(s, now - age_days * day).await.unwrap();
            }
            store
                .read(|db| {
                    assert_eq!(
                        db.apply_retention(now)?,
                        0,
                        "no retention set: nothing goes"
                    );
                    db.set_retention("demo", Some(30))?;
                    assert_eq!(db.apply_retention(now)?, 2, "the 40- and 50-day-old ones");
                    assert_eq!(db.feedback_count("demo")?, 2);
                    assert_eq!(
                        db.erase_email("ada@example.com", &["other".into()])?,
                        0,
                        "another site's scope"
                    );
                    assert_eq!(
                        db.erase_email("Ada@Example.com", &["demo".into()])?,
                        1,
                        "case-insensitive"
                    );
                    assert_eq!(db.feedback_count("demo")?, 1);
                    db.set_retention("demo", None)?;
                    assert_eq!(db.site("demo")?.unwrap().retention_days, None);
                    Ok(())
                })
                .unwrap();
        }
    }

    #[actix_web::test]
    async fn filters_and_listings_agree_on_both_engines() {
        let mut answers = Vec::new();
        for database in databases() {
            let store = store_with_site(&database.location);
            let rows = [
                (
                    1,
                    "Checkout BROKEN",
                    Some("ada@example.com"),
                    "https://shop.example/cart",
                ),
                (5, "love it", None, "https://shop.example/"),
                (
                    3,
                    "50% off_label is wrong",
                    Some(""),
                    "https://shop.example/sale",
                ),
                (2, "broken image", None, "https://shop.example/p/1"),
            ];
            let mut ids = Vec::new();
            for (n, (value, comment, email, page)) in rows.into_iter().enumerate() {
                let mut s = submission("demo", Uuid::new_v4());
                s.rating.value = value;
                s.comment = comment.into();
                s.email = email.map(str::to_owned);
                s.page_url = page.into();
                ids.push(s.id.to_string());
                store.submit(s, 1_000 + n as i64).await.unwrap();
            }
            let mut spam = submission("demo", Uuid::new_v4());
            spam.honeypot = "filled by a bot".into();
            store.submit(spam, 2_000).await.unwrap();
            let answer = store
                .read(|db| {
                    assert!(db.triage(&ids[3], "resolved", "fixed the CDN")?);
                    assert!(!db.triage("no-such-id", "resolved", "")?);
                    let sites = ["demo".to_owned()];
                    let filters = [
                        FeedbackFilter::default(),
                        FeedbackFilter {
                            text: Some("broken".into()),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            text: Some("50%".into()),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            text: Some("_".into()),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            text: Some("cdn".into()),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            has_email: Some(true),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            has_email: Some(false),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            min_rating: Some(2),
                            max_rating: Some(3),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            from: Some(1_001),
                            to: Some(1_003),
                            status: Some("new".into()),
                            ..Default::default()
                        },
                        FeedbackFilter {
                            spam: SpamFilter::Only,
                            ..Default::default()
                        },
                        FeedbackFilter {
                            spam: SpamFilter::Include,
                            ..Default::default()
                        },
                    ];
                    let mut answer = Vec::new();
                    for filter in &filters {
                        let mut comments = Vec::new();
                        let listed =
                            db.for_each_feedback_in(&sites, filter, Page::All, &mut |row| {
                                comments.push(row.comment);
                                Ok(())
                            })?;
                        assert_eq!(listed, db.count_feedback_in(&sites, filter)?);
                        answer.push(comments);
                    }
                    let mut newest = Vec::new();
                    db.for_each_feedback_in(
                        &sites,
                        &FeedbackFilter::default(),
                        Page::NewestFirst {
                            offset: 1,
                            limit: 2,
                        },
                        &mut |row| {
                            newest.push(row.comment);
                            Ok(())
                        },
                    )?;
                    answer.push(newest);
                    assert_eq!(db.count_feedback_in(&[], &FeedbackFilter::default())?, 0);
                    let row = db.feedback_by_id(&ids[3])?.unwrap();
                    assert_eq!(
                        (row.status.as_str(), row.note.as_str()),
                        ("resolved", "fixed the CDN")
                    );
                    assert!(row.first_response_at.is_some());
                    Ok(answer)
                })
                .unwrap();
            let expected: Vec<Vec<&str>> = vec![
                vec![
                    "Checkout BROKEN",
                    "love it",
                    "50% off_label is wrong",
                    "broken image",
                ],
                vec!["Checkout BROKEN", "broken image"],
                vec!["50% off_label is wrong"],
                vec!["50% off_label is wrong"],
                vec!["broken image"],
                vec!["Checkout BROKEN"],
                vec!["love it", "50% off_label is wrong", "broken image"],
                vec!["50% off_label is wrong", "broken image"],
                vec!["love it", "50% off_label is wrong"],
                vec!["ok"],
                vec![
                    "Checkout BROKEN",
                    "love it",
                    "50% off_label is wrong",
                    "broken image",
                    "ok",
                ],
                vec!["50% off_label is wrong", "love it"],
            ];
            assert_eq!(answer, expected, "{:?}", database.location);
            answers.push(answer);
        }
    }

    #[actix_web::test]
    async fn sites_tokens_accounts_and_webhooks_round_trip() {
        for database in databases() {
            let store = store_with_site(&database.location);
            store
                .read(|db| {
                    let key = SiteKey::parse("shop").unwrap();
                    db.add_site(
                        &key,
                        "Shop",
                        &["https://b.example".into(), "https://a.example".into()],
                    )?;
                    assert!(matches!(
                        db.add_site(&key, "Again", &[]),
                        Err(StoreError::SiteExists(_))
                    ));
                    let site = db.site("shop")?.unwrap();
                    assert_eq!(site.origins, ["https://a.example", "https://b.example"]);
                    db.update_site("shop", "Shop 2", &["https://c.example".into()])?;
                    let settings = WidgetSettings {
                        prompt: Some("How was it?".into()),
                        ..Default::default()
                    };
                    db.set_widget_settings("shop", &settings)?;
                    let sites = db.sites()?;
                    assert_eq!(sites.len(), 2);
                    assert_eq!(sites[1].name, "Shop 2");
                    assert_eq!(sites[1].origins, ["https://c.example"]);
                    assert_eq!(sites[1].widget, settings);
                    assert!(matches!(
                        db.update_site("nope", "x", &[]),
                        Err(StoreError::UnknownSite(_))
                    ));

                    let id = db.add_token("ci", "hash-1", Some("shop"))?;
                    assert!(matches!(
                        db.add_token("x", "hash-2", Some("nope")),
                        Err(StoreError::UnknownSite(_))
                    ));
                    assert_eq!(
                        db.token_by_hash("hash-1")?.unwrap().site.as_deref(),
                        Some("shop")
                    );
                    db.revoke_token(id)?;
                    assert!(db.token_by_hash("hash-1")?.is_none());
                    assert!(db.tokens()?[0].revoked);
                    assert!(matches!(
                        db.revoke_token(id),
                        Err(StoreError::UnknownToken(_))
                    ));

                    let owner = db.add_user("owner@example.com", "phc", None)?;
                    let client =
                        db.add_user("client@example.com", "phc2", Some(&["shop".into()]))?;
                    assert!(matches!(
                        db.add_user("owner@example.com", "x", None),
                        Err(StoreError::UserExists(_))
                    ));
                    assert!(matches!(
                        db.add_user("c@example.com", "x", Some(&["nope".into()])),
                        Err(StoreError::UnknownSite(_))
                    ));
                    let (found, hash) = db.user_by_email("client@example.com")?.unwrap();
                    assert_eq!(
                        (found.sites.clone(), hash.as_str()),
                        (Some(vec!["shop".to_owned()]), "phc2")
                    );
                    assert_eq!(db.users()?.len(), 2);
                    db.add_session("session-1", client.id, "csrf", 10, 100)?;
                    assert_eq!(db.session("session-1", 50)?.unwrap().user, client);
                    assert!(db.session("session-1", 100)?.is_none(), "expired");
                    db.add_session("session-2", owner.id, "csrf", 200, 300)?;
                    assert!(
                        db.session("session-1", 50)?.is_none(),
                        "expired sessions are dropped"
                    );
                    db.end_session("session-2")?;
                    assert!(db.session("session-2", 250)?.is_none());

                    let hook = db.add_webhook(
                        "demo",
                        "https://hooks.example/a",
                        "whsec_x",
                        crate::webhooks::WebhookFormat::Slack,
                    )?;
                    assert_eq!(db.webhooks("demo")?.len(), 1);
                    assert_eq!(
                        db.webhook("demo", hook)?.unwrap().url,
                        "https://hooks.example/a"
                    );
                    assert!(db.webhook("shop", hook)?.is_none(), "another site's");
                    Ok(())
                })
                .unwrap();
            // A new submission queues a delivery; claiming it hides it until the lease ends.
            let id = Uuid::new_v4();
            store.submit(submission("demo", id), 1_000).await.unwrap();
            store
                .read(|db| {
                    let due = db.claim_due_deliveries(5_000, 60_000, 10)?;
                    assert_eq!(due.len(), 1, "{:?}", database.location);
                    assert_eq!(due[0].feedback_id, id.to_string());
                    assert!(
                        db.claim_due_deliveries(5_000, 60_000, 10)?.is_empty(),
                        "claimed"
                    );
                    db.record_delivery(
                        due[0].id,
                        &DeliveryAttempt {
                            state: "pending",
                            attempts: 1,
                            status: Some(500),
                            error: None,
                            next_attempt_at: 70_000,
                            now: 6_000,
                        },
                    )?;
                    assert!(db.claim_due_deliveries(69_999, 80_000, 10)?.is_empty());
                    assert_eq!(db.claim_due_deliveries(70_000, 80_000, 10)?[0].attempts, 1);
                    let log = db.deliveries("demo", 10)?;
                    assert_eq!((log[0].last_status, log[0].attempts), (Some(500), 1));
                    assert!(db.delete_webhook("demo", due[0].webhook.id)?);
                    assert!(
                        db.deliveries("demo", 10)?.is_empty(),
                        "the log goes with it"
                    );
                    assert_eq!(db.delete_site("demo")?, 1);
                    assert!(db.site("demo")?.is_none());
                    db.ping()
                })
                .unwrap();
        }
    }

    #[test]
    fn a_batch_reports_each_submission_on_its_own() {
        for database in databases() {
            let store = store_with_site(&database.location);
            let pending = |site: &str, id: Uuid| Pending {
                submission: submission(site, id),
                received_at: 1,
                spam: false,
            };
            let (stored_before, repeated, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
            let before = pending("demo", stored_before);
            let batch = [
                pending("gone", Uuid::new_v4()),
                pending("demo", fresh),
                pending("demo", repeated),
                pending("demo", repeated),
                pending("gone", repeated),
                pending("demo", stored_before),
            ];
            let outcomes = store
                .read(|db| {
                    db.write_batch(&[&before])?;
                    db.write_batch(&batch.iter().collect::<Vec<_>>())
                })
                .unwrap();
            let outcomes: Vec<String> = outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    Ok(stored) => format!("{stored:?}"),
                    Err(err) => format!("{err}"),
                })
                .collect();
            assert_eq!(
                outcomes,
                [
                    "no site has the key \"gone\"",
                    "New",
                    "New",
                    "Duplicate",
                    "no site has the key \"gone\"",
                    "Duplicate"
                ],
                "{:?}",
                database.location
            );
            assert_eq!(store.read(|db| db.feedback_count("demo")).unwrap(), 3);
        }
    }

    #[test]
    fn collectors_starting_together_migrate_once() {
        for database in databases() {
            let starting: Vec<_> = (0..8)
                .map(|_| {
                    let location = database.location.clone();
                    std::thread::spawn(move || location.connect().map(|_| ()))
                })
                .collect();
            for start in starting {
                start.join().unwrap().unwrap();
            }
            let mut db = database.location.connect().unwrap();
            db.add_site(&SiteKey::parse("demo").unwrap(), "Demo", &[])
                .unwrap();
            assert_eq!(db.sites().unwrap().len(), 1, "{:?}", database.location);
        }
    }

    #[test]
    fn migrations_are_idempotent() {
        for database in databases() {
            for _ in 0..2 {
                let mut db = database.location.connect().unwrap();
                db.ping().unwrap();
            }
        }
    }

    #[test]
    fn database_options_choose_the_engine() {
        let file = Path::new("earshot.db");
        assert_eq!(
            Location::from_options(file, None).unwrap(),
            Location::Sqlite(file.into())
        );
        assert_eq!(
            Location::from_options(file, Some("postgres://u:secret@db/earshot")).unwrap(),
            Location::Postgres("postgres://u:secret@db/earshot".into())
        );
        assert_eq!(
            Location::Postgres("postgres://u:secret@db/earshot".into()).describe(),
            "postgres://u:***@db/earshot"
        );
        assert_eq!(
            Location::Postgres("postgres://u@db/earshot?password=secret&sslmode=require".into())
                .describe(),
            "postgres://u@db/earshot?password=***&sslmode=require"
        );
        assert!(matches!(
            Location::from_options(file, Some("mysql://u:secret@db/x")),
            Err(StoreError::BadLocation(text)) if !text.contains("secret")
        ));
    }
}
