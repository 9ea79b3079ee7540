//! The network primitives: `fetch` (aborted when its id is released) and the presence WebSocket.
//! Each reports back to the agent through the driver; neither decides anything.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    AbortController, Headers, ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode,
    RequestRedirect, Response, WebSocket,
};

use super::driver::{self, callback, Kind};
use super::js;
use crate::agent::{Id, Input, Mode, Read, Request};
use crate::protocol::Reply;

#[wasm_bindgen]
extern "C" {
    /// The page's `fetch`, called as the page has it (tests replace it).
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch_with(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// Sends `request`; the agent hears `fetched(id, …)`. Its deadline is the agent's timer.
pub fn fetch(id: Id, request: &Request) {
    let Ok(controller) = AbortController::new() else {
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

fn init(request: &Request, controller: &AbortController) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_mode(match request.mode {
        Mode::Cors => RequestMode::Cors,
        Mode::NoCors => RequestMode::NoCors,
        Mode::SameOrigin => RequestMode::SameOrigin,
    });
    init.set_credentials(if request.cookies { RequestCredentials::Include } else { RequestCredentials::Omit });
    init.set_signal(Some(&controller.signal()));
    if request.private {
        init.set_cache(RequestCache::NoCache);
        init.set_redirect(RequestRedirect::Error);
        init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    }
    if let Ok(headers) = Headers::new() {
        if let Some((body, content_type)) = &request.body {
            init.set_body(&JsValue::from_str(body));
            let _ = headers.set("Content-Type", content_type);
        }
        if let Some(authorization) = &request.authorization {
            let _ = headers.set("Authorization", authorization);
        }
        init.set_headers(&headers);
    }
    init
}

/// The answer: its status, and its text or a header's value as `read` asks.
async fn answer(sent: Promise, read: Read) -> Result<Reply, JsValue> {
    let response: Response = JsFuture::from(sent).await?.dyn_into()?;
    let status = response.status();
    let text = match read {
        Read::Status => String::new(),
        Read::Text => JsFuture::from(response.text()?).await?.as_string().unwrap_or_default(),
        Read::Header(name) => response.headers().get(name)?.unwrap_or_default(),
    };
    Ok(Reply::Answered { status, text })
}

/// The agent socket and its handlers (the driver's callback, bound to its id); closed when dropped.
pub struct Socket(WebSocket);

impl Socket {
    /// Opens a socket to `url`; `None` when the browser refuses the URL.
    pub fn open(url: &str, id: Id) -> Option<Socket> {
        let socket = WebSocket::new(url).ok()?;
        socket.set_onopen(Some(&callback(Kind::SocketOpen, id)));
        socket.set_onmessage(Some(&callback(Kind::SocketMessage, id)));
        // An error is followed by a close; the close is what ends it.
        socket.set_onclose(Some(&callback(Kind::SocketClose, id)));
        Some(Socket(socket))
    }

    /// The socket.
    pub fn web_socket(&self) -> &WebSocket {
        &self.0
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.0.set_onopen(None);
        self.0.set_onmessage(None);
        self.0.set_onclose(None);
        let _ = self.0.close();
    }
}

/// Sends a text frame if the socket is open (a closing socket drops what it is given).
pub fn send(socket: &WebSocket, text: &str) {
    if socket.ready_state() == WebSocket::OPEN {
        let _ = socket.send_with_str(text);
    }
}
