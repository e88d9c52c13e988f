//! Outgoing email: owners' replies to visitors, and notices to owners when a visitor
//! answers.
//!
//! Every email goes through the `outbox` table, queued in the transaction of the action that
//! causes it (a reply, an answer), so nothing is lost to a crash or an SMTP outage. One worker
//! per collector claims what is due (claims with a lease, as for webhook deliveries, so
//! replicas never take the same email), writes each message from its thread at that moment,
//! and hands it to the SMTP server. A failure the server calls temporary, or a connection
//! that fails, is retried with backoff; a permanent refusal (5xx) is not. Each email keeps
//! one `Message-ID` across attempts, so a receiver can tell a copy if an acknowledgement was
//! lost on its way back.

use std::num::NonZeroU32;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

mod compose;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use lettre::{Address, SmtpTransport, Transport};

use compose::{Composed, compose};
use earshot_store::model::{DeliveryState, DueMail, MailKind};
use earshot_store::{DeliveryAttempt, Store, StoreError, now_millis};

/// Attempts before an email is given up as failed: with the default first retry of 30 s,
/// doubling, the last comes about eight and a half hours after the first.
pub const MAX_ATTEMPTS: u32 = 10;
/// Default of `--mail-retry-secs`: the wait before the first retry.
pub const RETRY_FIRST_SECS: u64 = 30;
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Emails claimed per pass of the worker.
const BATCH: u32 = 20;
/// Emails one site may send per hour (replies and answers together); more wait their turn.
pub const MAIL_PER_SITE_PER_HOUR: u32 = 200;
/// Emails one owner may receive per hour; more wait their turn.
pub const MAIL_PER_OWNER_PER_HOUR: u32 = 30;

/// Wakes the mail worker when something may have been queued (a reply, a new submission),
/// so an email leaves within milliseconds rather than at the next poll. Replicas that did not
/// ring still find it at their next poll.
#[derive(Clone, Default)]
pub struct MailBell(Arc<(Mutex<bool>, Condvar)>);

impl MailBell {
    pub fn ring(&self) {
        let (rung, bell) = &*self.0;
        *rung.lock().unwrap_or_else(|e| e.into_inner()) = true;
        bell.notify_all();
    }

    /// Waits until the bell rings or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let (rung, bell) = &*self.0;
        let guard = rung.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = bell
            .wait_timeout_while(guard, timeout, |rung| !*rung)
            .unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }
}

/// Where and as whom email is sent (`--smtp-url`, `--mail-from`).
pub struct Mailer {
    transport: SmtpTransport,
    pub(crate) from: Address,
    /// The SMTP server, without credentials, for logs and the dashboard.
    server: String,
    /// Links in emails start here (`--public-url`).
    pub(crate) public_url: String,
    limits: MailLimits,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// How an `smtp://` URL without `tls=` is read: STARTTLS is required, so credentials and
/// mail never cross the network in the clear unless `tls=none` says so.
fn transport_url(url: &str) -> Result<(String, String), String> {
    let mut parsed =
        url::Url::parse(url.trim()).map_err(|err| format!("--smtp-url is not a URL: {err}"))?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") {
        return Err("--smtp-url starts with smtp:// (STARTTLS) or smtps:// (TLS)".to_owned());
    }
    let host = parsed
        .host_str()
        .ok_or("--smtp-url names no host")?
        .to_owned();
    let tls = parsed
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let server = format!(
        "{}://{host}:{}",
        parsed.scheme(),
        parsed
            .port()
            .map(|port| port.to_string())
            .unwrap_or_else(|| "default port".into())
    );
    if parsed.scheme() == "smtp" {
        match tls.as_deref() {
            None => {
                parsed.query_pairs_mut().append_pair("tls", "required");
            }
            Some("required" | "opportunistic") => {}
            Some("none") => parsed.set_query(None),
            Some(other) => {
                return Err(format!(
                    "--smtp-url: tls={other} is not one of required, opportunistic, none"
                ));
            }
        }
    }
    Ok((parsed.to_string(), server))
}

