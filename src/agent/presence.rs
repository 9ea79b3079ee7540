//! Presence (PRESENCE.md, section 9 decides): watching one visitor, and starting a session with them
//! in one click.
//!
//! `presenceConnect` starts one connection. It authorizes (a token held in memory, by agent), reads
//! the group's visitor settings, finds the visitor's server (unless load-balanced), opens the
//! `/agent` socket and reads its frames until it closes, then comes back after a pause (1 s, 2 s,
//! 4 s … 60 s, with jitter). Whatever the connection holds (its request, socket, keepalive and
//! timers) is released when it ends: another `presenceConnect`, `presenceDisconnect`, `logout`, a
//! refused authorization, `serverclose`.

use std::borrow::Cow;

use super::viewer::{Join, Waiting};
use super::{Agent, Data, Id, Output, PresenceData, Request, Value, ViewerOptions};
use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::events::POPUP_BLOCKED;
use crate::json::Json;
use crate::presence::{
    authorize_body, authorize_url, connect_frame, declined, direct_server, invoke, is_host, json_answer, keepalive_ms,
    random_session_key, read_frame, rest_url, settings_url, socket_url, Frame, Pause, Phase, ReadFrame, Refusal,
    Settings, Token, JSON_CONTENT_TYPE, KEEPALIVE_FRAME, SETTINGS_KEPT_S, START_TIMEOUT_MS, VISITOR_GRACE_MS,
};
use crate::protocol::Reply;

/// The reason of `presenceFailed` when the service refused the agent (production's word).
pub const AUTHORIZATION: &str = "authorization";

/// What a connection waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Key,
    Authorizing(Id),
    Settings(Id),
    Finding(Id),
    /// The socket (see `Connection::socket`).
    Socket,
    Paused(Id),
}

/// The agent socket.
#[derive(Debug)]
struct Socket {
    id: Id,
    host: String,
    open: bool,
    /// The server took the `connect`.
    connected: bool,
    /// The keepalive timer, and its period.
    keepalive: Option<Id>,
    period: u32,
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

/// The connection to one visitor.
#[derive(Debug)]
struct Connection {
    id: Id,
    visitor: String,
    /// `presenceConnect`'s promise, until the visitor is first seen, and its `timeout`.
    call: Option<Id>,
    deadline: Option<Id>,
    credentials: Option<Credentials>,
    token: Option<String>,
    settings: Option<Settings>,
    /// Reconnect attempts since a connected socket last closed: the backoff's step.
    attempt: u32,
    /// Looks for an absent visitor since they were last found: a count of its own, so that waiting
    /// for a visitor does not stretch a later reconnect's backoff.
    looks: u32,
    /// A fresh token was fetched after a refusal: a second refusal fails the connection.
    reauthorized: bool,
    /// The server a `redirect` named, for the next socket.
    redirected: Option<String>,
    /// The last socket was moved on (a server that keeps moving the agent is backed off from).
    moved: bool,
    step: Step,
    socket: Option<Socket>,
    /// The `lookupvisitor` request under way.
    lookup: Option<Id>,
    /// The pause before a visitor whose socket went away counts as gone, and their data.
    grace: Option<(Id, Option<String>)>,
}

/// What a `presenceStartSession` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartStep {
    /// Its waiting window, opened inside the click.
    Window,
    /// `findvisitor`, before `signalvisitor` (not load-balanced).
    Finding(Id),
    Signalling(Id),
    /// The visitor's answer: terms declined, or their session started.
    Answer,
}

/// A `presenceStartSession` in progress.
#[derive(Debug)]
struct Start<V> {
    call: Id,
    connection: Id,
    key: String,
    func: String,
    /// `args`, a JSON object's text.
    args: String,
    timeout: u32,
    deadline: Option<Id>,
    join: Join<V>,
    step: StartStep,
}

/// Presence in the agent.
#[derive(Debug)]
pub(super) struct Presence<V> {
    pub(super) phase: Phase,
    pub(super) visitor_connected: bool,
    connection: Option<Connection>,
    starts: Vec<Start<V>>,
    /// Tokens held in memory (never in storage), by webserver and agent.
    tokens: Vec<(String, Token)>,
    /// Visitor settings by webserver and group, with when they were read.
    settings: Vec<(String, Settings, u64)>,
}

