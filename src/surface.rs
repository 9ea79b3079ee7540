//! The API surface a page sees on `GLANCE.Agent`, as the JavaScript facade needs to know it before
//! the module has loaded: which calls return a promise (or a function, or nothing), which properties
//! there are and what they read until then, and the error of a module that cannot load.
//!
//! `make build` renders it as a JavaScript module (`cargo run --example surface`) that the facade is
//! built with, so these names and values are written in Rust only.

use crate::error::AgentError;
use crate::presence::Phase;
use crate::settings::{DEFAULT_POST_PARAMETERS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RESUME};
use crate::url::DEFAULT_WEBSERVER;

/// What a call returns, and so what a call made before the module has loaded returns at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// A promise: before loading, a promise of the call's result.
    Promise,
    /// A function (a disposer): before loading, a function that calls it once it exists.
    Function,
    /// Nothing: before loading, the call is queued.
    Nothing,
}

impl Returns {
    /// The name the facade reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Returns::Promise => "promise",
            Returns::Function => "function",
            Returns::Nothing => "nothing",
        }
    }
}

/// A property's value until the module has loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Initial {
    /// A string.
    Text(&'static str),
    /// A boolean.
    Flag(bool),
    /// A number.
    Number(f64),
    /// An empty list.
    Empty,
}

/// A property of `GLANCE.Agent`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Property {
    /// Its name.
    pub name: &'static str,
    /// What it reads until the module has loaded.
    pub initial: Initial,
    /// Whether the page may set it.
    pub writable: bool,
}

/// Every call of `GLANCE.Agent` the module implements (the loader adds `load` and `ready`).
pub const METHODS: &[(&str, Returns)] = &[
    ("authenticate", Returns::Promise),
    ("logout", Returns::Nothing),
    ("lookupSession", Returns::Promise),
    ("cancelLookup", Returns::Nothing),
    ("joinSession", Returns::Promise),
    ("openViewer", Returns::Promise),
    ("openAgentJoinURL", Returns::Promise),
    ("close", Returns::Nothing),
    ("inSession", Returns::Promise),
    ("diagnose", Returns::Promise),
    ("addEventListener", Returns::Function),
    ("addEventListenerAll", Returns::Function),
    ("removeEventListener", Returns::Nothing),
    ("removeEventListenerAll", Returns::Nothing),
    ("once", Returns::Promise),
    ("presenceConnect", Returns::Promise),
    ("presenceStartSession", Returns::Promise),
    ("presenceDisconnect", Returns::Nothing),
    ("leaveSession", Returns::Promise),
    ("end", Returns::Promise),
];

/// Every property of `GLANCE.Agent`.
pub const PROPERTIES: &[Property] = &[
    Property { name: "webserver", initial: Initial::Text(DEFAULT_WEBSERVER), writable: true },
    Property { name: "postParametersToViewer", initial: Initial::Flag(DEFAULT_POST_PARAMETERS), writable: true },
    Property { name: "requestTimeout", initial: Initial::Number(DEFAULT_REQUEST_TIMEOUT_MS as f64), writable: true },
    Property { name: "presenceState", initial: Initial::Text(Phase::Idle.as_str()), writable: false },
    Property { name: "visitorConnected", initial: Initial::Flag(false), writable: false },
    Property { name: "resume", initial: Initial::Flag(DEFAULT_RESUME), writable: true },
    Property { name: "sessions", initial: Initial::Empty, writable: false },
];

/// The error of a module that cannot load: the loader raises it, with the cause's message appended.
pub const LOAD_FAILED: AgentError = AgentError::LoadFailed;
