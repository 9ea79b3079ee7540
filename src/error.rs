//! One error type for every call. Each variant has a stable `code`; the boundary turns it into the
//! JavaScript `Error` a call throws or rejects with (with that `code`), in one place
//! (`browser::js::to_error`), so pages can branch on `err.code`.

use std::borrow::Cow;

use thiserror::Error;

/// Longest `reason` (in characters) kept from a service answer or a thrown message: a runaway error
/// page must not flood an event payload or the console.
pub const MAX_REASON_CHARS: usize = 2000;

/// Why a call failed. [`AgentError::message`] is the message pages see (and `Display`'s text).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AgentError {
    /// `authenticate` got something that is not a well-formed set of credentials; says which field.
    #[error("{}", self.message())]
    InvalidCredentials(&'static str),
    /// A call that needs credentials was made before `authenticate`.
    #[error("{}", self.message())]
    NotAuthenticated,
    /// The stored login key's expiry time has passed.
    #[error("{}", self.message())]
    LoginKeyExpired,
    /// An argument has the wrong type or shape; says which and what it must be.
    #[error("{}", self.message())]
    InvalidArgument(&'static str),
    /// A viewer URL that is not `http:` or `https:`.
    #[error("{}", self.message())]
    InvalidUrl,
    /// `joinSession` with `wait: false` found no running session.
    #[error("{}", self.message())]
    NotFound,
    /// The call was canceled: `cancelLookup`, a `cancel` function, its `signal`, or a later call that
    /// replaced it.
    #[error("{}", self.message())]
    Canceled,
    /// Nothing came within the time the call allows; says what was awaited.
    #[error("{}", self.message())]
    TimedOut(&'static str),
    /// The service refused (an error document, a non-XML answer, HTTP 4xx); the reason is its answer.
    #[error("{}", self.message())]
    ServiceError(String),
    /// The service could not be reached (network error, HTTP 5xx, request timeout).
    #[error("{}", self.message())]
    ServiceUnavailable(String),
    /// The browser refused to open the viewer window.
    #[error("{}", self.message())]
    PopupBlocked,
    /// The viewer could not be loaded in the given iframe.
    #[error("{}", self.message())]
    IframeBlocked,
    /// A SAML sign-in was refused or got no answer, or `getLoginKey` failed; the reason says why.
    #[error("{}", self.message())]
    AuthenticationFailed(String),
    /// The visitor is not on the website (presence), or presence is not connected to them.
    #[error("{}", self.message())]
    VisitorNotPresent(&'static str),
    /// The visitor declined the session (`presenceStartSession`).
    #[error("{}", self.message())]
    Declined,
    /// The WebAssembly module could not be loaded (raised by the loader; see `surface`).
    #[error("{}", self.message())]
    LoadFailed,
}

/// `reason` of a lookup that timed out, as production sends it.
pub const TIMED_OUT_REASON: &str = "timedout";

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
            Self::TimedOut(_) => "timedout",
            Self::ServiceError(_) => "service_error",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::PopupBlocked => "popup_blocked",
            Self::IframeBlocked => "iframe_blocked",
            Self::AuthenticationFailed(_) => "authentication_failed",
            Self::VisitorNotPresent(_) => "visitor_not_present",
            Self::Declined => "declined",
            Self::LoadFailed => "load_failed",
        }
    }

    /// The message pages see: static text, or static text and the service's or provider's words,
    /// joined without `core::fmt`.
    pub fn message(&self) -> Cow<'static, str> {
        let joined = |prefix: &str, detail: &str| Cow::Owned(crate::text::concat(&[prefix, detail]));
        match self {
            Self::InvalidCredentials(why) => joined("invalid credentials: ", why),
            Self::NotAuthenticated => Cow::Borrowed("call GLANCE.Agent.authenticate() with a login key first"),
            Self::LoginKeyExpired => Cow::Borrowed("the login key has expired; authenticate with a new one"),
            Self::InvalidArgument(why) | Self::TimedOut(why) => Cow::Borrowed(why),
            Self::InvalidUrl => Cow::Borrowed("the viewer URL must be http: or https:"),
            Self::NotFound => Cow::Borrowed("no session with this key is running"),
            Self::Canceled => Cow::Borrowed("the call was canceled"),
            Self::ServiceError(reason) => joined("the Glance service refused the request: ", reason),
            Self::ServiceUnavailable(reason) => joined("the Glance service could not be reached: ", reason),
            Self::PopupBlocked => Cow::Borrowed("the browser blocked the viewer window; allow popups for this page"),
            Self::IframeBlocked => Cow::Borrowed("the viewer could not load in the iframe"),
            Self::AuthenticationFailed(reason) => joined("the agent could not be signed in: ", reason),
            Self::VisitorNotPresent(why) => joined("the visitor is not present: ", why),
            Self::Declined => Cow::Borrowed("the visitor declined the session"),
            Self::LoadFailed => Cow::Borrowed("GLANCE.Agent could not load"),
        }
    }

    /// [`AgentError::reason`], owned where it must be.
    pub fn reason_text(&self) -> Cow<'static, str> {
        match self {
            Self::ServiceError(reason) | Self::ServiceUnavailable(reason) | Self::AuthenticationFailed(reason) => {
                Cow::Owned(reason.clone())
            }
            Self::TimedOut(_) => Cow::Borrowed(TIMED_OUT_REASON),
            other => Cow::Borrowed(other.code()),
        }
    }

    /// The `reason` an event (`lookupFailed`, `authenticateFailed`) and the `Error` carry: the
    /// service's or provider's own words where there are some, else the code.
    pub fn reason(&self) -> &str {
        match self {
            Self::ServiceError(reason) | Self::ServiceUnavailable(reason) | Self::AuthenticationFailed(reason) => {
                reason
            }
            Self::TimedOut(_) => TIMED_OUT_REASON,
            other => other.code(),
        }
    }

    /// Whether the `Error` carries a `reason` of its own (the failures that come from the service).
    pub fn has_reason(&self) -> bool {
        matches!(
            self,
            Self::ServiceError(_) | Self::ServiceUnavailable(_) | Self::AuthenticationFailed(_) | Self::TimedOut(_)
        )
    }
}

