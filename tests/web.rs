//! The wasm boundary in a real browser (`wasm-pack test --headless --chrome`): every member of the
//! module's `GlanceAgent`, with `fetch`, `window.open` and timers replaced by the doubles in
//! `tests/web/doubles.js`.
#![cfg(target_arch = "wasm32")]

use glance_agent::browser::exports::Agent;
use glance_agent::surface::{METHODS, PROPERTIES};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/web/doubles.js")]
extern "C" {
    fn answers() -> JsValue;

    type Service;
    #[wasm_bindgen(js_name = fakeService)]
    fn fake_service(steps: Array) -> Service;
    #[wasm_bindgen(method, getter)]
    fn calls(this: &Service) -> Array;
    #[wasm_bindgen(method)]
    fn restore(this: &Service);

    type Timers;
    #[wasm_bindgen(js_name = fastTimers)]
    fn fast_timers(factor: u32) -> Timers;
    #[wasm_bindgen(method, getter)]
    fn delays(this: &Timers) -> Array;
    #[wasm_bindgen(method, js_name = restore)]
    fn restore_timers(this: &Timers);

    type Opener;
    #[wasm_bindgen(js_name = fakeOpen)]
    fn fake_open(blocked: bool) -> Opener;
    #[wasm_bindgen(method, getter, js_name = calls)]
    fn open_calls(this: &Opener) -> Array;
    #[wasm_bindgen(method, getter)]
    fn submissions(this: &Opener) -> Array;
    #[wasm_bindgen(method, js_name = restore)]
    fn restore_open(this: &Opener);

    type Console;
    #[wasm_bindgen(js_name = quietConsole)]
    fn quiet_console() -> Console;
    #[wasm_bindgen(method, getter)]
    fn errors(this: &Console) -> Array;
    #[wasm_bindgen(method, js_name = restore)]
    fn restore_console(this: &Console);

    type Recorder;
    fn recorder() -> Recorder;
    #[wasm_bindgen(method, getter)]
    fn handler(this: &Recorder) -> Function;
    #[wasm_bindgen(method)]
    fn names(this: &Recorder) -> Array;
    #[wasm_bindgen(method)]
    fn data(this: &Recorder, name: &str) -> JsValue;

    type KeyServer;
    #[wasm_bindgen(js_name = keyServer)]
    fn key_server(keys: Array) -> KeyServer;
    #[wasm_bindgen(method, getter, js_name = calls)]
    fn key_calls(this: &KeyServer) -> u32;
    #[wasm_bindgen(method, getter)]
    fn provide(this: &KeyServer) -> Function;

    fn sleep(ms: u32) -> Promise;
    fn settle(promise: &Promise, ms: u32) -> Promise;
    #[wasm_bindgen(js_name = isPending)]
    fn is_pending(promise: &Promise) -> Promise;
    #[wasm_bindgen(js_name = postMessageEvent)]
    fn post_message_event(data: &JsValue, origin: &str, source: &JsValue);
    fn thrower() -> Function;
    fn once(f: &Function) -> Function;
    #[wasm_bindgen(js_name = hostileValues)]
    fn hostile_values() -> Array;
    #[wasm_bindgen(js_name = expectedErrorShape)]
    fn expected_error_shape(error: &JsValue) -> bool;
    #[wasm_bindgen(js_name = removeFrame)]
    fn remove_frame(window: &JsValue);
    #[wasm_bindgen(js_name = classMembers)]
    fn class_members(class: &JsValue) -> JsValue;
}

const WEBSERVER: &str = "http://glance.test";
const SIGNATURE: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";

fn answer(which: &str) -> String {
    text(&answers(), which)
}

fn key_expiring_in(seconds: f64) -> String {
    let expires = (js_sys::Date::now() / 1000.0 + seconds) as u64;
    format!("$1${expires}${SIGNATURE}")
}

fn credentials(login_key: &str) -> JsValue {
    let object = Object::new();
    set(&object, "loginkey", &login_key.into());
    set(&object, "partnerid", &20541.into());
    set(&object, "partneruserid", &"joe&co".into());
    object.into()
}

fn set(object: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).unwrap();
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

fn text(object: &JsValue, key: &str) -> String {
    get(object, key).as_string().unwrap_or_default()
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        set(&object, key, value);
    }
    object.into()
}

fn step(status: u16, body: &str) -> JsValue {
    object(&[("status", status.into()), ("body", body.into())])
}

fn failing_step(message: &str) -> JsValue {
    object(&[("fail", message.into())])
}

fn hanging_step() -> JsValue {
    object(&[("hang", true.into())])
}

fn steps(items: &[JsValue]) -> Array {
    items.iter().collect()
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.unwrap();
}

/// The outcome of a promise that must settle within `ms`: `Ok(value)` or `Err(error)`.
async fn outcome(promise: &Promise, ms: u32) -> Result<JsValue, JsValue> {
    let settled = JsFuture::from(settle(promise, ms)).await.unwrap();
    assert!(!get(&settled, "hung").is_truthy(), "the promise did not settle within {ms} ms");
    if get(&settled, "ok").is_truthy() {
        Ok(get(&settled, "value"))
    } else {
        Err(get(&settled, "error"))
    }
}

/// The pauses between lookup attempts among the timers set (request deadlines and others left out).
fn schedule_pauses(timers: &Timers) -> Vec<f64> {
    timers.delays().iter().filter_map(|d| d.as_f64()).filter(|&d| d == 3000.0 || d == 5000.0).collect()
}

