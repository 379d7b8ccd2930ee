//! Splitting a long message text into parts Telegram accepts.
//!
//! Lengths are UTF-16 code units, as Telegram counts them, and are counted on
//! the raw text (tags and escapes included), which is never shorter than what
//! Telegram counts, so every part fits. Cuts prefer a paragraph break, then a
//! line break, then a space; a cut never falls inside a surrogate pair, an
//! emoji sequence (ZWJ, flags, modifiers), an HTML tag or entity, or an open
//! Markdown entity. HTML elements open at a cut are closed at the end of the
//! part and opened again at the start of the next one.

use super::limits::utf16_len;

/// The `parse_mode` of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseMode {
    /// No formatting.
    Plain,
    /// `HTML`.
    Html,
    /// Legacy `Markdown`.
    Markdown,
    /// `MarkdownV2`.
    MarkdownV2,
}

impl ParseMode {
    /// The mode named by a `parse_mode` option (any letter case); unknown or
    /// absent names give `Plain`.
    pub fn from_name(name: Option<&str>) -> ParseMode {
        match name.map(str::to_ascii_lowercase).as_deref() {
            Some("html") => ParseMode::Html,
            Some("markdown") => ParseMode::Markdown,
            Some("markdownv2") => ParseMode::MarkdownV2,
            _ => ParseMode::Plain,
        }
    }
}

/// Why a text could not be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A formatting entity stays open across the whole part, so no cut keeps
    /// the markup valid.
    OpenEntity,
}

#[derive(Clone, Debug)]
struct OpenTag {
    name: String,
    open: String,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Any,
    Space,
    Line,
    Paragraph,
}

#[derive(Clone, Debug)]
struct Cut {
    at: usize,
    units: usize,
    stack: Vec<OpenTag>,
}

/// Markdown entity state while scanning.
#[derive(Default)]
struct Md {
    escaped: bool,
    pre: bool,
    code: bool,
    link: u8,
    open: Vec<&'static str>,
}

impl Md {
    fn closed(&self) -> bool {
        !self.escaped && !self.pre && !self.code && self.link == 0 && self.open.is_empty()
    }

    fn toggle(&mut self, marker: &'static str) {
        if let Some(p) = self.open.iter().rposition(|m| *m == marker) {
            self.open.remove(p);
        } else {
            self.open.push(marker);
        }
    }

    /// Consumes the markup at the start of `s`; returns the bytes taken.
    fn step(&mut self, s: &str, v2: bool) -> usize {
        let c = s.chars().next().map_or(0, char::len_utf8);
        if self.escaped {
            self.escaped = false;
            return c;
        }
        if s.starts_with('\\') {
            self.escaped = true;
            return 1;
        }
        if self.pre {
            if s.starts_with("```") {
                self.pre = false;
                return 3;
            }
            return c;
        }
        if self.code {
            if s.starts_with('`') {
                self.code = false;
            }
            return c;
        }
        if self.link == 2 {
            if s.starts_with(')') {
                self.link = 0;
            }
            return c;
        }
        if s.starts_with("```") {
            self.pre = true;
            return 3;
        }
        if s.starts_with('`') {
            self.code = true;
            return 1;
        }
        if s.starts_with('[') && self.link == 0 {
            self.link = 1;
            return 1;
        }
        if s.starts_with("](") && self.link == 1 {
            self.link = 2;
            return 2;
        }
        if s.starts_with(']') && self.link == 1 {
            self.link = 0;
            return 1;
        }
        if v2 {
            for marker in ["__", "||"] {
                if s.starts_with(marker) {
                    self.toggle(marker);
                    return 2;
                }
            }
            if s.starts_with('~') {
                self.toggle("~");
                return 1;
            }
        }
        if s.starts_with('*') {
            self.toggle("*");
            return 1;
        }
        if s.starts_with('_') {
            self.toggle("_");
            return 1;
        }
        c
    }
}

