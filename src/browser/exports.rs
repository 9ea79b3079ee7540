//! The `#[wasm_bindgen]` boundary: the one class the JavaScript facade forwards `GLANCE.Agent` to,
//! method for method and property for property (their names are listed once more, for calls made
//! before the module has loaded, in `crate::surface`; a test checks the two agree).
//!
//! A page's arguments arrive as `JsValue` and are read and checked here and in the modules it calls,
//! so no page input can make the generated glue throw. Synchronous calls throw an `Error` with a
//! `code`; calls that return a promise never throw, they reject.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::bus::{self, any_handler, named_handler, AgentEvent};
use super::diagnose;
use super::js::{self, to_error, Options};
use super::lookup::{self, OnFound};
use super::page;
use super::presence;
use super::signal::{call_signal, cancelable};
use super::signin;
use super::state::with_agent;
use super::viewer::{self, OpenOptions};
use crate::error::AgentError;
use crate::events::event_name;
use crate::protocol::{read_sessions, Failure, Reply, IN_SESSION_PATH};
use crate::settings::request_timeout;
use crate::url::Webserver;

type JsResult<T> = Result<T, JsValue>;

fn thrown<T>(result: Result<T, AgentError>) -> JsResult<T> {
    result.map_err(|error| to_error(&error))
}

/// A promise for a call whose `Result` is known at once.
fn settled(result: Result<JsValue, AgentError>) -> Promise {
    match result {
        Ok(value) => Promise::resolve(&value),
        Err(error) => js::rejected(error),
    }
}

/// `GLANCE.Agent`, as the module implements it.
#[wasm_bindgen(js_name = GlanceAgent)]
pub struct Agent;

impl Default for Agent {
    fn default() -> Self {
        Agent
    }
}

