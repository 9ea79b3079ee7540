//! Presence (shared/spec/PRESENCE.md, section 9 decides): watching one visitor, and starting a
//! session with them in one click.
//!
//! `presenceConnect` starts one connection task. It authorizes (a token held in memory, by agent),
//! reads the group's visitor settings, finds the visitor's server (unless load-balanced), opens the
//! `/agent` socket and reads its frames until it closes, then comes back after a pause (1 s, 2 s, 4 s
//! … 60 s, with jitter). The task owns its socket, keepalive and timers: ending it (another
//! `presenceConnect`, `presenceDisconnect`, `logout`, a refused authorization) drops them all.

use std::future::Future;

use futures_channel::{mpsc, oneshot};
use futures_util::future::{select, AbortHandle, Abortable, Either};
use futures_util::StreamExt;
use gloo_timers::callback::{Interval, Timeout};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Object, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortSignal, CloseEvent, MessageEvent, RequestCredentials, WebSocket};

use super::bus::{fire, AgentEvent};
use super::js::{self, Options};
use super::lookup::{self, OnFound};
use super::request::{exchange, send, Read, Request};
use super::signal::{call_signal, cancelable};
use super::signin;
use super::state::with_agent;
use super::viewer::{self, OpenOptions};
use crate::credentials::Credentials;
use crate::error::{shorten_reason, AgentError};
use crate::presence::{
    authorize_url, declined, direct_server, is_invokable, keepalive_ms, leave_url, random_session_key, rest_url,
    settings_url, socket_url, visitor_id, AuthorizeBody, ConnectFrame, EjectAgent, Frame, Invoke, InvokeData, Pause,
    Phase, Settings, Token, KEEPALIVE_FRAME, MAX_FRAME_CHARS, PRESENCE_SERVICE, SETTINGS_KEPT_S, SHOW_TERMS,
    START_TIMEOUT_MS, VISITOR_GRACE_MS, VISITOR_ID_RULE,
};
use crate::protocol::{read_sessions, Failure, Reply, IN_SESSION_PATH};

/// What the visitor answered a `presenceStartSession`.
enum Answer {
    Declined,
    Started,
}

/// The connection to one visitor.
struct Connection {
    id: u32,
    visitor: String,
    abort: AbortHandle,
    /// The open socket, for invokes when presence is load-balanced.
    socket: Option<WebSocket>,
    load_balanced: bool,
    /// The presence host (for `lookupvisitor` and `findvisitor`).
    presence_host: Option<String>,
    token: Option<String>,
    /// The agent's group id.
    group: String,
    /// `presenceConnect`'s promise, until the visitor is first seen.
    first_seen: Option<oneshot::Sender<Result<JsValue, AgentError>>>,
    /// The `presenceStartSession` waiting for the visitor's answer (the newest call replaces an older
    /// one: the visitor's answers do not say which request they answer).
    start: Option<oneshot::Sender<Answer>>,
    /// The `lookupvisitor` under way, ended with the connection.
    lookup: Option<AbortHandle>,
    /// The pause before a visitor whose socket went away counts as gone.
    grace: Option<Timeout>,
}

/// Presence in the agent's state.
#[derive(Default)]
pub struct Presence {
    phase: Phase,
    visitor_connected: bool,
    connection: Option<Connection>,
    /// Tokens held in memory (never in storage), by webserver and agent.
    tokens: Vec<(String, Token)>,
    /// Visitor settings by webserver and group, with when they were read.
    settings: Vec<(String, Settings, u64)>,
}

impl Presence {
    /// The connection, if it is still `id`'s: a replaced or ended one changes and hears nothing.
    fn current(&mut self, id: u32) -> Option<&mut Connection> {
        self.connection.as_mut().filter(|connection| connection.id == id)
    }
}

/// `presenceState`.
pub fn phase() -> &'static str {
    with_agent(|agent| agent.presence.phase.as_str())
}

/// `visitorConnected`.
pub fn visitor_connected() -> bool {
    with_agent(|agent| agent.presence.visitor_connected)
}

/// The server's data as a page gets it: a new object with the fields of `data` (when it is an object
/// and not an array), and `field` set to `value`.
fn fields_with(data: &JsValue, field: &str, value: &JsValue) -> Object {
    let payload = Object::new();
    if data.is_object() && !js_sys::Array::is_array(data) {
        Object::assign(&payload, data.unchecked_ref());
    }
    let _ = js_sys::Reflect::set(&payload, &field.into(), value);
    payload
}

/// A presence event: the server's data with `service: "presence"`.
fn fire_presence(name: &str, data: &JsValue) {
    fire(name, &fields_with(data, "service", &PRESENCE_SERVICE.into()));
}

/// A presence event with a `reason`, or a session key.
fn fire_with(name: &str, field: &str, value: &str) {
    let data = Object::new();
    let _ = js_sys::Reflect::set(&data, &field.into(), &value.into());
    fire_presence(name, &data);
}

fn is_current(id: u32) -> bool {
    with_agent(|agent| agent.presence.current(id).is_some())
}

