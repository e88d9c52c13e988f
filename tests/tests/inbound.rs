//! Email both ways, end to end on real parts: the real binary sends through a real SMTP server
//! (Postfix's smtp-sink) with reply addresses that name each conversation, and takes emails
//! back through `POST /v1/inbound-email` as a mail provider's webhook would, written as real
//! mail clients write them (the samples in `tests/fixtures/inbound/`: Gmail, Apple Mail,
//! Thunderbird, Outlook, an out-of-office, a bounce). On SQLite and on PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::browser;
use common::collector::{Collector, Engine, feedback_body, http};
use common::dovecot::Dovecot;
use common::eventually;
use common::mail::{Mail, SmtpSink};
use common::owner::OwnerSession;

const OWNER: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery";
const SHOP: &str = "https://shop.example";
const FROM: &str = "feedback@shop.example";
const INBOUND: &str = "support@feedback.shop.example";
const SECRET: &str = "inbound-secret-for-tests";

const GMAIL: &str = include_str!("../fixtures/inbound/gmail.eml");
const APPLE_MAIL: &str = include_str!("../fixtures/inbound/apple_mail.eml");
const THUNDERBIRD: &str = include_str!("../fixtures/inbound/thunderbird.eml");
const OUTLOOK: &str = include_str!("../fixtures/inbound/outlook.eml");
const OUT_OF_OFFICE: &str = include_str!("../fixtures/inbound/out_of_office.eml");
const DSN: &str = include_str!("../fixtures/inbound/dsn.eml");

fn start(engine: &Engine, sink: &SmtpSink) -> Collector {
    start_with(engine, sink, &[])
}

fn start_with(engine: &Engine, sink: &SmtpSink, more: &[&str]) -> Collector {
    let smtp = sink.url();
    let mut args = vec![
        "--smtp-url",
        &smtp,
        "--mail-from",
        FROM,
        "--mail-retry-secs",
        "1",
        "--rate-limit-visitor",
        "0",
        "--inbound-address",
        INBOUND,
        "--inbound-secret",
        SECRET,
    ];
    args.extend_from_slice(more);
    let collector = Collector::start_on(engine, &[SHOP], &args);
    collector.add_user(OWNER, PASSWORD, &[]);
    collector
}

fn feedback_with_email(collector: &Collector, comment: &str, email: &str, locale: &str) -> String {
    let body = feedback_body(
        comment,
        serde_json::json!({ "email": email, "locale": locale }),
    );
    assert_eq!(collector.post_feedback(&http(), SHOP, &body), 201);
    body["id"].as_str().unwrap().to_owned()
}

/// A sample written by a mail client, addressed as a reply to `to` from `from`.
fn written(sample: &str, from: &str, to: &str, in_reply_to: &str, message_id: &str) -> String {
    sample
        .replace("{{FROM}}", from)
        .replace("{{TO}}", to)
        .replace("{{IN_REPLY_TO}}", in_reply_to)
        .replace("{{MESSAGE_ID}}", message_id)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
}

/// `POST /v1/inbound-email`: status and JSON.
fn post_email(
    collector: &Collector,
    raw: &[u8],
    secret: Option<&str>,
    content_type: &str,
) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent
        .post(&collector.url("/v1/inbound-email"))
        .header("Content-Type", content_type);
    if let Some(secret) = secret {
        request = request.header("Authorization", &format!("Bearer {secret}"));
    }
    let mut response = request.send(raw).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn take(collector: &Collector, raw: &str) -> serde_json::Value {
    let (status, body) = post_email(collector, raw.as_bytes(), Some(SECRET), "message/rfc822");
    assert_eq!(status, 200, "{body}");
    body
}

/// The address inside `Name <address>`.
fn address(mailbox: &str) -> String {
    mailbox
        .rsplit('<')
        .next()
        .unwrap()
        .trim_end_matches('>')
        .to_owned()
}

