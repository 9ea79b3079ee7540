//! Just enough URL handling for the agent: accept only `http:`/`https:` URLs, and compute the origin
//! that `message` events from the viewer are checked against.
//!
//! The browser build does not parse URLs here: it asks the browser (`URL`, in `browser/js.rs`) and
//! builds an [`HttpUrl`] from its parts, so its origins are the browser's by construction. This parser
//! applies the same rules for native code and the property tests.
//!
//! Deliberately strict: a URL with user info, control characters, backslashes, unusual host characters, an
//! IPv6 address or a numeric host other than a dotted quad is refused rather than guessed at, so the origin
//! computed here is always the one the browser reports.

use alloc::borrow::{Cow, ToOwned};
use alloc::string::String;

use crate::encoding::{decimal, parse_decimal, push_decimal};
use crate::error::AgentError;
use crate::no_panic::{find_byte, split_at, split_byte, split_once_byte};

/// Longest URL accepted for the webserver or a viewer.
pub const MAX_URL_LEN: usize = 8192;

/// An absolute `http:`/`https:` URL, split at the end of its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    origin: String,
    /// Everything after the authority: path, query and fragment, as written.
    rest: String,
}

impl HttpUrl {
    /// Parses `text` (surrounding ASCII whitespace ignored); `None` unless it is a plain http(s) URL.
    pub fn parse(text: &str) -> Option<HttpUrl> {
        let text = text.trim_ascii();
        // ASCII controls and backslashes are refused: browsers drop or reinterpret them in URLs.
        if text.len() > MAX_URL_LEN || text.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'\\') {
            return None;
        }
        let (scheme, after_colon) = split_once_byte(text, b':')?;
        let after_scheme = after_colon.strip_prefix("//")?;
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else if scheme.eq_ignore_ascii_case("http") {
            80
        } else {
            return None;
        };
        let authority_end = find_byte(after_scheme, |b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(after_scheme.len());
        let (authority, rest) = split_at(after_scheme, authority_end)?;
        let (host, port) = split_host_port(authority)?;

        let mut origin = String::with_capacity(8 + authority.len());
        origin.push_str(if default_port == 443 { "https://" } else { "http://" });
        origin.push_str(&host);
        if let Some(port) = port.filter(|&port| port != default_port) {
            origin.push(':');
            push_decimal(&mut origin, u64::from(port));
        }
        Some(HttpUrl { origin, rest: rest.to_owned() })
    }

    /// A URL that the browser has parsed, from its `origin` and its `pathname + search + hash`. The
    /// browser build takes URLs apart this way, so its origins are the browser's by construction;
    /// [`HttpUrl::parse`] is the same rules in Rust, for native code and tests.
    pub fn from_parts(origin: String, rest: String) -> HttpUrl {
        HttpUrl { origin, rest }
    }

    /// `scheme://host[:port]`, lower-cased, default port left out: what `MessageEvent.origin` says.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The normalised URL: origin followed by path, query and fragment.
    pub fn href(&self) -> String {
        let mut out = String::with_capacity(self.origin.len() + self.rest.len());
        out.push_str(&self.origin);
        out.push_str(&self.rest);
        out
    }

    /// The URL without query and fragment, e.g. a form `action`.
    pub fn without_query(&self) -> String {
        let end = find_byte(&self.rest, |b| b == b'?' || b == b'#').unwrap_or(self.rest.len());
        let mut out = self.origin.clone();
        out.push_str(self.rest.get(..end).unwrap_or_default());
        out
    }

    /// The query string without `?`, or `""`.
    pub fn query(&self) -> &str {
        let without_fragment = split_once_byte(&self.rest, b'#').map_or(self.rest.as_str(), |(before, _)| before);
        split_once_byte(without_fragment, b'?').map_or("", |(_, query)| query)
    }

    /// The fragment with its `#`, or `""`.
    pub fn fragment(&self) -> &str {
        find_byte(&self.rest, |b| b == b'#').and_then(|at| self.rest.get(at..)).unwrap_or_default()
    }
}

/// `host` must be a DNS name or a dotted-quad IPv4 address; `port` 1..=65535 if present. The host comes
/// back as browsers write it in an origin: lower-cased. A bracketed IPv6 address is refused: browsers
/// rewrite it to a canonical form, and a Glance web server is not addressed that way.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match split_once_byte(authority, b':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty()
        || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        || !is_kept_as_written(host)
    {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let port = match port {
        None | Some("") => None,
        Some(digits) => Some(parse_decimal(digits).and_then(|port| u16::try_from(port).ok()).filter(|&port| port > 0)?),
    };
    Some((host, port))
}

/// Browsers read a host whose last label is a number as an IPv4 address and rewrite it (`127.1`, `0x7f.0.0.1`,
/// `010.0.0.1` and `1.2.3.4.` become other origins, or are refused). So a host whose last label starts with a
/// digit is kept only if it is already the dotted quad they write.
fn is_kept_as_written(host: &str) -> bool {
    let (mut labels, mut dotted_quad, mut numeric) = (0, true, false);
    for label in split_byte(host, b'.') {
        labels += 1;
        dotted_quad &= label.len() <= 3 && parse_decimal(label).is_some_and(|n| n <= 255 && decimal(n) == label);
        if let Some(first) = label.bytes().next() {
            numeric = first.is_ascii_digit();
        }
    }
    !numeric || (dotted_quad && labels == 4)
}

/// The configured Glance web server `W`: where lookups go, and the origin viewer events must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webserver {
    base: Cow<'static, str>,
    origin: Cow<'static, str>,
}

impl Default for Webserver {
    fn default() -> Self {
        Self::GLANCE
    }
}

