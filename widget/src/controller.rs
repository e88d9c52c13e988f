//! The page's handle on the widget. The loader forwards `window.earshot.open()`, `.close()`,
//! `.setUser({id, email})` and `.setMetadata({…})` here (queueing calls made before the
//! wasm arrived), and the widget tells the page what happens with DOM events:
//! `earshot:open`, `earshot:close`, `earshot:submit` and `earshot:error`, dispatched on
//! `document` (they bubble to `window`).

use std::cell::RefCell;
use std::rc::Rc;

use earshot_shared::feedback::longer_than;
use earshot_shared::feedback::{Metadata, validate_email, validate_metadata};
use earshot_shared::json::decimal;
use earshot_shared::limits::MAX_USER_ID_CHARS;
use wasm_bindgen::prelude::*;
use yew::Callback;

/// What the page told the widget about the visitor and the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageContext {
    pub user_id: Option<String>,
    /// Offered in the email field, which the visitor may still clear.
    pub user_email: Option<String>,
    pub metadata: Metadata,
}

/// What the page can ask the widget to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Open,
    Close,
}

#[derive(Default)]
struct Inner {
    /// The mounted widget's way in; `None` until it has rendered.
    commands: RefCell<Option<Callback<Command>>>,
    /// Commands given before that.
    pending: RefCell<Vec<Command>>,
    context: RefCell<PageContext>,
}

/// `window.earshot`'s implementation, returned to the loader by `mount`.
#[wasm_bindgen]
#[derive(Clone, Default)]
pub struct Controller {
    inner: Rc<Inner>,
}

impl PartialEq for Controller {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Controller {
    /// Called by the widget once it can obey; replays what was asked before.
    pub(crate) fn attach(&self, commands: Callback<Command>) {
        for command in self.inner.pending.borrow_mut().drain(..) {
            commands.emit(command);
        }
        *self.inner.commands.borrow_mut() = Some(commands);
    }

    /// What the page has said so far, read when a submission is built.
    pub fn context(&self) -> PageContext {
        self.inner.context.borrow().clone()
    }

    fn command(&self, command: Command) {
        match self.inner.commands.borrow().as_ref() {
            Some(commands) => commands.emit(command),
            None => self.inner.pending.borrow_mut().push(command),
        }
    }
}

fn property(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A JS value as metadata text: strings as they are, anything else as JSON (`42`, `true`).
fn text(value: &JsValue) -> Option<String> {
    if value.is_null() || value.is_undefined() {
        return None;
    }
    value
        .as_string()
        .or_else(|| js_sys::JSON::stringify(value).ok().map(String::from))
}

#[wasm_bindgen]
impl Controller {
    /// Opens the feedback dialog (does nothing inline).
    pub fn open(&self) {
        self.command(Command::Open);
    }

    /// Closes the feedback dialog.
    pub fn close(&self) {
        self.command(Command::Close);
    }

    /// `{id, email}` of the signed-in visitor, or `null` to forget them. The id is sent with
    /// the feedback; the email is offered in the form, where the visitor can change it.
    #[wasm_bindgen(js_name = setUser)]
    pub fn set_user(&self, user: JsValue) -> Result<(), JsError> {
        let (id, email) = if user.is_null() || user.is_undefined() {
            (None, None)
        } else {
            (
                text(&property(&user, "id")),
                property(&user, "email").as_string(),
            )
        };
        if id
            .as_ref()
            .is_some_and(|id| longer_than(id, MAX_USER_ID_CHARS))
        {
            return Err(JsError::new(
                &[
                    "earshot.setUser: the id is longer than ",
                    &decimal(MAX_USER_ID_CHARS as u64),
                    " characters",
                ]
                .concat(),
            ));
        }
        if let Some(email) = &email {
            validate_email(email)
                .map_err(|err| JsError::new(&["earshot.setUser: ", &err.message()].concat()))?;
        }
        let mut context = self.inner.context.borrow_mut();
        context.user_id = id;
        context.user_email = email;
        Ok(())
    }

    /// Facts sent with the feedback and shown in the export, e.g. `{plan: "pro"}`. Replaces
    /// what was set before; `null` clears it. Values that are not strings are kept as JSON.
    #[wasm_bindgen(js_name = setMetadata)]
    pub fn set_metadata(&self, metadata: JsValue) -> Result<(), JsError> {
        let mut entries = Metadata::new();
        if !(metadata.is_null() || metadata.is_undefined()) {
            if !metadata.is_object() {
                return Err(JsError::new("earshot.setMetadata: pass an object"));
            }
            for entry in js_sys::Object::entries(metadata.unchecked_ref()) {
                let pair: js_sys::Array = entry.unchecked_into();
                if let (Some(key), Some(value)) = (pair.get(0).as_string(), text(&pair.get(1))) {
                    entries.insert(key, value);
                }
            }
        }
        validate_metadata(&entries)
            .map_err(|err| JsError::new(&["earshot.setMetadata: ", &err.message()].concat()))?;
        self.inner.context.borrow_mut().metadata = entries;
        Ok(())
    }
}

/// Dispatches `earshot:{name}` on the document, with `detail`.
pub fn emit(name: &str, detail: &[(&str, JsValue)]) {
    let object = js_sys::Object::new();
    for (key, value) in detail {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
    }
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_detail(&object);
    if let Ok(event) =
        web_sys::CustomEvent::new_with_event_init_dict(&["earshot:", name].concat(), &init)
    {
        let _ = gloo::utils::document().dispatch_event(&event);
    }
}