/// A visitor presses Reply in Gmail, Apple Mail, Thunderbird and Outlook: each answer lands
/// in the thread, only its new words; the owner is told, with a notice they can answer by
/// replying; the owner's reply by email reaches the visitor; the same email delivered twice
/// is taken once.
#[test]
fn replies_from_mail_clients_land_in_the_conversation() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink);
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        let visitor = format!("Visitor.{}@example.com", engine.name());
        let comment = format!("The pay button does nothing ({})", engine.name());
        let id = feedback_with_email(&collector, &comment, &visitor, "en");
        let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(page.contains("the visitor's reply by email comes back into this conversation"));
        let (status, _) = owner.reply(&id, "Thanks! It's fixed.");
        assert_eq!(status, 303);
        let reply = sink.wait_for("the reply in the visitor's mailbox", |mail: &Mail| {
            mail.envelope_to == visitor && mail.text.contains("It's fixed")
        });
        let reply_to = address(reply.reply_to.as_deref().expect("a Reply-To"));
        let (user, domain) = reply_to.split_once('@').unwrap();
        assert_eq!(domain, "feedback.shop.example");
        let token = user.strip_prefix("support+").expect("a plus-address");
        assert!(
            token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
            "{reply_to}"
        );
        assert!(
            reply
                .text
                .contains("You can answer by replying to this email, or on your page."),
            "{}",
            reply.text
        );

        let samples = [
            (
                "gmail",
                GMAIL,
                "Gmail: merci, ça marche maintenant !",
                "corrigé",
            ),
            (
                "apple",
                APPLE_MAIL,
                "Apple Mail: thanks, that was quick.",
                "wrote:",
            ),
            (
                "thunderbird",
                THUNDERBIRD,
                "Thunderbird: Danke, jetzt klappt die Bestellung. Grüße aus Köln!",
                "Musterstraße",
            ),
            (
                "outlook",
                OUTLOOK,
                "Outlook: thanks – it’s working now. Café order went through.",
                "Sent:",
            ),
        ];
        // Mail clients may change the case of the address; it is the same mailbox.
        let from = visitor.to_uppercase();
        for (client, sample, words, quoted) in samples {
            let raw = written(
                sample,
                &from,
                &reply_to,
                &reply.message_id_brackets(),
                &format!("{client}.{}@mail.example.com", engine.name()),
            );
            let taken = take(&collector, &raw);
            assert_eq!(taken["outcome"], "visitor-answer", "{client}: {taken}");
            let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
            let thread = page.split("id=\"thread\"").nth(1).unwrap();
            let thread = thread.split("</ol>").next().unwrap();
            assert!(thread.contains(&maud_escaped(words)), "{client}: {thread}");
            assert!(
                !thread.contains(quoted),
                "{client} quoted history kept: {thread}"
            );
        }

        // The same email again (a webhook's retry): taken once.
        let gmail = written(
            GMAIL,
            &from,
            &reply_to,
            &reply.message_id_brackets(),
            &format!("gmail.{}@mail.example.com", engine.name()),
        );
        let again = take(&collector, &gmail);
        assert_eq!(again["duplicate"], true, "{again}");
        let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
        assert_eq!(
            page.matches(&maud_escaped("Gmail: merci")).count(),
            1,
            "one answer in the thread"
        );

        // The owner was told, by an email they can answer by replying.
        let notice = sink.wait_for("the owner's notice of the answer", |mail: &Mail| {
            mail.envelope_to == OWNER
                && mail.text.contains("Gmail: merci")
                && mail.text.contains(&comment)
        });
        assert!(
            notice
                .text
                .contains("Reply to this email to answer the visitor")
        );
        let owner_reply_to = address(notice.reply_to.as_deref().expect("a Reply-To"));
        assert_ne!(owner_reply_to, reply_to, "the owner's address is their own");
        let owner_words = format!("We deliver to Belgium, yes ({}).", engine.name());
        let raw = written(
            THUNDERBIRD,
            OWNER,
            &owner_reply_to,
            &notice.message_id_brackets(),
            &format!("owner.{}@example.com", engine.name()),
        )
        .replace(
            "Thunderbird: Danke, jetzt klappt die Bestellung. Grüße aus Köln!",
            &owner_words,
        );
        let started = Instant::now();
        let taken = take(&collector, &raw);
        assert_eq!(taken["outcome"], "owner-reply", "{taken}");
        let to_visitor = sink
            .wait_for("the owner's emailed reply at the visitor", |mail: &Mail| {
                mail.envelope_to == visitor && mail.text.contains(&owner_words)
            });
        eprintln!(
            "FIGURE {}: POST /v1/inbound-email of an owner's reply -> the visitor's email accepted by SMTP: {} ms",
            engine.name(),
            started.elapsed().as_millis()
        );
        assert_eq!(
            to_visitor.header("In-Reply-To"),
            Some(format!("<outlook.{}@mail.example.com>", engine.name()).as_str()),
            "the reply answers the visitor's last email"
        );
        let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(page.contains(OWNER) && page.contains(&maud_escaped(&owner_words)));

        // A notice forwarded to someone else does not let them reply as the owner.
        let forged = written(
            THUNDERBIRD,
            "colleague@example.com",
            &owner_reply_to,
            "<nothing@example.com>",
            &format!("colleague.{}@example.com", engine.name()),
        );
        assert_eq!(take(&collector, &forged)["outcome"], "unmatched");
    }
}

