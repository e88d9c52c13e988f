//! The form itself, shared by the dialog and the inline block: rating, comment, optional
//! email, the bot trap, and the state of the submission.

use earshot_shared::RatingKind;
use earshot_shared::json::decimal;
use earshot_shared::limits::{MAX_COMMENT_CHARS, MAX_EMAIL_CHARS};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{View, choice_rating, star_rating};
use crate::state::Phase;

/// What the form tells the app, one bundle for the dialog and the inline block alike.
#[derive(Clone, PartialEq)]
pub struct FormEvents {
    pub onrate: Callback<u8>,
    pub oncomment: Callback<String>,
    pub onemail: Callback<String>,
    pub onhoneypot: Callback<String>,
    pub onsubmit: Callback<()>,
}

/// The form, its rating under `legend` ("Your rating" in the dialog, the question itself
/// inline). `compact`: the comment and email appear only once a rating is chosen (inline).
pub fn feedback_form(view: View<'_>, legend: AttrValue, compact: bool) -> Html {
    let View {
        texts,
        state,
        kind,
        events,
        promise,
        screenshots,
    } = view;
    let onsubmit = events
        .onsubmit
        .reform(|event: SubmitEvent| event.prevent_default());
    let oncomment = events
        .oncomment
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlTextAreaElement>().value());
    let onemail = events
        .onemail
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let onhoneypot = events
        .onhoneypot
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let sending = state.phase == Phase::Sending;
    let rating = if kind == RatingKind::Stars {
        star_rating(legend, texts.star_names, state.rating, &events.onrate)
    } else {
        choice_rating(kind, legend, texts, state.rating, &events.onrate)
    };
    let details = !compact || state.rating.is_some();

    html! {
        <form class="form" novalidate=true onsubmit={onsubmit}>
            { rating }
            if details {
                <label class="field-label" for="earshot-comment">{ texts.comment_label }</label>
                <textarea
                    id="earshot-comment"
                    class="input comment"
                    rows="4"
                    maxlength={decimal(MAX_COMMENT_CHARS as u64)}
                    placeholder={texts.comment_placeholder}
                    value={state.comment.clone()}
                    oninput={oncomment}
                />
                <label class="field-label" for="earshot-email">{ texts.email_label }</label>
                <input
                    id="earshot-email"
                    class="input"
                    type="email"
                    autocomplete="email"
                    maxlength={decimal(MAX_EMAIL_CHARS as u64)}
                    aria-describedby="earshot-email-hint"
                    value={state.email.clone()}
                    oninput={onemail}
                />
                <p id="earshot-email-hint" class="hint">
                    { texts.email_hint }
                    if let Some(promise) = promise {
                        { " " }<strong>{ promise }</strong>
                    }
                </p>
                // A trap for bots that fill every field: hidden from people, from the
                // keyboard and from screen readers.
                <div class="trap" aria-hidden="true">
                    <label for="earshot-website">{ texts.honeypot_label }</label>
                    <input
                        id="earshot-website"
                        name="website"
                        type="text"
                        tabindex="-1"
                        autocomplete="off"
                        value={state.honeypot.clone()}
                        oninput={onhoneypot}
                    />
                </div>
            }
            // The loader answers this button's click: it fetches the screenshot editor
            // (`earshot-shot.js`) then, and the editor draws the picture in this block and
            // sends it once the feedback has its id. Nothing of it is in the wasm.
            if details && screenshots {
                <div class="shot">
                    <button type="button" class="button shot-add">{ texts.screenshot }</button>
                </div>
            }
            if let Phase::Failed(message) = &state.phase {
                <p class="error" role="alert">{ message.clone() }</p>
            }
            if details {
                <button type="submit" class="button primary submit" disabled={sending} aria-busy={if sending { "true" } else { "false" }}>
                    { match (&state.phase, sending) {
                        (_, true) => texts.sending,
                        (Phase::Failed(_), false) if state.submission_id.is_some() => texts.retry,
                        _ => texts.submit,
                    } }
                </button>
            }
        </form>
    }
}
