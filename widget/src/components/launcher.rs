//! The floating "Feedback" button.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LauncherProps {
    pub label: AttrValue,
    pub open: bool,
    pub onclick: Callback<MouseEvent>,
    pub node_ref: NodeRef,
}

#[function_component]
pub fn Launcher(props: &LauncherProps) -> Html {
    html! {
        <button
            type="button"
            class="launcher"
            ref={props.node_ref.clone()}
            aria-haspopup="dialog"
            aria-expanded={props.open.to_string()}
            aria-controls="earshot-panel"
            onclick={props.onclick.clone()}
        >
            <svg class="launcher-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path d="M4 4h16v12H7l-3 3V4z" />
            </svg>
            <span>{ props.label.clone() }</span>
        </button>
    }
}
