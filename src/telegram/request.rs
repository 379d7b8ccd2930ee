//! The plain data of the client: how it connects ([`ClientConfig`]), how hard
//! it tries ([`ClientOptions`]), one request ([`Request`]) and its result
//! ([`Outcome`]). A leaf: it depends on nothing else in this folder but the
//! token and the upload description.

use std::time::Duration;

use serde_json::{Map, Value};

use super::multipart::Upload;
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

/// How hard a client tries: connect timeout and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Bound of name resolution, TCP connect, proxy and TLS handshake.
    pub connect_timeout: Duration,
    /// Retries after 429, failed connects and (for reads) 5xx; 0 turns them off.
    pub max_retries: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            max_retries: 3,
        }
    }
}

/// One Bot API request: method, JSON parameters and files to upload.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// The method name, e.g. `sendMessage`.
    pub method: String,
    /// Parameters; with files they become multipart text fields.
    pub params: Map<String, Value>,
    /// Files; when any are present the body is `multipart/form-data`.
    pub files: Vec<Upload<'a>>,
}

impl<'a> Request<'a> {
    /// A request with JSON parameters only.
    pub fn new(method: &str, params: Map<String, Value>) -> Request<'a> {
        Request {
            method: method.to_owned(),
            params,
            files: Vec::new(),
        }
    }
}

/// A successful request; its `result` as a value, or as JSON text (`execute_raw`).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<R = Value> {
    /// Telegram's `result`.
    pub result: R,
    /// How many times the request was repeated.
    pub retries: u32,
    /// The new chat id when the group had become a supergroup.
    pub migrated_to: Option<i64>,
}
