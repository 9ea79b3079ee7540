//! What goes over the wire to the Glance web server (PROTOCOL.md sections 2, 3 and 5): the form
//! requests, how their answers are read, and the viewer's URL (GET) or form (POST).

use crate::json::Writer;

use crate::credentials::{safe_integer, Credentials, SsoHint};
use crate::error::{shorten_reason, AgentError};
use crate::events::AGENT_SERVICE;
use crate::url::{HttpUrl, Webserver};
use crate::xml::{XmlDocument, XmlElement};

/// The session lookup service, below the webserver.
pub const LOOKUP_PATH: &str = "/services/SessionService.asmx/LookupPartnerSession2";
/// The agent's sessions (section 5), below the webserver.
pub const IN_SESSION_PATH: &str = "/services/SessionService.asmx/AgentInSession";
/// The agent viewer page, below the webserver.
pub const VIEWER_PATH: &str = "/agentjoin/AgentView.aspx";
/// The content type of every form request: a CORS "simple request", no preflight.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The viewer window's default name.
pub const DEFAULT_WINDOW_NAME: &str = "_blank";
/// The viewer window's default features: 800×800, no location, menu, title, status or tool bars.
pub const DEFAULT_WINDOW_FEATURES: &str =
    "location=no,menubar=0,titlebar=0,status=0,toolbar=0,height=800,width=800,top=10,left=10,scrollbars=1,resizable=1";
/// Longest session key accepted.
pub const MAX_SESSION_KEY_LEN: usize = 256;
/// What a malformed session key is told.
pub const SESSION_KEY_RULE: &str = "the session key must be 1 to 256 characters or a whole number";

/// A session key as the agent typed it: surrounding whitespace dropped, then 1 to 256 printable characters.
pub fn session_key(text: &str) -> Result<String, AgentError> {
    let key = text.trim();
    if key.is_empty() || crate::text::char_count(key) > MAX_SESSION_KEY_LEN || key.chars().any(char::is_control) {
        return Err(AgentError::InvalidArgument(SESSION_KEY_RULE));
    }
    Ok(key.to_owned())
}

/// A session key given as a JavaScript number: a whole number from 0.
pub fn session_key_from_number(n: f64) -> Result<String, AgentError> {
    safe_integer(n).map(crate::text::decimal).ok_or(AgentError::InvalidArgument(SESSION_KEY_RULE))
}

/// One form POST to the service: a lookup ([`LOOKUP_PATH`]) or `AgentInSession` ([`IN_SESSION_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRequest {
    /// `W` + the path.
    pub url: String,
    /// `partnerid=…&partneruserid=…&loginkey=…&ssnkey=…`, every value form-encoded.
    pub body: String,
}

impl FormRequest {
    /// The request to the service's `path` about `key` with `credentials` (for `AgentInSession` an empty
    /// key asks about every session).
    pub fn new(path: &str, webserver: &Webserver, credentials: &Credentials, key: &str) -> FormRequest {
        let [partner_id, partner_user_id, login_key] = credentials.fields();
        let body = crate::form::encode(&[partner_id, partner_user_id, login_key, ("ssnkey", key)]);
        FormRequest { url: webserver.join(path), body }
    }
}

/// What one request learned from the service: its status and text, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP answer.
    Answered {
        /// HTTP status.
        status: u16,
        /// The body.
        text: String,
    },
    /// No answer: a network error (its message).
    Unreachable(String),
    /// No answer within `requestTimeout`: the request was aborted.
    TimedOut,
}

/// The reason of a request that ran out of time.
pub const TIMED_OUT: &str = "the request timed out";

impl Reply {
    /// Why there was no answer, if there was none.
    pub fn unreachable(&self) -> Option<&str> {
        match self {
            Reply::Answered { .. } => None,
            Reply::Unreachable(message) => Some(message),
            Reply::TimedOut => Some(TIMED_OUT),
        }
    }
}

/// A request that did not get what it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Network error, request timeout, HTTP 5xx, 408 or 429: worth trying again later.
    Transient(String),
    /// An answer that may mean the credentials were refused: an XML error document, HTTP 401 or 403.
    /// A renewing login key is asked for again and the request repeated once.
    KeyRefused(String),
    /// Any other refusal (a non-XML answer, HTTP 4xx): final.
    Refused(String),
}

