//! Sessions and their events, in memory. The visitor simulator writes; lookups and viewers read.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{json, Map, Value};

/// The payload shapes of the API reference, by service and event name (src/events.json).
pub fn templates() -> &'static Value {
    static TEMPLATES: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| serde_json::from_str(include_str!("events.json")).expect("events.json is valid JSON"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CallType {
    #[serde(rename = "C")]
    Cobrowse,
    #[serde(rename = "G")]
    Screenshare,
    #[serde(rename = "V")]
    Video,
}

impl CallType {
    pub fn parse(text: &str) -> Option<CallType> {
        match text {
            "C" | "c" => Some(CallType::Cobrowse),
            "G" | "g" => Some(CallType::Screenshare),
            "V" | "v" => Some(CallType::Video),
            _ => None,
        }
    }

    pub fn letter(self) -> &'static str {
        match self {
            CallType::Cobrowse => "C",
            CallType::Screenshare => "G",
            CallType::Video => "V",
        }
    }

    /// The service whose `connecting` and `sessionEnded` the viewer reports.
    pub fn service(self) -> &'static str {
        match self {
            CallType::Cobrowse => "cobrowse",
            CallType::Screenshare | CallType::Video => "screenshare",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub seq: u64,
    pub name: String,
    pub data: Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub key: String,
    pub calltype: CallType,
    pub visitor: String,
    pub id: u64,
    pub ssnid: String,
    pub running: bool,
    pub events: Vec<Event>,
    /// Open viewers (viewer id → the agent's partneruserid), for AgentInSession.
    pub agents: BTreeMap<String, String>,
}

#[derive(Default)]
pub struct Store {
    sessions: HashMap<String, Session>,
    next_id: u64,
    next_seq: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum EmitError {
    NoSuchSession,
    Ended,
    UnknownEvent,
}

impl EmitError {
    pub fn message(&self) -> &'static str {
        match self {
            EmitError::NoSuchSession => "no session with that key",
            EmitError::Ended => "the session has ended",
            EmitError::UnknownEvent => "no event of the reference has that name (and service)",
        }
    }
}

impl Store {
    pub fn get(&self, key: &str) -> Option<&Session> {
        self.sessions.get(key)
    }

    pub fn running(&self, key: &str) -> Option<&Session> {
        self.get(key).filter(|session| session.running)
    }

    pub fn list(&self) -> Vec<&Session> {
        let mut sessions: Vec<&Session> = self.sessions.values().collect();
        sessions.sort_by_key(|session| session.id);
        sessions
    }

    /// The sequence number of the last event so far; viewers ask for events after it.
    pub fn last_seq(&self) -> u64 {
        self.next_seq
    }

    /// Starts a session; one that ended under the same key is replaced, a running one is kept.
    pub fn start(&mut self, key: &str, calltype: CallType, visitor: &str, partner_id: u64) -> &Session {
        if self.running(key).is_none() {
            self.next_id += 1;
            let session = Session {
                key: key.to_owned(),
                calltype,
                visitor: visitor.to_owned(),
                id: self.next_id,
                ssnid: format!("{partner_id}.{key}.{}", 846_930_000 + self.next_id),
                running: true,
                events: Vec::new(),
                agents: BTreeMap::new(),
            };
            self.sessions.insert(key.to_owned(), session);
        }
        &self.sessions[key]
    }

    /// Adds an event of the reference: `data` is laid over the template and `service` set.
    /// With no `service`, the session's own service is tried first, then the others.
    pub fn emit(
        &mut self,
        key: &str,
        name: &str,
        service: Option<&str>,
        data: Option<&Map<String, Value>>,
    ) -> Result<Event, EmitError> {
        let session = self.sessions.get(key).ok_or(EmitError::NoSuchSession)?;
        if !session.running {
            return Err(EmitError::Ended);
        }
        let own = session.calltype.service();
        let candidates = match service {
            Some(service) => vec![service],
            None => vec![own, "cobrowse", "screenshare", "video"],
        };
        let (service, template) = candidates
            .into_iter()
            .find_map(|service| Some((service, templates().get(service)?.get(name)?)))
            .ok_or(EmitError::UnknownEvent)?;
        let mut payload = template.as_object().cloned().unwrap_or_default();
        if let Some(data) = data {
            payload.extend(data.iter().map(|(name, value)| (name.clone(), value.clone())));
        }
        payload.insert("service".into(), Value::String(service.to_owned()));
        Ok(self.push(key, name, Value::Object(payload)))
    }

    /// Ends a running session with its service's `sessionEnded`; `data` overrides the template.
    pub fn end(&mut self, key: &str, data: Option<&Map<String, Value>>) -> Result<Event, EmitError> {
        let service = self.running(key).ok_or(EmitError::NoSuchSession)?.calltype.service();
        let event = self.emit(key, "sessionEnded", Some(service), data)?;
        if let Some(session) = self.sessions.get_mut(key) {
            session.running = false;
            session.agents.clear();
        }
        Ok(event)
    }

    fn push(&mut self, key: &str, name: &str, data: Value) -> Event {
        self.next_seq += 1;
        let event = Event { seq: self.next_seq, name: name.to_owned(), data };
        if let Some(session) = self.sessions.get_mut(key) {
            session.events.push(event.clone());
        }
        event
    }

    pub fn events_after(&self, key: &str, after: u64) -> Vec<Event> {
        let Some(session) = self.get(key) else { return Vec::new() };
        session.events.iter().filter(|event| event.seq > after).cloned().collect()
    }

    pub fn set_viewer(&mut self, key: &str, viewer: &str, agent: Option<&str>) {
        if let Some(session) = self.sessions.get_mut(key).filter(|session| session.running) {
            match agent {
                Some(agent) => session.agents.insert(viewer.to_owned(), agent.to_owned()),
                None => session.agents.remove(viewer),
            };
        }
    }

    /// `EjectAgent`: takes participant `num` out of the running session `ssnid`; whether there was one.
    pub fn remove_agent(&mut self, ssnid: &str, num: u64) -> bool {
        let Some(session) = self.sessions.values_mut().find(|session| session.running && session.ssnid == ssnid) else {
            return false;
        };
        let viewer = usize::try_from(num)
            .ok()
            .and_then(|num| num.checked_sub(1))
            .and_then(|at| session.agents.keys().nth(at).cloned());
        viewer.is_some_and(|viewer| session.agents.remove(&viewer).is_some())
    }

    /// Running sessions that `agent` has a viewer open in.
    pub fn sessions_of(&self, agent: &str) -> Vec<&Session> {
        self.list()
            .into_iter()
            .filter(|session| session.running && session.agents.values().any(|id| id == agent))
            .collect()
    }
}

impl Session {
    /// The agent's participant number in the session (1-based, in the order of its viewers' ids).
    pub fn agent_number(&self, agent: &str) -> Option<u64> {
        let at = self.agents.values().position(|id| id == agent)?;
        u64::try_from(at + 1).ok()
    }
}

/// What a viewer reports first when it connects: the `connecting` event of the session's service.
pub fn connecting(session: &Session, partner_id: u64, agent: &str) -> Value {
    match session.calltype {
        CallType::Cobrowse => json!({
            "groupid": partner_id.to_string(), "visitorid": session.key, "ssnkey": session.key, "service": "cobrowse",
        }),
        CallType::Screenshare | CallType::Video => {
            let mut payload = templates()["screenshare"]["connecting"].clone();
            let fields = json!({
                "calltype": session.calltype.letter(), "ssnkey": session.key, "ssnid": session.ssnid,
                "agentusername": format!("{agent}.local"), "agentvideo": u8::from(session.calltype == CallType::Video),
                "agentinfo": { "username": format!("{agent}.local"), "partnerid": partner_id,
                               "partneruserid": agent, "name": agent, "title": "" },
                "service": "screenshare",
            });
            if let (Some(payload), Value::Object(fields)) = (payload.as_object_mut(), fields) {
                payload.extend(fields);
            }
            payload
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_take_the_reference_shape_and_the_session_service() {
        let mut store = Store::default();
        store.start("1234", CallType::Screenshare, "Ada", 20541);
        let stats = store.emit("1234", "stats", None, None).unwrap();
        assert_eq!(stats.data, json!({"bytespersec": 5221.8, "framespersec": 0.4, "service": "screenshare"}));
        let video =
            store.emit("1234", "guestCountChanged", None, Some(json!({"count": 0}).as_object().unwrap())).unwrap();
        assert_eq!(video.data, json!({"count": 0, "service": "video"}));
        assert_eq!(store.emit("1234", "nope", None, None).unwrap_err(), EmitError::UnknownEvent);
        assert_eq!(store.emit("1234", "navigate", Some("video"), None).unwrap_err(), EmitError::UnknownEvent);
        assert_eq!(store.events_after("1234", stats.seq).len(), 1);
    }

    #[test]
    fn ending_fires_session_ended_and_stops_events() {
        let mut store = Store::default();
        store.start("1234", CallType::Cobrowse, "Ada", 20541);
        store.set_viewer("1234", "v1", Some("agent-7"));
        assert_eq!(store.sessions_of("agent-7").len(), 1);
        let ended = store.end("1234", None).unwrap();
        assert_eq!(ended.data, json!({"reason": "AgentLeft", "service": "cobrowse"}));
        assert_eq!(store.emit("1234", "rc", None, None).unwrap_err(), EmitError::Ended);
        assert!(store.sessions_of("agent-7").is_empty());
        assert!(store.running("1234").is_none());
        let first = store.get("1234").unwrap().id;
        let again = store.start("1234", CallType::Video, "Bob", 20541);
        assert_ne!(again.id, first, "a new session under the old key");
        assert!(again.events.is_empty() && again.running);
    }

    #[test]
    fn connecting_carries_the_session() {
        let mut store = Store::default();
        let session = store.start("77", CallType::Screenshare, "Ada", 20541).clone();
        let payload = connecting(&session, 20541, "agent-7");
        assert_eq!(payload["ssnkey"], "77");
        assert_eq!(payload["service"], "screenshare");
        assert_eq!(payload["agentinfo"]["partneruserid"], "agent-7");
        assert_eq!(payload["displayprotocolversion"], 1019);
    }
}