impl<V> Default for Presence<V> {
    fn default() -> Self {
        Presence {
            phase: Phase::Idle,
            visitor_connected: false,
            connection: None,
            starts: Vec::new(),
            tokens: Vec::new(),
            settings: Vec::new(),
        }
    }
}

/// A presence event's data: the server's object and one more field.
fn presence_data(json: Option<String>) -> PresenceData {
    PresenceData { json, ..PresenceData::default() }
}

fn reason(reason: impl Into<Cow<'static, str>>) -> PresenceData {
    PresenceData { reason: Some(reason.into()), ..PresenceData::default() }
}

impl<V: Clone + PartialEq> Agent<V> {
    fn fire_presence(&mut self, name: &'static str, data: PresenceData) {
        self.fire(name, Data::Presence(data));
    }

    /// `presenceConnect(visitorid, {timeout})`: watches a visitor; resolves with their data when they
    /// are first seen on the site. `visitor` is a checked visitor id.
    pub fn presence_connect(&mut self, call: Id, visitor: String, timeout: Option<u32>) {
        // No credentials: no request, no socket; the page hears it as it hears a refusal.
        if matches!(self.held_now(), super::signin::Held::Ready(None)) {
            self.end_presence(None, AgentError::Canceled);
            self.fire_presence("presenceFailed", reason(AgentError::NotAuthenticated.reason_text()));
            return self.settle(call, Err(AgentError::NotAuthenticated));
        }
        self.end_presence(None, AgentError::Canceled); // a second presenceConnect replaces the first
        let id = self.next_id();
        let deadline = timeout.map(|ms| self.timer(ms));
        self.presence.phase = Phase::Connecting;
        self.presence.visitor_connected = false;
        self.presence.connection = Some(Connection {
            id,
            visitor,
            call: Some(call),
            deadline,
            credentials: None,
            token: None,
            settings: None,
            attempt: 0,
            looks: 0,
            reauthorized: false,
            redirected: None,
            moved: false,
            step: Step::Key,
            socket: None,
            lookup: None,
            grace: None,
        });
        self.connect_attempt();
    }

    /// `presenceDisconnect()`: closes the socket for good.
    pub fn presence_disconnect(&mut self) {
        if self.end_presence(None, AgentError::Canceled) {
            self.fire_presence("presenceDisconnected", PresenceData::default());
        }
    }

    /// `logout` ends presence too, and forgets every token: they are credentials.
    pub(super) fn presence_logout(&mut self) {
        self.presence.tokens.clear();
        if self.end_presence(None, AgentError::NotAuthenticated) {
            self.fire_presence("presenceDisconnected", reason("logout"));
        }
    }

    fn connection(&mut self) -> Option<&mut Connection> {
        self.presence.connection.as_mut()
    }

    /// Ends the connection (if it is `id`'s, or any for `None`): what it holds is released, its
    /// waiting calls reject with `error` (a start with `canceled`), and presence is idle again.
    fn end_presence(&mut self, id: Option<Id>, error: AgentError) -> bool {
        let ends = self.presence.connection.as_ref().is_some_and(|c| id.is_none_or(|id| c.id == id));
        let Some(connection) = self.presence.connection.take().filter(|_| ends) else { return false };
        self.presence.phase = Phase::Idle;
        self.presence.visitor_connected = false;
        let step = match connection.step {
            Step::Authorizing(id) | Step::Settings(id) | Step::Finding(id) | Step::Paused(id) => Some(id),
            Step::Key | Step::Socket => None,
        };
        let socket = connection.socket.as_ref().map(|socket| socket.id);
        let keepalive = connection.socket.as_ref().and_then(|socket| socket.keepalive);
        let grace = connection.grace.as_ref().map(|(timer, _)| *timer);
        self.release_all(&[step, socket, keepalive, connection.lookup, grace, connection.deadline]);
        while let Some(start) = super::take_where(&mut self.presence.starts, &|start| start.connection == connection.id)
        {
            self.fail_start(start, AgentError::Canceled);
        }
        if let Some(call) = connection.call {
            self.settle(call, Err(error));
        }
        true
    }

    /// The connection cannot go on: `presenceFailed`, and `presenceConnect`'s promise rejects.
    fn fail_presence(&mut self, error: AgentError) {
        let id = self.presence.connection.as_ref().map(|c| c.id);
        let data = match &error {
            AgentError::AuthenticationFailed(message) => {
                PresenceData { message: Some(message.clone()), ..reason(AUTHORIZATION) }
            }
            other => reason(other.reason_text()),
        };
        if self.end_presence(id, error) {
            self.fire_presence("presenceFailed", data);
        }
    }

