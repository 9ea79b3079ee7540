//! The calls about the sessions the agent is in (PROTOCOL.md section 5, PRESENCE.md section 7):
//! `inSession` (one `AgentInSession` request), `leaveSession` (that request, then `EjectAgent` to the
//! session's server) and `end()` (a leave for each session whose viewer this library opened, one
//! after the other, then every viewer closes).

use super::lookup::FormAsk;
use super::{Agent, AgentData, Id, Request, Value};
use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::presence::{eject_agent, leave_url};
use crate::protocol::{read_sessions, Failure, Reply, IN_SESSION_PATH};

/// What a session task is.
#[derive(Debug)]
enum Kind {
    /// `inSession(key)`; an empty key asks for the list.
    InSession(String),
    /// `leaveSession(key)`, or one leave of an `end()` (its `parent`).
    Leave { key: String, parent: Option<Id> },
    /// `end()`: the sessions still to leave.
    End(Vec<String>),
}

/// What a session task waits for.
#[derive(Debug)]
enum Step {
    Key,
    Ask(FormAsk),
    /// The `EjectAgent` request.
    Eject(Id),
    /// A leave of this `end()`.
    Leaving,
}

/// One session call in progress.
#[derive(Debug)]
pub(super) struct SessionTask {
    id: Id,
    call: Option<Id>,
    kind: Kind,
    step: Step,
}

/// What the session calls need of a credentials object that `AgentInSession` may refuse.
fn refused(reply: &Reply) -> bool {
    matches!(read_sessions(reply), Err(Failure::KeyRefused(_)))
}

impl<V: Clone + PartialEq> Agent<V> {
    /// `inSession(key)`: whether the agent is in session `key`; with `""`, the list of its sessions.
    pub fn in_session(&mut self, call: Id, key: String) {
        self.fire_agent("inSession", AgentData { ssnkey: Some(key.clone()), ..AgentData::default() });
        self.start_session_task(Some(call), Kind::InSession(key));
    }

    /// `leaveSession(key)`: the agent leaves a session it is in; resolves whether the server took it.
    pub fn leave_session(&mut self, call: Id, key: String) {
        self.start_session_task(Some(call), Kind::Leave { key, parent: None });
    }

    /// `end()`: leaves every session whose viewer this library opened, then closes the viewers.
    pub fn end(&mut self, call: Id) {
        let mut keys = self.viewer_keys();
        keys.reverse(); // taken from the end: the first opened is left first
        let id = self.next_id();
        self.sessions.push(SessionTask { id, call: Some(call), kind: Kind::End(keys), step: Step::Leaving });
        self.end_next(id);
    }

    fn start_session_task(&mut self, call: Option<Id>, kind: Kind) {
        let id = self.next_id();
        self.sessions.push(SessionTask { id, call, kind, step: Step::Key });
        if let Some(key) = self.need_key(id) {
            self.session_key(id, &key);
        }
    }

    fn take_session(&mut self, matches: impl Fn(&SessionTask) -> bool) -> Option<SessionTask> {
        super::take_where(&mut self.sessions, &matches)
    }

    pub(super) fn session_abort(&mut self, call: Id) -> bool {
        let Some(task) = self.take_session(|task| task.call == Some(call)) else { return false };
        self.end_session_task(task, Err(AgentError::Canceled));
        true
    }

    /// Session task `id` has its credentials (at first, or renewed after a refusal).
    pub(super) fn session_key(&mut self, id: Id, key: &Result<Credentials, AgentError>) -> bool {
        let Some(mut task) = self.take_session(|task| task.id == id) else { return false };
        let credentials = match key {
            Ok(credentials) => credentials.clone(),
            Err(error) => {
                self.end_session_task(task, Err(error.clone()));
                return true;
            }
        };
        match &mut task.step {
            Step::Ask(ask) => self.ask_again(ask, credentials),
            _ => {
                self.fire_agent("inSessionLookup", AgentData::default());
                let key = match &task.kind {
                    Kind::InSession(key) => key.as_str(),
                    _ => "",
                };
                task.step = Step::Ask(self.ask(IN_SESSION_PATH, key, credentials));
            }
        }
        self.sessions.push(task);
        true
    }

