//! The Bot API connection part: token, address, proxy, timeouts and
//! retries, and the one client built from them (lazily, dropped whenever a
//! setting changes).

use std::time::Duration;

use crate::ffi::{Param, Value};
use crate::telegram::{
    self, check_proxy, normalize_api_url, Client, ClientConfig, ClientOptions, Token, TokenError,
};

use super::errors::{AddinError, Invalid, Name, PathRole};
use super::members::{MethodId, PropId};
use super::params::{self, Args};

/// Default `Timeout`, seconds.
const DEFAULT_TIMEOUT_SECS: i64 = 30;
/// Largest `Timeout`, seconds.
const MAX_TIMEOUT_SECS: i64 = 3600;
/// Largest `MaxRetries`.
const MAX_RETRIES: i64 = 10;
/// Largest `ConnectTimeout`, seconds.
const MAX_CONNECT_SECS: i64 = 3600;

/// Settings a 1C developer sets through properties.
#[derive(Clone, Debug)]
struct Settings {
    token: Option<Token>,
    api_url: String,
    proxy: String,
    timeout_secs: i64,
    /// A PEM file of extra root certificates; empty for the system's roots.
    ca_file: String,
    max_retries: u32,
    connect_timeout_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token: None,
            api_url: telegram::DEFAULT_API_URL.to_owned(),
            proxy: String::new(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            ca_file: String::new(),
            max_retries: 3,
            connect_timeout_secs: 10,
        }
    }
}

/// The connection settings and the client built from them.
#[derive(Default)]
pub struct Connection {
    settings: Settings,
    client: Option<Client>,
}

impl Connection {
    /// The token, when set.
    pub fn token(&self) -> Option<&Token> {
        self.settings.token.as_ref()
    }

    /// `text` with the token (and its secret part) masked: the one redactor
    /// of every text that leaves the object.
    pub fn redact(&self, text: &str) -> String {
        match &self.settings.token {
            Some(token) => token.redact(text),
            None => text.to_owned(),
        }
    }

    /// The client configuration, the only place it is built.
    pub fn config(&self) -> Result<ClientConfig, AddinError> {
        let s = &self.settings;
        Ok(ClientConfig {
            token: s.token.clone().ok_or(AddinError::TokenNotSet)?,
            api_url: s.api_url.clone(),
            proxy: s.proxy.clone(),
            timeout: Duration::from_secs(s.timeout_secs as u64),
            ca_file: s.ca_file.clone(),
        })
    }

    /// The client, built on first use after a settings change.
    pub fn client(&mut self) -> Result<&Client, AddinError> {
        if self.client.is_none() {
            let options = ClientOptions {
                connect_timeout: Duration::from_secs(self.settings.connect_timeout_secs as u64),
                max_retries: self.settings.max_retries,
            };
            let client = Client::with_options(self.config()?, options);
            self.client = Some(client.map_err(AddinError::Telegram)?);
        }
        self.client.as_ref().ok_or(AddinError::TokenNotSet)
    }

    /// Drops the client (on `Done`).
    pub fn close(&mut self) {
        self.client = None;
    }

    /// Reads a connection property.
    pub fn read_prop(&self, id: PropId) -> Value {
        let s = &self.settings;
        match id {
            PropId::Token => Value::from(s.token.as_ref().map(Token::masked).unwrap_or_default()),
            PropId::ApiUrl => Value::from(s.api_url.clone()),
            PropId::Proxy => Value::from(telegram::without_userinfo(&s.proxy)),
            PropId::Timeout => Value::Int(s.timeout_secs as i32),
            PropId::CaFile => Value::from(s.ca_file.clone()),
            PropId::MaxRetries => Value::Int(s.max_retries as i32),
            PropId::ConnectTimeout => Value::Int(s.connect_timeout_secs as i32),
            _ => Value::Empty,
        }
    }

    /// Writes a connection property; the client is rebuilt on next use.
    pub fn write_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        let s = &mut self.settings;
        match id {
            PropId::Token => {
                let text = params::opt_string(name, value)?.unwrap_or_default();
                s.token = match Token::parse(&text) {
                    Ok(token) => Some(token),
                    Err(TokenError::Empty) => None,
                    Err(TokenError::Malformed) => {
                        return Err(AddinError::Invalid {
                            name,
                            why: Invalid::TokenShape,
                        })
                    }
                };
            }
            PropId::ApiUrl => {
                let text = params::opt_string(name, value)?.unwrap_or_default();
                let text = if text.trim().is_empty() {
                    telegram::DEFAULT_API_URL.to_owned()
                } else {
                    text
                };
                s.api_url = normalize_api_url(&text).map_err(|_| AddinError::Invalid {
                    name,
                    why: Invalid::ApiUrl,
                })?;
            }
            PropId::Proxy => {
                let text = params::opt_string(name, value)?.unwrap_or_default();
                check_proxy(&text).map_err(|_| AddinError::Invalid {
                    name,
                    why: Invalid::Proxy,
                })?;
                s.proxy = text.trim().to_owned();
            }
            PropId::Timeout => {
                s.timeout_secs = params::integer(name, value, 1, MAX_TIMEOUT_SECS)?;
            }
            PropId::CaFile => {
                let path = params::opt_string(name, value)?.unwrap_or_default();
                if !path.trim().is_empty() {
                    crate::fsguard::read_limited(
                        std::path::Path::new(path.trim()),
                        crate::fsguard::CA_FILE_LIMIT,
                    )
                    .map_err(|error| AddinError::Path {
                        role: PathRole::CaFile,
                        path: path.trim().to_owned(),
                        error,
                    })?;
                    telegram::read_ca_file(&path)
                        .map_err(|e| AddinError::Telegram(telegram::Error::Config(e)))?;
                }
                s.ca_file = path.trim().to_owned();
            }
            PropId::MaxRetries => {
                s.max_retries = params::integer(name, value, 0, MAX_RETRIES)? as u32;
            }
            PropId::ConnectTimeout => {
                s.connect_timeout_secs = params::integer(name, value, 1, MAX_CONNECT_SECS)?;
            }
            _ => return Err(AddinError::ReadOnly(name)),
        }
        self.client = None;
        Ok(())
    }

    /// Runs a connection method (`GetMe`).
    pub fn run(&mut self, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        match a.id() {
            MethodId::GetMe => {
                let me = self.client()?.call_raw("getMe", &serde_json::json!({}));
                Ok(Value::from(me.map_err(AddinError::Telegram)?))
            }
            other => Err(AddinError::Internal(format!(
                "{other:?} is not a connection method"
            ))),
        }
    }
}
