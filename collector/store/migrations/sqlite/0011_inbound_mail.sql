-- Email both ways. A reply address (`support+<token>@…`) names one submission's thread, and,
-- for an owner's notice, that owner: only the token's SHA-256 is kept. Every email that
-- arrives (by IMAP or POST /v1/inbound-email) is recorded once, by its Message-ID (or the
-- hash of its bytes), in the transaction of what it caused: an answer in a thread, an owner's
-- reply, an automatic reply noted on the thread, a bounce, or an unmatched email waiting for
-- an owner to attach it or discard it. Records of a thread go with their submission.
CREATE TABLE reply_tokens (
    token_hash   TEXT PRIMARY KEY,
    feedback_id  TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX reply_tokens_by_feedback ON reply_tokens (feedback_id);
CREATE TABLE inbound_mail (
    id              INTEGER PRIMARY KEY,
    mail_key        TEXT NOT NULL UNIQUE,
    received_at     INTEGER NOT NULL,
    source          TEXT NOT NULL,
    sender          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    feedback_id     TEXT REFERENCES feedback(id) ON DELETE CASCADE,
    thread_message  INTEGER REFERENCES messages(id) ON DELETE SET NULL
) STRICT;
CREATE INDEX inbound_mail_by_outcome ON inbound_mail (outcome, id);
CREATE INDEX inbound_mail_by_feedback ON inbound_mail (feedback_id, id);
-- Addresses whose server refused mail for good (a bounce): nothing more is sent to them.
-- Kept as the SHA-256 of the lowercase address, like the unsubscribes.
CREATE TABLE undeliverable (
    email_hash  TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
