//! Reading a Bot API answer: `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":…,"description":…,"parameters":{…}}`.

use std::io::Read;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::{Error, ResponseParameters};
use super::token::Token;

#[derive(Deserialize)]
struct Envelope<R> {
    ok: bool,
    result: Option<R>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

/// The largest answer body read (a getUpdates batch of 100 can be large).
const ANSWER_LIMIT: u64 = 64 * 1024 * 1024;

/// Buffer reserved up front for an answer of announced size, at most.
const PRESIZE_LIMIT: u64 = 1024 * 1024;

/// Reads an HTTP answer: its status and its body as text. The buffer is
/// sized from `Content-Length`, so a small answer takes one read and the
/// end-of-body check instead of a series of growing reads.
pub fn read(response: ureq::http::Response<ureq::Body>) -> Result<(u16, String), ureq::Error> {
    let status = response.status().as_u16();
    let body = response.into_body();
    let presize = body.content_length().unwrap_or(0).min(PRESIZE_LIMIT) as usize;
    let mut reader = body.into_with_config().limit(ANSWER_LIMIT).reader();
    let mut bytes = Vec::with_capacity(presize);
    reader.read_to_end(&mut bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    Ok((status, text))
}

/// Telegram's `result` from the answer to `method`, or the error it carries.
/// A body that is not a Bot API answer becomes [`Error::BadResponse`] with
/// its shape only (no content); no text of the error holds the token.
pub fn parse(method: &str, status: u16, text: &str, token: &Token) -> Result<Value, Error> {
    let envelope =
        serde_json::from_str(text).map_err(|_| not_an_answer(method, status, token, text));
    outcome(method, status, token, envelope?)
}

/// As [`parse`], but the `result` is returned as its own JSON text, cut out of
/// `text` in place: no second pass to build and print a value.
pub fn parse_raw(
    method: &str,
    status: u16,
    mut text: String,
    token: &Token,
) -> Result<String, Error> {
    let range = {
        let envelope: Envelope<&RawValue> =
            serde_json::from_str(&text).map_err(|_| not_an_answer(method, status, token, &text))?;
        let raw = outcome(method, status, token, envelope)?.get();
        let start = raw.as_ptr() as usize - text.as_ptr() as usize;
        start..start + raw.len()
    };
    text.truncate(range.end);
    text.drain(..range.start);
    Ok(text)
}

fn bad(method: &str, status: u16, token: &Token, detail: String) -> Error {
    Error::BadResponse {
        method: method.to_owned(),
        status,
        detail: token.redact(&detail),
    }
}

/// The error for a body that is not a Bot API answer. The body may hold
/// messages and names: only the debug log sees it, the error only its shape.
fn not_an_answer(method: &str, status: u16, token: &Token, text: &str) -> Error {
    log::debug!(
        "{method}: HTTP {status}, not a Bot API answer: {}",
        token.redact(&text.chars().take(2000).collect::<String>())
    );
    bad(method, status, token, shape_of(text))
}

/// The result of a parsed answer, or the error it carries.
fn outcome<R>(method: &str, status: u16, token: &Token, envelope: Envelope<R>) -> Result<R, Error> {
    if envelope.ok {
        return envelope
            .result
            .ok_or_else(|| bad(method, status, token, "no result".to_owned()));
    }
    Err(Error::Api {
        method: method.to_owned(),
        code: envelope.error_code.unwrap_or(i64::from(status)),
        description: token.redact(envelope.description.as_deref().unwrap_or("")),
        parameters: envelope.parameters.unwrap_or_default(),
    })
}

/// What a body that is not a Bot API answer looks like, for error texts,
/// without any of its content (it may hold message texts and user names).
fn shape_of(text: &str) -> String {
    let t = text.trim_start();
    let what = if t.is_empty() {
        return "empty answer".to_owned();
    } else if t.starts_with('<') {
        "an HTML page"
    } else if t.starts_with('{') || t.starts_with('[') {
        "broken or truncated JSON"
    } else {
        "not JSON"
    };
    format!("{what}, {} bytes", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_results_errors_and_garbage() {
        let token = Token::parse("1:SecretPart").unwrap();
        assert_eq!(
            parse("getMe", 200, r#"{"ok":true,"result":{"id":1}}"#, &token).unwrap()["id"],
            1
        );
        let err = parse(
            "sendMessage",
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
            &token,
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Api { code: 429, ref parameters, .. } if parameters.retry_after == Some(3))
        );
        let raw = |text: &str| parse_raw("getMe", 200, text.to_owned(), &token);
        assert_eq!(
            raw(r#"{"ok":true,"result": {"id":1, "name":"Ёж \u0416"} }"#).unwrap(),
            r#"{"id":1, "name":"Ёж \u0416"}"#
        );
        assert_eq!(raw(r#"{"result":true,"ok":true}"#).unwrap(), "true");
        assert!(raw(r#"{"ok":true,"result":null}"#).is_err());
        assert!(raw(r#"{"ok":true}"#).is_err());
        assert!(matches!(
            raw(r#"{"ok":false,"error_code":400,"description":"Bad Request"}"#),
            Err(Error::Api { code: 400, .. })
        ));
        let err = raw("<html>1:SecretPart</html>").unwrap_err();
        assert!(
            matches!(err, Error::BadResponse { status: 200, ref detail, .. } if !detail.contains("SecretPart"))
        );
        let err = parse("getMe", 502, "<html>1:SecretPart</html>", &token).unwrap_err();
        assert!(
            matches!(err, Error::BadResponse { status: 502, ref detail, .. } if !detail.contains("SecretPart"))
        );
        let body = r#"{"ok":true,"result":[{"update_id":1,"message":{"text":"private words","from":{"first_name":"Ann"}"#;
        for err in [
            parse("getUpdates", 200, body, &token).unwrap_err(),
            parse_raw("sendMessage", 200, body.to_owned(), &token).unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(
                !text.contains("private")
                    && !text.contains("Ann")
                    && text.contains("truncated JSON"),
                "{text}"
            );
        }
    }
}
