-- Who is waiting on whom. A conversation with an address waits on the owners from its
-- arrival, and again from each answer of its visitor, until an owner replies: `answer_by`
-- is the deadline of the latest wait and `answered_at` when an owner replied to it (NULL:
-- still waiting on us). `first_answer_by` keeps the first promise (counted from arrival)
-- for the statistics; each follow-up's promise is kept on the visitor's message that made
-- it (`messages.answer_by`, `messages.answered_at`).
ALTER TABLE feedback ADD COLUMN answered_at INTEGER;
ALTER TABLE feedback ADD COLUMN first_answer_by INTEGER;
-- A visitor's answer no owner has opened yet.
ALTER TABLE feedback ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
-- When the visitor asked for no more email from the site: nobody can be answered since.
ALTER TABLE feedback ADD COLUMN unsubscribed_at INTEGER;
-- It asked to keep the owners' replies in this conversation while stopping everything else.
ALTER TABLE feedback ADD COLUMN replies_kept INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN answer_by INTEGER;
ALTER TABLE messages ADD COLUMN answered_at INTEGER;
UPDATE feedback SET answered_at = first_answer_at, first_answer_by = answer_by;
DROP INDEX feedback_awaiting;
CREATE INDEX feedback_awaiting ON feedback (answer_by) WHERE answered_at IS NULL AND answer_by IS NOT NULL;
