//! Webhooks: each new submission (not spam) is POSTed as JSON to the URLs a site's owner
//! registered, signed with HMAC-SHA256, retried with backoff, and logged.
//!
//! The queue is the `webhook_deliveries` table: a delivery is inserted in the transaction
//! that stores the submission, so a stored submission is never missing its deliveries, and
//! deliveries survive restarts. One worker thread per collector sends what is due.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use earshot_store::model::{Delivery, DeliveryState, DueDelivery, Webhook, WebhookFormat};

use earshot_store::{Database, DeliveryAttempt, FeedbackRow, Store, StoreError, now_millis};

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries claimed per pass of the worker. Their lease is as long as sending them all may
/// take ([`lease`]): a collector killed mid-pass leaves the rest claimed that long.
const BATCH: u32 = 5;
/// While the database cannot be reached, how often the outcome of a delivery already sent
/// is offered to it again.
const RECORD_RETRY: Duration = Duration::from_secs(1);

/// How long a pass's claims keep other collectors from sending the same deliveries: longer
/// than the pass can take (every delivery timing out), 60 s. Past it, a delivery whose
/// outcome was never recorded is sent again, with the same `Earshot-Delivery` id.
pub fn lease() -> Duration {
    TIMEOUT * (BATCH + 1)
}

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
/// link-local, multicast, documentation, benchmarking or reserved network. An IPv6 address
/// that carries an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4
/// `2002::/16`) is judged by that IPv4 address, since the network may deliver it there.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let segments = v6.segments();
            let in_net = |net: u128, prefix: u32| bits >> (128 - prefix) == net >> (128 - prefix);
            if v6.is_unspecified() || v6.is_loopback() {
                return false;
            }
            // The IPv4 address inside, where the IPv6 form carries one.
            let inside = if let Some(v4) = v6.to_ipv4_mapped() {
                Some(v4)
            } else if in_net(0, 96) || in_net(0x0064_ff9b << 96, 96) {
                // IPv4-compatible ::a.b.c.d (deprecated) and NAT64's well-known prefix.
                Some(Ipv4Addr::from(bits as u32))
            } else if segments[0] == 0x2002 {
                // 6to4: 2002:AABB:CCDD::/48 routes to a.b.c.d.
                Some(Ipv4Addr::from((bits >> 80) as u32))
            } else {
                None
            };
            if let Some(v4) = inside {
                return is_public_v4(v4);
            }
            !(v6.is_multicast()
                // NAT64 for local use, 64:ff9b:1::/48.
                || in_net(0x0064_ff9b_0001 << 80, 48)
                // Discard-only, 100::/64.
                || in_net(0x0100 << 112, 64)
                // IETF protocol assignments (Teredo, ORCHID, ...), 2001::/23.
                || in_net(0x2001 << 112, 23)
                // Documentation, 2001:db8::/32 and 3fff::/20.
                || in_net(0x2001_0db8 << 96, 32)
                || in_net(0x3fff << 112, 20)
                // Unique local fc00::/7, link-local fe80::/10, old site-local fec0::/10.
                || in_net(0xfc00 << 112, 7)
                || in_net(0xfe80 << 112, 10)
                || in_net(0xfec0 << 112, 10))
        }
    }
}

/// [`is_public`] for an IPv4 address.
fn is_public_v4(v4: Ipv4Addr) -> bool {
    let bits = u32::from(v4);
    let in_net = |net: u32, prefix: u32| bits >> (32 - prefix) == net >> (32 - prefix);
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_multicast()
        // "This network", 0.0.0.0/8.
        || in_net(0, 8)
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || in_net(0x6440_0000, 10)
        // IETF protocol assignments, 192.0.0.0/24.
        || in_net(0xc000_0000, 24)
        // Documentation: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24.
        || in_net(0xc000_0200, 24)
        || in_net(0xc633_6400, 24)
        || in_net(0xcb00_7100, 24)
        // The old 6to4 relay anycast, 192.88.99.0/24.
        || in_net(0xc058_6300, 24)
        // Benchmarking, 198.18.0.0/15.
        || in_net(0xc612_0000, 15)
        // Reserved, 240.0.0.0/4, broadcast included.
        || in_net(0xf000_0000, 4))
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

/// The HTTP client deliveries are sent with. It connects to the receiver itself, never
/// through a proxy named in the environment (`HTTP_PROXY`, `ALL_PROXY`, ...): through one,
/// the public-address check would see only the proxy's address.
pub fn delivery_agent(reach: Reach) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .proxy(None)
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
    let lease_until = now + lease().as_millis() as i64;
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
        record(store, delivery.id, &attempt, lease_until)?;
    }
    Ok(due.len())
}

/// Records an attempt. While the database cannot be reached it is offered again until the
/// lease is nearly over: a delivery that was sent is not sent again just because the
/// database was restarting when its outcome came back.
fn record(
    store: &Store,
    delivery: i64,
    attempt: &DeliveryAttempt,
    lease_until: i64,
) -> Result<(), StoreError> {
    loop {
        match store.read(|db| db.record_delivery(delivery, attempt)) {
            Err(err)
                if err.is_unreachable()
                    && now_millis() + ((RECORD_RETRY * 2).as_millis() as i64) < lease_until =>
            {
                std::thread::sleep(RECORD_RETRY);
            }
            recorded => return recorded,
        }
    }
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
            // Reserved and special IPv4 networks.
            "100.127.255.254",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.255",
            "203.0.113.5",
            // The IPv4 address inside NAT64, IPv4-compatible and 6to4 forms.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101:1::1",
            // Teredo, documentation, discard, old site-local.
            "2001::1",
            "2001:db8::1",
            "100::1",
            "fec0::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "100.128.0.1",
            "198.20.0.1",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "::1.1.1.1",
        ] {
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
