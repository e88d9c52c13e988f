//! Storage in one SQLite file: sites, API tokens and feedback.
//!
//! Submissions are written by a single writer thread that commits them in batches (group
//! commit): under load, one `fsync` covers many submissions, and a submission is acknowledged
//! only after the transaction holding it has committed. Reads use a small pool of their own
//! connections, which WAL mode lets run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use std::collections::BTreeMap;

use earshot_shared::{Rating, RatingKind, SiteKey, Submission, WidgetSettings};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

/// How many queued submissions one transaction may hold.
const MAX_BATCH: usize = 512;
/// How many submissions may wait for the writer before `submit` waits too.
const WRITE_QUEUE: usize = 4_096;
/// How long a connection waits for a lock held by another process (e.g. the CLI) before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The schema, one migration per entry; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sites (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE site_origins (
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    PRIMARY KEY (site_key, origin)
) STRICT;
CREATE TABLE feedback (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    site_key         TEXT NOT NULL REFERENCES sites(key),
    received_at      INTEGER NOT NULL,
    rating_kind      TEXT NOT NULL,
    rating_value     INTEGER NOT NULL,
    comment          TEXT NOT NULL,
    email            TEXT,
    page_url         TEXT NOT NULL,
    locale           TEXT NOT NULL,
    user_agent       TEXT NOT NULL,
    viewport_width   INTEGER NOT NULL,
    viewport_height  INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'new'
) STRICT;
CREATE INDEX feedback_by_site ON feedback (site_key, seq);
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    site_key    TEXT REFERENCES sites(key) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
"#,
    r#"
ALTER TABLE feedback ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
"#,
    // The JS API's user id and metadata (JSON object); the site's widget defaults (JSON).
    r#"
ALTER TABLE feedback ADD COLUMN user_id TEXT;
ALTER TABLE feedback ADD COLUMN metadata TEXT;
ALTER TABLE sites ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';
"#,
    // The dashboard: owner accounts, their sites and sessions; triage notes and the time of
    // the first response.
    r#"
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    all_sites      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;
CREATE TABLE user_sites (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_key  TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    PRIMARY KEY (user_id, site_key)
) STRICT;
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
ALTER TABLE feedback ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN first_response_at INTEGER;
"#,
    // Retention per site; webhooks and their deliveries (a durable queue: a delivery is
    // queued in the transaction that stores the submission).
    r#"
ALTER TABLE sites ADD COLUMN retention_days INTEGER;
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    format      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_by_site ON webhooks (site_key);
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    feedback_id      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_due ON webhook_deliveries (state, next_attempt_at);
"#,
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

impl FeedbackFilter {
    /// The `WHERE` clause for this filter over these sites, and its parameters, in order.
    fn sql(&self, sites: &[String]) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut clause = if sites.is_empty() {
            String::from("0")
        } else {
            format!("site_key IN ({})", vec!["?"; sites.len()].join(", "))
        };
        let mut values: Vec<Value> = sites.iter().cloned().map(Value::Text).collect();
        let mut add = |condition: &str, value: Value| {
            clause.push_str(" AND ");
            clause.push_str(condition);
            values.push(value);
        };
        if let Some(from) = self.from {
            add("received_at >= ?", Value::Integer(from));
        }
        if let Some(to) = self.to {
            add("received_at < ?", Value::Integer(to));
        }
        if let Some(min) = self.min_rating {
            add("rating_value >= ?", Value::Integer(min.into()));
        }
        if let Some(max) = self.max_rating {
            add("rating_value <= ?", Value::Integer(max.into()));
        }
        if let Some(status) = &self.status {
            add("status = ?", Value::Text(status.clone()));
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // LIKE with its wildcards escaped: the owner's words are matched as written.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            clause.push_str(
                " AND (comment LIKE ? ESCAPE '\\' OR page_url LIKE ? ESCAPE '\\' \
                 OR coalesce(email, '') LIKE ? ESCAPE '\\' OR note LIKE ? ESCAPE '\\')",
            );
            for _ in 0..4 {
                values.push(Value::Text(format!("%{escaped}%")));
            }
        }
        match self.has_email {
            Some(true) => clause.push_str(" AND email IS NOT NULL AND email <> ''"),
            Some(false) => clause.push_str(" AND (email IS NULL OR email = '')"),
            None => {}
        }
        match self.spam {
            SpamFilter::Exclude => clause.push_str(" AND spam = 0"),
            SpamFilter::Include => {}
            SpamFilter::Only => clause.push_str(" AND spam = 1"),
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

type WriteReply = oneshot::Sender<Result<Stored, StoreError>>;

struct WriteJob {
    submission: Submission,
    received_at: i64,
    spam: bool,
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
    /// the throughput (SQLite WAL with `synchronous=NORMAL`).
    #[value(name = "normal")]
    ProcessCrash,
}

impl Durability {
    fn synchronous(self) -> &'static str {
        match self {
            Self::PowerLoss => "FULL",
            Self::ProcessCrash => "NORMAL",
        }
    }
}

