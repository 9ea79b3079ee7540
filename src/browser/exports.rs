//! The `#[wasm_bindgen]` boundary: the one class the JavaScript facade forwards `GLANCE.Agent` to,
//! method for method and property for property, all static (the module has one agent, so a member
//! needs no instance, and wasm-bindgen then writes no borrow of one into each wrapper: 1,214 B gzip
//! less than instance members). Their names are listed once more, for calls made before the module
//! has loaded, in `crate::surface`; a test checks the two agree.
//!
//! Each export only reads the page's arguments into typed values and hands them to the agent through
//! the driver; it is kept out of wasm-bindgen's wrapper (`inline(never)`), so each wrapper stays a
//! conversion. Synchronous calls throw an `Error` with a `code`; calls that return a promise never
//! throw, they reject.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::driver::{self, call, callback, input, read, rejected, with, Kind};
use super::js::{self, to_error, Options};
use super::page;
use super::signal::call_signal;
use crate::agent::{Call, Handler, Input, ViewerOptions};
use crate::credentials::{CredentialsInput, PartnerIdInput, SsoHint, CREDENTIALS_RULE, SSO_HINTS};
use crate::error::AgentError;
use crate::events::{event_name, EVENT_NAME_RULE};
use crate::json::Json;
use crate::presence::{is_invokable, visitor_id, SHOW_TERMS, VISITOR_ID_RULE};
use crate::settings::request_timeout;
use crate::url::Webserver;

type JsResult<T> = Result<T, JsValue>;

fn thrown<T>(result: Result<T, AgentError>) -> JsResult<T> {
    result.map_err(|error| to_error(&error))
}

/// The promise of a call whose arguments were refused, or of the call they start.
fn started(arguments: Result<Promise, AgentError>) -> Promise {
    arguments.unwrap_or_else(rejected)
}

/// `GLANCE.Agent`, as the module implements it: the class itself, whose static members are the API.
#[wasm_bindgen(js_name = GlanceAgent)]
pub struct Agent;

#[wasm_bindgen(js_class = GlanceAgent)]
impl Agent {
    /// Called by the loader once the module is there (not a member of the API): the agent starts
    /// looking, once the page has loaded, for the viewers this tab opened before a reload. Later
    /// calls do nothing.
    pub fn start() {
        driver::start();
    }

    /// `GLANCE.Agent.webserver`: the Glance server, default `https://www.glance.net`.
    #[wasm_bindgen(getter)]
    #[inline(never)]
    pub fn webserver() -> String {
        read(|agent| agent.settings.webserver.base().to_owned())
    }

    /// Sets the webserver: an http(s) URL without query, fragment or user info; throws
    /// `invalid_argument` and keeps the old value otherwise.
    #[wasm_bindgen(setter)]
    #[inline(never)]
    pub fn set_webserver(value: JsValue) -> JsResult<()> {
        let url = value.as_string().and_then(|text| page::parse_url(&text));
        let webserver = thrown(Webserver::from_url(url))?;
        with(|driver| driver.agent.settings.webserver = webserver);
        Ok(())
    }

    /// `GLANCE.Agent.postParametersToViewer`: send the viewer its parameters by POST (default true).
    #[wasm_bindgen(getter = postParametersToViewer)]
    #[inline(never)]
    pub fn post_parameters_to_viewer() -> bool {
        read(|agent| agent.settings.post_parameters)
    }

    /// Sets `postParametersToViewer`: any value, read as true or false.
    #[wasm_bindgen(setter = postParametersToViewer)]
    #[inline(never)]
    pub fn set_post_parameters_to_viewer(value: JsValue) {
        let post = value.is_truthy();
        with(|driver| driver.agent.settings.post_parameters = post);
    }

    /// `GLANCE.Agent.requestTimeout`: milliseconds one request may take (default 10000).
    #[wasm_bindgen(getter = requestTimeout)]
    #[inline(never)]
    pub fn request_timeout() -> u32 {
        read(|agent| agent.settings.request_timeout_ms)
    }

