//! Property tests of the pure core: its parsers and builders fed generated input, natively, with proptest.
//!
//! Each property states what the module documents (or what its unit tests show) for every input, not only
//! that nothing panics. The number of cases per property is proptest's default (256) unless the
//! `PROPTEST_CASES` environment variable sets another, e.g. `PROPTEST_CASES=20000` for a long run.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use glance_agent::allocator::{class_of, Memory, SizeClasses, PAGE};
use glance_agent::credentials::{Credentials, LoginKey, PartnerIdInput, MAX_PARTNER_USER_ID_LEN, SIGNATURE_LEN};
use glance_agent::encoding::{
    decimal, decode_component, encode_pairs, integer_text, is_utf8, parse_decimal, parse_query, push_component,
    push_decimal, safe_integer, MAX_SAFE_INTEGER,
};
use glance_agent::error::{shorten_reason, MAX_REASON_BYTES};
use glance_agent::events::{event_name, is_viewer_event_name, Listeners, MAX_EVENT_NAME_LEN};
use glance_agent::no_panic::{find_byte, remove_at, split_at, split_byte, split_once_byte};
use glance_agent::protocol::{
    session_key, session_key_from_number, session_viewer_url, Answer, AnswerDocument, LookupRequest, ViewerTarget,
    LOOKUP_PATH, MAX_SESSION_KEY_LEN, RESULT_FIELDS, VIEWER_PATH,
};
use glance_agent::schedule::{Schedule, LONG_PAUSE_MS, MAX_ATTEMPTS, SHORT_PAUSE_MS};
use glance_agent::url::{HttpUrl, Webserver, MAX_URL_LEN};
use glance_agent::AgentError;
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

/// Pieces that the parsers treat specially, so that concatenations of them reach the interesting branches
/// far more often than uniformly random characters would.
const FRAGMENTS: &[&str] = &[
    "%", "%4", "%41", "%2", "%20", "%25", "%C3", "%A9", "%c3%a9", "%FF", "%zz", "+", "&", "=", "$", "$1$", "#", "?",
    "/", "//", ":", "://", "@", "[", "]", "\\", ".", "-", "_", "~", " ", "\t", "\n", "\r", "\u{0}", "\u{7f}", "\u{b}",
    "\u{c}", "0", "1", "9", "007", "65535", "65536", "http", "HTTPS", "a", "Z", "é", "☃", "😀", "\u{a0}", "\u{200b}",
    "::1",
];

/// Longer pieces: schemes and hosts.
const WORDS: &[&str] = &["https://", "javascript:", "data:", "localhost", "www.glance.net"];

/// Any text: arbitrary Unicode (controls included), printable ASCII, or a run of [`FRAGMENTS`] and [`WORDS`].
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,40}",
        "[ -~]{0,60}",
        prop::collection::vec(prop_oneof![4 => select(FRAGMENTS), 1 => select(WORDS)], 0..24)
            .prop_map(|parts| parts.concat()),
    ]
}

/// Text from `base` with 1 to 3 characters inserted, deleted or replaced (new ones drawn from `alphabet`):
/// near misses, some still valid and most not.
fn mutated(base: impl Strategy<Value = String>, alphabet: &'static str) -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0..3u8, select(alphabet.chars().collect::<Vec<_>>()));
    (base, prop::collection::vec(edit, 1..4)).prop_map(|(base, edits)| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, kind, c) in edits {
            let at = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(at, c),
                _ if at == chars.len() => chars.push(c),
                1 => {
                    chars.remove(at);
                }
                _ => chars[at] = c,
            }
        }
        chars.into_iter().collect()
    })
}

/// Any JavaScript number, with the whole numbers around the interesting limits well represented.
fn js_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (0..=MAX_SAFE_INTEGER + 2).prop_map(|n| n as f64),
        (-1000i64..1000).prop_map(|n| n as f64),
        (-1000i64..1000).prop_map(|n| n as f64 + 0.5),
        select(&[0.0, -0.0, 1.0, 1e17, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE][..]),
        (MAX_SAFE_INTEGER - 2..=MAX_SAFE_INTEGER + 2).prop_map(|n| n as f64),
    ]
}

/// A well-formed login key and its expiry.
fn login_key() -> impl Strategy<Value = (String, u64)> {
    ("[0-9]{1,19}", "[A-Za-z0-9_-]{43}")
        .prop_map(|(expires, signature)| (["$1$", &expires, "$", &signature].concat(), expires.parse().unwrap()))
}

/// A partner id as a page may give it, and the canonical decimal it stands for.
fn partner_id() -> impl Strategy<Value = (PartnerIdText, String)> {
    prop_oneof![
        (1..=MAX_SAFE_INTEGER).prop_map(|n| (PartnerIdText::Number(n as f64), n.to_string())),
        ("[ \t\n]{0,2}", 1..=MAX_SAFE_INTEGER, "[ \r]{0,2}").prop_map(|(before, n, after)| (
            PartnerIdText::Text([&before, &*n.to_string(), &after].concat()),
            n.to_string()
        )),
    ]
}

/// An owned [`PartnerIdInput`], so that strategies can produce one.
#[derive(Debug, Clone)]
enum PartnerIdText {
    Number(f64),
    Text(String),
    Invalid,
}

impl PartnerIdText {
    fn input(&self) -> PartnerIdInput<'_> {
        match self {
            PartnerIdText::Number(n) => PartnerIdInput::Number(*n),
            PartnerIdText::Text(text) => PartnerIdInput::Text(text),
            PartnerIdText::Invalid => PartnerIdInput::Invalid,
        }
    }
}

/// A partner user id that `Credentials::new` accepts: any non-empty text up to the limit.
fn partner_user_id() -> impl Strategy<Value = String> {
    prop_oneof![text().prop_filter("non-empty", |id| !id.is_empty()), "[ -~]{1000,1024}"]
}

/// Valid credentials.
fn credentials() -> impl Strategy<Value = Credentials> {
    (login_key(), partner_id(), partner_user_id()).prop_map(|((key, _), (pid, _), puid)| {
        Credentials::new(Some(key), pid.input(), Some(puid)).expect("generated credentials are valid")
    })
}

