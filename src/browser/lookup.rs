//! Session lookup (PROTOCOL.md section 2) as one task per lookup: it polls on the schedule, owns its
//! pause timer and its request (abort controller and deadline), and ends exactly once: found,
//! not found, failed or canceled, each firing its event and settling the lookup's promise.
//!
//! Callbacks (timers, `fetch` and body promises, the `cancel` function) carry only the lookup's id and
//! attempt number, and do nothing once the lookup has ended or moved on: canceling is taking the task
//! out of the agent state, which drops its timers and aborts its request.

use alloc::string::String;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::agent::with_agent;
use super::dispatch::fire;
use super::js;
use super::timer::Timer;
use super::viewer::{self, OpenOptions};
use crate::error::AgentError;
use crate::events::{LOOKUP_CANCELED, LOOKUP_FAILED, LOOKUP_FOUND, LOOKUP_WAITING};
use crate::protocol::{Answer, AnswerDocument, LookupRequest, LOOKUP_PATH};
use crate::schedule::Schedule;

/// What the lookup's promise resolves to when the session is found.
pub enum OnFound {
    /// The lookup result (`lookupSession`).
    Result,
    /// The viewer opened for it (`joinSession`).
    OpenViewer(OpenOptions),
}

/// A lookup in progress, owned by the agent state.
pub struct LookupTask {
    id: u32,
    key: String,
    wait: bool,
    schedule: Schedule,
    on_found: OnFound,
    resolve: Function,
    reject: Function,
    /// The pause before the next attempt.
    pause: Option<Timer>,
    request: Option<InFlight>,
}

/// The request of the current attempt.
struct InFlight {
    controller: AbortController,
    _deadline: Option<Timer>,
    timed_out: bool,
}

impl LookupTask {
    /// The lookup's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Closes the waiting window of a join that ends without a viewer (canceled or failed).
    fn close_waiting_window(&self) {
        if let OnFound::OpenViewer(options) = &self.on_found {
            viewer::close_waiting_window(options);
        }
    }
}

/// Starts looking `key` up; the promise settles when the lookup ends.
pub fn start(key: String, wait: bool, on_found: OnFound) -> Promise {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else { return promise };
    let id = with_agent(|agent| {
        let id = agent.next_id();
        let schedule = Schedule::new(wait);
        agent.lookups.push(LookupTask {
            id,
            key,
            wait,
            schedule,
            on_found,
            resolve,
            reject,
            pause: None,
            request: None,
        });
        id
    });
    advance(id);
    promise
}

/// Cancels lookup `id`, or the most recent one in progress for `None`: aborts its request, fires
/// `lookupCanceled` and rejects its promise with `canceled`. Nothing happens if it has already ended.
pub fn cancel(id: Option<u32>) {
    let Some(task) = with_agent(|agent| agent.take_lookup(id)) else { return };
    if let Some(request) = &task.request {
        request.controller.abort();
    }
    task.close_waiting_window();
    let data = js::agent_event();
    js::set_str(&data, "ssnkey", &task.key);
    fire(LOOKUP_CANCELED, &data);
    let _ = task.reject.call1(&JsValue::UNDEFINED, &js::to_error(&AgentError::Canceled));
}

/// The attempt number of lookup `id` while it runs.
fn current_attempt(id: u32) -> Option<u32> {
    with_agent(|agent| agent.lookup(id).map(|task| task.schedule.attempt()))
}

/// Starts the next attempt: at once, after its pause, or not at all when the schedule is used up.
fn advance(id: u32) {
    let Some(pause) = with_agent(|agent| agent.lookup_mut(id).map(|task| task.schedule.next())) else { return };
    match pause {
        None => finish(id, Err(AgentError::TimedOut)),
        Some(0) => attempt(id),
        Some(millis) => {
            let attempt_now = Timer::once(millis, move || attempt(id));
            if attempt_now.is_none() {
                return attempt(id); // no timer to be had: go on rather than hang
            }
            let replaced =
                with_agent(|agent| agent.lookup_mut(id).map(|task| core::mem::replace(&mut task.pause, attempt_now)));
            drop(replaced);
        }
    }
}

/// One attempt: credentials checked, `lookupWaiting` fired, the request sent.
fn attempt(id: u32) {
    let now = js::now_seconds();
    // Credentials and webserver are read at each attempt, so re-authenticating during a lookup is heard.
    let Some((key, request, timeout)) = with_agent(|agent| {
        let task = agent.lookup(id)?;
        Some((task.key.clone(), agent.request(LOOKUP_PATH, &task.key, now), agent.request_timeout_ms))
    }) else {
        return;
    };
    let request = match request {
        Ok(request) => request,
        Err(error) => return finish(id, Err(error)),
    };
    fire(LOOKUP_WAITING, &waiting_event(id, &key));
    let Some(number) = current_attempt(id) else { return }; // canceled by a listener
    send(id, number, &request, timeout);
}

/// `{service, ssnkey, cancel}`; `cancel` holds only the lookup's id, so calling it late is harmless.
fn waiting_event(id: u32, key: &str) -> Object {
    let data = js::agent_event();
    js::set_str(&data, "ssnkey", key);
    js::set(&data, "cancel", &js::callback(move |_| cancel(Some(id))));
    data
}

