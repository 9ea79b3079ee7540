//! The probes of `diagnose()`: each touches the page or the network and returns what it saw; the
//! conclusions are `crate::diagnose`'s.

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use web_sys::RequestMode;

use super::js;
use super::page::{self, HiddenFrame};
use super::request::{exchange, NoResponse, Read, Request};
use super::signal::{event_field, window_listener, Listener};
use super::signin;
use super::state::with_agent;
use super::viewer::page_severs_popups;
use crate::diagnose::{self as judge, Framing, Reach, Report, FRAME_PROBE_MS, FRAME_SETTLE_MS};
use crate::protocol::{IN_SESSION_PATH, VIEWER_PATH};

/// Starts `diagnose()`. The popup is tried now, while this call may still be inside the page's click.
pub fn start() -> Promise {
    let popup = try_popup();
    js::promise(async move {
        let (webserver, timeout) =
            with_agent(|agent| (agent.settings.webserver.clone(), agent.settings.request_timeout_ms));
        let (_, page_origin) = page::location();
        let reach = reach(&webserver.join(IN_SESSION_PATH), timeout).await;
        let credentials = credentials().await;
        let severs = page_severs_popups().await;
        let framing = framing(&webserver.join(VIEWER_PATH)).await;
        let report = Report::new(
            judge::webserver(webserver.base(), &reach, &page_origin),
            judge::credentials(&credentials),
            judge::popups(popup),
            judge::opener(severs),
            judge::framing(&framing),
        );
        Ok(js::to_js(&report))
    })
}

/// Opens and closes a window at once, but only inside a user gesture (outside one the browser blocks
/// it for sure, and a console must not spend the agent's next click on it): `None` when not tried.
fn try_popup() -> Option<bool> {
    let navigator = js::get(&js_sys::global(), "navigator").ok()?;
    let activation = js::get(&navigator, "userActivation").ok()?;
    if !js::get(&activation, "isActive").is_ok_and(|active| active.is_truthy()) {
        return None;
    }
    let popup = page::open_window("about:blank", "_blank", "");
    if let Some(popup) = &popup {
        page::close_window(popup);
    }
    Some(popup.is_some())
}

/// Whether the webserver answers a POST from this page: a no-CORS retry tells a server that does
/// not allow this origin apart from one that cannot be reached.
async fn reach(url: &str, timeout_ms: u32) -> Reach {
    match exchange(&Request::new("POST", url), timeout_ms, Read::Status).await {
        Ok(answer) => Reach::Answered(answer.status),
        Err(NoResponse::TimedOut) => Reach::TimedOut,
        Err(NoResponse::Failed(message)) => {
            let opaque = Request { mode: RequestMode::NoCors, ..Request::new("POST", url) };
            match exchange(&opaque, timeout_ms, Read::Status).await {
                Ok(_) => Reach::NotAllowed,
                Err(_) => Reach::Unreachable(message),
            }
        }
    }
}

/// What the sign-in holds (asking `getLoginKey` if the keys renew and none is held).
async fn credentials() -> judge::Credentials {
    let Some((key, renewing)) = signin::current_key().await else { return judge::Credentials::None };
    match key {
        Ok(credentials) => judge::Credentials::Key {
            expires_in: credentials.login_key().expires() as i64 - js::now_seconds() as i64,
            renewing,
        },
        Err(error) => judge::Credentials::RenewalFailed(error.reason().to_owned()),
    }
}

/// Whether this page's Content-Security-Policy lets it frame the viewer page: a hidden frame on it,
/// and any `securitypolicyviolation` it causes. (The viewer's own framing headers belong to another
/// origin: a page cannot read them.)
async fn framing(url: &str) -> Framing {
    let (seen, violation) = oneshot::channel::<String>();
    let mut seen = Some(seen);
    let prefix = url.to_owned();
    let _violations: Option<Listener> = window_listener("securitypolicyviolation", move |event| {
        let blocked = event_field(&event, "blockedURI").as_string().unwrap_or_default();
        if !blocked.is_empty() && prefix.starts_with(&blocked) {
            let directive = event_field(&event, "violatedDirective").as_string().unwrap_or_default();
            if let Some(seen) = seen.take() {
                let _ = seen.send(directive);
            }
        }
    });
    let Some(frame) = HiddenFrame::new(url) else { return Framing::NoLoad };
    let (loaded, load) = oneshot::channel::<()>();
    let mut loaded = Some(loaded);
    let _load = Listener::new(&JsValue::from(frame.element().clone()), "load", move |_| {
        if let Some(loaded) = loaded.take() {
            let _ = loaded.send(());
        }
    });
    // A blocked frame loads an error page; the violation is reported first, so a load ends the probe
    // once a violation has had a moment to arrive.
    let settled = async {
        if load.await.is_err() {
            return Framing::NoLoad;
        }
        TimeoutFuture::new(FRAME_SETTLE_MS).await;
        Framing::Allowed
    };
    let judged = select(Box::pin(settled), violation);
    match select(judged, TimeoutFuture::new(FRAME_PROBE_MS)).await {
        Either::Left((Either::Left((framing, _)), _)) => framing,
        Either::Left((Either::Right((Ok(directive), _)), _)) => Framing::Forbidden(directive),
        _ => Framing::NoLoad,
    }
}
