//! Presence: authorize, settings, finding the visitor, the socket and its frames, keepalive,
//! reconnect with backoff, refusals, and starting a session.

use super::sim::{found, Sim};
use crate::agent::{Call, Data, Input, PresenceData, Value, ViewerOptions};
use crate::presence::Phase;

const LOAD_BALANCED: &str = r#"{"presenceUrl":"presence.test","isPresenceLoadBalanced":true}"#;
const DIRECT: &str = r#"{"presenceUrl":"presence.test","isPresenceLoadBalanced":false}"#;

fn connect(sim: &mut Sim, settings: &str) -> u32 {
    let call = sim.call(Call::PresenceConnect { visitor: "v 1&".into(), timeout: None });
    let (_, authorize) = sim.request("Authorize").expect("authorize");
    assert_eq!(
        authorize.url,
        "https://glance.test/services/AuthorizationService.svc/rest/Authorize?groupid=20541&service=presence&duration=120&site=production"
    );
    sim.answer("Authorize", 200, r#""tok-1""#);
    sim.answer("GetVisitorSettings3", 200, settings);
    call
}

fn socket(sim: &Sim) -> u32 {
    *sim.sockets.keys().next_back().expect("a socket")
}

fn frame(sim: &mut Sim, text: &str) {
    let id = socket(sim);
    sim.input(Input::SocketFrame(id, text.into()));
}

/// Connected and watching the visitor (load-balanced), who is there.
fn watching(sim: &mut Sim) -> u32 {
    let call = connect(sim, LOAD_BALANCED);
    let id = socket(sim);
    sim.input(Input::SocketOpened(id));
    frame(sim, r#"{"type":"connected","keepalive":30}"#);
    frame(sim, r#"{"mtype":"visitorsock","data":{"connected":true}}"#);
    sim.answer("lookupvisitor", 200, r#"{"visitorid":"v 1&","url":"https://shop.test/cart"}"#);
    call
}

fn presence_event(sim: &Sim, name: &str) -> PresenceData {
    match sim.event(name) {
        Some(Data::Presence(data)) => data.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn load_balanced_connect_resolves_with_the_visitor_data_when_the_visitor_is_first_seen() {
    let mut sim = Sim::new();
    let call = connect(&mut sim, LOAD_BALANCED);
    assert_eq!(sim.agent.presence_state(), Phase::Connecting);
    let id = socket(&sim);
    assert_eq!(sim.sockets[&id], "wss://presence.test/agent");
    sim.input(Input::SocketOpened(id));
    assert_eq!(
        sim.sent,
        [(
            id,
            r#"{"type":"connect","authorization":"tok-1","groupid":"20541","visitorid":"v 1&","version":"6.25.0"}"#
                .to_owned()
        )]
    );
    frame(&mut sim, r#"{"type":"connected","keepalive":30}"#);
    assert_eq!(sim.agent.presence_state(), Phase::Connected);
    frame(&mut sim, r#"{"mtype":"visitorsock","data":{"connected":true,"x":1}}"#);
    assert!(sim.agent.visitor_connected());
    assert_eq!(presence_event(&sim, "visitorConnected").connected, Some(true));
    let (_, lookup) = sim.request("lookupvisitor").expect("lookupvisitor");
    assert_eq!(lookup.url, "https://presence.test/lookupvisitor?groupid=20541&visitorid=v+1%26&ver=6.25.0");
    assert_eq!(lookup.authorization.as_deref(), Some("Bearer tok-1"));
    sim.answer("lookupvisitor", 200, r#"{"url":"https://shop.test/cart"}"#);
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Visitor(Some(r#"{"url":"https://shop.test/cart"}"#.into())))));
    assert_eq!(
        sim.event_names(),
        ["presenceAuthorized", "visitorConnected", "visitorData"],
        "and no event carries anything of the token"
    );
}

#[test]
fn keepalive_follows_the_servers_period_clamped_to_five_seconds_and_more() {
    let mut sim = Sim::new();
    connect(&mut sim, LOAD_BALANCED);
    let id = socket(&sim);
    sim.input(Input::SocketOpened(id));
    frame(&mut sim, r#"{"type":"connected","keepalive":0}"#);
    assert_eq!(sim.next_timer_in(), Some(5000), "0 is clamped to 5 s (production: 600 frames a second)");
    sim.advance(15_000);
    let keepalives = sim.sent.iter().filter(|(_, text)| text == r#"{"type":"k"}"#).count();
    assert_eq!(keepalives, 3);
}

#[test]
fn an_absent_visitor_is_looked_for_again_soon_without_a_socket() {
    let mut sim = Sim::new();
    connect(&mut sim, DIRECT);
    let mut pauses = Vec::new();
    for _ in 0..6 {
        sim.answer("findvisitor", 200, r#"{"visitorfound":false}"#);
        assert_eq!(sim.agent.presence_state(), Phase::Connected, "watching the absent visitor");
        let pause = sim.next_timer_in().expect("a pause");
        pauses.push(pause);
        sim.advance(pause);
    }
    assert!(sim.sockets.is_empty(), "no socket to nowhere (D8)");
    // 1 s, 2 s, 4 s, 8 s, then at most 10 s, each in its upper half (jitter).
    for (pause, full) in pauses.iter().zip([1000, 2000, 4000, 8000, 10_000, 10_000]) {
        assert!((full / 2..full).contains(pause), "{pauses:?}");
    }
    sim.answer("findvisitor", 200, r#"{"visitorfound":true,"directserver":"d1.test","httpsport":8443}"#);
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://d1.test:8443/agent"));
}

#[test]
fn a_dropped_socket_reconnects_with_backoff_and_comes_back() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let mut pauses = Vec::new();
    for _ in 0..4 {
        let id = socket(&sim);
        sim.input(Input::SocketClosed(id, 1006));
        assert_eq!(sim.agent.presence_state(), Phase::Reconnecting);
        let pause = sim.next_timer_in().expect("a pause");
        pauses.push(pause);
        sim.advance(pause);
        assert!(sim.request("Authorize").is_none(), "the token is kept");
    }
    for (pause, full) in pauses.iter().zip([1000, 2000, 4000, 8000]) {
        assert!((full / 2..full).contains(pause), "{pauses:?}");
    }
    let id = socket(&sim);
    sim.input(Input::SocketOpened(id));
    frame(&mut sim, r#"{"type":"connected"}"#);
    assert_eq!(sim.agent.presence_state(), Phase::Connected);
    sim.input(Input::SocketClosed(id, 1006));
    let pause = sim.next_timer_in().expect("a pause");
    assert!(pause < 1000, "back to the first pause after a connection: {pause}");
}

#[test]
fn refused_authorization_fails_at_once_with_production_reason() {
    let mut sim = Sim::new();
    let call = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    sim.answer("Authorize", 403, r#"{"err":1,"msg":"Partner User Id not found"}"#);
    assert_eq!(sim.code(call), Some("authentication_failed"));
    let failed = presence_event(&sim, "presenceFailed");
    assert_eq!(failed.reason.as_deref(), Some("authorization"));
    assert_eq!(failed.message.as_deref(), Some("Partner User Id not found"), "the service's own words");
    assert_eq!(sim.agent.presence_state(), Phase::Idle);
    assert!(sim.timers.is_empty() && sim.requests.is_empty(), "no retry");
}

#[test]
fn a_token_the_socket_refuses_is_renewed_once_then_the_connection_fails() {
    let mut sim = Sim::new();
    let call = connect(&mut sim, LOAD_BALANCED);
    let id = socket(&sim);
    sim.input(Input::SocketClosed(id, 4001));
    sim.answer("Authorize", 200, r#""tok-2""#);
    let id = socket(&sim);
    sim.input(Input::SocketOpened(id));
    assert!(sim.sent.last().is_some_and(|(_, text)| text.contains("tok-2")));
    sim.input(Input::SocketClosed(id, 1008));
    assert_eq!(sim.code(call), Some("authentication_failed"));
    assert_eq!(presence_event(&sim, "presenceFailed").reason.as_deref(), Some("authorization"));
    assert_eq!(sim.sent_requests("Authorize").len(), 2, "no endless loop (D13)");
}

#[test]
fn no_credentials_no_request() {
    let mut sim = Sim::anonymous();
    let call = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    assert_eq!(sim.code(call), Some("not_authenticated"));
    assert_eq!(presence_event(&sim, "presenceFailed").reason.as_deref(), Some("not_authenticated"));
    assert!(sim.log.iter().all(|o| !matches!(o, crate::agent::Output::Fetch { .. })));
}

#[test]
fn presence_off_for_the_group_fails_the_connect() {
    let mut sim = Sim::new();
    let call = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    sim.answer("Authorize", 200, r#"{"authToken":"tok","authTokeExp":"2099-01-01T00:00:00Z"}"#);
    sim.answer("GetVisitorSettings3", 200, r#"<string>{"presenceUrl":""}</string>"#);
    assert_eq!(sim.code(call), Some("service_unavailable"));
    assert_eq!(sim.event_names(), ["presenceAuthorized", "presenceFailed"]);
}

#[test]
fn service_failures_back_off_and_recover_instead_of_disabling_presence() {
    let mut sim = Sim::new();
    let call = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    sim.answer("Authorize", 200, r#""tok""#);
    sim.answer("GetVisitorSettings3", 503, "");
    assert_eq!(sim.agent.presence_state(), Phase::Reconnecting);
    sim.advance(sim.next_timer_in().expect("a pause"));
    sim.answer("GetVisitorSettings3", 200, DIRECT);
    sim.answer("findvisitor", 503, "");
    sim.advance(sim.next_timer_in().expect("a pause"));
    sim.answer("findvisitor", 200, r#"{"visitorfound":true,"direct":"d.test:443"}"#);
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://d.test:443/agent"));
    assert_eq!(sim.outcome(call), None, "still watching");
}

#[test]
fn serverclose_ends_presence_and_scaledown_reconnects_at_once() {
    let mut sim = Sim::new();
    watching(&mut sim);
    frame(&mut sim, r#"{"type":"scaledown"}"#);
    assert_eq!(sim.sockets.len(), 1, "a new socket at once");
    frame(&mut sim, r#"{"type":"serverclose"}"#);
    assert_eq!(presence_event(&sim, "presenceDisconnected").reason.as_deref(), Some("serverclose"));
    assert_eq!(sim.agent.presence_state(), Phase::Idle);
    assert!(sim.sockets.is_empty() && sim.timers.is_empty(), "nothing left running");
}

#[test]
fn a_redirect_moves_the_socket_and_a_second_in_a_row_is_backed_off_from() {
    let mut sim = Sim::new();
    watching(&mut sim);
    frame(&mut sim, r#"{"type":"redirect","data":{"direct":"p2.test"}}"#);
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://p2.test/agent"));
    frame(&mut sim, r#"{"type":"redirect","data":{"direct":"evil.test/x"}}"#);
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://p2.test/agent"), "not a host");
    frame(&mut sim, r#"{"type":"redirect","data":{"direct":"p3.test"}}"#);
    assert!(sim.sockets.is_empty(), "a pause first");
    sim.advance(sim.next_timer_in().expect("a pause"));
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://p3.test/agent"));
}

#[test]
fn waiting_for_the_visitor_does_not_stretch_a_later_backoff() {
    let mut sim = Sim::new();
    connect(&mut sim, DIRECT);
    for _ in 0..6 {
        sim.answer("findvisitor", 200, r#"{"visitorfound":false}"#);
        sim.advance(sim.next_timer_in().expect("a pause"));
    }
    sim.answer("findvisitor", 200, r#"{"visitorfound":true,"directserver":"d1.test"}"#);
    sim.input(Input::SocketOpened(socket(&sim)));
    frame(&mut sim, r#"{"type":"connected","keepalive":30}"#);
    frame(&mut sim, r#"{"type":"redirect","data":{"direct":"p2.test"}}"#);
    frame(&mut sim, r#"{"type":"redirect","data":{"direct":"p3.test"}}"#);
    // The first step of the backoff (0.5–1 s), not the seventh (30–60 s).
    let pause = sim.next_timer_in().expect("a pause");
    assert!((500..1000).contains(&pause), "{pause}");
    sim.advance(pause);
    assert_eq!(sim.sockets.values().next().map(String::as_str), Some("wss://p3.test/agent"));
}

#[test]
fn disconnect_releases_everything_and_late_frames_are_not_heard() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let id = socket(&sim);
    sim.input(Input::PresenceDisconnect);
    assert_eq!(sim.event_names().last().map(String::as_str), Some("presenceDisconnected"));
    assert!(sim.sockets.is_empty() && sim.timers.is_empty());
    let heard = sim.events.len();
    sim.input(Input::SocketFrame(id, r#"{"type":"presence","data":{"url":"x"}}"#.into()));
    assert_eq!(sim.events.len(), heard);
    assert!(!sim.agent.visitor_connected());
}

#[test]
fn a_connect_that_times_out_or_is_aborted_leaves_nothing_running() {
    let mut sim = Sim::new();
    let call = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: Some(2000) });
    sim.advance(2000);
    assert_eq!(sim.code(call), Some("timedout"));
    assert_eq!(presence_event(&sim, "presenceDisconnected").reason.as_deref(), Some("timedout"));
    assert!(sim.requests.is_empty());
    let aborted = sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    sim.input(Input::Abort(aborted));
    assert_eq!(sim.code(aborted), Some("canceled"));
    assert_eq!(sim.agent.presence_state(), Phase::Idle);
}

#[test]
fn a_second_connect_replaces_the_first() {
    let mut sim = Sim::new();
    let first = watching(&mut sim);
    let old = socket(&sim);
    let second = sim.call(Call::PresenceConnect { visitor: "v2".into(), timeout: None });
    assert!(!sim.sockets.contains_key(&old), "the old socket is closed");
    assert!(matches!(sim.outcome(first), Some(Ok(_))));
    assert_eq!(sim.outcome(second), None);
    assert!(sim.request("Authorize").is_none(), "the token is held, by agent");
}

#[test]
fn the_visitor_leaving_is_reported_after_a_grace_unless_they_come_back() {
    let mut sim = Sim::new();
    watching(&mut sim);
    frame(&mut sim, r#"{"type":"visitorsock","data":{"connected":false}}"#);
    sim.advance(4000);
    frame(&mut sim, r#"{"type":"visitorsock","data":{"connected":true}}"#);
    sim.advance(5000);
    assert!(sim.agent.visitor_connected(), "back within the grace");
    frame(&mut sim, r#"{"type":"visitorsock","data":{"connected":false,"at":2}}"#);
    sim.advance(5000);
    assert!(!sim.agent.visitor_connected());
    let left = presence_event(&sim, "visitorConnected");
    assert_eq!((left.connected, left.json.as_deref()), (Some(false), Some(r#"{"connected":false,"at":2}"#)));
    assert_eq!(sim.event_names().iter().filter(|n| *n == "visitorData").count(), 1, "no lookup on leaving (D14)");
}

#[test]
fn hostile_frames_are_dropped_and_visitor_errors_are_heard() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let heard = sim.events.len();
    for hostile in
        ["not json", "null", "[1]", r#"{"type":1}"#, r#"{"data":{}}"#, r#"{"type":"invoke","data":{"func":"x"}}"#]
    {
        frame(&mut sim, hostile);
    }
    assert_eq!(sim.events.len(), heard);
    frame(&mut sim, r#"{"type":"visitorerror","data":{"code":5}}"#);
    frame(&mut sim, r#"{"type":"presence","data":"not an object"}"#);
    assert_eq!(presence_event(&sim, "presenceVisitorError").json.as_deref(), Some(r#"{"code":5}"#));
    assert_eq!(presence_event(&sim, "presence").json, None);
}

#[test]
fn logout_forgets_the_token_and_ends_presence() {
    let mut sim = Sim::new();
    watching(&mut sim);
    sim.input(Input::Logout);
    assert_eq!(presence_event(&sim, "presenceDisconnected").reason.as_deref(), Some("logout"));
    sim.input(Input::Credentials(super::sim::credentials(3600).check().unwrap()));
    sim.call(Call::PresenceConnect { visitor: "v1".into(), timeout: None });
    assert!(sim.request("Authorize").is_some(), "authorized again");
}

fn start(sim: &mut Sim, timeout: Option<u32>) -> u32 {
    sim.call(Call::PresenceStart {
        key: Some("123456".into()),
        func: crate::presence::SHOW_TERMS.into(),
        args: r#"{"lang":"fr","sessionKey":"x"}"#.into(),
        timeout,
        options: ViewerOptions::default(),
    })
}

#[test]
fn starting_a_session_over_the_socket_then_joining_it_in_the_window_of_the_click() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let call = start(&mut sim, None);
    assert_eq!(sim.windows.len(), 1, "opened inside the click");
    let (_, invoke) = sim.sent.last().expect("the invoke").clone();
    assert_eq!(
        invoke,
        r#"{"type":"invoke","mtype":"invoke","data":{"func":"GLANCE.Cobrowse.VisitorUI.showTerms","args":{"lang":"fr","sessionKey":"123456"}}}"#
    );
    frame(&mut sim, r#"{"type":"terms","data":{"status":"accepted"}}"#);
    frame(&mut sim, r#"{"type":"visitorsessionstart"}"#);
    assert_eq!(presence_event(&sim, "presenceSessionStart").ssnkey.as_deref(), Some("123456"));
    sim.answer("LookupPartnerSession2", 200, &found("123456"));
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Page("window:1".into()))));
}

#[test]
fn a_declined_start_rejects_at_once_and_closes_its_window() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let call = start(&mut sim, None);
    frame(&mut sim, r#"{"type":"terms","data":{"status":"Declined"}}"#);
    assert_eq!(sim.code(call), Some("declined"));
    assert_eq!(sim.windows, [("window:1".to_owned(), true)]);
    assert!(sim.timers.keys().all(|id| sim.sockets.contains_key(id) || *id > 0), "its deadline is released");
}

#[test]
fn an_unanswered_start_times_out_and_a_second_start_replaces_the_first() {
    let mut sim = Sim::new();
    watching(&mut sim);
    let first = start(&mut sim, Some(30_000));
    let second = start(&mut sim, Some(2000));
    assert_eq!(sim.code(first), Some("canceled"));
    sim.advance(2000);
    assert_eq!(sim.code(second), Some("timedout"));
    assert!(sim.windows.iter().all(|(_, closed)| *closed), "every waiting window closed");
}

#[test]
fn a_start_with_the_popup_blocked_asks_the_visitor_nothing() {
    let mut sim = Sim::new();
    watching(&mut sim);
    sim.popups_blocked = true;
    let sent = sim.sent.len();
    let call = start(&mut sim, None);
    assert_eq!(sim.code(call), Some("popup_blocked"));
    assert_eq!(sim.event_names().last().map(String::as_str), Some("popupblocked"));
    assert_eq!(sim.sent.len(), sent, "the visitor is not asked (D22)");
}

#[test]
fn a_direct_start_finds_the_visitor_then_signals_their_server() {
    let mut sim = Sim::new();
    connect(&mut sim, DIRECT);
    sim.answer("findvisitor", 200, r#"{"visitorfound":true,"directserver":"d1.test"}"#);
    let call = start(&mut sim, None);
    sim.answer("findvisitor", 200, r#"{"visitorfound":true,"directserver":"d2.test"}"#);
    let (_, signal) = sim.request("signalvisitor").expect("signalvisitor");
    assert_eq!(signal.url, "https://d2.test/signalvisitor?groupid=20541&visitorid=v+1%26&ver=6.25.0");
    assert!(signal.body.expect("body").0.starts_with(r#"{"mtype":"invoke","data":"#));
    sim.answer("signalvisitor", 200, "{}");
    assert_eq!(sim.outcome(call), None, "waiting for the visitor");
    let absent = start(&mut sim, None);
    sim.answer("findvisitor", 200, r#"{"visitorfound":false}"#);
    assert_eq!(sim.code(absent), Some("visitor_not_present"));
    assert_eq!(sim.event_names().last().map(String::as_str), Some("presenceInvokeFailed"));
}

#[test]
fn a_start_without_presence_is_refused() {
    let mut sim = Sim::new();
    let call = start(&mut sim, None);
    assert_eq!(sim.code(call), Some("visitor_not_present"));
    assert!(sim.windows.is_empty());
}
