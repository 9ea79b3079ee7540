//! DOM event listeners that remove themselves when dropped, and a call's `AbortSignal`.
//!
//! The listeners are added through `EventTarget.prototype` bindings that catch: a page's object that
//! only pretends to be a signal, or overrides `addEventListener`, gives an error, not an exception
//! through the module. (gloo-events unwraps those calls; see docs/DESIGN.md.)

use std::borrow::Cow;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, Event};

use super::js::{self, Options};
use crate::error::AgentError;

#[wasm_bindgen]
extern "C" {
    /// `EventTarget`, called through its prototype's methods.
    #[wasm_bindgen(js_name = EventTarget)]
    type Target;
    #[wasm_bindgen(catch, method, final, js_class = "EventTarget", js_name = addEventListener)]
    fn add_listener(this: &Target, kind: &str, listener: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, method, final, js_class = "EventTarget", js_name = removeEventListener)]
    fn remove_listener(this: &Target, kind: &str, listener: &JsValue) -> Result<(), JsValue>;

    /// `AbortSignal`, read through its prototype's getter.
    #[wasm_bindgen(js_name = AbortSignal)]
    type Signal;
    #[wasm_bindgen(catch, method, final, getter, js_class = "AbortSignal", js_name = aborted)]
    fn aborted(this: &Signal) -> Result<bool, JsValue>;
}

fn is_aborted(signal: &AbortSignal) -> Result<bool, JsValue> {
    signal.unchecked_ref::<Signal>().aborted()
}

/// A listener for `kind` events on a target; removed when dropped.
pub struct Listener {
    target: Target,
    kind: Cow<'static, str>,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Listens to `kind` events on `target`; `None` if the target refused the listener.
    pub fn new(
        target: &JsValue,
        kind: impl Into<Cow<'static, str>>,
        f: impl FnMut(Event) + 'static,
    ) -> Option<Listener> {
        let target: Target = target.clone().unchecked_into();
        let kind = kind.into();
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        target.add_listener(&kind, callback.as_ref()).ok()?;
        Some(Listener { target, kind, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_listener(&self.kind, self.callback.as_ref());
    }
}

/// What a malformed `signal` is told.
const SIGNAL_RULE: &str = "params.signal must be an AbortSignal";

/// A call's `params.signal`, checked: `None` when not given; `Err(invalid_argument)` when it is not
/// an `AbortSignal`, `Err(canceled)` when it is already aborted.
pub fn call_signal(options: &Options) -> Result<Option<AbortSignal>, AgentError> {
    let Some(value) = options.field("signal", SIGNAL_RULE)? else { return Ok(None) };
    let signal: AbortSignal = value.dyn_into().map_err(|_| AgentError::InvalidArgument(SIGNAL_RULE))?;
    match is_aborted(&signal) {
        Ok(false) => Ok(Some(signal)),
        Ok(true) => Err(AgentError::Canceled),
        Err(_) => Err(AgentError::InvalidArgument(SIGNAL_RULE)),
    }
}

/// Calls `on_abort` when `signal` aborts, while the returned listener lives.
pub fn on_abort(signal: &AbortSignal, on_abort: impl FnOnce() + 'static) -> Option<Listener> {
    let mut on_abort = Some(on_abort);
    Listener::new(signal, "abort", move |_| {
        if let Some(on_abort) = on_abort.take() {
            on_abort();
        }
    })
}

/// The window, as an event target.
pub fn window() -> JsValue {
    js_sys::global().into()
}

/// Listens to the window.
pub fn window_listener(kind: &'static str, f: impl FnMut(Event) + 'static) -> Option<Listener> {
    Listener::new(&window(), kind, f)
}

/// Reads a field of an event (`origin`, `source`, `data` of a message), `undefined` if it cannot be read.
pub fn event_field(event: &Event, name: &str) -> JsValue {
    js::get(event, name).unwrap_or(JsValue::UNDEFINED)
}

/// Runs `task` until it ends or `signal` aborts (then `canceled`); the task is dropped on abort, taking
/// its timers, requests and listeners with it. The signal is watched from this call on, not from the
/// task's first poll, so an abort in between is not missed.
pub fn cancelable<T>(
    signal: Option<AbortSignal>,
    task: impl std::future::Future<Output = Result<T, AgentError>>,
) -> impl std::future::Future<Output = Result<T, AgentError>> {
    let (abort, registration) = futures_util::future::AbortHandle::new_pair();
    let watch = signal.as_ref().and_then(|signal| on_abort(signal, move || abort.abort()));
    async move {
        let _watch = watch;
        futures_util::future::Abortable::new(task, registration).await.unwrap_or(Err(AgentError::Canceled))
    }
}
