//! Small helpers over JavaScript values, and bindings for calls that a page may have replaced with
//! something that throws: those are `catch`, so a throw becomes an `Err` instead of unwinding the module.

use alloc::string::String;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::AgentError;
use crate::events::AGENT_SERVICE;
use crate::url::{HttpUrl, MAX_URL_LEN};

#[wasm_bindgen]
extern "C" {
    /// The browser's `URL`, which parses URLs exactly as the browser will load them.
    #[wasm_bindgen(js_name = URL)]
    type BrowserUrl;

    #[wasm_bindgen(catch, constructor, js_class = URL)]
    fn new(text: &str) -> Result<BrowserUrl, JsValue>;

    /// `promise.then(on_fulfilled, on_rejected)`.
    #[wasm_bindgen(catch, js_name = then, method)]
    fn then2(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Result<JsValue, JsValue>;

    type Thenable;

    /// `window.addEventListener(kind, listener)`.
    #[wasm_bindgen(catch, js_name = addEventListener)]
    pub fn add_window_listener(kind: &str, listener: &JsValue) -> Result<(), JsValue>;

    /// `Reflect.get(object, key)` with the key passed as a string, not a `JsValue` made for the call.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    fn reflect_get(object: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    /// `Reflect.set(object, key, value)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set(object: &Object, key: &str, value: &JsValue) -> bool;

    /// `Reflect.set(object, key, value)` for a string value.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set_str(object: &Object, key: &str, value: &str) -> bool;

    /// `Reflect.set` on an object the page gave, whose setter may throw.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = set)]
    fn reflect_try_set_str(object: &JsValue, key: &str, value: &str) -> Result<bool, JsValue>;

    #[wasm_bindgen(catch, js_namespace = console, js_name = error)]
    fn console_error(before: &str, name: &str, after: &str, detail: &JsValue) -> Result<(), JsValue>;
}

/// `promise.then(on_fulfilled, on_rejected)`; `Err` if `promise` is not a thenable.
pub fn then(promise: &JsValue, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Result<JsValue, JsValue> {
    promise.unchecked_ref::<Thenable>().then2(on_fulfilled, on_rejected)
}

/// A JavaScript function that runs `f`. It is owned by JavaScript and freed when no longer reachable,
/// so it may be called late (after a cancel, say) without error; `f` must then do nothing harmful.
pub fn callback(f: impl FnMut(JsValue) + 'static) -> JsValue {
    Closure::<dyn FnMut(JsValue)>::new(f).into_js_value()
}

/// Reports a listener that threw: the page should see it, but it must not stop the other listeners.
pub fn report_listener_error(event: &str, thrown: &JsValue) {
    let _ = console_error("GLANCE.Agent: a listener for", event, "threw:", thrown);
}

/// Reads `object[key]`; `Err` if a getter or proxy throws, or `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    reflect_get(object, key)
}

/// Sets `object[key] = value` on an object the library created.
pub fn set(object: &Object, key: &str, value: &JsValue) {
    reflect_set(object, key, value);
}

/// Sets `object[key] = text` on an object the library created.
pub fn set_str(object: &Object, key: &str, text: &str) {
    reflect_set_str(object, key, text);
}

/// Sets `object[key] = text` where the page may refuse; false if it did.
pub fn try_set_str(object: &JsValue, key: &str, text: &str) -> bool {
    reflect_try_set_str(object, key, text).unwrap_or(false)
}

/// An http(s) URL as the browser parses it; `None` for anything else, or a URL with user info.
/// Letting the browser take it apart makes its origin the one `message` events will carry.
pub fn parse_url(text: &str) -> Option<HttpUrl> {
    if text.len() > MAX_URL_LEN {
        return None;
    }
    let url = BrowserUrl::new(text).ok()?;
    let parts = read_fields(&url, "protocol username password pathname search hash origin");
    let read = |at: u32| parts.get(at).as_string().unwrap_or_default();
    let protocol = read(0);
    if !(protocol == "https:" || protocol == "http:") || !read(1).is_empty() || !read(2).is_empty() {
        return None;
    }
    let mut rest = read(3);
    rest.push_str(&read(4));
    rest.push_str(&read(5));
    Some(HttpUrl::from_parts(read(6), rest))
}

/// `{service: "agent", ...}` for the events the library fires.
pub fn agent_event() -> Object {
    let data = Object::new();
    set_str(&data, "service", AGENT_SERVICE);
    data
}

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// `object`'s fields named in `names` (space-separated), each read once, as an array; empty when
    /// `object` is null or undefined or a getter throws. One call instead of one per field.
    #[wasm_bindgen(js_name = readFields)]
    pub fn read_fields(object: &JsValue, names: &str) -> js_sys::Array;
}

/// `undefined` and `null`, which options treat as "not given".
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// An object or a function: something with properties to read.
pub fn is_object_like(value: &JsValue) -> bool {
    value.is_object() || value.is_function()
}

/// The JavaScript `Error` for a failure: its message, plus `code` and, for lookup failures, `reason`.
pub fn to_error(error: &AgentError) -> JsValue {
    let value = js_sys::Error::new(&error.message());
    let object: &Object = value.unchecked_ref();
    set_str(object, "code", error.code());
    if matches!(error, AgentError::ServiceError(_) | AgentError::ServiceUnavailable(_) | AgentError::TimedOut) {
        set_str(object, "reason", error.reason());
    }
    value.into()
}

/// A settled promise for a result that is known at once.
pub fn settled(result: Result<JsValue, AgentError>) -> Promise {
    match result {
        Ok(value) => Promise::resolve(&value),
        Err(error) => Promise::reject(&to_error(&error)),
    }
}

/// The message of a thrown value, for a `reason`.
pub fn error_message(thrown: &JsValue) -> String {
    get(thrown, "message")
        .ok()
        .and_then(|message| message.as_string())
        .or_else(|| thrown.as_string())
        .unwrap_or_default()
}

/// Calls `object[method]()`; `Err` if it is not a function or throws.
pub fn call_method(object: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    get(object, method)?.dyn_into::<js_sys::Function>()?.call0(object)
}

/// Whole seconds since the Unix epoch, the unit of login key expiry.
pub fn now_seconds() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
