//! Where and as whom email is sent: the SMTP transport (`--smtp-url`), the sender
//! (`--mail-from`), the bounds on how much leaves, and the bell that wakes the worker.

use std::num::NonZeroU32;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use lettre::{Address, SmtpTransport};

/// Attempts before an email is given up as failed: with the default first retry of 30 s,
/// doubling, the last comes about eight and a half hours after the first.
pub const MAX_ATTEMPTS: u32 = 10;
/// Default of `--mail-retry-secs`: the wait before the first retry.
pub const RETRY_FIRST_SECS: u64 = 30;
/// How long one SMTP conversation may take.
pub(super) const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Replies owners write that one site may send per hour; more wait their turn. Counted
/// apart from automatic mail, so no flood of submissions can hold a reply back.
pub const REPLIES_PER_SITE_PER_HOUR: u32 = 200;
/// Automatic emails to visitors (resolution notices) one site may send per hour; more wait
/// their turn.
pub const MAIL_PER_SITE_PER_HOUR: u32 = 200;
/// Acknowledgements one site may send per hour: they go to addresses nobody has confirmed,
/// so a stranger filling the form with other people's addresses gets few out; more are
/// skipped.
pub const ACKNOWLEDGEMENTS_PER_SITE_PER_HOUR: u32 = 20;
/// Notices one owner may receive per hour; more are folded into one catch-up email
/// [`CATCH_UP_AFTER`] later.
pub const MAIL_PER_OWNER_PER_HOUR: u32 = 30;
/// When the catch-up email of notices past an owner's bound leaves, after the first of them.
pub const CATCH_UP_AFTER: Duration = Duration::from_secs(3600);

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
    pub(super) transport: SmtpTransport,
    pub(crate) from: Address,
    /// The SMTP server, without credentials, for logs and the dashboard.
    server: String,
    /// Links in emails start here (`--public-url`).
    pub(crate) public_url: String,
    pub(super) limits: MailLimits,
    /// The mailbox replies come back to (`--inbound-address`): each email's `Reply-To` is a
    /// plus-variant of it that names its conversation.
    pub(crate) reply_address: Option<Address>,
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
            reply_address: None,
        })
    }

    /// Replies to every email come back to this mailbox (`--inbound-address`).
    pub fn with_reply_address(mut self, address: &str) -> Result<Self, String> {
        self.reply_address = Some(address.trim().parse().map_err(|err| {
            format!("--inbound-address {address:?} is not an email address: {err}")
        })?);
        Ok(self)
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

/// Per-site and per-owner bounds on email, counted per collector process. Each kind of
/// mail has a bound of its own, so one kind used up cannot hold another back.
pub(super) struct MailLimits {
    pub(super) replies_per_site: DefaultKeyedRateLimiter<String>,
    pub(super) per_site: DefaultKeyedRateLimiter<String>,
    pub(super) acknowledgements_per_site: DefaultKeyedRateLimiter<String>,
    pub(super) per_owner: DefaultKeyedRateLimiter<String>,
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
            replies_per_site: RateLimiter::keyed(hourly(REPLIES_PER_SITE_PER_HOUR)),
            per_site: RateLimiter::keyed(hourly(MAIL_PER_SITE_PER_HOUR)),
            acknowledgements_per_site: RateLimiter::keyed(hourly(
                ACKNOWLEDGEMENTS_PER_SITE_PER_HOUR,
            )),
            per_owner: RateLimiter::keyed(hourly(MAIL_PER_OWNER_PER_HOUR)),
        }
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
    /// An owner's notice past their hourly bound: listed in their next catch-up email.
    Folded,
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
}
