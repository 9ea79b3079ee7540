//! glance-agent: the Glance Browser Agent API (`window.GLANCE.Agent`) in Rust, compiled to WebAssembly.
//!
//! The crate has two layers:
//! - a pure core ([`credentials`], [`schedule`], [`protocol`], [`events`], [`url`], [`encoding`],
//!   [`error`], [`no_panic`]) with no browser dependency, tested natively with `cargo test`;
//! - the browser glue (`browser`, wasm32 only): lookups with `fetch`, the viewer window or iframe, the
//!   `message` intake and the event dispatch, exported to JavaScript through `#[wasm_bindgen]`.
//!
//! The JavaScript shim in `js/` installs the exports as `window.GLANCE.Agent`.
//!
//! The shipped module is `no_std`: std on wasm32 brings its panic machinery and `core::fmt` (about
//! 25 KB), so the crate uses `core` and `alloc` only, and on wasm32 a panic is a bare trap. Nothing a
//! page or the network sends may reach one: the code avoids `unwrap`, indexing and slicing that can fail.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
// Native builds (the core's tests) and test builds of the module (feature `std`) link std.
#[cfg(any(feature = "std", not(target_arch = "wasm32")))]
extern crate std;

pub mod allocator;
pub mod credentials;
pub mod encoding;
pub mod error;
pub mod events;
pub mod no_panic;
pub mod protocol;
pub mod schedule;
pub mod url;

#[cfg(target_arch = "wasm32")]
pub mod browser;

pub use error::AgentError;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: allocator::SizeClassAllocator = allocator::SizeClassAllocator::new();

/// A panic is a bug; it stops the module without formatting a message nobody would see.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
