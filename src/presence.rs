//! Presence, the wire contract (shared/spec/PRESENCE.md, section 9 where it decides): the
//! authorization request, the visitor settings, the REST calls, the agent socket's frames, the
//! reconnect plan, and the `EjectAgent` message of `leaveSession`.
//!
//! JSON is parsed by the browser (`JSON.parse`, as URLs are by its `URL`); what the answers mean is
//! decided here, from the fields the browser layer reads.

use serde::Serialize;

use crate::credentials::Credentials;
use crate::url::Webserver;

/// The protocol version this library speaks, sent in the socket's `connect` frame and as `ver`.
pub const VERSION: &str = "6.25.0";
/// The `service` of every presence event.
pub const PRESENCE_SERVICE: &str = "presence";
/// The authorization service, below the webserver's host.
pub const AUTHORIZE_PATH: &str = "/services/AuthorizationService.svc/rest/Authorize";
/// The visitor settings, below the webserver's host.
pub const SETTINGS_PATH: &str = "/services/authorizationservice/GetVisitorSettings3";
/// How long a token is asked for, in minutes (the service's longest), and held when its answer does
/// not say.
pub const TOKEN_MINUTES: u64 = 120;
/// A token is asked for again when it has less than this left, in seconds.
pub const TOKEN_RENEW_BEFORE_S: u64 = 300;
/// How long visitor settings are kept, in seconds.
pub const SETTINGS_KEPT_S: u64 = 24 * 3600;
/// The keepalive period when the server's `connected` frame gives none, and its bounds, in seconds.
pub const KEEPALIVE_DEFAULT_S: u32 = 30;
/// The shortest keepalive period accepted (production sent about 600 frames a second without one).
pub const KEEPALIVE_MIN_S: u32 = 5;
/// The longest keepalive period accepted.
pub const KEEPALIVE_MAX_S: u32 = 300;
/// The first reconnect pause and the longest, in milliseconds: 1 s, 2 s, 4 s … 60 s.
pub const BACKOFF_FIRST_MS: u32 = 1_000;
/// The longest reconnect pause.
pub const BACKOFF_MAX_MS: u32 = 60_000;
/// The longest pause between looks for a visitor who is not on the site.
pub const LOOK_AGAIN_MAX_MS: u32 = 10_000;
/// How long a visitor's socket may be gone before the visitor counts as disconnected.
pub const VISITOR_GRACE_MS: u32 = 5_000;
/// How long the visitor has to answer `presenceStartSession` (terms and session start).
pub const START_TIMEOUT_MS: u32 = 60_000;
/// The visitor function `presenceStartSession` invokes unless told another.
pub const SHOW_TERMS: &str = "GLANCE.Cobrowse.VisitorUI.showTerms";
/// Longest socket frame read; larger ones are dropped unread.
pub const MAX_FRAME_CHARS: usize = 1 << 20;
/// Longest visitor id accepted.
pub const MAX_VISITOR_ID_CHARS: usize = 256;
/// What a malformed visitor id is told.
pub const VISITOR_ID_RULE: &str = "the visitor id must be 1 to 256 characters or a whole number";

/// Where the connection is: what `presenceState` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No connection.
    #[default]
    Idle,
    /// Authorizing, reading the settings, opening the socket.
    Connecting,
    /// Watching the visitor: the socket is open and the server took the `connect`, or (not
    /// load-balanced) the service answered that the visitor is not on the site and is asked again.
    /// `visitorConnected` says whether they are there.
    Connected,
    /// Coming back after the socket closed.
    Reconnecting,
}

impl Phase {
    /// The string `presenceState` reads.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Connecting => "connecting",
            Phase::Connected => "connected",
            Phase::Reconnecting => "reconnecting",
        }
    }
}

