//! Strangers at the sign-in form: a flood of wrong passwords costs bounded memory, guesses
//! are slowed per source whatever user agent they claim, and nobody's guesses lock the owner
//! out of a browser they signed in with before. Against the real binary over HTTP.

mod common;

use std::sync::{Arc, Barrier};

use common::collector::Collector;
use earshot_collector::logins::{LOGIN_ATTEMPTS_PER_ACCOUNT, LOGIN_ATTEMPTS_PER_SOURCE};

const OWNER: &str = "owner@shop.example";
const PASSWORD: &str = "a long and right password";

/// Concurrent wrong sign-ins per round, and rounds.
const CONCURRENT_SIGN_INS: usize = 64;
const ROUNDS: usize = 4;
/// The most the collector may hold while and after being flooded, as the README states it
/// (about 65 MB measured). Without a bound each round added about 620 MB (one 19 MiB argon2
/// buffer per concurrent attempt, never given back).
const RESIDENT_BOUND_BYTES: u64 = 75_000_000;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

/// Posts the sign-in form from `forwarded_for` (the collector trusts 127.0.0.1 as a proxy),
/// with `cookie` if given; returns the status and the cookies set.
fn sign_in(
    collector: &Collector,
    forwarded_for: &str,
    user_agent: &str,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> (u16, Vec<String>) {
    let mut request = agent()
        .post(&collector.url("/admin/login"))
        .header("X-Forwarded-For", forwarded_for)
        .header("User-Agent", user_agent);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let response = request
        .send_form([
            ("email", email),
            ("password", password),
            ("next", "/admin/inbox"),
        ])
        .unwrap();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| {
            value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    (response.status().as_u16(), cookies)
}

/// A collector behind a proxy it trusts (so each test request names its own source), with
/// one owner account.
fn collector_with_owner() -> Collector {
    let collector = Collector::start_with(
        &["https://shop.example"],
        &["--trusted-proxies", "127.0.0.1"],
    );
    collector.add_user(OWNER, PASSWORD, &[]);
    collector
}

fn device_cookie(cookies: &[String]) -> String {
    cookies
        .iter()
        .find(|cookie| cookie.starts_with("earshot_device="))
        .expect("a device cookie")
        .clone()
}

#[test]
fn a_flood_of_wrong_sign_ins_costs_bounded_memory() {
    let collector = collector_with_owner();
    let (status, cookies) = sign_in(&collector, "10.99.0.1", "Owner", OWNER, PASSWORD, None);
    assert_eq!(status, 303);
    let device = device_cookie(&cookies);
    let collector = Arc::new(collector);
    let before = collector.resident_bytes();
    let mut peak = before;
    let mut refused_busy = 0;
    let mut refused_wrong = 0;
    for round in 0..ROUNDS {
        let start = Arc::new(Barrier::new(CONCURRENT_SIGN_INS));
        let attempts: Vec<_> = (0..CONCURRENT_SIGN_INS)
            .map(|n| {
                let collector = collector.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    // Every attempt from a source of its own, so no per-source limit spares
                    // the collector the password check; half on the real account.
                    let source = format!("10.{round}.{}.{}", n / 250, n % 250 + 1);
                    let email = if n % 2 == 0 {
                        OWNER.to_owned()
                    } else {
                        format!("stranger{n}-{}@example.com", "x".repeat(12_000))
                    };
                    sign_in(&collector, &source, "Guesser/1.0", &email, "wrong", None).0
                })
            })
            .collect();
        for attempt in attempts {
            match attempt.join().unwrap() {
                401 => refused_wrong += 1,
                429 => refused_busy += 1,
                other => panic!("a wrong sign-in answered {other}"),
            }
        }
        let now = collector.resident_bytes();
        eprintln!("round {round}: resident {} KiB", now / 1024);
        peak = peak.max(now);
    }
    eprintln!(
        "resident before {} KiB, peak {} KiB; {refused_wrong} refused as wrong, {refused_busy} as busy or limited",
        before / 1024,
        peak / 1024
    );
    assert!(
        refused_wrong >= 2 * CONCURRENT_SIGN_INS,
        "most attempts were really checked ({refused_wrong} of {})",
        ROUNDS * CONCURRENT_SIGN_INS
    );
    assert!(
        peak < RESIDENT_BOUND_BYTES,
        "resident memory reached {} KiB, over the bound of {} KiB",
        peak / 1024,
        RESIDENT_BOUND_BYTES / 1024
    );
    // And the owner still gets in from their browser.
    assert_eq!(
        sign_in(
            &collector,
            "10.99.0.1",
            "Owner",
            OWNER,
            PASSWORD,
            Some(&device)
        )
        .0,
        303
    );
}

#[test]
fn guesses_are_limited_per_source_whatever_the_user_agent() {
    let collector = collector_with_owner();
    let allowed = LOGIN_ATTEMPTS_PER_SOURCE as usize;
    let mut statuses = Vec::new();
    for n in 0..allowed + 2 {
        let email = format!("nobody{n}@example.com");
        let agent = format!("Browser/{n}");
        statuses.push(sign_in(&collector, "192.0.2.7", &agent, &email, "guess", None).0);
    }
    assert_eq!(statuses[..allowed], vec![401; allowed]);
    assert_eq!(
        &statuses[allowed..],
        &[429, 429],
        "a new user agent is the same source"
    );
    // An IPv6 source is its /64 network.
    // (A new email each time: every email has a limit of its own.)
    for n in 0..allowed {
        let source = format!("2001:db8:7:7::{:x}", n + 1);
        let email = format!("six{n}@example.com");
        assert_eq!(sign_in(&collector, &source, "B", &email, "g", None).0, 401);
    }
    assert_eq!(
        sign_in(
            &collector,
            "2001:db8:7:7:ffff::1",
            "B",
            "six-more@example.com",
            "g",
            None
        )
        .0,
        429
    );
    assert_eq!(
        sign_in(
            &collector,
            "2001:db8:7:8::1",
            "B",
            "six-next@example.com",
            "g",
            None
        )
        .0,
        401,
        "the next /64 is another source"
    );
}

