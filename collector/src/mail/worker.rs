//! The mail worker's pass: claim what is due, write each email, send it, record the
//! attempt (sent, retried with backoff, given up).

use std::time::Duration;

use lettre::Transport;

use super::compose::{Composed, compose};
use super::mailer::{
    Failure, MAIL_PER_OWNER_PER_HOUR, MAIL_PER_SITE_PER_HOUR, MAX_ATTEMPTS, Mailer, SMTP_TIMEOUT,
};
use earshot_store::model::{DeliveryState, DueMail, MailKind};
use earshot_store::{DeliveryAttempt, Store, StoreError, now_millis};

/// Emails sent per pass of the worker, claimed one at a time.
const BATCH: u32 = 20;
/// SMTP exchanges in one sending (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the
/// message), each allowed [`SMTP_TIMEOUT`]: an email's lease outlasts its slowest sending.
const EXCHANGES: u32 = 8;
/// SMTP replies that say this recipient will never take this message: the mailbox does not
/// exist, is not here, or its name is refused. Every other failure (a wrong password, a
/// refused sender, a full mailbox, a server in trouble) is worth another try: the operator
/// may fix it before the attempts run out.
const PERMANENT_REPLIES: [&str; 3] = ["550", "551", "553"];

/// Counts an email against its site's and owner's hourly bounds, before anything is written
/// for it.
fn within_limits(mailer: &Mailer, mail: &DueMail) -> Result<(), Failure> {
    use governor::clock::{Clock, DefaultClock};
    let now = DefaultClock::default().now();
    let held = |not_until: governor::NotUntil<_>, what: &str| {
        Failure::HeldBack(not_until.wait_time_from(now), what.to_owned())
    };
    if let Some(site) = &mail.site
        && let Err(not_until) = mailer.limits.per_site.check_key(site)
    {
        // An acknowledgement goes to an address nobody has confirmed: past the bound it is
        // skipped, so strangers cannot build a queue of mail to others.
        if mail.kind == MailKind::Acknowledgement {
            return Err(Failure::Permanent(format!(
                "skipped: more than {MAIL_PER_SITE_PER_HOUR} emails from this site this hour"
            )));
        }
        return Err(held(
            not_until,
            "held back: the site's hourly bound on email was reached",
        ));
    }
    if !mail.kind.to_visitor()
        && let Err(not_until) = mailer
            .limits
            .per_owner
            .check_key(&mail.recipient.to_lowercase())
    {
        // A notice of each new submission is not worth a queue that grows: past the bound
        // it is skipped (the inbox and the digest have the feedback).
        if mail.kind == MailKind::NewFeedback {
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
        Err(err)
            if err
                .status()
                .is_some_and(|code| PERMANENT_REPLIES.contains(&code.to_string().as_str())) =>
        {
            Err(Failure::Permanent(err.to_string()))
        }
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

/// Sends what is due, once. Returns how many emails were attempted (not those held back by
/// a bound, which wait without a worker spinning on them).
pub fn send_due(
    store: &Store,
    mailer: &Mailer,
    retry_first: Duration,
) -> Result<usize, StoreError> {
    let mut attempted = 0;
    for _ in 0..BATCH {
        // One at a time, each leased for longer than its sending can take, so no other
        // collector sends it meanwhile; a collector that dies mid-send leaves it to be sent
        // when the lease ends.
        let now = now_millis();
        let lease_until = now + (SMTP_TIMEOUT * EXCHANGES).as_millis() as i64;
        let Some(mail) = store
            .read(|db| db.claim_due_mail(now, lease_until, 1))?
            .pop()
        else {
            break;
        };
        let result = within_limits(mailer, &mail)
            .and_then(|()| compose(store, mailer, &mail))
            .and_then(|composed| send(mailer, &composed));
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
        if !matches!(result, Err(Failure::HeldBack(..))) {
            attempted += 1;
        }
        let attempt = outcome(&mail, result, retry_first);
        // Not recorded (the database is away): the lease ends and it is tried again, with the
        // same Message-ID, so a copy can be told apart.
        if let Err(err) = store.read(|db| db.record_mail(mail.id, &attempt)) {
            tracing::error!(mail = mail.id, error = %err, "an email's attempt could not be recorded");
        }
    }
    Ok(attempted)
}
