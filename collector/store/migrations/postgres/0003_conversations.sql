-- Answering visitors: each submission's thread (the owner's replies, the visitor's
-- answers), the links that open it for the visitor (stored as hashes), the outbox of email
-- (a durable queue: a message is queued in the transaction of the action that causes it),
-- the addresses that asked for no more email, and what each site promises and each owner
-- wants to hear. Threads, links and email hang off their submission, site or owner, so
-- erasure, retention and deletions take them along.
ALTER TABLE sites ADD COLUMN reply_to TEXT;
-- Every submission with an email awaits an answer within this many hours.
ALTER TABLE sites ADD COLUMN answer_hours BIGINT NOT NULL DEFAULT 48;
-- Whether the widget states the promise beside the email field.
ALTER TABLE sites ADD COLUMN promise_shown BOOLEAN NOT NULL DEFAULT false;
-- Whether visitors who leave an address get an acknowledgement, and a notice when resolved.
ALTER TABLE sites ADD COLUMN acknowledge BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sites ADD COLUMN notify_resolved BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE feedback ADD COLUMN first_answer_at BIGINT;
-- When the answer is due (NULL: no address, nobody to answer); when owners were reminded.
ALTER TABLE feedback ADD COLUMN answer_by BIGINT;
ALTER TABLE feedback ADD COLUMN reminded_at BIGINT;
CREATE INDEX feedback_awaiting ON feedback (answer_by) WHERE first_answer_at IS NULL AND answer_by IS NOT NULL;
-- New feedback: 'each', 'hourly', 'daily' or 'off'; visitors' answers: on or off.
ALTER TABLE users ADD COLUMN notify_feedback TEXT NOT NULL DEFAULT 'daily';
ALTER TABLE users ADD COLUMN notify_answers BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN digest_until BIGINT;
CREATE TABLE messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feedback_id   TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    author        TEXT NOT NULL,
    author_email  TEXT,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX messages_by_feedback ON messages (feedback_id, id);
-- A link opens a conversation ('conversation') or only unsubscribes ('unsubscribe').
CREATE TABLE conversation_links (
    token_hash   TEXT PRIMARY KEY,
    feedback_id  TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL DEFAULT 'conversation',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX conversation_links_by_feedback ON conversation_links (feedback_id);
CREATE TABLE unsubscribes (
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    email_hash  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (site_key, email_hash)
);
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_key      TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    site_key         TEXT REFERENCES sites(key) ON DELETE CASCADE,
    feedback_id      TEXT REFERENCES feedback(id) ON DELETE CASCADE,
    thread_message   BIGINT REFERENCES messages(id) ON DELETE CASCADE,
    user_id          BIGINT REFERENCES users(id) ON DELETE CASCADE,
    window_start     BIGINT,
    window_end       BIGINT,
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_feedback ON outbox (feedback_id);
CREATE INDEX outbox_by_recipient ON outbox (site_key, lower(recipient));
