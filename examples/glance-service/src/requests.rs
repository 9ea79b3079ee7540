//! Every request the service received, for tests whose browser driver cannot see requests
//! (WebDriver): `GET /dev/requests?since=N` lists those after sequence number N, with their bodies,
//! whether they were answered and whether the client gave up first (an aborted `fetch`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::app::App;

/// The log keeps the newest entries only, so a demo left running does not grow without end.
const KEPT: usize = 20_000;
/// Bodies are kept up to this many bytes (the tests read form and JSON bodies of a few hundred).
const BODY_KEPT: usize = 64 * 1024;
/// Bodies are read whole up to this size; a larger one is refused as too large.
const BODY_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    seq: u64,
    method: String,
    /// Path and query, as sent.
    url: String,
    /// The Host header: which name the client used for the service.
    host: Option<String>,
    body: String,
    origin: Option<String>,
    /// A WebSocket handshake.
    websocket: bool,
    /// The handler produced its response.
    answered: bool,
    /// The client went away before the response: its handler was dropped.
    aborted: bool,
}

#[derive(Default)]
pub struct RequestLog {
    next: u64,
    entries: VecDeque<Entry>,
}

fn lock(log: &Mutex<RequestLog>) -> MutexGuard<'_, RequestLog> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Marks its entry aborted if the handler is dropped before it answered.
struct Pending {
    app: Arc<App>,
    seq: u64,
    done: bool,
}

impl Pending {
    fn settle(&mut self, answered: bool) {
        self.done = true;
        let mut log = lock(&self.app.requests);
        if let Some(entry) = log.entries.iter_mut().rev().find(|entry| entry.seq == self.seq) {
            entry.answered = answered;
            entry.aborted = !answered;
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            self.settle(false);
        }
    }
}

/// The middleware: records the request, then runs it.
pub async fn record(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEPT)]).into_owned();
    let header_text = |name| parts.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let seq = {
        let mut log = lock(&app.requests);
        log.next += 1;
        let seq = log.next;
        log.entries.push_back(Entry {
            seq,
            method: parts.method.to_string(),
            url: parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |path| path.to_string()),
            body: text,
            host: header_text(header::HOST),
            origin: header_text(header::ORIGIN),
            websocket: header_text(header::UPGRADE).is_some_and(|upgrade| upgrade.eq_ignore_ascii_case("websocket")),
            answered: false,
            aborted: false,
        });
        if log.entries.len() > KEPT {
            log.entries.pop_front();
        }
        seq
    };
    let mut pending = Pending { app, seq, done: false };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    pending.settle(true);
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Since {
    since: u64,
}

/// `GET /dev/requests?since=N`: `{last, requests}`, the entries after N (itself not listed).
pub async fn list(State(app): State<Arc<App>>, Query(Since { since }): Query<Since>) -> Json<serde_json::Value> {
    let log = lock(&app.requests);
    let requests: Vec<Entry> = log.entries.iter().filter(|entry| entry.seq > since).cloned().collect();
    Json(serde_json::json!({ "last": log.next, "requests": requests }))
}
