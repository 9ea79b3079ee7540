//! Session lookup (PROTOCOL.md section 2): one task per `lookupSession`, `joinSession` or started
//! presence session. It polls on the schedule (at once, then 3 s × 6, then 5 s) and ends exactly once:
//! found, not found, failed or canceled, each firing one terminal event and settling its promise.
//! `cancelLookup`, the `cancel` of its `lookupWaiting` events and its call's `signal` cancel it; its
//! request in flight is aborted, and a request still queued is never sent.
//!
//! The form request with a renewing key ([`FormAsk`]) is shared with the session calls: a reply that
//! may mean the key was refused is asked again once, with a new key, unseen by the page.

use super::signin::Renewal;
use super::viewer::Join;
use super::{Agent, AgentData, Data, Id, Value};
use crate::credentials::Credentials;
use crate::error::AgentError;
use crate::events::{LOOKUP_CANCELED, LOOKUP_FAILED, LOOKUP_FOUND, LOOKUP_WAITING};
use crate::protocol::{read_lookup, Failure, Lookup as Answer, LookupResult, Reply, LOOKUP_PATH};
use crate::schedule::Schedule;

/// A form request to the service, with the credentials it carries and whether they were renewed.
#[derive(Debug)]
pub(super) struct FormAsk {
    path: &'static str,
    key: String,
    pub(super) credentials: Credentials,
    /// The request in flight.
    pub(super) request: Option<Id>,
    /// The key was renewed once already: a second refusal stands.
    renewed: bool,
}

/// What a lookup waits for.
#[derive(Debug)]
enum Step {
    /// Credentials.
    Key,
    /// An answer (or a renewed key, when `request` is `None`).
    Ask(FormAsk),
    /// The pause before the next attempt.
    Paused(Id),
}

/// One lookup.
#[derive(Debug)]
pub(super) struct Lookup<V> {
    id: Id,
    call: Id,
    key: String,
    wait: bool,
    schedule: Schedule,
    /// What to open once found (`joinSession`); `None` resolves the result (`lookupSession`).
    pub(super) join: Option<Join<V>>,
    step: Step,
}

/// What a lookup learned: the session and the credentials that found it, or none.
type Found = Option<(Box<LookupResult>, Credentials)>;

impl<V: Clone + PartialEq> Agent<V> {
    /// `lookupSession(key, wait)`.
    pub fn lookup(&mut self, call: Id, key: String, wait: bool) {
        self.start_lookup(call, key, wait, None);
    }

    /// Starts looking `key` up for `call`; with `join`, the viewer opens when it is found.
    pub(super) fn start_lookup(&mut self, call: Id, key: String, wait: bool, join: Option<Join<V>>) {
        let id = self.next_id();
        let lookup = Lookup { id, call, key, wait, schedule: Schedule::new(wait), join, step: Step::Key };
        self.next_attempt(lookup);
    }

    /// `cancelLookup()` (`None`: the most recent lookup in progress), or the `cancel` of lookup `id`.
    /// Nothing happens if it has ended.
    pub fn cancel_lookup(&mut self, id: Option<Id>) {
        let latest = self.lookups.iter().map(|lookup| lookup.id).max();
        if let Some(lookup) = self.take_lookup(|lookup| Some(lookup.id) == id.or(latest)) {
            self.end_lookup(lookup, Err(AgentError::Canceled));
        }
    }

    fn take_lookup(&mut self, matches: impl Fn(&Lookup<V>) -> bool) -> Option<Lookup<V>> {
        super::take_where(&mut self.lookups, &matches)
    }

    pub(super) fn lookup_abort(&mut self, call: Id) -> bool {
        let Some(lookup) = self.take_lookup(|lookup| lookup.call == call) else { return false };
        self.end_lookup(lookup, Err(AgentError::Canceled));
        true
    }

    /// The next attempt on the schedule, after its pause, or none left (timed out). The first pause
    /// is 0: the first attempt comes once the page's script that started the lookup has run, so no
    /// listener runs inside the call.
    fn next_attempt(&mut self, mut lookup: Lookup<V>) {
        match lookup.schedule.next() {
            None => {
                let timed_out = AgentError::TimedOut("no session with this key started within 45 seconds");
                self.end_lookup(lookup, Err(timed_out));
            }
            Some(pause) => {
                lookup.step = Step::Paused(self.timer(pause));
                self.lookups.push(lookup);
            }
        }
    }

    pub(super) fn lookup_timer(&mut self, id: Id) -> bool {
        let Some(mut lookup) = self.take_lookup(|lookup| matches!(lookup.step, Step::Paused(timer) if timer == id))
        else {
            return false;
        };
        lookup.step = Step::Key;
        let task = lookup.id;
        self.lookups.push(lookup);
        if let Some(key) = self.need_key(task) {
            self.lookup_key(task, &key);
        }
        true
    }

