//! The storage contract, tested on both engines through [`crate::pool::Store`].

use crate::contract::*;
use crate::pool::Store;
use crate::testing::databases;
use std::path::Path;
use std::time::Duration;

use crate::postgres::{PgConn, wait};

use earshot_shared::ClientInfo;
use earshot_shared::{Rating, RatingKind, SiteKey, Submission, WidgetSettings};
use uuid::Uuid;

fn submission(site: &str, id: Uuid) -> Submission {
    Submission {
        id,
        site: SiteKey::parse(site).unwrap(),
        rating: Rating {
            kind: RatingKind::Stars,
            value: 5,
        },
        comment: "ok".into(),
        email: None,
        page_url: "https://shop.example/".into(),
        referrer: None,
        locale: "en".into(),
        client: ClientInfo::default(),
        open_ms: 10_000,
        honeypot: String::new(),
        user_id: None,
        metadata: Default::default(),
    }
}

/// A store with the sites `demo` (see [`store_with_site`]) and `other`.
fn store_with_sites(location: &Location) -> Store {
    let store = store_with_site(location);
    store
        .read(|db| {
            db.add_site(
                &SiteKey::parse("other").unwrap(),
                "Other",
                &["https://other.example".into()],
            )
        })
        .unwrap();
    store
}

fn store_with_site(location: &Location) -> Store {
    let store = Store::open_at(location, Durability::PowerLoss).unwrap();
    store
        .read(|db| {
            db.add_site(
                &SiteKey::parse("demo").unwrap(),
                "Demo",
                &["https://shop.example".into()],
            )
        })
        .unwrap();
    store
}

/// An owner who wants an email of each new submission and of each answer.
fn owner_hearing_of_everything(store: &Store, email: &str) -> crate::model::User {
    use crate::model::{NotifyFeedback, OwnerNotifications};
    let owner = store.read(|db| db.add_user(email, "hash", None)).unwrap();
    store
        .read(|db| {
            db.set_owner_notifications(
                owner.id,
                &OwnerNotifications {
                    feedback: NotifyFeedback::Each,
                    answers: true,
                },
            )
        })
        .unwrap();
    owner
}

#[tokio::test]
async fn a_submission_is_stored_once() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let id = Uuid::new_v4();
        assert_eq!(
            store.submit(submission("demo", id), 1).await.unwrap(),
            Stored::New
        );
        assert_eq!(
            store.submit(submission("demo", id), 2).await.unwrap(),
            Stored::Duplicate
        );
        let count = store.read(|db| db.feedback_count("demo")).unwrap();
        assert_eq!(count, 1, "{:?}", database.location);
    }
}

#[tokio::test]
async fn concurrent_submissions_are_all_committed() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let shared_id = Uuid::new_v4();
        let mut waiting = Vec::new();
        for n in 0..200 {
            let id = if n % 10 == 0 {
                shared_id
            } else {
                Uuid::new_v4()
            };
            let store = store.clone();
            waiting.push(tokio::spawn(async move {
                store.submit(submission("demo", id), n).await
            }));
        }
        let mut new = 0;
        for handle in waiting {
            if handle.await.unwrap().unwrap() == Stored::New {
                new += 1;
            }
        }
        // 180 distinct ids plus the shared one stored once.
        assert_eq!(new, 181, "{:?}", database.location);
        assert_eq!(store.read(|db| db.feedback_count("demo")).unwrap(), 181);
    }
}

#[tokio::test]
async fn two_stores_on_one_database_store_a_shared_id_once() {
    // Two collectors (replicas) on one database, the same ids sent to both at once.
    for database in databases() {
        let first = store_with_site(&database.location);
        let second = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let id = Uuid::new_v4();
            for store in [&first, &second] {
                let store = store.clone();
                waiting.push(tokio::spawn(async move {
                    store.submit(submission("demo", id), 1).await
                }));
            }
        }
        let mut new = 0;
        for handle in waiting {
            if handle.await.unwrap().unwrap() == Stored::New {
                new += 1;
            }
        }
        assert_eq!(new, 50, "{:?}", database.location);
        assert_eq!(second.read(|db| db.feedback_count("demo")).unwrap(), 50);
    }
}

#[tokio::test]
async fn a_submission_for_a_missing_site_fails_alone() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let bad = store.submit(submission("gone", Uuid::new_v4()), 1);
        let good = store.submit(submission("demo", Uuid::new_v4()), 1);
        let (bad, good) = futures_util::future::join(bad, good).await;
        assert!(bad.is_err(), "{:?}", database.location);
        assert_eq!(good.unwrap(), Stored::New);
    }
}

#[tokio::test]
async fn retention_and_erasure_delete_only_what_they_should() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let day = 86_400_000;
        let now = now_millis();
        for (age_days, email) in [
            (40, Some("ada@example.com")),
            (10, Some("ADA@example.com")),
            (1, Some("bob@example.com")),
            (50, None),
        ] {
            let mut s = submission("demo", Uuid::new_v4());
            s.email = email.map(str::to_owned);
            store.submit(s, now - age_days * day).await.unwrap();
        }
        store
            .read(|db| {
                assert_eq!(
                    db.apply_retention(now)?,
                    0,
                    "no retention set: nothing goes"
                );
                db.set_retention("demo", Some(30))?;
                assert_eq!(db.apply_retention(now)?, 2, "the 40- and 50-day-old ones");
                assert_eq!(db.feedback_count("demo")?, 2);
                assert_eq!(
                    db.erase_email("ada@example.com", &["other".into()])?,
                    0,
                    "another site's scope"
                );
                assert_eq!(
                    db.erase_email("Ada@Example.com", &["demo".into()])?,
                    1,
                    "case-insensitive"
                );
                assert_eq!(db.feedback_count("demo")?, 1);
                db.set_retention("demo", None)?;
                assert_eq!(db.site("demo")?.unwrap().retention_days, None);
                Ok(())
            })
            .unwrap();
    }
}

#[tokio::test]
async fn filters_and_listings_agree_on_both_engines() {
    // Each engine's answers are compared with the same expected ones, so they agree.
    for database in databases() {
        let store = store_with_site(&database.location);
        let rows = [
            (
                1,
                "Checkout BROKEN",
                Some("ada@example.com"),
                "https://shop.example/cart",
            ),
            (5, "love it", None, "https://shop.example/"),
            (
                3,
                "50% off_label is wrong",
                Some(""),
                "https://shop.example/sale",
            ),
            (2, "broken image", None, "https://shop.example/p/1"),
        ];
        let mut ids = Vec::new();
        for (n, (value, comment, email, page)) in rows.into_iter().enumerate() {
            let mut s = submission("demo", Uuid::new_v4());
            s.rating.value = value;
            s.comment = comment.into();
            s.email = email.map(str::to_owned);
            s.page_url = page.into();
            s.referrer = (n == 3).then(|| "https://search.example/".to_owned());
            ids.push(s.id.to_string());
            store.submit(s, 1_000 + n as i64).await.unwrap();
        }
        let mut spam = submission("demo", Uuid::new_v4());
        spam.honeypot = "filled by a bot".into();
        store.submit(spam, 2_000).await.unwrap();
        let answer = store
            .read(|db| {
                assert!(db.triage(&ids[3], FeedbackStatus::Resolved, "fixed the CDN")?);
                assert!(!db.triage("no-such-id", FeedbackStatus::Resolved, "")?);
                let sites = ["demo".to_owned()];
                let filters = [
                    FeedbackFilter::default(),
                    FeedbackFilter {
                        text: Some("broken".into()),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        text: Some("50%".into()),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        text: Some("_".into()),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        text: Some("cdn".into()),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        has_email: Some(true),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        has_email: Some(false),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        min_rating: Some(2),
                        max_rating: Some(3),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        from: Some(1_001),
                        to: Some(1_003),
                        status: Some(FeedbackStatus::New),
                        ..Default::default()
                    },
                    FeedbackFilter {
                        spam: SpamFilter::Only,
                        ..Default::default()
                    },
                    FeedbackFilter {
                        spam: SpamFilter::Include,
                        ..Default::default()
                    },
                ];
                let mut answer = Vec::new();
                for filter in &filters {
                    let mut comments = Vec::new();
                    let listed =
                        db.for_each_feedback_in(&sites, filter, Page::All, &mut |row| {
                            comments.push(row.comment);
                            Ok(())
                        })?;
                    assert_eq!(listed, db.count_feedback_in(&sites, filter)?);
                    answer.push(comments);
                }
                let mut newest = Vec::new();
                db.for_each_feedback_in(
                    &sites,
                    &FeedbackFilter::default(),
                    Page::NewestFirst {
                        offset: 1,
                        limit: 2,
                    },
                    &mut |row| {
                        newest.push(row.comment);
                        Ok(())
                    },
                )?;
                answer.push(newest);
                assert_eq!(db.count_feedback_in(&[], &FeedbackFilter::default())?, 0);
                let row = db.feedback_by_id(&ids[3])?.unwrap();
                assert_eq!(
                    (row.status, row.note.as_str()),
                    (FeedbackStatus::Resolved, "fixed the CDN")
                );
                assert!(row.first_response_at.is_some());
                assert_eq!(row.referrer.as_deref(), Some("https://search.example/"));
                let other = db.feedback_by_id(&ids[0])?.unwrap();
                assert_eq!(other.referrer, None);
                Ok(answer)
            })
            .unwrap();
        let expected: Vec<Vec<&str>> = vec![
            vec![
                "Checkout BROKEN",
                "love it",
                "50% off_label is wrong",
                "broken image",
            ],
            vec!["Checkout BROKEN", "broken image"],
            vec!["50% off_label is wrong"],
            vec!["50% off_label is wrong"],
            vec!["broken image"],
            vec!["Checkout BROKEN"],
            vec!["love it", "50% off_label is wrong", "broken image"],
            vec!["50% off_label is wrong", "broken image"],
            vec!["love it", "50% off_label is wrong"],
            vec!["ok"],
            vec![
                "Checkout BROKEN",
                "love it",
                "50% off_label is wrong",
                "broken image",
                "ok",
            ],
            vec!["50% off_label is wrong", "love it"],
        ];
        assert_eq!(answer, expected, "{:?}", database.location);
    }
}

