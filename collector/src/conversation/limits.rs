//! Bounds on what a visitor's conversation page accepts, named, and the rate limits that keep
//! strangers from using it to grow memory or fill the database.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The longest answer a visitor may send, in characters (as long as a comment).
pub const MAX_ANSWER_CHARS: usize = earshot_shared::limits::MAX_COMMENT_CHARS;
/// The largest answer form accepted, in bytes: [`MAX_ANSWER_CHARS`] characters of up to
/// four UTF-8 bytes, each percent-encoded (three characters a byte).
pub const MAX_FORM_BYTES: usize = MAX_ANSWER_CHARS * 12 + 1024;
/// Answers one conversation may receive per hour, whichever of its links they come through.
pub const ANSWERS_PER_HOUR: u32 = 10;
/// Conversation pages (views and answers) one visitor may open per minute.
pub const VIEWS_PER_MINUTE: u32 = 60;
/// Limits on conversation pages, counted per collector process, forgotten when refilled.
#[derive(Clone)]
pub struct ConversationLimits {
    pub(super) answers: Arc<DefaultKeyedRateLimiter<String>>,
    pub(super) views: Arc<DefaultKeyedRateLimiter<crate::rate_limit::VisitorKey>>,
}

impl Default for ConversationLimits {
    fn default() -> Self {
        let per = |count: u32, window: Duration| {
            let count = NonZeroU32::new(count).expect("non-zero limit");
            Quota::with_period(window / count.get())
                .expect("a non-zero period")
                .allow_burst(count)
        };
        Self {
            answers: Arc::new(RateLimiter::keyed(per(
                ANSWERS_PER_HOUR,
                Duration::from_secs(3600),
            ))),
            views: Arc::new(RateLimiter::keyed(per(
                VIEWS_PER_MINUTE,
                Duration::from_secs(60),
            ))),
        }
    }
}

impl ConversationLimits {
    /// Forgets conversations and visitors whose limits have refilled.
    pub fn forget_idle(&self) {
        self.answers.retain_recent();
        self.answers.shrink_to_fit();
        self.views.retain_recent();
        self.views.shrink_to_fit();
    }
}
