//! Requests with retries: JSON or streamed multipart bodies, 429 waits,
//! backoff where repeating is safe, group migration, file downloads, and
//! one log line per request.

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::answer;
use super::client::Client;
use super::error::Error;
use super::multipart::{self, Upload};
use super::retry::{self, Attempt, Next};

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

/// A successful request.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Telegram's `result`.
    pub result: Value,
    /// How many times the request was repeated.
    pub retries: u32,
    /// The new chat id when the group had become a supergroup.
    pub migrated_to: Option<i64>,
}

/// An attempt's error and whether the request may have reached the server.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// Whether the request may have reached the server (then repeating a
    /// send may deliver it twice).
    pub maybe_sent: bool,
}

/// Whether a transport error happened before anything was written.
fn before_sending(error: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => true,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect),
        ureq::Error::Io(io) => matches!(
            io.kind(),
            K::ConnectionRefused | K::AddrNotAvailable | K::NotFound | K::PermissionDenied
        ),
        _ => false,
    }
}

/// A text form field: strings as they are, anything else as JSON.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Client {
    /// Sends `request`, repeating it where that is safe (see [`retry`]).
    pub fn execute(&self, mut request: Request<'_>) -> Result<Outcome, Error> {
        let started = Instant::now();
        let idempotent = retry::is_idempotent(&request.method);
        let mut retries = 0;
        let mut migrated_to = None;
        loop {
            match self.attempt(&request) {
                Ok(result) => {
                    log::info!(
                        "{} ok in {} ms, retries {retries}{}",
                        request.method,
                        started.elapsed().as_millis(),
                        migrated_to.map_or(String::new(), |id| format!(", migrated to {id}"))
                    );
                    return Ok(Outcome {
                        result,
                        retries,
                        migrated_to,
                    });
                }
                Err(failure) => {
                    let next = retry::decide(&Attempt {
                        error: &failure.error,
                        maybe_sent: failure.maybe_sent,
                        idempotent,
                        retries,
                        max_retries: self.options.max_retries,
                        migration_done: migrated_to.is_some()
                            || !request.params.contains_key("chat_id"),
                        max_wait: self.config.timeout,
                    });
                    match next {
                        Next::Retry(wait) => {
                            log::warn!(
                                "{} failed ({}); retry {} in {} ms",
                                request.method,
                                failure.error,
                                retries + 1,
                                wait.as_millis()
                            );
                            retries += 1;
                            std::thread::sleep(wait);
                        }
                        Next::Migrate(to) => {
                            log::warn!(
                                "{}: the group is now supergroup {to}; sending there",
                                request.method
                            );
                            request.params.insert("chat_id".into(), Value::from(to));
                            migrated_to = Some(to);
                        }
                        Next::Fail => {
                            log::error!(
                                "{} failed in {} ms after {retries} retries: {}",
                                request.method,
                                started.elapsed().as_millis(),
                                failure.error
                            );
                            return Err(failure.error);
                        }
                    }
                }
            }
        }
    }

    fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{}",
            self.config.api_url,
            self.config.token.expose(),
            method
        )
    }

    /// Sends `request` once, without retries or migration: Telegram's
    /// `result`, or the failure and whether the request may have arrived.
    pub fn attempt(&self, request: &Request<'_>) -> Result<Value, Failure> {
        let method = request.method.as_str();
        let url = self.method_url(method);
        let sent = if request.files.is_empty() {
            let body = serde_json::to_string(&request.params).unwrap_or_else(|_| "{}".to_owned());
            log::debug!("{method} request: {}", self.config.token.redact(&body));
            self.agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body)
        } else {
            let fields: Vec<(String, String)> = request
                .params
                .iter()
                .map(|(k, v)| (k.clone(), field_text(v)))
                .collect();
            let mut body = multipart::build(&fields, &request.files).map_err(|e| Failure {
                error: Error::Connect {
                    host: "local file".into(),
                    detail: e.to_string(),
                },
                maybe_sent: false,
            })?;
            log::debug!(
                "{method} multipart request: {} bytes, fields {}",
                body.length,
                self.config.token.redact(&format!("{fields:?}"))
            );
            self.agent
                .post(&url)
                .header("Content-Type", &body.content_type)
                .header("Content-Length", &body.length.to_string())
                .send(ureq::SendBody::from_reader(&mut body.reader))
        };
        let response = sent.map_err(|e| Failure {
            maybe_sent: !before_sending(&e),
            error: self.transport_error(method, e),
        })?;
        let (status, text) = answer::read(response).map_err(|e| Failure {
            maybe_sent: true,
            error: self.transport_error(method, e),
        })?;
        log::debug!(
            "{method} answer {status}: {}",
            self.config.token.redact(&text)
        );
        self.parse(method, status, &text).map_err(|error| Failure {
            error,
            maybe_sent: true,
        })
    }

    /// Downloads a file by the `file_path` that `getFile` returned, reading
    /// at most `limit` bytes. Connection failures and 5xx are retried.
    pub fn download(&self, file_path: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let url = format!(
            "{}/file/bot{}/{}",
            self.config.api_url,
            self.config.token.expose(),
            file_path.trim_start_matches('/')
        );
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let error = match self.download_once(&url, limit) {
                Ok(bytes) => {
                    log::info!(
                        "file download ok in {} ms, {} bytes, retries {retries}",
                        started.elapsed().as_millis(),
                        bytes.len()
                    );
                    return Ok(bytes);
                }
                Err(e) => e,
            };
            let next = retry::decide(&Attempt {
                error: &error,
                maybe_sent: true,
                idempotent: true,
                retries,
                max_retries: self.options.max_retries,
                migration_done: true,
                max_wait: self.config.timeout,
            });
            match next {
                Next::Retry(wait) => {
                    log::warn!(
                        "file download failed ({error}); retry {} in {} ms",
                        retries + 1,
                        wait.as_millis()
                    );
                    retries += 1;
                    std::thread::sleep(wait);
                }
                _ => {
                    log::error!("file download failed after {retries} retries: {error}");
                    return Err(error);
                }
            }
        }
    }

    fn download_once(&self, url: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let method = "file download";
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| self.transport_error(method, e))?;
        let status = response.status().as_u16();
        let mut reader = response
            .into_body()
            .into_reader()
            .take(limit.saturating_add(1));
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| self.transport_error(method, ureq::Error::Io(e)))?;
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return Err(self
                .parse(method, status, &text)
                .err()
                .unwrap_or(Error::BadResponse {
                    method: method.into(),
                    status,
                    detail: String::new(),
                }));
        }
        if bytes.len() as u64 > limit {
            return Err(Error::Api {
                method: method.into(),
                code: 400,
                description: "Bad Request: file is too big".into(),
                parameters: Default::default(),
            });
        }
        Ok(bytes)
    }
}
