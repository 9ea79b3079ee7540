//! The agent viewer (PROTOCOL.md section 3): opened in a window or an iframe, by POST (credentials in
//! a form, never in a URL) or GET, then watched until it closes, so that `viewerClosed` fires exactly
//! once, or `viewerDetached` when the browser cut the window off from the console.
//!
//! A viewer opens in steps, each an output the driver answers at once: the join's waiting window
//! (opened inside the agent's click), the URL as the browser parses it, the load. The viewer's window
//! is watched every half second while any is open; a window that reads as closed is judged closed
//! or severed once this page's `Cross-Origin-Opener-Policy` is known.

use std::borrow::Cow;

use super::{Agent, AgentData, Arrival, Data, Id, Message, Mode, Output, Read, Request, Value};
use crate::credentials::Credentials;
use crate::diagnose::policy_severs_popups;
use crate::error::AgentError;
use crate::events::{
    is_viewer_event_name, IFRAME_BLOCKED, POPUP_BLOCKED, SESSION_ENDED, VIEWER_CLOSED, VIEWER_DETACHED, VIEWER_OPENED,
    VIEWER_RESUMED,
};
use crate::json::{Json, Writer};
use crate::protocol::{
    session_viewer_url, LookupResult, Reply, ViewerTarget, DEFAULT_WINDOW_FEATURES, DEFAULT_WINDOW_NAME,
};
use crate::url::{HttpUrl, UrlParts};

use super::io::{Found, How, Load, Place};

/// How often open viewers are checked for having been closed by the agent.
pub const WATCH_INTERVAL_MS: u32 = 500;
/// The `reason` of `viewerDetached`.
pub const OPENER_SEVERED: &str = "opener_severed";
/// Names the library gives iframes it loads a viewer into by POST, with a number.
pub const FRAME_NAME: &str = "glance-viewer-";
/// Names the library gives popup viewers that have none of their own, with a random number: a
/// viewer is found again by its name after a reload.
pub const WINDOW_NAME: &str = "glance-agent-viewer-";
/// Where this tab keeps its viewers between reloads (`sessionStorage`).
pub const STORAGE_KEY: &str = "glance-agent.viewers";
/// The response header that says whether this page's windows on another origin are cut off from it.
const OPENER_POLICY_HEADER: &str = "Cross-Origin-Opener-Policy";

/// Where and how to open the viewer: the `params` of `joinSession`, `openViewer`, `openAgentJoinURL`.
/// `Default` is every default; the driver sets what the page gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerOptions<V> {
    /// `windowName`.
    pub window_name: String,
    /// `windowFeatures`.
    pub window_features: String,
    /// `iframe`, as the element.
    pub frame: Option<V>,
    /// `wait`: whether a join's lookup waits for the session to start.
    pub wait: bool,
    /// What reaches the viewer page itself: `wait`, `agentVideo`, `name`, `email`, `phone`.
    pub params: Vec<(&'static str, String)>,
    /// `reuse`: focus the open viewer of the same session instead of opening a second one.
    pub reuse: bool,
}

impl<V> Default for ViewerOptions<V> {
    fn default() -> Self {
        ViewerOptions {
            window_name: DEFAULT_WINDOW_NAME.to_owned(),
            window_features: DEFAULT_WINDOW_FEATURES.to_owned(),
            frame: None,
            wait: true,
            params: Vec::new(),
            reuse: true,
        }
    }
}

/// The "waiting for the customer" window a join opens inside the agent's click.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Waiting<V> {
    /// None (an iframe viewer, or the popup was blocked).
    None,
    /// Asked for: the driver answers at once.
    Opening(Id),
    /// Open: the viewer loads into it.
    Open(V),
}

/// What a viewer call opens, and for which session.
#[derive(Debug)]
pub(super) struct Join<V> {
    /// The session key (empty for `openAgentJoinURL`): kept with the viewer so that it can be reused.
    pub(super) key: String,
    /// The session's `ssnid`, once a lookup has found it.
    pub(super) ssnid: String,
    pub(super) options: ViewerOptions<V>,
    pub(super) waiting: Waiting<V>,
}

