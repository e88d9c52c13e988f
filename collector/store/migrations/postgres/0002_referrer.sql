-- The page that led the visitor to the site (document.referrer), when there was one.
ALTER TABLE feedback ADD COLUMN referrer TEXT;
