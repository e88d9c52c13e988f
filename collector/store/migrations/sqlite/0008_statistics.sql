-- The statistics page reads these instead of every submission in its range (which took
-- 1.9 s over 1.2 million): per site and period (each hour and each day, UTC), how many
-- chose each rating, and per page how many rated it and their satisfaction points (0–100
-- each). Triggers keep them in the transaction that writes the submission; spam counts
-- nowhere. A range reads whole days from the days, the whole hours left at its ends from
-- the hours, and the partial hours left from `feedback` itself.
CREATE TABLE stats_ratings (
    site_key      TEXT NOT NULL,
    span          TEXT NOT NULL,     -- 'hour' or 'day'
    period        INTEGER NOT NULL,  -- its start, in Unix milliseconds
    rating_kind   TEXT NOT NULL,
    rating_value  INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (site_key, span, period, rating_kind, rating_value)
) STRICT, WITHOUT ROWID;

CREATE TABLE stats_pages (
    site_key  TEXT NOT NULL,
    span      TEXT NOT NULL,
    period    INTEGER NOT NULL,
    page      TEXT NOT NULL,     -- page_url without its query string and fragment
    n         INTEGER NOT NULL,
    points    INTEGER NOT NULL,  -- the sum of the ratings on the common 0–100 scale
    PRIMARY KEY (site_key, span, period, page)
) STRICT, WITHOUT ROWID;

-- Every change goes through this view, whose trigger counts it once in each span: `sign`
-- 1 adds a submission, -1 takes it away. Satisfaction points are whole numbers on every
-- scale: stars and faces 1–5 (25 a step), thumbs 0–1 (100), NPS 0–10 (10); the store's
-- tests check this CASE against the scales in Rust.
CREATE VIEW stats_change AS
    SELECT NULL AS site_key, NULL AS received_at, NULL AS rating_kind, NULL AS rating_value,
           NULL AS page_url, NULL AS sign
    WHERE 0;

CREATE TRIGGER stats_count INSTEAD OF INSERT ON stats_change BEGIN
    -- (`WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.)
    INSERT INTO stats_ratings
        SELECT new.site_key, span, new.received_at - new.received_at % ms,
               new.rating_kind, new.rating_value, new.sign
        FROM (SELECT 'hour' AS span, 3600000 AS ms UNION ALL SELECT 'day', 86400000) WHERE true
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
    INSERT INTO stats_pages
        SELECT new.site_key, span, new.received_at - new.received_at % ms,
               substr(new.page_url, 1, min(instr(new.page_url || '?', '?'), instr(new.page_url || '#', '#')) - 1),
               new.sign,
               new.sign * CASE new.rating_kind WHEN 'stars' THEN (new.rating_value - 1) * 25
                                               WHEN 'emoji' THEN (new.rating_value - 1) * 25
                                               WHEN 'thumbs' THEN new.rating_value * 100
                                               WHEN 'nps' THEN new.rating_value * 10 END
        FROM (SELECT 'hour' AS span, 3600000 AS ms UNION ALL SELECT 'day', 86400000) WHERE true
        ON CONFLICT DO UPDATE SET n = n + excluded.n, points = points + excluded.points;
    -- Periods whose submissions are all gone (retention, erasure) leave nothing behind.
    DELETE FROM stats_ratings
        WHERE new.sign < 0 AND n = 0 AND site_key = new.site_key
          AND rating_kind = new.rating_kind AND rating_value = new.rating_value
          AND ((span = 'hour' AND period = new.received_at - new.received_at % 3600000)
            OR (span = 'day' AND period = new.received_at - new.received_at % 86400000));
    DELETE FROM stats_pages
        WHERE new.sign < 0 AND n = 0 AND site_key = new.site_key
          AND page = substr(new.page_url, 1, min(instr(new.page_url || '?', '?'), instr(new.page_url || '#', '#')) - 1)
          AND ((span = 'hour' AND period = new.received_at - new.received_at % 3600000)
            OR (span = 'day' AND period = new.received_at - new.received_at % 86400000));
END;

CREATE TRIGGER stats_add AFTER INSERT ON feedback WHEN NOT new.spam BEGIN
    INSERT INTO stats_change
        VALUES (new.site_key, new.received_at, new.rating_kind, new.rating_value, new.page_url, 1);
END;

CREATE TRIGGER stats_remove AFTER DELETE ON feedback WHEN NOT old.spam BEGIN
    INSERT INTO stats_change
        VALUES (old.site_key, old.received_at, old.rating_kind, old.rating_value, old.page_url, -1);
END;

-- Submissions are not edited once stored; should a counted column ever change (spam, say),
-- the change counts as a removal and an addition.
CREATE TRIGGER stats_edit
    AFTER UPDATE OF spam, site_key, received_at, rating_kind, rating_value, page_url ON feedback
BEGIN
    INSERT INTO stats_change
        SELECT old.site_key, old.received_at, old.rating_kind, old.rating_value, old.page_url, -1
        WHERE NOT old.spam;
    INSERT INTO stats_change
        SELECT new.site_key, new.received_at, new.rating_kind, new.rating_value, new.page_url, 1
        WHERE NOT new.spam;
END;

-- What is already stored.
INSERT INTO stats_change
    SELECT site_key, received_at, rating_kind, rating_value, page_url, 1 FROM feedback WHERE NOT spam;

-- The statistics' response times and kept promises read only the submissions that have
-- them; partial hours and the inbox's date filters read by arrival.
CREATE INDEX feedback_received ON feedback (site_key, received_at);
CREATE INDEX feedback_responded ON feedback (site_key, received_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX feedback_promised ON feedback (site_key, received_at) WHERE answer_by IS NOT NULL;