#[tokio::test]
async fn sites_tokens_accounts_and_webhooks_round_trip() {
    for database in databases() {
        let store = store_with_site(&database.location);
        store
            .read(|db| {
                let key = SiteKey::parse("shop").unwrap();
                db.add_site(
                    &key,
                    "Shop",
                    &["https://b.example".into(), "https://a.example".into()],
                )?;
                assert!(matches!(
                    db.add_site(&key, "Again", &[]),
                    Err(StoreError::SiteExists(_))
                ));
                let site = db.site("shop")?.unwrap();
                assert_eq!(site.origins, ["https://a.example", "https://b.example"]);
                db.update_site("shop", "Shop 2", &["https://c.example".into()])?;
                let settings = WidgetSettings {
                    prompt: Some("How was it?".into()),
                    ..Default::default()
                };
                db.set_widget_settings("shop", &settings)?;
                let sites = db.sites()?;
                assert_eq!(sites.len(), 2);
                assert_eq!(sites[1].name, "Shop 2");
                assert_eq!(sites[1].origins, ["https://c.example"]);
                assert_eq!(sites[1].widget, settings);
                assert!(matches!(
                    db.update_site("nope", "x", &[]),
                    Err(StoreError::UnknownSite(_))
                ));

                let id = db.add_token("ci", "hash-1", Some("shop"))?;
                assert!(matches!(
                    db.add_token("x", "hash-2", Some("nope")),
                    Err(StoreError::UnknownSite(_))
                ));
                assert_eq!(
                    db.token_by_hash("hash-1")?.unwrap().site.as_deref(),
                    Some("shop")
                );
                db.revoke_token(id)?;
                assert!(db.token_by_hash("hash-1")?.is_none());
                assert!(db.tokens()?[0].revoked);
                assert!(matches!(
                    db.revoke_token(id),
                    Err(StoreError::UnknownToken(_))
                ));

                assert!(!db.has_users()?);
                let owner = db.add_user("owner@example.com", "phc", None)?;
                assert!(db.has_users()?);
                let client = db.add_user("client@example.com", "phc2", Some(&["shop".into()]))?;
                assert!(matches!(
                    db.add_user("owner@example.com", "x", None),
                    Err(StoreError::UserExists(_))
                ));
                assert!(matches!(
                    db.add_user("c@example.com", "x", Some(&["nope".into()])),
                    Err(StoreError::UnknownSite(_))
                ));
                let (found, hash) = db.user_by_email("client@example.com")?.unwrap();
                assert_eq!(
                    (found.sites.clone(), hash.as_str()),
                    (Some(vec!["shop".to_owned()]), "phc2")
                );
                assert_eq!(db.users()?.len(), 2);
                db.add_session("session-1", client.id, "csrf", 10, 100)?;
                assert_eq!(db.session("session-1", 50)?.unwrap().user, client);
                // Times read in UTC until the account picks a zone; each account its own.
                assert_eq!(db.session("session-1", 50)?.unwrap().time_zone, "UTC");
                db.set_time_zone(client.id, "Europe/Paris")?;
                assert_eq!(
                    db.session("session-1", 50)?.unwrap().time_zone,
                    "Europe/Paris"
                );
                db.add_session("session-3", owner.id, "csrf", 10, 100)?;
                assert_eq!(db.session("session-3", 50)?.unwrap().time_zone, "UTC");
                assert!(db.session("session-1", 100)?.is_none(), "expired");
                db.add_session("session-2", owner.id, "csrf", 200, 300)?;
                assert!(
                    db.session("session-1", 50)?.is_none(),
                    "expired sessions are dropped"
                );
                db.end_session("session-2")?;
                assert!(db.session("session-2", 250)?.is_none());

                let hook = db.add_webhook(
                    "demo",
                    "https://hooks.example/a",
                    "whsec_x",
                    crate::model::WebhookFormat::Slack,
                )?;
                assert_eq!(db.webhooks("demo")?.len(), 1);
                assert_eq!(
                    db.webhook("demo", hook)?.unwrap().url,
                    "https://hooks.example/a"
                );
                assert!(db.webhook("shop", hook)?.is_none(), "another site's");
                Ok(())
            })
            .unwrap();
        // A new submission queues a delivery; claiming it hides it until the lease ends.
        let id = Uuid::new_v4();
        store.submit(submission("demo", id), 1_000).await.unwrap();
        store
            .read(|db| {
                let due = db.claim_due_deliveries(5_000, 60_000, 10)?;
                assert_eq!(due.len(), 1, "{:?}", database.location);
                assert_eq!(due[0].feedback_id, id.to_string());
                assert!(
                    db.claim_due_deliveries(5_000, 60_000, 10)?.is_empty(),
                    "claimed"
                );
                db.record_delivery(
                    due[0].id,
                    &DeliveryAttempt {
                        state: crate::model::DeliveryState::Pending,
                        attempts: 1,
                        status: Some(500),
                        error: None,
                        next_attempt_at: 70_000,
                        now: 6_000,
                    },
                )?;
                assert!(db.claim_due_deliveries(69_999, 80_000, 10)?.is_empty());
                assert_eq!(db.claim_due_deliveries(70_000, 80_000, 10)?[0].attempts, 1);
                let log = db.deliveries("demo", 10)?;
                assert_eq!((log[0].last_status, log[0].attempts), (Some(500), 1));
                assert!(db.delete_webhook("demo", due[0].webhook.id)?);
                assert!(
                    db.deliveries("demo", 10)?.is_empty(),
                    "the log goes with it"
                );
                assert_eq!(db.delete_site("demo")?, 1);
                assert!(db.site("demo")?.is_none());
                db.ping()
            })
            .unwrap();
    }
}

#[test]
fn a_batch_reports_each_submission_on_its_own() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let pending = |site: &str, id: Uuid| Pending {
            submission: submission(site, id),
            received_at: 1,
            spam: false,
        };
        let (stored_before, repeated, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let before = pending("demo", stored_before);
        let batch = [
            pending("gone", Uuid::new_v4()),
            pending("demo", fresh),
            pending("demo", repeated),
            pending("demo", repeated),
            pending("gone", repeated),
            pending("demo", stored_before),
        ];
        let outcomes = store
            .read(|db| {
                db.write_batch(&[&before])?;
                db.write_batch(&batch.iter().collect::<Vec<_>>())
            })
            .unwrap();
        let outcomes: Vec<String> = outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Ok(stored) => format!("{stored:?}"),
                Err(err) => format!("{err}"),
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                "no site has the key \"gone\"",
                "New",
                "New",
                "Duplicate",
                "no site has the key \"gone\"",
                "Duplicate"
            ],
            "{:?}",
            database.location
        );
        assert_eq!(store.read(|db| db.feedback_count("demo")).unwrap(), 3);
    }
}

#[test]
fn collectors_starting_together_migrate_once() {
    for database in databases() {
        let starting: Vec<_> = (0..8)
            .map(|_| {
                let location = database.location.clone();
                std::thread::spawn(move || location.connect().map(|_| ()))
            })
            .collect();
        for start in starting {
            start.join().unwrap().unwrap();
        }
        let mut db = database.location.connect().unwrap();
        db.add_site(&SiteKey::parse("demo").unwrap(), "Demo", &[])
            .unwrap();
        assert_eq!(db.sites().unwrap().len(), 1, "{:?}", database.location);
    }
}

#[test]
fn migrations_are_idempotent() {
    for database in databases() {
        for _ in 0..2 {
            let mut db = database.location.connect().unwrap();
            db.ping().unwrap();
        }
    }
}

