//! The root component: the launcher, the panel, and what happens on submit.

use earshot_shared::ErrorCode;
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::api::{self, SendError};
use crate::components::{Launcher, Panel};
use crate::config::WidgetConfig;
use crate::i18n::{self, Texts};
use crate::queue;
use crate::state::{Action, Phase, WidgetState};

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub config: WidgetConfig,
}

fn failure_message(texts: &Texts, error: &SendError) -> String {
    match error {
        SendError::Server(status) => {
            gloo::console::warn!("earshot: the collector answered with status", *status);
            texts.server_error.to_owned()
        }
        SendError::Network => texts.network_error.to_owned(),
        // The collector's own sentence says which field is wrong and why.
        SendError::Refused(refusal) if refusal.code == ErrorCode::InvalidField => {
            refusal.message.clone()
        }
        SendError::Refused(_) => texts.server_error.to_owned(),
    }
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let config = &props.config;
    let texts = i18n::texts(config.lang.as_deref());
    let state = use_reducer(WidgetState::default);
    let launcher_ref = use_node_ref();
    let panel_ref = use_node_ref();
    let was_open = use_mut_ref(|| false);

    // Focus goes into the dialog when it opens and back to the launcher when it closes.
    {
        let launcher_ref = launcher_ref.clone();
        let panel_ref = panel_ref.clone();
        use_effect_with(state.open, move |open| {
            if *open {
                // The first control (the rating), or the title when the form is not shown.
                let first = panel_ref.cast::<HtmlElement>().and_then(|panel| {
                    ["input", ".panel-title"]
                        .into_iter()
                        .find_map(|css| panel.query_selector(css).ok().flatten())
                        .and_then(|element| {
                            wasm_bindgen::JsCast::dyn_into::<HtmlElement>(element).ok()
                        })
                });
                if let Some(first) = first {
                    let _ = first.focus();
                }
            } else if *was_open.borrow()
                && let Some(launcher) = launcher_ref.cast::<HtmlElement>()
            {
                let _ = launcher.focus();
            }
            *was_open.borrow_mut() = *open;
        });
    }

    let toggle = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            state.dispatch(if state.open {
                Action::Close
            } else {
                Action::Open(js_sys::Date::now())
            });
        })
    };
    let close = {
        let dispatcher = state.dispatcher();
        Callback::from(move |()| dispatcher.dispatch(Action::Close))
    };
    let onrate = {
        let dispatcher = state.dispatcher();
        Callback::from(move |value| dispatcher.dispatch(Action::Rate(value)))
    };
    let oncomment = {
        let dispatcher = state.dispatcher();
        Callback::from(move |text| dispatcher.dispatch(Action::Comment(text)))
    };
    let onemail = {
        let dispatcher = state.dispatcher();
        Callback::from(move |text| dispatcher.dispatch(Action::Email(text)))
    };
    let onhoneypot = {
        let dispatcher = state.dispatcher();
        Callback::from(move |text| dispatcher.dispatch(Action::Honeypot(text)))
    };
    let onsubmit = {
        let state = state.clone();
        let config = config.clone();
        Callback::from(move |()| {
            if state.phase == Phase::Sending {
                return;
            }
            let Some(rating) = state.rating else {
                state.dispatch(Action::Failed(texts.choose_rating.to_owned()));
                return;
            };
            let id = state.submission_id.unwrap_or_else(api::new_submission_id);
            let submission = api::build_submission(&config, id, rating, &state);
            if let Err(err) = submission.validate() {
                state.dispatch(Action::Failed(err.to_string()));
                return;
            }
            let Ok(body) = api::to_json(&submission) else {
                state.dispatch(Action::Failed(texts.server_error.to_owned()));
                return;
            };
            state.dispatch(Action::Sending(id));
            let dispatcher = state.dispatcher();
            let config = config.clone();
            yew::platform::spawn_local(async move {
                match api::send(&config, &body).await {
                    Ok(()) => dispatcher.dispatch(Action::Sent),
                    // Not lost: it waits in the browser and is sent when the collector answers.
                    Err(err)
                        if err.is_transient() && queue::push(&config, &id.to_string(), &body) =>
                    {
                        queue::retry_with_backoff(config);
                        dispatcher.dispatch(Action::Queued);
                    }
                    Err(err) => dispatcher.dispatch(Action::Failed(failure_message(texts, &err))),
                }
            });
        })
    };

    let announcement = match &state.phase {
        Phase::Sending => texts.sending,
        Phase::Sent => texts.thanks_title,
        Phase::Queued => texts.queued_title,
        _ => "",
    };
    let label = config
        .label
        .clone()
        .map_or(AttrValue::Static(texts.launcher), AttrValue::from);

    html! {
        // `lang` lets screen readers pronounce the widget's text in its own language.
        <div class={classes!("earshot", config.position.class())} lang={texts.lang}>
            if state.open {
                <div ref={panel_ref} class="panel-wrap">
                    <Panel
                        texts={texts}
                        state={(*state).clone()}
                        onrate={onrate}
                        oncomment={oncomment}
                        onemail={onemail}
                        onhoneypot={onhoneypot}
                        onsubmit={onsubmit}
                        onclose={close}
                    />
                </div>
            }
            <Launcher label={label} open={state.open} onclick={toggle} node_ref={launcher_ref} />
            <div class="visually-hidden" role="status" aria-live="polite">{ announcement }</div>
        </div>
    }
}
