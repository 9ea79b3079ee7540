//! Lookups: the schedule, transient failures, the request deadline, every way to cancel.

use super::sim::{found, Sim, NOT_FOUND, REFUSED};
use crate::agent::{AgentData, Call, Data, Input, Value};

fn lookup(sim: &mut Sim, wait: bool) -> u32 {
    sim.call(Call::Lookup { key: "4400".into(), wait })
}

#[test]
fn a_found_session_resolves_the_result_after_waiting_and_found_events() {
    let mut sim = Sim::new();
    let call = lookup(&mut sim, false);
    let (_, request) = sim.request("LookupPartnerSession2").expect("a lookup request");
    assert_eq!(request.url, "https://glance.test/services/SessionService.asmx/LookupPartnerSession2");
    let (body, content_type) = request.body.expect("a form");
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert!(body.starts_with("partnerid=20541&partneruserid=joe%26co&loginkey=%241%24"), "{body}");
    assert!(body.ends_with("&ssnkey=4400"), "{body}");
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupFound"]);
    match sim.outcome(call) {
        Some(Ok(Value::Found(result))) => assert_eq!(result.passcode, "4400"),
        other => panic!("{other:?}"),
    }
    match sim.event("lookupWaiting") {
        Some(Data::Agent(AgentData { ssnkey: Some(key), cancel: Some(_), .. })) => assert_eq!(key, "4400"),
        other => panic!("{other:?}"),
    }
    assert!(sim.timers.is_empty() && sim.requests.is_empty(), "nothing left behind");
}

#[test]
fn a_waiting_lookup_polls_on_the_schedule_until_the_session_starts() {
    let mut sim = Sim::new();
    let call = lookup(&mut sim, true);
    for _ in 0..3 {
        sim.answer("LookupPartnerSession2", 200, NOT_FOUND);
        assert_eq!(sim.next_timer_in(), Some(3000), "3 s between the first attempts");
        assert!(sim.request("LookupPartnerSession2").is_none(), "nothing sent during the pause");
        sim.advance(3000);
    }
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert!(matches!(sim.outcome(call), Some(Ok(Value::Found(_)))));
    assert_eq!(sim.sent_requests("LookupPartnerSession2").len(), 4);
    let waiting = sim.event_names().iter().filter(|name| *name == "lookupWaiting").count();
    assert_eq!(waiting, 4, "one lookupWaiting before each attempt");
}

