//! Signing the agent in: credentials given once, login keys from the page's `getLoginKey` (asked one
//! at a time however many calls need one, again a minute ahead of expiry, and again once after the
//! service refused one), and SAML sign-in through the identity provider's page in a hidden frame.
//!
//! A call that needs credentials asks [`Agent::need_key`] with its task id: it gets them at once, or
//! waits and is resumed (`Agent::resume`) when `getLoginKey` answers. `authenticate` and `logout`
//! replace the sign-in: what was being asked for is released (a late answer finds nothing), and the
//! calls waiting for it fail.

use std::borrow::Cow;

use super::{Agent, AgentData, Data, Id, Output, Value};
use crate::credentials::{sso_credentials, Credentials, CredentialsInput, SsoHint};
use crate::error::{shorten_reason, AgentError};
use crate::events::{AUTHENTICATE_FAILED, AUTHENTICATE_SUCCEEDED};
use crate::protocol::{sign_in_url, SIGN_IN_TIMEOUT_MS};

/// What the calls waiting for a key get when a later `authenticate` or `logout` replaced the sign-in.
pub const SUPERSEDED: &str = "superseded by a later authenticate or logout";
/// The reason of a `getLoginKey` that gave nothing within `requestTimeout`.
const NO_KEY_IN_TIME: &str = "no key within requestTimeout";

/// How the agent is signed in.
#[derive(Debug, Default)]
enum Method<V> {
    /// Not at all.
    #[default]
    None,
    /// Credentials given once.
    Key(Credentials),
    /// Keys from the page's `getLoginKey`.
    Renewing {
        provider: V,
        key: Option<Credentials>,
        /// The ask under way.
        asking: Option<Id>,
        /// The next ask, ahead of the key's expiry.
        ahead: Option<Id>,
    },
}

/// A SAML sign-in under way: its call, and the hidden frame (and 12 s timer) of the same id.
#[derive(Debug)]
struct Sso<V> {
    call: Id,
    frame: Id,
    /// The frame's window: what the page's answer comes from.
    window: Option<V>,
}

/// The agent's sign-in.
#[derive(Debug)]
pub(super) struct SignIn<V> {
    method: Method<V>,
    /// Tasks (and `authenticate` calls) waiting for `getLoginKey`'s answer.
    waiting: Vec<Id>,
    /// `authenticate({getLoginKey})` calls waiting for the first key.
    calls: Vec<Id>,
    sso: Vec<Sso<V>>,
}

impl<V> Default for SignIn<V> {
    fn default() -> Self {
        SignIn { method: Method::None, waiting: Vec::new(), calls: Vec::new(), sso: Vec::new() }
    }
}

impl<V> SignIn<V> {
    /// A SAML sign-in waits for its page's message.
    pub(super) fn waits_for_messages(&self) -> bool {
        !self.sso.is_empty()
    }
}

/// After the service refused a key: what to do about it.
pub(super) enum Renewal {
    /// The keys do not renew: the refusal stands.
    None,
    /// Another key, to try once more.
    Ready(Credentials),
    /// A new key is being asked for: the task is resumed with it.
    Wait,
}

/// What the sign-in holds now, for a call that opens a viewer at once (`openViewer`).
pub(super) enum Held {
    /// Credentials to send (none: the agent signs in on the viewer page).
    Ready(Option<Credentials>),
    /// The stored login key has expired.
    Expired,
    /// A key is to be asked of `getLoginKey` first.
    Renewing,
}

impl<V: Clone + PartialEq> Agent<V> {
    /// `authenticate({loginkey, partnerid, partneruserid})`: stored; nothing is sent.
    pub fn authenticate_key(&mut self, credentials: Credentials) {
        self.supersede(Method::Key(credentials));
    }

    /// `authenticate({getLoginKey})`: keeps the provider and asks it at once; call `call` resolves
    /// when the first key is held.
    pub fn authenticate_provider(&mut self, call: Id, provider: V) {
        self.supersede(Method::Renewing { provider, key: None, asking: None, ahead: None });
        self.signin.calls.push(call);
        self.wait_for_key(call);
    }

    /// `authenticate({idp…})`: a SAML sign-in. Earlier ones end; the credentials held meanwhile keep
    /// working until it succeeds.
    pub fn authenticate_sso(&mut self, call: Id, hint: &SsoHint) {
        self.end_sso(SUPERSEDED);
        let frame = self.next_id();
        let url = sign_in_url(&self.settings.webserver, hint);
        self.signin.sso.push(Sso { call, frame, window: None });
        self.emit(Output::HiddenFrame { id: frame, url, probe: false });
        self.emit(Output::Timer { id: frame, ms: SIGN_IN_TIMEOUT_MS });
    }

    pub(super) fn signin_logout(&mut self) {
        self.supersede(Method::None);
    }

