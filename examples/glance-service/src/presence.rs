//! Presence (shared/spec/PRESENCE.md): the `Authorize` endpoint, visitor settings, the REST calls
//! (`findvisitor`, `lookupvisitor`, `signalvisitor`), the agent socket `/agent`, the visitor socket
//! `/visitorws` that the visitor simulator connects to, and the agent's `EjectAgent` message.
//!
//! The server relays what a visitor's page sends (`presence`, `visibility`, `terms`,
//! `visitorsessionstart`, `visitorsessionend`, `visitorerror`) to every agent socket watching that
//! visitor, as `{type, data}`, and tells them when the visitor's socket comes and goes (`visitorsock`).
//! Agents' invokes (`signalvisitor`, or an `invoke` frame when load-balanced) go to the visitor's socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::app::{now, App};

/// The socket close code of a refused authorization (a token the service does not know).
pub const REFUSED: u16 = 4001;
/// What a `connected` frame says the keepalive period is, in seconds, unless switched.
pub const KEEPALIVE_SECONDS: u64 = 30;

/// How presence misbehaves or is set up, for tests and the demo (`POST /dev/presence`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Switches {
    /// Visitor settings say `isPresenceLoadBalanced`: the agent connects straight to the presence host
    /// and invokes over its socket.
    pub load_balanced: bool,
    /// `Authorize` refuses every agent (HTTP 403).
    pub refuse_authorization: bool,
    /// The agent socket refuses the next N tokens, as if they had been revoked (close code 4001).
    pub refuse_sockets: u32,
    /// The next N presence HTTP answers (`Authorize`, settings, the REST calls) are HTTP 503.
    pub unavailable: u32,
    /// Only this call's answers count for `unavailable`: `authorize`, `settings`, `findvisitor`,
    /// `lookupvisitor` or `signalvisitor`.
    pub unavailable_only: Option<String>,
    /// The visitor's page ignores invokes (they are not passed on).
    pub ignore_invoke: bool,
    /// `Authorize` answers an object (`authToken`, `authTokeExp`) instead of the token as a JSON string.
    pub token_object: bool,
    /// The `connected` frame's `keepalive`: a number of seconds, or `null` to leave it out.
    pub keepalive: Option<Value>,
}

/// What the tests read back (`GET /dev/presence`).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub agent_sockets: usize,
    pub visitor_sockets: usize,
    pub authorizations: u64,
    pub keepalives: u64,
    pub invokes: u64,
    pub connect_frames: Vec<Value>,
}

struct Visitor {
    /// What the visitor's page reported last (`presence` data), with its ids and when it arrived.
    data: Map<String, Value>,
    socket: mpsc::UnboundedSender<Message>,
}

struct Agent {
    group: String,
    visitor: String,
    socket: mpsc::UnboundedSender<Message>,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, String>,
    visitors: HashMap<(String, String), Visitor>,
    agents: HashMap<u64, Agent>,
    next_id: u64,
    switches: Switches,
    counts: Counts,
}

/// The presence server's state.
#[derive(Default)]
pub struct Presence(Mutex<Inner>);

fn lock(presence: &Presence) -> MutexGuard<'_, Inner> {
    presence.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn text(value: &Value) -> Utf8Bytes {
    Utf8Bytes::from(value.to_string())
}

impl Presence {
    fn to_agents_of(&self, group: &str, visitor: &str, frame: &Value) {
        let inner = lock(self);
        for agent in inner.agents.values().filter(|agent| agent.group == group && agent.visitor == visitor) {
            let _ = agent.socket.send(Message::Text(text(frame)));
        }
    }

    /// `call` meets the 503 switch (counting it down).
    fn unavailable(&self, call: &str) -> bool {
        let mut inner = lock(self);
        let switches = &inner.switches;
        let unavailable =
            switches.unavailable > 0 && switches.unavailable_only.as_deref().is_none_or(|only| only == call);
        if unavailable {
            inner.switches.unavailable -= 1;
        }
        unavailable
    }

    fn knows(&self, token: &str) -> bool {
        lock(self).tokens.contains_key(token)
    }

    fn sockets_refused(&self) -> bool {
        let mut inner = lock(self);
        let refused = inner.switches.refuse_sockets > 0;
        if refused {
            inner.switches.refuse_sockets -= 1;
        }
        refused
    }
}

/// `groupid`, `visitorid` and the like, from a query string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Ids {
    groupid: String,
    visitorid: String,
}

