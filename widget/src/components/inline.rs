//! The inline block for documentation pages: the question and its answers in the page's
//! flow, the rest of the form once an answer is chosen, the thank-you in place.

use earshot_shared::RatingKind;
use yew::prelude::*;

use super::{FeedbackForm, FormEvents, Thanks};
use crate::i18n::Texts;
use crate::state::{Phase, WidgetState};

#[derive(Properties, PartialEq)]
pub struct InlineProps {
    pub texts: &'static Texts,
    pub state: WidgetState,
    pub kind: RatingKind,
    /// The question, e.g. "Was this page helpful?".
    pub prompt: AttrValue,
    pub events: FormEvents,
}

#[function_component]
pub fn Inline(props: &InlineProps) -> Html {
    let texts = props.texts;
    let state = &props.state;
    let body = match state.phase {
        Phase::Sent => html! {
            <Thanks title={texts.thanks_title} body={texts.thanks_body} done={texts.done} onclose={None::<Callback<MouseEvent>>} />
        },
        Phase::Queued => html! {
            <Thanks title={texts.queued_title} body={texts.queued_body} done={texts.done} onclose={None::<Callback<MouseEvent>>} />
        },
        _ => html! {
            <FeedbackForm
                texts={texts}
                state={state.clone()}
                kind={props.kind}
                legend={props.prompt.clone()}
                compact=true
                events={props.events.clone()}
            />
        },
    };
    html! {
        <section class="inline-block" aria-label={props.prompt.clone()}>{ body }</section>
    }
}
