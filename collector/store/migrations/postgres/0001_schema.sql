CREATE TABLE sites (
    key             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    widget          TEXT NOT NULL DEFAULT '{}',
    retention_days  BIGINT
);
CREATE TABLE site_origins (
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    PRIMARY KEY (site_key, origin)
);
CREATE TABLE feedback (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    site_key           TEXT NOT NULL REFERENCES sites(key),
    received_at        BIGINT NOT NULL,
    rating_kind        TEXT NOT NULL,
    rating_value       BIGINT NOT NULL,
    comment            TEXT NOT NULL,
    email              TEXT,
    page_url           TEXT NOT NULL,
    locale             TEXT NOT NULL,
    user_agent         TEXT NOT NULL,
    viewport_width     BIGINT NOT NULL,
    viewport_height    BIGINT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'new',
    spam               BOOLEAN NOT NULL DEFAULT false,
    user_id            TEXT,
    metadata           TEXT,
    note               TEXT NOT NULL DEFAULT '',
    first_response_at  BIGINT
);
CREATE INDEX feedback_by_site ON feedback (site_key, seq);
CREATE TABLE api_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    site_key    TEXT REFERENCES sites(key) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    all_sites      BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE TABLE user_sites (
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_key  TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    PRIMARY KEY (user_id, site_key)
);
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE TABLE webhooks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_key    TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    format      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhooks_by_site ON webhooks (site_key);
CREATE TABLE webhook_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    feedback_id      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON webhook_deliveries (state, next_attempt_at);