/// A viewer being opened.
#[derive(Debug)]
pub(super) struct Opening<V> {
    id: Id,
    call: Id,
    join: Join<V>,
    url: String,
    credentials: Option<Credentials>,
    /// The viewer URL's origin, once parsed.
    origin: String,
    step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Waiting for a key from `getLoginKey`.
    Key,
    /// Waiting for the browser's reading of the URL.
    Parse,
    /// Waiting for the load.
    Load,
}

/// An open viewer.
#[derive(Debug)]
struct Viewer<V> {
    id: Id,
    /// Its window (an iframe's `contentWindow`): what the page gets and what its messages come from.
    window: V,
    frame: Option<V>,
    /// The session key; cleared when its session ends.
    key: String,
    ssnid: String,
    /// A popup's window name and the origin it loaded, kept to find it again after a reload; `None`
    /// once there is nothing to find it again for (an iframe, a session ended or left).
    kept: Option<(String, String)>,
    /// Taken back after a reload.
    resumed: bool,
    /// It read as closed before this page's opener policy was known.
    reads_closed: bool,
}

/// A session this page is in, as `GLANCE.Agent.sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The session key.
    pub ssnkey: String,
    /// The session's `ssnid`, when known.
    pub ssnid: String,
    /// Whether its viewer is a popup (else an iframe).
    pub popup: bool,
    /// Whether its viewer was taken back after a reload.
    pub resumed: bool,
}

impl SessionView {
    /// The entry a page is given, as JSON.
    pub fn json(&self) -> String {
        crate::json::Writer::new()
            .text("ssnkey", &self.ssnkey)
            .text("ssnid", &self.ssnid)
            .text("viewer", if self.popup { "popup" } else { "iframe" })
            .flag("resumed", Some(self.resumed))
            .finish()
    }
}

/// A viewer this tab kept before a reload, being looked for.
#[derive(Debug)]
struct Kept {
    id: Id,
    name: String,
    key: String,
    ssnid: String,
    origin: String,
}

/// Whether windows this page opens on another origin are cut off from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Unknown,
    /// Being read: the `Locate` or the request of this id.
    Reading(Id),
    Known(bool),
}

/// The open viewers, their watcher and what is known of the page's opener policy.
#[derive(Debug)]
pub(super) struct Viewers<V> {
    list: Vec<Viewer<V>>,
    watch: Option<Id>,
    policy: Policy,
    /// Kept viewers being looked for after a reload.
    finding: Vec<Kept>,
    /// What this tab keeps now, as last written.
    stored: Option<String>,
    /// The page has loaded and what the tab kept before has been read: until then nothing is written
    /// over it.
    restored: bool,
}

impl<V> Default for Viewers<V> {
    fn default() -> Self {
        Viewers {
            list: Vec::new(),
            watch: None,
            policy: Policy::Unknown,
            finding: Vec::new(),
            stored: None,
            restored: false,
        }
    }
}

impl<V> Viewers<V> {
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// How a viewer ends.
#[derive(Clone, Copy)]
enum Ending {
    /// It closed (`close_it`: the library closes it now).
    Closed { close_it: bool },
    /// The browser cut it off from the page; it may still be open.
    Detached,
}

impl<V: Clone + PartialEq> Agent<V> {
    /// `joinSession(key, params)`: the open viewer of the session (focused), or a lookup that opens
    /// one when the session is found. A window viewer's window opens now, inside the agent's click.
    pub fn join(&mut self, call: Id, key: String, options: ViewerOptions<V>) {
        if let Some(window) = self.reuse(&key, &options) {
            return self.settle(call, Ok(Value::Page(window)));
        }
        let wait = options.wait;
        let join = self.join_with_waiting_window(key.clone(), options);
        self.start_lookup(call, key, wait, Some(join));
    }