/// Text as the dashboard's HTML shows it.
fn maud_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

trait Brackets {
    fn message_id_brackets(&self) -> String;
}

impl Brackets for Mail {
    fn message_id_brackets(&self) -> String {
        format!("<{}>", self.message_id.trim_matches(['<', '>']))
    }
}

/// A forged sender with a valid reply address waits as unmatched mail, shown escaped, until an
/// owner attaches it (it joins the thread) or discards it; an out-of-office changes nothing
/// and is never answered; a bounce marks the address and no more email goes to it.
#[test]
fn strangers_machines_and_bounces_are_kept_apart() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    for engine in Engine::all() {
        let collector = start(&engine, &sink);
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        let visitor = format!("someone.{}@example.com", engine.name());
        let id = feedback_with_email(&collector, "Where is my order?", &visitor, "en");
        assert_eq!(owner.reply(&id, "On its way.").0, 303);
        let reply = sink.wait_for("the reply", |mail: &Mail| {
            mail.envelope_to == visitor && mail.text.contains("On its way.")
        });
        let reply_to = address(reply.reply_to.as_deref().unwrap());
        let notices = |page: &str| page.matches("Notice of the visitor's answer").count();
        let (_, before) = owner.get(&format!("/admin/feedback/{id}"));

        // A forged From, with the visitor's reply address.
        let forged = written(
            GMAIL,
            "mallory@example.net",
            &reply_to,
            &reply.message_id_brackets(),
            &format!("forged.{}@example.net", engine.name()),
        )
        .replace(
            "Gmail: merci, =C3=A7a marche maintenant !",
            "<script>alert(1)</script> refund me",
        );
        let taken = take(&collector, &forged);
        assert_eq!(taken["outcome"], "unmatched", "{taken}");
        let (_, unmatched) = owner.get("/admin/unmatched");
        assert!(unmatched.contains("mallory@example.net"), "{unmatched}");
        assert!(
            unmatched.contains("&lt;script&gt;alert(1)&lt;/script&gt; refund me")
                && !unmatched.contains("<script>alert"),
            "escaped: {unmatched}"
        );
        let (_, thread) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(!thread.contains("refund me"), "not in the thread");
        let mail_id = unmatched
            .split("/admin/unmatched/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let (status, location) = owner.post(
            "/admin/unmatched",
            &format!("/admin/unmatched/{mail_id}/attach"),
            &[("feedback", &id)],
        );
        assert_eq!(
            (status, location.as_str()),
            (303, format!("/admin/feedback/{id}#thread").as_str())
        );
        let (_, thread) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(thread.contains("refund me"), "attached to the thread");
        let (_, unmatched) = owner.get("/admin/unmatched");
        assert!(!unmatched.contains("mallory@example.net"));

        // Another stranger, discarded.
        let stranger = written(
            THUNDERBIRD,
            "nobody@example.org",
            INBOUND,
            "<unknown@example.org>",
            &format!("stranger.{}@example.org", engine.name()),
        );
        assert_eq!(take(&collector, &stranger)["outcome"], "unmatched");
        let (_, unmatched) = owner.get("/admin/unmatched");
        let mail_id = unmatched
            .split("/admin/unmatched/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let (status, _) = owner.post(
            "/admin/unmatched",
            &format!("/admin/unmatched/{mail_id}/discard"),
            &[],
        );
        assert_eq!(status, 303);
        let (_, unmatched) = owner.get("/admin/unmatched");
        assert!(!unmatched.contains("nobody@example.org"));

        // An out-of-office from the visitor's own address: noted, nothing else.
        let (_, before_ooo) = owner.get(&format!("/admin/feedback/{id}"));
        let ooo = written(
            OUT_OF_OFFICE,
            &visitor,
            &reply_to,
            &reply.message_id_brackets(),
            &format!("ooo.{}@example.com", engine.name()),
        );
        assert_eq!(take(&collector, &ooo)["outcome"], "auto-reply");
        let (_, after) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(!after.contains("out of the office"), "not in the thread");
        assert!(after.contains("An automatic reply (not answered)"));
        assert_eq!(notices(&after), notices(&before_ooo), "no notice");
        assert!(notices(&before) <= notices(&after));

        // The visitor's server bounces the reply: their address gets nothing more.
        let dsn = written(
            DSN,
            &visitor,
            FROM,
            &reply.message_id_brackets(),
            &format!("dsn.{}@mx.example.net", engine.name()),
        );
        let taken = take(&collector, &dsn);
        assert_eq!(taken["outcome"], "bounce", "{taken}");
        let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
        assert!(page.contains("Email to this visitor bounced."), "{page}");
        assert!(page.contains("User unknown in virtual mailbox table"));
        assert_eq!(owner.reply(&id, "Anyone there?").0, 303);
        eventually("the reply given up", Duration::from_secs(30), || {
            let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
            page.contains("the address bounced before").then_some(())
        });
        assert_eq!(sink.raw_count(&visitor), 1, "only the first reply went");

        // A bounce for an email Earshot never sent marks nothing.
        let forged_dsn = written(
            DSN,
            OWNER,
            FROM,
            "<never-sent@shop.example>",
            &format!("dsn2.{}@mx.example.net", engine.name()),
        );
        assert_eq!(take(&collector, &forged_dsn)["outcome"], "unmatched");
    }
}

