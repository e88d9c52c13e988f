-- The time zone an owner reads the dashboard's times in (an IANA name); exports and emails
-- stay in UTC.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
