//! The statements of conversations and email, written once with `?N` parameters for both
//! engines ([`dollar_numbered`] turns them into PostgreSQL's `$N`). Booleans are compared with `NOT x` and
//! `true`/`false`, which both engines read the same way.

/// Queues one email. Parameters: message key, kind, site, feedback, thread message, owner,
/// window start, window end, recipient, now.
pub(crate) const INSERT_MAIL: &str = "INSERT INTO outbox (message_key, kind, site_key, feedback_id, thread_message, user_id, \
     window_start, window_end, recipient, next_attempt_at, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?10)";

/// The owners who may read site `?1`: id, email, how they hear of new feedback, whether
/// they hear of answers.
pub(crate) const OWNERS_OF_SITE: &str = "SELECT id, email, notify_feedback, notify_answers FROM users \
     WHERE all_sites OR EXISTS (SELECT 1 FROM user_sites \
                                WHERE user_sites.user_id = users.id AND user_sites.site_key = ?1) \
     ORDER BY id";

/// Owners who want each new submission of some site: id, email, all sites, the site.
pub(crate) const EACH_OWNERS: &str = "SELECT users.id, users.email, users.all_sites, user_sites.site_key FROM users \
     LEFT JOIN user_sites ON user_sites.user_id = users.id \
     WHERE users.notify_feedback = 'each'";

/// Records that site `?1` acknowledges the address whose hash is `?2` on day `?3`; the
/// primary key lets only the first of the day in, whatever strangers submit with it and
/// however many collectors store submissions at once. Changes one row when an
/// acknowledgement may be queued.
pub(crate) const ACKNOWLEDGE_ONCE_A_DAY: &str = "INSERT INTO acknowledged (site_key, address_hash, day) \
     VALUES (?1, ?2, ?3) ON CONFLICT (site_key, address_hash, day) DO NOTHING";

/// The days of acknowledgements before `?1` are forgotten.
pub(crate) const FORGET_ACKNOWLEDGED: &str = "DELETE FROM acknowledged WHERE day < ?1";

/// Whether the visitor of feedback `?1` was told already that it was resolved.
pub(crate) const RESOLUTION_SENT: &str =
    "SELECT 1 FROM outbox WHERE feedback_id = ?1 AND kind = 'resolved' LIMIT 1";

/// A digest covers up to this long before now: what was received just before may still be
/// on its way into the database (a writer's batch, another replica), and the next digest
/// starts where this one ends.
pub(crate) const DIGEST_SETTLE_MS: i64 = 60_000;

/// Whether site `?1` has the address hashed `?2` (or, as kept before addresses were
/// normalised, `?3`) among those that unsubscribed.
pub(crate) const UNSUBSCRIBED: &str =
    "SELECT 1 FROM unsubscribes WHERE site_key = ?1 AND email_hash IN (?2, ?3)";

pub(crate) const UNSUBSCRIBE: &str = "INSERT INTO unsubscribes (site_key, email_hash, created_at) VALUES (?1, ?2, ?3) \
     ON CONFLICT (site_key, email_hash) DO NOTHING";

/// What waits for visitors of site `?1`: id and address, for the caller to pick those that
/// name the mailbox that unsubscribed (compared by `mailbox_key`).
pub(crate) const WAITING_FOR_VISITORS: &str = "SELECT id, recipient FROM outbox \
     WHERE site_key = ?1 AND state = 'pending' AND kind IN ('reply', 'acknowledgement', 'resolved')";

/// Gives up one email because its visitor unsubscribed. Parameters: id, now.
pub(crate) const GIVE_UP: &str = "UPDATE outbox SET state = 'failed', last_error = 'the visitor unsubscribed', updated_at = ?2 \
     WHERE id = ?1 AND state = 'pending'";

/// The error an owner's notice is recorded with when it comes past the owner's hourly
/// bound: it is listed in their next catch-up email instead.
pub(crate) const FOLDED: &str =
    "held back by the owner's hourly bound; listed in their next catch-up email";

/// Records a notice as folded. Parameters: id, now, [`FOLDED`].
pub(crate) const FOLD: &str =
    "UPDATE outbox SET state = 'failed', last_error = ?3, updated_at = ?2 WHERE id = ?1";

/// Where owner `?1`'s next catch-up email begins: where the last one ended, if any.
pub(crate) const LAST_CATCH_UP_END: &str =
    "SELECT max(window_end) FROM outbox WHERE user_id = ?1 AND kind = 'catch-up'";

/// Whether a catch-up email waits for owner `?1` that will list what is folded at `?2`.
pub(crate) const CATCH_UP_WAITING: &str = "SELECT 1 FROM outbox WHERE user_id = ?1 AND kind = 'catch-up' \
     AND state = 'pending' AND window_end > ?2 LIMIT 1";