    /// Lookup `id` has its credentials (for an attempt, or renewed after a refusal).
    pub(super) fn lookup_key(&mut self, id: Id, key: &Result<Credentials, AgentError>) -> bool {
        let Some(mut lookup) = self.take_lookup(|lookup| lookup.id == id) else { return false };
        let credentials = match key {
            Ok(credentials) => credentials.clone(),
            Err(error) => {
                self.end_lookup(lookup, Err(error.clone()));
                return true;
            }
        };
        match &mut lookup.step {
            Step::Ask(ask) => self.ask_again(ask, credentials),
            _ => {
                let waiting = AgentData { ssnkey: Some(lookup.key.clone()), cancel: Some(id), ..AgentData::default() };
                self.fire_agent(LOOKUP_WAITING, waiting);
                // Queued after the event: a listener that cancels withdraws it before it is sent.
                lookup.step = Step::Ask(self.ask(LOOKUP_PATH, &lookup.key, credentials));
            }
        }
        self.lookups.push(lookup);
        true
    }

    pub(super) fn lookup_reply(&mut self, id: Id, reply: &Reply) -> bool {
        let Some(mut lookup) =
            self.take_lookup(|lookup| matches!(&lookup.step, Step::Ask(ask) if ask.request == Some(id)))
        else {
            return false;
        };
        let Step::Ask(ask) = &mut lookup.step else { return false };
        let refused = matches!(read_lookup(reply), Err(Failure::KeyRefused(_)));
        if !self.answered(lookup.id, ask, refused) {
            self.lookups.push(lookup);
            return true;
        }
        match read_lookup(reply) {
            Ok(Answer::Found(result)) => {
                let credentials = ask.credentials.clone();
                self.end_lookup(lookup, Ok(Some((result, credentials))));
            }
            Ok(Answer::NotFound) if !lookup.wait => self.end_lookup(lookup, Ok(None)),
            Ok(Answer::NotFound) | Err(Failure::Transient(_)) if lookup.wait => self.next_attempt(lookup),
            Err(failure) => self.end_lookup(lookup, Err(failure.into_error())),
            Ok(Answer::NotFound) => self.end_lookup(lookup, Ok(None)),
        }
        true
    }

    /// Ends a lookup: what it held is released, its one terminal event fires, its promise settles
    /// (a join's viewer opens, or its waiting window closes).
    fn end_lookup(&mut self, lookup: Lookup<V>, outcome: Result<Found, AgentError>) {
        match &lookup.step {
            Step::Ask(FormAsk { request: Some(id), .. }) | Step::Paused(id) => self.release(*id),
            _ => {}
        }
        let Lookup { call, key, join, .. } = lookup;
        let failed = match outcome {
            Ok(Some((result, credentials))) => {
                self.fire(LOOKUP_FOUND, Data::Found(result.clone()));
                match join {
                    Some(join) => self.open_found(call, join, *result, credentials),
                    None => self.settle(call, Ok(Value::Found(result))),
                }
                return;
            }
            Ok(None) if join.is_none() => return self.settle(call, Ok(Value::Empty)),
            Ok(None) => AgentError::NotFound,
            Err(error) => {
                let name = if error == AgentError::Canceled { LOOKUP_CANCELED } else { LOOKUP_FAILED };
                let reason = (name == LOOKUP_FAILED).then(|| error.reason_text());
                self.fire_agent(name, AgentData { ssnkey: Some(key), reason, ..AgentData::default() });
                error
            }
        };
        if let Some(join) = &join {
            self.close_waiting(join);
        }
        self.settle(call, Err(failed));
    }

    // ---- the form request, shared with the session calls ----

    /// Sends the form request `path` about `key` with `credentials`.
    pub(super) fn ask(&mut self, path: &'static str, key: &str, credentials: Credentials) -> FormAsk {
        let request = Some(self.fetch_form(path, key, &credentials));
        FormAsk { path, key: key.to_owned(), credentials, request, renewed: false }
    }

    /// Ask `ask` of task `task` has its reply: whether that reply is the final one. When the reply
    /// may mean a refused key (`refused`) and the agent's keys renew, the request goes again once,
    /// with a new key (now, or when the task is resumed with it through [`Agent::ask_again`]).
    pub(super) fn answered(&mut self, task: Id, ask: &mut FormAsk, refused: bool) -> bool {
        ask.request = None;
        if !refused || ask.renewed {
            return true;
        }
        ask.renewed = true;
        match self.after_refusal(task, &ask.credentials) {
            Renewal::None => true,
            Renewal::Ready(credentials) => {
                self.ask_again(ask, credentials);
                false
            }
            Renewal::Wait => false,
        }
    }

    /// Sends `ask` again with renewed `credentials`.
    pub(super) fn ask_again(&mut self, ask: &mut FormAsk, credentials: Credentials) {
        ask.request = Some(self.fetch_form(ask.path, &ask.key, &credentials));
        ask.credentials = credentials;
    }
}