/// `POST W/services/AuthorizationService.svc/rest/Authorize?groupid=G&service=presence&duration=120`,
/// body `{partnerid, partneruserid, loginkey}` as JSON: the login key is checked for real.
pub async fn authorize(State(app): State<Arc<App>>, body: Bytes) -> Response {
    if app.presence.unavailable("authorize") {
        return scaling();
    }
    let credentials: Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |name: &str| match &credentials[name] {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    };
    let (partner_id, agent, key) = (field("partnerid"), field("partneruserid"), field("loginkey"));
    let refused = lock(&app.presence).switches.refuse_authorization;
    if let Err(reason) = app.verify(&partner_id, &agent, &key) {
        return (StatusCode::FORBIDDEN, Json(json!({"err": "authorization", "msg": reason.message()}))).into_response();
    }
    if refused {
        let msg = format!("Partner User Id {agent} not found or invalid");
        return (StatusCode::FORBIDDEN, Json(json!({"err": "authorization", "msg": msg}))).into_response();
    }
    // Opaque and ASCII (it travels in a header), different every time.
    let token = format!("local-{partner_id}-{}{}", now(), app.fresh_suffix());
    let mut inner = lock(&app.presence);
    inner.counts.authorizations += 1;
    inner.tokens.insert(token.clone(), agent);
    if inner.switches.token_object {
        let expires = chrono_free_iso(now() + 120 * 60);
        return Json(json!({"authToken": token, "authTokeExp": expires, "groupId": partner_id, "service": 12}))
            .into_response();
    }
    Json(Value::String(token)).into_response()
}

/// An ISO 8601 UTC time, without a date crate: what `authTokeExp` looks like.
fn chrono_free_iso(seconds: u64) -> String {
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil from days (Howard Hinnant's algorithm), for dates after 1970.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// `GET W/services/authorizationservice/GetVisitorSettings3?groupid=G&site=production&service=presence`
pub async fn settings(State(app): State<Arc<App>>, Query(ids): Query<Ids>) -> Response {
    if app.presence.unavailable("settings") {
        return scaling();
    }
    if ids.groupid != app.config.partner_id.to_string() {
        return Json(json!({"presenceUrl": ""})).into_response();
    }
    let load_balanced = lock(&app.presence).switches.load_balanced;
    Json(json!({"presenceUrl": app.host(), "isPresenceLoadBalanced": load_balanced, "presenceVersion": "6.25.0"}))
        .into_response()
}

/// The answer of a call that meets the 503 switch.
fn scaling() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "presence is scaling").into_response()
}

/// A presence REST call's check: the 503 switch, and a known bearer token.
fn rest_check(app: &App, call: &str, headers: &HeaderMap) -> Option<Response> {
    if app.presence.unavailable(call) {
        return Some(scaling());
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    (!app.presence.knows(token))
        .then(|| (StatusCode::UNAUTHORIZED, Json(json!({"err": "authorization", "msg": "bad token"}))).into_response())
}

/// `GET https://P/findvisitor?groupid=G&visitorid=V&ver=6.25.0`: where the visitor's socket is.
pub async fn find_visitor(State(app): State<Arc<App>>, headers: HeaderMap, Query(ids): Query<Ids>) -> Response {
    if let Some(refused) = rest_check(&app, "findvisitor", &headers) {
        return refused;
    }
    let found = lock(&app.presence).visitors.contains_key(&(ids.groupid, ids.visitorid));
    if !found {
        return Json(json!({"visitorfound": false})).into_response();
    }
    let (host, port) = app.host().rsplit_once(':').map(|(h, p)| (h.to_owned(), p.to_owned())).unwrap_or_default();
    Json(json!({"visitorfound": true, "directserver": host, "httpsport": port.parse::<u16>().unwrap_or(0), "ds": 1}))
        .into_response()
}

/// `GET https://P/lookupvisitor?groupid=G&visitorid=V&ver=6.25.0`: what the visitor's page reported, or `{}`.
pub async fn lookup_visitor(State(app): State<Arc<App>>, headers: HeaderMap, Query(ids): Query<Ids>) -> Response {
    if let Some(refused) = rest_check(&app, "lookupvisitor", &headers) {
        return refused;
    }
    let inner = lock(&app.presence);
    let data =
        inner.visitors.get(&(ids.groupid, ids.visitorid)).map(|visitor| visitor.data.clone()).unwrap_or_default();
    Json(Value::Object(data)).into_response()
}

/// `POST https://D/signalvisitor?groupid=G&visitorid=V&ver=6.25.0`, body `{mtype, data}`: to the visitor.
pub async fn signal_visitor(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(ids): Query<Ids>,
    body: Bytes,
) -> Response {
    if let Some(refused) = rest_check(&app, "signalvisitor", &headers) {
        return refused;
    }
    let message: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mtype = message["mtype"].as_str().unwrap_or("signal").to_owned();
    if deliver(&app, &ids.groupid, &ids.visitorid, &mtype, &message["data"]) {
        Json(json!({})).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"err": "visitornotpresent", "msg": "the visitor is not connected"})))
            .into_response()
    }
}

