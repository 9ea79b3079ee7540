//! DOM event listeners that remove themselves when dropped, a call's `AbortSignal`, and reading the
//! fields of events.
//!
//! The listeners are added through `EventTarget.prototype` bindings that catch: a page's object that
//! only pretends to be a signal, or overrides `addEventListener`, gives an error, not an exception
//! through the module. (gloo-events unwraps those calls; see docs/DESIGN.md.)

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::js::{self, Options};
use crate::agent::Message;
use crate::error::AgentError;

#[wasm_bindgen]
extern "C" {
    /// `EventTarget`, called through its prototype's methods.
    #[wasm_bindgen(js_name = EventTarget)]
    type Target;
    #[wasm_bindgen(catch, method, final, js_class = "EventTarget", js_name = addEventListener)]
    fn add_listener(this: &Target, kind: &str, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, method, final, js_class = "EventTarget", js_name = removeEventListener)]
    fn remove_listener(this: &Target, kind: &str, listener: &Function) -> Result<(), JsValue>;

    /// `AbortSignal`, read through its prototype's getter.
    #[wasm_bindgen(js_name = AbortSignal)]
    type Signal;
    #[wasm_bindgen(catch, method, final, getter, js_class = "AbortSignal", js_name = aborted)]
    fn aborted(this: &Signal) -> Result<bool, JsValue>;
}

/// A listener for `kind` events on a target; removed when dropped.
pub struct Listener {
    target: Target,
    kind: &'static str,
    function: Function,
}

impl Listener {
    /// Listens to `kind` events on `target` with `function`; `None` if the target refused it.
    pub fn new(target: &JsValue, kind: &'static str, function: Function) -> Option<Listener> {
        let target: Target = target.clone().unchecked_into();
        target.add_listener(kind, &function).ok()?;
        Some(Listener { target, kind, function })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_listener(self.kind, &self.function);
    }
}

/// What a malformed `signal` is told.
const SIGNAL_RULE: &str = "params.signal must be an AbortSignal";

/// A call's `params.signal`, checked: `None` when not given; `Err(invalid_argument)` when it is not
/// an `AbortSignal`, `Err(canceled)` when it is already aborted.
pub fn call_signal(options: &Options) -> Result<Option<AbortSignal>, AgentError> {
    let Some(value) = options.field("signal", SIGNAL_RULE)? else { return Ok(None) };
    let signal: AbortSignal = value.dyn_into().map_err(|_| AgentError::InvalidArgument(SIGNAL_RULE))?;
    match signal.unchecked_ref::<Signal>().aborted() {
        Ok(false) => Ok(Some(signal)),
        Ok(true) => Err(AgentError::Canceled),
        Err(_) => Err(AgentError::InvalidArgument(SIGNAL_RULE)),
    }
}

/// Calls `function` when `signal` aborts, while the returned listener lives.
pub fn on_abort(signal: &AbortSignal, function: Function) -> Option<Listener> {
    Listener::new(signal, "abort", function)
}

/// Listens to the window.
pub fn window_listener(kind: &'static str, function: Function) -> Option<Listener> {
    Listener::new(&js_sys::global(), kind, function)
}

/// A field of an event or object, `undefined` if it cannot be read.
pub fn field(value: &JsValue, name: &str) -> JsValue {
    js::get(value, name).unwrap_or(JsValue::UNDEFINED)
}

/// A `message` event as the agent reads it: an object with a string `glanceEvent`; `None` otherwise.
pub fn message(event: &JsValue) -> Option<Message<JsValue>> {
    let posted = field(event, "data");
    if !posted.is_object() {
        return None;
    }
    let name = field(&posted, "glanceEvent").as_string()?;
    let data = Some(field(&posted, "data")).filter(|data| !js::is_absent(data));
    let text = |name| data.as_ref().and_then(|data| field(data, name).as_string());
    Some(Message {
        source: field(event, "source"),
        origin: field(event, "origin").as_string().unwrap_or_default(),
        login_key: text("loginKey"),
        reason: text("reason"),
        name,
        data,
    })
}
