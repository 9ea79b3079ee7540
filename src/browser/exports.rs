//! The `#[wasm_bindgen]` boundary: what the JavaScript shim installs as `GLANCE.Agent`.
//!
//! Every argument arrives as a `JsValue` and is checked here, so no page input can make the generated
//! glue throw a `TypeError` of its own. Synchronous calls throw an `Error` with a `code`; calls that
//! return a promise never throw, they reject.

use alloc::string::String;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::agent::with_agent;
use super::dispatch::Handler;
use super::js::{self, settled, to_error};
use super::lookup::{self, OnFound};
use super::viewer::{self, OpenOptions};
use crate::credentials::{Credentials, PartnerIdInput};
use crate::encoding::{integer_text, safe_integer};
use crate::error::AgentError;
use crate::events::{event_name, EVENT_NAME_RULE};
use crate::protocol::{session_key, session_key_from_number, ViewerTarget, SESSION_KEY_RULE};
use crate::url::Webserver;

type JsResult<T> = Result<T, JsValue>;

fn thrown<T>(result: Result<T, AgentError>) -> JsResult<T> {
    result.map_err(|error| to_error(&error))
}

/// Stores the credentials used by lookups and viewers. Throws `invalid_credentials` (naming the field)
/// and keeps the previous credentials when they are malformed. Expiry is checked when they are used.
#[wasm_bindgen(js_name = authenticate)]
pub fn authenticate(credentials: JsValue) -> JsResult<()> {
    thrown(read_credentials(&credentials).map(|credentials| with_agent(|agent| agent.credentials = Some(credentials))))
}

fn read_credentials(value: &JsValue) -> Result<Credentials, AgentError> {
    const SHAPE: AgentError =
        AgentError::InvalidCredentials("credentials must be an object {loginkey, partnerid, partneruserid}");
    if !js::is_object_like(value) {
        return Err(SHAPE);
    }
    let read = |key: &str| js::get(value, key).map_err(|_| SHAPE);
    let login_key = read("loginkey")?.as_string();
    let partner_id = read("partnerid")?;
    let partner_id_text = partner_id.as_string();
    let partner_id = match (partner_id.as_f64(), &partner_id_text) {
        (Some(number), _) => PartnerIdInput::Number(number),
        (None, Some(text)) => PartnerIdInput::Text(text),
        (None, None) => PartnerIdInput::Invalid,
    };
    let user = read("partneruserid")?;
    let user = user.as_string().or_else(|| user.as_f64().and_then(integer_text));
    Credentials::new(login_key, partner_id, user)
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

/// The id of the newest lookup in progress (0 if none): the facade compares it before and after a
/// call to learn which lookup the call started, so that call's `params.signal` can cancel it.
#[wasm_bindgen(js_name = lookupId)]
pub fn lookup_id() -> u32 {
    with_agent(|agent| agent.lookups.last().map_or(0, |lookup| lookup.id()))
}

/// Cancels lookup `id` (from `lookupId`) if it is still in progress, firing `lookupCanceled`.
#[wasm_bindgen(js_name = cancelLookupId)]
pub fn cancel_lookup_id(id: u32) {
    lookup::cancel(Some(id));
}

/// Cancels the most recent lookup in progress, firing `lookupCanceled`.
#[wasm_bindgen(js_name = cancelLookup)]
pub fn cancel_lookup() {
    lookup::cancel(None);
}

/// Looks the session up (waiting, unless `params.wait` is false) and opens its viewer.
/// Resolves to the viewer's window.
#[wasm_bindgen(js_name = joinSession)]
pub fn join_session(key: JsValue, params: JsValue) -> Promise {
    let prepared = key_from(&key).and_then(|key| Ok((key, OpenOptions::from_params(&params)?)));
    let (key, mut options) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return settled(Err(error)),
    };
    viewer::open_waiting_window(&key, &mut options);
    lookup::start(key, options.wait, OnFound::OpenViewer(options))
}