/// Passes an invoke (or a signal) to the visitor's socket; false if the visitor is not connected.
fn deliver(app: &App, group: &str, visitor: &str, mtype: &str, data: &Value) -> bool {
    let mut inner = lock(&app.presence);
    if mtype == "invoke" {
        inner.counts.invokes += 1;
    }
    let ignore = inner.switches.ignore_invoke && mtype == "invoke";
    let Some(target) = inner.visitors.get(&(group.to_owned(), visitor.to_owned())) else { return false };
    if !ignore {
        let _ = target.socket.send(Message::Text(text(&json!({"type": mtype, "data": data}))));
    }
    true
}

/// `WS https://D/agent`: an agent watching one visitor.
pub async fn agent_socket(State(app): State<Arc<App>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| agent_session(app, socket))
}

async fn agent_session(app: Arc<App>, mut socket: WebSocket) {
    // The first frame is `{"type":"connect","authorization":T,"groupid":G,"visitorid":V,"version":…}`.
    let first = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let Ok(Some(Ok(Message::Text(first)))) = first else { return };
    let connect: Value = serde_json::from_str(&first).unwrap_or_default();
    let token = connect["authorization"].as_str().unwrap_or_default();
    let group = connect["groupid"].as_str().map(str::to_owned).unwrap_or_else(|| connect["groupid"].to_string());
    let visitor = connect["visitorid"].as_str().unwrap_or_default().to_owned();
    lock(&app.presence).counts.connect_frames.push(connect.clone());
    if connect["type"] != "connect" || !app.presence.knows(token) || app.presence.sockets_refused() {
        let close = CloseFrame { code: REFUSED, reason: Utf8Bytes::from_static("authorization") };
        let _ = socket.send(Message::Close(Some(close))).await;
        return;
    }
    let (to_socket, mut outgoing) = mpsc::unbounded_channel();
    let (id, keepalive, present) = {
        let mut inner = lock(&app.presence);
        inner.next_id += 1;
        let id = inner.next_id;
        inner.agents.insert(id, Agent { group: group.clone(), visitor: visitor.clone(), socket: to_socket });
        let keepalive = inner.switches.keepalive.clone().unwrap_or(json!(KEEPALIVE_SECONDS));
        (id, keepalive, inner.visitors.contains_key(&(group.clone(), visitor.clone())))
    };
    let mut connected = json!({"type": "connected", "data": {"visitorid": visitor}});
    if !keepalive.is_null() {
        connected["keepalive"] = keepalive;
    }
    let mut open = socket.send(Message::Text(text(&connected))).await.is_ok();
    if open && present {
        let frame = json!({"type": "visitorsock", "data": {"connected": true, "visitorid": visitor}});
        open = socket.send(Message::Text(text(&frame))).await.is_ok();
    }
    while open {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(frame))) => agent_frame(&app, &group, &visitor, &frame),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => open = false,
                Some(Ok(_)) => {}
            },
            outgoing = outgoing.recv() => match outgoing {
                Some(Message::Close(_)) | None => open = false, // dropped: the TCP connection just ends
                Some(message) => open = socket.send(message).await.is_ok(),
            },
        }
    }
    lock(&app.presence).agents.remove(&id);
}

fn agent_frame(app: &App, group: &str, visitor: &str, frame: &str) {
    let frame: Value = serde_json::from_str(frame).unwrap_or_default();
    let kind = frame["mtype"].as_str().or_else(|| frame["type"].as_str()).unwrap_or_default();
    match kind {
        "k" => lock(&app.presence).counts.keepalives += 1,
        "invoke" | "signal" => {
            deliver(app, group, visitor, kind, &frame["data"]);
        }
        _ => {}
    }
}

/// `WS W/visitorws?groupid=G&visitorid=V`: the visitor simulator's page (a visitor's presence script).
pub async fn visitor_socket(
    State(app): State<Arc<App>>,
    Query(ids): Query<Ids>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| visitor_session(app, ids, socket))
}

