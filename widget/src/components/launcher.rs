//! The floating "Feedback" button.

use yew::prelude::*;

/// The launcher, labelled `label`, saying whether the dialog it controls is `open`. A plain
/// function rather than a component: it has no state of its own, and each component costs
/// the wasm its own share of Yew's machinery.
pub fn launcher(
    label: AttrValue,
    open: bool,
    onclick: Callback<MouseEvent>,
    node_ref: NodeRef,
) -> Html {
    html! {
        <button
            type="button"
            class="launcher"
            ref={node_ref}
            aria-haspopup="dialog"
            aria-expanded={if open { "true" } else { "false" }}
            aria-controls="earshot-panel"
            onclick={onclick}
        >
            <svg class="launcher-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path d="M4 4h16v12H7l-3 3V4z" />
            </svg>
            <span>{ label }</span>
        </button>
    }
}
