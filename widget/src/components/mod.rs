//! The widget's parts, one per file. Each is a plain function that returns `Html`, not a
//! component: only the app holds state, and every component would cost the wasm its own
//! share of Yew's component machinery (the seven parts as components cost 6.8 KiB gzip).
//! States and variants (a lit star, the chosen answer, the scale, the corner) are `data-*`
//! attributes that the stylesheet matches, and every `class` is a literal: any other class
//! goes through Yew's `Classes` set, whose code cost the wasm 3.8 KiB gzip.

mod choice_rating;
mod feedback_form;
mod inline;
mod launcher;
mod panel;
mod star_rating;
mod thanks;

use earshot_shared::RatingKind;
use web_sys::HtmlInputElement;
use yew::prelude::*;

pub use choice_rating::choice_rating;
pub use feedback_form::{FormEvents, feedback_form};
pub use inline::inline;
pub use launcher::launcher;
pub use panel::panel;
pub use star_rating::star_rating;
pub use thanks::thanks;

use crate::i18n::Texts;
use crate::state::WidgetState;

/// What the form's parts are drawn from: the language, the state, the scale, and where
/// the visitor's actions go.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub texts: &'static Texts,
    pub state: &'a WidgetState,
    pub kind: RatingKind,
    pub events: &'a FormEvents,
    /// The site's promise to answer, shown beside the email field.
    pub promise: Option<&'a str>,
    /// Whether the site accepts screenshots: the form then offers to add one.
    pub screenshots: bool,
}

/// A radio button's `change` as the rating it stands for.
fn on_choice(onrate: &Callback<u8>) -> Callback<Event> {
    let onrate = onrate.clone();
    Callback::from(move |event: Event| {
        let input: HtmlInputElement = event.target_unchecked_into();
        if let Ok(value) = input.value().parse::<u8>() {
            onrate.emit(value);
        }
    })
}
