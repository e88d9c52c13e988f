//! Answering visitors, end to end on real parts: the real binary sends through a real SMTP
//! server (Postfix's smtp-sink), the tests read the messages it received with a MIME parser,
//! and a real Chromium follows the link, answers, and sees the answer in the dashboard. On
//! SQLite and on PostgreSQL.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::browser::{self, Browser};
use common::collector::{Collector, Engine, feedback_body, http};
use common::eventually;
use common::mail::{Cut, Cutter, Mail, SmtpSink};
use common::owner::OwnerSession;
use fantoccini::Locator;

const OWNER: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery";
const SHOP: &str = "https://shop.example";
const FROM: &str = "feedback@shop.example";

fn mail_args(smtp_url: &str) -> Vec<String> {
    vec![
        "--smtp-url".into(),
        smtp_url.into(),
        "--mail-from".into(),
        FROM.into(),
        "--mail-retry-secs".into(),
        "1".into(),
        // Many submissions from one test client.
        "--rate-limit-visitor".into(),
        "0".into(),
    ]
}

fn start(engine: &Engine, smtp_url: &str) -> Collector {
    let args = mail_args(smtp_url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let collector = Collector::start_on(engine, &[SHOP], &args);
    collector.add_user(OWNER, PASSWORD, &[]);
    collector
}

/// Saves the demo site's "Answers and email" settings, as its page does.
fn set_answers(owner: &OwnerSession, fields: &[(&str, &str)]) {
    let (status, _) = owner.post("/admin/sites/demo", "/admin/sites/demo/answers", fields);
    assert_eq!(status, 303);
}

/// The owner asks for an email of each new submission and of each answer.
fn hear_of_everything(owner: &OwnerSession) {
    let (status, _) = owner.post(
        "/admin/account",
        "/admin/account",
        &[("feedback", "each"), ("answers", "on")],
    );
    assert_eq!(status, 303);
}

/// Leaves feedback with an email address, as the widget does; returns its id.
fn feedback_with_email(collector: &Collector, comment: &str, email: &str, locale: &str) -> String {
    let body = feedback_body(
        comment,
        serde_json::json!({ "email": email, "locale": locale }),
    );
    assert_eq!(collector.post_feedback(&http(), SHOP, &body), 201);
    body["id"].as_str().unwrap().to_owned()
}

/// The text of the first element matching `css`, once there is one (a page being loaded
/// after a form was sent is waited for).
async fn text(browser: &Browser, css: &str) -> String {
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn submit(browser: &Browser, form: &str, field: &str, words: &str) {
    browser
        .client
        .find(Locator::Css(&format!("{form} {field}")))
        .await
        .unwrap()
        .send_keys(words)
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The owner replies in the dashboard; the visitor gets it by email in their language, from
/// the site's name with its reply address, their feedback quoted and escaped, and a link;
/// they follow it, answer, and the owner is told and sees the answer in the thread.
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_reaches_the_visitor_and_their_answer_reaches_the_owner() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(browser) = browser::start().await else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink.url());
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        set_answers(
            &owner,
            &[("reply_to", "support@shop.example"), ("answer_hours", "48")],
        );
        let visitor = format!("visiteur.{}@example.com", engine.name());
        let comment = "Le bouton <b>Payer</b> ne marche pas & rien ne se passe";
        let id = feedback_with_email(&collector, comment, &visitor, "fr-FR");

        browser.sign_in(&collector, OWNER, PASSWORD).await;
        browser
            .client
            .goto(&collector.url(&format!("/admin/feedback/{id}")))
            .await
            .unwrap();
        assert!(text(&browser, "#thread").await.contains(comment));
        let reply = "Merci ! C'est corrigé.\nÀ bientôt";
        browser
            .client
            .find(Locator::Css("#reply-body"))
            .await
            .unwrap()
            .send_keys(reply)
            .await
            .unwrap();
        browser
            .screenshot(&format!("reply-box-{}", engine.name()))
            .await;
        browser
            .client
            .find(Locator::Css("#reply button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text(&browser, "p.notice").await,
            "Your reply is waiting to be sent."
        );
        // The reply's state turns to "Sent" on the page as it leaves, without a reload.
        browser
            .client
            .execute("window.notReloaded = true;", vec![])
            .await
            .unwrap();
        assert_eq!(text(&browser, "#emails .mail-sent").await, "Sent");
        assert_eq!(
            browser
                .client
                .execute("return window.notReloaded === true;", vec![])
                .await
                .unwrap(),
            serde_json::json!(true),
            "the same page, updated by its script"
        );

        let mail = sink.wait_for("the reply in the visitor's mailbox", |mail: &Mail| {
            mail.envelope_to == visitor
        });
        assert_eq!(mail.subject, "Re : votre avis sur Demo shop");
        assert_eq!(mail.from, format!("Demo shop <{FROM}>"));
        assert_eq!(
            mail.reply_to.as_deref(),
            Some("Demo shop <support@shop.example>")
        );
        assert_eq!(mail.to, visitor);
        assert!(
            mail.message_id.ends_with("@shop.example"),
            "{}",
            mail.message_id
        );
        assert!(mail.text.starts_with(reply), "{}", mail.text);
        assert!(
            mail.text.contains(&format!("> {comment}")),
            "quoted: {}",
            mail.text
        );
        assert!(
            mail.html
                .contains("&lt;b&gt;Payer&lt;/b&gt; ne marche pas &amp; rien"),
            "{}",
            mail.html
        );
        assert!(
            !mail.html.contains("<b>Payer"),
            "visitor text is escaped in HTML email"
        );
        let link = mail
            .link(&collector.url("/conversation/"))
            .expect("a link to the conversation");
        assert_eq!(
            link.len(),
            collector.url("/conversation/").len() + 64,
            "256 random bits"
        );

        // The visitor follows the link: no account, their language, the whole thread.
        browser.client.goto(&link).await.unwrap();
        assert_eq!(
            text(&browser, "h1").await,
            "Votre conversation avec Demo shop"
        );
        let thread = text(&browser, ".thread").await;
        assert!(
            thread.contains(comment) && thread.contains("C'est corrigé."),
            "{thread}"
        );
        let lang = browser
            .client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap();
        assert_eq!(lang.as_deref(), Some("fr"));
        assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
        let answer = &format!("Toujours cassé sur Safari 17 ({}).", engine.name());
        submit(&browser, "form", "#answer", answer).await;
        assert_eq!(
            text(&browser, "p.notice").await,
            "Merci, votre réponse a été envoyée."
        );
        assert!(text(&browser, ".thread").await.contains(answer));
        browser
            .screenshot(&format!("conversation-{}", engine.name()))
            .await;

        // The owner is told, and sees the answer in the thread with both emails sent.
        let notice = sink.wait_for("the owner's notice of the answer", |mail: &Mail| {
            mail.envelope_to == OWNER && mail.text.contains(answer)
        });
        assert_eq!(notice.subject, "A visitor answered on Demo shop");
        assert_eq!(notice.header("Auto-Submitted"), Some("auto-generated"));
        assert!(
            notice
                .text
                .contains(&collector.url(&format!("/admin/feedback/{id}"))),
            "{}",
            notice.text
        );
        let page = format!("/admin/feedback/{id}");

        // The answer puts it back on the owner: under "needs an answer", unread, with a new
        // deadline and the answer's first words in the inbox.
        browser
            .client
            .goto(&collector.url("/admin/inbox?answer=needed"))
            .await
            .unwrap();
        let item = text(&browser, &format!("#feedback-{id}")).await;
        assert!(item.contains("New answer"), "{item}");
        assert!(item.contains("Waiting on us"), "{item}");
        assert!(item.contains("Answer by"), "{item}");
        assert!(
            item.contains("The visitor wrote back") && item.contains(answer.as_str()),
            "{item}"
        );
        assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
        browser
            .screenshot(&format!("inbox-answered-{}", engine.name()))
            .await;
        eventually("both emails shown as sent", Duration::from_secs(20), || {
            let (_, html) = owner.get(&page);
            (html.matches("mail-sent").count() == 2).then_some(())
        });
        browser.client.goto(&collector.url(&page)).await.unwrap();
        assert!(text(&browser, "#thread").await.contains(answer));
        let (_, inbox) = owner.get("/admin/inbox?answer=needed");
        assert!(!inbox.contains("New answer"), "opened, it is read");
        assert!(inbox.contains(&format!("feedback-{id}")), "still owed");

        // The exports tell the story: state, deadline, counts, the note, and (JSON Lines,
        // when asked) the whole thread; the CLI the same.
        // The note is saved from the page, which says so.
        submit(
            &browser,
            "form.triage",
            "textarea[name=note]",
            "=Asked which browser",
        )
        .await;
        assert_eq!(
            text(&browser, "p.notice").await,
            "Saved: the status and the note."
        );
        let token = collector.create_token(Some("demo"));
        let (status, csv) = collector.export(Some(&token), "feedback.csv");
        assert_eq!(status, 200);
        let (header, rows) = common::parse_csv(&csv);
        assert_eq!(header, common::CSV_COLUMNS);
        let row = rows
            .iter()
            .find(|row| common::cell(row, "id") == id)
            .unwrap();
        assert_eq!(common::cell(row, "conversation"), "waiting-on-us");
        assert!(!common::cell(row, "answer_by").is_empty());
        assert!(!common::cell(row, "first_answer_at").is_empty());
        assert_eq!(common::cell(row, "replies"), "1");
        assert_eq!(common::cell(row, "visitor_answers"), "1");
        assert_eq!(common::cell(row, "unsubscribed"), "false");
        assert_eq!(
            common::cell(row, "note"),
            "'=Asked which browser",
            "formula-safe"
        );
        let (status, with_thread) = collector.export(Some(&token), "feedback.csv?thread=include");
        assert_eq!(status, 200);
        assert_eq!(
            with_thread, csv,
            "a CSV has the conversation's counts, not its thread"
        );
        let (status, jsonl) = collector.export(Some(&token), "feedback.jsonl?thread=include");
        assert_eq!(status, 200);
        let served = String::from_utf8(jsonl).unwrap();
        let out = collector.cli(&["export", "--site", "demo", "--format", "jsonl", "--thread"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for lines in [served.as_str(), &String::from_utf8_lossy(&out.stdout)] {
            let record: serde_json::Value = lines
                .lines()
                .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
                .find(|record| record["id"] == id.as_str())
                .unwrap();
            assert_eq!(record["conversation"], "waiting-on-us");
            assert_eq!(
                record["note"], "=Asked which browser",
                "JSON is not a spreadsheet"
            );
            let thread = record["thread"].as_array().unwrap();
            assert_eq!(thread.len(), 2, "{record}");
            assert_eq!(thread[0]["author"], "owner");
            assert_eq!(thread[0]["author_email"], OWNER);
            assert_eq!(thread[1]["author"], "visitor");
            assert_eq!(thread[1]["body"], answer.as_str());
        }

        // On a 375 px phone: nothing scrolls sideways, the emails are one card each, the
        // inbox's filters are folded away; at 1280 px the same pages, for the eye.
        for (width, height) in [(375, 812), (1280, 860)] {
            browser.client.set_window_size(width, height).await.unwrap();
            for (name, path, shown) in [
                ("thread", page.as_str(), "#emails"),
                ("inbox", "/admin/inbox", "h1"),
                ("stats", "/admin/stats", "#promises"),
                ("sites", "/admin/sites", "h1"),
            ] {
                browser.client.goto(&collector.url(path)).await.unwrap();
                text(&browser, "h1").await;
                let fits = browser
                    .client
                    .execute(
                        "return document.documentElement.scrollWidth <= window.innerWidth;",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(fits, serde_json::json!(true), "{name} at {width} px");
                browser
                    .client
                    .execute(
                        "document.querySelector(arguments[0]).scrollIntoView();",
                        vec![serde_json::json!(shown)],
                    )
                    .await
                    .unwrap();
                browser
                    .screenshot(&format!("{name}-{width}px-{}", engine.name()))
                    .await;
                if name == "inbox" {
                    let folded = browser
                        .client
                        .execute(
                            "return !document.querySelector('details.filter-fold').open;",
                            vec![],
                        )
                        .await
                        .unwrap();
                    assert_eq!(
                        folded,
                        serde_json::json!(width < 640),
                        "filters at {width} px"
                    );
                }
            }
        }
        browser
            .screenshot(&format!("feedback-thread-{}", engine.name()))
            .await;
    }
    browser.close().await;
}

/// The SMTP server dies while the collector is sending a reply, before it accepted the
/// message; once it is back, the reply is delivered, exactly once.
#[test]
fn an_smtp_server_stopped_mid_send_gets_each_email_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let sink = Arc::new(Mutex::new(sink));
    for engine in Engine::all() {
        let visitor = reply_through_a_cut(&sink, &engine, Cut::AtData, "cut");
        // Recorded as sent: the worker will never pick it up again. The server holds it once
        // (counted on the files it wrote, whether or not they parse).
        assert_eq!(
            sink.lock().unwrap().raw_count(&visitor),
            1,
            "{}",
            engine.name()
        );
    }
}

/// Replies to a visitor through a relay that kills the SMTP server at `cut`, waits until the
/// failed attempt is recorded, brings the server back, and waits until the reply is recorded
/// as sent. Returns the visitor's address.
fn reply_through_a_cut(
    sink: &Arc<Mutex<SmtpSink>>,
    engine: &Engine,
    cut: Cut,
    name: &str,
) -> String {
    let cutter = Cutter::start_at(sink.clone(), cut);
    let collector = start(engine, &cutter.url());
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let visitor = format!("{name}.{}@example.com", engine.name());
    let id = feedback_with_email(&collector, "Where is my order?", &visitor, "en");
    let (status, location) = owner.reply(&id, "It left this morning.");
    assert_eq!(status, 303, "{location}");
    eventually(
        "the server killed mid-send",
        Duration::from_secs(20),
        || cutter.has_cut().then_some(()),
    );
    let page = format!("/admin/feedback/{id}");
    eventually(
        "the failed attempt recorded",
        Duration::from_secs(20),
        || {
            let (_, html) = owner.get(&page);
            html.contains("Retrying").then_some(())
        },
    );
    sink.lock().unwrap().restart();
    eventually("the reply sent", Duration::from_secs(30), || {
        let (_, html) = owner.get(&page);
        html.contains("mail-sent").then_some(())
    });
    visitor
}

/// Two collectors share one PostgreSQL database and its outbox: every reply is sent once.
#[test]
fn two_replicas_send_each_email_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(engine) = Engine::postgres() else {
        return;
    };
    let first = start(&engine, &sink.url());
    let second = first.replica();
    let owners = [
        OwnerSession::sign_in(&first, OWNER, PASSWORD),
        OwnerSession::sign_in(&second, OWNER, PASSWORD),
    ];
    let mut ids = Vec::new();
    for n in 0..12 {
        let visitor = format!("replica{n}@example.com");
        let id = feedback_with_email(&first, "Hello", &visitor, "en");
        let (status, _) = owners[n % 2].reply(&id, &format!("Answer {n}"));
        assert_eq!(status, 303);
        ids.push(id);
    }
    for id in &ids {
        eventually("every reply sent", Duration::from_secs(30), || {
            let (_, html) = owners[0].get(&format!("/admin/feedback/{id}"));
            html.contains("mail-sent").then_some(())
        });
    }
    // Every reply is recorded as sent, so none is pending or claimed any more and no
    // sending can start: count what the server took, parsable or not.
    eventually("the last message written", Duration::from_secs(10), || {
        (sink.files() >= 12).then_some(())
    });
    for n in 0..12 {
        assert_eq!(
            sink.raw_count(&format!("replica{n}@example.com")),
            1,
            "reply {n} taken by the server once"
        );
    }
    assert_eq!(sink.files(), 12, "nothing else was sent");
    let received = sink.messages();
    let mut ids: Vec<&str> = received
        .iter()
        .map(|mail| mail.message_id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no reply sent twice");
}

/// Without SMTP, a reply is kept and the dashboard says it waits; once the collector runs
/// with SMTP, it is sent.
#[test]
fn without_smtp_replies_wait_and_are_sent_once_it_is_set_up() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut collector = Collector::start_on(&Engine::Sqlite, &[SHOP], &[]);
    collector.add_user(OWNER, PASSWORD, &[]);
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let id = feedback_with_email(&collector, "Hello?", "patient@example.com", "de");
    assert_eq!(owner.reply(&id, "Sorry for the wait.").0, 303);
    let page = format!("/admin/feedback/{id}");
    let (_, html) = owner.get(&page);
    assert!(html.contains("Email is not set up."), "{html}");
    assert!(html.contains("1 email waiting."), "{html}");
    assert!(html.contains("Waiting to be sent"), "{html}");

    let args = mail_args(&sink.url());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    collector.restart_with(&args);
    let mail = sink.wait_for("the kept reply", |mail: &Mail| {
        mail.envelope_to == "patient@example.com"
    });
    assert_eq!(mail.subject, "Re: Ihr Feedback zu Demo shop");
}

/// The conversation page: a link that is not one answers 404 in the browser's language;
/// an empty answer is refused and nothing is stored; the page is locked down.
#[test]
fn conversation_links_are_checked_and_the_page_locked_down() {
    let collector = Collector::start(&[SHOP]);
    let fake = "a".repeat(64);
    let response = http()
        .get(&collector.url(&format!("/conversation/{fake}")))
        .header("Accept-Language", "es-ES,es;q=0.9")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let headers = response.headers();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let body = response.into_body().read_to_string().unwrap();
    assert!(body.contains("Este enlace ha caducado."), "{body}");
    let answer = http()
        .post(&collector.url(&format!("/conversation/{fake}")))
        .send_form([("body", "hello")])
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        404,
        "no conversation, nothing stored"
    );
    let short = http()
        .get(&collector.url("/conversation/abc"))
        .call()
        .unwrap();
    assert_eq!(short.status().as_u16(), 404);
}

/// Closing the loop when the site asks for it: the visitor's acknowledgement in their
/// language with the promise, the owner's notice of each new submission, the notice when it
/// is resolved; and one click in the mail client stops everything to that visitor.
#[test]
fn acknowledgements_notices_and_one_click_unsubscribe() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink.url());
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        set_answers(
            &owner,
            &[
                ("answer_hours", "24"),
                ("acknowledge", "on"),
                ("notify_resolved", "on"),
            ],
        );
        hear_of_everything(&owner);

        let happy = format!("happy.{}@example.com", engine.name());
        let first = feedback_with_email(&collector, "Schnelle Lieferung, danke!", &happy, "de");
        let ack = sink.wait_for("the acknowledgement", |mail: &Mail| {
            mail.envelope_to == happy && mail.subject.contains("erhalten")
        });
        assert_eq!(ack.subject, "Wir haben Ihr Feedback zu Demo shop erhalten");
        assert!(ack.text.contains("innerhalb von einem Tag"), "{}", ack.text);
        assert_eq!(ack.header("Auto-Submitted"), Some("auto-generated"));
        assert_eq!(
            ack.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        let notice = sink.wait_for("the owner's notice", |mail: &Mail| {
            mail.envelope_to == OWNER && mail.text.contains(&first)
        });
        assert_eq!(notice.subject, "New feedback on Demo shop: 4 of 5 stars");

        // Resolved: the visitor is told, once.
        for _ in 0..2 {
            let page = format!("/admin/feedback/{first}");
            let (status, _) = owner.post(&page, &page, &[("status", "resolved"), ("note", "")]);
            assert_eq!(status, 303);
        }
        let resolved = sink.wait_for("the notice that it was resolved", |mail: &Mail| {
            mail.envelope_to == happy && mail.subject.contains("erledigt")
        });
        // Nobody answered this address yet, so nobody confirmed it is the visitor's: the
        // notice quotes none of their words and opens no conversation.
        assert!(
            !resolved.text.contains("Schnelle")
                && !resolved.html.contains("Schnelle")
                && resolved.link(&collector.url("/conversation/")).is_none(),
            "{}",
            resolved.text
        );

        // One click in the mail client (RFC 8058): nothing more reaches that visitor.
        let unsubscribe = ack
            .header("List-Unsubscribe")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_owned();
        assert!(
            unsubscribe.starts_with(&collector.url("/unsubscribe/")),
            "{unsubscribe}: a link that only unsubscribes"
        );
        assert!(
            ack.link(&collector.url("/conversation/")).is_none() && !ack.text.contains("Schnelle"),
            "an acknowledgement carries neither the visitor's words nor their conversation: {}",
            ack.text
        );
        let opened = http()
            .get(&unsubscribe.replace("/unsubscribe/", "/conversation/"))
            .call()
            .unwrap();
        assert_eq!(
            opened.status().as_u16(),
            404,
            "the unsubscribe token opens no conversation"
        );
        let mut response = http()
            .post(&unsubscribe)
            .send_form([("List-Unsubscribe", "One-Click")])
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "{unsubscribe}: {}",
            response.body_mut().read_to_string().unwrap()
        );
        let again = feedback_with_email(&collector, "Noch einmal", &happy, "de");
        assert_eq!(
            owner.reply(&again, "Danke!").0,
            400,
            "no reply to who unsubscribed"
        );
        let (_, html) = owner.get(&format!("/admin/feedback/{again}"));
        assert!(html.contains("asked for no more email"), "{html}");
        // The unsubscribe holds for the mailbox, however its address is spelt: a reply
        // (which would otherwise be sent, unlike a second acknowledgement the same day)
        // is refused.
        let variant = happy.replacen('@', "+orders@", 1).to_uppercase();
        let spelt_otherwise = feedback_with_email(&collector, "Und noch einmal", &variant, "de");
        assert_eq!(
            owner.reply(&spelt_otherwise, "Danke!").0,
            400,
            "no reply to {variant}, who unsubscribed as {happy}"
        );
        // The owner hears of it (sent after any acknowledgement would have been queued: the
        // same transaction), and by then the visitor has had nothing more.
        sink.wait_for("the owner's notice of the second", |mail: &Mail| {
            mail.envelope_to == OWNER && mail.text.contains(&again)
        });
        // Nothing waits in the outbox any more: what the visitor got is all they will get.
        for item in [&first, &again] {
            eventually("the outbox drained", Duration::from_secs(20), || {
                let (_, html) = owner.get(&format!("/admin/feedback/{item}"));
                (!html.contains("mail-pending")).then_some(())
            });
        }
        assert_eq!(
            sink.raw_count(&happy) + sink.raw_count(&variant),
            2,
            "the acknowledgement and the resolution, nothing since"
        );
    }
}

