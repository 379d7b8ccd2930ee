//! Reading a Bot API answer: `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":…,"description":…,"parameters":{…}}`.

use serde::Deserialize;
use serde_json::Value;

use super::error::{Error, ResponseParameters};
use super::token::Token;

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Value>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

/// The largest answer body read (a getUpdates batch of 100 can be large).
const ANSWER_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads an HTTP answer: its status and its body as text.
pub fn read(response: ureq::http::Response<ureq::Body>) -> Result<(u16, String), ureq::Error> {
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_string()?;
    Ok((status, text))
}

/// Telegram's `result` from the answer to `method`, or the error it carries.
/// A body that is not a Bot API answer becomes [`Error::BadResponse`] with
/// its start; no text of the error holds the token.
pub fn parse(method: &str, status: u16, text: &str, token: &Token) -> Result<Value, Error> {
    let bad = |detail: String| Error::BadResponse {
        method: method.to_owned(),
        status,
        detail: token.redact(&detail),
    };
    let envelope: Envelope = serde_json::from_str(text).map_err(|_| {
        // The body may hold messages and names: only the debug log sees it.
        log::debug!(
            "{method}: HTTP {status}, not a Bot API answer: {}",
            token.redact(&text.chars().take(2000).collect::<String>())
        );
        bad(shape_of(text))
    })?;
    if envelope.ok {
        return envelope.result.ok_or_else(|| bad("no result".to_owned()));
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
        let err = parse("getMe", 502, "<html>1:SecretPart</html>", &token).unwrap_err();
        assert!(
            matches!(err, Error::BadResponse { status: 502, ref detail, .. } if !detail.contains("SecretPart"))
        );
        let body = r#"{"ok":true,"result":[{"update_id":1,"message":{"text":"private words","from":{"first_name":"Ann"}"#;
        let err = parse("getUpdates", 200, body, &token).unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("private") && !text.contains("Ann") && text.contains("truncated JSON"),
            "{text}"
        );
    }
}
