//! The one driver of the sans-IO agent: it feeds the agent its inputs (page calls, answers, timers,
//! frames, messages) and performs what the agent asks ([`Output`]), over `fetch`, timers, windows,
//! frames and sockets.
//!
//! The driver's state (the agent, the promises of calls in progress, what each id holds) is borrowed
//! only to put an input in or take an output out, never while page JavaScript runs: a listener, a
//! `getLoginKey`, a replaced `fetch` or `window.open` may call the API again, and they find the state
//! free. Outputs are taken one at a time, so an input that arrives meanwhile (a listener that cancels
//! a lookup) withdraws what it ends before it is performed.

use std::cell::RefCell;

use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::bus;
use super::js::{self, to_error};
use super::net;
use super::page::{self, HiddenFrame};
use super::signal::{self, Listener};
use crate::agent::{Agent, Arrival, Call as Started, Data, Found, Id, Input, Output, PresenceData, Value, STORAGE_KEY};
use crate::error::AgentError;
use crate::events::AGENT_SERVICE;
use crate::presence::{MAX_FRAME_CHARS, PRESENCE_SERVICE};

#[wasm_bindgen]
extern "C" {
    /// A function, for binding its first arguments.
    #[wasm_bindgen(js_name = Function)]
    type Bindable;
    /// `function.bind(null, kind, id)`.
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_ids(this: &Bindable, context: &JsValue, kind: u32, id: u32) -> Function;

    /// `queueMicrotask(callback)`.
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Function);

    /// A promise, settled into callbacks.
    #[wasm_bindgen(js_name = Promise)]
    type Thenable;
    /// `promise.then(resolved, rejected)`.
    #[wasm_bindgen(method, js_name = then)]
    fn then_both(this: &Thenable, resolved: &Function, rejected: &Function);
    /// `promise.catch(rejected)`.
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Thenable, rejected: &Function);
}

/// Marks `promise` as handled: a rejection nobody else waits for is not reported as unhandled.
pub fn handled(promise: &Promise) {
    promise.unchecked_ref::<Thenable>().catch_with(&callback(Kind::Ignore, 0));
}

/// What the driver holds for an id the agent gave out; dropping it ends it.
#[allow(dead_code)] // each is held only to be dropped
pub enum Held {
    /// A timer: cleared when dropped.
    Timer(Timeout),
    /// A timer of 0 ms, as a microtask: it fires only while held.
    Soon,
    /// A request in flight: aborted when dropped.
    Request(AbortOnDrop),
    /// A socket: closed when dropped.
    Socket(net::Socket),
    /// A hidden frame: removed when dropped.
    Frame(HiddenFrame),
    /// A DOM listener: removed when dropped.
    Listener(Listener),
}

/// Aborts a request when dropped: its `AbortController`.
pub struct AbortOnDrop(pub JsValue);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let _ = js::call_method(&self.0, "abort");
    }
}

/// A call's promise: how to settle it, and its signal's listener.
struct Call {
    id: Id,
    resolve: Function,
    reject: Function,
    _signal: Option<Listener>,
}

/// The driver's state.
pub struct Driver {
    pub agent: Agent<JsValue>,
    calls: Vec<Call>,
    held: Vec<(Id, Held)>,
    /// The window's `message` listener, while the agent wants it.
    messages: Option<Listener>,
    /// `GlanceAgent.start()` was called: the restore is scheduled.
    started: bool,
    /// The window's `load` listener, until the page has loaded.
    loaded: Option<Listener>,
    /// Events fired while one is being delivered wait here, in order.
    pub queued: Vec<(String, JsValue)>,
    pub dispatching: bool,
}

struct Slot(RefCell<Option<Driver>>);

// SAFETY: wasm32 without the atomics feature has exactly one thread, so the state is never shared.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Slot {}

static DRIVER: Slot = Slot(RefCell::new(None));

/// Lends the driver state to `f`, which must not call page JavaScript; `None` if it is lent already
/// (which the rule above prevents: it is never a trap).
pub fn with<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    let mut slot = DRIVER.0.try_borrow_mut().ok()?;
    Some(f(slot.get_or_insert_with(Driver::new)))
}

impl Driver {
    /// Made on first use, once: kept out of line so that every `with` stays small.
    #[cold]
    #[inline(never)]
    fn new() -> Driver {
        Driver {
            agent: Agent::new((js_sys::Math::random() * 9_007_199_254_740_991.0) as u64),
            calls: Vec::new(),
            held: Vec::new(),
            messages: None,
            started: false,
            loaded: None,
            queued: Vec::new(),
            dispatching: false,
        }
    }
}

