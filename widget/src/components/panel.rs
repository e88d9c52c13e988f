//! The feedback dialog of the floating widget: a title, a close button, and the form or the
//! thank-you.

use yew::prelude::*;

use super::{View, feedback_form, thanks};

/// The dialog, titled with the question `prompt`; `onclose` closes it (its button, Escape).
pub fn panel(view: View<'_>, prompt: AttrValue, onclose: &Callback<()>) -> Html {
    let texts = view.texts;
    let close = onclose.reform(|_: MouseEvent| ());
    let onkeydown = {
        let onclose = onclose.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                event.stop_propagation();
                onclose.emit(());
            }
        })
    };

    let body = if view.state.phase.thanking() {
        thanks(texts, &view.state.phase, Some(close.clone()))
    } else {
        feedback_form(view, AttrValue::Static(texts.rating_legend), false)
    };

    html! {
        <section
            id="earshot-panel"
            class="panel"
            role="dialog"
            aria-labelledby="earshot-title"
            onkeydown={onkeydown}
        >
            // A div, not <header>: inside the page that would be a second "banner" landmark.
            <div class="panel-header">
                <h2 id="earshot-title" class="panel-title" tabindex="-1">{ prompt }</h2>
                <button type="button" class="icon-button" aria-label={texts.close} onclick={close}>
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M6.4 5L5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z" />
                    </svg>
                </button>
            </div>
            { body }
        </section>
    }
}