fn code(error: &JsValue) -> String {
    assert!(expected_error_shape(error), "not an Error with a code: {error:?}");
    text(error, "code")
}

fn names(recorder: &Recorder) -> Vec<String> {
    recorder.names().iter().filter_map(|name| name.as_string()).collect()
}

fn signal_of(controller: &web_sys::AbortController) -> JsValue {
    object(&[("signal", controller.signal().into())])
}

/// A fresh agent: authenticated against the fake webserver, default settings, a catch-all recorder.
/// Dropping it removes the recorder, cancels lookups and signs out, whatever a failed test left.
struct Fixture {
    events: Recorder,
}

impl Fixture {
    fn new() -> Fixture {
        Agent::start();
        Agent::set_webserver(WEBSERVER.into()).unwrap();
        Agent::set_post_parameters_to_viewer(true.into());
        Agent::set_request_timeout(10_000.into()).unwrap();
        let _ = Agent::authenticate(credentials(&key_expiring_in(3600.0))).unwrap();
        let events = recorder();
        Agent::add_event_listener_all(events.handler().into()).unwrap();
        Fixture { events }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Agent::remove_event_listener_all(self.events.handler().into());
        for _ in 0..16 {
            Agent::cancel_lookup();
        }
        Agent::logout();
    }
}

#[wasm_bindgen_test]
fn the_surface_table_lists_exactly_the_module_members() {
    let members = class_members(&get(&JsValue::from(Agent), "constructor"));
    let listed = |key: &str| -> Vec<String> {
        let mut names: Vec<String> = Array::from(&get(&members, key)).iter().filter_map(|n| n.as_string()).collect();
        names.sort();
        names
    };
    let mut methods: Vec<String> = METHODS.iter().map(|(name, _)| name.to_string()).collect();
    methods.sort();
    // `start` is the loader's, not the page's (the facade calls it once the module is there), and
    // wasm-bindgen's own members start with `__`.
    let module_methods: Vec<String> =
        listed("methods").into_iter().filter(|m| m != "start" && !m.starts_with("__")).collect();
    assert_eq!(module_methods, methods);
    let mut properties: Vec<String> = PROPERTIES.iter().map(|p| p.name.to_string()).collect();
    properties.sort();
    assert_eq!(listed("accessors"), properties);
    let mut writable: Vec<String> = PROPERTIES.iter().filter(|p| p.writable).map(|p| p.name.to_string()).collect();
    writable.sort();
    assert_eq!(listed("writable"), writable, "only the writable properties have setters");
}

#[wasm_bindgen_test]
fn each_property_sets_only_itself() {
    // The defect this guards against: a boundary that took properties by number read an unknown
    // number as `requestTimeout`. Properties are now named accessors, one each.
    let _fixture = Fixture::new();
    Agent::set_request_timeout(1234.into()).unwrap();
    Agent::set_post_parameters_to_viewer(false.into());
    assert_eq!((Agent::request_timeout(), Agent::post_parameters_to_viewer()), (1234, false));
    Agent::set_webserver("https://glance.example".into()).unwrap();
    assert_eq!((Agent::request_timeout(), Agent::post_parameters_to_viewer()), (1234, false));
    Agent::set_post_parameters_to_viewer(true.into());
    assert_eq!((Agent::webserver(), Agent::request_timeout()), ("https://glance.example".to_owned(), 1234));
    assert_eq!(code(&Agent::set_request_timeout("soon".into()).expect_err("text")), "invalid_argument");
    assert_eq!(Agent::request_timeout(), 1234, "kept after a refusal");
}

#[wasm_bindgen_test]
async fn a_found_session_resolves_the_result_after_waiting_and_found_events() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();

    let result = result.expect("lookup resolves");
    assert_eq!(
        text(&result, "agentjoinurl"),
        "http://glance.test/agentjoin/AgentView.aspx?SessionKey=4400&ssnid=20541.4400.1"
    );
    assert_eq!((text(&result, "passcode"), text(&result, "calltype")), ("4400".to_owned(), "C".to_owned()));
    assert_eq!(text(&result, "service"), "agent");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupFound"]);
    let waiting = fixture.events.data("lookupWaiting");
    assert_eq!((text(&waiting, "ssnkey"), text(&waiting, "service")), ("4400".to_owned(), "agent".to_owned()));
    assert!(get(&waiting, "cancel").is_function());
    assert_eq!(text(&fixture.events.data("lookupFound"), "passcode"), "4400");
}

#[wasm_bindgen_test]
async fn the_lookup_is_a_form_encoded_post_to_the_webserver() {
    let _fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, &answer("notFound"))]));
    let result = outcome(&Agent::lookup_session(" 12 34& ".into(), false.into()), 2000).await;
    service.restore();

    let empty: Object = result.unwrap().unchecked_into();
    assert_eq!(Object::keys(&empty).length(), 0, "not found without wait: {{}}");
    let call = service.calls().get(0);
    assert_eq!(text(&call, "url"), "http://glance.test/services/SessionService.asmx/LookupPartnerSession2");
    assert_eq!(text(&call, "method"), "POST");
    assert_eq!(text(&call, "contentType"), "application/x-www-form-urlencoded");
    let body = text(&call, "body");
    assert!(body.starts_with("partnerid=20541&partneruserid=joe%26co&loginkey=%241%24"), "{body}");
    assert!(body.ends_with(&format!("%24{SIGNATURE}&ssnkey=12+34%26")), "{body}");
}

