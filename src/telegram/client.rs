//! A blocking Bot API client over one keep-alive `ureq` agent.

use serde_json::Value;

use super::error::Error;
use super::request::{ClientConfig, ClientOptions, Outcome, Request};
use super::send;
use super::transport::{Mapping, Transport};

/// A Bot API client. Cheap to call repeatedly: the connection is reused.
pub struct Client {
    transport: Transport,
    options: ClientOptions,
}

impl Client {
    /// Builds a client with connect timeout and retry settings.
    pub fn with_options(config: ClientConfig, options: ClientOptions) -> Result<Client, Error> {
        let connect = config.timeout.min(options.connect_timeout);
        let transport = Transport::new(&config, config.timeout, connect, Mapping::Call)?;
        Ok(Client { transport, options })
    }

    /// Sends `request`, repeating it where that is safe (see `retry.rs`).
    pub fn execute(&self, request: Request<'_>) -> Result<Outcome, Error> {
        send::execute(&self.transport, &self.options, request)
    }

    /// As [`Client::execute`], with Telegram's `result` as the JSON text of
    /// the answer (cut out of it, not parsed and printed again).
    pub fn execute_raw(&self, request: Request<'_>) -> Result<Outcome<String>, Error> {
        send::execute_raw(&self.transport, &self.options, request)
    }

    /// Sends `request` once, without retries or migration (the delivery
    /// engine paces and repeats by itself). The error tells whether the
    /// request may have arrived ([`Error::maybe_delivered`]).
    pub fn attempt(&self, request: &Request<'_>) -> Result<Value, Error> {
        send::attempt_value(&self.transport, request)
    }

    /// Calls `method` with JSON `params` and returns Telegram's `result`.
    /// Retries and migration apply (see `send.rs`).
    pub fn call(&self, method: &str, params: &Value) -> Result<Value, Error> {
        let params = params.as_object().cloned().unwrap_or_default();
        self.execute(Request::new(method, params))
            .map(|outcome| outcome.result)
    }

    /// As [`Client::call`], with the `result` as its JSON text from the answer.
    pub fn call_raw(&self, method: &str, params: &Value) -> Result<String, Error> {
        let params = params.as_object().cloned().unwrap_or_default();
        self.execute_raw(Request::new(method, params))
            .map(|outcome| outcome.result)
    }

    /// Downloads a file by the `file_path` that `getFile` returned, reading
    /// at most `limit` bytes. Connection failures and 5xx are retried.
    pub fn download(&self, file_path: &str, limit: u64) -> Result<Vec<u8>, Error> {
        send::download(&self.transport, &self.options, file_path, limit)
    }
}
