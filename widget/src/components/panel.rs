//! The feedback dialog: rating, comment, optional email, and the state of the submission.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{StarRating, Thanks};
use crate::i18n::Texts;
use crate::state::{Phase, WidgetState};
use earshot_shared::limits::{MAX_COMMENT_CHARS, MAX_EMAIL_BYTES};

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub texts: &'static Texts,
    pub state: WidgetState,
    pub onrate: Callback<u8>,
    pub oncomment: Callback<String>,
    pub onemail: Callback<String>,
    pub onhoneypot: Callback<String>,
    pub onsubmit: Callback<()>,
    pub onclose: Callback<()>,
}

#[function_component]
pub fn Panel(props: &PanelProps) -> Html {
    let texts = props.texts;
    let state = &props.state;
    let close = props.onclose.reform(|_: MouseEvent| ());
    let onkeydown = {
        let onclose = props.onclose.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                event.stop_propagation();
                onclose.emit(());
            }
        })
    };
    let onsubmit = {
        let onsubmit = props.onsubmit.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            onsubmit.emit(());
        })
    };
    let oncomment = props
        .oncomment
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlTextAreaElement>().value());
    let onemail = props
        .onemail
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let onhoneypot = props
        .onhoneypot
        .reform(|event: InputEvent| event.target_unchecked_into::<HtmlInputElement>().value());
    let sending = state.phase == Phase::Sending;

    let body = if matches!(state.phase, Phase::Sent | Phase::Queued) {
        let (title, body) = if state.phase == Phase::Sent {
            (texts.thanks_title, texts.thanks_body)
        } else {
            (texts.queued_title, texts.queued_body)
        };
        html! { <Thanks title={title} body={body} done={texts.done} onclose={close.clone()} /> }
    } else {
        html! {
            <form class="form" novalidate=true onsubmit={onsubmit}>
                <StarRating
                    legend={texts.rating_legend}
                    names={texts.star_names}
                    value={state.rating}
                    onchange={props.onrate.clone()}
                />
                <label class="field-label" for="earshot-comment">{ texts.comment_label }</label>
                <textarea
                    id="earshot-comment"
                    class="input comment"
                    rows="4"
                    maxlength={MAX_COMMENT_CHARS.to_string()}
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
                    maxlength={MAX_EMAIL_BYTES.to_string()}
                    aria-describedby="earshot-email-hint"
                    value={state.email.clone()}
                    oninput={onemail}
                />
                <p id="earshot-email-hint" class="hint">{ texts.email_hint }</p>
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
                if let Phase::Failed(message) = &state.phase {
                    <p class="error" role="alert">{ message.clone() }</p>
                }
                <button type="submit" class="button primary submit" disabled={sending} aria-busy={sending.to_string()}>
                    { match (&state.phase, sending) {
                        (_, true) => texts.sending,
                        (Phase::Failed(_), false) if state.submission_id.is_some() => texts.retry,
                        _ => texts.submit,
                    } }
                </button>
            </form>
        }
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
                <h2 id="earshot-title" class="panel-title" tabindex="-1">{ texts.title }</h2>
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