#[wasm_bindgen_test]
async fn a_waiting_lookup_polls_on_the_schedule_until_the_session_starts() {
    let fixture = Fixture::new();
    let timers = fast_timers(100);
    let not_yet = || step(200, &answer("notFound"));
    let service = fake_service(steps(&[not_yet(), not_yet(), not_yet(), step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), JsValue::UNDEFINED), 3000).await;
    let pauses = schedule_pauses(&timers);
    timers.restore_timers();
    service.restore();

    assert_eq!(text(&result.unwrap(), "passcode"), "4400");
    assert_eq!(service.calls().length(), 4);
    assert_eq!(pauses, [3000.0, 3000.0, 3000.0], "3 s between the first attempts");
    assert_eq!(
        names(&fixture.events),
        ["lookupWaiting", "lookupWaiting", "lookupWaiting", "lookupWaiting", "lookupFound"]
    );
}

#[wasm_bindgen_test]
async fn a_waiting_lookup_times_out_after_twelve_attempts() {
    let fixture = Fixture::new();
    let timers = fast_timers(100);
    let service = fake_service(steps(&[step(200, &answer("notFound"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), true.into()), 5000).await;
    let pauses = schedule_pauses(&timers);
    timers.restore_timers();
    service.restore();

    let error = result.expect_err("times out");
    assert_eq!((code(&error), text(&error, "reason")), ("timedout".to_owned(), "timedout".to_owned()));
    assert_eq!(service.calls().length(), 12);
    assert_eq!(pauses, [3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 5000.0, 5000.0, 5000.0, 5000.0, 5000.0]);
    let failed = fixture.events.data("lookupFailed");
    assert_eq!((text(&failed, "reason"), text(&failed, "ssnkey")), ("timedout".to_owned(), "4400".to_owned()));
    assert_eq!(names(&fixture.events).iter().filter(|n| *n == "lookupWaiting").count(), 12);
}

#[wasm_bindgen_test]
async fn an_error_document_ends_a_waiting_lookup_at_once() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, &answer("refused"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), true.into()), 2000).await;
    service.restore();

    let error = result.expect_err("refused");
    assert_eq!((code(&error), text(&error, "reason")), ("service_error".to_owned(), answer("refused")));
    assert_eq!(service.calls().length(), 1, "no retry after an error document");
    assert_eq!(text(&fixture.events.data("lookupFailed"), "reason"), answer("refused"));
}

#[wasm_bindgen_test]
async fn transient_failures_are_retried_while_waiting_and_end_a_lookup_that_does_not_wait() {
    let _fixture = Fixture::new();
    let timers = fast_timers(100);
    let service =
        fake_service(steps(&[step(503, "busy"), failing_step("Failed to fetch"), step(200, &answer("found"))]));
    let waited = outcome(&Agent::lookup_session("4400".into(), true.into()), 3000).await;
    service.restore();
    assert_eq!(text(&waited.expect("retried until found"), "passcode"), "4400");
    assert_eq!(service.calls().length(), 3);

    let service = fake_service(steps(&[step(500, "Server Error")]));
    let once = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();
    timers.restore_timers();
    let error = once.expect_err("no retry without wait");
    assert_eq!((code(&error), text(&error, "reason")), ("service_unavailable".to_owned(), "Server Error".to_owned()));
}

#[wasm_bindgen_test]
async fn a_request_past_its_timeout_is_aborted() {
    let fixture = Fixture::new();
    Agent::set_request_timeout(50.into()).unwrap();
    let service = fake_service(steps(&[hanging_step()]));
    let result = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();

    let error = result.expect_err("times out");
    assert_eq!(
        (code(&error), text(&error, "reason")),
        ("service_unavailable".to_owned(), "the request timed out".to_owned())
    );
    assert!(get(&get(&service.calls().get(0), "signal"), "aborted").is_truthy());
    assert_eq!(text(&fixture.events.data("lookupFailed"), "reason"), "the request timed out");
}

#[wasm_bindgen_test]
async fn cancel_from_inside_lookup_waiting_rejects_at_once_and_sends_nothing() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    let cancel_it = Closure::<dyn FnMut(JsValue, JsValue)>::new(|_name: JsValue, data: JsValue| {
        let cancel: Function = get(&data, "cancel").unchecked_into();
        cancel.call0(&JsValue::NULL).unwrap();
        cancel.call0(&JsValue::NULL).expect("a second call is harmless");
    });
    let handler: Function = once(cancel_it.as_ref().unchecked_ref());
    Agent::add_event_listener("lookupWaiting".into(), handler.clone().into()).unwrap();
    let result = outcome(&Agent::lookup_session("4400".into(), true.into()), 2000).await;
    Agent::remove_event_listener("lookupWaiting".into(), handler.into()).unwrap();
    service.restore();

    assert_eq!(code(&result.expect_err("canceled")), "canceled");
    assert_eq!(service.calls().length(), 0, "canceled before the request");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupCanceled"]);
    assert_eq!(text(&fixture.events.data("lookupCanceled"), "ssnkey"), "4400");
}

#[wasm_bindgen_test]
async fn cancel_lookup_aborts_the_request_in_flight_and_rejects_before_it_answers() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[hanging_step()]));
    let lookup = Agent::lookup_session("4400".into(), true.into());
    wait(20).await;
    assert!(JsFuture::from(is_pending(&lookup)).await.unwrap().is_truthy());
    Agent::cancel_lookup();
    let result = outcome(&lookup, 100).await;
    service.restore();

    assert_eq!(code(&result.expect_err("canceled")), "canceled");
    assert!(get(&get(&service.calls().get(0), "signal"), "aborted").is_truthy(), "request aborted");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupCanceled"]);
    Agent::cancel_lookup(); // nothing left to cancel: no event, no error
    assert_eq!(names(&fixture.events).len(), 2);
}

