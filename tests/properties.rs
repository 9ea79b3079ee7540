//! Property tests of the pure core: its parsers and builders fed generated input, natively, with proptest.
//!
//! Each property states what the module documents for every input, not only that nothing panics. The
//! number of cases per property is proptest's default (256) unless `PROPTEST_CASES` sets another, e.g.
//! `PROPTEST_CASES=20000` for a long run.
#![cfg(not(target_arch = "wasm32"))]

use glance_agent::credentials::{
    safe_integer, sso_credentials, Credentials, LoginKey, PartnerIdInput, MAX_SAFE_INTEGER, RENEW_BEFORE_S,
    SIGNATURE_LEN,
};
use glance_agent::error::{shorten_reason, MAX_REASON_CHARS};
use glance_agent::events::Listeners;
use glance_agent::form;
use glance_agent::json::{push_string, Json, Writer};
use glance_agent::presence::{
    iso_time, keepalive_ms, rest_url, visitor_id, Pause, Token, KEEPALIVE_MAX_S, KEEPALIVE_MIN_S, MAX_VISITOR_ID_CHARS,
    TOKEN_MINUTES,
};
use glance_agent::protocol::{
    read_lookup, read_sessions, session_key, session_viewer_url, Failure, FormRequest, Lookup, Reply, ViewerTarget,
    LOOKUP_PATH, MAX_SESSION_KEY_LEN,
};
use glance_agent::schedule::{Schedule, LONG_PAUSE_MS, MAX_ATTEMPTS, SHORT_PAUSE_MS};
use glance_agent::settings::request_timeout;
use glance_agent::url::{HttpUrl, UrlParts, Webserver};
use glance_agent::xml::XmlDocument;
use proptest::prelude::*;
use proptest::sample::select;

/// Pieces the parsers treat specially, so that runs of them reach the interesting branches often.
const FRAGMENTS: &[&str] = &[
    "%",
    "%4",
    "%41",
    "%20",
    "%25",
    "%C3",
    "%A9",
    "+",
    "&",
    "=",
    "$",
    "$1$",
    "#",
    "?",
    "/",
    ":",
    "~",
    " ",
    "\t",
    "\n",
    "\u{0}",
    "\u{7f}",
    "0",
    "1",
    "9",
    "007",
    "a",
    "Z",
    "é",
    "☃",
    "😀",
    "<",
    ">",
    "</",
    "/>",
    "&amp;",
    "&#65;",
    "&x;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml?>",
    "\"",
    "'",
];

/// Any text: arbitrary Unicode (controls included), printable ASCII, or a run of [`FRAGMENTS`].
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,40}",
        "[ -~]{0,60}",
        prop::collection::vec(select(FRAGMENTS), 0..24).prop_map(|parts| parts.concat()),
    ]
}

/// Text that is not an XML tag's content: no markup characters.
fn plain() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ./:=?_é☃-]{0,30}"
}

/// Pieces of XML, well-formed and not, for documents the two readers must read alike.
const XML_PIECES: &[&str] = &[
    "<a>",
    "</a>",
    "<b>",
    "</b>",
    "<c>",
    "</c>",
    "<a/>",
    "<b />",
    "<g:a xmlns:g='u'>",
    "</g:a>",
    "<b x=\"1>2\" y='/'>",
    "text",
    " ",
    "\n",
    "\r\n",
    "\r",
    "é☃",
    "&amp;",
    "&lt;&gt;&quot;&apos;",
    "&#65;",
    "&#x1F600;",
    "&#xD800;",
    "&#0;",
    "&bad;",
    "&",
    "<",
    ">",
    "<![CDATA[x<y&z\r\n]]>",
    "<!-- c -->",
    "<?pi x?>",
    "<!DOCTYPE r>",
    "]]>",
    "</",
    "< a>",
    "<a",
    "\u{feff}",
];

/// Documents made of [`XML_PIECES`], often inside a root element.
fn xml_like() -> impl Strategy<Value = String> {
    (prop::collection::vec(select(XML_PIECES), 0..12), any::<bool>(), any::<bool>()).prop_map(
        |(pieces, wrap, declared)| {
            let inner = pieces.concat();
            let body = if wrap { format!("<a>{inner}</a>") } else { inner };
            if declared {
                format!("<?xml version=\"1.0\"?>\n{body}\n")
            } else {
                body
            }
        },
    )
}