/// A visitor id as the agent typed it: surrounding whitespace dropped, then 1 to 256 printable characters.
pub fn visitor_id(text: &str) -> Option<String> {
    let id = text.trim();
    let printable = !id.is_empty() && !id.chars().any(char::is_control);
    (printable && id.chars().count() <= MAX_VISITOR_ID_CHARS).then(|| id.to_owned())
}

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `POST https://WH/services/AuthorizationService.svc/rest/Authorize?groupid=G&service=presence&duration=120&site=production`.
pub fn authorize_url(webserver: &Webserver, credentials: &Credentials) -> String {
    let duration = TOKEN_MINUTES.to_string();
    let pairs = [
        ("groupid", credentials.partner_id()),
        ("service", "presence"),
        ("duration", &duration),
        ("site", "production"),
    ];
    [webserver.origin(), AUTHORIZE_PATH, "?", &query(&pairs)].concat()
}

/// The body of the authorization request: the agent's credentials as JSON.
#[derive(Debug, Serialize)]
pub struct AuthorizeBody<'a> {
    /// The agent's id.
    pub partneruserid: &'a str,
    /// The login key.
    pub loginkey: &'a str,
    /// The group id, as a JSON number.
    pub partnerid: u64,
}

impl<'a> AuthorizeBody<'a> {
    /// For `credentials`.
    pub fn new(credentials: &'a Credentials) -> AuthorizeBody<'a> {
        AuthorizeBody {
            partneruserid: credentials.partner_user_id(),
            loginkey: credentials.login_key().as_str(),
            partnerid: credentials.partner_id().parse().unwrap_or_default(),
        }
    }
}

/// `GET https://WH/services/authorizationservice/GetVisitorSettings3?groupid=G&site=production&service=presence`.
pub fn settings_url(webserver: &Webserver, group: &str) -> String {
    [
        webserver.origin(),
        SETTINGS_PATH,
        "?",
        &query(&[("groupid", group), ("site", "production"), ("service", "presence")]),
    ]
    .concat()
}

/// A token, and when it stops working (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What goes after `Bearer ` and into the `connect` frame.
    pub value: String,
    /// Its expiry.
    pub expires: u64,
}

impl Token {
    /// The token of an authorization answer: a JSON string (the token), or an object with `authToken`
    /// and `authTokeExp` (`expires_ms`: that time as the browser's `Date.parse` read it). Without an
    /// expiry the token lasts the time asked for.
    pub fn from_answer(
        text: Option<String>,
        auth_token: Option<String>,
        expires_ms: Option<f64>,
        now: u64,
    ) -> Option<Token> {
        // It travels in a header and a frame: visible ASCII only, as every real token is.
        let value =
            text.or(auth_token).filter(|token| !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()))?;
        let asked = now.saturating_add(TOKEN_MINUTES * 60);
        let expires = match expires_ms {
            Some(ms) if ms.is_finite() && ms > 0.0 => ((ms / 1000.0) as u64).min(asked),
            _ => asked,
        };
        Some(Token { value, expires })
    }

    /// Whether to ask for a new one before using it at `now`.
    pub fn is_due_at(&self, now: u64) -> bool {
        now.saturating_add(TOKEN_RENEW_BEFORE_S) >= self.expires
    }
}

/// Where presence is for a group, from its visitor settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `presenceUrl`: the presence service's host.
    pub host: String,
    /// `isPresenceLoadBalanced`: connect to that host straight away, and invoke over the socket.
    pub load_balanced: bool,
}

impl Settings {
    /// The settings, or `None` when presence is disabled for the group (no `presenceUrl`).
    pub fn from_answer(presence_url: Option<String>, load_balanced: bool) -> Option<Settings> {
        let host = presence_url.map(|url| url.trim().to_owned()).filter(|url| is_host(url))?;
        Some(Settings { host, load_balanced })
    }
}