    /// `presenceConnect`'s call `call` was canceled by its signal (or a start's by its own).
    pub(super) fn presence_abort(&mut self, call: Id) -> bool {
        if let Some(start) = super::take_where(&mut self.presence.starts, &|start| start.call == call) {
            self.fail_start(start, AgentError::Canceled);
            return true;
        }
        if self.presence.connection.as_ref().is_none_or(|c| c.call != Some(call)) {
            return false;
        }
        self.connect_wait_failed(AgentError::Canceled);
        true
    }

    /// A connect whose wait was canceled or timed out leaves nothing running behind it.
    fn connect_wait_failed(&mut self, error: AgentError) {
        let code = error.code();
        if self.end_presence(None, error) {
            self.fire_presence("presenceDisconnected", reason(code));
        }
    }

    // ---- the connection's loop ----

    /// From the top: credentials, token, settings, the visitor's server, the socket.
    fn connect_attempt(&mut self) {
        let Some(connection) = self.connection() else { return };
        connection.step = Step::Key;
        let id = connection.id;
        if let Some(key) = self.need_key(id) {
            self.presence_key(id, &key);
        }
    }

    pub(super) fn presence_key(&mut self, id: Id, key: &Result<Credentials, AgentError>) -> bool {
        let Some(connection) = self.connection().filter(|c| c.id == id && c.step == Step::Key) else { return false };
        match key {
            Ok(credentials) => {
                connection.credentials = Some(credentials.clone());
                self.authorize();
            }
            Err(error) => self.fail_presence(error.clone()),
        }
        true
    }

    fn token_key(&self, credentials: &Credentials) -> String {
        let webserver = self.settings.webserver.origin();
        crate::text::concat(&[webserver, " ", credentials.partner_id(), " ", credentials.partner_user_id()])
    }

    fn forget_token(&mut self) {
        let Some(credentials) = self.presence.connection.as_ref().and_then(|c| c.credentials.clone()) else { return };
        let key = self.token_key(&credentials);
        self.presence.tokens.retain(|(held, _)| *held != key);
    }

    /// The agent's token: the one held, unless it is due, else a new one from `Authorize`.
    fn authorize(&mut self) {
        let Some(credentials) = self.presence.connection.as_ref().and_then(|c| c.credentials.clone()) else { return };
        let key = self.token_key(&credentials);
        let now = self.now_s();
        let held = self.presence.tokens.iter().find(|(held, token)| *held == key && !token.is_due_at(now));
        if let Some((_, token)) = held {
            let token = token.value.clone();
            if let Some(connection) = self.connection() {
                connection.token = Some(token);
            }
            return self.read_settings();
        }
        let url = authorize_url(&self.settings.webserver, &credentials);
        let request = self.fetch(Request::post(url, authorize_body(&credentials), JSON_CONTENT_TYPE));
        if let Some(connection) = self.connection() {
            connection.step = Step::Authorizing(request);
        }
    }

    fn authorized(&mut self, reply: &Reply) {
        let text = match json_answer(reply) {
            Ok(text) => text,
            Err(Refusal::Unauthorized(message)) => {
                return self.fail_presence(AgentError::AuthenticationFailed(message))
            }
            Err(_) => return self.pause(Pause::Reconnect),
        };
        let now = self.now_s();
        let Some(token) = Json::parse(&text).and_then(|answer| Token::from_answer(&answer, now)) else {
            return self.pause(Pause::Reconnect); // an answer without a token
        };
        let Some(credentials) = self.presence.connection.as_ref().and_then(|c| c.credentials.clone()) else { return };
        let key = self.token_key(&credentials);
        self.presence.tokens.retain(|(held, _)| *held != key);
        self.presence.tokens.push((key, token.clone()));
        if let Some(connection) = self.connection() {
            connection.token = Some(token.value);
        }
        self.fire_presence("presenceAuthorized", PresenceData::default());
        // Queued after the event: a listener that ends the connection withdraws it.
        self.read_settings();
    }