    /// A new sign-in replaces the old: what it was asking for is released, the calls waiting for a
    /// key fail, SAML sign-ins under way end.
    fn supersede(&mut self, method: Method<V>) {
        if let Method::Renewing { asking, ahead, .. } = std::mem::replace(&mut self.signin.method, method) {
            self.release_all(&[asking, ahead]);
        }
        for waiting in std::mem::take(&mut self.signin.waiting) {
            self.resume(waiting, Err(AgentError::AuthenticationFailed(SUPERSEDED.into())));
        }
        self.end_sso(SUPERSEDED);
    }

    /// The credentials for task `task` now, or `None` when it must wait (it is resumed with them).
    pub(super) fn need_key(&mut self, task: Id) -> Option<Result<Credentials, AgentError>> {
        let now = self.now_s();
        match &self.signin.method {
            Method::None => Some(Err(AgentError::NotAuthenticated)),
            Method::Key(credentials) if credentials.login_key().is_expired_at(now) => {
                Some(Err(AgentError::LoginKeyExpired))
            }
            Method::Key(credentials) => Some(Ok(credentials.clone())),
            Method::Renewing { key: Some(key), .. } if !key.login_key().is_due_for_renewal_at(now) => {
                Some(Ok(key.clone()))
            }
            Method::Renewing { .. } => {
                self.wait_for_key(task);
                None
            }
        }
    }

    /// Task `task` waits for `getLoginKey`, which is asked unless it is being asked already.
    fn wait_for_key(&mut self, task: Id) {
        self.signin.waiting.push(task);
        self.ask_provider();
    }

    fn ask_provider(&mut self) {
        let id = self.next_id();
        let ms = self.settings.request_timeout_ms;
        let Method::Renewing { provider, asking: asking @ None, .. } = &mut self.signin.method else { return };
        *asking = Some(id);
        let provider = provider.clone();
        self.emit(Output::AskProvider { id, provider });
        self.emit(Output::Timer { id, ms });
    }

    /// `getLoginKey` answered ask `id` with an object (read: its fields, or why it could not be read).
    pub fn provider_answered(&mut self, id: Id, answer: Result<CredentialsInput, AgentError>) {
        self.keep(id, answer.and_then(CredentialsInput::check));
    }

    /// `getLoginKey` threw or its promise rejected, with `message`.
    pub fn provider_failed(&mut self, id: Id, message: &str) {
        let reason = crate::text::concat(&["getLoginKey failed: ", &shorten_reason(message)]);
        self.keep(id, Err(AgentError::AuthenticationFailed(reason)));
    }

    /// Stores a key `getLoginKey` gave for ask `id` (if it is the ask under way) and sets the next
    /// ask ahead of its expiry; the waiting tasks are resumed with it.
    fn keep(&mut self, id: Id, result: Result<Credentials, AgentError>) {
        let now = self.now_s();
        let Method::Renewing { key, asking, ahead, .. } = &mut self.signin.method else { return };
        if *asking != Some(id) {
            return;
        }
        *asking = None;
        let mut replaced = None;
        if let Ok(credentials) = &result {
            *key = Some(credentials.clone());
            replaced = ahead.take();
            if let Some(due) = credentials.login_key().renewal_in_ms(now) {
                let timer = self.next_id();
                let Method::Renewing { ahead, .. } = &mut self.signin.method else { return };
                *ahead = Some(timer);
                self.emit(Output::Timer { id: timer, ms: due.min(i32::MAX as u64) as u32 });
            }
        }
        self.release_all(&[Some(id), replaced]);
        for waiting in std::mem::take(&mut self.signin.waiting) {
            self.resume(waiting, result.clone());
        }
    }

    pub(super) fn signin_timer(&mut self, id: Id) -> bool {
        if let Method::Renewing { asking, ahead, .. } = &mut self.signin.method {
            if *asking == Some(id) {
                let failed =
                    AgentError::AuthenticationFailed(crate::text::concat(&["getLoginKey failed: ", NO_KEY_IN_TIME]));
                self.keep(id, Err(failed));
                return true;
            }
            if *ahead == Some(id) {
                *ahead = None;
                self.ask_provider();
                return true;
            }
        }
        let Some(at) = self.signin.sso.iter().position(|sso| sso.frame == id) else { return false };
        self.finish_sso(at, Err("timedout".into()));
        true
    }

    /// `authenticate({getLoginKey})`'s call `call` gets the first key's outcome.
    pub(super) fn authenticate_key_ready(&mut self, call: Id, key: Result<Credentials, AgentError>) -> bool {
        if super::take_where(&mut self.signin.calls, &|&waiting| waiting == call).is_none() {
            return false;
        }
        self.settle(call, key.map(|_| Value::Undefined));
        true
    }