#[test]
fn database_options_choose_the_engine() {
    let file = Path::new("earshot.db");
    assert_eq!(
        Location::from_options(file, None).unwrap(),
        Location::Sqlite(file.into())
    );
    assert_eq!(
        Location::from_options(file, Some("postgres://u:secret@db/earshot")).unwrap(),
        Location::Postgres("postgres://u:secret@db/earshot".into())
    );
    assert_eq!(
        Location::Postgres("postgres://u:secret@db/earshot".into()).describe(),
        "postgres://u:***@db/earshot"
    );
    assert_eq!(
        Location::Postgres("postgres://u@db/earshot?password=secret&sslmode=require".into())
            .describe(),
        "postgres://u@db/earshot?password=***&sslmode=require"
    );
    assert!(matches!(
        Location::from_options(file, Some("mysql://u:secret@db/x")),
        Err(StoreError::BadLocation(text)) if !text.contains("secret")
    ));
}

// PostgreSQL: TLS and lost connections, against the test server.

/// Debian's PostgreSQL serves TLS with a self-signed "snakeoil" certificate for
/// `localhost`: trusted through `sslrootcert`, refused without it.
#[test]
fn tls_is_used_and_the_certificate_checked_with_sslmode_require() {
    const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    for database in databases() {
        let Location::Postgres(url) = &database.location else {
            continue;
        };
        let plain = PgConn::open(url).unwrap();
        let ssl_on = wait(plain.client.query_one("SHOW ssl", &[]))
            .unwrap()
            .get::<_, String>(0)
            == "on";
        if !ssl_on || !Path::new(SNAKEOIL).exists() {
            // Debian's PostgreSQL (what `cargo xtask test` installs) has TLS on; under it, TLS
            // is tested, never skipped.
            assert!(
                std::env::var_os("EARSHOT_E2E_REQUIRED").is_none(),
                "the test server has no TLS with Debian's snakeoil certificate: TLS would go untested"
            );
            eprintln!("SKIPPED: the test server has no TLS with Debian's snakeoil certificate");
            continue;
        }
        // The certificate names the machine (or `localhost`): connect to 127.0.0.1 under
        // each name until one verifies.
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let mut local = url::Url::parse(url).unwrap();
        let secure = [hostname.trim(), "localhost"].into_iter().find_map(|name| {
            local.set_host(Some(name)).ok()?;
            local.set_query(Some(&format!(
                "sslmode=require&sslrootcert={SNAKEOIL}&hostaddr=127.0.0.1"
            )));
            PgConn::open(local.as_str()).ok()
        });
        let mut secure = secure.expect("a TLS connection trusting the snakeoil certificate");
        secure.ping().unwrap();
        let encrypted: bool = wait(secure.client.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        ))
        .unwrap()
        .get(0);
        assert!(encrypted);
        let unencrypted: bool = wait(plain.client.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        ))
        .unwrap()
        .get(0);
        assert!(!unencrypted, "no sslmode: plain, as before");

        local.set_query(Some("sslmode=require&hostaddr=127.0.0.1"));
        let refused = PgConn::open(local.as_str())
            .err()
            .expect("an unknown issuer");
        assert!(refused.to_string().contains("certificate"), "{refused}");

        // verify-ca checks the chain and not the name: the certificate names localhost, and
        // 127.0.0.1 passes; verify-full refuses it, naming the server it tried.
        let mut by_address = url::Url::parse(url).unwrap();
        by_address.set_host(Some("127.0.0.1")).unwrap();
        by_address.set_query(Some(&format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}")));
        let ca_only = PgConn::open(by_address.as_str()).expect("verify-ca ignores the name");
        let encrypted: bool = wait(ca_only.client.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        ))
        .unwrap()
        .get(0);
        assert!(encrypted, "verify-ca is TLS");
        by_address.set_query(Some(&format!("sslmode=verify-full&sslrootcert={SNAKEOIL}")));
        let refused = PgConn::open(by_address.as_str())
            .err()
            .expect("127.0.0.1 is not the certificate's name");
        assert!(refused.to_string().contains("127.0.0.1:"), "{refused}");
    }
}

#[tokio::test]
async fn connections_lost_in_a_server_restart_are_replaced() {
    for database in databases() {
        let Location::Postgres(url) = &database.location else {
            continue;
        };
        let store = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        store
            .read(|db| db.add_site(&SiteKey::parse("demo").unwrap(), "Demo", &[]))
            .unwrap();
        let submission = |n: u8| Pending {
            submission: earshot_shared::Submission {
                id: uuid::Uuid::new_v4(),
                site: SiteKey::parse("demo").unwrap(),
                rating: Rating {
                    kind: earshot_shared::RatingKind::Stars,
                    value: n,
                },
                comment: String::new(),
                email: None,
                page_url: "https://shop.example/".into(),
                referrer: None,
                locale: String::new(),
                client: Default::default(),
                open_ms: 10_000,
                honeypot: String::new(),
                user_id: None,
                metadata: Default::default(),
            },
            received_at: 1,
            spam: false,
        };
        let first = submission(1).submission;
        assert_eq!(store.submit(first, 1).await.unwrap(), Stored::New);

        // What a restart does to every connection: the server ends them.
        let admin = PgConn::open(url).unwrap();
        let ended = wait(admin.client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        ))
        .unwrap();
        assert!(ended.len() >= 2, "the writer's and the pool's connections");
        // Until the server has really ended them: only then does the next submission prove
        // that the store reconnects (a fixed pause could pass on connections still alive).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left: i64 = wait(admin.client.query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            ))
            .unwrap()
            .get(0);
            if left == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{left} connections still alive 10 s after pg_terminate_backend"
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        let second = submission(2).submission;
        assert_eq!(store.submit(second, 2).await.unwrap(), Stored::New);
        assert_eq!(store.read(|db| db.feedback_count("demo")).unwrap(), 2);
    }
}

/// The two engines' migrations end in the same schema: the same tables with the same columns
/// (bookkeeping apart: SQLite counts migrations in `PRAGMA user_version`, PostgreSQL in
/// `earshot_schema`). Types differ by dialect and are not compared.
#[test]
fn both_engines_have_the_same_tables_and_columns() {
    use std::collections::BTreeSet;

    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::sqlite::open_connection(&dir.path().join("schema.db")).unwrap();
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut sqlite_columns = BTreeSet::new();
    for table in &tables {
        let columns: Vec<String> = sqlite
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        sqlite_columns.extend(columns.into_iter().map(|column| (table.clone(), column)));
    }
    assert!(sqlite_columns.len() > 40, "{sqlite_columns:?}");
    // `earshot copy` moves every table (a table it forgot would be lost in the move).
    let tables: BTreeSet<&str> = sqlite_columns
        .iter()
        .map(|(table, _)| table.as_str())
        .collect();
    let copied: BTreeSet<&str> = crate::copy::TABLES
        .iter()
        .map(|(table, _, _)| *table)
        .chain(crate::copy::DERIVED)
        .collect();
    assert_eq!(
        tables, copied,
        "every table is in copy::TABLES or copy::DERIVED"
    );

    for database in databases() {
        let Location::Postgres(url) = &database.location else {
            continue;
        };
        let postgres = crate::postgres::connect_migrated(url).unwrap();
        let rows = wait(postgres.client.query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> 'earshot_schema'",
            &[],
        ))
        .unwrap();
        // The statistics' counts are merged on PostgreSQL only (`merged`).
        let postgres_columns: BTreeSet<(String, String)> = rows
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .filter(|(table, column): &(String, String)| {
                !(crate::copy::DERIVED.contains(&table.as_str()) && column == "merged")
            })
            .collect();
        let only_sqlite: Vec<_> = sqlite_columns.difference(&postgres_columns).collect();
        let only_postgres: Vec<_> = postgres_columns.difference(&sqlite_columns).collect();
        assert!(
            only_sqlite.is_empty() && only_postgres.is_empty(),
            "the engines' schemas differ: only on SQLite {only_sqlite:?}, only on PostgreSQL {only_postgres:?}"
        );
    }
}

