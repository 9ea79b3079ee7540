//! A driver for tests: it runs the agent against a simulated page and clock, answering the outputs
//! that need an answer at once (a URL, a window, a load) as a browser would, and keeping the rest
//! (requests, timers, events, settled calls) for the test to look at and answer.

use std::collections::BTreeMap;

use crate::agent::{Agent, Arrival, Call, Data, Event, Found, How, Id, Input, Load, Output, Place, Request, Value};
use crate::credentials::{CredentialsInput, PartnerIdInput};
use crate::error::AgentError;
use crate::protocol::Reply;
use crate::url::UrlParts;

/// Page values are strings in tests: `"window:3"`, `"frame"`, `"getLoginKey"`.
pub type V = String;

/// A login key signature of the right shape.
pub const SIGNATURE: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";
/// The webserver of every test.
pub const WEBSERVER: &str = "https://glance.test";
/// The time at the start of every test: 2026-12-07T00:00:00Z.
pub const START_MS: u64 = 1_796_601_600_000;

/// A lookup answer: session `key` is running.
pub fn found(key: &str) -> String {
    [
        "<?xml version=\"1.0\"?><SessionInfo xmlns=\"http://www.glance.net/\"><id>77</id><ssnid>20541.",
        key,
        ".1</ssnid><passcode>",
        key,
        "</passcode><agentjoinurl>https://glance.test/agentjoin/AgentView.aspx?SessionKey=",
        key,
        "&amp;ssnid=20541.",
        key,
        ".1</agentjoinurl><calltype>C</calltype></SessionInfo>",
    ]
    .concat()
}

/// A lookup answer: no such session yet.
pub const NOT_FOUND: &str = "<SessionInfo><id>0</id></SessionInfo>";
/// An error document: the key was refused.
pub const REFUSED: &str = "<Error>Invalid login key</Error>";

/// A login key expiring `seconds` after the start of the test.
pub fn key_expiring_in(seconds: u64) -> String {
    ["$1$", &(START_MS / 1000 + seconds).to_string(), "$", SIGNATURE].concat()
}

/// Credentials of agent `joe&co` in group 20541, expiring in `seconds`.
pub fn credentials(seconds: u64) -> CredentialsInput {
    CredentialsInput {
        loginkey: Some(key_expiring_in(seconds)),
        partnerid: PartnerIdInput::Number(20541.0),
        partneruserid: Some("joe&co".into()),
    }
}

