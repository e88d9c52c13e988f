//! The SQLite engine: one file, WAL mode, `PRAGMA user_version` counting the migrations run.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use earshot_shared::{Rating, SiteKey, WidgetSettings};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::contract::{AnsweredFeedback, FEEDBACK_COLUMNS, LatestMessage, thread_json_column};
use crate::contract::{
    Buckets, Database, DeliveryAttempt, Dialect, Durability, FeedbackFilter, FeedbackRow,
    FeedbackStatus, Page, PageSatisfaction, Pending, RatingCount, Screenshot, Site, SqlValue,
    StatsRows, StoreError, Stored, TokenInfo, day_of, email_hash, legacy_email_hash, mailbox_key,
    message_key, metadata_json, now_millis, parse_metadata, parse_rating_kind, parse_widget,
    widget_json,
};
use crate::mail_sql;
use crate::model::{
    AnswerRecord, AnswerSettings, Author, Delivery, DeliveryState, DueDelivery, DueMail,
    FoldedNotice, LinkPurpose, MailKind, NewReply, NotifyFeedback, OutgoingMail,
    OwnerNotifications, ReplyOutcome, Session, ThreadMessage, User, Webhook, WebhookFormat,
};
use crate::sql;
use crate::stats_sql;

mod inbound;

/// How long a connection waits for a lock held by another process (e.g. the CLI) before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The schema's migrations, in order (`migrations/sqlite/`); `PRAGMA user_version` counts
/// those that have run. Add a file and a line; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_sites_feedback_tokens.sql"),
    include_str!("../migrations/sqlite/0002_spam.sql"),
    include_str!("../migrations/sqlite/0003_user_id_metadata_widget.sql"),
    include_str!("../migrations/sqlite/0004_accounts_sessions_triage.sql"),
    include_str!("../migrations/sqlite/0005_retention_webhooks.sql"),
    include_str!("../migrations/sqlite/0006_referrer.sql"),
    include_str!("../migrations/sqlite/0007_conversations.sql"),
    include_str!("../migrations/sqlite/0008_statistics.sql"),
    include_str!("../migrations/sqlite/0009_screenshots.sql"),
    include_str!("../migrations/sqlite/0010_acknowledged.sql"),
    include_str!("../migrations/sqlite/0011_inbound_mail.sql"),
    include_str!("../migrations/sqlite/0012_waiting.sql"),
    include_str!("../migrations/sqlite/0013_time_zone.sql"),
];

/// Opens (creating if needed) the database file and brings its schema up to date.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
    // across power loss, not only across a crash of this process.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Whenever the WAL is started over, its file is cut back to this size.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES as i64)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Rows read per short read transaction when a whole listing is streamed (an export).
pub const EXPORT_CHUNK_ROWS: usize = 500;
/// The WAL's stated bound: SQLite cuts the file back to this size whenever it starts it over
/// (`journal_size_limit`).
pub const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;
/// Past this size the writer checkpoints and restarts the WAL without waiting to be idle:
/// half the bound, so that the batches written while readers hold the checkpoint back
/// still leave the file under [`WAL_SIZE_LIMIT_BYTES`].
pub const WAL_CHECKPOINT_BYTES: u64 = WAL_SIZE_LIMIT_BYTES / 2;
/// How long the writer's checkpoint waits for readers of an old snapshot before leaving the
/// work for the next one: the writer must not stall submissions for long.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(50);