/// Bad input gets its 4xx with a stable code, and nothing is taken.
#[test]
fn bad_input_is_refused_with_stable_codes() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let collector = start(&Engine::Sqlite, &sink);
    let email = written(
        THUNDERBIRD,
        "a@example.com",
        INBOUND,
        "<x@example.com>",
        "bad-input@example.com",
    );
    // Status, code, secret, content type, body.
    type Refusal<'a> = (u16, &'a str, Option<&'a str>, &'a str, Vec<u8>);
    let refusals: Vec<Refusal> = vec![
        (
            401,
            "unauthorized",
            None,
            "message/rfc822",
            email.clone().into_bytes(),
        ),
        (
            401,
            "unauthorized",
            Some("wrong"),
            "message/rfc822",
            email.clone().into_bytes(),
        ),
        (
            415,
            "unsupported-media-type",
            Some(SECRET),
            "application/json",
            email.clone().into_bytes(),
        ),
        (
            400,
            "invalid-email",
            Some(SECRET),
            "message/rfc822",
            b"".to_vec(),
        ),
        (
            400,
            "invalid-email",
            Some(SECRET),
            "message/rfc822",
            b"\xff\xfe\x00 no headers at all".to_vec(),
        ),
    ];
    for (status, code, secret, content_type, body) in refusals {
        let (got, json) = post_email(&collector, &body, secret, content_type);
        assert_eq!((got, json["code"].as_str()), (status, Some(code)), "{json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Over the limit: refused on its declared length, before a byte of it is read.
    let (status, json) = declared_too_large(&collector);
    assert_eq!(
        (status, json["code"].as_str()),
        (413, Some("payload-too-large")),
        "{json}"
    );
    let mut deep = String::from("From: a@example.com\r\nMessage-ID: <deep@example.com>\r\n");
    for level in 0..30 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nhi\r\n");
    let (status, json) = post_email(&collector, deep.as_bytes(), Some(SECRET), "message/rfc822");
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("invalid-email")),
        "{json}"
    );
    let mut many = String::from(
        "From: a@example.com\r\nMessage-ID: <many@example.com>\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    for _ in 0..300 {
        many.push_str("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n");
    }
    many.push_str("--b--\r\n");
    let (status, json) = post_email(&collector, many.as_bytes(), Some(SECRET), "message/rfc822");
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("invalid-email")),
        "{json}"
    );
    // Nothing was taken: a good email is still new.
    let (status, json) = post_email(&collector, email.as_bytes(), Some(SECRET), "message/rfc822");
    assert_eq!(
        (status, &json["duplicate"]),
        (200, &serde_json::json!(false)),
        "{json}"
    );
}