/// The handle the server shares between workers. Cloning is cheap.
#[derive(Clone)]
pub struct Store {
    path: Arc<PathBuf>,
    writer: mpsc::SyncSender<WriteJob>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// Milliseconds since the Unix epoch, the unit of every timestamp in the database.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Opens (creating if needed) the database file and brings its schema up to date.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
    // across power loss, not only across a crash of this process.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tracing::info!(version = index + 1, "database migrated");
    }
    tx.commit()?;
    Ok(())
}

impl Store {
    /// Opens the database and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::PowerLoss)
    }

    /// Opens the database with the writer committing at the given durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let conn = open_connection(path)?;
        conn.pragma_update(None, "synchronous", durability.synchronous())?;
        let (writer, jobs) = mpsc::sync_channel(WRITE_QUEUE);
        thread::Builder::new()
            .name("earshot-writer".into())
            .spawn(move || run_writer(conn, jobs))
            .expect("spawning the storage writer thread");
        Ok(Self {
            path: Arc::new(path.to_owned()),
            writer,
            readers: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
            spam: submission.looks_like_spam(),
            submission,
            received_at,
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

    /// Runs `work` on a connection from the pool (opening one when none is free) and puts
    /// the connection back. Blocking: call from a blocking context.
    fn with_connection<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().expect("reader pool poisoned").pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        let result = work(&mut conn);
        self.readers
            .lock()
            .expect("reader pool poisoned")
            .push(conn);
        result
    }

    /// Runs `read` on a pooled read connection. Blocking: call from a blocking context.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_connection(|conn| read(conn))
    }

    /// Runs `write` (its own transactions) on a pooled connection on the blocking thread
    /// pool: for the dashboard's rare edits; submissions go through [`Store::submit`].
    pub async fn write_async<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        actix_web::rt::task::spawn_blocking(move || store.with_connection(write))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `read` on a pooled connection on the blocking thread pool.
    pub async fn read_async<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        actix_web::rt::task::spawn_blocking(move || store.read(read))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }
}

fn run_writer(mut conn: Connection, jobs: mpsc::Receiver<WriteJob>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&mut conn, &batch) {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, size = batch.len(), "writing a batch failed");
                let message = err.to_string();
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(StoreError::BatchFailed(message.clone())));
                }
            }
        }
    }
}