fn set_phase(id: u32, phase: Phase) {
    with_agent(|agent| {
        if agent.presence.current(id).is_some() {
            agent.presence.phase = phase;
        }
    });
}

/// Ends the connection (if it is `id`'s, or any for `None`): its task, socket and timers go, its
/// waiting calls reject with `error`, and the state is idle again.
fn end(id: Option<u32>, error: AgentError) -> bool {
    let connection = with_agent(|agent| {
        let ends = agent.presence.connection.as_ref().is_some_and(|connection| id.is_none_or(|id| connection.id == id));
        if !ends {
            return None;
        }
        agent.presence.phase = Phase::Idle;
        agent.presence.visitor_connected = false;
        agent.presence.connection.take()
    });
    let Some(mut connection) = connection else { return false };
    connection.abort.abort();
    if let Some(lookup) = connection.lookup.take() {
        lookup.abort();
    }
    if let Some(first_seen) = connection.first_seen.take() {
        let _ = first_seen.send(Err(error.clone()));
    }
    drop(connection); // its socket closes and its timers clear, outside the borrow
    true
}

const PARAMS_RULE: &str = "params must be {signal, timeout}";
const TIMEOUT_RULE: &str = "params.timeout must be whole milliseconds from 1";

/// `params.timeout` as milliseconds.
fn timeout_of(options: &Options) -> Result<Option<u32>, AgentError> {
    let Some(value) = options.field("timeout", TIMEOUT_RULE)? else { return Ok(None) };
    match value.as_f64().and_then(crate::credentials::safe_integer) {
        Some(ms) if ms >= 1 => Ok(Some(ms.min(u64::from(i32::MAX as u32)) as u32)),
        _ => Err(AgentError::InvalidArgument(TIMEOUT_RULE)),
    }
}

/// Ends `task` with `timedout` after `ms`, if given.
async fn bounded<T>(ms: Option<u32>, task: impl Future<Output = Result<T, AgentError>>) -> Result<T, AgentError> {
    let Some(ms) = ms else { return task.await };
    match select(Box::pin(task), TimeoutFuture::new(ms)).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => Err(AgentError::TimedOut("the visitor did not answer in time")),
    }
}

/// `presenceConnect(visitorid, {signal, timeout})`.
pub fn connect(visitor: JsValue, params: JsValue) -> Promise {
    let call = || {
        let visitor = js::text_of(&visitor)
            .and_then(|text| visitor_id(&text))
            .ok_or(AgentError::InvalidArgument(VISITOR_ID_RULE))?;
        let options = Options::new(params, PARAMS_RULE)?;
        Ok((visitor, call_signal(&options)?, timeout_of(&options)?))
    };
    let (visitor, signal, timeout) = match call() {
        Ok(call) => call,
        Err(error) => return js::rejected(error),
    };
    // No credentials: no request, no socket; the page hears it as it hears a refusal.
    if matches!(signin::held_now(), signin::Held::Ready(None)) {
        end(None, AgentError::Canceled);
        fire_with("presenceFailed", "reason", AgentError::NotAuthenticated.reason());
        return js::rejected(AgentError::NotAuthenticated);
    }
    end(None, AgentError::Canceled); // a second presenceConnect replaces the first
    let (first_seen, seen) = oneshot::channel();
    let (abort, registration) = AbortHandle::new_pair();
    let id = with_agent(|agent| {
        let id = agent.next_id();
        agent.presence.phase = Phase::Connecting;
        agent.presence.visitor_connected = false;
        agent.presence.connection = Some(Connection {
            id,
            visitor: visitor.clone(),
            abort,
            socket: None,
            load_balanced: false,
            presence_host: None,
            token: None,
            group: String::new(),
            first_seen: Some(first_seen),
            start: None,
            lookup: None,
            grace: None,
        });
        id
    });
    spawn_local(async move {
        let _ = Abortable::new(run(id, visitor), registration).await;
    });
    let seen = async { seen.await.unwrap_or(Err(AgentError::Canceled)) };
    let waited = cancelable(signal, bounded(timeout, seen));
    js::promise(async move {
        let outcome = waited.await;
        // A connect whose wait was canceled or timed out leaves nothing running behind it.
        if let Err(error) = &outcome {
            if end(Some(id), error.clone()) {
                fire_with("presenceDisconnected", "reason", error.code());
            }
        }
        outcome
    })
}

/// `presenceDisconnect()`: closes the socket for good.
pub fn disconnect() {
    if end(None, AgentError::Canceled) {
        fire_presence("presenceDisconnected", &JsValue::UNDEFINED);
    }
}

/// `logout` ends presence too, and forgets every token: they are credentials.
pub fn stop_for_logout() {
    let tokens = with_agent(|agent| std::mem::take(&mut agent.presence.tokens));
    drop(tokens);
    if end(None, AgentError::NotAuthenticated) {
        fire_with("presenceDisconnected", "reason", "logout");
    }
}

/// How one socket ended.
enum Ended {
    /// The server refused the token (closed before `connected`, with a policy code).
    Refused,
    /// The server ends presence for good (`serverclose`).
    ServerClose,
    /// Connect again (`scaledown`), or to the server a `redirect` named.
    Again(Option<String>),
    /// It closed; whether it had been connected.
    Closed(bool),
}

