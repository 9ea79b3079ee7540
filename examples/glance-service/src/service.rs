//! The Glance web server's side of PROTOCOL.md: SessionService.asmx (sections 2 and 5) and the agent
//! viewer (sections 3 and 4).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::app::{App, Fault};
use crate::store::connecting;
use crate::xml;

pub type Pairs = Vec<(String, String)>;

pub fn pairs(query: Option<&str>, body: &[u8]) -> Pairs {
    let query = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    query.chain(form_urlencoded::parse(body)).map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

/// The first parameter with one of `names`, compared without case (the viewer's names are case-insensitive).
pub fn param<'a>(pairs: &'a Pairs, names: &[&str]) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)))
        .map(|(_, value)| value.as_str())
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// Applies the fault switches to one lookup-style answer.
async fn with_faults(app: &App, answer: impl FnOnce() -> Response) -> Response {
    let faults = app.take_fault();
    match faults.lookup {
        Fault::None => answer(),
        Fault::Error => (StatusCode::INTERNAL_SERVER_ERROR, "Server Error: simulated fault").into_response(),
        Fault::Garbage => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "<<< this is not XML >>>").into_response()
        }
        Fault::Hang => std::future::pending().await,
        Fault::Delay => {
            tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
            answer()
        }
        Fault::Drip => {
            let response = answer();
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let pause = Duration::from_millis(faults.delay_ms.max(1));
            let drip = futures_util::stream::unfold(0, move |sent| {
                let bytes = bytes.clone();
                async move {
                    if sent >= bytes.len() {
                        return None;
                    }
                    tokio::time::sleep(pause).await;
                    Some((Ok::<_, std::convert::Infallible>(bytes.slice(sent..sent + 1)), sent + 1))
                }
            });
            Response::from_parts(parts, Body::from_stream(drip))
        }
    }
}

/// The credentials of a request, checked; `Err` is the refusal document.
fn credentials(app: &App, pairs: &Pairs) -> Result<String, String> {
    let partner_id = param(pairs, &["partnerid"]).unwrap_or_default();
    let agent = param(pairs, &["partneruserid"]).unwrap_or_default();
    let login_key = param(pairs, &["loginkey"]).unwrap_or_default();
    app.verify(partner_id, agent, login_key).map(|()| agent.to_owned()).map_err(|refusal| refusal.message().to_owned())
}

/// `POST W/services/SessionService.asmx/LookupPartnerSession2`
pub async fn lookup(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let pairs = pairs(query.as_deref(), &body);
    with_faults(&app, || {
        if let Err(refusal) = credentials(&app, &pairs) {
            return xml_response(StatusCode::OK, xml::error(&refusal));
        }
        let key = param(&pairs, &["ssnkey"]).unwrap_or_default();
        if key.is_empty() {
            return xml_response(StatusCode::OK, xml::error("Session key required"));
        }
        let body = app.read(|store| match store.running(key) {
            Some(session) => {
                let agent_join_url = format!(
                    "{}/agentjoin/AgentView.aspx?SessionKey={}&ssnid={}",
                    app.webserver,
                    encode(key),
                    encode(&session.ssnid)
                );
                let client_join_url = format!("{}/visitor?key={}", app.webserver, encode(key));
                xml::found(session, &agent_join_url, &client_join_url, app.config.partner_id)
            }
            None => xml::not_found(key),
        });
        xml_response(StatusCode::OK, body)
    })
    .await
}

/// `POST W/services/SessionService.asmx/AgentInSession`
pub async fn in_session(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let pairs = pairs(query.as_deref(), &body);
    with_faults(&app, || {
        let agent = match credentials(&app, &pairs) {
            Ok(agent) => agent,
            Err(refusal) => return xml_response(StatusCode::OK, xml::error(&refusal)),
        };
        let key = param(&pairs, &["ssnkey"]).unwrap_or_default();
        let body = app.read(|store| {
            let sessions: Vec<_> =
                store.sessions_of(&agent).into_iter().filter(|session| key.is_empty() || session.key == key).collect();
            xml::in_session(&sessions, &agent, &app.host())
        });
        xml_response(StatusCode::OK, body)
    })
    .await
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = include_str!("../pages/message.html")
        .replace("{{TITLE}}", &xml::escape(title))
        .replace("{{MESSAGE}}", &xml::escape(message));
    (status, Html(body)).into_response()
}

static VIEWERS: AtomicU64 = AtomicU64::new(0);