    /// Sets `requestTimeout`: whole milliseconds from 1 to 600000, else throws `invalid_argument`.
    #[wasm_bindgen(setter = requestTimeout)]
    #[inline(never)]
    pub fn set_request_timeout(value: JsValue) -> JsResult<()> {
        let millis = thrown(request_timeout(value.as_f64()))?;
        with(|driver| driver.agent.settings.request_timeout_ms = millis);
        Ok(())
    }

    /// `authenticate(credentials)`: `{loginkey, partnerid, partneruserid}` (stored; throws
    /// `invalid_credentials` naming the field, keeping the previous ones), `{getLoginKey}` (asked for
    /// keys as calls need them; resolves once the first is held), or one identity-provider hint
    /// (`{idpid | idpname | idptoken | idpusername}`: a SAML sign-in; resolves once signed in).
    #[inline(never)]
    pub fn authenticate(credentials: JsValue) -> JsResult<Promise> {
        thrown(authenticate(credentials))
    }

    /// `logout()`: forgets the credentials, ends a sign-in under way and presence.
    #[inline(never)]
    pub fn logout() {
        input(Input::Logout);
    }

    /// `lookupSession(key, wait = true)` or `lookupSession(key, {wait, signal})`.
    #[wasm_bindgen(js_name = lookupSession)]
    #[inline(never)]
    pub fn lookup_session(key: JsValue, wait: JsValue) -> Promise {
        started((|| {
            let key = js::session_key(&key)?;
            if js::is_absent(&wait) || !js::is_object_like(&wait) {
                let waits = js::is_absent(&wait) || wait.is_truthy();
                return Ok(call(None, Call::Lookup { key, wait: waits }));
            }
            let options = Options::new(wait, "lookupSession takes wait as true/false or {wait, signal}")?;
            let waits = options.flag("wait", "params.wait must be true or false")?.unwrap_or(true);
            Ok(call(call_signal(&options)?, Call::Lookup { key, wait: waits }))
        })())
    }

    /// `cancelLookup()`: cancels the most recent lookup in progress.
    #[wasm_bindgen(js_name = cancelLookup)]
    #[inline(never)]
    pub fn cancel_lookup() {
        input(Input::CancelLookup(None));
    }

    /// `joinSession(key, params)`: looks the session up and opens its viewer (or focuses the one open
    /// for it). A window viewer's window opens now, inside the agent's click.
    #[wasm_bindgen(js_name = joinSession)]
    #[inline(never)]
    pub fn join_session(key: JsValue, params: JsValue) -> Promise {
        started(viewer_call(&key, params).map(|(key, options, signal)| call(signal, Call::Join { key, options })))
    }

    /// `openViewer(key, params)`: opens the viewer of a session (or focuses the one open for it), with
    /// the stored credentials if any.
    #[wasm_bindgen(js_name = openViewer)]
    #[inline(never)]
    pub fn open_viewer(key: JsValue, params: JsValue) -> Promise {
        started(viewer_call(&key, params).map(|(key, options, signal)| call(signal, Call::OpenViewer { key, options })))
    }

    /// `openAgentJoinURL(url, params)`: opens a viewer URL; only http(s). The credentials go with it
    /// only to the webserver's origin, and only an unexpired key.
    #[wasm_bindgen(js_name = openAgentJoinURL)]
    #[inline(never)]
    pub fn open_agent_join_url(url: JsValue, params: JsValue) -> Promise {
        started((|| {
            let url = url.as_string().ok_or(AgentError::InvalidUrl)?;
            let (options, signal) = viewer_options(params)?;
            Ok(call(signal, Call::OpenJoinUrl { url, options }))
        })())
    }

    /// `close(viewer)`: closes a viewer (its window, or the iframe) and fires `viewerClosed`.
    #[inline(never)]
    pub fn close(viewer: JsValue) -> JsResult<()> {
        if !js::is_object_like(&viewer) {
            let why = "close() takes a viewer that joinSession or openViewer returned";
            return thrown(Err(AgentError::InvalidArgument(why)));
        }
        input(Input::Close(viewer));
        Ok(())
    }