    /// `openViewer(key, params)`: the viewer of session `key`, with the stored credentials if any.
    pub fn open_viewer(&mut self, call: Id, key: String, options: ViewerOptions<V>) {
        if let Some(window) = self.reuse(&key, &options) {
            return self.settle(call, Ok(Value::Page(window)));
        }
        let url = session_viewer_url(&self.settings.webserver, &key);
        match self.held_now() {
            super::signin::Held::Ready(credentials) => {
                let join = self.join_of(key, options, Waiting::None);
                self.open(call, join, url, credentials);
            }
            super::signin::Held::Expired => self.settle(call, Err(AgentError::LoginKeyExpired)),
            super::signin::Held::Renewing => {
                // The key is on its way: the window opens now, inside the click, and the viewer loads
                // into it once the key is here.
                let join = self.join_with_waiting_window(key, options);
                let id = self.next_id();
                let origin = String::new();
                self.opens.push(Opening { id, call, join, url, credentials: None, origin, step: Step::Key });
                if let Some(key) = self.need_key(id) {
                    self.open_key(id, &key);
                }
            }
        }
    }

    /// `openAgentJoinURL(url, params)`: a viewer URL; the credentials go with it only to the
    /// webserver's origin, and only an unexpired key.
    pub fn open_join_url(&mut self, call: Id, url: String, options: ViewerOptions<V>) {
        let credentials = self.held_key();
        let join = self.join_of(String::new(), options, Waiting::None);
        self.open(call, join, url, credentials);
    }

    /// The open viewer of session `key`, focused, when `options` allow reusing it.
    fn reuse(&mut self, key: &str, options: &ViewerOptions<V>) -> Option<V> {
        if !options.reuse {
            return None;
        }
        let window = self.viewers.list.iter().find(|v| v.key == key && !v.reads_closed)?.window.clone();
        self.emit(Output::Focus(window.clone()));
        Some(window)
    }

    /// What a viewer call opens. A popup the page gave no name gets one of its own, by which it is
    /// found again after a reload.
    fn join_of(&mut self, key: String, mut options: ViewerOptions<V>, waiting: Waiting<V>) -> Join<V> {
        if options.frame.is_none() && options.window_name == DEFAULT_WINDOW_NAME {
            let number = (self.random() * 9_007_199_254_740_991.0) as u64;
            options.window_name = crate::text::concat(&[WINDOW_NAME, &crate::text::decimal(number)]);
        }
        Join { key, ssnid: String::new(), options, waiting }
    }

    /// A join whose window opens now (none for an iframe viewer).
    pub(super) fn join_with_waiting_window(&mut self, key: String, options: ViewerOptions<V>) -> Join<V> {
        let mut join = self.join_of(key, options, Waiting::None);
        if join.options.frame.is_none() {
            let id = self.next_id();
            let label = crate::text::concat(&["Waiting for the customer to start session ", &join.key, "…"]);
            let (name, features) = (join.options.window_name.clone(), join.options.window_features.clone());
            self.emit(Output::OpenWindow { id, name, features, label });
            join.waiting = Waiting::Opening(id);
        }
        join
    }

    /// Window `id` opened (a join's waiting window), or the browser refused it.
    pub fn window_opened(&mut self, id: Id, window: Option<V>) {
        let opened = window.is_some();
        let waiting = match window {
            Some(window) => Waiting::Open(window),
            None => Waiting::None,
        };
        let found = self
            .lookups
            .iter_mut()
            .filter_map(|lookup| lookup.join.as_mut())
            .find(|join| join.waiting == Waiting::Opening(id));
        if let Some(join) = found {
            join.waiting = waiting;
        } else if let Some(opening) = self.opens.iter_mut().find(|opening| opening.join.waiting == Waiting::Opening(id))
        {
            opening.join.waiting = waiting;
        } else {
            self.presence_window_opened(id, waiting);
        }
        if opened {
            self.learn_opener_policy();
        }
    }

    /// Closes the waiting window of a join that will not show a viewer.
    pub(super) fn close_waiting(&mut self, join: &Join<V>) {
        if let Waiting::Open(window) = &join.waiting {
            self.emit(Output::Close(window.clone()));
        }
    }

