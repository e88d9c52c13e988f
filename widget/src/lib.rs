//! The Earshot feedback widget: a Yew app that the loader (`www/earshot.js`) mounts into a
//! Shadow DOM of its own, so the host page's styles cannot reach it and its styles cannot
//! leak out.

mod api;
mod app;
mod components;
mod config;
pub mod i18n;
mod queue;
mod state;

use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRootInit, ShadowRootMode};

pub use app::{App, AppProps};
pub use config::{Position, WidgetConfig};

/// The tag of the element that hosts the widget's shadow root. A custom element name, so the
/// host page's `div { … }` rules do not match it.
pub const HOST_TAG: &str = "earshot-widget";

/// Called by the loader once the wasm is ready: reads the configuration from the `data-*`
/// attributes of `script` and mounts the widget. `base` is the collector's URL, without a
/// trailing slash.
#[wasm_bindgen]
pub fn mount(script: Element, base: String) -> Result<(), JsValue> {
    let config = WidgetConfig::from_script(&script, base).map_err(|err| JsValue::from_str(&err))?;
    let document = gloo::utils::document();
    let host = document.create_element(HOST_TAG)?;
    let shadow = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;

    // The widget stays hidden until its stylesheet has loaded, so the visitor never sees
    // unstyled controls flash on the page.
    let root = document.create_element("div")?;
    root.set_attribute("hidden", "")?;
    let stylesheet = document.create_element("link")?;
    stylesheet.set_attribute("rel", "stylesheet")?;
    stylesheet.set_attribute("href", &config.stylesheet_url())?;
    let shown = root.clone();
    gloo::events::EventListener::once(&stylesheet, "load", move |_| {
        let _ = shown.remove_attribute("hidden");
    })
    .forget();
    shadow.append_child(&stylesheet)?;
    shadow.append_child(&root)?;
    gloo::utils::body().append_child(&host)?;

    // Whatever an earlier visit could not send goes out now.
    queue::start(config.clone());
    yew::Renderer::<App>::with_root_and_props(root, AppProps { config }).render();
    Ok(())
}
