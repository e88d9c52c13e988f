//! Earshot's stand-in for the `console_error_panic_hook` crate, which Yew's renderer installs
//! as the panic hook of every app it mounts.
//!
//! The shipped widget is built with `-Cpanic=immediate-abort`: a panic stops the wasm at once
//! and no hook ever runs. The real hook was still linked in, with the formatting machinery it
//! uses to print the panic, because Yew installs it at run time. (It and `gloo-net` were the
//! last users of `core::fmt` in the wasm; dropping both saved 4.0 KiB gzip.) Here the hook prints the message only in debug builds, where the widget's
//! own tests run and a readable panic matters; in the shipped build it is empty.

use std::panic::PanicHookInfo;

#[cfg(debug_assertions)]
use wasm_bindgen::prelude::*;

#[cfg(debug_assertions)]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console)]
    fn error(message: String);
}

/// The panic hook: the panic's message and place in the browser's console (debug builds).
pub fn hook(info: &PanicHookInfo<'_>) {
    #[cfg(debug_assertions)]
    error(info.to_string());
    #[cfg(not(debug_assertions))]
    let _ = info;
}

/// Installs [`hook`] as the panic hook, once.
pub fn set_once() {
    use std::sync::Once;
    static SET: Once = Once::new();
    SET.call_once(|| std::panic::set_hook(Box::new(hook)));
}