#[wasm_bindgen_test]
async fn a_lookup_started_inside_another_ones_waiting_event_has_its_own_signal() {
    // The defect: the facade guessed which lookup a call started by reading the newest lookup id
    // before and after it, so a lookup started from inside another's `lookupWaiting` took the first
    // one's signal. Now the signal goes into the module with its own call.
    let fixture = Fixture::new();
    let service = fake_service(steps(&[hanging_step()]));
    let first_signal = web_sys::AbortController::new().unwrap();
    let second: std::rc::Rc<std::cell::RefCell<Option<Promise>>> = Default::default();
    let started = second.clone();
    let start_second = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, data: JsValue| {
        if text(&data, "ssnkey") == "1111" && started.borrow().is_none() {
            *started.borrow_mut() = Some(Agent::lookup_session("2222".into(), true.into()));
        }
    });
    Agent::add_event_listener("lookupWaiting".into(), start_second.as_ref().clone()).unwrap();
    let first = Agent::lookup_session("1111".into(), signal_of(&first_signal));
    wait(30).await;
    let second = second.borrow_mut().take().expect("the second lookup started");
    first_signal.abort();
    let first = outcome(&first, 500).await;
    assert!(JsFuture::from(is_pending(&second)).await.unwrap().is_truthy(), "the second lookup goes on");
    Agent::cancel_lookup();
    let second = outcome(&second, 500).await;
    Agent::remove_event_listener("lookupWaiting".into(), start_second.as_ref().clone()).unwrap();
    service.restore();

    assert_eq!(code(&first.expect_err("aborted")), "canceled");
    assert_eq!(code(&second.expect_err("canceled last")), "canceled");
    assert_eq!(names(&fixture.events).iter().filter(|name| *name == "lookupCanceled").count(), 2);
    let calls = service.calls();
    assert!(get(&get(&calls.get(0), "signal"), "aborted").is_truthy(), "the first lookup's request was aborted");
}

#[wasm_bindgen_test]
async fn lookups_need_fresh_credentials_and_send_nothing_otherwise() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    Agent::logout();
    let anonymous = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    let _ = Agent::authenticate(credentials(&key_expiring_in(-5.0))).expect("an expired key is stored, caught at use");
    let expired = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();

    assert_eq!(code(&anonymous.expect_err("no credentials")), "not_authenticated");
    assert_eq!(code(&expired.expect_err("expired")), "loginkey_expired");
    assert_eq!(service.calls().length(), 0);
    assert_eq!(names(&fixture.events), ["lookupFailed", "lookupFailed"]);
    assert_eq!(text(&fixture.events.data("lookupFailed"), "reason"), "not_authenticated");
}

#[wasm_bindgen_test]
async fn malformed_credentials_throw_naming_the_field_and_keep_the_previous_ones() {
    let _fixture = Fixture::new();
    let good = key_expiring_in(3600.0);
    let with = |field: &str, value: JsValue| {
        let c = credentials(&good);
        set(&c, field, &value);
        c
    };
    let cases: [(JsValue, &str); 6] = [
        ("not an object".into(), "credentials must be an object"),
        (credentials("$1$123$short"), "loginkey"),
        (credentials(&good.replace("$1$", "$2$")), "loginkey"),
        (with("partnerid", 0.into()), "partnerid"),
        (with("partnerid", "12a".into()), "partnerid"),
        (with("partneruserid", "".into()), "partneruserid"),
    ];
    for (bad, field) in cases {
        let error = Agent::authenticate(bad).expect_err("refused");
        assert_eq!(code(&error), "invalid_credentials");
        assert!(text(&error, "message").contains(field), "{field}: {}", text(&error, "message"));
    }
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();
    assert!(result.is_ok(), "the fixture's credentials are still there");
    assert!(text(&service.calls().get(0), "body").contains("partneruserid=joe%26co"));

    let numeric = with("partnerid", "20541".into());
    set(&numeric, "partneruserid", &42.into());
    let _ = Agent::authenticate(numeric).expect("numeric strings and numbers are fine");
}

