//! `getUpdates` long polls that another thread can abort at once.
//!
//! A blocking `ureq` call cannot be cancelled by itself, so every long poll
//! runs on its own agent, and [`Aborter::abort`] shuts that agent down
//! (`ureq::Agent::shutdown`, ureq ≥ 3.5). That closes the socket under the
//! request — plain TCP, TLS, SOCKS or an HTTP CONNECT proxy alike, because
//! ureq's own connectors register their sockets with the agent — and the
//! blocked read returns an error straight away. Name resolution and a TCP
//! connect in progress are not interrupted; they are bounded by
//! [`CONNECT_TIMEOUT`].
//!
//! This file does not share the sending client's agent on purpose: shutting
//! an agent down is final, and sending must not be affected by a stop.

use std::time::Duration;

use serde_json::{Map, Value};

use super::answer;
use super::client::{check_proxy, normalize_api_url, ClientConfig};
use super::error::{ConfigError, Error};
use super::resolver;
use super::tls;
use super::token::Token;

/// Bound of name resolution plus TCP connect, the one phase an abort does not cut short.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed on top of the long-poll timeout before the request counts as hung.
const SLACK: Duration = Duration::from_secs(15);

/// A client for `getUpdates` long polls, abortable from another thread.
pub struct LongPoll {
    agent: ureq::Agent,
    url: String,
    token: Token,
    host: String,
}

/// Aborts the long poll in flight, and every later one, of one [`LongPoll`].
#[derive(Clone)]
pub struct Aborter(ureq::Agent);

impl Aborter {
    /// Closes the connection under any request in flight; later requests fail at once.
    pub fn abort(&self) {
        self.0.clone().shutdown();
    }
}

/// One `getUpdates` request.
#[derive(Clone, Debug, PartialEq)]
pub struct PollRequest {
    /// `offset`: the first update id wanted; 0 sends none.
    pub offset: i64,
    /// `timeout` of the long poll.
    pub timeout: Duration,
    /// `limit`, 1–100.
    pub limit: u32,
    /// `allowed_updates`; always sent, so Telegram never falls back to an older setting.
    pub allowed_updates: Vec<String>,
}

impl LongPoll {
    /// A long-poll client for the bot and server in `config` (its `timeout` is not used).
    pub fn new(config: &ClientConfig, long_poll: Duration) -> Result<LongPoll, Error> {
        let api_url = normalize_api_url(&config.api_url).map_err(Error::Config)?;
        let proxy = check_proxy(&config.proxy).map_err(Error::Config)?;
        let tls = tls::tls_config(&config.ca_file).map_err(Error::Config)?;
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_global(Some(long_poll + SLACK))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .proxy(proxy)
            .user_agent("telegram-addin-1c")
            .build();
        // Names resolve through a short cache, not a thread per poll.
        let (agent, _) = resolver::agent(agent_config, CONNECT_TIMEOUT);
        let rest = api_url.split_once("://").map_or(api_url.as_str(), |x| x.1);
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        Ok(LongPoll {
            agent,
            url: format!("{api_url}/bot{}/getUpdates", config.token.expose()),
            token: config.token.clone(),
            host,
        })
    }

    /// A handle that aborts this client's requests from any thread.
    pub fn aborter(&self) -> Aborter {
        Aborter(self.agent.clone())
    }

    /// Calls `getUpdates`; returns the updates, each checked to be an object
    /// with an integer `update_id`.
    pub fn get_updates(&self, request: &PollRequest) -> Result<Vec<Value>, Error> {
        let mut body = Map::new();
        if request.offset != 0 {
            body.insert("offset".into(), request.offset.into());
        }
        body.insert("timeout".into(), request.timeout.as_secs().into());
        body.insert("limit".into(), request.limit.clamp(1, 100).into());
        body.insert(
            "allowed_updates".into(),
            Value::from(request.allowed_updates.clone()),
        );
        let body = Value::Object(body).to_string();
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| self.transport_error(e, request.timeout))?;
        let (status, text) =
            answer::read(response).map_err(|e| self.transport_error(e, request.timeout))?;
        self.parse(status, &text)
    }

    fn parse(&self, status: u16, text: &str) -> Result<Vec<Value>, Error> {
        let bad = |detail: &str| Error::BadResponse {
            method: "getUpdates".into(),
            status,
            detail: detail.to_owned(),
        };
        let Value::Array(updates) = answer::parse("getUpdates", status, text, &self.token)? else {
            return Err(bad("result is not an array"));
        };
        if updates
            .iter()
            .any(|u| u.get("update_id").and_then(Value::as_i64).is_none())
        {
            return Err(bad("an update without an integer update_id"));
        }
        Ok(updates)
    }

    fn transport_error(&self, error: ureq::Error, timeout: Duration) -> Error {
        let host = self.host.clone();
        let detail = self.token.redact(&error.to_string());
        match error {
            ureq::Error::Timeout(_) => Error::Timeout {
                host,
                seconds: (timeout + SLACK).as_secs(),
            },
            ureq::Error::Tls(_)
            | ureq::Error::NativeTls(_)
            | ureq::Error::Der(_)
            | ureq::Error::TlsRequired => Error::Tls { host, detail },
            ureq::Error::BodyExceedsLimit(_) => Error::BadResponse {
                method: "getUpdates".into(),
                status: 200,
                detail,
            },
            ureq::Error::InvalidProxyUrl => Error::Config(ConfigError::Proxy(String::new())),
            _ => Error::Connect { host, detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll() -> LongPoll {
        let config = ClientConfig {
            token: Token::parse("123:SECRETxyz").unwrap(),
            api_url: "http://127.0.0.1:9".into(),
            proxy: String::new(),
            timeout: Duration::from_secs(1),
            ca_file: String::new(),
        };
        LongPoll::new(&config, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn answers_are_checked() {
        let p = poll();
        assert_eq!(
            p.parse(
                200,
                r#"{"ok":true,"result":[{"update_id":5,"message":{}}]}"#
            )
            .unwrap()
            .len(),
            1
        );
        assert!(p.parse(200, r#"{"ok":true,"result":[{"x":1}]}"#).is_err());
        assert!(p.parse(200, r#"{"ok":true,"result":{}}"#).is_err());
        assert!(p.parse(502, "<html>SECRETxyz</html>").is_err());
        let e = p
            .parse(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Api { code: 401, .. }));
        let e = p.parse(200, "{\"ok\":tr SECRETxyz").unwrap_err();
        assert!(!e.to_string().contains("SECRETxyz"), "{e}");
    }

    #[test]
    fn an_aborted_client_fails_at_once() {
        let p = poll();
        p.aborter().abort();
        let started = std::time::Instant::now();
        let request = PollRequest {
            offset: 0,
            timeout: Duration::from_secs(30),
            limit: 100,
            allowed_updates: vec![],
        };
        assert!(p.get_updates(&request).is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