/// The same reading with quick-xml, for comparison: the root's name and text content, and the text
/// contents of the elements named `a`, `b` and `c` below it, in order. The module's reader is
/// stricter in one way: an element without a name (`< >`) is not XML, and it refuses it.
mod oracle {
    use quick_xml::events::Event;
    use quick_xml::Reader;

    type Reading = (String, String, [Vec<String>; 3]);

    pub fn read(body: &str) -> Option<Reading> {
        let mut reader = Reader::from_str(body);
        // Each element: local name, parent, text range.
        let mut elements: Vec<(String, Option<usize>, usize, usize)> = Vec::new();
        let mut text = String::new();
        let mut open: Vec<usize> = Vec::new();
        let mut closed_root = false;
        loop {
            let event = reader.read_event().ok()?;
            let inside = !open.is_empty();
            match event {
                Event::Start(ref start) | Event::Empty(ref start) if !closed_root => {
                    let name = String::from_utf8(start.local_name().as_ref().to_vec()).ok()?;
                    if start.name().as_ref().is_empty() {
                        return None;
                    }
                    elements.push((name, open.last().copied(), text.len(), text.len()));
                    if matches!(event, Event::Start(_)) {
                        open.push(elements.len() - 1);
                    }
                }
                Event::End(_) => {
                    let index = open.pop()?;
                    elements[index].3 = text.len();
                    closed_root = open.is_empty();
                }
                Event::Text(t) if inside => text.push_str(&t.xml10_content().ok()?),
                Event::CData(data) if inside => text.push_str(&data.decode().ok()?),
                Event::GeneralRef(reference) if inside => {
                    if reference.is_char_ref() {
                        text.push(reference.resolve_char_ref().ok()??);
                    } else {
                        text.push_str(quick_xml::escape::resolve_predefined_entity(&reference.decode().ok()?)?);
                    }
                }
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof if closed_root => break,
                _ => return None,
            }
            if elements.len() == 1 && open.is_empty() {
                closed_root = true;
            }
        }
        let within = |mut index: usize| loop {
            match elements[index].1 {
                Some(0) => return true,
                Some(parent) => index = parent,
                None => return false,
            }
        };
        let texts = ["a", "b", "c"].map(|tag| {
            (1..elements.len())
                .filter(|&index| within(index) && elements[index].0 == tag)
                .map(|index| text[elements[index].2..elements[index].3].to_owned())
                .collect()
        });
        Some((elements[0].0.clone(), text[elements[0].2..elements[0].3].to_owned(), texts))
    }
}

/// Pieces of JSON, well-formed and not. (No exponents: one past f64's range is JSON that serde_json
/// refuses.)
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"a\"",
    "\"\\u00e9\"",
    "\"\\x\"",
    "\\",
    "1",
    "-",
    "0",
    "01",
    ".",
    "2.5",
    "true",
    "false",
    "null",
    "tru",
    " ",
    "\n",
    "x",
    "é",
];

/// Escapes text for an XML element's content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const SIGNATURE_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

fn login_key() -> impl Strategy<Value = (String, u64)> {
    (0..=9_999_999_999u64, prop::collection::vec(select(SIGNATURE_CHARS.chars().collect::<Vec<_>>()), SIGNATURE_LEN))
        .prop_map(|(expires, signature)| {
            (format!("$1${expires}${}", signature.into_iter().collect::<String>()), expires)
        })
}

fn credentials() -> impl Strategy<Value = Credentials> {
    (login_key(), 1..=MAX_SAFE_INTEGER, "(?s).{1,20}").prop_map(|((key, _), pid, puid)| {
        Credentials::new(Some(key), PartnerIdInput::Number(pid as f64), Some(puid)).expect("well-formed")
    })
}

/// A URL's parts as a browser gives them, on one of a few origins.
fn url(origin: &'static str, path: &str, query: &str) -> Option<HttpUrl> {
    let (protocol, host) = origin.split_once("//")?;
    HttpUrl::from_parts(UrlParts {
        protocol: protocol.to_owned(),
        user_info: false,
        origin: origin.to_owned(),
        host: host.to_owned(),
        path: ["/", path].concat(),
        search: if query.is_empty() { String::new() } else { ["?", query].concat() },
        hash: String::new(),
    })
}

