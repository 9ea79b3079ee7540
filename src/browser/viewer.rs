//! The agent viewer (PROTOCOL.md section 3): opened in a window or an iframe, by POST (credentials in
//! a form, never in a URL) or GET, then watched until it closes, so that `viewerClosed` fires exactly
//! once, or `viewerDetached` when the browser cut the window off from the console.

use gloo_timers::callback::Interval;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortSignal, Element, RequestMode};

use super::bus::AgentEvent;
use super::js::{self, Options};
use super::messages;
use super::page;
use super::request::{exchange, Read, Request};
use super::signal::call_signal;
use super::state::{with_agent, OpenerPolicy};
use crate::credentials::Credentials;
use crate::diagnose::policy_severs_popups;
use crate::error::AgentError;
use crate::events::{IFRAME_BLOCKED, POPUP_BLOCKED, VIEWER_CLOSED, VIEWER_DETACHED, VIEWER_OPENED};
use crate::protocol::{session_viewer_url, ViewerTarget, DEFAULT_WINDOW_FEATURES, DEFAULT_WINDOW_NAME};

/// How often open viewers are checked for having been closed by the agent.
const WATCH_INTERVAL_MS: u32 = 500;
const MAX_WINDOW_NAME_CHARS: usize = 256;
const MAX_WINDOW_FEATURES_CHARS: usize = 1024;
/// Longest agent name, e-mail or phone passed on to the viewer.
const MAX_AGENT_FIELD_CHARS: usize = 256;
/// The `reason` of `viewerDetached`.
const OPENER_SEVERED: &str = "opener_severed";
/// Names the library gives iframes it loads a viewer into by POST, with a number.
const FRAME_NAME: &str = "glance-viewer-";

/// A viewer the library opened and watches until it closes.
pub struct Viewer {
    pub id: u32,
    /// The viewer's `Window` (for an iframe, its `contentWindow`): what the page gets and what its
    /// messages come from.
    pub window: JsValue,
    /// The iframe element of a viewer shown in one.
    pub frame: Option<JsValue>,
    /// The session key, when the viewer was opened for one (`joinSession`, `openViewer`); cleared when
    /// its session ends.
    pub key: String,
}

/// Where and how to open the viewer: `params` of `joinSession`, `openViewer`, `openAgentJoinURL`.
pub struct OpenOptions {
    window_name: String,
    window_features: String,
    /// `params.iframe`, as the iframe element.
    frame: Option<JsValue>,
    /// `params.wait` for `joinSession`: whether the lookup waits for the session to start.
    pub wait: bool,
    /// What reaches the viewer page itself (PROTOCOL.md section 3): `wait`, `agentVideo`, `name`, …
    viewer_params: Vec<(&'static str, String)>,
    /// `params.reuse` (default true): focus the open viewer of the same session instead of a second one.
    reuse: bool,
    /// `params.signal`.
    pub signal: Option<AbortSignal>,
    /// The session key, kept with the viewer so that it can be reused.
    key: String,
    /// The "waiting for the customer" window a join opened inside the agent's click.
    waiting: Option<JsValue>,
}

const PARAMS_RULE: &str = "params must be an object of the documented options";
const WINDOW_NAME_RULE: &str = "params.windowName must be a string of at most 256 characters";
const WINDOW_FEATURES_RULE: &str = "params.windowFeatures must be a string of at most 1024 characters";
const IFRAME_RULE: &str = "params.iframe must be an iframe element or the id of one";
const FLAG_RULE: &str = "params.reuse, wait and agentVideo must be true or false";
const AGENT_FIELD_RULE: &str = "params.name, email and phone must be strings of at most 256 characters";

impl OpenOptions {
    /// Reads `params`; `undefined` or `null` mean every default.
    pub fn from_params(params: JsValue) -> Result<OpenOptions, AgentError> {
        let params = Options::new(params, PARAMS_RULE)?;
        let signal = call_signal(&params)?;
        let frame = match params.field("iframe", IFRAME_RULE)? {
            Some(value) => Some(iframe_of(&value).ok_or(AgentError::InvalidArgument(IFRAME_RULE))?),
            None => None,
        };
        let wait = params.flag("wait", FLAG_RULE)?;
        let agent_video = params.flag("agentVideo", FLAG_RULE)?;
        let mut viewer_params = Vec::new();
        for (name, flag) in [("wait", wait), ("agentVideo", agent_video)] {
            if let Some(on) = flag {
                viewer_params.push((name, if on { "1" } else { "0" }.to_owned()));
            }
        }
        for name in ["name", "email", "phone"] {
            if let Some(text) = params.text(name, MAX_AGENT_FIELD_CHARS, AGENT_FIELD_RULE)? {
                viewer_params.push((name, text));
            }
        }
        Ok(OpenOptions {
            window_name: params
                .text("windowName", MAX_WINDOW_NAME_CHARS, WINDOW_NAME_RULE)?
                .unwrap_or_else(|| DEFAULT_WINDOW_NAME.to_owned()),
            window_features: params
                .text("windowFeatures", MAX_WINDOW_FEATURES_CHARS, WINDOW_FEATURES_RULE)?
                .unwrap_or_else(|| DEFAULT_WINDOW_FEATURES.to_owned()),
            frame,
            wait: wait.unwrap_or(true),
            viewer_params,
            reuse: params.flag("reuse", FLAG_RULE)?.unwrap_or(true),
            signal,
            key: String::new(),
            waiting: None,
        })
    }

