//! The widget's state and every change it can go through.

use std::rc::Rc;

use uuid::Uuid;
use yew::Reducible;

/// Where the visitor is in giving feedback.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Filling in the form.
    Editing,
    /// Waiting for the collector.
    Sending,
    /// The collector stored it.
    Sent,
    /// The collector could not be reached: it waits in the offline queue and will be sent.
    /// `offline`: the browser said it had no connection (else the collector did not answer).
    Queued { offline: bool },
    /// It could not be sent; the message says why. The form keeps its contents.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WidgetState {
    pub open: bool,
    pub rating: Option<u8>,
    pub comment: String,
    pub email: String,
    /// The hidden field only bots fill in.
    pub honeypot: String,
    /// When the panel was last opened (`Date.now()`), to tell people from bots by speed.
    pub opened_at: f64,
    pub phase: Phase,
    /// Created with the first attempt and kept for every retry, so the collector stores the
    /// submission once however many times it is sent.
    pub submission_id: Option<Uuid>,
}

impl Default for WidgetState {
    fn default() -> Self {
        Self {
            open: false,
            rating: None,
            comment: String::new(),
            email: String::new(),
            honeypot: String::new(),
            opened_at: 0.0,
            phase: Phase::Editing,
            submission_id: None,
        }
    }
}

pub enum Action {
    /// Opened at this `Date.now()`, with the address the page gave for the visitor, if any.
    Open(f64, Option<String>),
    Close,
    Rate(u8),
    Comment(String),
    Email(String),
    Honeypot(String),
    Sending(Uuid),
    Sent,
    /// Kept for later; whether the browser was offline.
    Queued(bool),
    Failed(String),
}

impl Reducible for WidgetState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Open(now, email) => {
                if next.open {
                    return self;
                }
                next.open = true;
                next.opened_at = now;
                if let Some(email) = email
                    && next.email.is_empty()
                {
                    next.email = email;
                }
            }
            Action::Close => {
                if !next.open {
                    return self;
                }
                next.open = false;
                // After a thank-you, the next opening starts a new piece of feedback.
                if next.phase.thanking() {
                    next = WidgetState::default();
                }
            }
            Action::Rate(value) => {
                next.rating = Some(value);
                next.submission_id = None;
                next.clear_failure();
            }
            Action::Comment(text) => {
                next.comment = text;
                next.submission_id = None;
            }
            Action::Email(text) => {
                next.email = text;
                next.submission_id = None;
            }
            Action::Honeypot(text) => next.honeypot = text,
            Action::Sending(id) => {
                next.submission_id = Some(id);
                next.phase = Phase::Sending;
            }
            Action::Sent => next.phase = Phase::Sent,
            Action::Queued(offline) => next.phase = Phase::Queued { offline },
            Action::Failed(message) => next.phase = Phase::Failed(message),
        }
        Rc::new(next)
    }
}

impl Phase {
    /// Whether the visitor is being thanked: the feedback was stored or kept for later.
    pub fn thanking(&self) -> bool {
        matches!(self, Self::Sent | Self::Queued { .. })
    }
}

impl WidgetState {
    fn clear_failure(&mut self) {
        if matches!(self.phase, Phase::Failed(_)) {
            self.phase = Phase::Editing;
        }
    }
}
