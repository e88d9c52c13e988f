//! The inbound contract, on both engines: each email taken once, with its effects in the
//! same transaction; bounces mark an address; unmatched email attached or discarded once.

use earshot_shared::{ClientInfo, Rating, RatingKind, SiteKey, Submission};
use uuid::Uuid;

use super::*;
use crate::contract::{Durability, email_hash};
use crate::model::{Author, MailKind, NewReply, ReplyOutcome};
use crate::pool::Store;
use crate::testing::databases;

fn record(key: &str, body: &str, now: i64) -> InboundRecord {
    InboundRecord {
        mail_key: key.to_owned(),
        received_at: now,
        source: "http".to_owned(),
        sender: "visitor@example.com".to_owned(),
        subject: "Re: your feedback".to_owned(),
        body: body.to_owned(),
        reason: String::new(),
    }
}

#[tokio::test]
async fn each_email_is_taken_once_with_its_effects() {
    for database in databases() {
        let store = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        let owner = store
            .read(|db| {
                db.add_site(
                    &SiteKey::parse("demo").unwrap(),
                    "Demo",
                    &["https://shop.example".into()],
                )?;
                db.add_user("owner@example.com", "hash", None)
            })
            .unwrap();
        let id = Uuid::new_v4();
        let feedback = id.to_string();
        store
            .submit(
                Submission {
                    id,
                    site: SiteKey::parse("demo").unwrap(),
                    rating: Rating {
                        kind: RatingKind::Stars,
                        value: 2,
                    },
                    comment: "broken".into(),
                    email: Some("visitor@example.com".into()),
                    page_url: "https://shop.example/".into(),
                    referrer: None,
                    locale: "en".into(),
                    client: ClientInfo::default(),
                    open_ms: 10_000,
                    honeypot: String::new(),
                    user_id: None,
                    metadata: Default::default(),
                },
                1_000,
            )
            .await
            .unwrap();
        let where_ = &database.location;

        // A reply token names the thread and, for a notice, the owner.
        store
            .read(|db| {
                db.add_reply_token(
                    "hash-visitor",
                    &ReplyToken {
                        feedback_id: feedback.clone(),
                        user_id: None,
                    },
                    1_000,
                    2_000,
                )
            })
            .unwrap();
        let found = store
            .read(|db| db.reply_token("hash-visitor", 1_500))
            .unwrap();
        assert_eq!(found.map(|t| t.user_id), Some(None), "{where_:?}");
        assert_eq!(
            store
                .read(|db| db.reply_token("hash-visitor", 2_000))
                .unwrap(),
            None,
            "expired"
        );

        // The visitor's answer: in the thread, with the owner's notice, once.
        let answer = InboundAction::VisitorAnswer {
            feedback_id: feedback.clone(),
        };
        let taken = store
            .read(|db| db.take_inbound(&record("a@mail.example", "Still broken", 3_000), &answer))
            .unwrap();
        let Taken::Recorded {
            outcome: InboundOutcome::VisitorAnswer,
            thread_message: Some(message),
            ..
        } = taken
        else {
            panic!("{taken:?} on {where_:?}");
        };
        let again = store
            .read(|db| db.take_inbound(&record("a@mail.example", "Still broken", 3_100), &answer))
            .unwrap();
        assert_eq!(again, Taken::Duplicate, "{where_:?}");
        let thread = store.read(|db| db.thread(&feedback)).unwrap();
        assert_eq!(thread.len(), 1);
        assert_eq!((thread[0].id, thread[0].author), (message, Author::Visitor));
        let notices = store.read(|db| db.mail_for(&feedback)).unwrap();
        assert_eq!(
            notices
                .iter()
                .filter(|m| m.kind == MailKind::VisitorAnswer)
                .count(),
            1,
            "one notice, on {where_:?}"
        );

        // The owner's reply by email goes as a dashboard reply does.
        let reply = InboundAction::OwnerReply {
            feedback_id: feedback.clone(),
            author_email: owner.email.clone(),
        };
        let taken = store
            .read(|db| db.take_inbound(&record("b@mail.example", "Try now", 4_000), &reply))
            .unwrap();
        assert!(
            matches!(
                taken,
                Taken::Recorded {
                    outcome: InboundOutcome::OwnerReply,
                    ..
                }
            ),
            "{taken:?}"
        );
        let sent = store.read(|db| db.mail_for(&feedback)).unwrap();
        let to_visitor = sent.iter().find(|m| m.kind == MailKind::Reply).unwrap();
        assert_eq!(to_visitor.recipient, "visitor@example.com");

        // A bounce marks the address and gives up what waits for it.
        store
            .read(|db| {
                db.add_reply(&NewReply {
                    feedback_id: feedback.clone(),
                    author_email: owner.email.clone(),
                    body: "Hello?".into(),
                    now: 5_000,
                })
            })
            .map(|outcome| assert!(matches!(outcome, ReplyOutcome::Queued { .. })))
            .unwrap();
        let mut bounce = record("c@mx.example", "", 6_000);
        bounce.reason = "5.1.1 user unknown".into();
        store
            .read(|db| {
                db.take_inbound(
                    &bounce,
                    &InboundAction::Bounce {
                        feedback_id: Some(feedback.clone()),
                        address: "Visitor@Example.com".into(),
                    },
                )
            })
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.undeliverable("visitor@example.com"))
                .unwrap()
                .as_deref(),
            Some("5.1.1 user unknown")
        );
        assert_ne!(email_hash("a@b.example"), email_hash("visitor@example.com"));
        let waiting = store.read(|db| db.mail_for(&feedback)).unwrap();
        assert!(
            waiting
                .iter()
                .filter(|m| m.kind == MailKind::Reply)
                .all(|m| m.state == crate::model::DeliveryState::Failed),
            "{waiting:?}"
        );

        // Unmatched: attached once, or discarded once.
        let unmatched = |key: &str| {
            store
                .read(|db| {
                    db.take_inbound(&record(key, "Who am I?", 7_000), &InboundAction::Unmatched)
                })
                .unwrap()
        };
        let Taken::Recorded { id: first, .. } = unmatched("d@x.example") else {
            panic!()
        };
        let Taken::Recorded { id: second, .. } = unmatched("e@x.example") else {
            panic!()
        };
        let listed = store
            .read(|db| db.inbound_mail(InboundOutcome::Unmatched, 10))
            .unwrap();
        assert_eq!(
            listed.iter().map(|m| m.id).collect::<Vec<_>>(),
            [second, first]
        );
        assert!(
            store
                .read(|db| db.attach_inbound(first, &feedback, 8_000))
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .read(|db| db.attach_inbound(first, &feedback, 8_000))
                .unwrap()
                .is_none()
        );
        assert!(store.read(|db| db.discard_inbound(second)).unwrap());
        assert!(!store.read(|db| db.discard_inbound(second)).unwrap());
        assert!(
            store
                .read(|db| db.inbound_mail(InboundOutcome::Unmatched, 10))
                .unwrap()
                .is_empty()
        );
        let on_thread = store.read(|db| db.inbound_for(&feedback)).unwrap();
        assert_eq!(
            on_thread.iter().map(|m| m.outcome).collect::<Vec<_>>(),
            [
                InboundOutcome::VisitorAnswer,
                InboundOutcome::OwnerReply,
                InboundOutcome::Bounce,
                InboundOutcome::Attached
            ],
            "{where_:?}"
        );
        assert_eq!(
            store
                .read(|db| db.inbound_count_since(&feedback, 0))
                .unwrap(),
            4
        );

        // Erasing the visitor takes what they sent that waits unmatched, and their thread.
        unmatched("f@x.example");
        store
            .read(|db| db.erase_email("VISITOR@example.com", &["demo".to_owned()]))
            .unwrap();
        assert!(
            store
                .read(|db| db.inbound_mail(InboundOutcome::Unmatched, 10))
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .read(|db| db.inbound_for(&feedback))
                .unwrap()
                .is_empty()
        );
    }
}