    /// `inSession(key, {signal})`: whether the agent is in session `key`; with no key (or `""`), the
    /// list of sessions the agent is in. One `AgentInSession` request.
    #[wasm_bindgen(js_name = inSession)]
    #[inline(never)]
    pub fn in_session(key: JsValue, params: JsValue) -> Promise {
        started((|| {
            let every = js::is_absent(&key) || key.as_string().is_some_and(|text| text.is_empty());
            let key = if every { String::new() } else { js::session_key(&key)? };
            let options = Options::new(params, "params must be an object of the documented options")?;
            Ok(call(call_signal(&options)?, Call::InSession { key }))
        })())
    }

    /// `diagnose()`: a report of what a join needs. Called inside a click, it also tries a popup.
    #[inline(never)]
    pub fn diagnose() -> Promise {
        let popup = try_popup();
        let (_, origin) = page::location();
        call(None, Call::Diagnose { popup, page_origin: origin })
    }

    /// `addEventListener(name, handler)`: `handler(eventname, eventdata)` for every `name` event.
    /// Returns a disposer that removes it.
    #[wasm_bindgen(js_name = addEventListener)]
    #[inline(never)]
    pub fn add_event_listener(name: JsValue, handler: JsValue) -> JsResult<JsValue> {
        let (name, handler) = thrown(named_handler(&name, handler))?;
        Ok(listen(Some(&name), handler).into())
    }

    /// `addEventListenerAll(handler)`: `handler(eventname, eventdata)` for every event. Returns a
    /// disposer that removes it.
    #[wasm_bindgen(js_name = addEventListenerAll)]
    #[inline(never)]
    pub fn add_event_listener_all(handler: JsValue) -> JsResult<JsValue> {
        let handler = thrown(any_handler(handler))?;
        Ok(listen(None, handler).into())
    }

    /// `removeEventListener(name, handler)`.
    #[wasm_bindgen(js_name = removeEventListener)]
    #[inline(never)]
    pub fn remove_event_listener(name: JsValue, handler: JsValue) -> JsResult<()> {
        let (name, handler) = thrown(named_handler(&name, handler))?;
        with(|driver| driver.agent.listeners.remove(Some(&name), &handler));
        Ok(())
    }

    /// `removeEventListenerAll(handler)`.
    #[wasm_bindgen(js_name = removeEventListenerAll)]
    #[inline(never)]
    pub fn remove_event_listener_all(handler: JsValue) -> JsResult<()> {
        let handler = thrown(any_handler(handler))?;
        with(|driver| driver.agent.listeners.remove(None, &handler));
        Ok(())
    }

    /// `once(name, {signal})`: the data of the next `name` event. Aborting `signal` removes the
    /// listener and rejects with `canceled`.
    #[inline(never)]
    pub fn once(name: JsValue, options: JsValue) -> Promise {
        started((|| {
            let name = name.as_string().ok_or(AgentError::InvalidArgument(EVENT_NAME_RULE))?;
            event_name(&name)?;
            let options = Options::new(options, "options must be {signal}")?;
            Ok(call(call_signal(&options)?, Call::Once { name }))
        })())
    }

    /// `resume` (default true): after a reload, take back the viewers this tab opened before it.
    /// Only what is set before the module is ready counts.
    #[wasm_bindgen(getter)]
    #[inline(never)]
    pub fn resume() -> bool {
        read(|agent| agent.settings.resume)
    }

    /// Sets `resume`: any value, read as true or false.
    #[wasm_bindgen(setter)]
    #[inline(never)]
    pub fn set_resume(value: JsValue) {
        let resume = value.is_truthy();
        with(|driver| driver.agent.settings.resume = resume);
    }