/// Writes a batch in one transaction. A row that fails (its site was deleted meanwhile) fails
/// alone: SQLite rolls back only that statement.
fn write_batch(
    conn: &mut Connection,
    batch: &[WriteJob],
) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
    let tx = conn.transaction()?;
    let mut outcomes = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment,
                                   email, page_url, locale, user_agent, viewport_width, viewport_height, spam,
                                   user_id, metadata)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (id) DO NOTHING",
        )?;
        // Sites with webhooks, read once per batch (a tiny table): the common case of none
        // costs one query per transaction, not one per submission.
        let hooked: std::collections::HashSet<String> = tx
            .prepare_cached("SELECT DISTINCT site_key FROM webhooks")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut enqueue = tx.prepare_cached(
            "INSERT INTO webhook_deliveries (webhook_id, feedback_id, next_attempt_at, created_at, updated_at)
             SELECT id, ?1, ?2, ?2, ?2 FROM webhooks WHERE site_key = ?3",
        )?;
        for job in batch {
            let s = &job.submission;
            let outcome = insert
                .execute(params![
                    s.id.to_string(),
                    s.site.as_str(),
                    job.received_at,
                    s.rating.kind.as_str(),
                    s.rating.value,
                    s.comment,
                    s.email,
                    s.page_url,
                    s.locale,
                    s.client.user_agent,
                    s.client.viewport_width,
                    s.client.viewport_height,
                    job.spam,
                    s.user_id,
                    metadata_json(&s.metadata),
                ])
                .map(|changed| {
                    if changed == 1 {
                        Stored::New
                    } else {
                        Stored::Duplicate
                    }
                })
                .map_err(StoreError::from)
                // The site's webhooks hear of new feedback, in the same transaction: a
                // stored submission is never missing its deliveries.
                .and_then(|stored| {
                    if stored == Stored::New && !job.spam && hooked.contains(s.site.as_str()) {
                        enqueue.execute(params![
                            s.id.to_string(),
                            job.received_at,
                            s.site.as_str()
                        ])?;
                    }
                    Ok(stored)
                });
            outcomes.push(outcome);
        }
    }
    tx.commit()?;
    Ok(outcomes)
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

// ---- Sites -------------------------------------------------------------------------------

pub fn add_site(
    conn: &mut Connection,
    key: &SiteKey,
    name: &str,
    origins: &[String],
) -> Result<Site, StoreError> {
    let tx = conn.transaction()?;
    let created_at = now_millis();
    let inserted = tx.execute(
        "INSERT INTO sites (key, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
        params![key.as_str(), name, created_at],
    )?;
    if inserted == 0 {
        return Err(StoreError::SiteExists(key.to_string()));
    }
    for origin in origins {
        tx.execute(
            "INSERT INTO site_origins (site_key, origin) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![key.as_str(), origin],
        )?;
    }
    tx.commit()?;
    Ok(Site {
        key: key.clone(),
        name: name.to_owned(),
        origins: origins.to_vec(),
        created_at,
        widget: WidgetSettings::default(),
        retention_days: None,
    })
}