    pub(super) fn session_reply(&mut self, id: Id, reply: &Reply) -> bool {
        let Some(mut task) = self.take_session(|task| match &task.step {
            Step::Ask(ask) => ask.request == Some(id),
            Step::Eject(request) => *request == id,
            _ => false,
        }) else {
            return false;
        };
        if let Step::Eject(_) = task.step {
            let left = match reply {
                Reply::Answered { status, .. } => Ok(Value::Bool((200..300).contains(status))),
                _ => Err(AgentError::ServiceUnavailable(reply.unreachable().unwrap_or_default().to_owned())),
            };
            if let (Ok(Value::Bool(true)), Kind::Leave { key, .. }) = (&left, &task.kind) {
                self.forget_session(key);
            }
            self.end_session_task(task, left);
            return true;
        }
        let Step::Ask(ask) = &mut task.step else { return true };
        if !self.answered(task.id, ask, refused(reply)) {
            self.sessions.push(task);
            return true;
        }
        let sessions = match read_sessions(reply) {
            Ok(sessions) => sessions,
            Err(failure) => {
                self.end_session_task(task, Err(failure.into_error()));
                return true;
            }
        };
        match &task.kind {
            Kind::InSession(key) if key.is_empty() => self.end_session_task(task, Ok(Value::Sessions(sessions))),
            Kind::InSession(key) => {
                // The service answers about the key asked for; the list is checked all the same.
                let there = sessions.iter().any(|session| session.passcode == *key);
                self.end_session_task(task, Ok(Value::Bool(there)));
            }
            Kind::Leave { key, .. } => {
                let Some(session) = sessions.iter().find(|session| session.passcode.trim() == key) else {
                    let missing = AgentError::InvalidArgument("the agent is in no session with this key");
                    self.end_session_task(task, Err(missing));
                    return true;
                };
                let Some(url) = leave_url(self.settings.webserver.is_secure(), &session.servername) else {
                    let bad = AgentError::ServiceError("the session server's name is not a host".into());
                    self.end_session_task(task, Err(bad));
                    return true;
                };
                let body = eject_agent(ask.credentials.partner_id(), session);
                let request = Request {
                    cookies: true,
                    private: true,
                    read: super::Read::Status,
                    ..Request::post(url, body, crate::presence::JSON_CONTENT_TYPE)
                };
                task.step = Step::Eject(self.fetch(request));
                self.sessions.push(task);
            }
            Kind::End(_) => {}
        }
        true
    }

    /// Ends a session task once: its call settles; a leave of an `end()` lets it go on.
    fn end_session_task(&mut self, task: SessionTask, outcome: Result<Value<V>, AgentError>) {
        match &task.step {
            Step::Ask(super::lookup::FormAsk { request: Some(id), .. }) | Step::Eject(id) => self.release(*id),
            _ => {}
        }
        if let Some(call) = task.call {
            self.settle(call, outcome);
        }
        if let Kind::Leave { parent: Some(parent), .. } = task.kind {
            self.end_next(parent);
        }
    }

    /// `end()` `id` leaves its next session (a session already over has nothing to leave, so each
    /// leave's outcome is ignored), or, with none left, closes every viewer and resolves.
    fn end_next(&mut self, id: Id) {
        let Some(mut task) = self.take_session(|task| task.id == id) else { return };
        let Kind::End(keys) = &mut task.kind else { return };
        match keys.pop() {
            Some(key) => {
                self.sessions.push(task);
                self.start_session_task(None, Kind::Leave { key, parent: Some(id) });
            }
            None => {
                self.close_all();
                if let Some(call) = task.call {
                    self.settle(call, Ok(Value::Undefined));
                }
            }
        }
    }
}
