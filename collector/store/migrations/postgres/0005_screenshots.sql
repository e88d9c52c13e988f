-- The screenshot a visitor attached to a submission: at most one, deleted with it (retention,
-- erasure, the site's deletion). Stored as the collector encoded it anew (never the bytes
-- as sent), with a thumbnail for the dashboard in the same type.
CREATE TABLE screenshots (
    feedback_id   TEXT PRIMARY KEY REFERENCES feedback(id) ON DELETE CASCADE,
    content_type  TEXT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    image         BYTEA NOT NULL,
    thumbnail     BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