/// Why a presence request failed.
enum Refusal {
    /// HTTP 401 or 403: the token (or the login key) was refused.
    Unauthorized(String),
    /// Not found (a visitor not present).
    NotFound,
    /// Anything else: worth trying again later.
    Failed(String),
}

/// The connection task.
async fn run(id: u32, visitor: String) {
    let mut attempt = 0u32;
    let mut reauthorized = false;
    // The server a `redirect` named, for the next socket; and whether the last socket was moved on
    // (a server that keeps moving the agent on is backed off from, as a closing one is).
    let mut redirected: Option<String> = None;
    let mut moved = false;
    loop {
        if !is_current(id) {
            return;
        }
        let credentials = match signin::for_call().await {
            Ok(credentials) => credentials,
            Err(error) => return fail(id, error),
        };
        let token = match token(&credentials, false).await {
            Ok(token) => token,
            Err(Refusal::Unauthorized(reason)) => return fail(id, AgentError::AuthenticationFailed(reason)),
            Err(_) => {
                pause(id, &mut attempt, Pause::Reconnect).await;
                continue;
            }
        };
        // A presenceAuthorized listener may have ended this connection (its task goes on until an
        // await that yields): nothing more is sent for it.
        if !is_current(id) {
            return;
        }
        let settings = match settings(&credentials).await {
            Ok(Some(settings)) => settings,
            Ok(None) => {
                return fail(id, AgentError::ServiceUnavailable("presence is not enabled for this group".into()))
            }
            Err(_) => {
                pause(id, &mut attempt, Pause::Reconnect).await;
                continue;
            }
        };
        if !is_current(id) {
            return;
        }
        let group = credentials.partner_id().to_owned();
        let secure = with_agent(|agent| agent.settings.webserver.is_secure());
        with_agent(|agent| {
            if let Some(connection) = agent.presence.current(id) {
                connection.load_balanced = settings.load_balanced;
                connection.presence_host = Some(settings.host.clone());
                connection.token = Some(token.value.clone());
                connection.group.clone_from(&group);
            }
        });
        let host = if let Some(host) = redirected.take() {
            host
        } else if settings.load_balanced {
            settings.host.clone()
        } else {
            match find_visitor(secure, &settings.host, &group, &visitor, &token.value).await {
                Ok(Some(direct)) => direct,
                // Not on the site yet (or not found): look again soon; no socket to nowhere (D8).
                Ok(None) | Err(Refusal::NotFound) => {
                    pause(id, &mut attempt, Pause::LookForVisitor).await;
                    continue;
                }
                Err(Refusal::Failed(_)) => {
                    pause(id, &mut attempt, Pause::Reconnect).await;
                    continue;
                }
                Err(Refusal::Unauthorized(reason)) => {
                    forget_token(&credentials);
                    if reauthorized {
                        return fail(id, AgentError::AuthenticationFailed(reason));
                    }
                    reauthorized = true;
                    continue;
                }
            }
        };
        match socket_session(id, secure, &host, &token.value, &group, &visitor).await {
            Ended::Refused if reauthorized => {
                forget_token(&credentials);
                return fail(id, AgentError::AuthenticationFailed("the presence server refused the token".into()));
            }
            Ended::Refused => {
                forget_token(&credentials);
                reauthorized = true;
            }
            Ended::ServerClose => {
                if end(Some(id), AgentError::Canceled) {
                    fire_with("presenceDisconnected", "reason", "serverclose");
                }
                return;
            }
            Ended::Again(to) => {
                if std::mem::replace(&mut moved, true) {
                    pause(id, &mut attempt, Pause::Reconnect).await;
                }
                redirected = to;
            }
            Ended::Closed(was_connected) => {
                moved = false;
                if was_connected {
                    attempt = 0;
                    reauthorized = false;
                }
                pause(id, &mut attempt, Pause::Reconnect).await;
            }
        }
    }
}

/// The pause before the next attempt, with the state it gives meanwhile.
async fn pause(id: u32, attempt: &mut u32, why: Pause) {
    set_phase(id, why.phase());
    let ms = why.ms(*attempt, js_sys::Math::random());
    *attempt = attempt.saturating_add(1);
    TimeoutFuture::new(ms).await;
}

/// The connection cannot go on: `presenceFailed`, and presenceConnect's promise rejects. A refused
/// authorization is `reason: "authorization"` (PRESENCE.md sections 1 and 6.1: consoles switch on it),
/// with the service's words in `message`.
fn fail(id: u32, error: AgentError) {
    if !end(Some(id), error.clone()) {
        return;
    }
    match &error {
        AgentError::AuthenticationFailed(message) => {
            let data = Object::new();
            let _ = js_sys::Reflect::set(&data, &"reason".into(), &"authorization".into());
            let _ = js_sys::Reflect::set(&data, &"message".into(), &message.into());
            fire_presence("presenceFailed", &data);
        }
        _ => fire_with("presenceFailed", "reason", error.reason()),
    }
}