/// Renames a site and replaces its allowed origins.
pub fn update_site(
    conn: &mut Connection,
    key: &str,
    name: &str,
    origins: &[String],
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    if tx.execute(
        "UPDATE sites SET name = ?2 WHERE key = ?1",
        params![key, name],
    )? == 0
    {
        return Err(StoreError::UnknownSite(key.to_owned()));
    }
    tx.execute("DELETE FROM site_origins WHERE site_key = ?1", [key])?;
    for origin in origins {
        tx.execute(
            "INSERT INTO site_origins (site_key, origin) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![key, origin],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Deletes a site with all its feedback, tokens, webhooks and account grants.
pub fn delete_site(conn: &mut Connection, key: &str) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let feedback = tx.execute("DELETE FROM feedback WHERE site_key = ?1", [key])?;
    if tx.execute("DELETE FROM sites WHERE key = ?1", [key])? == 0 {
        return Err(StoreError::UnknownSite(key.to_owned()));
    }
    tx.commit()?;
    Ok(feedback as u64)
}

/// Sets how long a site keeps feedback (`None`: forever).
pub fn set_retention(conn: &Connection, key: &str, days: Option<u32>) -> Result<(), StoreError> {
    if conn.execute(
        "UPDATE sites SET retention_days = ?2 WHERE key = ?1",
        params![key, days],
    )? == 0
    {
        return Err(StoreError::UnknownSite(key.to_owned()));
    }
    Ok(())
}

/// Deletes the feedback every site no longer keeps; returns how many submissions went.
pub fn apply_retention(conn: &Connection, now: i64) -> Result<u64, StoreError> {
    Ok(conn.execute(
        "DELETE FROM feedback WHERE seq IN (
             SELECT feedback.seq FROM feedback JOIN sites ON sites.key = feedback.site_key
             WHERE sites.retention_days IS NOT NULL
               AND feedback.received_at < ?1 - sites.retention_days * 86400000)",
        [now],
    )? as u64)
}

/// Deletes everything left with this email address (a visitor's request for erasure), in
/// these sites; returns how many submissions went.
pub fn erase_email(conn: &Connection, email: &str, sites: &[String]) -> Result<u64, StoreError> {
    if sites.is_empty() {
        return Ok(0);
    }
    let placeholders = vec!["?"; sites.len()].join(", ");
    let sql = format!(
        "DELETE FROM feedback WHERE lower(email) = lower(?) AND site_key IN ({placeholders})"
    );
    let mut values: Vec<rusqlite::types::Value> = vec![email.trim().to_owned().into()];
    values.extend(sites.iter().cloned().map(rusqlite::types::Value::Text));
    Ok(conn.execute(&sql, rusqlite::params_from_iter(values))? as u64)
}

/// Replaces a site's widget defaults. The caller has validated them.
pub fn set_widget_settings(
    conn: &Connection,
    key: &str,
    settings: &WidgetSettings,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned());
    let changed = conn.execute(
        "UPDATE sites SET widget = ?2 WHERE key = ?1",
        params![key, json],
    )?;
    if changed == 0 {
        return Err(StoreError::UnknownSite(key.to_owned()));
    }
    Ok(())
}

pub fn site(conn: &Connection, key: &str) -> Result<Option<Site>, StoreError> {
    let Some((name, created_at, widget, retention_days)) = conn
        .prepare_cached(
            "SELECT name, created_at, widget, retention_days FROM sites WHERE key = ?1",
        )?
        .query_row([key], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<u32>>(3)?,
            ))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let origins = conn
        .prepare_cached("SELECT origin FROM site_origins WHERE site_key = ?1 ORDER BY origin")?
        .query_map([key], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let key = SiteKey::parse(key).map_err(|_| StoreError::UnknownSite(key.to_owned()))?;
    Ok(Some(Site {
        key,
        name,
        origins,
        created_at,
        // Settings this build cannot read fall back to the defaults rather than hiding the site.
        widget: serde_json::from_str(&widget).unwrap_or_default(),
        retention_days,
    }))
}

pub fn sites(conn: &Connection) -> Result<Vec<Site>, StoreError> {
    let keys = conn
        .prepare("SELECT key FROM sites ORDER BY created_at, key")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut sites = Vec::with_capacity(keys.len());
    for key in keys {
        sites.extend(site(conn, &key)?);
    }
    Ok(sites)
}

/// How many submissions a site holds.
pub fn feedback_count(conn: &Connection, site_key: &str) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM feedback WHERE site_key = ?1",
        [site_key],
        |row| row.get(0),
    )?)
}

// ---- API tokens --------------------------------------------------------------------------

pub fn add_token(
    conn: &Connection,
    name: &str,
    hash: &str,
    site: Option<&str>,
) -> Result<i64, StoreError> {
    if let Some(site_key) = site
        && self::site(conn, site_key)?.is_none()
    {
        return Err(StoreError::UnknownSite(site_key.to_owned()));
    }
    conn.execute(
        "INSERT INTO api_tokens (name, hash, site_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, hash, site, now_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The token with this hash, if it exists and was not revoked.
pub fn token_by_hash(conn: &Connection, hash: &str) -> Result<Option<TokenInfo>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, site_key, created_at FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL",
        )?
        .query_row([hash], |row| {
            Ok(TokenInfo {
                id: row.get(0)?,
                name: row.get(1)?,
                site: row.get(2)?,
                created_at: row.get(3)?,
                revoked: false,
            })
        })
        .optional()?)
}

