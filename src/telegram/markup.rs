//! Escaping text for Telegram's `MarkdownV2` and `HTML` parse modes.

/// Escapes every character `MarkdownV2` treats specially, so the text shows as is.
pub fn escape_markdown_v2(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if matches!(
            c,
            '_' | '*'
                | '['
                | ']'
                | '('
                | ')'
                | '~'
                | '`'
                | '>'
                | '#'
                | '+'
                | '-'
                | '='
                | '|'
                | '{'
                | '}'
                | '.'
                | '!'
                | '\\'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes `&`, `<`, `>` and `"` for the `HTML` parse mode.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape_markdown_v2("Цена: 1.5 (скидка_10%)! a\\b"),
            "Цена: 1\\.5 \\(скидка\\_10%\\)\\! a\\\\b"
        );
        assert_eq!(
            escape_html("<b>\"Tom & Jerry\"</b> 👍"),
            "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt; 👍"
        );
    }
}