    /// The group's visitor settings: held for a day, else read.
    fn read_settings(&mut self) {
        let Some(credentials) = self.presence.connection.as_ref().and_then(|c| c.credentials.clone()) else { return };
        let key = crate::text::concat(&[self.settings.webserver.origin(), " ", credentials.partner_id()]);
        let now = self.now_s();
        let held = self
            .presence
            .settings
            .iter()
            .find(|(held, _, read)| *held == key && now < read.saturating_add(SETTINGS_KEPT_S));
        if let Some((_, settings, _)) = held {
            let settings = settings.clone();
            return self.locate(settings);
        }
        let url = settings_url(&self.settings.webserver, credentials.partner_id());
        let request = self.fetch(Request::new("GET", url));
        if let Some(connection) = self.connection() {
            connection.step = Step::Settings(request);
        }
    }

    fn settings_read(&mut self, reply: &Reply) {
        let Ok(text) = json_answer(reply) else { return self.pause(Pause::Reconnect) };
        let answer = Json::parse(&text);
        let object = answer.as_ref().and_then(Json::as_object);
        let url = object.and_then(|object| object.text("presenceUrl")).map(str::to_owned);
        let load_balanced = object.is_some_and(|object| object.truthy("isPresenceLoadBalanced"));
        let Some(settings) = Settings::from_answer(url, load_balanced) else {
            let off = AgentError::ServiceUnavailable("presence is not enabled for this group".into());
            return self.fail_presence(off);
        };
        let Some(credentials) = self.presence.connection.as_ref().and_then(|c| c.credentials.clone()) else { return };
        let key = crate::text::concat(&[self.settings.webserver.origin(), " ", credentials.partner_id()]);
        let now = self.now_s();
        self.presence.settings.retain(|(held, _, _)| *held != key);
        self.presence.settings.push((key, settings.clone(), now));
        self.locate(settings);
    }

    /// The visitor's server: the one a `redirect` named, the presence host itself (load-balanced), or
    /// what `findvisitor` says.
    fn locate(&mut self, settings: Settings) {
        let secure = self.settings.webserver.is_secure();
        let Some(connection) = self.connection() else { return };
        connection.settings = Some(settings.clone());
        if let Some(host) = connection.redirected.take() {
            return self.open_socket(host);
        }
        if settings.load_balanced {
            return self.open_socket(settings.host);
        }
        let Some(request) = self.find_visitor(secure, &settings.host) else { return };
        if let Some(connection) = self.connection() {
            connection.step = Step::Finding(request);
        }
    }

    /// `findvisitor` on `host`, with the connection's token.
    fn find_visitor(&mut self, secure: bool, host: &str) -> Option<Id> {
        let connection = self.presence.connection.as_ref()?;
        let group = connection.credentials.as_ref()?.partner_id().to_owned();
        let url = rest_url(secure, host, "findvisitor", &group, &connection.visitor);
        let authorization = crate::text::concat(&["Bearer ", connection.token.as_deref()?]);
        Some(self.fetch(Request { authorization: Some(authorization), ..Request::new("GET", url) }))
    }

    fn visitor_found(&mut self, reply: &Reply) {
        match read_direct_server(reply) {
            Ok(Some(direct)) => {
                if let Some(connection) = self.connection() {
                    connection.looks = 0;
                }
                self.open_socket(direct);
            }
            // Not on the site yet (or not found): look again soon; no socket to nowhere (D8).
            Ok(None) | Err(Refusal::NotFound) => self.pause(Pause::LookForVisitor),
            Err(Refusal::Failed(_)) => self.pause(Pause::Reconnect),
            Err(Refusal::Unauthorized(message)) => self.refused_token(AgentError::AuthenticationFailed(message)),
        }
    }

    /// The token was refused: it is forgotten, and a fresh one is asked for once before giving up.
    fn refused_token(&mut self, error: AgentError) {
        self.forget_token();
        let Some(connection) = self.connection() else { return };
        if std::mem::replace(&mut connection.reauthorized, true) {
            return self.fail_presence(error);
        }
        self.connect_attempt();
    }

    /// The pause before the next attempt, with the state it gives meanwhile.
    fn pause(&mut self, why: Pause) {
        let jitter = self.random();
        let Some(connection) = self.connection() else { return };
        let count = match why {
            Pause::Reconnect => &mut connection.attempt,
            Pause::LookForVisitor => &mut connection.looks,
        };
        let ms = why.ms(*count, jitter);
        *count = count.saturating_add(1);
        self.presence.phase = why.phase();
        let timer = self.timer(ms);
        if let Some(connection) = self.connection() {
            connection.step = Step::Paused(timer);
        }
    }

    // ---- the socket ----

