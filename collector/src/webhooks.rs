//! Webhooks: each new submission (not spam) is POSTed as JSON to the URLs a site's owner
//! registered, signed with HMAC-SHA256, retried with backoff, and logged.
//!
//! The queue is the `webhook_deliveries` table: a delivery is inserted in the transaction
//! that stores the submission, so a stored submission is never missing its deliveries, and
//! deliveries survive restarts. One worker thread per collector sends what is due.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use earshot_store::model::{Delivery, DeliveryState, DueDelivery, Webhook, WebhookFormat};

use earshot_store::{Database, DeliveryAttempt, FeedbackRow, Store, StoreError, now_millis};

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries sent per pass of the worker.
const BATCH: u32 = 20;

/// Checks a webhook URL: http or https, with a host.
pub fn validate_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(())
        }
        _ => Err("a webhook URL starts with https:// (or http://) and names a host".to_owned()),
    }
}

/// Whether webhooks may reach this machine and private networks (`--allow-private-webhooks`).
/// Off by default: an owner account must not be a way to make the collector call services
/// behind its firewall (server-side request forgery).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reach {
    #[default]
    PublicOnly,
    Anywhere,
}

/// Whether an address is on the public internet: not this machine, not a private, shared,
/// link-local, multicast or unspecified network (IPv4-mapped IPv6 addresses as their IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks, when a webhook is added, that its host resolves to at least one public address
/// (blocking: DNS). Checked again at every delivery, so a name that later points elsewhere
/// (DNS rebinding) is refused then too.
pub fn check_reach(url: &str, reach: Reach) -> Result<(), String> {
    if reach == Reach::Anywhere {
        return Ok(());
    }
    let parsed = url::Url::parse(url.trim()).map_err(|err| err.to_string())?;
    let addresses: Vec<SocketAddr> = parsed
        .socket_addrs(|| None)
        .map_err(|err| format!("the webhook's host cannot be resolved: {err}"))?;
    if addresses.iter().any(|address| is_public(address.ip())) {
        Ok(())
    } else {
        Err(PRIVATE_REFUSAL.to_owned())
    }
}

const PRIVATE_REFUSAL: &str = "the webhook's host is on this machine or a private network; \
     start the collector with --allow-private-webhooks to allow that";

/// A resolver for the delivery agent that keeps only public addresses, so a delivery never
/// connects to a private one whatever the name resolves to at that moment.
#[derive(Debug)]
struct PublicAddressesOnly;

impl ureq::unversioned::resolver::Resolver for PublicAddressesOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let mut kept = self.empty();
        let mut any = false;
        for address in (host, port).to_socket_addrs()? {
            any = true;
            if is_public(address.ip()) && kept.len() < 16 {
                kept.push(address);
            }
        }
        if !any {
            return Err(ureq::Error::HostNotFound);
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                PRIVATE_REFUSAL,
            )));
        }
        Ok(kept)
    }
}

/// The HTTP client deliveries are sent with.
pub fn delivery_agent(reach: Reach) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build();
    match reach {
        Reach::Anywhere => config.into(),
        Reach::PublicOnly => ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            PublicAddressesOnly,
        ),
    }
}

pub fn add_webhook(
    db: &mut dyn Database,
    site: &str,
    url: &str,
    format: WebhookFormat,
) -> Result<Webhook, StoreError> {
    let secret = crate::auth::random_secret("whsec_", 24);
    let url = url.trim();
    let id = db.add_webhook(site, url, &secret, format)?;
    Ok(Webhook {
        id,
        site: site.to_owned(),
        url: url.to_owned(),
        secret,
        format,
    })
}

/// The wait before attempt `attempt + 1` (after `attempt` failures): `first`, doubling.
pub fn backoff(first: Duration, attempt: u32) -> Duration {
    first.saturating_mul(1 << attempt.min(16))
}