/// Streams every row matching `clause` in keyset-ordered chunks, each read in a statement of
/// its own (so in a read transaction of its own) and handed on only once that statement has
/// ended. A slow reader (a client downloading an export) then never pins an old snapshot,
/// which would stop checkpoints and let the WAL grow without bound. The upper bound is read
/// first, so the listing holds exactly the rows committed before it began (rows deleted
/// meanwhile by retention or erasure leave it; edits made meanwhile show).
trait ChunkedListing {
    fn for_each_in_chunks(
        &mut self,
        columns: &str,
        clause: &str,
        params: Vec<SqlValue>,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
}

impl ChunkedListing for Connection {
    fn for_each_in_chunks(
        &mut self,
        columns: &str,
        clause: &str,
        params: Vec<SqlValue>,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let last: i64 =
            self.query_row("SELECT coalesce(max(seq), 0) FROM feedback", [], |row| {
                row.get(0)
            })?;
        let sql = format!(
            "SELECT {columns} FROM feedback WHERE {clause} AND seq > ? AND seq <= ? \
             ORDER BY seq LIMIT {EXPORT_CHUNK_ROWS}"
        );
        let mut after = 0i64;
        let mut count = 0;
        loop {
            let chunk = {
                let mut statement = self.prepare_cached(&sql)?;
                let bound = values(params.clone()).chain([
                    rusqlite::types::Value::Integer(after),
                    rusqlite::types::Value::Integer(last),
                ]);
                let rows = statement.query_map(params_from_iter(bound), feedback_row)?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            let Some(end) = chunk.last().map(|row| row.seq) else {
                return Ok(count);
            };
            let full = chunk.len() == EXPORT_CHUNK_ROWS;
            for row in chunk {
                each(row)?;
                count += 1;
            }
            if !full {
                return Ok(count);
            }
            after = end;
        }
    }
}

/// What a backup holds, checked on the copy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// `PRAGMA integrity_check` on the copy: `ok`, or what is wrong.
    pub integrity: String,
    pub submissions: u64,
    pub sites: u64,
    pub bytes: u64,
}

/// Writes a consistent copy of the database at `source` to `target` with `VACUUM INTO`: one
/// read transaction, so the copy holds exactly what was committed when it began (every
/// submission acknowledged before), while the collector goes on writing beside it (WAL).
/// Unlike SQLite's page-by-page backup API, it does not start over when the database changes
/// meanwhile, so it finishes under sustained load. The copy is compacted, in rollback-journal
/// mode, and checked with `PRAGMA integrity_check` before this returns.
pub fn backup(source: &Path, target: &Path) -> Result<BackupReport, StoreError> {
    if target.exists() {
        return Err(StoreError::Backup(format!(
            "{} exists already; choose a new file",
            target.display()
        )));
    }
    let target_text = target
        .to_str()
        .ok_or_else(|| StoreError::Backup("the backup's path is not valid UTF-8".into()))?;
    // `VACUUM INTO` writes into an empty file as it finds it, so the copy keeps these
    // permissions (and so does its journal, which SQLite creates with the file's mode).
    create_private(target)
        .map_err(|err| StoreError::Backup(format!("{}: {err}", target.display())))?;
    // Opened as it is: no migration, no pragma that would change the live database (a newer
    // binary's backup must not upgrade the schema under a running older collector).
    let conn = Connection::open_with_flags(
        source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if let Err(err) = conn.execute("VACUUM INTO ?1", [target_text]) {
        let _ = std::fs::remove_file(target);
        return Err(err.into());
    }
    drop(conn);
    let copy = Connection::open_with_flags(target, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = copy.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    let submissions: u64 = copy.query_row("SELECT count(*) FROM feedback", [], |row| row.get(0))?;
    let sites: u64 = copy.query_row("SELECT count(*) FROM sites", [], |row| row.get(0))?;
    let bytes = std::fs::metadata(target)
        .map(|meta| meta.len())
        .unwrap_or(0);
    Ok(BackupReport {
        integrity,
        submissions,
        sites,
        bytes,
    })
}

/// Creates `path` as an empty file only its owner may read and write (0600), unless it
/// exists already. A backup or a copy holds password hashes, webhook secrets, visitors'
/// addresses and screenshots; SQLite itself would create it readable by everyone (0644
/// under the usual umask).
pub fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// The size of the WAL file beside the database, 0 when there is none.
pub fn wal_bytes(database: &Path) -> u64 {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0)
}

/// A checkpoint that copies the whole WAL into the database and starts the WAL over,
/// truncating it to nothing, when no reader holds an old snapshot; otherwise SQLite's own
/// passive checkpoints go on and this is tried again later. Run by the writer when it is
/// idle and when the WAL has grown past [`WAL_CHECKPOINT_BYTES`].
pub(super) fn checkpoint(conn: &Connection) -> Result<bool, StoreError> {
    conn.busy_timeout(CHECKPOINT_WAIT)?;
    let outcome: Result<(i64, i64, i64), rusqlite::Error> =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        });
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match outcome {
        // (busy, frames in the WAL, frames checkpointed): busy = 1 when readers held it back.
        Ok((busy, _, _)) => Ok(busy == 0),
        Err(rusqlite::Error::SqliteFailure(err, _))
            if err.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// What the writer's commits survive.
pub(super) fn set_durability(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    let synchronous = match durability {
        Durability::PowerLoss => "FULL",
        Durability::ProcessCrash => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    Ok(())
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

fn values(values: Vec<SqlValue>) -> impl Iterator<Item = rusqlite::types::Value> {
    values.into_iter().map(|value| match value {
        SqlValue::Int(n) => rusqlite::types::Value::Integer(n),
        SqlValue::Text(text) => rusqlite::types::Value::Text(text),
    })
}

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
        status: FeedbackStatus::stored(&row.get::<_, String>(13)?),
        spam: row.get(14)?,
        user_id: row.get(15)?,
        metadata: parse_metadata(row.get(16)?),
        note: row.get(17)?,
        first_response_at: row.get(18)?,
        referrer: row.get(19)?,
        first_answer_at: row.get(20)?,
        answer_by: row.get(21)?,
        has_screenshot: row.get(22)?,
        answered_at: row.get(23)?,
        unread: row.get(24)?,
        unsubscribed_at: row.get(25)?,
        replies_kept: row.get(26)?,
        latest: LatestMessage::read(row.get(27)?, row.get(28)?),
        replies: row.get(29)?,
        visitor_answers: row.get(30)?,
        thread_json: if row.as_ref().column_count() > 31 {
            row.get(31)?
        } else {
            None
        },
    })
}

fn thread_message_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ThreadMessage> {
    Ok(ThreadMessage {
        id: row.get(0)?,
        feedback_id: row.get(1)?,
        author: Author::stored(&row.get::<_, String>(2)?),
        author_email: row.get(3)?,
        body: row.get(4)?,
        created_at: row.get(5)?,
    })
}

/// Whether `email` asked for no more email from `site`.
fn unsubscribed(conn: &Connection, site: &str, email: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(mail_sql::UNSUBSCRIBED)?
        .query_row(
            params![site, email_hash(email), legacy_email_hash(email)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The owners who may read `site`: id, email, how they hear of new feedback, and of answers.
fn owners_of_site(
    conn: &Connection,
    site: &str,
) -> Result<Vec<(i64, String, String, bool)>, StoreError> {
    Ok(conn
        .prepare_cached(mail_sql::OWNERS_OF_SITE)?
        .query_map([site], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<Result<_, _>>()?)
}

/// An outbox row's kind; one this build does not know is never sent.
fn mail_kind(text: &str) -> rusqlite::Result<MailKind> {
    MailKind::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown kind of email {text:?}").into(),
        )
    })
}

fn webhook_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let format: String = row.get(4)?;
    Ok(Webhook {
        id: row.get(0)?,
        site: row.get(1)?,
        url: row.get(2)?,
        secret: row.get(3)?,
        format: WebhookFormat::parse(&format).unwrap_or(WebhookFormat::Json),
    })
}

fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.get(0)?,
        name: row.get(1)?,
        site: row.get(2)?,
        created_at: row.get(3)?,
        revoked: row.get(4)?,
    })
}

fn user_sites(
    conn: &Connection,
    id: i64,
    all_sites: bool,
) -> Result<Option<Vec<String>>, StoreError> {
    if all_sites {
        return Ok(None);
    }
    let sites = conn
        .prepare_cached(sql::USER_SITES)?
        .query_map([id], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(sites))
}