/// Reads the agent (settings, state).
pub fn read<R: Default>(f: impl FnOnce(&Agent<JsValue>) -> R) -> R {
    with(|driver| f(&driver.agent)).unwrap_or_default()
}

/// Gives the agent an input, then performs what it asks.
#[inline(never)]
pub fn input(input: Input<JsValue>) {
    let now = js_sys::Date::now() as u64;
    with(|driver| driver.agent.handle(now, input));
    drain();
}

/// A page call that returns a promise. An abort of `signal` cancels it.
#[inline(never)]
pub fn call(signal: Option<AbortSignal>, started: Started<JsValue>) -> Promise {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else { return promise };
    let Some(id) = with(|driver| driver.agent.next_id()) else { return promise };
    let watch = signal.and_then(|signal| signal::on_abort(&signal, callback(Kind::Abort, id)));
    with(|driver| driver.calls.push(Call { id, resolve, reject, _signal: watch }));
    input(Input::Call(id, started));
    promise
}

/// Settles call `id` with `value` (`Ok`) or an error value (`Err`).
pub fn settle(id: Id, result: Result<JsValue, JsValue>) {
    let call = with(|driver| crate::agent::take_where(&mut driver.calls, &|call| call.id == id)).flatten();
    if let Some(call) = call {
        let _ = match result {
            Ok(value) => js::apply(&call.resolve, &[&value]),
            Err(error) => js::apply(&call.reject, &[&error]),
        };
    }
}

/// Performs the agent's outputs, one at a time, until it has none.
pub fn drain() {
    while let Some(output) = with(|driver| driver.agent.poll()).flatten() {
        perform(output);
    }
}

fn hold(id: Id, held: Held) {
    with(|driver| driver.held.push((id, held)));
}

/// Takes what `id` holds out of the state (to drop it, or because it has done its work).
fn take(id: Id) -> Vec<Held> {
    with(|driver| {
        let mut taken = Vec::new();
        while let Some((_, held)) = crate::agent::take_where(&mut driver.held, &|(held, _)| *held == id) {
            taken.push(held);
        }
        taken
    })
    .unwrap_or_default()
}

/// Kept out of line: inlined, it was copied into each caller of `drain` (208 B gzip more).
#[inline(never)]
fn perform(output: Output<JsValue>) {
    match output {
        Output::Fetch { id, request } => net::fetch(id, &request),
        Output::Timer { id, ms: 0 } => {
            hold(id, Held::Soon);
            queue_microtask(&callback(Kind::Soon, id));
        }
        Output::Timer { id, ms } => {
            hold(id, Held::Timer(Timeout::new(ms, move || timer_fired(id))));
        }
        Output::Release(id) => drop(take(id)),
        Output::Settle { call, result } => settle(call, result.map(to_value).map_err(|error| to_error(&error))),
        Output::Fire(event) => bus::fire(&event.name, &to_data(event.data)),
        Output::AskProvider { id, provider } => ask_provider(id, &provider),
        Output::ParseUrl { id, text } => {
            let parts = page::url_parts(&text);
            input(Input::UrlParsed(id, parts));
        }
        Output::OpenWindow { id, name, features, label } => {
            let window = page::open_named(&name, &features);
            if let Some(window) = &window {
                // A window that is not ours to label is still the one to load the viewer into.
                page::label_window(window, &label);
            }
            input(Input::WindowOpened(id, window));
        }
        Output::LoadViewer { id, load } => {
            let window = page::load_viewer(&load);
            input(Input::ViewerLoaded(id, window));
        }
        Output::Focus(window) => {
            let _ = js::call_method(&window, "focus");
        }
        Output::Close(window) => page::close_window(&window),
        Output::Blank(frame) => {
            page::set(&frame, "src", "about:blank");
        }
        Output::CheckClosed(windows) => check_closed(windows),
        Output::Listen(on) => {
            let listener = on.then(|| signal::window_listener("message", callback(Kind::Message, 0))).flatten();
            let replaced = with(|driver| std::mem::replace(&mut driver.messages, listener)).flatten();
            drop(replaced);
        }
        Output::HiddenFrame { id, url, probe } => {
            let frame = HiddenFrame::new(&url);
            let window = frame.as_ref().map(HiddenFrame::window);
            if let Some(frame) = frame {
                if probe {
                    if let Some(load) = Listener::new(frame.element(), "load", callback(Kind::FrameLoad, id)) {
                        hold(id, Held::Listener(load));
                    }
                    let violations = callback(Kind::Violation, id);
                    if let Some(violation) = signal::window_listener("securitypolicyviolation", violations) {
                        hold(id, Held::Listener(violation));
                    }
                }
                hold(id, Held::Frame(frame));
            }
            input(Input::FrameOpened(id, window));
        }
        Output::Locate { id } => {
            let (href, _) = page::location();
            let isolated = js::get(&js_sys::global(), "crossOriginIsolated").is_ok_and(|isolated| isolated.is_truthy());
            input(Input::Located { id, href, isolated });
        }
        Output::OpenSocket { id, url } => match net::Socket::open(&url, id) {
            Some(socket) => hold(id, Held::Socket(socket)),
            None => input(Input::SocketClosed(id, 1006)),
        },
        Output::Store(value) => store(value.as_deref()),
        Output::FindWindow { id, name } => {
            let found = match page::open_named(&name, "") {
                None => Found::Nothing,
                // A fresh window of this page's origin can be read; the viewer, on another, cannot.
                Some(window) if js::get(&window, "document").is_ok_and(|document| document.is_object()) => {
                    Found::Blank(window)
                }
                Some(window) => Found::Window(window),
            };
            input(Input::WindowFound(id, found));
        }
        Output::Send { id, text } => {
            let socket = with(|driver| {
                driver.held.iter().find_map(|(held, value)| match value {
                    Held::Socket(socket) if *held == id => Some(socket.web_socket().clone()),
                    _ => None,
                })
            });
            if let Some(socket) = socket.flatten() {
                net::send(&socket, &text);
            }
        }
    }
}

