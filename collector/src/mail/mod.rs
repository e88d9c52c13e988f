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

mod compose;
mod mailer;
pub mod text;
mod worker;

pub use mailer::{
    ACKNOWLEDGEMENTS_PER_SITE_PER_HOUR, CATCH_UP_AFTER, MAIL_PER_OWNER_PER_HOUR,
    MAIL_PER_SITE_PER_HOUR, MAX_ATTEMPTS, MailBell, Mailer, REPLIES_PER_SITE_PER_HOUR,
    RETRY_FIRST_SECS,
};
pub use text::one_line;
pub use worker::send_due;