/// The parts of an absolute URL as a browser would give them (enough for the URLs of these tests).
pub fn parts(text: &str) -> Option<UrlParts> {
    let (scheme, rest) = text.split_once("://")?;
    let (rest, hash) = match rest.split_once('#') {
        Some((rest, hash)) => (rest, ["#", hash].concat()),
        None => (rest, String::new()),
    };
    let (rest, search) = match rest.split_once('?') {
        Some((rest, query)) => (rest, ["?", query].concat()),
        None => (rest, String::new()),
    };
    let (host, path) = match rest.find('/') {
        Some(at) => (&rest[..at], rest[at..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let protocol = [scheme, ":"].concat();
    Some(UrlParts {
        origin: [scheme, "://", host].concat(),
        protocol,
        user_info: host.contains('@'),
        host: host.to_owned(),
        path,
        search,
        hash,
    })
}

/// The simulated page: what it answers, and what the agent did to it.
pub struct Sim {
    pub agent: Agent<V>,
    pub now: u64,
    /// Every output, in order.
    pub log: Vec<Output<V>>,
    /// Requests sent and not yet answered or released.
    pub requests: BTreeMap<Id, Request>,
    /// Timers set and not yet fired or released: when they fire.
    pub timers: BTreeMap<Id, u64>,
    pub events: Vec<Event<V>>,
    pub settled: Vec<(Id, Result<Value<V>, AgentError>)>,
    /// The browser blocks popups.
    pub popups_blocked: bool,
    /// Windows opened, and whether each is closed.
    pub windows: Vec<(V, bool)>,
    /// The name of each window, by its value.
    pub names: Vec<(V, String)>,
    /// This tab's `sessionStorage` entry.
    pub storage: Option<String>,
    /// Frames sent on sockets: (socket, text).
    pub sent: Vec<(Id, String)>,
    /// Sockets open (asked for and not released).
    pub sockets: BTreeMap<Id, String>,
    /// The `getLoginKey` asks under way.
    pub asks: Vec<Id>,
    /// Hidden frames present: id → url.
    pub frames: BTreeMap<Id, String>,
    pub listening: bool,
    /// Timers due now fire when an input has been taken (off: a test steps through them).
    pub soon_fires: bool,
}

impl Sim {
    /// An agent on [`WEBSERVER`] at [`START_MS`], signed in with a key valid for an hour.
    pub fn new() -> Sim {
        let mut sim = Sim::anonymous();
        let credentials = credentials(3600).check().expect("well-formed");
        sim.input(Input::Credentials(credentials));
        sim
    }

    /// An agent that is not signed in, on a page that has loaded.
    pub fn anonymous() -> Sim {
        let mut agent = Agent::new(7);
        let url = crate::url::HttpUrl::from_parts(parts(WEBSERVER).expect("URL"));
        agent.settings.webserver = crate::url::Webserver::from_url(url).expect("webserver");
        let mut sim = Sim {
            agent,
            now: START_MS,
            log: Vec::new(),
            requests: BTreeMap::new(),
            timers: BTreeMap::new(),
            events: Vec::new(),
            settled: Vec::new(),
            popups_blocked: false,
            windows: Vec::new(),
            names: Vec::new(),
            storage: None,
            sent: Vec::new(),
            sockets: BTreeMap::new(),
            asks: Vec::new(),
            frames: BTreeMap::new(),
            listening: false,
            soon_fires: true,
        };
        sim.input(Input::Restore(None, Arrival::default()));
        sim
    }

    /// Gives the agent `input` and performs what it asks, as a browser would.
    pub fn input(&mut self, input: Input<V>) {
        self.agent.handle(self.now, input);
        while let Some(output) = self.agent.poll() {
            self.log.push(output.clone());
            self.perform(output);
        }
        // Timers of 0 ms fire once the current script has run, as microtasks do.
        let soon = self.timers.iter().find(|(_, &due)| due <= self.now).map(|(&id, _)| id);
        if let Some(id) = soon.filter(|_| self.soon_fires) {
            self.timers.remove(&id);
            self.input(Input::TimerFired(id));
        }
    }

    /// A call; its id.
    pub fn call(&mut self, call: Call<V>) -> Id {
        let id = self.agent.next_id();
        self.input(Input::Call(id, call));
        id
    }

    fn perform(&mut self, output: Output<V>) {
        match output {
            Output::Fetch { id, request } => {
                self.requests.insert(id, request);
            }
            Output::Timer { id, ms } => {
                self.timers.insert(id, self.now + u64::from(ms));
            }
            Output::Release(id) => {
                self.requests.remove(&id);
                self.timers.remove(&id);
                self.sockets.remove(&id);
                self.frames.remove(&id);
                self.asks.retain(|ask| *ask != id);
            }
            Output::Settle { call, result } => self.settled.push((call, result)),
            Output::Fire(event) => self.events.push(event),
            Output::AskProvider { id, .. } => self.asks.push(id),
            Output::ParseUrl { id, text } => self.input(Input::UrlParsed(id, parts(&text))),
            Output::OpenWindow { id, name, .. } => {
                let window = self.open_window(&name);
                self.input(Input::WindowOpened(id, window));
            }
            Output::LoadViewer { id, load } => {
                let window = self.load(&load);
                self.input(Input::ViewerLoaded(id, window));
            }
            Output::Focus(_) => {}
            Output::Close(window) => {
                for (open, closed) in &mut self.windows {
                    if *open == window {
                        *closed = true;
                    }
                }
            }
            Output::Blank(_) => {}
            Output::CheckClosed(windows) => {
                for (id, window) in windows {
                    if self.windows.iter().any(|(open, closed)| *open == window && *closed) {
                        self.input(Input::ReadsClosed(id));
                    }
                }
            }
            Output::Listen(on) => self.listening = on,
            Output::HiddenFrame { id, url, .. } => {
                self.frames.insert(id, url);
                self.input(Input::FrameOpened(id, Some(["frame:", &id.to_string()].concat())));
            }
            Output::Locate { id } => {
                let href = "https://console.test/agent".to_owned();
                self.input(Input::Located { id, href, isolated: false });
            }
            Output::OpenSocket { id, url } => {
                self.sockets.insert(id, url);
            }
            Output::Send { id, text } => self.sent.push((id, text)),
            Output::Store(value) => self.storage = value,
            Output::FindWindow { id, name } => {
                let open = self.names.iter().find(|(window, named)| *named == name && !self.is_closed(window));
                let found = match open {
                    Some((window, _)) => Found::Window(window.clone()),
                    None => match self.open_window(&name) {
                        Some(window) => Found::Blank(window),
                        None => Found::Nothing,
                    },
                };
                self.input(Input::WindowFound(id, found));
            }
        }
    }

    fn is_closed(&self, window: &str) -> bool {
        self.windows.iter().any(|(open, closed)| open == window && *closed)
    }

    fn open_window(&mut self, name: &str) -> Option<V> {
        if self.popups_blocked {
            return None;
        }
        let window = ["window:", &(self.windows.len() + 1).to_string()].concat();
        self.windows.push((window.clone(), false));
        self.names.push((window.clone(), name.to_owned()));
        Some(window)
    }

    fn load(&mut self, load: &Load<V>) -> Option<V> {
        match &load.into {
            Place::Frame { frame, .. } => Some([frame, ":content"].concat()),
            Place::Window { waiting: Some(window), .. } => Some(window.clone()),
            Place::Window { waiting: None, name, .. } => self.open_window(name),
        }
    }

    /// The console reloads: a new agent in the same tab, with the same windows and `sessionStorage`,
    /// told once the page has loaded.
    pub fn reload(&mut self) {
        self.reload_with(|_| {});
    }

    /// [`Sim::reload`], with `before` run on the new agent before the page has loaded (the page's own
    /// settings).
    pub fn reload_with(&mut self, before: impl FnOnce(&mut Agent<V>)) {
        self.arrive(Arrival::reload(2), before);
    }

    /// A new document in this tab, which came to be as `arrival` says.
    pub fn arrive(&mut self, arrival: Arrival, before: impl FnOnce(&mut Agent<V>)) {
        let mut agent = Agent::new(11);
        agent.settings.webserver = self.agent.settings.webserver.clone();
        before(&mut agent);
        self.agent = agent;
        self.requests.clear();
        self.timers.clear();
        self.sockets.clear();
        self.frames.clear();
        self.asks.clear();
        self.listening = false;
        let stored = self.storage.clone();
        self.input(Input::Restore(stored, arrival));
    }

    // ---- looking at what happened ----

    /// The names of the events fired, in order.
    pub fn event_names(&self) -> Vec<String> {
        self.events.iter().map(|event| event.name.to_string()).collect()
    }

    /// The last event named `name`.
    pub fn event(&self, name: &str) -> Option<&Data<V>> {
        self.events.iter().rev().find(|event| event.name == name).map(|event| &event.data)
    }

    /// What call `id` settled with.
    pub fn outcome(&self, id: Id) -> Option<&Result<Value<V>, AgentError>> {
        self.settled.iter().find(|(call, _)| *call == id).map(|(_, result)| result)
    }

    /// The error code call `id` rejected with.
    pub fn code(&self, id: Id) -> Option<&'static str> {
        match self.outcome(id)? {
            Err(error) => Some(error.code()),
            Ok(_) => None,
        }
    }

    /// The request in flight whose URL contains `part`.
    pub fn request(&self, part: &str) -> Option<(Id, Request)> {
        self.requests.iter().find(|(_, request)| request.url.contains(part)).map(|(id, r)| (*id, r.clone()))
    }

    /// Every request ever sent whose URL contains `part`.
    pub fn sent_requests(&self, part: &str) -> Vec<Request> {
        self.log
            .iter()
            .filter_map(|output| match output {
                Output::Fetch { request, .. } if request.url.contains(part) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }

    /// Answers the request in flight whose URL contains `part` with `status` and `text`.
    pub fn answer(&mut self, part: &str, status: u16, text: &str) {
        let (id, _) = self.request(part).unwrap_or_else(|| panic!("no request to {part}: {:?}", self.requests));
        self.requests.remove(&id);
        self.input(Input::Fetched(id, Reply::Answered { status, text: text.into() }));
    }

    /// The request in flight whose URL contains `part` fails on the network.
    pub fn fail(&mut self, part: &str, message: &str) {
        let (id, _) = self.request(part).unwrap_or_else(|| panic!("no request to {part}"));
        self.requests.remove(&id);
        self.input(Input::Fetched(id, Reply::Unreachable(message.into())));
    }

    /// Moves the clock `ms` on, firing the timers that come due, in order.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        while let Some((&id, &due)) = self.timers.iter().filter(|(_, &due)| due <= until).min_by_key(|(_, &due)| due) {
            self.timers.remove(&id);
            self.now = self.now.max(due);
            self.input(Input::TimerFired(id));
        }
        self.now = until;
    }

    /// The pause of the next timer to fire, from now.
    pub fn next_timer_in(&self) -> Option<u64> {
        self.timers.values().min().map(|due| due - self.now)
    }

    /// How many times `getLoginKey` was asked.
    pub fn asked(&self) -> usize {
        self.log.iter().filter(|output| matches!(output, Output::AskProvider { .. })).count()
    }

    /// The form fields of the last viewer loaded by POST.
    pub fn last_load(&self) -> Option<Load<V>> {
        self.log.iter().rev().find_map(|output| match output {
            Output::LoadViewer { load, .. } => Some(load.clone()),
            _ => None,
        })
    }

    /// The POST fields of the last viewer load.
    pub fn posted_fields(&self) -> Vec<(String, String)> {
        match self.last_load().map(|load| load.how) {
            Some(How::Post { fields, .. }) => fields,
            _ => Vec::new(),
        }
    }
}
