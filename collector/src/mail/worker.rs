//! The mail worker's pass: claim what is due, write each email, send it, record the
//! attempt (sent, retried with backoff, given up).

use std::time::Duration;

use lettre::Transport;

use super::compose::{Composed, compose};
use super::mailer::{
    ACKNOWLEDGEMENTS_PER_SITE_PER_HOUR, CATCH_UP_AFTER, Failure, MAX_ATTEMPTS, Mailer, SMTP_TIMEOUT,
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

/// Counts an email against its bound, before anything is written for it. Every kind has a
/// bound of its own: replies an owner wrote are never held back by automatic mail, and
/// notices to owners spend nothing of what the site may send to visitors.
fn within_limits(mailer: &Mailer, mail: &DueMail) -> Result<(), Failure> {
    use governor::clock::{Clock, DefaultClock};
    let now = DefaultClock::default().now();
    let held = |not_until: governor::NotUntil<_>, what: &str| {
        Failure::HeldBack(not_until.wait_time_from(now), what.to_owned())
    };
    let limits = &mailer.limits;
    match mail.kind {
        MailKind::Reply | MailKind::Resolved => {
            let Some(site) = &mail.site else {
                return Ok(());
            };
            let (bound, what) = if mail.kind == MailKind::Reply {
                (
                    &limits.replies_per_site,
                    "held back: the site's hourly bound on replies was reached",
                )
            } else {
                (
                    &limits.per_site,
                    "held back: the site's hourly bound on automatic email was reached",
                )
            };
            bound
                .check_key(site)
                .map_err(|not_until| held(not_until, what))
        }
        // An acknowledgement goes to an address nobody has confirmed: past the bound it is
        // skipped, so strangers cannot build a queue of mail to others.
        MailKind::Acknowledgement => match &mail.site {
            Some(site) if limits.acknowledgements_per_site.check_key(site).is_err() => {
                Err(Failure::Permanent(format!(
                    "skipped: more than {ACKNOWLEDGEMENTS_PER_SITE_PER_HOUR} acknowledgements from this site this hour"
                )))
            }
            _ => Ok(()),
        },
        // At most one an hour by construction, and it is what the bound leads to.
        MailKind::CatchUp => Ok(()),
        MailKind::NewFeedback | MailKind::VisitorAnswer | MailKind::Reminder | MailKind::Digest => {
            match limits.per_owner.check_key(&mail.recipient.to_lowercase()) {
                Ok(()) => Ok(()),
                Err(_) if mail.kind != MailKind::Digest && mail.user_id.is_some() => {
                    Err(Failure::Folded)
                }
                Err(not_until) => Err(held(
                    not_until,
                    "held back: the owner's hourly bound on email was reached",
                )),
            }
        }
    }
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
        // `send_due` records a folded notice with `fold_notice` instead; were one to reach
        // here, it would wait to be tried again, never be lost.
        Err(Failure::Folded) => (DeliveryState::Pending, mail.attempts, None, now),
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
        if let Err(Failure::Folded) = result {
            tracing::info!(
                mail = mail.id,
                kind = mail.kind.as_str(),
                "notice folded into a catch-up email"
            );
            let send_at = now_millis() + CATCH_UP_AFTER.as_millis() as i64;
            if let Err(err) = store.read(|db| db.fold_notice(&mail, now_millis(), send_at)) {
                tracing::error!(mail = mail.id, error = %err, "a notice could not be folded");
            }
            continue;
        }
        match &result {
            Ok(()) => tracing::info!(mail = mail.id, kind = mail.kind.as_str(), "email sent"),
            Err(Failure::HeldBack(_, why)) => tracing::info!(mail = mail.id, why, "email waits"),
            Err(Failure::Folded) => {}
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
