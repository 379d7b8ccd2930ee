//! Text formatting: parse_mode HTML / MarkdownV2 / Markdown into plain text and
//! MessageEntity objects (offsets in UTF-16 code units as Telegram counts them),
//! plus bot_command detection for user messages.

use serde_json::{json, Value};

pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn ent(kind: &str, offset: usize, length: usize) -> Value {
    json!({"type": kind, "offset": offset, "length": length})
}

fn sort(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|e| {
        (
            e["offset"].as_u64().unwrap_or(0),
            std::cmp::Reverse(e["length"].as_u64().unwrap_or(0)),
        )
    });
    v
}

/// Parses according to `parse_mode` (case-insensitive). Unknown mode → error as Telegram.
pub fn parse(text: &str, mode: Option<&str>) -> Result<(String, Vec<Value>), String> {
    match mode.map(|m| m.to_ascii_lowercase()) {
        None => Ok((text.to_string(), Vec::new())),
        Some(m) if m.is_empty() => Ok((text.to_string(), Vec::new())),
        Some(m) if m == "html" => parse_html(text),
        Some(m) if m == "markdownv2" => parse_markdown(text, true),
        Some(m) if m == "markdown" => parse_markdown_legacy(text),
        Some(_) => Err("Bad Request: unsupported parse_mode".to_string()),
    }
}

fn perr(msg: String) -> String {
    format!("Bad Request: can't parse entities: {msg}")
}

pub fn parse_html(s: &str) -> Result<(String, Vec<Value>), String> {
    let mut out = String::new();
    let mut off = 0usize; // utf16 offset in out
    let mut stack: Vec<(String, usize, Value)> = Vec::new(); // tag, start, entity template
    let mut ents = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap();
        if c == '<' {
            let end = s[i..]
                .find('>')
                .map(|p| p + i)
                .ok_or_else(|| perr(format!("Unclosed start tag at byte offset {i}")))?;
            let inner = &s[i + 1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                match stack.pop() {
                    Some((tag, start, mut e)) if tag == name || name.is_empty() => {
                        let len = off - start;
                        if len > 0 && !e.is_null() {
                            e["offset"] = json!(start);
                            e["length"] = json!(len);
                            ents.push(e);
                        }
                    }
                    Some((tag, _, _)) => {
                        return Err(perr(format!(
                            "Unmatched end tag at byte offset {i}, expected \"</{tag}>\", found \"</{name}>\""
                        )))
                    }
                    None => {
                        return Err(perr(format!(
                            "Unexpected end tag at byte offset {i}"
                        )))
                    }
                }
            } else {
                let name: String = inner
                    .split(|ch: char| ch.is_whitespace() || ch == '/')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let attr = |a: &str| -> Option<String> {
                    let lower = inner.to_ascii_lowercase();
                    let p = lower.find(&format!("{a}="))?;
                    let rest = &inner[p + a.len() + 1..];
                    let (q, rest) = match rest.chars().next()? {
                        '"' => ('"', &rest[1..]),
                        '\'' => ('\'', &rest[1..]),
                        _ => (' ', rest),
                    };
                    Some(rest.split(q).next().unwrap_or("").to_string())
                };
                let e = match name.as_str() {
                    "b" | "strong" => json!({"type":"bold"}),
                    "i" | "em" => json!({"type":"italic"}),
                    "u" | "ins" => json!({"type":"underline"}),
                    "s" | "strike" | "del" => json!({"type":"strikethrough"}),
                    "tg-spoiler" => json!({"type":"spoiler"}),
                    "span" if attr("class").as_deref() == Some("tg-spoiler") => {
                        json!({"type":"spoiler"})
                    }
                    "code" => {
                        if let Some((t, _, pe)) = stack.last_mut() {
                            if t == "pre" {
                                if let Some(lang) = attr("class")
                                    .and_then(|c| c.strip_prefix("language-").map(str::to_string))
                                {
                                    pe["language"] = json!(lang);
                                }
                                stack.push(("code".into(), off, Value::Null));
                                i = end + 1;
                                continue;
                            }
                        }
                        json!({"type":"code"})
                    }
                    "pre" => json!({"type":"pre"}),
                    "a" => {
                        let href = attr("href").unwrap_or_default();
                        if let Some(id) = href.strip_prefix("tg://user?id=") {
                            json!({"type":"text_mention","user":{"id": id.parse::<i64>().unwrap_or(0),"is_bot":false,"first_name":""}})
                        } else {
                            json!({"type":"text_link","url": href})
                        }
                    }
                    "blockquote" => {
                        if inner.to_ascii_lowercase().contains("expandable") {
                            json!({"type":"expandable_blockquote"})
                        } else {
                            json!({"type":"blockquote"})
                        }
                    }
                    "tg-emoji" => {
                        json!({"type":"custom_emoji","custom_emoji_id": attr("emoji-id").unwrap_or_default()})
                    }
                    _ => {
                        return Err(perr(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        )))
                    }
                };
                stack.push((name, off, e));
            }
            i = end + 1;
        } else if c == '&' {
            let rest = &s[i..];
            let (rep, n): (Option<String>, usize) =
                if let Some(semi) = rest[..boundary_at_most(rest, 12)].find(';') {
                    let name = &rest[1..semi];
                    let r = match name {
                        "lt" => Some("<".to_string()),
                        "gt" => Some(">".to_string()),
                        "amp" => Some("&".to_string()),
                        "quot" => Some("\"".to_string()),
                        "apos" => Some("'".to_string()),
                        _ if name.starts_with("#x") => u32::from_str_radix(&name[2..], 16)
                            .ok()
                            .and_then(char::from_u32)
                            .map(|c| c.to_string()),
                        _ if name.starts_with('#') => name[1..]
                            .parse::<u32>()
                            .ok()
                            .and_then(char::from_u32)
                            .map(|c| c.to_string()),
                        _ => None,
                    };
                    (r, semi + 1)
                } else {
                    (None, 1)
                };
            match rep {
                Some(r) => {
                    off += utf16_len(&r);
                    out.push_str(&r);
                    i += n;
                }
                None => {
                    out.push('&');
                    off += 1;
                    i += 1;
                }
            }
        } else {
            out.push(c);
            off += c.len_utf16();
            i += c.len_utf8();
        }
    }
    let _ = bytes;
    if let Some((tag, _, _)) = stack.pop() {
        return Err(perr(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        )));
    }
    Ok((out, sort(ents)))
}

