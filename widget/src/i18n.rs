//! The widget's text. The loader chooses the language (`data-lang`, else the browser's
//! first language the widget speaks, else English) and fetches its texts from the collector
//! (`GET /widget/texts/{lang}`, from the tables in `earshot_shared::texts`) beside the wasm;
//! the wasm holds English only, the texts of the others would cost every visitor 5 KB gzip.

use wasm_bindgen::{JsCast, JsValue};

pub use earshot_shared::texts::*;

/// The texts in a JS object of the collector's JSON (`{"lang": "fr", "launcher": …}`),
/// kept for the page's life: a widget is mounted once per page, so this is leaked once.
/// `None` unless every text is there, so that the widget never mixes two languages. (A loop
/// over a list of the names was measured: 0.5 KB more gzip than this.)
pub fn from_js(object: &JsValue) -> Option<&'static Texts> {
    let text = |name: &str| -> Option<&'static str> {
        let value = js_sys::Reflect::get(object, &JsValue::from_str(name)).ok()?;
        Some(Box::leak(value.as_string()?.into_boxed_str()))
    };
    let five = |name: &str| -> Option<[&'static str; 5]> {
        let value = js_sys::Reflect::get(object, &JsValue::from_str(name)).ok()?;
        let array = value.dyn_into::<js_sys::Array>().ok()?;
        let at = |i: u32| -> Option<&'static str> {
            Some(Box::leak(array.get(i).as_string()?.into_boxed_str()))
        };
        Some([at(0)?, at(1)?, at(2)?, at(3)?, at(4)?])
    };
    let texts = Texts {
        lang: text("lang")?,
        launcher: text("launcher")?,
        title: text("title")?,
        close: text("close")?,
        rating_legend: text("rating_legend")?,
        star_names: five("star_names")?,
        comment_label: text("comment_label")?,
        comment_placeholder: text("comment_placeholder")?,
        email_label: text("email_label")?,
        email_hint: text("email_hint")?,
        honeypot_label: text("honeypot_label")?,
        submit: text("submit")?,
        sending: text("sending")?,
        thanks_title: text("thanks_title")?,
        thanks_body: text("thanks_body")?,
        queued_title: text("queued_title")?,
        queued_body: text("queued_body")?,
        unreachable_body: text("unreachable_body")?,
        done: text("done")?,
        choose_rating: text("choose_rating")?,
        network_error: text("network_error")?,
        server_error: text("server_error")?,
        retry: text("retry")?,
        helpful: text("helpful")?,
        yes: text("yes")?,
        no: text("no")?,
        nps_question: text("nps_question")?,
        nps_low: text("nps_low")?,
        nps_high: text("nps_high")?,
        emoji_names: five("emoji_names")?,
        screenshot: text("screenshot")?,
    };
    Some(Box::leak(Box::new(texts)))
}
