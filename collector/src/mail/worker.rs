//! The mail worker's pass: claim what is due, write each email, send it, record the
//! attempt (sent, retried with backoff, given up).

use std::time::Duration;

use lettre::Transport;

use super::compose::{Composed, compose};
use super::mailer::{Failure, MAIL_PER_OWNER_PER_HOUR, MAX_ATTEMPTS, Mailer, SMTP_TIMEOUT};
use earshot_store::model::{DeliveryState, DueMail, MailKind};
use earshot_store::{DeliveryAttempt, Store, StoreError, now_millis};

/// Emails claimed per pass of the worker.
const BATCH: u32 = 20;

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