    /// `sessions`: the sessions this page is in, each `{ssnkey, ssnid, viewer: "popup" | "iframe",
    /// resumed}`.
    #[wasm_bindgen(getter)]
    #[inline(never)]
    pub fn sessions() -> JsValue {
        let sessions = read(|agent| agent.sessions());
        js::parse(&crate::json::array(&sessions.iter().map(crate::agent::SessionView::json).collect::<Vec<_>>()))
    }

    /// `presenceState`: `"idle"`, `"connecting"`, `"connected"` or `"reconnecting"`.
    #[wasm_bindgen(getter = presenceState)]
    #[inline(never)]
    pub fn presence_state() -> String {
        read(|agent| agent.presence_state()).as_str().to_owned()
    }

    /// `visitorConnected`: whether the watched visitor is on the site.
    #[wasm_bindgen(getter = visitorConnected)]
    #[inline(never)]
    pub fn visitor_connected() -> bool {
        read(|agent| agent.visitor_connected())
    }

    /// `presenceConnect(visitorid, {signal, timeout})`: watches a visitor; resolves with their data
    /// when they are first seen on the site.
    #[wasm_bindgen(js_name = presenceConnect)]
    #[inline(never)]
    pub fn presence_connect(visitor: JsValue, params: JsValue) -> Promise {
        started((|| {
            let visitor = js::text_of(&visitor)
                .and_then(|text| visitor_id(&text))
                .ok_or(AgentError::InvalidArgument(VISITOR_ID_RULE))?;
            let options = Options::new(params, "params must be {signal, timeout}")?;
            let (signal, timeout) = (call_signal(&options)?, timeout_of(&options)?);
            Ok(call(signal, Call::PresenceConnect { visitor, timeout }))
        })())
    }

    /// `presenceStartSession(key, invokeParams, joinParams)`: asks the visitor to start a session and
    /// joins it; resolves with the viewer.
    #[wasm_bindgen(js_name = presenceStartSession)]
    #[inline(never)]
    pub fn presence_start_session(key: JsValue, invoke: JsValue, join: JsValue) -> Promise {
        started(start_session(&key, invoke, join))
    }

    /// `presenceDisconnect()`: closes the presence socket for good.
    #[wasm_bindgen(js_name = presenceDisconnect)]
    #[inline(never)]
    pub fn presence_disconnect() {
        input(Input::PresenceDisconnect);
    }

    /// `leaveSession(key)`: the agent leaves a session it is in; resolves whether the server took it.
    #[wasm_bindgen(js_name = leaveSession)]
    #[inline(never)]
    pub fn leave_session(key: JsValue) -> Promise {
        started(js::session_key(&key).map(|key| call(None, Call::LeaveSession { key })))
    }

    /// `end()`: leaves every session whose viewer this library opened and closes the viewers.
    #[inline(never)]
    pub fn end() -> Promise {
        call(None, Call::End)
    }
}

/// `authenticate`'s credentials: a SAML hint, a `getLoginKey`, or the credentials themselves.
fn authenticate(value: JsValue) -> Result<Promise, AgentError> {
    let invalid = |_| AgentError::InvalidCredentials(CREDENTIALS_RULE);
    let options = Options::new(value.clone(), CREDENTIALS_RULE).map_err(invalid)?;
    for name in SSO_HINTS {
        if let Some(hint) = options.field(name, CREDENTIALS_RULE).map_err(invalid)? {
            let hint = SsoHint::new(name, js::text_of(&hint))?;
            return Ok(call(None, Call::SignOn(hint)));
        }
    }
    if let Some(provider) = options.field("getLoginKey", CREDENTIALS_RULE).map_err(invalid)? {
        if !provider.is_function() {
            return Err(AgentError::InvalidCredentials("getLoginKey must be a function"));
        }
        let promise = call(None, Call::Provider(provider));
        // Handled: a failure reaches the calls that need a key too, not only this promise.
        driver::handled(&promise);
        return Ok(promise);
    }
    let credentials = read_credentials(&value)?.check()?;
    input(Input::Credentials(credentials));
    Ok(Promise::resolve(&JsValue::UNDEFINED))
}

