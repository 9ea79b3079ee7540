//! Event names and the listener registry behind `addEventListener` and `addEventListenerAll`.
//!
//! The registry is generic over the handler type so its rules are tested natively; the browser stores
//! JavaScript functions in it, compared by identity (`===`).

use crate::error::AgentError;
use crate::list::remove_at;

/// `service` of the events the library fires itself.
pub const AGENT_SERVICE: &str = "agent";

/// Before each lookup attempt: `{service, ssnkey, cancel}`.
pub const LOOKUP_WAITING: &str = "lookupWaiting";
/// A session was found: the lookup result.
pub const LOOKUP_FOUND: &str = "lookupFound";
/// A lookup failed or timed out: `{service, ssnkey, reason}`.
pub const LOOKUP_FAILED: &str = "lookupFailed";
/// A lookup was canceled: `{service, ssnkey}`.
pub const LOOKUP_CANCELED: &str = "lookupCanceled";
/// The browser blocked the viewer window.
pub const POPUP_BLOCKED: &str = "popupblocked";
/// The viewer could not load in the iframe.
pub const IFRAME_BLOCKED: &str = "iframeblocked";
/// A viewer opened: `{service, close}`.
pub const VIEWER_OPENED: &str = "viewerOpened";
/// A viewer closed, whoever closed it; once per viewer.
pub const VIEWER_CLOSED: &str = "viewerClosed";

/// A viewer window this library can no longer reach although it is still open: the browser severed it
/// from the console (`Cross-Origin-Opener-Policy`), so none of its events can arrive; once per viewer.
pub const VIEWER_DETACHED: &str = "viewerDetached";
/// A viewer this tab opened before a reload was taken back: `{service, ssnkey, close}`; once per viewer.
pub const VIEWER_RESUMED: &str = "viewerResumed";
/// A SAML sign-in stored the agent's credentials.
pub const AUTHENTICATE_SUCCEEDED: &str = "authenticateSucceeded";
/// A SAML sign-in was refused, superseded or got no answer: `{service, reason}`.
pub const AUTHENTICATE_FAILED: &str = "authenticateFailed";

/// A viewer's session ended (cobrowse and screenshare send it).
pub const SESSION_ENDED: &str = "sessionEnded";

/// Every event the library fires itself, as the API reference lists them.
pub const AGENT_EVENTS: [&str; 8] = [
    LOOKUP_WAITING,
    LOOKUP_FAILED,
    LOOKUP_CANCELED,
    LOOKUP_FOUND,
    IFRAME_BLOCKED,
    POPUP_BLOCKED,
    VIEWER_OPENED,
    VIEWER_CLOSED,
];

/// Longest event name accepted from a page or a viewer.
pub const MAX_EVENT_NAME_LEN: usize = 128;

/// What a malformed event name is told.
pub const EVENT_NAME_RULE: &str = "the event name must be a non-empty string";

/// Checks an event name given to `addEventListener` / `removeEventListener`.
pub fn event_name(name: &str) -> Result<&str, AgentError> {
    if name.is_empty() || name.len() > MAX_EVENT_NAME_LEN {
        return Err(AgentError::InvalidArgument(EVENT_NAME_RULE));
    }
    Ok(name)
}

/// Whether a viewer message's `glanceEvent` is a name worth dispatching.
pub fn is_viewer_event_name(name: &str) -> bool {
    event_name(name).is_ok()
}

/// One registration: a handler for one event name, or for every event (`name: None`).
#[derive(Debug)]
struct Registration<H> {
    serial: u64,
    name: Option<String>,
    handler: H,
}

/// A registration as handed out for one dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener<H> {
    serial: u64,
    handler: H,
}

impl<H> Listener<H> {
    /// The handler to call.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

/// Named and catch-all listeners. A handler is registered at most once per name (and once as
/// catch-all), as with DOM `addEventListener`.
#[derive(Debug)]
pub struct Listeners<H> {
    /// In the order added, so serials ascend (64 bits never wrap) and can be binary-searched.
    all: Vec<Registration<H>>,
    next_serial: u64,
}

impl<H> Listeners<H> {
    /// Nobody listening.
    pub const fn new() -> Self {
        Listeners { all: Vec::new(), next_serial: 0 }
    }
}

impl<H> Default for Listeners<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: PartialEq + Clone> Listeners<H> {
    /// Adds `handler` for `name` (every event for `None`); its serial, or the serial it already had.
    pub fn add(&mut self, name: Option<&str>, handler: H) -> u64 {
        if let Some(at) = self.position(name, &handler) {
            return self.all.get(at).map_or(0, |r| r.serial);
        }
        self.next_serial += 1;
        self.all.push(Registration { serial: self.next_serial, name: name.map(ToOwned::to_owned), handler });
        self.next_serial
    }

    /// Removes `handler` from `name` (every event for `None`); false if it was not there.
    pub fn remove(&mut self, name: Option<&str>, handler: &H) -> bool {
        let Some(at) = self.position(name, handler) else { return false };
        remove_at(&mut self.all, at).is_some()
    }

    /// Removes the first registration whose handler `matches`; whether there was one.
    pub fn remove_where(&mut self, matches: impl Fn(&H) -> bool) -> bool {
        let Some(at) = self.all.iter().position(|r| matches(&r.handler)) else { return false };
        remove_at(&mut self.all, at).is_some()
    }

