//! Sign-in: `getLoginKey` asked once for many calls, ahead of expiry, again once after a refusal;
//! SAML through the sign-in page; a later sign-in replacing an earlier one.

use super::sim::{credentials, found, Sim, REFUSED, WEBSERVER};
use crate::agent::{AgentData, Call, Data, Input, Message, Value};
use crate::credentials::SsoHint;
use crate::error::AgentError;

fn renewing(sim: &mut Sim) -> u32 {
    sim.call(Call::Provider("getLoginKey".into()))
}

fn give_key(sim: &mut Sim, seconds: u64) {
    let ask = *sim.asks.last().expect("getLoginKey asked");
    sim.input(Input::ProviderAnswered(ask, Ok(credentials(seconds))));
}

#[test]
fn authenticate_with_get_login_key_asks_at_once_and_resolves_with_the_first_key() {
    let mut sim = Sim::anonymous();
    let call = renewing(&mut sim);
    assert_eq!(sim.asks.len(), 1, "asked at once");
    assert_eq!(sim.outcome(call), None);
    give_key(&mut sim, 3600);
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Undefined)));
}

#[test]
fn one_ask_serves_every_call_waiting_for_a_key() {
    let mut sim = Sim::anonymous();
    renewing(&mut sim);
    let first = sim.call(Call::Lookup { key: "1".into(), wait: false });
    let second = sim.call(Call::Lookup { key: "2".into(), wait: false });
    assert_eq!(sim.asked(), 1);
    give_key(&mut sim, 3600);
    assert_eq!(sim.sent_requests("LookupPartnerSession2").len(), 2, "both sent with the key");
    assert_eq!((sim.outcome(first), sim.outcome(second)), (None, None));
}

#[test]
fn a_key_is_asked_for_again_a_minute_before_it_expires() {
    let mut sim = Sim::anonymous();
    renewing(&mut sim);
    give_key(&mut sim, 600);
    assert_eq!(sim.next_timer_in(), Some(540_000), "nine minutes: a minute ahead of expiry");
    sim.advance(540_000);
    assert_eq!(sim.asked(), 2, "asked again with no call waiting");
    give_key(&mut sim, 1200);
    let call = sim.call(Call::Lookup { key: "1".into(), wait: false });
    assert!(sim.request("LookupPartnerSession2").is_some(), "the renewed key is used at once");
    assert_eq!(sim.outcome(call), None);
}

#[test]
fn a_refused_key_is_renewed_once_and_sent_again_unseen_by_listeners() {
    let mut sim = Sim::anonymous();
    renewing(&mut sim);
    give_key(&mut sim, 3600);
    let call = sim.call(Call::Lookup { key: "4400".into(), wait: true });
    sim.answer("LookupPartnerSession2", 200, REFUSED);
    assert_eq!(sim.asked(), 2, "a new key is asked for");
    assert!(sim.request("LookupPartnerSession2").is_none(), "nothing sent until it is here");
    give_key(&mut sim, 3000);
    let (_, again) = sim.request("LookupPartnerSession2").expect("sent again");
    assert!(again.body.expect("body").0.contains(&super::sim::key_expiring_in(3000).replace('$', "%24")));
    sim.answer("LookupPartnerSession2", 200, REFUSED);
    assert_eq!(sim.code(call), Some("service_error"), "a second refusal stands");
    assert_eq!(sim.asked(), 2, "renewed once only");
    assert_eq!(sim.event_names(), ["lookupWaiting", "lookupFailed"], "one attempt as the page sees it");
}