fn token_key(credentials: &Credentials) -> String {
    let webserver = with_agent(|agent| agent.settings.webserver.origin().to_owned());
    [&webserver, " ", credentials.partner_id(), " ", credentials.partner_user_id()].concat()
}

fn forget_token(credentials: &Credentials) {
    let key = token_key(credentials);
    with_agent(|agent| agent.presence.tokens.retain(|(held, _)| *held != key));
}

/// The agent's token: the one held, unless it is due, else a new one from `Authorize`.
async fn token(credentials: &Credentials, fresh: bool) -> Result<Token, Refusal> {
    let key = token_key(credentials);
    let now = js::now_seconds();
    let held = with_agent(|agent| agent.presence.tokens.iter().find(|(held, _)| *held == key).map(|(_, t)| t.clone()));
    if let Some(token) = held.filter(|token| !fresh && !token.is_due_at(now)) {
        return Ok(token);
    }
    let (url, timeout) =
        with_agent(|agent| (authorize_url(&agent.settings.webserver, credentials), agent.settings.request_timeout_ms));
    let body = json_text(&js::to_js(&AuthorizeBody::new(credentials)));
    let answer = json_answer(send(&Request::json(&url, &body), timeout).await)?;
    let text = answer.as_string();
    let field = |name| js::get(&answer, name).ok().and_then(|value| value.as_string());
    let expires = field("authTokeExp").map(|text| js_sys::Date::parse(&text));
    let token = Token::from_answer(text, field("authToken"), expires, now)
        .ok_or_else(|| Refusal::Failed("the authorization answer holds no token".into()))?;
    with_agent(|agent| {
        agent.presence.tokens.retain(|(held, _)| *held != key);
        agent.presence.tokens.push((key, token.clone()));
    });
    fire_presence("presenceAuthorized", &JsValue::UNDEFINED);
    Ok(token)
}

/// The group's visitor settings: held for a day, else read.
async fn settings(credentials: &Credentials) -> Result<Option<Settings>, Refusal> {
    let (origin, url, timeout) = with_agent(|agent| {
        let webserver = &agent.settings.webserver;
        (
            webserver.origin().to_owned(),
            settings_url(webserver, credentials.partner_id()),
            agent.settings.request_timeout_ms,
        )
    });
    let key = [&origin, " ", credentials.partner_id()].concat();
    let now = js::now_seconds();
    let held = with_agent(|agent| {
        agent
            .presence
            .settings
            .iter()
            .find(|(held, _, read)| *held == key && now < read.saturating_add(SETTINGS_KEPT_S))
            .map(|(_, s, _)| s.clone())
    });
    if held.is_some() {
        return Ok(held);
    }
    let reply = send(&Request::new("GET", &url), timeout).await;
    let answer = json_answer(unwrap_xml(reply))?;
    let presence_url = js::get(&answer, "presenceUrl").ok().and_then(|value| value.as_string());
    let load_balanced = js::get(&answer, "isPresenceLoadBalanced").is_ok_and(|value| value.is_truthy());
    let settings = Settings::from_answer(presence_url, load_balanced);
    if let Some(settings) = &settings {
        with_agent(|agent| {
            agent.presence.settings.retain(|(held, _, _)| *held != key);
            agent.presence.settings.push((key, settings.clone(), now));
        });
    }
    Ok(settings)
}

/// An answer of JSON text wrapped in an XML element (which the settings service may send) unwrapped.
fn unwrap_xml(reply: Reply) -> Reply {
    match reply {
        Reply::Answered { status, text } if text.trim_start().starts_with('<') => {
            let inner = crate::xml::XmlDocument::parse(&text).map(|document| document.root().text().to_owned());
            Reply::Answered { status, text: inner.unwrap_or(text) }
        }
        other => other,
    }
}

/// A JSON answer, parsed by the browser; a failure as the request's.
fn json_answer(reply: Reply) -> Result<JsValue, Refusal> {
    let (status, text) = match reply {
        Reply::Answered { status, text } => (status, text),
        Reply::Unreachable(message) => return Err(Refusal::Failed(message)),
    };
    let reason = || {
        let reason = shorten_reason(&text);
        if reason.is_empty() {
            ["HTTP ", &status.to_string()].concat()
        } else {
            reason
        }
    };
    // A refusal's words: the `msg` of a `{err, msg}` answer, else the body's text.
    let refusal = || {
        let msg = JSON::parse(&text).ok().and_then(|answer| js::get(&answer, "msg").ok()?.as_string());
        msg.map_or_else(reason, |msg| shorten_reason(&msg))
    };
    match status {
        401 | 403 => return Err(Refusal::Unauthorized(refusal())),
        404 => return Err(Refusal::NotFound),
        200..=299 => {}
        _ => return Err(Refusal::Failed(reason())),
    }
    let answer = JSON::parse(&text).map_err(|_| Refusal::Failed(reason()))?;
    // `{err, msg}` is how the service reports a failure in a 200.
    let has = |name| js::get(&answer, name).is_ok_and(|value| !js::is_absent(&value));
    if answer.is_object() && has("err") && has("msg") {
        return Err(Refusal::Failed(reason()));
    }
    Ok(answer)
}

