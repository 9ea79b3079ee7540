//! The window's one `message` listener (PROTOCOL.md section 4). A message counts only if it comes
//! from a window this library opened, on the origin that window was opened for, and is an object with
//! a string `glanceEvent`: a SAML sign-in page's answer goes to the sign-in waiting for it, a viewer's
//! event to the page's listeners. Anything else is ignored without a sound.
//!
//! The listener is added when a viewer opens or a sign-in starts, and removed when none is left.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::oneshot;
use wasm_bindgen::JsValue;
use web_sys::Event;

use super::bus::fire;
use super::js;
use super::signal::{event_field, window_listener, Listener};
use super::state::with_agent;
use crate::error::shorten_reason;
use crate::events::{is_viewer_event_name, AUTHENTICATE_FAILED, AUTHENTICATE_SUCCEEDED, SESSION_ENDED};

/// What a SAML sign-in page answered: the `loginKey` it sent, or why it failed.
pub enum SignInAnswer {
    /// `authenticateSucceeded` with `data.loginKey`.
    Succeeded(String),
    /// `authenticateFailed` with `data.reason`.
    Failed(String),
}

struct SignInWait {
    id: u32,
    window: JsValue,
    origin: String,
    answer: oneshot::Sender<SignInAnswer>,
}

/// The listener, and the sign-ins waiting for an answer.
#[derive(Default)]
pub struct MessageIntake {
    listener: Option<Listener>,
    sign_ins: Vec<SignInWait>,
}

/// Makes sure the listener is there.
pub fn listen() {
    if with_agent(|agent| agent.messages.listener.is_some()) {
        return;
    }
    let listener = window_listener("message", on_message);
    let unused = with_agent(|agent| agent.messages.listener.replace(listener?));
    drop(unused);
}

/// Removes the listener when no viewer and no sign-in needs it.
pub fn release_if_idle() {
    let removed = with_agent(|agent| {
        let idle = agent.viewers.is_empty() && agent.messages.sign_ins.is_empty();
        if idle {
            agent.messages.listener.take()
        } else {
            None
        }
    });
    drop(removed);
}

/// The answer of the sign-in page in the frame whose window is `window`, on the webserver's origin.
pub fn await_sign_in(window: JsValue) -> impl Future<Output = SignInAnswer> {
    let (answer, answered) = oneshot::channel();
    let id = with_agent(|agent| {
        let id = agent.next_id();
        let origin = agent.settings.webserver.origin().to_owned();
        agent.messages.sign_ins.push(SignInWait { id, window, origin, answer });
        id
    });
    listen();
    Waiting { id, answered }
}

/// A sign-in's wait; dropping it (answered, timed out, superseded) stops waiting.
struct Waiting {
    id: u32,
    answered: oneshot::Receiver<SignInAnswer>,
}

impl Future for Waiting {
    type Output = SignInAnswer;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<SignInAnswer> {
        Pin::new(&mut self.answered)
            .poll(context)
            .map(|answer| answer.unwrap_or_else(|_| SignInAnswer::Failed("the sign-in ended".to_owned())))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let id = self.id;
        let ended = with_agent(|agent| {
            let at = agent.messages.sign_ins.iter().position(|wait| wait.id == id)?;
            Some(agent.messages.sign_ins.remove(at))
        });
        drop(ended);
        release_if_idle();
    }
}

fn on_message(event: Event) {
    let origin = event_field(&event, "origin").as_string().unwrap_or_default();
    let source = event_field(&event, "source");
    let message = event_field(&event, "data");
    if !message.is_object() {
        return;
    }
    let Some(name) = js::get(&message, "glanceEvent").ok().and_then(|name| name.as_string()) else { return };
    if !is_viewer_event_name(&name) {
        return;
    }
    let data = js::get(&message, "data").ok().filter(|data| !js::is_absent(data));
    if name == AUTHENTICATE_SUCCEEDED || name == AUTHENTICATE_FAILED {
        return answer_sign_in(&name, &origin, &source, data);
    }
    let from_viewer = with_agent(|agent| {
        origin == agent.settings.webserver.origin()
            && agent.viewers.iter_mut().any(|viewer| {
                let from_it = viewer.window == source;
                // A viewer whose session ended is not the one to focus for that key again.
                if from_it && name == SESSION_ENDED {
                    viewer.key.clear();
                }
                from_it
            })
    });
    if from_viewer {
        fire(&name, &data.unwrap_or_else(|| js_sys::Object::new().into()));
    }
}

/// Hands a sign-in page's answer to the sign-in that loaded it.
fn answer_sign_in(name: &str, origin: &str, source: &JsValue, data: Option<JsValue>) {
    let waiting = with_agent(|agent| {
        let at = agent.messages.sign_ins.iter().position(|wait| wait.window == *source && wait.origin == origin)?;
        Some(agent.messages.sign_ins.remove(at))
    });
    let Some(waiting) = waiting else { return };
    let read =
        |field: &str| data.as_ref().and_then(|data| js::get(data, field).ok()).and_then(|value| value.as_string());
    let answer = if name == AUTHENTICATE_SUCCEEDED {
        SignInAnswer::Succeeded(read("loginKey").unwrap_or_default())
    } else {
        let reason = shorten_reason(&read("reason").unwrap_or_default());
        SignInAnswer::Failed(if reason.is_empty() { "the identity provider refused".to_owned() } else { reason })
    };
    let _ = waiting.answer.send(answer);
}