/// A reply is stored in the thread with its email queued, in one transaction; the first
/// reply records the time to first answer and moves a new submission to in progress; an
/// answer from the visitor notifies exactly the owners who may read the site.
#[tokio::test]
async fn replies_and_answers_queue_their_email() {
    use crate::model::{Author, MailKind, NewReply, ReplyOutcome};
    for database in databases() {
        let store = store_with_sites(&database.location);
        store
            .read(|db| {
                db.add_user("all@example.com", "hash", None)?;
                db.add_user("demo@example.com", "hash", Some(&["demo".to_owned()]))?;
                db.add_user("other@example.com", "hash", Some(&["other".to_owned()]))
            })
            .unwrap();
        let with_email = Uuid::new_v4();
        let mut asked = submission("demo", with_email);
        asked.email = Some("visitor@example.com".into());
        store.submit(asked, 1_000).await.unwrap();
        let anonymous = Uuid::new_v4();
        store
            .submit(submission("demo", anonymous), 1_000)
            .await
            .unwrap();

        let reply = |id: Uuid, now: i64| NewReply {
            feedback_id: id.to_string(),
            author_email: "all@example.com".into(),
            body: "Thank you!\nFixed.".into(),
            now,
        };
        let first = store
            .read(|db| db.add_reply(&reply(with_email, 5_000)))
            .unwrap();
        let ReplyOutcome::Queued { message, mail } = first else {
            panic!("{first:?} on {:?}", database.location);
        };
        store
            .read(|db| db.add_reply(&reply(with_email, 9_000)))
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.add_reply(&reply(anonymous, 5_000)))
                .unwrap(),
            ReplyOutcome::NoEmail
        );
        assert_eq!(
            store
                .read(|db| db.add_reply(&reply(Uuid::new_v4(), 5_000)))
                .unwrap(),
            ReplyOutcome::UnknownFeedback
        );
        let row = store
            .read(|db| db.feedback_by_id(&with_email.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(row.first_answer_at, Some(5_000), "the first reply counts");
        assert_eq!(row.first_response_at, Some(5_000));
        assert_eq!(row.status, FeedbackStatus::InProgress);

        let answer = store
            .read(|db| {
                db.add_visitor_answer(&with_email.to_string(), "Still broken on Safari", 12_000)
            })
            .unwrap();
        assert!(answer.is_some());
        assert_eq!(
            store
                .read(|db| db.add_visitor_answer(&Uuid::new_v4().to_string(), "?", 12_000))
                .unwrap(),
            None
        );
        let thread = store.read(|db| db.thread(&with_email.to_string())).unwrap();
        assert_eq!(
            thread
                .iter()
                .map(|m| (m.author, m.body.as_str(), m.created_at))
                .collect::<Vec<_>>(),
            [
                (Author::Owner, "Thank you!\nFixed.", 5_000),
                (Author::Owner, "Thank you!\nFixed.", 9_000),
                (Author::Visitor, "Still broken on Safari", 12_000),
            ]
        );
        assert_eq!(thread[0].id, message);
        let mail_list = store
            .read(|db| db.mail_for(&with_email.to_string()))
            .unwrap();
        assert_eq!(mail_list[0].id, mail);
        let sent: Vec<(MailKind, &str)> = mail_list
            .iter()
            .map(|m| (m.kind, m.recipient.as_str()))
            .collect();
        assert_eq!(
            sent,
            [
                (MailKind::Reply, "visitor@example.com"),
                (MailKind::Reply, "visitor@example.com"),
                (MailKind::VisitorAnswer, "all@example.com"),
                (MailKind::VisitorAnswer, "demo@example.com"),
            ],
            "{:?}",
            database.location
        );
        assert_eq!(store.read(|db| db.pending_mail()).unwrap(), 4);
    }
}

/// Two workers claiming together never get the same email, a claimed email is not due again
/// before its lease ends, and a failure recorded makes it due at its next attempt.
#[tokio::test]
async fn email_claims_are_exclusive_and_leased() {
    use crate::model::{DeliveryState, NewReply};
    for database in databases() {
        let store = store_with_site(&database.location);
        for n in 0..10 {
            let id = Uuid::new_v4();
            let mut asked = submission("demo", id);
            asked.email = Some(format!("visitor{n}@example.com"));
            store.submit(asked, 1_000).await.unwrap();
            store
                .read(|db| {
                    db.add_reply(&NewReply {
                        feedback_id: id.to_string(),
                        author_email: "owner@example.com".into(),
                        body: "hello".into(),
                        now: 1_000,
                    })
                })
                .unwrap();
        }
        let other = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| {
                store
                    .read(|db| db.claim_due_mail(2_000, 60_000, 6))
                    .unwrap()
            });
            let b = scope.spawn(|| {
                other
                    .read(|db| db.claim_due_mail(2_000, 60_000, 6))
                    .unwrap()
            });
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut ids: Vec<i64> = a.iter().chain(&b).map(|mail| mail.id).collect();
        assert_eq!(ids.len(), 10, "{:?}", database.location);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 10, "no email claimed twice");
        let keys: std::collections::HashSet<&str> = a
            .iter()
            .chain(&b)
            .map(|mail| mail.message_key.as_str())
            .collect();
        assert_eq!(keys.len(), 10, "each email has a Message-ID of its own");
        assert!(
            store
                .read(|db| db.claim_due_mail(59_999, 120_000, 20))
                .unwrap()
                .is_empty()
        );

        let first = a.first().unwrap();
        store
            .read(|db| {
                db.record_mail(
                    first.id,
                    &DeliveryAttempt {
                        state: DeliveryState::Pending,
                        attempts: 1,
                        status: None,
                        error: Some("421 try later".into()),
                        next_attempt_at: 3_000,
                        now: 2_500,
                    },
                )
            })
            .unwrap();
        let again = store
            .read(|db| db.claim_due_mail(3_000, 70_000, 20))
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].id, again[0].attempts), (first.id, 1));
        assert_eq!(
            again[0].message_key, first.message_key,
            "the same Message-ID"
        );
    }
}

/// Erasure by email and deleting a site take the thread, the links and the outbox along.
#[tokio::test]
async fn erasure_takes_conversations_and_email_along() {
    use crate::model::NewReply;
    for database in databases() {
        let store = store_with_site(&database.location);
        let id = Uuid::new_v4();
        let mut asked = submission("demo", id);
        asked.email = Some("Visitor@Example.com".into());
        store.submit(asked, 1_000).await.unwrap();
        store
            .read(|db| {
                db.add_reply(&NewReply {
                    feedback_id: id.to_string(),
                    author_email: "owner@example.com".into(),
                    body: "hello".into(),
                    now: 1_000,
                })?;
                db.add_link(
                    crate::model::LinkPurpose::Conversation,
                    &id.to_string(),
                    "hash",
                    1_000,
                    10_000,
                )
            })
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.link_target(crate::model::LinkPurpose::Conversation, "hash", 9_999))
                .unwrap(),
            Some(id.to_string())
        );
        assert_eq!(
            store
                .read(|db| db.link_target(crate::model::LinkPurpose::Conversation, "hash", 10_000))
                .unwrap(),
            None,
            "expired"
        );
        // A link made to unsubscribe opens nothing else.
        store
            .read(|db| {
                db.add_link(
                    crate::model::LinkPurpose::Unsubscribe,
                    &id.to_string(),
                    "stop",
                    1_000,
                    10_000,
                )
            })
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.link_target(crate::model::LinkPurpose::Conversation, "stop", 5_000))
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .read(|db| db.link_target(crate::model::LinkPurpose::Unsubscribe, "stop", 5_000))
                .unwrap(),
            Some(id.to_string())
        );
        let erased = store
            .read(|db| db.erase_email("visitor@example.com", &["demo".to_owned()]))
            .unwrap();
        assert_eq!(erased, 1);
        assert!(
            store
                .read(|db| db.thread(&id.to_string()))
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .read(|db| db.mail_for(&id.to_string()))
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.read(|db| db.pending_mail()).unwrap(), 0);
        assert_eq!(
            store
                .read(|db| db.link_target(crate::model::LinkPurpose::Conversation, "hash", 5_000))
                .unwrap(),
            None
        );
    }
}

/// A site's promise and email settings are stored and read back.
#[test]
fn a_sites_answer_settings_are_kept() {
    use crate::model::AnswerSettings;
    for database in databases() {
        let store = store_with_site(&database.location);
        assert_eq!(
            store.read(|db| db.site("demo")).unwrap().unwrap().answers,
            AnswerSettings::default()
        );
        let settings = AnswerSettings {
            reply_to: Some("support@shop.example".into()),
            answer_hours: 4,
            promise_shown: true,
            acknowledge: true,
            notify_resolved: true,
        };
        store
            .read(|db| db.set_answer_settings("demo", &settings))
            .unwrap();
        assert_eq!(store.read(|db| db.sites()).unwrap()[0].answers, settings);
        assert!(matches!(
            store.read(|db| db.set_answer_settings("nope", &settings)),
            Err(StoreError::UnknownSite(_))
        ));
    }
}

