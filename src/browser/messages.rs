//! Events from the viewer (PROTOCOL.md section 4): one `message` listener on the window, which
//! dispatches `{glanceEvent, data}` only from an open viewer's window on the webserver's origin.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use super::agent::with_agent;
use super::dispatch::fire;
use super::js;
use crate::events::{is_viewer_event_name, SESSION_ENDED};

/// Installs the listener if it is not there yet.
pub fn listen() {
    if with_agent(|agent| agent.message_listener.is_some()) {
        return;
    }
    let listener = Closure::<dyn FnMut(JsValue)>::new(on_message);
    if js::add_window_listener("message", listener.as_ref()).is_ok() {
        with_agent(|agent| agent.message_listener = Some(listener));
    }
}

/// Anything that is not a well-formed event from one of our viewers is ignored without a sound:
/// other origins, other windows, `null`, strings, objects without a string `glanceEvent`.
fn on_message(event: JsValue) {
    let fields = js::read_fields(&event, "origin source data");
    let origin = fields.get(0);
    let source = fields.get(1);
    let message = fields.get(2);
    if !message.is_object() {
        return;
    }
    let fields = js::read_fields(&message, "glanceEvent data");
    let Some(name) = fields.get(0).as_string().filter(|name| is_viewer_event_name(name)) else { return };
    let from_viewer = with_agent(|agent| {
        origin.as_string().is_some_and(|origin| origin == agent.webserver.origin())
            && agent.viewers.iter_mut().any(|viewer| {
                let from_it = viewer.window == source;
                // A viewer whose session ended is not the one to focus for that key again.
                if from_it && name == SESSION_ENDED {
                    viewer.key.clear();
                }
                from_it
            })
    });
    if !from_viewer {
        return;
    }
    let data = Some(fields.get(1)).filter(|data| !js::is_absent(data)).unwrap_or_else(|| js_sys::Object::new().into());
    fire(&name, &data);
}
