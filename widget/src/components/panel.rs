//! The feedback dialog of the floating widget: a title, a close button, and the form or the
//! thank-you.

use earshot_shared::RatingKind;
use yew::prelude::*;

use super::{FeedbackForm, FormEvents, Thanks};
use crate::i18n::Texts;
use crate::state::{Phase, WidgetState};

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub texts: &'static Texts,
    pub state: WidgetState,
    pub kind: RatingKind,
    /// The question in the title.
    pub prompt: AttrValue,
    pub events: FormEvents,
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

    let body = if matches!(state.phase, Phase::Sent | Phase::Queued) {
        let (title, body) = if state.phase == Phase::Sent {
            (texts.thanks_title, texts.thanks_body)
        } else {
            (texts.queued_title, texts.queued_body)
        };
        html! { <Thanks title={title} body={body} done={texts.done} onclose={Some(close.clone())} /> }
    } else {
        html! {
            <FeedbackForm
                texts={texts}
                state={state.clone()}
                kind={props.kind}
                legend={texts.rating_legend}
                events={props.events.clone()}
            />
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
                <h2 id="earshot-title" class="panel-title" tabindex="-1">{ props.prompt.clone() }</h2>
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