impl Mailer {
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> Result<Self, String> {
        let (url, server) = transport_url(smtp_url)?;
        let transport = SmtpTransport::from_url(&url)
            .map_err(|err| format!("--smtp-url: {err}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Address = from
            .trim()
            .parse()
            .map_err(|err| format!("--mail-from {from:?} is not an email address: {err}"))?;
        Ok(Self {
            transport,
            from,
            server,
            public_url: public_url.trim_end_matches('/').to_owned(),
            limits: MailLimits::default(),
        })
    }

    /// The SMTP server, without credentials.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The address email is sent from.
    pub fn from_address(&self) -> String {
        self.from.to_string()
    }

    /// The domain of `Message-ID`s: the sender's.
    pub(crate) fn domain(&self) -> &str {
        self.from.domain()
    }
}

/// Per-site and per-owner bounds on email, counted per collector process.
struct MailLimits {
    per_site: DefaultKeyedRateLimiter<String>,
    per_owner: DefaultKeyedRateLimiter<String>,
}

impl Default for MailLimits {
    fn default() -> Self {
        let hourly = |count: u32| {
            let count = NonZeroU32::new(count).expect("non-zero limit");
            Quota::with_period(Duration::from_secs(3600) / count.get())
                .expect("a non-zero period")
                .allow_burst(count)
        };
        Self {
            per_site: RateLimiter::keyed(hourly(MAIL_PER_SITE_PER_HOUR)),
            per_owner: RateLimiter::keyed(hourly(MAIL_PER_OWNER_PER_HOUR)),
        }
    }
}

/// Text for a header: one line (no CR, LF or other control characters, which could start a
/// header of their own), at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// Why an email was not sent this time.
pub(crate) enum Failure {
    /// Worth another attempt later (the server or the network).
    Temporary(String),
    /// Never worth another attempt (a refused recipient, a deleted thread, an address that
    /// unsubscribed, a reminder of something answered meanwhile).
    Permanent(String),
    /// A limit on email was reached: tried again after this wait, not counted as an attempt.
    HeldBack(Duration, String),
}

/// Counts an email against its site's and owner's hourly bounds.
fn within_limits(mailer: &Mailer, composed: &Composed) -> Result<(), Failure> {
    use governor::clock::{Clock, DefaultClock};
    let now = DefaultClock::default().now();
    let held = |not_until: governor::NotUntil<_>, what: &str| {
        Failure::HeldBack(not_until.wait_time_from(now), what.to_owned())
    };
    if let Some(site) = &composed.site {
        mailer
            .limits
            .per_site
            .check_key(site)
            .map_err(|n| held(n, "held back: the site's hourly bound on email was reached"))?;
    }
    if let Some(owner) = &composed.owner
        && let Err(not_until) = mailer.limits.per_owner.check_key(owner)
    {
        // A notice of each new submission is not worth a queue that grows: past the bound
        // it is skipped (the inbox and the digest have the feedback).
        if composed.kind == MailKind::NewFeedback {
            return Err(Failure::Permanent(format!(
                "skipped: more than {MAIL_PER_OWNER_PER_HOUR} emails to this owner this hour"
            )));
        }
        return Err(held(
            not_until,
            "held back: the owner's hourly bound on email was reached",
        ));
    }
    Ok(())
}

fn send(mailer: &Mailer, composed: &Composed) -> Result<(), Failure> {
    match mailer.transport.send(&composed.message) {
        Ok(_) => Ok(()),
        Err(err) if err.is_permanent() => Err(Failure::Permanent(err.to_string())),
        Err(err) => Err(Failure::Temporary(err.to_string())),
    }
}

/// What to store after an attempt.
fn outcome(mail: &DueMail, result: Result<(), Failure>, retry_first: Duration) -> DeliveryAttempt {
    let now = now_millis();
    let attempts = mail.attempts + 1;
    let (state, attempts, error, next) = match result {
        Ok(()) => (DeliveryState::Delivered, attempts, None, now),
        Err(Failure::Permanent(error)) => (DeliveryState::Failed, attempts, Some(error), now),
        Err(Failure::HeldBack(wait, error)) => (
            DeliveryState::Pending,
            mail.attempts,
            Some(error),
            now + wait.as_millis() as i64,
        ),
        Err(Failure::Temporary(error)) => {
            let state = if attempts >= MAX_ATTEMPTS {
                DeliveryState::Failed
            } else {
                DeliveryState::Pending
            };
            let wait = crate::webhooks::backoff(retry_first, attempts - 1);
            (state, attempts, Some(error), now + wait.as_millis() as i64)
        }
    };
    DeliveryAttempt {
        state,
        attempts,
        status: None,
        error,
        next_attempt_at: next,
        now,
    }
}

/// Sends what is due, once. Returns how many emails were attempted.
pub fn send_due(
    store: &Store,
    mailer: &Mailer,
    retry_first: Duration,
) -> Result<usize, StoreError> {
    // Claimed for longer than a pass can take, so no other collector sends them meanwhile; a
    // collector that dies mid-pass leaves them to be sent when the lease ends.
    let now = now_millis();
    let lease_until = now + (SMTP_TIMEOUT * (BATCH + 1)).as_millis() as i64;
    let due = store.read(|db| db.claim_due_mail(now, lease_until, BATCH))?;
    for mail in &due {
        let result = compose(store, mailer, mail).and_then(|composed| {
            within_limits(mailer, &composed)?;
            send(mailer, &composed)
        });
        match &result {
            Ok(()) => tracing::info!(mail = mail.id, kind = mail.kind.as_str(), "email sent"),
            Err(Failure::HeldBack(_, why)) => tracing::info!(mail = mail.id, why, "email waits"),
            Err(Failure::Temporary(error) | Failure::Permanent(error)) => {
                tracing::warn!(
                    mail = mail.id,
                    attempt = mail.attempts + 1,
                    error,
                    "email not sent"
                )
            }
        }
        let attempt = outcome(mail, result, retry_first);
        store.read(|db| db.record_mail(mail.id, &attempt))?;
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_require_starttls_unless_told_otherwise() {
        let (url, server) = transport_url("smtp://user:secret@mail.example:587").unwrap();
        assert!(url.ends_with("?tls=required"), "{url}");
        assert_eq!(server, "smtp://mail.example:587");
        let (url, _) = transport_url("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert!(!url.contains("tls="), "{url}");
        let (url, _) = transport_url("smtps://mail.example").unwrap();
        assert!(!url.contains("tls="), "{url}");
        assert!(transport_url("http://mail.example").is_err());
        assert!(transport_url("smtp://mail.example?tls=maybe").is_err());
        assert!(Mailer::new("smtp://mail.example", "not an address", "http://x").is_err());
    }

    /// Names and subjects can never start a header of their own.
    #[test]
    fn header_text_is_one_line() {
        assert_eq!(
            one_line("Shop\r\nBcc: evil@example.com", 100),
            "Shop Bcc: evil@example.com"
        );
        assert_eq!(one_line("a\u{0}b\tc", 100), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
