//! Presence, the wire contract (shared/spec/PRESENCE.md, section 9 where it decides): the
//! authorization request, the visitor settings, the REST calls, the agent socket's frames, the
//! reconnect plan, and the `EjectAgent` message of `leaveSession`.
//!
//! Answers and frames are JSON, read here (`crate::json`); messages are JSON built here.

use crate::credentials::Credentials;
use crate::error::shorten_reason;
use crate::json::{members_without, push_string, Json, Object, Writer};
use crate::protocol::{AgentSession, Reply};
use crate::text::{decimal, digits};
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
/// The content type of JSON bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
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
    (printable && crate::text::char_count(id) <= MAX_VISITOR_ID_CHARS).then(|| id.to_owned())
}

fn query(pairs: &[(&str, &str)]) -> String {
    crate::form::encode(pairs)
}

/// `POST https://WH/services/AuthorizationService.svc/rest/Authorize?groupid=G&service=presence&duration=120&site=production`.
pub fn authorize_url(webserver: &Webserver, credentials: &Credentials) -> String {
    let duration = decimal(TOKEN_MINUTES);
    let pairs = [
        ("groupid", credentials.partner_id()),
        ("service", "presence"),
        ("duration", &duration),
        ("site", "production"),
    ];
    crate::text::concat(&[webserver.origin(), AUTHORIZE_PATH, "?", &query(&pairs)])
}

/// The body of the authorization request: the agent's credentials as JSON, the group id a number.
pub fn authorize_body(credentials: &Credentials) -> String {
    Writer::new()
        .text("partneruserid", credentials.partner_user_id())
        .text("loginkey", credentials.login_key().as_str())
        .raw("partnerid", credentials.partner_id())
        .finish()
}

