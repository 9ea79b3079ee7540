//! The one piece of state: settings, sign-in, listeners, the lookups, sign-ins and viewers in progress.
//!
//! [`with_agent`] lends it to a closure that only copies values in or out; nothing in such a closure
//! calls JavaScript a page controls, so a handler that re-enters the API never finds it borrowed.

use std::cell::RefCell;
use std::collections::VecDeque;

use futures_util::future::AbortHandle;
use gloo_timers::callback::Interval;
use wasm_bindgen::JsValue;

use super::bus::Handler;
use super::messages::MessageIntake;
use super::presence::Presence;
use super::signin::SignIn;
use super::viewer::Viewer;
use crate::events::Listeners;
use crate::settings::Settings;

/// A task in progress that a call can cancel: a lookup (by `cancelLookup` or its `cancel`
/// function) or a SAML sign-in (by a later `authenticate` or `logout`).
pub struct Running {
    /// The task's id.
    pub id: u32,
    /// Ends the task: its future is dropped at its next poll.
    pub abort: AbortHandle,
}

/// What `Cross-Origin-Opener-Policy` this page is served with, as far as it matters: whether windows
/// it opens on another origin are cut off from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenerPolicy {
    /// Not read yet.
    Unknown,
    /// Being read.
    Reading,
    /// Read: windows on another origin are (true) or are not (false) severed from the page.
    Known(bool),
}

/// The agent.
pub struct Agent {
    pub settings: Settings,
    pub sign_in: SignIn,
    pub listeners: Listeners<Handler>,
    /// An event is being delivered; events fired meanwhile wait here, in order.
    pub dispatching: bool,
    pub queued_events: VecDeque<(String, JsValue)>,
    /// Lookups in progress, oldest first: `cancelLookup` takes the last.
    pub lookups: Vec<Running>,
    /// SAML sign-ins in progress: a later `authenticate` or `logout` ends them.
    pub sign_ins: Vec<Running>,
    pub viewers: Vec<Viewer>,
    /// Checks open viewers for being closed; present while there are viewers.
    pub watcher: Option<Interval>,
    /// The window's one `message` listener and who waits for messages.
    pub messages: MessageIntake,
    pub opener_policy: OpenerPolicy,
    pub presence: Presence,
    next_id: u32,
}

impl Agent {
    fn new() -> Agent {
        Agent {
            settings: Settings::default(),
            sign_in: SignIn::default(),
            listeners: Listeners::new(),
            dispatching: false,
            queued_events: VecDeque::new(),
            lookups: Vec::new(),
            sign_ins: Vec::new(),
            viewers: Vec::new(),
            watcher: None,
            messages: MessageIntake::default(),
            opener_policy: OpenerPolicy::Unknown,
            presence: Presence::default(),
            next_id: 0,
        }
    }

    /// A fresh id for a task, viewer or frame name.
    pub fn next_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }
}

/// The state, made on first use.
struct Slot(RefCell<Option<Agent>>);

// SAFETY: wasm32 without the atomics feature has exactly one thread, so the state is never shared.
// (A `thread_local!` does the same with a lazy-initialisation check at every access: 2.3 KB gzip.)
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Slot {}

static AGENT: Slot = Slot(RefCell::new(None));

/// Lends the agent state to `f`, which must not call page JavaScript (see the module comment).
pub fn with_agent<R>(f: impl FnOnce(&mut Agent) -> R) -> R {
    f(AGENT.0.borrow_mut().get_or_insert_with(Agent::new))
}

/// Removes task `id` from `tasks`; whether it was there (still running).
pub fn take_task(tasks: &mut Vec<Running>, id: u32) -> Option<Running> {
    let at = tasks.iter().position(|task| task.id == id)?;
    Some(tasks.remove(at))
}
