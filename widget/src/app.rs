//! The root component: the launcher and dialog (or the inline block), and what happens on
//! submit.

use earshot_shared::{ErrorCode, RatingKind};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::api::{self, SendError};
use crate::components::{FormEvents, Inline, Launcher, Panel};
use crate::config::WidgetConfig;
use crate::controller::{self, Command, Controller};
use crate::i18n::{self, Texts};
use crate::queue;
use crate::state::{Action, Phase, WidgetState};

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub config: WidgetConfig,
    /// The page's handle (`window.earshot`); a fresh one when the widget runs alone.
    #[prop_or_default]
    pub controller: Controller,
    /// The loader's stand-in launcher, removed once this one is drawn (taking over its focus).
    #[prop_or_default]
    pub placeholder: Option<Element>,
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

/// The stable code reported in `earshot:error`: the collector's, or `network` / `server`.
fn failure_code(error: &SendError) -> String {
    match error {
        SendError::Network => "network".to_owned(),
        SendError::Server(_) => "server".to_owned(),
        SendError::Refused(refusal) => api::to_json(&refusal.code)
            .map(|json| json.trim_matches('"').to_owned())
            .unwrap_or_default(),
    }
}

/// The question the visitor is asked: the owner's, else the one that fits the scale.
fn prompt(config: &WidgetConfig, texts: &'static Texts) -> AttrValue {
    match &config.prompt {
        Some(prompt) => AttrValue::from(prompt.clone()),
        None => AttrValue::Static(match config.rating {
            RatingKind::Thumbs => texts.helpful,
            RatingKind::Nps => texts.nps_question,
            RatingKind::Stars | RatingKind::Emoji => texts.title,
        }),
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

    // The page's commands reach the widget from the first render on; the loader's stand-in
    // launcher gives way to this one. An inline block counts as open from the start, so the
    // time a visitor takes is measured from when it appeared.
    {
        let controller = props.controller.clone();
        let placeholder = props.placeholder.clone();
        let launcher_ref = launcher_ref.clone();
        let dispatcher = state.dispatcher();
        let inline = config.inline;
        use_effect_with((), move |()| {
            if inline {
                dispatcher.dispatch(Action::Open(js_sys::Date::now(), None));
            }
            let context = controller.clone();
            controller.attach(Callback::from(move |command| match command {
                Command::Open if !inline => dispatcher.dispatch(Action::Open(
                    js_sys::Date::now(),
                    context.context().user_email,
                )),
                Command::Close if !inline => dispatcher.dispatch(Action::Close),
                _ => {}
            }));
            if let Some(placeholder) = placeholder {
                let had_focus = placeholder
                    .get_root_node()
                    .dyn_into::<web_sys::ShadowRoot>()
                    .ok()
                    .and_then(|root| root.active_element())
                    .is_some_and(|active| placeholder.contains(Some(&active)));
                placeholder.remove();
                if had_focus && let Some(launcher) = launcher_ref.cast::<HtmlElement>() {
                    let _ = launcher.focus();
                }
            }
        });
    }

    // Focus goes into the dialog when it opens and back to the launcher when it closes; the
    // page hears about both.
    {
        let launcher_ref = launcher_ref.clone();
        let panel_ref = panel_ref.clone();
        let inline = config.inline;
        use_effect_with(state.open, move |open| {
            if inline {
                return;
            }
            if *open {
                // The first control (the rating), or the title when the form is not shown.
                let first = panel_ref.cast::<HtmlElement>().and_then(|panel| {
                    ["input", ".panel-title"]
                        .into_iter()
                        .find_map(|css| panel.query_selector(css).ok().flatten())
                        .and_then(|element| element.dyn_into::<HtmlElement>().ok())
                });
                if let Some(first) = first {
                    let _ = first.focus();
                }
                controller::emit("open", &[]);
            } else if *was_open.borrow() {
                if let Some(launcher) = launcher_ref.cast::<HtmlElement>() {
                    let _ = launcher.focus();
                }
                controller::emit("close", &[]);
            }
            *was_open.borrow_mut() = *open;
        });
    }

    let toggle = {
        let state = state.clone();
        let controller = props.controller.clone();
        Callback::from(move |_: MouseEvent| {
            state.dispatch(if state.open {
                Action::Close
            } else {
                Action::Open(js_sys::Date::now(), controller.context().user_email)
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
        let controller = props.controller.clone();
        Callback::from(move |()| {
            if state.phase == Phase::Sending {
                return;
            }
            let Some(rating) = state.rating else {
                state.dispatch(Action::Failed(texts.choose_rating.to_owned()));
                return;
            };
            let id = state.submission_id.unwrap_or_else(api::new_submission_id);
            let submission =
                api::build_submission(&config, id, rating, &state, controller.context());
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
            let kind = config.rating;
            let submitted = move |queued: bool| {
                controller::emit(
                    "submit",
                    &[
                        ("id", JsValue::from_str(&id.to_string())),
                        ("kind", JsValue::from_str(kind.as_str())),
                        ("rating", JsValue::from(rating)),
                        ("queued", JsValue::from(queued)),
                    ],
                );
            };
            let config = config.clone();
            yew::platform::spawn_local(async move {
                match api::send(&config, &body).await {
                    Ok(()) => {
                        dispatcher.dispatch(Action::Sent);
                        submitted(false);
                    }
                    // Not lost: it waits in the browser and is sent when the collector answers.
                    Err(err)
                        if err.is_transient() && queue::push(&config, &id.to_string(), &body) =>
                    {
                        queue::retry_with_backoff(config);
                        dispatcher.dispatch(Action::Queued);
                        submitted(true);
                    }
                    Err(err) => {
                        let message = failure_message(texts, &err);
                        controller::emit(
                            "error",
                            &[
                                ("code", JsValue::from_str(&failure_code(&err))),
                                ("message", JsValue::from_str(&message)),
                            ],
                        );
                        dispatcher.dispatch(Action::Failed(message));
                    }
                }
            });
        })
    };

    let events = FormEvents {
        onrate,
        oncomment,
        onemail,
        onhoneypot,
        onsubmit,
    };
    let announcement = match &state.phase {
        Phase::Sending => texts.sending,
        Phase::Sent => texts.thanks_title,
        Phase::Queued => texts.queued_title,
        _ => "",
    };
    let live_region = html! { <div class="visually-hidden" role="status" aria-live="polite">{ announcement }</div> };
    let question = prompt(config, texts);

    if config.inline {
        return html! {
            <div class="earshot inline-mode" lang={texts.lang}>
                <Inline
                    texts={texts}
                    state={(*state).clone()}
                    kind={config.rating}
                    prompt={question}
                    events={events.clone()}
                />
                { live_region }
            </div>
        };
    }

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
                        kind={config.rating}
                        prompt={question}
                        events={events.clone()}
                        onclose={close}
                    />
                </div>
            }
            <Launcher label={label} open={state.open} onclick={toggle} node_ref={launcher_ref} />
            { live_region }
        </div>
    }
}
