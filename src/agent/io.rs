//! What goes into the agent and what comes out of it: the vocabulary between the sans-IO machines and
//! the one driver that performs their work in a browser.
//!
//! `V` is a value of the page the agent holds without looking inside: a window, an iframe element, a
//! listener, `getLoginKey`, a viewer's event data. The browser driver uses `JsValue`; native tests use
//! plain values. Only equality is asked of it (a message's source against the viewers' windows).

use std::borrow::Cow;

use crate::diagnose::Report;
use crate::error::AgentError;
use crate::protocol::{AgentSession, LookupResult};

/// One id space for everything the agent waits on or hands out: calls, requests, timers, sockets,
/// frames, viewers, lookups. Ids are never reused, so a late answer for something that has ended
/// finds nothing and is dropped.
pub type Id = u32;

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant's text names its fields
pub enum Output<V> {
    /// Send a request; answer with `Agent::fetched(id, …)`. Its deadline is a [`Output::Timer`] of the
    /// same id.
    Fetch { id: Id, request: Request },
    /// Call `Agent::timer_fired(id)` after `ms` milliseconds; 0 means once the page's current script
    /// has run (a microtask).
    Timer { id: Id, ms: u32 },
    /// Drop whatever is held under `id`: clear its timer, abort its request, close its socket, remove
    /// its frame, stop listening to its call's signal.
    Release(Id),
    /// Settle the promise of call `call`.
    Settle { call: Id, result: Result<Value<V>, AgentError> },
    /// Deliver an event to the page's listeners.
    Fire(Event<V>),
    /// Call `getLoginKey`; answer with `Agent::provider_answered(id, …)`.
    AskProvider { id: Id, provider: V },
    /// Parse `text` as the browser parses URLs; answer at once with `Agent::url_parsed(id, …)`.
    ParseUrl { id: Id, text: String },
    /// Open a window; answer at once with `Agent::window_opened(id, …)`.
    OpenWindow { id: Id, name: String, features: String, label: String },
    /// Load the viewer; answer at once with `Agent::viewer_loaded(id, …)`.
    LoadViewer { id: Id, load: Load<V> },
    /// Bring a window to the front.
    Focus(V),
    /// Close a window.
    Close(V),
    /// Empty an iframe (`about:blank`).
    Blank(V),
    /// Tell `Agent::viewer_reads_closed(id)` for each of these windows that reads as closed.
    CheckClosed(Vec<(Id, V)>),
    /// Listen to the window's `message` events (`true`), or stop (`false`).
    Listen(bool),
    /// Add a hidden iframe loading `url`; answer at once with `Agent::frame_opened(id, …)`. A `probe`
    /// frame also reports its load and the page's Content-Security-Policy violations.
    HiddenFrame { id: Id, url: String, probe: bool },
    /// Tell at once where this page is (`Agent::page_location(id, …)`), to read its
    /// `Cross-Origin-Opener-Policy`.
    Locate { id: Id },
    /// Open a WebSocket; report with `Agent::socket_opened`, `socket_frame`, `socket_closed`.
    OpenSocket { id: Id, url: String },
    /// Send a text frame on socket `id`.
    Send { id: Id, text: String },
    /// Keep `Some(text)` in this tab's `sessionStorage` (under `agent::viewer::STORAGE_KEY`), or
    /// remove it (`None`).
    Store(Option<String>),
    /// Find the window named `name` without opening one (`window.open("", name)`); answer at once
    /// with `Agent::window_found(id, …)`.
    FindWindow { id: Id, name: String },
}

/// How the page's document came to be: `history.length` and the navigation's `type` (Navigation
/// Timing: `navigate`, `reload`, `back_forward`; `None` where the browser does not say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arrival {
    /// `history.length`.
    pub history_length: u32,
    /// The navigation's type.
    pub navigation: Option<String>,
}

impl Arrival {
    /// A reload (F5, or a console that reloads itself), with more history before it.
    pub fn reload(history_length: u32) -> Arrival {
        Arrival { history_length, navigation: Some("reload".into()) }
    }

    /// The first document of a tab: a tab opened by another page starts with a copy of that page's
    /// `sessionStorage`, and what it finds there is the other tab's. (Looking a window up by its name
    /// makes the one who looks its opener: the other tab's viewer would report here from then on.)
    pub fn is_first_document(&self) -> bool {
        self.history_length <= 1 && self.navigation.as_deref().is_none_or(|navigation| navigation == "navigate")
    }
}