/// Opens the viewer for a session key, with the stored credentials if any.
#[wasm_bindgen(js_name = openViewer)]
pub fn open_viewer(key: JsValue, params: JsValue) -> Promise {
    settled((|| {
        let key = key_from(&key)?;
        let options = OpenOptions::from_params(&params)?;
        let now = js::now_seconds();
        let target = with_agent(|agent| match &agent.credentials {
            Some(credentials) if credentials.login_key().is_expired_at(now) => Err(AgentError::LoginKeyExpired),
            credentials => Ok(ViewerTarget::for_session_key(&agent.webserver, &key, credentials.as_ref())),
        });
        viewer::open(&target?, &options)
    })())
}

/// Opens a viewer URL (normally a lookup's `agentjoinurl`). Only `http:` and `https:`.
#[wasm_bindgen(js_name = openAgentJoinURL)]
pub fn open_agent_join_url(url: JsValue, params: JsValue) -> Promise {
    settled((|| {
        let url = url.as_string().ok_or(AgentError::InvalidUrl)?;
        viewer::open_join_url(&url, &OpenOptions::from_params(&params)?)
    })())
}

/// Closes a viewer returned by `joinSession`/`openViewer`/`openAgentJoinURL` and fires `viewerClosed`.
#[wasm_bindgen(js_name = close)]
pub fn close(viewer: JsValue) -> JsResult<()> {
    thrown(viewer::close(&viewer))
}

/// Adds (`add`) or removes a listener: for the event `name`, or for every event when `name` is `None`.
fn update_listeners(name: Option<&JsValue>, handler: JsValue, add: bool) -> JsResult<()> {
    let name = match name {
        None => None,
        Some(name) => Some(thrown(name.as_string().ok_or(AgentError::InvalidArgument(EVENT_NAME_RULE)))?),
    };
    let name = thrown(name.as_deref().map(event_name).transpose())?;
    let handler = thrown(Handler::new(handler).ok_or(AgentError::InvalidArgument("the handler must be a function")))?;
    with_agent(|agent| if add { agent.listeners.add(name, handler) } else { agent.listeners.remove(name, &handler) });
    Ok(())
}

/// Calls `handler(eventname, eventdata)` for every `name` event.
#[wasm_bindgen(js_name = addEventListener)]
pub fn add_event_listener(name: JsValue, handler: JsValue) -> JsResult<()> {
    update_listeners(Some(&name), handler, true)
}

/// Calls `handler(eventname, eventdata)` for every event.
#[wasm_bindgen(js_name = addEventListenerAll)]
pub fn add_event_listener_all(handler: JsValue) -> JsResult<()> {
    update_listeners(None, handler, true)
}

/// Removes a listener added with `addEventListener(name, handler)`.
#[wasm_bindgen(js_name = removeEventListener)]
pub fn remove_event_listener(name: JsValue, handler: JsValue) -> JsResult<()> {
    update_listeners(Some(&name), handler, false)
}

/// Removes a listener added with `addEventListenerAll(handler)`.
#[wasm_bindgen(js_name = removeEventListenerAll)]
pub fn remove_event_listener_all(handler: JsValue) -> JsResult<()> {
    update_listeners(None, handler, false)
}

/// `GLANCE.Agent` properties held by the module, by number (the facade maps names to these, so no
/// string crosses the boundary): 0 `webserver`, 1 `postParametersToViewer`, 2 `requestTimeout`.
const WEBSERVER: u32 = 0;
const POST_PARAMETERS_TO_VIEWER: u32 = 1;
const REQUEST_TIMEOUT: u32 = 2;

/// Reads a property of `GLANCE.Agent` (see the numbers above).
#[wasm_bindgen(js_name = setting)]
pub fn setting(property: u32) -> JsValue {
    with_agent(|agent| match property {
        WEBSERVER => JsValue::from_str(agent.webserver.base()),
        POST_PARAMETERS_TO_VIEWER => JsValue::from_bool(agent.post_parameters),
        REQUEST_TIMEOUT => JsValue::from_f64(f64::from(agent.request_timeout_ms)),
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
