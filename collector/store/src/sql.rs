//! The statements both engines run alike, written once with `?N` parameters (PostgreSQL's
//! `$N` come from [`dollar_numbered`]); those of conversations and email are in
//! [`mail_sql`](crate::mail_sql), the statistics' in [`stats_sql`](crate::stats_sql).
//!
//! What the engines do differently stays in each: the batch insert of submissions, the
//! claims of due deliveries and email (an immediate transaction on SQLite, `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), rows locked before they are changed, advisory locks, pragmas and
//! migrations, lists of values (`IN (?, …)` against `= ANY($n)`), and the id of a new row
//! (SQLite's `last_insert_rowid()`; PostgreSQL appends `RETURNING id` to the same `INSERT`).
//!
//! [`dollar_numbered`]: crate::mail_sql::dollar_numbered

use std::sync::LazyLock;

use crate::contract::FEEDBACK_COLUMNS;
use crate::mail_sql::DIGEST_WINDOW;

/// Whether the connection answers.
pub(crate) const PING: &str = "SELECT 1";

// Sites.

/// Adds a site, unless one has its key already (then no row changes). Parameters: key,
/// name, now.
pub(crate) const ADD_SITE: &str =
    "INSERT INTO sites (key, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING";

/// Allows an origin to submit for a site; one allowed already stays as it is. Parameters:
/// site, origin.
pub(crate) const ADD_ORIGIN: &str =
    "INSERT INTO site_origins (site_key, origin) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

/// Renames site `?1` to `?2`.
pub(crate) const RENAME_SITE: &str = "UPDATE sites SET name = ?2 WHERE key = ?1";

/// Forgets every origin of site `?1` (before its new list is added).
pub(crate) const DROP_ORIGINS: &str = "DELETE FROM site_origins WHERE site_key = ?1";

/// Deletes every submission of site `?1`.
pub(crate) const DELETE_SITE_FEEDBACK: &str = "DELETE FROM feedback WHERE site_key = ?1";

/// Deletes site `?1`; what refers to it `ON DELETE CASCADE` goes with it (its submissions
/// must be gone first: see [`DELETE_SITE_FEEDBACK`]).
pub(crate) const DELETE_SITE: &str = "DELETE FROM sites WHERE key = ?1";

/// Whether site `?1` exists.
pub(crate) const SITE_EXISTS: &str = "SELECT 1 FROM sites WHERE key = ?1";

/// How long site `?1` keeps submissions: `?2` days, or forever when NULL.
pub(crate) const SET_RETENTION: &str = "UPDATE sites SET retention_days = ?2 WHERE key = ?1";

/// Sets site `?1`'s widget settings (`?2`, as JSON).
pub(crate) const SET_WIDGET: &str = "UPDATE sites SET widget = ?2 WHERE key = ?1";

/// Site `?1`: key, name, created, widget settings (JSON), retention in days, then its
/// answer settings (reply-to, hours to answer, promise shown, acknowledge, tell when
/// resolved).
pub(crate) const SITE: &str = "SELECT key, name, created_at, widget, retention_days, reply_to, answer_hours, \
     promise_shown, acknowledge, notify_resolved FROM sites WHERE key = ?1";

/// The origins allowed to submit for site `?1`, in order.
pub(crate) const SITE_ORIGINS: &str =
    "SELECT origin FROM site_origins WHERE site_key = ?1 ORDER BY origin";

// API tokens.

/// Adds an API token. Parameters: name, hash of the token, site (NULL: every site), now.
pub(crate) const ADD_TOKEN: &str =
    "INSERT INTO api_tokens (name, hash, site_key, created_at) VALUES (?1, ?2, ?3, ?4)";

/// The token, not revoked, whose hash is `?1`: id, name, site, created, revoked (false).
pub(crate) const TOKEN_BY_HASH: &str = "SELECT id, name, site_key, created_at, false FROM api_tokens \
     WHERE hash = ?1 AND revoked_at IS NULL";

/// Every token, revoked or not, oldest first: id, name, site, created, revoked.
pub(crate) const TOKENS: &str = "SELECT id, name, site_key, created_at, revoked_at IS NOT NULL FROM api_tokens \
     ORDER BY id";

/// Revokes token `?1` at `?2`, unless it was revoked already (then no row changes).
pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

// Accounts and sessions.

/// Adds an account, unless one has its email already (then no row changes). Parameters:
/// email, password hash, whether it may read every site, now.
pub(crate) const ADD_USER: &str = "INSERT INTO users (email, password_hash, all_sites, created_at) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (email) DO NOTHING";

/// Lets account `?1` read site `?2` (once, however often it is asked).
pub(crate) const ADD_USER_SITE: &str =
    "INSERT INTO user_sites (user_id, site_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

/// The account whose email is `?1`: id, email, password hash, all sites.
pub(crate) const USER_BY_EMAIL: &str =
    "SELECT id, email, password_hash, all_sites FROM users WHERE email = ?1";

