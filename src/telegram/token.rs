//! The bot token: kept out of every text that leaves the client.

use std::fmt;

/// A bot token (`<bot id>:<secret>`). `Debug` and `Display` show it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The string is empty.
    Empty,
    /// The string is not `<digits>:<letters, digits, '_' or '-'>`.
    Malformed,
}

impl Token {
    /// Checks the shape Telegram gives tokens: `<digits>:<[A-Za-z0-9_-]+>`.
    pub fn parse(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TokenError::Empty);
        }
        let (id, secret) = text.split_once(':').ok_or(TokenError::Malformed)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let secret_ok = !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if id_ok && secret_ok {
            Ok(Token(text.to_owned()))
        } else {
            Err(TokenError::Malformed)
        }
    }

    /// The bot id part, which is public (it is the bot's user id).
    pub fn bot_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(id, _)| id)
    }

    /// The masked form, e.g. `123456:***`.
    pub fn masked(&self) -> String {
        format!("{}:***", self.bot_id())
    }

    /// The full token, for building request URLs only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the token, or of its secret part, in `text`.
    pub fn redact(&self, text: &str) -> String {
        let secret = self.0.split_once(':').map_or("", |(_, s)| s);
        let masked = self.masked();
        let text = text.replace(&self.0, &masked);
        if secret.len() >= 4 {
            text.replace(secret, "***")
        } else {
            text
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.masked())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let t = Token::parse(" 123456:ABC-def_1 ").unwrap();
        assert_eq!(t.masked(), "123456:***");
        assert_eq!(format!("{t:?} {t}"), "Token(123456:***) 123456:***");
        assert_eq!(
            t.redact("url /bot123456:ABC-def_1/getMe and ABC-def_1"),
            "url /bot123456:***/getMe and ***"
        );
    }

    #[test]
    fn refuses_bad_shapes() {
        assert_eq!(Token::parse(""), Err(TokenError::Empty));
        for bad in ["abc", "12:", ":abc", "12 :abc", "x1:abc", "1:a b", "1:a/b"] {
            assert_eq!(Token::parse(bad), Err(TokenError::Malformed), "{bad}");
        }
    }
}
