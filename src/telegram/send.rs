//! Requests with retries: JSON or streamed multipart bodies, 429 waits,
//! backoff where repeating is safe, group migration, file downloads, and
//! one log line per request.

use std::io::Read;
use std::time::Instant;

use serde_json::Value;

use super::answer;
use super::error::Error;
use super::multipart;
use super::request::{ClientOptions, Outcome, Request};
use super::retry::{self, Attempt, Next};
use super::transport::Transport;

/// A text form field: strings as they are, anything else as JSON.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sends `request`, repeating it where that is safe (see [`retry`]).
pub(crate) fn execute(
    t: &Transport,
    options: &ClientOptions,
    request: Request<'_>,
) -> Result<Outcome, Error> {
    let method = request.method.clone();
    let outcome = execute_raw(t, options, request)?;
    let result = serde_json::from_str(&outcome.result).map_err(|e| Error::BadResponse {
        method,
        status: 200,
        detail: e.to_string(),
    })?;
    Ok(Outcome {
        result,
        retries: outcome.retries,
        migrated_to: outcome.migrated_to,
    })
}

/// As [`execute`], with Telegram's `result` as the JSON text of the answer
/// (cut out of it, not parsed and printed again).
pub(crate) fn execute_raw(
    t: &Transport,
    options: &ClientOptions,
    mut request: Request<'_>,
) -> Result<Outcome<String>, Error> {
    let started = Instant::now();
    let idempotent = retry::is_idempotent(&request.method);
    let mut retries = 0;
    let mut migrated_to = None;
    loop {
        match attempt(t, &request) {
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
                    error: &failure,
                    maybe_sent: failure.maybe_delivered(),
                    idempotent,
                    retries,
                    max_retries: options.max_retries,
                    migration_done: migrated_to.is_some()
                        || !request.params.contains_key("chat_id"),
                    max_wait: t.timeout(),
                });
                match next {
                    Next::Retry(wait) => {
                        log::warn!(
                            "{} failed ({}); retry {} in {} ms",
                            request.method,
                            failure,
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
                            failure
                        );
                        return Err(failure);
                    }
                }
            }
        }
    }
}

/// Sends `request` once, without retries or migration, and parses
/// Telegram's `result`; the error tells whether the request may have arrived
/// ([`Error::maybe_delivered`]). The delivery engine paces and repeats by itself.
pub(crate) fn attempt_value(t: &Transport, request: &Request<'_>) -> Result<Value, Error> {
    let raw = attempt(t, request)?;
    serde_json::from_str(&raw).map_err(|e| Error::BadResponse {
        method: request.method.clone(),
        status: 200,
        detail: e.to_string(),
    })
}

/// Sends `request` once: Telegram's `result` as its JSON text.
fn attempt(t: &Transport, request: &Request<'_>) -> Result<String, Error> {
    let method = request.method.as_str();
    let url = t.method_url(method);
    let response = if request.files.is_empty() && request.params.is_empty() {
        // A method without parameters (getMe) needs no body at all.
        log::debug!("{method} request without parameters");
        t.post_empty(method, &url)?
    } else if request.files.is_empty() {
        let body = serde_json::to_string(&request.params).unwrap_or_else(|_| "{}".to_owned());
        log::debug!("{method} request: {}", t.token().redact(&body));
        t.post_json(method, &url, body)?
    } else {
        let fields: Vec<(String, String)> = request
            .params
            .iter()
            .map(|(k, v)| (k.clone(), field_text(v)))
            .collect();
        let body = multipart::build(&fields, &request.files)?;
        log::debug!(
            "{method} multipart request: {} bytes, fields {}",
            body.length,
            t.token().redact(&format!("{fields:?}"))
        );
        t.post(method, &url, &body.content_type, body.length, body.reader)?
    };
    let (status, text) = answer::read(response).map_err(|e| t.error(method, e, true))?;
    log::debug!("{method} answer {status}: {}", t.token().redact(&text));
    answer::parse_raw(method, status, text, t.token())
}

/// Downloads a file by the `file_path` that `getFile` returned, reading
/// at most `limit` bytes. Connection failures and 5xx are retried.
pub(crate) fn download(
    t: &Transport,
    options: &ClientOptions,
    file_path: &str,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let url = t.file_url(file_path);
    let started = Instant::now();
    let mut retries = 0;
    loop {
        let error = match download_once(t, &url, limit) {
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
            max_retries: options.max_retries,
            migration_done: true,
            max_wait: t.timeout(),
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

fn download_once(t: &Transport, url: &str, limit: u64) -> Result<Vec<u8>, Error> {
    let method = retry::DOWNLOAD;
    let response = t
        .agent()
        .get(url)
        .call()
        .map_err(|e| t.error(method, e, false))?;
    let status = response.status().as_u16();
    let mut reader = response
        .into_body()
        .into_reader()
        .take(limit.saturating_add(1));
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| t.error(method, ureq::Error::Io(e), true))?;
    if status != 200 {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        return Err(t
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
