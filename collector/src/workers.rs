//! Every background worker in one place, started together by `earshot serve` and stopped
//! together when it shuts down (SIGTERM, SIGINT): each finishes what it is doing (a webhook
//! delivery, a retention pass) and exits. The writer thread is the store's own: it commits
//! every submission it was handed before the server answers, so nothing acknowledged is left
//! behind.
//!
//! - webhook deliveries: due deliveries every second (claims keep replicas from sending one
//!   twice);
//! - email: the outbox every second, when SMTP is set up (claims likewise), and every
//!   [`MAIL_SCHEDULE_EVERY`] the digests and deadline reminders that are due;
//! - retention: each site's old feedback, every [`RETENTION_EVERY`] (expired sessions go
//!   whenever someone signs in);
//! - statistics: on PostgreSQL, the counts the writers appended are merged every
//!   [`STATS_MERGE_EVERY`] (SQLite's triggers keep them merged);
//! - forgetting: visitors and sign-in sources whose limits have refilled, every
//!   [`FORGET_EVERY`], so memory stays bounded; then the allocator gives back to the system
//!   what was freed (glibc keeps it otherwise: under ingest with exports, heaptrack measured
//!   a 47 MB heap peak while the process held 116 MB).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use earshot_store::{Location, Store, now_millis};

use crate::mail;
use crate::state::AppState;
use crate::webhooks::{self, Reach};

/// How often retention runs unless told otherwise.
pub const RETENTION_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the statistics' counts are merged (PostgreSQL).
pub const STATS_MERGE_EVERY: Duration = Duration::from_secs(60);
/// How often idle rate-limit and sign-in entries are forgotten.
pub const FORGET_EVERY: Duration = Duration::from_secs(60);
/// How often the webhook worker looks for due deliveries when it found none.
const WEBHOOK_POLL: Duration = Duration::from_secs(1);
/// How often digests and reminders that are due are queued.
pub const MAIL_SCHEDULE_EVERY: Duration = Duration::from_secs(60);
/// How long before a deadline the owners are reminded (at most a quarter of the time the
/// site promises, so a short promise is not reminded of at once).
pub const REMIND_BEFORE: Duration = Duration::from_secs(4 * 60 * 60);
/// How often the mail worker looks at the outbox when it found nothing due.
const MAIL_POLL: Duration = Duration::from_secs(1);

/// What the workers need beyond the shared state.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// The first retry's delay for a failed webhook delivery (it doubles after).
    pub webhook_retry: Duration,
    /// Where webhooks may be delivered.
    pub webhook_reach: Reach,
    /// The first retry's delay for an email the SMTP server did not take (it doubles after).
    pub mail_retry: Duration,
    /// How often retention runs (`--retention-interval-secs`, default [`RETENTION_EVERY`]).
    pub retention_every: Duration,
}

/// The running workers; [`Workers::stop`] ends them.
pub struct Workers {
    stop: Arc<Stop>,
    /// Bells the workers also sleep on, rung when stopping.
    bells: Vec<mail::MailBell>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
}

/// A flag the workers sleep on, so that stopping wakes them at once.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Sleeps for `time` or until stopped; `false` once stopped.
    fn pause(&self, time: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, time, |stopped| !*stopped)
            .unwrap_or_else(|e| e.into_inner());
        !*stopped
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
    }
}

impl Workers {
    /// Starts every background worker.
    pub fn start(state: &AppState, settings: WorkerSettings) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let mut workers = Self {
            stop: stop.clone(),
            bells: Vec::new(),
            threads: Vec::new(),
        };

