//! A blocking Bot API client over one keep-alive `ureq` agent.

use std::time::Duration;

use serde_json::Value;

use super::answer;
use super::error::{ConfigError, Error};
use super::send::{ClientOptions, Request};
use super::tls;
use super::token::Token;

/// The public Bot API server.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// How a client connects.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// The bot's token.
    pub token: Token,
    /// `https://api.telegram.org`, a self-hosted server, or a sandbox.
    pub api_url: String,
    /// Empty for a direct connection, else `http://`, `https://` or `socks5://` with optional user:password.
    pub proxy: String,
    /// The whole-request timeout.
    pub timeout: Duration,
    /// A PEM file of extra root certificates; empty for the system's roots.
    pub ca_file: String,
}

/// A Bot API client. Cheap to call repeatedly: the connection is reused.
pub struct Client {
    pub(super) agent: ureq::Agent,
    pub(super) config: ClientConfig,
    pub(super) options: ClientOptions,
    host: String,
}

/// Checks an API address and returns it without a trailing slash.
pub fn normalize_api_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::ApiUrl(url.to_owned()))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::ApiUrl(url.to_owned()));
    }
    Ok(trimmed.to_owned())
}

/// Checks a proxy address (empty means none).
pub fn check_proxy(url: &str) -> Result<Option<ureq::Proxy>, ConfigError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let scheme_ok = [
        "http://",
        "https://",
        "socks5://",
        "socks5h://",
        "socks4://",
    ]
    .iter()
    .any(|s| url.to_ascii_lowercase().starts_with(s));
    if !scheme_ok {
        return Err(ConfigError::Proxy(without_userinfo(url)));
    }
    ureq::Proxy::new(url)
        .map(Some)
        .map_err(|_| ConfigError::Proxy(without_userinfo(url)))
}

/// Hides `user:password@` in a URL, for messages.
pub fn without_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***@{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn host_of(api_url: &str) -> String {
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

impl Client {
    /// Builds a client; fails only on unusable settings.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Client::with_options(config, ClientOptions::default())
    }

    /// Builds a client with connect timeout and retry settings.
    pub fn with_options(config: ClientConfig, options: ClientOptions) -> Result<Client, Error> {
        let api_url = normalize_api_url(&config.api_url).map_err(Error::Config)?;
        let proxy = check_proxy(&config.proxy).map_err(Error::Config)?;
        let connect = config.timeout.min(options.connect_timeout);
        let tls = tls::tls_config(&config.ca_file).map_err(Error::Config)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(connect))
            .proxy(proxy)
            .user_agent("telegram-addin-1c")
            // The delivery engine keeps several requests in flight.
            .max_idle_connections_per_host(32)
            .max_idle_connections(64)
            .build()
            .into();
        let host = host_of(&api_url);
        Ok(Client {
            agent,
            config: ClientConfig { api_url, ..config },
            options,
            host,
        })
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Calls `method` with JSON `params` and returns Telegram's `result`.
    /// Retries and migration apply (see `send.rs`).
    pub fn call(&self, method: &str, params: &Value) -> Result<Value, Error> {
        let params = params.as_object().cloned().unwrap_or_default();
        self.execute(Request::new(method, params))
            .map(|outcome| outcome.result)
    }

    /// `getMe`: the bot's own User object.
    pub fn get_me(&self) -> Result<Value, Error> {
        self.call("getMe", &Value::Object(Default::default()))
    }

    pub(super) fn parse(&self, method: &str, status: u16, text: &str) -> Result<Value, Error> {
        answer::parse(method, status, text, &self.config.token)
    }

    pub(super) fn transport_error(&self, method: &str, error: ureq::Error) -> Error {
        let host = self.host.clone();
        let detail = self.config.token.redact(&error.to_string());
        match error {
            ureq::Error::Timeout(_) => Error::Timeout {
                host,
                seconds: self.config.timeout.as_secs(),
            },
            ureq::Error::Tls(_)
            | ureq::Error::NativeTls(_)
            | ureq::Error::Der(_)
            | ureq::Error::TlsRequired => Error::Tls { host, detail },
            ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => {
                Error::Timeout {
                    host,
                    seconds: self.config.timeout.as_secs(),
                }
            }
            ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::ConnectProxyFailed(_)
            | ureq::Error::Io(_) => Error::Connect { host, detail },
            _ => Error::BadResponse {
                method: method.to_owned(),
                status: 0,
                detail,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls() {
        assert_eq!(
            normalize_api_url("http://127.0.0.1:81/").unwrap(),
            "http://127.0.0.1:81"
        );
        assert_eq!(normalize_api_url(DEFAULT_API_URL).unwrap(), DEFAULT_API_URL);
        assert!(normalize_api_url("ftp://x").is_err());
        assert!(normalize_api_url("https://").is_err());
        assert!(normalize_api_url("api.telegram.org").is_err());
    }

    #[test]
    fn proxies() {
        assert!(check_proxy("").unwrap().is_none());
        assert!(check_proxy("socks5://u:p@127.0.0.1:1080")
            .unwrap()
            .is_some());
        assert!(check_proxy("http://127.0.0.1:3128").unwrap().is_some());
        assert_eq!(
            check_proxy("ftp://u:secret@h:1"),
            Err(ConfigError::Proxy("ftp://***@h:1".into()))
        );
    }
}