/// What a submission sets in motion, in the transaction that stores it: its deadline, a
/// notice to each owner who wants every one, and the visitor's acknowledgement when the site
/// sends them (not to an address that unsubscribed, and nothing at all for spam). Resolving
/// it tells the visitor once, when the site says so.
#[tokio::test]
async fn submissions_set_deadlines_notices_and_acknowledgements() {
    use crate::model::{
        AnswerSettings, MailKind, NewReply, NotifyFeedback, OwnerNotifications, ReplyOutcome,
    };
    for database in databases() {
        let store = store_with_site(&database.location);
        let owner = store
            .read(|db| db.add_user("each@example.com", "hash", None))
            .unwrap();
        store
            .read(|db| db.add_user("daily@example.com", "hash", None))
            .unwrap();
        store
            .read(|db| {
                db.set_owner_notifications(
                    owner.id,
                    &OwnerNotifications {
                        feedback: NotifyFeedback::Each,
                        answers: false,
                    },
                )
            })
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.owner_notifications(owner.id))
                .unwrap()
                .feedback,
            NotifyFeedback::Each
        );
        store
            .read(|db| {
                db.set_answer_settings(
                    "demo",
                    &AnswerSettings {
                        answer_hours: 2,
                        acknowledge: true,
                        notify_resolved: true,
                        ..AnswerSettings::default()
                    },
                )
            })
            .unwrap();
        assert!(
            store
                .read(|db| db.unsubscribe("demo", " Quiet@Example.com ", 500))
                .unwrap()
        );
        assert!(
            store
                .read(|db| db.is_unsubscribed("demo", "quiet@example.com"))
                .unwrap()
        );
        assert!(
            !store
                .read(|db| db.unsubscribe("nope", "quiet@example.com", 500))
                .unwrap()
        );

        let mut ids = Vec::new();
        for (email, spam) in [
            (Some("visitor@example.com"), false),
            (Some("quiet@example.com"), false),
            (None, false),
            (Some("spammer@example.com"), true),
        ] {
            let id = Uuid::new_v4();
            let mut s = submission("demo", id);
            s.email = email.map(str::to_owned);
            let pending = Pending {
                submission: s,
                received_at: 1_000,
                spam,
            };
            store.read(|db| db.write_batch(&[&pending])).unwrap();
            ids.push(id.to_string());
        }
        let row = |n: usize| {
            store
                .read(|db| db.feedback_by_id(&ids[n]))
                .unwrap()
                .unwrap()
        };
        assert_eq!(row(0).answer_by, Some(1_000 + 2 * 3_600_000));
        assert_eq!(row(2).answer_by, None, "no address, nobody to answer");
        assert_eq!(row(3).answer_by, None, "spam awaits nothing");
        let kinds = |n: usize| {
            store
                .read(|db| db.mail_for(&ids[n]))
                .unwrap()
                .into_iter()
                .map(|mail| (mail.kind, mail.recipient))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        };
        let each = "each@example.com".to_owned();
        assert_eq!(
            kinds(0),
            [
                (MailKind::NewFeedback, each.clone()),
                (MailKind::Acknowledgement, "visitor@example.com".to_owned())
            ],
            "{:?}",
            database.location
        );
        assert_eq!(
            kinds(1),
            [(MailKind::NewFeedback, each.clone())],
            "unsubscribed"
        );
        assert_eq!(kinds(2), [(MailKind::NewFeedback, each)]);
        assert!(kinds(3).is_empty(), "nothing for spam");
        assert_eq!(
            store
                .read(|db| db.add_reply(&NewReply {
                    feedback_id: ids[1].clone(),
                    author_email: "each@example.com".into(),
                    body: "hi".into(),
                    now: 2_000,
                }))
                .unwrap(),
            ReplyOutcome::Unsubscribed
        );

        for _ in 0..2 {
            store
                .read(|db| db.triage(&ids[0], FeedbackStatus::Resolved, ""))
                .unwrap();
        }
        let resolved = kinds(0)
            .into_iter()
            .filter(|(kind, _)| *kind == MailKind::Resolved)
            .count();
        assert_eq!(resolved, 1, "told once");

        // Unsubscribing gives up what still waits for the address.
        store
            .read(|db| db.unsubscribe("demo", "visitor@example.com", 3_000))
            .unwrap();
        let states: Vec<_> = store
            .read(|db| db.mail_for(&ids[0]))
            .unwrap()
            .into_iter()
            .filter(|mail| mail.kind.to_visitor())
            .map(|mail| (mail.state, mail.last_error))
            .collect();
        assert_eq!(states.len(), 2, "the acknowledgement and the resolution");
        assert!(
            states.iter().all(
                |(state, error)| *state == crate::model::DeliveryState::Failed
                    && error.as_deref() == Some("the visitor unsubscribed")
            ),
            "{states:?}"
        );
    }
}

#[test]
fn variants_of_one_mailbox_have_one_key() {
    for (variant, key) in [
        (" Victim@Example.com ", "victim@example.com"),
        ("victim+1@example.com", "victim@example.com"),
        ("victim+a+b@example.com", "victim@example.com"),
        ("v.i.c.t.i.m@example.com", "v.i.c.t.i.m@example.com"),
        ("v.i.c.t.i.m+6@Gmail.com", "victim@gmail.com"),
        ("vic.tim@googlemail.com", "victim@gmail.com"),
        ("no-at-sign", "no-at-sign"),
    ] {
        assert_eq!(mailbox_key(variant), key, "{variant}");
    }
    assert_eq!(
        email_hash("victim+2@gmail.com"),
        email_hash("V.ICTIM@googlemail.com")
    );
}

/// "One acknowledgement per address per day" counts mailboxes, not spellings: variants of
/// one address in one batch, in later batches and from another collector get one between
/// them, and unsubscribing one spelling stops every other.
#[tokio::test]
async fn one_acknowledgement_a_day_per_mailbox_and_unsubscribes_cover_variants() {
    use crate::model::{AnswerSettings, DeliveryState, MailKind, NewReply, ReplyOutcome};
    const DAY: i64 = 86_400_000;
    for database in databases() {
        let store = store_with_site(&database.location);
        let other = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        store
            .read(|db| {
                db.set_answer_settings(
                    "demo",
                    &AnswerSettings {
                        acknowledge: true,
                        ..AnswerSettings::default()
                    },
                )
            })
            .unwrap();
        let pending = |email: &str, received_at: i64| {
            let mut s = submission("demo", Uuid::new_v4());
            s.email = Some(email.to_owned());
            Pending {
                submission: s,
                received_at,
                spam: false,
            }
        };
        let acknowledged = |jobs: &[Pending]| -> Vec<String> {
            jobs.iter()
                .flat_map(|job| {
                    store
                        .read(|db| db.mail_for(&job.submission.id.to_string()))
                        .unwrap()
                })
                .filter(|mail| mail.kind == MailKind::Acknowledgement)
                .map(|mail| mail.recipient)
                .collect()
        };
        let day_one = 20 * DAY + 1_000;
        let batch: Vec<Pending> = [
            "victim+1@gmail.com",
            "v.i.c.t.i.m@googlemail.com",
            "Victim@Gmail.com",
            "someone@example.com",
            "someone+2@example.com",
        ]
        .iter()
        .map(|email| pending(email, day_one))
        .collect();
        let refs: Vec<&Pending> = batch.iter().collect();
        store.read(|db| db.write_batch(&refs)).unwrap();
        assert_eq!(
            acknowledged(&batch),
            ["victim+1@gmail.com", "someone@example.com"],
            "one a mailbox, the first of the batch: {:?}",
            database.location
        );
        let later = [
            pending("victim+9@gmail.com", day_one + 3_600_000),
            pending("SOMEONE@example.com", day_one + 7_200_000),
        ];
        other.read(|db| db.write_batch(&[&later[0]])).unwrap();
        store.read(|db| db.write_batch(&[&later[1]])).unwrap();
        assert!(
            acknowledged(&later).is_empty(),
            "once a day, on any collector"
        );
        let next_day = [pending("victim+3@gmail.com", day_one + DAY)];
        store.read(|db| db.write_batch(&[&next_day[0]])).unwrap();
        assert_eq!(acknowledged(&next_day), ["victim+3@gmail.com"]);

        // Unsubscribing one spelling stops every spelling: what waits is given up, nothing
        // new is queued, and no reply can be written to it.
        assert!(
            store
                .read(|db| db.unsubscribe("demo", "VICTIM@gmail.com", day_one + DAY))
                .unwrap()
        );
        let given_up: Vec<_> = [&batch[0], &next_day[0]]
            .iter()
            .flat_map(|job| {
                store
                    .read(|db| db.mail_for(&job.submission.id.to_string()))
                    .unwrap()
            })
            .filter(|mail| mail.kind == MailKind::Acknowledgement)
            .map(|mail| (mail.state, mail.last_error))
            .collect();
        assert_eq!(given_up.len(), 2);
        assert!(
            given_up
                .iter()
                .all(|(state, error)| *state == DeliveryState::Failed
                    && error.as_deref() == Some("the visitor unsubscribed")),
            "{given_up:?}"
        );
        let someone = store
            .read(|db| db.mail_for(&batch[3].submission.id.to_string()))
            .unwrap();
        assert!(
            someone
                .iter()
                .all(|mail| mail.state == DeliveryState::Pending),
            "another mailbox's mail still waits: {someone:?}"
        );
        assert!(
            store
                .read(|db| db.is_unsubscribed("demo", "v.ictim+news@googlemail.com"))
                .unwrap()
        );
        let third_day = [pending("victim+4@gmail.com", day_one + 2 * DAY)];
        store.read(|db| db.write_batch(&[&third_day[0]])).unwrap();
        assert!(acknowledged(&third_day).is_empty(), "unsubscribed");
        assert_eq!(
            store
                .read(|db| db.add_reply(&NewReply {
                    feedback_id: third_day[0].submission.id.to_string(),
                    author_email: "owner@example.com".into(),
                    body: "hi".into(),
                    now: day_one + 2 * DAY,
                }))
                .unwrap(),
            ReplyOutcome::Unsubscribed
        );

        // Old days are forgotten with retention's pass; the key still holds for today.
        store
            .read(|db| db.apply_retention(day_one + 3 * DAY))
            .unwrap();
        let fourth_day = [
            pending("someone+x@example.com", day_one + 3 * DAY),
            pending("someone@example.com", day_one + 3 * DAY + 1),
        ];
        let refs: Vec<&Pending> = fourth_day.iter().collect();
        store.read(|db| db.write_batch(&refs)).unwrap();
        assert_eq!(acknowledged(&fourth_day), ["someone+x@example.com"]);
    }
}