impl Failure {
    /// The error a call that ends on this failure rejects with.
    pub fn into_error(self) -> AgentError {
        match self {
            Failure::Transient(reason) => AgentError::ServiceUnavailable(reason),
            Failure::KeyRefused(reason) | Failure::Refused(reason) => AgentError::ServiceError(reason),
        }
    }
}

/// The `reason` of a failed request: the answer's text, else `HTTP <status>`, else the network error.
fn reason_of(text: &str, status: Option<u16>) -> String {
    let reason = shorten_reason(text);
    match status {
        _ if !reason.is_empty() => reason,
        Some(status) => crate::text::concat(&["HTTP ", &crate::text::decimal(u64::from(status))]),
        None => "network error".to_owned(),
    }
}

/// An XML document from a 2xx answer, or the failure the answer is.
pub fn read_document(reply: &Reply) -> Result<XmlDocument, Failure> {
    match reply {
        Reply::Unreachable(_) | Reply::TimedOut => {
            Err(Failure::Transient(reason_of(reply.unreachable().unwrap_or_default(), None)))
        }
        Reply::Answered { status, text } if !(200..300).contains(status) => {
            let reason = reason_of(text, Some(*status));
            Err(match status {
                500.. | 408 | 429 => Failure::Transient(reason),
                401 | 403 => Failure::KeyRefused(reason),
                _ => Failure::Refused(reason),
            })
        }
        Reply::Answered { status, text } => {
            XmlDocument::parse(text).ok_or_else(|| Failure::Refused(reason_of(text, Some(*status))))
        }
    }
}

/// A found session, as `lookupSession` resolves it and `lookupFound` carries it: the element texts of
/// the service's answer (missing ones empty), plus `service: "agent"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct LookupResult {
    pub id: String,
    pub ssnid: String,
    pub serverip: String,
    pub servername: String,
    pub personid: String,
    pub groupid: String,
    pub passcode: String,
    pub agentjoinurl: String,
    pub clientjoinurl: String,
    pub calltype: String,
    pub visitorversion: String,
    pub service: &'static str,
}

/// A JSON object of string members.
fn json_object(fields: &[(&str, &str)]) -> String {
    fields.iter().fold(Writer::new(), |object, (name, value)| object.text(name, value)).finish()
}

impl LookupResult {
    /// The object a page is given, as JSON.
    pub fn json(&self) -> String {
        json_object(&[
            ("id", self.id.as_str()),
            ("ssnid", &self.ssnid),
            ("serverip", &self.serverip),
            ("servername", &self.servername),
            ("personid", &self.personid),
            ("groupid", &self.groupid),
            ("passcode", &self.passcode),
            ("agentjoinurl", &self.agentjoinurl),
            ("clientjoinurl", &self.clientjoinurl),
            ("calltype", &self.calltype),
            ("visitorversion", &self.visitorversion),
            ("service", self.service),
        ])
    }
}

/// What one lookup attempt learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The session is running.
    Found(Box<LookupResult>),
    /// The service knows no such session yet.
    NotFound,
}

/// Reads a `LookupPartnerSession2` reply: found when it names an `agentjoinurl`, not found when its
/// `id` is `0`; any other document is an error document.
pub fn read_lookup(reply: &Reply) -> Result<Lookup, Failure> {
    let document = read_document(reply)?;
    let field = |tag: &str| document.first_text(tag).map(str::trim).unwrap_or_default().to_owned();
    let join_url = field("agentjoinurl");
    if !join_url.is_empty() {
        return Ok(Lookup::Found(Box::new(LookupResult {
            id: field("id"),
            ssnid: field("ssnid"),
            serverip: field("serverip"),
            servername: field("servername"),
            personid: field("personid"),
            groupid: field("groupid"),
            passcode: field("passcode"),
            agentjoinurl: join_url,
            clientjoinurl: field("clientjoinurl"),
            calltype: field("calltype"),
            visitorversion: field("visitorversion"),
            service: AGENT_SERVICE,
        })));
    }
    match document.first_text("id").map(str::trim) {
        Some("0") => Ok(Lookup::NotFound),
        _ => Err(Failure::KeyRefused(error_reason(&document, reply))),
    }
}

