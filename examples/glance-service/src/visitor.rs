//! The visitor simulator's JSON API (`/visitor/api/…`) and the developer endpoints (`/dev/…`).
//! Tests and the simulator page use them to start sessions, emit events, mint keys and flip faults.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::{now, App, Faults, KEY_LIFETIME_SECONDS};
use crate::store::{templates, CallType, EmitError};

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn emit_problem(error: EmitError) -> Response {
    let status = match error {
        EmitError::NoSuchSession => StatusCode::NOT_FOUND,
        EmitError::Ended => StatusCode::CONFLICT,
        EmitError::UnknownEvent => StatusCode::BAD_REQUEST,
    };
    problem(status, error.message())
}

pub async fn page() -> Html<&'static str> {
    Html(include_str!("../pages/visitor.html"))
}

pub async fn event_templates() -> Json<&'static Value> {
    Json(templates())
}

/// Events kept per session in the list; `GET /visitor/api/sessions/{key}` has them all.
const LISTED_EVENTS: usize = 50;

/// Every session, with its latest events only (a soak test may have sent 100,000) and their count.
pub async fn list(State(app): State<Arc<App>>) -> Json<Value> {
    Json(app.read(|store| {
        let sessions = store.list().into_iter().map(|session| {
            let skipped = session.events.len().saturating_sub(LISTED_EVENTS);
            json!({
                "key": session.key, "calltype": session.calltype, "visitor": session.visitor, "id": session.id,
                "ssnid": session.ssnid, "running": session.running, "agents": session.agents,
                "events": session.events.get(skipped..).unwrap_or_default(), "eventCount": session.events.len(),
            })
        });
        Value::Array(sessions.collect())
    }))
}

pub async fn show(State(app): State<Arc<App>>, Path(key): Path<String>) -> Response {
    match app.read(|store| store.get(&key).map(|session| json!(session))) {
        Some(session) => Json(session).into_response(),
        None => problem(StatusCode::NOT_FOUND, EmitError::NoSuchSession.message()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Start {
    key: Option<String>,
    calltype: Option<String>,
    visitor: Option<String>,
}

/// Starts a session (a four-digit key is made up when none is given); a running one is returned as is.
pub async fn start(State(app): State<Arc<App>>, Json(start): Json<Start>) -> Response {
    let calltype = match start.calltype.as_deref().map(CallType::parse) {
        None => CallType::Cobrowse,
        Some(Some(calltype)) => calltype,
        Some(None) => return problem(StatusCode::BAD_REQUEST, "calltype is C, G or V"),
    };
    let key = match start.key.map(|key| key.trim().to_owned()) {
        Some(key) if key.is_empty() || key.len() > 64 => {
            return problem(StatusCode::BAD_REQUEST, "a session key has 1 to 64 characters")
        }
        Some(key) => key,
        None => app.read(|store| {
            (0..10_000u64)
                .map(|step| format!("{:04}", (now() * 7919 + step * 37) % 10_000))
                .find(|key| store.running(key).is_none())
                .unwrap_or_else(|| "0000".into())
        }),
    };
    let visitor = start.visitor.unwrap_or_else(|| "Ada Visitor".into());
    let partner_id = app.config.partner_id;
    let session = app.write(|store| json!(store.start(&key, calltype, &visitor, partner_id)));
    (StatusCode::CREATED, Json(session)).into_response()
}

/// The most events one request may emit (soak tests send thousands at once).
const MOST_EVENTS: u32 = 100_000;
/// The most event bytes one request may add.
const MOST_EVENT_BYTES: usize = 64 << 20;

#[derive(Deserialize)]
pub struct Emit {
    name: String,
    service: Option<String>,
    data: Option<Map<String, Value>>,
    /// How many copies to emit (default 1); answered with the last one.
    count: Option<u32>,
}

/// Emits an event of the reference into a running session, `count` times.
pub async fn emit(State(app): State<Arc<App>>, Path(key): Path<String>, Json(emit): Json<Emit>) -> Response {
    let count = emit.count.unwrap_or(1);
    if !(1..=MOST_EVENTS).contains(&count) {
        return problem(StatusCode::BAD_REQUEST, "count is 1 to 100000");
    }
    // Many copies of a big payload would exhaust the service's memory.
    let payload = emit.data.as_ref().map_or(0, |data| Value::Object(data.clone()).to_string().len());
    if (payload + 256).saturating_mul(count as usize) > MOST_EVENT_BYTES {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "count × payload is over 64 MB");
    }
    let emitted = app.write(|store| {
        let mut last = store.emit(&key, &emit.name, emit.service.as_deref(), emit.data.as_ref());
        for _ in 1..count {
            last = store.emit(&key, &emit.name, emit.service.as_deref(), emit.data.as_ref());
        }
        last
    });
    match emitted {
        Ok(event) => (StatusCode::CREATED, Json(json!(event))).into_response(),
        Err(error) => emit_problem(error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct End {
    data: Option<Map<String, Value>>,
}

/// Ends a session with its service's `sessionEnded` (`data` sets e.g. the screenshare `status`).
pub async fn end(State(app): State<Arc<App>>, Path(key): Path<String>, body: Option<Json<End>>) -> Response {
    let data = body.and_then(|Json(end)| end.data);
    match app.write(|store| store.end(&key, data.as_ref())) {
        Ok(event) => Json(json!(event)).into_response(),
        Err(error) => emit_problem(error),
    }
}

/// `GET /dev/config`: what the demo console needs to fill in its settings.
pub async fn dev_config(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({
        "webserver": app.webserver,
        "partnerid": app.config.partner_id,
        "partneruserid": app.config.agent_id,
        "visitorUrl": format!("{}/visitor", app.webserver),
        "consoleUrl": app.console_url,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Mint {
    partneruserid: Option<String>,
    partnerid: Option<u64>,
    /// Seconds from now; negative mints an expired key, beyond a day one the service refuses.
    expires_in: Option<i64>,
}

/// `GET /dev/loginkey`: a login key signed with the service's API key (development only).
pub async fn dev_login_key(State(app): State<Arc<App>>, Query(mint): Query<Mint>) -> Json<Value> {
    let agent = mint.partneruserid.unwrap_or_else(|| app.config.agent_id.clone());
    let partner_id = mint.partnerid.unwrap_or(app.config.partner_id);
    let (login_key, expires) = app.mint(partner_id, &agent, mint.expires_in.unwrap_or(KEY_LIFETIME_SECONDS));
    Json(json!({
        "webserver": app.webserver,
        "partnerid": partner_id,
        "partneruserid": agent,
        "loginkey": login_key,
        "expires": expires,
    }))
}

pub async fn get_faults(State(app): State<Arc<App>>) -> Json<Faults> {
    Json(app.faults())
}

/// `POST /dev/faults {lookup: "none"|"error"|"garbage"|"hang"|"delay"|"drip", delayMs, count, clockSkew}`
pub async fn set_faults(State(app): State<Arc<App>>, Json(faults): Json<Faults>) -> Json<Faults> {
    app.set_faults(faults);
    Json(faults)
}