/// An owner's notices past their hourly bound are folded: recorded as such, and listed in
/// one catch-up email queued for later, whichever collector folds them.
#[tokio::test]
async fn notices_past_the_bound_fold_into_one_catch_up_email() {
    use crate::model::{DeliveryState, MailKind};
    for database in databases() {
        let store = store_with_site(&database.location);
        let other = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        let owner = owner_hearing_of_everything(&store, "busy@example.com");
        let mut ids = Vec::new();
        for n in 0..3 {
            let id = Uuid::new_v4();
            store
                .submit(submission("demo", id), 1_000 + n)
                .await
                .unwrap();
            ids.push(id.to_string());
        }
        let notices = store
            .read(|db| db.claim_due_mail(2_000, 60_000, 100))
            .unwrap();
        assert_eq!(notices.len(), 3, "{:?}", database.location);
        for (n, notice) in notices.iter().enumerate() {
            let collector = if n == 1 { &other } else { &store };
            collector
                .read(|db| db.fold_notice(notice, 2_000 + n as i64, 3_602_000))
                .unwrap();
        }
        for id in &ids {
            let mail = store.read(|db| db.mail_for(id)).unwrap();
            assert_eq!(mail.len(), 1);
            assert_eq!(mail[0].state, DeliveryState::Failed);
            assert!(
                mail[0].last_error.as_deref().unwrap().contains("catch-up"),
                "{mail:?}"
            );
        }
        assert!(
            store
                .read(|db| db.claim_due_mail(3_601_999, 3_700_000, 100))
                .unwrap()
                .is_empty(),
            "the catch-up email waits its hour"
        );
        let due = store
            .read(|db| db.claim_due_mail(3_602_000, 3_700_000, 100))
            .unwrap();
        assert_eq!(due.len(), 1, "one catch-up email: {due:?}");
        let catch_up = &due[0];
        assert_eq!(catch_up.kind, MailKind::CatchUp);
        assert_eq!(catch_up.user_id, Some(owner.id));
        assert_eq!(catch_up.recipient, "busy@example.com");
        assert_eq!(catch_up.window, Some((2_000, 3_602_000)));
        let folded = store
            .read(|db| db.folded_notices(owner.id, 2_000, 3_602_000))
            .unwrap();
        assert_eq!(
            folded
                .iter()
                .map(|notice| notice.feedback_id.clone().unwrap())
                .collect::<Vec<_>>(),
            ids
        );
        assert!(
            folded
                .iter()
                .all(|notice| notice.kind == MailKind::NewFeedback
                    && notice.site.as_deref() == Some("demo"))
        );
        store
            .read(|db| {
                db.record_mail(
                    catch_up.id,
                    &DeliveryAttempt {
                        state: DeliveryState::Delivered,
                        attempts: 1,
                        status: None,
                        error: None,
                        next_attempt_at: 3_602_100,
                        now: 3_602_100,
                    },
                )
            })
            .unwrap();
        // A notice folded after that one went starts the next where it ended.
        store
            .read(|db| db.fold_notice(&notices[0], 3_700_000, 7_300_000))
            .unwrap();
        let next = store
            .read(|db| db.claim_due_mail(7_300_000, 7_400_000, 100))
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].window, Some((3_602_000, 7_300_000)));
    }
}

/// Deadlines: the inbox's filters and order, the reminders (once, whichever collector
/// queues them), and the records behind the share of promises kept.
#[tokio::test]
async fn deadlines_filter_order_remind_and_count() {
    use crate::model::{MailKind, NewReply};
    for database in databases() {
        let store = store_with_site(&database.location);
        store
            .read(|db| db.add_user("owner@example.com", "hash", None))
            .unwrap();
        let hour = 3_600_000;
        let mut ids = Vec::new();
        for (n, at) in [0, hour, 2 * hour].into_iter().enumerate() {
            let id = Uuid::new_v4();
            let mut s = submission("demo", id);
            s.email = Some(format!("v{n}@example.com"));
            store.submit(s, at).await.unwrap();
            ids.push(id.to_string());
        }
        store
            .submit(submission("demo", Uuid::new_v4()), 0)
            .await
            .unwrap();
        // The first is answered in time, the second not at all, the third is not due yet.
        store
            .read(|db| {
                db.add_reply(&NewReply {
                    feedback_id: ids[0].clone(),
                    author_email: "owner@example.com".into(),
                    body: "done".into(),
                    now: hour,
                })
            })
            .unwrap();
        let now = 49 * hour + 1;
        let listed = |awaiting: Awaiting, page: Page| {
            let filter = FeedbackFilter {
                awaiting: Some(awaiting),
                ..FeedbackFilter::default()
            };
            let mut rows = Vec::new();
            store
                .read(|db| {
                    db.for_each_feedback_in(&["demo".to_owned()], &filter, page, &mut |row| {
                        rows.push(row.id);
                        Ok(())
                    })
                })
                .unwrap();
            rows
        };
        let first = Page::DeadlineFirst {
            offset: 0,
            limit: 10,
        };
        assert_eq!(
            listed(Awaiting::Answer, first),
            [ids[1].clone(), ids[2].clone()]
        );
        assert_eq!(listed(Awaiting::Overdue(now), first), [ids[1].clone()]);
        assert_eq!(listed(Awaiting::Nothing, Page::All).len(), 2);

        let other = Store::open_at(&database.location, Durability::PowerLoss).unwrap();
        let lead = 5 * hour / 2;
        let reminded = store
            .read(|db| db.queue_reminders(47 * hour, lead))
            .unwrap()
            + other
                .read(|db| db.queue_reminders(47 * hour, lead))
                .unwrap();
        assert_eq!(reminded, 1, "only the second is due within the lead");
        assert_eq!(
            store.read(|db| db.queue_reminders(now, lead)).unwrap(),
            1,
            "then the third"
        );
        assert_eq!(
            store.read(|db| db.queue_reminders(now, lead)).unwrap(),
            0,
            "once each"
        );
        let reminders = store
            .read(|db| db.mail_for(&ids[1]))
            .unwrap()
            .into_iter()
            .filter(|mail| mail.kind == MailKind::Reminder)
            .count();
        assert_eq!(reminders, 1);

        let mut records = store
            .read(|db| db.answer_records(&["demo".to_owned()], 0, now))
            .unwrap();
        records.sort_by_key(|record| record.received_at);
        assert_eq!(records.len(), 3, "only those with a deadline");
        assert_eq!(records[0].first_answer_at, Some(hour));
        assert_eq!(records[0].answered_by.as_deref(), Some("owner@example.com"));
        assert_eq!(records[1].first_answer_at, None);
    }
}

/// Digests: the first look starts the owner's period; once it has passed, one digest covers
/// what arrived in it, and the next period starts.
#[tokio::test]
async fn digests_cover_each_period_once() {
    use crate::model::{NotifyFeedback, OwnerNotifications};
    for database in databases() {
        let store = store_with_site(&database.location);
        let owner = store
            .read(|db| db.add_user("owner@example.com", "hash", None))
            .unwrap();
        store
            .read(|db| {
                db.set_owner_notifications(
                    owner.id,
                    &OwnerNotifications {
                        feedback: NotifyFeedback::Hourly,
                        answers: true,
                    },
                )
            })
            .unwrap();
        let hour = 3_600_000;
        // A digest ends this long before the time it is made.
        let settle = crate::mail_sql::DIGEST_SETTLE_MS;
        assert_eq!(
            store
                .read(|db| db.queue_digests(10 * hour + settle))
                .unwrap(),
            0
        );
        store
            .submit(submission("demo", Uuid::new_v4()), 10 * hour + 5)
            .await
            .unwrap();
        store
            .submit(submission("demo", Uuid::new_v4()), 10 * hour + 6)
            .await
            .unwrap();
        assert_eq!(
            store
                .read(|db| db.queue_digests(10 * hour + 10 + settle))
                .unwrap(),
            0,
            "too soon"
        );
        assert_eq!(
            store
                .read(|db| db.queue_digests(11 * hour + settle))
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .read(|db| db.queue_digests(11 * hour + 1 + settle))
                .unwrap(),
            0,
            "once"
        );
        let due = store
            .read(|db| db.claim_due_mail(12 * hour, 13 * hour, 10))
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].window, Some((10 * hour, 11 * hour)));
        let (count, rows) = store
            .read(|db| db.digest_feedback(owner.id, 10 * hour, 11 * hour, 1))
            .unwrap();
        assert_eq!((count, rows.len()), (2, 1));
        assert_eq!(
            store
                .read(|db| db.queue_digests(12 * hour + settle))
                .unwrap(),
            0,
            "nothing new"
        );
    }
}