/// Whether a cut between `before` and `after` would break a visible character.
fn joins(before: Option<char>, after: char) -> bool {
    let is_ri = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    let extends = matches!(after,
        '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}'
        | '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}');
    extends || before == Some('\u{200D}') || (before.is_some_and(is_ri) && is_ri(after))
}

fn tag_name(tag: &str) -> String {
    tag.trim_start_matches('<')
        .trim_start_matches('/')
        .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn closers(stack: &[OpenTag]) -> String {
    stack
        .iter()
        .rev()
        .map(|t| format!("</{}>", t.name))
        .collect()
}

/// Splits `text` into parts of at most `limit` UTF-16 units each.
pub fn split(text: &str, mode: ParseMode, limit: usize) -> Result<Vec<String>, SplitError> {
    let mut parts = Vec::new();
    let mut rest = text;
    let mut carry: Vec<OpenTag> = Vec::new();
    loop {
        let prefix: String = carry.iter().map(|t| t.open.as_str()).collect();
        let prefix_units = utf16_len(&prefix);
        if prefix_units + utf16_len(rest) <= limit {
            if !rest.trim().is_empty() {
                parts.push(format!("{prefix}{rest}"));
            }
            return Ok(parts);
        }
        let (best, kind) = find_cut(rest, mode, &carry, prefix_units, limit)?;
        let body = rest[..best.at].trim_end();
        parts.push(format!("{prefix}{body}{}", closers(&best.stack)));
        rest = &rest[best.at..];
        rest = match kind {
            Kind::Paragraph | Kind::Line => rest.trim_start_matches(['\n', '\r']),
            Kind::Space => {
                let mut chars = rest.chars();
                chars.next();
                chars.as_str()
            }
            Kind::Any => rest,
        };
        carry = best.stack;
    }
}

/// Scans `rest` up to the limit and returns the best cut.
fn find_cut(
    rest: &str,
    mode: ParseMode,
    carry: &[OpenTag],
    prefix_units: usize,
    limit: usize,
) -> Result<(Cut, Kind), SplitError> {
    let mut best: [Option<Cut>; 4] = [None, None, None, None];
    let mut stack: Vec<OpenTag> = carry.to_vec();
    let mut close_units = utf16_len(&closers(&stack));
    let mut md = Md::default();
    let mut units = prefix_units;
    let mut i = 0;
    let mut before: Option<char> = None;
    while i < rest.len() {
        let s = &rest[i..];
        let Some(c) = s.chars().next() else { break };
        // Is a cut right here (before `c`) allowed, and how good is it?
        let markup_ok = match mode {
            ParseMode::Markdown | ParseMode::MarkdownV2 => md.closed(),
            _ => true,
        };
        if i > 0 && markup_ok && !joins(before, c) && units + close_units <= limit {
            let kind = if s.starts_with("\n\n") || s.starts_with("\r\n\r\n") {
                Kind::Paragraph
            } else if c == '\n' || s.starts_with("\r\n") {
                Kind::Line
            } else if c.is_whitespace() {
                Kind::Space
            } else {
                Kind::Any
            };
            let cut = Cut {
                at: i,
                units,
                stack: stack.clone(),
            };
            for k in [Kind::Any, Kind::Space, Kind::Line, Kind::Paragraph] {
                if k <= kind {
                    best[k as usize] = Some(cut.clone());
                }
            }
        }
        // Consume one token.
        let taken = match mode {
            ParseMode::Html if c == '<' => match s.find('>') {
                Some(end) => {
                    let tag = &s[..=end];
                    let name = tag_name(tag);
                    if tag.starts_with("</") {
                        if let Some(p) = stack.iter().rposition(|t| t.name == name) {
                            stack.remove(p);
                        }
                    } else if !name.is_empty() {
                        stack.push(OpenTag {
                            name,
                            open: tag.to_owned(),
                        });
                    }
                    close_units = utf16_len(&closers(&stack));
                    end + 1
                }
                None => c.len_utf8(),
            },
            ParseMode::Html if c == '&' => match s.find(';') {
                Some(end) if end <= 10 => end + 1,
                _ => 1,
            },
            ParseMode::Markdown => md.step(s, false),
            ParseMode::MarkdownV2 => md.step(s, true),
            _ => c.len_utf8(),
        };
        let taken = taken.max(1).min(s.len());
        let token = &s[..taken];
        units += utf16_len(token);
        before = token.chars().last();
        i += taken;
        if units > limit {
            break;
        }
    }
    let half = (limit / 2).max(1);
    for k in [Kind::Paragraph, Kind::Line, Kind::Space] {
        if let Some(cut) = &best[k as usize] {
            if cut.units >= half {
                return Ok((cut.clone(), k));
            }
        }
    }
    for k in [Kind::Paragraph, Kind::Line, Kind::Space, Kind::Any] {
        if let Some(cut) = &best[k as usize] {
            if !rest[..cut.at].trim().is_empty() {
                return Ok((cut.clone(), k));
            }
        }
    }
    Err(SplitError::OpenEntity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(parts: &[String], limit: usize) {
        for p in parts {
            assert!(utf16_len(p) <= limit, "{} > {limit}", utf16_len(p));
            assert!(!p.trim().is_empty());
        }
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split("привет", ParseMode::Plain, 4096).unwrap(), ["привет"]);
    }

    #[test]
    fn prefers_paragraphs_then_lines_then_words() {
        let text = format!("{}\n\n{}", "a".repeat(30), "b".repeat(30));
        assert_eq!(
            split(&text, ParseMode::Plain, 40).unwrap(),
            ["a".repeat(30), "b".repeat(30)]
        );
        let words = "слово ".repeat(20);
        let parts = split(&words, ParseMode::Plain, 25).unwrap();
        check(&parts, 25);
        assert!(parts
            .iter()
            .all(|p| p.trim().split(' ').all(|w| w == "слово")));
        assert_eq!(parts.join(" ").split_whitespace().count(), 20);
    }

    #[test]
    fn never_breaks_emoji_or_surrogates() {
        let text = "👨‍👩‍👧‍👦🇷🇺".repeat(50);
        let parts = split(&text, ParseMode::Plain, 30).unwrap();
        check(&parts, 30);
        assert_eq!(parts.concat(), text);
        for p in &parts {
            assert!(
                p.starts_with(['👨', '🇷']) && p.ends_with(['👦', '🇺']),
                "{p}"
            );
        }
    }

    #[test]
    fn html_tags_are_closed_and_reopened() {
        let text = format!(
            "<b>{}</b> <a href=\"https://x.org\">{}</a>",
            "жир ".repeat(20),
            "ссылка ".repeat(10)
        );
        let parts = split(&text, ParseMode::Html, 50).unwrap();
        check(&parts, 50);
        for p in &parts {
            assert_eq!(p.matches("<b>").count(), p.matches("</b>").count(), "{p}");
            assert_eq!(p.matches("<a ").count(), p.matches("</a>").count(), "{p}");
            assert!(!p.contains("&am") || p.contains("&amp;"));
        }
    }

    #[test]
    fn markdown_is_cut_only_outside_entities() {
        let text = format!("*{}* {}", "x".repeat(10), "y ".repeat(40));
        let parts = split(&text, ParseMode::MarkdownV2, 30).unwrap();
        check(&parts, 30);
        assert!(parts[0].starts_with("*xxxxxxxxxx*"));
        let open = format!("*{}*", "z ".repeat(40));
        assert_eq!(
            split(&open, ParseMode::MarkdownV2, 30),
            Err(SplitError::OpenEntity)
        );
        let escaped = format!("\\*{}", "w ".repeat(40));
        check(&split(&escaped, ParseMode::MarkdownV2, 30).unwrap(), 30);
    }
}
