//! The root component: the launcher and dialog (or the inline block), and what happens on
//! submit.

use earshot_shared::{ErrorCode, RatingKind};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::api::{self, SendError};
use crate::components::{FormEvents, View, inline, launcher, panel};
use crate::config::WidgetConfig;
use crate::controller::{self, Command, Controller};
use crate::i18n::Texts;
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
        SendError::Refused { code, message } if code == ErrorCode::InvalidField.as_str() => {
            message.clone()
        }
        SendError::Refused { .. } => texts.server_error.to_owned(),
    }
}

/// The stable code reported in `earshot:error`: the collector's, or `network` / `server`.
fn failure_code(error: &SendError) -> String {
    match error {
        SendError::Network => "network".to_owned(),
        SendError::Server(_) => "server".to_owned(),
        SendError::Refused { code, .. } => code.clone(),
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
    let texts = config.texts;
    let state = use_reducer(WidgetState::default);
    let launcher_ref = use_node_ref();
    let panel_ref = use_node_ref();
    let root_ref = use_node_ref();
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
        // Keyed on when it was opened too: `close(); open()` in one go leaves `open` as it
        // was, and the dialog must still take the focus (and the page hear both).
        use_effect_with((state.open, state.opened_at), move |(open, _)| {
            if inline {
                return;
            }
            if *open {
                if *was_open.borrow() {
                    controller::emit("close", &[]);
                }
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

    // Once the feedback is sent (or kept), the form and its focused button are gone: the
    // focus goes to the thank-you's title, which a screen reader then reads, instead of
    // falling to the page.
    {
        let root_ref = root_ref.clone();
        use_effect_with(state.phase.thanking(), move |thanking| {
            let title = root_ref
                .cast::<Element>()
                .filter(|_| *thanking)
                .and_then(|root| root.query_selector(".thanks-title").ok().flatten())
                .and_then(|title| title.dyn_into::<HtmlElement>().ok());
            if let Some(title) = title {
                let _ = title.focus();
            }
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
                state.dispatch(Action::Failed(err.message().into_owned()));
                return;
            }
            let body = submission.to_json();
            state.dispatch(Action::Sending(id));
            let id_text = api::id_text(id);
            let dispatcher = state.dispatcher();
            let kind = config.rating;
            let event_id = id_text.clone();
            let submitted = move |queued: bool| {
                controller::emit(
                    "submit",
                    &[
                        ("id", JsValue::from_str(&event_id)),
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
                    Err(err) if err.is_transient() && queue::push(&config, &id_text, &body) => {
                        queue::retry_with_backoff(config);
                        // Offline, or online with the collector away: the visitor is told which.
                        let offline = !gloo::utils::window().navigator().on_line();
                        dispatcher.dispatch(Action::Queued(offline));
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
        Phase::Queued { .. } => texts.queued_title,
        _ => "",
    };
    let live_region = html! { <div class="visually-hidden" role="status" aria-live="polite">{ announcement }</div> };
    let question = prompt(config, texts);

    let view = View {
        texts,
        state: &state,
        kind: config.rating,
        events: &events,
        promise: config.promise.as_deref(),
        screenshots: config.screenshots,
    };
    if config.inline {
        return html! {
            <div ref={root_ref} class="earshot inline-mode" lang={texts.lang}>
                { inline(view, question) }
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
        <div ref={root_ref} class="earshot" data-at={config.position.as_str()} lang={texts.lang}>
            if state.open {
                <div ref={panel_ref} class="panel-wrap">
                    { panel(view, question, &close) }
                </div>
            }
            { launcher(label, state.open, toggle, launcher_ref) }
            { live_region }
        </div>
    }
}