        let store = state.store.clone();
        let agent = webhooks::delivery_agent(settings.webhook_reach);
        workers.spawn("earshot-webhooks", move |stop| {
            // Said once when deliveries stop for want of a database, and once when they go on.
            let mut failing = false;
            while !stop.is_stopped() {
                let sent = match webhooks::deliver_due(&store, &agent, settings.webhook_retry) {
                    Ok(sent) => {
                        if std::mem::take(&mut failing) {
                            tracing::info!("webhook deliveries go on: the database answers again");
                        }
                        sent
                    }
                    Err(err) if err.is_unreachable() => {
                        if !std::mem::replace(&mut failing, true) {
                            tracing::warn!(error = %err, "webhook deliveries wait: the database cannot be reached");
                        }
                        0
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "webhook deliveries could not be read");
                        0
                    }
                };
                if sent == 0 && !stop.pause(WEBHOOK_POLL) {
                    break;
                }
            }
        })?;

        if let Some(mailer) = state.mail.clone() {
            // Digests when an owner's period ends, reminders before a deadline passes.
            let store = state.store.clone();
            workers.spawn("earshot-mail-schedule", move |stop| {
                loop {
                    schedule_mail(&store);
                    if !stop.pause(MAIL_SCHEDULE_EVERY) {
                        break;
                    }
                }
            })?;
            let store = state.store.clone();
            let bell = state.mail_bell.clone();
            workers.bells.push(bell.clone());
            workers.spawn("earshot-mail", move |stop| {
                while !stop.is_stopped() {
                    let sent = match mail::send_due(&store, &mailer, settings.mail_retry) {
                        Ok(sent) => sent,
                        Err(err) => {
                            tracing::error!(error = %err, "the outbox could not be read");
                            0
                        }
                    };
                    if sent == 0 {
                        // Woken by a reply or a submission, by stopping, or at the poll
                        // (what another replica queued).
                        bell.wait(MAIL_POLL);
                    }
                }
            })?;
        }

        let store = state.store.clone();
        workers.spawn("earshot-retention", move |stop| {
            loop {
                sweep(&store);
                if !stop.pause(settings.retention_every) {
                    break;
                }
            }
        })?;

        if matches!(state.store.location(), Location::Postgres(_)) {
            let store = state.store.clone();
            workers.spawn("earshot-stats", move |stop| {
                while stop.pause(STATS_MERGE_EVERY) {
                    if let Err(err) = store.read(|db| db.compact_stats()) {
                        tracing::error!(error = %err, "the statistics' counts could not be merged");
                    }
                }
            })?;
        }

        let (rate_limits, logins, conversations) = (
            state.rate_limits.clone(),
            state.logins.clone(),
            state.conversations.clone(),
        );
        workers.spawn("earshot-forget", move |stop| {
            while stop.pause(FORGET_EVERY) {
                rate_limits.forget_idle();
                logins.forget_idle();
                conversations.forget_idle();
                give_back_freed_memory();
            }
        })?;
        Ok(workers)
    }

    fn spawn(
        &mut self,
        name: &'static str,
        work: impl FnOnce(&Stop) + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = self.stop.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(&stop))?;
        self.threads.push((name, handle));
        Ok(())
    }

    /// Wakes every worker, lets it finish what it is doing, and waits for it.
    pub fn stop(self) {
        self.stop.set();
        for bell in &self.bells {
            bell.ring();
        }
        for (name, handle) in self.threads {
            if handle.join().is_err() {
                tracing::error!(worker = name, "a background worker panicked");
            }
        }
    }
}

/// Returns the memory glibc's allocator holds freed (after an export, a burst of requests)
/// to the system, so resident memory follows what is in use.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own arenas; it takes
    // no pointer and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Queues the digests and reminders that are due.
fn schedule_mail(store: &Store) {
    let now = now_millis();
    match store.read(|db| db.queue_digests(now)) {
        Ok(0) => {}
        Ok(queued) => tracing::info!(queued, "digests queued"),
        Err(err) => tracing::error!(error = %err, "digests could not be queued"),
    }
    let lead = REMIND_BEFORE.as_millis() as i64;
    match store.read(|db| db.queue_reminders(now, lead)) {
        Ok(0) => {}
        Ok(reminded) => tracing::info!(reminded, "reminders of deadlines queued"),
        Err(err) => tracing::error!(error = %err, "reminders could not be queued"),
    }
}

/// Retention: the feedback each site keeps no longer.
fn sweep(store: &Store) {
    match store.read(|db| db.apply_retention(now_millis())) {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "retention applied"),
        Err(err) => tracing::error!(error = %err, "retention could not be applied"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_wakes_a_sleeping_worker_at_once() {
        let stop = Arc::new(Stop::default());
        let sleeper = {
            let stop = stop.clone();
            std::thread::spawn(move || stop.pause(Duration::from_secs(3600)))
        };
        std::thread::sleep(Duration::from_millis(50));
        stop.set();
        assert!(!sleeper.join().unwrap(), "woken as stopped");
        assert!(!stop.pause(Duration::from_secs(3600)), "stays stopped");
    }
}