    /// A lookup found the session of `join`: its viewer opens with the credentials that found it.
    pub(super) fn open_found(&mut self, call: Id, mut join: Join<V>, result: LookupResult, credentials: Credentials) {
        join.ssnid = result.ssnid;
        self.open(call, join, result.agentjoinurl, Some(credentials));
    }

    /// Opens the viewer at `url`: first the browser parses it.
    fn open(&mut self, call: Id, join: Join<V>, url: String, credentials: Option<Credentials>) {
        let id = self.next_id();
        self.emit(Output::ParseUrl { id, text: url.clone() });
        let origin = String::new();
        self.opens.push(Opening { id, call, join, url, credentials, origin, step: Step::Parse });
    }

    fn take_open(&mut self, matches: impl Fn(&Opening<V>) -> bool) -> Option<Opening<V>> {
        super::take_where(&mut self.opens, &matches)
    }

    pub(super) fn open_key(&mut self, id: Id, key: &Result<Credentials, AgentError>) -> bool {
        let Some(mut opening) = self.take_open(|opening| opening.id == id && opening.step == Step::Key) else {
            return false;
        };
        match key {
            Ok(credentials) => {
                opening.credentials = Some(credentials.clone());
                let url = std::mem::take(&mut opening.url);
                self.open(opening.call, opening.join, url, opening.credentials);
            }
            Err(error) => self.fail_open(opening, error.clone()),
        }
        true
    }

    pub(super) fn open_abort(&mut self, call: Id) -> bool {
        let Some(opening) = self.take_open(|opening| opening.call == call) else { return false };
        self.fail_open(opening, AgentError::Canceled);
        true
    }

