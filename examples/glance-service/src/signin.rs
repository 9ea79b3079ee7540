//! The SAML sign-in page, `GET W/account/getloginkey.aspx`: the library loads it in a hidden iframe and the
//! page posts a login key, or why there is none, to the console. No identity provider is asked: the hint
//! in the query decides (README.md, "SAML sign-in").

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::{App, KEY_LIFETIME_SECONDS};
use crate::service::{opener_origin, page, pairs, param, Pairs};

/// The hints that name the identity provider or the user, in the library's spelling.
const HINTS: [&str; 4] = ["idpid", "idpname", "idptoken", "idpusername"];

/// What the simulated identity provider decides.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Signs in this `partneruserid` of the configured partner.
    SignIn(String),
    /// Never answers, so a test sees the library's own timeout.
    Hang,
    /// Refuses; the text is the `reason` the agent sees.
    Refuse(String),
}

/// The first hint in the request, by its name as in `HINTS` (names compare without case), and its value.
fn hint(pairs: &Pairs) -> Option<(&'static str, &str)> {
    pairs.iter().find_map(|(name, value)| {
        HINTS.into_iter().find(|hint| name.eq_ignore_ascii_case(hint)).map(|hint| (hint, value.as_str()))
    })
}

/// The local rules in place of an identity provider; `default_agent` is the demo agent.
fn outcome(pairs: &Pairs, default_agent: &str) -> Outcome {
    if param(pairs, &["sso"]) != Some("1") {
        return Outcome::Refuse("sso=1 is required".into());
    }
    let Some((name, value)) = hint(pairs) else {
        return Outcome::Refuse("no identity provider given (idpid, idpname, idptoken or idpusername)".into());
    };
    match (name, value) {
        (_, "") => Outcome::Refuse(format!("{name} is empty")),
        (_, "hang") => Outcome::Hang,
        ("idpid", "1") | ("idpname", "local") => Outcome::SignIn(default_agent.to_owned()),
        ("idptoken" | "idpusername", agent) => Outcome::SignIn(agent.to_owned()),
        _ => Outcome::Refuse(format!("unknown identity provider: {name}={value}")),
    }
}