    fn open_socket(&mut self, host: String) {
        let secure = self.settings.webserver.is_secure();
        let id = self.next_id();
        let url = socket_url(secure, &host);
        let Some(connection) = self.connection() else { return };
        connection.step = Step::Socket;
        connection.socket = Some(Socket { id, host, open: false, connected: false, keepalive: None, period: 0 });
        self.emit(Output::OpenSocket { id, url });
    }

    fn socket(&mut self, id: Id) -> Option<&mut Socket> {
        self.connection()?.socket.as_mut().filter(|socket| socket.id == id)
    }

    /// Socket `id` opened: the `connect` frame goes.
    pub fn socket_opened(&mut self, id: Id) {
        let Some(socket) = self.socket(id) else { return };
        socket.open = true;
        let Some(connection) = self.presence.connection.as_ref() else { return };
        let (Some(token), Some(credentials)) = (&connection.token, &connection.credentials) else { return };
        let text = connect_frame(token, credentials.partner_id(), &connection.visitor);
        self.emit(Output::Send { id, text });
    }

    /// Socket `id` closed with `code`.
    pub fn socket_closed(&mut self, id: Id, code: u16) {
        let Some(socket) = self.socket(id) else { return };
        let connected = socket.connected;
        let refused = !connected && (code == 1008 || (4000..5000).contains(&code));
        self.socket_ended(if refused { Ended::Refused } else { Ended::Closed(connected) });
    }

    /// A text frame came on socket `id`.
    pub fn socket_frame(&mut self, id: Id, text: &str) {
        let Some(socket) = self.socket(id) else { return };
        let host = socket.host.clone();
        let Some(frame) = read_frame(text) else { return };
        let ReadFrame { kind, data, connected, status, direct, keepalive } = frame;
        match kind {
            Frame::Connected => {
                let period = keepalive_ms(keepalive);
                let timer = self.timer(period);
                let earlier = self.socket(id).and_then(|socket| {
                    socket.connected = true;
                    socket.period = period;
                    socket.keepalive.replace(timer)
                });
                self.release_all(&[earlier]);
                self.presence.phase = Phase::Connected;
            }
            Frame::VisitorSocket | Frame::VisitorConnection if connected => self.visitor_arrived(data),
            Frame::VisitorSocket => self.visitor_left(data),
            Frame::VisitorConnection => {}
            Frame::Terms => {
                self.fire_presence("presenceOnTerms", presence_data(data));
                if status.is_some_and(|status| declined(&status)) {
                    self.visitor_answered(false);
                }
            }
            Frame::SessionStart => self.visitor_answered(true),
            Frame::Redirect => {
                // Only to a bare host, and not to the one this socket is on.
                if let Some(direct) = direct.filter(|direct| is_host(direct) && *direct != host) {
                    self.socket_ended(Ended::Again(Some(direct)));
                }
            }
            Frame::ServerClose => self.socket_ended(Ended::ServerClose),
            Frame::ScaleDown => self.socket_ended(Ended::Again(None)),
            other => {
                if let Some(event) = other.event() {
                    self.fire_presence(event, presence_data(data));
                }
            }
        }
    }

    /// The socket is over: what next depends on how it ended.
    fn socket_ended(&mut self, ended: Ended) {
        let Some(connection) = self.connection() else { return };
        let socket = connection.socket.take();
        if let Some(socket) = socket {
            self.release_all(&[Some(socket.id), socket.keepalive]);
        }
        let Some(connection) = self.connection() else { return };
        match ended {
            Ended::Refused => {
                self.refused_token(AgentError::AuthenticationFailed("the presence server refused the token".into()))
            }
            Ended::ServerClose => {
                if self.end_presence(None, AgentError::Canceled) {
                    self.fire_presence("presenceDisconnected", reason("serverclose"));
                }
            }
            Ended::Again(to) => {
                connection.redirected = to;
                if std::mem::replace(&mut connection.moved, true) {
                    self.pause(Pause::Reconnect);
                } else {
                    self.connect_attempt();
                }
            }
            Ended::Closed(was_connected) => {
                connection.moved = false;
                if was_connected {
                    connection.attempt = 0;
                    connection.reauthorized = false;
                }
                self.pause(Pause::Reconnect);
            }
        }
    }

    // ---- the visitor ----