/// A deadline on the clock: before it passes the owners are reminded, once; after, the
/// inbox marks it overdue and lists it under "overdue", and the statistics count a promise
/// broken. The collector's clock is moved ahead instead of waiting two days.
#[tokio::test(flavor = "multi_thread")]
async fn deadlines_remind_the_owners_then_show_overdue() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(browser) = browser::start().await else {
        return;
    };
    for engine in Engine::all() {
        let mut collector = start(&engine, &sink.url());
        let visitor = format!("waiting.{}@example.com", engine.name());
        let id = feedback_with_email(&collector, "Is anyone there?", &visitor, "en");
        let other = feedback_with_email(&collector, "Answered quickly", "quick@example.com", "en");
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        assert_eq!(owner.reply(&other, "Yes!").0, 303);

        // 46 hours later: within four hours of the 48-hour promise.
        collector.restart_with_clock_ahead(46 * 3600);
        let reminder = sink.wait_for("the reminder", |mail: &Mail| {
            mail.envelope_to == OWNER
                && mail.subject.starts_with("An answer is due soon")
                && mail.text.contains(&id)
        });
        assert!(
            reminder.text.contains("awaits an answer by"),
            "{}",
            reminder.text
        );
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        let (_, inbox) = owner.get("/admin/inbox");
        assert!(inbox.contains("Answer by"), "not overdue yet");
        assert!(!inbox.contains("Overdue"));

        // 49 hours later: overdue.
        collector.restart_with_clock_ahead(49 * 3600);
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        let (_, overdue) = owner.get("/admin/inbox?answer=overdue");
        assert!(overdue.contains("Overdue: the answer was due"), "{overdue}");
        assert!(overdue.contains("Is anyone there?"));
        assert!(!overdue.contains("Answered quickly"));
        let (_, stats) = owner.get("/admin/stats");
        assert!(stats.contains("50 %"), "one kept, one broken: {stats}");
        browser.sign_in(&collector, OWNER, PASSWORD).await;
        browser
            .client
            .goto(&collector.url("/admin/inbox"))
            .await
            .unwrap();
        assert!(text(&browser, ".overdue").await.starts_with("Overdue"));
        browser
            .screenshot(&format!("overdue-inbox-{}", engine.name()))
            .await;
        browser
            .client
            .goto(&collector.url("/admin/stats"))
            .await
            .unwrap();
        assert!(text(&browser, "#promises").await.contains("50 %"));
        browser
            .screenshot(&format!("promises-kept-{}", engine.name()))
            .await;
        let reminders = sink
            .messages()
            .into_iter()
            .filter(|mail| {
                mail.subject.starts_with("An answer is due soon") && mail.text.contains(&id)
            })
            .count();
        assert_eq!(reminders, 1, "reminded once, across restarts");
    }
    browser.close().await;
}

