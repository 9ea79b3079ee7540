//! The browser layer: everything that touches JavaScript, the DOM or the network. wasm32 only.
//!
//! Rules kept throughout:
//! - the agent state (`state`) is borrowed only to copy values in or out, never while JavaScript
//!   runs: page handlers re-enter the API;
//! - every call into page-controlled JavaScript goes through a `catch` binding, so a throw becomes an
//!   `Err` instead of unwinding the module;
//! - each lookup, sign-in or probe is a task (a future) that owns its timers, requests and listeners:
//!   dropping it clears, aborts and removes them, and every exit fires one terminal event and settles
//!   one promise.

mod bus;
mod diagnose;
pub mod exports;
mod js;
mod lookup;
mod messages;
mod page;
mod presence;
mod request;
mod signal;
mod signin;
mod state;
mod viewer;