    /// The visitor's socket is there: `visitorConnected`, then `lookupvisitor` (first time).
    fn visitor_arrived(&mut self, data: Option<String>) {
        let secure = self.settings.webserver.is_secure();
        let Some(connection) = self.connection() else { return };
        let grace = connection.grace.take().map(|(timer, _)| timer);
        self.release_all(&[grace]);
        if std::mem::replace(&mut self.presence.visitor_connected, true) {
            return;
        }
        self.fire_presence("visitorConnected", PresenceData { connected: Some(true), ..presence_data(data) });
        let Some(connection) = self.presence.connection.as_ref() else { return };
        let (Some(settings), Some(credentials), Some(token)) =
            (&connection.settings, &connection.credentials, &connection.token)
        else {
            return;
        };
        let url = rest_url(secure, &settings.host, "lookupvisitor", credentials.partner_id(), &connection.visitor);
        let request =
            Request { authorization: Some(crate::text::concat(&["Bearer ", token])), ..Request::new("GET", url) };
        let earlier = connection.lookup;
        let lookup = self.fetch(request);
        self.release_all(&[earlier]);
        if let Some(connection) = self.connection() {
            connection.lookup = Some(lookup);
        }
    }

    /// `lookupvisitor` answered: `visitorData` (or `presenceLookupFailed`), and `presenceConnect`
    /// resolves with the data.
    fn visitor_looked_up(&mut self, reply: &Reply) {
        let data = match json_answer(reply) {
            Ok(text) => {
                let data = Json::parse(&text).and_then(|json| Some(json.as_object()?.raw().to_owned()));
                self.fire_presence("visitorData", presence_data(data.clone()));
                data
            }
            Err(Refusal::Unauthorized(message) | Refusal::Failed(message)) => {
                self.fire_presence("presenceLookupFailed", reason(message));
                None
            }
            Err(Refusal::NotFound) => {
                self.fire_presence("presenceLookupFailed", reason("visitornotpresent"));
                None
            }
        };
        let Some(connection) = self.connection() else { return };
        let (call, deadline) = (connection.call.take(), connection.deadline.take());
        self.release_all(&[deadline]);
        if let Some(call) = call {
            self.settle(call, Ok(Value::Visitor(data)));
        }
    }

    /// The visitor's socket went away: if it does not come back within 5 s, `visitorConnected` with
    /// `connected: false`. (No `visitorData`: there is nothing new to look up.)
    fn visitor_left(&mut self, data: Option<String>) {
        if !self.presence.visitor_connected {
            return;
        }
        let timer = self.timer(VISITOR_GRACE_MS);
        let Some(connection) = self.connection() else { return };
        let earlier = connection.grace.replace((timer, data)).map(|(timer, _)| timer);
        self.release_all(&[earlier]);
    }

    pub(super) fn presence_timer(&mut self, id: Id) -> bool {
        if let Some(start) = super::take_where(&mut self.presence.starts, &|start| start.deadline == Some(id)) {
            self.fail_start(start, AgentError::TimedOut("the visitor did not answer in time"));
            return true;
        }
        /// Which of the connection's timers fired.
        enum Fired {
            Pause,
            Deadline,
            Grace(Option<String>),
            Keepalive { socket: Id, open: bool, period: u32 },
        }
        let Some(connection) = self.connection() else { return false };
        let fired = if connection.step == Step::Paused(id) {
            Fired::Pause
        } else if connection.deadline == Some(id) {
            connection.deadline = None;
            Fired::Deadline
        } else if connection.grace.as_ref().is_some_and(|(timer, _)| *timer == id) {
            Fired::Grace(connection.grace.take().and_then(|(_, data)| data))
        } else if let Some(socket) = connection.socket.as_ref().filter(|socket| socket.keepalive == Some(id)) {
            Fired::Keepalive { socket: socket.id, open: socket.open, period: socket.period }
        } else {
            return false;
        };
        match fired {
            Fired::Pause => self.connect_attempt(),
            Fired::Deadline => self.connect_wait_failed(AgentError::TimedOut("the visitor did not answer in time")),
            Fired::Grace(data) => {
                if std::mem::replace(&mut self.presence.visitor_connected, false) {
                    let data = PresenceData { connected: Some(false), ..presence_data(data) };
                    self.fire_presence("visitorConnected", data);
                }
            }
            Fired::Keepalive { socket, open, period } => {
                if open {
                    self.emit(Output::Send { id: socket, text: KEEPALIVE_FRAME.to_owned() });
                }
                let next = self.timer(period);
                if let Some(socket) = self.socket(socket) {
                    socket.keepalive = Some(next);
                }
            }
        }
        true
    }

