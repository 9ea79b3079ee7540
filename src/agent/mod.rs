//! The agent as a sans-IO state machine: every rule and all state of `GLANCE.Agent`, with no browser
//! in sight. Its methods come in three kinds, as in quinn-proto's `Connection`:
//!
//! - **calls** of the page (`lookup`, `join`, `presence_connect`, …), each with the id of the promise
//!   the page holds;
//! - **inputs** from the driver: an answer arrived (`fetched`), a timer fired, a socket frame came, a
//!   window opened or read as closed, a message came from a viewer;
//! - [`Agent::poll`]: what the driver must now do ([`Output`]): send this request, set this timer,
//!   deliver this event, settle this promise, open this window.
//!
//! Time is an input ([`Agent::tick`]) and randomness a seeded generator, so a native test can jump
//! 45 s in a line and replay a backoff exactly. Work is never performed here; nothing here can call
//! the page, so nothing here can be re-entered.
//!
//! Every long-running task is a value in one of the agent's lists, with a `step` saying what it
//! waits for: a lookup (`lookup`), a viewer being opened and the viewers open (`viewer`), the
//! sign-in (`signin`), the session calls (`sessions`), `diagnose` (`diagnose`), presence (`presence`).
//! A task ends exactly once: it fires its one terminal event, settles its one promise, and releases
//! what it held.

mod diagnose;
pub mod io;
mod lookup;
mod presence;
mod sessions;
mod signin;
mod viewer;

use std::borrow::Cow;

pub use io::*;
pub use viewer::{SessionView, ViewerOptions, STORAGE_KEY};

use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::events::Listeners;
use crate::presence::Phase;
use crate::protocol::{FormRequest, Reply, FORM_CONTENT_TYPE};
use crate::settings::Settings;
use crate::url::UrlParts;

use self::diagnose::Diagnose;
use self::lookup::Lookup;
use self::presence::Presence;
use self::sessions::SessionTask;
use self::signin::SignIn;
use self::viewer::{Opening, Viewers};

pub(crate) use crate::list::{remove_at, remove_where, take_where};

/// Who hears an event: a page's listener, or a pending `once(name)` call.
#[derive(Debug, Clone, PartialEq)]
pub enum Handler<V> {
    /// The page's function.
    Page(V),
    /// `once`: the call to resolve with the event's data.
    Once(Id),
}

/// The agent.
#[derive(Debug)]
pub struct Agent<V> {
    /// The page's settings (`webserver`, `postParametersToViewer`, `requestTimeout`).
    pub settings: Settings,
    /// The page's listeners and the `once` calls waiting for an event.
    pub listeners: Listeners<Handler<V>>,
    now_ms: u64,
    random: u64,
    next_id: Id,
    /// What the driver must do, oldest first (a handful at a time: a `Vec` is smaller code than a deque).
    out: Vec<Output<V>>,
    /// Requests in flight: an answer for an id not here is late and dropped.
    requests: Vec<Id>,
    /// Whether the window's `message` listener is on.
    listening: bool,
    signin: SignIn<V>,
    lookups: Vec<Lookup<V>>,
    opens: Vec<Opening<V>>,
    viewers: Viewers<V>,
    sessions: Vec<SessionTask>,
    diagnoses: Vec<Diagnose>,
    presence: Presence<V>,
}

/// What a viewer's window posted to the page (PROTOCOL.md section 4), as the driver read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<V> {
    /// `event.source`.
    pub source: V,
    /// `event.origin`.
    pub origin: String,
    /// `data.glanceEvent`.
    pub name: String,
    /// `data.data`, when given.
    pub data: Option<V>,
    /// `data.data.loginKey`, when a string (a SAML sign-in page's answer).
    pub login_key: Option<String>,
    /// `data.data.reason`, when a string.
    pub reason: Option<String>,
}

impl<V: Clone + PartialEq> Agent<V> {
    /// A new agent; `seed` feeds the jitter of reconnect pauses and random session keys.
    pub fn new(seed: u64) -> Agent<V> {
        Agent {
            settings: Settings::default(),
            listeners: Listeners::new(),
            now_ms: 0,
            // xorshift must not start at zero.
            random: seed | 1,
            next_id: 0,
            out: Vec::new(),
            requests: Vec::new(),
            listening: false,
            signin: SignIn::default(),
            lookups: Vec::new(),
            opens: Vec::new(),
            viewers: Viewers::default(),
            sessions: Vec::new(),
            diagnoses: Vec::new(),
            presence: Presence::default(),
        }
    }

