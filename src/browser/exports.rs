//! The `#[wasm_bindgen]` boundary: what the JavaScript shim installs as `GLANCE.Agent`.
//!
//! Every argument arrives as a `JsValue` and is checked here, so no page input can make the generated
//! glue throw a `TypeError` of its own. Synchronous calls throw an `Error` with a `code`; calls that
//! return a promise never throw, they reject.

use alloc::string::String;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::agent::with_agent;
use super::dispatch::{fire, Handler};
use super::js::{self, settled, to_error};
use super::lookup::{self, OnFound};
use super::viewer::{self, OpenOptions};
use crate::credentials::{Credentials, PartnerIdInput};
use crate::encoding::{integer_text, safe_integer};
use crate::error::AgentError;
use crate::events::event_name;
use crate::protocol::{session_key, session_key_from_number, IN_SESSION_PATH, SESSION_KEY_RULE};
use crate::url::Webserver;

type JsResult<T> = Result<T, JsValue>;

fn thrown<T>(result: Result<T, AgentError>) -> JsResult<T> {
    result.map_err(|error| to_error(&error))
}

/// Stores the credentials used by lookups and viewers: the facade reads `{loginkey, partnerid,
/// partneruserid}` and passes their values. Throws `invalid_credentials` (naming the field) and keeps
/// the previous credentials when they are malformed. Expiry is checked when they are used.
#[wasm_bindgen(js_name = authenticate)]
pub fn authenticate(login_key: JsValue, partner_id: JsValue, user: JsValue) -> JsResult<()> {
    let partner_id_text = partner_id.as_string();
    let partner_id = match (partner_id.as_f64(), &partner_id_text) {
        (Some(number), _) => PartnerIdInput::Number(number),
        (None, Some(text)) => PartnerIdInput::Text(text),
        (None, None) => PartnerIdInput::Invalid,
    };
    let user = user.as_string().or_else(|| user.as_f64().and_then(integer_text));
    store(Credentials::new(login_key.as_string(), partner_id, user))
}

fn store(credentials: Result<Credentials, AgentError>) -> JsResult<()> {
    thrown(credentials.map(|credentials| with_agent(|agent| agent.credentials = Some(credentials))))
}

/// Fires `name` with `data` to the page's listeners: how the facade reports what it does itself
/// (`authenticateSucceeded` and `authenticateFailed` of a SAML sign-in).
#[wasm_bindgen(js_name = fireEvent)]
pub fn fire_event(name: JsValue, data: JsValue) {
    fire(&name.as_string().unwrap_or_default(), &data);
}

/// The form body of the `AgentInSession` request (PROTOCOL.md section 5) about `key`, or about every
/// session for `""`; throws `not_authenticated` or `loginkey_expired` when the credentials cannot be sent.
#[wasm_bindgen(js_name = inSessionBody)]
pub fn in_session_body(key: JsValue) -> JsResult<JsValue> {
    let key = match key.as_string() {
        Some(text) if text.is_empty() => Ok(text),
        _ => key_from(&key),
    };
    let now = js::now_seconds();
    thrown(
        key.and_then(|key| with_agent(|agent| agent.request(IN_SESSION_PATH, &key, now)))
            .map(|request| request.body.into()),
    )
}

/// Forgets the credentials.
#[wasm_bindgen(js_name = logout)]
pub fn logout() {
    with_agent(|agent| agent.credentials = None);
}

fn key_from(value: &JsValue) -> Result<String, AgentError> {
    match (value.as_string(), value.as_f64()) {
        (Some(text), _) => session_key(&text),
        (None, Some(number)) => session_key_from_number(number),
        _ => Err(AgentError::InvalidArgument(SESSION_KEY_RULE)),
    }
}

/// Looks a session up (`wait` defaults to true). See the API reference for the events it fires.
/// (The facade turns `{wait, signal}` into `wait`, and handles the signal.)
#[wasm_bindgen(js_name = lookupSession)]
pub fn lookup_session(key: JsValue, wait: JsValue) -> Promise {
    let key = match key_from(&key) {
        Ok(key) => key,
        Err(error) => return settled(Err(error)),
    };
    let wait = js::is_absent(&wait) || wait.is_truthy();
    lookup::start(key, wait, OnFound::Result)
}

/// Cancels lookup `id` (from `setting(4)`), or the most recent one (`cancelLookup()`), if it is still in
/// progress, firing `lookupCanceled`.
#[wasm_bindgen(js_name = cancelLookup)]
pub fn cancel_lookup(id: Option<u32>) {
    lookup::cancel(id);
}

/// Looks the session up (waiting, unless `params.wait` is false) and opens its viewer, or focuses the
/// viewer already open for it. Resolves to the viewer's window.
#[wasm_bindgen(js_name = joinSession)]
pub fn join_session(key: JsValue, params: JsValue) -> Promise {
    let (key, mut options) = match options_for(&key, &params) {
        Ok(prepared) => prepared,
        Err(error) => return settled(Err(error)),
    };
    if let Some(open) = viewer::reuse(&key, &options) {
        return settled(Ok(open));
    }
    viewer::open_waiting_window(&key, &mut options);
    lookup::start(key, options.wait, OnFound::OpenViewer(options))
}

/// The session key and `params` of `joinSession` and `openViewer`.
fn options_for(key: &JsValue, params: &JsValue) -> Result<(String, OpenOptions), AgentError> {
    let key = key_from(key)?;
    let mut options = OpenOptions::from_params(params)?;
    options.key.clone_from(&key);
    Ok((key, options))
}