/// `GET|POST W/agentjoin/AgentView.aspx`: both parameter forms of section 3.
pub async fn agent_view(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let pairs = pairs(query.as_deref(), &body);
    let Some(key) = param(&pairs, &["SessionKey", "VisitorId"]).filter(|key| !key.is_empty()) else {
        return page(StatusCode::BAD_REQUEST, "No session key", "The viewer needs a SessionKey (or VisitorId).");
    };
    if param(&pairs, &["loginkey"]).is_none() {
        return page(
            StatusCode::UNAUTHORIZED,
            "Sign in required",
            "No credentials reached the viewer. Call GLANCE.Agent.authenticate first.",
        );
    }
    let agent = match credentials(&app, &pairs) {
        Ok(agent) => agent,
        Err(refusal) => return page(StatusCode::FORBIDDEN, "Credentials refused", &refusal),
    };
    let wait = param(&pairs, &["wait"]) != Some("0");
    if !wait && app.read(|store| store.running(key).is_none()) {
        return page(StatusCode::NOT_FOUND, "Session not running", &format!("No session {key} is running."));
    }
    let viewer = format!("v{}", VIEWERS.fetch_add(1, Ordering::Relaxed) + 1);
    let options = json!({
        "ssnkey": key,
        "viewer": viewer,
        "agent": agent,
        "agentVideo": param(&pairs, &["agentVideo"]) == Some("1"),
        "name": param(&pairs, &["name"]).unwrap_or_default(),
        "after": app.read(|store| store.last_seq()),
        "consoleOrigins": console_origins(&app, &headers),
    });
    // JSON inside a <script> element: "<" must not close it.
    let options = options.to_string().replace('<', "\\u003c");
    let body = include_str!("../pages/viewer.html").replace("{{OPTIONS}}", &options);
    Html(body).into_response()
}

/// The origin of the page that opened or framed this one: the `Origin` of a POST, else the origin part of
/// the `Referer` (a GET navigation, an iframe's included, sends no `Origin`).
pub fn opener_origin(headers: &HeaderMap) -> Option<String> {
    let header = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
    let from_referer = header(header::REFERER).map(|referer| {
        let after_scheme = referer.find("://").map_or(0, |at| at + 3);
        let end = referer[after_scheme..].find('/').map_or(referer.len(), |at| after_scheme + at);
        referer[..end].to_owned()
    });
    header(header::ORIGIN).map(str::to_owned).or(from_referer)
}

/// Where the viewer posts its events: the console that opened it when that is an allowed console, else
/// every allowed console origin.
fn console_origins(app: &App, headers: &HeaderMap) -> Vec<String> {
    match opener_origin(headers).filter(|origin| app.allows_origin(origin)) {
        Some(origin) => vec![origin],
        None => app.config.console_origins.clone(),
    }
}

#[derive(Deserialize)]
pub struct PollQuery {
    #[serde(rename = "SessionKey")]
    key: String,
    #[serde(default)]
    after: u64,
    #[serde(default)]
    known: String,
    #[serde(default)]
    agent: String,
}

/// `GET W/agentjoin/events`: the viewer's long poll for its session's state and events.
pub async fn viewer_events(
    State(app): State<Arc<App>>,
    axum::extract::Query(poll): axum::extract::Query<PollQuery>,
) -> Response {
    let mut changes = app.changes();
    for round in 0..2 {
        let answer = app.read(|store| {
            let session = store.get(&poll.key);
            let events = store.events_after(&poll.key, poll.after);
            // A session that ended before this viewer looked is history: the viewer waits for the next one.
            let state = match session {
                Some(session) if session.running => "running",
                Some(_) if !events.is_empty() => "ended",
                _ => "waiting",
            };
            if round == 0 && events.is_empty() && state == poll.known {
                return None;
            }
            let next = events.last().map_or(poll.after.max(store.last_seq()), |event| event.seq);
            Some(json!({
                "state": state,
                "session": session.map(|session| json!({
                    "key": session.key, "calltype": session.calltype, "visitor": session.visitor,
                    "ssnid": session.ssnid, "service": session.calltype.service(),
                })),
                "connecting": session.map(|session| connecting(session, app.config.partner_id, &poll.agent)),
                "events": events,
                "next": next,
            }))
        });
        if let Some(answer) = answer {
            return Json(answer).into_response();
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), changes.changed()).await;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct Presence {
    #[serde(rename = "SessionKey")]
    key: String,
    viewer: String,
    agent: String,
    present: u8,
}

/// `POST W/agentjoin/presence`: a viewer joined or left its session (for AgentInSession).
pub async fn presence(
    State(app): State<Arc<App>>,
    axum::extract::Query(presence): axum::extract::Query<Presence>,
) -> StatusCode {
    let agent = (presence.present == 1).then_some(presence.agent.as_str());
    app.write(|store| store.set_viewer(&presence.key, &presence.viewer, agent));
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_parameters_are_case_insensitive_and_merge_query_and_body() {
        let pairs = pairs(Some("SESSIONKEY=12%2034&ssnid=9"), b"LOGINKEY=%241%24x&visitorid=5");
        assert_eq!(param(&pairs, &["SessionKey", "VisitorId"]), Some("12 34"));
        assert_eq!(param(&pairs, &["loginkey"]), Some("$1$x"));
        assert_eq!(param(&pairs, &["VisitorId"]), Some("5"));
        assert_eq!(param(&pairs, &["wait"]), None);
    }
}