/// The reason of an error document: its text.
fn error_reason(document: &XmlDocument, reply: &Reply) -> String {
    match reply {
        Reply::Answered { text, status } => reason_of(text, Some(*status)),
        Reply::Unreachable(_) | Reply::TimedOut => reason_of(document.root().text(), None),
    }
}

/// One session the agent is in, as `AgentInSession` lists it (PROTOCOL.md section 5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs, non_snake_case)]
pub struct AgentSession {
    pub id: String,
    /// The session key.
    pub passcode: String,
    pub num: String,
    pub disambiguateId: String,
    pub servername: String,
}

impl AgentSession {
    /// The object a page is given, as JSON.
    pub fn json(&self) -> String {
        json_object(&[
            ("id", &self.id),
            ("passcode", &self.passcode),
            ("num", &self.num),
            ("disambiguateId", &self.disambiguateId),
            ("servername", &self.servername),
        ])
    }
}

/// Reads an `AgentInSession` reply: one [`AgentSession`] per `session2` element. A document with an
/// `Error` element is an error document.
pub fn read_sessions(reply: &Reply) -> Result<Vec<AgentSession>, Failure> {
    let document = read_document(reply)?;
    if document.root().name() == "Error" || document.first_text("Error").is_some() {
        return Err(Failure::KeyRefused(error_reason(&document, reply)));
    }
    let field = |session: XmlElement<'_>, tag| session.child_text(tag).map(str::trim).unwrap_or_default().to_owned();
    Ok(document
        .root()
        .descendants("session2")
        .map(|session| AgentSession {
            id: field(session, "id"),
            passcode: field(session, "passcode"),
            num: field(session, "num"),
            disambiguateId: field(session, "disambiguateId"),
            servername: field(session, "servername"),
        })
        .collect())
}

/// What `openViewer(key)` opens, as a join URL: `W/agentjoin/AgentView.aspx?SessionKey=<key>`.
pub fn session_viewer_url(webserver: &Webserver, key: &str) -> String {
    let query = crate::form::encode(&[("SessionKey", key)]);
    crate::text::concat(&[&webserver.join(VIEWER_PATH), "?", &query])
}

/// The SAML sign-in page, below the webserver (PROTOCOL.md section 1).
pub const SIGN_IN_PATH: &str = "/account/getloginkey.aspx";
/// How long the sign-in page has to answer.
pub const SIGN_IN_TIMEOUT_MS: u32 = 12_000;

/// The sign-in page for an identity-provider hint, in an iframe:
/// `W/account/getloginkey.aspx?sso=1&mode=embedded&fmt=html&<hint>=<value>`.
pub fn sign_in_url(webserver: &Webserver, hint: &SsoHint) -> String {
    let query =
        crate::form::encode(&[("sso", "1"), ("mode", "embedded"), ("fmt", "html"), (hint.name, hint.value.as_str())]);
    crate::text::concat(&[&webserver.join(SIGN_IN_PATH), "?", &query])
}

/// Where the viewer goes and with which parameters; opened by GET (a URL) or POST (a form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerTarget {
    /// The URL without its fragment.
    href: String,
    /// The URL without query and fragment: the form's `action`.
    action: String,
    fragment: String,
    /// The URL's own query parameters, decoded.
    query: Vec<(String, String)>,
    /// Parameters the library adds: the session key, the credentials, the agent's parameters.
    added: Vec<(&'static str, String)>,
    /// The URL's origin.
    origin: String,
    /// The URL is on the webserver's origin: only then does the agent's own data go with it.
    own_origin: bool,
}