    /// The browser's reading of the viewer URL: the viewer loads as the options say.
    pub(super) fn open_url_parsed(&mut self, id: Id, parts: Option<UrlParts>) {
        let Some(mut opening) = self.take_open(|opening| opening.id == id && opening.step == Step::Parse) else {
            return;
        };
        let now = self.now_s();
        let credentials = opening.credentials.take().filter(|c| !c.login_key().is_expired_at(now));
        let url = parts.and_then(HttpUrl::from_parts);
        let mut target = match ViewerTarget::new(&self.settings.webserver, url, credentials.as_ref()) {
            Ok(target) => target,
            Err(error) => return self.fail_open(opening, error),
        };
        let params: Vec<(&'static str, &str)> =
            opening.join.options.params.iter().map(|(name, value)| (*name, value.as_str())).collect();
        target.add_params(&params);
        // A viewer URL names its session: kept with the viewer (`openAgentJoinURL` has no key).
        let join = &mut opening.join;
        if join.key.is_empty() {
            join.key = target.param("SessionKey").unwrap_or_default().to_owned();
        }
        if join.ssnid.is_empty() {
            join.ssnid = target.param("ssnid").unwrap_or_default().to_owned();
        }
        opening.origin = target.origin().to_owned();
        let how = if self.settings.post_parameters {
            How::Post { action: target.post_action().to_owned(), fields: target.post_fields() }
        } else {
            How::Get(target.get_url())
        };
        let options = &opening.join.options;
        let into = match &options.frame {
            Some(frame) => Place::Frame {
                frame: frame.clone(),
                name: crate::text::concat(&[FRAME_NAME, &crate::text::decimal(id.into())]),
            },
            None => Place::Window {
                waiting: match &opening.join.waiting {
                    Waiting::Open(window) => Some(window.clone()),
                    _ => None,
                },
                name: options.window_name.clone(),
                features: options.window_features.clone(),
            },
        };
        opening.step = Step::Load;
        self.emit(Output::LoadViewer { id, load: Load { into, how } });
        self.opens.push(opening);
    }

    /// Viewer `id` loaded into `window` (an iframe's window), or could not be loaded.
    pub fn viewer_loaded(&mut self, id: Id, window: Option<V>) {
        let Some(opening) = self.take_open(|opening| opening.id == id && opening.step == Step::Load) else { return };
        let Some(window) = window else {
            let (event, error) = match opening.join.options.frame {
                Some(_) => (IFRAME_BLOCKED, AgentError::IframeBlocked),
                None => (POPUP_BLOCKED, AgentError::PopupBlocked),
            };
            self.fire_agent(event, AgentData::default());
            return self.fail_open(opening, error);
        };
        let Opening { call, join, origin, .. } = opening;
        // The same window opened again (a named window reused) stays one viewer.
        self.viewers.list.retain(|viewer| viewer.window != window);
        let Join { key, ssnid, options, .. } = join;
        let kept = options.frame.is_none().then_some((options.window_name, origin));
        let viewer = Viewer {
            id,
            window: window.clone(),
            frame: options.frame,
            key,
            ssnid,
            kept,
            resumed: false,
            reads_closed: false,
        };
        self.add_viewer(viewer);
        self.fire_agent(VIEWER_OPENED, AgentData { close: Some(id), ..AgentData::default() });
        self.settle(call, Ok(Value::Page(window)));
    }

    /// A viewer to watch until it closes (and, a popup, to keep for a reload).
    fn add_viewer(&mut self, viewer: Viewer<V>) {
        if viewer.frame.is_none() {
            self.learn_opener_policy();
        }
        self.viewers.list.push(viewer);
        if self.viewers.watch.is_none() {
            self.viewers.watch = Some(self.timer(WATCH_INTERVAL_MS));
        }
        self.update_listening();
        self.keep_viewers();
    }

    /// The sessions this page is in (`GLANCE.Agent.sessions`).
    pub fn sessions(&self) -> Vec<SessionView> {
        let mut sessions: Vec<SessionView> = Vec::new();
        for viewer in self.viewers.list.iter().filter(|viewer| !viewer.key.is_empty()) {
            if !sessions.iter().any(|session| session.ssnkey == viewer.key) {
                let (ssnkey, ssnid) = (viewer.key.clone(), viewer.ssnid.clone());
                sessions.push(SessionView { ssnkey, ssnid, popup: viewer.frame.is_none(), resumed: viewer.resumed });
            }
        }
        sessions
    }

    /// Writes what this tab keeps to find its viewers again (when it changed): for each popup viewer
    /// of a session, its window's name, the session's key and `ssnid`, the origin it loaded. Never a
    /// credential: no login key, no token, no URL.
    pub(super) fn keep_viewers(&mut self) {
        if !self.viewers.restored {
            return;
        }
        let mut entries = String::new();
        for viewer in &self.viewers.list {
            let Some((name, origin)) = &viewer.kept else { continue };
            let entry = Writer::new()
                .text("name", name)
                .text("ssnkey", &viewer.key)
                .text("ssnid", &viewer.ssnid)
                .text("origin", origin)
                .finish();
            entries.push(if entries.is_empty() { '[' } else { ',' });
            entries.push_str(&entry);
        }
        let stored = (!entries.is_empty()).then(|| entries + "]");
        if stored != self.viewers.stored {
            self.viewers.stored.clone_from(&stored);
            self.emit(Output::Store(stored));
        }
    }

    /// The agent leaves session `key` (`leaveSession`): its viewer is no longer one to take back.
    pub(super) fn forget_session(&mut self, key: &str) {
        for viewer in self.viewers.list.iter_mut().filter(|viewer| viewer.key == key) {
            viewer.kept = None;
        }
        self.keep_viewers();
    }

    /// The page has loaded: the viewers this tab kept before a reload are looked for by name, unless
    /// the page set `resume = false`. The webserver need not be set yet (consoles often set it once
    /// their configuration has loaded): a viewer's events are heard once it is, as always. What the
    /// tab keeps is written from then on (viewers opened before are kept too).
    pub fn restore(&mut self, stored: Option<&str>, arrival: &Arrival) {
        if std::mem::replace(&mut self.viewers.restored, true) {
            return;
        }
        self.viewers.stored = stored.map(str::to_owned);
        // What a tab's first document finds was copied from the tab that opened it: forgotten.
        let json = stored.filter(|_| !arrival.is_first_document()).and_then(Json::parse);
        for item in json.as_ref().map(Json::items).unwrap_or_default() {
            let Some(entry) = item.as_object() else { continue };
            let field = |name| entry.text(name).map(str::to_owned).unwrap_or_default();
            let kept = Kept {
                id: 0,
                name: field("name"),
                key: field("ssnkey"),
                ssnid: field("ssnid"),
                origin: field("origin"),
            };
            if self.settings.resume && !kept.name.is_empty() && !kept.origin.is_empty() {
                let id = self.next_id();
                self.emit(Output::FindWindow { id, name: kept.name.clone() });
                self.viewers.finding.push(Kept { id, ..kept });
            }
        }
        self.keep_viewers();
    }

    /// What looking for kept viewer `id` found: the viewer, taken back; a fresh window (there was
    /// none of that name), closed at once; or nothing. Either way the tab keeps only what it has.
    pub fn window_found(&mut self, id: Id, found: Found<V>) {
        let Some(kept) = super::take_where(&mut self.viewers.finding, &|kept| kept.id == id) else { return };
        match found {
            Found::Window(window) if !self.viewers.list.iter().any(|viewer| viewer.window == window) => {
                let Kept { name, key, ssnid, origin, .. } = kept;
                let ssnkey = Some(key.clone());
                let viewer = Viewer {
                    id,
                    window,
                    frame: None,
                    key,
                    ssnid,
                    kept: Some((name, origin)),
                    resumed: true,
                    reads_closed: false,
                };
                self.add_viewer(viewer);
                self.fire_agent(VIEWER_RESUMED, AgentData { ssnkey, close: Some(id), ..AgentData::default() });
            }
            Found::Blank(window) => self.emit(Output::Close(window)),
            // Nothing, or one this page holds already: only forgotten.
            Found::Nothing | Found::Window(_) => {}
        }
        self.keep_viewers();
    }

    fn fail_open(&mut self, opening: Opening<V>, error: AgentError) {
        self.close_waiting(&opening.join);
        self.settle(opening.call, Err(error));
    }

    // ---- open viewers ----

    /// The viewers' windows, for the driver to check which read as closed.
    pub fn viewer_windows(&self) -> Vec<(Id, V)> {
        self.viewers.list.iter().map(|viewer| (viewer.id, viewer.window.clone())).collect()
    }

    pub(super) fn viewer_timer(&mut self, id: Id) -> bool {
        if self.viewers.watch != Some(id) {
            return false;
        }
        self.viewers.watch = Some(self.timer(WATCH_INTERVAL_MS));
        let windows = self.viewer_windows();
        self.emit(Output::CheckClosed(windows));
        true
    }

    /// Viewer `id`'s window reads as closed: closed, or (a window, when this page's opener policy
    /// cuts windows off) severed from the page and perhaps still open.
    pub fn viewer_reads_closed(&mut self, id: Id) {
        let Some(viewer) = self.viewers.list.iter_mut().find(|viewer| viewer.id == id) else { return };
        let ending = match (viewer.frame.is_some(), self.viewers.policy) {
            (true, _) | (false, Policy::Known(false)) => Ending::Closed { close_it: false },
            (false, Policy::Known(true)) => Ending::Detached,
            (false, Policy::Unknown | Policy::Reading(_)) => {
                viewer.reads_closed = true; // judged when the policy is known
                return;
            }
        };
        self.end_viewer(id, ending);
    }

    /// `close(viewer)`: the viewer's window or its iframe element. One that has already closed, or
    /// was not opened here, needs nothing more.
    pub fn close(&mut self, viewer: &V) {
        let id = self.viewers.list.iter().find(|v| v.window == *viewer || v.frame.as_ref() == Some(viewer));
        if let Some(id) = id.map(|v| v.id) {
            self.end_viewer(id, Ending::Closed { close_it: true });
        }
    }

    /// The `close` of a `viewerOpened` event: closes viewer `id`.
    pub fn close_viewer(&mut self, id: Id) {
        self.end_viewer(id, Ending::Closed { close_it: true });
    }

    /// Closes every viewer (`end()`), each firing `viewerClosed`.
    pub(super) fn close_all(&mut self) {
        for (id, _) in self.viewer_windows() {
            self.end_viewer(id, Ending::Closed { close_it: true });
        }
    }

    /// The session keys of the open viewers, for `end()`.
    pub(super) fn viewer_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for viewer in &self.viewers.list {
            if !viewer.key.is_empty() && !keys.contains(&viewer.key) {
                keys.push(viewer.key.clone());
            }
        }
        keys
    }