/// A host name with an optional port, nothing else: answers must not move requests off to a URL.
pub fn is_host(text: &str) -> bool {
    !text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// The direct server of a `findvisitor` (or any) answer: `directserver`, else `direct`, with
/// `:httpsport` when given and the host has no port yet. `None` when the answer names none.
pub fn direct_server(directserver: Option<String>, direct: Option<String>, https_port: Option<u16>) -> Option<String> {
    let host = directserver.filter(|host| !host.is_empty()).or(direct).filter(|host| is_host(host))?;
    let has_port = host.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    Some(match https_port {
        Some(port) if !has_port => [host.as_str(), ":", &port.to_string()].concat(),
        _ => host,
    })
}

/// A presence REST call: `<scheme>://<host>/<name>?groupid=G&visitorid=V&ver=6.25.0`, the scheme the
/// webserver's (`https`, or `http` for a local service), every value encoded.
pub fn rest_url(secure: bool, host: &str, name: &str, group: &str, visitor: &str) -> String {
    let scheme = if secure { "https://" } else { "http://" };
    [scheme, host, "/", name, "?", &query(&[("groupid", group), ("visitorid", visitor), ("ver", VERSION)])].concat()
}

/// The agent socket: `wss://<host>/agent` (`ws:` beside an `http:` webserver).
pub fn socket_url(secure: bool, host: &str) -> String {
    [if secure { "wss://" } else { "ws://" }, host, "/agent"].concat()
}

/// The first frame on the agent socket.
#[derive(Debug, Serialize)]
pub struct ConnectFrame<'a> {
    /// `connect`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The token.
    pub authorization: &'a str,
    /// The group id.
    pub groupid: &'a str,
    /// The visitor watched.
    pub visitorid: &'a str,
    /// [`VERSION`].
    pub version: &'static str,
}

impl<'a> ConnectFrame<'a> {
    /// For `visitor` of `group`, with `token`.
    pub fn new(token: &'a str, group: &'a str, visitor: &'a str) -> ConnectFrame<'a> {
        ConnectFrame { kind: "connect", authorization: token, groupid: group, visitorid: visitor, version: VERSION }
    }
}

/// The keepalive frame.
pub const KEEPALIVE_FRAME: &str = r#"{"type":"k"}"#;

/// An invoke of a visitor function, as a socket frame (load-balanced) or a `signalvisitor` body.
#[derive(Debug, Serialize)]
pub struct Invoke<'a, A: Serialize> {
    /// `invoke` (socket frames only).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// `invoke`.
    pub mtype: &'static str,
    /// What to call, and with what.
    pub data: InvokeData<'a, A>,
}

/// The function and its arguments.
#[derive(Debug, Serialize)]
pub struct InvokeData<'a, A: Serialize> {
    /// E.g. [`SHOW_TERMS`].
    pub func: &'a str,
    /// Its arguments, `sessionKey` among them.
    pub args: A,
}

/// Whether a visitor's page runs this function: only `GLANCE.` and `GLANCE_COBROWSE.Custom.` ones.
pub fn is_invokable(func: &str) -> bool {
    func.len() <= 256
        && (func.starts_with("GLANCE.") || func.starts_with("GLANCE_COBROWSE.Custom."))
        && func.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'$')
}

/// What the agent socket's frames are, by their `mtype` (or else `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// The server took the `connect`: its `keepalive` period.
    Connected,
    /// The visitor's socket came or went: `data.connected`.
    VisitorSocket,
    /// The visitor connected (`data.connected`; only `true` counts).
    VisitorConnection,
    /// The page the visitor is on (`presence` event).
    Presence,
    /// The visitor's tab was hidden or shown (`presenceVisibility`).
    Visibility,
    /// The terms dialog was shown, accepted or declined (`presenceOnTerms`).
    Terms,
    /// The visitor's session started.
    SessionStart,
    /// The visitor's session ended (`presenceSessionEnd`).
    SessionEnd,
    /// The visitor's page reported an error (`presenceVisitorError`).
    VisitorError,
    /// The server reported an error (`presenceError`).
    Error,
    /// Connect to another server (`data.direct`).
    Redirect,
    /// The server ends the connection for good.
    ServerClose,
    /// The server scales down: connect again at once.
    ScaleDown,
    /// Anything else: dropped.
    Other,
}

impl Frame {
    /// The frame named `name`.
    pub fn named(name: &str) -> Frame {
        match name {
            "connected" => Frame::Connected,
            "visitorsock" => Frame::VisitorSocket,
            "visitorconn" => Frame::VisitorConnection,
            "presence" => Frame::Presence,
            "visibility" => Frame::Visibility,
            "terms" => Frame::Terms,
            "visitorsessionstart" => Frame::SessionStart,
            "visitorsessionend" => Frame::SessionEnd,
            "visitorerror" => Frame::VisitorError,
            "error" => Frame::Error,
            "redirect" => Frame::Redirect,
            "serverclose" => Frame::ServerClose,
            "scaledown" => Frame::ScaleDown,
            _ => Frame::Other,
        }
    }