fn json_text(value: &JsValue) -> String {
    JSON::stringify(value).ok().and_then(|text| text.as_string()).unwrap_or_default()
}

/// A presence REST call with the token.
async fn rest(method: &'static str, url: &str, token: &str, body: Option<&str>) -> Result<JsValue, Refusal> {
    let timeout = with_agent(|agent| agent.settings.request_timeout_ms);
    let authorization = ["Bearer ", token].concat();
    let request = match body {
        Some(body) => Request { authorization: Some(&authorization), ..Request::json(url, body) },
        None => Request { authorization: Some(&authorization), ..Request::new(method, url) },
    };
    json_answer(send(&request, timeout).await)
}

/// `findvisitor`: the visitor's direct server, or `None` when the visitor is not on the site.
async fn find_visitor(
    secure: bool,
    host: &str,
    group: &str,
    visitor: &str,
    token: &str,
) -> Result<Option<String>, Refusal> {
    let answer = rest("GET", &rest_url(secure, host, "findvisitor", group, visitor), token, None).await?;
    if !js::get(&answer, "visitorfound").is_ok_and(|found| found.is_truthy()) {
        return Ok(None);
    }
    let text = |name| js::get(&answer, name).ok().and_then(|value| js::text_of(&value));
    let port = text("httpsport").and_then(|port| port.parse().ok());
    Ok(direct_server(text("directserver"), text("direct"), port))
}

/// What the socket reports.
enum SocketEvent {
    Open,
    Message(JsValue),
    Closed(u16),
}

/// The agent socket and its handlers; dropping it closes it.
struct Socket {
    socket: WebSocket,
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
    _error: Closure<dyn FnMut()>,
}

impl Socket {
    fn open(url: &str, events: mpsc::UnboundedSender<SocketEvent>) -> Option<Socket> {
        let socket = WebSocket::new(url).ok()?;
        let (opened, heard, closed) = (events.clone(), events.clone(), events.clone());
        let open = Closure::<dyn FnMut()>::new(move || drop(opened.unbounded_send(SocketEvent::Open)));
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            drop(heard.unbounded_send(SocketEvent::Message(event.data())));
        });
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            drop(closed.unbounded_send(SocketEvent::Closed(event.code())));
        });
        // An error is followed by a close; the close is what ends the session.
        let error = Closure::<dyn FnMut()>::new(move || {});
        socket.set_onopen(Some(open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(close.as_ref().unchecked_ref()));
        socket.set_onerror(Some(error.as_ref().unchecked_ref()));
        Some(Socket { socket, _open: open, _message: message, _close: close, _error: error })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}

/// Sends a frame; false when the socket is not open.
fn send_frame(socket: &WebSocket, frame: &str) -> bool {
    // A closing socket drops what it is given without an error.
    socket.ready_state() == WebSocket::OPEN && socket.send_with_str(frame).is_ok()
}

/// One socket: opened, `connect` sent, frames read until it closes.
async fn socket_session(id: u32, secure: bool, host: &str, token: &str, group: &str, visitor: &str) -> Ended {
    let (events, mut heard) = mpsc::unbounded();
    let Some(socket) = Socket::open(&socket_url(secure, host), events) else { return Ended::Closed(false) };
    let mut keepalive: Option<Interval> = None;
    let mut connected = false;
    let ended = loop {
        let Some(event) = heard.next().await else { break Ended::Closed(connected) };
        match event {
            SocketEvent::Open => {
                let frame = json_text(&js::to_js(&ConnectFrame::new(token, group, visitor)));
                send_frame(&socket.socket, &frame);
            }
            SocketEvent::Closed(code) => {
                let refused = !connected && (code == 1008 || (4000..5000).contains(&code));
                break if refused { Ended::Refused } else { Ended::Closed(connected) };
            }
            SocketEvent::Message(data) => {
                let Some(frame) = parse_frame(&data) else { continue };
                match frame.kind {
                    Frame::Connected => {
                        connected = true;
                        set_phase(id, Phase::Connected);
                        with_agent(|agent| {
                            if let Some(connection) = agent.presence.current(id) {
                                connection.socket = Some(socket.socket.clone());
                            }
                        });
                        let seconds = js::get(&frame.whole, "keepalive").ok().and_then(|value| value.as_f64());
                        let alive = socket.socket.clone();
                        keepalive = Some(Interval::new(keepalive_ms(seconds), move || {
                            send_frame(&alive, KEEPALIVE_FRAME);
                        }));
                    }
                    Frame::VisitorSocket | Frame::VisitorConnection => {
                        let present = js::get(&frame.data, "connected").is_ok_and(|value| value.is_truthy());
                        if present {
                            visitor_arrived(id, &frame.data);
                        } else if frame.kind == Frame::VisitorSocket {
                            visitor_left(id, frame.data.clone());
                        }
                    }
                    Frame::Terms => {
                        fire_presence("presenceOnTerms", &frame.data);
                        let status = js::get(&frame.data, "status").ok().and_then(|status| status.as_string());
                        if status.is_some_and(|status| declined(&status)) {
                            answer_start(id, Answer::Declined);
                        }
                    }
                    Frame::SessionStart => answer_start(id, Answer::Started),
                    Frame::Redirect => {
                        // Only to a bare host, and not to the one this socket is on.
                        let direct = js::get(&frame.data, "direct").ok().and_then(|direct| direct.as_string());
                        if let Some(direct) = direct.filter(|direct| crate::presence::is_host(direct) && direct != host)
                        {
                            break Ended::Again(Some(direct));
                        }
                    }
                    Frame::ServerClose => break Ended::ServerClose,
                    Frame::ScaleDown => break Ended::Again(None),
                    kind => {
                        if let Some(event) = kind.event() {
                            fire_presence(event, &frame.data);
                        }
                    }
                }
                if !is_current(id) {
                    break Ended::Closed(connected); // a listener ended the connection
                }
            }
        }
    };
    drop(keepalive);
    with_agent(|agent| {
        if let Some(connection) = agent.presence.current(id) {
            connection.socket = None;
        }
    });
    drop(socket);
    ended
}

