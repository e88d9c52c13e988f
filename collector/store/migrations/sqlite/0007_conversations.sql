-- Answering visitors: each submission's thread (the owner's replies, the visitor's
-- answers), the links that open it for the visitor (stored as hashes), and the outbox of
-- email (a durable queue: a message is queued in the transaction of the action that causes
-- it). Everything hangs off its submission, so erasure, retention and deleting a site take
-- it along.
ALTER TABLE sites ADD COLUMN reply_to TEXT;
ALTER TABLE feedback ADD COLUMN first_answer_at INTEGER;
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    feedback_id   TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    author_email  TEXT,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_feedback ON messages (feedback_id, id);
CREATE TABLE conversation_links (
    token_hash   TEXT PRIMARY KEY,
    feedback_id  TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX conversation_links_by_feedback ON conversation_links (feedback_id);
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    message_key      TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    feedback_id      TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    thread_message   INTEGER REFERENCES messages(id) ON DELETE CASCADE,
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