pub fn tokens(conn: &Connection) -> Result<Vec<TokenInfo>, StoreError> {
    Ok(conn
        .prepare("SELECT id, name, site_key, created_at, revoked_at IS NOT NULL FROM api_tokens ORDER BY id")?
        .query_map([], |row| {
            Ok(TokenInfo {
                id: row.get(0)?,
                name: row.get(1)?,
                site: row.get(2)?,
                created_at: row.get(3)?,
                revoked: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

pub fn revoke_token(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now_millis()],
    )?;
    if changed == 0 {
        return Err(StoreError::UnknownToken(id));
    }
    Ok(())
}

// ---- Feedback ----------------------------------------------------------------------------

/// How many submissions of a site match `filter`.
pub fn count_feedback(
    conn: &Connection,
    site_key: &str,
    filter: &FeedbackFilter,
) -> Result<u64, StoreError> {
    count_feedback_in(conn, &[site_key.to_owned()], filter)
}

/// How many submissions of these sites match `filter`.
pub fn count_feedback_in(
    conn: &Connection,
    sites: &[String],
    filter: &FeedbackFilter,
) -> Result<u64, StoreError> {
    let (clause, values) = filter.sql(sites);
    let sql = format!("SELECT count(*) FROM feedback WHERE {clause}");
    Ok(conn.query_row(&sql, rusqlite::params_from_iter(values), |row| row.get(0))?)
}

/// Calls `each` with every submission of a site that matches `filter`, in arrival order, one
/// row in memory at a time.
pub fn for_each_feedback(
    conn: &Connection,
    site_key: &str,
    filter: &FeedbackFilter,
    each: impl FnMut(FeedbackRow) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    for_each_feedback_in(conn, &[site_key.to_owned()], filter, Page::All, each)
}

/// Which rows of a listing: all of them in arrival order (exports), or a page of the newest
/// first (the inbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    All,
    NewestFirst { offset: u64, limit: u64 },
}

const FEEDBACK_COLUMNS: &str = "seq, id, received_at, site_key, rating_kind, rating_value, comment, email, \
     page_url, locale, user_agent, viewport_width, viewport_height, status, spam, user_id, metadata, \
     note, first_response_at";

fn feedback_row(row: &rusqlite::Row<'_>) -> Result<FeedbackRow, rusqlite::Error> {
    let kind: String = row.get(4)?;
    Ok(FeedbackRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        received_at: row.get(2)?,
        site: row.get(3)?,
        rating: Rating {
            kind: parse_rating_kind(&kind),
            value: row.get(5)?,
        },
        comment: row.get(6)?,
        email: row.get(7)?,
        page_url: row.get(8)?,
        locale: row.get(9)?,
        user_agent: row.get(10)?,
        viewport_width: row.get(11)?,
        viewport_height: row.get(12)?,
        status: row.get(13)?,
        spam: row.get(14)?,
        user_id: row.get(15)?,
        metadata: parse_metadata(row.get(16)?),
        note: row.get(17)?,
        first_response_at: row.get(18)?,
    })
}

/// Calls `each` with the submissions of these sites that match `filter`, one row in memory
/// at a time.
pub fn for_each_feedback_in(
    conn: &Connection,
    sites: &[String],
    filter: &FeedbackFilter,
    page: Page,
    mut each: impl FnMut(FeedbackRow) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let (clause, values) = filter.sql(sites);
    let order = match page {
        Page::All => "ORDER BY seq".to_owned(),
        Page::NewestFirst { offset, limit } => {
            format!("ORDER BY seq DESC LIMIT {limit} OFFSET {offset}")
        }
    };
    let sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE {clause} {order}");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(values))?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        each(feedback_row(row)?)?;
        count += 1;
    }
    Ok(count)
}

/// One submission by id.
pub fn feedback_by_id(conn: &Connection, id: &str) -> Result<Option<FeedbackRow>, StoreError> {
    let sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], feedback_row)
        .optional()?)
}

