//! The widget's parts, one per file.

mod launcher;
mod panel;
mod star_rating;
mod thanks;

pub use launcher::Launcher;
pub use panel::Panel;
pub use star_rating::StarRating;
pub use thanks::Thanks;