    pub(super) fn presence_reply(&mut self, id: Id, reply: Reply) -> bool {
        let asked =
            |start: &Start<V>| matches!(start.step, StartStep::Finding(r) | StartStep::Signalling(r) if r == id);
        if let Some(start) = super::take_where(&mut self.presence.starts, &asked) {
            self.start_reply(start, &reply);
            return true;
        }
        let Some(connection) = self.connection() else { return false };
        if connection.lookup == Some(id) {
            connection.lookup = None;
            self.visitor_looked_up(&reply);
            return true;
        }
        match connection.step {
            Step::Authorizing(request) if request == id => self.authorized(&reply),
            Step::Settings(request) if request == id => self.settings_read(&reply),
            Step::Finding(request) if request == id => self.visitor_found(&reply),
            _ => return false,
        }
        true
    }

    // ---- starting a session ----

    /// `presenceStartSession(key, {func, args}, joinParams)`: asks the visitor's page to show the
    /// terms with `key` (a random one for `None`), waits for their session to start, and joins it.
    /// Called from the agent's click, it opens the viewer's window at once, inside the click.
    /// `func` is checked; `args` is a JSON object's text; `timeout` is `joinParams.timeout`.
    pub fn presence_start(
        &mut self,
        call: Id,
        key: Option<String>,
        func: String,
        args: String,
        timeout: Option<u32>,
        options: ViewerOptions<V>,
    ) {
        let Some(connection) = self.presence.connection.as_ref().map(|c| c.id) else {
            let error = AgentError::VisitorNotPresent("presence is not connected: call presenceConnect first");
            return self.settle(call, Err(error));
        };
        let key = key.unwrap_or_else(|| {
            let random = self.random();
            random_session_key(random)
        });
        let join = self.join_with_waiting_window(key.clone(), options);
        let waiting = join.waiting.clone();
        let timeout = timeout.unwrap_or(START_TIMEOUT_MS);
        let start = Start { call, connection, key, func, args, timeout, deadline: None, join, step: StartStep::Window };
        match waiting {
            Waiting::Opening(_) => self.presence.starts.push(start),
            _ => self.ask_visitor(start), // an iframe viewer: no window to open
        }
    }

    /// The start's waiting window opened (or was blocked: then the visitor is not asked to share a
    /// session the agent could not see; production asked, then hung: D22).
    pub(super) fn presence_window_opened(&mut self, id: Id, waiting: Waiting<V>) {
        let Some(mut start) =
            super::take_where(&mut self.presence.starts, &|start| start.join.waiting == Waiting::Opening(id))
        else {
            return;
        };
        if waiting == Waiting::None {
            self.fire_agent(POPUP_BLOCKED, super::AgentData::default());
            return self.settle(start.call, Err(AgentError::PopupBlocked));
        }
        start.join.waiting = waiting;
        self.ask_visitor(start);
    }

    /// Sends the invoke, within the start's time: over the socket when presence is load-balanced,
    /// else `signalvisitor` to the visitor's server after `findvisitor` says they are there. A start
    /// still waiting is replaced: the visitor's answers do not say which request they answer.
    fn ask_visitor(&mut self, mut start: Start<V>) {
        while let Some(earlier) =
            super::take_where(&mut self.presence.starts, &|earlier| earlier.step != StartStep::Window)
        {
            self.fail_start(earlier, AgentError::Canceled);
        }
        let current = self.presence.connection.as_ref().filter(|c| c.id == start.connection);
        let Some(connection) = current else {
            let error = AgentError::VisitorNotPresent("presence is not connected: call presenceConnect first");
            return self.fail_start(start, error);
        };
        let not_connected = AgentError::VisitorNotPresent("presence is not connected to the visitor");
        let load_balanced = connection.settings.as_ref().is_some_and(|settings| settings.load_balanced);
        let socket = connection.socket.as_ref().filter(|socket| socket.open && socket.connected).map(|s| s.id);
        let host = connection.settings.as_ref().map(|settings| settings.host.clone());
        start.deadline = Some(self.timer(start.timeout));
        let Some(args) = Json::parse(&start.args) else { return self.fail_start(start, not_connected) };
        let Some(args) = args.as_object() else { return self.fail_start(start, not_connected) };
        if load_balanced {
            let Some(socket) = socket else { return self.invoke_failed(start, not_connected) };
            let text = invoke(true, &start.func, args, &start.key);
            self.emit(Output::Send { id: socket, text });
            start.step = StartStep::Answer;
            return self.presence.starts.push(start);
        }
        let secure = self.settings.webserver.is_secure();
        let request = host.and_then(|host| self.find_visitor(secure, &host));
        let Some(request) = request else { return self.invoke_failed(start, not_connected) };
        start.step = StartStep::Finding(request);
        self.presence.starts.push(start);
    }