/// `GET https://WH/services/authorizationservice/GetVisitorSettings3?groupid=G&site=production&service=presence`.
pub fn settings_url(webserver: &Webserver, group: &str) -> String {
    crate::text::concat(&[
        webserver.origin(),
        SETTINGS_PATH,
        "?",
        &query(&[("groupid", group), ("site", "production"), ("service", "presence")]),
    ])
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
    /// The token of an authorization answer: a JSON string (the token), or an object with
    /// `authToken` and `authTokeExp` (an ISO 8601 time). Without an expiry the token lasts the time
    /// asked for, and never longer.
    pub fn from_answer(answer: &Json<'_>, now: u64) -> Option<Token> {
        let (value, expires) = match answer {
            Json::Text(token) => (token.as_ref(), None),
            Json::Object(object) => (object.text("authToken")?, object.text("authTokeExp").and_then(iso_time)),
            _ => return None,
        };
        // It travels in a header and a frame: visible ASCII only, as every real token is.
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let asked = now.saturating_add(TOKEN_MINUTES * 60);
        let expires = expires.filter(|&seconds| seconds > 0).map_or(asked, |seconds| seconds.min(asked));
        Some(Token { value: value.to_owned(), expires })
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
    let has_port = crate::text::rsplit_once_at(&host, b':')
        .is_some_and(|(_, port)| digits(port).is_some_and(|port| port <= 65_535));
    Some(match https_port {
        Some(port) if !has_port => crate::text::concat(&[host.as_str(), ":", &decimal(port.into())]),
        _ => host,
    })
}

/// A presence REST call: `<scheme>://<host>/<name>?groupid=G&visitorid=V&ver=6.25.0`, the scheme the
/// webserver's (`https`, or `http` for a local service), every value encoded.
pub fn rest_url(secure: bool, host: &str, name: &str, group: &str, visitor: &str) -> String {
    let scheme = if secure { "https://" } else { "http://" };
    crate::text::concat(&[
        scheme,
        host,
        "/",
        name,
        "?",
        &query(&[("groupid", group), ("visitorid", visitor), ("ver", VERSION)]),
    ])
}

/// The agent socket: `wss://<host>/agent` (`ws:` beside an `http:` webserver).
pub fn socket_url(secure: bool, host: &str) -> String {
    crate::text::concat(&[if secure { "wss://" } else { "ws://" }, host, "/agent"])
}

/// The first frame on the agent socket: `{"type":"connect","authorization":T,"groupid":G,"visitorid":V,"version":VER}`.
pub fn connect_frame(token: &str, group: &str, visitor: &str) -> String {
    Writer::new()
        .text("type", "connect")
        .text("authorization", token)
        .text("groupid", group)
        .text("visitorid", visitor)
        .text("version", VERSION)
        .finish()
}

/// The keepalive frame.
pub const KEEPALIVE_FRAME: &str = r#"{"type":"k"}"#;

/// An invoke of visitor function `func` with `args` (a JSON object's text) and `args.sessionKey`
/// set to `key`: `{"type":"invoke","mtype":"invoke","data":{"func":…,"args":{…}}}` as a socket frame
/// (load-balanced), without `type` as a `signalvisitor` body.
pub fn invoke(frame: bool, func: &str, args: &Object<'_>, key: &str) -> String {
    let mut copied = String::from("{");
    let members = members_without(args, "sessionKey");
    copied.push_str(&members);
    if !members.is_empty() {
        copied.push(',');
    }
    push_string(&mut copied, "sessionKey");
    copied.push(':');
    push_string(&mut copied, key);
    copied.push('}');
    let data = Writer::new().text("func", func).raw("args", &copied).finish();
    let writer = if frame { Writer::new().text("type", "invoke") } else { Writer::new() };
    writer.text("mtype", "invoke").raw("data", &data).finish()
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
pub fn keepalive_ms(seconds: Option<i64>) -> u32 {
    let seconds = match seconds {
        Some(s) => s.clamp(i64::from(KEEPALIVE_MIN_S), i64::from(KEEPALIVE_MAX_S)) as u32,
        None => KEEPALIVE_DEFAULT_S,
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
    let digits = decimal((random * 1_000_000.0) as u64);
    crate::text::concat(&["000000".get(digits.len()..).unwrap_or_default(), &digits])
}

/// What the terms dialog reported: `status` compared without case.
pub fn declined(status: &str) -> bool {
    status.eq_ignore_ascii_case("declined")
}

/// The `EjectAgent` message of `leaveSession` (section 7): agent `num` leaves session
/// `<partnerid>.<passcode>.<disambiguateId>`, `num` a JSON number, every string escaped.
pub fn eject_agent(partner_id: &str, session: &AgentSession) -> String {
    let ssnid = crate::text::concat(&[partner_id, ".", &session.passcode, ".", &session.disambiguateId]);
    let num = session.num.trim();
    let num = if !num.is_empty() && num.len() <= 15 && num.bytes().all(|b| b.is_ascii_digit()) { num } else { "0" };
    Writer::new()
        .text("ssnid", &ssnid)
        .raw("num", num)
        .text("mtype", "EjectAgent")
        .raw("data", r#"{"reason":"leave"}"#)
        .finish()
}

/// Why a presence request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 401 or 403: the token (or the login key) was refused; the server's words.
    Unauthorized(String),
    /// HTTP 404 (a visitor not present).
    NotFound,
    /// Anything else: worth trying again later; why.
    Failed(String),
}

/// The text of a JSON answer the service gave: 2xx, JSON, and not `{err, msg}` (how it reports a
/// failure in a 200). An answer wrapped in an XML element (the settings service may send one) is
/// unwrapped first.
pub fn json_answer(reply: &Reply) -> Result<String, Refusal> {
    let (status, text) = match reply {
        Reply::Answered { status, text } => (*status, text.as_str()),
        _ => return Err(Refusal::Failed(reply.unreachable().unwrap_or_default().to_owned())),
    };
    let reason = || {
        let reason = shorten_reason(text);
        if reason.is_empty() {
            crate::text::concat(&["HTTP ", &decimal(status.into())])
        } else {
            reason
        }
    };
    // A refusal's words: the `msg` of a `{err, msg}` answer, else the body's text.
    let refusal = || match Json::parse(text).as_ref().and_then(Json::as_object).and_then(|answer| answer.get("msg")) {
        Some(Json::Text(msg)) => shorten_reason(msg),
        _ => reason(),
    };
    match status {
        401 | 403 => return Err(Refusal::Unauthorized(refusal())),
        404 => return Err(Refusal::NotFound),
        200..=299 => {}
        _ => return Err(Refusal::Failed(reason())),
    }
    let text = match text.trim_start().starts_with('<') {
        true => {
            crate::xml::XmlDocument::parse(text).map_or(text.to_owned(), |document| document.root().text().to_owned())
        }
        false => text.to_owned(),
    };
    let failed = match Json::parse(&text) {
        None => true,
        Some(Json::Object(object)) => object.has("err") && object.has("msg"),
        Some(_) => false,
    };
    if failed {
        return Err(Refusal::Failed(reason()));
    }
    Ok(text)
}

/// Unix seconds of an ISO 8601 time as `authTokeExp` gives it: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, `Z`, an offset `±HH:MM`, or no zone (UTC).
pub fn iso_time(text: &str) -> Option<u64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    // The fixed part: digits where the pattern has `0`, the separators where it has them.
    const PATTERN: &[u8; 19] = b"0000-00-00T00:00:00";
    let fixed = PATTERN.iter().zip(bytes).all(|(&want, &have)| match want {
        b'0' => have.is_ascii_digit(),
        b'T' => have == b'T' || have == b' ',
        _ => have == want,
    });
    if bytes.len() < PATTERN.len() || !fixed {
        return None;
    }
    let field = |from: usize, to: usize| Some(digits(text.get(from..to)?)? as i64);
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest.as_bytes() {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let two = |a: u8, b: u8| {
                Some(i64::from(
                    a.checked_sub(b'0').filter(|d| *d <= 9)? * 10 + b.checked_sub(b'0').filter(|d| *d <= 9)?,
                ))
            };
            let seconds = two(*h1, *h2)? * 3600 + two(*m1, *m2)? * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(seconds).ok()
}

/// A socket frame, read: its kind, its `data` (the object's text, when an object), and its
/// `keepalive`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFrame {
    /// What it is, by `mtype` (or else `type`).
    pub kind: Frame,
    /// `data`, when it is an object (its text).
    pub data: Option<String>,
    /// `data.connected`, truthy.
    pub connected: bool,
    /// `data.status`, when a string.
    pub status: Option<String>,
    /// `data.direct`, when a string.
    pub direct: Option<String>,
    /// The top-level `keepalive`, in whole seconds.
    pub keepalive: Option<i64>,
}

/// Reads a frame: JSON text of an object with a string `mtype` or `type`. Anything else (not JSON,
/// `null`, an array, a frame without a kind) is `None`.
pub fn read_frame(text: &str) -> Option<ReadFrame> {
    let json = Json::parse(text)?;
    let frame = json.as_object()?;
    let name = ["mtype", "type"].into_iter().find_map(|field| match frame.get(field) {
        Some(Json::Text(name)) => Some(name.as_ref()),
        _ => None,
    })?;
    let data = frame.get("data").and_then(Json::as_object);
    let text = |field| match data.and_then(|data| data.get(field)) {
        Some(Json::Text(text)) => Some(text.to_string()),
        _ => None,
    };
    Some(ReadFrame {
        kind: Frame::named(name),
        data: data.map(|data| data.raw().to_owned()),
        connected: data.is_some_and(|data| data.truthy("connected")),
        status: text("status"),
        direct: text("direct"),
        keepalive: frame.get("keepalive").and_then(Json::whole_number),
    })
}

/// Where the `EjectAgent` message goes: `<scheme>://<servername>/agent/message`, `None` for a server
/// name that is not a host.
pub fn leave_url(secure: bool, servername: &str) -> Option<String> {
    is_host(servername.trim()).then(|| {
        crate::text::concat(&[if secure { "https://" } else { "http://" }, servername.trim(), "/agent/message"])
    })
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
        let body: serde_json::Value = serde_json::from_str(&authorize_body(&credentials())).unwrap();
        assert_eq!(body["partnerid"], 20541, "a number");
        assert_eq!(body["partneruserid"], "jo & co");
        assert_eq!(body["loginkey"], credentials().login_key().as_str());
    }

    #[test]
    fn a_token_is_a_string_or_an_object_and_is_renewed_before_it_expires() {
        let now = 1_000_000;
        let answer = |text: &str| Token::from_answer(&Json::parse(text).expect("JSON"), now);
        let plain = answer(r#""abc""#).unwrap();
        assert_eq!(plain, Token { value: "abc".into(), expires: now + 7200 });
        // 1970-01-12T14:16:40Z is 1,001,800 s.
        let object = answer(r#"{"authToken":"jwt","authTokeExp":"1970-01-12T14:16:40Z"}"#).unwrap();
        assert_eq!(object, Token { value: "jwt".into(), expires: 1_001_800 });
        assert!(!object.is_due_at(now) && object.is_due_at(1_001_500));
        let far = answer(r#"{"authToken":"jwt","authTokeExp":"2999-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(far.expires, now + 7200, "never held longer than asked for");
        let unreadable = answer(r#"{"authToken":"jwt","authTokeExp":"tomorrow"}"#).unwrap();
        assert_eq!(unreadable.expires, now + 7200);
        assert_eq!(answer("{}"), None);
        assert_eq!(answer(r#"" ""#), None);
        assert_eq!(answer("42"), None);
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
        let connect = connect_frame("T", "20541", "v1");
        assert_eq!(
            connect,
            r#"{"type":"connect","authorization":"T","groupid":"20541","visitorid":"v1","version":"6.25.0"}"#
        );
    }

    #[test]
    fn keepalive_is_clamped_and_has_a_default() {
        assert_eq!(keepalive_ms(None), 30_000);
        assert_eq!(keepalive_ms(Some(0)), 5_000, "not 600 frames a second");
        assert_eq!(keepalive_ms(Some(45)), 45_000);
        assert_eq!(keepalive_ms(Some(1_000_000_000)), 300_000);
        assert_eq!(keepalive_ms(Some(-3)), 5_000);
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
        let args = Json::parse(r#"{"sessionKey":1,"lang":"fr"}"#).unwrap();
        let args = args.as_object().unwrap();
        assert_eq!(
            invoke(true, SHOW_TERMS, args, "123456"),
            r#"{"type":"invoke","mtype":"invoke","data":{"func":"GLANCE.Cobrowse.VisitorUI.showTerms","args":{"lang":"fr","sessionKey":"123456"}}}"#
        );
        let empty = Json::parse("{}").unwrap();
        assert_eq!(
            invoke(false, SHOW_TERMS, empty.as_object().unwrap(), "7"),
            r#"{"mtype":"invoke","data":{"func":"GLANCE.Cobrowse.VisitorUI.showTerms","args":{"sessionKey":"7"}}}"#
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
        let session = AgentSession {
            passcode: "12\"34".into(),
            disambiguateId: "846930886".into(),
            num: " 2 ".into(),
            ..AgentSession::default()
        };
        let json = eject_agent("20541", &session);
        assert_eq!(
            json,
            r#"{"ssnid":"20541.12\"34.846930886","num":2,"mtype":"EjectAgent","data":{"reason":"leave"}}"#
        );
        assert_eq!(leave_url(true, "s1.glance.net").as_deref(), Some("https://s1.glance.net/agent/message"));
        assert_eq!(leave_url(true, "evil/x"), None);
    }

    #[test]
    fn iso_times_read_as_unix_seconds() {
        assert_eq!(iso_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_time("2026-12-07T10:11:12Z"), Some(1_796_638_272));
        assert_eq!(iso_time("2026-12-07T10:11:12.345Z"), Some(1_796_638_272));
        assert_eq!(iso_time("2026-12-07T11:11:12+01:00"), Some(1_796_638_272));
        assert_eq!(iso_time("2026-12-07T10:11:12"), Some(1_796_638_272), "no zone: UTC");
        assert_eq!(iso_time("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in ["", "2026-13-01T00:00:00Z", "2026-12-07", "2026/12/07T10:11:12Z", "2026-12-07T10:11:12+1", "x"] {
            assert_eq!(iso_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn answers_are_json_unless_refused_or_failed() {
        let ok = |text: &str| Reply::Answered { status: 200, text: text.into() };
        assert_eq!(json_answer(&ok(r#"{"a":1}"#)).as_deref(), Ok(r#"{"a":1}"#));
        assert_eq!(json_answer(&ok(r#"<string>{"presenceUrl":""}</string>"#)).as_deref(), Ok(r#"{"presenceUrl":""}"#));
        assert_eq!(json_answer(&ok(r#"{"err":1,"msg":"no"}"#)), Err(Refusal::Failed(r#"{"err":1,"msg":"no"}"#.into())));
        assert_eq!(json_answer(&ok("not json")), Err(Refusal::Failed("not json".into())));
        let status = |status, text: &str| Reply::Answered { status, text: text.into() };
        assert_eq!(json_answer(&status(403, "")), Err(Refusal::Unauthorized("HTTP 403".into())));
        let refused = json_answer(&status(401, r#"{"err":"unauthorized","msg":"The login key has expired"}"#));
        assert_eq!(refused, Err(Refusal::Unauthorized("The login key has expired".into())), "the service's words");
        assert_eq!(json_answer(&status(401, r#"{"msg":7}"#)), Err(Refusal::Unauthorized(r#"{"msg":7}"#.into())));
        assert_eq!(json_answer(&status(404, "x")), Err(Refusal::NotFound));
        assert_eq!(json_answer(&status(503, "busy")), Err(Refusal::Failed("busy".into())));
        assert_eq!(json_answer(&Reply::TimedOut), Err(Refusal::Failed("the request timed out".into())));
    }

    #[test]
    fn frames_read_their_kind_data_and_keepalive() {
        let frame = read_frame(r#"{"type":"connected","keepalive":45}"#).unwrap();
        assert_eq!((frame.kind, frame.keepalive, frame.data), (Frame::Connected, Some(45), None));
        let sock = read_frame(r#"{"mtype":"visitorsock","type":"x","data":{"connected":1,"direct":"d:1"}}"#).unwrap();
        assert_eq!(sock.kind, Frame::VisitorSocket, "mtype first");
        assert!(sock.connected);
        assert_eq!(sock.direct.as_deref(), Some("d:1"));
        assert_eq!(sock.data.as_deref(), Some(r#"{"connected":1,"direct":"d:1"}"#));
        for dropped in ["null", "[]", "{}", r#"{"type":5}"#, "not json", r#"{"type":"terms""#] {
            assert_eq!(read_frame(dropped), None, "{dropped}");
        }
        let terms = read_frame(r#"{"type":"terms","data":{"status":"Declined"}}"#).unwrap();
        assert_eq!(terms.status.as_deref(), Some("Declined"));
        assert_eq!(read_frame(r#"{"type":"presence","data":"text"}"#).unwrap().data, None, "data not an object");
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
