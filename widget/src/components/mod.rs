//! The widget's parts, one per file.

mod choice_rating;
mod feedback_form;
mod inline;
mod launcher;
mod panel;
mod star_rating;
mod thanks;

pub use choice_rating::ChoiceRating;
pub use feedback_form::{FeedbackForm, FormEvents};
pub use inline::Inline;
pub use launcher::Launcher;
pub use panel::Panel;
pub use star_rating::StarRating;
pub use thanks::Thanks;