#[test]
fn a_renewal_that_fails_ends_the_call_with_its_reason() {
    let mut sim = Sim::anonymous();
    renewing(&mut sim);
    give_key(&mut sim, 3600);
    let call = sim.call(Call::Lookup { key: "4400".into(), wait: false });
    sim.answer("LookupPartnerSession2", 401, "");
    let ask = *sim.asks.last().expect("asked");
    sim.input(Input::ProviderFailed(ask, "key server down".into()));
    assert_eq!(sim.code(call), Some("authentication_failed"));
    match sim.event("lookupFailed") {
        Some(Data::Agent(AgentData { reason: Some(reason), .. })) => {
            assert_eq!(reason, "getLoginKey failed: key server down")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn get_login_key_that_gives_nothing_in_time_fails_the_calls_waiting() {
    let mut sim = Sim::anonymous();
    sim.agent.settings.request_timeout_ms = 2000;
    let authenticate = renewing(&mut sim);
    let call = sim.call(Call::Lookup { key: "1".into(), wait: false });
    sim.advance(2000);
    assert_eq!(
        (sim.code(authenticate), sim.code(call)),
        (Some("authentication_failed"), Some("authentication_failed"))
    );
    let Some(Err(AgentError::AuthenticationFailed(reason))) = sim.outcome(call) else { panic!() };
    assert_eq!(reason, "getLoginKey failed: no key within requestTimeout");
    // An answer after the deadline is not kept.
    let late = sim.log.iter().find_map(|o| match o {
        crate::agent::Output::AskProvider { id, .. } => Some(*id),
        _ => None,
    });
    sim.input(Input::ProviderAnswered(late.unwrap(), Ok(credentials(3600))));
    let next = sim.call(Call::Lookup { key: "1".into(), wait: false });
    assert!(sim.request("LookupPartnerSession2").is_none() && sim.outcome(next).is_none(), "asked again instead");
}

#[test]
fn a_malformed_answer_of_get_login_key_is_an_invalid_credentials_failure() {
    let mut sim = Sim::anonymous();
    let call = renewing(&mut sim);
    let ask = sim.asks[0];
    let mut bad = credentials(3600);
    bad.loginkey = Some("nope".into());
    sim.input(Input::ProviderAnswered(ask, Ok(bad)));
    assert_eq!(sim.code(call), Some("invalid_credentials"));
}

#[test]
fn a_later_authenticate_supersedes_the_ask_under_way() {
    let mut sim = Sim::anonymous();
    let first = renewing(&mut sim);
    let call = sim.call(Call::Lookup { key: "1".into(), wait: false });
    let ask = sim.asks[0];
    sim.input(Input::Credentials(credentials(3600).check().unwrap()));
    assert_eq!((sim.code(first), sim.code(call)), (Some("authentication_failed"), Some("authentication_failed")));
    assert!(sim.asks.is_empty(), "the ask is released");
    sim.input(Input::ProviderAnswered(ask, Ok(credentials(10))));
    let next = sim.call(Call::Lookup { key: "1".into(), wait: false });
    sim.answer("LookupPartnerSession2", 200, &found("1"));
    assert!(matches!(sim.outcome(next), Some(Ok(Value::Found(_)))), "the given credentials, not the late key");
}

fn sign_on(sim: &mut Sim) -> (u32, u32, String) {
    let hint = SsoHint::new("idpname", Some("okta".into())).unwrap();
    let call = sim.call(Call::SignOn(hint));
    let (&frame, url) = sim.frames.iter().next().expect("a hidden frame");
    (call, frame, url.clone())
}

fn answer_from(sim: &mut Sim, frame: u32, origin: &str, name: &str, login_key: Option<&str>) {
    sim.input(Input::Message(Message {
        source: ["frame:", &frame.to_string()].concat(),
        origin: origin.into(),
        name: name.into(),
        data: None,
        login_key: login_key.map(str::to_owned),
        reason: None,
    }));
}

#[test]
fn a_saml_sign_in_stores_the_credentials_its_page_posts() {
    let mut sim = Sim::anonymous();
    let (call, frame, url) = sign_on(&mut sim);
    assert_eq!(url, "https://glance.test/account/getloginkey.aspx?sso=1&mode=embedded&fmt=html&idpname=okta");
    assert!(sim.listening, "the message listener is on while it waits");
    let key = ["partnerid=20541&partneruserid=joe%26co~", &super::sim::key_expiring_in(3600)].concat();
    answer_from(&mut sim, frame, "https://evil.test", "authenticateSucceeded", Some(&key));
    assert_eq!(sim.outcome(call), None, "another origin is not heard");
    answer_from(&mut sim, frame, WEBSERVER, "authenticateSucceeded", Some(&key));
    assert_eq!(sim.outcome(call), Some(&Ok(Value::Undefined)));
    assert_eq!(sim.event_names(), ["authenticateSucceeded"]);
    assert!(sim.frames.is_empty() && !sim.listening, "the frame and the listener are gone");
    let lookup = sim.call(Call::Lookup { key: "1".into(), wait: false });
    assert!(sim.request("LookupPartnerSession2").is_some() && sim.outcome(lookup).is_none(), "signed in");
}

#[test]
fn a_saml_sign_in_without_an_answer_fails_after_twelve_seconds() {
    let mut sim = Sim::anonymous();
    let (call, _, _) = sign_on(&mut sim);
    sim.advance(12_000);
    assert_eq!(sim.code(call), Some("authentication_failed"));
    match sim.event("authenticateFailed") {
        Some(Data::Agent(AgentData { reason: Some(reason), .. })) => assert_eq!(reason, "timedout"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refusal_from_the_identity_provider_and_a_superseded_sign_in_fail_with_reasons() {
    let mut sim = Sim::anonymous();
    let (first, frame, _) = sign_on(&mut sim);
    let (second, _, _) = {
        let hint = SsoHint::new("idpid", Some("7".into())).unwrap();
        let call = sim.call(Call::SignOn(hint));
        (call, 0, String::new())
    };
    let Some(Err(AgentError::AuthenticationFailed(reason))) = sim.outcome(first) else { panic!() };
    assert_eq!(reason, crate::agent::signin::SUPERSEDED);
    answer_from(&mut sim, frame, WEBSERVER, "authenticateSucceeded", Some("x"));
    assert_eq!(sim.outcome(second), None, "the first frame is gone: not heard");
    sim.input(Input::Logout);
    assert_eq!(sim.code(second), Some("authentication_failed"));
}
