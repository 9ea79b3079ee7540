//! Delivering events to the page's listeners: each with `(eventname, eventdata)`, in order, each
//! isolated from the others' exceptions, none with the state borrowed. A `once` call is resolved in
//! its place among them.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::driver::{self, read, with};
use super::js;
use crate::agent::Handler;

/// Fires `name` with `data` to the named listeners, then the catch-all ones. A listener removed by
/// an earlier one during this dispatch is skipped; one added starts with the next event. A listener
/// that throws is reported on the console and the others still run.
///
/// Each event runs to completion: an event fired by a listener (a `cancel` inside `lookupWaiting`,
/// say) is delivered after the current one has reached every listener, so all listeners see one order.
pub fn fire(name: &str, data: &JsValue) {
    let busy = with(|driver| {
        if driver.dispatching {
            driver.queued.push((name.to_owned(), data.clone()));
        }
        std::mem::replace(&mut driver.dispatching, true)
    });
    if busy != Some(false) {
        return;
    }
    deliver(name, data);
    while let Some((name, data)) = with(|driver| {
        let next = crate::list::remove_at(&mut driver.queued, 0);
        driver.dispatching = next.is_some();
        next
    })
    .flatten()
    {
        deliver(&name, &data);
    }
}

fn deliver(name: &str, data: &JsValue) {
    let listeners = read(|agent| agent.listeners.for_event(name));
    if listeners.is_empty() {
        return;
    }
    let name_value = JsValue::from_str(name);
    for listener in &listeners {
        if !read(|agent| agent.listeners.is_registered(listener)) {
            continue;
        }
        match listener.handler() {
            Handler::Page(handler) => {
                // `Function.call` here, not the generic `js::apply`: this is the dispatch path, and
                // `apply` builds an argument array for every listener.
                if let Err(thrown) = handler.unchecked_ref::<Function>().call2(&JsValue::UNDEFINED, &name_value, data) {
                    js::report(&crate::text::concat(&["GLANCE.Agent: a listener for ", name, " threw:"]), &thrown);
                }
            }
            Handler::Once(call) => {
                let call = *call;
                driver::settle(call, Ok(data.clone()));
                driver::input(crate::agent::Input::Heard(call));
            }
        }
    }
}