#[wasm_bindgen_test]
async fn a_refused_key_is_renewed_once_without_a_second_terminal_event() {
    // The defect: with getLoginKey, a refused key made one lookupSession fire lookupFailed and then
    // start over, so listeners saw a failure for a call that was still going.
    let fixture = Fixture::new();
    let keys = key_server(
        [credentials(&key_expiring_in(3600.0)), credentials(&key_expiring_in(3600.0))].into_iter().collect(),
    );
    let first = Agent::authenticate(object(&[("getLoginKey", keys.provide().into())])).unwrap();
    outcome(&first, 2000).await.expect("the first key is held");
    let service = fake_service(steps(&[step(200, &answer("refused")), step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    let requests = service.calls().length();
    service.restore();

    assert_eq!(text(&result.expect("found with the renewed key"), "passcode"), "4400");
    assert_eq!(keys.key_calls(), 2, "asked once more after the refusal");
    assert_eq!(requests, 2, "the request was made again, once");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupFound"], "one waiting, one terminal event");

    // An answer that cannot mean a refused key (a non-XML body) is not followed by a renewal.
    let service = fake_service(steps(&[step(200, "<html>maintenance</html> not xml")]));
    let refused = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();
    assert_eq!(code(&refused.expect_err("refused")), "service_error");
    assert_eq!(keys.key_calls(), 2, "no renewal for a non-XML answer");
}

#[wasm_bindgen_test]
async fn a_throwing_listener_is_reported_and_the_next_one_still_runs() {
    let fixture = Fixture::new();
    let console = quiet_console();
    let failing = thrower();
    Agent::add_event_listener("lookupWaiting".into(), failing.clone().into()).unwrap();
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
    service.restore();
    Agent::remove_event_listener("lookupWaiting".into(), failing.into()).unwrap();
    console.restore_console();

    assert!(result.is_ok());
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupFound"], "the catch-all after it still heard both");
    let errors: Vec<String> = console.errors().iter().filter_map(|e| e.as_string()).collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("lookupWaiting") && errors[0].contains("listener failure"), "{errors:?}");
}

#[wasm_bindgen_test]
async fn listeners_removed_inside_a_handler_are_skipped_and_added_ones_hear_the_next_event() {
    let fixture = Fixture::new();
    let late = recorder();
    let second = recorder();
    let (late_handler, second_handler) = (late.handler(), second.handler());
    let first = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, _: JsValue| {
        Agent::remove_event_listener("lookupWaiting".into(), second_handler.clone().into()).unwrap();
        let _ = Agent::add_event_listener("lookupWaiting".into(), late_handler.clone().into()).unwrap();
    });
    let first_handler: Function = once(first.as_ref().unchecked_ref());
    Agent::add_event_listener("lookupWaiting".into(), first_handler.clone().into()).unwrap();
    Agent::add_event_listener("lookupWaiting".into(), second.handler().into()).unwrap();

    let timers = fast_timers(100);
    let service = fake_service(steps(&[step(200, &answer("notFound")), step(200, &answer("found"))]));
    let result = outcome(&Agent::lookup_session("4400".into(), true.into()), 3000).await;
    service.restore();
    timers.restore_timers();
    for handler in [first_handler, late.handler()] {
        Agent::remove_event_listener("lookupWaiting".into(), handler.into()).unwrap();
    }

    assert!(result.is_ok());
    assert_eq!(names(&second).len(), 0, "removed by an earlier listener of the same event: not called");
    assert_eq!(names(&late), ["lookupWaiting"], "added during the first event: hears only the second");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupWaiting", "lookupFound"]);
}

#[wasm_bindgen_test]
async fn disposers_and_once() {
    let _fixture = Fixture::new();
    let named = recorder();
    let dispose: Function =
        Agent::add_event_listener("lookupFound".into(), named.handler().into()).unwrap().unchecked_into();
    let next = Agent::once("lookupFound".into(), JsValue::UNDEFINED);
    let controller = web_sys::AbortController::new().unwrap();
    let given_up = Agent::once("viewerOpened".into(), signal_of(&controller));
    controller.abort();
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await.unwrap();
    dispose.call0(&JsValue::NULL).unwrap();
    dispose.call0(&JsValue::NULL).expect("a second call does nothing");
    outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await.unwrap();
    service.restore();

    assert_eq!(code(&outcome(&given_up, 100).await.expect_err("canceled")), "canceled");
    assert_eq!(text(&outcome(&next, 100).await.expect("heard"), "passcode"), "4400");
    assert_eq!(names(&named), ["lookupFound"], "the disposer removed it");
}

#[wasm_bindgen_test]
async fn hostile_arguments_to_every_function_are_refused_and_a_normal_lookup_still_works() {
    let _fixture = Fixture::new();
    let opener = fake_open(false);
    let console = quiet_console();
    let mut tried = 0;
    // A call may succeed (a hostile value can be a valid argument) but must not trap or throw a non-Error.
    let no_trap = |result: Result<JsValue, JsValue>, what: &str| {
        if let Err(error) = result {
            assert!(expected_error_shape(&error), "{what}: {error:?}");
        }
    };
    for value in hostile_values().iter() {
        // Lookups that get through answer with an error document, so nothing waits 45 s.
        let refusing = fake_service(steps(&[step(200, &answer("refused"))]));
        no_trap(Agent::authenticate(value.clone()).map(JsValue::from), "authenticate");
        no_trap(Agent::add_event_listener(value.clone(), value.clone()), "addEventListener");
        no_trap(Agent::add_event_listener("x".into(), value.clone()), "addEventListener handler");
        no_trap(Agent::add_event_listener_all(value.clone()), "addEventListenerAll");
        no_trap(
            Agent::remove_event_listener(value.clone(), value.clone()).map(|_| JsValue::NULL),
            "removeEventListener",
        );
        no_trap(Agent::remove_event_listener_all(value.clone()).map(|_| JsValue::NULL), "removeEventListenerAll");
        no_trap(Agent::close(value.clone()).map(|_| JsValue::NULL), "close");
        no_trap(Agent::set_webserver(value.clone()).map(|_| JsValue::NULL), "webserver");
        no_trap(Agent::set_request_timeout(value.clone()).map(|_| JsValue::NULL), "requestTimeout");
        let promises = [
            Agent::lookup_session(value.clone(), value.clone()),
            Agent::join_session(value.clone(), value.clone()),
            Agent::join_session("4400".into(), value.clone()),
            Agent::open_viewer(value.clone(), value.clone()),
            Agent::open_viewer("4400".into(), value.clone()),
            Agent::open_agent_join_url(value.clone(), value.clone()),
            Agent::in_session(value.clone(), value.clone()),
            Agent::once(value.clone(), value.clone()),
        ];
        for promise in promises {
            if let Err(error) = outcome(&promise, 2000).await {
                assert!(expected_error_shape(&error), "rejected with {error:?}");
            }
        }
        refusing.restore();
        tried += 17;

        // Whatever that did, the agent still works.
        Agent::remove_event_listener_all(value.clone()).ok();
        Agent::remove_event_listener("x".into(), value.clone()).ok();
        Agent::set_webserver(WEBSERVER.into()).unwrap();
        Agent::set_request_timeout(10_000.into()).unwrap();
        let _ = Agent::authenticate(credentials(&key_expiring_in(3600.0))).unwrap();
        let service = fake_service(steps(&[step(200, &answer("found"))]));
        let lookup = outcome(&Agent::lookup_session("4400".into(), false.into()), 2000).await;
        service.restore();
        assert_eq!(text(&lookup.expect("a normal lookup works after a hostile call"), "passcode"), "4400");
    }
    console.restore_console();
    opener.restore_open();
    assert!(tried >= 150, "{tried} hostile calls");
}

#[wasm_bindgen_test]
async fn only_http_urls_open_a_viewer() {
    let _fixture = Fixture::new();
    let opener = fake_open(false);
    for url in
        ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "vbscript:x", "about:blank", "/relative"]
    {
        let result = outcome(&Agent::open_agent_join_url(url.into(), JsValue::UNDEFINED), 1000).await;
        assert_eq!(code(&result.expect_err(url)), "invalid_url", "{url}");
    }
    assert_eq!(opener.open_calls().length(), 0, "nothing opened");
    opener.restore_open();
}

