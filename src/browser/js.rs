//! Reading what a page passes in, and the one road from an [`AgentError`] to the JavaScript `Error`
//! a call throws or rejects with.
//!
//! A page's objects are read with `Reflect.get` through a `catch` binding, one field at a time: a
//! getter or proxy that throws becomes an error of the call, never an exception through the module.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::AgentError;

/// `object[key]`; `Err` if `object` is not an object or a getter or proxy throws.
pub fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
}

/// `object[key]` as text, if it is a string.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).ok()?.as_string()
}

/// `object[key] = value` on an object whose setter may refuse; whether it took.
pub fn set(object: &JsValue, key: &str, value: &JsValue) -> bool {
    Reflect::set(object, &JsValue::from_str(key), value).unwrap_or(false)
}

/// The page's global object (`window`).
pub fn global() -> JsValue {
    js_sys::global().into()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = apply)]
    fn reflect_apply(function: &JsValue, this: &JsValue, arguments: &js_sys::Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = construct)]
    fn reflect_construct(constructor: &JsValue, arguments: &js_sys::Array) -> Result<JsValue, JsValue>;
}

fn arguments(values: &[&JsValue]) -> js_sys::Array {
    values.iter().copied().collect()
}

/// `object[method](...arguments)`; `Err` if it is not a function or throws. The page's own objects
/// are driven through this one binding (and [`get`], [`set`], [`construct`]), not a typed binding
/// per method: each binding is code in the module and in its JavaScript.
pub fn call(object: &JsValue, method: &str, values: &[&JsValue]) -> Result<JsValue, JsValue> {
    reflect_apply(&get(object, method)?, object, &arguments(values))
}

/// `function(...arguments)`, with no `this`; `Err` if it is not a function or throws.
pub fn apply(function: &JsValue, values: &[&JsValue]) -> Result<JsValue, JsValue> {
    reflect_apply(function, &JsValue::UNDEFINED, &arguments(values))
}

/// `new window[constructor](...arguments)`.
pub fn construct(constructor: &str, values: &[&JsValue]) -> Result<JsValue, JsValue> {
    reflect_construct(&get(&global(), constructor)?, &arguments(values))
}

/// `undefined` and `null`, which options treat as "not given".
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// An object or a function: something with properties to read.
pub fn is_object_like(value: &JsValue) -> bool {
    value.is_object() || value.is_function()
}

/// A page's options object: absent (every default), or an object whose fields are read once each.
pub struct Options(Option<JsValue>);

impl Options {
    /// `value` as options; `Err(why)` when it is neither absent nor an object.
    pub fn new(value: JsValue, why: &'static str) -> Result<Options, AgentError> {
        if is_absent(&value) {
            return Ok(Options(None));
        }
        if !is_object_like(&value) {
            return Err(AgentError::InvalidArgument(why));
        }
        Ok(Options(Some(value)))
    }

    /// Field `name`, `None` when absent; `Err(why)` when reading it throws.
    pub fn field(&self, name: &str, why: &'static str) -> Result<Option<JsValue>, AgentError> {
        let Some(object) = &self.0 else { return Ok(None) };
        let value = get(object, name).map_err(|_| AgentError::InvalidArgument(why))?;
        Ok(Some(value).filter(|value| !is_absent(value)))
    }

    /// Field `name` as text of at most `max_chars` characters.
    pub fn text(&self, name: &str, max_chars: usize, why: &'static str) -> Result<Option<String>, AgentError> {
        match self.field(name, why)? {
            None => Ok(None),
            Some(value) => match value.as_string() {
                Some(text) if crate::text::char_count(&text) <= max_chars => Ok(Some(text)),
                _ => Err(AgentError::InvalidArgument(why)),
            },
        }
    }

    /// Field `name` as a yes/no: `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"` (consoles
    /// written for production pass strings), `None` when absent.
    pub fn flag(&self, name: &str, why: &'static str) -> Result<Option<bool>, AgentError> {
        match self.field(name, why)? {
            None => Ok(None),
            Some(value) => flag_of(&value).map(Some).ok_or(AgentError::InvalidArgument(why)),
        }
    }
}

/// A yes/no as pages write it.
pub fn flag_of(value: &JsValue) -> Option<bool> {
    if let Some(flag) = value.as_bool() {
        return Some(flag);
    }
    match (value.as_f64(), value.as_string().as_deref()) {
        (Some(1.0), _) => Some(true),
        (Some(0.0), _) => Some(false),
        (_, Some("true" | "1")) => Some(true),
        (_, Some("false" | "0")) => Some(false),
        _ => None,
    }
}

/// A value as text: a string, or a number written as JavaScript would (whole numbers only).
pub fn text_of(value: &JsValue) -> Option<String> {
    value.as_string().or_else(|| value.as_f64().and_then(crate::credentials::safe_integer).map(crate::text::decimal))
}

/// The JavaScript `Error` for a failure: its message, its `code`, and for failures the service or a
/// provider explained, its `reason`. The only place errors are made.
pub fn to_error(error: &AgentError) -> JsValue {
    // Made as `JsError` makes it, a binding wasm-bindgen-futures has too: js-sys's `Error::new` would
    // be one more import.
    let value = JsValue::from(wasm_bindgen::JsError::new(&error.message()));
    let _ = Reflect::set(&value, &"code".into(), &error.code().into());
    if error.has_reason() {
        let _ = Reflect::set(&value, &"reason".into(), &error.reason().into());
    }
    value
}

/// The plain object (or array) the module wrote as JSON, for results and event payloads.
pub fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or_else(|_| Object::new().into())
}

/// The message of a thrown or rejected value, for a `reason`: its `message`, or the value if it is a string.
pub fn message_of(thrown: &JsValue) -> String {
    get(thrown, "message")
        .ok()
        .and_then(|message| message.as_string())
        .or_else(|| thrown.as_string())
        .unwrap_or_default()
}

/// Calls `object[method]()`; `Err` if it is not a function or throws.
pub fn call_method(object: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    call(object, method, &[])
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = console, js_name = error)]
    fn console_error(text: &str, detail: &JsValue) -> Result<(), JsValue>;
}

/// Reports on the console what the page should see but nobody can be told otherwise (a listener
/// that threw). Never a credential: callers pass the library's own words and the page's value.
pub fn report(text: &str, detail: &JsValue) {
    let _ = console_error(text, detail);
}

/// A session key as a page passes it: text, or a whole number.
pub fn session_key(value: &JsValue) -> Result<String, AgentError> {
    match (value.as_string(), value.as_f64()) {
        (Some(text), _) => crate::protocol::session_key(&text),
        (None, Some(number)) => crate::protocol::session_key_from_number(number),
        _ => Err(AgentError::InvalidArgument(crate::protocol::SESSION_KEY_RULE)),
    }
}