/// What looking for a window by its name found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<V> {
    /// Nothing (the browser refused).
    Nothing,
    /// A fresh blank window of this page's own origin: there was none of that name, and the browser
    /// opened one.
    Blank(V),
    /// A window on another origin: the viewer, still open.
    Window(V),
}

impl<V> Output<V> {
    /// The id of work this output starts, which releasing that id withdraws while it is queued.
    pub(crate) fn starts(&self) -> Option<Id> {
        match self {
            Output::Fetch { id, .. }
            | Output::Timer { id, .. }
            | Output::AskProvider { id, .. }
            | Output::HiddenFrame { id, .. }
            | Output::Locate { id }
            | Output::OpenSocket { id, .. }
            | Output::Send { id, .. }
            | Output::FindWindow { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST` or `HEAD`.
    pub method: &'static str,
    /// Where to.
    pub url: String,
    /// The body and its content type.
    pub body: Option<(String, &'static str)>,
    /// `cors`, `no-cors` (an opaque answer: a probe of `diagnose`) or `same-origin`.
    pub mode: Mode,
    /// Cookies go with it (the agent's `EjectAgent`, to the session's server).
    pub cookies: bool,
    /// An `Authorization` header.
    pub authorization: Option<String>,
    /// `no-cache`, no redirects, no referrer: the agent's own message to a session server.
    pub private: bool,
    /// What the answer is read for.
    pub read: Read,
}

impl Request {
    /// A request of `method` to `url`: CORS, no cookies, its status and text read.
    pub fn new(method: &'static str, url: String) -> Request {
        Request {
            method,
            url,
            body: None,
            mode: Mode::Cors,
            cookies: false,
            authorization: None,
            private: false,
            read: Read::Text,
        }
    }

    /// A POST of `body` of type `content_type`.
    pub fn post(url: String, body: String, content_type: &'static str) -> Request {
        Request { body: Some((body, content_type)), ..Request::new("POST", url) }
    }
}

/// A request's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cors`.
    Cors,
    /// `no-cors`.
    NoCors,
    /// `same-origin`.
    SameOrigin,
}

/// What to read from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Status and text.
    Text,
    /// The status only.
    Status,
    /// The status and this header's value (as the text).
    Header(&'static str),
}

/// What a call's promise resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<V> {
    /// `undefined`.
    Undefined,
    /// A boolean.
    Bool(bool),
    /// `{}`: a lookup that found nothing and did not wait.
    Empty,
    /// A found session.
    Found(Box<LookupResult>),
    /// The sessions the agent is in.
    Sessions(Vec<AgentSession>),
    /// A `diagnose()` report.
    Report(Box<Report>),
    /// A page value: the viewer's window (or iframe's).
    Page(V),
    /// The visitor's data (a JSON object's text, `None` for `{}`) with `service: "presence"`.
    Visitor(Option<String>),
}

/// An event for the page's listeners.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<V> {
    /// Its name.
    pub name: Cow<'static, str>,
    /// Its data.
    pub data: Data<V>,
}

/// An event's data.
#[derive(Debug, Clone, PartialEq)]
pub enum Data<V> {
    /// `{service: "agent", …}`, the fields that are given.
    Agent(AgentData),
    /// A found session (`lookupFound`).
    Found(Box<LookupResult>),
    /// A viewer's own data, as it sent it (`None`: it sent none, `{}`).
    Relayed(Option<V>),
    /// `{service: "presence", …}`: the server's data (a JSON object's text) with fields set.
    Presence(PresenceData),
}

/// The fields of the library's own events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentData {
    /// `ssnkey`.
    pub ssnkey: Option<String>,
    /// `reason`.
    pub reason: Option<Cow<'static, str>>,
    /// `cancel`: a function that cancels lookup `Id` (`lookupWaiting`).
    pub cancel: Option<Id>,
    /// `close`: a function that closes viewer `Id` (`viewerOpened`).
    pub close: Option<Id>,
}

/// A presence event's data: the server's object's fields, then these.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceData {
    /// The server's data: a JSON object's text.
    pub json: Option<String>,
    /// `connected`.
    pub connected: Option<bool>,
    /// `reason`.
    pub reason: Option<Cow<'static, str>>,
    /// `message`: the server's own words where `reason` is a code.
    pub message: Option<String>,
    /// `ssnkey`.
    pub ssnkey: Option<String>,
}

/// How to load the viewer.
#[derive(Debug, Clone, PartialEq)]
pub struct Load<V> {
    /// Where.
    pub into: Place<V>,
    /// GET this URL, or POST this form.
    pub how: How,
}