#[wasm_bindgen_test]
async fn post_mode_sends_credentials_in_a_form_never_in_a_url() {
    let fixture = Fixture::new();
    let opener = fake_open(false);
    let viewer = outcome(&Agent::open_viewer("4400".into(), JsValue::UNDEFINED), 1000).await.expect("opened");
    let call = opener.open_calls().get(0);
    let submission = opener.submissions().get(0);
    opener.restore_open();
    let _ = Agent::close(viewer);

    // No URL: a new window starts blank, and a named window already open is not navigated first.
    assert_eq!(text(&call, "url"), "");
    // A name of its own, by which a reloaded console finds it again.
    assert!(text(&call, "name").starts_with("glance-agent-viewer-"), "{}", text(&call, "name"));
    assert!(text(&call, "features").contains("width=800"));
    assert_eq!(text(&submission, "method"), "POST");
    assert_eq!(text(&submission, "action"), "http://glance.test/agentjoin/AgentView.aspx");
    let fields = get(&submission, "fields");
    assert_eq!(text(&fields, "SESSIONKEY"), "4400");
    assert_eq!(text(&fields, "PARTNERID"), "20541");
    assert_eq!(text(&fields, "PARTNERUSERID"), "joe&co");
    assert!(text(&fields, "LOGINKEY").starts_with("$1$"));
    assert!(names(&fixture.events).contains(&"viewerOpened".to_owned()));
}

#[wasm_bindgen_test]
async fn get_mode_puts_the_encoded_parameters_in_the_url() {
    let _fixture = Fixture::new();
    Agent::set_post_parameters_to_viewer(false.into());
    let opener = fake_open(false);
    let params = object(&[("windowName", "agentView".into())]);
    let viewer = outcome(&Agent::open_viewer("44 00".into(), params), 1000).await.expect("opened");
    let call = opener.open_calls().get(0);
    opener.restore_open();
    let _ = Agent::close(viewer);

    let url = text(&call, "url");
    let expected = "http://glance.test/agentjoin/AgentView.aspx?SessionKey=44+00&partnerid=20541&partneruserid=joe%26co&loginkey=%241%24";
    assert!(url.starts_with(expected), "{url}");
    assert_eq!(text(&call, "name"), "agentView");
}

#[wasm_bindgen_test]
async fn a_blocked_popup_fires_popupblocked_and_rejects() {
    let fixture = Fixture::new();
    let opener = fake_open(true);
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    // A key no other test leaves a viewer open for (that viewer would be reused).
    let joined = outcome(&Agent::join_session("4401".into(), JsValue::UNDEFINED), 2000).await;
    service.restore();
    opener.restore_open();

    assert_eq!(code(&joined.expect_err("blocked")), "popup_blocked");
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupFound", "popupblocked"]);
}

#[wasm_bindgen_test]
async fn join_session_resolves_the_viewer_and_closing_it_fires_viewer_closed_once() {
    let fixture = Fixture::new();
    let opener = fake_open(false);
    let service = fake_service(steps(&[step(200, &answer("found"))]));
    let viewer = outcome(&Agent::join_session("4400".into(), JsValue::UNDEFINED), 2000).await.expect("joined");
    service.restore();

    assert_eq!(opener.open_calls().length(), 1, "the waiting window became the viewer");
    let submission = opener.submissions().get(0);
    assert_eq!(text(&submission, "action"), "http://glance.test/agentjoin/AgentView.aspx");
    let fields = get(&submission, "fields");
    assert_eq!((text(&fields, "SESSIONKEY"), text(&fields, "SSNID")), ("4400".to_owned(), "20541.4400.1".to_owned()));
    assert!(text(&fields, "LOGINKEY").starts_with("$1$"), "credentials go to the webserver's own viewer");

    let opened = fixture.events.data("viewerOpened");
    let close: Function = get(&opened, "close").unchecked_into();
    close.call0(&JsValue::NULL).unwrap();
    close.call0(&JsValue::NULL).expect("a second close is harmless");
    Agent::close(viewer).expect("closing a closed viewer is harmless");
    wait(700).await;
    opener.restore_open();
    assert_eq!(names(&fixture.events), ["lookupWaiting", "lookupFound", "viewerOpened", "viewerClosed"]);
}

