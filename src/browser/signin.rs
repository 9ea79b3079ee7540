//! Signing the agent in: credentials given once, login keys that renew (`getLoginKey`), and SAML
//! sign-in through the identity provider's page. Every call that sends credentials gets them here.
//!
//! Which sign-in wins is decided by a generation count: `authenticate` and `logout` start a new one,
//! end SAML sign-ins still under way, and a key that arrives for an older one is not stored.

use futures_channel::oneshot;
use futures_util::future::{select, AbortHandle, Abortable, Either, LocalBoxFuture};
use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::bus::AgentEvent;
use super::js::{self, Options};
use super::messages::{self, SignInAnswer};
use super::page::HiddenFrame;
use super::state::{take_task, with_agent, Running};
use crate::credentials::{Credentials, PartnerIdInput, SsoHint, SSO_HINTS};
use crate::error::{shorten_reason, AgentError};
use crate::events::{AUTHENTICATE_FAILED, AUTHENTICATE_SUCCEEDED};
use crate::protocol::{sign_in_url, SIGN_IN_TIMEOUT_MS};

/// The calls waiting for the key `getLoginKey` is being asked for.
type Waiting = Vec<oneshot::Sender<Result<Credentials, AgentError>>>;

/// What the calls waiting for a key get when a later `authenticate` or `logout` replaced the sign-in.
const SUPERSEDED: &str = "superseded by a later authenticate or logout";

/// How the agent is signed in.
#[derive(Default)]
enum Method {
    /// Not at all.
    #[default]
    None,
    /// Credentials given once.
    Key(Credentials),
    /// Keys from the page's `getLoginKey`.
    Renewing {
        provider: Function,
        key: Option<Credentials>,
        /// `Some` while `getLoginKey` is being asked: the calls waiting for its answer.
        waiting: Option<Waiting>,
        /// The next ask, ahead of the key's expiry.
        ahead: Option<Timeout>,
    },
}

/// The agent's sign-in.
#[derive(Default)]
pub struct SignIn {
    method: Method,
    generation: u32,
}

/// What a malformed credentials object is told.
const CREDENTIALS_RULE: &str = "credentials must be an object: {loginkey, partnerid, partneruserid}, {getLoginKey} \
                                or one identity-provider hint";

/// `{loginkey, partnerid, partneruserid}` from a page's object, checked.
pub fn read_credentials(value: JsValue) -> Result<Credentials, AgentError> {
    let options =
        Options::new(value, CREDENTIALS_RULE).map_err(|_| AgentError::InvalidCredentials(CREDENTIALS_RULE))?;
    let field =
        |name| options.field(name, CREDENTIALS_RULE).map_err(|_| AgentError::InvalidCredentials(CREDENTIALS_RULE));
    let login_key = field("loginkey")?.and_then(|value| value.as_string());
    let partner_id = match field("partnerid")? {
        Some(value) => match (value.as_f64(), value.as_string()) {
            (Some(number), _) => PartnerIdInput::Number(number),
            (None, Some(text)) => PartnerIdInput::Text(text),
            _ => PartnerIdInput::Invalid,
        },
        None => PartnerIdInput::Invalid,
    };
    let partner_user_id = field("partneruserid")?.as_ref().and_then(js::text_of);
    Credentials::new(login_key, partner_id, partner_user_id)
}

/// `authenticate(credentials)`: stores credentials, keeps a `getLoginKey`, or starts a SAML sign-in.
/// Malformed credentials are refused at once (`Err`) and the previous ones stay.
pub fn authenticate(value: JsValue) -> Result<Promise, AgentError> {
    let options =
        Options::new(value.clone(), CREDENTIALS_RULE).map_err(|_| AgentError::InvalidCredentials(CREDENTIALS_RULE))?;
    let field =
        |name| options.field(name, CREDENTIALS_RULE).map_err(|_| AgentError::InvalidCredentials(CREDENTIALS_RULE));
    for name in SSO_HINTS {
        if let Some(hint) = field(name)? {
            return Ok(sign_on(SsoHint::new(name, js::text_of(&hint))?));
        }
    }
    if let Some(provider) = field("getLoginKey")? {
        let provider: Function =
            provider.dyn_into().map_err(|_| AgentError::InvalidCredentials("getLoginKey must be a function"))?;
        return Ok(renew_with(provider));
    }
    let credentials = read_credentials(value)?;
    supersede(Method::Key(credentials));
    Ok(Promise::resolve(&JsValue::UNDEFINED))
}

/// `logout()`.
pub fn logout() {
    supersede(Method::None);
}

/// A new sign-in replaces the old: a new generation, and SAML sign-ins under way end.
fn supersede(method: Method) -> u32 {
    let (generation, ended, previous) = with_agent(|agent| {
        agent.sign_in.generation = agent.sign_in.generation.wrapping_add(1);
        let previous = std::mem::replace(&mut agent.sign_in.method, method);
        (agent.sign_in.generation, std::mem::take(&mut agent.sign_ins), previous)
    });
    drop(previous); // its renewal timer, outside the borrow
    for sign_in in ended {
        sign_in.abort.abort();
    }
    generation
}