fn send(id: u32, number: u32, request: &LookupRequest, timeout_ms: u32) {
    let Ok(controller) = AbortController::new() else {
        return answer(id, number, Answer::unreachable(""));
    };
    let signal = controller.signal();
    let deadline = Timer::once(timeout_ms, move || expire(id, number));
    let in_flight = InFlight { controller, _deadline: deadline, timed_out: false };
    let replaced = with_agent(|agent| agent.lookup_mut(id).map(|task| task.request.replace(in_flight)));
    drop(replaced);

    let sent = post_form(&request.url, &request.body, &signal).and_then(|answered| {
        let on_answer = js::callback(move |answered| read_answer(id, number, &answered));
        js::then(&answered, &on_answer, &failure_callback(id, number))
    });
    if let Err(thrown) = sent {
        answer(id, number, Answer::unreachable(&js::error_message(&thrown)));
    }
}

/// The lookup's request is still this attempt's.
fn is_current(id: u32, number: u32) -> bool {
    current_attempt(id) == Some(number)
}

fn failure_callback(id: u32, number: u32) -> JsValue {
    js::callback(move |thrown| {
        let timed_out =
            with_agent(|agent| agent.lookup(id).and_then(|task| task.request.as_ref()).is_some_and(|r| r.timed_out));
        let reason = if timed_out { String::from("the request timed out") } else { js::error_message(&thrown) };
        answer(id, number, Answer::unreachable(&reason));
    })
}

/// The deadline passed: abort the request, which then fails as timed out.
fn expire(id: u32, number: u32) {
    let controller = with_agent(|agent| {
        let task = agent.lookup_mut(id).filter(|task| task.schedule.attempt() == number)?;
        let request = task.request.as_mut()?;
        request.timed_out = true;
        Some(request.controller.clone())
    });
    if let Some(controller) = controller {
        controller.abort();
    }
}

/// `[status, text, document]` from `postForm`: the answer of attempt `number`, if it is still current.
fn read_answer(id: u32, number: u32, answered: &JsValue) {
    if !is_current(id, number) {
        return;
    }
    // `postForm` resolves with the array it built.
    let answered: &js_sys::Array = answered.unchecked_ref();
    let status = answered.get(0).as_f64().unwrap_or_default() as u16;
    let body = answered.get(1).as_string().unwrap_or_default();
    answer(id, number, Answer::from_response(status, &body, |_| XmlAnswer(answered.get(2))));
}

/// Acts on what attempt `number` learned: ends the lookup, or goes on to the next attempt.
fn answer(id: u32, number: u32, answer: Answer) {
    let Some((wait, request)) = with_agent(|agent| {
        let task = agent.lookup_mut(id).filter(|task| task.schedule.attempt() == number)?;
        Some((task.wait, task.request.take()))
    }) else {
        return;
    };
    drop(request);
    match answer {
        Answer::Found(fields) => {
            let result = Object::new();
            for (name, value) in &fields {
                js::set_str(&result, name, value);
            }
            finish(id, Ok(Some(result.into())));
        }
        Answer::NotFound if !wait => finish(id, Ok(None)),
        Answer::Failed { reason, transient: true } if !wait => finish(id, Err(AgentError::ServiceUnavailable(reason))),
        Answer::Failed { reason, transient: false } => finish(id, Err(AgentError::ServiceError(reason))),
        Answer::NotFound | Answer::Failed { .. } => advance(id),
    }
}

/// Ends lookup `id`: fires `lookupFound` or `lookupFailed` and settles its promise. `Ok(None)` is a
/// session not found by a lookup that does not wait.
fn finish(id: u32, outcome: Result<Option<JsValue>, AgentError>) {
    // Taken out first: listeners of the final event may start another lookup and cancel that one.
    let Some(task) = with_agent(|agent| agent.take_lookup(Some(id))) else { return };
    let settled = match outcome {
        Ok(Some(result)) => {
            fire(LOOKUP_FOUND, &result);
            match &task.on_found {
                OnFound::Result => Ok(result),
                OnFound::OpenViewer(options) => {
                    let url = js::get(&result, "agentjoinurl").ok().and_then(|url| url.as_string()).unwrap_or_default();
                    viewer::open_join_url(&url, options, false)
                }
            }
        }
        Ok(None) => match task.on_found {
            OnFound::Result => Ok(Object::new().into()),
            OnFound::OpenViewer(_) => Err(AgentError::NotFound),
        },
        Err(error) => {
            let data = js::agent_event();
            js::set_str(&data, "ssnkey", &task.key);
            js::set_str(&data, "reason", error.reason());
            fire(LOOKUP_FAILED, &data);
            Err(error)
        }
    };
    let _ = match settled {
        Ok(value) => task.resolve.call1(&JsValue::UNDEFINED, &value),
        Err(error) => {
            task.close_waiting_window();
            task.reject.call1(&JsValue::UNDEFINED, &js::to_error(&error))
        }
    };
}

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// POSTs `body` as a form to `url`; resolves to `[status, text, text parsed as XML or null]`.
    #[wasm_bindgen(catch, js_name = postForm)]
    fn post_form(url: &str, body: &str, signal: &AbortSignal) -> Result<JsValue, JsValue>;

    /// The text of the first element named `tag` (any namespace) of a parsed answer.
    #[wasm_bindgen(js_name = elementText)]
    fn element_text(document: &JsValue, tag: &str) -> Option<String>;
}

/// A lookup answer parsed by the browser's `DOMParser` (null if it could not be).
struct XmlAnswer(JsValue);

impl AnswerDocument for XmlAnswer {
    fn is_xml(&self) -> bool {
        self.0.is_object() && self.element_text("parsererror").is_none()
    }

    fn element_text(&self, tag: &str) -> Option<String> {
        if !self.0.is_object() {
            return None;
        }
        element_text(&self.0, tag)
    }
}