    /// After the service refused `refused`: a new key to try once more, if the agent's keys renew. A
    /// key another call renewed meanwhile is used as it is.
    pub(super) fn after_refusal(&mut self, task: Id, refused: &Credentials) -> Renewal {
        let Method::Renewing { key, .. } = &mut self.signin.method else { return Renewal::None };
        match key {
            Some(current) if current != refused => Renewal::Ready(current.clone()),
            _ => {
                *key = None;
                self.wait_for_key(task);
                Renewal::Wait
            }
        }
    }

    /// What the sign-in holds now (see [`Held`]).
    pub(super) fn held_now(&self) -> Held {
        let now = self.now_s();
        match &self.signin.method {
            Method::None => Held::Ready(None),
            Method::Key(credentials) if credentials.login_key().is_expired_at(now) => Held::Expired,
            Method::Key(credentials) => Held::Ready(Some(credentials.clone())),
            Method::Renewing { key: Some(key), .. } if !key.login_key().is_due_for_renewal_at(now) => {
                Held::Ready(Some(key.clone()))
            }
            Method::Renewing { .. } => Held::Renewing,
        }
    }

    /// The login key held now, if unexpired (nothing is asked for).
    pub(super) fn held_key(&self) -> Option<Credentials> {
        let now = self.now_s();
        match &self.signin.method {
            Method::Key(credentials) | Method::Renewing { key: Some(credentials), .. } => Some(credentials),
            _ => None,
        }
        .filter(|credentials| !credentials.login_key().is_expired_at(now))
        .cloned()
    }

    /// Whether the keys come from `getLoginKey`; `None` when not signed in at all.
    pub(super) fn renews(&self) -> Option<bool> {
        match &self.signin.method {
            Method::None => None,
            Method::Key(_) => Some(false),
            Method::Renewing { .. } => Some(true),
        }
    }

    /// The stored credentials, whatever their expiry (`diagnose` judges it).
    pub(super) fn stored_key(&self) -> Option<Credentials> {
        match &self.signin.method {
            Method::Key(credentials) => Some(credentials.clone()),
            _ => None,
        }
    }

    // ---- SAML ----

    /// The sign-in page's hidden frame `id` is there (its window), or could not be added.
    pub fn frame_opened(&mut self, id: Id, window: Option<V>) {
        if let Some(at) = self.signin.sso.iter().position(|sso| sso.frame == id) {
            match window {
                Some(window) => {
                    if let Some(sso) = self.signin.sso.get_mut(at) {
                        sso.window = Some(window);
                    }
                    self.update_listening();
                }
                None => self.finish_sso(at, Err("the sign-in page could not be loaded".into())),
            }
            return;
        }
        self.diagnose_frame_opened(id, window.is_some());
    }

    /// A sign-in page's answer, if `message` is one from a frame of a sign-in under way on the
    /// webserver's origin; whether it was.
    pub(super) fn sso_message(&mut self, message: &super::Message<V>) -> bool {
        let succeeded = message.name == AUTHENTICATE_SUCCEEDED;
        if !succeeded && message.name != AUTHENTICATE_FAILED {
            return false;
        }
        let origin = self.settings.webserver.origin();
        let from = self
            .signin
            .sso
            .iter()
            .position(|sso| sso.window.as_ref() == Some(&message.source) && message.origin == origin);
        if let Some(at) = from {
            let answer = if succeeded {
                sso_credentials(message.login_key.as_deref().unwrap_or_default()).map_err(|error| error.message())
            } else {
                let reason = shorten_reason(message.reason.as_deref().unwrap_or_default());
                Err(if reason.is_empty() { "the identity provider refused".into() } else { reason.into() })
            };
            self.finish_sso(at, answer);
        }
        true
    }

    /// Ends SAML sign-in `at`: on success its credentials replace the sign-in; either way the same-named
    /// event fires (without the login key, a secret) and its call settles.
    fn finish_sso(&mut self, at: usize, answer: Result<Credentials, Cow<'static, str>>) {
        let Some(sso) = super::remove_at(&mut self.signin.sso, at) else { return };
        self.release(sso.frame);
        match answer {
            Ok(credentials) => {
                self.supersede(Method::Key(credentials));
                self.fire_agent(AUTHENTICATE_SUCCEEDED, AgentData::default());
                self.settle(sso.call, Ok(Value::Undefined));
            }
            Err(reason) => {
                self.fire(
                    AUTHENTICATE_FAILED,
                    Data::Agent(AgentData { reason: Some(reason.clone()), ..AgentData::default() }),
                );
                self.settle(sso.call, Err(AgentError::AuthenticationFailed(reason.into_owned())));
            }
        }
        self.update_listening();
    }

    fn end_sso(&mut self, reason: &'static str) {
        while !self.signin.sso.is_empty() {
            self.finish_sso(0, Err(reason.into()));
        }
    }
}