/// `?, ?, …` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Database for Connection {
    fn after_writes(&mut self, idle: bool) -> Result<bool, StoreError> {
        let Some(path) = self.path().filter(|path| !path.is_empty()) else {
            return Ok(true);
        };
        let wal = wal_bytes(Path::new(path));
        if wal > 0 && (idle || wal > WAL_CHECKPOINT_BYTES) {
            return checkpoint(self);
        }
        Ok(true)
    }

    fn ping(&mut self) -> Result<(), StoreError> {
        Ok(self.query_row(sql::PING, [], |_| Ok(()))?)
    }

    /// A row that fails (its site was deleted meanwhile) fails alone: it is not inserted,
    /// and any other failing statement SQLite rolls back alone.
    fn write_batch(
        &mut self,
        batch: &[&Pending],
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        // Immediate: the write lock is taken up front, so another process writing to the
        // file (the command line, a second collector) makes this wait rather than fail.
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO feedback (id, site_key, received_at, rating_kind, rating_value, comment,
                                       email, page_url, locale, user_agent, viewport_width, viewport_height, spam,
                                       user_id, metadata, referrer, answer_by, first_answer_by, unsubscribed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18)
                 ON CONFLICT (id) DO NOTHING",
            )?;
            let mut mail = tx.prepare_cached(mail_sql::INSERT_MAIL)?;
            // Owners who want each new submission, read once per batch.
            let each_owners: Vec<(i64, String, bool, Option<String>)> = tx
                .prepare_cached(mail_sql::EACH_OWNERS)?
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            // Sites with webhooks, read once per batch (a tiny table): the common case of none
            // costs one query per transaction, not one per submission.
            let hooked: HashSet<String> = tx
                .prepare_cached("SELECT DISTINCT site_key FROM webhooks")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            // Sites, likewise: a submission for a site deleted meanwhile fails alone, as on
            // PostgreSQL, before it can meet the foreign key.
            // With what each promises: the answer's deadline, the acknowledgement.
            let sites: HashMap<String, (i64, bool)> = tx
                .prepare_cached("SELECT key, answer_hours, acknowledge FROM sites")?
                .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?
                .collect::<Result<_, _>>()?;
            let mut enqueue = tx.prepare_cached(
                "INSERT INTO webhook_deliveries (webhook_id, feedback_id, next_attempt_at, created_at, updated_at)
                 SELECT id, ?1, ?2, ?2, ?2 FROM webhooks WHERE site_key = ?3",
            )?;
            for job in batch {
                let s = &job.submission;
                let Some(&(answer_hours, acknowledge)) = sites.get(s.site.as_str()) else {
                    outcomes.push(Err(StoreError::UnknownSite(s.site.to_string())));
                    continue;
                };
                let email = s
                    .email
                    .as_deref()
                    .map(str::trim)
                    .filter(|email| !email.is_empty() && !job.spam);
                let answer_by = email.map(|_| job.received_at + answer_hours * 3_600_000);
                // From an address that stopped all email: nobody can answer it.
                let unreachable = match email {
                    Some(email) if unsubscribed(&tx, s.site.as_str(), email)? => {
                        Some(job.received_at)
                    }
                    _ => None,
                };
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
                        s.referrer,
                        answer_by,
                        unreachable,
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
                        if stored == Stored::New && !job.spam {
                            let id = s.id.to_string();
                            let queue = |mail: &mut rusqlite::CachedStatement<'_>,
                                         kind: MailKind,
                                         user: Option<i64>,
                                         to: &str| {
                                mail.execute(params![
                                    message_key(),
                                    kind.as_str(),
                                    s.site.as_str(),
                                    id,
                                    None::<i64>,
                                    user,
                                    None::<i64>,
                                    None::<i64>,
                                    to,
                                    job.received_at
                                ])
                            };
                            for (user, address, all_sites, site) in &each_owners {
                                if *all_sites || site.as_deref() == Some(s.site.as_str()) {
                                    queue(&mut mail, MailKind::NewFeedback, Some(*user), address)?;
                                }
                            }
                            if let Some(email) = email
                                && acknowledge
                                && unreachable.is_none()
                                && tx
                                    .prepare_cached(mail_sql::ACKNOWLEDGE_ONCE_A_DAY)?
                                    .execute(params![
                                        s.site.as_str(),
                                        email_hash(email),
                                        day_of(job.received_at)
                                    ])?
                                    == 1
                            {
                                queue(&mut mail, MailKind::Acknowledgement, None, email)?;
                            }
                        }
                        Ok(stored)
                    });
                outcomes.push(outcome);
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn add_site(
        &mut self,
        key: &SiteKey,
        name: &str,
        origins: &[String],
    ) -> Result<Site, StoreError> {
        let tx = self.transaction()?;
        let created_at = now_millis();
        let inserted = tx.execute(sql::ADD_SITE, params![key.as_str(), name, created_at])?;
        if inserted == 0 {
            return Err(StoreError::SiteExists(key.to_string()));
        }
        for origin in origins {
            tx.execute(sql::ADD_ORIGIN, params![key.as_str(), origin])?;
        }
        tx.commit()?;
        Ok(Site::added(key, name, origins, created_at))
    }

    fn update_site(&mut self, key: &str, name: &str, origins: &[String]) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        if tx.execute(sql::RENAME_SITE, params![key, name])? == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        tx.execute(sql::DROP_ORIGINS, [key])?;
        for origin in origins {
            tx.execute(sql::ADD_ORIGIN, params![key, origin])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn delete_site(&mut self, key: &str) -> Result<u64, StoreError> {
        let tx = self.transaction()?;
        let feedback = tx.execute(sql::DELETE_SITE_FEEDBACK, [key])?;
        if tx.execute(sql::DELETE_SITE, [key])? == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        tx.commit()?;
        Ok(feedback as u64)
    }

    fn set_retention(&mut self, key: &str, days: Option<u32>) -> Result<(), StoreError> {
        if self.execute(sql::SET_RETENTION, params![key, days])? == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn apply_retention(&mut self, now: i64) -> Result<u64, StoreError> {
        self.execute(mail_sql::FORGET_ACKNOWLEDGED, [day_of(now) - 1])?;
        Ok(self.execute(
            "DELETE FROM feedback WHERE seq IN (
                 SELECT feedback.seq FROM feedback JOIN sites ON sites.key = feedback.site_key
                 WHERE sites.retention_days IS NOT NULL
                   AND feedback.received_at < ?1 - sites.retention_days * 86400000)",
            [now],
        )? as u64)
    }

    fn erase_email(&mut self, email: &str, sites: &[String]) -> Result<u64, StoreError> {
        if sites.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM feedback WHERE lower(email) = lower(?) AND site_key IN ({})",
            placeholders(sites.len())
        );
        let mut values: Vec<rusqlite::types::Value> = vec![email.trim().to_owned().into()];
        values.extend(sites.iter().cloned().map(rusqlite::types::Value::Text));
        let erased = self.execute(&sql, params_from_iter(values))? as u64;
        self.execute(crate::inbound::ERASE_UNMATCHED_FROM, [email.trim()])?;
        Ok(erased)
    }

    fn set_widget_settings(
        &mut self,
        key: &str,
        settings: &WidgetSettings,
    ) -> Result<(), StoreError> {
        let changed = self.execute(sql::SET_WIDGET, params![key, widget_json(settings)])?;
        if changed == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn site(&mut self, key: &str) -> Result<Option<Site>, StoreError> {
        let Some((name, created_at, widget, retention_days, answers)) = self
            .prepare_cached(sql::SITE)?
            .query_row([key], |row| {
                Ok((
                    row.get::<_, String>(1)?,
                    row.get(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<u32>>(4)?,
                    AnswerSettings {
                        reply_to: row.get(5)?,
                        answer_hours: row.get(6)?,
                        promise_shown: row.get(7)?,
                        acknowledge: row.get(8)?,
                        notify_resolved: row.get(9)?,
                    },
                ))
            })
            .optional()?
        else {
            return Ok(None);
        };
        let origins = self
            .prepare_cached(sql::SITE_ORIGINS)?
            .query_map([key], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        let key = SiteKey::parse(key).map_err(|_| StoreError::UnknownSite(key.to_owned()))?;
        Ok(Some(Site {
            key,
            name,
            origins,
            created_at,
            widget: parse_widget(&widget),
            retention_days,
            answers,
        }))
    }

    fn sites(&mut self) -> Result<Vec<Site>, StoreError> {
        let keys = self
            .prepare("SELECT key FROM sites ORDER BY created_at, key")?
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut sites = Vec::with_capacity(keys.len());
        for key in keys {
            sites.extend(self.site(&key)?);
        }
        Ok(sites)
    }

    fn add_token(&mut self, name: &str, hash: &str, site: Option<&str>) -> Result<i64, StoreError> {
        if let Some(site_key) = site
            && self.site(site_key)?.is_none()
        {
            return Err(StoreError::UnknownSite(site_key.to_owned()));
        }
        self.execute(sql::ADD_TOKEN, params![name, hash, site, now_millis()])?;
        Ok(self.last_insert_rowid())
    }

    fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        Ok(self
            .prepare_cached(sql::TOKEN_BY_HASH)?
            .query_row([hash], token_row)
            .optional()?)
    }

    fn tokens(&mut self) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(self
            .prepare(sql::TOKENS)?
            .query_map([], token_row)?
            .collect::<Result<_, _>>()?)
    }

    fn revoke_token(&mut self, id: i64) -> Result<(), StoreError> {
        let changed = self.execute(sql::REVOKE_TOKEN, params![id, now_millis()])?;
        if changed == 0 {
            return Err(StoreError::UnknownToken(id));
        }
        Ok(())
    }

    fn count_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
    ) -> Result<u64, StoreError> {
        let (clause, params) = filter.sql(sites, Dialect::Sqlite);
        let sql = format!("SELECT count(*) FROM feedback WHERE {clause}");
        Ok(self.query_row(&sql, params_from_iter(values(params)), |row| row.get(0))?)
    }

    fn feedback_stats(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
        buckets: Buckets,
    ) -> Result<StatsRows, StoreError> {
        // One read transaction: the answers agree with each other.
        let tx = self.transaction()?;
        let (probe, sites_values) = stats_sql::any_arrived(sites, Dialect::Sqlite);
        let (from, to) = stats_sql::widened(from, to, |start, end| {
            let mut params = vec![SqlValue::Int(start), SqlValue::Int(end)];
            params.extend(sites_values.iter().cloned());
            tx.query_row(&probe, params_from_iter(values(params)), |row| row.get(0))
        })?;
        let sql = stats_sql::statements(sites, from, to, buckets, Dialect::Sqlite);
        let ratings = tx
            .prepare(&sql.ratings)?
            .query_map(params_from_iter(values(sql.params.clone())), |row| {
                let kind: String = row.get(0)?;
                Ok(RatingCount {
                    kind: parse_rating_kind(&kind),
                    value: row.get(1)?,
                    bucket: row.get(2)?,
                    count: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let pages = tx
            .prepare(&sql.pages)?
            .query_map(params_from_iter(values(sql.params)), |row| {
                Ok(PageSatisfaction {
                    url: row.get(0)?,
                    count: row.get(1)?,
                    satisfaction: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let responded: u64 = tx.query_row(
            &sql.responded,
            params_from_iter(values(sql.response_params.clone())),
            |row| row.get(0),
        )?;
        let median_response_ms = if responded == 0 {
            None
        } else {
            let mut with_offset: Vec<SqlValue> = sql.response_params;
            with_offset.push(SqlValue::Int((responded / 2) as i64));
            tx.query_row(&sql.median, params_from_iter(values(with_offset)), |row| {
                row.get(0)
            })
            .optional()?
        };
        tx.commit()?;
        Ok(StatsRows {
            ratings,
            pages,
            responded,
            median_response_ms,
        })
    }

    fn compact_stats(&mut self) -> Result<u64, StoreError> {
        // The triggers keep one row per count and delete the rows that reach zero.
        Ok(self.query_row(sql::STATS_ROWS, [], |row| row.get(0))?)
    }

    fn for_each_feedback_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        page: Page,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let (clause, params) = filter.sql(sites, Dialect::Sqlite);
        if page == Page::All {
            return self.for_each_in_chunks(FEEDBACK_COLUMNS, &clause, params, each);
        }
        let sql = format!(
            "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE {clause} {}",
            page.order_by()
        );
        let mut statement = self.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(values(params)))?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            each(feedback_row(row)?)?;
            count += 1;
        }
        Ok(count)
    }

    fn for_each_feedback_with_threads_in(
        &mut self,
        sites: &[String],
        filter: &FeedbackFilter,
        each: &mut dyn FnMut(FeedbackRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let (clause, params) = filter.sql(sites, Dialect::Sqlite);
        let columns = format!(
            "{FEEDBACK_COLUMNS}, {}",
            thread_json_column(Dialect::Sqlite)
        );
        self.for_each_in_chunks(&columns, &clause, params, each)
    }

    fn feedback_by_id(&mut self, id: &str) -> Result<Option<FeedbackRow>, StoreError> {
        Ok(self
            .prepare_cached(&sql::FEEDBACK_BY_ID)?
            .query_row([id], feedback_row)
            .optional()?)
    }

    fn add_screenshot(&mut self, screenshot: &Screenshot) -> Result<bool, StoreError> {
        let added = self.execute(
            sql::ADD_SCREENSHOT,
            params![
                screenshot.feedback_id,
                screenshot.content_type,
                screenshot.width,
                screenshot.height,
                screenshot.image,
                screenshot.thumbnail,
                screenshot.created_at
            ],
        )?;
        Ok(added == 1)
    }

    fn screenshot_image(
        &mut self,
        feedback_id: &str,
        thumbnail: bool,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let statement = if thumbnail {
            sql::SCREENSHOT_THUMBNAIL
        } else {
            sql::SCREENSHOT_IMAGE
        };
        Ok(self
            .prepare_cached(statement)?
            .query_row([feedback_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    fn screenshot_size(&mut self, feedback_id: &str) -> Result<Option<(u32, u32)>, StoreError> {
        Ok(self
            .prepare_cached(sql::SCREENSHOT_SIZE)?
            .query_row([feedback_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    fn triage(&mut self, id: &str, status: FeedbackStatus, note: &str) -> Result<bool, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let before: Option<(String, String, Option<String>, bool)> = tx
            .query_row(
                "SELECT status, site_key, email, spam FROM feedback WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let Some((was, site, email, spam)) = before else {
            return Ok(false);
        };
        let now = now_millis();
        tx.execute(mail_sql::TRIAGE, params![id, status.as_str(), note, now])?;
        // The visitor hears that it was resolved, once, when the site says so.
        let resolved_now = status == FeedbackStatus::Resolved
            && FeedbackStatus::stored(&was) != FeedbackStatus::Resolved;
        if let Some(email) = email.filter(|email| resolved_now && !spam && !email.trim().is_empty())
        {
            let (_, _, notify_resolved): (i64, bool, bool) =
                tx.query_row(mail_sql::SITE_ANSWERS, [&site], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
            let told = tx
                .query_row(mail_sql::RESOLUTION_SENT, [id], |_| Ok(()))
                .optional()?
                .is_some();
            if notify_resolved && !told && !unsubscribed(&tx, &site, &email)? {
                tx.execute(
                    mail_sql::INSERT_MAIL,
                    params![
                        message_key(),
                        MailKind::Resolved.as_str(),
                        site,
                        id,
                        None::<i64>,
                        None::<i64>,
                        None::<i64>,
                        None::<i64>,
                        email.trim(),
                        now
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    fn add_user(
        &mut self,
        email: &str,
        password_hash: &str,
        sites: Option<&[String]>,
    ) -> Result<User, StoreError> {
        let tx = self.transaction()?;
        let inserted = tx.execute(
            sql::ADD_USER,
            params![email, password_hash, sites.is_none(), now_millis()],
        )?;
        if inserted == 0 {
            return Err(StoreError::UserExists(email.to_owned()));
        }
        let id = tx.last_insert_rowid();
        for site in sites.unwrap_or_default() {
            let known: Option<i64> = tx
                .query_row(sql::SITE_EXISTS, [site], |row| row.get(0))
                .optional()?;
            if known.is_none() {
                return Err(StoreError::UnknownSite(site.clone()));
            }
            tx.execute(sql::ADD_USER_SITE, params![id, site])?;
        }
        tx.commit()?;
        Ok(User {
            id,
            email: email.to_owned(),
            sites: sites.map(<[String]>::to_vec),
        })
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = self
            .prepare_cached(sql::USER_BY_EMAIL)?
            .query_row([email], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, bool>(3)?,
                ))
            })
            .optional()?;
        let Some((id, email, hash, all_sites)) = row else {
            return Ok(None);
        };
        let sites = user_sites(self, id, all_sites)?;
        Ok(Some((User { id, email, sites }, hash)))
    }

    fn has_users(&mut self) -> Result<bool, StoreError> {
        Ok(self.query_row(sql::ANY_USER, [], |row| row.get(0))?)
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        let rows = self
            .prepare(sql::USERS)?
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, bool>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, email, all_sites)| {
                Ok(User {
                    id,
                    email,
                    sites: user_sites(self, id, all_sites)?,
                })
            })
            .collect()
    }

    fn add_session(
        &mut self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        tx.execute(
            sql::ADD_SESSION,
            params![token_hash, user_id, csrf, now, expires_at],
        )?;
        // Expired sessions are dropped whenever someone signs in.
        tx.execute(sql::DROP_EXPIRED_SESSIONS, [now])?;
        tx.commit()?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let row = self
            .prepare_cached(sql::SESSION)?
            .query_row(params![token_hash, now], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        let Some((id, email, all_sites, csrf, time_zone)) = row else {
            return Ok(None);
        };
        Ok(Some(Session {
            user: User {
                id,
                email,
                sites: user_sites(self, id, all_sites)?,
            },
            csrf,
            time_zone,
        }))
    }

    fn end_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.execute(sql::END_SESSION, [token_hash])?;
        Ok(())
    }

    fn set_time_zone(&mut self, user_id: i64, zone: &str) -> Result<(), StoreError> {
        self.execute(sql::SET_TIME_ZONE, params![user_id, zone])?;
        Ok(())
    }

    fn add_webhook(
        &mut self,
        site: &str,
        url: &str,
        secret: &str,
        format: WebhookFormat,
    ) -> Result<i64, StoreError> {
        self.execute(
            sql::ADD_WEBHOOK,
            params![site, url, secret, format.as_str(), now_millis()],
        )?;
        Ok(self.last_insert_rowid())
    }

    fn webhooks(&mut self, site: &str) -> Result<Vec<Webhook>, StoreError> {
        Ok(self
            .prepare_cached(sql::WEBHOOKS)?
            .query_map([site], webhook_row)?
            .collect::<Result<_, _>>()?)
    }

    fn webhook(&mut self, site: &str, id: i64) -> Result<Option<Webhook>, StoreError> {
        Ok(self
            .prepare_cached(sql::WEBHOOK)?
            .query_row(params![id, site], webhook_row)
            .optional()?)
    }

    fn delete_webhook(&mut self, site: &str, id: i64) -> Result<bool, StoreError> {
        Ok(self.execute(sql::DELETE_WEBHOOK, params![id, site])? == 1)
    }

    fn deliveries(&mut self, site: &str, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .prepare_cached(sql::DELIVERIES)?
            .query_map(params![site, limit], |row| {
                Ok(Delivery {
                    id: row.get(0)?,
                    url: row.get(1)?,
                    feedback_id: row.get(2)?,
                    state: DeliveryState::stored(&row.get::<_, String>(3)?),
                    attempts: row.get(4)?,
                    last_status: row.get(5)?,
                    last_error: row.get(6)?,
                    updated_at: row.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    fn claim_due_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        // An immediate transaction takes the write lock first, so two processes on one file
        // cannot both claim the same rows.
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let due = tx
            .prepare_cached(
                "SELECT d.id, w.id, w.site_key, w.url, w.secret, w.format, d.feedback_id, d.attempts
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                 ORDER BY d.next_attempt_at LIMIT ?2",
            )?
            .query_map(params![now, limit], |row| {
                let format: String = row.get(5)?;
                Ok(DueDelivery {
                    id: row.get(0)?,
                    webhook: Webhook {
                        id: row.get(1)?,
                        site: row.get(2)?,
                        url: row.get(3)?,
                        secret: row.get(4)?,
                        format: WebhookFormat::parse(&format).unwrap_or(WebhookFormat::Json),
                    },
                    feedback_id: row.get(6)?,
                    attempts: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        {
            let mut lease = tx.prepare_cached(
                "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1",
            )?;
            for delivery in &due {
                lease.execute(params![delivery.id, lease_until])?;
            }
        }
        tx.commit()?;
        Ok(due)
    }

    fn record_delivery(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        self.execute(
            sql::RECORD_DELIVERY,
            params![
                id,
                attempt.state.as_str(),
                attempt.attempts,
                attempt.status,
                attempt.error,
                attempt.next_attempt_at,
                attempt.now
            ],
        )?;
        Ok(())
    }

    fn set_answer_settings(
        &mut self,
        key: &str,
        settings: &AnswerSettings,
    ) -> Result<(), StoreError> {
        let changed = self.execute(
            mail_sql::SET_ANSWER_SETTINGS,
            params![
                key,
                settings.reply_to,
                settings.answer_hours,
                settings.promise_shown,
                settings.acknowledge,
                settings.notify_resolved
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownSite(key.to_owned()));
        }
        Ok(())
    }

    fn owner_notifications(&mut self, user_id: i64) -> Result<OwnerNotifications, StoreError> {
        Ok(self
            .query_row(mail_sql::OWNER_NOTIFICATIONS, [user_id], |row| {
                Ok(OwnerNotifications {
                    feedback: NotifyFeedback::parse(&row.get::<_, String>(0)?).unwrap_or_default(),
                    answers: row.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    fn set_owner_notifications(
        &mut self,
        user_id: i64,
        notifications: &OwnerNotifications,
    ) -> Result<(), StoreError> {
        self.execute(
            mail_sql::SET_OWNER_NOTIFICATIONS,
            params![
                user_id,
                notifications.feedback.as_str(),
                notifications.answers
            ],
        )?;
        Ok(())
    }

    fn unsubscribe(&mut self, site: &str, email: &str, now: i64) -> Result<bool, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if tx
            .query_row(sql::SITE_EXISTS, [site], |_| Ok(()))
            .optional()?
            .is_none()
        {
            return Ok(false);
        }
        tx.execute(mail_sql::UNSUBSCRIBE, params![site, email_hash(email), now])?;
        let mailbox = mailbox_key(email);
        let waiting = tx
            .prepare_cached(mail_sql::WAITING_FOR_VISITORS)?
            .query_map([site], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, recipient) in waiting {
            if mailbox_key(&recipient) == mailbox {
                tx.execute(mail_sql::GIVE_UP, params![id, now])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    fn mark_unsubscribed(
        &mut self,
        site: &str,
        email: &str,
        kept: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(kept) = kept {
            tx.execute(mail_sql::KEEP_REPLIES, [kept])?;
            tx.execute(mail_sql::REQUEUE_KEPT_REPLIES, params![kept, now])?;
        }
        tx.execute(mail_sql::MARK_UNREACHABLE, params![site, email, now])?;
        tx.commit()?;
        Ok(())
    }

    fn unsubscribed_at(&mut self, site: &str, email: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .prepare_cached(mail_sql::UNSUBSCRIBED_AT)?
            .query_row(params![site, email_hash(email)], |row| row.get(0))
            .optional()?)
    }

    fn resubscribe(
        &mut self,
        site: &str,
        email: &str,
        since: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if tx.execute(
            mail_sql::RESUBSCRIBE,
            params![site, email_hash(email), since],
        )? == 0
        {
            return Ok(false);
        }
        tx.execute(mail_sql::MARK_REACHABLE, params![site, email, since])?;
        tx.execute(
            mail_sql::REQUEUE_GIVEN_UP,
            params![site, email.trim(), since, now],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn is_unsubscribed(&mut self, site: &str, email: &str) -> Result<bool, StoreError> {
        unsubscribed(self, site, email)
    }

    fn queue_digests(&mut self, now: i64) -> Result<u64, StoreError> {
        let now = now - mail_sql::DIGEST_SETTLE_MS;
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let owners = tx
            .prepare_cached(mail_sql::DIGEST_OWNERS)?
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut queued = 0;
        for (id, email, often, until) in owners {
            let Some(period) = NotifyFeedback::parse(&often).and_then(NotifyFeedback::period_ms)
            else {
                continue;
            };
            match until {
                // The first period starts now: no digest of what came before.
                None => {}
                Some(until) if until + period > now => continue,
                Some(until) => {
                    let count: i64 =
                        tx.query_row(&sql::DIGEST_COUNT, params![id, until, now], |row| {
                            row.get(0)
                        })?;
                    if count > 0 {
                        tx.execute(
                            mail_sql::INSERT_MAIL,
                            params![
                                message_key(),
                                MailKind::Digest.as_str(),
                                None::<String>,
                                None::<String>,
                                None::<i64>,
                                id,
                                until,
                                now,
                                email,
                                now
                            ],
                        )?;
                        queued += 1;
                    }
                }
            }
            tx.execute(mail_sql::ADVANCE_DIGEST, params![id, until, now])?;
        }
        tx.commit()?;
        Ok(queued)
    }

    fn queue_reminders(&mut self, now: i64, lead_ms: i64) -> Result<u64, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let due = tx
            .prepare_cached(mail_sql::DUE_SOON)?
            .query_map(params![now, lead_ms], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut reminded = 0;
        for (feedback, site) in due {
            if tx.execute(mail_sql::MARK_REMINDED, params![feedback, now])? == 0 {
                continue;
            }
            for (user, email, _, _) in owners_of_site(&tx, &site)? {
                tx.execute(
                    mail_sql::INSERT_MAIL,
                    params![
                        message_key(),
                        MailKind::Reminder.as_str(),
                        site,
                        feedback,
                        None::<i64>,
                        user,
                        None::<i64>,
                        None::<i64>,
                        email,
                        now
                    ],
                )?;
            }
            reminded += 1;
        }
        tx.commit()?;
        Ok(reminded)
    }

    fn digest_feedback(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<(u64, Vec<FeedbackRow>), StoreError> {
        let count: i64 = self.query_row(&sql::DIGEST_COUNT, params![user_id, from, to], |row| {
            row.get(0)
        })?;
        let rows = self
            .prepare(&sql::DIGEST_PAGE)?
            .query_map(params![user_id, from, to, limit], feedback_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((count.max(0) as u64, rows))
    }

    fn answer_records(
        &mut self,
        sites: &[String],
        from: i64,
        to: i64,
    ) -> Result<Vec<AnswerRecord>, StoreError> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let sql = mail_sql::ANSWER_RECORDS.replace(
            "{sites}",
            &format!("IN ({})", mail_sql::numbered_list(sites.len(), 3)),
        );
        let mut values: Vec<rusqlite::types::Value> = vec![from.into(), to.into()];
        values.extend(sites.iter().cloned().map(rusqlite::types::Value::Text));
        Ok(self
            .prepare(&sql)?
            .query_map(params_from_iter(values), |row| {
                Ok(AnswerRecord {
                    site: row.get(0)?,
                    received_at: row.get(1)?,
                    answer_by: row.get(2)?,
                    first_answer_at: row.get(3)?,
                    answered_by: row.get(4)?,
                    follow_up: row.get(5)?,
                    unreachable: row.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    fn add_reply(&mut self, reply: &NewReply) -> Result<ReplyOutcome, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let outcome = reply_in(&tx, reply)?;
        tx.commit()?;
        Ok(outcome)
    }

    fn add_visitor_answer(
        &mut self,
        feedback_id: &str,
        body: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let message = visitor_answer_in(&tx, feedback_id, body, now)?;
        tx.commit()?;
        Ok(message)
    }

    fn restore_spam(&mut self, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .prepare_cached(sql::NOT_SPAM)?
            .execute(params![id, now])?
            == 1)
    }

    fn mark_read(&mut self, feedback_id: &str) -> Result<(), StoreError> {
        self.prepare_cached(sql::MARK_READ)?
            .execute([feedback_id])?;
        Ok(())
    }

    fn thread_message(&mut self, id: i64) -> Result<Option<ThreadMessage>, StoreError> {
        Ok(self
            .prepare_cached(sql::THREAD_MESSAGE)?
            .query_row([id], thread_message_row)
            .optional()?)
    }

    fn thread(&mut self, feedback_id: &str) -> Result<Vec<ThreadMessage>, StoreError> {
        Ok(self
            .prepare_cached(sql::THREAD)?
            .query_map([feedback_id], thread_message_row)?
            .collect::<Result<_, _>>()?)
    }

    fn mail_for(&mut self, feedback_id: &str) -> Result<Vec<OutgoingMail>, StoreError> {
        Ok(self
            .prepare_cached(sql::MAIL_FOR)?
            .query_map([feedback_id], |row| {
                Ok(OutgoingMail {
                    id: row.get(0)?,
                    kind: mail_kind(&row.get::<_, String>(1)?)?,
                    feedback_id: row.get(2)?,
                    thread_message: row.get(3)?,
                    recipient: row.get(4)?,
                    state: DeliveryState::stored(&row.get::<_, String>(5)?),
                    attempts: row.get(6)?,
                    last_error: row.get(7)?,
                    next_attempt_at: row.get(8)?,
                    updated_at: row.get(9)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    fn pending_mail(&mut self) -> Result<u64, StoreError> {
        Ok(self.query_row(sql::PENDING_MAIL, [], |row| row.get(0))?)
    }

    fn claim_due_mail(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueMail>, StoreError> {
        // As for webhook deliveries: the write lock first, so two processes sharing the file
        // cannot claim the same email.
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let due = tx
            .prepare_cached(
                "SELECT id, message_key, kind, site_key, feedback_id, thread_message, user_id,
                        window_start, window_end, recipient, attempts
                 FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
                 ORDER BY kind <> 'reply', next_attempt_at, id LIMIT ?2",
            )?
            .query_map(params![now, limit], |row| {
                let window = match (row.get::<_, Option<i64>>(7)?, row.get::<_, Option<i64>>(8)?) {
                    (Some(start), Some(end)) => Some((start, end)),
                    _ => None,
                };
                Ok(DueMail {
                    id: row.get(0)?,
                    message_key: row.get(1)?,
                    kind: mail_kind(&row.get::<_, String>(2)?)?,
                    site: row.get(3)?,
                    feedback_id: row.get(4)?,
                    thread_message: row.get(5)?,
                    user_id: row.get(6)?,
                    window,
                    recipient: row.get(9)?,
                    attempts: row.get(10)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        {
            let mut lease =
                tx.prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1")?;
            for mail in &due {
                lease.execute(params![mail.id, lease_until])?;
            }
        }
        tx.commit()?;
        Ok(due)
    }

    fn fold_notice(&mut self, mail: &DueMail, now: i64, send_at: i64) -> Result<(), StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(mail_sql::FOLD, params![mail.id, now, mail_sql::FOLDED])?;
        if let Some(user) = mail.user_id
            && tx
                .query_row(mail_sql::CATCH_UP_WAITING, params![user, now], |_| Ok(()))
                .optional()?
                .is_none()
        {
            let from: Option<i64> =
                tx.query_row(mail_sql::LAST_CATCH_UP_END, [user], |row| row.get(0))?;
            tx.execute(
                mail_sql::INSERT_CATCH_UP,
                params![
                    message_key(),
                    user,
                    from.unwrap_or(now).min(now),
                    send_at,
                    mail.recipient,
                    now
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn folded_notices(
        &mut self,
        user_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<FoldedNotice>, StoreError> {
        self.prepare_cached(mail_sql::FOLDED_NOTICES)?
            .query_map(params![user_id, from, to, mail_sql::FOLDED], |row| {
                Ok(FoldedNotice {
                    kind: mail_kind(&row.get::<_, String>(0)?)?,
                    site: row.get(1)?,
                    feedback_id: row.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    fn record_mail(&mut self, id: i64, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        self.execute(
            sql::RECORD_MAIL,
            params![
                id,
                attempt.state.as_str(),
                attempt.attempts,
                attempt.error,
                attempt.next_attempt_at,
                attempt.now
            ],
        )?;
        Ok(())
    }

    fn add_link(
        &mut self,
        purpose: LinkPurpose,
        feedback_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        tx.execute(mail_sql::DROP_EXPIRED_LINKS, [now])?;
        tx.execute(
            mail_sql::ADD_LINK,
            params![token_hash, feedback_id, purpose.as_str(), now, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn link_target(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .prepare_cached(mail_sql::LINK_TARGET)?
            .query_row(params![token_hash, purpose.as_str(), now], |row| row.get(0))
            .optional()?)
    }
}

/// [`Database::add_reply`] within a transaction the caller commits (an owner's reply that
/// arrived by email is recorded in the same one).
pub(crate) fn reply_in(tx: &Connection, reply: &NewReply) -> Result<ReplyOutcome, StoreError> {
    let found: Option<(String, Option<String>, bool)> = tx
        .query_row(
            "SELECT site_key, email, replies_kept FROM feedback WHERE id = ?1",
            [&reply.feedback_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((site, email, replies_kept)) = found else {
        return Ok(ReplyOutcome::UnknownFeedback);
    };
    let Some(email) = email.filter(|email| !email.trim().is_empty()) else {
        return Ok(ReplyOutcome::NoEmail);
    };
    if !replies_kept && unsubscribed(tx, &site, &email)? {
        return Ok(ReplyOutcome::Unsubscribed);
    }
    tx.execute(
        sql::ADD_OWNER_MESSAGE,
        params![reply.feedback_id, reply.author_email, reply.body, reply.now],
    )?;
    let message = tx.last_insert_rowid();
    tx.execute(sql::MARK_ANSWERED, params![reply.feedback_id, reply.now])?;
    tx.execute(
        sql::ANSWER_FOLLOW_UPS,
        params![reply.feedback_id, reply.now],
    )?;
    tx.execute(
        mail_sql::INSERT_MAIL,
        params![
            message_key(),
            MailKind::Reply.as_str(),
            site,
            reply.feedback_id,
            message,
            None::<i64>,
            None::<i64>,
            None::<i64>,
            email.trim(),
            reply.now
        ],
    )?;
    let mail = tx.last_insert_rowid();
    Ok(ReplyOutcome::Queued { message, mail })
}

/// [`Database::add_visitor_answer`] within a transaction the caller commits (an answer that
/// arrived by email is recorded in the same one).
pub(crate) fn visitor_answer_in(
    tx: &Connection,
    feedback_id: &str,
    body: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let found = tx
        .query_row(sql::ANSWERED_FEEDBACK, [feedback_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                AnsweredFeedback {
                    email: row.get(1)?,
                    spam: row.get(2)?,
                    answered_at: row.get(3)?,
                    status: FeedbackStatus::stored(&row.get::<_, String>(4)?),
                    unsubscribed_at: row.get(5)?,
                    answer_by: row.get(6)?,
                    answer_hours: row.get(7)?,
                },
            ))
        })
        .optional()?;
    let Some((site, answered)) = found else {
        return Ok(None);
    };
    let promise = answered.new_promise(now);
    tx.execute(
        sql::ADD_VISITOR_MESSAGE,
        params![feedback_id, body, now, promise],
    )?;
    let message = tx.last_insert_rowid();
    tx.execute(sql::REOPEN, params![feedback_id, promise])?;
    for (user, email, _, answers) in owners_of_site(tx, &site)? {
        if !answers {
            continue;
        }
        tx.execute(
            mail_sql::INSERT_MAIL,
            params![
                message_key(),
                MailKind::VisitorAnswer.as_str(),
                site,
                feedback_id,
                message,
                user,
                None::<i64>,
                None::<i64>,
                email,
                now
            ],
        )?;
    }
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--sync full` and `--sync normal` are what SQLite is told: `synchronous` 2 and 1.
    #[test]
    fn durability_sets_sqlites_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("sync.db")).unwrap();
        for (durability, expected) in [(Durability::PowerLoss, 2), (Durability::ProcessCrash, 1)] {
            set_durability(&conn, durability).unwrap();
            let synchronous: i64 = conn
                .pragma_query_value(None, "synchronous", |row| row.get(0))
                .unwrap();
            assert_eq!(synchronous, expected, "{durability:?}");
        }
    }
}