    /// The time now, in milliseconds since the Unix epoch; the driver tells it before every input.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Takes one input at time `now_ms`: the one entry of the driver.
    pub fn handle(&mut self, now_ms: u64, input: Input<V>) {
        self.tick(now_ms);
        match input {
            Input::Call(id, call) => self.call(id, call),
            Input::Abort(call) => self.abort(call),
            Input::Credentials(credentials) => self.authenticate_key(credentials),
            Input::Logout => self.logout(),
            Input::CancelLookup(id) => self.cancel_lookup(id),
            Input::Close(viewer) => self.close(&viewer),
            Input::CloseViewer(id) => self.close_viewer(id),
            Input::PresenceDisconnect => self.presence_disconnect(),
            Input::Heard(call) => self.heard(call),
            Input::Fetched(id, reply) => self.fetched(id, reply),
            Input::TimerFired(id) => self.timer_fired(id),
            Input::ProviderAnswered(id, answer) => self.provider_answered(id, answer),
            Input::ProviderFailed(id, message) => self.provider_failed(id, &message),
            Input::UrlParsed(id, parts) => self.url_parsed(id, parts),
            Input::WindowOpened(id, window) => self.window_opened(id, window),
            Input::ViewerLoaded(id, window) => self.viewer_loaded(id, window),
            Input::ReadsClosed(id) => self.viewer_reads_closed(id),
            Input::FrameOpened(id, window) => self.frame_opened(id, window),
            Input::FrameLoaded(id) => self.frame_loaded(id),
            Input::Violation { id, blocked, directive } => self.csp_violation(id, &blocked, directive),
            Input::Located { id, href, isolated } => self.page_location(id, href, isolated),
            Input::Message(message) => self.message(message),
            Input::SocketOpened(id) => self.socket_opened(id),
            Input::SocketFrame(id, text) => self.socket_frame(id, &text),
            Input::SocketClosed(id, code) => self.socket_closed(id, code),
            Input::Restore(stored, arrival) => self.restore(stored.as_deref(), &arrival),
            Input::WindowFound(id, found) => self.window_found(id, found),
        }
    }

    /// A page call whose promise is `id`.
    pub fn call(&mut self, id: Id, call: Call<V>) {
        match call {
            Call::Provider(provider) => self.authenticate_provider(id, provider),
            Call::SignOn(hint) => self.authenticate_sso(id, &hint),
            Call::Lookup { key, wait } => self.lookup(id, key, wait),
            Call::Join { key, options } => self.join(id, key, options),
            Call::OpenViewer { key, options } => self.open_viewer(id, key, options),
            Call::OpenJoinUrl { url, options } => self.open_join_url(id, url, options),
            Call::InSession { key } => self.in_session(id, key),
            Call::Diagnose { popup, page_origin } => self.diagnose(id, popup, page_origin),
            Call::Once { name } => self.once(id, &name),
            Call::PresenceConnect { visitor, timeout } => self.presence_connect(id, visitor, timeout),
            Call::PresenceStart { key, func, args, timeout, options } => {
                self.presence_start(id, key, func, args, timeout, options)
            }
            Call::LeaveSession { key } => self.leave_session(id, key),
            Call::End => self.end(id),
        }
    }

    /// The next thing the driver must do.
    pub fn poll(&mut self) -> Option<Output<V>> {
        remove_at(&mut self.out, 0)
    }