fn timer_fired(id: Id) {
    // Taken out first: a timer that has fired has nothing left to clear.
    let fired = take(id);
    input(Input::TimerFired(id));
    drop(fired);
}

/// This tab's `sessionStorage` (none where storage is refused: a sandboxed frame, say).
fn session_storage() -> Option<JsValue> {
    js::get(&js::global(), "sessionStorage").ok().filter(JsValue::is_object)
}

/// Keeps `value` under the agent's key in this tab's `sessionStorage`, or removes it.
fn store(value: Option<&str>) {
    let Some(storage) = session_storage() else { return };
    let _ = match value {
        Some(value) => js::call(&storage, "setItem", &[&STORAGE_KEY.into(), &value.into()]),
        None => js::call(&storage, "removeItem", &[&STORAGE_KEY.into()]),
    };
}

/// `GlanceAgent.start()`, once: once the page has loaded (its `load` listeners included), the
/// agent is told what this tab kept, to take back the viewers it opened before a reload.
pub fn start() {
    let first = with(|driver| !std::mem::replace(&mut driver.started, true)).unwrap_or(false);
    if !first {
        return;
    }
    let document = js::get(&js::global(), "document").unwrap_or(JsValue::UNDEFINED);
    if js::text(&document, "readyState").as_deref() == Some("complete") {
        after_load();
    } else if let Some(listener) = signal::window_listener("load", callback(Kind::Loaded, 0)) {
        with(|driver| driver.loaded = Some(listener));
    }
}

/// The page has loaded: the restore comes after the `load` listeners that follow this one.
fn after_load() {
    let _ = js::call(&js::global(), "setTimeout", &[&callback(Kind::Restore, 0).into(), &0.into()]);
}

/// How this document came to be: `history.length` and the navigation's type.
fn arrival() -> Arrival {
    let global = js::global();
    let history_length = js::get(&global, "history").and_then(|history| js::get(&history, "length"));
    let history_length = history_length.ok().and_then(|length| length.as_f64()).map_or(0, |length| length as u32);
    let performance = js::get(&global, "performance").unwrap_or(JsValue::UNDEFINED);
    let entries = js::call(&performance, "getEntriesByType", &[&"navigation".into()]);
    let navigation = entries.and_then(|entries| js::get(&entries, "0")).ok().and_then(|entry| js::text(&entry, "type"));
    Arrival { history_length, navigation }
}

/// Tells the agent which of `windows` read as closed (a window that cannot say counts as closed).
pub fn check_closed(windows: Vec<(Id, JsValue)>) {
    for (id, window) in windows {
        if page::is_closed(&window) {
            input(Input::ReadsClosed(id));
        }
    }
}

