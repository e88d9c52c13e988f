//! The inline block for documentation pages: the question and its answers in the page's
//! flow, the rest of the form once an answer is chosen, the thank-you in place.

use yew::prelude::*;

use super::{View, feedback_form, thanks};

/// The block asking `prompt`, e.g. "Was this page helpful?".
pub fn inline(view: View<'_>, prompt: AttrValue) -> Html {
    let body = if view.state.phase.thanking() {
        thanks(view.texts, &view.state.phase, None)
    } else {
        feedback_form(view, prompt.clone(), true)
    };
    html! {
        <section class="inline-block" aria-label={prompt}>{ body }</section>
    }
}