    /// The event a page hears for it, if any (visitor comings and goings and session starts have
    /// their own handling).
    pub fn event(self) -> Option<&'static str> {
        Some(match self {
            Frame::Presence => "presence",
            Frame::Visibility => "presenceVisibility",
            Frame::Terms => "presenceOnTerms",
            Frame::SessionEnd => "presenceSessionEnd",
            Frame::VisitorError => "presenceVisitorError",
            Frame::Error => "presenceError",
            _ => return None,
        })
    }
}

/// The keepalive period of a `connected` frame, in milliseconds: its `keepalive` seconds, clamped to
/// 5–300 s; 30 s when it gives none.
pub fn keepalive_ms(seconds: Option<f64>) -> u32 {
    let seconds = match seconds {
        Some(s) if s.is_finite() => s.clamp(f64::from(KEEPALIVE_MIN_S), f64::from(KEEPALIVE_MAX_S)) as u32,
        _ => KEEPALIVE_DEFAULT_S,
    };
    seconds * 1000
}

/// Why the connection waits before its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// The socket closed or the service failed: reconnect, backing off up to a minute.
    Reconnect,
    /// The visitor is not on the site (yet): look again soon, so that an arrival is seen within
    /// seconds, not minutes (production fell back to once a minute).
    LookForVisitor,
}

impl Pause {
    /// The longest pause of its kind.
    pub const fn longest_ms(self) -> u32 {
        match self {
            Pause::Reconnect => BACKOFF_MAX_MS,
            Pause::LookForVisitor => LOOK_AGAIN_MAX_MS,
        }
    }

    /// What `presenceState` reads meanwhile: an absent visitor is being watched, not reconnected to.
    pub const fn phase(self) -> Phase {
        match self {
            Pause::Reconnect => Phase::Reconnecting,
            Pause::LookForVisitor => Phase::Connected,
        }
    }

    /// The pause before attempt `attempt` (0 for the first): 1 s, 2 s, 4 s … up to its longest, with
    /// "equal jitter" (`jitter` in [0, 1) takes it anywhere in the upper half), so that agents cut
    /// off together do not all come back at once.
    pub fn ms(self, attempt: u32, jitter: f64) -> u32 {
        let full = BACKOFF_FIRST_MS.saturating_mul(1u32 << attempt.min(16)).min(self.longest_ms());
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        full / 2 + (f64::from(full / 2) * jitter) as u32
    }
}

/// A session key for `presenceStartSession` when the page gives none: six random digits.
pub fn random_session_key(random: f64) -> String {
    let random = if random.is_finite() { random.clamp(0.0, 0.999_999_9) } else { 0.0 };
    format!("{:06}", (random * 1_000_000.0) as u32)
}

/// What the terms dialog reported: `status` compared without case.
pub fn declined(status: &str) -> bool {
    status.eq_ignore_ascii_case("declined")
}

/// The `EjectAgent` message of `leaveSession` (section 7): agent `num` leaves session
/// `<partnerid>.<passcode>.<disambiguateId>`. Serialized, so every value is escaped.
#[derive(Debug, Serialize, PartialEq)]
pub struct EjectAgent {
    /// `<partnerid>.<passcode>.<disambiguateId>`.
    pub ssnid: String,
    /// The agent's participant number, as a JSON number.
    pub num: u64,
    /// `EjectAgent`.
    pub mtype: &'static str,
    /// `{reason: "leave"}`.
    pub data: LeaveReason,
}

/// Why the agent leaves.
#[derive(Debug, Serialize, PartialEq)]
pub struct LeaveReason {
    /// `leave`.
    pub reason: &'static str,
}

impl EjectAgent {
    /// For the agent's entry in a session (from `AgentInSession`).
    pub fn new(partner_id: &str, passcode: &str, disambiguate: &str, num: &str) -> EjectAgent {
        EjectAgent {
            ssnid: [partner_id, ".", passcode, ".", disambiguate].concat(),
            num: num.trim().parse().unwrap_or_default(),
            mtype: "EjectAgent",
            data: LeaveReason { reason: "leave" },
        }
    }
}

