//! glance-agent: the Glance Browser Agent API (`window.GLANCE.Agent`) in Rust, compiled to WebAssembly.
//!
//! Two layers:
//! - a pure core with no browser dependency, tested natively with `cargo test`: the [`agent`] itself,
//!   a sans-IO state machine (inputs in, outputs out) with every rule and all state, and what it is
//!   made of: [`credentials`], [`settings`], [`schedule`], [`protocol`], [`presence`], [`xml`],
//!   [`json`], [`form`], [`url`], [`events`], [`diagnose`], [`surface`] and [`error`];
//! - the browser layer (`browser`, wasm32 only): the `#[wasm_bindgen]` boundary and the one driver that
//!   performs the agent's outputs (`fetch`, timers, windows, frames, sockets, storage) and feeds back
//!   what the browser saw.
//!
//! The JavaScript in `js/` loads the module, queues calls made before it is ready, and installs it as
//! `window.GLANCE.Agent`; every rule and all state are here. See `docs/DESIGN.md`.
//!
//! Nothing a page or the network sends may reach a panic: the module would trap for good. The code
//! avoids `unwrap`, `expect` and indexing on such input.
#![deny(missing_docs)]
// Nothing a page or the network sends may reach a panic: a trap is a dead console for the rest of
// the agent's shift, and panic paths carry formatting code into the download. Tests may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::string_slice,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod agent;
pub mod credentials;
pub mod diagnose;
pub mod error;
pub mod events;
pub mod form;
pub mod json;
pub mod list;
pub mod presence;
pub mod protocol;
pub mod schedule;
pub mod settings;
pub mod surface;
pub mod text;
pub mod url;
pub mod xml;

#[cfg(target_arch = "wasm32")]
pub mod browser;

pub use error::AgentError;

/// The module's allocator: talc, a maintained allocator made for WebAssembly (2.8 KB gzip smaller than
/// std's dlmalloc; see docs/DESIGN.md).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