/// Calls `getLoginKey`; its answer (a value or a promise of one) comes back through the callback.
fn ask_provider(id: Id, provider: &JsValue) {
    let returned = js::apply(provider, &[]);
    match returned {
        Ok(returned) => {
            let resolved = callback(Kind::ProviderResolved, id);
            let answer = Promise::resolve(&returned);
            answer.unchecked_ref::<Thenable>().then_both(&resolved, &callback(Kind::ProviderRejected, id));
        }
        Err(thrown) => input(Input::ProviderFailed(id, js::message_of(&thrown))),
    }
}

/// What a bound callback is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// A call's signal aborted.
    Abort,
    /// The `cancel` of a `lookupWaiting`.
    CancelLookup,
    /// The `close` of a `viewerOpened`.
    CloseViewer,
    /// A disposer of `addEventListener`.
    Dispose,
    /// `getLoginKey`'s promise resolved.
    ProviderResolved,
    /// `getLoginKey`'s promise rejected.
    ProviderRejected,
    /// A socket opened.
    SocketOpen,
    /// A socket frame.
    SocketMessage,
    /// A socket closed.
    SocketClose,
    /// A probe frame loaded.
    FrameLoad,
    /// A Content-Security-Policy violation during a probe.
    Violation,
    /// A `message` event of the window.
    Message,
    /// Nothing: marks a promise as handled.
    Ignore,
    /// A timer of 0 ms came due.
    Soon,
    /// The page's `load` event.
    Loaded,
    /// Time to take back the viewers this tab opened before a reload.
    Restore,
}

const KINDS: [Kind; 16] = [
    Kind::Abort,
    Kind::CancelLookup,
    Kind::CloseViewer,
    Kind::Dispose,
    Kind::ProviderResolved,
    Kind::ProviderRejected,
    Kind::SocketOpen,
    Kind::SocketMessage,
    Kind::SocketClose,
    Kind::FrameLoad,
    Kind::Violation,
    Kind::Message,
    Kind::Ignore,
    Kind::Soon,
    Kind::Loaded,
    Kind::Restore,
];

/// The module's one callback, made once and kept for the module's life: every JavaScript function
/// the driver hands out is it, bound to what it is for and an id (`Function.prototype.bind`), so no
/// closure is made, kept or forgotten per call. It is an `Fn`: a listener called from one callback
/// (a viewer's event) may call another (the viewer's `close`), and an `FnMut` may not be re-entered.
struct Callbacks(RefCell<Option<Function>>);

// SAFETY: as for `Slot`.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Callbacks {}

static CALLBACK: Callbacks = Callbacks(RefCell::new(None));

/// A function that calls back with `kind`, `id` and its own first argument.
pub fn callback(kind: Kind, id: Id) -> Function {
    let Ok(mut slot) = CALLBACK.0.try_borrow_mut() else { return Function::new_no_args("") };
    let function = slot.get_or_insert_with(|| {
        let closure = Closure::<dyn Fn(u32, u32, JsValue)>::new(called_back);
        closure.into_js_value().unchecked_into()
    });
    function.unchecked_ref::<Bindable>().bind_ids(&JsValue::NULL, kind as u32, id)
}

fn called_back(kind: u32, id: Id, argument: JsValue) {
    let Some(kind) = KINDS.get(kind as usize).copied() else { return };
    match kind {
        Kind::Abort => input(Input::Abort(id)),
        Kind::CancelLookup => input(Input::CancelLookup(Some(id))),
        Kind::CloseViewer => input(Input::CloseViewer(id)),
        Kind::Dispose => {
            with(|driver| driver.agent.listeners.remove_serial(u64::from(id)));
        }
        Kind::ProviderResolved => {
            let answer = super::exports::read_credentials(&argument);
            input(Input::ProviderAnswered(id, answer));
        }
        Kind::ProviderRejected => input(Input::ProviderFailed(id, js::message_of(&argument))),
        Kind::SocketOpen => input(Input::SocketOpened(id)),
        Kind::SocketMessage => {
            // Measured before it is copied into the module: an oversized frame never reaches its memory.
            let data = signal::field(&argument, "data");
            let text = data.dyn_ref::<js_sys::JsString>().filter(|text| text.length() as usize <= MAX_FRAME_CHARS);
            if let Some(text) = text.map(String::from) {
                input(Input::SocketFrame(id, text));
            }
        }
        Kind::SocketClose => {
            let code = signal::field(&argument, "code").as_f64().unwrap_or(1006.0) as u16;
            input(Input::SocketClosed(id, code));
        }
        Kind::FrameLoad => input(Input::FrameLoaded(id)),
        Kind::Violation => {
            let blocked = signal::field(&argument, "blockedURI").as_string().unwrap_or_default();
            let directive = signal::field(&argument, "violatedDirective").as_string().unwrap_or_default();
            input(Input::Violation { id, blocked, directive });
        }
        Kind::Message => {
            if let Some(message) = signal::message(&argument) {
                input(Input::Message(message));
            }
        }
        Kind::Ignore => {}
        Kind::Soon => {
            if !take(id).is_empty() {
                input(Input::TimerFired(id));
            }
        }
        Kind::Loaded => {
            let listener = with(|driver| driver.loaded.take()).flatten();
            drop(listener);
            after_load();
        }
        Kind::Restore => {
            let stored = session_storage()
                .and_then(|storage| js::call(&storage, "getItem", &[&STORAGE_KEY.into()]).ok()?.as_string());
            input(Input::Restore(stored, arrival()));
        }
    }
}