/// Where the `EjectAgent` message goes: `<scheme>://<servername>/agent/message`, `None` for a server
/// name that is not a host.
pub fn leave_url(secure: bool, servername: &str) -> Option<String> {
    is_host(servername.trim())
        .then(|| [if secure { "https://" } else { "http://" }, servername.trim(), "/agent/message"].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::PartnerIdInput;

    fn credentials() -> Credentials {
        let key = format!("$1$1700000000${}", "a".repeat(43));
        Credentials::new(Some(key), PartnerIdInput::Text("20541".into()), Some("jo & co".into())).unwrap()
    }

    #[test]
    fn authorization_goes_to_the_webservers_host_with_the_credentials_as_json() {
        let url = authorize_url(&Webserver::GLANCE, &credentials());
        assert_eq!(
            url,
            "https://www.glance.net/services/AuthorizationService.svc/rest/Authorize?groupid=20541&service=presence\
             &duration=120&site=production"
        );
        let body = serde_json::to_value(AuthorizeBody::new(&credentials())).unwrap();
        assert_eq!(body["partnerid"], 20541, "a number");
        assert_eq!(body["partneruserid"], "jo & co");
    }

    #[test]
    fn a_token_is_a_string_or_an_object_and_is_renewed_before_it_expires() {
        let now = 1_000_000;
        let plain = Token::from_answer(Some("abc".into()), None, None, now).unwrap();
        assert_eq!(plain, Token { value: "abc".into(), expires: now + 7200 });
        let object = Token::from_answer(None, Some("jwt".into()), Some(1_001_800_000.0), now).unwrap();
        assert_eq!(object, Token { value: "jwt".into(), expires: 1_001_800 });
        assert!(!object.is_due_at(now) && object.is_due_at(1_001_500));
        let far = Token::from_answer(None, Some("jwt".into()), Some(9e15), now).unwrap();
        assert_eq!(far.expires, now + 7200, "never held longer than asked for");
        assert_eq!(Token::from_answer(None, None, None, now), None);
        assert_eq!(Token::from_answer(Some(" ".into()), None, None, now), None);
    }

    #[test]
    fn settings_name_a_host_or_presence_is_off() {
        assert_eq!(
            Settings::from_answer(Some("presence.glance.net".into()), true),
            Some(Settings { host: "presence.glance.net".into(), load_balanced: true })
        );
        assert_eq!(Settings::from_answer(Some(String::new()), false), None);
        assert_eq!(Settings::from_answer(None, false), None);
        assert_eq!(Settings::from_answer(Some("evil.example/x?y".into()), false), None, "a host, not a URL");
    }

    #[test]
    fn the_direct_server_never_gets_its_port_twice() {
        assert_eq!(
            direct_server(Some("pr16.glance.net".into()), None, Some(443)).as_deref(),
            Some("pr16.glance.net:443")
        );
        assert_eq!(
            direct_server(None, Some("pr16.glance.net:443".into()), Some(443)).as_deref(),
            Some("pr16.glance.net:443")
        );
        assert_eq!(direct_server(Some(String::new()), Some("d:8".into()), None).as_deref(), Some("d:8"));
        assert_eq!(direct_server(None, None, Some(443)), None, "no server: no socket to `undefined`");
    }

    #[test]
    fn rest_calls_encode_their_values_once() {
        assert_eq!(
            rest_url(true, "p.glance.net", "findvisitor", "20541", "a&b #c+"),
            "https://p.glance.net/findvisitor?groupid=20541&visitorid=a%26b+%23c%2B&ver=6.25.0"
        );
        assert_eq!(socket_url(false, "127.0.0.1:8001"), "ws://127.0.0.1:8001/agent");
    }

    #[test]
    fn frames_are_named_by_mtype_or_type() {
        assert_eq!(Frame::named("visitorsock"), Frame::VisitorSocket);
        assert_eq!(Frame::named("terms").event(), Some("presenceOnTerms"));
        assert_eq!(Frame::named("visitorerror").event(), Some("presenceVisitorError"));
        assert_eq!(Frame::named("invoke"), Frame::Other, "only visitors run invokes");
        let connect = serde_json::to_string(&ConnectFrame::new("T", "20541", "v1")).unwrap();
        assert_eq!(
            connect,
            r#"{"type":"connect","authorization":"T","groupid":"20541","visitorid":"v1","version":"6.25.0"}"#
        );
    }

    #[test]
    fn keepalive_is_clamped_and_has_a_default() {
        assert_eq!(keepalive_ms(None), 30_000);
        assert_eq!(keepalive_ms(Some(0.0)), 5_000, "not 600 frames a second");
        assert_eq!(keepalive_ms(Some(45.0)), 45_000);
        assert_eq!(keepalive_ms(Some(1e9)), 300_000);
        assert_eq!(keepalive_ms(Some(f64::NAN)), 30_000);
    }

    #[test]
    fn reconnects_back_off_with_jitter_up_to_a_minute() {
        let lowest: Vec<u32> = (0..8).map(|attempt| Pause::Reconnect.ms(attempt, 0.0)).collect();
        let highest: Vec<u32> = (0..8).map(|attempt| Pause::Reconnect.ms(attempt, 0.999)).collect();
        assert_eq!(lowest, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(highest, [999, 1999, 3998, 7996, 15992, 31984, 59970, 59970]);
        assert_eq!(Pause::Reconnect.ms(u32::MAX, f64::NAN), 30_000);
        assert_eq!(Pause::Reconnect.phase(), Phase::Reconnecting);
    }

    #[test]
    fn an_absent_visitor_is_looked_for_at_least_every_ten_seconds() {
        let highest: Vec<u32> = (0..8).map(|attempt| Pause::LookForVisitor.ms(attempt, 0.999)).collect();
        assert_eq!(highest, [999, 1999, 3998, 7996, 9995, 9995, 9995, 9995]);
        assert_eq!(Pause::LookForVisitor.phase(), Phase::Connected, "watching, and no socket has closed");
    }

    #[test]
    fn invokes_reach_only_visitor_functions() {
        assert!(is_invokable(SHOW_TERMS));
        assert!(is_invokable("GLANCE_COBROWSE.Custom.startVideo"));
        for bad in ["window.alert", "GLANCE", "GLANCE.x()", "GLANCE_COBROWSE.Other.f", ""] {
            assert!(!is_invokable(bad), "{bad}");
        }
        let frame = Invoke {
            kind: Some("invoke"),
            mtype: "invoke",
            data: InvokeData { func: SHOW_TERMS, args: serde_json::json!({"sessionKey": "123456"}) },
        };
        assert_eq!(
            serde_json::to_string(&frame).unwrap(),
            r#"{"type":"invoke","mtype":"invoke","data":{"func":"GLANCE.Cobrowse.VisitorUI.showTerms","args":{"sessionKey":"123456"}}}"#
        );
    }

    #[test]
    fn random_session_keys_are_six_digits() {
        assert_eq!(random_session_key(0.0), "000000");
        assert_eq!(random_session_key(0.123_456_7), "123456");
        assert_eq!(random_session_key(0.999_999_99), "999999");
        assert_eq!(random_session_key(f64::NAN), "000000");
    }

    #[test]
    fn leaving_names_the_session_and_the_agent_and_escapes_everything() {
        let message = EjectAgent::new("20541", "12\"34", "846930886", " 2 ");
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"ssnid":"20541.12\"34.846930886","num":2,"mtype":"EjectAgent","data":{"reason":"leave"}}"#
        );
        assert_eq!(leave_url(true, "s1.glance.net").as_deref(), Some("https://s1.glance.net/agent/message"));
        assert_eq!(leave_url(true, "evil/x"), None);
    }

    #[test]
    fn visitor_ids_are_trimmed_printable_and_bounded() {
        assert_eq!(visitor_id(" v-1 ").as_deref(), Some("v-1"));
        assert_eq!(visitor_id(""), None);
        assert_eq!(visitor_id("a\nb"), None);
        assert_eq!(visitor_id(&"x".repeat(257)), None);
        assert!(declined("Declined") && !declined("accepted"));
    }
}