/// Upper- or lower-cases each ASCII letter of `text` as `pattern` says.
fn mixed_case(text: &str, pattern: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| if pattern >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

/// An http(s) URL put together from parts, with the origin, path, query and fragment it must parse to.
#[derive(Debug, Clone)]
struct UrlParts {
    https: bool,
    /// Host as written (mixed case), e.g. `WWW.Example.com`, `10.0.0.1` or `[0:0::0001]`.
    host: String,
    /// Port as written after `:`, if any (may be empty or have leading zeros).
    port: Option<String>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
    /// Case pattern of the scheme.
    scheme_case: u64,
    /// Surrounding ASCII whitespace.
    padding: (String, String),
}

impl UrlParts {
    fn text(&self) -> String {
        let mut out = self.padding.0.clone();
        out.push_str(&mixed_case(if self.https { "https://" } else { "http://" }, self.scheme_case));
        out.push_str(&self.host);
        if let Some(port) = &self.port {
            out.push(':');
            out.push_str(port);
        }
        out.push_str(&self.without_origin());
        out.push_str(&self.padding.1);
        out
    }

    /// Path, query and fragment as written.
    fn without_origin(&self) -> String {
        let mut out = self.path.clone();
        if let Some(query) = &self.query {
            out.push('?');
            out.push_str(query);
        }
        if let Some(fragment) = &self.fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }

    fn origin(&self) -> String {
        let default_port = if self.https { 443 } else { 80 };
        let port = self.port.as_deref().filter(|port| !port.is_empty()).map(|port| port.parse::<u16>().unwrap());
        let host = self.host.to_ascii_lowercase();
        let mut origin = [if self.https { "https://" } else { "http://" }, &*host].concat();
        if let Some(port) = port.filter(|&port| port != default_port) {
            origin.push(':');
            origin.push_str(&port.to_string());
        }
        origin
    }
}

/// Host names and IPv4 addresses that the parser accepts as written.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        // The last label starts with a letter: browsers read a host ending in a number as an IPv4 address.
        "([a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\\.){0,3}[a-zA-Z]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\\.?",
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| [a, b, c, d].map(|n| n.to_string()).join(".")),
        Just("www.glance.net".to_owned()),
        Just("LocalHost".to_owned()),
    ]
}

/// A port as written, 1 to 65535: sometimes a default one, sometimes with leading zeros, sometimes empty.
fn port() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        (select(&[80u16, 443, 8080, 8443, 1, 65535][..]), 0..3usize)
            .prop_map(|(port, zeros)| Some(["0".repeat(zeros), port.to_string()].concat())),
        (1..=u16::MAX).prop_map(|port| Some(port.to_string())),
    ]
}

const PATH_CHARS: &str = "[A-Za-z0-9._~!$&'()*+,;=:@%é-]";

fn url_parts() -> impl Strategy<Value = UrlParts> {
    let regex = |pattern: String| prop::string::string_regex(&pattern).expect("valid regex");
    let path = regex(format!("(/{PATH_CHARS}{{0,8}}){{0,4}}/?"));
    let query = prop::option::of(regex(format!("({PATH_CHARS}|[/?]){{0,20}}")));
    let fragment = prop::option::of(regex(format!("({PATH_CHARS}|[/?#]){{0,10}}")));
    let padding = ("[ \t\n\r\u{c}]{0,2}", "[ \t\n\r\u{c}]{0,2}");
    (any::<bool>(), host(), port(), path, query, fragment, any::<u64>(), padding).prop_map(
        |(https, host, port, path, query, fragment, scheme_case, padding)| UrlParts {
            https,
            host,
            port,
            path,
            query,
            fragment,
            scheme_case,
            padding,
        },
    )
}

/// A webserver setting: production Glance, or a generated http(s) URL, maybe with a path and trailing slashes.
fn webserver() -> impl Strategy<Value = Webserver> {
    prop_oneof![
        Just(Webserver::default()),
        (url_parts(), "(/[a-z0-9]{1,6}){0,2}/{0,2}").prop_map(|(mut parts, path)| {
            (parts.path, parts.query, parts.fragment) = (path, None, None);
            Webserver::parse(&parts.text()).expect("generated webserver URLs are valid")
        }),
    ]
}

// ---------------------------------------------------------------------------------------------------------
// Oracles: the documented behaviour, written plainly with std
// ---------------------------------------------------------------------------------------------------------