/// Every account, oldest first: id, email, all sites.
pub(crate) const USERS: &str = "SELECT id, email, all_sites FROM users ORDER BY id";

/// Whether there is any account (the set-up and sign-in pages ask on every request).
pub(crate) const ANY_USER: &str = "SELECT EXISTS (SELECT 1 FROM users)";

/// The sites account `?1` may read, in order (when it may not read them all).
pub(crate) const USER_SITES: &str =
    "SELECT site_key FROM user_sites WHERE user_id = ?1 ORDER BY site_key";

/// Opens a session. Parameters: hash of its token, account, CSRF token, now, expiry.
pub(crate) const ADD_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// Drops the sessions that expired before `?1`.
pub(crate) const DROP_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at < ?1";

/// The session whose token hash is `?1`, unexpired at `?2`: its account's id, email and all
/// sites, its CSRF token, and the account's time zone.
pub(crate) const SESSION: &str = "SELECT users.id, users.email, users.all_sites, sessions.csrf, users.time_zone \
     FROM sessions JOIN users ON users.id = sessions.user_id \
     WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2";

/// Sets account `?1`'s time zone to `?2`.
pub(crate) const SET_TIME_ZONE: &str = "UPDATE users SET time_zone = ?2 WHERE id = ?1";

/// Ends the session whose token hash is `?1`.
pub(crate) const END_SESSION: &str = "DELETE FROM sessions WHERE token_hash = ?1";

// Webhooks.

/// Adds a webhook. Parameters: site, URL, secret, format, now.
pub(crate) const ADD_WEBHOOK: &str = "INSERT INTO webhooks (site_key, url, secret, format, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// Site `?1`'s webhooks, oldest first: id, site, URL, secret, format.
pub(crate) const WEBHOOKS: &str =
    "SELECT id, site_key, url, secret, format FROM webhooks WHERE site_key = ?1 ORDER BY id";

/// Webhook `?1`, when it belongs to site `?2`: id, site, URL, secret, format.
pub(crate) const WEBHOOK: &str =
    "SELECT id, site_key, url, secret, format FROM webhooks WHERE id = ?1 AND site_key = ?2";

/// Deletes webhook `?1`, when it belongs to site `?2`.
pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = ?1 AND site_key = ?2";

/// Site `?1`'s latest `?2` deliveries, newest first: id, webhook URL, submission, state,
/// attempts, last HTTP status, last error, updated.
pub(crate) const DELIVERIES: &str = "SELECT d.id, w.url, d.feedback_id, d.state, d.attempts, d.last_status, \
       d.last_error, d.updated_at \
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
     WHERE w.site_key = ?1 ORDER BY d.id DESC LIMIT ?2";

/// Records an attempt at delivery `?1`. Parameters: id, state, attempts, HTTP status, error,
/// next attempt, now.
pub(crate) const RECORD_DELIVERY: &str = "UPDATE webhook_deliveries SET state = ?2, attempts = ?3, last_status = ?4, \
       last_error = ?5, next_attempt_at = ?6, updated_at = ?7 \
     WHERE id = ?1";

// Submissions, their threads and their email.

/// Submission `?1`: the columns of [`FEEDBACK_COLUMNS`].
pub(crate) static FEEDBACK_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE id = ?1"));

/// How many submissions a digest covers: see [`DIGEST_WINDOW`] (parameters: owner, from,
/// to).
pub(crate) static DIGEST_COUNT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT count(*) FROM feedback WHERE {DIGEST_WINDOW}"));

/// The newest `?4` submissions a digest covers (see [`DIGEST_WINDOW`]): the columns of
/// [`FEEDBACK_COLUMNS`].
pub(crate) static DIGEST_PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE {DIGEST_WINDOW} ORDER BY seq DESC LIMIT ?4"
    )
});

/// An owner's reply in a submission's thread. Parameters: submission, the owner's email,
/// body, now.
pub(crate) const ADD_OWNER_MESSAGE: &str = "INSERT INTO messages (feedback_id, author, author_email, body, created_at) \
     VALUES (?1, 'owner', ?2, ?3, ?4)";

/// Submission `?1` was answered at `?2`: its first answer and first response, unless it had
/// them, the answer to its latest wait (now waiting on the visitor), read, and `in-progress`
/// if it was `new`.
pub(crate) const MARK_ANSWERED: &str = "UPDATE feedback SET first_answer_at = coalesce(first_answer_at, ?2), \
       first_response_at = coalesce(first_response_at, ?2), \
       answered_at = coalesce(answered_at, ?2), unread = false, \
       status = CASE WHEN status = 'new' THEN 'in-progress' ELSE status END \
     WHERE id = ?1";

/// The follow-up promises of submission `?1` still open are kept (or broken) by the reply
/// sent at `?2`.
pub(crate) const ANSWER_FOLLOW_UPS: &str = "UPDATE messages SET answered_at = ?2 \
     WHERE feedback_id = ?1 AND author = 'visitor' AND answer_by IS NOT NULL AND answered_at IS NULL";