/// Sets a submission's status and note. The first change of status away from `new` records
/// the time of the first response. Returns whether the submission exists.
pub fn triage(conn: &Connection, id: &str, status: &str, note: &str) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE feedback SET
             first_response_at = CASE
                 WHEN first_response_at IS NULL AND status <> ?2 THEN ?4
                 ELSE first_response_at END,
             status = ?2,
             note = ?3
         WHERE id = ?1",
        params![id, status, note, now_millis()],
    )?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
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

    fn store_with_site() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("earshot.db");
        let mut conn = open_connection(&path).unwrap();
        add_site(
            &mut conn,
            &SiteKey::parse("demo").unwrap(),
            "Demo",
            &["https://shop.example".into()],
        )
        .unwrap();
        (dir, Store::open(&path).unwrap())
    }

    #[actix_web::test]
    async fn a_submission_is_stored_once() {
        let (_dir, store) = store_with_site();
        let id = Uuid::new_v4();
        assert_eq!(
            store.submit(submission("demo", id), 1).await.unwrap(),
            Stored::New
        );
        assert_eq!(
            store.submit(submission("demo", id), 2).await.unwrap(),
            Stored::Duplicate
        );
        let count = store.read(|conn| feedback_count(conn, "demo")).unwrap();
        assert_eq!(count, 1);
    }

    #[actix_web::test]
    async fn concurrent_submissions_are_all_committed() {
        let (_dir, store) = store_with_site();
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
        assert_eq!(new, 181);
        assert_eq!(
            store.read(|conn| feedback_count(conn, "demo")).unwrap(),
            181
        );
    }

    #[actix_web::test]
    async fn a_submission_for_a_missing_site_fails_alone() {
        let (_dir, store) = store_with_site();
        let bad = store.submit(submission("gone", Uuid::new_v4()), 1);
        let good = store.submit(submission("demo", Uuid::new_v4()), 1);
        let (bad, good) = futures_util::future::join(bad, good).await;
        assert!(bad.is_err());
        assert_eq!(good.unwrap(), Stored::New);
    }

    #[actix_web::test]
    async fn retention_and_erasure_delete_only_what_they_should() {
        let (dir, store) = store_with_site();
        let conn = open_connection(&dir.path().join("earshot.db")).unwrap();
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
        assert_eq!(
            apply_retention(&conn, now).unwrap(),
            0,
            "no retention set: nothing goes"
        );
        set_retention(&conn, "demo", Some(30)).unwrap();
        assert_eq!(
            apply_retention(&conn, now).unwrap(),
            2,
            "the 40- and 50-day-old ones"
        );
        assert_eq!(feedback_count(&conn, "demo").unwrap(), 2);
        assert_eq!(
            erase_email(&conn, "ada@example.com", &["other".into()]).unwrap(),
            0,
            "another site's scope"
        );
        assert_eq!(
            erase_email(&conn, "Ada@Example.com", &["demo".into()]).unwrap(),
            1,
            "case-insensitive"
        );
        assert_eq!(feedback_count(&conn, "demo").unwrap(), 1);
        set_retention(&conn, "demo", None).unwrap();
        assert_eq!(site(&conn, "demo").unwrap().unwrap().retention_days, None);
    }

    #[test]
    fn migrations_are_idempotent_and_sites_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("earshot.db");
        let mut conn = open_connection(&path).unwrap();
        let key = SiteKey::parse("shop").unwrap();
        add_site(
            &mut conn,
            &key,
            "Shop",
            &["https://a.example".into(), "https://b.example".into()],
        )
        .unwrap();
        drop(conn);
        let conn = open_connection(&path).unwrap();
        let site = site(&conn, "shop").unwrap().unwrap();
        assert_eq!(site.origins, ["https://a.example", "https://b.example"]);
        assert!(matches!(
            add_site(&mut open_connection(&path).unwrap(), &key, "Again", &[]),
            Err(StoreError::SiteExists(_))
        ));
    }
}
