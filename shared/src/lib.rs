//! Types that cross the wire between the Earshot widget and the collector, with the rules that
//! decide whether a submission is acceptable. Compiled for both wasm32 and the host, so the
//! widget can show exactly the message the collector would send.

pub mod error;
pub mod feedback;
pub mod json;
pub mod limits;
pub mod settings;
pub mod site;
pub mod texts;

pub use error::{ApiError, ErrorCode};
pub use feedback::{
    ClientInfo, FeedbackAccepted, Metadata, Rating, RatingKind, Submission, ValidationError,
};
pub use settings::{SettingsError, Theme, WidgetSettings};
pub use site::{SiteKey, SiteKeyError};
