//! Calling the page's listeners: each with `(eventname, eventdata)`, in order, each isolated from the
//! others' exceptions, none with the state borrowed.

use alloc::borrow::ToOwned;

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use super::agent::with_agent;
use super::js;
use crate::no_panic::remove_at;

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

/// Fires `name` with `data` to the named listeners, then the catch-all ones. A listener removed by
/// an earlier one during this dispatch is skipped; one added starts with the next event. A listener
/// that throws is reported on the console and the others still run.
///
/// Each event runs to completion: an event fired by a listener (a `cancel` inside `lookupWaiting`, say)
/// is delivered after the current one has reached every listener, so all listeners see one order.
pub fn fire(name: &str, data: &JsValue) {
    let queued = with_agent(|agent| {
        if agent.dispatching {
            agent.queued_events.push((name.to_owned(), data.clone()));
        }
        core::mem::replace(&mut agent.dispatching, true)
    });
    if queued {
        return;
    }
    deliver(name, data);
    loop {
        let next = with_agent(|agent| {
            let next = remove_at(&mut agent.queued_events, 0);
            agent.dispatching = next.is_some();
            next
        });
        match next {
            Some((name, data)) => deliver(&name, &data),
            None => break,
        }
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
            js::report_listener_error(name, &thrown);
        }
    }
}