/// The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, so a
/// receiver can check the sender and refuse old replays.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// Slack's text escaping: `&`, `<` and `>` (its link and mention syntax).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The body for a submission.
pub fn payload(format: WebhookFormat, site_name: &str, row: &FeedbackRow) -> String {
    match format {
        WebhookFormat::Json => {
            let metadata: &BTreeMap<String, String> = &row.metadata;
            serde_json::json!({
                "event": "feedback.created",
                "site": row.site,
                "feedback": {
                    "id": row.id,
                    "received_at": earshot_store::timestamp(row.received_at),
                    "rating_kind": row.rating.kind.as_str(),
                    "rating": row.rating.value,
                    "comment": row.comment,
                    "email": row.email,
                    "page_url": row.page_url,
                    "locale": row.locale,
                    "user_id": row.user_id,
                    "metadata": metadata,
                }
            })
            .to_string()
        }
        WebhookFormat::Slack => {
            let comment = if row.comment.trim().is_empty() {
                "(no comment)".to_owned()
            } else {
                slack_escape(&row.comment)
            };
            let mut text = format!(
                "New feedback on {}: {} {}/{}\n>{}\n{}",
                slack_escape(site_name),
                row.rating.kind.as_str(),
                row.rating.value,
                row.rating.kind.bounds().1,
                comment.replace('\n', "\n>"),
                slack_escape(&row.page_url)
            );
            if let Some(email) = &row.email {
                text.push_str(&format!("\nFrom {}", slack_escape(email)));
            }
            serde_json::json!({ "text": text }).to_string()
        }
    }
}

/// What to store after an attempt: delivered, or failed with the status or error, and when
/// to retry.
fn attempt(attempts: u32, outcome: Result<u16, String>, retry_first: Duration) -> DeliveryAttempt {
    let now = now_millis();
    let (state, status, error, next) = match outcome {
        Ok(status) if (200..300).contains(&status) => {
            (DeliveryState::Delivered, Some(status), None, now)
        }
        other => {
            let (status, error) = match other {
                Ok(status) => (Some(status), None),
                Err(error) => (None, Some(error)),
            };
            let state = if attempts >= MAX_ATTEMPTS {
                DeliveryState::Failed
            } else {
                DeliveryState::Pending
            };
            let wait = backoff(retry_first, attempts.saturating_sub(1));
            (state, status, error, now + wait.as_millis() as i64)
        }
    };
    DeliveryAttempt {
        state,
        attempts,
        status,
        error,
        next_attempt_at: next,
        now,
    }
}

fn send(agent: &ureq::Agent, delivery: &DueDelivery, body: &str) -> Result<u16, String> {
    let timestamp = now_millis() / 1000;
    agent
        .post(&delivery.webhook.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("Earshot/", env!("CARGO_PKG_VERSION")))
        .header("Earshot-Event", "feedback.created")
        .header("Earshot-Delivery", &delivery.id.to_string())
        .header(
            "Earshot-Signature",
            &signature(&delivery.webhook.secret, timestamp, body),
        )
        .send(body)
        .map(|response| response.status().as_u16())
        .map_err(|err| err.to_string())
}