    fn start_reply(&mut self, mut start: Start<V>, reply: &Reply) {
        let refusal = |refusal: Refusal| match refusal {
            Refusal::NotFound => AgentError::VisitorNotPresent("the visitor is not on the site"),
            Refusal::Unauthorized(message) => AgentError::AuthenticationFailed(message),
            Refusal::Failed(message) => AgentError::ServiceUnavailable(message),
        };
        if let StartStep::Signalling(_) = start.step {
            return match json_answer(reply) {
                Ok(_) => {
                    start.step = StartStep::Answer;
                    self.presence.starts.push(start);
                }
                Err(failure) => self.invoke_failed(start, refusal(failure)),
            };
        }
        let direct = match read_direct_server(reply) {
            Ok(Some(direct)) => direct,
            Ok(None) => return self.invoke_failed(start, refusal(Refusal::NotFound)),
            Err(failure) => return self.invoke_failed(start, refusal(failure)),
        };
        // The agent may have disconnected (or watched someone else) meanwhile: ask nobody then.
        let current = self.presence.connection.as_ref().filter(|c| c.id == start.connection);
        let Some(connection) = current else { return self.fail_start(start, AgentError::Canceled) };
        let (Some(credentials), Some(token)) = (&connection.credentials, &connection.token) else {
            return self.fail_start(start, AgentError::Canceled);
        };
        let secure = self.settings.webserver.is_secure();
        let url = rest_url(secure, &direct, "signalvisitor", credentials.partner_id(), &connection.visitor);
        let authorization = Some(crate::text::concat(&["Bearer ", token]));
        let Some(args) = Json::parse(&start.args) else { return self.fail_start(start, AgentError::Canceled) };
        let Some(object) = args.as_object() else { return self.fail_start(start, AgentError::Canceled) };
        let body = invoke(false, &start.func, object, &start.key);
        let request = self.fetch(Request { authorization, ..Request::post(url, body, JSON_CONTENT_TYPE) });
        start.step = StartStep::Signalling(request);
        self.presence.starts.push(start);
    }

    /// The invoke failed: `presenceInvokeFailed`, and the start rejects.
    fn invoke_failed(&mut self, start: Start<V>, error: AgentError) {
        self.fire_presence("presenceInvokeFailed", reason(error.reason_text()));
        self.fail_start(start, error);
    }

    fn fail_start(&mut self, start: Start<V>, error: AgentError) {
        let request = match start.step {
            StartStep::Finding(id) | StartStep::Signalling(id) => Some(id),
            _ => None,
        };
        self.release_all(&[request, start.deadline]);
        self.close_waiting(&start.join);
        self.settle(start.call, Err(error));
    }

    /// The visitor declined (`false`) or started their session (`true`): the start waiting for it
    /// rejects, or joins the session exactly as `joinSession` would.
    fn visitor_answered(&mut self, started: bool) {
        let Some(start) = super::take_where(&mut self.presence.starts, &|start| start.step == StartStep::Answer) else {
            return;
        };
        if !started {
            return self.fail_start(start, AgentError::Declined);
        }
        self.release_all(&[start.deadline]);
        let ssnkey = Some(start.key.clone());
        self.fire_presence("presenceSessionStart", PresenceData { ssnkey, ..PresenceData::default() });
        self.start_lookup(start.call, start.key, true, Some(start.join));
    }
}

/// The visitor's direct server from a `findvisitor` answer; `None` when the visitor is not there.
fn read_direct_server(reply: &Reply) -> Result<Option<String>, Refusal> {
    let text = json_answer(reply)?;
    let answer = Json::parse(&text);
    let Some(object) = answer.as_ref().and_then(Json::as_object).filter(|object| object.truthy("visitorfound")) else {
        return Ok(None);
    };
    let text = |name| object.get(name).and_then(Json::as_text).map(str::to_owned);
    let port = text("httpsport").and_then(|port| crate::text::digits(&port)).and_then(|port| u16::try_from(port).ok());
    Ok(direct_server(text("directserver"), text("direct"), port))
}
