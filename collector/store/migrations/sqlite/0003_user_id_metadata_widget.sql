-- The JS API's user id and metadata (JSON object); the site's widget defaults (JSON).
ALTER TABLE feedback ADD COLUMN user_id TEXT;
ALTER TABLE feedback ADD COLUMN metadata TEXT;
ALTER TABLE sites ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';