/// A socket frame: its kind, its `data` and the whole of it.
struct ParsedFrame {
    kind: Frame,
    data: JsValue,
    whole: JsValue,
}

/// Reads a frame: JSON text of an object with a `mtype` or `type`. Anything else (binary, not JSON,
/// `null`, an array, over 1 MB) is dropped.
fn parse_frame(data: &JsValue) -> Option<ParsedFrame> {
    // Measured before it is copied into the module: an oversized frame never reaches its memory.
    let text = data.dyn_ref::<js_sys::JsString>().filter(|text| text.length() as usize <= MAX_FRAME_CHARS)?;
    let text = String::from(text);
    let whole = JSON::parse(&text).ok().filter(|value| value.is_object() && !js_sys::Array::is_array(value))?;
    let name = ["mtype", "type"].into_iter().find_map(|field| js::get(&whole, field).ok()?.as_string())?;
    let data = js::get(&whole, "data").unwrap_or(JsValue::UNDEFINED);
    Some(ParsedFrame { kind: Frame::named(&name), data, whole })
}

/// The visitor's socket is there: `visitorConnected`, then `visitorData` (first time), and
/// `presenceConnect` resolves.
fn visitor_arrived(id: u32, data: &JsValue) {
    let (arrived, grace) = with_agent(|agent| {
        let presence = &mut agent.presence;
        let Some(connection) = presence.current(id) else { return (false, None) };
        let grace = connection.grace.take();
        let arrived = !presence.visitor_connected;
        presence.visitor_connected = true;
        (arrived, grace)
    });
    drop(grace);
    if !arrived {
        return;
    }
    fire_presence("visitorConnected", &fields_with(data, "connected", &JsValue::TRUE));
    // Tied to the connection: ended with it, so nothing is sent or heard for a connection that is over.
    let (abort, registration) = AbortHandle::new_pair();
    let earlier = with_agent(|agent| {
        let connection = agent.presence.current(id)?;
        Some(connection.lookup.replace(abort))
    });
    // None: a listener of visitorConnected ended the connection.
    if let Some(earlier) = earlier {
        if let Some(earlier) = earlier {
            earlier.abort();
        }
        spawn_local(async move {
            let _ = Abortable::new(look_visitor_up(id), registration).await;
        });
    }
}

/// `lookupvisitor`: `visitorData`, and `presenceConnect` resolves with it.
async fn look_visitor_up(id: u32) {
    let details = with_agent(|agent| {
        let connection = agent.presence.current(id)?;
        let secure = agent.settings.webserver.is_secure();
        let group = connection.group.clone();
        Some((secure, connection.presence_host.clone()?, group, connection.visitor.clone(), connection.token.clone()?))
    });
    let Some((secure, host, group, visitor, token)) = details else { return };
    let found = rest("GET", &rest_url(secure, &host, "lookupvisitor", &group, &visitor), &token, None).await;
    if !is_current(id) {
        return;
    }
    let data = match found {
        Ok(data) => {
            fire_presence("visitorData", &data);
            data
        }
        Err(Refusal::Unauthorized(reason) | Refusal::Failed(reason)) => {
            fire_with("presenceLookupFailed", "reason", &reason);
            Object::new().into()
        }
        Err(Refusal::NotFound) => {
            fire_with("presenceLookupFailed", "reason", "visitornotpresent");
            Object::new().into()
        }
    };
    let first_seen = with_agent(|agent| agent.presence.current(id)?.first_seen.take());
    if let Some(first_seen) = first_seen {
        let _ = first_seen.send(Ok(fields_with(&data, "service", &PRESENCE_SERVICE.into()).into()));
    }
}