#[wasm_bindgen(js_class = GlanceAgent)]
impl Agent {
    /// The agent; every instance shares the one state.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Agent {
        Agent
    }

    /// `GLANCE.Agent.webserver`: the Glance server, default `https://www.glance.net`.
    #[wasm_bindgen(getter)]
    pub fn webserver(&self) -> String {
        with_agent(|agent| agent.settings.webserver.base().to_owned())
    }

    /// Sets the webserver: an http(s) URL without query, fragment or user info; throws
    /// `invalid_argument` and keeps the old value otherwise.
    #[wasm_bindgen(setter)]
    pub fn set_webserver(&self, value: JsValue) -> JsResult<()> {
        let url = value.as_string().and_then(|text| page::parse_url(&text));
        let webserver = thrown(Webserver::from_url(url))?;
        with_agent(|agent| agent.settings.webserver = webserver);
        Ok(())
    }

    /// `GLANCE.Agent.postParametersToViewer`: send the viewer its parameters by POST (default true).
    #[wasm_bindgen(getter = postParametersToViewer)]
    pub fn post_parameters_to_viewer(&self) -> bool {
        with_agent(|agent| agent.settings.post_parameters)
    }

    /// Sets `postParametersToViewer`: any value, read as true or false.
    #[wasm_bindgen(setter = postParametersToViewer)]
    pub fn set_post_parameters_to_viewer(&self, value: JsValue) {
        let post = value.is_truthy();
        with_agent(|agent| agent.settings.post_parameters = post);
    }

    /// `GLANCE.Agent.requestTimeout`: milliseconds one request may take (default 10000).
    #[wasm_bindgen(getter = requestTimeout)]
    pub fn request_timeout(&self) -> u32 {
        with_agent(|agent| agent.settings.request_timeout_ms)
    }

    /// Sets `requestTimeout`: whole milliseconds from 1 to 600000, else throws `invalid_argument`.
    #[wasm_bindgen(setter = requestTimeout)]
    pub fn set_request_timeout(&self, value: JsValue) -> JsResult<()> {
        let millis = thrown(request_timeout(value.as_f64()))?;
        with_agent(|agent| agent.settings.request_timeout_ms = millis);
        Ok(())
    }

    /// `authenticate(credentials)`: `{loginkey, partnerid, partneruserid}` (stored; throws
    /// `invalid_credentials` naming the field, keeping the previous ones), `{getLoginKey}` (asked for
    /// keys as calls need them; resolves once the first is held), or one identity-provider hint
    /// (`{idpid | idpname | idptoken | idpusername}`: a SAML sign-in; resolves once signed in).
    pub fn authenticate(&self, credentials: JsValue) -> JsResult<Promise> {
        thrown(signin::authenticate(credentials))
    }

    /// `logout()`: forgets the credentials, ends a sign-in under way and presence.
    pub fn logout(&self) {
        signin::logout();
        presence::stop_for_logout();
    }

    /// `lookupSession(key, wait = true)` or `lookupSession(key, {wait, signal})`.
    #[wasm_bindgen(js_name = lookupSession)]
    pub fn lookup_session(&self, key: JsValue, wait: JsValue) -> Promise {
        let call = || {
            let key = js::session_key(&key)?;
            if js::is_absent(&wait) || !js::is_object_like(&wait) {
                return Ok((key, js::is_absent(&wait) || wait.is_truthy(), None));
            }
            let options = Options::new(wait, "lookupSession takes wait as true/false or {wait, signal}")?;
            let waits = options.flag("wait", "params.wait must be true or false")?.unwrap_or(true);
            Ok((key, waits, call_signal(&options)?))
        };
        match call() {
            Ok((key, wait, signal)) => lookup::start(key, wait, signal, OnFound::Result),
            Err(error) => js::rejected(error),
        }
    }

    /// `cancelLookup()`: cancels the most recent lookup in progress.
    #[wasm_bindgen(js_name = cancelLookup)]
    pub fn cancel_lookup(&self) {
        lookup::cancel(None);
    }

    /// `joinSession(key, params)`: looks the session up and opens its viewer (or focuses the one open
    /// for it). A window viewer's window opens now, inside the agent's click.
    #[wasm_bindgen(js_name = joinSession)]
    pub fn join_session(&self, key: JsValue, params: JsValue) -> Promise {
        let (mut options, key) = match viewer_call(&key, params) {
            Ok(call) => call,
            Err(settled) => return settled,
        };
        // Blocked here, the viewer's own window opens (or is blocked) when the session is found.
        let _ = viewer::open_waiting_window(&key, &mut options);
        let (wait, signal) = (options.wait, options.signal.clone());
        lookup::start(key, wait, signal, OnFound::OpenViewer(options))
    }

    /// `openViewer(key, params)`: opens the viewer of a session (or focuses the one open for it), with
    /// the stored credentials if any.
    #[wasm_bindgen(js_name = openViewer)]
    pub fn open_viewer(&self, key: JsValue, params: JsValue) -> Promise {
        let (mut options, key) = match viewer_call(&key, params) {
            Ok(call) => call,
            Err(settled) => return settled,
        };
        match signin::held_now() {
            signin::Held::Ready(credentials) => settled(viewer::open_session(&key, &options, credentials)),
            signin::Held::Expired => js::rejected(AgentError::LoginKeyExpired),
            signin::Held::Renewing => {
                // The key is on its way: the window opens now, inside the click, and the viewer loads
                // into it once the key is here.
                let _ = viewer::open_waiting_window(&key, &mut options);
                let key_here = cancelable(options.signal.clone(), signin::for_call());
                js::promise(async move {
                    let credentials = key_here.await;
                    let opened =
                        credentials.and_then(|credentials| viewer::open_session(&key, &options, Some(credentials)));
                    if opened.is_err() {
                        viewer::close_waiting_window(&options);
                    }
                    opened
                })
            }
        }
    }

    /// `openAgentJoinURL(url, params)`: opens a viewer URL; only http(s). The credentials go with it
    /// only to the webserver's origin, and only an unexpired key.
    #[wasm_bindgen(js_name = openAgentJoinURL)]
    pub fn open_agent_join_url(&self, url: JsValue, params: JsValue) -> Promise {
        settled((|| {
            let url = url.as_string().ok_or(AgentError::InvalidUrl)?;
            let options = OpenOptions::from_params(params)?;
            viewer::open_join_url(&url, &options, signin::held_key())
        })())
    }

    /// `close(viewer)`: closes a viewer (its window, or the iframe) and fires `viewerClosed`.
    pub fn close(&self, viewer: JsValue) -> JsResult<()> {
        thrown(viewer::close(&viewer))
    }

    /// `inSession(key, {signal})`: whether the agent is in session `key`; with no key (or `""`), the
    /// list of sessions the agent is in. One `AgentInSession` request.
    #[wasm_bindgen(js_name = inSession)]
    pub fn in_session(&self, key: JsValue, params: JsValue) -> Promise {
        let call = || {
            let every = js::is_absent(&key) || key.as_string().is_some_and(|text| text.is_empty());
            let key = if every { String::new() } else { js::session_key(&key)? };
            let options = Options::new(params, "params must be an object of the documented options")?;
            Ok((key, call_signal(&options)?))
        };
        let (key, signal) = match call() {
            Ok(call) => call,
            Err(error) => return js::rejected(error),
        };
        AgentEvent::new().key(&key).fire("inSession");
        js::promise(cancelable(signal, async move {
            let credentials = signin::for_call().await?;
            AgentEvent::new().fire("inSessionLookup");
            let refused = |reply: &Reply| matches!(read_sessions(reply), Err(Failure::KeyRefused(_)));
            let (reply, _) = lookup::ask(IN_SESSION_PATH, &key, credentials, refused).await?;
            let sessions = read_sessions(&reply).map_err(|failure| failure.into_error())?;
            if key.is_empty() {
                return Ok(js::to_js(&sessions));
            }
            // The service answers about the key asked for; the list is checked all the same.
            Ok(JsValue::from_bool(sessions.iter().any(|session| session.passcode == key)))
        }))
    }

    /// `diagnose()`: a report of what a join needs. Called inside a click, it also tries a popup.
    pub fn diagnose(&self) -> Promise {
        diagnose::start()
    }

    /// `addEventListener(name, handler)`: `handler(eventname, eventdata)` for every `name` event.
    /// Returns a disposer that removes it.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, name: JsValue, handler: JsValue) -> JsResult<JsValue> {
        let (name, handler) = thrown(named_handler(&name, handler))?;
        Ok(bus::listen(Some(name), handler))
    }

    /// `addEventListenerAll(handler)`: `handler(eventname, eventdata)` for every event. Returns a
    /// disposer that removes it.
    #[wasm_bindgen(js_name = addEventListenerAll)]
    pub fn add_event_listener_all(&self, handler: JsValue) -> JsResult<JsValue> {
        let handler = thrown(any_handler(handler))?;
        Ok(bus::listen(None, handler))
    }

    /// `removeEventListener(name, handler)`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, name: JsValue, handler: JsValue) -> JsResult<()> {
        let (name, handler) = thrown(named_handler(&name, handler))?;
        with_agent(|agent| agent.listeners.remove(Some(&name), &handler));
        Ok(())
    }

    /// `removeEventListenerAll(handler)`.
    #[wasm_bindgen(js_name = removeEventListenerAll)]
    pub fn remove_event_listener_all(&self, handler: JsValue) -> JsResult<()> {
        let handler = thrown(any_handler(handler))?;
        with_agent(|agent| agent.listeners.remove(None, &handler));
        Ok(())
    }

    /// `once(name, {signal})`: the data of the next `name` event. Aborting `signal` removes the
    /// listener and rejects with `canceled`.
    pub fn once(&self, name: JsValue, options: JsValue) -> Promise {
        let call = || {
            let name = name.as_string().ok_or(AgentError::InvalidArgument(crate::events::EVENT_NAME_RULE))?;
            event_name(&name)?;
            let options = Options::new(options, "options must be {signal}")?;
            Ok((name, call_signal(&options)?))
        };
        match call() {
            Ok((name, signal)) => bus::once(name, signal),
            Err(error) => js::rejected(error),
        }
    }

    /// `presenceState`: `"idle"`, `"connecting"`, `"connected"` or `"reconnecting"`.
    #[wasm_bindgen(getter = presenceState)]
    pub fn presence_state(&self) -> String {
        presence::phase().to_owned()
    }

    /// `visitorConnected`: whether the watched visitor is on the site.
    #[wasm_bindgen(getter = visitorConnected)]
    pub fn visitor_connected(&self) -> bool {
        presence::visitor_connected()
    }

    /// `presenceConnect(visitorid, {signal, timeout})`: watches a visitor; resolves with their data
    /// when they are first seen on the site.
    #[wasm_bindgen(js_name = presenceConnect)]
    pub fn presence_connect(&self, visitor: JsValue, params: JsValue) -> Promise {
        presence::connect(visitor, params)
    }

    /// `presenceStartSession(key, invokeParams, joinParams)`: asks the visitor to start a session and
    /// joins it; resolves with the viewer.
    #[wasm_bindgen(js_name = presenceStartSession)]
    pub fn presence_start_session(&self, key: JsValue, invoke: JsValue, join: JsValue) -> Promise {
        presence::start_session(key, invoke, join)
    }

    /// `presenceDisconnect()`: closes the presence socket for good.
    #[wasm_bindgen(js_name = presenceDisconnect)]
    pub fn presence_disconnect(&self) {
        presence::disconnect();
    }

    /// `leaveSession(key)`: the agent leaves a session it is in; resolves whether the server took it.
    #[wasm_bindgen(js_name = leaveSession)]
    pub fn leave_session(&self, key: JsValue) -> Promise {
        presence::leave_session(key)
    }

    /// `end()`: leaves every session whose viewer this library opened and closes the viewers.
    pub fn end(&self) -> Promise {
        presence::end_sessions()
    }
}

/// A viewer call's options and session key; or, at once, its promise: rejected (bad arguments) or
/// resolved with the viewer already open for that key.
fn viewer_call(key: &JsValue, params: JsValue) -> Result<(OpenOptions, String), Promise> {
    let prepared = js::session_key(key).and_then(|key| Ok((OpenOptions::from_params(params)?.for_session(&key), key)));
    let (options, key) = prepared.map_err(js::rejected)?;
    match viewer::reuse(&key, &options) {
        Some(open) => Err(Promise::resolve(&open)),
        None => Ok((options, key)),
    }
}
