//! What the visitor sees once their feedback is stored (or kept for later).

use yew::prelude::*;

use crate::i18n::Texts;
use crate::state::Phase;

/// The thank-you's title and sentence for how the feedback ended: stored, or kept because
/// the browser is offline or because the collector did not answer.
pub fn thanks_words(texts: &'static Texts, phase: &Phase) -> (&'static str, &'static str) {
    match phase {
        Phase::Queued { offline: true } => (texts.queued_title, texts.queued_body),
        Phase::Queued { offline: false } => (texts.queued_title, texts.unreachable_body),
        _ => (texts.thanks_title, texts.thanks_body),
    }
}

/// The thank-you for `phase`; `onclose` is the dialog's "Close" button (an inline block has
/// none).
pub fn thanks(texts: &'static Texts, phase: &Phase, onclose: Option<Callback<MouseEvent>>) -> Html {
    let (title, body) = thanks_words(texts, phase);
    html! {
        <div class="thanks">
            <svg class="thanks-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path d="M9 16.2l-3.5-3.5L4 14.2l5 5 11-11-1.5-1.5z" />
            </svg>
            // Focusable by script only: the app moves the focus here once the feedback is sent.
            <h3 class="thanks-title" tabindex="-1">{ title }</h3>
            <p class="thanks-body">{ body }</p>
            if let Some(onclose) = onclose {
                <button type="button" class="button primary" onclick={onclose}>
                    { texts.done }
                </button>
            }
        </div>
    }
}
