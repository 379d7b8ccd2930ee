//! The sending part: messages (split when long), files from BinaryData,
//! paths, URLs or file_ids, any Bot API method, edits, deletes, downloads,
//! escaping; and the `LocalServer`, `MigratedChatId` and `MaxParts` properties.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::ffi::{Param, Value};
use crate::fsguard::{self, FsError};
use crate::telegram::{
    self, utf16_len, Limits, ParseMode, Request, Source, Upload, CAPTION_LIMIT, TEXT_LIMIT,
};

use super::context::Context;
use super::errors::{AddinError, Expected, Invalid, Name, Oversized, PathRole};
use super::members::{MethodId, PropId};
use super::params::{self, Args};

/// Default and largest `MaxParts`.
const DEFAULT_MAX_PARTS: i64 = 20;
const MAX_MAX_PARTS: i64 = 10_000;

/// Where a file attached by `AddFile` comes from.
enum Held {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

/// A file waiting for the next `CallMethod`.
struct Pending {
    name: String,
    file_name: String,
    held: Held,
}

/// The sending state of one object, kept between calls.
#[derive(Default)]
pub struct Sending {
    /// `LocalServer`: a self-hosted Bot API server with its larger limits.
    local_server: bool,
    /// Files attached by `AddFile` for the next `CallMethod`.
    pending: Vec<Pending>,
    /// `MigratedChatId` of the last call.
    migrated_chat_id: i64,
    /// `MaxParts`: most messages one `SendMessage` may become (None: the default).
    max_parts: Option<i64>,
}

impl Sending {
    /// Takes the file `AddFile` attached under `name`: its file name and
    /// bytes (a path is read now). `None` when no such file is attached.
    pub fn take_file(&mut self, name: &str) -> Option<(String, std::io::Result<Vec<u8>>)> {
        let at = self.pending.iter().position(|p| p.name == name)?;
        let p = self.pending.remove(at);
        let bytes = match p.held {
            Held::Bytes(b) => Ok(b),
            Held::Path(path) => std::fs::read(path),
        };
        Some((p.file_name, bytes))
    }
}

fn invalid(name: Name, why: impl Into<String>) -> AddinError {
    AddinError::Invalid {
        name,
        why: Invalid::Other(why.into()),
    }
}

/// A message id: a positive whole number.
fn message_id(name: Name, param: &Param<'_>) -> Result<i64, AddinError> {
    match param {
        Param::Str(units) => {
            let text = params::decode(name, units)?;
            text.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AddinError::Invalid {
                    name,
                    why: Invalid::Range {
                        min: 1,
                        max: i64::from(i32::MAX),
                    },
                })
        }
        other => params::integer(name, other, 1, 1 << 53),
    }
}

fn is_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A file_id is one token of letters, digits, `_` and `-`; anything else
/// that is not a URL is taken for a path.
fn looks_like_file_id(text: &str) -> bool {
    text.len() >= 8
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Length of a caption as Telegram counts it (HTML tags and entities do not count).
fn visible_len(text: &str, mode: ParseMode) -> usize {
    if mode != ParseMode::Html {
        return utf16_len(text);
    }
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let entities = ["&lt;", "&gt;", "&amp;", "&quot;"]
        .iter()
        .map(|e| plain.matches(e).count() * (e.len() - 1))
        .sum::<usize>();
    utf16_len(&plain) - entities
}

fn default_file_name(kind: &str) -> &'static str {
    match kind {
        "photo" => "photo.jpg",
        "video" => "video.mp4",
        "audio" => "audio.mp3",
        "voice" => "voice.ogg",
        "animation" => "animation.mp4",
        "sticker" => "sticker.webp",
        "video_note" => "video_note.mp4",
        _ => "file",
    }
}

fn method_for(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "document" => "sendDocument",
        "photo" => "sendPhoto",
        "video" => "sendVideo",
        "audio" => "sendAudio",
        "voice" => "sendVoice",
        "animation" => "sendAnimation",
        "sticker" => "sendSticker",
        "video_note" => "sendVideoNote",
        _ => return None,
    })
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned())
}