impl ViewerTarget {
    /// What `openAgentJoinURL(url)` opens (`None`: not an http(s) URL). Credentials are added only when
    /// the URL is on the webserver's origin (a login key is never handed to another site) and not
    /// already in it.
    pub fn new(
        webserver: &Webserver,
        url: Option<HttpUrl>,
        credentials: Option<&Credentials>,
    ) -> Result<ViewerTarget, AgentError> {
        let url = url.ok_or(AgentError::InvalidUrl)?;
        let query: Vec<(String, String)> = crate::form::decode(url.query());
        let own_origin = url.origin() == webserver.origin();
        let mut target = ViewerTarget {
            href: url.without_fragment(),
            action: url.without_query(),
            fragment: url.fragment().to_owned(),
            query,
            added: Vec::new(),
            origin: url.origin().to_owned(),
            own_origin,
        };
        if let Some(credentials) = credentials {
            target.add_params(&credentials.fields());
        }
        Ok(target)
    }

    /// Adds parameters, except those the URL already has (names compared ignoring case); none to a URL
    /// on another origin than the webserver's (the agent's name, e-mail and phone are not for other sites).
    pub fn add_params(&mut self, params: &[(&'static str, &str)]) {
        for &(name, value) in params.iter().filter(|_| self.own_origin) {
            if !self.query.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)) {
                self.added.push((name, value.to_owned()));
            }
        }
    }

    /// The GET form: the URL with the added parameters appended to its query.
    pub fn get_url(&self) -> String {
        let mut url = self.href.clone();
        if !self.added.is_empty() {
            if crate::text::find_any(&url, b"?").is_none() {
                url.push('?');
            } else if !url.ends_with(['?', '&']) {
                url.push('&');
            }
            let added: Vec<(&str, &str)> = self.added.iter().map(|(name, value)| (*name, value.as_str())).collect();
            url.push_str(&crate::form::encode(&added));
        }
        url.push_str(&self.fragment);
        url
    }

    /// The URL's own query parameter `name` (compared ignoring case), if it has one.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(given, _)| given.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The URL's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The POST form's `action`.
    pub fn post_action(&self) -> &str {
        &self.action
    }