    /// Ends viewer `id` once: closes it if asked, stops watching when none is left, fires the event.
    fn end_viewer(&mut self, id: Id, ending: Ending) {
        let Some(viewer) = super::remove_where(&mut self.viewers.list, &|viewer| viewer.id == id) else { return };
        if self.viewers.list.is_empty() {
            let watch = self.viewers.watch.take();
            self.release_all(&[watch]);
        }
        self.update_listening();
        self.keep_viewers();
        match ending {
            Ending::Closed { close_it } => {
                if close_it {
                    self.emit(match viewer.frame {
                        Some(frame) => Output::Blank(frame),
                        None => Output::Close(viewer.window),
                    });
                }
                self.fire_agent(VIEWER_CLOSED, AgentData::default());
            }
            Ending::Detached => {
                let reason = Some(Cow::Borrowed(OPENER_SEVERED));
                self.fire_agent(VIEWER_DETACHED, AgentData { reason, ..AgentData::default() });
            }
        }
    }

    /// A message posted to the page: a SAML sign-in page's answer, or a viewer's event when it comes
    /// from a viewer's window on the webserver's origin. Anything else is dropped without a sound.
    pub fn message(&mut self, message: Message<V>) {
        if !is_viewer_event_name(&message.name) || self.sso_message(&message) {
            return;
        }
        if message.origin != self.settings.webserver.origin() {
            return;
        }
        let Some(viewer) = self.viewers.list.iter_mut().find(|viewer| viewer.window == message.source) else {
            return;
        };
        // A viewer whose session ended is not the one to focus for that key again, nor to take back.
        if message.name == SESSION_ENDED {
            viewer.key.clear();
            viewer.kept = None;
            self.keep_viewers();
        }
        self.fire(message.name, Data::Relayed(message.data));
    }

