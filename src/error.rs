//! One error type for every call. Each variant has a stable `code` that the boundary copies onto the
//! JavaScript `Error` it throws or rejects with, so pages can branch on `err.code`.

use alloc::borrow::ToOwned;
use alloc::string::String;

use thiserror::Error;

/// Longest `reason` (in bytes) kept from a service answer; a runaway error page must not flood the console.
pub const MAX_REASON_BYTES: usize = 2000;

/// Why a call failed.
///
/// `Display` (via thiserror) serves native code and tests; the wasm boundary uses [`AgentError::message`],
/// which builds the same text without `core::fmt`, to keep the module small.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.message())]
pub enum AgentError {
    /// `authenticate` got something that is not a well-formed set of credentials; says which field.
    InvalidCredentials(&'static str),
    /// A lookup or join was asked for before `authenticate`.
    NotAuthenticated,
    /// The stored login key's expiry time has passed.
    LoginKeyExpired,
    /// An argument has the wrong type or shape; says which.
    InvalidArgument(&'static str),
    /// A viewer URL that is not `http:` or `https:`.
    InvalidUrl,
    /// `joinSession` with `wait: false` found no running session.
    NotFound,
    /// The lookup was canceled by `cancelLookup` or its `cancel` function.
    Canceled,
    /// No session started within the lookup window (12 attempts, about 45 s).
    TimedOut,
    /// The service answered with an error (bad credentials, a non-XML or unexpected document, HTTP 4xx).
    ServiceError(String),
    /// The service could not be reached (network error, HTTP 5xx, request timeout).
    ServiceUnavailable(String),
    /// The browser refused to open the viewer window.
    PopupBlocked,
    /// The viewer could not be loaded in the given iframe.
    IframeBlocked,
}

impl AgentError {
    /// The stable machine-readable code, e.g. `"canceled"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials(_) => "invalid_credentials",
            Self::NotAuthenticated => "not_authenticated",
            Self::LoginKeyExpired => "loginkey_expired",
            Self::InvalidArgument(_) => "invalid_argument",
            Self::InvalidUrl => "invalid_url",
            Self::NotFound => "not_found",
            Self::Canceled => "canceled",
            Self::TimedOut => "timedout",
            Self::ServiceError(_) => "service_error",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::PopupBlocked => "popup_blocked",
            Self::IframeBlocked => "iframe_blocked",
        }
    }

    /// The `reason` that a `lookupFailed` event carries for this failure.
    pub fn reason(&self) -> &str {
        match self {
            Self::ServiceError(reason) | Self::ServiceUnavailable(reason) => reason,
            other => other.code(),
        }
    }

    /// A sentence for people: what went wrong and, where it helps, what to do.
    pub fn message(&self) -> String {
        let (head, detail): (&str, &str) = match self {
            Self::InvalidCredentials(field) => ("invalid credentials: ", field),
            Self::NotAuthenticated => ("call GLANCE.Agent.authenticate() with a login key first", ""),
            Self::LoginKeyExpired => ("the login key has expired; authenticate with a new one", ""),
            Self::InvalidArgument(what) => (what, ""),
            Self::InvalidUrl => ("the viewer URL must be http: or https:", ""),
            Self::NotFound => ("no session with this key is running", ""),
            Self::Canceled => ("the lookup was canceled", ""),
            Self::TimedOut => ("no session with this key started within 45 seconds", ""),
            Self::ServiceError(reason) => ("the Glance service refused the lookup: ", reason),
            Self::ServiceUnavailable(reason) => ("the Glance service could not be reached: ", reason),
            Self::PopupBlocked => ("the browser blocked the viewer window; allow popups for this page", ""),
            Self::IframeBlocked => ("the viewer could not load in the iframe", ""),
        };
        let mut text = String::with_capacity(head.len() + detail.len());
        text.push_str(head);
        text.push_str(detail);
        text
    }
}

/// Trims a service's answer to something fit for an event payload and an error message.
pub fn shorten_reason(text: &str) -> String {
    let text = text.trim_ascii();
    let mut cut = text.len().min(MAX_REASON_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.get(..cut).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            AgentError::InvalidCredentials("x"),
            AgentError::NotAuthenticated,
            AgentError::LoginKeyExpired,
            AgentError::InvalidArgument("x"),
            AgentError::InvalidUrl,
            AgentError::NotFound,
            AgentError::Canceled,
            AgentError::TimedOut,
            AgentError::ServiceError("x".into()),
            AgentError::ServiceUnavailable("x".into()),
            AgentError::PopupBlocked,
            AgentError::IframeBlocked,
        ];
        let codes: Vec<&str> = all.iter().map(AgentError::code).collect();
        assert_eq!(
            codes,
            [
                "invalid_credentials",
                "not_authenticated",
                "loginkey_expired",
                "invalid_argument",
                "invalid_url",
                "not_found",
                "canceled",
                "timedout",
                "service_error",
                "service_unavailable",
                "popup_blocked",
                "iframe_blocked",
            ]
        );
    }

    #[test]
    fn message_matches_display_and_names_the_field() {
        let error = AgentError::InvalidCredentials("partnerid must be a positive integer");
        assert_eq!(error.message(), "invalid credentials: partnerid must be a positive integer");
        assert_eq!(error.to_string(), error.message());
    }

    #[test]
    fn reason_is_the_service_text_or_the_code() {
        assert_eq!(AgentError::ServiceError("Invalid login key".into()).reason(), "Invalid login key");
        assert_eq!(AgentError::TimedOut.reason(), "timedout");
        assert_eq!(AgentError::LoginKeyExpired.reason(), "loginkey_expired");
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let long = ["x", &"é".repeat(MAX_REASON_BYTES)].concat();
        let short = shorten_reason(&long);
        assert_eq!(short.len(), MAX_REASON_BYTES - 1, "the last 'é' would straddle the limit");
        assert!(long.starts_with(&short));
        assert_eq!(shorten_reason("  kept whole \n"), "kept whole");
    }
}
