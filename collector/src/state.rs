//! What every request handler shares: the store, the limits, the caches and the settings
//! `earshot serve` was given. Built once by `earshot serve` (and by the tests), cloned into
//! each worker.

use std::sync::Arc;

use earshot_store::Store;

use crate::assets::Assets;
use crate::client_ip::TrustedProxies;
use crate::conversation::limits::ConversationLimits;
use crate::first_run::FirstRun;
use crate::logins::LoginLimits;
use crate::mail::{MailBell, Mailer};
use crate::metrics::Metrics;
use crate::passwords::PasswordChecks;
use crate::rate_limit::RateLimits;
use crate::sites::SiteCache;
use crate::webhooks::Reach;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Per-visitor and per-site limits on submissions.
    pub rate_limits: RateLimits,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Metrics,
    /// The site registry, cached for the ingest path.
    pub sites: SiteCache,
    /// The static web files (loader, stylesheet, demo site) and the built widget.
    pub assets: Assets,
    /// Limits on dashboard sign-in attempts.
    pub logins: LoginLimits,
    /// Password checks, bounded in number and memory.
    pub passwords: PasswordChecks,
    /// Reverse proxies whose `X-Forwarded-For` gives the visitor's address.
    pub trusted_proxies: TrustedProxies,
    /// How long a request and a stalled download may take.
    pub timeouts: Timeouts,
    /// Whether webhooks may point at this machine or private networks.
    pub webhook_reach: Reach,
    /// The bearer token `GET /metrics` asks for, when set.
    pub metrics_token: Option<String>,
    /// The first-run set-up link's token, while no owner account exists.
    pub setup: FirstRun,
    /// Outgoing email (`--smtp-url`), when configured; without it replies wait in the outbox.
    pub mail: Option<Arc<Mailer>>,
    /// Rung when email may have been queued, to wake the mail worker.
    pub mail_bell: MailBell,
    /// Limits on visitors' conversation pages.
    pub conversations: ConversationLimits,
    /// Email that arrives: the reply mailbox, the webhook's secret.
    pub inbound: crate::inbound::InboundSettings,
}

/// Time limits, so that a client that sends or reads slowly cannot hold a connection, a
/// worker or an export slot for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the request's arrival to its response's headers: a body that trickles in is cut
    /// off with `408 request-timeout` (the connection is then closed).
    pub request: std::time::Duration,
    /// How long a streamed export waits for a client that has stopped reading before it
    /// gives up, ending the download and freeing its export slot.
    pub export_idle: std::time::Duration,
}

/// Default of [`Timeouts::request`], in seconds (`--request-timeout`).
pub const REQUEST_TIMEOUT_SECS: u64 = 30;
/// Default of [`Timeouts::export_idle`], in seconds (`--export-idle-timeout`).
pub const EXPORT_IDLE_TIMEOUT_SECS: u64 = 60;

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: std::time::Duration::from_secs(REQUEST_TIMEOUT_SECS),
            export_idle: std::time::Duration::from_secs(EXPORT_IDLE_TIMEOUT_SECS),
        }
    }
}
