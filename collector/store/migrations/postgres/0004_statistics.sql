-- The statistics page reads these instead of every submission in its range (which took
-- 1.9 s over 1.2 million on SQLite): per site and period (each hour and each day, UTC),
-- how many chose each rating, and per page how many rated it and their satisfaction points
-- (0–100 each). A range reads whole days from the days, the whole hours left at its ends
-- from the hours, and the partial hours left from `feedback` itself.
--
-- Several replicas insert at once, so the counts are not kept in one row per key (every
-- batch would wait on the same rows): each statement that writes feedback appends its own
-- rows of differences, and readers add them up. A worker merges a period's rows into one
-- per key every minute (`merged`).
CREATE TABLE stats_ratings (
    site_key      TEXT NOT NULL,
    span          TEXT NOT NULL,    -- 'hour' or 'day'
    period        BIGINT NOT NULL,  -- its start, in Unix milliseconds
    rating_kind   TEXT NOT NULL,
    rating_value  BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    merged        BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX stats_ratings_by_period ON stats_ratings (site_key, span, period);
CREATE INDEX stats_ratings_unmerged ON stats_ratings (site_key, span, period) WHERE NOT merged;

CREATE TABLE stats_pages (
    site_key  TEXT NOT NULL,
    span      TEXT NOT NULL,
    period    BIGINT NOT NULL,
    page      TEXT NOT NULL,    -- page_url without its query string and fragment
    n         BIGINT NOT NULL,
    points    BIGINT NOT NULL,  -- the sum of the ratings on the common 0–100 scale
    merged    BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX stats_pages_by_period ON stats_pages (site_key, span, period);
CREATE INDEX stats_pages_unmerged ON stats_pages (site_key, span, period) WHERE NOT merged;

-- The two statements that count what one statement changed: `changes` selects the changed
-- submissions with a `sign` (1 added, -1 taken away). Satisfaction points are whole numbers
-- on every scale: stars and faces 1–5 (25 a step), thumbs 0–1 (100), NPS 0–10 (10); the
-- store's tests check this CASE against the scales in Rust. Spam counts nowhere.
CREATE FUNCTION stats_counting(changes TEXT) RETURNS TEXT[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[
        format(
            'INSERT INTO stats_ratings (site_key, span, period, rating_kind, rating_value, n)
             SELECT site_key, span, received_at - received_at %% ms, rating_kind, rating_value, sum(sign)
             FROM (%s) AS changes CROSS JOIN (VALUES (''hour'', 3600000), (''day'', 86400000)) AS spans (span, ms)
             WHERE NOT spam
             GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0', changes),
        format(
            'INSERT INTO stats_pages (site_key, span, period, page, n, points)
             SELECT site_key, span, received_at - received_at %% ms,
                    substr(page_url, 1, least(strpos(page_url || ''?'', ''?''), strpos(page_url || ''#'', ''#'')) - 1),
                    sum(sign),
                    sum(sign * CASE rating_kind WHEN ''stars'' THEN (rating_value - 1) * 25
                                                WHEN ''emoji'' THEN (rating_value - 1) * 25
                                                WHEN ''thumbs'' THEN rating_value * 100
                                                WHEN ''nps'' THEN rating_value * 10 END)
             FROM (%s) AS changes CROSS JOIN (VALUES (''hour'', 3600000), (''day'', 86400000)) AS spans (span, ms)
             WHERE NOT spam
             GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0', changes)
    ]
$$;

-- One function for the three triggers; the changed rows are the statement's transition
-- tables (visible to this function only, hence the statements run here). An update that
-- changes no counted column nets out to nothing.
CREATE FUNCTION stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    statement TEXT;
BEGIN
    FOREACH statement IN ARRAY stats_counting(CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM added'
        WHEN 'DELETE' THEN 'SELECT *, -1 AS sign FROM removed'
        ELSE 'SELECT *, -1 AS sign FROM removed UNION ALL SELECT *, 1 AS sign FROM added'
    END) LOOP
        EXECUTE statement;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER stats_add AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION stats_count();
CREATE TRIGGER stats_remove AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION stats_count();
CREATE TRIGGER stats_edit AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION stats_count();

-- What is already stored.
DO $$
DECLARE
    statement TEXT;
BEGIN
    FOREACH statement IN ARRAY stats_counting('SELECT *, 1 AS sign FROM feedback') LOOP
        EXECUTE statement;
    END LOOP;
END $$;

-- The statistics' response times and kept promises read only the submissions that have
-- them; partial hours and the inbox's date filters read by arrival.
CREATE INDEX feedback_received ON feedback (site_key, received_at);
CREATE INDEX feedback_responded ON feedback (site_key, received_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX feedback_promised ON feedback (site_key, received_at) WHERE answer_by IS NOT NULL;
