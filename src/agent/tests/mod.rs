//! The machines driven natively through their paths, faults included, against a simulated page and
//! clock (`sim`): what a page would see (events, settled promises, windows) and what would go over
//! the wire (requests, frames), with time moved on in a line.

mod diagnose;
mod lookup;
mod presence;
mod resume;
mod sessions;
mod signin;
mod sim;
mod viewer;