/// Whether a raw `result` is JSON `true`.
fn is_true(result: &str) -> bool {
    result.trim() == "true"
}

impl Sending {
    /// Runs one of the sending methods.
    pub fn run(&mut self, cx: &mut Context<'_>, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        self.migrated_chat_id = 0;
        match a.id() {
            MethodId::SendMessage => self.send_message(cx, a),
            MethodId::SendFile => self.send_file(cx, a),
            MethodId::AddFile => self.add_file(a),
            MethodId::CallMethod => self.call_method(cx, a),
            MethodId::AnswerCallbackQuery => self.answer_callback(cx, a),
            MethodId::EditMessage => self.edit_message(cx, a),
            MethodId::DeleteMessage => self.delete_message(cx, a),
            MethodId::DownloadFile => self.download_file(cx, a),
            MethodId::EscapeMarkdown => {
                let text = params::string(a.name(0), &a.get(0))?;
                Ok(Value::from(telegram::escape_markdown_v2(&text)))
            }
            MethodId::EscapeHtml => {
                let text = params::string(a.name(0), &a.get(0))?;
                Ok(Value::from(telegram::escape_html(&text)))
            }
            other => Err(AddinError::Internal(format!(
                "{other:?} is not a sending method"
            ))),
        }
    }

    fn max_parts(&self) -> i64 {
        self.max_parts.unwrap_or(DEFAULT_MAX_PARTS)
    }

    fn limits(&self) -> Limits {
        Limits::for_server(self.local_server)
    }

    /// Sends `request`; Telegram's `result` comes back as the answer's JSON text.
    fn exec(&mut self, cx: &mut Context<'_>, request: Request<'_>) -> Result<String, AddinError> {
        let outcome = cx
            .client()?
            .execute_raw(request)
            .map_err(AddinError::Telegram)?;
        if let Some(id) = outcome.migrated_to {
            self.migrated_chat_id = id;
        }
        Ok(outcome.result)
    }