/// Announces an email of 10 MiB and a byte, sends none of it, and reads the answer.
fn declared_too_large(collector: &Collector) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", collector.port)).unwrap();
    write!(
        socket,
        "POST /v1/inbound-email HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {SECRET}\r\n\
         Content-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        10 * 1024 * 1024 + 1
    )
    .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// The reply mailbox watched over IMAP (a real Dovecot, messages delivered by LMTP): a
/// visitor's reply lands in the thread; a collector killed with emails waiting takes them
/// after restart, once; two replicas watching one mailbox take each email once.
#[test]
fn the_imap_watcher_takes_each_email_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let imap = dovecot.imap_url();
    for engine in Engine::all() {
        let mut collector = start_with(&engine, &sink, &["--imap-url", &imap]);
        let owner = OwnerSession::sign_in(&collector, OWNER, PASSWORD);
        let visitor = format!("imap.{}@example.com", engine.name());
        let id = feedback_with_email(&collector, "Sizes run small", &visitor, "en");
        assert_eq!(owner.reply(&id, "Which size do you wear?").0, 303);
        let reply = sink.wait_for("the reply", |mail: &Mail| {
            mail.envelope_to == visitor && mail.text.contains("Which size")
        });
        let reply_to = address(reply.reply_to.as_deref().unwrap());
        let answer = |sample: &str, client: &str| {
            written(
                sample,
                &visitor,
                &reply_to,
                &reply.message_id_brackets(),
                &format!("imap-{client}.{}@mail.example.com", engine.name()),
            )
        };
        let in_thread = |owner: &OwnerSession, words: &str| {
            let (_, page) = owner.get(&format!("/admin/feedback/{id}"));
            let thread = page
                .split("id=\"thread\"")
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            thread
                .split("</ol>")
                .next()
                .unwrap_or_default()
                .matches(&maud_escaped(words))
                .count()
        };

        let delivered = Instant::now();
        dovecot.deliver(&answer(GMAIL, "gmail"));
        eventually(
            "the IMAP answer in the thread",
            Duration::from_secs(30),
            || (in_thread(&owner, "Gmail: merci") == 1).then_some(()),
        );
        eprintln!(
            "FIGURE {}: a visitor's reply delivered to the mailbox (LMTP) -> in the thread (IMAP IDLE): {} ms",
            engine.name(),
            delivered.elapsed().as_millis()
        );

        // Killed: what arrives meanwhile (and a copy of what was taken) waits in the mailbox.
        collector.kill_9();
        dovecot.deliver(&answer(APPLE_MAIL, "apple"));
        dovecot.deliver(&answer(GMAIL, "gmail"));
        collector.restart();
        eventually(
            "the waiting answer taken after restart",
            Duration::from_secs(30),
            || (in_thread(&owner, "Apple Mail: thanks") == 1).then_some(()),
        );
        eventually("every email flagged", Duration::from_secs(30), || {
            let (all, seen) = dovecot.counts();
            (all == seen).then_some(())
        });
        assert_eq!(
            in_thread(&owner, "Gmail: merci"),
            1,
            "the copy changed nothing"
        );

        // Two replicas on one mailbox (replicas share a PostgreSQL database).
        if !matches!(engine, Engine::Postgres(_)) {
            continue;
        }
        let replica = collector.replica();
        dovecot.deliver(&answer(THUNDERBIRD, "thunderbird"));
        dovecot.deliver(&answer(OUTLOOK, "outlook"));
        eventually("both answers taken", Duration::from_secs(30), || {
            (in_thread(&owner, "Thunderbird: Danke") == 1
                && in_thread(&owner, "Outlook: thanks") == 1)
                .then_some(())
        });
        eventually("every email flagged", Duration::from_secs(30), || {
            let (all, seen) = dovecot.counts();
            (all == seen).then_some(())
        });
        assert_eq!(in_thread(&owner, "Thunderbird: Danke"), 1);
        assert_eq!(in_thread(&owner, "Outlook: thanks"), 1);
        drop(replica);
    }
}