/// What an answering visitor's submission is now: site, email, spam, when its latest wait
/// was answered, status, when its visitor unsubscribed, its site's hours to answer.
pub(crate) const ANSWERED_FEEDBACK: &str = "SELECT feedback.site_key, feedback.email, feedback.spam, feedback.answered_at, \
       feedback.status, feedback.unsubscribed_at, feedback.answer_by, sites.answer_hours \
     FROM feedback JOIN sites ON sites.key = feedback.site_key WHERE feedback.id = ?1";

/// The visitor's answer in a submission's thread. Parameters: submission, body, now, the
/// deadline of the follow-up promise it makes (NULL: none, see [`REOPEN`]).
pub(crate) const ADD_VISITOR_MESSAGE: &str = "INSERT INTO messages (feedback_id, author, body, created_at, answer_by) \
     VALUES (?1, 'visitor', ?2, ?3, ?4)";

/// The visitor answered submission `?1`: unread, no longer resolved, and, when the answer
/// makes a new promise (deadline `?2`; NULL when an answer was owed already), waiting on us
/// again with nobody reminded yet.
pub(crate) const REOPEN: &str = "UPDATE feedback SET unread = true, \
       status = CASE WHEN status = 'resolved' THEN 'in-progress' ELSE status END, \
       answer_by = coalesce(CAST(?2 AS BIGINT), answer_by), \
       answered_at = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN answered_at END, \
       reminded_at = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN reminded_at END \
     WHERE id = ?1";

/// Submission `?1`, flagged as spam, is not: it counts from now on (the statistics' triggers
/// count it in), and when it has an address it waits on us, due the site's hours after `?2`
/// (the first promise is made now: the owners could not see it before).
pub(crate) const NOT_SPAM: &str = "UPDATE feedback SET spam = false, \
       answer_by = CASE WHEN coalesce(trim(email), '') <> '' \
           THEN CAST(?2 AS BIGINT) + (SELECT answer_hours FROM sites WHERE sites.key = feedback.site_key) * 3600000 END, \
       first_answer_by = CASE WHEN coalesce(trim(email), '') <> '' \
           THEN CAST(?2 AS BIGINT) + (SELECT answer_hours FROM sites WHERE sites.key = feedback.site_key) * 3600000 END \
     WHERE id = ?1 AND spam";

/// An owner opened submission `?1`: its visitor's answers are read.
pub(crate) const MARK_READ: &str = "UPDATE feedback SET unread = false WHERE id = ?1 AND unread";

/// Message `?1` of a thread: id, submission, author, author's email, body, created.
pub(crate) const THREAD_MESSAGE: &str = "SELECT id, feedback_id, author, author_email, body, created_at FROM messages \
     WHERE id = ?1";

/// Submission `?1`'s thread, oldest first: the columns of [`THREAD_MESSAGE`].
pub(crate) const THREAD: &str = "SELECT id, feedback_id, author, author_email, body, created_at FROM messages \
     WHERE feedback_id = ?1 ORDER BY id";

/// The email about submission `?1`, oldest first: id, kind, submission, thread message,
/// recipient, state, attempts, last error, next attempt, updated.
pub(crate) const MAIL_FOR: &str = "SELECT id, kind, feedback_id, thread_message, recipient, state, attempts, \
       last_error, next_attempt_at, updated_at \
     FROM outbox WHERE feedback_id = ?1 ORDER BY id";

/// How many emails wait to be sent.
pub(crate) const PENDING_MAIL: &str = "SELECT count(*) FROM outbox WHERE state = 'pending'";

/// Records an attempt at email `?1`. Parameters: id, state, attempts, error, next attempt,
/// now.
pub(crate) const RECORD_MAIL: &str = "UPDATE outbox SET state = ?2, attempts = ?3, last_error = ?4, \
       next_attempt_at = ?5, updated_at = ?6 \
     WHERE id = ?1";

/// How many rows the statistics' counts hold.
pub(crate) const STATS_ROWS: &str = "SELECT count(*) FROM stats_ratings";

// Screenshots.

/// Stores a screenshot unless its submission has one. Parameters: feedback id, content
/// type, width, height, image, thumbnail, now.
pub(crate) const ADD_SCREENSHOT: &str = "INSERT INTO screenshots
     (feedback_id, content_type, width, height, image, thumbnail, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (feedback_id) DO NOTHING";

/// The type and image of submission `?1`'s screenshot.
pub(crate) const SCREENSHOT_IMAGE: &str =
    "SELECT content_type, image FROM screenshots WHERE feedback_id = ?1";

/// The type and thumbnail of submission `?1`'s screenshot.
pub(crate) const SCREENSHOT_THUMBNAIL: &str =
    "SELECT content_type, thumbnail FROM screenshots WHERE feedback_id = ?1";

/// The width and height of submission `?1`'s screenshot.
pub(crate) const SCREENSHOT_SIZE: &str =
    "SELECT width, height FROM screenshots WHERE feedback_id = ?1";
