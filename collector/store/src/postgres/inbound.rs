//! [`InboundStore`] on PostgreSQL.

use tokio_postgres::Row;

use super::{PgConn, mail_kind, reply_in, visitor_answer_in, wait};
use crate::contract::{StoreError, email_hash};
use crate::inbound::{
    self as sql, InboundAction, InboundMail, InboundOutcome, InboundRecord, InboundStore,
    ReplyToken, SentMail, Taken, reply_refused,
};
use crate::mail_sql::dollar_numbered as pg;
use crate::model::{NewReply, ReplyOutcome};

fn inbound_row(row: &Row) -> Result<InboundMail, StoreError> {
    Ok(InboundMail {
        id: row.try_get(0)?,
        received_at: row.try_get(1)?,
        source: row.try_get(2)?,
        sender: row.try_get(3)?,
        subject: row.try_get(4)?,
        body: row.try_get(5)?,
        outcome: InboundOutcome::stored(row.try_get::<_, &str>(6)?),
        reason: row.try_get(7)?,
        feedback_id: row.try_get(8)?,
        thread_message: row.try_get(9)?,
        mail_key: row.try_get(10)?,
    })
}

impl InboundStore for PgConn {
    fn add_reply_token(
        &mut self,
        token_hash: &str,
        token: &ReplyToken,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            tx.execute(&pg(sql::DROP_EXPIRED_REPLY_TOKENS), &[&now])
                .await?;
            tx.execute(
                &pg(sql::ADD_REPLY_TOKEN),
                &[
                    &token_hash,
                    &token.feedback_id,
                    &token.user_id,
                    &now,
                    &expires_at,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn reply_token(
        &mut self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<ReplyToken>, StoreError> {
        wait(
            self.client
                .query_opt(&pg(sql::REPLY_TOKEN), &[&token_hash, &now]),
        )?
        .map(|row| {
            Ok(ReplyToken {
                feedback_id: row.try_get(0)?,
                user_id: row.try_get(1)?,
            })
        })
        .transpose()
    }

    fn sent_mail(&mut self, message_key: &str) -> Result<Option<SentMail>, StoreError> {
        wait(self.client.query_opt(&pg(sql::SENT_MAIL), &[&message_key]))?
            .map(|row| {
                Ok(SentMail {
                    kind: mail_kind(row.try_get(0)?)?,
                    feedback_id: row.try_get(1)?,
                    user_id: row.try_get(2)?,
                    recipient: row.try_get(3)?,
                })
            })
            .transpose()
    }

    fn take_inbound(
        &mut self,
        record: &InboundRecord,
        action: &InboundAction,
    ) -> Result<Taken, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let (outcome, feedback) = match action {
                InboundAction::VisitorAnswer { feedback_id } => {
                    (InboundOutcome::VisitorAnswer, Some(feedback_id.clone()))
                }
                InboundAction::OwnerReply { feedback_id, .. } => {
                    (InboundOutcome::OwnerReply, Some(feedback_id.clone()))
                }
                InboundAction::AutoReply { feedback_id } => {
                    (InboundOutcome::AutoReply, feedback_id.clone())
                }
                InboundAction::Bounce { feedback_id, .. } => {
                    (InboundOutcome::Bounce, feedback_id.clone())
                }
                InboundAction::Unmatched => (InboundOutcome::Unmatched, None),
            };
            // Another replica taking the same email waits here on the unique key, then
            // finds it taken.
            let Some(row) = tx
                .query_opt(
                    &pg(sql::INSERT_INBOUND),
                    &[
                        &record.mail_key,
                        &record.received_at,
                        &record.source,
                        &record.sender,
                        &record.subject,
                        &record.body,
                        &outcome.as_str(),
                        &record.reason,
                    ],
                )
                .await?
            else {
                return Ok(Taken::Duplicate);
            };
            let id: i64 = row.try_get(0)?;
            let mut settled: (InboundOutcome, String, Option<String>, Option<i64>) =
                (outcome, record.reason.clone(), feedback, None);
            match action {
                InboundAction::VisitorAnswer { feedback_id } => {
                    match visitor_answer_in(&tx, feedback_id, &record.body, record.received_at)
                        .await?
                    {
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
                    match reply_in(&tx, &reply).await? {
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
                        &pg(sql::MARK_UNDELIVERABLE),
                        &[&email_hash(address), &record.reason, &record.received_at],
                    )
                    .await?;
                    tx.execute(&pg(sql::GIVE_UP_BOUNCED), &[&address, &record.received_at])
                        .await?;
                }
                InboundAction::AutoReply { .. } | InboundAction::Unmatched => {}
            }
            tx.execute(
                &pg(sql::SETTLE_INBOUND),
                &[&id, &settled.0.as_str(), &settled.1, &settled.2, &settled.3],
            )
            .await?;
            tx.commit().await?;
            Ok(Taken::Recorded {
                id,
                outcome: settled.0,
                feedback_id: settled.2,
                thread_message: settled.3,
            })
        })
    }

    fn inbound_mail(
        &mut self,
        outcome: InboundOutcome,
        limit: u32,
    ) -> Result<Vec<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE outcome = $1 ORDER BY id DESC LIMIT $2",
            sql::INBOUND_COLUMNS
        );
        wait(
            self.client
                .query(&query, &[&outcome.as_str(), &i64::from(limit)]),
        )?
        .iter()
        .map(inbound_row)
        .collect()
    }

    fn inbound_by_id(&mut self, id: i64) -> Result<Option<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE id = $1",
            sql::INBOUND_COLUMNS
        );
        wait(self.client.query_opt(&query, &[&id]))?
            .as_ref()
            .map(inbound_row)
            .transpose()
    }

    fn inbound_for(&mut self, feedback_id: &str) -> Result<Vec<InboundMail>, StoreError> {
        let query = format!(
            "SELECT {} FROM inbound_mail WHERE feedback_id = $1 ORDER BY id",
            sql::INBOUND_COLUMNS
        );
        wait(self.client.query(&query, &[&feedback_id]))?
            .iter()
            .map(inbound_row)
            .collect()
    }

    fn inbound_count_since(&mut self, feedback_id: &str, since: i64) -> Result<u64, StoreError> {
        let count: i64 = wait(
            self.client
                .query_one(&pg(sql::COUNT_SINCE), &[&feedback_id, &since]),
        )?
        .try_get(0)?;
        Ok(count as u64)
    }

    fn attach_inbound(
        &mut self,
        id: i64,
        feedback_id: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        wait(async {
            let tx = self.client.transaction().await?;
            let Some(row) = tx
                .query_opt(&pg(sql::CLAIM_UNMATCHED), &[&id, &feedback_id])
                .await?
            else {
                return Ok(None);
            };
            let body: String = row.try_get(0)?;
            let Some(message) = visitor_answer_in(&tx, feedback_id, &body, now).await? else {
                return Ok(None);
            };
            tx.execute(&pg(sql::SET_THREAD_MESSAGE), &[&id, &message])
                .await?;
            tx.commit().await?;
            Ok(Some(message))
        })
    }

    fn discard_inbound(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(wait(self.client.execute(&pg(sql::DISCARD), &[&id]))? == 1)
    }

    fn undeliverable(&mut self, email: &str) -> Result<Option<String>, StoreError> {
        wait(
            self.client
                .query_opt(&pg(sql::UNDELIVERABLE), &[&email_hash(email)]),
        )?
        .map(|row| Ok(row.try_get(0)?))
        .transpose()
    }
}