async fn visitor_session(app: Arc<App>, ids: Ids, mut socket: WebSocket) {
    let key = (ids.groupid.clone(), ids.visitorid.clone());
    let (to_socket, mut outgoing) = mpsc::unbounded_channel();
    let mut data = Map::new();
    data.insert("visitorid".into(), json!(ids.visitorid));
    data.insert("groupid".into(), json!(ids.groupid));
    data.insert("visitorpresent".into(), json!(now().to_string()));
    // A second tab of the same visitor replaces the first.
    let mine = to_socket.clone();
    let replaced = lock(&app.presence).visitors.insert(key.clone(), Visitor { data, socket: to_socket });
    if let Some(replaced) = replaced {
        let _ = replaced.socket.send(Message::Close(None));
    }
    let connected = json!({"type": "visitorsock", "data": {"connected": true, "visitorid": ids.visitorid}});
    app.presence.to_agents_of(&ids.groupid, &ids.visitorid, &connected);
    let mut open = true;
    while open {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(frame))) => visitor_frame(&app, &ids, &frame),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => open = false,
                Some(Ok(_)) => {}
            },
            outgoing = outgoing.recv() => match outgoing {
                Some(Message::Close(_)) | None => open = false,
                Some(message) => open = socket.send(message).await.is_ok(),
            },
        }
    }
    let mut inner = lock(&app.presence);
    // Only this socket's own entry (a second tab may have replaced it).
    if inner.visitors.get(&key).is_some_and(|visitor| visitor.socket.same_channel(&mine)) {
        inner.visitors.remove(&key);
        drop(inner);
        let gone = json!({"type": "visitorsock", "data": {"connected": false, "visitorid": ids.visitorid}});
        app.presence.to_agents_of(&ids.groupid, &ids.visitorid, &gone);
    }
}

/// What the visitor's page reports, kept (`presence`) and passed on to the agents watching it.
const RELAYED: [&str; 6] =
    ["presence", "visibility", "terms", "visitorsessionstart", "visitorsessionend", "visitorerror"];

fn visitor_frame(app: &App, ids: &Ids, frame: &str) {
    let frame: Value = serde_json::from_str(frame).unwrap_or_default();
    let kind = frame["type"].as_str().unwrap_or_default();
    if !RELAYED.contains(&kind) {
        return;
    }
    if kind == "presence" {
        if let Some(reported) = frame["data"].as_object() {
            let mut inner = lock(&app.presence);
            if let Some(visitor) = inner.visitors.get_mut(&(ids.groupid.clone(), ids.visitorid.clone())) {
                visitor.data.extend(reported.clone());
                visitor.data.insert("visitorpresent".into(), json!(now().to_string()));
            }
        }
    }
    app.presence.to_agents_of(&ids.groupid, &ids.visitorid, &json!({"type": kind, "data": frame["data"]}));
}

/// `GET /dev/presence`: the switches and the counts.
pub async fn get_switches(State(app): State<Arc<App>>) -> Response {
    let inner = lock(&app.presence);
    let mut counts = inner.counts.clone();
    counts.agent_sockets = inner.agents.len();
    counts.visitor_sockets = inner.visitors.len();
    Json(json!({"switches": inner.switches, "counts": counts})).into_response()
}

/// What `POST /dev/presence` takes: new switches, and whether to drop every agent socket now.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Change {
    #[serde(flatten)]
    switches: Switches,
    drop_sockets: bool,
    reset_counts: bool,
}

/// `POST /dev/presence`: sets the switches; `dropSockets` ends every agent socket at once.
pub async fn set_switches(State(app): State<Arc<App>>, Json(change): Json<Change>) -> Response {
    let mut inner = lock(&app.presence);
    inner.switches = change.switches;
    if change.reset_counts {
        inner.counts = Counts::default();
    }
    if change.drop_sockets {
        for agent in inner.agents.values() {
            let _ = agent.socket.send(Message::Close(None));
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// What `POST /dev/presence/frames` takes: text frames, sent as they are.
#[derive(Debug, Deserialize)]
pub struct RawFrames {
    frames: Vec<String>,
}

/// `POST /dev/presence/frames`: sends each frame, as it is (not JSON, too big, anything), to every
/// agent socket: how the tests play a hostile or broken server.
pub async fn send_frames(State(app): State<Arc<App>>, Json(raw): Json<RawFrames>) -> Response {
    let inner = lock(&app.presence);
    for agent in inner.agents.values() {
        for frame in &raw.frames {
            let _ = agent.socket.send(Message::Text(Utf8Bytes::from(frame.as_str())));
        }
    }
    Json(json!({"agents": inner.agents.len()})).into_response()
}

/// The agent's `EjectAgent` message (PRESENCE.md section 7): `{ssnid, num, mtype, data}` as JSON.
#[derive(Debug, Deserialize)]
pub struct AgentMessage {
    ssnid: String,
    num: u64,
    mtype: String,
}

/// `POST https://<servername>/agent/message`: `EjectAgent` takes agent `num` out of session `ssnid`.
pub async fn agent_message(State(app): State<Arc<App>>, Json(message): Json<AgentMessage>) -> Response {
    if message.mtype != "EjectAgent" {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let removed = app.write(|store| store.remove_agent(&message.ssnid, message.num));
    if removed { StatusCode::OK } else { StatusCode::NOT_FOUND }.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_utc_calendar_times() {
        assert_eq!(chrono_free_iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(chrono_free_iso(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(chrono_free_iso(951_782_400), "2000-02-29T00:00:00Z");
    }
}
