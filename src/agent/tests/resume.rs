//! A console reload keeps the session: what a tab keeps of its viewers, when it forgets them, and how
//! a reloaded console takes them back.

use super::sim::{found, Sim, WEBSERVER};
use crate::agent::{AgentData, Arrival, Call, Data, Input, Message, Output, Value, ViewerOptions};
use crate::json::Json;

fn joined(sim: &mut Sim, key: &str) -> String {
    let call = sim.call(Call::Join { key: key.into(), options: ViewerOptions::default() });
    sim.answer("LookupPartnerSession2", 200, &found(key));
    match sim.outcome(call) {
        Some(Ok(Value::Page(window))) => window.clone(),
        other => panic!("{other:?}"),
    }
}

/// The entries the tab keeps: (name, ssnkey, ssnid, origin).
fn kept(sim: &Sim) -> Vec<(String, String, String, String)> {
    let Some(stored) = &sim.storage else { return Vec::new() };
    let json = Json::parse(stored).expect("JSON");
    json.items()
        .iter()
        .map(|item| {
            let entry = item.as_object().expect("an object");
            let field = |name| entry.text(name).expect("a field").to_owned();
            (field("name"), field("ssnkey"), field("ssnid"), field("origin"))
        })
        .collect()
}

#[test]
fn a_popup_viewer_is_kept_by_a_name_of_its_own_without_any_credential() {
    let mut sim = Sim::new();
    joined(&mut sim, "4400");
    let entries = kept(&sim);
    assert_eq!(entries.len(), 1);
    let (name, ssnkey, ssnid, origin) = &entries[0];
    assert!(name.starts_with("glance-agent-viewer-"), "{name}");
    assert_eq!((ssnkey.as_str(), ssnid.as_str(), origin.as_str()), ("4400", "20541.4400.1", WEBSERVER));
    assert_eq!(sim.names.first().map(|(_, n)| n), Some(name), "the window of the click has that name");
    let stored = sim.storage.clone().unwrap_or_default();
    assert!(!stored.contains("$1$") && !stored.contains("loginkey") && !stored.contains("joe"), "no credential");
    assert!(!stored.contains("AgentView") && !stored.contains('?'), "no URL: {stored}");
}

#[test]
fn iframe_viewers_and_ended_left_or_closed_sessions_are_not_kept() {
    let mut sim = Sim::new();
    let options = ViewerOptions { frame: Some("frame".into()), ..ViewerOptions::default() };
    let call = sim.call(Call::Join { key: "1".into(), options });
    sim.answer("LookupPartnerSession2", 200, &found("1"));
    assert!(matches!(sim.outcome(call), Some(Ok(_))));
    assert_eq!(sim.storage, None, "an iframe does not survive a reload");

    let ended = joined(&mut sim, "2");
    let closed = joined(&mut sim, "3");
    joined(&mut sim, "4");
    assert_eq!(kept(&sim).len(), 3);
    sim.input(Input::Message(Message {
        source: ended,
        origin: WEBSERVER.into(),
        name: "sessionEnded".into(),
        data: None,
        login_key: None,
        reason: None,
    }));
    sim.input(Input::Close(closed));
    let leave = sim.call(Call::LeaveSession { key: "4".into() });
    sim.answer(
        "AgentInSession",
        200,
        "<r><session2><passcode>4</passcode><num>1</num><servername>s.glance.test</servername></session2></r>",
    );
    sim.answer("s.glance.test", 200, "");
    assert_eq!(sim.outcome(leave), Some(&Ok(Value::Bool(true))));
    assert_eq!(sim.storage, None, "nothing left to keep");
}

#[test]
fn a_reloaded_console_takes_back_the_viewer_still_open() {
    let mut sim = Sim::new();
    let window = joined(&mut sim, "4400");
    let windows = sim.windows.len();
    sim.reload();
    assert_eq!(sim.windows.len(), windows, "no window opened");
    match sim.event("viewerResumed") {
        Some(Data::Agent(AgentData { ssnkey: Some(key), close: Some(_), .. })) => assert_eq!(key, "4400"),
        other => panic!("{other:?}"),
    }
    let sessions = sim.agent.sessions();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].resumed && sessions[0].popup && sessions[0].ssnid == "20541.4400.1");
    assert_eq!(sessions[0].json(), r#"{"ssnkey":"4400","ssnid":"20541.4400.1","viewer":"popup","resumed":true}"#);
    // Its events are heard, a join of its session returns it, and its close is seen.
    sim.input(Input::Message(Message {
        source: window.clone(),
        origin: WEBSERVER.into(),
        name: "connecting".into(),
        data: None,
        login_key: None,
        reason: None,
    }));
    assert_eq!(sim.event_names().last().map(String::as_str), Some("connecting"));
    let sent = sim.sent_requests("").len();
    let again = sim.call(Call::Join { key: "4400".into(), options: ViewerOptions::default() });
    assert_eq!(sim.outcome(again), Some(&Ok(Value::Page(window.clone()))));
    assert_eq!(sim.sent_requests("").len(), sent, "no lookup, no second viewer");
    assert!(sim.log.contains(&Output::Focus(window)));
    sim.answer("console.test", 200, "");
    sim.windows[0].1 = true;
    sim.advance(500);
    assert_eq!(sim.event_names().last().map(String::as_str), Some("viewerClosed"));
    assert_eq!(sim.storage, None, "forgotten once closed");
}

