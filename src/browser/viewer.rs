//! The agent viewer (PROTOCOL.md section 3): opened in a window or an iframe, by POST (credentials in
//! a form, never in a URL) or GET, then watched until it closes so `viewerClosed` fires exactly once.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;

use super::agent::{with_agent, Viewer};
use super::dispatch::fire;
use super::js;
use super::messages;
use super::timer::Timer;
use crate::error::AgentError;
use crate::events::{IFRAME_BLOCKED, POPUP_BLOCKED, VIEWER_CLOSED, VIEWER_OPENED};
use crate::protocol::{
    session_viewer_url, ViewerTarget, DEFAULT_WINDOW_FEATURES, DEFAULT_WINDOW_NAME, FIRST_VIEWER_PARAM, OPTION_FIELDS,
    VIEWER_FLAG_COUNT, VIEWER_PARAMS,
};

/// Opens a viewer URL: a lookup's `agentjoinurl`, or `openViewer`'s [`session_viewer_url`]. Credentials
/// go with it when they are still valid; `refuse_expired` makes an expired key an error instead.
pub fn open_join_url(url: &str, options: &OpenOptions, refuse_expired: bool) -> Result<JsValue, AgentError> {
    let now = js::now_seconds();
    // Parsed before borrowing the state: `URL` is a global the page could replace.
    let url = js::parse_url(url);
    let query = decode_query(url.as_ref().map_or("", |url| url.query()));
    let target = with_agent(|agent| {
        let credentials = agent.credentials.as_ref();
        let expired = credentials.is_some_and(|c| c.login_key().is_expired_at(now));
        if expired && refuse_expired {
            return Err(AgentError::LoginKeyExpired);
        }
        ViewerTarget::for_url(&agent.webserver, url, credentials.filter(|_| !expired), |_| query)
    });
    open(target?, options)
}

/// A query's parameters, decoded by the browser's `URLSearchParams` as the server will decode them.
fn decode_query(query: &str) -> Vec<(String, String)> {
    let flat = query_pairs(query);
    let text = |at: u32| flat.get(at).as_string().unwrap_or_default();
    (0..flat.length() / 2).map(|pair| (text(2 * pair), text(2 * pair + 1))).collect()
}

/// Opens the viewer of session `key` (`openViewer`).
pub fn open_session(key: &str, options: &OpenOptions) -> Result<JsValue, AgentError> {
    let url = with_agent(|agent| session_viewer_url(&agent.webserver, key));
    open_join_url(&url, options, true)
}

/// How often open viewers are checked for having been closed by the agent.
const WATCH_INTERVAL_MS: u32 = 500;
const MAX_WINDOW_NAME_LEN: usize = 256;
/// What every malformed `params` is told.
const PARAMS: &str = "params must be an object of the documented options";
const MAX_WINDOW_FEATURES_LEN: usize = 1024;
/// Longest agent name, e-mail or phone passed on to the viewer.
const MAX_AGENT_FIELD_LEN: usize = 256;