    /// The POST form's hidden fields: the URL's query parameters, then the added ones; names upper-cased.
    pub fn post_fields(&self) -> Vec<(String, String)> {
        let query = self.query.iter().map(|(name, value)| (name.to_ascii_uppercase(), value.clone()));
        let added = self.added.iter().map(|(name, value)| (name.to_ascii_uppercase(), value.clone()));
        query.chain(added).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::PartnerIdInput;
    use crate::url::tests::parsed;

    const KEY: &str = "$1$1700000000$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";
    const FOUND: &str = "<?xml version=\"1.0\"?><SessionInfo xmlns=\"http://www.glance.net/\"><id>77</id>\
        <ssnid>20541.4400.1</ssnid><passcode>4400</passcode>\
        <agentjoinurl>https://www.glance.net/agentjoin/AgentView.aspx?x=1</agentjoinurl><calltype>C</calltype>\
        </SessionInfo>";

    fn credentials() -> Credentials {
        Credentials::new(Some(KEY.into()), PartnerIdInput::Number(20541.0), Some("joe&co=1".into())).unwrap()
    }

    fn glance() -> Webserver {
        Webserver::GLANCE
    }

    fn ok(text: &str) -> Reply {
        Reply::Answered { status: 200, text: text.into() }
    }

    fn status(status: u16, text: &str) -> Reply {
        Reply::Answered { status, text: text.into() }
    }

    /// What `openViewer(key)` opens.
    fn for_session_key(key: &str, credentials: Option<&Credentials>) -> ViewerTarget {
        ViewerTarget::new(&glance(), parsed(&session_viewer_url(&glance(), key)), credentials).unwrap()
    }

    #[test]
    fn requests_form_encode_every_value() {
        let request = FormRequest::new(LOOKUP_PATH, &glance(), &credentials(), "12 34&x");
        assert_eq!(request.url, "https://www.glance.net/services/SessionService.asmx/LookupPartnerSession2");
        assert_eq!(
            request.body,
            "partnerid=20541&partneruserid=joe%26co%3D1\
             &loginkey=%241%241700000000%24abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_&ssnkey=12+34%26x"
        );
        let every = FormRequest::new(IN_SESSION_PATH, &glance(), &credentials(), "");
        assert_eq!(every.url, "https://www.glance.net/services/SessionService.asmx/AgentInSession");
        assert!(every.body.ends_with("&ssnkey="));
    }

    #[test]
    fn a_found_session_maps_every_field_and_blanks_missing_ones() {
        let Ok(Lookup::Found(result)) = read_lookup(&ok(FOUND)) else { panic!("found") };
        assert_eq!(result.agentjoinurl, "https://www.glance.net/agentjoin/AgentView.aspx?x=1");
        assert_eq!((result.passcode.as_str(), result.calltype.as_str()), ("4400", "C"));
        assert_eq!((result.visitorversion.as_str(), result.service), ("", "agent"));
        let page = result.json();
        let names = ["id", "ssnid", "serverip", "servername", "personid", "groupid", "passcode", "agentjoinurl"]
            .into_iter()
            .chain(["clientjoinurl", "calltype", "visitorversion", "service"]);
        let at: Vec<usize> = names.map(|name| page.find(&format!("\"{name}\":")).expect(name)).collect();
        assert!(at.is_sorted(), "the page sees every field, in production's order: {page}");
        let page: serde_json::Value = serde_json::from_str(&page).unwrap();
        assert_eq!(page["agentjoinurl"], result.agentjoinurl.as_str());
        assert_eq!((page["passcode"].as_str(), page["service"].as_str()), (Some("4400"), Some("agent")));
    }

    #[test]
    fn id_zero_without_join_url_is_not_found() {
        assert_eq!(read_lookup(&ok("<x><id> 0 </id></x>")), Ok(Lookup::NotFound));
        assert_eq!(read_lookup(&ok("<x><id>0</id><agentjoinurl>  </agentjoinurl></x>")), Ok(Lookup::NotFound));
    }

    #[test]
    fn error_documents_may_mean_a_refused_key_other_refusals_do_not() {
        let key_refused = |reason: &str| Err(Failure::KeyRefused(reason.to_owned()));
        let refused = |reason: &str| Err(Failure::Refused(reason.to_owned()));
        assert_eq!(
            read_lookup(&ok("<Error>Login key invalid</Error>")),
            key_refused("<Error>Login key invalid</Error>")
        );
        assert_eq!(read_lookup(&ok("<x><id>5</id></x>")), key_refused("<x><id>5</id></x>"));
        assert_eq!(read_lookup(&status(401, "")), key_refused("HTTP 401"));
        assert_eq!(read_lookup(&status(403, "Forbidden partner")), key_refused("Forbidden partner"));
        assert_eq!(read_lookup(&ok("not xml at all")), refused("not xml at all"));
        assert_eq!(read_lookup(&ok("")), refused("HTTP 200"));
        assert_eq!(read_lookup(&status(404, "")), refused("HTTP 404"));
    }

    #[test]
    fn server_trouble_is_transient() {
        let transient = |reason: &str| Err(Failure::Transient(reason.to_owned()));
        assert_eq!(read_lookup(&status(500, "Server Error")), transient("Server Error"));
        assert_eq!(read_lookup(&status(503, "")), transient("HTTP 503"));
        assert_eq!(read_lookup(&status(429, "slow down")), transient("slow down"));
        assert_eq!(read_lookup(&Reply::Unreachable("Failed to fetch".into())), transient("Failed to fetch"));
        assert_eq!(read_lookup(&Reply::Unreachable(String::new())), transient("network error"));
    }

    #[test]
    fn failures_become_coded_errors() {
        assert_eq!(Failure::Transient("x".into()).into_error().code(), "service_unavailable");
        assert_eq!(Failure::KeyRefused("x".into()).into_error().code(), "service_error");
        assert_eq!(Failure::Refused("x".into()).into_error().code(), "service_error");
    }

    #[test]
    fn the_agents_sessions_are_listed_and_an_error_document_refused() {
        let listed = ok("<ArrayOfSession2 xmlns=\"http://www.glance.net/\">\
            <session2><id>1</id><passcode>4400</passcode><num>2</num><disambiguateId>9</disambiguateId>\
            <servername>s1.glance.net</servername></session2><session2><passcode>4401</passcode></session2>\
            </ArrayOfSession2>");
        let sessions = read_sessions(&listed).unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].servername, "s1.glance.net");
        assert_eq!(sessions[0].disambiguateId, "9");
        assert_eq!(sessions[1], AgentSession { passcode: "4401".into(), ..AgentSession::default() });
        let page: serde_json::Value = serde_json::from_str(&sessions[0].json()).unwrap();
        assert_eq!(
            page,
            serde_json::json!({"id": "1", "passcode": "4400", "num": "2", "disambiguateId": "9",
                               "servername": "s1.glance.net"})
        );
        assert_eq!(read_sessions(&ok("<r/>")), Ok(vec![]));
        assert!(matches!(read_sessions(&ok("<r><Error>bad key</Error></r>")), Err(Failure::KeyRefused(_))));
        assert!(matches!(read_sessions(&ok("<Error>bad key</Error>")), Err(Failure::KeyRefused(_))));
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
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=12+34&partnerid=20541\
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
    fn join_url_query_moves_into_the_form_and_keeps_its_fragment_in_get() {
        let url = "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=4400&ssnid=1%2E2+3#view";
        let target = ViewerTarget::new(&glance(), parsed(url), Some(&credentials())).unwrap();
        let fields = target.post_fields();
        let names: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["SESSIONKEY", "SSNID", "PARTNERID", "PARTNERUSERID", "LOGINKEY"]);
        assert_eq!(fields[1].1, "1.2 3");
        let get = target.get_url();
        assert!(get.starts_with(
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=4400&ssnid=1%2E2+3&partnerid=20541"
        ));
        assert!(get.ends_with("#view"));
    }

    #[test]
    fn viewer_params_reach_both_forms_unless_the_url_has_them() {
        let params = [("wait", "0"), ("agentVideo", "1"), ("name", "Jo Agent")];
        let mut target = for_session_key("12", None);
        target.add_params(&params);
        assert_eq!(
            target.get_url(),
            "https://www.glance.net/agentjoin/AgentView.aspx?SessionKey=12&wait=0&agentVideo=1&name=Jo+Agent"
        );
        let url = "https://www.glance.net/agentjoin/AgentView.aspx?WAIT=1";
        let mut joined = ViewerTarget::new(&glance(), parsed(url), None).unwrap();
        joined.add_params(&params);
        let names: Vec<String> = joined.post_fields().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["WAIT", "AGENTVIDEO", "NAME"], "the URL's own WAIT wins");
        let mut elsewhere = ViewerTarget::new(&glance(), parsed("https://other.example/view?k=1"), None).unwrap();
        elsewhere.add_params(&params);
        assert_eq!(elsewhere.get_url(), "https://other.example/view?k=1", "not sent to another site");
    }

    #[test]
    fn credentials_never_go_to_another_origin_nor_twice() {
        for url in ["https://evil.example/agentjoin/AgentView.aspx?SessionKey=1", "http://www.glance.net/x"] {
            let target = ViewerTarget::new(&glance(), parsed(url), Some(&credentials())).unwrap();
            assert!(!target.get_url().contains("loginkey"), "{url}");
            assert!(target.post_fields().iter().all(|(name, _)| name != "LOGINKEY"), "{url}");
        }
        let has_pid =
            ViewerTarget::new(&glance(), parsed("https://www.glance.net/v?PartnerId=9&"), Some(&credentials()));
        let target = has_pid.unwrap();
        let names: Vec<String> = target.post_fields().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["PARTNERID", "PARTNERUSERID", "LOGINKEY"]);
        assert!(target.get_url().starts_with("https://www.glance.net/v?PartnerId=9&partneruserid="));
    }

    #[test]
    fn the_sign_in_page_gets_the_hint_encoded() {
        let hint = SsoHint { name: "idpusername", value: "jo agent&x".into() };
        assert_eq!(
            sign_in_url(&glance(), &hint),
            "https://www.glance.net/account/getloginkey.aspx?sso=1&mode=embedded&fmt=html&idpusername=jo+agent%26x"
        );
    }

    #[test]
    fn only_http_join_urls_are_accepted() {
        assert_eq!(ViewerTarget::new(&glance(), None, None).map_err(|e| e.code()), Err("invalid_url"));
        assert_eq!(
            ViewerTarget::new(&glance(), parsed("javascript://alert(1)"), None).map_err(|e| e.code()),
            Err("invalid_url")
        );
    }
}
