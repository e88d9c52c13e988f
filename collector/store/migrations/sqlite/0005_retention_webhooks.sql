-- Retention per site; webhooks and their deliveries (a durable queue: a delivery is
-- queued in the transaction that stores the submission).
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
