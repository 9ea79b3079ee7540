//! What goes over the wire (PROTOCOL.md sections 2 and 3): the lookup request, how its answer is read,
//! and the viewer's URL (GET) or form (POST).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::credentials::Credentials;
use crate::encoding::{encode_pairs, integer_text, parse_query, push_component, push_decimal};
use crate::error::{shorten_reason, AgentError};
use crate::events::AGENT_SERVICE;
use crate::no_panic::find_byte;
use crate::url::{HttpUrl, Webserver};

/// `GLANCE.Agent.webserver` until the page sets another.
pub const DEFAULT_WEBSERVER: &str = "https://www.glance.net";
/// The session lookup service, below the webserver.
pub const LOOKUP_PATH: &str = "/services/SessionService.asmx/LookupPartnerSession2";
/// The agent viewer page, below the webserver.
pub const VIEWER_PATH: &str = "/agentjoin/AgentView.aspx";
/// The agent's sessions (section 5).
pub const IN_SESSION_PATH: &str = "/services/SessionService.asmx/AgentInSession";
/// The viewer window's default name.
pub const DEFAULT_WINDOW_NAME: &str = "_blank";
/// The viewer window's default features: 800×800, no location, menu, title, status or tool bars.
pub const DEFAULT_WINDOW_FEATURES: &str =
    "location=no,menubar=0,titlebar=0,status=0,toolbar=0,height=800,width=800,top=10,left=10,scrollbars=1,resizable=1";
/// Elements of a found session copied onto the lookup result, in this order.
pub const RESULT_FIELDS: [&str; 11] = [
    "id",
    "ssnid",
    "serverip",
    "servername",
    "personid",
    "groupid",
    "passcode",
    "agentjoinurl",
    "clientjoinurl",
    "calltype",
    "visitorversion",
];
/// Longest session key accepted.
pub const MAX_SESSION_KEY_LEN: usize = 256;

/// What a malformed session key is told.
pub const SESSION_KEY_RULE: &str = "the session key must be 1 to 256 characters or a whole number";

/// A session key as the agent typed it: surrounding whitespace dropped, then 1 to 256 printable characters.
pub fn session_key(text: &str) -> Result<String, AgentError> {
    let key = text.trim_ascii();
    if key.is_empty() || key.len() > MAX_SESSION_KEY_LEN || key.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(AgentError::InvalidArgument(SESSION_KEY_RULE));
    }
    Ok(key.to_owned())
}

/// A session key given as a JavaScript number: a non-negative integer.
pub fn session_key_from_number(n: f64) -> Result<String, AgentError> {
    integer_text(n).ok_or(AgentError::InvalidArgument(SESSION_KEY_RULE))
}

/// One `POST` to the lookup service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// `W` + [`LOOKUP_PATH`].
    pub url: String,
    /// `partnerid=…&partneruserid=…&loginkey=…&ssnkey=…`, percent-encoded.
    pub body: String,
}

impl LookupRequest {
    /// The request to the service's `path` (from `W`) about `key` with `credentials`: a lookup
    /// ([`LOOKUP_PATH`]) or `AgentInSession` ([`IN_SESSION_PATH`], where an empty key asks for every session).
    pub fn new(path: &str, webserver: &Webserver, credentials: &Credentials, key: &str) -> LookupRequest {
        let [pid, puid, login_key] = credentials.fields();
        LookupRequest { url: webserver.join(path), body: encode_pairs([pid, puid, login_key, ("ssnkey", key)]) }
    }
}

/// What `openViewer(key)` opens, as a join URL: `W/agentjoin/AgentView.aspx?SessionKey=<key>`.
pub fn session_viewer_url(webserver: &Webserver, key: &str) -> String {
    let mut url = webserver.join(VIEWER_PATH);
    url.push_str("?SessionKey=");
    push_component(&mut url, key);
    url
}