/// `authenticate({getLoginKey})`: asks for the first key at once; resolves when it is held (the
/// promise is handled: a failure reaches the calls that need a key too).
fn renew_with(provider: Function) -> Promise {
    supersede(Method::Renewing { provider, key: None, waiting: None, ahead: None });
    let first = ask();
    let promise = js::promise(async move { first.await.map(|_| JsValue::UNDEFINED) });
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
    let _ = promise.catch(&ignore);
    drop(ignore.into_js_value()); // kept by the promise until it is collected
    promise
}

/// The credentials for a call that sends them, now: the stored ones if unexpired, or a renewing
/// key (asked for when none is held or it expires within a minute).
pub fn for_call() -> LocalBoxFuture<'static, Result<Credentials, AgentError>> {
    Box::pin(held_or_asked())
}

async fn held_or_asked() -> Result<Credentials, AgentError> {
    let now = js::now_seconds();
    let held = with_agent(|agent| match &agent.sign_in.method {
        Method::None => Some(Err(AgentError::NotAuthenticated)),
        Method::Key(credentials) if credentials.login_key().is_expired_at(now) => {
            Some(Err(AgentError::LoginKeyExpired))
        }
        Method::Key(credentials) => Some(Ok(credentials.clone())),
        Method::Renewing { key: Some(key), .. } if !key.login_key().is_due_for_renewal_at(now) => Some(Ok(key.clone())),
        Method::Renewing { .. } => None,
    });
    match held {
        Some(held) => held,
        None => ask().await,
    }
}

/// After the service refused `refused`: a new key from `getLoginKey` to try once more, if the agent's
/// keys renew (`None` if they do not). A key another call renewed meanwhile is used as it is.
pub async fn after_refusal(refused: &Credentials) -> Option<Result<Credentials, AgentError>> {
    let current = with_agent(|agent| match &agent.sign_in.method {
        Method::Renewing { key, .. } => Some(key.clone().filter(|key| key != refused)),
        _ => None,
    })?;
    Some(match current {
        Some(renewed) => Ok(renewed),
        None => {
            with_agent(|agent| {
                if let Method::Renewing { key, .. } = &mut agent.sign_in.method {
                    key.take_if(|key| key == refused);
                }
            });
            ask().await
        }
    })
}

/// What the agent's sign-in holds, for `diagnose`: the key (asking `getLoginKey` if it renews and
/// needs one) and whether it renews.
pub async fn current_key() -> Option<(Result<Credentials, AgentError>, bool)> {
    let held = with_agent(|agent| match &agent.sign_in.method {
        Method::None => None,
        Method::Key(credentials) => Some(Some(credentials.clone())),
        Method::Renewing { .. } => Some(None),
    })?;
    Some(match held {
        Some(credentials) => (Ok(credentials), false),
        None => (for_call().await, true),
    })
}

/// The key `getLoginKey` gives next: the answer of the call under way, or of a new one. One call at
/// a time, however many calls need a key.
fn ask() -> LocalBoxFuture<'static, Result<Credentials, AgentError>> {
    let (answer, answered) = oneshot::channel();
    let start = with_agent(|agent| {
        let (generation, timeout) = (agent.sign_in.generation, agent.settings.request_timeout_ms);
        let Method::Renewing { waiting, provider, .. } = &mut agent.sign_in.method else { return None };
        let start = waiting.is_none().then(|| (provider.clone(), generation, timeout));
        waiting.get_or_insert_with(Vec::new).push(answer);
        start
    });
    if let Some((provider, generation, timeout)) = start {
        // Spawned, so it runs to its end even when every call that waits for it is canceled.
        spawn_local(async move {
            let result = ask_provider(provider, timeout).await;
            for waiting in keep(generation, &result) {
                let _ = waiting.send(result.clone());
            }
        });
    }
    // No answer: the agent is not signed in with `getLoginKey`, or a later sign-in replaced it.
    Box::pin(async move { answered.await.unwrap_or_else(|_| Err(AgentError::AuthenticationFailed(SUPERSEDED.into()))) })
}

/// Calls `getLoginKey` and reads its credentials, within `timeout_ms`.
async fn ask_provider(provider: Function, timeout_ms: u32) -> Result<Credentials, AgentError> {
    let failed =
        |reason: &str| AgentError::AuthenticationFailed(["getLoginKey failed: ", &shorten_reason(reason)].concat());
    let returned = provider.call0(&JsValue::UNDEFINED).map_err(|thrown| failed(&js::message_of(&thrown)))?;
    let answered = JsFuture::from(Promise::resolve(&returned));
    let deadline = TimeoutFuture::new(timeout_ms);
    let value = match select(answered, deadline).await {
        Either::Left((Ok(value), _)) => value,
        Either::Left((Err(thrown), _)) => return Err(failed(&js::message_of(&thrown))),
        Either::Right(_) => return Err(failed("no key within requestTimeout")),
    };
    read_credentials(value)
}