    /// Removes registration `serial` (what [`Listeners::add`] returned); whether it was there.
    pub fn remove_serial(&mut self, serial: u64) -> bool {
        let Some(at) = self.all.binary_search_by_key(&serial, |r| r.serial).ok() else { return false };
        remove_at(&mut self.all, at).is_some()
    }

    fn position(&self, name: Option<&str>, handler: &H) -> Option<usize> {
        self.all.iter().position(|r| r.name.as_deref() == name && r.handler == *handler)
    }

    /// Who hears `name`, in call order: the named listeners, then the catch-all ones, each in the
    /// order added. A copy, so handlers may add and remove listeners while it is dispatched.
    pub fn for_event(&self, name: &str) -> Vec<Listener<H>> {
        let mut heard = Vec::new();
        for pass in [Some(name), None] {
            for registration in self.all.iter().filter(|r| r.name.as_deref() == pass) {
                heard.push(Listener { serial: registration.serial, handler: registration.handler.clone() });
            }
        }
        heard
    }

    /// Whether `listener` (taken from [`Listeners::for_event`]) is still registered: a handler
    /// removed during a dispatch is not called afterwards in that dispatch.
    pub fn is_registered(&self, listener: &Listener<H>) -> bool {
        // Checked before every call of a dispatch: a linear scan made 100 listeners cost 10,000 steps.
        self.all.binary_search_by_key(&listener.serial, |r| r.serial).is_ok()
    }

    /// The number of registrations.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// True when nobody listens.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handlers(listeners: &Listeners<&'static str>, name: &str) -> Vec<&'static str> {
        listeners.for_event(name).iter().map(|l| *l.handler()).collect()
    }

    #[test]
    fn named_listeners_come_before_catch_all_in_the_order_added() {
        let mut listeners = Listeners::default();
        listeners.add(None, "all-1");
        listeners.add(Some("lookupFound"), "found-1");
        listeners.add(Some("videoStarted"), "video");
        listeners.add(Some("lookupFound"), "found-2");
        listeners.add(None, "all-2");
        assert_eq!(handlers(&listeners, "lookupFound"), ["found-1", "found-2", "all-1", "all-2"]);
        assert_eq!(handlers(&listeners, "viewerClosed"), ["all-1", "all-2"]);
        assert_eq!(listeners.len(), 5);
    }

    #[test]
    fn a_handler_is_registered_once_per_name() {
        let mut listeners = Listeners::default();
        let first = listeners.add(Some("connecting"), "h");
        assert_eq!(listeners.add(Some("connecting"), "h"), first, "the same registration");
        assert_ne!(listeners.add(Some("navigate"), "h"), first);
        let all = listeners.add(None, "h");
        assert_eq!(listeners.add(None, "h"), all);
        assert_eq!(handlers(&listeners, "connecting"), ["h", "h"], "named once, catch-all once");
    }

    #[test]
    fn removal_is_by_name_and_identity() {
        let mut listeners = Listeners::default();
        listeners.add(Some("a"), "h1");
        listeners.add(Some("a"), "h2");
        listeners.add(Some("b"), "h1");
        listeners.add(None, "h1");
        assert!(listeners.remove(Some("a"), &"h1"));
        assert!(!listeners.remove(Some("a"), &"h1"));
        assert!(!listeners.remove(Some("c"), &"h1"));
        assert_eq!(handlers(&listeners, "a"), ["h2", "h1"]);
        assert_eq!(handlers(&listeners, "b"), ["h1", "h1"]);
        assert!(listeners.remove(None, &"h1"));
        assert!(!listeners.remove(None, &"h1"));
        assert!(listeners.remove(Some("a"), &"h2"));
        assert!(listeners.remove(Some("b"), &"h1"));
        assert!(listeners.is_empty());
    }

    #[test]
    fn a_dispatch_copy_is_unaffected_but_removal_is_visible() {
        let mut listeners = Listeners::default();
        listeners.add(Some("e"), "first");
        listeners.add(Some("e"), "second");
        let copy = listeners.for_event("e");
        listeners.remove(Some("e"), &"second");
        listeners.add(Some("e"), "late");
        assert_eq!(copy.len(), 2);
        assert!(listeners.is_registered(&copy[0]));
        assert!(!listeners.is_registered(&copy[1]), "removed during dispatch: skip it");
        listeners.remove(Some("e"), &"first");
        listeners.add(Some("e"), "first");
        assert!(!listeners.is_registered(&copy[0]), "removed and added again: a new registration, heard next time");
    }

    #[test]
    fn a_registration_is_removed_by_its_serial_or_a_match() {
        let mut listeners = Listeners::default();
        let first = listeners.add(Some("a"), "h1");
        listeners.add(None, "h2");
        assert!(listeners.remove_serial(first));
        assert!(!listeners.remove_serial(first), "once only");
        assert!(listeners.remove_where(|handler| *handler == "h2"));
        assert!(!listeners.remove_where(|handler| *handler == "h2"));
        assert!(listeners.is_empty());
    }

    #[test]
    fn event_names_must_be_non_empty_and_bounded() {
        assert_eq!(event_name("videoStarted"), Ok("videoStarted"));
        assert!(event_name("").is_err());
        assert!(event_name(&"x".repeat(MAX_EVENT_NAME_LEN + 1)).is_err());
        assert!(AGENT_EVENTS.iter().all(|name| is_viewer_event_name(name)));
    }
}