/// The statistics read whole hours from the counts the triggers keep and partial hours from
/// the submissions: whatever arrives, is erased, expires, is triaged or (on PostgreSQL) is
/// merged, they give what counting every submission by hand gives, for ranges on and off
/// the hour, on both engines.
#[tokio::test]
async fn statistics_from_the_counts_match_counting_every_submission() {
    use crate::contract::{Buckets, FeedbackStatus, Page, SpamFilter, StatsRows};
    use std::collections::{BTreeMap, HashMap};

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 86_400_000;
    // A whole day, well in the past (retention works from a given `now`).
    let start = 20_000 * DAY;
    // A small deterministic generator: the same submissions on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let pages = [
        "https://shop.example/",
        "https://shop.example/cart?step=2",
        "https://shop.example/cart#pay",
        "https://shop.example/help",
        "https://shop.example/help?q=refund#top",
        "https://shop.example/about",
    ];
    let mut submissions = Vec::new();
    for _ in 0..600 {
        let kind = RatingKind::ALL[next(4) as usize];
        let (low, high) = kind.bounds();
        let mut s = submission(if next(5) == 0 { "other" } else { "demo" }, Uuid::new_v4());
        s.rating = Rating {
            kind,
            value: low + next(u64::from(high - low) + 1) as u8,
        };
        s.page_url = pages[next(pages.len() as u64) as usize].into();
        if next(10) == 0 {
            s.honeypot = "bot".into(); // spam: counted nowhere
        }
        if next(8) == 0 {
            s.email = Some("erase.me@example.com".into());
        }
        // Three days, at any millisecond.
        submissions.push((s, start + next(3 * DAY as u64) as i64));
    }

    /// The statistics as the engine gives them, with each rating key's counts added up
    /// (whole and partial hours come back as separate rows).
    fn summed(rows: StatsRows) -> (BTreeMap<(String, u8, i64), u64>, StatsRows) {
        let mut ratings = BTreeMap::new();
        for r in &rows.ratings {
            *ratings
                .entry((r.kind.as_str().to_owned(), r.value, r.bucket))
                .or_default() += r.count;
        }
        (ratings, rows)
    }

    for database in databases() {
        let store = store_with_sites(&database.location);
        // Concurrently, so that PostgreSQL's writer inserts several in one statement.
        let mut waiting = Vec::new();
        for (s, at) in submissions.clone() {
            let store = store.clone();
            waiting.push(tokio::spawn(async move { store.submit(s, at).await }));
        }
        for handle in waiting {
            handle.await.unwrap().unwrap();
        }
        store
            .read(|db| {
                db.erase_email("erase.me@example.com", &["demo".into(), "other".into()])?;
                // "other" keeps two days: its first day expires.
                db.set_retention("other", Some(2))?;
                assert!(db.apply_retention(start + 3 * DAY)? > 0);
                // Triage changes nothing counted.
                let mut ids = Vec::new();
                db.for_each_feedback_in(
                    &["demo".into()],
                    &FeedbackFilter::default(),
                    Page::All,
                    &mut |row| {
                        ids.push(row.id);
                        Ok(())
                    },
                )?;
                for id in ids.iter().step_by(7) {
                    db.triage(id, FeedbackStatus::Resolved, "done")?;
                }
                Ok(())
            })
            .unwrap();

        let check = |label: &str| {
            let everything = FeedbackFilter {
                spam: SpamFilter::Include,
                ..Default::default()
            };
            let mut rows = Vec::new();
            store
                .read(|db| {
                    db.for_each_feedback_in(
                        &["demo".into(), "other".into()],
                        &everything,
                        Page::All,
                        &mut |row| {
                            rows.push(row);
                            Ok(())
                        },
                    )
                })
                .unwrap();
            let ranges = [
                (start, start + 3 * DAY, 86_400_000),
                (
                    start + HOUR / 3,
                    start + 2 * DAY + 5 * HOUR + 17,
                    86_400_000,
                ),
                (
                    start + 7 * HOUR + 1,
                    start + 7 * HOUR + 2_000_000,
                    86_400_000,
                ),
                (start + DAY - 1, start + 2 * DAY + 1, 7 * 86_400_000),
                (start - DAY, start + HOUR, 86_400_000),
                // Ends in empty hours and days (as "until now" does): read from the counts.
                (start - 3 * HOUR - 1, start + 4 * DAY + 123, 86_400_000),
                (
                    start + 2 * DAY + 23 * HOUR + 1,
                    start + 3 * DAY + 5,
                    86_400_000,
                ),
            ];
            for sites in [
                vec!["demo".to_owned()],
                vec!["demo".into(), "other".into()],
                vec![],
            ] {
                for (from, to, width_ms) in ranges {
                    let first = from - from.rem_euclid(DAY);
                    let buckets = Buckets { first, width_ms };
                    let (ratings, got) = summed(
                        store
                            .read(|db| db.feedback_stats(&sites, from, to, buckets))
                            .unwrap(),
                    );
                    // By hand, from every submission.
                    let counted: Vec<&FeedbackRow> = rows
                        .iter()
                        .filter(|r| {
                            !r.spam
                                && sites.contains(&r.site)
                                && r.received_at >= from
                                && r.received_at < to
                        })
                        .collect();
                    let mut expected = BTreeMap::new();
                    let mut by_page: HashMap<String, (u64, u64)> = HashMap::new();
                    for r in &counted {
                        let bucket = (r.received_at - first) / width_ms;
                        *expected
                            .entry((r.rating.kind.as_str().to_owned(), r.rating.value, bucket))
                            .or_insert(0u64) += 1;
                        let page = r.page_url.split(['?', '#']).next().unwrap().to_owned();
                        let (low, high) = r.rating.kind.bounds();
                        let points = u64::from(r.rating.value - low) * 100 / u64::from(high - low);
                        let entry = by_page.entry(page).or_default();
                        entry.0 += 1;
                        entry.1 += points;
                    }
                    let mut pages: Vec<(String, u64, f64)> = by_page
                        .into_iter()
                        .filter(|(_, (n, _))| *n >= crate::STATS_MIN_PAGE_RATINGS)
                        .map(|(page, (n, points))| (page, n, points as f64 / n as f64))
                        .collect();
                    pages.sort_by(|a, b| {
                        a.2.total_cmp(&b.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
                    });
                    pages.truncate(crate::STATS_PAGES);
                    let context = format!(
                        "{label}, {:?}, sites {sites:?}, {from}..{to}",
                        database.location
                    );
                    assert_eq!(ratings, expected, "{context}");
                    let got_pages: Vec<(String, u64, f64)> = got
                        .pages
                        .iter()
                        .map(|p| (p.url.clone(), p.count, p.satisfaction))
                        .collect();
                    assert_eq!(got_pages, pages, "{context}");
                }
            }
        };
        check("as written");
        let rows = store.read(|db| db.compact_stats()).unwrap();
        check("merged");
        // Merging leaves one row per key: at most one per site, period (72 hours, 3 days),
        // kind and value.
        assert!(rows <= 2 * (72 + 3) * 23, "{rows} rows of counts");
        let again = store.read(|db| db.compact_stats()).unwrap();
        assert_eq!(again, rows, "merging twice changes nothing");
    }
}

#[tokio::test]
async fn screenshots_are_kept_once_and_go_with_their_feedback() {
    const DAY: i64 = 86_400_000;
    for database in databases() {
        let store = store_with_sites(&database.location);
        let [kept, erased, old, other] = [(); 4].map(|()| Uuid::new_v4());
        let now = 10 * DAY;
        store.submit(submission("demo", kept), now).await.unwrap();
        let mut with_email = submission("demo", erased);
        with_email.email = Some("gone@example.com".into());
        store.submit(with_email, now).await.unwrap();
        store.submit(submission("demo", old), 1).await.unwrap();
        store.submit(submission("other", other), now).await.unwrap();
        let shot = |id: Uuid, marker: u8| Screenshot {
            feedback_id: id.to_string(),
            content_type: "image/png".into(),
            width: 1280,
            height: 800,
            image: vec![marker; 3_000],
            thumbnail: vec![marker; 300],
            created_at: now,
        };
        let size = |id: Uuid| {
            store
                .read(move |db| db.screenshot_size(&id.to_string()))
                .unwrap()
        };
        store
            .read(|db| {
                assert!(db.add_screenshot(&shot(kept, 1))?);
                assert!(!db.add_screenshot(&shot(kept, 2))?, "one per submission");
                for id in [erased, old, other] {
                    assert!(db.add_screenshot(&shot(id, 3))?);
                }
                let id = kept.to_string();
                assert_eq!(
                    db.screenshot_image(&id, false)?,
                    Some(("image/png".to_owned(), vec![1; 3_000]))
                );
                assert_eq!(
                    db.screenshot_image(&id, true)?,
                    Some(("image/png".to_owned(), vec![1; 300]))
                );
                assert_eq!(db.screenshot_image("no-such-id", false)?, None);
                Ok(())
            })
            .unwrap();
        assert_eq!(size(kept), Some((1280, 800)));

        // Erasure, retention and the site's deletion take the screenshots along.
        store
            .read(|db| db.erase_email("gone@example.com", &["demo".into()]))
            .unwrap();
        assert_eq!(size(erased), None, "{:?}: erasure", database.location);
        store
            .read(move |db| {
                db.set_retention("demo", Some(1))?;
                db.apply_retention(now)
            })
            .unwrap();
        assert_eq!(size(old), None, "{:?}: retention", database.location);
        store.read(|db| db.delete_site("other")).unwrap();
        assert_eq!(size(other), None, "{:?}: the site", database.location);
        assert_eq!(size(kept), Some((1280, 800)), "the rest stays");
    }
}

