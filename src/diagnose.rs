//! What `diagnose()` concludes from its probes: a report a console can show the agent before the
//! customer is on the line. The probes touch the page (`browser::diagnose`); the judgement is here.

use crate::text::{decimal, signed_decimal};

/// One check: `ok` is `None` (JavaScript `null`) when it could not be made here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Passed, failed, or not tried.
    pub ok: Option<bool>,
    /// What was found, for people.
    pub detail: String,
}

impl Check {
    fn new(ok: Option<bool>, detail: impl Into<String>) -> Check {
        Check { ok, detail: detail.into() }
    }
}

/// The report `diagnose()` resolves to; `ok` is false when any check is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The webserver answers this page, CORS included.
    pub webserver: Check,
    /// A login key is held and unexpired, or `getLoginKey` gave one.
    pub credentials: Check,
    /// A popup opened (tried only inside a user gesture).
    pub popups: Check,
    /// A viewer window could report back to this page.
    pub opener: Check,
    /// This page's Content-Security-Policy lets it frame the viewer.
    pub framing: Check,
    /// No check failed.
    pub ok: bool,
}

impl Report {
    /// The report of these checks.
    pub fn new(webserver: Check, credentials: Check, popups: Check, opener: Check, framing: Check) -> Report {
        let ok = [&webserver, &credentials, &popups, &opener, &framing].iter().all(|check| check.ok != Some(false));
        Report { webserver, credentials, popups, opener, framing, ok }
    }
}

// As maps, in the order a page reads them: a serializer that makes plain objects of maps (the
// browser layer's) needs no table of field names.
impl serde::Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("ok", &self.ok)?;
        map.serialize_entry("detail", &self.detail)?;
        map.end()
    }
}

impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let checks = [
            ("webserver", &self.webserver),
            ("credentials", &self.credentials),
            ("popups", &self.popups),
            ("opener", &self.opener),
            ("framing", &self.framing),
        ];
        let mut map = serializer.serialize_map(Some(checks.len() + 1))?;
        for (name, check) in checks {
            map.serialize_entry(name, check)?;
        }
        map.serialize_entry("ok", &self.ok)?;
        map.end()
    }
}

/// How the webserver answered a POST from this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// It answered, with this HTTP status.
    Answered(u16),
    /// A CORS request failed but a no-CORS one got through: the server does not allow this origin.
    NotAllowed,
    /// Neither got through: the message of the failure.
    Unreachable(String),
    /// No answer within `requestTimeout`.
    TimedOut,
}

/// Judges the webserver probe (`page_origin`: the console's own origin, named in the advice).
pub fn webserver(webserver: &str, reach: &Reach, page_origin: &str) -> Check {
    match reach {
        Reach::Answered(status) => Check::new(
            Some(*status < 500),
            crate::text::concat(&["HTTP ", &decimal(u64::from(*status)), " from ", webserver]),
        ),
        Reach::NotAllowed => Check::new(
            Some(false),
            crate::text::concat(&[
                webserver,
                " answers, but not to this origin (CORS): ask Glance to allow ",
                page_origin,
            ]),
        ),
        Reach::Unreachable(message) => {
            Check::new(Some(false), crate::text::concat(&[webserver, " cannot be reached: ", message]))
        }
        Reach::TimedOut => {
            Check::new(Some(false), crate::text::concat(&[webserver, " cannot be reached: no answer in time"]))
        }
    }
}

/// What the agent's sign-in holds at the time of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Neither credentials nor a `getLoginKey`.
    None,
    /// A login key that expires in this many seconds (negative: expired that long ago).
    Key {
        /// Seconds until expiry.
        expires_in: i64,
        /// The key came from `getLoginKey`.
        renewing: bool,
    },
    /// `getLoginKey` was asked for a key and failed: why.
    RenewalFailed(String),
}

/// Judges the credentials.
pub fn credentials(state: &Credentials) -> Check {
    match state {
        Credentials::None => Check::new(Some(false), "not authenticated"),
        Credentials::Key { expires_in, .. } if *expires_in <= 0 => Check::new(Some(false), "the login key has expired"),
        Credentials::Key { expires_in, renewing: false } => Check::new(
            Some(true),
            crate::text::concat(&["the login key expires in ", &signed_decimal(*expires_in), " s"]),
        ),
        Credentials::Key { expires_in, renewing: true } => {
            let expires_in = signed_decimal(*expires_in);
            Check::new(
                Some(true),
                crate::text::concat(&["getLoginKey gave a login key that expires in ", &expires_in, " s"]),
            )
        }
        Credentials::RenewalFailed(reason) => {
            Check::new(Some(false), crate::text::concat(&["getLoginKey failed: ", reason]))
        }
    }
}

