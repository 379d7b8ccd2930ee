//! Checking a webhook request: the secret header and the update in the body.

use serde_json::Value;

use super::update::Update;

/// Why a webhook request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookError {
    /// No secret is configured to check against.
    NoSecret,
    /// `X-Telegram-Bot-Api-Secret-Token` is missing or differs.
    WrongSecret,
    /// The body is not an update (JSON object with an integer `update_id`).
    NotAnUpdate(String),
}

/// Checks `header` against `secret` in constant time and returns the update
/// in `body`.
pub fn parse_webhook(body: &str, header: &str, secret: &str) -> Result<Update, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    if !constant_time_eq(header.trim().as_bytes(), secret.as_bytes()) {
        return Err(WebhookError::WrongSecret);
    }
    let value: Value = serde_json::from_str(body.trim_start_matches('\u{feff}'))
        .map_err(|e| WebhookError::NotAnUpdate(e.to_string()))?;
    Update::from_value(&value)
        .ok_or_else(|| WebhookError::NotAnUpdate("no integer update_id".to_owned()))
}

/// Compares without an early exit, so the time taken does not reveal how
/// much of the secret matched (the length is not secret: Telegram allows 1–256).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, byte) in b.iter().enumerate() {
        diff |= a.get(i).copied().unwrap_or(0) ^ byte;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_secret_passes_wrong_fails() {
        let body = r#"{"update_id":3,"message":{"text":"hi"}}"#;
        assert_eq!(parse_webhook(body, "s3cret", "s3cret").unwrap().id, 3);
        for wrong in ["", "s3cre", "s3cret!", "S3cret"] {
            assert_eq!(
                parse_webhook(body, wrong, "s3cret"),
                Err(WebhookError::WrongSecret)
            );
        }
        assert_eq!(parse_webhook(body, "", ""), Err(WebhookError::NoSecret));
        assert!(matches!(
            parse_webhook("[]", "s", "s"),
            Err(WebhookError::NotAnUpdate(_))
        ));
    }
}