/// `{loginkey, partnerid, partneruserid}` as the page gave them, field by field.
pub fn read_credentials(value: &JsValue) -> Result<CredentialsInput, AgentError> {
    let invalid = |_| AgentError::InvalidCredentials(CREDENTIALS_RULE);
    let options = Options::new(value.clone(), CREDENTIALS_RULE).map_err(invalid)?;
    let field = |name| options.field(name, CREDENTIALS_RULE).map_err(invalid);
    let loginkey = field("loginkey")?.and_then(|value| value.as_string());
    let partnerid = match field("partnerid")? {
        Some(value) => match (value.as_f64(), value.as_string()) {
            (Some(number), _) => PartnerIdInput::Number(number),
            (None, Some(text)) => PartnerIdInput::Text(text),
            _ => PartnerIdInput::Invalid,
        },
        None => PartnerIdInput::Invalid,
    };
    let partneruserid = field("partneruserid")?.as_ref().and_then(js::text_of);
    Ok(CredentialsInput { loginkey, partnerid, partneruserid })
}

const PARAMS_RULE: &str = "params must be an object of the documented options";
const WINDOW_NAME_RULE: &str = "params.windowName must be a string of at most 256 characters";
const WINDOW_FEATURES_RULE: &str = "params.windowFeatures must be a string of at most 1024 characters";
const IFRAME_RULE: &str = "params.iframe must be an iframe element or the id of one";
const FLAG_RULE: &str = "params.reuse, wait and agentVideo must be true or false";
const AGENT_FIELD_RULE: &str = "params.name, email and phone must be strings of at most 256 characters";
/// Longest window name, agent name, e-mail or phone passed on.
const MAX_FIELD_CHARS: usize = 256;
const MAX_WINDOW_FEATURES_CHARS: usize = 1024;

/// A viewer call's session key, options and signal. The viewers' windows are checked first, so that
/// one the agent closed is not reused.
fn viewer_call(
    key: &JsValue,
    params: JsValue,
) -> Result<(String, ViewerOptions<JsValue>, Option<web_sys::AbortSignal>), AgentError> {
    let key = js::session_key(key)?;
    let (options, signal) = viewer_options(params)?;
    driver::check_closed(read(|agent| agent.viewer_windows()));
    Ok((key, options, signal))
}

/// `params` of `joinSession`, `openViewer`, `openAgentJoinURL`: what the page gave, over the defaults.
fn viewer_options(params: JsValue) -> Result<(ViewerOptions<JsValue>, Option<web_sys::AbortSignal>), AgentError> {
    let params = Options::new(params, PARAMS_RULE)?;
    let signal = call_signal(&params)?;
    let mut options = ViewerOptions::default();
    if let Some(frame) = params.field("iframe", IFRAME_RULE)? {
        options.frame = Some(page::iframe_of(&frame).ok_or(AgentError::InvalidArgument(IFRAME_RULE))?);
    }
    let wait = params.flag("wait", FLAG_RULE)?;
    let agent_video = params.flag("agentVideo", FLAG_RULE)?;
    for (name, flag) in [("wait", wait), ("agentVideo", agent_video)] {
        if let Some(on) = flag {
            options.params.push((name, if on { "1" } else { "0" }.to_owned()));
        }
    }
    for name in ["name", "email", "phone"] {
        if let Some(text) = params.text(name, MAX_FIELD_CHARS, AGENT_FIELD_RULE)? {
            options.params.push((name, text));
        }
    }
    if let Some(name) = params.text("windowName", MAX_FIELD_CHARS, WINDOW_NAME_RULE)? {
        options.window_name = name;
    }
    if let Some(features) = params.text("windowFeatures", MAX_WINDOW_FEATURES_CHARS, WINDOW_FEATURES_RULE)? {
        options.window_features = features;
    }
    if let Some(wait) = wait {
        options.wait = wait;
    }
    if let Some(reuse) = params.flag("reuse", FLAG_RULE)? {
        options.reuse = reuse;
    }
    Ok((options, signal))
}

