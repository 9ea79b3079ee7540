//! Login keys, `$1$<expires>$<signature>` (PROTOCOL.md section 1), signed and checked as the service does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The service refuses keys that expire more than this far ahead.
pub const HORIZON_SECONDS: u64 = 24 * 60 * 60;

fn mac(api_key: &str, partner_id: u64, partner_user_id: &str, expires: u64) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(api_key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{partner_id}{partner_user_id}1{expires}").as_bytes());
    mac
}

pub fn sign(api_key: &str, partner_id: u64, partner_user_id: &str, expires: u64) -> String {
    let signature = URL_SAFE_NO_PAD.encode(mac(api_key, partner_id, partner_user_id, expires).finalize().into_bytes());
    format!("$1${expires}${signature}")
}

/// Why the service refuses a login key; the text is the reason the agent sees.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownPartner,
    Malformed,
    BadSignature,
    Expired,
    TooFarAhead,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::UnknownPartner => "Unknown partner id",
            Refusal::Malformed => "Login key malformed",
            Refusal::BadSignature => "Login key invalid",
            Refusal::Expired => "Login key expired",
            Refusal::TooFarAhead => "Login key expires more than one day ahead",
        }
    }
}

pub struct Verifier<'a> {
    pub api_key: &'a str,
    pub partner_id: u64,
}

impl Verifier<'_> {
    pub fn verify(&self, partner_id: &str, partner_user_id: &str, login_key: &str, now: u64) -> Result<(), Refusal> {
        let partner_id: u64 = partner_id.trim().parse().map_err(|_| Refusal::UnknownPartner)?;
        if partner_id != self.partner_id {
            return Err(Refusal::UnknownPartner);
        }
        let mut parts = login_key.split('$');
        let (Some(""), Some("1"), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed);
        };
        // Signed as written: `+1795…` or `01795…` would parse to the same number with another text.
        let expires: u64 = expires.parse().ok().filter(|n: &u64| n.to_string() == expires).ok_or(Refusal::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Refusal::Malformed)?;
        mac(self.api_key, partner_id, partner_user_id, expires)
            .verify_slice(&signature)
            .map_err(|_| Refusal::BadSignature)?;
        if now >= expires {
            return Err(Refusal::Expired);
        }
        if expires > now + HORIZON_SECONDS {
            return Err(Refusal::TooFarAhead);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000;
    const VERIFIER: Verifier = Verifier { api_key: "secret", partner_id: 20541 };

    #[test]
    fn a_signed_key_has_the_documented_shape_and_verifies() {
        let key = sign("secret", 20541, "agent 7/ü", NOW + 60);
        assert_eq!(key.len(), 57);
        assert!(key.starts_with("$1$1764000060$"));
        assert_eq!(VERIFIER.verify("20541", "agent 7/ü", &key, NOW), Ok(()));
    }

    #[test]
    fn every_input_of_the_signature_counts() {
        let key = sign("secret", 20541, "agent-7", NOW + 60);
        assert_eq!(VERIFIER.verify("20541", "agent-8", &key, NOW), Err(Refusal::BadSignature));
        let other = Verifier { api_key: "other", partner_id: 20541 };
        assert_eq!(other.verify("20541", "agent-7", &key, NOW), Err(Refusal::BadSignature));
        let moved = key.replace("1764000060", "1764000061");
        assert_eq!(VERIFIER.verify("20541", "agent-7", &moved, NOW), Err(Refusal::BadSignature));
    }

    #[test]
    fn expiry_and_horizon() {
        let key = sign("secret", 20541, "a", NOW);
        assert_eq!(VERIFIER.verify("20541", "a", &key, NOW), Err(Refusal::Expired));
        let key = sign("secret", 20541, "a", NOW + HORIZON_SECONDS + 1);
        assert_eq!(VERIFIER.verify("20541", "a", &key, NOW), Err(Refusal::TooFarAhead));
    }

    #[test]
    fn partner_and_shape() {
        let key = sign("secret", 20542, "a", NOW + 60);
        assert_eq!(VERIFIER.verify("20542", "a", &key, NOW), Err(Refusal::UnknownPartner));
        assert_eq!(VERIFIER.verify("x", "a", &key, NOW), Err(Refusal::UnknownPartner));
        for bad in ["", "$1$$", "$2$1764000060$abc", "$1$soon$abc", "$1$1764000060$!!", "$1$1$a$b", "$1$+1764000060$a"]
        {
            assert_eq!(VERIFIER.verify("20541", "a", bad, NOW), Err(Refusal::Malformed), "{bad}");
        }
    }
}