/// Judges the popup trial: `None` when `diagnose()` was not called inside a user gesture.
pub fn popups(opened: Option<bool>) -> Check {
    match opened {
        None => Check::new(None, "not tried: call diagnose() from a click to try opening a popup"),
        Some(true) => Check::new(Some(true), "a popup opened"),
        Some(false) => Check::new(Some(false), "the browser blocked a popup"),
    }
}

/// Judges whether a viewer window could report back: `severs` when the page's
/// `Cross-Origin-Opener-Policy` (or cross-origin isolation) cuts it off from windows it opens.
pub fn opener(severs: bool) -> Check {
    if severs {
        Check::new(
            Some(false),
            "this page sets Cross-Origin-Opener-Policy: a viewer window cannot report back to it; use an iframe \
             viewer, or serve the page with same-origin-allow-popups",
        )
    } else {
        Check::new(Some(true), "a viewer window can report to this page")
    }
}

/// What happened to a hidden frame on the viewer page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// It loaded without a Content-Security-Policy violation.
    Allowed,
    /// This page's Content-Security-Policy forbade it: the directive.
    Forbidden(String),
    /// It did not load in time.
    NoLoad,
}

/// Judges the framing probe.
pub fn framing(result: &Framing) -> Check {
    match result {
        Framing::Allowed => Check::new(Some(true), "this page's Content-Security-Policy allows framing the viewer"),
        Framing::Forbidden(directive) => Check::new(
            Some(false),
            crate::text::concat(&["this page's Content-Security-Policy (", directive, ") forbids framing the viewer"]),
        ),
        Framing::NoLoad => Check::new(None, "the viewer page did not load within 5 s"),
    }
}

/// How long the framing probe waits for the viewer page.
pub const FRAME_PROBE_MS: u32 = 5_000;
/// How long after the frame's `load` a Content-Security-Policy violation may still be reported.
pub const FRAME_SETTLE_MS: u32 = 50;

/// Whether a `Cross-Origin-Opener-Policy` header value cuts the page off from cross-origin windows it
/// opens: `same-origin` does (and `same-origin-allow-popups` does not, as its name says).
pub fn policy_severs_popups(header: &str) -> bool {
    crate::text::before(header, b';').trim().eq_ignore_ascii_case("same-origin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_ok_unless_a_check_failed() {
        let pass = || Check::new(Some(true), "");
        assert!(Report::new(pass(), pass(), popups(None), pass(), framing(&Framing::NoLoad)).ok);
        assert!(!Report::new(pass(), credentials(&Credentials::None), pass(), pass(), pass()).ok);
    }

    #[test]
    fn webserver_advice_names_the_cause() {
        let check = webserver("https://w.example", &Reach::NotAllowed, "https://crm.example");
        assert_eq!(check.ok, Some(false));
        assert!(check.detail.contains("ask Glance to allow https://crm.example"));
        assert_eq!(webserver("https://w", &Reach::Answered(405), "o").ok, Some(true));
        assert_eq!(webserver("https://w", &Reach::Answered(502), "o").ok, Some(false));
        assert!(webserver("https://w", &Reach::Unreachable("Failed to fetch".into()), "o")
            .detail
            .contains("cannot be reached"));
    }

    #[test]
    fn credentials_are_judged_by_state_not_by_a_missing_number() {
        assert_eq!(credentials(&Credentials::None).detail, "not authenticated");
        assert_eq!(
            credentials(&Credentials::Key { expires_in: 0, renewing: false }).detail,
            "the login key has expired"
        );
        let held = credentials(&Credentials::Key { expires_in: 3599, renewing: false });
        assert_eq!((held.ok, held.detail.as_str()), (Some(true), "the login key expires in 3599 s"));
        let renewed = credentials(&Credentials::Key { expires_in: 30, renewing: true });
        assert!(renewed.detail.starts_with("getLoginKey gave"));
        let failed = credentials(&Credentials::RenewalFailed("key server down".into()));
        assert_eq!((failed.ok, failed.detail.as_str()), (Some(false), "getLoginKey failed: key server down"));
    }

    #[test]
    fn opener_policies_that_sever_popups() {
        assert!(policy_severs_popups("same-origin"));
        assert!(policy_severs_popups(" Same-Origin ; report-to=\"x\""));
        assert!(!policy_severs_popups("same-origin-allow-popups"));
        assert!(!policy_severs_popups("unsafe-none"));
        assert!(!policy_severs_popups("noopener-allow-popups"));
        assert!(!policy_severs_popups(""));
        assert!(opener(true).detail.contains("iframe"));
    }
}
