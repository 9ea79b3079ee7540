//! The agent viewer (PROTOCOL.md section 3): opened in a window or an iframe, by POST (credentials in
//! a form, never in a URL) or GET, then watched until it closes so `viewerClosed` fires exactly once.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;
use web_sys::Element;

use super::agent::{with_agent, Viewer};
use super::dispatch::fire;
use super::js;
use super::messages;
use super::timer::Timer;
use crate::encoding::push_decimal;
use crate::error::AgentError;
use crate::events::{IFRAME_BLOCKED, POPUP_BLOCKED, VIEWER_CLOSED, VIEWER_OPENED};
use crate::protocol::{ViewerTarget, DEFAULT_WINDOW_FEATURES, DEFAULT_WINDOW_NAME};

/// Opens a viewer URL (a lookup's `agentjoinurl`), with the credentials if they are still valid.
pub fn open_join_url(url: &str, options: &OpenOptions) -> Result<JsValue, AgentError> {
    let now = js::now_seconds();
    // Parsed before borrowing the state: `URL` is a global the page could replace.
    let url = js::parse_url(url);
    let target = with_agent(|agent| {
        let credentials = agent.credentials.as_ref().filter(|c| !c.login_key().is_expired_at(now));
        ViewerTarget::for_url(&agent.webserver, url, credentials)
    });
    open(&target?, options)
}

/// How often open viewers are checked for having been closed by the agent.
const WATCH_INTERVAL_MS: u32 = 500;
const MAX_WINDOW_NAME_LEN: usize = 256;
/// What every malformed `params` is told.
const PARAMS: &str = "params must be an object {windowName, windowFeatures, iframe, wait}";
const MAX_WINDOW_FEATURES_LEN: usize = 1024;

/// Where and how to open the viewer: `params` of `joinSession`, `openViewer`, `openAgentJoinURL`.
pub struct OpenOptions {
    pub window_name: String,
    pub window_features: String,
    pub frame: Option<Element>,
    /// `params.wait` for `joinSession`: whether the lookup waits for the session to start.
    pub wait: bool,
    /// The "waiting for the customer" window `joinSession` opened inside the agent's click.
    pub waiting: Option<JsValue>,
}

impl OpenOptions {
    /// Reads `params`; `undefined` or `null` mean all defaults.
    pub fn from_params(params: &JsValue) -> Result<OpenOptions, AgentError> {
        let mut options = OpenOptions {
            window_name: DEFAULT_WINDOW_NAME.to_owned(),
            window_features: DEFAULT_WINDOW_FEATURES.to_owned(),
            frame: None,
            wait: true,
            waiting: None,
        };
        if js::is_absent(params) {
            return Ok(options);
        }
        if !js::is_object_like(params) {
            return Err(AgentError::InvalidArgument(PARAMS));
        }
        let read = |key: &str| js::get(params, key).map_err(|_| AgentError::InvalidArgument(PARAMS));
        if let Some(name) = optional_text(read("windowName")?, MAX_WINDOW_NAME_LEN)? {
            options.window_name = name;
        }
        let features = read("windowFeatures")?;
        if let Some(features) = optional_text(features, MAX_WINDOW_FEATURES_LEN)? {
            options.window_features = features;
        }
        options.frame = frame_from(&read("iframe")?)?;
        let wait = read("wait")?;
        options.wait = js::is_absent(&wait) || wait.is_truthy();
        Ok(options)
    }
}

fn optional_text(value: JsValue, max_len: usize) -> Result<Option<String>, AgentError> {
    if js::is_absent(&value) {
        return Ok(None);
    }
    match value.as_string() {
        Some(text) if text.len() <= max_len => Ok(Some(text)),
        _ => Err(AgentError::InvalidArgument(PARAMS)),
    }
}

/// `params.iframe`: an iframe element, or the id of one.
fn frame_from(value: &JsValue) -> Result<Option<Element>, AgentError> {
    if js::is_absent(value) {
        return Ok(None);
    }
    let element: Option<Element> = match value.as_string() {
        Some(id) => js::element_by_id(&id).ok().flatten(),
        None => value.dyn_ref::<Element>().cloned(),
    };
    match element {
        Some(element) if element.tag_name().eq_ignore_ascii_case("iframe") => Ok(Some(element)),
        _ => Err(AgentError::InvalidArgument(PARAMS)),
    }
}

/// Opens `target` as `options` say, fires `viewerOpened`, and returns the viewer's window.
pub fn open(target: &ViewerTarget, options: &OpenOptions) -> Result<JsValue, AgentError> {
    let post = with_agent(|agent| agent.post_parameters);
    let window = match &options.frame {
        Some(frame) => load_in_frame(frame, target, post)?,
        None => load_in_window(target, options, post)?,
    };
    let id = with_agent(|agent| {
        // The same window opened again (a named window reused) stays one viewer.
        agent.viewers.retain(|viewer| viewer.window != window);
        let id = agent.next_id();
        agent.viewers.push(Viewer { id, window: window.clone(), frame: options.frame.clone() });
        id
    });
    watch();
    messages::listen();
    let data = js::agent_event();
    js::set(&data, "close", &js::callback(move |_| finish(id, true)));
    fire(VIEWER_OPENED, &data);
    Ok(window)
}