/// Where the viewer loads.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant's text names its fields
pub enum Place<V> {
    /// The page's iframe; `name` is the name to give it when it has none (a POST needs one).
    Frame { frame: V, name: String },
    /// The join's waiting window, if still open, else a new window named `name`.
    Window { waiting: Option<V>, name: String, features: String },
}

/// GET or POST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant's text names its fields
pub enum How {
    /// Navigate to the URL.
    Get(String),
    /// Submit a form: `action` and hidden fields.
    Post { action: String, fields: Vec<(String, String)> },
}

/// A page call that returns a promise, with its arguments read and checked.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant's text names its fields
pub enum Call<V> {
    /// `authenticate({getLoginKey})`.
    Provider(V),
    /// `authenticate({idp…})`.
    SignOn(crate::credentials::SsoHint),
    /// `lookupSession(key, wait)`.
    Lookup { key: String, wait: bool },
    /// `joinSession(key, params)`.
    Join { key: String, options: crate::agent::ViewerOptions<V> },
    /// `openViewer(key, params)`.
    OpenViewer { key: String, options: crate::agent::ViewerOptions<V> },
    /// `openAgentJoinURL(url, params)`.
    OpenJoinUrl { url: String, options: crate::agent::ViewerOptions<V> },
    /// `inSession(key)`.
    InSession { key: String },
    /// `diagnose()`: what the popup tried in the call's click did, and this page's origin.
    Diagnose { popup: Option<bool>, page_origin: String },
    /// `once(name)`.
    Once { name: String },
    /// `presenceConnect(visitorid, {timeout})`.
    PresenceConnect { visitor: String, timeout: Option<u32> },
    /// `presenceStartSession(key, {func, args}, joinParams)`.
    PresenceStart {
        key: Option<String>,
        func: String,
        args: String,
        timeout: Option<u32>,
        options: crate::agent::ViewerOptions<V>,
    },
    /// `leaveSession(key)`.
    LeaveSession { key: String },
    /// `end()`.
    End,
}

/// Everything that can happen to the agent: the page's calls and what the driver saw.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant's text names its fields
pub enum Input<V> {
    /// A call whose promise is `Id`.
    Call(Id, Call<V>),
    /// The signal of call `Id` aborted.
    Abort(Id),
    /// `authenticate({loginkey, partnerid, partneruserid})`.
    Credentials(crate::credentials::Credentials),
    /// `logout()`.
    Logout,
    /// `cancelLookup()` (`None`), or the `cancel` of lookup `Id`.
    CancelLookup(Option<Id>),
    /// `close(viewer)`.
    Close(V),
    /// The `close` of viewer `Id`.
    CloseViewer(Id),
    /// `presenceDisconnect()`.
    PresenceDisconnect,
    /// The driver resolved `once` call `Id` with an event's data.
    Heard(Id),
    /// Request `Id`'s answer.
    Fetched(Id, crate::protocol::Reply),
    /// Timer `Id` fired.
    TimerFired(Id),
    /// `getLoginKey` answered ask `Id` with an object (read, or why not).
    ProviderAnswered(Id, Result<crate::credentials::CredentialsInput, AgentError>),
    /// `getLoginKey` threw or rejected, with this message.
    ProviderFailed(Id, String),
    /// The browser's reading of URL `Id`.
    UrlParsed(Id, Option<crate::url::UrlParts>),
    /// Window `Id` opened, or was refused.
    WindowOpened(Id, Option<V>),
    /// Viewer `Id` loaded into this window, or could not.
    ViewerLoaded(Id, Option<V>),
    /// Viewer `Id`'s window reads as closed.
    ReadsClosed(Id),
    /// Hidden frame `Id` was added (its window), or could not be.
    FrameOpened(Id, Option<V>),
    /// Probe frame `Id` loaded.
    FrameLoaded(Id),
    /// A Content-Security-Policy violation while probe frame `id` loaded.
    Violation { id: Id, blocked: String, directive: String },
    /// Where this page is, for `Locate` `id`.
    Located { id: Id, href: String, isolated: bool },
    /// A message posted to the page.
    Message(crate::agent::Message<V>),
    /// Socket `Id` opened.
    SocketOpened(Id),
    /// A text frame on socket `Id`.
    SocketFrame(Id, String),
    /// Socket `Id` closed with this code.
    SocketClosed(Id, u16),
    /// The page has loaded (its own scripts have run): what this tab kept in `sessionStorage`, and how
    /// this document came to be.
    Restore(Option<String>, Arrival),
    /// What `FindWindow` `Id` found.
    WindowFound(Id, Found<V>),
}