#[test]
fn a_waiting_lookup_times_out_after_twelve_attempts_in_about_45_seconds() {
    let mut sim = Sim::new();
    let start = sim.now;
    let call = lookup(&mut sim, true);
    let mut pauses = Vec::new();
    loop {
        sim.advance(200); // the service takes 200 ms to answer
        sim.answer("LookupPartnerSession2", 200, NOT_FOUND);
        match sim.next_timer_in() {
            Some(pause) if sim.outcome(call).is_none() => {
                pauses.push(pause);
                sim.advance(pause);
            }
            _ => break,
        }
    }
    assert_eq!(pauses, [3000, 3000, 3000, 3000, 3000, 3000, 5000, 5000, 5000, 5000, 5000]);
    assert_eq!(sim.code(call), Some("timedout"));
    assert_eq!(sim.sent_requests("LookupPartnerSession2").len(), 12);
    match sim.event("lookupFailed") {
        Some(Data::Agent(AgentData { reason: Some(reason), ssnkey: Some(key), .. })) => {
            assert_eq!((reason.as_ref(), key.as_str()), ("timedout", "4400"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.now - start, 43_000 + 12 * 200);
}

#[test]
fn an_error_document_ends_a_waiting_lookup_at_once() {
    let mut sim = Sim::new();
    let call = lookup(&mut sim, true);
    sim.answer("LookupPartnerSession2", 200, REFUSED);
    assert_eq!(sim.code(call), Some("service_error"));
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupFailed"]);
    assert!(sim.timers.is_empty(), "no next attempt");
}

#[test]
fn transient_failures_are_retried_while_waiting_and_end_a_lookup_that_does_not_wait() {
    let mut sim = Sim::new();
    let call = lookup(&mut sim, true);
    sim.answer("LookupPartnerSession2", 503, "busy");
    sim.advance(3000);
    sim.fail("LookupPartnerSession2", "Failed to fetch");
    sim.advance(3000);
    sim.answer("LookupPartnerSession2", 200, &found("4400"));
    assert!(matches!(sim.outcome(call), Some(Ok(Value::Found(_)))), "found after two transient failures");

    let once = lookup(&mut sim, false);
    sim.answer("LookupPartnerSession2", 502, "");
    assert_eq!(sim.code(once), Some("service_unavailable"));
    match sim.event("lookupFailed") {
        Some(Data::Agent(AgentData { reason: Some(reason), .. })) => assert_eq!(reason, "HTTP 502"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_request_past_its_deadline_is_released_and_counts_as_transient() {
    let mut sim = Sim::new();
    sim.agent.settings.request_timeout_ms = 1500;
    let call = lookup(&mut sim, false);
    let (id, _) = sim.request("LookupPartnerSession2").expect("request");
    sim.advance(1500);
    assert!(sim.log.contains(&crate::agent::Output::Release(id)), "the request is aborted");
    assert_eq!(sim.code(call), Some("service_unavailable"));
    match sim.outcome(call) {
        Some(Err(error)) => assert_eq!(error.reason(), "the request timed out"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancel_lookup_releases_the_request_in_flight_and_a_late_answer_is_dropped() {
    let mut sim = Sim::new();
    let call = lookup(&mut sim, true);
    let (id, _) = sim.request("LookupPartnerSession2").expect("request");
    sim.input(Input::CancelLookup(None));
    assert_eq!(sim.code(call), Some("canceled"));
    assert!(sim.log.contains(&crate::agent::Output::Release(id)));
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupCanceled"]);
    sim.input(Input::Fetched(id, crate::protocol::Reply::Answered { status: 200, text: found("4400") }));
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupCanceled"], "nothing after the end");
    assert_eq!(sim.settled.len(), 1);
}

#[test]
fn cancel_lookup_takes_the_most_recent_and_the_cancel_function_its_own() {
    let mut sim = Sim::new();
    let first = lookup(&mut sim, true);
    let second = lookup(&mut sim, true);
    sim.input(Input::CancelLookup(None));
    assert_eq!((sim.code(first), sim.code(second)), (None, Some("canceled")));
    let Some(Data::Agent(AgentData { cancel: Some(lookup), .. })) = sim.events.first().map(|e| e.data.clone()) else {
        panic!("lookupWaiting carries cancel")
    };
    sim.input(Input::CancelLookup(Some(lookup)));
    assert_eq!(sim.code(first), Some("canceled"));
}

#[test]
fn a_cancel_before_the_request_goes_withdraws_it() {
    // A listener of lookupWaiting cancels: the request queued after the event is never sent.
    let mut sim = Sim::new();
    sim.soon_fires = false;
    lookup(&mut sim, true);
    assert!(sim.events.is_empty(), "nothing heard inside the call");
    let (&first, _) = sim.timers.iter().next().expect("the first attempt comes next");
    sim.timers.remove(&first);
    sim.agent.handle(sim.now, Input::TimerFired(first));
    let event = sim.agent.poll().expect("lookupWaiting first");
    assert!(matches!(event, crate::agent::Output::Fire(ref e) if e.name == "lookupWaiting"), "{event:?}");
    sim.agent.handle(sim.now, Input::CancelLookup(None));
    while let Some(output) = sim.agent.poll() {
        assert!(
            !matches!(output, crate::agent::Output::Fetch { .. } | crate::agent::Output::Timer { .. }),
            "{output:?}"
        );
        sim.log.push(output);
    }
}

#[test]
fn a_signal_cancels_its_own_call_only() {
    let mut sim = Sim::new();
    let first = lookup(&mut sim, true);
    let second = lookup(&mut sim, true);
    sim.input(Input::Abort(first));
    assert_eq!((sim.code(first), sim.code(second)), (Some("canceled"), None));
}

#[test]
fn lookups_need_fresh_credentials_and_send_nothing_otherwise() {
    let mut sim = Sim::anonymous();
    let call = lookup(&mut sim, true);
    assert_eq!(sim.code(call), Some("not_authenticated"));
    let credentials = super::sim::credentials(60).check().expect("well-formed");
    sim.input(Input::Credentials(credentials));
    sim.advance(61_000);
    let expired = lookup(&mut sim, true);
    assert_eq!(sim.code(expired), Some("loginkey_expired"));
    assert!(sim.sent_requests("").is_empty(), "nothing sent");
    assert_eq!(sim.event_names(), ["lookupFailed", "lookupFailed"]);
}
