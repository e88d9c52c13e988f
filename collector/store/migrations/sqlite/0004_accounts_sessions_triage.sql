-- The dashboard: owner accounts, their sites and sessions; triage notes and the time of
-- the first response.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    all_sites      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;
CREATE TABLE user_sites (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_key  TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    PRIMARY KEY (user_id, site_key)
) STRICT;
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
ALTER TABLE feedback ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN first_response_at INTEGER;