#[wasm_bindgen_test]
async fn viewer_closed_fires_once_when_the_agent_closes_the_viewer() {
    let fixture = Fixture::new();
    let opener = fake_open(false);
    let viewer = outcome(&Agent::open_viewer("4400".into(), JsValue::UNDEFINED), 1000).await.expect("opened");
    remove_frame(&viewer); // its window now reports `closed`, as a window the agent closed does
    wait(1300).await;
    Agent::close(viewer).expect("harmless after the fact");
    opener.restore_open();
    assert_eq!(names(&fixture.events).iter().filter(|n| *n == "viewerClosed").count(), 1);
    assert!(!names(&fixture.events).contains(&"viewerDetached".to_owned()), "this page sets no opener policy");
}

#[wasm_bindgen_test]
async fn viewer_events_are_dispatched_only_from_the_viewer_on_the_webserver_origin() {
    let fixture = Fixture::new();
    let named = recorder();
    Agent::add_event_listener("videoStarted".into(), named.handler().into()).unwrap();
    let opener = fake_open(false);
    let viewer = outcome(&Agent::open_viewer("4400".into(), JsValue::UNDEFINED), 1000).await.expect("opened");
    let event = |name: &str| object(&[("glanceEvent", name.into()), ("data", object(&[("service", "video".into())]))]);
    let window: JsValue = js_sys::global().into();
    post_message_event(&event("videoStarted"), WEBSERVER, &viewer);
    post_message_event(&event("spoofOrigin"), "http://evil.test", &viewer);
    post_message_event(&event("spoofSource"), WEBSERVER, &window);
    post_message_event(&event("authenticateSucceeded"), WEBSERVER, &viewer);
    for junk in [JsValue::NULL, "videoStarted".into(), 5.into(), Object::new().into()] {
        post_message_event(&junk, WEBSERVER, &viewer);
    }
    post_message_event(&event(&"x".repeat(100_000)), WEBSERVER, &viewer);
    opener.restore_open();
    let _ = Agent::close(viewer);
    Agent::remove_event_listener("videoStarted".into(), named.handler().into()).unwrap();

    let heard: Vec<String> = names(&fixture.events).into_iter().filter(|n| !n.starts_with("viewer")).collect();
    assert_eq!(heard, ["videoStarted"]);
    assert_eq!(names(&named), ["videoStarted"]);
    assert_eq!(text(&named.data("videoStarted"), "service"), "video");
}

#[wasm_bindgen_test]
async fn iframe_mode_loads_the_viewer_in_the_iframe_by_element_or_id() {
    let fixture = Fixture::new();
    let opener = fake_open(false);
    let document = web_sys::window().unwrap().document().unwrap();
    let frame = document.create_element("iframe").unwrap();
    frame.set_id("glance-frame");
    document.body().unwrap().append_child(&frame).unwrap();
    // Each open below is a viewer of its own, not the one already open for the key.
    let params = object(&[("iframe", "glance-frame".into()), ("reuse", false.into())]);
    let viewer = outcome(&Agent::open_viewer("4400".into(), params.clone()), 1000).await.expect("opened");

    assert_eq!(viewer, get(&frame, "contentWindow"), "resolves with the iframe's window");
    assert_eq!(opener.open_calls().length(), 0, "no popup");
    let submission = opener.submissions().get(0);
    // The frame still shows our about:blank, so the form is submitted from the frame's own document.
    assert_eq!(get(&submission, "inPage"), JsValue::FALSE, "submitted in the frame's document");
    assert_eq!(text(&submission, "target"), "");
    assert_eq!(text(&get(&submission, "fields"), "SESSIONKEY"), "4400");

    let detached = document.create_element("iframe").unwrap();
    set(&params, "iframe", &detached);
    let blocked = outcome(&Agent::open_viewer("4400".into(), params.clone()), 1000).await;
    assert_eq!(code(&blocked.expect_err("no window")), "iframe_blocked");
    set(&params, "iframe", &document.body().unwrap());
    let not_frame = outcome(&Agent::open_viewer("4400".into(), params), 1000).await;
    assert_eq!(code(&not_frame.expect_err("not an iframe")), "invalid_argument");

    Agent::close(frame.clone().into()).unwrap();
    assert_eq!(frame.get_attribute("src").as_deref(), Some("about:blank"));
    opener.restore_open();
    frame.remove();
    assert_eq!(names(&fixture.events), ["viewerOpened", "iframeblocked", "viewerClosed"]);
}

#[wasm_bindgen_test]
fn webserver_is_validated_and_normalised() {
    let _fixture = Fixture::new();
    Agent::set_webserver("https://glance.example.com/".into()).unwrap();
    assert_eq!(Agent::webserver(), "https://glance.example.com");
    for bad in
        ["javascript:alert(1)", "ftp://glance.example.com", "glance.example.com", "https://glance.example.com/?x=1"]
    {
        assert_eq!(code(&Agent::set_webserver(bad.into()).expect_err(bad)), "invalid_argument");
    }
    assert_eq!(Agent::webserver(), "https://glance.example.com", "kept after refusals");
    // The browser parses it, so it is written as the browser will write the viewer's origin.
    for (given, written) in
        [("HTTP://127.1:8001/", "http://127.0.0.1:8001"), ("https://[0:0::1]:443/", "https://[::1]")]
    {
        Agent::set_webserver(given.into()).unwrap();
        assert_eq!(Agent::webserver(), written, "{given}");
    }
    for bad in ["https://user:pw@glance.example.com", "https://glance.example.com/#x", "http://"] {
        assert_eq!(code(&Agent::set_webserver(bad.into()).expect_err(bad)), "invalid_argument");
    }
    assert!(Agent::post_parameters_to_viewer());
    assert_eq!(code(&Agent::set_request_timeout(0.into()).expect_err("zero")), "invalid_argument");
}

