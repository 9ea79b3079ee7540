//! The XML answers of SessionService.asmx (PROTOCOL.md sections 2 and 5).

use std::fmt::Write;

use crate::store::Session;

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Not allowed in XML 1.0 at all: left out, so the document still parses.
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => escaped.push(c),
        }
    }
    escaped
}

fn elements(fields: &[(&str, &str)]) -> String {
    let mut xml = String::new();
    for (name, value) in fields {
        let _ = write!(xml, "<{name}>{}</{name}>", escape(value));
    }
    xml
}

/// A found session: every field of the lookup result.
pub fn found(session: &Session, agent_join_url: &str, client_join_url: &str, partner_id: u64) -> String {
    let fields = elements(&[
        ("id", &session.id.to_string()),
        ("ssnid", &session.ssnid),
        ("serverip", "127.0.0.1"),
        ("servername", "local-glance"),
        ("personid", &(1000 + session.id).to_string()),
        ("groupid", &partner_id.to_string()),
        ("passcode", &session.key),
        ("agentjoinurl", agent_join_url),
        ("clientjoinurl", client_join_url),
        ("calltype", session.calltype.letter()),
        ("visitorversion", "6.25.0.0"),
    ]);
    format!("{HEAD}<SessionInfo xmlns=\"http://www.glance.net/\">{fields}</SessionInfo>")
}

/// No such session yet: `id` 0 and no `agentjoinurl`.
pub fn not_found(key: &str) -> String {
    let fields = elements(&[("id", "0"), ("passcode", key)]);
    format!("{HEAD}<SessionInfo xmlns=\"http://www.glance.net/\">{fields}</SessionInfo>")
}

/// A refusal (bad credentials and the like): a document that is neither found nor not-found.
pub fn error(message: &str) -> String {
    format!("{HEAD}<Error xmlns=\"http://www.glance.net/\"><Message>{}</Message></Error>", escape(message))
}

/// The sessions `agent` is in, each with the agent's participant number in it (`num`), the last part
/// of its `ssnid` (`disambiguateId`) and the host of its session server (`servername`): this service.
pub fn in_session(sessions: &[&Session], agent: &str, servername: &str) -> String {
    let mut xml = format!("{HEAD}<ArrayOfSession2 xmlns=\"http://www.glance.net/\">");
    for session in sessions {
        let num = session.agent_number(agent).unwrap_or(0);
        let disambiguate = session.ssnid.rsplit('.').next().unwrap_or_default();
        let fields = elements(&[
            ("id", &session.id.to_string()),
            ("passcode", &session.key),
            ("num", &num.to_string()),
            ("disambiguateId", disambiguate),
            ("servername", servername),
        ]);
        let _ = write!(xml, "<session2>{fields}</session2>");
    }
    xml.push_str("</ArrayOfSession2>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(escape("a\u{0}b\u{1b}\tc"), "ab\tc");
        assert!(error("x < y").contains("<Message>x &lt; y</Message>"));
    }

    #[test]
    fn not_found_has_id_zero_and_no_join_url() {
        let xml = not_found("12&34");
        assert!(xml.contains("<id>0</id>"));
        assert!(xml.contains("12&amp;34"));
        assert!(!xml.contains("agentjoinurl"));
    }
}