/// Sends what is due, once. Returns how many deliveries were attempted.
pub fn deliver_due(
    store: &Store,
    agent: &ureq::Agent,
    retry_first: Duration,
) -> Result<usize, StoreError> {
    // Claimed for longer than a pass can take, so no other collector sends them meanwhile;
    // a collector that dies mid-pass leaves them to be retried when the lease ends.
    let now = now_millis();
    let lease_until = now + (TIMEOUT * (BATCH + 1)).as_millis() as i64;
    let due = store.read(|db| db.claim_due_deliveries(now, lease_until, BATCH))?;
    for delivery in &due {
        let found = store.read(|db| {
            Ok((
                db.feedback_by_id(&delivery.feedback_id)?,
                db.site(&delivery.webhook.site)?,
            ))
        })?;
        let attempts = delivery.attempts + 1;
        let outcome = match found {
            (Some(row), Some(site)) => {
                let body = payload(delivery.webhook.format, &site.name, &row);
                send(agent, delivery, &body)
            }
            // Deleted meanwhile (retention, erasure): nothing to tell, and nothing to retry.
            _ => Err("the feedback was deleted before it could be sent".to_owned()),
        };
        let attempts = if matches!(&outcome, Err(e) if e.starts_with("the feedback was deleted")) {
            MAX_ATTEMPTS
        } else {
            attempts
        };
        if let Err(error) = &outcome {
            tracing::warn!(delivery = delivery.id, webhook = delivery.webhook.id, %error, "webhook delivery failed");
        }
        let attempt = attempt(attempts, outcome, retry_first);
        store.read(|db| db.record_delivery(delivery.id, &attempt))?;
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_and_body() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn slack_messages_escape_what_slack_would_interpret() {
        let row = FeedbackRow {
            seq: 1,
            id: "f".into(),
            received_at: 0,
            site: "demo".into(),
            rating: earshot_shared::Rating {
                kind: earshot_shared::RatingKind::Stars,
                value: 2,
            },
            comment: "<!channel> & <https://evil.example|click>\nsecond line".into(),
            email: Some("ada@example.com".into()),
            page_url: "https://shop.example/cart".into(),
            referrer: None,
            locale: String::new(),
            user_agent: String::new(),
            viewport_width: 0,
            viewport_height: 0,
            status: earshot_store::FeedbackStatus::New,
            spam: false,
            user_id: None,
            metadata: BTreeMap::new(),
            note: String::new(),
            first_response_at: None,
            first_answer_at: None,
            answer_by: None,
            has_screenshot: false,
            answered_at: None,
            unread: false,
            unsubscribed_at: None,
            replies_kept: false,
            latest: None,
            replies: 0,
            visitor_answers: 0,
            thread_json: None,
        };
        let body: serde_json::Value =
            serde_json::from_str(&payload(WebhookFormat::Slack, "Demo <shop>", &row)).unwrap();
        assert_eq!(
            body["text"],
            "New feedback on Demo &lt;shop&gt;: stars 2/5\n>&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;\n>second line\nhttps://shop.example/cart\nFrom ada@example.com"
        );
        let json: serde_json::Value =
            serde_json::from_str(&payload(WebhookFormat::Json, "Demo", &row)).unwrap();
        assert_eq!(
            json["feedback"]["comment"],
            row.comment.as_str(),
            "JSON keeps the text as it is"
        );
    }

    #[test]
    fn retries_back_off_exponentially() {
        let first = Duration::from_secs(10);
        assert_eq!(backoff(first, 0), Duration::from_secs(10));
        assert_eq!(backoff(first, 3), Duration::from_secs(80));
    }

    /// A failure is retried after 10 s, 20 s, 40 s…; the eighth attempt is the last; a 2xx
    /// is delivered; a non-2xx is recorded with its status, a transport error with its text.
    #[test]
    fn attempts_double_their_wait_and_stop_after_eight() {
        let first = Duration::from_secs(10);
        let failed = attempt(1, Ok(500), first);
        assert_eq!(failed.state, DeliveryState::Pending);
        assert_eq!((failed.status, failed.error.as_deref()), (Some(500), None));
        assert_eq!(failed.next_attempt_at - failed.now, 10_000);
        let third = attempt(3, Err("timed out".into()), first);
        assert_eq!(third.next_attempt_at - third.now, 40_000, "10, 20, 40 s");
        assert_eq!(third.error.as_deref(), Some("timed out"));
        assert_eq!(
            attempt(MAX_ATTEMPTS - 1, Ok(503), first).state,
            DeliveryState::Pending
        );
        assert_eq!(
            attempt(MAX_ATTEMPTS, Ok(503), first).state,
            DeliveryState::Failed,
            "the eighth failure is the last"
        );
        let delivered = attempt(2, Ok(204), first);
        assert_eq!(delivered.state, DeliveryState::Delivered);
        assert_eq!(MAX_ATTEMPTS, 8);
        assert_eq!(TIMEOUT, Duration::from_secs(10), "as the README says");
    }

    #[test]
    fn urls_must_be_http() {
        assert!(validate_url("https://hooks.slack.com/services/T/B/X").is_ok());
        assert!(validate_url("http://127.0.0.1:9000/hook").is_ok());
        for bad in ["", "ftp://x.example/", "javascript:alert(1)", "https://"] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_delivery_never_connects_to_a_private_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let error = delivery_agent(Reach::PublicOnly)
            .post(&url)
            .send("{}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("private network"), "{error}");
        assert!(listener.accept().is_err(), "nothing connected");
        // A name is resolved at send time and refused the same way.
        let by_name = format!(
            "http://localhost:{}/hook",
            listener.local_addr().unwrap().port()
        );
        assert!(
            delivery_agent(Reach::PublicOnly)
                .post(&by_name)
                .send("{}")
                .is_err()
        );
        assert!(listener.accept().is_err(), "nothing connected");
        assert_eq!(
            check_reach(&url, Reach::PublicOnly).unwrap_err(),
            PRIVATE_REFUSAL
        );
        assert!(check_reach(&url, Reach::Anywhere).is_ok());
        // Allowed, the same delivery reaches the listener.
        listener.set_nonblocking(false).unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).unwrap();
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        });
        let response = delivery_agent(Reach::Anywhere)
            .post(&url)
            .send("{}")
            .unwrap();
        assert_eq!(response.status().as_u16(), 204);
        server.join().unwrap();
    }
}
