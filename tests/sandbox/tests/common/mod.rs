#![allow(dead_code)]
//! Plain HTTP helpers for the sandbox tests.

use serde_json::Value;
use std::time::Duration;

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub fn read(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut r = resp.expect("request failed");
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(100 * 1024 * 1024)
        .read_to_string()
        .unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// A `width`×`height` PNG head padded to `len` bytes ([`tg_sandbox::png_bytes`]).
pub fn png(width: u32, height: u32, len: usize) -> Vec<u8> {
    tg_sandbox::png_bytes(width, height, len)
}

/// POST JSON to `{base}/bot{token}/{method}`.
pub fn call(a: &ureq::Agent, base: &str, token: &str, method: &str, body: Value) -> (u16, Value) {
    read(
        a.post(format!("{base}/bot{token}/{method}"))
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----sandboxboundary7MA4YWxkTrZu0gW";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, data) in files {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

pub fn call_multipart(
    a: &ureq::Agent,
    base: &str,
    token: &str,
    method: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> (u16, Value) {
    let (ct, body) = multipart(fields, files);
    read(
        a.post(format!("{base}/bot{token}/{method}"))
            .header("Content-Type", &ct)
            .send(&body[..]),
    )
}

/// Like `call` but returns None on a transport error (for background threads).
pub fn try_call(
    a: &ureq::Agent,
    base: &str,
    token: &str,
    method: &str,
    body: Value,
) -> Option<(u16, Value)> {
    let mut r = a
        .post(format!("{base}/bot{token}/{method}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .ok()?;
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().ok()?;
    Some((
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    ))
}
