//! `diagnose()`: what a join needs, checked one after the other (the webserver answers this page,
//! credentials, the popup tried in the call's click, the page's opener policy, framing the viewer),
//! then judged by `crate::diagnose` into a report.

use super::{Agent, Id, Mode, Output, Read, Request, Value};
use crate::credentials::Credentials;
use crate::diagnose::{self as judge, Framing, Reach, Report, FRAME_PROBE_MS, FRAME_SETTLE_MS};
use crate::error::AgentError;
use crate::protocol::{Reply, IN_SESSION_PATH, VIEWER_PATH};

/// What a `diagnose()` waits for.
#[derive(Debug)]
enum Step {
    /// The webserver's answer to a POST from this page.
    Reach(Id),
    /// The answer to a no-CORS POST, after the first failed with this message.
    ReachOpaque(Id, String),
    /// A key from `getLoginKey`.
    Key,
    /// This page's opener policy.
    Opener,
    /// The hidden frame on the viewer page (and its timer, same id), then the pause after its load.
    Frame { frame: Id, settle: Option<Id> },
}

/// One `diagnose()` call.
#[derive(Debug)]
pub(super) struct Diagnose {
    id: Id,
    call: Id,
    popup: Option<bool>,
    page_origin: String,
    reach: Reach,
    credentials: judge::Credentials,
    severs: bool,
    step: Step,
}

impl<V: Clone + PartialEq> Agent<V> {
    /// `diagnose()`: `popup` is what the popup tried inside the call's click did (`None`: not tried,
    /// not in a click); `page_origin` is this page's origin, named in the advice.
    pub fn diagnose(&mut self, call: Id, popup: Option<bool>, page_origin: String) {
        let id = self.next_id();
        let url = self.settings.webserver.join(IN_SESSION_PATH);
        let request = self.fetch(Request { read: Read::Status, ..Request::new("POST", url) });
        self.diagnoses.push(Diagnose {
            id,
            call,
            popup,
            page_origin,
            reach: Reach::TimedOut,
            credentials: judge::Credentials::None,
            severs: false,
            step: Step::Reach(request),
        });
    }

    fn take_diagnose(&mut self, matches: impl Fn(&Diagnose) -> bool) -> Option<Diagnose> {
        super::take_where(&mut self.diagnoses, &matches)
    }

    pub(super) fn diagnose_reply(&mut self, id: Id, reply: &Reply) -> bool {
        let Some(mut task) = self.take_diagnose(|task| match &task.step {
            Step::Reach(request) | Step::ReachOpaque(request, _) => *request == id,
            _ => false,
        }) else {
            return false;
        };
        task.reach = match (&task.step, reply) {
            (Step::Reach(_), Reply::Answered { status, .. }) => Reach::Answered(*status),
            (Step::Reach(_), Reply::TimedOut) => Reach::TimedOut,
            (Step::Reach(_), Reply::Unreachable(message)) => {
                // A no-CORS retry tells a server that does not allow this origin from one that
                // cannot be reached.
                let url = self.settings.webserver.join(IN_SESSION_PATH);
                let opaque = Request { mode: Mode::NoCors, read: Read::Status, ..Request::new("POST", url) };
                task.step = Step::ReachOpaque(self.fetch(opaque), message.clone());
                self.diagnoses.push(task);
                return true;
            }
            (Step::ReachOpaque(..), Reply::Answered { .. }) => Reach::NotAllowed,
            (Step::ReachOpaque(_, message), _) => Reach::Unreachable(message.clone()),
            _ => return true,
        };
        self.diagnose_credentials(task);
        true
    }

    /// What the sign-in holds (asking `getLoginKey` if the keys renew and none is held).
    fn diagnose_credentials(&mut self, mut task: Diagnose) {
        let now = self.now_s();
        let expires_in = |credentials: &Credentials| credentials.login_key().expires() as i64 - now as i64;
        task.credentials = match (self.renews(), self.stored_key()) {
            (None, _) => judge::Credentials::None,
            (Some(false), Some(credentials)) => {
                judge::Credentials::Key { expires_in: expires_in(&credentials), renewing: false }
            }
            (Some(false), None) => judge::Credentials::None,
            (Some(true), _) => {
                task.step = Step::Key;
                let id = task.id;
                self.diagnoses.push(task);
                if let Some(key) = self.need_key(id) {
                    self.diagnose_key(id, &key);
                }
                return;
            }
        };
        self.diagnose_opener(task);
    }

