//! Session lookup (PROTOCOL.md section 2) as one task per call: it polls on the schedule, owns its
//! pauses and its request, and ends exactly once (found, not found, failed or canceled), firing one
//! terminal event and settling its promise. A lookup is canceled by `cancelLookup`, by the `cancel`
//! of its `lookupWaiting` events, or by the call's own `params.signal`: canceling takes the task out
//! of the state and drops its future, which clears its timer and aborts its request.

use std::future::Future;

use futures_util::future::{AbortHandle, Abortable, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::bus::AgentEvent;
use super::js;
use super::request::{send, Request};
use super::signal::on_abort;
use super::signin;
use super::state::{take_task, with_agent, Running};
use super::viewer::{self, OpenOptions};
use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::events::{LOOKUP_CANCELED, LOOKUP_FAILED, LOOKUP_FOUND, LOOKUP_WAITING};
use crate::protocol::{read_lookup, Failure, FormRequest, Lookup, LookupResult, Reply, LOOKUP_PATH};
use crate::schedule::Schedule;

/// What the lookup's promise resolves to when the session is found.
pub enum OnFound {
    /// The lookup result (`lookupSession`).
    Result,
    /// The viewer opened for it (`joinSession`).
    OpenViewer(OpenOptions),
}

/// What a lookup learned: the session (and the credentials that found it), or none (a lookup that
/// does not wait).
type Found = Option<(Box<LookupResult>, Credentials)>;

/// Starts looking `key` up; the promise settles when the lookup ends.
pub fn start(key: String, wait: bool, signal: Option<AbortSignal>, on_found: OnFound) -> Promise {
    js::promise(run(key, wait, signal, on_found))
}

/// A lookup of `key`, registered now (so that `cancelLookup` right after finds it), that ends when the
/// returned future does.
pub fn run(
    key: String,
    wait: bool,
    signal: Option<AbortSignal>,
    on_found: OnFound,
) -> impl Future<Output = Result<JsValue, AgentError>> {
    let (abort, registration) = AbortHandle::new_pair();
    let id = with_agent(|agent| {
        let id = agent.next_id();
        agent.lookups.push(Running { id, abort });
        id
    });
    let watch = signal.as_ref().and_then(|signal| on_abort(signal, move || cancel(Some(id))));
    async move {
        let _watch = watch;
        let outcome = Abortable::new(attempts(id, &key, wait), registration).await;
        let running = with_agent(|agent| take_task(&mut agent.lookups, id)).is_some();
        let outcome = match outcome {
            Ok(outcome) if running => outcome,
            _ => Err(AgentError::Canceled),
        };
        finish(&key, outcome, on_found)
    }
}

/// Cancels lookup `id`, or the most recent one in progress for `None`. Nothing happens if it has ended.
pub fn cancel(id: Option<u32>) {
    let task = with_agent(|agent| match id {
        Some(id) => take_task(&mut agent.lookups, id),
        None => agent.lookups.pop(),
    });
    if let Some(task) = task {
        task.abort.abort();
    }
}

fn is_running(id: u32) -> bool {
    with_agent(|agent| agent.lookups.iter().any(|task| task.id == id))
}

/// The attempts of one lookup, on the schedule: each checks the credentials (asking `getLoginKey`
/// when they renew), fires `lookupWaiting`, and sends the request.
async fn attempts(id: u32, key: &str, wait: bool) -> Result<Found, AgentError> {
    // Made once: calling it late, after the lookup has ended, does nothing.
    let cancel_it = Closure::<dyn FnMut()>::new(move || cancel(Some(id))).into_js_value();
    for pause in Schedule::new(wait) {
        if pause > 0 {
            TimeoutFuture::new(pause).await;
        }
        let credentials = signin::for_call().await?;
        AgentEvent::new().key(key).cancel(cancel_it.clone()).fire(LOOKUP_WAITING);
        if !is_running(id) {
            return Err(AgentError::Canceled); // a listener canceled it: nothing is sent
        }
        let (reply, credentials) = ask(LOOKUP_PATH, key, credentials, lookup_refused).await?;
        match read_lookup(&reply) {
            Ok(Lookup::Found(result)) => return Ok(Some((result, credentials))),
            Ok(Lookup::NotFound) if !wait => return Ok(None),
            Ok(Lookup::NotFound) | Err(Failure::Transient(_)) if wait => continue,
            Err(failure) => return Err(failure.into_error()),
            Ok(Lookup::NotFound) => return Ok(None),
        }
    }
    Err(AgentError::TimedOut("no session with this key started within 45 seconds"))
}

/// Sends the form request `path` about `key` with `credentials`. When the reply may mean a refused
/// key (`refused` says so) and the agent's keys renew, a new key is asked for and the request made
/// again, once: invisible to the page's listeners. Returns the reply and the credentials it used;
/// `Err` when no credentials could be had.
pub fn ask<'a>(
    path: &'static str,
    key: &'a str,
    credentials: Credentials,
    refused: fn(&Reply) -> bool,
) -> LocalBoxFuture<'a, Result<(Reply, Credentials), AgentError>> {
    Box::pin(async move {
        let reply = post(path, key, &credentials).await;
        if !refused(&reply) {
            return Ok((reply, credentials));
        }
        match signin::after_refusal(&credentials).await {
            None => Ok((reply, credentials)),
            Some(renewed) => {
                let renewed = renewed?;
                Ok((post(path, key, &renewed).await, renewed))
            }
        }
    })
}

async fn post(path: &str, key: &str, credentials: &Credentials) -> Reply {
    let (request, timeout) = with_agent(|agent| {
        (FormRequest::new(path, &agent.settings.webserver, credentials, key), agent.settings.request_timeout_ms)
    });
    send(&Request::form(&request.url, &request.body), timeout).await
}

/// Whether a lookup reply may mean the key was refused.
fn lookup_refused(reply: &Reply) -> bool {
    matches!(read_lookup(reply), Err(Failure::KeyRefused(_)))
}

/// Ends a lookup: fires its one terminal event and gives what its promise settles with.
fn finish(key: &str, outcome: Result<Found, AgentError>, on_found: OnFound) -> Result<JsValue, AgentError> {
    let settled = match outcome {
        Ok(Some((result, credentials))) => {
            let value = js::to_js(&result);
            super::bus::fire(LOOKUP_FOUND, &value);
            match &on_found {
                OnFound::Result => Ok(value),
                OnFound::OpenViewer(options) => viewer::open_join_url(&result.agentjoinurl, options, Some(credentials)),
            }
        }
        Ok(None) => match on_found {
            OnFound::Result => Ok(js_sys::Object::new().into()),
            OnFound::OpenViewer(_) => Err(AgentError::NotFound),
        },
        Err(AgentError::Canceled) => {
            AgentEvent::new().key(key).fire(LOOKUP_CANCELED);
            Err(AgentError::Canceled)
        }
        Err(error) => {
            AgentEvent::new().key(key).reason(error.reason()).fire(LOOKUP_FAILED);
            Err(error)
        }
    };
    if let (Err(_), OnFound::OpenViewer(options)) = (&settled, &on_found) {
        viewer::close_waiting_window(options);
    }
    settled
}