/// Stores a key `getLoginKey` gave, if no later sign-in replaced the one that asked, and sets the
/// next ask ahead of its expiry. Returns the calls waiting for it.
fn keep(generation: u32, result: &Result<Credentials, AgentError>) -> Waiting {
    let now = js::now_seconds();
    let (waiting, replaced) = with_agent(|agent| {
        if agent.sign_in.generation != generation {
            return (Vec::new(), None);
        }
        let Method::Renewing { key, waiting, ahead, .. } = &mut agent.sign_in.method else {
            return (Vec::new(), None);
        };
        let waiting = waiting.take().unwrap_or_default();
        let Some(credentials) = result.as_ref().ok() else { return (waiting, None) };
        *key = Some(credentials.clone());
        let renew = credentials.login_key().renewal_in_ms(now).map(|due| {
            Timeout::new(due.min(i32::MAX as u64) as u32, move || {
                if with_agent(|agent| agent.sign_in.generation) == generation {
                    drop(ask());
                }
            })
        });
        (waiting, std::mem::replace(ahead, renew))
    });
    drop(replaced);
    waiting
}

/// A SAML sign-in: the identity provider's page, in a hidden iframe, posts `authenticateSucceeded`
/// with the agent's credentials, or `authenticateFailed`; silence fails after 12 s. Fires the outcome
/// as the same-named event (without the login key, a secret) and settles with it.
///
/// It ends the sign-ins still under way; the credentials held meanwhile keep working until it succeeds.
fn sign_on(hint: SsoHint) -> Promise {
    let (abort, registration) = AbortHandle::new_pair();
    let (id, url, earlier) = with_agent(|agent| {
        let id = agent.next_id();
        let earlier = std::mem::replace(&mut agent.sign_ins, vec![Running { id, abort }]);
        (id, sign_in_url(&agent.settings.webserver, &hint), earlier)
    });
    for sign_in in earlier {
        sign_in.abort.abort();
    }
    js::promise(async move {
        let outcome = Abortable::new(sign_in_page(&url), registration).await;
        let current = with_agent(|agent| take_task(&mut agent.sign_ins, id)).is_some();
        let outcome = match outcome {
            Ok(Ok(credentials)) if current => {
                supersede(Method::Key(credentials));
                Ok(())
            }
            Ok(Err(reason)) => Err(reason),
            _ => Err(SUPERSEDED.to_owned()),
        };
        match outcome {
            Ok(()) => {
                AgentEvent::new().fire(AUTHENTICATE_SUCCEEDED);
                Ok(JsValue::UNDEFINED)
            }
            Err(reason) => {
                AgentEvent::new().reason(&reason).fire(AUTHENTICATE_FAILED);
                Err(AgentError::AuthenticationFailed(reason))
            }
        }
    })
}

/// Loads the sign-in page and waits for its answer: the credentials, or why there are none.
async fn sign_in_page(url: &str) -> Result<Credentials, String> {
    let frame = HiddenFrame::new(url).ok_or("the sign-in page could not be loaded")?;
    let answered = messages::await_sign_in(frame.window());
    let deadline = TimeoutFuture::new(SIGN_IN_TIMEOUT_MS);
    let answer = match select(answered, deadline).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => SignInAnswer::Failed("timedout".to_owned()),
    };
    drop(frame);
    match answer {
        SignInAnswer::Succeeded(login_key) => {
            crate::credentials::sso_credentials(&login_key).map_err(|error| error.to_string())
        }
        SignInAnswer::Failed(reason) => Err(reason),
    }
}

/// What the sign-in holds now, for a call that opens a viewer at once (`openViewer`).
pub enum Held {
    /// Credentials to send (none: the agent signs in on the viewer page).
    Ready(Option<Credentials>),
    /// The stored login key has expired.
    Expired,
    /// A key is to be asked of `getLoginKey` first.
    Renewing,
}

/// What the sign-in holds now (see [`Held`]).
pub fn held_now() -> Held {
    let now = js::now_seconds();
    with_agent(|agent| match &agent.sign_in.method {
        Method::None => Held::Ready(None),
        Method::Key(credentials) if credentials.login_key().is_expired_at(now) => Held::Expired,
        Method::Key(credentials) => Held::Ready(Some(credentials.clone())),
        Method::Renewing { key: Some(key), .. } if !key.login_key().is_due_for_renewal_at(now) => {
            Held::Ready(Some(key.clone()))
        }
        Method::Renewing { .. } => Held::Renewing,
    })
}

/// The login key held now, if it is unexpired (nothing is asked for).
pub fn held_key() -> Option<Credentials> {
    let now = js::now_seconds();
    with_agent(|agent| match &agent.sign_in.method {
        Method::Key(credentials) | Method::Renewing { key: Some(credentials), .. } => Some(credentials.clone()),
        _ => None,
    })
    .filter(|credentials| !credentials.login_key().is_expired_at(now))
}
