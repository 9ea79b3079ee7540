//! Viewers: the window opened inside the click, POST or GET, reuse, the watch that tells closed from
//! severed, iframes, messages.

use super::sim::{found, Sim, WEBSERVER};
use crate::agent::{AgentData, Call, Data, How, Input, Message, Output, Place, Value, ViewerOptions};
use crate::protocol::Reply;

fn join(sim: &mut Sim, key: &str) -> u32 {
    sim.call(Call::Join { key: key.into(), options: ViewerOptions::default() })
}

fn joined(sim: &mut Sim, key: &str) -> (u32, String) {
    let call = join(sim, key);
    sim.answer("LookupPartnerSession2", 200, &found(key));
    match sim.outcome(call) {
        Some(Ok(Value::Page(window))) => (call, window.clone()),
        other => panic!("{other:?}"),
    }
}

fn message(source: &str, origin: &str, name: &str) -> Input<String> {
    Input::Message(Message {
        source: source.into(),
        origin: origin.into(),
        name: name.into(),
        data: Some("data".into()),
        login_key: None,
        reason: None,
    })
}

#[test]
fn a_join_opens_its_window_in_the_call_and_loads_the_viewer_into_it_by_post() {
    let mut sim = Sim::new();
    let call = join(&mut sim, "4400");
    assert!(
        matches!(sim.log.first(), Some(Output::OpenWindow { label, .. }) if label.contains("4400")),
        "{:?}",
        sim.log
    );
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Page("window:1".into()))), "the window of the click");
    let load = sim.last_load().expect("loaded");
    assert!(matches!(load.into, Place::Window { waiting: Some(ref w), .. } if w == "window:1"));
    let How::Post { action, fields } = load.how else { panic!("POST by default") };
    assert_eq!(action, "https://glance.test/agentjoin/AgentView.aspx");
    let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["SESSIONKEY", "SSNID", "PARTNERID", "PARTNERUSERID", "LOGINKEY"]);
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupFound", "viewerOpened"]);
    assert!(matches!(sim.event("viewerOpened"), Some(Data::Agent(AgentData { close: Some(_), .. }))));
    assert!(sim.listening, "viewer messages are heard");
}

#[test]
fn get_mode_puts_the_parameters_in_the_url() {
    let mut sim = Sim::new();
    sim.agent.settings.post_parameters = false;
    let mut options = ViewerOptions::default();
    options.params.push(("name", "Jo & Co".into()));
    let call = sim.call(Call::OpenViewer { key: "12 34".into(), options });
    assert!(matches!(sim.outcome(call), Some(Ok(Value::Page(_)))));
    let How::Get(url) = sim.last_load().expect("load").how else { panic!("GET") };
    assert!(url.starts_with("https://glance.test/agentjoin/AgentView.aspx?SessionKey=12+34&partnerid=20541"), "{url}");
    assert!(url.ends_with("&name=Jo+%26+Co"), "{url}");
}

#[test]
fn a_blocked_waiting_window_leaves_the_viewer_to_its_own_window_and_a_blocked_one_rejects() {
    let mut sim = Sim::new();
    sim.popups_blocked = true;
    let call = join(&mut sim, "4400");
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert_eq!(sim.code(call), Some("popup_blocked"));
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupFound", "popupblocked"]);
}

#[test]
fn a_failed_join_closes_its_waiting_window() {
    let mut sim = Sim::new();
    let call = join(&mut sim, "4400");
    sim.input(Input::Abort(call));
    assert_eq!(sim.code(call), Some("canceled"));
    assert_eq!(sim.windows, [("window:1".to_owned(), true)], "closed");
}

#[test]
fn a_second_join_of_the_session_focuses_its_viewer_and_sends_nothing() {
    let mut sim = Sim::new();
    let (_, window) = joined(&mut sim, "4400");
    let sent = sim.sent_requests("").len();
    let again = join(&mut sim, "4400");
    assert_eq!(sim.outcome(again), Some(&Ok(Value::Page(window.clone()))));
    assert!(sim.log.contains(&Output::Focus(window)));
    assert_eq!(sim.sent_requests("").len(), sent);
    let not_reused = sim
        .call(Call::Join { key: "4400".into(), options: ViewerOptions { reuse: false, ..ViewerOptions::default() } });
    assert_eq!(sim.outcome(not_reused), None, "reuse: false looks it up again");
}

#[test]
fn a_viewer_whose_session_ended_is_not_reused() {
    let mut sim = Sim::new();
    let (_, window) = joined(&mut sim, "4400");
    sim.input(message(&window, WEBSERVER, "sessionEnded"));
    assert_eq!(sim.event_names().last().map(String::as_str), Some("sessionEnded"));
    let again = join(&mut sim, "4400");
    assert_eq!(sim.outcome(again), None, "a new lookup");
}

