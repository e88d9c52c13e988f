//! [`InboundStore`] on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::{mail_kind, reply_in, visitor_answer_in};
use crate::contract::{StoreError, email_hash};
use crate::inbound::{
    self as sql, InboundAction, InboundMail, InboundOutcome, InboundRecord, InboundStore,
    ReplyToken, SentMail, Taken, reply_refused,
};
use crate::model::{NewReply, ReplyOutcome};

fn inbound_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InboundMail> {
    Ok(InboundMail {
        id: row.get(0)?,
        received_at: row.get(1)?,
        source: row.get(2)?,
        sender: row.get(3)?,
        subject: row.get(4)?,
        body: row.get(5)?,
        outcome: InboundOutcome::stored(&row.get::<_, String>(6)?),
        reason: row.get(7)?,
        feedback_id: row.get(8)?,
        thread_message: row.get(9)?,
        mail_key: row.get(10)?,
    })
}

impl InboundStore for Connection {
    fn add_reply_token(
        &mut self,
        token_hash: &str,
        token: &ReplyToken,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let tx = self.transaction()?;
        tx.execute(sql::DROP_EXPIRED_REPLY_TOKENS, [now])?;
        tx.execute(
            sql::ADD_REPLY_TOKEN,
            params![
                token_hash,
                token.feedback_id,
                token.user_id,
                now,
                expires_at
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn reply_token(
        &mut self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<ReplyToken>, StoreError> {
        Ok(self
            .prepare_cached(sql::REPLY_TOKEN)?
            .query_row(params![token_hash, now], |row| {
                Ok(ReplyToken {
                    feedback_id: row.get(0)?,
                    user_id: row.get(1)?,
                })
            })
            .optional()?)
    }

    fn sent_mail(&mut self, message_key: &str) -> Result<Option<SentMail>, StoreError> {
        Ok(self
            .prepare_cached(sql::SENT_MAIL)?
            .query_row([message_key], |row| {
                Ok(SentMail {
                    kind: mail_kind(&row.get::<_, String>(0)?)?,
                    feedback_id: row.get(1)?,
                    user_id: row.get(2)?,
                    recipient: row.get(3)?,
                })
            })
            .optional()?)
    }

    fn take_inbound(
        &mut self,
        record: &InboundRecord,
        action: &InboundAction,
    ) -> Result<Taken, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let first = |outcome: InboundOutcome| {
            tx.query_row(
                sql::INSERT_INBOUND,
                params![
                    record.mail_key,
                    record.received_at,
                    record.source,
                    record.sender,
                    record.subject,
                    record.body,
                    outcome.as_str(),
                    record.reason
                ],
                |row| row.get::<_, i64>(0),
            )
            .optional()
        };
        let (outcome, feedback) = match action {
            InboundAction::VisitorAnswer { feedback_id } => {
                (InboundOutcome::VisitorAnswer, Some(feedback_id.as_str()))
            }
            InboundAction::OwnerReply { feedback_id, .. } => {
                (InboundOutcome::OwnerReply, Some(feedback_id.as_str()))
            }
            InboundAction::AutoReply { feedback_id } => {
                (InboundOutcome::AutoReply, feedback_id.as_deref())
            }
            InboundAction::Bounce { feedback_id, .. } => {
                (InboundOutcome::Bounce, feedback_id.as_deref())
            }
            InboundAction::Unmatched => (InboundOutcome::Unmatched, None),
        };
        let Some(id) = first(outcome)? else {
            return Ok(Taken::Duplicate);
        };
        let mut settled = (
            outcome,
            record.reason.clone(),
            feedback.map(str::to_owned),
            None,
        );
        match action {
            InboundAction::VisitorAnswer { feedback_id } => {
                match visitor_answer_in(&tx, feedback_id, &record.body, record.received_at)? {
                    Some(message) => settled.3 = Some(message),
                    None => {
                        settled = (
                            InboundOutcome::Unmatched,
                            "the submission it answers was deleted".to_owned(),
                            None,
                            None,
                        )
                    }
                }
            }
            InboundAction::OwnerReply {
                feedback_id,
                author_email,
            } => {
                let reply = NewReply {
                    feedback_id: feedback_id.clone(),
                    author_email: author_email.clone(),
                    body: record.body.clone(),
                    now: record.received_at,
                };
                match reply_in(&tx, &reply)? {
                    ReplyOutcome::Queued { message, .. } => settled.3 = Some(message),
                    refused => {
                        let known = !matches!(refused, ReplyOutcome::UnknownFeedback);
                        settled = (
                            InboundOutcome::Unmatched,
                            format!(
                                "an owner's reply that cannot go: {}",
                                reply_refused(&refused)
                            ),
                            known.then(|| feedback_id.clone()),
                            None,
                        )
                    }
                }
            }
            InboundAction::Bounce { address, .. } => {
                tx.execute(
                    sql::MARK_UNDELIVERABLE,
                    params![email_hash(address), record.reason, record.received_at],
                )?;
                tx.execute(sql::GIVE_UP_BOUNCED, params![address, record.received_at])?;
            }
            InboundAction::AutoReply { .. } | InboundAction::Unmatched => {}
        }
        tx.execute(
            sql::SETTLE_INBOUND,
            params![id, settled.0.as_str(), settled.1, settled.2, settled.3],
        )?;
        tx.commit()?;
        Ok(Taken::Recorded {
            id,
            outcome: settled.0,
            feedback_id: settled.2,
            thread_message: settled.3,
        })
    }

    fn inbound_mail(
        &mut self,
        outcome: InboundOutcome,
        limit: u32,
    ) -> Result<Vec<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE outcome = ?1 ORDER BY id DESC LIMIT ?2",
            sql::INBOUND_COLUMNS
        );
        Ok(self
            .prepare_cached(&query)?
            .query_map(params![outcome.as_str(), limit], inbound_row)?
            .collect::<Result<_, _>>()?)
    }

    fn inbound_by_id(&mut self, id: i64) -> Result<Option<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE id = ?1",
            sql::INBOUND_COLUMNS
        );
        Ok(self
            .prepare_cached(&query)?
            .query_row([id], inbound_row)
            .optional()?)
    }

    fn inbound_for(&mut self, feedback_id: &str) -> Result<Vec<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE feedback_id = ?1 ORDER BY id",
            sql::INBOUND_COLUMNS
        );
        Ok(self
            .prepare_cached(&query)?
            .query_map([feedback_id], inbound_row)?
            .collect::<Result<_, _>>()?)
    }

    fn inbound_count_since(&mut self, feedback_id: &str, since: i64) -> Result<u64, StoreError> {
        Ok(
            self.query_row(sql::COUNT_SINCE, params![feedback_id, since], |row| {
                row.get(0)
            })?,
        )
    }

    fn attach_inbound(
        &mut self,
        id: i64,
        feedback_id: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let body: Option<String> = tx
            .query_row(sql::CLAIM_UNMATCHED, params![id, feedback_id], |row| {
                row.get(0)
            })
            .optional()?;
        let Some(body) = body else {
            return Ok(None);
        };
        let Some(message) = visitor_answer_in(&tx, feedback_id, &body, now)? else {
            return Ok(None);
        };
        tx.execute(sql::SET_THREAD_MESSAGE, params![id, message])?;
        tx.commit()?;
        Ok(Some(message))
    }

    fn discard_inbound(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self.execute(sql::DISCARD, [id])? == 1)
    }

    fn undeliverable(&mut self, email: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .prepare_cached(sql::UNDELIVERABLE)?
            .query_row([email_hash(email)], |row| row.get(0))
            .optional()?)
    }
}