#[wasm_bindgen_test]
async fn presence_connect_refuses_bad_arguments_and_without_credentials_sends_nothing() {
    let fixture = Fixture::new();
    let service = fake_service(steps(&[step(200, "\"token\"")]));
    let long = "v".repeat(257);
    let refused = [
        Agent::presence_connect(JsValue::UNDEFINED, JsValue::UNDEFINED),
        Agent::presence_connect("".into(), JsValue::UNDEFINED),
        Agent::presence_connect(long.as_str().into(), JsValue::UNDEFINED),
        Agent::presence_connect("v1".into(), "not params".into()),
        Agent::presence_connect("v1".into(), object(&[("timeout", 0.into())])),
        Agent::presence_connect("v1".into(), object(&[("signal", "not a signal".into())])),
    ];
    let mut codes = Vec::new();
    for promise in &refused {
        codes.push(code(&outcome(promise, 1000).await.expect_err("refused")));
    }
    Agent::logout();
    let anonymous = outcome(&Agent::presence_connect("v1".into(), JsValue::UNDEFINED), 1000).await;
    let start =
        outcome(&Agent::presence_start_session(JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED), 1000).await;
    service.restore();

    assert_eq!(codes, ["invalid_argument"; 6]);
    assert_eq!(code(&anonymous.expect_err("no credentials")), "not_authenticated");
    assert_eq!(code(&start.expect_err("not connected")), "visitor_not_present");
    assert_eq!(service.calls().length(), 0, "no request");
    assert_eq!(names(&fixture.events), ["presenceFailed"]);
    assert_eq!(text(&fixture.events.data("presenceFailed"), "service"), "presence");
    assert_eq!(Agent::presence_state(), "idle");
}

#[wasm_bindgen_test]
async fn presence_off_for_the_group_fails_the_connect_after_reading_the_settings() {
    let fixture = Fixture::new();
    let token = r#"{"authToken":"tok-1","authTokeExp":"2099-01-01T00:00:00Z"}"#;
    let service = fake_service(steps(&[step(200, token), step(200, r#"<string>{"presenceUrl":""}</string>"#)]));
    let connected = outcome(&Agent::presence_connect("v1".into(), JsValue::UNDEFINED), 2000).await;
    service.restore();

    assert_eq!(code(&connected.expect_err("presence is off")), "service_unavailable");
    let calls = service.calls();
    assert_eq!(calls.length(), 2);
    let authorize = calls.get(0);
    assert_eq!(
        text(&authorize, "url"),
        "http://glance.test/services/AuthorizationService.svc/rest/Authorize?groupid=20541&service=presence&duration=120&site=production"
    );
    assert_eq!(text(&authorize, "contentType"), "application/json; charset=utf-8");
    let body = js_sys::JSON::parse(&text(&authorize, "body")).unwrap();
    assert_eq!(get(&body, "partnerid").as_f64(), Some(20541.0));
    assert_eq!(text(&body, "partneruserid"), "joe&co");
    assert!(text(&calls.get(1), "url")
        .starts_with("http://glance.test/services/authorizationservice/GetVisitorSettings3?groupid=20541"));
    assert_eq!(names(&fixture.events), ["presenceAuthorized", "presenceFailed"]);
    assert_eq!(Agent::presence_state(), "idle");
}

#[wasm_bindgen_test]
async fn an_absent_visitor_is_looked_for_again_with_the_token_until_disconnect() {
    let fixture = Fixture::new();
    let timers = fast_timers(50);
    let service = fake_service(steps(&[
        step(200, "\"tok-2\""),
        step(200, r#"{"presenceUrl":"glance.test","isPresenceLoadBalanced":false}"#),
        step(200, r#"{"visitorfound":false}"#),
    ]));
    let connected = Agent::presence_connect("a&b #+c".into(), JsValue::UNDEFINED);
    wait(400).await;
    let state = Agent::presence_state();
    Agent::presence_disconnect();
    let settled = outcome(&connected, 1000).await;
    let looked = service.calls().length();
    wait(200).await;
    timers.restore_timers();
    service.restore();

    assert_eq!(state, "connected", "watching the absent visitor, not reconnecting");
    assert!(looked >= 4, "findvisitor asked {} times", looked - 2);
    assert_eq!(service.calls().length(), looked, "nothing after presenceDisconnect");
    let find = service.calls().get(2);
    assert_eq!(text(&find, "url"), "http://glance.test/findvisitor?groupid=20541&visitorid=a%26b+%23%2Bc&ver=6.25.0");
    assert_eq!(text(&find, "authorization"), "Bearer tok-2");
    assert_eq!(code(&settled.expect_err("disconnected")), "canceled");
    // (A viewer an earlier test opened may close meanwhile: only presence events are counted.)
    let presence: Vec<String> =
        names(&fixture.events).into_iter().filter(|name| name.starts_with("presence")).collect();
    assert_eq!(presence, ["presenceAuthorized", "presenceDisconnected"]);
    assert_eq!(Agent::presence_state(), "idle");
}