/// Percent-encodes everything but letters, digits and `*-._`: `~`, `&` and `=` separate the loginKey's
/// parts, and `%20` for a space (not `+`) decodes the same with `decodeURIComponent` and form decoders.
fn percent_encode(text: &str) -> String {
    // byte_serialize writes a literal `+` as %2B, so every `+` left stands for a space.
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The production shape of a SAML login: `partnerid=<pid>&partneruserid=<puid>~<loginkey>`.
fn login_key_text(partner_id: u64, agent: &str, login_key: &str) -> String {
    format!("partnerid={partner_id}&partneruserid={}~{login_key}", percent_encode(agent))
}

/// The `{glanceEvent, data}` the page posts, with a freshly minted key for a sign-in; none for a hang.
fn message(app: &App, outcome: Outcome) -> Option<Value> {
    match outcome {
        Outcome::SignIn(agent) => {
            let partner_id = app.config.partner_id;
            let (login_key, _) = app.mint(partner_id, &agent, KEY_LIFETIME_SECONDS);
            let login_key = login_key_text(partner_id, &agent, &login_key);
            Some(json!({"glanceEvent": "authenticateSucceeded", "data": {"loginKey": login_key, "service": "agent"}}))
        }
        Outcome::Hang => None,
        Outcome::Refuse(reason) => {
            Some(json!({"glanceEvent": "authenticateFailed", "data": {"reason": reason, "service": "agent"}}))
        }
    }
}

/// JSON for inside a `<script>` element: a `<` in a value must not close it (`</script>`) or open a comment.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// The whole page: a script that posts `message` to `origin`, or nothing at all.
fn html(message: Option<&Value>, origin: &str) -> String {
    let script = message.map_or_else(String::new, |message| {
        let origin = script_json(&Value::String(origin.to_owned()));
        format!("<script>parent.postMessage({}, {origin});</script>", script_json(message))
    });
    format!("<!doctype html><title>Glance sign-in</title>{script}")
}

/// `GET W/account/getloginkey.aspx?sso=1&mode=embedded&fmt=html&<hint>=<value>`
pub async fn get_login_key(State(app): State<Arc<App>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    // A login key goes only to an allowed console: unlike the viewer's events, never to every console.
    let Some(origin) = opener_origin(&headers).filter(|origin| app.allows_origin(origin)) else {
        return page(
            StatusCode::FORBIDDEN,
            "Console not allowed",
            "The sign-in page answers only a console origin the service allows (--console-origin).",
        );
    };
    let pairs = pairs(query.as_deref(), &[]);
    let message = message(&app, outcome(&pairs, &app.config.agent_id));
    // The page carries a live login key: no cache may keep it.
    ([(header::CACHE_CONTROL, "no-store")], Html(html(message.as_ref(), &origin))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::HeaderValue;

    use crate::config::Config;

    const CONSOLE: &str = "http://127.0.0.1:8000";

    fn app() -> App {
        let config = Config {
            port: 0,
            console_port: None,
            console_origins: vec![CONSOLE.into()],
            api_key: "secret".into(),
            partner_id: 20541,
            agent_id: "agent-7".into(),
            root: ".".into(),
        };
        App::new(config, "http://127.0.0.1:8001".into(), None)
    }

    fn decide(query: &str) -> Outcome {
        outcome(&pairs(Some(query), &[]), "agent-7")
    }

    fn sign_in(agent: &str) -> Outcome {
        Outcome::SignIn(agent.into())
    }

    /// Unpacks a loginKey as the library does: (partnerid, partneruserid, loginkey).
    fn unpack(text: &str) -> (String, String, String) {
        let (fields, login_key) = text.rsplit_once('~').unwrap();
        let fields = pairs(Some(fields), &[]);
        let field = |name| param(&fields, &[name]).unwrap().to_owned();
        (field("partnerid"), field("partneruserid"), login_key.to_owned())
    }

    #[test]
    fn each_hint_follows_its_rule() {
        assert_eq!(decide("sso=1&mode=embedded&fmt=html&idpusername=joe%20bloggs"), sign_in("joe bloggs"));
        assert_eq!(decide("sso=1&idptoken=ann"), sign_in("ann"));
        assert_eq!(decide("sso=1&idpid=1"), sign_in("agent-7"));
        assert_eq!(decide("sso=1&idpname=local"), sign_in("agent-7"));
        for hang in ["idpid", "idpname", "idptoken", "idpusername"] {
            assert_eq!(decide(&format!("sso=1&{hang}=hang")), Outcome::Hang, "{hang}");
        }
        for unknown in ["sso=1&idpid=2", "sso=1&idpname=okta"] {
            let Outcome::Refuse(reason) = decide(unknown) else { panic!("{unknown} signed in") };
            assert!(reason.starts_with("unknown identity provider"), "{reason}");
        }
        for refused in ["sso=1&idpusername=", "sso=1&idpid=", "sso=1", "idpid=1", "sso=0&idpid=1", "sso=yes&idpid=1"] {
            assert!(matches!(decide(refused), Outcome::Refuse(_)), "{refused}");
        }
    }

    #[test]
    fn names_compare_without_case() {
        assert_eq!(decide("SSO=1&IdpUserName=joe"), sign_in("joe"));
        assert_eq!(decide("sso=1&IDPNAME=local"), sign_in("agent-7"));
        assert_eq!(decide("Sso=1&IdPiD=1"), sign_in("agent-7"));
        assert_eq!(decide("sso=1&IDPTOKEN=hang"), Outcome::Hang);
    }

    #[test]
    fn the_login_key_unpacks_and_the_lookup_accepts_it() {
        let app = app();
        let message = message(&app, decide("sso=1&idpid=1")).unwrap();
        assert_eq!(message["glanceEvent"], "authenticateSucceeded");
        assert_eq!(message["data"]["service"], "agent");
        let (partner_id, agent, login_key) = unpack(message["data"]["loginKey"].as_str().unwrap());
        assert_eq!((partner_id.as_str(), agent.as_str()), ("20541", "agent-7"));
        assert_eq!(app.verify(&partner_id, &agent, &login_key), Ok(()));
    }

    #[test]
    fn the_agent_is_percent_encoded_in_the_login_key() {
        let app = app();
        let agent = "a&b~c=d e+f";
        let message = message(&app, sign_in(agent)).unwrap();
        let text = message["data"]["loginKey"].as_str().unwrap();
        assert!(text.starts_with("partnerid=20541&partneruserid=a%26b%7Ec%3Dd%20e%2Bf~$1$"), "{text}");
        let (partner_id, unpacked, login_key) = unpack(text);
        assert_eq!(unpacked, agent);
        assert_eq!(app.verify(&partner_id, &unpacked, &login_key), Ok(()));
    }

    #[test]
    fn a_refusal_and_a_hang() {
        let app = app();
        let message = message(&app, decide("sso=1&idpid=9")).unwrap();
        assert_eq!(message["glanceEvent"], "authenticateFailed");
        assert_eq!(message["data"], json!({"reason": "unknown identity provider: idpid=9", "service": "agent"}));
        assert_eq!(html(None, CONSOLE), "<!doctype html><title>Glance sign-in</title>");
    }

    #[test]
    fn script_end_tags_stay_inside_the_strings() {
        let app = app();
        let message = message(&app, sign_in("</script><script>alert(1)</script><!--")).unwrap();
        let page = html(Some(&message), "http://x</script>");
        let script = page.strip_prefix("<!doctype html><title>Glance sign-in</title><script>").unwrap();
        let script = script.strip_suffix("</script>").unwrap();
        assert!(!script.contains('<'), "{script}");
        assert!(script.starts_with("parent.postMessage({"), "{script}");
        assert!(script.ends_with(", \"http://x\\u003c/script>\");"), "{script}");
    }

    async fn get(headers: &[(header::HeaderName, &'static str)]) -> (StatusCode, String) {
        let headers = headers.iter().map(|(name, value)| (name.clone(), HeaderValue::from_static(value))).collect();
        let query = RawQuery(Some("sso=1&mode=embedded&fmt=html&idpname=local".into()));
        let response = get_login_key(State(Arc::new(app())), headers, query).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn only_an_allowed_console_gets_an_answer() {
        let (status, body) = get(&[(header::REFERER, "http://127.0.0.1:8000/console.html?x=1")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"authenticateSucceeded\"") && body.ends_with(", \"http://127.0.0.1:8000\");</script>"));
        for refused in [&[][..], &[(header::REFERER, "http://evil.test/")], &[(header::ORIGIN, "http://127.0.0.1:9")]] {
            let (status, body) = get(refused).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{refused:?}");
            assert!(!body.contains("postMessage") && body.contains("Console not allowed"), "{body}");
        }
    }
}