fn load_in_window(target: &ViewerTarget, options: &OpenOptions, post: bool) -> Result<JsValue, AgentError> {
    let url = if post { "about:blank".to_owned() } else { target.get_url() };
    // The waiting window still shows our about:blank page: POST into it, or send it to the viewer URL.
    let opened = match options.waiting.as_ref().filter(|window| !is_closed(window)) {
        Some(window) if post || js::try_set_str(window, "location", &url) => window.clone(),
        _ => js::open_window(&url, &options.window_name, &options.window_features).unwrap_or(JsValue::NULL),
    };
    let loaded = js::is_object_like(&opened) && (!post || self::post(&opened, &options.window_name, target));
    if !loaded {
        if js::is_object_like(&opened) {
            let _ = js::call_method(&opened, "close");
        }
        fire(POPUP_BLOCKED, &js::agent_event());
        return Err(AgentError::PopupBlocked);
    }
    Ok(opened)
}

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// POSTs the viewer into `view`: its document when it is ours (a fresh `about:blank`), else by
    /// naming it (`name`) as the form's target. False if the page or the browser refused.
    #[wasm_bindgen(js_name = postViewer)]
    fn post_viewer(view: &JsValue, name: &str, action: &str, body: &str) -> bool;

    /// Opens `about:blank` as window `name` and shows that session `key` is awaited; null if blocked.
    #[wasm_bindgen(js_name = openWaiting)]
    fn open_waiting(key: &str, name: &str, features: &str) -> JsValue;
}

/// Opens the viewer's window now, inside the agent's click, where popup blockers allow it; the lookup
/// loads the viewer into it later. Without it (blocked, or an iframe viewer) the lookup opens its own
/// window when it finds the session, as the production script does.
pub fn open_waiting_window(key: &str, options: &mut OpenOptions) {
    if options.frame.is_none() {
        options.waiting =
            Some(open_waiting(key, &options.window_name, &options.window_features)).filter(js::is_object_like);
    }
}

/// Closes the waiting window of a join that will not show a viewer.
pub fn close_waiting_window(options: &OpenOptions) {
    if let Some(window) = &options.waiting {
        let _ = js::call_method(window, "close");
    }
}

fn is_closed(window: &JsValue) -> bool {
    js::get(window, "closed").map_or(true, |closed| closed.is_truthy())
}

fn post(view: &JsValue, name: &str, target: &ViewerTarget) -> bool {
    post_viewer(view, name, target.post_action(), &target.post_body())
}

/// The iframe's window, loaded with the viewer; `None` if the iframe has none (not in a document).
fn load_in_frame(frame: &Element, target: &ViewerTarget, post_it: bool) -> Result<JsValue, AgentError> {
    let window = js::get(frame, "contentWindow").ok().filter(JsValue::is_object);
    let loaded = window.filter(|window| {
        if !post_it {
            return frame.set_attribute("src", &target.get_url()).is_ok();
        }
        let mut name = js::get(frame, "name").ok().and_then(|name| name.as_string()).unwrap_or_default();
        if name.is_empty() {
            name.push_str("glance-viewer-");
            push_decimal(&mut name, u64::from(with_agent(|agent| agent.next_id())));
            // The attribute alone does not rename a frame that already exists; its window's name does
            // (possible while the frame still shows our origin, which an unnamed frame normally does).
            let _ = frame.set_attribute("name", &name);
            if !js::try_set_str(window, "name", &name) {
                return false;
            }
        }
        post(window, &name, target)
    });
    loaded.ok_or_else(|| {
        fire(IFRAME_BLOCKED, &js::agent_event());
        AgentError::IframeBlocked
    })
}

/// Starts the closed-viewer watcher if it is not running.
fn watch() {
    if with_agent(|agent| agent.watcher.is_some()) {
        return;
    }
    let interval = Timer::every(WATCH_INTERVAL_MS, check_viewers);
    with_agent(|agent| agent.watcher = interval);
}

/// Finds viewers the agent closed (window closed, iframe removed) and finishes them.
fn check_viewers() {
    let open: Vec<(u32, JsValue)> =
        with_agent(|agent| agent.viewers.iter().map(|v| (v.id, v.window.clone())).collect());
    for (id, window) in open {
        // A closed window, and the window of an iframe removed from the page, both report `closed`.
        if is_closed(&window) {
            finish(id, false);
        }
    }
}

/// Ends viewer `id` once: optionally closes it, stops watching when none is left, fires `viewerClosed`.
pub fn finish(id: u32, close_it: bool) {
    let (viewer, idle_watcher) = with_agent(|agent| {
        let viewer = agent.take_viewer(id);
        let idle = if agent.viewers.is_empty() { agent.watcher.take() } else { None };
        (viewer, idle)
    });
    drop(idle_watcher);
    let Some(viewer) = viewer else { return };
    if close_it {
        let _ = match &viewer.frame {
            Some(frame) => frame.set_attribute("src", "about:blank").map(|_| JsValue::UNDEFINED),
            None => js::call_method(&viewer.window, "close"),
        };
    }
    fire(VIEWER_CLOSED, &js::agent_event());
}

/// `close(viewer)`: the viewer's window, or its iframe element.
pub fn close(viewer: &JsValue) -> Result<(), AgentError> {
    if !js::is_object_like(viewer) {
        return Err(AgentError::InvalidArgument("close() takes a viewer that joinSession or openViewer returned"));
    }
    let id = with_agent(|agent| {
        let is_it =
            |v: &Viewer| v.window == *viewer || v.frame.as_ref().is_some_and(|frame| JsValue::from(frame) == *viewer);
        agent.viewers.iter().find(|v| is_it(v)).map(|v| v.id)
    });
    // A viewer that has already closed, or was not opened here, needs nothing more.
    if let Some(id) = id {
        finish(id, true);
    }
    Ok(())
}
