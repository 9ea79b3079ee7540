//! `diagnose()`: each probe in turn, then one report.

use super::sim::Sim;
use crate::agent::{Call, Input, Value};

#[test]
fn a_healthy_page_gets_a_report_that_is_ok() {
    let mut sim = Sim::new();
    let call = sim.call(Call::Diagnose { popup: Some(true), page_origin: "https://console.test".into() });
    sim.answer("AgentInSession", 405, "");
    // The opener policy is read (no viewer has read it yet).
    sim.answer("console.test", 200, "");
    let (&frame, url) = sim.frames.iter().next().expect("the framing probe");
    assert_eq!(url, "https://glance.test/agentjoin/AgentView.aspx");
    sim.input(Input::FrameLoaded(frame));
    sim.advance(50);
    let Some(Ok(Value::Report(report))) = sim.outcome(call) else { panic!("{:?}", sim.outcome(call)) };
    assert!(report.ok, "{report:?}");
    assert_eq!(report.webserver.detail, "HTTP 405 from https://glance.test");
    assert_eq!(report.credentials.detail, "the login key expires in 3600 s");
    assert!(sim.frames.is_empty(), "the probe frame is removed");
}

#[test]
fn cors_refusal_and_a_csp_that_forbids_framing_are_named() {
    let mut sim = Sim::anonymous();
    let call = sim.call(Call::Diagnose { popup: None, page_origin: "https://console.test".into() });
    sim.fail("AgentInSession", "Failed to fetch");
    let (_, opaque) = sim.request("AgentInSession").expect("a no-CORS retry");
    assert_eq!(opaque.mode, crate::agent::Mode::NoCors);
    sim.answer("AgentInSession", 0, "");
    sim.answer("console.test", 200, "same-origin");
    let frame = *sim.frames.keys().next().expect("probe");
    sim.input(Input::Violation { id: frame, blocked: "https://glance.test".into(), directive: "frame-src".into() });
    let Some(Ok(Value::Report(report))) = sim.outcome(call) else { panic!() };
    assert!(!report.ok);
    assert!(report.webserver.detail.contains("ask Glance to allow https://console.test"), "{report:?}");
    assert_eq!(report.credentials.ok, Some(false));
    assert_eq!(report.popups.ok, None, "not tried outside a click");
    assert_eq!(report.opener.ok, Some(false));
    assert!(report.framing.detail.contains("(frame-src)"));
}

#[test]
fn a_probe_frame_that_never_loads_is_not_judged() {
    let mut sim = Sim::new();
    let call = sim.call(Call::Diagnose { popup: None, page_origin: "o".into() });
    sim.answer("AgentInSession", 200, "");
    sim.answer("console.test", 200, "");
    sim.advance(5000);
    let Some(Ok(Value::Report(report))) = sim.outcome(call) else { panic!() };
    assert_eq!(report.framing.ok, None);
}