#[test]
fn strangers_guessing_an_account_do_not_lock_out_its_owners_browser() {
    let collector = collector_with_owner();

    // The owner signs in once from their browser, which keeps a device cookie.
    let (status, cookies) = sign_in(&collector, "198.51.100.1", "Owner", OWNER, PASSWORD, None);
    assert_eq!(status, 303);
    let device = device_cookie(&cookies);

    // Strangers from many addresses guess the owner's password until the account is limited
    // (the owner's own sign-in counted as one attempt).
    let allowed = LOGIN_ATTEMPTS_PER_ACCOUNT as usize - 1;
    let mut statuses = Vec::new();
    for n in 0..allowed + 2 {
        let source = format!("203.0.113.{}", n + 1);
        statuses.push(sign_in(&collector, &source, "Guesser", OWNER, "guess", None).0);
    }
    assert_eq!(statuses[..allowed], vec![401; allowed]);
    assert_eq!(&statuses[allowed..], &[429, 429]);

    // A browser the account has not seen waits, even with the right password...
    assert_eq!(
        sign_in(&collector, "198.51.100.2", "New", OWNER, PASSWORD, None).0,
        429
    );
    // ...but the owner's own browser is recognised and signs in.
    assert_eq!(
        sign_in(
            &collector,
            "198.51.100.1",
            "Owner",
            OWNER,
            PASSWORD,
            Some(&device)
        )
        .0,
        303
    );
    // A device cookie made up or taken from another account is not recognised.
    assert_eq!(
        sign_in(
            &collector,
            "198.51.100.3",
            "Forger",
            OWNER,
            PASSWORD,
            Some("earshot_device=00.11")
        )
        .0,
        429
    );
}

/// Guesses from many addresses get the same answers on an account and on an email no account
/// has, so the sign-in form cannot be used to learn which accounts exist. (Before, only a real
/// account was ever answered 429.)
#[test]
fn an_unknown_email_is_limited_like_an_account() {
    let collector = collector_with_owner();
    let guesses = LOGIN_ATTEMPTS_PER_ACCOUNT as usize + 2;
    let answers = |email: &str, network: u8| -> Vec<u16> {
        (0..guesses)
            .map(|n| {
                let source = format!("198.18.{network}.{}", n + 1);
                sign_in(&collector, &source, "Guesser", email, "guess", None).0
            })
            .collect()
    };
    let on_account = answers(OWNER, 1);
    let on_nobody = answers("nobody-here@shop.example", 2);
    let allowed = LOGIN_ATTEMPTS_PER_ACCOUNT as usize;
    assert_eq!(on_account[..allowed], vec![401; allowed]);
    assert_eq!(&on_account[allowed..], &[429, 429]);
    assert_eq!(on_nobody, on_account, "the same answers, account or not");
    // The email is counted as accounts compare it (trimmed, in any case).
    assert_eq!(
        sign_in(
            &collector,
            "198.18.3.1",
            "G",
            " NOBODY-here@Shop.example ",
            "g",
            None
        )
        .0,
        429
    );
}

/// More sign-ins at once than the password checks' waiting room holds: the excess is answered
/// `429` at once with `Retry-After: 1` (busy), every other one is checked (`401`), and the
/// collector answers normally afterwards.
#[test]
fn sign_ins_past_the_waiting_room_are_told_to_come_back_at_once() {
    use earshot_collector::passwords::{
        MAX_CONCURRENT_PASSWORD_CHECKS, MAX_WAITING_PASSWORD_CHECKS,
    };
    let collector = Arc::new(collector_with_owner());
    let crowd = 2 * (MAX_CONCURRENT_PASSWORD_CHECKS + MAX_WAITING_PASSWORD_CHECKS);
    let start = Arc::new(Barrier::new(crowd));
    let attempts: Vec<_> = (0..crowd)
        .map(|n| {
            let (collector, start) = (collector.clone(), start.clone());
            std::thread::spawn(move || {
                let email = format!("crowd{n}@example.com");
                let source = format!("10.77.{}.{}", n / 250, n % 250 + 1);
                start.wait();
                let response = agent()
                    .post(&collector.url("/admin/login"))
                    .header("X-Forwarded-For", &source)
                    .send_form([("email", email.as_str()), ("password", "wrong")])
                    .unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|value| value.to_str().unwrap().to_owned());
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    let answers: Vec<(u16, Option<String>)> = attempts
        .into_iter()
        .map(|attempt| attempt.join().unwrap())
        .collect();
    let busy = answers
        .iter()
        .filter(|answer| **answer == (429, Some("1".to_owned())))
        .count();
    let checked = answers.iter().filter(|(status, _)| *status == 401).count();
    eprintln!("{crowd} at once: {checked} checked, {busy} told the collector is busy");
    assert_eq!(busy + checked, crowd, "{answers:?}");
    assert!(busy > 0, "the waiting room was never full");
    assert!(
        checked >= MAX_WAITING_PASSWORD_CHECKS,
        "every sign-in that found room was checked ({checked})"
    );
    assert_eq!(
        sign_in(&collector, "10.78.0.1", "Owner", OWNER, PASSWORD, None).0,
        303,
        "the owner signs in once the crowd is gone"
    );
}
