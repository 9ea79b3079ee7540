//! The network primitives: `fetch` (aborted when its id is released) and the presence WebSocket.
//! Each reports back to the agent through the driver; neither decides anything.

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::driver::{self, callback, Kind};
use super::js;
use crate::agent::{Id, Input, Mode, Read, Request};
use crate::protocol::Reply;

#[wasm_bindgen]
extern "C" {
    /// The page's `fetch`, called as the page has it (tests replace it).
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch_with(url: &str, init: &Object) -> Result<Promise, JsValue>;
}

/// Sends `request`; the agent hears `fetched(id, …)`. Its deadline is the agent's timer.
pub fn fetch(id: Id, request: &Request) {
    let Ok(controller) = js::construct("AbortController", &[]) else {
        return driver::input(Input::Fetched(id, Reply::Unreachable("fetch could not start".into())));
    };
    let init = init(request, &controller);
    match fetch_with(&request.url, &init) {
        Ok(sent) => {
            driver::hold_request(id, controller);
            let read = request.read;
            spawn_local(async move {
                let reply = answer(sent, read).await.unwrap_or_else(|error| Reply::Unreachable(js::message_of(&error)));
                driver::input(Input::Fetched(id, reply));
            });
        }
        Err(thrown) => driver::input(Input::Fetched(id, Reply::Unreachable(js::message_of(&thrown)))),
    }
}

/// The `fetch` options of `request`, a plain object.
fn init(request: &Request, controller: &JsValue) -> Object {
    let init = Object::new();
    let set = |name, value: &JsValue| js::set(&init, name, value);
    set("method", &request.method.into());
    let mode = match request.mode {
        Mode::Cors => "cors",
        Mode::NoCors => "no-cors",
        Mode::SameOrigin => "same-origin",
    };
    set("mode", &mode.into());
    set("credentials", &(if request.cookies { "include" } else { "omit" }).into());
    set("signal", &js::get(controller, "signal").unwrap_or(JsValue::UNDEFINED));
    if request.private {
        set("cache", &"no-cache".into());
        set("redirect", &"error".into());
        set("referrerPolicy", &"no-referrer".into());
    }
    let headers = Object::new();
    if let Some((body, content_type)) = &request.body {
        set("body", &body.into());
        js::set(&headers, "Content-Type", &(*content_type).into());
    }
    if let Some(authorization) = &request.authorization {
        js::set(&headers, "Authorization", &authorization.into());
    }
    set("headers", &headers);
    init
}

/// The answer: its status, and its text or a header's value as `read` asks.
async fn answer(sent: Promise, read: Read) -> Result<Reply, JsValue> {
    let response = JsFuture::from(sent).await?;
    let status = js::get(&response, "status")?.as_f64().unwrap_or_default() as u16;
    let text = match read {
        Read::Status => None,
        Read::Text => JsFuture::from(Promise::from(js::call_method(&response, "text")?)).await?.as_string(),
        Read::Header(name) => js::call(&js::get(&response, "headers")?, "get", &[&name.into()])?.as_string(),
    };
    Ok(Reply::Answered { status, text: text.unwrap_or_default() })
}

/// The handlers a socket reports through: the driver's callback, bound to the socket's id. (An error
/// is followed by a close; the close is what ends it.)
const HANDLERS: [(&str, Kind); 3] =
    [("onopen", Kind::SocketOpen), ("onmessage", Kind::SocketMessage), ("onclose", Kind::SocketClose)];

/// `WebSocket.OPEN`.
const OPEN: f64 = 1.0;

/// The agent socket; closed, its handlers removed, when dropped.
pub struct Socket(JsValue);

impl Socket {
    /// Opens a socket to `url`; `None` when the browser refuses the URL.
    pub fn open(url: &str, id: Id) -> Option<Socket> {
        let socket = js::construct("WebSocket", &[&url.into()]).ok()?;
        for (handler, kind) in HANDLERS {
            js::set(&socket, handler, &callback(kind, id));
        }
        Some(Socket(socket))
    }

    /// The socket.
    pub fn web_socket(&self) -> &JsValue {
        &self.0
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        for (handler, _) in HANDLERS {
            js::set(&self.0, handler, &JsValue::NULL);
        }
        let _ = js::call_method(&self.0, "close");
    }
}

/// Sends a text frame if the socket is open (a closing socket drops what it is given).
pub fn send(socket: &JsValue, text: &str) {
    if js::get(socket, "readyState").ok().and_then(|state| state.as_f64()) == Some(OPEN) {
        let _ = js::call(socket, "send", &[&text.into()]);
    }
}