fn decoded(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

proptest! {
    #[test]
    fn well_formed_login_keys_parse_and_know_their_expiry((text, expires) in login_key(), now in any::<u64>()) {
        let key = LoginKey::parse(text.clone()).expect("well-formed");
        prop_assert_eq!(key.expires(), expires);
        prop_assert_eq!(key.as_str(), text.as_str());
        prop_assert_eq!(key.is_expired_at(now), now >= expires);
        prop_assert_eq!(key.is_due_for_renewal_at(now), now.saturating_add(RENEW_BEFORE_S) >= expires);
        if let Some(ms) = key.renewal_in_ms(now) {
            prop_assert_eq!(ms, (expires - RENEW_BEFORE_S - now) * 1000, "the renewal comes a minute ahead");
        }
    }

    #[test]
    fn anything_else_is_not_a_login_key(text in text()) {
        let shape = text.strip_prefix("$1$").and_then(|rest| rest.split_once('$')).is_some_and(|(expires, signature)| {
            !expires.is_empty() && expires.bytes().all(|b| b.is_ascii_digit()) && expires.parse::<u64>().is_ok()
                && signature.len() == SIGNATURE_LEN && signature.chars().all(|c| SIGNATURE_CHARS.contains(c))
        });
        prop_assert_eq!(LoginKey::parse(text).is_ok(), shape);
    }

    #[test]
    fn partner_ids_are_positive_whole_numbers_however_given(n in any::<f64>(), digits in "[0-9]{0,18}") {
        let key = || Some(format!("$1$1${}", "a".repeat(SIGNATURE_LEN)));
        let numbered = Credentials::new(key(), PartnerIdInput::Number(n), Some("a".into()));
        prop_assert_eq!(numbered.map(|c| c.partner_id().to_owned()).ok(), safe_integer(n).filter(|&n| n >= 1).map(|n| n.to_string()));
        let texted = Credentials::new(key(), PartnerIdInput::Text(digits.clone()), Some("a".into()));
        let expected = digits.parse::<u64>().ok().filter(|&n| n >= 1 && digits.len() <= 16).map(|n| n.to_string());
        prop_assert_eq!(texted.map(|c| c.partner_id().to_owned()).ok(), expected);
    }

    #[test]
    fn sign_in_answers_round_trip(credentials in credentials()) {
        let mut fields = form_urlencoded::Serializer::new(String::new());
        fields.append_pair("partnerid", credentials.partner_id()).append_pair("partneruserid", credentials.partner_user_id());
        let answer = [fields.finish(), "~".into(), credentials.login_key().as_str().to_owned()].concat();
        prop_assert_eq!(sso_credentials(&answer), Ok(credentials));
    }

    #[test]
    fn a_form_request_carries_every_value_exactly(credentials in credentials(), key in "(?s).{0,40}") {
        let request = FormRequest::new(LOOKUP_PATH, &Webserver::GLANCE, &credentials, &key);
        let fields = decoded(&request.body);
        let expected: Vec<(String, String)> = credentials.fields().iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .chain([("ssnkey".to_owned(), key)])
            .collect();
        prop_assert_eq!(fields, expected);
        prop_assert!(request.body.bytes().all(|b| b.is_ascii_graphic()), "nothing in the body needs escaping twice");
    }

    #[test]
    fn session_keys_are_trimmed_printable_and_bounded(text in text()) {
        match session_key(&text) {
            Ok(key) => {
                prop_assert_eq!(key.as_str(), text.trim());
                prop_assert!(!key.is_empty() && key.chars().count() <= MAX_SESSION_KEY_LEN);
                prop_assert!(!key.chars().any(char::is_control));
            }
            Err(error) => prop_assert_eq!(error.code(), "invalid_argument"),
        }
    }

    #[test]
    fn credentials_go_only_to_the_webservers_own_viewer(
        credentials in credentials(),
        origin in select(vec!["https://www.glance.net", "https://evil.example", "http://www.glance.net"]),
        query in "[a-zA-Z=&]{0,20}",
        post in any::<bool>(),
    ) {
        let target = ViewerTarget::new(&Webserver::GLANCE, url(origin, "agentjoin/AgentView.aspx", &query), Some(&credentials))
            .expect("an http URL");
        let sent: Vec<(String, String)> = if post {
            target.post_fields()
        } else {
            decoded(target.get_url().split_once('?').map_or("", |(_, query)| query))
        };
        let carries_key = sent.iter().any(|(_, value)| value == credentials.login_key().as_str());
        let asked = decoded(&query).iter().any(|(name, _)| name.eq_ignore_ascii_case("loginkey"));
        prop_assert_eq!(carries_key, origin == "https://www.glance.net" && !asked);
    }

    #[test]
    fn the_viewers_get_url_keeps_its_query_and_adds_the_key(key in "(?s).{1,30}", extra in plain()) {
        let mut target = ViewerTarget::new(&Webserver::GLANCE, url("https://www.glance.net", "agentjoin/AgentView.aspx",
            &session_viewer_url(&Webserver::GLANCE, &key).split_once('?').map_or(String::new(), |(_, q)| q.to_owned())), None)
            .expect("an http URL");
        target.add_params(&[("name", extra.as_str())]);
        let query = decoded(target.get_url().split_once('?').map_or("", |(_, query)| query));
        prop_assert_eq!(query, vec![("SessionKey".to_owned(), key.clone()), ("name".to_owned(), extra)]);
        let names: Vec<String> = target.post_fields().into_iter().map(|(name, _)| name).collect();
        prop_assert_eq!(names, vec!["SESSIONKEY".to_owned(), "NAME".to_owned()]);
    }

    #[test]
    fn xml_elements_give_back_their_text(texts in prop::collection::vec(plain(), 1..6), wrap in any::<bool>()) {
        let body: String = texts.iter().enumerate().map(|(at, text)| format!("<e{at}>{}</e{at}>", escape(text))).collect();
        let body = if wrap { format!("<?xml version=\"1.0\"?><r xmlns=\"urn:x\"><g:w xmlns:g=\"urn:g\">{body}</g:w></r>") } else { format!("<r>{body}</r>") };
        let document = XmlDocument::parse(&body).expect("well-formed");
        for (at, text) in texts.iter().enumerate() {
            prop_assert_eq!(document.first_text(&format!("e{at}")), Some(text.as_str()));
        }
        prop_assert_eq!(document.root().text(), texts.concat());
    }

    #[test]
    fn the_xml_reader_reads_what_quick_xml_reads(body in xml_like()) {
        let ours = XmlDocument::parse(&body).map(|document| {
            let root = document.root();
            let texts = ["a", "b", "c"].map(|tag| root.descendants(tag).map(|e| e.text().to_owned()).collect::<Vec<_>>());
            (root.name().to_owned(), root.text().to_owned(), texts)
        });
        prop_assert_eq!(ours, oracle::read(&body), "{:?}", body);
    }

    #[test]
    fn any_text_is_read_or_refused_without_panicking(body in text()) {
        if let Some(document) = XmlDocument::parse(&body) {
            prop_assert!(body.contains('<'), "a document has a root element");
            prop_assert!(!document.root().name().is_empty());
        }
    }

    #[test]
    fn every_reply_is_classified(status in prop_oneof![Just(200u16), Just(401), Just(403), Just(404), Just(429), Just(500), 100..600u16], body in text()) {
        let reply = Reply::Answered { status, text: body.clone() };
        match read_lookup(&reply) {
            Ok(Lookup::Found(result)) => prop_assert!((200..300).contains(&status) && !result.agentjoinurl.is_empty()),
            Ok(Lookup::NotFound) => prop_assert!((200..300).contains(&status)),
            Err(Failure::Transient(reason)) => prop_assert!(status >= 500 || status == 408 || status == 429, "{}", reason),
            Err(Failure::KeyRefused(_)) => prop_assert!((200..300).contains(&status) || status == 401 || status == 403),
            Err(Failure::Refused(reason)) => {
                prop_assert!(!reason.is_empty());
                prop_assert!(reason.chars().count() <= MAX_REASON_CHARS);
            }
        }
        // The agent's sessions are read from the same replies by the same rules.
        if let Ok(sessions) = read_sessions(&reply) {
            prop_assert!((200..300).contains(&status));
            prop_assert!(sessions.len() <= body.matches("session2").count());
        }
    }

    #[test]
    fn reasons_are_trimmed_and_bounded(text in "(?s).{0,3000}") {
        let reason = shorten_reason(&text);
        prop_assert!(reason.chars().count() <= MAX_REASON_CHARS);
        prop_assert!(text.trim().starts_with(&reason));
        prop_assert_eq!(reason.trim(), reason.as_str());
    }

    #[test]
    fn request_timeouts_are_whole_milliseconds_in_range(value in prop_oneof![any::<f64>(), (0..700_000u32).prop_map(f64::from)]) {
        let expected = (value.fract() == 0.0 && (1.0..=600_000.0).contains(&value)).then_some(value as u32);
        prop_assert_eq!(request_timeout(Some(value)).ok(), expected);
    }

    #[test]
    fn listeners_behave_like_a_list_of_registrations(ops in prop::collection::vec((any::<bool>(), prop::option::of(0..3u8), 0..4u8), 0..40)) {
        let mut listeners = Listeners::new();
        let mut model: Vec<(Option<u8>, u8, u64)> = Vec::new();
        for (add, name, handler) in ops {
            let label = name.map(|n| n.to_string());
            if add {
                let serials: Vec<u64> = model.iter().map(|(_, _, serial)| *serial).collect();
                let serial = listeners.add(label.as_deref(), handler);
                match model.iter().find(|(n, h, _)| (*n, *h) == (name, handler)) {
                    Some((_, _, existing)) => prop_assert_eq!(serial, *existing, "added once: its own serial"),
                    None => {
                        prop_assert!(serials.iter().all(|&other| other < serial), "a new, larger serial");
                        model.push((name, handler, serial));
                    }
                }
            } else {
                let removed = listeners.remove(label.as_deref(), &handler);
                prop_assert_eq!(removed, model.iter().any(|(n, h, _)| (*n, *h) == (name, handler)));
                model.retain(|(n, h, _)| (*n, *h) != (name, handler));
            }
        }
        for event in 0..3u8 {
            let heard: Vec<u8> = listeners.for_event(&event.to_string()).iter().map(|l| *l.handler()).collect();
            let named = model.iter().filter(|(name, _, _)| *name == Some(event)).map(|(_, h, _)| *h);
            let every = model.iter().filter(|(name, _, _)| name.is_none()).map(|(_, h, _)| *h);
            prop_assert_eq!(heard, named.chain(every).collect::<Vec<_>>(), "named first, then every-event, in order added");
        }
    }
}

proptest! {
    #[test]
    fn forms_are_written_as_the_form_urlencoded_crate_writes_them(pairs in prop::collection::vec((text(), text()), 0..5)) {
        let expected = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .finish();
        prop_assert_eq!(form::encode(&pairs.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect::<Vec<_>>()), expected);
    }

    #[test]
    fn forms_are_read_as_the_form_urlencoded_crate_reads_them(query in prop_oneof![text(), "[a-z%0-9A-F+&=\\x80-\\xff]{0,40}"]) {
        prop_assert_eq!(form::decode(&query), decoded(&query));
    }

    #[test]
    fn any_visitor_id_reaches_the_presence_server_intact(text in text(), host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?") {
        match visitor_id(&text) {
            Some(id) => {
                prop_assert_eq!(id.as_str(), text.trim());
                prop_assert!(id.chars().count() <= MAX_VISITOR_ID_CHARS && !id.chars().any(char::is_control));
                let url = rest_url(true, &host, "findvisitor", "20541", &id);
                let (base, query) = url.split_once('?').expect("a query");
                prop_assert_eq!(base, format!("https://{host}/findvisitor"));
                prop_assert!(!query.contains("&&") && !query.contains('#'), "D12: no doubled & and no raw #");
                let pairs = decoded(query);
                prop_assert_eq!(pairs, vec![
                    ("groupid".to_owned(), "20541".to_owned()),
                    ("visitorid".to_owned(), id.clone()),
                    ("ver".to_owned(), "6.25.0".to_owned()),
                ]);
            }
            None => {
                let trimmed = text.trim();
                prop_assert!(trimmed.is_empty() || trimmed.chars().any(char::is_control)
                    || trimmed.chars().count() > MAX_VISITOR_ID_CHARS);
            }
        }
    }

    #[test]
    fn pauses_stay_within_their_bounds_and_never_shrink(attempt in 0..64u32, jitter in any::<f64>()) {
        for pause in [Pause::Reconnect, Pause::LookForVisitor] {
            let ms = pause.ms(attempt, jitter);
            prop_assert!((500..=pause.longest_ms()).contains(&ms), "{:?} {}", pause, ms);
            prop_assert!(pause.ms(attempt + 1, jitter) >= ms);
        }
    }

    #[test]
    fn the_keepalive_period_is_always_clamped(seconds in prop::option::of(any::<i64>())) {
        let ms = keepalive_ms(seconds);
        prop_assert!((KEEPALIVE_MIN_S * 1000..=KEEPALIVE_MAX_S * 1000).contains(&ms), "{}", ms);
    }

    #[test]
    fn tokens_are_header_safe_and_never_outlive_the_time_asked_for(
        token in text(),
        as_object in any::<bool>(),
        expiry in prop::option::of(text()),
        now in 0..4_000_000_000u64,
    ) {
        let mut answer = String::new();
        if as_object {
            let mut writer = Writer::new().text("authToken", &token);
            if let Some(expiry) = &expiry {
                writer = writer.text("authTokeExp", expiry);
            }
            answer = writer.finish();
        } else {
            push_string(&mut answer, &token);
        }
        let json = Json::parse(&answer).expect("the writer writes JSON");
        match Token::from_answer(&json, now) {
            Some(held) => {
                prop_assert_eq!(&held.value, &token);
                prop_assert!(!held.value.is_empty() && held.value.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert!(held.expires <= now + TOKEN_MINUTES * 60);
                prop_assert!(held.is_due_at(held.expires), "due by its expiry at the latest");
            }
            None => prop_assert!(token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic())),
        }
    }

    #[test]
    fn what_the_writer_writes_reads_back_and_serde_json_agrees(
        members in prop::collection::vec((text(), text()), 0..6),
    ) {
        let mut writer = Writer::new();
        for (name, value) in &members {
            writer = writer.text(name, value);
        }
        let text = writer.finish();
        let standard: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).expect("valid JSON");
        let json = Json::parse(&text).expect("read back");
        let object = json.as_object().expect("an object");
        for (name, value) in &members {
            // The last of twin names counts, in both readers.
            prop_assert_eq!(object.text(name), standard.get(name.as_str()).and_then(|v| v.as_str()));
            let _ = value;
        }
    }

    #[test]
    fn any_json_serde_json_writes_is_read_and_its_strings_survive(value in json_value()) {
        let text = serde_json::to_string(&value).expect("serializable");
        let json = Json::parse(&text);
        prop_assert!(json.is_some(), "{}", text);
        if let (Some(Json::Object(object)), serde_json::Value::Object(map)) = (&json, &value) {
            for (name, member) in map {
                if let serde_json::Value::String(string) = member {
                    prop_assert_eq!(object.text(name), Some(string.as_str()));
                }
            }
            let reread: serde_json::Value = serde_json::from_str(object.raw()).expect("raw is JSON");
            prop_assert_eq!(&reread, &value, "an object's raw text is the object");
        }
    }

    #[test]
    fn what_is_not_json_is_refused(pieces in prop::collection::vec(select(JSON_PIECES), 0..14)) {
        let text = pieces.concat();
        let standard = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        prop_assert_eq!(Json::parse(&text).is_some(), standard, "{:?}", text);
    }

    #[test]
    fn iso_times_are_read_as_calendar_seconds(seconds in 0..253_402_300_799u64) {
        let (days, rest) = (seconds / 86_400, seconds % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        let text = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60);
        prop_assert_eq!(iso_time(&text), Some(seconds), "{}", text);
    }
}

/// The civil date of a day count from 1970-01-01 (the inverse of what `iso_time` computes).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        text().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(text(), inner, 0..5)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

#[test]
fn the_schedule_is_the_production_plan() {
    let pauses: Vec<u32> = Schedule::new(true).collect();
    assert_eq!(pauses.len() as u32, MAX_ATTEMPTS);
    assert!(pauses[1..7].iter().all(|&p| p == SHORT_PAUSE_MS) && pauses[7..].iter().all(|&p| p == LONG_PAUSE_MS));
}
