//! The HTTP side shared by the sending client and the long poll: checking
//! the address and proxy, the one way a `ureq` agent is built, and the one
//! mapping of transport errors to [`Error`].

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use super::answer;
use super::error::{ConfigError, Error};
use super::request::ClientConfig;
use super::resolver;
use super::tls;
use super::token::Token;

/// What a failure that is neither a connect, TLS nor timeout failure means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mapping {
    /// A call: the answer was not a Bot API answer.
    Call,
    /// A long poll: the connection was lost (the poller retries either way).
    LongPoll,
}

/// One agent with its server, token and error mapping.
pub(crate) struct Transport {
    agent: ureq::Agent,
    api_url: String,
    token: Token,
    host: String,
    timeout: Duration,
    mapping: Mapping,
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

/// A body reader that counts what the agent took, so that a failure can be
/// told apart: before the whole request was handed over (nothing can have
/// been acted on) or after.
struct Counted<R> {
    inner: R,
    taken: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken += n as u64;
        Ok(n)
    }
}

/// Whether a `ureq` failure can only happen before any of the request was
/// written: resolving the name, connecting or the TLS handshake.
fn before_sending(error: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_)
        | ureq::Error::NativeTls(_)
        | ureq::Error::Der(_)
        | ureq::Error::TlsRequired => true,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect),
        ureq::Error::Io(io) => matches!(
            io.kind(),
            K::ConnectionRefused | K::AddrNotAvailable | K::NotFound | K::PermissionDenied
        ),
        _ => false,
    }
}

