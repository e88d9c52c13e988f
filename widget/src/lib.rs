//! The Earshot feedback widget: a Yew app that the loader (`www/earshot.js`) mounts into a
//! Shadow DOM of its own, so the host page's styles cannot reach it and its styles cannot
//! leak out.

mod api;
mod app;
mod components;
mod config;
mod controller;
pub mod i18n;
mod queue;
mod state;

use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRootInit, ShadowRootMode};

pub use app::{App, AppProps};
pub use config::{Position, WidgetConfig};
pub use controller::{Controller, PageContext};

/// The allocator: a free list of a few hundred bytes of code, where std's dlmalloc costs the
/// wasm several KB. The widget allocates little (a render's nodes, one request at a time),
/// so a simple free list is fast enough.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: the widget's wasm has one thread (it is built without the `atomics` target
// feature, so it cannot share its memory with a worker).
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The tag of the element that hosts the widget's shadow root. A custom element name, so the
/// host page's `div { … }` rules do not match it.
pub const HOST_TAG: &str = "earshot-widget";

/// Called by the loader once the wasm is ready, with the host element it drew the stand-in
/// launcher in (or the inline block's place), the settings it merged (the script tag's
/// `data-*` over the site's defaults) and the collector's URL. Returns the handle behind
/// `window.earshot`.
///
/// Works on its own too: a host without a shadow root gets one, with the stylesheet, and a
/// host outside the document is appended to the body.
#[wasm_bindgen]
pub fn mount(host: Element, settings: JsValue, base: String) -> Result<Controller, JsValue> {
    let config =
        WidgetConfig::from_settings(&settings, base).map_err(|err| JsValue::from_str(&err))?;
    let document = gloo::utils::document();
    let shadow = match host.shadow_root() {
        Some(shadow) => shadow,
        None => {
            let shadow = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
            let stylesheet = document.create_element("link")?;
            stylesheet.set_attribute("rel", "stylesheet")?;
            stylesheet.set_attribute("href", &config.stylesheet_url())?;
            shadow.append_child(&stylesheet)?;
            shadow
        }
    };
    let placeholder = shadow.query_selector(".earshot")?;
    let root = document.create_element("div")?;
    shadow.append_child(&root)?;
    if host.parent_node().is_none() {
        gloo::utils::body().append_child(&host)?;
    }

    // Whatever an earlier visit could not send goes out now.
    queue::start(config.clone());
    let controller = Controller::default();
    yew::Renderer::<App>::with_root_and_props(
        root,
        AppProps {
            config,
            controller: controller.clone(),
            placeholder,
        },
    )
    .render();
    Ok(controller)
}
