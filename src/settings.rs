//! The properties a page sets on `GLANCE.Agent`, with their defaults and the values they accept.

use crate::credentials::safe_integer;
use crate::error::AgentError;
use crate::url::Webserver;

/// `postParametersToViewer` until the page sets it: the viewer gets its parameters by POST, so no
/// credential is ever in a URL.
pub const DEFAULT_POST_PARAMETERS: bool = true;
/// `requestTimeout` until the page sets it: milliseconds one request may take before it is aborted.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 10_000;
/// `resume` until the page sets it: a reloaded console takes back the viewers it had opened.
pub const DEFAULT_RESUME: bool = true;
/// The longest `requestTimeout` accepted.
pub const MAX_REQUEST_TIMEOUT_MS: u32 = 600_000;

/// The page's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `webserver`.
    pub webserver: Webserver,
    /// `postParametersToViewer`.
    pub post_parameters: bool,
    /// `requestTimeout`.
    pub request_timeout_ms: u32,
    /// `resume`: after a reload, find the viewers this tab opened before it and take them back.
    pub resume: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            webserver: Webserver::GLANCE,
            post_parameters: DEFAULT_POST_PARAMETERS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            resume: DEFAULT_RESUME,
        }
    }
}

/// A `requestTimeout` value: whole milliseconds from 1 to [`MAX_REQUEST_TIMEOUT_MS`].
pub fn request_timeout(value: Option<f64>) -> Result<u32, AgentError> {
    const WHY: &str = "requestTimeout must be whole milliseconds from 1 to 600000";
    value
        .and_then(safe_integer)
        .filter(|ms| (1..=u64::from(MAX_REQUEST_TIMEOUT_MS)).contains(ms))
        .and_then(|ms| u32::try_from(ms).ok())
        .ok_or(AgentError::InvalidArgument(WHY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_is_whole_milliseconds_in_range() {
        assert_eq!(request_timeout(Some(1.0)), Ok(1));
        assert_eq!(request_timeout(Some(600_000.0)), Ok(600_000));
        for bad in [None, Some(0.0), Some(-5.0), Some(1.5), Some(600_001.0), Some(f64::NAN), Some(f64::INFINITY)] {
            assert_eq!(request_timeout(bad).map_err(|e| e.code()), Err("invalid_argument"), "{bad:?}");
        }
    }

    #[test]
    fn defaults_are_production_glance_by_post_within_ten_seconds() {
        let settings = Settings::default();
        assert_eq!(settings.webserver.base(), "https://www.glance.net");
        assert!(settings.post_parameters);
        assert_eq!(settings.request_timeout_ms, 10_000);
    }
}
