//! URLs as the agent needs them: only `http:`/`https:`, and the origin that `message` events are
//! checked against. The browser parses every URL (its `URL`, in `browser::page`), so origins are the
//! ones it will report; this module applies our rules to the parts it hands over.

use std::borrow::Cow;

use crate::error::AgentError;

/// Longest URL accepted for the webserver or a viewer.
pub const MAX_URL_LEN: usize = 8192;

/// The parts of a URL as the browser's `URL` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlParts {
    /// `protocol`, e.g. `https:`.
    pub protocol: String,
    /// `username` and `password`: user info, which a viewer or webserver URL must not carry.
    pub user_info: bool,
    /// `origin`, e.g. `https://www.glance.net`.
    pub origin: String,
    /// `host`: host name and port, if not the default one.
    pub host: String,
    /// `pathname`.
    pub path: String,
    /// `search`, with its `?` (or empty).
    pub search: String,
    /// `hash`, with its `#` (or empty).
    pub hash: String,
}

/// An absolute `http:`/`https:` URL, as the browser parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    parts: UrlParts,
}

impl HttpUrl {
    /// The URL if it is http(s) without user info; `None` otherwise.
    pub fn from_parts(parts: UrlParts) -> Option<HttpUrl> {
        let web = parts.protocol == "https:" || parts.protocol == "http:";
        (web && !parts.user_info && !parts.origin.is_empty()).then_some(HttpUrl { parts })
    }

    /// `scheme://host[:port]`, exactly what `MessageEvent.origin` says for a page there.
    pub fn origin(&self) -> &str {
        &self.parts.origin
    }

    /// `host[:port]`.
    pub fn host(&self) -> &str {
        &self.parts.host
    }

    /// Whether the scheme is `https:`.
    pub fn is_secure(&self) -> bool {
        self.parts.protocol == "https:"
    }

    /// The query string without `?`, or `""`.
    pub fn query(&self) -> &str {
        self.parts.search.strip_prefix('?').unwrap_or_default()
    }

    /// The fragment with its `#`, or `""`.
    pub fn fragment(&self) -> &str {
        &self.parts.hash
    }

    /// The URL without query and fragment, e.g. a form's `action`.
    pub fn without_query(&self) -> String {
        crate::text::concat(&[self.origin(), &self.parts.path])
    }

    /// The URL without its fragment.
    pub fn without_fragment(&self) -> String {
        crate::text::concat(&[self.origin(), &self.parts.path, &self.parts.search])
    }
}

/// The configured Glance web server `W`: where requests go, and the origin viewer events must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webserver {
    base: Cow<'static, str>,
    origin: Cow<'static, str>,
    host: Cow<'static, str>,
    secure: bool,
}

/// `GLANCE.Agent.webserver` until the page sets another.
pub const DEFAULT_WEBSERVER: &str = "https://www.glance.net";

impl Default for Webserver {
    fn default() -> Self {
        Self::GLANCE
    }
}

impl Webserver {
    /// `https://www.glance.net`, the production service.
    pub const GLANCE: Webserver = Webserver {
        base: Cow::Borrowed(DEFAULT_WEBSERVER),
        origin: Cow::Borrowed(DEFAULT_WEBSERVER),
        host: Cow::Borrowed("www.glance.net"),
        secure: true,
    };

    /// Accepts an http(s) URL without query or fragment (`None`: not an http(s) URL); trailing `/`s
    /// are dropped, a path prefix is kept.
    pub fn from_url(url: Option<HttpUrl>) -> Result<Webserver, AgentError> {
        const WHY: &str = "webserver must be an http: or https: URL without query or fragment";
        let url = url.ok_or(AgentError::InvalidArgument(WHY))?;
        if !url.parts.search.is_empty() || !url.parts.hash.is_empty() {
            return Err(AgentError::InvalidArgument(WHY));
        }
        let base = crate::text::concat(&[url.origin(), url.parts.path.trim_end_matches('/')]);
        Ok(Webserver {
            base: Cow::Owned(base),
            origin: Cow::Owned(url.parts.origin),
            host: Cow::Owned(url.parts.host),
            secure: url.parts.protocol == "https:",
        })
    }

    /// The URL with no trailing slash, ready for a path to be appended.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The web server's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `host[:port]`, what presence names `WH`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the web server is `https:` (then presence uses `https:`/`wss:` too).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// `base` + `path`.
    pub fn join(&self, path: &str) -> String {
        crate::text::concat(&[self.base(), path])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A URL's parts as a browser would give them, for URLs the tests write out plainly:
    /// `scheme://host[:port]/path?query#fragment` (lower-case host, default port left out).
    pub fn parsed(text: &str) -> Option<HttpUrl> {
        let (protocol, rest) = text.split_once("//")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (before_hash, hash) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
        let (path, search) = before_hash.split_at(before_hash.find('?').unwrap_or(before_hash.len()));
        let host = authority.rsplit('@').next()?.to_ascii_lowercase();
        HttpUrl::from_parts(UrlParts {
            protocol: protocol.to_ascii_lowercase(),
            user_info: authority.contains('@'),
            origin: [&protocol.to_ascii_lowercase(), "//", &host].concat(),
            host,
            path: if path.is_empty() { "/".into() } else { path.into() },
            search: if search == "?" { String::new() } else { search.into() },
            hash: if hash == "#" { String::new() } else { hash.into() },
        })
    }

    #[test]
    fn only_http_urls_without_user_info_are_kept() {
        assert!(parsed("https://www.glance.net/x").is_some());
        assert!(parsed("http://127.0.0.1:8001/").is_some());
        for bad in ["javascript://x", "ftp://files.example/", "https://user:pw@evil.example/"] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn parts_of_a_join_url() {
        let url = parsed("https://w.example/agentjoin/AgentView.aspx?SessionKey=1%202&x=y#top").unwrap();
        assert_eq!(url.without_query(), "https://w.example/agentjoin/AgentView.aspx");
        assert_eq!(url.without_fragment(), "https://w.example/agentjoin/AgentView.aspx?SessionKey=1%202&x=y");
        assert_eq!(url.query(), "SessionKey=1%202&x=y");
        assert_eq!(url.fragment(), "#top");
        assert_eq!(url.origin(), "https://w.example");
    }

    #[test]
    fn webserver_drops_trailing_slashes_and_keeps_a_path_prefix() {
        let server = Webserver::from_url(parsed("https://www.glance.net/")).unwrap();
        assert_eq!(server, Webserver::GLANCE);
        assert_eq!(server.join("/services/x"), "https://www.glance.net/services/x");
        let proxied = Webserver::from_url(parsed("http://127.0.0.1:9000/glance//")).unwrap();
        assert_eq!(proxied.base(), "http://127.0.0.1:9000/glance");
        assert_eq!(proxied.origin(), "http://127.0.0.1:9000");
        assert_eq!(proxied.host(), "127.0.0.1:9000");
        assert!(!proxied.is_secure());
    }

    #[test]
    fn webserver_refuses_queries_fragments_and_non_http() {
        for bad in ["https://w.example/?a=1", "https://w.example/#x", "ftp://w.example/"] {
            assert_eq!(Webserver::from_url(parsed(bad)).map_err(|e| e.code()), Err("invalid_argument"), "{bad}");
        }
        assert!(Webserver::from_url(None).is_err());
    }
}