/// The visitor's socket went away: if it does not come back within 5 s, `visitorConnected` with
/// `connected: false`. (No `visitorData`: there is nothing new to look up.)
fn visitor_left(id: u32, data: JsValue) {
    let watched = with_agent(|agent| agent.presence.visitor_connected && agent.presence.current(id).is_some());
    if !watched {
        return;
    }
    let grace = Timeout::new(VISITOR_GRACE_MS, move || {
        let gone = with_agent(|agent| {
            let presence = &mut agent.presence;
            // This timer is the one running: take it out so that it is dropped after it has fired.
            let finished = presence.current(id)?.grace.take();
            let gone = std::mem::replace(&mut presence.visitor_connected, false);
            Some((gone, finished))
        });
        if let Some((true, _finished)) = gone {
            fire_presence("visitorConnected", &fields_with(&data, "connected", &JsValue::FALSE));
        }
    });
    // The timer replaced, or this one if the state moved on meanwhile: dropped (cleared) outside the borrow.
    let unused = with_agent(|agent| {
        let connected = agent.presence.visitor_connected;
        match agent.presence.current(id).filter(|_| connected) {
            Some(connection) => connection.grace.replace(grace),
            None => Some(grace),
        }
    });
    drop(unused);
}

/// Answers the `presenceStartSession` waiting for the visitor, if any.
fn answer_start(id: u32, answer: Answer) {
    let waiting = with_agent(|agent| agent.presence.current(id)?.start.take());
    if let Some(start) = waiting {
        let _ = start.send(answer);
    }
}

const START_RULE: &str =
    "invokeParams must be {func, args}: a GLANCE. or GLANCE_COBROWSE.Custom. function and an object";

/// `presenceStartSession(key, invokeParams, joinParams)`: asks the visitor's page to show the terms
/// with `key`, waits for their session to start, and joins it. Called from the agent's click, it
/// opens the viewer's window at once, inside the click.
pub fn start_session(key: JsValue, invoke: JsValue, join: JsValue) -> Promise {
    let call = || {
        let key = if js::is_absent(&key) { random_session_key(js_sys::Math::random()) } else { js::session_key(&key)? };
        let invoke = Options::new(invoke, START_RULE)?;
        let func = invoke.text("func", 256, START_RULE)?.unwrap_or_else(|| SHOW_TERMS.to_owned());
        if !is_invokable(&func) {
            return Err(AgentError::InvalidArgument(START_RULE));
        }
        let args = Object::new();
        if let Some(given) = invoke.field("args", START_RULE)? {
            if !given.is_object() {
                return Err(AgentError::InvalidArgument(START_RULE));
            }
            // Copied field by field, through a JSON round trip: a page's getters run once, here.
            let copied = JSON::stringify(&given).ok().and_then(|text| JSON::parse(&text.as_string()?).ok());
            let copied = copied.ok_or(AgentError::InvalidArgument(START_RULE))?;
            Object::assign(&args, copied.unchecked_ref());
        }
        let _ = js_sys::Reflect::set(&args, &"sessionKey".into(), &key.as_str().into());
        let params = Options::new(join.clone(), "joinParams must be an object of the documented options")?;
        let timeout = timeout_of(&params)?.unwrap_or(START_TIMEOUT_MS);
        let options = OpenOptions::from_params(join)?.for_session(&key);
        Ok((key, func, args, timeout, options))
    };
    let (key, func, args, timeout, mut options) = match call() {
        Ok(call) => call,
        Err(error) => return js::rejected(error),
    };
    let not_connected = AgentError::VisitorNotPresent("presence is not connected: call presenceConnect first");
    if with_agent(|agent| agent.presence.connection.is_none()) {
        return js::rejected(not_connected);
    }
    // Outside a click with a popup blocker on, the viewer could never open: the visitor is not asked
    // to share a session the agent cannot see (production asked, then hung: D22).
    if !viewer::open_waiting_window(&key, &mut options) {
        return js::rejected(viewer::popup_blocked());
    }
    let (answered, answer) = oneshot::channel();
    // A start still waiting is replaced: it rejects `canceled` and closes its window.
    let waiting = with_agent(|agent| {
        let connection = agent.presence.connection.as_mut()?;
        Some((connection.id, connection.start.replace(answered)))
    });
    let Some((id, replaced)) = waiting else {
        viewer::close_waiting_window(&options);
        return js::rejected(not_connected);
    };
    drop(replaced);
    let signal: Option<AbortSignal> = options.signal.clone();
    let asked = ask_visitor(id, func, args, answer);
    let answered = cancelable(signal.clone(), bounded(Some(timeout), asked));
    js::promise(async move {
        match answered.await {
            Ok(()) => {}
            Err(error) => {
                viewer::close_waiting_window(&options);
                return Err(error);
            }
        }
        fire_with("presenceSessionStart", "ssnkey", &key);
        lookup::run(key, true, signal, OnFound::OpenViewer(options)).await
    })
}

/// Sends the invoke and waits for the visitor's answer: `Ok` when their session started.
async fn ask_visitor(id: u32, func: String, args: Object, answer: oneshot::Receiver<Answer>) -> Result<(), AgentError> {
    if let Err(error) = invoke(id, &func, &args).await {
        fire_with("presenceInvokeFailed", "reason", error.reason());
        return Err(error);
    }
    match answer.await {
        Ok(Answer::Started) => Ok(()),
        Ok(Answer::Declined) => Err(AgentError::Declined),
        Err(_) => Err(AgentError::Canceled), // the connection ended
    }
}

