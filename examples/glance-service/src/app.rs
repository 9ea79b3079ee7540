//! State shared by every route: settings, sessions, fault switches, and a change signal for long polls.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::Config;
use crate::loginkey::{sign, Refusal, Verifier};
use crate::presence::Presence;
use crate::store::Store;

/// How the lookup service misbehaves, for tests of failure handling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// HTTP 500 with a text body.
    Error,
    /// HTTP 200 with a body that is not XML.
    Garbage,
    /// Never answer.
    Hang,
    /// Answer normally after `delayMs`.
    Delay,
    /// Send the answer one byte every `delayMs`.
    Drip,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    pub lookup: Fault,
    pub delay_ms: u64,
    /// How many lookups misbehave before the service is healthy again; 0 is every lookup.
    pub count: u32,
    /// Seconds the service's clock runs ahead of the browser's (negative: behind), for expiry checks.
    pub clock_skew: i64,
}

pub struct App {
    pub config: Config,
    /// W: the service's own origin, as the library's `webserver`.
    pub webserver: String,
    pub console_url: Option<String>,
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    changed: watch::Sender<u64>,
    /// Presence: tokens, visitors' and agents' sockets, switches.
    pub presence: Presence,
    /// Every request received (`GET /dev/requests`).
    pub requests: Mutex<crate::requests::RequestLog>,
    tokens_made: std::sync::atomic::AtomicU64,
}

/// A poisoned lock only means another request panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How long a minted login key lasts unless asked otherwise: an hour, well inside the one-day horizon.
pub const KEY_LIFETIME_SECONDS: i64 = 60 * 60;

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

impl App {
    pub fn new(config: Config, webserver: String, console_url: Option<String>) -> App {
        App {
            config,
            webserver,
            console_url,
            store: Mutex::default(),
            faults: Mutex::default(),
            changed: watch::channel(0).0,
            presence: Presence::default(),
            requests: Mutex::default(),
            tokens_made: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `host:port` of the service: presence's host and the session server's name here.
    pub fn host(&self) -> String {
        self.webserver.split_once("://").map_or(&*self.webserver, |(_, host)| host).to_owned()
    }

    /// A different suffix for every token made.
    pub fn fresh_suffix(&self) -> String {
        format!("-{}", self.tokens_made.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    pub fn read<R>(&self, read: impl FnOnce(&Store) -> R) -> R {
        read(&lock(&self.store))
    }

    /// Changes the sessions and wakes every long poll.
    pub fn write<R>(&self, write: impl FnOnce(&mut Store) -> R) -> R {
        let result = write(&mut lock(&self.store));
        self.changed.send_modify(|version| *version += 1);
        result
    }

    /// A receiver of changes to the sessions: take it *before* reading them, so no change is missed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub fn faults(&self) -> Faults {
        *lock(&self.faults)
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// The fault this lookup meets, counting it down.
    pub fn take_fault(&self) -> Faults {
        let mut faults = lock(&self.faults);
        let current = *faults;
        if current.lookup != Fault::None && current.count > 0 {
            faults.count -= 1;
            if faults.count == 0 {
                faults.lookup = Fault::None;
                faults.delay_ms = 0;
            }
        }
        current
    }

    /// A login key for `partner_user_id` expiring `expires_in` seconds from now (negative: already expired),
    /// and its expiry. Every key the service hands out comes from here.
    pub fn mint(&self, partner_id: u64, partner_user_id: &str, expires_in: i64) -> (String, u64) {
        let expires = now().saturating_add_signed(expires_in);
        (sign(&self.config.api_key, partner_id, partner_user_id, expires), expires)
    }

    pub fn verify(&self, partner_id: &str, partner_user_id: &str, login_key: &str) -> Result<(), Refusal> {
        let verifier = Verifier { api_key: &self.config.api_key, partner_id: self.config.partner_id };
        let skewed = now().saturating_add_signed(self.faults().clock_skew);
        verifier.verify(partner_id, partner_user_id, login_key, skewed)
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.config.console_origins.iter().any(|allowed| allowed == origin)
    }
}