    fn send_message(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let chat = params::chat_id(a.name(0), &a.get(0))?;
        let text = params::string(a.name(1), &a.get(1))?;
        let mut options = params::options(a.name(2), &a.get(2))?;
        options.insert("chat_id".into(), chat.to_json());
        log::debug!("sendMessage text: {text}");
        if utf16_len(&text) <= TEXT_LIMIT {
            options.insert("text".into(), text.into());
            let sent = self.exec(cx, Request::new("sendMessage", options))?;
            return Ok(Value::from(sent));
        }
        let mode_name = options
            .get("parse_mode")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        let mode = ParseMode::from_name(Some(&mode_name));
        if options.contains_key("entities") {
            return Err(AddinError::CannotSplit { mode: "entities" });
        }
        let max_parts = self.max_parts() as usize;
        // Each part holds at most TEXT_LIMIT characters: refuse before splitting.
        let least_parts = utf16_len(&text).div_ceil(TEXT_LIMIT);
        if least_parts > max_parts {
            return Err(AddinError::TooManyParts {
                parts: least_parts,
                max: max_parts,
            });
        }
        let parts =
            telegram::split(&text, mode, TEXT_LIMIT).map_err(|_| AddinError::CannotSplit {
                mode: match mode {
                    ParseMode::Html => "HTML",
                    ParseMode::Markdown => "Markdown",
                    _ => "MarkdownV2",
                },
            })?;
        if parts.len() > max_parts {
            return Err(AddinError::TooManyParts {
                parts: parts.len(),
                max: max_parts,
            });
        }
        let markup = options.remove("reply_markup");
        let reply: Vec<(String, Json)> = ["reply_parameters", "reply_to_message_id"]
            .iter()
            .filter_map(|k| options.remove(*k).map(|v| (k.to_string(), v)))
            .collect();
        let total = parts.len();
        let mut last = String::new();
        for (i, part) in parts.into_iter().enumerate() {
            let mut body = options.clone();
            body.insert("text".into(), part.into());
            if i == 0 {
                body.extend(reply.iter().cloned());
            }
            if i + 1 == total {
                if let Some(m) = &markup {
                    body.insert("reply_markup".into(), m.clone());
                }
            }
            match self.exec(cx, Request::new("sendMessage", body)) {
                Ok(sent) => last = sent,
                Err(e) if i > 0 => {
                    return Err(AddinError::PartlySent {
                        sent: i,
                        total,
                        cause: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
            if self.migrated_chat_id != 0 {
                options.insert("chat_id".into(), self.migrated_chat_id.into());
            }
        }
        Ok(Value::from(last))
    }

    fn check_caption(&self, options: &Map<String, Json>) -> Result<(), AddinError> {
        let Some(caption) = options.get("caption").and_then(Json::as_str) else {
            return Ok(());
        };
        if options.contains_key("caption_entities") {
            return Ok(());
        }
        let mode = ParseMode::from_name(options.get("parse_mode").and_then(Json::as_str));
        if mode != ParseMode::Plain && mode != ParseMode::Html {
            // Telegram counts MarkdownV2 after parsing; its own error is mapped.
            return Ok(());
        }
        let len = visible_len(caption, mode);
        if len > CAPTION_LIMIT {
            return Err(AddinError::CaptionTooLong { len });
        }
        Ok(())
    }

    fn check_size(&self, what: Oversized, size: u64, limit: u64) -> Result<(), AddinError> {
        if size > limit {
            return Err(AddinError::FileTooBig {
                what,
                size,
                limit,
                local: self.local_server,
            });
        }
        Ok(())
    }

    /// A local file to upload: it must exist and fit in `limit` bytes.
    fn local_file(&self, text: &str, limit: u64) -> Result<PathBuf, AddinError> {
        let path = PathBuf::from(text);
        let size = fsguard::regular_size(&path).map_err(|e| match e {
            FsError::Missing => AddinError::FileUnreadable {
                path: text.to_owned(),
                detail: String::new(),
            },
            error => AddinError::Path {
                role: PathRole::Upload,
                path: text.to_owned(),
                error,
            },
        })?;
        self.check_size(Oversized::File(Some(file_name_of(&path))), size, limit)?;
        Ok(path)
    }

    fn send_file(&mut self, cx: &mut Context<'_>, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        let chat = params::chat_id(a.name(0), &a.get(0))?;
        let file = a.get(1);
        let file_name = params::opt_string(a.name(2), &a.get(2))?.filter(|n| !n.trim().is_empty());
        let mut options = params::options(a.name(3), &a.get(3))?;
        let kind = match options.remove("type") {
            None | Some(Json::Null) => "document".to_owned(),
            Some(Json::String(s)) => s.trim().to_ascii_lowercase(),
            Some(other) => other.to_string(),
        };
        let Some(method) = method_for(&kind) else {
            return Err(invalid(
                a.name(3),
                format!("\"type\" {kind:?} is unknown; use document, photo, video, audio, voice, animation, sticker or video_note"),
            ));
        };
        self.check_caption(&options)?;
        options.insert("chat_id".into(), chat.to_json());
        let limit = self.limits().upload_for(&kind);
        let mut files = Vec::new();
        match file {
            Param::Blob(bytes) => {
                self.check_size(Oversized::File(None), bytes.len() as u64, limit)?;
                files.push(Upload {
                    field: kind.clone(),
                    file_name: file_name.unwrap_or_else(|| default_file_name(&kind).to_owned()),
                    source: Source::Bytes(bytes),
                });
            }
            Param::Str(units) => {
                let text = params::decode(a.name(1), units)?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(invalid(a.name(1), "the string is empty"));
                }
                if is_url(text) || (looks_like_file_id(text) && !Path::new(text).exists()) {
                    options.insert(kind.clone(), Json::from(text));
                } else {
                    let path = self.local_file(text, limit)?;
                    files.push(Upload {
                        field: kind.clone(),
                        file_name: file_name.unwrap_or_else(|| file_name_of(&path)),
                        source: Source::Path(path),
                    });
                }
            }
            other => {
                return Err(AddinError::WrongType {
                    name: a.name(1),
                    expected: Expected::File,
                    got: params::got(&other),
                })
            }
        }
        let sent = self.exec(
            cx,
            Request {
                method: method.to_owned(),
                params: options,
                files,
            },
        )?;
        Ok(Value::from(sent))
    }

    fn add_file(&mut self, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        let name = params::string(a.name(0), &a.get(0))?;
        let name = name.trim().to_owned();
        if name.is_empty()
            || name.len() > 64
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(invalid(
                a.name(0),
                "use 1 to 64 Latin letters, digits or '_' (it is referred to as attach://Name)",
            ));
        }
        let file_name = params::opt_string(a.name(2), &a.get(2))?.filter(|n| !n.trim().is_empty());
        let limit = self.limits().upload;
        let (held, default_name) = match a.get(1) {
            Param::Blob(bytes) => {
                self.check_size(Oversized::File(None), bytes.len() as u64, limit)?;
                (Held::Bytes(bytes.to_vec()), name.clone())
            }
            Param::Str(units) => {
                let text = params::decode(a.name(1), units)?;
                let text = text.trim();
                if is_url(text) {
                    return Err(invalid(
                        a.name(1),
                        "AddFile takes BinaryData or a local file path; put a URL or file_id straight into CallMethod's Params",
                    ));
                }
                let path = self.local_file(text, limit)?;
                let default_name = file_name_of(&path);
                (Held::Path(path), default_name)
            }
            other => {
                return Err(AddinError::WrongType {
                    name: a.name(1),
                    expected: Expected::File,
                    got: params::got(&other),
                })
            }
        };
        self.pending.retain(|p| p.name != name);
        self.pending.push(Pending {
            name,
            file_name: file_name.unwrap_or(default_name),
            held,
        });
        Ok(Value::Int(self.pending.len() as i32))
    }

    fn call_method(&mut self, cx: &mut Context<'_>, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        let method = params::string(a.name(0), &a.get(0))?;
        let method = method.trim().to_owned();
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pending.clear();
            return Err(invalid(
                a.name(0),
                "a Bot API method name such as sendMediaGroup or getChat",
            ));
        }
        let pending = std::mem::take(&mut self.pending);
        let options = params::options(a.name(1), &a.get(1))?;
        let mut total = 0u64;
        for p in &pending {
            total += match &p.held {
                Held::Bytes(b) => b.len() as u64,
                Held::Path(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
            };
        }
        self.check_size(Oversized::Attachments, total, self.limits().upload)?;
        let files = pending
            .iter()
            .map(|p| Upload {
                field: p.name.clone(),
                file_name: p.file_name.clone(),
                source: match &p.held {
                    Held::Bytes(b) => Source::Bytes(b),
                    Held::Path(path) => Source::Path(path.clone()),
                },
            })
            .collect();
        let result = self.exec(
            cx,
            Request {
                method: method.clone(),
                params: options,
                files,
            },
        );
        match result {
            Ok(value) => Ok(Value::from(value)),
            Err(AddinError::Telegram(telegram::Error::Api { code: 404, .. })) => {
                Err(AddinError::UnknownMethod(method))
            }
            Err(e) => Err(e),
        }
    }

    fn answer_callback(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let id = params::string(a.name(0), &a.get(0))?;
        let text = params::opt_string(a.name(1), &a.get(1))?;
        let alert = params::opt_bool(a.name(2), &a.get(2), false)?;
        let mut body = Map::new();
        body.insert("callback_query_id".into(), id.into());
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            body.insert("text".into(), text.into());
        }
        if alert {
            body.insert("show_alert".into(), true.into());
        }
        let done = self.exec(cx, Request::new("answerCallbackQuery", body))?;
        Ok(Value::Bool(is_true(&done)))
    }

    fn edit_message(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let chat = params::chat_id(a.name(0), &a.get(0))?;
        let message = message_id(a.name(1), &a.get(1))?;
        let text = params::opt_string(a.name(2), &a.get(2))?;
        let mut options = params::options(a.name(3), &a.get(3))?;
        if options.get("reply_markup") == Some(&Json::Null) {
            // Telegram removes the keyboard when reply_markup is left out.
            options.remove("reply_markup");
        }
        options.insert("chat_id".into(), chat.to_json());
        options.insert("message_id".into(), message.into());
        let method = match text {
            Some(text) => {
                options.insert("text".into(), text.into());
                "editMessageText"
            }
            None if options.contains_key("caption") => {
                self.check_caption(&options)?;
                "editMessageCaption"
            }
            None if options.contains_key("media") => "editMessageMedia",
            None => "editMessageReplyMarkup",
        };
        let edited = self.exec(cx, Request::new(method, options))?;
        Ok(Value::from(edited))
    }

    fn delete_message(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let chat = params::chat_id(a.name(0), &a.get(0))?;
        let message = message_id(a.name(1), &a.get(1))?;
        let mut body = Map::new();
        body.insert("chat_id".into(), chat.to_json());
        body.insert("message_id".into(), message.into());
        let done = self.exec(cx, Request::new("deleteMessage", body))?;
        Ok(Value::Bool(is_true(&done)))
    }

    fn download_file(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let file_id = params::string(a.name(0), &a.get(0))?;
        let mut body = Map::new();
        body.insert("file_id".into(), file_id.trim().into());
        let info = self.exec(cx, Request::new("getFile", body))?;
        let info: Json = serde_json::from_str(&info).unwrap_or_default();
        let limit = self.limits().download;
        if let Some(size) = info.get("file_size").and_then(Json::as_u64) {
            self.check_size(Oversized::Download, size, limit)?;
        }
        let Some(file_path) = info.get("file_path").and_then(Json::as_str) else {
            return Err(AddinError::Telegram(telegram::Error::BadResponse {
                method: "getFile".into(),
                status: 200,
                detail: "no file_path in the answer".into(),
            }));
        };
        let folder = params::opt_string(a.name(1), &a.get(1))?.filter(|f| !f.trim().is_empty());
        let refused = |error| AddinError::Path {
            role: PathRole::Download,
            path: file_path.to_owned(),
            error,
        };
        // A local (--local) server answers with an absolute path on its own disk.
        let local = Path::new(file_path);
        let bytes = if self.local_server && local.is_absolute() && local.is_file() {
            fsguard::read_limited(local, limit).map_err(refused)?
        } else {
            fsguard::check_remote_path(file_path).map_err(refused)?;
            cx.client()?
                .download(file_path, limit)
                .map_err(AddinError::Telegram)?
        };
        let Some(folder) = folder else {
            return Ok(Value::Blob(bytes));
        };
        // The name comes from Telegram: it must stay inside the folder.
        let saved =
            fsguard::save_into(Path::new(folder.trim()), file_path, &bytes).map_err(|error| {
                AddinError::Path {
                    role: PathRole::Download,
                    path: folder.trim().to_owned(),
                    error,
                }
            })?;
        Ok(Value::from(saved.display().to_string()))
    }

    /// Reads a sending property.
    pub fn read_prop(&self, id: PropId) -> Value {
        match id {
            PropId::LocalServer => Value::Bool(self.local_server),
            PropId::MigratedChatId => Value::Number(self.migrated_chat_id as f64),
            PropId::MaxParts => Value::Int(self.max_parts() as i32),
            _ => Value::Empty,
        }
    }

    /// Writes a sending property.
    pub fn write_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        match id {
            PropId::LocalServer => self.local_server = params::opt_bool(name, value, false)?,
            PropId::MaxParts => {
                self.max_parts = Some(params::integer(name, value, 1, MAX_MAX_PARTS)?);
            }
            _ => return Err(AddinError::ReadOnly(name)),
        }
        Ok(())
    }
}