/// The invoke: over the socket when presence is load-balanced, else `signalvisitor` to the visitor's
/// server after `findvisitor` says they are there.
async fn invoke(id: u32, func: &str, args: &Object) -> Result<(), AgentError> {
    let data = InvokeData { func, args: Preserved(args.clone().into()) };
    let details = with_agent(|agent| {
        let connection = agent.presence.current(id)?;
        let group = connection.group.clone();
        Some((
            connection.load_balanced,
            connection.socket.clone(),
            connection.presence_host.clone(),
            connection.token.clone(),
            connection.visitor.clone(),
            group,
            agent.settings.webserver.is_secure(),
        ))
    });
    let not_connected = AgentError::VisitorNotPresent("presence is not connected to the visitor");
    let (load_balanced, socket, host, token, visitor, group, secure) = details.ok_or(not_connected.clone())?;
    if load_balanced {
        let frame = json_text(&js::to_js(&Invoke { kind: Some("invoke"), mtype: "invoke", data }));
        return match socket {
            Some(socket) if send_frame(&socket, &frame) => Ok(()),
            _ => Err(not_connected),
        };
    }
    let (host, token) = host.zip(token).ok_or(not_connected)?;
    let unavailable = |reason: String| AgentError::ServiceUnavailable(reason);
    let direct = match find_visitor(secure, &host, &group, &visitor, &token).await {
        Ok(Some(direct)) => direct,
        Ok(None) | Err(Refusal::NotFound) => {
            return Err(AgentError::VisitorNotPresent("the visitor is not on the site"))
        }
        Err(Refusal::Unauthorized(reason)) => return Err(AgentError::AuthenticationFailed(reason)),
        Err(Refusal::Failed(reason)) => return Err(unavailable(reason)),
    };
    // The agent may have disconnected (or watched someone else) meanwhile: ask nobody then.
    if !is_current(id) {
        return Err(AgentError::Canceled);
    }
    let body = json_text(&js::to_js(&Invoke { kind: None, mtype: "invoke", data }));
    match rest("POST", &rest_url(secure, &direct, "signalvisitor", &group, &visitor), &token, Some(&body)).await {
        Ok(_) => Ok(()),
        Err(Refusal::NotFound) => Err(AgentError::VisitorNotPresent("the visitor is not on the site")),
        Err(Refusal::Unauthorized(reason)) => Err(AgentError::AuthenticationFailed(reason)),
        Err(Refusal::Failed(reason)) => Err(unavailable(reason)),
    }
}

/// A JavaScript value inside a serialized structure, passed on as it is.
struct Preserved(JsValue);

impl serde::Serialize for Preserved {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_wasm_bindgen::preserve::serialize(&self.0, serializer)
    }
}

/// `leaveSession(key)`: the agent leaves a session it is in (PRESENCE.md section 7).
pub fn leave_session(key: JsValue) -> Promise {
    let key = match js::session_key(&key) {
        Ok(key) => key,
        Err(error) => return js::rejected(error),
    };
    js::promise(async move { leave(&key).await.map(JsValue::from_bool) })
}

/// Finds the agent's entry in session `key` with `AgentInSession`, then sends `EjectAgent` to the
/// session's server; whether it took it.
async fn leave(key: &str) -> Result<bool, AgentError> {
    let credentials = signin::for_call().await?;
    AgentEvent::new().fire("inSessionLookup");
    let refused = |reply: &Reply| matches!(read_sessions(reply), Err(Failure::KeyRefused(_)));
    let (reply, credentials) = lookup::ask(IN_SESSION_PATH, "", credentials, refused).await?;
    let sessions = read_sessions(&reply).map_err(Failure::into_error)?;
    let session = sessions
        .iter()
        .find(|session| session.passcode.trim() == key)
        .ok_or(AgentError::InvalidArgument("the agent is in no session with this key"))?;
    let (secure, timeout) =
        with_agent(|agent| (agent.settings.webserver.is_secure(), agent.settings.request_timeout_ms));
    let url = leave_url(secure, &session.servername)
        .ok_or_else(|| AgentError::ServiceError("the session server's name is not a host".into()))?;
    let message = EjectAgent::new(credentials.partner_id(), &session.passcode, &session.disambiguateId, &session.num);
    let body = json_text(&js::to_js(&message));
    let request = Request { credentials: RequestCredentials::Include, private: true, ..Request::json(&url, &body) };
    match exchange(&request, timeout, Read::Status).await {
        Ok(answer) => Ok((200..300).contains(&answer.status)),
        Err(none) => Err(AgentError::ServiceUnavailable(match none.into_reply() {
            Reply::Unreachable(reason) => reason,
            Reply::Answered { text, .. } => text,
        })),
    }
}

/// `end()`: the agent leaves every session whose viewer this library opened, and each viewer closes
/// (`viewerClosed`); resolves when all are done.
pub fn end_sessions() -> Promise {
    let keys: Vec<String> = with_agent(|agent| {
        let mut keys: Vec<String> = agent.viewers.iter().map(|v| v.key.clone()).filter(|k| !k.is_empty()).collect();
        keys.dedup();
        keys
    });
    js::promise(async move {
        for key in &keys {
            let _ = leave(key).await; // a session already over has nothing to leave
        }
        viewer::close_all();
        Ok(JsValue::UNDEFINED)
    })
}