/// The agent's viewer parameters (section 3), as `params` names them: the first [`VIEWER_FLAG_COUNT`]
/// are flags, sent as `1` or `0`; the others are text stored on the viewer record.
pub const VIEWER_PARAMS: [&str; 5] = ["wait", "agentVideo", "name", "email", "phone"];
/// How many of [`VIEWER_PARAMS`] are flags.
pub const VIEWER_FLAG_COUNT: usize = 2;
/// The fields of `params` the module reads in one call (space-separated): where and how to open the
/// viewer, then [`VIEWER_PARAMS`] from [`FIRST_VIEWER_PARAM`] on.
pub const OPTION_FIELDS: &str = "windowName windowFeatures iframe reuse wait agentVideo name email phone";
/// Where [`VIEWER_PARAMS`] start in [`OPTION_FIELDS`].
pub const FIRST_VIEWER_PARAM: usize = 4;

/// A parsed answer body, as far as the lookup needs it. The browser implements it with `DOMParser`.
pub trait AnswerDocument {
    /// False when the body was not XML.
    fn is_xml(&self) -> bool;
    /// The text of the first element with this local name, in any namespace.
    fn element_text(&self, tag: &str) -> Option<String>;
}

/// What one lookup attempt learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The session is running: [`RESULT_FIELDS`] (missing ones empty), then `service: "agent"`.
    Found(Vec<(&'static str, String)>),
    /// The service knows no such session yet.
    NotFound,
    /// Anything else. `transient` failures are retried while waiting; the others end the lookup.
    Failed {
        /// The response text, or the error's message where there is none.
        reason: String,
        /// Network error, request timeout, HTTP 5xx, 408 or 429.
        transient: bool,
    },
}

impl Answer {
    /// A request that never got an answer: network error or timeout.
    pub fn unreachable(message: &str) -> Answer {
        let reason = shorten_reason(message);
        let reason = if reason.is_empty() { "network error".to_owned() } else { reason };
        Answer::Failed { reason, transient: true }
    }

    /// Reads an HTTP answer. `parse` is called only for a 2xx status.
    pub fn from_response<D: AnswerDocument>(status: u16, body: &str, parse: impl FnOnce(&str) -> D) -> Answer {
        if !(200..300).contains(&status) {
            let transient = status >= 500 || status == 408 || status == 429;
            let mut reason = shorten_reason(body);
            if reason.is_empty() {
                reason.push_str("HTTP ");
                push_decimal(&mut reason, u64::from(status));
            }
            return Answer::Failed { reason, transient };
        }
        let document = parse(body);
        let refused = || Answer::Failed { reason: shorten_reason(body), transient: false };
        if !document.is_xml() {
            return refused();
        }
        let has_join_url = document.element_text("agentjoinurl").is_some_and(|url| !url.trim_ascii().is_empty());
        if has_join_url {
            let mut fields: Vec<(&'static str, String)> = RESULT_FIELDS
                .iter()
                .map(|&tag| {
                    (tag, document.element_text(tag).map(|text| text.trim_ascii().to_owned()).unwrap_or_default())
                })
                .collect();
            fields.push(("service", AGENT_SERVICE.to_owned()));
            return Answer::Found(fields);
        }
        match document.element_text("id") {
            Some(id) if id.trim_ascii() == "0" => Answer::NotFound,
            _ => refused(),
        }
    }
}

/// Where the viewer goes and with which parameters; opened by GET (a URL) or POST (a form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerTarget {
    /// The URL as given, without fragment.
    href: String,
    /// The URL without query and fragment: the form's `action`.
    action: String,
    fragment: String,
    /// The URL's own query parameters, decoded.
    query: Vec<(String, String)>,
    /// Parameters the library adds: the session key, the credentials.
    added: Vec<(&'static str, String)>,
    /// The URL is on the webserver's origin: only then does the agent's own data go with it.
    own_origin: bool,
}

impl ViewerTarget {
    /// What `openAgentJoinURL(url)` opens. Only http(s) URLs; credentials are added only when the URL
    /// is on the webserver's origin (a login key is never handed to another site) and not already there.
    pub fn for_join_url(
        webserver: &Webserver,
        text: &str,
        credentials: Option<&Credentials>,
    ) -> Result<ViewerTarget, AgentError> {
        ViewerTarget::for_url(webserver, HttpUrl::parse(text), credentials, parse_query)
    }

    /// [`ViewerTarget::for_join_url`] of a URL already parsed (`None`: it was not an http(s) URL), its
    /// query decoded by `decode_query` ([`parse_query`]; the module lets the browser decode it).
    pub fn for_url(
        webserver: &Webserver,
        url: Option<HttpUrl>,
        credentials: Option<&Credentials>,
        decode_query: impl FnOnce(&str) -> Vec<(String, String)>,
    ) -> Result<ViewerTarget, AgentError> {
        let url = url.ok_or(AgentError::InvalidUrl)?;
        let query = decode_query(url.query());
        let mut added = Vec::new();
        let own_origin = url.origin() == webserver.origin();
        if let Some(credentials) = credentials.filter(|_| own_origin) {
            for (name, value) in credentials.fields() {
                if !query.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)) {
                    added.push((name, value.to_owned()));
                }
            }
        }
        let fragment = url.fragment().to_owned();
        let href = url.href();
        let href = href.get(..href.len() - fragment.len()).unwrap_or_default().to_owned();
        Ok(ViewerTarget { href, action: url.without_query(), fragment, query, added, own_origin })
    }

    /// Adds the agent's viewer parameters, except those the URL already has; none to a URL on another
    /// origin than the webserver's (the agent's name, e-mail and phone are not for other sites).
    pub fn add_params(&mut self, params: &[(&'static str, String)]) {
        for (name, value) in params.iter().filter(|_| self.own_origin) {
            if !self.query.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)) {
                self.added.push((name, value.clone()));
            }
        }
    }

    /// The GET form: the URL with the added parameters appended to its query.
    pub fn get_url(&self) -> String {
        let mut url = self.href.clone();
        for (name, value) in &self.added {
            if find_byte(&url, |b| b == b'?').is_none() {
                url.push('?');
            } else if !url.ends_with(['?', '&']) {
                url.push('&');
            }
            push_component(&mut url, name);
            url.push('=');
            push_component(&mut url, value);
        }
        url.push_str(&self.fragment);
        url
    }

    /// The POST form's `action`.
    pub fn post_action(&self) -> &str {
        &self.action
    }

    /// The POST form's hidden fields as a form body (what the page's form helper takes apart).
    pub fn post_body(&self) -> String {
        let fields = self.post_fields();
        encode_pairs(fields.iter().map(|(name, value)| (name.as_str(), value.as_str())))
    }

    /// The POST form's hidden fields: the URL's query parameters, then the added ones; names upper-cased.
    pub fn post_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::with_capacity(self.query.len() + self.added.len());
        for (name, value) in &self.query {
            fields.push((name.to_ascii_uppercase(), value.clone()));
        }
        for (name, value) in &self.added {
            fields.push((name.to_ascii_uppercase(), value.clone()));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::PartnerIdInput;
    use std::prelude::rust_2021::*;

    const KEY: &str = "$1$1700000000$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";

    fn credentials() -> Credentials {
        Credentials::new(Some(KEY.into()), PartnerIdInput::Number(20541.0), Some("joe&co=1".into())).unwrap()
    }

    fn glance() -> Webserver {
        Webserver::parse(DEFAULT_WEBSERVER).unwrap()
    }

    /// What `openViewer(key)` opens.
    fn for_session_key(key: &str, credentials: Option<&Credentials>) -> ViewerTarget {
        ViewerTarget::for_join_url(&glance(), &session_viewer_url(&glance(), key), credentials).unwrap()
    }

    /// An XML document reduced to tag → text, or a body that was not XML.
    struct FakeDocument(Option<Vec<(&'static str, &'static str)>>);

    impl AnswerDocument for FakeDocument {
        fn is_xml(&self) -> bool {
            self.0.is_some()
        }
        fn element_text(&self, tag: &str) -> Option<String> {
            self.0.as_ref()?.iter().find(|(name, _)| *name == tag).map(|(_, text)| (*text).to_owned())
        }
    }

    fn answer(status: u16, body: &str, elements: Option<Vec<(&'static str, &'static str)>>) -> Answer {
        Answer::from_response(status, body, |_| FakeDocument(elements))
    }

    #[test]
    fn in_session_request_has_the_lookup_fields_and_may_leave_the_key_empty() {
        let request = LookupRequest::new(IN_SESSION_PATH, &glance(), &credentials(), "");
        assert_eq!(request.url, "https://www.glance.net/services/SessionService.asmx/AgentInSession");
        assert!(request.body.starts_with("partnerid=20541&partneruserid=joe%26co%3D1&loginkey=%241%24"));
        assert!(request.body.ends_with("&ssnkey="));
    }

    #[test]
    fn option_fields_end_with_the_viewer_params() {
        let fields: Vec<&str> = OPTION_FIELDS.split(' ').collect();
        assert_eq!(fields.get(FIRST_VIEWER_PARAM..), Some(&VIEWER_PARAMS[..]));
    }

    #[test]
    fn viewer_params_reach_both_forms_unless_the_url_has_them() {
        let params = [("wait", "0".to_owned()), ("agentVideo", "1".to_owned()), ("name", "Jo Agent".to_owned())];
        let mut target = for_session_key("12", None);
        target.add_params(&params);
        assert_eq!(
            target.get_url(),
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=12&wait=0&agentVideo=1&name=Jo%20Agent"
        );
        let mut joined =
            ViewerTarget::for_join_url(&glance(), "https://www.glance.net/agentjoin/AgentView.aspx?WAIT=1", None)
                .unwrap();
        joined.add_params(&params);
        let names: Vec<String> = joined.post_fields().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["WAIT", "AGENTVIDEO", "NAME"], "the URL's own WAIT wins");
        let mut elsewhere = ViewerTarget::for_join_url(&glance(), "https://other.example/view?k=1", None).unwrap();
        elsewhere.add_params(&params);
        assert_eq!(elsewhere.get_url(), "https://other.example/view?k=1", "not sent to another site");
    }

    #[test]
    fn lookup_request_percent_encodes_every_value() {
        let request = LookupRequest::new(LOOKUP_PATH, &glance(), &credentials(), "12 34&x");
        assert_eq!(request.url, "https://www.glance.net/services/SessionService.asmx/LookupPartnerSession2");
        assert_eq!(
            request.body,
            "partnerid=20541&partneruserid=joe%26co%3D1\
             &loginkey=%241%241700000000%24abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_&ssnkey=12%2034%26x"
        );
    }

    #[test]
    fn a_found_session_maps_every_field_and_blanks_missing_ones() {
        let found = answer(
            200,
            "<SessionInfo>…</SessionInfo>",
            Some(vec![
                ("id", "1"),
                ("agentjoinurl", " https://www.glance.net/agentjoin/AgentView.aspx?x=1 "),
                ("calltype", "C"),
            ]),
        );
        let Answer::Found(fields) = found else { std::panic!("expected Found, got {found:?}") };
        let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [&RESULT_FIELDS[..], &["service"]].concat());
        let get = |name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("agentjoinurl"), Some("https://www.glance.net/agentjoin/AgentView.aspx?x=1"));
        assert_eq!(get("calltype"), Some("C"));
        assert_eq!(get("visitorversion"), Some(""));
        assert_eq!(get("service"), Some("agent"));
    }

    #[test]
    fn id_zero_without_join_url_is_not_found() {
        assert_eq!(answer(200, "<x/>", Some(vec![("id", " 0 ")])), Answer::NotFound);
        assert_eq!(answer(200, "<x/>", Some(vec![("id", "0"), ("agentjoinurl", "  ")])), Answer::NotFound);
    }

    #[test]
    fn other_documents_end_the_lookup_with_the_text_as_reason() {
        let refused = |reason: &str| Answer::Failed { reason: reason.to_owned(), transient: false };
        assert_eq!(
            answer(200, "<Error>Invalid login key</Error>", Some(vec![])),
            refused("<Error>Invalid login key</Error>")
        );
        assert_eq!(answer(200, "<x><id>5</id></x>", Some(vec![("id", "5")])), refused("<x><id>5</id></x>"));
        assert_eq!(answer(200, "not xml at all", None), refused("not xml at all"));
        assert_eq!(answer(403, "Forbidden partner", None), refused("Forbidden partner"));
        assert_eq!(answer(404, "", None), refused("HTTP 404"));
    }

    #[test]
    fn server_trouble_is_transient() {
        let transient = |reason: &str| Answer::Failed { reason: reason.to_owned(), transient: true };
        assert_eq!(answer(500, "Server Error", None), transient("Server Error"));
        assert_eq!(answer(503, "", None), transient("HTTP 503"));
        assert_eq!(answer(429, "slow down", None), transient("slow down"));
        assert_eq!(Answer::unreachable("Failed to fetch"), transient("Failed to fetch"));
        assert_eq!(Answer::unreachable(""), transient("network error"));
    }

    #[test]
    fn the_body_is_parsed_only_on_success() {
        let mut parsed = false;
        Answer::from_response(500, "x", |_| {
            parsed = true;
            FakeDocument(None)
        });
        assert!(!parsed);
    }

    #[test]
    fn session_keys_are_trimmed_and_bounded() {
        assert_eq!(session_key(" 1234 "), Ok("1234".to_owned()));
        assert_eq!(session_key("1498V231480"), Ok("1498V231480".to_owned()));
        for bad in ["", "   ", "12\n34", &"9".repeat(MAX_SESSION_KEY_LEN + 1)] {
            assert_eq!(session_key(bad).map_err(|e| e.code()), Err("invalid_argument"));
        }
        assert_eq!(session_key_from_number(4400.0), Ok("4400".to_owned()));
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e300] {
            assert!(session_key_from_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_viewer_get_url_is_the_documented_one_with_encoded_values() {
        let target = for_session_key("12 34", Some(&credentials()));
        assert_eq!(
            target.get_url(),
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=12%2034&partnerid=20541\
             &partneruserid=joe%26co%3D1&loginkey=%241%241700000000%24abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_"
        );
        let anonymous = for_session_key("1234", None);
        assert_eq!(anonymous.get_url(), "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=1234");
    }

    #[test]
    fn open_viewer_post_form_upper_cases_names_and_keeps_values_raw() {
        let target = for_session_key("12 34", Some(&credentials()));
        assert_eq!(target.post_action(), "https://www.glance.net/agentjoin/AgentView.aspx");
        assert_eq!(
            target.post_fields(),
            [
                ("SESSIONKEY".to_owned(), "12 34".to_owned()),
                ("PARTNERID".to_owned(), "20541".to_owned()),
                ("PARTNERUSERID".to_owned(), "joe&co=1".to_owned()),
                ("LOGINKEY".to_owned(), KEY.to_owned()),
            ]
        );
    }

    #[test]
    fn join_url_query_moves_into_the_form() {
        let url = "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=4400&ssnid=1%2E2+3#view";
        let target = ViewerTarget::for_join_url(&glance(), url, Some(&credentials())).unwrap();
        assert_eq!(target.post_action(), "https://www.glance.net/agentjoin/AgentView.aspx");
        let fields = target.post_fields();
        let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["SESSIONKEY", "SSNID", "PARTNERID", "PARTNERUSERID", "LOGINKEY"]);
        assert_eq!(fields[1].1, "1.2 3");
        assert_eq!(
            target.get_url(),
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=4400&ssnid=1%2E2+3&partnerid=20541\
             &partneruserid=joe%26co%3D1&loginkey=%241%241700000000%24abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_#view"
        );
    }

    #[test]
    fn join_url_keeps_credentials_it_already_has() {
        let url = "https://www.glance.net/v?PartnerId=9&";
        let target = ViewerTarget::for_join_url(&glance(), url, Some(&credentials())).unwrap();
        let names: Vec<String> = target.post_fields().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["PARTNERID", "PARTNERUSERID", "LOGINKEY"]);
        assert!(target.get_url().starts_with("https://www.glance.net/v?PartnerId=9&partneruserid="));
    }

    #[test]
    fn credentials_never_go_to_another_origin() {
        for url in [
            "https://evil.example/agentjoin/AgentView.aspx?SessionKey=1",
            "http://www.glance.net/x",
            "https://www.glance.net:8443/x",
        ] {
            let target = ViewerTarget::for_join_url(&glance(), url, Some(&credentials())).unwrap();
            assert!(!target.get_url().contains("loginkey"), "{url}");
            assert!(target.post_fields().iter().all(|(name, _)| name != "LOGINKEY"), "{url}");
        }
    }

    #[test]
    fn only_http_join_urls_are_accepted() {
        for bad in [
            "javascript:alert(document.cookie)",
            " JAVASCRIPT:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
            "",
            "/agentjoin",
        ] {
            assert_eq!(
                ViewerTarget::for_join_url(&glance(), bad, None).map_err(|e| e.code()),
                Err("invalid_url"),
                "{bad}"
            );
        }
    }
}