    pub(super) fn diagnose_key(&mut self, id: Id, key: &Result<Credentials, AgentError>) -> bool {
        let Some(mut task) = self.take_diagnose(|task| task.id == id && matches!(task.step, Step::Key)) else {
            return false;
        };
        let now = self.now_s() as i64;
        task.credentials = match key {
            Ok(credentials) => {
                judge::Credentials::Key { expires_in: credentials.login_key().expires() as i64 - now, renewing: true }
            }
            Err(error) => judge::Credentials::RenewalFailed(error.reason().to_owned()),
        };
        self.diagnose_opener(task);
        true
    }

    fn diagnose_opener(&mut self, mut task: Diagnose) {
        match self.opener_policy() {
            Some(severs) => {
                task.severs = severs;
                self.diagnose_framing(task);
            }
            None => {
                task.step = Step::Opener;
                self.diagnoses.push(task);
                self.learn_opener_policy();
            }
        }
    }

    pub(super) fn diagnose_policy_known(&mut self, severs: bool) {
        while let Some(mut task) = self.take_diagnose(|task| matches!(task.step, Step::Opener)) {
            task.severs = severs;
            self.diagnose_framing(task);
        }
    }

    /// Whether this page's Content-Security-Policy lets it frame the viewer page: a hidden frame on
    /// it, and any violation it causes. (The viewer's own framing headers belong to another origin.)
    fn diagnose_framing(&mut self, mut task: Diagnose) {
        let frame = self.next_id();
        let url = self.settings.webserver.join(VIEWER_PATH);
        self.emit(Output::HiddenFrame { id: frame, url, probe: true });
        self.emit(Output::Timer { id: frame, ms: FRAME_PROBE_MS });
        task.step = Step::Frame { frame, settle: None };
        self.diagnoses.push(task);
    }

    fn frame_task(&mut self, id: Id) -> Option<Diagnose> {
        self.take_diagnose(|task| matches!(task.step, Step::Frame { frame, .. } if frame == id))
    }

    /// The probe frame `id` was added (`false`: it could not be).
    pub(super) fn diagnose_frame_opened(&mut self, id: Id, added: bool) {
        if !added {
            if let Some(task) = self.frame_task(id) {
                self.diagnose_done(task, Framing::NoLoad);
            }
        }
    }

    /// The probe frame `id` loaded: a blocked frame loads an error page and the violation is reported
    /// first, so the probe ends once a violation has had a moment to arrive.
    pub fn frame_loaded(&mut self, id: Id) {
        let Some(mut task) = self.frame_task(id) else { return };
        if let Step::Frame { settle: settle @ None, .. } = &mut task.step {
            *settle = Some(self.next_id());
            if let Some(timer) = *settle {
                self.emit(Output::Timer { id: timer, ms: FRAME_SETTLE_MS });
            }
        }
        self.diagnoses.push(task);
    }

    /// This page's Content-Security-Policy blocked `blocked` (a URL prefix) while probe frame `id`
    /// loaded, by `directive`.
    pub fn csp_violation(&mut self, id: Id, blocked: &str, directive: String) {
        let url = self.settings.webserver.join(VIEWER_PATH);
        if blocked.is_empty() || !url.starts_with(blocked) {
            return;
        }
        if let Some(task) = self.frame_task(id) {
            self.diagnose_done(task, Framing::Forbidden(directive));
        }
    }

    pub(super) fn diagnose_timer(&mut self, id: Id) -> bool {
        let Some(task) = self.take_diagnose(|task| match task.step {
            Step::Frame { frame, settle } => frame == id || settle == Some(id),
            _ => false,
        }) else {
            return false;
        };
        let framing = match task.step {
            Step::Frame { frame, .. } if frame == id => Framing::NoLoad,
            _ => Framing::Allowed,
        };
        self.diagnose_done(task, framing);
        true
    }

    fn diagnose_done(&mut self, task: Diagnose, framing: Framing) {
        if let Step::Frame { frame, settle } = task.step {
            self.release_all(&[Some(frame), settle]);
        }
        let webserver = self.settings.webserver.base().to_owned();
        let report = Report::new(
            judge::webserver(&webserver, &task.reach, &task.page_origin),
            judge::credentials(&task.credentials),
            judge::popups(task.popup),
            judge::opener(task.severs),
            judge::framing(&framing),
        );
        self.settle(task.call, Ok(Value::Report(Box::new(report))));
    }
}