impl Webserver {
    /// `https://www.glance.net`, the production service.
    pub const GLANCE: Webserver = Webserver {
        base: Cow::Borrowed(crate::protocol::DEFAULT_WEBSERVER),
        origin: Cow::Borrowed(crate::protocol::DEFAULT_WEBSERVER),
    };

    /// Accepts an http(s) URL without query or fragment; a trailing `/` is dropped.
    pub fn parse(text: &str) -> Result<Webserver, AgentError> {
        Webserver::from_url(HttpUrl::parse(text))
    }

    /// [`Webserver::parse`] of a URL already parsed (`None`: it was not an http(s) URL).
    pub fn from_url(url: Option<HttpUrl>) -> Result<Webserver, AgentError> {
        const WHY: &str = "webserver must be an http: or https: URL";
        let url = url.ok_or(AgentError::InvalidArgument(WHY))?;
        if find_byte(&url.rest, |b| b == b'?' || b == b'#').is_some() {
            return Err(AgentError::InvalidArgument(WHY));
        }
        let mut base = url.href();
        while base.len() > url.origin.len() && base.ends_with('/') {
            base.pop();
        }
        Ok(Webserver { origin: Cow::Owned(url.origin), base: Cow::Owned(base) })
    }

    /// The URL with no trailing slash, ready for a path to be appended.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The web server's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `base` + `path`.
    pub fn join(&self, path: &str) -> String {
        let mut out = String::with_capacity(self.base.len() + path.len());
        out.push_str(&self.base);
        out.push_str(path);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn origin(text: &str) -> Option<String> {
        HttpUrl::parse(text).map(|url| url.origin().to_owned())
    }

    #[test]
    fn origins_match_what_browsers_report() {
        assert_eq!(origin("https://www.glance.net/agentjoin/x?y=1").as_deref(), Some("https://www.glance.net"));
        assert_eq!(origin("HTTPS://WWW.Glance.NET:443").as_deref(), Some("https://www.glance.net"));
        assert_eq!(origin("http://127.0.0.1:8080/").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("http://localhost:80").as_deref(), Some("http://localhost"));
        assert_eq!(origin("https://h:0443").as_deref(), Some("https://h"));
        assert_eq!(origin("  https://trimmed.example \n").as_deref(), Some("https://trimmed.example"));
    }

    #[test]
    fn anything_but_plain_http_urls_is_refused() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript://%0aalert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "about:blank",
            "//www.glance.net/x",
            "/relative",
            "https:www.glance.net",
            "https://",
            "https://user:pass@evil.example/",
            "https://good.example\\@evil.example/",
            "https://a b.example/",
            "https://tab\t.example/",
            "java\nscript:alert(1)",
            "https://h:99999/",
            "https://h:0/",
            "https://h:8o/",
            "https://[zz]/",
            "https://[::1/",
            "https://ünicode.example/",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
        assert_eq!(origin(&"https://h/".repeat(MAX_URL_LEN)), None);
    }

    #[test]
    fn hosts_are_written_as_browsers_write_them() {
        assert_eq!(origin("http://10.0.0.255:80").as_deref(), Some("http://10.0.0.255"));
        assert_eq!(origin("http://1.example").as_deref(), Some("http://1.example"));
        assert_eq!(origin("http://a1.b2c").as_deref(), Some("http://a1.b2c"));
    }

    #[test]
    fn hosts_a_browser_would_rewrite_or_refuse_are_refused() {
        for bad in [
            "http://[::1]:3000/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[:0]",
            "http://[a]",
            "http://[1::2::3]",
            "http://[1:2:3:4:5:6:7:8:9]",
            "http://[1:2:3:4:5:6:7:8::]",
            "http://[::1:2:3:4:5:6:7:8]",
            "http://[1:]",
            "http://[12345::]",
            "http://[::ffff:1.2.3.4]",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://010.0.0.1/",
            "http://1.2.3.4./",
            "http://256.0.0.1/",
            "http://0/",
            "http://0x/",
            "http://a.1/",
            "http://example.09/",
            "http://example.1e3/",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn parts_of_a_join_url() {
        let url = HttpUrl::parse("https://W.example/agentjoin/AgentView.aspx?SessionKey=1%202&x=y#top").unwrap();
        assert_eq!(url.without_query(), "https://w.example/agentjoin/AgentView.aspx");
        assert_eq!(url.query(), "SessionKey=1%202&x=y");
        assert_eq!(url.fragment(), "#top");
        let bare = HttpUrl::parse("https://w.example").unwrap();
        assert_eq!((bare.query(), bare.fragment(), bare.href().as_str()), ("", "", "https://w.example"));
    }

    #[test]
    fn webserver_drops_trailing_slashes_and_keeps_a_path_prefix() {
        let server = Webserver::parse("https://www.glance.net/").unwrap();
        assert_eq!(server.base(), "https://www.glance.net");
        assert_eq!(server.join("/services/x"), "https://www.glance.net/services/x");
        let proxied = Webserver::parse("http://127.0.0.1:9000/glance//").unwrap();
        assert_eq!(proxied.base(), "http://127.0.0.1:9000/glance");
        assert_eq!(proxied.origin(), "http://127.0.0.1:9000");
    }

    #[test]
    fn the_default_webserver_is_production_glance() {
        assert_eq!(Webserver::default(), Webserver::parse("https://www.glance.net").unwrap());
    }

    #[test]
    fn webserver_refuses_queries_and_non_http() {
        for bad in ["https://w.example/?a=1", "https://w.example#x", "ftp://w.example", "", "www.glance.net"] {
            assert_eq!(Webserver::parse(bad).map_err(|e| e.code()), Err("invalid_argument"), "{bad}");
        }
    }
}
