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
