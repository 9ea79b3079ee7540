//! The browser glue: everything that touches JavaScript or the DOM. wasm32 only.
//!
//! Rules kept throughout: the agent state is borrowed only to copy values in or out and never while
//! JavaScript runs (page handlers re-enter the API); every JavaScript call a page can make throw goes
//! through a `catch` binding; every timer and listener is a value that stops when dropped.

mod agent;
mod dispatch;
pub mod exports;
mod js;
mod lookup;
mod messages;
mod timer;
mod viewer;
