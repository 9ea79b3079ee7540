//! The browser layer: the one driver of the sans-IO agent (`crate::agent`), and the page and network
//! primitives it performs the agent's work with. wasm32 only.
//!
//! Rules kept throughout:
//! - the driver's state is borrowed only to put an input in or take an output out, never while
//!   JavaScript runs: page handlers re-enter the API;
//! - every call into page-controlled JavaScript goes through a `catch` binding, so a throw becomes an
//!   `Err` instead of unwinding the module;
//! - what an id holds (a timer, a request, a socket, a frame, a listener) is dropped when the agent
//!   releases the id, and dropping it clears, aborts, closes or removes it.

mod bus;
mod driver;
pub mod exports;
mod js;
mod net;
mod page;
mod signal;