    /// A fresh id.
    pub fn next_id(&mut self) -> Id {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// `presenceState`.
    pub fn presence_state(&self) -> Phase {
        self.presence.phase
    }

    /// `visitorConnected`.
    pub fn visitor_connected(&self) -> bool {
        self.presence.visitor_connected
    }

    fn now_s(&self) -> u64 {
        self.now_ms / 1000
    }

    /// A number in [0, 1) (xorshift64*).
    fn random(&mut self) -> f64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn emit(&mut self, output: Output<V>) {
        self.out.push(output);
    }

    fn fire(&mut self, name: impl Into<Cow<'static, str>>, data: Data<V>) {
        self.emit(Output::Fire(Event { name: name.into(), data }));
    }

    /// An event of the library's own, `service: "agent"`.
    fn fire_agent(&mut self, name: &'static str, data: AgentData) {
        self.fire(name, Data::Agent(data));
    }

    fn settle(&mut self, call: Id, result: Result<Value<V>, AgentError>) {
        self.emit(Output::Settle { call, result });
    }

    /// Ends what `id` holds: withdrawn if its output is still queued, released in the driver else.
    fn release(&mut self, id: Id) {
        self.out.retain(|output| output.starts() != Some(id));
        self.requests.retain(|&request| request != id);
        self.emit(Output::Release(id));
    }

    fn release_all(&mut self, ids: &[Option<Id>]) {
        for id in ids.iter().copied().flatten() {
            self.release(id);
        }
    }

    /// A timer of `ms`; its id.
    fn timer(&mut self, ms: u32) -> Id {
        let id = self.next_id();
        self.emit(Output::Timer { id, ms });
        id
    }

    /// Sends `request` within `requestTimeout`; its id.
    fn fetch(&mut self, request: Request) -> Id {
        let id = self.next_id();
        let ms = self.settings.request_timeout_ms;
        self.requests.push(id);
        self.emit(Output::Fetch { id, request });
        self.emit(Output::Timer { id, ms });
        id
    }

    /// Sends the form request `path` about `key` with `credentials` (PROTOCOL.md sections 2 and 5).
    fn fetch_form(&mut self, path: &str, key: &str, credentials: &Credentials) -> Id {
        let form = FormRequest::new(path, &self.settings.webserver, credentials, key);
        self.fetch(Request::post(form.url, form.body, FORM_CONTENT_TYPE))
    }

    /// The window's `message` listener is needed while a viewer is open or a SAML sign-in waits.
    fn update_listening(&mut self) {
        let needed = !self.viewers.is_empty() || self.signin.waits_for_messages();
        if needed != self.listening {
            self.listening = needed;
            self.emit(Output::Listen(needed));
        }
    }

    // ---- inputs from the driver ----

    /// An answer (or the failure of) request `id`.
    pub fn fetched(&mut self, id: Id, reply: Reply) {
        if !self.requests.contains(&id) {
            return; // late: its task has ended
        }
        self.release(id);
        if self.lookup_reply(id, &reply)
            || self.session_reply(id, &reply)
            || self.diagnose_reply(id, &reply)
            || self.presence_reply(id, reply.clone())
        {
            return;
        }
        self.opener_policy_reply(id, &reply);
    }

    /// Timer `id` fired.
    pub fn timer_fired(&mut self, id: Id) {
        if self.requests.contains(&id) {
            return self.fetched(id, Reply::TimedOut);
        }
        let _ = self.lookup_timer(id)
            || self.signin_timer(id)
            || self.viewer_timer(id)
            || self.diagnose_timer(id)
            || self.presence_timer(id);
    }

    /// `url_parsed`: what the browser made of URL `id` (`None`: not a URL).
    pub fn url_parsed(&mut self, id: Id, parts: Option<UrlParts>) {
        self.open_url_parsed(id, parts);
    }

    /// The credentials task `id` waited for are here (or cannot be had).
    fn resume(&mut self, id: Id, key: Result<Credentials, AgentError>) {
        let _ = self.lookup_key(id, &key)
            || self.open_key(id, &key)
            || self.session_key(id, &key)
            || self.diagnose_key(id, &key)
            || self.presence_key(id, &key)
            || self.authenticate_key_ready(id, key);
    }

    /// The signal of call `call` aborted: it ends with `canceled`.
    pub fn abort(&mut self, call: Id) {
        let _ = self.lookup_abort(call)
            || self.open_abort(call)
            || self.session_abort(call)
            || self.presence_abort(call)
            || self.once_abort(call);
    }

    // ---- listeners ----

    /// `once(name)`: call `call` resolves with the next `name` event's data.
    pub fn once(&mut self, call: Id, name: &str) {
        self.listeners.add(Some(name), Handler::Once(call));
    }

    /// The driver resolved `once` call `call` with an event's data: it listens no more.
    pub fn heard(&mut self, call: Id) {
        self.listeners.remove_where(|handler| *handler == Handler::Once(call));
    }

    fn once_abort(&mut self, call: Id) -> bool {
        if !self.listeners.remove_where(|handler| *handler == Handler::Once(call)) {
            return false;
        }
        self.settle(call, Err(AgentError::Canceled));
        true
    }

    /// `logout()`: forgets the credentials, ends a sign-in under way and presence.
    pub fn logout(&mut self) {
        self.signin_logout();
        self.presence_logout();
    }
}

#[cfg(test)]
mod tests;
