//! Settings from flags, then environment, then defaults that work out of the box.

use std::env;

pub const USAGE: &str = "\
glance-service: a local Glance-compatible service for glance-agent (127.0.0.1 only)

  --port N               the Glance service (GLANCE_SERVICE_PORT, default 8001; 0 picks a free port)
  --console-port N       the demo console: www/ and dist/ (GLANCE_CONSOLE_PORT, default 8000; 0 picks one)
  --no-console           serve no console (the tests bring their own)
  --console-origin URL   an origin allowed to call the service and receive viewer events; repeatable
                         (GLANCE_CONSOLE_ORIGINS, comma-separated; default: the console's own origin)
  --api-key KEY          the key login keys are signed with (GLANCE_API_KEY, default local-dev-api-key)
  --partner-id N         the only partner id accepted (GLANCE_PARTNER_ID, default 20541)
  --agent-id ID          the demo agent's partneruserid (GLANCE_AGENT_ID, default agent-7)
  --root DIR             the repository root holding www/ and dist/ (GLANCE_ROOT, default .)
";

#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub console_port: Option<u16>,
    pub console_origins: Vec<String>,
    pub api_key: String,
    pub partner_id: u64,
    pub agent_id: String,
    pub root: String,
}

impl Config {
    /// Reads `args` (without the program name) over the environment.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let var = |name: &str| env::var(name).ok().filter(|value| !value.is_empty());
        let mut config = Config {
            port: parse_port(&var("GLANCE_SERVICE_PORT").unwrap_or_else(|| "8001".into()))?,
            console_port: Some(parse_port(&var("GLANCE_CONSOLE_PORT").unwrap_or_else(|| "8000".into()))?),
            console_origins: var("GLANCE_CONSOLE_ORIGINS")
                .map(|list| list.split(',').map(|origin| origin.trim().to_owned()).collect())
                .unwrap_or_default(),
            api_key: var("GLANCE_API_KEY").unwrap_or_else(|| "local-dev-api-key".into()),
            partner_id: parse_partner(&var("GLANCE_PARTNER_ID").unwrap_or_else(|| "20541".into()))?,
            agent_id: var("GLANCE_AGENT_ID").unwrap_or_else(|| "agent-7".into()),
            root: var("GLANCE_ROOT").unwrap_or_else(|| ".".into()),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--no-console" {
                config.console_port = None;
                continue;
            }
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.to_owned());
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
            match flag.as_str() {
                "--port" => config.port = parse_port(&value)?,
                "--console-port" => config.console_port = Some(parse_port(&value)?),
                "--console-origin" => config.console_origins.push(value),
                "--api-key" => config.api_key = value,
                "--partner-id" => config.partner_id = parse_partner(&value)?,
                "--agent-id" => config.agent_id = value,
                "--root" => config.root = value,
                _ => return Err(format!("unknown flag {flag}\n\n{USAGE}")),
            }
        }
        if config.api_key.is_empty() || config.agent_id.is_empty() {
            return Err("--api-key and --agent-id must not be empty".into());
        }
        Ok(config)
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse().map_err(|_| format!("not a port: {text}"))
}

fn parse_partner(text: &str) -> Result<u64, String> {
    text.parse().ok().filter(|id| *id > 0).ok_or_else(|| format!("not a partner id: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn flags_override_defaults() {
        let config =
            Config::from_args(args(&["--port", "0", "--no-console", "--console-origin", "http://a:1"])).unwrap();
        assert_eq!(config.port, 0);
        assert_eq!(config.console_port, None);
        assert!(config.console_origins.contains(&"http://a:1".to_owned()));
    }

    #[test]
    fn bad_flags_are_refused_with_usage() {
        assert!(Config::from_args(args(&["--port", "http"])).is_err());
        assert!(Config::from_args(args(&["--partner-id", "0"])).is_err());
        assert!(Config::from_args(args(&["--wat"])).unwrap_err().contains("--console-origin"));
        assert!(Config::from_args(args(&["--port"])).is_err());
    }
}
