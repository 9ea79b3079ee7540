//! Calling the page's listeners: each with `(eventname, eventdata)`, in order, each isolated from the
//! others' exceptions, none with the state borrowed. And the payloads of the events the library fires.

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::js;
use super::state::with_agent;
use crate::error::AgentError;
use crate::events::{event_name, AGENT_SERVICE, EVENT_NAME_RULE};

/// A page's listener (a function), compared by identity (`===`) like DOM listeners.
#[derive(Clone, PartialEq)]
pub struct Handler(JsValue);

impl Handler {
    /// `Some` for a function.
    pub fn new(value: JsValue) -> Option<Handler> {
        value.is_function().then_some(Handler(value))
    }

    fn call(&self, name: &JsValue, data: &JsValue) -> Result<JsValue, JsValue> {
        self.0.unchecked_ref::<Function>().call2(&JsValue::UNDEFINED, name, data)
    }
}

/// The `service: "agent"` payload of the events the library fires; absent fields are left out.
#[derive(Serialize, Default)]
pub struct AgentEvent<'a> {
    service: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssnkey: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// `cancel` of `lookupWaiting`, `close` of `viewerOpened`: functions, passed on as they are.
    #[serde(skip_serializing_if = "JsValue::is_undefined", with = "serde_wasm_bindgen::preserve")]
    cancel: JsValue,
    #[serde(skip_serializing_if = "JsValue::is_undefined", with = "serde_wasm_bindgen::preserve")]
    close: JsValue,
}

impl AgentEvent<'_> {
    /// `{service: "agent"}`.
    pub fn new() -> AgentEvent<'static> {
        AgentEvent { service: AGENT_SERVICE, ..AgentEvent::default() }
    }
}

impl<'a> AgentEvent<'a> {
    /// With `ssnkey`.
    pub fn key(self, ssnkey: &'a str) -> Self {
        AgentEvent { ssnkey: Some(ssnkey), ..self }
    }

    /// With `reason`.
    pub fn reason(self, reason: &'a str) -> Self {
        AgentEvent { reason: Some(reason), ..self }
    }

    /// With `cancel`.
    pub fn cancel(self, cancel: JsValue) -> Self {
        AgentEvent { cancel, ..self }
    }

    /// With `close`.
    pub fn close(self, close: JsValue) -> Self {
        AgentEvent { close, ..self }
    }

    /// Fires it as `name`.
    pub fn fire(&self, name: &str) {
        fire(name, &js::to_js(self));
    }
}

/// Fires `name` with `data` to the named listeners, then the catch-all ones. A listener removed by
/// an earlier one during this dispatch is skipped; one added starts with the next event. A listener
/// that throws is reported on the console and the others still run.
///
/// Each event runs to completion: an event fired by a listener (a `cancel` inside `lookupWaiting`,
/// say) is delivered after the current one has reached every listener, so all listeners see one order.
pub fn fire(name: &str, data: &JsValue) {
    let busy = with_agent(|agent| {
        if agent.dispatching {
            agent.queued_events.push_back((name.to_owned(), data.clone()));
        }
        std::mem::replace(&mut agent.dispatching, true)
    });
    if busy {
        return;
    }
    deliver(name, data);
    while let Some((name, data)) = with_agent(|agent| {
        let next = agent.queued_events.pop_front();
        agent.dispatching = next.is_some();
        next
    }) {
        deliver(&name, &data);
    }
}

fn deliver(name: &str, data: &JsValue) {
    let listeners = with_agent(|agent| agent.listeners.for_event(name));
    if listeners.is_empty() {
        return;
    }
    let name_value = JsValue::from_str(name);
    for listener in &listeners {
        if !with_agent(|agent| agent.listeners.is_registered(listener)) {
            continue;
        }
        if let Err(thrown) = listener.handler().call(&name_value, data) {
            js::report(&["GLANCE.Agent: a listener for ", name, " threw:"].concat(), &thrown);
        }
    }
}

/// The event name and handler of `addEventListener` and its kin.
pub fn named_handler(name: &JsValue, handler: JsValue) -> Result<(String, Handler), AgentError> {
    let name = name.as_string().ok_or(AgentError::InvalidArgument(EVENT_NAME_RULE))?;
    event_name(&name)?;
    Ok((name, any_handler(handler)?))
}

/// The handler of `addEventListenerAll` and its kin.
pub fn any_handler(handler: JsValue) -> Result<Handler, AgentError> {
    Handler::new(handler).ok_or(AgentError::InvalidArgument("the handler must be a function"))
}

/// Adds a listener (for `name`, or every event for `None`) and returns its disposer: a function that
/// removes it (a second call does nothing).
pub fn listen(name: Option<String>, handler: Handler) -> JsValue {
    with_agent(|agent| agent.listeners.add(name.as_deref(), handler.clone()));
    let mut remove = Some((name, handler));
    Closure::<dyn FnMut()>::new(move || {
        if let Some((name, handler)) = remove.take() {
            with_agent(|agent| agent.listeners.remove(name.as_deref(), &handler));
        }
    })
    .into_js_value()
}

/// `once(name, {signal})`: the data of the next `name` event. The listener is removed when the
/// promise settles; aborting `signal` settles it with `canceled`.
pub fn once(name: String, signal: Option<web_sys::AbortSignal>) -> js_sys::Promise {
    let (heard, next) = futures_channel::oneshot::channel();
    let mut heard = Some(heard);
    let callback = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, data: JsValue| {
        if let Some(heard) = heard.take() {
            let _ = heard.send(data);
        }
    });
    let handler = Handler(callback.as_ref().clone());
    with_agent(|agent| agent.listeners.add(Some(&name), handler.clone()));
    let heard = super::signal::cancelable(signal, async { next.await.map_err(|_| AgentError::Canceled) });
    js::promise(async move {
        let data = heard.await;
        with_agent(|agent| agent.listeners.remove(Some(&name), &handler));
        drop(callback); // no longer registered: nothing can call it
        data
    })
}