/// Where and how to open the viewer: `params` of `joinSession`, `openViewer`, `openAgentJoinURL`.
pub struct OpenOptions {
    pub window_name: String,
    pub window_features: String,
    /// `params.iframe`, resolved to the iframe element.
    pub frame: Option<JsValue>,
    /// `params.wait` for `joinSession`: whether the lookup waits for the session to start.
    pub wait: bool,
    /// The "waiting for the customer" window `joinSession` opened inside the agent's click.
    pub waiting: Option<JsValue>,
    /// What reaches the viewer page itself (PROTOCOL.md section 3): `wait`, `agentVideo`, `name`, …
    pub viewer_params: Vec<(&'static str, String)>,
    /// `params.reuse` (default true): focus the open viewer of the same session instead of a second one.
    pub reuse: bool,
    /// The session key, remembered with the viewer so that it can be reused.
    pub key: String,
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
            viewer_params: Vec::new(),
            reuse: true,
            key: String::new(),
        };
        if js::is_absent(params) {
            return Ok(options);
        }
        let values = js::read_fields(params, OPTION_FIELDS);
        if !js::is_object_like(params) || values.length() == 0 {
            return Err(AgentError::InvalidArgument(PARAMS));
        }
        let value = |at: usize| values.get(at as u32);
        if let Some(name) = optional_text(value(0), MAX_WINDOW_NAME_LEN)? {
            options.window_name = name;
        }
        if let Some(features) = optional_text(value(1), MAX_WINDOW_FEATURES_LEN)? {
            options.window_features = features;
        }
        let frame = value(2);
        if !js::is_absent(&frame) {
            options.frame = iframe_of(&frame).ok().filter(JsValue::is_object);
            if options.frame.is_none() {
                return Err(AgentError::InvalidArgument(PARAMS));
            }
        }
        options.reuse = value(3) != JsValue::FALSE;
        for (index, name) in VIEWER_PARAMS.into_iter().enumerate() {
            let value = value(FIRST_VIEWER_PARAM + index);
            if js::is_absent(&value) {
                continue;
            }
            let text = if index < VIEWER_FLAG_COUNT {
                let on = value.is_truthy();
                // `wait` also decides whether the join's lookup waits for the session to start.
                options.wait &= on || index > 0;
                String::from(if on { "1" } else { "0" })
            } else {
                optional_text(value, MAX_AGENT_FIELD_LEN)?.unwrap_or_default()
            };
            options.viewer_params.push((name, text));
        }
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

/// The open viewer of session `key`, focused, when `options` allow reusing it.
pub fn reuse(key: &str, options: &OpenOptions) -> Option<JsValue> {
    if !options.reuse {
        return None;
    }
    let window = with_agent(|agent| agent.viewers.iter().find(|viewer| viewer.key == key).map(|v| v.window.clone()))?;
    if is_closed(&window) {
        return None; // closed, and the watcher has not noticed yet: a new viewer it is
    }
    let _ = js::call_method(&window, "focus");
    Some(window)
}

/// Opens `target` as `options` say, fires `viewerOpened`, and returns the viewer's window.
fn open(mut target: ViewerTarget, options: &OpenOptions) -> Result<JsValue, AgentError> {
    target.add_params(&options.viewer_params);
    let post = with_agent(|agent| agent.post_parameters);
    // Only the form the viewer is loaded by is built.
    let (url, body) = if post { (String::new(), target.post_body()) } else { (target.get_url(), String::new()) };
    let window = load_viewer(
        options.frame.as_ref().unwrap_or(&JsValue::NULL),
        options.waiting.as_ref().unwrap_or(&JsValue::NULL),
        &options.window_name,
        &options.window_features,
        post,
        &url,
        target.post_action(),
        &body,
    );
    if !js::is_object_like(&window) {
        let (event, error) = match options.frame {
            Some(_) => (IFRAME_BLOCKED, AgentError::IframeBlocked),
            None => (POPUP_BLOCKED, AgentError::PopupBlocked),
        };
        fire(event, &js::agent_event());
        return Err(error);
    }
    let id = with_agent(|agent| {
        // The same window opened again (a named window reused) stays one viewer.
        agent.viewers.retain(|viewer| viewer.window != window);
        let id = agent.next_id();
        agent.viewers.push(Viewer {
            id,
            window: window.clone(),
            frame: options.frame.clone(),
            key: options.key.clone(),
        });
        id
    });
    watch();
    messages::listen();
    let data = js::agent_event();
    js::set(&data, "close", &js::callback(move |_| finish(id, true)));
    fire(VIEWER_OPENED, &data);
    Ok(window)
}

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// Loads the viewer into `frame` (an iframe element, or null), else into the `waiting` window
    /// while it is open, else into a new window; by POST of `body` to `action`, or GET of `url`.
    /// The viewer's window, or null when the browser or the page refused.
    #[wasm_bindgen(js_name = loadViewer)]
    #[allow(clippy::too_many_arguments)]
    fn load_viewer(
        frame: &JsValue,
        waiting: &JsValue,
        name: &str,
        features: &str,
        post: bool,
        url: &str,
        action: &str,
        body: &str,
    ) -> JsValue;

    /// `params.iframe` (an iframe element, or the id of one) as the element; null if it is neither.
    #[wasm_bindgen(catch, js_name = iframeOf)]
    fn iframe_of(value: &JsValue) -> Result<JsValue, JsValue>;

    /// The parameters of `query` as `[name, value, name, value, …]`, decoded.
    #[wasm_bindgen(js_name = queryPairs)]
    fn query_pairs(query: &str) -> js_sys::Array;

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
        match &viewer.frame {
            Some(frame) => {
                js::try_set_str(frame, "src", "about:blank");
            }
            None => {
                let _ = js::call_method(&viewer.window, "close");
            }
        }
    }
    fire(VIEWER_CLOSED, &js::agent_event());
}

/// `close(viewer)`: the viewer's window, or its iframe element.
pub fn close(viewer: &JsValue) -> Result<(), AgentError> {
    if !js::is_object_like(viewer) {
        return Err(AgentError::InvalidArgument("close() takes a viewer that joinSession or openViewer returned"));
    }
    let id = with_agent(|agent| {
        let is_it = |v: &Viewer| v.window == *viewer || v.frame.as_ref() == Some(viewer);
        agent.viewers.iter().find(|v| is_it(v)).map(|v| v.id)
    });
    // A viewer that has already closed, or was not opened here, needs nothing more.
    if let Some(id) = id {
        finish(id, true);
    }
    Ok(())
}
