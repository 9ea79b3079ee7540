//! The agent's credentials (PROTOCOL.md section 1): checked for shape when stored, for expiry when used;
//! the SAML sign-in hints and answer; when a renewing key is asked for again. Only the service can
//! check a login key's signature.

use crate::error::AgentError;

/// Characters in a login key signature: base64url of an HMAC-SHA256, no padding.
pub const SIGNATURE_LEN: usize = 43;
/// Longest `partneruserid` accepted.
pub const MAX_PARTNER_USER_ID_LEN: usize = 1024;
/// Largest integer a JavaScript number holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// A renewing login key is asked for again this long before it expires, so a call (a join inside
/// the agent's click above all) rarely waits for one.
pub const RENEW_BEFORE_S: u64 = 60;

/// `partnerid` as the page gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum PartnerIdInput {
    /// A JavaScript number.
    Number(f64),
    /// A string, expected to hold decimal digits.
    Text(String),
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
            text.strip_prefix("$1$").and_then(|rest| crate::text::split_once_at(rest, b'$')).unzip();
        let signature_ok = signature.is_some_and(|signature| {
            signature.len() == SIGNATURE_LEN
                && signature.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        match expires.and_then(parse_digits) {
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

    /// Whether a renewing key should be asked for again before a call sends this one.
    pub fn is_due_for_renewal_at(&self, now_seconds: u64) -> bool {
        now_seconds.saturating_add(RENEW_BEFORE_S) >= self.expires
    }

    /// Milliseconds from `now` until the renewal ahead of expiry; `None` for a key already due.
    pub fn renewal_in_ms(&self, now_seconds: u64) -> Option<u64> {
        let due = self.expires.checked_sub(RENEW_BEFORE_S)?;
        due.checked_sub(now_seconds).filter(|&seconds| seconds > 0).map(|seconds| seconds.saturating_mul(1000))
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
        partner_id: PartnerIdInput,
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

    /// Whether these are the same agent's (same group and id), whatever the key.
    pub fn same_agent(&self, other: &Credentials) -> bool {
        self.partner_id == other.partner_id && self.partner_user_id == other.partner_user_id
    }
}

/// A credentials object as a page gave it, field by field: what `authenticate` and `getLoginKey`'s
/// answer carry, read by the driver and checked here.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialsInput {
    /// `loginkey`, when a string.
    pub loginkey: Option<String>,
    /// `partnerid`.
    pub partnerid: PartnerIdInput,
    /// `partneruserid`, when a string or a whole number.
    pub partneruserid: Option<String>,
}

impl CredentialsInput {
    /// The credentials, checked (see [`Credentials::new`]).
    pub fn check(self) -> Result<Credentials, AgentError> {
        Credentials::new(self.loginkey, self.partnerid, self.partneruserid)
    }
}

/// What a credentials object that is not one is told.
pub const CREDENTIALS_RULE: &str = "credentials must be an object: {loginkey, partnerid, partneruserid}, \
                                    {getLoginKey} or one identity-provider hint";

/// The decimal digits of a whole number, and nothing else (no sign, no space).
fn parse_digits(text: &str) -> Option<u64> {
    crate::text::digits(text)
}

/// A JavaScript number that is a whole number a double holds exactly, from 0 up.
pub fn safe_integer(n: f64) -> Option<u64> {
    (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE_INTEGER as f64).then_some(n as u64)
}

/// A positive integer, given as a number or a string of digits.
fn parse_partner_id(input: PartnerIdInput) -> Result<String, AgentError> {
    let invalid = AgentError::InvalidCredentials("partnerid must be a positive integer");
    let value = match input {
        PartnerIdInput::Number(n) => safe_integer(n),
        PartnerIdInput::Text(text) => {
            let text = text.trim();
            parse_digits(text).filter(|_| text.len() <= 16)
        }
        PartnerIdInput::Invalid => None,
    };
    value.filter(|&n| n >= 1).map(crate::text::decimal).ok_or(invalid)
}

/// The identity-provider hints `authenticate` takes instead of a login key (PROTOCOL.md section 1).
pub const SSO_HINTS: [&str; 4] = ["idpid", "idpname", "idptoken", "idpusername"];
/// Longest identity-provider hint value sent (it goes in a URL).
pub const MAX_HINT_LEN: usize = 256;

/// One identity-provider hint: which one, and its value as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoHint {
    /// One of [`SSO_HINTS`].
    pub name: &'static str,
    /// The value, as text.
    pub value: String,
}

impl SsoHint {
    /// A hint's value: text, or a whole number (an `idpid`), at most [`MAX_HINT_LEN`] characters.
    pub fn new(name: &'static str, value: Option<String>) -> Result<SsoHint, AgentError> {
        const WHY: &str = "an identity-provider hint must be a string (or number) of at most 256 characters";
        match value {
            Some(value) if !value.is_empty() && crate::text::char_count(&value) <= MAX_HINT_LEN => {
                Ok(SsoHint { name, value })
            }
            _ => Err(AgentError::InvalidCredentials(WHY)),
        }
    }
}

/// The credentials in a SAML sign-in page's `loginKey`: `partnerid=<pid>&partneruserid=<puid>~<loginkey>`.
pub fn sso_credentials(login_key: &str) -> Result<Credentials, AgentError> {
    let (fields, key) = crate::text::rsplit_once_at(login_key, b'~')
        .ok_or(AgentError::InvalidCredentials("the sign-in page sent no login key"))?;
    let mut partner_id = PartnerIdInput::Invalid;
    let mut partner_user_id = None;
    for (name, value) in crate::form::decode(fields) {
        match &*name {
            "partnerid" => partner_id = PartnerIdInput::Text(value),
            "partneruserid" => partner_user_id = Some(value),
            _ => {}
        }
    }
    Credentials::new(Some(key.to_owned()), partner_id, partner_user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";

    fn key(expires: &str) -> String {
        ["$1$", expires, "$", SIGNATURE].concat()
    }

    fn field_error(result: Result<Credentials, AgentError>) -> String {
        result.expect_err("should be refused").to_string()
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
    fn renewal_is_due_a_minute_before_expiry() {
        let login_key = LoginKey::parse(key("1000")).unwrap();
        assert!(!login_key.is_due_for_renewal_at(939));
        assert!(login_key.is_due_for_renewal_at(940));
        assert_eq!(login_key.renewal_in_ms(900), Some(40_000));
        assert_eq!(login_key.renewal_in_ms(940), None);
        assert_eq!(LoginKey::parse(key("30")).unwrap().renewal_in_ms(0), None, "shorter than the lead: due at once");
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            String::new(),
            "1700000000".to_owned(),
            ["$2$1700000000$", SIGNATURE].concat(),
            ["$1$$", SIGNATURE].concat(),
            ["$1$+1700000000$", SIGNATURE].concat(),
            ["$1$17000x0000$", SIGNATURE].concat(),
            ["$1$99999999999999999999$", SIGNATURE].concat(),
            key("1700000000") + "A",
            ["$1$1700000000$", &SIGNATURE[1..]].concat(),
            ["$1$1700000000$", &SIGNATURE[1..], "="].concat(),
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
        assert_eq!(with(PartnerIdInput::Text("20541".into())).as_deref(), Ok("20541"));
        assert_eq!(with(PartnerIdInput::Text(" 007 ".into())).as_deref(), Ok("7"));
        assert_eq!(with(PartnerIdInput::Number(9_007_199_254_740_991.0)).as_deref(), Ok("9007199254740991"));
        for bad in [
            PartnerIdInput::Number(0.0),
            PartnerIdInput::Number(-3.0),
            PartnerIdInput::Number(1.5),
            PartnerIdInput::Number(f64::NAN),
            PartnerIdInput::Number(f64::INFINITY),
            PartnerIdInput::Number(1e17),
            PartnerIdInput::Text(String::new()),
            PartnerIdInput::Text("0".into()),
            PartnerIdInput::Text("12a".into()),
            PartnerIdInput::Text("-4".into()),
            PartnerIdInput::Text("+4".into()),
            PartnerIdInput::Text("1e3".into()),
            PartnerIdInput::Text("12345678901234567".into()),
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
        let pid = || PartnerIdInput::Number(1.0);
        assert!(field_error(Credentials::new(None, pid(), Some("a".into()))).contains("loginkey"));
        assert!(field_error(Credentials::new(Some(key.clone()), pid(), Some("".into()))).contains("partneruserid"));
        assert!(field_error(Credentials::new(Some(key.clone()), pid(), None)).contains("partneruserid"));
        let huge = "x".repeat(MAX_PARTNER_USER_ID_LEN + 1);
        assert!(field_error(Credentials::new(Some(key.clone()), pid(), Some(huge))).contains("partneruserid"));
    }

    #[test]
    fn fields_keep_the_partner_user_id_verbatim() {
        let key = key("1700000000");
        let creds =
            Credentials::new(Some(key.clone()), PartnerIdInput::Text("72".into()), Some(" a&b=c ".into())).unwrap();
        assert_eq!(creds.fields(), [("partnerid", "72"), ("partneruserid", " a&b=c "), ("loginkey", key.as_str())]);
    }

    #[test]
    fn the_sign_in_answer_unpacks_into_credentials() {
        let answer = ["partnerid=20541&partneruserid=jo%20agent%7E1~", &key("1700000000")].concat();
        let creds = sso_credentials(&answer).unwrap();
        assert_eq!((creds.partner_id(), creds.partner_user_id()), ("20541", "jo agent~1"));
        assert_eq!(creds.login_key().expires(), 1_700_000_000);
        for bad in ["", "partnerid=1&partneruserid=x", "partnerid=1~$1$5$x", "partneruserid=x~"] {
            assert_eq!(sso_credentials(bad).map_err(|e| e.code()), Err("invalid_credentials"), "{bad}");
        }
    }

    #[test]
    fn hints_are_bounded_non_empty_text() {
        assert_eq!(SsoHint::new("idpid", Some("7".into())).unwrap().value, "7");
        assert!(SsoHint::new("idpname", Some("é".repeat(MAX_HINT_LEN))).is_ok());
        for bad in [None, Some(String::new()), Some("x".repeat(MAX_HINT_LEN + 1))] {
            assert_eq!(SsoHint::new("idpname", bad).map_err(|e| e.code()), Err("invalid_credentials"));
        }
    }

    #[test]
    fn safe_integers_are_whole_and_exact() {
        assert_eq!(safe_integer(4400.0), Some(4400));
        assert_eq!(safe_integer(MAX_SAFE_INTEGER as f64), Some(MAX_SAFE_INTEGER));
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e300, -0.5] {
            assert_eq!(safe_integer(bad), None, "{bad}");
        }
    }
}