fn host_of(api_url: &str) -> String {
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

impl Transport {
    /// Builds the agent for `config`: requests end after `timeout`, connecting
    /// after `connect_timeout`; TLS, proxy and address as configured.
    pub(crate) fn new(
        config: &ClientConfig,
        timeout: Duration,
        connect_timeout: Duration,
        mapping: Mapping,
    ) -> Result<Transport, Error> {
        let api_url = normalize_api_url(&config.api_url).map_err(Error::Config)?;
        let proxy = check_proxy(&config.proxy).map_err(Error::Config)?;
        let tls = tls::tls_config(&config.ca_file).map_err(Error::Config)?;
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(connect_timeout))
            .proxy(proxy)
            .user_agent("telegram-addin-1c")
            // The delivery engine keeps several requests in flight.
            .max_idle_connections_per_host(32)
            .max_idle_connections(64)
            .build();
        // Names resolve through a short cache, not a thread per request.
        let (agent, _) = resolver::agent(agent_config, connect_timeout);
        Ok(Transport {
            agent,
            host: host_of(&api_url),
            api_url,
            token: config.token.clone(),
            timeout,
            mapping,
        })
    }

    /// The agent.
    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The whole-request timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The bot's token.
    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    /// The URL of a Bot API method (it holds the token: never show it).
    pub(crate) fn method_url(&self, method: &str) -> String {
        // Built by hand: this runs on every request, formatting costs more.
        let (api, token) = (self.api_url.as_str(), self.token.expose());
        let mut url = String::with_capacity(api.len() + token.len() + method.len() + 5);
        url.push_str(api);
        url.push_str("/bot");
        url.push_str(token);
        url.push('/');
        url.push_str(method);
        url
    }

    /// The URL of a file by its `file_path` (it holds the token: never show it).
    pub(crate) fn file_url(&self, file_path: &str) -> String {
        format!(
            "{}/file/bot{}/{}",
            self.api_url,
            self.token.expose(),
            file_path.trim_start_matches('/')
        )
    }

    /// POSTs `length` bytes of `body` to `url` (a request of `method`) and
    /// returns the answer's head. A failure says whether the whole body had
    /// been handed to the connection (see [`Transport::error`]).
    pub(crate) fn post(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        length: u64,
        body: impl Read,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let mut reader = Counted {
            inner: body,
            taken: 0,
        };
        let sent = self
            .agent
            .post(url)
            .header("Content-Type", content_type)
            .header("Content-Length", &length.to_string())
            .send(ureq::SendBody::from_reader(&mut reader));
        let written = reader.taken >= length;
        sent.map_err(|e| self.error(method, e, written))
    }

    /// POSTs `method` without a body. With no body to count, a failure counts
    /// as written unless it can only happen before the request went out
    /// (resolving or connecting).
    pub(crate) fn post_empty(
        &self,
        method: &str,
        url: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        self.agent.post(url).send_empty().map_err(|e| {
            let written = !before_sending(&e);
            self.error(method, e, written)
        })
    }

    /// POSTs a JSON body, as [`Transport::post`].
    pub(crate) fn post_json(
        &self,
        method: &str,
        url: &str,
        body: String,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let length = body.len() as u64;
        let body = std::io::Cursor::new(body.into_bytes());
        self.post(method, url, "application/json", length, body)
    }

    /// Telegram's `result` from an answer to `method`, or its error.
    pub(crate) fn parse(&self, method: &str, status: u16, text: &str) -> Result<Value, Error> {
        answer::parse(method, status, text, &self.token)
    }

    /// The one mapping of a `ureq` failure of `method` to an [`Error`]; its
    /// text holds no token. `written`: the whole request had been handed to
    /// the connection before the failure, so Telegram may have acted on it.
    pub(crate) fn error(&self, method: &str, error: ureq::Error, written: bool) -> Error {
        use std::io::ErrorKind as K;
        let host = self.host.clone();
        let detail = self.token.redact(&error.to_string());
        let timeout = || Error::Timeout {
            method: method.to_owned(),
            host: self.host.clone(),
            seconds: self.timeout.as_secs(),
            written,
        };
        let interrupted = |detail: String| Error::Interrupted {
            method: method.to_owned(),
            host: self.host.clone(),
            detail,
            written,
        };
        match error {
            ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) if !written => {
                Error::Connect { host, detail }
            }
            ureq::Error::Timeout(_) => timeout(),
            ureq::Error::Io(ref io) if io.kind() == K::TimedOut => timeout(),
            ureq::Error::Tls(_)
            | ureq::Error::NativeTls(_)
            | ureq::Error::Der(_)
            | ureq::Error::TlsRequired
                if !written =>
            {
                Error::Tls { host, detail }
            }
            ureq::Error::BodyExceedsLimit(_) => Error::BadResponse {
                method: method.to_owned(),
                status: 200,
                detail,
            },
            ureq::Error::InvalidProxyUrl => Error::Config(ConfigError::Proxy(String::new())),
            ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::ConnectProxyFailed(_) => Error::Connect { host, detail },
            ureq::Error::Io(ref io)
                if !written
                    && matches!(
                        io.kind(),
                        K::ConnectionRefused
                            | K::AddrNotAvailable
                            | K::NotFound
                            | K::PermissionDenied
                    ) =>
            {
                Error::Connect { host, detail }
            }
            _ if self.mapping == Mapping::LongPoll => Error::Connect { host, detail },
            ureq::Error::Io(_)
            | ureq::Error::Tls(_)
            | ureq::Error::NativeTls(_)
            | ureq::Error::Der(_)
            | ureq::Error::TlsRequired => interrupted(detail),
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
    use crate::telegram::Token;
    use crate::telegram::DEFAULT_API_URL;

    fn transport(mapping: Mapping) -> Transport {
        let config = ClientConfig {
            token: Token::parse("123:SECRETxyz").unwrap(),
            api_url: "http://127.0.0.1:9".into(),
            proxy: String::new(),
            timeout: Duration::from_secs(7),
            ca_file: String::new(),
        };
        Transport::new(&config, config.timeout, Duration::from_secs(1), mapping).unwrap()
    }

    fn io(kind: std::io::ErrorKind) -> ureq::Error {
        ureq::Error::Io(std::io::Error::new(kind, "x"))
    }

    #[test]
    fn one_mapping_knows_whether_the_request_was_written() {
        use std::io::ErrorKind as K;
        let t = transport(Mapping::Call);
        let connect = ureq::Error::Timeout(ureq::Timeout::Connect);
        assert!(matches!(
            t.error("sendMessage", connect, false),
            Error::Connect { .. }
        ));
        let global = ureq::Error::Timeout(ureq::Timeout::Global);
        assert!(matches!(
            t.error("sendMessage", global, true),
            Error::Timeout {
                seconds: 7,
                written: true,
                ..
            }
        ));
        assert!(matches!(
            t.error("sendMessage", io(K::ConnectionReset), true),
            Error::Interrupted { written: true, .. }
        ));
        assert!(matches!(
            t.error("sendMessage", io(K::BrokenPipe), false),
            Error::Interrupted { written: false, .. }
        ));
        assert!(matches!(
            t.error("sendMessage", io(K::ConnectionRefused), false),
            Error::Connect { .. }
        ));
        assert!(matches!(
            t.error("sendMessage", ureq::Error::TlsRequired, false),
            Error::Tls { .. }
        ));
        // The long poll: anything else is a lost connection.
        let p = transport(Mapping::LongPoll);
        assert!(matches!(
            p.error("getUpdates", io(K::ConnectionReset), true),
            Error::Connect { .. }
        ));
        assert!(matches!(
            p.error("getUpdates", ureq::Error::TlsRequired, false),
            Error::Tls { .. }
        ));
    }

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