/// Opens the viewer for a session key, with the stored credentials if any, or focuses the viewer
/// already open for it.
#[wasm_bindgen(js_name = openViewer)]
pub fn open_viewer(key: JsValue, params: JsValue) -> Promise {
    settled(options_for(&key, &params).and_then(|(key, options)| match viewer::reuse(&key, &options) {
        Some(open) => Ok(open),
        None => viewer::open_session(&key, &options),
    }))
}

/// Opens a viewer URL (normally a lookup's `agentjoinurl`). Only `http:` and `https:`.
#[wasm_bindgen(js_name = openAgentJoinURL)]
pub fn open_agent_join_url(url: JsValue, params: JsValue) -> Promise {
    settled((|| {
        let url = url.as_string().ok_or(AgentError::InvalidUrl)?;
        viewer::open_join_url(&url, &OpenOptions::from_params(&params)?, false)
    })())
}

/// Closes a viewer returned by `joinSession`/`openViewer`/`openAgentJoinURL` and fires `viewerClosed`.
#[wasm_bindgen(js_name = close)]
pub fn close(viewer: JsValue) -> JsResult<()> {
    thrown(viewer::close(&viewer))
}

/// `listen` kind bit: add the listener (else remove it).
pub const ADD: u32 = 1;
/// `listen` kind bit: the listener is for every event (else for one, by name).
pub const EVERY_EVENT: u32 = 2;

/// The four listener calls in one: `kind` 0 `removeEventListener(name, handler)`, 1 (`ADD`)
/// `addEventListener(name, handler)`, 2 (`EVERY_EVENT`) `removeEventListenerAll(handler)`,
/// 3 `addEventListenerAll(handler)`. A listener is called `handler(eventname, eventdata)`.
#[wasm_bindgen(js_name = listen)]
pub fn listen(kind: u32, name_or_handler: JsValue, handler: JsValue) -> JsResult<()> {
    let (name, handler) = if kind & EVERY_EVENT == 0 {
        let name = name_or_handler.as_string().unwrap_or_default();
        thrown(event_name(&name))?;
        (Some(name), handler)
    } else {
        (None, name_or_handler)
    };
    let handler = thrown(Handler::new(handler).ok_or(AgentError::InvalidArgument("the handler must be a function")))?;
    let name = name.as_deref();
    with_agent(|agent| {
        if kind & ADD == 0 {
            agent.listeners.remove(name, &handler)
        } else {
            agent.listeners.add(name, handler)
        }
    });
    Ok(())
}

/// `GLANCE.Agent` properties held by the module, by number (the facade maps names to these, so no
/// string crosses the boundary): 0 `webserver`, 1 `postParametersToViewer`, 2 `requestTimeout`; and,
/// read-only for the facade, 3 the stored login key's expiry (Unix seconds, `undefined` without one)
/// and 4 the id of the newest lookup in progress (0 if none), which the facade compares before and
/// after a call to learn which lookup the call started, so that its `params.signal` can cancel it.
const WEBSERVER: u32 = 0;
const POST_PARAMETERS_TO_VIEWER: u32 = 1;
const REQUEST_TIMEOUT: u32 = 2;
const LOGIN_KEY_EXPIRES: u32 = 3;
const NEWEST_LOOKUP: u32 = 4;

/// Reads a property of `GLANCE.Agent` (see the numbers above).
#[wasm_bindgen(js_name = setting)]
pub fn setting(property: u32) -> JsValue {
    with_agent(|agent| match property {
        WEBSERVER => JsValue::from_str(agent.webserver.base()),
        POST_PARAMETERS_TO_VIEWER => JsValue::from_bool(agent.post_parameters),
        REQUEST_TIMEOUT => JsValue::from_f64(f64::from(agent.request_timeout_ms)),
        LOGIN_KEY_EXPIRES => match &agent.credentials {
            Some(credentials) => JsValue::from_f64(credentials.login_key().expires() as f64),
            None => JsValue::UNDEFINED,
        },
        NEWEST_LOOKUP => JsValue::from(agent.lookups.last().map_or(0, |lookup| lookup.id())),
        _ => JsValue::UNDEFINED,
    })
}

/// Sets a property of `GLANCE.Agent`; throws `invalid_argument` for a bad value, keeping the old one:
/// - `webserver`: an http(s) URL;
/// - `postParametersToViewer`: any value, read as true or false;
/// - `requestTimeout`: whole milliseconds from 1 to 600000, the limit on one lookup request.
#[wasm_bindgen(js_name = configure)]
pub fn configure(property: u32, value: JsValue) -> JsResult<()> {
    thrown(match property {
        WEBSERVER => Webserver::from_url(js::parse_url(&value.as_string().unwrap_or_default()))
            .map(|webserver| with_agent(|agent| agent.webserver = webserver)),
        POST_PARAMETERS_TO_VIEWER => {
            let post = value.is_truthy();
            with_agent(|agent| agent.post_parameters = post);
            Ok(())
        }
        _ => match value.as_f64().and_then(safe_integer).filter(|ms| (1..=600_000).contains(ms)) {
            Some(millis) => {
                with_agent(|agent| agent.request_timeout_ms = millis as u32);
                Ok(())
            }
            None => Err(AgentError::InvalidArgument("requestTimeout must be whole milliseconds from 1 to 600000")),
        },
    })
}