/// `push_component` as documented: unreserved bytes as they are, every other byte as `%XX`.
fn reference_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `decode_component` as documented: `+` is a space, `%XX` a byte, a malformed escape stays as written, and
/// the component is kept as written if the bytes are not UTF-8.
fn reference_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            (byte, _, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// `trim_ascii` on a `str`.
fn trim_ascii(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// What `Credentials::new` documents for a login key: `$1$`, 1 to 19 digits, `$`, 43 base64url characters.
fn reference_login_key(text: &str) -> Option<u64> {
    let (expires, signature) = text.strip_prefix("$1$")?.split_once('$')?;
    let digits_ok = (1..=19).contains(&expires.len()) && expires.bytes().all(|b| b.is_ascii_digit());
    let signature_ok = signature.len() == SIGNATURE_LEN
        && signature.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if digits_ok && signature_ok {
        expires.parse().ok()
    } else {
        None
    }
}

/// A JavaScript number that is a whole number from 0 to `MAX_SAFE_INTEGER`.
fn reference_safe_integer(n: f64) -> Option<u64> {
    (n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(&n)).then_some(n as u64)
}

/// The partner id rule of `credentials.rs`: a positive whole number, or up to 16 digits (ASCII whitespace
/// around them ignored) that are not all zeros.
fn reference_partner_id(input: &PartnerIdText) -> Option<String> {
    let value = match input {
        PartnerIdText::Number(n) => reference_safe_integer(*n)?,
        PartnerIdText::Text(text) => {
            let digits = trim_ascii(text);
            if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()?
        }
        PartnerIdText::Invalid => return None,
    };
    (value >= 1).then(|| value.to_string())
}

/// `shorten_reason` as documented: trimmed, then cut to at most `MAX_REASON_BYTES` on a char boundary.
fn reference_reason(text: &str) -> String {
    let mut out = String::new();
    for c in trim_ascii(text).chars() {
        if out.len() + c.len_utf8() > MAX_REASON_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

/// A parsed answer body reduced to its elements in document order, or a body that was not XML.
#[derive(Debug, Clone)]
struct Document(Option<Vec<(String, String)>>);

impl AnswerDocument for Document {
    fn is_xml(&self) -> bool {
        self.0.is_some()
    }
    fn element_text(&self, tag: &str) -> Option<String> {
        self.0.as_ref()?.iter().find(|(name, _)| name == tag).map(|(_, text)| text.clone())
    }
}

/// Section 2 of PROTOCOL.md and the docs of `Answer::from_response`.
fn reference_answer(status: u16, body: &str, document: &Document) -> Answer {
    let reason = reference_reason(body);
    if !(200..300).contains(&status) {
        let transient = status >= 500 || status == 408 || status == 429;
        let reason = if reason.is_empty() { format!("HTTP {status}") } else { reason };
        return Answer::Failed { reason, transient };
    }
    let refused = Answer::Failed { reason, transient: false };
    if !document.is_xml() {
        return refused;
    }
    let text = |tag| document.element_text(tag).map(|text| trim_ascii(&text).to_owned());
    if text("agentjoinurl").is_some_and(|url| !url.is_empty()) {
        let mut fields: Vec<(&'static str, String)> =
            RESULT_FIELDS.iter().map(|&tag| (tag, text(tag).unwrap_or_default())).collect();
        fields.push(("service", "agent".to_owned()));
        return Answer::Found(fields);
    }
    if text("id").as_deref() == Some("0") {
        Answer::NotFound
    } else {
        refused
    }
}

/// The query of a URL that has no fragment: what follows the first `?`.
fn query_of(url: &str) -> &str {
    url.split_once('?').map_or("", |(_, query)| query)
}

fn owned_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    pairs.into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect()
}

fn upper_cased(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(name, value)| (name.to_ascii_uppercase(), value.clone())).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Credentials (PROTOCOL.md section 1)
// ---------------------------------------------------------------------------------------------------------

/// Login key candidates: well-formed keys, keys with a few characters inserted, deleted or replaced, other
/// near misses of the documented shape, and arbitrary text.
fn login_key_candidate() -> impl Strategy<Value = String> {
    let prefix = select(&["$1$", "$2$", "$1", "1$", "", "$$1$", " $1$"][..]);
    let expires = prop_oneof!["[0-9]{0,21}", "[0-9]{1,10}[ x.+-][0-9]{0,3}", text()];
    let separator = select(&["$", "$$", "", "%24"][..]);
    let signature = prop_oneof!["[A-Za-z0-9_-]{41,45}", "[A-Za-z0-9_-]{20,42}[=+/é ][A-Za-z0-9_-]{0,3}", text()];
    prop_oneof![
        1 => login_key().prop_map(|(key, _)| key),
        3 => mutated(login_key().prop_map(|(key, _)| key), "$019azAZ-_=+/ \n\u{0}é"),
        1 => (prefix, expires, separator, signature).prop_map(|(p, e, s, sig)| [p, &*e, s, &*sig].concat()),
        1 => text(),
    ]
}

proptest! {
    /// A login key parses exactly when it has the documented shape; then it keeps its text and expiry, and
    /// anything else is refused with `invalid_credentials`.
    #[test]
    fn login_keys_parse_exactly_when_well_formed(text in login_key_candidate()) {
        match (LoginKey::parse(text.clone()), reference_login_key(&text)) {
            (Ok(key), Some(expires)) => {
                prop_assert_eq!(key.expires(), expires);
                prop_assert_eq!(key.as_str(), text.as_str());
            }
            (Err(error), None) => {
                prop_assert_eq!(error.code(), "invalid_credentials");
                prop_assert!(error.message().contains("loginkey"));
            }
            (result, expected) => prop_assert!(false, "{text:?}: got {result:?}, expected expiry {expected:?}"),
        }
    }

    /// Every `$1$<1 to 19 digits>$<43 base64url>` key parses, and is valid exactly while now < expires.
    #[test]
    fn well_formed_login_keys_round_trip_their_expiry((text, expires) in login_key(), now in any::<u64>()) {
        let key = LoginKey::parse(text.clone()).expect("well-formed");
        prop_assert_eq!(key.expires(), expires);
        prop_assert_eq!(key.as_str(), text.as_str());
        prop_assert_eq!(key.is_expired_at(now), now >= expires);
        prop_assert!(key.is_expired_at(expires));
        prop_assert_eq!(key.is_expired_at(expires.saturating_sub(1)), expires == 0);
    }

    /// `Credentials::new` checks the login key, then the partner id, then the partner user id, and names the
    /// first bad field; accepted credentials hold the canonical partner id and the other two verbatim.
    #[test]
    fn credentials_are_checked_field_by_field(
        key in prop_oneof![login_key().prop_map(|(key, _)| Some(key)), prop::option::of(login_key_candidate())],
        pid in prop_oneof![
            partner_id().prop_map(|(pid, _)| pid),
            js_number().prop_map(PartnerIdText::Number),
            prop_oneof!["[ \t]?[0-9]{0,18}[ \n]?", "[ ]?0{1,17}", text()].prop_map(PartnerIdText::Text),
            Just(PartnerIdText::Invalid),
        ],
        puid in prop::option::of(prop_oneof![partner_user_id(), Just(String::new()), "[a-z]{1025,1030}"]),
    ) {
        let result = Credentials::new(key.clone(), pid.input(), puid.clone());
        let key_ok = key.as_deref().and_then(reference_login_key).is_some();
        let expected_pid = reference_partner_id(&pid);
        let puid_ok = puid.as_ref().is_some_and(|id| !id.is_empty() && id.len() <= MAX_PARTNER_USER_ID_LEN);
        match result {
            Ok(credentials) => {
                prop_assert!(key_ok && puid_ok);
                prop_assert_eq!(Some(credentials.partner_id()), expected_pid.as_deref());
                prop_assert_eq!(
                    credentials.fields(),
                    [
                        ("partnerid", credentials.partner_id()),
                        ("partneruserid", puid.as_deref().unwrap()),
                        ("loginkey", key.as_deref().unwrap()),
                    ]
                );
                prop_assert_eq!(credentials.login_key().as_str(), key.as_deref().unwrap());
            }
            Err(error) => {
                let field = if !key_ok {
                    "loginkey"
                } else if expected_pid.is_none() {
                    "partnerid"
                } else {
                    prop_assert!(!puid_ok, "refused valid credentials: {error:?}");
                    "partneruserid"
                };
                prop_assert_eq!(error.code(), "invalid_credentials");
                let message = error.message();
                prop_assert!(message.contains(field), "{message:?} should name {field}");
            }
        }
    }

    /// A partner id given as a number or as its digits (leading zeros, surrounding whitespace) is the same id.
    #[test]
    fn partner_id_numbers_and_digit_strings_agree(n in 0..=MAX_SAFE_INTEGER, zeros in 0..3usize, pad in "[ \t]{0,2}") {
        let key = ["$1$1700000000$", &"A".repeat(SIGNATURE_LEN)].concat();
        let with = |pid: PartnerIdInput<'_>| {
            Credentials::new(Some(key.clone()), pid, Some("a".into())).map(|c| c.partner_id().to_owned())
        };
        let digits = [&*pad, &"0".repeat(zeros), &*n.to_string(), &*pad].concat();
        let from_number = with(PartnerIdInput::Number(n as f64));
        prop_assert_eq!(&from_number, &with(PartnerIdInput::Text(&n.to_string())));
        if n.to_string().len() + zeros <= 16 {
            prop_assert_eq!(&from_number, &with(PartnerIdInput::Text(&digits)));
        }
        prop_assert_eq!(from_number.ok(), (n >= 1).then(|| n.to_string()));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------

/// One UTF-8 sequence at the edges of validity: a lead byte whose continuation ranges are special (or that
/// is never valid), then as many continuation bytes as it needs, drawn from just inside and outside the
/// allowed ranges.
fn utf8_boundary_sequence() -> impl Strategy<Value = Vec<u8>> {
    let leads: &'static [u8] = &[0x7f, 0x80, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5];
    let continuation = select(&[0x7fu8, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0][..]);
    (select(leads), prop::collection::vec(continuation, 3)).prop_map(|(lead, continuation)| {
        let needed = match lead {
            0xc2..=0xdf => 1,
            0xe0..=0xef => 2,
            _ => 3,
        };
        [&[lead][..], &continuation[..needed]].concat()
    })
}

proptest! {
    /// Percent-encoding leaves `A-Z a-z 0-9 - . _ ~` alone, writes every other byte as `%XX` (upper-case hex),
    /// and decoding gives the text back.
    #[test]
    fn percent_encoding_round_trips(value in text()) {
        let mut encoded = String::from("kept&");
        push_component(&mut encoded, &value);
        let encoded = encoded.strip_prefix("kept&").expect("push_component appends");
        prop_assert_eq!(encoded, reference_encode(&value));
        prop_assert_eq!(decode_component(encoded), value);
    }

    /// `encode_pairs` and `parse_query` are inverse for any pairs, empty names and values included.
    #[test]
    fn pairs_round_trip_through_the_query_parser(pairs in prop::collection::vec((text(), text()), 0..6)) {
        let query = encode_pairs(pairs.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        prop_assert_eq!(query.matches('&').count(), pairs.len().saturating_sub(1));
        prop_assert_eq!(query.matches('=').count(), pairs.len());
        prop_assert_eq!(parse_query(&query), pairs);
    }

    /// `decode_component` takes any text: `+` is a space, `%XX` a byte, malformed escapes and non-UTF-8
    /// results are kept as written.
    #[test]
    fn decoding_any_text_follows_the_form_rules(text in text()) {
        let decoded = decode_component(&text);
        prop_assert_eq!(&decoded, &reference_decode(&text));
        if !text.contains(['%', '+']) {
            prop_assert_eq!(decoded, text);
        }
    }

    /// `parse_query` splits at `&`, drops empty parts, splits each at its first `=` and decodes both sides.
    #[test]
    fn any_query_splits_into_decoded_pairs(query in text()) {
        let expected: Vec<(String, String)> = query
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((name, value)) => (reference_decode(name), reference_decode(value)),
                None => (reference_decode(part), String::new()),
            })
            .collect();
        prop_assert_eq!(parse_query(&query), expected);
    }

    /// The UTF-8 check agrees with std on any bytes, including valid text with a few bytes changed.
    #[test]
    fn utf8_check_agrees_with_std(
        bytes in prop_oneof![
            1 => prop::collection::vec(any::<u8>(), 0..16),
            1 => (text(), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3))
                .prop_map(|(text, edits)| {
                    let mut bytes = text.into_bytes();
                    for (at, byte) in edits {
                        if !bytes.is_empty() {
                            let at = at.index(bytes.len());
                            bytes[at] = byte;
                        }
                    }
                    bytes
                }),
            2 => (text(), utf8_boundary_sequence(), text()).prop_map(|(before, sequence, after)| {
                [before.as_bytes(), &sequence, after.as_bytes()].concat()
            }),
        ]
    ) {
        prop_assert_eq!(is_utf8(&bytes), std::str::from_utf8(&bytes).is_ok(), "{:02x?}", bytes);
    }

    /// `parse_decimal` takes 1 to 19 ASCII digits and nothing else, and then agrees with std's `parse`.
    #[test]
    fn decimal_parsing_agrees_with_std(
        text in prop_oneof!["[0-9]{1,19}", "[0-9]{20,24}", "[+-]?[0-9 ]{0,20}", text()],
    ) {
        let digits_only = (1..=19).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
        let expected = if digits_only { Some(text.parse::<u64>().expect("19 digits fit in u64")) } else { None };
        prop_assert_eq!(parse_decimal(&text), expected);
    }

    /// Numbers print as std prints them, and read back.
    #[test]
    fn decimals_print_and_read_back(n in prop_oneof![any::<u64>(), 0..1000u64, Just(u64::MAX), Just(0)]) {
        prop_assert_eq!(decimal(n), n.to_string());
        let mut out = String::from("x=");
        push_decimal(&mut out, n);
        prop_assert_eq!(out, format!("x={n}"));
        if n < 10_000_000_000_000_000_000 {
            prop_assert_eq!(parse_decimal(&decimal(n)), Some(n));
        }
    }

    /// `safe_integer` takes exactly the whole numbers from 0 to 2^53 - 1, and `integer_text` and
    /// `session_key_from_number` follow it.
    #[test]
    fn only_safe_whole_numbers_are_integers(n in js_number()) {
        let expected = reference_safe_integer(n);
        prop_assert_eq!(safe_integer(n), expected, "{}", n);
        prop_assert_eq!(integer_text(n), expected.map(|n| n.to_string()));
        match session_key_from_number(n) {
            Ok(key) => prop_assert_eq!(Some(key), expected.map(|n| n.to_string())),
            Err(error) => {
                prop_assert_eq!(expected, None);
                prop_assert_eq!(error.code(), "invalid_argument");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------------------

/// Schemes that are not http(s), in any case, some of them close to it.
fn other_scheme() -> impl Strategy<Value = String> {
    let known = select(
        &[
            "javascript",
            "data",
            "file",
            "about",
            "vbscript",
            "blob",
            "ftp",
            "ws",
            "wss",
            "mailto",
            "httpx",
            "http s",
            "htt",
            "https2",
            "view-source",
            "chrome",
            "jar",
            "",
        ][..],
    );
    prop_oneof![
        (known, any::<u64>()).prop_map(|(scheme, case)| mixed_case(scheme, case)),
        "[a-zA-Z][a-zA-Z0-9+.-]{0,10}"
            .prop_filter("not http(s)", |s| !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https")),
    ]
}

/// Labels of hosts that browsers may read as IPv4 addresses: decimal, octal and hex numbers, and names.
fn ipv4_like_host() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        "[0-9]{1,3}",
        "[1-9][0-9]{3,10}",
        "0[0-7]{1,3}",
        "0[xX][0-9a-fA-F]{0,3}",
        "[0-9][a-z0-9]{0,2}",
        "[a-z][a-z0-9]{0,2}"
    ];
    (prop::collection::vec(label, 1..6), prop::option::of(Just(".")))
        .prop_map(|(labels, dot)| [labels.join("."), dot.unwrap_or_default().to_owned()].concat())
}

/// Characters a host may not contain (`:`, `/`, `?` and `#` would end the host, not spoil it).
const BAD_HOST_CHARS: &[char] = &[
    '_', '@', ' ', '%', 'é', '\\', '!', '*', '\'', '(', '~', ',', ';', '=', '<', '>', '^', '{', '|', '`', '"', '\u{0}',
    '\t', '$', '&', '+', '[', ']', '\u{ff0e}',
];

/// Ports that are not 1 to 65535 in decimal.
const BAD_PORTS: &[&str] =
    &["0", "00", "00000", "65536", "99999", "8o", "-1", "+80", " 80", "0x50", "1e3", "80:80", "٣"];

/// An empty host, bare or bracketed.
fn empty_host(at: prop::sample::Index) -> String {
    ["", "[]", "[", "]"][at.index(4)].to_owned()
}

/// URL-like text: arbitrary, or an http(s) prefix followed by arbitrary text.
fn url_like() -> impl Strategy<Value = String> {
    let prefix = select(&["http://", "https://", "HTTPS://", "http:", "https:/", " https://", "http://["][..]);
    prop_oneof![
        text(),
        (prefix, text()).prop_map(|(prefix, rest)| [prefix, &*rest].concat()),
        mutated(url_parts().prop_map(|parts| parts.text()), ":/?#[]@%.-_~ \t\\aZ09é"),
    ]
}

proptest! {
    /// A URL assembled from valid parts parses to the origin a browser reports (scheme and host lower-cased,
    /// default port left out), and keeps path, query and fragment as written.
    #[test]
    fn generated_http_urls_parse_to_their_parts(parts in url_parts()) {
        let text = parts.text();
        let url = HttpUrl::parse(&text);
        prop_assert!(url.is_some(), "{:?} refused", text);
        let url = url.unwrap();
        let origin = parts.origin();
        prop_assert_eq!(url.origin(), origin.as_str());
        prop_assert_eq!(url.href(), [&*origin, &*parts.without_origin()].concat());
        prop_assert_eq!(url.without_query(), [&*origin, &*parts.path].concat());
        prop_assert_eq!(url.query(), parts.query.as_deref().unwrap_or(""));
        prop_assert_eq!(url.fragment(), parts.fragment.as_ref().map(|f| ["#", f].concat()).unwrap_or_default());
    }

    /// A host whose last label is a number is an IPv4 address to a browser, which rewrites `127.1`, `0x7f.1`,
    /// `010.0.0.1` or `1.2.3.4.` before reporting the origin. So a host whose last label starts with a digit
    /// is accepted exactly when it is the dotted quad a browser reports; others are kept as written.
    #[test]
    fn numeric_hosts_are_accepted_only_as_dotted_quads(
        mut parts in url_parts(),
        host in prop_oneof![
            ipv4_like_host(),
            any::<[u8; 4]>().prop_map(|ip| std::net::Ipv4Addr::from(ip).to_string()),
            // Dotted quads, some with leading zeros (octal to a browser).
            (any::<[u8; 4]>(), prop::array::uniform4(prop_oneof![3 => Just(0usize), 1 => 1..4usize]))
                .prop_map(|(ip, zeros)| {
                    let octets = ip.iter().zip(zeros).map(|(n, zeros)| ["0".repeat(zeros), n.to_string()].concat());
                    octets.collect::<Vec<_>>().join(".")
                }),
        ],
    ) {
        parts.host = host.clone();
        let last = host.split('.').rfind(|label| !label.is_empty()).unwrap_or_default();
        let numeric = last.starts_with(|c: char| c.is_ascii_digit());
        let dotted_quad = host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.to_string() == host);
        let url = HttpUrl::parse(&parts.text());
        if dotted_quad || !numeric {
            let origin = url.map(|url| url.origin().to_owned());
            prop_assert_eq!(origin, Some(parts.origin()), "{:?}", parts.text());
        } else {
            prop_assert_eq!(url, None, "{:?} is a number a browser would rewrite or refuse", parts.text());
        }
    }

    /// Whatever is written in brackets (an IPv6 address or not) is refused: browsers rewrite IPv6 addresses,
    /// and a Glance web server is not addressed by one.
    #[test]
    fn bracketed_hosts_are_refused(
        mut parts in url_parts(),
        inner in prop_oneof!["[0-9a-fA-F:.]{0,24}", "[0-9a-f]{0,5}(::?[0-9a-f]{0,5}){0,9}"],
    ) {
        parts.host = ["[", &*inner, "]"].concat();
        prop_assert_eq!(HttpUrl::parse(&parts.text()), None);
    }

    /// User info, an empty host, a host with any character but letters, digits, `-` and `.`, a port that is not 1 to 65535 in at most 19 digits, and an ASCII control
    /// character or a backslash anywhere: all refused.
    #[test]
    fn unusual_hosts_and_ports_are_refused(
        mut parts in url_parts(),
        which in 0..5u8,
        control in prop_oneof![Just('\\'), Just('\u{7f}'), prop::char::range('\u{0}', '\u{1f}')],
        (at, c) in (any::<prop::sample::Index>(), select(BAD_HOST_CHARS)),
        port in prop_oneof![
            select(BAD_PORTS).prop_map(str::to_owned),
            "[0-9]{20,22}",
            (65_536..=999_999u32).prop_map(|port| port.to_string()),
        ],
        user in select(&["user@", "user:pass@", ":@", "@", "a%40b@"][..]),
    ) {
        match which {
            0 => {
                let mut host: Vec<char> = parts.host.chars().collect();
                host.insert(at.index(host.len() + 1), c);
                parts.host = host.into_iter().collect();
            }
            1 => parts.port = Some(port),
            2 => parts.host = [user, &*parts.host].concat(),
            3 => parts.host = empty_host(at),
            _ => {
                // Anywhere inside the URL: whitespace around it is trimmed, but not within.
                let text = parts.text();
                let core = trim_ascii(&text);
                let mut at = 1 + at.index(core.len() - 1);
                while !core.is_char_boundary(at) {
                    at -= 1;
                }
                let (before, after) = core.split_at(at);
                let url = [before, &*control.to_string(), after].concat();
                prop_assert_eq!(HttpUrl::parse(&url), None, "{:?} accepted", url);
                return Ok(());
            }
        }
        let text = parts.text();
        prop_assert_eq!(HttpUrl::parse(&text), None, "{:?} accepted", text);
    }

    /// `javascript:`, `data:` and every other non-http scheme are refused, whatever follows, by the URL
    /// parser, as a webserver and as a join URL.
    #[test]
    fn other_schemes_are_always_refused(
        pad in "[ \t\n]{0,2}",
        scheme in other_scheme(),
        rest in prop_oneof![url_parts().prop_map(|parts| parts.text()), text()],
    ) {
        let text = [&*pad, &*scheme, ":", &*rest].concat();
        prop_assert_eq!(HttpUrl::parse(&text), None);
        prop_assert_eq!(Webserver::parse(&text).map_err(|e| e.code()), Err("invalid_argument"));
        let target = ViewerTarget::for_join_url(&Webserver::default(), &text, None);
        prop_assert_eq!(target.map_err(|e| e.code()), Err("invalid_url"));
    }

    /// Any text either is refused or parses to an http(s) URL whose parts are consistent: the origin is
    /// lower-case and a prefix of the URL, the rest is the input's tail as written, and parsing the result
    /// again changes nothing.
    #[test]
    fn any_text_parses_to_a_consistent_url_or_none(text in url_like()) {
        let Some(url) = HttpUrl::parse(&text) else { return Ok(()) };
        let origin = url.origin();
        let href = url.href();
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        prop_assert!(host.is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@'])), "{origin}");
        prop_assert!(!origin.bytes().any(|b| b.is_ascii_uppercase()), "{origin}");
        prop_assert!(href.starts_with(origin));
        prop_assert!(trim_ascii(&text).ends_with(&href[origin.len()..]));
        prop_assert!(href.len() <= MAX_URL_LEN && !href.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'\\'));
        prop_assert!(href.starts_with(&url.without_query()));
        let after_path = &href[url.without_query().len()..];
        prop_assert!(after_path.is_empty() || after_path.starts_with(['?', '#']), "{after_path:?}");
        prop_assert!(url.fragment().is_empty() || url.fragment().starts_with('#'));
        prop_assert!(href.ends_with(url.fragment()));
        prop_assert!(url.query().is_empty() || href.contains(&["?", url.query()].concat()));
        prop_assert_eq!(HttpUrl::parse(&href), Some(url.clone()));
    }

    /// A webserver is an http(s) URL without query or fragment: its origin is the URL's, its base has no
    /// trailing slash, and joining appends.
    #[test]
    fn webservers_are_consistent(
        input in prop_oneof![url_like(), url_parts().prop_map(|parts| parts.text())],
        path in text(),
    ) {
        match Webserver::parse(&input) {
            Ok(server) => {
                let url = HttpUrl::parse(&input).expect("a webserver is an http(s) URL");
                prop_assert_eq!(server.origin(), url.origin());
                prop_assert_eq!(url.query(), "");
                prop_assert_eq!(url.fragment(), "");
                prop_assert!(server.base().starts_with(server.origin()));
                prop_assert!(!server.base().ends_with('/'));
                prop_assert!(url.href().starts_with(server.base()));
                prop_assert!(url.href()[server.base().len()..].bytes().all(|b| b == b'/'));
                prop_assert_eq!(server.join(&path), [server.base(), &*path].concat());
                // Parsing the base again changes nothing, unless slashes were dropped from after whitespace
                // (`http://a/ /`): the whitespace then ends the base, and a new parse trims it.
                if !server.base().ends_with(|c: char| c.is_ascii_whitespace()) {
                    prop_assert_eq!(Webserver::parse(server.base()), Ok(server.clone()));
                }
            }
            Err(error) => {
                prop_assert_eq!(error.code(), "invalid_argument");
                let url = HttpUrl::parse(&input);
                prop_assert!(url.is_none_or(|url| !url.query().is_empty() || url.href().contains(['?', '#'])));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Protocol (PROTOCOL.md sections 2 and 3)
// ---------------------------------------------------------------------------------------------------------

/// Parameter names of a join URL, with the credential names in several cases.
const JOIN_NAMES: &[&str] = &[
    "SessionKey",
    "partnerid",
    "PartnerId",
    "PARTNERUSERID",
    "partneruserid",
    "loginkey",
    "LoginKey",
    "ssnid",
    "wait",
    "",
    "login key",
    "partner%69d",
];

/// A join URL's query as written: encoded pairs, and sometimes raw text, stray `&` or a name without `=`.
fn join_query() -> impl Strategy<Value = Option<String>> {
    let name = prop_oneof![select(JOIN_NAMES).prop_map(str::to_owned), text()];
    let encoded = prop::collection::vec((name, text()), 0..5)
        .prop_map(|pairs| encode_pairs(pairs.iter().map(|(name, value)| (name.as_str(), value.as_str()))));
    let raw = (select(JOIN_NAMES), "[&]{0,2}", "[A-Za-z0-9=&+%]{0,12}")
        .prop_map(|(name, amps, rest)| [reference_encode(name), amps, rest].concat());
    prop::option::of(prop_oneof![encoded, raw])
}

proptest! {
    /// The lookup body carries the four documented fields, in order, each value exactly as given once
    /// decoded, and nothing else; it goes to `W` + the lookup path.
    #[test]
    fn lookup_body_parses_back_to_the_four_fields(server in webserver(), credentials in credentials(), key in text()) {
        let request = LookupRequest::new(LOOKUP_PATH, &server, &credentials, &key);
        prop_assert_eq!(&request.url, &[server.base(), LOOKUP_PATH].concat());
        let [pid, puid, login_key] = credentials.fields();
        let expected = owned_pairs([pid, puid, login_key, ("ssnkey", key.as_str())]);
        prop_assert_eq!(parse_query(&request.body), expected);
        prop_assert_eq!(request.body.matches('&').count(), 3);
        prop_assert!(request.body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)));
    }

    /// `openViewer(key)`: the GET URL is the viewer page with `SessionKey` and any credentials, each exactly
    /// once and percent-encoded; the POST form has the same fields, names upper-cased, values raw.
    #[test]
    fn viewer_for_a_session_key_carries_key_and_credentials_once(
        server in webserver(),
        key in text(),
        credentials in prop::option::of(credentials()),
    ) {
        let target = ViewerTarget::for_join_url(&server, &session_viewer_url(&server, &key), credentials.as_ref()).unwrap();
        let mut expected = owned_pairs([("SessionKey", key.as_str())]);
        if let Some(credentials) = &credentials {
            expected.extend(owned_pairs(credentials.fields()));
        }
        let page = server.join(VIEWER_PATH);
        let get_url = target.get_url();
        let encoded = encode_pairs(expected.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        prop_assert_eq!(&get_url, &[&*page, "?", &*encoded].concat());
        prop_assert_eq!(parse_query(query_of(&get_url)), expected.clone());
        prop_assert_eq!(target.post_action(), page);
        prop_assert_eq!(target.post_fields(), upper_cased(&expected));
    }

    /// `openAgentJoinURL(url)` on the webserver's origin adds each credential the URL does not already have
    /// (names compared without case), once, after its own parameters and before its fragment; on any other
    /// origin it adds none.
    #[test]
    fn join_urls_get_missing_credentials_only_on_the_webserver_origin(
        server in webserver(),
        mut parts in url_parts(),
        same_origin in any::<bool>(),
        query in join_query(),
        credentials in prop::option::of(credentials()),
    ) {
        parts.query = query;
        if same_origin {
            let server_url = HttpUrl::parse(server.base()).unwrap();
            let host_and_port = server_url.origin().split_once("://").unwrap().1;
            parts.https = server_url.origin().starts_with("https:");
            (parts.host, parts.port) = match host_and_port.rsplit_once(':').filter(|(_, port)| !port.ends_with(']')) {
                Some((host, port)) => (host.to_owned(), Some(port.to_owned())),
                None => (host_and_port.to_owned(), None),
            };
        }
        let text = parts.text();
        let url = HttpUrl::parse(&text).expect("generated URLs are valid");
        let on_server = url.origin() == server.origin();
        prop_assert!(on_server || !same_origin);

        let target = ViewerTarget::for_join_url(&server, &text, credentials.as_ref()).expect("http(s) URL");
        let given = parse_query(url.query());
        let added: Vec<(String, String)> = match credentials.as_ref().filter(|_| on_server) {
            Some(credentials) => owned_pairs(credentials.fields())
                .into_iter()
                .filter(|(name, _)| !given.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)))
                .collect(),
            None => Vec::new(),
        };
        let all: Vec<(String, String)> = given.iter().chain(&added).cloned().collect();

        let get_url = target.get_url();
        prop_assert!(get_url.ends_with(url.fragment()), "{get_url:?}");
        let get_without_fragment = &get_url[..get_url.len() - url.fragment().len()];
        let href = url.href();
        let href_without_fragment = &href[..href.len() - url.fragment().len()];
        prop_assert!(get_without_fragment.starts_with(href_without_fragment));
        prop_assert_eq!(parse_query(query_of(get_without_fragment)), all.clone());
        if added.is_empty() {
            prop_assert_eq!(&get_url, &href);
        }
        for name in ["partnerid", "partneruserid", "loginkey"] {
            let count = |pairs: &[(String, String)]| pairs.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count();
            let expected = if on_server && credentials.is_some() { count(&given).max(1) } else { count(&given) };
            prop_assert_eq!(count(&all), expected, "{}", name);
        }
        prop_assert_eq!(target.post_action(), url.without_query());
        prop_assert_eq!(target.post_fields(), upper_cased(&all));
    }

    /// Session keys typed by the agent: trimmed, then 1 to 256 bytes without control characters.
    #[test]
    fn session_keys_are_trimmed_and_bounded(text in prop_oneof![text(), "[ ]?[0-9A-Z]{250,260}[ ]?"]) {
        let key = trim_ascii(&text);
        let valid = !key.is_empty() && key.len() <= MAX_SESSION_KEY_LEN && !key.bytes().any(|b| b < 0x20 || b == 0x7f);
        match session_key(&text) {
            Ok(got) => prop_assert_eq!(Some(got.as_str()), valid.then_some(key)),
            Err(error) => {
                prop_assert!(!valid, "{text:?} refused");
                prop_assert_eq!(error.code(), "invalid_argument");
            }
        }
    }
}

/// Element names of generated answer documents.
const ANSWER_TAGS: &[&str] =
    &["id", "agentjoinurl", "ssnid", "passcode", "calltype", "visitorversion", "Error", "ID", "AgentJoinUrl", "x"];

/// Element texts of generated answer documents.
fn element_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(&["0", " 0 ", "\n0\t", "00", "1", "", "  ", "https://www.glance.net/agentjoin/AgentView.aspx?x=1"][..])
            .prop_map(str::to_owned),
        text(),
    ]
}

proptest! {
    /// `Answer::from_response` classifies any status and body as documented: non-2xx fail (transient for
    /// 5xx, 408 and 429, without parsing the body), a 2xx XML body with a join URL is found, one with id `0`
    /// is not found yet, anything else fails for good; reasons are the trimmed, bounded body text.
    #[test]
    fn answers_are_classified_as_documented(
        status in prop_oneof![
            2 => Just(200u16),
            1 => any::<u16>(),
            1 => 100..600u16,
            1 => select(&[199u16, 204, 299, 300, 404, 408, 429, 499, 500, 503][..]),
        ],
        body in prop_oneof![text(), "[ a-zé]{1990,2010}"],
        elements in prop::option::of(prop_oneof![
            prop::collection::vec((select(ANSWER_TAGS).prop_map(str::to_owned), element_text()), 0..6),
            element_text().prop_map(|id| vec![("id".to_owned(), id)]),
            (element_text(), element_text())
                .prop_map(|(url, id)| vec![("agentjoinurl".to_owned(), url), ("id".to_owned(), id)]),
        ]),
    ) {
        let document = Document(elements);
        let mut parsed = 0;
        let answer = Answer::from_response(status, &body, |text| {
            parsed += 1;
            assert_eq!(text, body, "the body is parsed as received");
            document.clone()
        });
        prop_assert_eq!(parsed, usize::from((200..300).contains(&status)));
        if let Answer::Failed { reason, .. } = &answer {
            prop_assert!(reason.len() <= MAX_REASON_BYTES);
        }
        prop_assert_eq!(answer, reference_answer(status, &body, &document));
    }

    /// A request that got no answer is a transient failure with the error's message, or `network error`.
    #[test]
    fn unreachable_services_are_transient(message in prop_oneof![text(), "[ x]{1990,2010}"]) {
        let reason = reference_reason(&message);
        let reason = if reason.is_empty() { "network error".to_owned() } else { reason };
        prop_assert_eq!(Answer::unreachable(&message), Answer::Failed { reason, transient: true });
    }

    /// Reasons are the trimmed text, cut to at most `MAX_REASON_BYTES` on a character boundary, and no shorter
    /// than they must be.
    #[test]
    fn reasons_are_trimmed_and_bounded(text in prop_oneof![text(), "[ aé☃😀]{1990,2010}"]) {
        let reason = shorten_reason(&text);
        prop_assert_eq!(&reason, &reference_reason(&text));
        prop_assert!(trim_ascii(&text).starts_with(&reason));
        let error = AgentError::ServiceError(reason);
        prop_assert_eq!(error.to_string(), error.message());
    }
}

// ---------------------------------------------------------------------------------------------------------
// Panic-free helpers, events, schedule, allocator
// ---------------------------------------------------------------------------------------------------------

proptest! {
    /// The panic-free helpers agree with std wherever std would not panic, and return `None` elsewhere.
    #[test]
    fn no_panic_helpers_agree_with_std(
        text in text(),
        byte in prop_oneof![select(b"&=$:/?#[]@%+ a".as_slice()), any::<u8>()],
        at in prop_oneof![0..64usize, any::<usize>()],
    ) {
        if byte.is_ascii() {
            prop_assert_eq!(split_once_byte(&text, byte), text.split_once(char::from(byte)));
            let parts: Vec<&str> = split_byte(&text, byte).collect();
            prop_assert_eq!(parts, text.split(char::from(byte)).collect::<Vec<_>>());
        } else {
            // A non-ASCII byte is never a whole character, so there is no boundary to split at.
            prop_assert_eq!(split_once_byte(&text, byte), None);
        }
        prop_assert_eq!(find_byte(&text, |b| b == byte), text.bytes().position(|b| b == byte));
        prop_assert_eq!(split_at(&text, at), text.split_at_checked(at));
    }

    /// `remove_at` is `Vec::remove` for an index in range, and leaves the vector alone for any other.
    #[test]
    fn remove_at_is_vec_remove_or_nothing(
        items in prop::collection::vec(any::<u8>(), 0..12),
        at in prop_oneof![0..16usize, any::<usize>()],
    ) {
        let mut got = items.clone();
        let mut expected = items.clone();
        let removed = remove_at(&mut got, at);
        if at < items.len() {
            prop_assert_eq!(removed, Some(expected.remove(at)));
        } else {
            prop_assert_eq!(removed, None);
        }
        prop_assert_eq!(got, expected);
    }

    /// Event names are accepted exactly when they are 1 to 128 bytes long.
    #[test]
    fn event_names_are_non_empty_and_bounded(name in prop_oneof![text(), "[a-z]{120,136}"]) {
        let valid = !name.is_empty() && name.len() <= MAX_EVENT_NAME_LEN;
        prop_assert_eq!(event_name(&name).ok(), valid.then_some(name.as_str()));
        prop_assert_eq!(is_viewer_event_name(&name), valid);
    }

    /// The schedule hands out 1 or 12 pauses (0, then 3 s up to attempt 7, then 5 s) and counts attempts.
    #[test]
    fn schedules_follow_the_plan(wait in any::<bool>(), calls in 0..20u32) {
        let mut schedule = Schedule::new(wait);
        let attempts = if wait { MAX_ATTEMPTS } else { 1 };
        for call in 1..=calls {
            let expected = match call {
                _ if call > attempts => None,
                1 => Some(0),
                2..=7 => Some(SHORT_PAUSE_MS),
                _ => Some(LONG_PAUSE_MS),
            };
            prop_assert_eq!(schedule.next(), expected);
            prop_assert_eq!(schedule.attempt(), call.min(attempts));
        }
    }
}

/// One step of a listener workload.
#[derive(Debug, Clone)]
enum ListenerOp {
    /// `add(name, handler)`; `None` is a catch-all listener.
    Add(Option<&'static str>, u8),
    Remove(Option<&'static str>, u8),
    /// Take a dispatch copy for this event, to check `is_registered` against later.
    Dispatch(&'static str),
}

const EVENT_NAMES: &[&str] = &["lookupFound", "connecting", "x"];

fn listener_op() -> impl Strategy<Value = ListenerOp> {
    let name = prop::option::of(select(EVENT_NAMES));
    let handler = 0..4u8;
    prop_oneof![
        3 => (name.clone(), handler.clone()).prop_map(|(name, handler)| ListenerOp::Add(name, handler)),
        2 => (name, handler).prop_map(|(name, handler)| ListenerOp::Remove(name, handler)),
        1 => select(EVENT_NAMES).prop_map(ListenerOp::Dispatch),
    ]
}

proptest! {
    /// Any sequence of adds and removes keeps the documented rules: a handler is registered once per name
    /// (and once as catch-all), removal is by name and identity, an event is heard by its named listeners and
    /// then the catch-all ones, each in the order added, and a listener from a dispatch copy counts as
    /// registered only until it is removed (adding it again makes a new registration).
    #[test]
    fn listeners_keep_the_documented_order(ops in prop::collection::vec(listener_op(), 0..40)) {
        let mut listeners = Listeners::new();
        // The model: (registration number, name, handler) in the order added.
        let mut model: Vec<(usize, Option<&str>, u8)> = Vec::new();
        let mut registrations = 0;
        let mut copies = Vec::new();
        for op in ops {
            match op {
                ListenerOp::Add(name, handler) => {
                    let new = !model.iter().any(|&(_, n, h)| n == name && h == handler);
                    prop_assert_eq!(listeners.add(name, handler), new);
                    if new {
                        registrations += 1;
                        model.push((registrations, name, handler));
                    }
                }
                ListenerOp::Remove(name, handler) => {
                    let at = model.iter().position(|&(_, n, h)| n == name && h == handler);
                    prop_assert_eq!(listeners.remove(name, &handler), at.is_some());
                    if let Some(at) = at {
                        model.remove(at);
                    }
                }
                ListenerOp::Dispatch(name) => {
                    let heard: Vec<usize> = [Some(name), None]
                        .iter()
                        .flat_map(|&pass| model.iter().filter(move |&&(_, n, _)| n == pass).map(|&(id, _, _)| id))
                        .collect();
                    copies.push((listeners.for_event(name), heard));
                }
            }
            prop_assert_eq!(listeners.len(), model.len());
            prop_assert_eq!(listeners.is_empty(), model.is_empty());
            for name in EVENT_NAMES {
                let expected: Vec<u8> = [Some(*name), None]
                    .iter()
                    .flat_map(|&pass| model.iter().filter(move |&&(_, n, _)| n == pass).map(|&(_, _, h)| h))
                    .collect();
                let heard: Vec<u8> = listeners.for_event(name).iter().map(|l| *l.handler()).collect();
                prop_assert_eq!(heard, expected, "{}", name);
            }
            for (copy, ids) in &copies {
                for (listener, id) in copy.iter().zip(ids) {
                    let live = model.iter().any(|&(registration, _, _)| registration == *id);
                    prop_assert_eq!(listeners.is_registered(listener), live);
                }
            }
        }
    }
}

/// Linear memory for the allocator: starts `start` bytes in, grows by pages up to `limit`, keeps links in a map.
struct FakeMemory {
    end: usize,
    limit: usize,
    links: HashMap<usize, usize>,
}

impl Memory for FakeMemory {
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let old = self.end;
        (old + pages * PAGE <= self.limit).then(|| {
            self.end += pages * PAGE;
            old
        })
    }
    unsafe fn read_link(&self, addr: usize) -> usize {
        *self.links.get(&addr).expect("links are read only from freed blocks")
    }
    unsafe fn write_link(&mut self, addr: usize, link: usize) {
        self.links.insert(addr, link);
    }
}

/// One step of an allocation workload.
#[derive(Debug, Clone)]
enum AllocOp {
    Take(u32),
    /// Release the live block at this position among the live ones.
    Release(prop::sample::Index),
}

proptest! {
    /// The size class of a layout is the smallest power of two of at least 8 bytes that holds its size and
    /// alignment, up to 2^31.
    #[test]
    fn size_classes_are_the_smallest_that_fit(
        size in prop_oneof![0..100_000usize, 0..=(1usize << 33)],
        align_log in 0..17u32,
    ) {
        let align = 1usize << align_log;
        let layout = core::alloc::Layout::from_size_align(size, align).unwrap();
        let need = size.max(align).max(8);
        match class_of(layout) {
            Some(class) => {
                prop_assert!((3..=31).contains(&class));
                prop_assert!(1usize << class >= need);
                prop_assert!(class == 3 || 1usize << (class - 1) < need);
            }
            None => prop_assert!(need > 1 << 31),
        }
    }

    /// Under any sequence of allocations and frees, blocks in use never overlap, are aligned to their size (up
    /// to a page) and lie in grown memory; a freed block is reused last-in first-out for its class; fresh
    /// blocks follow the last one; memory grows only as far as needed, and exhausted memory gives 0.
    #[test]
    fn allocator_blocks_never_overlap(
        start_pages in 1..4usize,
        limit_pages in 0..24usize,
        ops in prop::collection::vec(
            prop_oneof![
                3 => prop_oneof![3..10u32, 3..18u32].prop_map(AllocOp::Take),
                2 => any::<prop::sample::Index>().prop_map(AllocOp::Release),
            ],
            0..60,
        ),
    ) {
        let start = start_pages * PAGE;
        let mut memory = FakeMemory { end: start, limit: start + limit_pages * PAGE, links: HashMap::new() };
        let mut classes = SizeClasses::new();
        let mut live: Vec<(usize, u32)> = Vec::new();
        let mut free: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut next = start;
        for op in ops {
            match op {
                AllocOp::Take(class) => {
                    // SAFETY: every block on the free lists was released below, once, with its class.
                    let block = unsafe { classes.take(class, &mut memory) };
                    let size = 1usize << class;
                    let align = size.min(PAGE);
                    if let Some(reused) = free.get_mut(&class).and_then(Vec::pop) {
                        prop_assert_eq!(block, reused, "the last block freed for the class");
                    } else {
                        let fresh = next.div_ceil(align) * align;
                        if fresh + size <= memory.limit {
                            prop_assert_eq!(block, fresh);
                            next = fresh + size;
                        } else {
                            prop_assert_eq!(block, 0, "memory is exhausted");
                        }
                    }
                    if block != 0 {
                        prop_assert_eq!(block % align, 0);
                        prop_assert!(block >= start && block + size <= memory.end);
                        let overlaps = live.iter().any(|&(b, c)| block < b + (1 << c) && b < block + size);
                        prop_assert!(!overlaps, "block {block:#x} of class {class} overlaps one in use");
                        live.push((block, class));
                    }
                }
                AllocOp::Release(index) => {
                    if !live.is_empty() {
                        let (block, class) = live.swap_remove(index.index(live.len()));
                        // SAFETY: the block came from `take` with this class and is released once.
                        unsafe { classes.release(block, class, &mut memory) };
                        free.entry(class).or_default().push(block);
                    }
                }
            }
            prop_assert!(memory.end <= memory.limit);
            prop_assert!(memory.end <= next.div_ceil(PAGE).max(start_pages) * PAGE, "grown further than needed");
        }
    }
}