/// A site that states its promise has the widget say it beside the email field, in the
/// visitor's language (here the snippet's `data-lang`), from the site's settings.
#[tokio::test(flavor = "multi_thread")]
async fn the_widget_states_the_promise_beside_the_email_field() {
    use common::browser::displayed;
    use common::host_site::{HostOptions, shop_with_collector};
    let Some(browser) = browser::start().await else {
        return;
    };
    let (collector, shop) = shop_with_collector(HostOptions {
        snippet_attributes: r#"data-lang="fr""#.into(),
        ..HostOptions::default()
    });
    collector.add_user(OWNER, PASSWORD, &[]);
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let (status, _) = owner.post(
        "/admin/sites/demo",
        "/admin/sites/demo/answers",
        &[("answer_hours", "24"), ("promise_shown", "on")],
    );
    assert_eq!(status, 303);
    let config: serde_json::Value = serde_json::from_str(
        &http()
            .get(&collector.url("/v1/sites/demo/config"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["promise-en"], "We answer within a day.");
    assert_eq!(
        config["promise-de"],
        "Wir antworten innerhalb von einem Tag."
    );

    // The settings reach a running collector's cache within seconds.
    let mut hint = String::new();
    for _ in 0..20 {
        browser.client.goto(&shop.url()).await.unwrap();
        let widget = browser.open_panel().await;
        hint = displayed(&widget, "#earshot-email-hint")
            .await
            .text()
            .await
            .unwrap();
        if hint.contains("Nous répondons sous un jour.") {
            break;
        }
        // Pacing between reloads, not a wait before a negative check: the check is positive.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(hint.contains("Nous répondons sous un jour."), "{hint}");
    browser.screenshot("widget-promise").await;
    browser.close().await;
}

/// A conversation takes at most `ANSWERS_PER_HOUR` answers an hour: past that the visitor is
/// told to wait (429) and nothing more is stored or sent.
#[test]
fn answers_on_a_conversation_page_are_rate_limited() {
    use earshot_collector::conversation::limits::ANSWERS_PER_HOUR;
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let collector = start(&Engine::Sqlite, &sink.url());
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let id = feedback_with_email(&collector, "Hello", "chatty@example.com", "en");
    assert_eq!(owner.reply(&id, "Hi!").0, 303);
    let link = sink
        .wait_for("the reply", |mail: &Mail| {
            mail.envelope_to == "chatty@example.com"
        })
        .link(&collector.url("/conversation/"))
        .unwrap();
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let answer = |n: u32| {
        let mut response = no_redirects
            .post(&link)
            .send_form([("body", format!("answer {n}").as_str())])
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    for n in 0..ANSWERS_PER_HOUR {
        assert_eq!(answer(n).0, 303, "answer {n}");
    }
    let (status, page) = answer(ANSWERS_PER_HOUR);
    assert_eq!(status, 429);
    assert!(page.contains("Please wait a little"), "{page}");
    let (_, thread) = owner.get(&format!("/admin/feedback/{id}"));
    assert_eq!(
        thread.matches("The visitor wrote back · ").count(),
        ANSWERS_PER_HOUR as usize,
        "nothing past the limit was stored"
    );
}

/// The SMTP server takes the whole message and dies before its answer reaches the collector:
/// the collector cannot know it was delivered, so it sends it again once the server is back,
/// with the same Message-ID, by which mail clients recognise the copy. Recorded as sent
/// once the answer comes, and never sent after that.
#[test]
fn a_message_the_server_took_without_answering_is_sent_again_with_the_same_message_id() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let sink = Arc::new(Mutex::new(sink));
    for engine in Engine::all() {
        let visitor = reply_through_a_cut(&sink, &engine, Cut::BeforeAnswer, "unanswered");
        let sink = sink.lock().unwrap();
        assert_eq!(sink.raw_count(&visitor), 2, "{}", engine.name());
        let ids: std::collections::BTreeSet<String> = sink
            .messages()
            .into_iter()
            .filter(|mail| mail.envelope_to == visitor)
            .map(|mail| mail.message_id)
            .collect();
        assert_eq!(ids.len(), 1, "both copies carry one Message-ID: {ids:?}");
    }
}

/// An owner limited to one site can neither read nor answer another site's feedback.
#[test]
fn an_owner_limited_to_one_site_cannot_reach_anothers_conversations() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let collector = start(&Engine::Sqlite, &sink.url());
    let out = collector.cli(&[
        "site",
        "add",
        "--name",
        "Blog",
        "--key",
        "blog",
        "--origin",
        "https://blog.example",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    collector.add_user("blogger@example.com", PASSWORD, &["blog"]);
    let id = feedback_with_email(&collector, "Shop feedback", "shopper@example.com", "en");
    let blogger = OwnerSession::sign_in(&collector, "blogger@example.com", PASSWORD);
    let page = format!("/admin/feedback/{id}");
    assert_eq!(
        blogger.get(&page).0,
        404,
        "another site's feedback does not exist for them"
    );
    let (_, inbox) = blogger.get("/admin/inbox");
    let (status, _) = blogger.post("/admin/inbox", &format!("{page}/reply"), &[("body", "Hi")]);
    assert_eq!(status, 404);
    assert!(!inbox.contains("Shop feedback"));
    let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
    let (_, html) = owner.get(&page);
    assert!(!html.contains("mail-"), "nothing was queued: {html}");
}

/// The visitor who asked "Did my order go through?" clicks the only link of the
/// acknowledgement: the page names the site and (masked) the address, says an answer is
/// still owed, and offers to keep it. Stopping everything takes the conversation out of
/// "needs an answer" (no deadline nobody can meet), with an undo; keeping the answer leaves
/// it owed, and the owner's reply reaches the visitor while nothing else does.
#[tokio::test(flavor = "multi_thread")]
async fn unsubscribing_from_an_acknowledgement_leaves_no_impossible_deadline() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(browser) = browser::start().await else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink.url());
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        set_answers(&owner, &[("answer_hours", "24"), ("acknowledge", "on")]);
        let visitor = format!("orders.{}@example.com", engine.name());
        let id = feedback_with_email(&collector, "Did my order go through?", &visitor, "en");
        let ack = sink.wait_for("the acknowledgement", |mail: &Mail| {
            mail.envelope_to == visitor
        });
        let link = ack
            .link(&collector.url("/unsubscribe/"))
            .expect("the acknowledgement's link");
        let needed = |id: &str| {
            let (_, html) = owner.get("/admin/inbox?answer=needed");
            html.contains(&format!("feedback-{id}"))
        };
        assert!(needed(&id));

        browser.client.goto(&link).await.unwrap();
        heading(&browser, "Stop all email from Demo shop to this address?").await;
        let page = text(&browser, "main").await;
        assert!(
            page.contains("This is about email to o•••@example.com."),
            "{page}"
        );
        assert!(
            page.contains("Demo shop still owes you an answer to what you wrote on"),
            "{page}"
        );
        assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
        browser
            .screenshot(&format!("unsubscribe-question-{}", engine.name()))
            .await;

        // Everything stopped: no deadline left that nobody could meet.
        click(&browser, "form button:not(.secondary)").await;
        let done = "Done: you will get no more email from Demo shop.";
        heading(&browser, done).await;
        assert_eq!(browser.client.title().await.unwrap(), done);
        assert!(
            text(&browser, "main")
                .await
                .contains("You can undo this until")
        );
        assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
        assert!(!needed(&id), "no answer is owed to who cannot get it");
        let (_, thread) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(thread.contains("Could not answer"), "{thread}");
        assert_eq!(owner.reply(&id, "Yes!").0, 400);

        // Undone: it is owed again.
        click(&browser, "form button").await;
        heading(&browser, "Undone: Demo shop may email you again.").await;
        assert!(needed(&id));

        // Everything but this conversation's answer.
        browser.client.goto(&link).await.unwrap();
        click(&browser, "form button.secondary").await;
        heading(
            &browser,
            "Done: Demo shop will send you nothing more but the answers to this conversation.",
        )
        .await;
        assert!(needed(&id), "the answer is still owed, and can be sent");
        let later = feedback_with_email(&collector, "Another question", &visitor, "en");
        assert!(
            !needed(&later),
            "a new one from the address cannot be answered"
        );
        assert_eq!(owner.reply(&later, "Hello").0, 400);
        assert_eq!(owner.reply(&id, "Yes, it went through.").0, 303);
        sink.wait_for("the kept answer", |mail: &Mail| {
            mail.envelope_to == visitor && mail.text.starts_with("Yes, it went through.")
        });
        assert!(!needed(&id));
        assert_eq!(
            sink.raw_count(&visitor),
            2,
            "the acknowledgement and the kept answer, nothing else"
        );
    }
    browser.close().await;
}

/// A happy visitor's five stars, sent 1.3 s after opening the widget, count everywhere; a
/// bot's submission waits in the spam view, where "Not spam" puts it back in the inbox and
/// the statistics without sending notices of long ago. The Sites page, the inbox and the
/// statistics give the same counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_quick_rating_counts_and_spam_can_be_seen_and_restored() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(browser) = browser::start().await else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink.url());
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        hear_of_everything(&owner);
        let rating = feedback_body(
            "",
            serde_json::json!({ "rating": { "kind": "stars", "value": 5 }, "open_ms": 1_300 }),
        );
        assert_eq!(collector.post_feedback(&http(), SHOP, &rating), 201);
        let rating_id = rating["id"].as_str().unwrap().to_owned();
        let spam = feedback_body(
            "Great deals at https://spam.example",
            serde_json::json!({ "open_ms": 40, "email": format!("bot.{}@example.com", engine.name()) }),
        );
        assert_eq!(collector.post_feedback(&http(), SHOP, &spam), 201);
        let spam_id = spam["id"].as_str().unwrap().to_owned();
        sink.wait_for("the notice of the quick rating", |mail: &Mail| {
            mail.envelope_to == OWNER && mail.text.contains(&rating_id)
        });

        let counts = |expected: u64, spam: u64| {
            let (_, inbox) = owner.get("/admin/inbox");
            let noun = if expected == 1 {
                "submission"
            } else {
                "submissions"
            };
            assert!(
                inbox.contains(&format!("{expected} {noun}, spam apart")),
                "{inbox}"
            );
            assert!(inbox.contains(&format!("Spam ({spam})")), "{inbox}");
            let (_, sites) = owner.get("/admin/sites");
            assert!(
                sites.contains(&format!("data-label=\"Feedback (spam apart)\">{expected}")),
                "{sites}"
            );
            let (_, stats) = owner.get("/admin/stats");
            assert!(
                stats.contains(&format!(
                    "<p class=\"big\">{expected}</p><p>submissions, spam apart</p>"
                )),
                "{stats}"
            );
        };
        counts(1, 1);

        browser.sign_in(&collector, OWNER, PASSWORD).await;
        browser
            .client
            .goto(&collector.url("/admin/inbox?spam=only"))
            .await
            .unwrap();
        heading(&browser, "Spam").await;
        assert!(
            text(&browser, &format!("#feedback-{spam_id}"))
                .await
                .contains("Great deals")
        );
        assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
        browser
            .screenshot(&format!("inbox-spam-{}", engine.name()))
            .await;
        click(
            &browser,
            &format!("#feedback-{spam_id} form.not-spam button"),
        )
        .await;
        eventually("the spam view emptied", Duration::from_secs(10), || {
            let (_, html) = owner.get("/admin/inbox?spam=only");
            (!html.contains(&format!("feedback-{spam_id}"))).then_some(())
        });
        counts(2, 0);
        let (_, needed) = owner.get("/admin/inbox?answer=needed");
        assert!(
            needed.contains(&format!("feedback-{spam_id}")),
            "it has an address: it waits on the owner from now"
        );

        // Nothing of long ago is sent for it: a later submission's notice comes, its none.
        let marker = feedback_body("After the restore", serde_json::json!({}));
        assert_eq!(collector.post_feedback(&http(), SHOP, &marker), 201);
        let marker_id = marker["id"].as_str().unwrap().to_owned();
        sink.wait_for("the later notice", |mail: &Mail| {
            mail.envelope_to == OWNER && mail.text.contains(&marker_id)
        });
        assert!(
            sink.messages()
                .iter()
                .all(|mail| !mail.text.contains(&spam_id)),
            "no notice for the restored submission"
        );
    }
    browser.close().await;
}

