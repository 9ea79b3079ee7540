//! Requests to the service with `fetch`: each bounded by `requestTimeout` and aborted when its task
//! is dropped (canceled), so no request outlives the call that made it.

use futures_util::future::{select, Either, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReferrerPolicy, RequestCache, RequestCredentials, RequestInit, RequestMode,
    RequestRedirect, Response,
};

use super::js;
use crate::protocol::Reply;

#[wasm_bindgen]
extern "C" {
    /// The page's `fetch`, called as the page has it (tests replace it).
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch_with(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// The content type of JSON bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// What the reason of a request that ran out of time says.
pub const TIMED_OUT: &str = "the request timed out";

/// One request.
pub struct Request<'a> {
    /// `GET`, `POST`, `HEAD`.
    pub method: &'static str,
    /// Where to.
    pub url: &'a str,
    /// The body, with its content type.
    pub body: Option<(&'a str, &'static str)>,
    /// `cors` (the default) or `no-cors` (an opaque answer: diagnose only) or `same-origin`.
    pub mode: RequestMode,
    /// Whether cookies go with it.
    pub credentials: RequestCredentials,
    /// An `Authorization` header (presence), if any.
    pub authorization: Option<&'a str>,
    /// `no-cache`, `error` and `no-referrer` for the agent's own messages to a session server.
    pub private: bool,
}

impl<'a> Request<'a> {
    /// A cross-origin request without cookies.
    pub fn new(method: &'static str, url: &'a str) -> Request<'a> {
        Request {
            method,
            url,
            body: None,
            mode: RequestMode::Cors,
            credentials: RequestCredentials::Omit,
            authorization: None,
            private: false,
        }
    }

    /// A form POST: a CORS simple request.
    pub fn form(url: &'a str, body: &'a str) -> Request<'a> {
        Request { body: Some((body, crate::protocol::FORM_CONTENT_TYPE)), ..Request::new("POST", url) }
    }

    /// A JSON POST (preflighted).
    pub fn json(url: &'a str, body: &'a str) -> Request<'a> {
        Request { body: Some((body, JSON_CONTENT_TYPE)), ..Request::new("POST", url) }
    }

    fn init(&self, controller: &AbortController) -> RequestInit {
        let init = RequestInit::new();
        init.set_method(self.method);
        init.set_mode(self.mode);
        init.set_credentials(self.credentials);
        init.set_signal(Some(&controller.signal()));
        if self.private {
            init.set_cache(RequestCache::NoCache);
            init.set_redirect(RequestRedirect::Error);
            init.set_referrer_policy(ReferrerPolicy::NoReferrer);
        }
        if let Ok(headers) = Headers::new() {
            if let Some((body, content_type)) = self.body {
                init.set_body(&JsValue::from_str(body));
                let _ = headers.set("Content-Type", content_type);
            }
            if let Some(authorization) = self.authorization {
                let _ = headers.set("Authorization", authorization);
            }
            init.set_headers(&headers);
        }
        init
    }
}

/// Aborts the request when dropped before it is done: a canceled task takes its request with it.
struct InFlight(Option<AbortController>);

impl InFlight {
    /// The request has its answer: nothing to abort (aborting would cancel an unread body).
    fn done(mut self) {
        self.0 = None;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoResponse {
    /// A network error, CORS refusal or abort: the error's message.
    Failed(String),
    /// Nothing within the time allowed.
    TimedOut,
}

impl NoResponse {
    /// As a [`Reply`].
    pub fn into_reply(self) -> Reply {
        match self {
            NoResponse::Failed(message) => Reply::Unreachable(message),
            NoResponse::TimedOut => Reply::Unreachable(TIMED_OUT.to_owned()),
        }
    }
}

/// What to read from a response.
#[derive(Clone, Copy)]
pub enum Read {
    /// Its status.
    Status,
    /// Its status and text.
    Text,
    /// A header's value.
    Header(&'static str),
}

/// What was read from a response.
pub struct Answer {
    /// HTTP status (0 for an opaque, no-CORS response).
    pub status: u16,
    /// The text ([`Read::Text`]), or the header's value ([`Read::Header`]).
    pub text: String,
}

/// Sends `request` and reads what `read` asks for, all within `timeout_ms`. The request is aborted
/// when the time is up or the task is dropped.
pub fn exchange<'a>(
    request: &'a Request<'a>,
    timeout_ms: u32,
    read: Read,
) -> LocalBoxFuture<'a, Result<Answer, NoResponse>> {
    Box::pin(async move {
        let failed = |error: JsValue| NoResponse::Failed(js::message_of(&error));
        let controller = AbortController::new().map_err(failed)?;
        let init = request.init(&controller);
        let in_flight = InFlight(Some(controller));
        let sent = fetch_with(request.url, &init).map_err(failed)?;
        let answered = async move {
            let response: Response = JsFuture::from(sent).await?.dyn_into()?;
            let status = response.status();
            let text = match read {
                Read::Status => String::new(),
                Read::Text => JsFuture::from(response.text()?).await?.as_string().unwrap_or_default(),
                Read::Header(name) => response.headers().get(name)?.unwrap_or_default(),
            };
            Ok(Answer { status, text })
        };
        let deadline = TimeoutFuture::new(timeout_ms.min(i32::MAX as u32));
        match select(Box::pin(answered), deadline).await {
            Either::Left((Ok(answer), _)) => {
                in_flight.done();
                Ok(answer)
            }
            Either::Left((Err(error), _)) => Err(failed(error)),
            Either::Right(_) => Err(NoResponse::TimedOut),
        }
    })
}

/// Sends `request` and reads its status and text within `timeout_ms`.
pub async fn send(request: &Request<'_>, timeout_ms: u32) -> Reply {
    match exchange(request, timeout_ms, Read::Text).await {
        Ok(Answer { status, text }) => Reply::Answered { status, text },
        Err(none) => none.into_reply(),
    }
}