const TIMEOUT_RULE: &str = "params.timeout must be whole milliseconds from 1";
const START_RULE: &str =
    "invokeParams must be {func, args}: a GLANCE. or GLANCE_COBROWSE.Custom. function and an object";

/// `params.timeout` as milliseconds.
fn timeout_of(options: &Options) -> Result<Option<u32>, AgentError> {
    let Some(value) = options.field("timeout", TIMEOUT_RULE)? else { return Ok(None) };
    match value.as_f64().and_then(crate::credentials::safe_integer) {
        Some(ms) if ms >= 1 => Ok(Some(ms.min(u64::from(i32::MAX as u32)) as u32)),
        _ => Err(AgentError::InvalidArgument(TIMEOUT_RULE)),
    }
}

/// `presenceStartSession`'s arguments: the key, the function and its arguments (copied through
/// JSON, so a page's getters run once, here), the join's options and time.
fn start_session(key: &JsValue, invoke: JsValue, join: JsValue) -> Result<Promise, AgentError> {
    let key = if js::is_absent(key) { None } else { Some(js::session_key(key)?) };
    let invoke = Options::new(invoke, START_RULE)?;
    let func = invoke.text("func", 256, START_RULE)?.unwrap_or_else(|| SHOW_TERMS.to_owned());
    if !is_invokable(&func) {
        return Err(AgentError::InvalidArgument(START_RULE));
    }
    let args = match invoke.field("args", START_RULE)? {
        None => "{}".to_owned(),
        Some(given) => {
            let text = given.is_object().then(|| js_sys::JSON::stringify(&given).ok()).flatten();
            let text = text.and_then(|text| text.as_string());
            text.filter(|text| Json::parse(text).is_some_and(|json| json.as_object().is_some()))
                .ok_or(AgentError::InvalidArgument(START_RULE))?
        }
    };
    let params = Options::new(join.clone(), "joinParams must be an object of the documented options")?;
    let timeout = timeout_of(&params)?;
    let (options, signal) = viewer_options(join)?;
    driver::check_closed(read(|agent| agent.viewer_windows()));
    Ok(call(signal, Call::PresenceStart { key, func, args, timeout, options }))
}

/// The event name and handler of `addEventListener` and its kin.
fn named_handler(name: &JsValue, handler: JsValue) -> Result<(String, Handler<JsValue>), AgentError> {
    let name = name.as_string().ok_or(AgentError::InvalidArgument(EVENT_NAME_RULE))?;
    event_name(&name)?;
    Ok((name, any_handler(handler)?))
}

/// The handler of `addEventListenerAll` and its kin.
fn any_handler(handler: JsValue) -> Result<Handler<JsValue>, AgentError> {
    if !handler.is_function() {
        return Err(AgentError::InvalidArgument("the handler must be a function"));
    }
    Ok(Handler::Page(handler))
}

/// Adds a listener (for `name`, or every event for `None`) and returns its disposer: a function that
/// removes it (a second call does nothing).
fn listen(name: Option<&str>, handler: Handler<JsValue>) -> Function {
    let serial = with(|driver| driver.agent.listeners.add(name, handler)).unwrap_or_default();
    callback(Kind::Dispose, u32::try_from(serial).unwrap_or(u32::MAX))
}

/// Opens and closes a window at once, but only inside a user gesture (outside one the browser blocks
/// it for sure, and a console must not spend the agent's next click on it): `None` when not tried.
fn try_popup() -> Option<bool> {
    let navigator = js::get(&js_sys::global(), "navigator").ok()?;
    let activation = js::get(&navigator, "userActivation").ok()?;
    if !js::get(&activation, "isActive").is_ok_and(|active| active.is_truthy()) {
        return None;
    }
    let popup = page::open_window("about:blank", "_blank", "");
    if let Some(popup) = &popup {
        page::close_window(popup);
    }
    Some(popup.is_some())
}