/// Queues a catch-up email. Parameters: message key, owner, window start, window end (when
/// it is sent), recipient, now.
pub(crate) const INSERT_CATCH_UP: &str = "INSERT INTO outbox (message_key, kind, user_id, window_start, window_end, recipient, \
     next_attempt_at, created_at, updated_at) VALUES (?1, 'catch-up', ?2, ?3, ?4, ?5, ?4, ?6, ?6)";

/// The notices folded for owner `?1` in `[?2, ?3)`: kind, site, feedback.
pub(crate) const FOLDED_NOTICES: &str = "SELECT kind, site_key, feedback_id FROM outbox \
     WHERE user_id = ?1 AND state = 'failed' AND last_error = ?4 \
       AND updated_at >= ?2 AND updated_at < ?3 ORDER BY id";

/// When address `?2` (its hash) asked site `?1` for no more email.
pub(crate) const UNSUBSCRIBED_AT: &str =
    "SELECT created_at FROM unsubscribes WHERE site_key = ?1 AND email_hash = ?2";

/// The conversations of address `?2` on site `?1` can no longer be answered, since `?3`
/// (one whose replies the visitor kept stays as it is).
pub(crate) const MARK_UNREACHABLE: &str = "UPDATE feedback SET unsubscribed_at = ?3 \
     WHERE site_key = ?1 AND lower(trim(email)) = lower(trim(?2)) AND unsubscribed_at IS NULL \
       AND NOT replies_kept";

/// Submission `?1`'s visitor keeps the owners' replies in it: it stays answerable.
pub(crate) const KEEP_REPLIES: &str =
    "UPDATE feedback SET unsubscribed_at = NULL, replies_kept = true WHERE id = ?1";

/// The replies of submission `?1` given up for the unsubscribe are sent after all (`?2`: now).
pub(crate) const REQUEUE_KEPT_REPLIES: &str = "UPDATE outbox SET state = 'pending', last_error = NULL, updated_at = ?2 \
     WHERE feedback_id = ?1 AND kind = 'reply' AND state = 'failed' \
       AND last_error = 'the visitor unsubscribed'";

/// Undoes address `?2`'s unsubscribe from site `?1`, if it was made at `?3` or later.
pub(crate) const RESUBSCRIBE: &str =
    "DELETE FROM unsubscribes WHERE site_key = ?1 AND email_hash = ?2 AND created_at >= ?3";

/// After an undone unsubscribe: the conversations of address `?2` on site `?1` marked since
/// `?3` (and any whose replies were kept) are answerable as before.
pub(crate) const MARK_REACHABLE: &str = "UPDATE feedback SET unsubscribed_at = NULL, replies_kept = false \
     WHERE site_key = ?1 AND lower(trim(email)) = lower(trim(?2)) \
       AND (unsubscribed_at >= ?3 OR replies_kept)";

/// After an undone unsubscribe: what was given up for it since `?3` is sent after all (`?4`:
/// now).
pub(crate) const REQUEUE_GIVEN_UP: &str = "UPDATE outbox SET state = 'pending', last_error = NULL, updated_at = ?4 \
     WHERE site_key = ?1 AND lower(recipient) = lower(?2) AND state = 'failed' \
       AND last_error = 'the visitor unsubscribed' AND updated_at >= ?3";

pub(crate) const SITE_ANSWERS: &str =
    "SELECT answer_hours, acknowledge, notify_resolved FROM sites WHERE key = ?1";

pub(crate) const SET_ANSWER_SETTINGS: &str = "UPDATE sites SET reply_to = ?2, answer_hours = ?3, promise_shown = ?4, acknowledge = ?5, \
     notify_resolved = ?6 WHERE key = ?1";

pub(crate) const OWNER_NOTIFICATIONS: &str =
    "SELECT notify_feedback, notify_answers FROM users WHERE id = ?1";

pub(crate) const SET_OWNER_NOTIFICATIONS: &str =
    "UPDATE users SET notify_feedback = ?2, notify_answers = ?3 WHERE id = ?1";

/// Owners with a digest: id, email, how often, until when the last one went.
pub(crate) const DIGEST_OWNERS: &str = "SELECT id, email, notify_feedback, digest_until FROM users \
     WHERE notify_feedback IN ('hourly', 'daily') ORDER BY id";

/// Moves an owner's digest on, unless another collector did first. Parameters: owner, the
/// end seen, the new end.
pub(crate) const ADVANCE_DIGEST: &str =
    "UPDATE users SET digest_until = ?3 WHERE id = ?1 AND digest_until IS NOT DISTINCT FROM ?2";