    /// For session `key` (kept with the viewer so that a later call can reuse it).
    pub fn for_session(mut self, key: &str) -> OpenOptions {
        self.key = key.to_owned();
        self
    }
}

/// `params.iframe` (an iframe element, or the id of one) as the element.
fn iframe_of(value: &JsValue) -> Option<JsValue> {
    let element = match value.as_string() {
        Some(id) => page::document()?.get_element_by_id(&id)?.into(),
        None => value.clone(),
    };
    let is_iframe = element.dyn_ref::<Element>().is_some()
        && js::get(&element, "localName").ok().and_then(|name| name.as_string()).as_deref() == Some("iframe");
    is_iframe.then_some(element)
}

/// The open viewer of session `key`, focused, when `options` allow reusing it.
pub fn reuse(key: &str, options: &OpenOptions) -> Option<JsValue> {
    if !options.reuse {
        return None;
    }
    let window = with_agent(|agent| agent.viewers.iter().find(|viewer| viewer.key == key).map(|v| v.window.clone()))?;
    if page::is_closed(&window) {
        return None; // closed, and the watcher has not noticed yet: a new viewer it is
    }
    let _ = js::call_method(&window, "focus");
    Some(window)
}

/// What the waiting window shows.
fn waiting_text(key: &str) -> String {
    ["Waiting for the customer to start session ", key, "…"].concat()
}

/// Opens the viewer's window now, inside the agent's click, where popup blockers allow it; the join
/// loads the viewer into it later. Without it (blocked, or an iframe viewer) the viewer's own window
/// opens when the session is found, as the production script does. False when the popup was blocked.
pub fn open_waiting_window(key: &str, options: &mut OpenOptions) -> bool {
    if options.frame.is_some() {
        return true;
    }
    let window = page::open_window("about:blank", &options.window_name, &options.window_features);
    if let Some(window) = &window {
        // A window that is not ours to label is still the one to load the viewer into.
        page::label_window(window, &waiting_text(key));
        learn_opener_policy();
    }
    options.waiting = window;
    options.waiting.is_some()
}

/// The page hears that the viewer's window was blocked: `popupblocked`, and the error to reject with.
pub fn popup_blocked() -> AgentError {
    AgentEvent::new().fire(POPUP_BLOCKED);
    AgentError::PopupBlocked
}

/// Closes the waiting window of a join that will not show a viewer.
pub fn close_waiting_window(options: &OpenOptions) {
    if let Some(window) = &options.waiting {
        page::close_window(window);
    }
}

/// Opens a viewer URL (a lookup's `agentjoinurl`, or what `openAgentJoinURL` was given). Credentials
/// go with it when they are unexpired.
pub fn open_join_url(
    url: &str,
    options: &OpenOptions,
    credentials: Option<Credentials>,
) -> Result<JsValue, AgentError> {
    // Parsed before borrowing the state: `URL` is a global the page could replace.
    let url = page::parse_url(url);
    let now = js::now_seconds();
    let credentials = credentials.filter(|credentials| !credentials.login_key().is_expired_at(now));
    let target = with_agent(|agent| ViewerTarget::new(&agent.settings.webserver, url, credentials.as_ref()))?;
    open(target, options)
}

/// Opens the viewer of session `key` (`openViewer`), with `credentials` if any.
pub fn open_session(key: &str, options: &OpenOptions, credentials: Option<Credentials>) -> Result<JsValue, AgentError> {
    let url = with_agent(|agent| session_viewer_url(&agent.settings.webserver, key));
    open_join_url(&url, options, credentials)
}

/// Opens `target` as `options` say, fires `viewerOpened`, and returns the viewer's window.
fn open(mut target: ViewerTarget, options: &OpenOptions) -> Result<JsValue, AgentError> {
    target.add_params(options.viewer_params.iter().cloned());
    let post = with_agent(|agent| agent.settings.post_parameters);
    let Some(window) = load(&target, options, post) else {
        let (event, error) = match options.frame {
            Some(_) => (IFRAME_BLOCKED, AgentError::IframeBlocked),
            None => (POPUP_BLOCKED, AgentError::PopupBlocked),
        };
        AgentEvent::new().fire(event);
        return Err(error);
    };
    let id = with_agent(|agent| {
        // The same window opened again (a named window reused) stays one viewer.
        agent.viewers.retain(|viewer| viewer.window != window);
        let id = agent.next_id();
        let viewer = Viewer { id, window: window.clone(), frame: options.frame.clone(), key: options.key.clone() };
        agent.viewers.push(viewer);
        id
    });
    if options.frame.is_none() {
        learn_opener_policy();
    }
    watch();
    messages::listen();
    let close = Closure::<dyn FnMut()>::new(move || finish(id, Ending::Closed { close_it: true })).into_js_value();
    AgentEvent::new().close(close).fire(VIEWER_OPENED);
    Ok(window)
}

/// Loads the viewer: into the iframe when there is one, else into the join's waiting window while it
/// is open, else into a new window; by POST of the form or GET of the URL. The viewer's window, or
/// `None` when the browser or the page refused (a window opened for nothing is closed again).
fn load(target: &ViewerTarget, options: &OpenOptions, post: bool) -> Option<JsValue> {
    if let Some(frame) = &options.frame {
        let view = js::get(frame, "contentWindow").ok().filter(js::is_object_like)?;
        if !post {
            return page::set(frame, "src", &target.get_url()).then_some(view);
        }
        let mut name = js::get(frame, "name").ok().and_then(|name| name.as_string()).unwrap_or_default();
        if name.is_empty() {
            // The attribute alone does not rename a frame that already exists; its window's name does.
            name = [FRAME_NAME, &with_agent(|agent| agent.next_id()).to_string()].concat();
            page::set(frame, "name", &name);
            page::set(&view, "name", &name);
        }
        return post_into(&view, &name, target).then_some(view);
    }
    let waiting = options.waiting.clone().filter(|window| !page::is_closed(window));
    let view = match (waiting, post) {
        (Some(waiting), true) => waiting,
        (Some(waiting), false) => page::set(&waiting, "location", &target.get_url()).then_some(waiting)?,
        (None, true) => page::open_window("about:blank", &options.window_name, &options.window_features)?,
        (None, false) => page::open_window(&target.get_url(), &options.window_name, &options.window_features)?,
    };
    if post && !post_into(&view, &options.window_name, target) {
        page::close_window(&view);
        return None;
    }
    Some(view)
}

/// Submits the viewer's form into `view`: from its own document when it is ours (a fresh
/// `about:blank`), else from the page's, aimed at it by `name` (which must be a real name, not `_blank`).
fn post_into(view: &JsValue, name: &str, target: &ViewerTarget) -> bool {
    let fields = target.post_fields();
    match page::root_of(view) {
        Some(root) => page::submit_form(&root, target.post_action(), None, &fields),
        None if !name.is_empty() && !name.starts_with('_') => page::document()
            .and_then(|document| document.document_element())
            .is_some_and(|root| page::submit_form(&root, target.post_action(), Some(name), &fields)),
        None => false,
    }
}

/// Starts the closed-viewer watcher if it is not running.
fn watch() {
    if with_agent(|agent| agent.watcher.is_some()) {
        return;
    }
    let interval = Interval::new(WATCH_INTERVAL_MS, check_viewers);
    let unused = with_agent(|agent| agent.watcher.replace(interval));
    drop(unused);
}

/// Finds viewers that closed (a window the agent closed, an iframe removed from the page) and ends them.
fn check_viewers() {
    let open: Vec<(u32, JsValue, bool)> =
        with_agent(|agent| agent.viewers.iter().map(|v| (v.id, v.window.clone(), v.frame.is_some())).collect());
    for (id, window, in_frame) in open {
        if !page::is_closed(&window) {
            continue;
        }
        // A window reads as closed, too, when the browser severed it from a page served with
        // `Cross-Origin-Opener-Policy: same-origin`: it is open, but out of reach.
        let ending = match (in_frame, with_agent(|agent| agent.opener_policy)) {
            (true, _) | (false, OpenerPolicy::Known(false)) => Ending::Closed { close_it: false },
            (false, OpenerPolicy::Known(true)) => Ending::Detached,
            (false, OpenerPolicy::Unknown | OpenerPolicy::Reading) => continue, // being read: judged when known
        };
        finish(id, ending);
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

/// Ends viewer `id` once: closes it if asked, stops watching when none is left, fires the event.
fn finish(id: u32, ending: Ending) {
    let (viewer, idle_watcher) = with_agent(|agent| {
        let at = agent.viewers.iter().position(|viewer| viewer.id == id);
        let viewer = at.map(|at| agent.viewers.remove(at));
        let idle = if agent.viewers.is_empty() { agent.watcher.take() } else { None };
        (viewer, idle)
    });
    drop(idle_watcher);
    messages::release_if_idle();
    let Some(viewer) = viewer else { return };
    match ending {
        Ending::Closed { close_it } => {
            if close_it {
                match &viewer.frame {
                    Some(frame) => {
                        page::set(frame, "src", "about:blank");
                    }
                    None => page::close_window(&viewer.window),
                }
            }
            AgentEvent::new().fire(VIEWER_CLOSED);
        }
        Ending::Detached => AgentEvent::new().reason(OPENER_SEVERED).fire(VIEWER_DETACHED),
    }
}

/// `close(viewer)`: the viewer's window, or its iframe element. One that has already closed, or was
/// not opened here, needs nothing more.
pub fn close(viewer: &JsValue) -> Result<(), AgentError> {
    if !js::is_object_like(viewer) {
        return Err(AgentError::InvalidArgument("close() takes a viewer that joinSession or openViewer returned"));
    }
    let id = with_agent(|agent| {
        agent.viewers.iter().find(|v| v.window == *viewer || v.frame.as_ref() == Some(viewer)).map(|v| v.id)
    });
    if let Some(id) = id {
        finish(id, Ending::Closed { close_it: true });
    }
    Ok(())
}

/// Closes every viewer (`end()`), each firing `viewerClosed`.
pub fn close_all() {
    let open: Vec<u32> = with_agent(|agent| agent.viewers.iter().map(|viewer| viewer.id).collect());
    for id in open {
        finish(id, Ending::Closed { close_it: true });
    }
}

/// Starts reading this page's `Cross-Origin-Opener-Policy` once, in the background, so that a
/// viewer window that reads as closed can be told severed from closed.
fn learn_opener_policy() {
    let unknown = with_agent(|agent| {
        let unknown = agent.opener_policy == OpenerPolicy::Unknown;
        if unknown {
            agent.opener_policy = OpenerPolicy::Reading;
        }
        unknown
    });
    if unknown {
        spawn_local(async {
            read_opener_policy().await;
        });
    }
}

/// Whether this page's windows on another origin are cut off from it (see [`read_opener_policy`]).
pub async fn page_severs_popups() -> bool {
    match with_agent(|agent| agent.opener_policy) {
        OpenerPolicy::Known(severs) => severs,
        _ => read_opener_policy().await,
    }
}

/// Reads whether this page's windows on another origin are cut off from it: it is cross-origin
/// isolated, or its own `Cross-Origin-Opener-Policy` header is `same-origin` (a HEAD request).
async fn read_opener_policy() -> bool {
    let isolated = js::get(&js_sys::global(), "crossOriginIsolated").is_ok_and(|isolated| isolated.is_truthy());
    let (href, _) = page::location();
    let timeout = with_agent(|agent| agent.settings.request_timeout_ms);
    let request = Request { mode: RequestMode::SameOrigin, ..Request::new("HEAD", &href) };
    let header = exchange(&request, timeout, Read::Header("Cross-Origin-Opener-Policy")).await;
    let header = header.map(|answer| answer.text).unwrap_or_default();
    let severs = isolated || policy_severs_popups(&header);
    with_agent(|agent| agent.opener_policy = OpenerPolicy::Known(severs));
    severs
}
