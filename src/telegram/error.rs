//! What can go wrong talking to the Bot API. Texts here never hold the token.

use serde::Deserialize;
use std::fmt;

/// Telegram's `ResponseParameters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResponseParameters {
    /// The group was upgraded to a supergroup with this id.
    pub migrate_to_chat_id: Option<i64>,
    /// Seconds to wait before repeating the request (429).
    pub retry_after: Option<u64>,
}

/// A failed Bot API call.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Telegram answered `ok: false`.
    Api {
        /// The method that was called.
        method: String,
        /// `error_code` (usually the HTTP status).
        code: i64,
        /// `description`, as Telegram wrote it.
        description: String,
        /// `parameters`, when given.
        parameters: ResponseParameters,
    },
    /// The server could not be reached (DNS, refused, proxy, connect
    /// timeout): nothing was sent.
    Connect { host: String, detail: String },
    /// No answer in time.
    Timeout {
        method: String,
        host: String,
        seconds: u64,
        /// The whole request had been written: Telegram may have acted on it.
        written: bool,
    },
    /// The connection closed or broke before an answer came.
    Interrupted {
        method: String,
        host: String,
        detail: String,
        /// The whole request had been written: Telegram may have acted on it.
        written: bool,
    },
    /// TLS failed (certificate, handshake).
    Tls { host: String, detail: String },
    /// The answer was not a Bot API answer (not JSON, wrong shape, HTTP error page).
    BadResponse {
        method: String,
        status: u16,
        detail: String,
    },
    /// A setting is unusable (address, proxy).
    Config(ConfigError),
    /// A local file to upload cannot be opened; nothing was sent.
    LocalFile {
        /// The path as given.
        path: String,
        /// The OS error; empty when the file does not exist.
        detail: String,
    },
}

/// A client setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `ApiUrl` is not an http(s) URL.
    ApiUrl(String),
    /// `Proxy` is not a proxy URL ureq accepts.
    Proxy(String),
    /// The CA file cannot be read or holds no certificate.
    CaFile {
        /// The path as given.
        path: String,
        /// What went wrong.
        detail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api {
                method,
                code,
                description,
                ..
            } => write!(f, "{method}: {code} {description}"),
            Error::Connect { host, detail } => write!(f, "cannot connect to {host}: {detail}"),
            Error::Timeout {
                method,
                host,
                seconds,
                ..
            } => write!(f, "{method}: no answer from {host} in {seconds} s"),
            Error::Interrupted {
                method,
                host,
                detail,
                written,
            } => {
                let when = if *written {
                    "before an answer"
                } else {
                    "while sending"
                };
                write!(
                    f,
                    "{method}: the connection to {host} broke {when}: {detail}"
                )
            }
            Error::Tls { host, detail } => write!(f, "TLS with {host} failed: {detail}"),
            Error::BadResponse {
                method,
                status,
                detail,
            } => {
                write!(f, "{method}: unexpected answer (HTTP {status}): {detail}")
            }
            Error::LocalFile { path, detail } => {
                write!(f, "cannot read the local file {path:?}: {detail}")
            }
            Error::Config(ConfigError::ApiUrl(url)) => write!(f, "bad API address {url:?}"),
            Error::Config(ConfigError::Proxy(url)) => write!(f, "bad proxy address {url:?}"),
            Error::Config(ConfigError::CaFile { path, detail }) => {
                write!(f, "bad CA file {path:?}: {detail}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether the request may have reached Telegram and been acted on.
    pub fn maybe_delivered(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Tls { .. }
            | Error::Config(_)
            | Error::LocalFile { .. } => false,
            Error::Timeout { written, .. } | Error::Interrupted { written, .. } => *written,
            Error::Api { code, .. } => *code >= 500,
            Error::BadResponse { .. } => true,
        }
    }
}