async fn click(browser: &Browser, css: &str) {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the page's heading says `expected` (a page loading after a click still shows
/// the one before).
async fn heading(browser: &Browser, expected: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(element) = browser.client.find(Locator::Css("h1")).await
            && let Ok(text) = element.text().await
        {
            if text == expected {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the heading says {seen:?}, not {expected:?}");
}

/// A flood of submissions (each with an address, to a site that acknowledges them and an
/// owner who wants a notice of each) holds back no reply an owner writes: the reply is
/// taken by the SMTP server within seconds. The flood's automatic mail keeps to its own
/// bounds: one acknowledgement per mailbox however it is spelt, at most the site's hourly
/// number of acknowledgements, and the owner's notices past their bound folded into one
/// catch-up email instead of a queue.
#[test]
fn a_flood_of_submissions_holds_no_reply_back() {
    const FLOOD: usize = 300;
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink.url());
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        set_answers(&owner, &[("answer_hours", "24"), ("acknowledge", "on")]);
        hear_of_everything(&owner);
        let customer = format!("customer.{}@example.com", engine.name());
        let asked = feedback_with_email(&collector, "Where is my order?", &customer, "en");
        sink.wait_for("the customer's acknowledgement", |mail: &Mail| {
            mail.envelope_to == customer
        });

        // Half the flood spells one mailbox many ways, the other half is many mailboxes.
        let engine_name = engine.name();
        let mut last = String::new();
        for n in 0..FLOOD {
            let email = match n % 4 {
                0 => format!("victim{engine_name}+{n}@gmail.com"),
                2 => format!("V.ictim{engine_name}+{n}@GoogleMail.com"),
                _ => format!("stranger{n}.{engine_name}@example.com"),
            };
            last = feedback_with_email(&collector, "Buy cheap watches", &email, "en");
        }

        let (status, _) = owner.reply(&asked, "It left our warehouse this morning.");
        assert_eq!(status, 303);
        let sent = std::time::Instant::now();
        common::eventually(
            "the owner's reply, past the flood",
            Duration::from_secs(5),
            || {
                sink.messages()
                    .into_iter()
                    .find(|mail| mail.envelope_to == customer && mail.subject.starts_with("Re:"))
            },
        );
        eprintln!(
            "{}: the reply reached SMTP {:.2} s after it was sent, behind {FLOOD} submissions",
            engine.name(),
            sent.elapsed().as_secs_f64()
        );

        // The flood's last notice has been folded once the worker got through all of it.
        eventually(
            "the flood's mail worked through",
            Duration::from_secs(60),
            || {
                let (_, html) = owner.get(&format!("/admin/feedback/{last}"));
                html.contains("catch-up email").then_some(())
            },
        );
        let messages = sink.messages();
        let acknowledgements: Vec<&Mail> = messages
            .iter()
            .filter(|mail| mail.subject.starts_with("We received your feedback"))
            .filter(|mail| mail.envelope_to.to_lowercase().contains(engine_name))
            .collect();
        let to_victim = acknowledgements
            .iter()
            .filter(|mail| mail.envelope_to.contains("ictim"))
            .count();
        assert_eq!(
            to_victim, 1,
            "one acknowledgement for every spelling of one mailbox"
        );
        assert!(
            acknowledgements.len() <= 20,
            "at most 20 acknowledgements an hour from one site, the customer's included: {}",
            acknowledgements.len()
        );
        let dashboard = collector.url("/admin/feedback/");
        let notices = messages
            .iter()
            .filter(|mail| mail.envelope_to == OWNER && mail.text.contains(&dashboard))
            .count();
        assert!(
            notices <= 30,
            "at most 30 notices an hour reach one owner: {notices}"
        );
    }
}