#[test]
fn a_viewer_closed_during_the_reload_leaves_no_window_behind() {
    let mut sim = Sim::new();
    joined(&mut sim, "4400");
    sim.windows[0].1 = true; // closed while the console reloads
    sim.reload();
    assert_eq!(sim.windows.len(), 2, "the browser opened a fresh window for the name");
    assert!(sim.windows[1].1, "and it was closed at once");
    assert!(!sim.event_names().contains(&"viewerResumed".to_owned()));
    assert_eq!(sim.storage, None, "forgotten");
    // With popups blocked, the browser gives nothing: forgotten as well.
    let mut blocked = Sim::new();
    joined(&mut blocked, "4400");
    blocked.windows[0].1 = true;
    blocked.popups_blocked = true;
    blocked.reload();
    assert_eq!(blocked.storage, None);
}

#[test]
fn a_tab_opened_by_the_console_never_takes_over_its_viewer() {
    // A tab another page opened starts with a copy of that page's sessionStorage; looking the viewer
    // up by its name from there would make the new tab its opener. Its first document looks up nothing.
    let mut first = Sim::new();
    joined(&mut first, "4400");
    let copied = first.storage.clone();
    for navigation in [Some("navigate"), None] {
        let mut second = Sim::new();
        second.storage = copied.clone();
        second.arrive(Arrival { history_length: 1, navigation: navigation.map(str::to_owned) }, |_| {});
        assert!(!second.log.iter().any(|output| matches!(output, Output::FindWindow { .. })), "not looked for");
        assert!(!second.event_names().contains(&"viewerResumed".to_owned()));
        assert!(second.windows.is_empty() && second.agent.sessions().is_empty());
        assert_eq!(second.storage, None, "the copy is forgotten; the first tab keeps its own");
    }
    assert_eq!(kept(&first).len(), 1);
}

#[test]
fn a_reload_or_a_later_page_of_the_same_tab_takes_the_viewer_back() {
    for arrival in [
        Arrival::reload(1),
        Arrival { history_length: 2, navigation: Some("navigate".into()) },
        Arrival { history_length: 3, navigation: Some("back_forward".into()) },
    ] {
        let mut sim = Sim::new();
        joined(&mut sim, "4400");
        sim.arrive(arrival.clone(), |_| {});
        assert!(sim.event_names().contains(&"viewerResumed".to_owned()), "{arrival:?}");
    }
}

#[test]
fn a_viewer_opened_before_the_page_has_loaded_does_not_overwrite_what_the_tab_kept() {
    let mut sim = Sim::new();
    joined(&mut sim, "4400");
    let stored = sim.storage.clone();
    let mut agent = crate::agent::Agent::new(3);
    agent.settings.webserver = sim.agent.settings.webserver.clone();
    sim.agent = agent;
    sim.input(Input::Credentials(super::sim::credentials(3600).check().unwrap()));
    let call = sim.call(Call::OpenViewer { key: "5500".into(), options: ViewerOptions::default() });
    assert!(matches!(sim.outcome(call), Some(Ok(_))));
    assert_eq!(sim.storage, stored, "not written before the page has loaded");
    sim.input(Input::Restore(stored, Arrival::reload(1)));
    let keys: Vec<String> = kept(&sim).into_iter().map(|(_, key, _, _)| key).collect();
    assert_eq!(keys, ["5500", "4400"], "both kept once it has");
    assert!(sim.event_names().contains(&"viewerResumed".to_owned()));
}

#[test]
fn resume_false_never_takes_viewers_back() {
    let mut sim = Sim::new();
    joined(&mut sim, "4400");
    let stored = sim.storage.clone();
    sim.reload_with(|agent| agent.settings.resume = false);
    assert!(!sim.event_names().contains(&"viewerResumed".to_owned()));
    assert!(!sim.log.iter().any(|output| matches!(output, Output::FindWindow { .. })), "not even looked for");
    assert_eq!(sim.storage, None);
    sim.storage = stored.clone();
    sim.reload_with(|agent| agent.settings.resume = true);
    assert!(sim.event_names().contains(&"viewerResumed".to_owned()), "true again: taken back");
}

#[test]
fn a_viewer_is_taken_back_before_the_page_sets_its_webserver_and_heard_once_it_has() {
    let mut sim = Sim::new();
    let window = joined(&mut sim, "4400");
    let webserver = sim.agent.settings.webserver.clone();
    sim.reload_with(|agent| agent.settings.webserver = crate::url::Webserver::GLANCE);
    assert!(sim.event_names().contains(&"viewerResumed".to_owned()));
    let message = |sim: &mut Sim| {
        sim.input(Input::Message(Message {
            source: window.clone(),
            origin: WEBSERVER.into(),
            name: "navigate".into(),
            data: None,
            login_key: None,
            reason: None,
        }))
    };
    message(&mut sim);
    assert!(!sim.event_names().contains(&"navigate".to_owned()), "only the webserver's origin is heard");
    sim.agent.settings.webserver = webserver;
    message(&mut sim);
    assert!(sim.event_names().contains(&"navigate".to_owned()));
}