/// MarkdownV2 (strict = true) or legacy Markdown (strict = false).
pub fn parse_markdown(s: &str, v2: bool) -> Result<(String, Vec<Value>), String> {
    const RESERVED: &str = "_*[]()~`>#+-=|{}.!";
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = String::new();
    let mut off = 0usize;
    let mut ents = Vec::new();
    // open markers: (marker, start offset, byte pos)
    let mut open: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut link_start: Option<(usize, usize)> = None;
    let mut k = 0;
    let push = |out: &mut String, off: &mut usize, c: char| {
        out.push(c);
        *off += c.len_utf16();
    };
    let name_of = |m: &str| match m {
        "*" => "Bold",
        "_" => "Italic",
        "__" => "Underline",
        "~" => "Strikethrough",
        "||" => "Spoiler",
        _ => "Entity",
    };
    let kind_of = |m: &str| match m {
        "*" => "bold",
        "_" => "italic",
        "__" => "underline",
        "~" => "strikethrough",
        _ => "spoiler",
    };
    while k < chars.len() {
        let (bpos, c) = chars[k];
        let next = chars.get(k + 1).map(|x| x.1);
        if c == '\\' && v2 {
            match next {
                Some(n) if (n as u32) < 127 => {
                    push(&mut out, &mut off, n);
                    k += 2;
                    continue;
                }
                _ => {
                    return Err(perr(String::from(
                        "Character '\\' is reserved and must be escaped with the preceding '\\'",
                    )))
                }
            }
        }
        if c == '`' {
            let is_pre = next == Some('`') && chars.get(k + 2).map(|x| x.1) == Some('`');
            let start = off;
            let mut j = if is_pre { k + 3 } else { k + 1 };
            let mut lang = None;
            if is_pre {
                // language up to newline
                let mut l = String::new();
                let mut t = j;
                while t < chars.len() && chars[t].1 != '\n' && chars[t].1 != '`' {
                    l.push(chars[t].1);
                    t += 1;
                }
                if t < chars.len() && chars[t].1 == '\n' {
                    if !l.trim().is_empty() {
                        lang = Some(l.trim().to_string());
                    }
                    j = t + 1;
                }
            }
            let mut closed = false;
            while j < chars.len() {
                let ch = chars[j].1;
                if v2 && ch == '\\' && j + 1 < chars.len() {
                    push(&mut out, &mut off, chars[j + 1].1);
                    j += 2;
                    continue;
                }
                if ch == '`' {
                    if is_pre {
                        if chars.get(j + 1).map(|x| x.1) == Some('`')
                            && chars.get(j + 2).map(|x| x.1) == Some('`')
                        {
                            closed = true;
                            j += 3;
                            break;
                        }
                    } else {
                        closed = true;
                        j += 1;
                        break;
                    }
                }
                push(&mut out, &mut off, ch);
                j += 1;
            }
            if !closed {
                let what = if is_pre { "Pre" } else { "Code" };
                return Err(perr(format!(
                    "Can't find end of {what} entity at byte offset {bpos}"
                )));
            }
            if off > start {
                let mut e = ent(if is_pre { "pre" } else { "code" }, start, off - start);
                if let Some(l) = lang {
                    e["language"] = json!(l);
                }
                ents.push(e);
            }
            k = j;
            continue;
        }
        let marker: Option<&'static str> = match c {
            '*' => Some("*"),
            '_' if v2 && next == Some('_') => Some("__"),
            '_' => Some("_"),
            '~' if v2 => Some("~"),
            '|' if v2 && next == Some('|') => Some("||"),
            _ => None,
        };
        if let Some(m) = marker {
            if let Some(pos) = open.iter().rposition(|(om, _, _)| *om == m) {
                let (_, start, _) = open.remove(pos);
                if off > start {
                    ents.push(ent(kind_of(m), start, off - start));
                }
            } else {
                open.push((m, off, bpos));
            }
            k += m.len();
            continue;
        }
        if c == '[' {
            link_start = Some((off, bpos));
            k += 1;
            continue;
        }
        if c == ']' && link_start.is_some() && next == Some('(') {
            let (start, _) = link_start.take().unwrap();
            let mut j = k + 2;
            let mut url = String::new();
            while j < chars.len() && chars[j].1 != ')' {
                if v2 && chars[j].1 == '\\' && j + 1 < chars.len() {
                    j += 1;
                }
                url.push(chars[j].1);
                j += 1;
            }
            if j >= chars.len() {
                return Err(perr(format!(
                    "Can't find end of a URL at byte offset {bpos}"
                )));
            }
            if off > start {
                let mut e = ent("text_link", start, off - start);
                e["url"] = json!(url);
                ents.push(e);
            }
            k = j + 1;
            continue;
        }
        if v2 && c == '>' && (bpos == 0 || s.as_bytes()[bpos - 1] == b'\n') {
            // blockquote until end of line
            let start = off;
            let mut j = k + 1;
            let mut line = String::new();
            while j < chars.len() && chars[j].1 != '\n' {
                line.push(chars[j].1);
                j += 1;
            }
            let (t, inner) = parse_markdown(&line, true)?;
            for mut e in inner {
                e["offset"] = json!(e["offset"].as_u64().unwrap_or(0) as usize + start);
                ents.push(e);
            }
            off += utf16_len(&t);
            out.push_str(&t);
            if off > start {
                ents.push(ent("blockquote", start, off - start));
            }
            k = j;
            continue;
        }
        if v2 && RESERVED.contains(c) {
            return Err(perr(format!(
                "Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )));
        }
        push(&mut out, &mut off, c);
        k += 1;
    }
    if let Some((m, _, bpos)) = open.pop() {
        return Err(perr(format!(
            "Can't find end of {} entity at byte offset {bpos}",
            name_of(m)
        )));
    }
    if let Some((_, bpos)) = link_start {
        if v2 {
            return Err(perr(format!(
                "Can't find end of TextUrl entity at byte offset {bpos}"
            )));
        }
    }
    Ok((out, sort(ents)))
}

/// Legacy Markdown as Telegram reads it: `*bold*`, `_italic_`, `` `code` ``,
/// ```` ```language\npre``` ````, `[text](url)`. No nesting: an entity runs
/// to the next end character; `\` escapes `_*`[` outside entities. An entity
/// without its end fails with "Can't find end of the entity starting at byte
/// offset N" (td's `parse_markdown`).
pub fn parse_markdown_legacy(s: &str) -> Result<(String, Vec<Value>), String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut off = 0usize;
    let mut ents = Vec::new();
    let mut i = 0;
    // Copies the character at byte i to the output; returns its byte length.
    let copy = |out: &mut String, off: &mut usize, i: usize| {
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        *off += ch.len_utf16();
        ch.len_utf8()
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && matches!(b.get(i + 1), Some(b'_' | b'*' | b'`' | b'[')) {
            i += 1 + copy(&mut out, &mut off, i + 1);
            continue;
        }
        if !matches!(c, b'_' | b'*' | b'`' | b'[') {
            i += copy(&mut out, &mut off, i);
            continue;
        }
        let begin = i;
        let end_char = if c == b'[' { b']' } else { c };
        i += 1;
        let is_pre = c == b'`' && b.get(i) == Some(&b'`') && b.get(i + 1) == Some(&b'`');
        let mut language = None;
        if is_pre {
            i += 2;
            let mut end = i;
            while end < b.len() && !b[end].is_ascii_whitespace() && b[end] != b'`' {
                end += 1;
            }
            if end != i && end < b.len() && b[end] != b'`' {
                language = Some(s[i..end].to_string());
                i = end;
            }
            if matches!(b.get(i), Some(b'\n' | b'\r')) {
                let pair = matches!(b.get(i + 1), Some(b'\n' | b'\r')) && b.get(i + 1) != b.get(i);
                i += if pair { 2 } else { 1 };
            }
        }
        let start = off;
        while i < b.len() {
            let at_end = b[i] == end_char
                && (!is_pre || (b.get(i + 1) == Some(&b'`') && b.get(i + 2) == Some(&b'`')));
            if at_end {
                break;
            }
            i += copy(&mut out, &mut off, i);
        }
        if i == b.len() {
            return Err(perr(format!(
                "Can't find end of the entity starting at byte offset {begin}"
            )));
        }
        let len = off - start;
        let mut entity = match c {
            b'*' => Some(ent("bold", start, len)),
            b'_' => Some(ent("italic", start, len)),
            b'`' if is_pre => {
                i += 2;
                let mut e = ent("pre", start, len);
                if let Some(l) = language.take() {
                    e["language"] = json!(l);
                }
                Some(e)
            }
            b'`' => Some(ent("code", start, len)),
            _ => {
                // `[text]` then an optional `(url)`.
                let mut url = None;
                if b.get(i + 1) == Some(&b'(') {
                    let url_begin = i + 2;
                    let close =
                        s[url_begin..]
                            .find(')')
                            .map(|p| p + url_begin)
                            .ok_or_else(|| {
                                perr(format!(
                                    "Can't find end of a URL at byte offset {url_begin}"
                                ))
                            })?;
                    url = Some(s[url_begin..close].to_string());
                    i = close;
                }
                url.filter(|u| !u.is_empty()).map(|u| {
                    let mut e = ent("text_link", start, len);
                    e["url"] = json!(u);
                    e
                })
            }
        };
        if len == 0 {
            entity = None;
        }
        ents.extend(entity);
        i += 1;
    }
    Ok((out, sort(ents)))
}

/// Entities Telegram detects in a user's text: bot commands, mentions, URLs, hashtags.
pub fn detect_entities(text: &str) -> Vec<Value> {
    let mut ents = Vec::new();
    let mut off = 0usize;
    let mut word = String::new();
    let mut word_start = 0usize;
    let flush = |word: &mut String, start: usize, ents: &mut Vec<Value>| {
        if word.len() > 1 {
            let kind = if word.starts_with('/')
                && word[1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                Some("bot_command")
            } else if word.starts_with('@') && word.len() > 3 {
                Some("mention")
            } else if word.starts_with('#') {
                Some("hashtag")
            } else if word.starts_with("http://") || word.starts_with("https://") {
                Some("url")
            } else {
                None
            };
            if let Some(k) = kind {
                ents.push(ent(k, start, utf16_len(word)));
            }
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, word_start, &mut ents);
            off += c.len_utf16();
            word_start = off;
        } else {
            word.push(c);
            off += c.len_utf16();
        }
    }
    flush(&mut word, word_start, &mut ents);
    ents
}

/// The largest char boundary of `s` not past `n` bytes: an entity's ';' is
/// looked for in a window that must not split a letter (`&amp;` before Cyrillic).
fn boundary_at_most(s: &str, n: usize) -> usize {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::parse_html;

    #[test]
    fn an_entity_right_before_cyrillic_text_parses() {
        let (text, entities) = parse_html("<b>a</b> &gt; &amp; счёт").unwrap();
        assert_eq!(text, "a > & счёт");
        assert_eq!(entities.len(), 1);
        assert_eq!(parse_html("&привет;").unwrap().0, "&привет;");
    }
}