#[test]
fn viewer_events_are_heard_only_from_a_viewer_on_the_webserver_origin() {
    let mut sim = Sim::new();
    let (_, window) = joined(&mut sim, "4400");
    let before = sim.events.len();
    sim.input(message(&window, "https://evil.test", "connecting"));
    sim.input(message("window:99", WEBSERVER, "connecting"));
    sim.input(message(&window, WEBSERVER, ""));
    assert_eq!(sim.events.len(), before);
    sim.input(message(&window, WEBSERVER, "connecting"));
    assert_eq!(
        sim.events.last().map(|e| (e.name.to_string(), e.data.clone())),
        Some(("connecting".into(), Data::Relayed(Some("data".into()))))
    );
}

#[test]
fn a_closed_window_fires_viewer_closed_once_when_the_policy_lets_windows_report() {
    let mut sim = Sim::new();
    let (_, window) = joined(&mut sim, "4400");
    // The page's own opener policy is read with a HEAD of the page.
    let (_, head) = sim.request("console.test").expect("a HEAD of the page");
    assert_eq!((head.method, head.mode), ("HEAD", crate::agent::Mode::SameOrigin));
    sim.windows[0].1 = true; // the agent closes it
    sim.advance(500);
    assert!(!sim.event_names().contains(&"viewerClosed".to_owned()), "judged once the policy is known");
    sim.answer("console.test", 200, "unsafe-none");
    assert_eq!(sim.event_names().iter().filter(|n| *n == "viewerClosed").count(), 1);
    sim.advance(5000);
    assert_eq!(sim.event_names().iter().filter(|n| *n == "viewerClosed").count(), 1, "once");
    assert!(sim.timers.is_empty(), "the watch stops with the last viewer");
    assert!(!sim.listening);
    let _ = window;
}

#[test]
fn a_window_severed_by_the_pages_opener_policy_is_detached_not_closed() {
    let mut sim = Sim::new();
    joined(&mut sim, "4400");
    sim.answer("console.test", 200, "same-origin");
    sim.windows[0].1 = true;
    sim.advance(500);
    assert_eq!(sim.event_names().last().map(String::as_str), Some("viewerDetached"));
    match sim.event("viewerDetached") {
        Some(Data::Agent(AgentData { reason: Some(reason), .. })) => assert_eq!(reason, "opener_severed"),
        other => panic!("{other:?}"),
    }
    assert!(!sim.event_names().contains(&"viewerClosed".to_owned()));
}

#[test]
fn close_closes_the_window_and_fires_viewer_closed_once() {
    let mut sim = Sim::new();
    let (_, window) = joined(&mut sim, "4400");
    sim.input(Input::Close(window.clone()));
    sim.input(Input::Close(window.clone()));
    assert!(sim.log.contains(&Output::Close(window)));
    assert_eq!(sim.event_names().iter().filter(|n| *n == "viewerClosed").count(), 1);
}

#[test]
fn an_iframe_viewer_opens_no_window_and_is_named_for_its_form() {
    let mut sim = Sim::new();
    let options = ViewerOptions { frame: Some("frame".into()), ..ViewerOptions::default() };
    let call = sim.call(Call::Join { key: "4400".into(), options });
    assert!(!sim.log.iter().any(|o| matches!(o, Output::OpenWindow { .. })));
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Page("frame:content".into()))));
    let Place::Frame { name, .. } = sim.last_load().expect("load").into else { panic!("frame") };
    assert!(name.starts_with("glance-viewer-"), "{name}");
    assert!(!sim.log.iter().any(|o| matches!(o, Output::Locate { .. })), "an iframe is never severed");
}

#[test]
fn open_agent_join_url_sends_credentials_only_to_the_webservers_origin() {
    let mut sim = Sim::new();
    let call =
        sim.call(Call::OpenJoinUrl { url: "https://other.test/view?x=1".into(), options: ViewerOptions::default() });
    assert!(matches!(sim.outcome(call), Some(Ok(Value::Page(_)))));
    assert_eq!(sim.posted_fields(), [("X".to_owned(), "1".to_owned())], "nothing of the agent's");
    let bad = sim.call(Call::OpenJoinUrl { url: "javascript:alert(1)".into(), options: ViewerOptions::default() });
    assert_eq!(sim.code(bad), Some("invalid_url"));
}

#[test]
fn open_viewer_with_a_renewing_key_opens_its_window_at_once_and_loads_when_the_key_comes() {
    let mut sim = Sim::anonymous();
    sim.call(Call::Provider("getLoginKey".into()));
    let call = sim.call(Call::OpenViewer { key: "4400".into(), options: ViewerOptions::default() });
    assert_eq!(sim.windows.len(), 1, "the window of the click");
    assert_eq!(sim.outcome(call), None);
    let ask = sim.asks[0];
    sim.input(Input::ProviderAnswered(ask, Ok(super::sim::credentials(3600))));
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Page("window:1".into()))));
    let _ = Reply::TimedOut;
}
