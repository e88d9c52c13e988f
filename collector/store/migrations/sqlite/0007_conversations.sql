-- Answering visitors: each submission's thread (the owner's replies, the visitor's
-- answers), the links that open it for the visitor (stored as hashes), the outbox of email
-- (a durable queue: a message is queued in the transaction of the action that causes it),
-- the addresses that asked for no more email, and what each site promises and each owner
-- wants to hear. Threads, links and email hang off their submission, site or owner, so
-- erasure, retention and deletions take them along.
ALTER TABLE sites ADD COLUMN reply_to TEXT;
-- Every submission with an email awaits an answer within this many hours.
ALTER TABLE sites ADD COLUMN answer_hours INTEGER NOT NULL DEFAULT 48;
-- Whether the widget states the promise beside the email field.
ALTER TABLE sites ADD COLUMN promise_shown INTEGER NOT NULL DEFAULT 0;
-- Whether visitors who leave an address get an acknowledgement, and a notice when resolved.
ALTER TABLE sites ADD COLUMN acknowledge INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN notify_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feedback ADD COLUMN first_answer_at INTEGER;
-- When the answer is due (NULL: no address, nobody to answer); when owners were reminded.
ALTER TABLE feedback ADD COLUMN answer_by INTEGER;
ALTER TABLE feedback ADD COLUMN reminded_at INTEGER;
CREATE INDEX feedback_awaiting ON feedback (answer_by) WHERE first_answer_at IS NULL AND answer_by IS NOT NULL;
-- New feedback: 'each', 'hourly', 'daily' or 'off'; visitors' answers: on or off.
ALTER TABLE users ADD COLUMN notify_feedback TEXT NOT NULL DEFAULT 'daily';
ALTER TABLE users ADD COLUMN notify_answers INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN digest_until INTEGER;
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    feedback_id   TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    author_email  TEXT,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_feedback ON messages (feedback_id, id);
-- A link opens a conversation ('conversation') or only unsubscribes ('unsubscribe').
CREATE TABLE conversation_links (
    token_hash   TEXT PRIMARY KEY,
    feedback_id  TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL DEFAULT 'conversation',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX conversation_links_by_feedback ON conversation_links (feedback_id);
CREATE TABLE unsubscribes (
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    email_hash  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (site_key, email_hash)
) STRICT;
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    message_key      TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    site_key         TEXT REFERENCES sites(key) ON DELETE CASCADE,
    feedback_id      TEXT REFERENCES feedback(id) ON DELETE CASCADE,
    thread_message   INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    user_id          INTEGER REFERENCES users(id) ON DELETE CASCADE,
    window_start     INTEGER,
    window_end       INTEGER,
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_feedback ON outbox (feedback_id);
CREATE INDEX outbox_by_recipient ON outbox (site_key, lower(recipient));
