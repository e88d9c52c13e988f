//! What the visitor sees once their feedback is stored (or kept for later).

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ThanksProps {
    pub title: AttrValue,
    pub body: AttrValue,
    pub done: AttrValue,
    /// The dialog's "Close" button; an inline block has none.
    pub onclose: Option<Callback<MouseEvent>>,
}

#[function_component]
pub fn Thanks(props: &ThanksProps) -> Html {
    html! {
        <div class="thanks">
            <svg class="thanks-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path d="M9 16.2l-3.5-3.5L4 14.2l5 5 11-11-1.5-1.5z" />
            </svg>
            <p class="thanks-title">{ props.title.clone() }</p>
            <p class="thanks-body">{ props.body.clone() }</p>
            if let Some(onclose) = &props.onclose {
                <button type="button" class="button primary" onclick={onclose.clone()}>
                    { props.done.clone() }
                </button>
            }
        </div>
    }
}