/// An owner in a real Chromium: the Unmatched mail page, linked from the navigation, shows a
/// hostile email as text (its markup runs nothing), passes axe, and attaching it to a
/// submission puts it in that thread.
#[tokio::test(flavor = "multi_thread")]
async fn an_owner_attaches_unmatched_mail_in_the_browser() {
    use fantoccini::Locator;
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(browser) = browser::start().await else {
        return;
    };
    let collector = start(&Engine::Sqlite, &sink);
    let id = feedback_with_email(&collector, "Lost my parcel", "parcel@example.com", "en");
    let hostile = written(
        THUNDERBIRD,
        "someone.else@example.org",
        INBOUND,
        "<unknown@example.org>",
        "hostile@example.org",
    )
    .replace(
        "Thunderbird: Danke, jetzt klappt die Bestellung. Grüße aus Köln!",
        "<img src=x onerror=\"document.title='owned'\"> It is parcel 42, from my other address.",
    );
    assert_eq!(take(&collector, &hostile)["outcome"], "unmatched");

    browser.sign_in(&collector, OWNER, PASSWORD).await;
    browser
        .client
        .find(Locator::Css("nav a[href='/admin/unmatched']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let said = browser.text("ol.unmatched p.said").await;
    assert!(
        said.starts_with("<img src=x onerror=") && said.contains("parcel 42"),
        "{said}"
    );
    assert_ne!(browser.client.title().await.unwrap(), "owned");
    assert_eq!(browser.axe_page_violations().await, Vec::<String>::new());
    browser.screenshot("unmatched-mail").await;
    browser
        .client
        .find(Locator::Css("ol.unmatched input[name=feedback]"))
        .await
        .unwrap()
        .send_keys(&id)
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("ol.unmatched form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The submission's page, which lists the email among those that came in.
    let listed = browser.text("#inbound").await;
    assert!(listed.contains("Attached from unmatched mail"), "{listed}");
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/admin/feedback/{id}"));
    let words = browser.text("#thread ol.thread").await;
    assert!(
        words.contains("parcel 42, from my other address"),
        "{words}"
    );
    browser.close().await;
}