/// The `WHERE` clause of a digest: feedback (not spam) an owner (`?1`) may read, received
/// in `[?2, ?3)`.
pub(crate) const DIGEST_WINDOW: &str = "received_at >= ?2 AND received_at < ?3 AND NOT spam \
     AND (EXISTS (SELECT 1 FROM users WHERE users.id = ?1 AND users.all_sites) \
          OR site_key IN (SELECT site_key FROM user_sites WHERE user_sites.user_id = ?1))";

/// Feedback whose answer is due within the lead (at most a quarter of its window) and
/// whose owners were not reminded. Parameters: now, lead.
pub(crate) const DUE_SOON: &str = "SELECT id, site_key FROM feedback \
     WHERE answer_by IS NOT NULL AND answered_at IS NULL AND reminded_at IS NULL \
       AND unsubscribed_at IS NULL AND status <> 'resolved' AND NOT spam AND answer_by - CASE WHEN (answer_by - received_at) / 4 < ?2 THEN (answer_by - received_at) / 4 \
                          ELSE ?2 END <= ?1 \
     ORDER BY answer_by, id LIMIT 100";

/// Marks a submission's owners as reminded, unless another collector did first.
pub(crate) const MARK_REMINDED: &str =
    "UPDATE feedback SET reminded_at = ?2 WHERE id = ?1 AND reminded_at IS NULL";

/// The promises made in `[?1, ?2)`: each submission's first (from its arrival), then each
/// follow-up (a visitor's answer after an owner's reply). Columns: site, asked at, deadline,
/// answered at, who answered, whether it is a follow-up, whether the visitor stopped all
/// email before it was answered (nobody could answer). A promise left unanswered because the
/// submission was resolved counts nowhere. `{sites}` is the caller's test of `site_key`
/// against the sites, from `?3` on.
pub(crate) const ANSWER_RECORDS: &str = "SELECT site_key, received_at, first_answer_by, first_answer_at, \
       (SELECT author_email FROM messages WHERE messages.feedback_id = feedback.id \
          AND messages.author = 'owner' ORDER BY messages.id LIMIT 1), \
       false, first_answer_at IS NULL AND unsubscribed_at IS NOT NULL \
     FROM feedback WHERE answer_by IS NOT NULL AND first_answer_by IS NOT NULL AND NOT spam AND received_at >= ?1 AND received_at < ?2 \
       AND NOT (first_answer_at IS NULL AND status = 'resolved' AND unsubscribed_at IS NULL) \
       AND site_key {sites} \
     UNION ALL \
     SELECT feedback.site_key, asked.created_at, asked.answer_by, asked.answered_at, \
       (SELECT author_email FROM messages WHERE messages.feedback_id = asked.feedback_id \
          AND messages.author = 'owner' AND messages.id > asked.id ORDER BY messages.id LIMIT 1), \
       true, asked.answered_at IS NULL AND feedback.unsubscribed_at IS NOT NULL \
     FROM messages AS asked JOIN feedback ON feedback.id = asked.feedback_id \
     WHERE asked.answer_by IS NOT NULL AND NOT feedback.spam \
       AND asked.created_at >= ?1 AND asked.created_at < ?2 \
       AND NOT (asked.answered_at IS NULL AND feedback.status = 'resolved' AND feedback.unsubscribed_at IS NULL) \
       AND feedback.site_key {sites}";

/// Sets a submission's status and note; the first change of status records the time of the
/// first response. Parameters: id, status, note, now.
pub(crate) const TRIAGE: &str = "UPDATE feedback SET \
       first_response_at = CASE WHEN first_response_at IS NULL AND status <> ?2 THEN ?4 \
                                ELSE first_response_at END, \
       status = ?2, note = ?3 \
     WHERE id = ?1";

pub(crate) const DROP_EXPIRED_LINKS: &str = "DELETE FROM conversation_links WHERE expires_at <= ?1";

/// Parameters: token hash, feedback, purpose, now, expiry.
pub(crate) const ADD_LINK: &str = "INSERT INTO conversation_links (token_hash, feedback_id, purpose, created_at, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// Parameters: token hash, purpose, now.
pub(crate) const LINK_TARGET: &str = "SELECT feedback_id FROM conversation_links \
     WHERE token_hash = ?1 AND purpose = ?2 AND expires_at > ?3";

/// `count` numbered parameters from `?start` on, for an `IN (…)` list: `?3, ?4, ?5`; `NULL`
/// (which matches nothing) when there are none.
pub(crate) fn numbered_list(count: usize, start: usize) -> String {
    if count == 0 {
        return "NULL".to_owned();
    }
    (start..start + count)
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same statement for PostgreSQL: `?N` becomes `$N`.
pub(crate) fn dollar_numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_become_dollars() {
        assert_eq!(
            super::dollar_numbered("a = ?1 AND b = ?12 AND c = '?'"),
            "a = $1 AND b = $12 AND c = '?'"
        );
    }
}