/// Trims a service's answer or a thrown message to something fit for an event payload and an error
/// message: surrounding whitespace dropped, at most [`MAX_REASON_CHARS`] characters.
pub fn shorten_reason(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => text.get(..cut).unwrap_or(text).trim_end().to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            AgentError::TimedOut("x"),
            AgentError::ServiceError("x".into()),
            AgentError::ServiceUnavailable("x".into()),
            AgentError::PopupBlocked,
            AgentError::IframeBlocked,
            AgentError::AuthenticationFailed("x".into()),
            AgentError::VisitorNotPresent("x"),
            AgentError::Declined,
            AgentError::LoadFailed,
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
                "authentication_failed",
                "visitor_not_present",
                "declined",
                "load_failed",
            ]
        );
    }

    #[test]
    fn messages_name_the_field_and_carry_the_reason() {
        let error = AgentError::InvalidCredentials("partnerid must be a positive integer");
        assert_eq!(error.to_string(), "invalid credentials: partnerid must be a positive integer");
        let refused = AgentError::ServiceError("<Error>Login key invalid</Error>".into());
        assert_eq!(refused.to_string(), "the Glance service refused the request: <Error>Login key invalid</Error>");
    }

    #[test]
    fn reason_is_the_service_text_or_the_code() {
        assert_eq!(AgentError::ServiceError("Invalid login key".into()).reason(), "Invalid login key");
        assert_eq!(AgentError::TimedOut("x").reason(), "timedout");
        assert_eq!(AgentError::LoginKeyExpired.reason(), "loginkey_expired");
        assert!(AgentError::AuthenticationFailed("no".into()).has_reason());
        assert!(!AgentError::Canceled.has_reason());
    }

    #[test]
    fn long_reasons_are_cut_at_a_character_count() {
        let long = ["x", &"é".repeat(MAX_REASON_CHARS)].concat();
        let short = shorten_reason(&long);
        assert_eq!(short.chars().count(), MAX_REASON_CHARS);
        assert!(long.starts_with(&short));
        assert_eq!(shorten_reason("  kept whole \n"), "kept whole");
    }
}