    // ---- the page's opener policy ----

    /// Starts reading this page's `Cross-Origin-Opener-Policy` once, so that a window that reads as
    /// closed can be told severed from closed.
    pub(super) fn learn_opener_policy(&mut self) {
        if self.viewers.policy == Policy::Unknown {
            let id = self.next_id();
            self.viewers.policy = Policy::Reading(id);
            self.emit(Output::Locate { id });
        }
    }

    /// The opener policy, when known.
    pub(super) fn opener_policy(&self) -> Option<bool> {
        match self.viewers.policy {
            Policy::Known(severs) => Some(severs),
            _ => None,
        }
    }

    /// Where this page is (`href`), and whether it is cross-origin isolated (then windows on another
    /// origin are cut off whatever its header says). Otherwise its own header is read (a HEAD).
    pub fn page_location(&mut self, id: Id, href: String, isolated: bool) {
        if self.viewers.policy != Policy::Reading(id) {
            return;
        }
        if isolated {
            return self.policy_known(true);
        }
        let request =
            Request { mode: Mode::SameOrigin, read: Read::Header(OPENER_POLICY_HEADER), ..Request::new("HEAD", href) };
        let request = self.fetch(request);
        self.viewers.policy = Policy::Reading(request);
    }

    pub(super) fn opener_policy_reply(&mut self, id: Id, reply: &Reply) {
        if self.viewers.policy != Policy::Reading(id) {
            return;
        }
        let header = match reply {
            Reply::Answered { text, .. } => text.as_str(),
            _ => "",
        };
        self.policy_known(policy_severs_popups(header));
    }

    fn policy_known(&mut self, severs: bool) {
        self.viewers.policy = Policy::Known(severs);
        let judged: Vec<Id> =
            self.viewers.list.iter().filter(|viewer| viewer.reads_closed).map(|viewer| viewer.id).collect();
        for id in judged {
            self.viewer_reads_closed(id);
        }
        self.diagnose_policy_known(severs);
    }
}
