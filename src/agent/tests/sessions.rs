//! `inSession`, `leaveSession` and `end()`.

use super::sim::{found, Sim};
use crate::agent::{Call, Value, ViewerOptions};

const SESSIONS: &str = "<ArrayOfSession2><session2><id>1</id><passcode>4400</passcode><num>2</num>\
    <disambiguateId>846930886</disambiguateId><servername>s1.glance.test</servername></session2></ArrayOfSession2>";

#[test]
fn in_session_asks_once_and_answers_for_a_key_or_with_the_list() {
    let mut sim = Sim::new();
    let there = sim.call(Call::InSession { key: "4400".into() });
    assert_eq!(sim.event_names(), ["inSession", "inSessionLookup"]);
    sim.answer("AgentInSession", 200, SESSIONS);
    assert_eq!(sim.outcome(there), Some(&Ok(Value::Bool(true))));
    let list = sim.call(Call::InSession { key: String::new() });
    sim.answer("AgentInSession", 200, SESSIONS);
    match sim.outcome(list) {
        Some(Ok(Value::Sessions(sessions))) => assert_eq!(sessions[0].servername, "s1.glance.test"),
        other => panic!("{other:?}"),
    }
    let refused = sim.call(Call::InSession { key: "1".into() });
    sim.answer("AgentInSession", 200, "<Error>bad key</Error>");
    assert_eq!(sim.code(refused), Some("service_error"));
}

#[test]
fn leave_session_finds_the_agents_entry_and_ejects_it_with_cookies() {
    let mut sim = Sim::new();
    let call = sim.call(Call::LeaveSession { key: "4400".into() });
    sim.answer("AgentInSession", 200, SESSIONS);
    let (_, eject) = sim.request("s1.glance.test").expect("EjectAgent");
    assert_eq!(eject.url, "https://s1.glance.test/agent/message");
    assert!(eject.cookies && eject.private);
    let (body, _) = eject.body.expect("body");
    assert_eq!(body, r#"{"ssnid":"20541.4400.846930886","num":2,"mtype":"EjectAgent","data":{"reason":"leave"}}"#);
    sim.answer("s1.glance.test", 204, "");
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Bool(true))));

    let missing = sim.call(Call::LeaveSession { key: "9".into() });
    sim.answer("AgentInSession", 200, SESSIONS);
    assert_eq!(sim.code(missing), Some("invalid_argument"));
}

#[test]
fn end_leaves_each_session_it_opened_then_closes_every_viewer() {
    let mut sim = Sim::new();
    for key in ["4400", "5500"] {
        let call = sim.call(Call::Join { key: key.into(), options: ViewerOptions::default() });
        sim.answer("LookupPartnerSession2", 200, &found(key));
        assert!(sim.outcome(call).is_some());
    }
    let end = sim.call(Call::End);
    for _ in 0..2 {
        sim.answer("AgentInSession", 200, SESSIONS);
        if sim.request("s1.glance.test").is_some() {
            sim.answer("s1.glance.test", 200, "");
        }
    }
    assert_eq!(sim.outcome(end), Some(&Ok(Value::Undefined)));
    assert_eq!(sim.event_names().iter().filter(|n| *n == "viewerClosed").count(), 2);
    assert!(sim.windows.iter().all(|(_, closed)| *closed));
    assert_eq!(sim.sent_requests("AgentInSession").len(), 2, "one leave per session, in turn");
}