/// Who waits on whom: a visitor's answer after an owner's reply puts the conversation back
/// on us, unread, with a deadline counted from that answer, which is a promise of its own;
/// one sent while an answer is owed already keeps the earlier deadline.
#[tokio::test]
async fn a_visitors_answer_puts_the_conversation_back_on_us() {
    use crate::model::{Author, NewReply};
    for database in databases() {
        let store = store_with_site(&database.location);
        let hour = 3_600_000;
        let id = Uuid::new_v4();
        let mut s = submission("demo", id);
        s.email = Some("ada@example.com".into());
        store.submit(s, 0).await.unwrap();
        let id = id.to_string();
        let row = |store: &Store| store.read(|db| db.feedback_by_id(&id)).unwrap().unwrap();
        let reply = |now: i64| {
            store
                .read(|db| {
                    db.add_reply(&NewReply {
                        feedback_id: id.clone(),
                        author_email: "owner@example.com".into(),
                        body: "Which browser?".into(),
                        now,
                    })
                })
                .unwrap()
        };
        let awaiting = |store: &Store| {
            let filter = FeedbackFilter {
                awaiting: Some(Awaiting::Answer),
                ..FeedbackFilter::default()
            };
            store
                .read(|db| db.count_feedback_in(&["demo".to_owned()], &filter))
                .unwrap()
        };
        assert_eq!(row(&store).waiting(), Waiting::OnUs { by: 48 * hour });
        reply(hour);
        assert_eq!(row(&store).waiting(), Waiting::OnVisitor);
        assert_eq!(awaiting(&store), 0);

        store
            .read(|db| db.add_visitor_answer(&id, "Safari 18, on the  checkout page", 10 * hour))
            .unwrap()
            .unwrap();
        let answered = row(&store);
        assert_eq!(
            answered.waiting(),
            Waiting::OnUs { by: 58 * hour },
            "{:?}",
            database.location
        );
        assert!(answered.unread);
        let latest = answered.latest.clone().unwrap();
        assert_eq!(latest.author, Author::Visitor);
        assert_eq!(latest.words, "Safari 18, on the  checkout page");
        assert_eq!(latest.at, 10 * hour);
        assert_eq!(awaiting(&store), 1, "needs an answer again");

        // More from the visitor before anyone answered: the deadline stands.
        store
            .read(|db| db.add_visitor_answer(&id, "And Firefox", 11 * hour))
            .unwrap();
        assert_eq!(row(&store).waiting(), Waiting::OnUs { by: 58 * hour });
        store.read(|db| db.mark_read(&id)).unwrap();
        assert!(!row(&store).unread);

        // Answered late: the first promise was kept, the follow-up broken.
        reply(70 * hour);
        assert_eq!(row(&store).waiting(), Waiting::OnVisitor);
        let mut records = store
            .read(|db| db.answer_records(&["demo".to_owned()], 0, 100 * hour))
            .unwrap();
        records.sort_by_key(|record| record.received_at);
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(
            (
                records[0].follow_up,
                records[0].answer_by,
                records[0].first_answer_at
            ),
            (false, 48 * hour, Some(hour))
        );
        assert_eq!(
            (
                records[1].follow_up,
                records[1].answer_by,
                records[1].first_answer_at
            ),
            (true, 58 * hour, Some(70 * hour))
        );
        assert_eq!(records[1].answered_by.as_deref(), Some("owner@example.com"));

        // Resolved, then the visitor writes again: it is back on us.
        store
            .read(|db| db.triage(&id, FeedbackStatus::Resolved, ""))
            .unwrap();
        assert_eq!(row(&store).waiting(), Waiting::Closed);
        store
            .read(|db| db.add_visitor_answer(&id, "It broke again", 80 * hour))
            .unwrap();
        let reopened = row(&store);
        assert_eq!(reopened.status, FeedbackStatus::InProgress);
        assert_eq!(reopened.waiting(), Waiting::OnUs { by: 128 * hour });
    }
}

/// Spam an owner says is not: it counts in the listings and the statistics from then on,
/// waits on us from then, and nothing of long ago is sent for it.
#[tokio::test]
async fn spam_restored_counts_everywhere_and_sends_nothing() {
    for database in databases() {
        let store = store_with_site(&database.location);
        owner_hearing_of_everything(&store, "owner@example.com");
        let id = Uuid::new_v4();
        let mut s = submission("demo", id);
        s.email = Some("ada@example.com".into());
        s.open_ms = 10;
        store.submit(s, 1_000).await.unwrap();
        let id = id.to_string();
        let sites = ["demo".to_owned()];
        let buckets = Buckets {
            first: 0,
            width_ms: 86_400_000,
        };
        let counted = |store: &Store| {
            let stats = store
                .read(|db| db.feedback_stats(&sites, 0, 86_400_000, buckets))
                .unwrap();
            let ratings: u64 = stats.ratings.iter().map(|r| r.count).sum();
            let listed = store
                .read(|db| db.count_feedback_in(&sites, &FeedbackFilter::default()))
                .unwrap();
            (listed, ratings)
        };
        assert!(
            store
                .read(|db| db.feedback_by_id(&id))
                .unwrap()
                .unwrap()
                .spam
        );
        assert_eq!(counted(&store), (0, 0));
        assert!(store.read(|db| db.restore_spam(&id, 5_000)).unwrap());
        assert!(
            !store.read(|db| db.restore_spam(&id, 6_000)).unwrap(),
            "once"
        );
        assert_eq!(counted(&store), (1, 1), "{:?}", database.location);
        let row = store.read(|db| db.feedback_by_id(&id)).unwrap().unwrap();
        assert!(!row.spam);
        assert_eq!(
            row.waiting(),
            Waiting::OnUs {
                by: 5_000 + 48 * 3_600_000
            }
        );
        assert!(
            store.read(|db| db.mail_for(&id)).unwrap().is_empty(),
            "no notice of long ago"
        );
        assert_eq!(store.read(|db| db.pending_mail()).unwrap(), 0);
    }
}

/// A visitor who stopped all email cannot be answered: their conversations leave "needs an
/// answer" and count as "could not answer" (new ones too); one whose replies they kept stays
/// owed; an undo puts everything back.
#[tokio::test]
async fn an_unsubscribed_visitor_is_owed_nothing_until_the_undo() {
    for database in databases() {
        let store = store_with_site(&database.location);
        let mut ids = Vec::new();
        for at in [0, 1] {
            let id = Uuid::new_v4();
            let mut s = submission("demo", id);
            s.email = Some("Ada@Example.com ".into());
            store.submit(s, at).await.unwrap();
            ids.push(id.to_string());
        }
        let row = |id: &str| store.read(|db| db.feedback_by_id(id)).unwrap().unwrap();
        let email = "ada@example.com";
        store
            .read(|db| {
                db.unsubscribe("demo", email, 10)?;
                db.mark_unsubscribed("demo", email, Some(&ids[1]), 10)
            })
            .unwrap();
        assert_eq!(
            row(&ids[0]).waiting(),
            Waiting::Unsubscribed,
            "{:?}",
            database.location
        );
        assert!(
            matches!(row(&ids[1]).waiting(), Waiting::OnUs { .. }),
            "kept"
        );
        assert!(row(&ids[1]).replies_kept);
        let records = store
            .read(|db| db.answer_records(&["demo".to_owned()], 0, 100))
            .unwrap();
        assert_eq!(
            records.iter().filter(|record| record.unreachable).count(),
            1
        );
        // A new one from the address: nobody can answer it.
        let later = Uuid::new_v4();
        let mut s = submission("demo", later);
        s.email = Some(email.into());
        store.submit(s, 20).await.unwrap();
        assert_eq!(row(&later.to_string()).waiting(), Waiting::Unsubscribed);

        assert_eq!(
            store.read(|db| db.unsubscribed_at("demo", email)).unwrap(),
            Some(10)
        );
        assert!(
            !store
                .read(|db| db.resubscribe("demo", email, 11, 30))
                .unwrap(),
            "too late to undo"
        );
        assert!(
            store
                .read(|db| db.resubscribe("demo", email, 5, 30))
                .unwrap()
        );
        assert!(matches!(row(&ids[0]).waiting(), Waiting::OnUs { .. }));
        assert!(!row(&ids[1]).replies_kept);
        assert!(!store.read(|db| db.is_unsubscribed("demo", email)).unwrap());
    }
}