/// A call's result as the page gets it.
#[inline(never)] // out of line: 27 B gzip less (measured)
fn to_value(value: Value<JsValue>) -> JsValue {
    match value {
        Value::Undefined => JsValue::UNDEFINED,
        Value::Bool(flag) => flag.into(),
        Value::Empty => js_sys::Object::new().into(),
        Value::Found(result) => js::parse(&result.json()),
        Value::Sessions(sessions) => js::parse(&crate::json::array(
            &sessions.iter().map(crate::protocol::AgentSession::json).collect::<Vec<_>>(),
        )),
        Value::Report(report) => {
            // A check not tried reads `ok: null`, as the reference gives it, not a missing field.
            let serializer =
                serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
            serde::Serialize::serialize(&*report, &serializer).unwrap_or_default()
        }
        Value::Page(window) => window,
        Value::Visitor(json) => presence_object(PresenceData { json, ..PresenceData::default() }),
    }
}

/// An event's data as the page gets it.
#[inline(never)] // out of line: 33 B gzip less (measured)
fn to_data(data: Data<JsValue>) -> JsValue {
    match data {
        Data::Agent(fields) => {
            let object = js_sys::Object::new();
            let set = |name: &str, value: JsValue| {
                let _ = js_sys::Reflect::set(&object, &name.into(), &value);
            };
            set("service", AGENT_SERVICE.into());
            if let Some(key) = fields.ssnkey {
                set("ssnkey", key.into());
            }
            if let Some(reason) = fields.reason {
                set("reason", JsValue::from_str(&reason));
            }
            if let Some(lookup) = fields.cancel {
                set("cancel", callback(Kind::CancelLookup, lookup).into());
            }
            if let Some(viewer) = fields.close {
                set("close", callback(Kind::CloseViewer, viewer).into());
            }
            object.into()
        }
        Data::Found(result) => js::parse(&result.json()),
        Data::Relayed(data) => data.unwrap_or_else(|| js_sys::Object::new().into()),
        Data::Presence(fields) => presence_object(fields),
    }
}

/// `{...the server's data, service: "presence", ...fields}`.
fn presence_object(fields: PresenceData) -> JsValue {
    let parsed = fields.json.and_then(|json| js_sys::JSON::parse(&json).ok()).filter(JsValue::is_object);
    let object: js_sys::Object = parsed.map_or_else(js_sys::Object::new, JsCast::unchecked_into);
    let set = |name: &str, value: JsValue| {
        let _ = js_sys::Reflect::set(&object, &name.into(), &value);
    };
    set("service", PRESENCE_SERVICE.into());
    if let Some(connected) = fields.connected {
        set("connected", connected.into());
    }
    if let Some(reason) = fields.reason {
        set("reason", JsValue::from_str(&reason));
    }
    if let Some(message) = fields.message {
        set("message", message.into());
    }
    if let Some(key) = fields.ssnkey {
        set("ssnkey", key.into());
    }
    object.into()
}

/// Rejects with `error` at once (a call refused before it started).
pub fn rejected(error: AgentError) -> Promise {
    Promise::reject(&to_error(&error))
}

/// Holds request `id`'s controller, aborted if the agent releases the request first.
pub fn hold_request(id: Id, controller: JsValue) {
    hold(id, Held::Request(AbortOnDrop(controller)));
}
