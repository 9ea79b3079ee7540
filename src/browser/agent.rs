//! The one piece of state: webserver, credentials, listeners, lookups and viewers in progress.
//!
//! [`with_agent`] lends it to a closure that must only copy values in or out; nothing in such a
//! closure may call JavaScript that a page controls, so a handler re-entering the API never finds it
//! borrowed.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use super::dispatch::Handler;
use super::lookup::LookupTask;
use super::timer::Timer;
use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::events::Listeners;
use crate::no_panic::remove_at;
use crate::protocol::LookupRequest;
use crate::schedule::REQUEST_TIMEOUT_MS;
use crate::url::Webserver;

/// A viewer the library opened and watches until it closes.
pub struct Viewer {
    pub id: u32,
    /// The viewer's `Window` (for an iframe, its `contentWindow`): what the page gets and what
    /// messages must come from.
    pub window: JsValue,
    /// The iframe element of a viewer shown in one.
    pub frame: Option<JsValue>,
    /// The session key, when the viewer was opened for one (`joinSession`, `openViewer`).
    pub key: String,
}

pub struct Agent {
    pub webserver: Webserver,
    pub credentials: Option<Credentials>,
    pub post_parameters: bool,
    pub request_timeout_ms: u32,
    pub listeners: Listeners<Handler>,
    /// An event is being delivered; events fired meanwhile wait in `queued_events`.
    pub dispatching: bool,
    pub queued_events: Vec<(String, JsValue)>,
    /// Oldest first; `cancelLookup` takes the last.
    pub lookups: Vec<LookupTask>,
    pub viewers: Vec<Viewer>,
    /// Polls open viewers for being closed; present while there are viewers.
    pub watcher: Option<Timer>,
    /// The window's `message` listener, installed with the first viewer and kept.
    pub message_listener: Option<Closure<dyn FnMut(JsValue)>>,
    next_id: u32,
}

impl Agent {
    const fn new() -> Agent {
        Agent {
            webserver: Webserver::GLANCE,
            credentials: None,
            post_parameters: true,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
            listeners: Listeners::new(),
            dispatching: false,
            queued_events: Vec::new(),
            lookups: Vec::new(),
            viewers: Vec::new(),
            watcher: None,
            message_listener: None,
            next_id: 0,
        }
    }

    /// A fresh id for a lookup, viewer or frame name.
    pub fn next_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// The running lookup `id`.
    pub fn lookup(&self, id: u32) -> Option<&LookupTask> {
        self.lookups.iter().find(|lookup| lookup.id() == id)
    }

    /// The running lookup `id`, to update.
    pub fn lookup_mut(&mut self, id: u32) -> Option<&mut LookupTask> {
        self.lookups.iter_mut().find(|lookup| lookup.id() == id)
    }

    /// Takes a lookup out of the running ones: `id`, or the most recent one for `None`.
    pub fn take_lookup(&mut self, id: Option<u32>) -> Option<LookupTask> {
        let at = match id {
            Some(id) => self.lookups.iter().position(|lookup| lookup.id() == id)?,
            None => self.lookups.len().checked_sub(1)?,
        };
        remove_at(&mut self.lookups, at)
    }

    /// The request to the service's `path` about `key`, if the credentials can be sent at `now`.
    pub fn request(&self, path: &str, key: &str, now: u64) -> Result<LookupRequest, AgentError> {
        match &self.credentials {
            None => Err(AgentError::NotAuthenticated),
            Some(credentials) if credentials.login_key().is_expired_at(now) => Err(AgentError::LoginKeyExpired),
            Some(credentials) => Ok(LookupRequest::new(path, &self.webserver, credentials, key)),
        }
    }

    /// Takes a viewer out of the open ones, by id.
    pub fn take_viewer(&mut self, id: u32) -> Option<Viewer> {
        let at = self.viewers.iter().position(|viewer| viewer.id == id)?;
        remove_at(&mut self.viewers, at)
    }
}

/// The state, built at compile time.
struct Slot(RefCell<Agent>);

// SAFETY: wasm32 without the atomics feature has exactly one thread, so the state is never shared.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Slot {}

static AGENT: Slot = Slot(RefCell::new(Agent::new()));

/// Lends the agent state to `f`. `f` must not call page JavaScript (see the module comment).
pub fn with_agent<R>(f: impl FnOnce(&mut Agent) -> R) -> R {
    match AGENT.0.try_borrow_mut() {
        Ok(mut agent) => f(&mut agent),
        // Unreachable by the rule above; trapping here avoids RefCell's formatted panic message.
        Err(_) => core::arch::wasm32::unreachable(),
    }
}
