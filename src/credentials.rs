//! The agent's credentials (PROTOCOL.md section 1): checked for shape when stored, for expiry when used.
//! Only the service can check a login key's signature.

use alloc::string::String;

use crate::encoding::{decimal, parse_decimal, safe_integer};
use crate::error::AgentError;
use crate::no_panic::split_once_byte;

/// Characters in a login key signature: base64url of an HMAC-SHA256, no padding.
pub const SIGNATURE_LEN: usize = 43;
/// Longest `partneruserid` accepted.
pub const MAX_PARTNER_USER_ID_LEN: usize = 1024;

/// `partnerid` as the page gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PartnerIdInput<'a> {
    /// A JavaScript number.
    Number(f64),
    /// A string, expected to hold decimal digits.
    Text(&'a str),
    /// Absent, `null`, or of another type.
    Invalid,
}

/// A login key `$1$<expires>$<signature>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginKey {
    text: String,
    expires: u64,
}

impl LoginKey {
    /// Checks the shape: version 1, a decimal Unix time, a 43-character base64url signature.
    pub fn parse(text: String) -> Result<LoginKey, AgentError> {
        const WHY: &str = "loginkey must look like $1$<expires>$<43 base64url characters>";
        let (expires, signature) =
            text.as_str().strip_prefix("$1$").and_then(|rest| split_once_byte(rest, b'$')).unzip();
        let signature_ok = signature.is_some_and(|signature| {
            signature.len() == SIGNATURE_LEN
                && signature.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        match expires.and_then(parse_decimal) {
            Some(expires) if signature_ok => Ok(LoginKey { text, expires }),
            _ => Err(AgentError::InvalidCredentials(WHY)),
        }
    }

    /// The Unix time (seconds) at which the key stops working.
    pub fn expires(&self) -> u64 {
        self.expires
    }

    /// A key is valid while `now < expires`.
    pub fn is_expired_at(&self, now_seconds: u64) -> bool {
        now_seconds >= self.expires
    }

    /// The key as sent to the service.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Credentials held between `authenticate` and `logout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    partner_id: String,
    partner_user_id: String,
    login_key: LoginKey,
}

impl Credentials {
    /// Validates each field; the error names the first bad one.
    pub fn new(
        login_key: Option<String>,
        partner_id: PartnerIdInput<'_>,
        partner_user_id: Option<String>,
    ) -> Result<Credentials, AgentError> {
        let login_key = LoginKey::parse(login_key.unwrap_or_default())?;
        let partner_id = parse_partner_id(partner_id)?;
        let partner_user_id = match partner_user_id {
            Some(id) if !id.is_empty() && id.len() <= MAX_PARTNER_USER_ID_LEN => id,
            _ => return Err(AgentError::InvalidCredentials("partneruserid must be a non-empty string")),
        };
        Ok(Credentials { partner_id, partner_user_id, login_key })
    }

    /// The group id, in canonical decimal.
    pub fn partner_id(&self) -> &str {
        &self.partner_id
    }

    /// The agent's id in the customer's systems.
    pub fn partner_user_id(&self) -> &str {
        &self.partner_user_id
    }

    /// The login key.
    pub fn login_key(&self) -> &LoginKey {
        &self.login_key
    }

    /// `(name, value)` in the order the service documents them, names in the case given.
    pub fn fields(&self) -> [(&'static str, &str); 3] {
        [
            ("partnerid", &self.partner_id),
            ("partneruserid", &self.partner_user_id),
            ("loginkey", self.login_key.as_str()),
        ]
    }
}

/// A positive integer, given as a number or a string of digits.
fn parse_partner_id(input: PartnerIdInput<'_>) -> Result<String, AgentError> {
    let invalid = AgentError::InvalidCredentials("partnerid must be a positive integer");
    let value = match input {
        PartnerIdInput::Number(n) => safe_integer(n).filter(|&n| n >= 1).ok_or(invalid)?,
        PartnerIdInput::Text(text) => {
            let text = text.trim_ascii();
            parse_decimal(text).filter(|&n| text.len() <= 16 && n >= 1).ok_or(invalid)?
        }
        _ => return Err(invalid),
    };
    Ok(decimal(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    const SIGNATURE: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";

    fn key(expires: &str) -> String {
        ["$1$", expires, "$", SIGNATURE].concat()
    }

    fn field_error(result: Result<Credentials, AgentError>) -> String {
        result.expect_err("should be refused").message()
    }

    #[test]
    fn a_well_formed_key_is_57_characters_and_knows_its_expiry() {
        let text = key("1700000000");
        assert_eq!(text.len(), 57);
        let login_key = LoginKey::parse(text.clone()).unwrap();
        assert_eq!(login_key.expires(), 1_700_000_000);
        assert_eq!(login_key.as_str(), text);
        assert!(!login_key.is_expired_at(1_699_999_999));
        assert!(login_key.is_expired_at(1_700_000_000));
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            String::new(),
            "1700000000".to_owned(),
            ["$2$1700000000$", SIGNATURE].concat(),
            ["$1$$", SIGNATURE].concat(),
            ["$1$17000x0000$", SIGNATURE].concat(),
            ["$1$99999999999999999999$", SIGNATURE].concat(),
            key("1700000000") + "A",
            ["$1$1700000000$", &SIGNATURE[1..]].concat(),
            ["$1$1700000000$", &SIGNATURE[1..], "="].concat(),
            ["$1$1700000000$", &SIGNATURE[1..], "+"].concat(),
            ["$1$1700000000$", &SIGNATURE[1..], "é"].concat(),
        ] {
            assert_eq!(LoginKey::parse(bad.clone()).map_err(|e| e.code()), Err("invalid_credentials"), "{bad}");
        }
    }

    #[test]
    fn partner_id_accepts_positive_integers_as_numbers_or_digits() {
        let key = key("1700000000");
        let with =
            |pid| Credentials::new(Some(key.clone()), pid, Some("agent 7".into())).map(|c| c.partner_id().to_owned());
        assert_eq!(with(PartnerIdInput::Number(20541.0)).as_deref(), Ok("20541"));
        assert_eq!(with(PartnerIdInput::Text("20541")).as_deref(), Ok("20541"));
        assert_eq!(with(PartnerIdInput::Text(" 007 ")).as_deref(), Ok("7"));
        assert_eq!(with(PartnerIdInput::Number(9_007_199_254_740_991.0)).as_deref(), Ok("9007199254740991"));
        for bad in [
            PartnerIdInput::Number(0.0),
            PartnerIdInput::Number(-3.0),
            PartnerIdInput::Number(1.5),
            PartnerIdInput::Number(f64::NAN),
            PartnerIdInput::Number(f64::INFINITY),
            PartnerIdInput::Number(1e17),
            PartnerIdInput::Text(""),
            PartnerIdInput::Text("0"),
            PartnerIdInput::Text("12a"),
            PartnerIdInput::Text("-4"),
            PartnerIdInput::Text("1e3"),
            PartnerIdInput::Text("12345678901234567"),
            PartnerIdInput::Invalid,
        ] {
            assert_eq!(
                field_error(Credentials::new(Some(key.clone()), bad, Some("a".into()))),
                "invalid credentials: partnerid must be a positive integer"
            );
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let key = key("1700000000");
        let pid = PartnerIdInput::Number(1.0);
        assert!(field_error(Credentials::new(None, pid, Some("a".into()))).contains("loginkey"));
        assert!(field_error(Credentials::new(Some(key.clone()), pid, Some("".into()))).contains("partneruserid"));
        assert!(field_error(Credentials::new(Some(key.clone()), pid, None)).contains("partneruserid"));
        let huge = "x".repeat(MAX_PARTNER_USER_ID_LEN + 1);
        assert!(field_error(Credentials::new(Some(key.clone()), pid, Some(huge))).contains("partneruserid"));
    }

    #[test]
    fn fields_keep_the_partner_user_id_verbatim() {
        let key = key("1700000000");
        let creds = Credentials::new(Some(key.clone()), PartnerIdInput::Text("72"), Some(" a&b=c ".into())).unwrap();
        assert_eq!(creds.fields(), [("partnerid", "72"), ("partneruserid", " a&b=c "), ("loginkey", key.as_str())]);
    }
}
