//! The bot side: Bot API methods with real state.

use crate::format;
use crate::spec::{self, Params, RawParam};
use crate::world::{
    guess_mime, now, valid_token, ApiError, ApiResult, ChatKey, ChatKind, StoredFile, Webhook,
    World,
};
use crate::Shared;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A successful answer: result plus optional `description` (setWebhook …).
pub struct Answer {
    pub result: Value,
    pub description: Option<String>,
}

impl From<Value> for Answer {
    fn from(result: Value) -> Self {
        Answer {
            result,
            description: None,
        }
    }
}

pub fn answer_json(r: &ApiResult<Answer>) -> (u16, Value) {
    match r {
        Ok(a) => {
            let mut v = json!({"ok": true, "result": a.result});
            if let Some(d) = &a.description {
                v["description"] = json!(d);
            }
            (200, v)
        }
        Err(e) => (e.code, e.to_json()),
    }
}

/// Checks token and method; returns (bot id, canonical method name).
pub fn route(w: &World, token: &str, method: &str) -> ApiResult<(i64, &'static spec::Method)> {
    if !valid_token(token) {
        return Err(ApiError::new(404, "Not Found"));
    }
    let bot = w
        .bot_by_token(token)
        .ok_or_else(|| ApiError::new(401, "Unauthorized"))?;
    let m = spec::spec()
        .methods
        .get(&method.to_ascii_lowercase())
        .ok_or_else(|| ApiError::new(404, "Not Found"))?;
    Ok((bot, m))
}

/// Executes one Bot API call (validation included).
pub fn call(
    sh: &Shared,
    token: &str,
    method: &str,
    mut raw: HashMap<String, RawParam>,
) -> ApiResult<Answer> {
    let (bot, m) = {
        let w = sh.world.lock().unwrap();
        route(&w, token, method)?
    };
    if m.name == "getUpdates" {
        lenient_integers(&mut raw, &["offset", "limit", "timeout"]);
    }
    let p = spec::validate(m, raw).map_err(|(c, d)| ApiError::new(c, d))?;
    if m.name == "getUpdates" {
        return get_updates(sh, bot, &p).map(Answer::from);
    }
    let mut w = sh.world.lock().unwrap();
    let r = dispatch(&mut w, bot, &m.name, &p);
    drop(w);
    sh.cv.notify_all();
    r
}

fn dispatch(w: &mut World, bot: i64, name: &str, p: &Params) -> ApiResult<Answer> {
    Ok(match name {
        "getMe" => {
            let b = &w.bots[&bot];
            json!({"id": b.id, "is_bot": true, "first_name": b.first_name, "username": b.username,
                "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
                "can_connect_to_business": false, "has_main_web_app": false})
            .into()
        }
        "logOut" | "close" => json!(true).into(),
        "sendMessage" => send_message(w, bot, p)?.into(),
        "sendPhoto" => send_media(w, bot, p, "photo")?.into(),
        "sendDocument" => send_media(w, bot, p, "document")?.into(),
        "sendVideo" => send_media(w, bot, p, "video")?.into(),
        "sendAudio" => send_media(w, bot, p, "audio")?.into(),
        "sendVoice" => send_media(w, bot, p, "voice")?.into(),
        "sendAnimation" => send_media(w, bot, p, "animation")?.into(),
        "sendMediaGroup" => send_media_group(w, bot, p)?.into(),
        "copyMessage" => copy_message(w, bot, p, false)?.into(),
        "forwardMessage" => copy_message(w, bot, p, true)?.into(),
        "editMessageText" | "editMessageCaption" | "editMessageReplyMarkup" => {
            edit_message(w, bot, p, name)?.into()
        }
        "deleteMessage" => {
            let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], false)?;
            let mid = p.i64("message_id").unwrap_or(0);
            let m = w
                .find_msg_mut(key, mid)
                .ok_or_else(|| ApiError::bad("message to delete not found"))?;
            if key.0 == 0 && m.from_bot.is_some() && m.from_bot != Some(bot) {
                return Err(ApiError::bad("message can't be deleted"));
            }
            m.deleted = true;
            w.touch();
            json!(true).into()
        }
        "answerCallbackQuery" => {
            let id = p.str("callback_query_id").unwrap_or("");
            let cb = w
                .callbacks
                .get_mut(id)
                .filter(|c| c.bot_id == bot && c.answer.is_none())
                .ok_or_else(|| {
                    ApiError::bad(
                        "query is too old and response timeout expired or query ID is invalid",
                    )
                })?;
            if p.str("text").is_some_and(|t| format::utf16_len(t) > 200) {
                return Err(ApiError::bad("MESSAGE_TOO_LONG"));
            }
            cb.answer = Some(
                json!({"text": p.get("text"), "show_alert": p.bool("show_alert"), "url": p.get("url"), "date": now()}),
            );
            w.touch();
            json!(true).into()
        }
        "sendChatAction" => {
            const ACTIONS: &[&str] = &[
                "typing",
                "upload_photo",
                "record_video",
                "upload_video",
                "record_voice",
                "upload_voice",
                "upload_document",
                "choose_sticker",
                "find_location",
                "record_video_note",
                "upload_video_note",
            ];
            let action = p.str("action").unwrap_or("");
            if !ACTIONS.contains(&action) {
                return Err(ApiError::bad("wrong parameter action in request"));
            }
            let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], true)?;
            w.chat_actions.push((bot, key.1, action.to_string()));
            w.touch();
            json!(true).into()
        }
        "setMyCommands" => {
            let cmds = p
                .get("commands")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if cmds.len() > 100 {
                return Err(ApiError::bad("too many commands"));
            }
            for c in &cmds {
                let name = c["command"].as_str().unwrap_or("");
                let ok = !name.is_empty()
                    && name.len() <= 32
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok {
                    return Err(ApiError::bad("BOT_COMMAND_INVALID"));
                }
                let d = c["description"].as_str().unwrap_or("");
                if d.is_empty() || d.chars().count() > 256 {
                    return Err(ApiError::bad("BOT_COMMAND_DESCRIPTION_INVALID"));
                }
            }
            let k = commands_key(p);
            w.bots
                .get_mut(&bot)
                .unwrap()
                .commands
                .insert(k, json!(cmds));
            w.touch();
            json!(true).into()
        }
        "getMyCommands" => {
            let k = commands_key(p);
            w.bots[&bot]
                .commands
                .get(&k)
                .cloned()
                .unwrap_or(json!([]))
                .into()
        }
        "deleteMyCommands" => {
            let k = commands_key(p);
            w.bots.get_mut(&bot).unwrap().commands.remove(&k);
            json!(true).into()
        }
        "getFile" => {
            let id = p.str("file_id").unwrap_or("");
            let f = w.file(id).ok_or_else(|| ApiError::bad("invalid file_id"))?;
            let limit = if w.local_mode {
                w.local_limit
            } else {
                w.download_limit
            };
            if f.data.len() as u64 > limit {
                return Err(ApiError::bad("file is too big"));
            }
            json!({"file_id": id, "file_unique_id": f.file_unique_id, "file_size": f.data.len(), "file_path": f.file_path}).into()
        }
        "getChat" => {
            let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], false)?;
            let mut c = w.chat_json(key);
            c["accent_color_id"] = json!(0);
            c["max_reaction_count"] = json!(11);
            c["accepted_gift_types"] = json!({"unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false, "premium_subscription": false, "gifts_from_channels": false});
            c.into()
        }
        "setWebhook" => set_webhook(w, bot, p)?,
        "deleteWebhook" => {
            let b = w.bots.get_mut(&bot).unwrap();
            let had = b.webhook.take().is_some();
            if p.bool("drop_pending_updates") {
                b.updates.clear();
            }
            w.touch();
            Answer {
                result: json!(true),
                description: Some(
                    if had {
                        "Webhook was deleted"
                    } else {
                        "Webhook is already deleted"
                    }
                    .into(),
                ),
            }
        }
        "getWebhookInfo" => {
            let b = &w.bots[&bot];
            let mut v = json!({"url": "", "has_custom_certificate": false, "pending_update_count": b.updates.len()});
            if let Some(h) = &b.webhook {
                v["url"] = json!(h.url);
                v["max_connections"] = json!(h.max_connections);
                v["ip_address"] = json!("127.0.0.1");
                if let Some(d) = h.last_error_date {
                    v["last_error_date"] = json!(d);
                }
                if let Some(m) = &h.last_error_message {
                    v["last_error_message"] = json!(m);
                }
                if let Some(a) = &b.allowed_updates {
                    v["allowed_updates"] = json!(a);
                }
            }
            v.into()
        }
        other => {
            let returns_true = spec_returns_true(other);
            if returns_true {
                json!(true).into()
            } else {
                return Err(ApiError::bad(format!(
                    "method {other} is not implemented in sandbox"
                )));
            }
        }
    })
}

/// getUpdates reads offset, limit and timeout as telegram-bot-api does
/// (`get_integer_arg` → `td::to_integer`): the leading digits, an optional
/// minus first; anything else is 0 (so `limit=abc` is 0, clamped to 1).
fn lenient_integers(raw: &mut HashMap<String, RawParam>, names: &[&str]) {
    for name in names {
        let text = match raw.get(*name) {
            Some(RawParam::Value(Value::String(s))) => s.clone(),
            Some(RawParam::Value(Value::Null)) | None => continue,
            Some(RawParam::Value(v)) => v.to_string(),
            Some(RawParam::File(part)) => String::from_utf8_lossy(&part.data).to_string(),
        };
        if text.is_empty() {
            continue; // absent: the default applies
        }
        raw.insert(name.to_string(), RawParam::Value(json!(td_integer(&text))));
    }
}

/// `td::to_integer`: an optional '-', then decimal digits up to the first other byte.
fn td_integer(s: &str) -> i64 {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add((b - b'0') as i64);
    }
    if negative {
        -n
    } else {
        n
    }
}

fn spec_returns_true(method: &str) -> bool {
    static RAW: &str = include_str!("../spec/api.json");
    static CACHE: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    CACHE
        .get_or_init(|| {
            let v: Value = serde_json::from_str(RAW).unwrap_or(Value::Null);
            v["methods"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, d)| {
                            d["returns"] == json!(["Boolean"]) || d["returns"] == json!(["True"])
                        })
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
        .contains(method)
}

fn commands_key(p: &Params) -> String {
    format!(
        "{}|{}",
        p.get("scope")
            .map(|s| s["type"].as_str().unwrap_or("default").to_string())
            .unwrap_or_else(|| "default".into()),
        p.str("language_code").unwrap_or("")
    )
}

fn set_webhook(w: &mut World, bot: i64, p: &Params) -> ApiResult<Answer> {
    let url = p.str("url").unwrap_or("").to_string();
    let b = w.bots.get_mut(&bot).unwrap();
    if p.bool("drop_pending_updates") {
        b.updates.clear();
    }
    if url.is_empty() {
        let had = b.webhook.take().is_some();
        w.touch();
        return Ok(Answer {
            result: json!(true),
            description: Some(
                if had {
                    "Webhook was deleted"
                } else {
                    "Webhook is already deleted"
                }
                .into(),
            ),
        });
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
        return Err(ApiError::bad(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret = p.str("secret_token").map(str::to_string);
    if let Some(s) = &secret {
        if s.len() > 256
            || !s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    if let Some(a) = p.get("allowed_updates").and_then(Value::as_array) {
        b.allowed_updates = Some(
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
        );
    }
    let same = b.webhook.as_ref().is_some_and(|h| h.url == url);
    // A getUpdates in progress is terminated.
    b.poll_gen += 1;
    b.webhook = Some(Webhook {
        url,
        secret_token: secret,
        max_connections: p.i64("max_connections").unwrap_or(40),
        last_error_date: None,
        last_error_message: None,
        next_attempt: Instant::now(),
        backoff: Duration::ZERO,
    });
    w.touch();
    Ok(Answer {
        result: json!(true),
        description: Some(
            if same {
                "Webhook is already set"
            } else {
                "Webhook was set"
            }
            .into(),
        ),
    })
}

/// Whether Telegram's server uses a positive offset to confirm updates.
/// telegram-bot-api's `Client::do_get_updates` asks td's `TQueue::get` for
/// the events from `offset`; `TQueue::get` refuses an id more than 10 past the
/// queue's tail (the next update_id: "Specified from_id is in the future") or
/// more than 2,000,000 before it ("in the past"), and ids from 2,000,000,000
/// up are invalid. On a refusal the server reads from the queue's head
/// instead: nothing is confirmed and the pending updates are returned. So an
/// offset far above the last update_id does not empty the queue; one up to
/// last update_id + 11 confirms everything.
fn offset_usable(offset: i64, next_update_id: i64) -> bool {
    const MAX_ID: i64 = 2_000_000_000;
    const PAST: i64 = 2 * 1_000_000;
    offset < MAX_ID && offset <= next_update_id + 10 && offset >= next_update_id - PAST
}

fn get_updates(sh: &Shared, bot: i64, p: &Params) -> ApiResult<Value> {
    let timeout = p.i64("timeout").unwrap_or(0).clamp(0, 50);
    let limit = p.i64("limit").unwrap_or(100).clamp(1, 100) as usize;
    let deadline = Instant::now() + Duration::from_secs(timeout as u64);
    let mut w = sh.world.lock().unwrap();
    let my_gen;
    {
        let b = w.bots.get_mut(&bot).unwrap();
        if b.webhook.is_some() {
            return Err(ApiError::new(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"));
        }
        b.poll_gen += 1;
        my_gen = b.poll_gen;
        if let Some(a) = p.get("allowed_updates").and_then(Value::as_array) {
            b.allowed_updates = Some(
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
            );
        }
        if let Some(off) = p.i64("offset") {
            if off > 0 && offset_usable(off, b.next_update_id) {
                while b
                    .updates
                    .front()
                    .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < off)
                {
                    b.updates.pop_front();
                }
            } else if off < 0 {
                let keep = off.unsigned_abs() as usize;
                while b.updates.len() > keep {
                    b.updates.pop_front();
                }
            }
        }
    }
    w.touch();
    sh.cv.notify_all();
    loop {
        let b = &w.bots[&bot];
        if b.poll_gen != my_gen {
            let msg = if b.webhook.is_some() {
                "Conflict: terminated by setWebhook request"
            } else {
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            };
            return Err(ApiError::new(409, msg));
        }
        if !b.updates.is_empty() || sh.shutdown.load(Ordering::SeqCst) {
            return Ok(Value::Array(
                b.updates.iter().take(limit).cloned().collect(),
            ));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(json!([]));
        }
        w = sh.cv.wait_timeout(w, deadline - now).unwrap().0;
    }
}

// ---------------------------------------------------------------------------- sending

fn check_markup(p: &Params) -> ApiResult<Option<Value>> {
    let Some(mk) = p.get("reply_markup") else {
        return Ok(None);
    };
    if let Some(rows) = mk.get("inline_keyboard").and_then(Value::as_array) {
        const ACTIONS: &[&str] = &[
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        ];
        for row in rows {
            for b in row.as_array().into_iter().flatten() {
                if !ACTIONS.iter().any(|a| b.get(*a).is_some()) {
                    return Err(ApiError::bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"));
                }
                if let Some(d) = b.get("callback_data").and_then(Value::as_str) {
                    if d.is_empty() || d.len() > 64 {
                        return Err(ApiError::bad("BUTTON_DATA_INVALID"));
                    }
                }
                if let Some(u) = b.get("url").and_then(Value::as_str) {
                    if !(u.starts_with("http://")
                        || u.starts_with("https://")
                        || u.starts_with("tg://"))
                    {
                        return Err(ApiError::bad(format!(
                            "inline keyboard button URL '{u}' is invalid: Wrong HTTP URL"
                        )));
                    }
                }
            }
        }
    }
    Ok(Some(mk.clone()))
}

/// Formats `text_field` with parse_mode, checks the length; fills content.
fn formatted(
    p: &Params,
    field: &str,
    ents_field: &str,
    max: usize,
    content: &mut Map<String, Value>,
    required: bool,
) -> ApiResult<()> {
    let Some(raw) = p.str(field) else {
        if required {
            return Err(ApiError::bad("message text is empty"));
        }
        return Ok(());
    };
    let (text, ents) = match p.get(ents_field) {
        Some(e) => (raw.to_string(), e.as_array().cloned().unwrap_or_default()),
        None => format::parse(raw, p.str("parse_mode")).map_err(|e| ApiError::new(400, e))?,
    };
    let len = format::utf16_len(&text);
    if len == 0 || text.trim().is_empty() {
        if required {
            return Err(ApiError::bad("message text is empty"));
        }
        return Ok(());
    }
    if len > max {
        return Err(ApiError::bad(if field == "text" {
            "message is too long"
        } else {
            "message caption is too long"
        }));
    }
    content.insert(field.to_string(), json!(text));
    if !ents.is_empty() {
        content.insert(ents_field.to_string(), json!(ents));
    }
    Ok(())
}

fn target(w: &mut World, bot: i64, p: &Params) -> ApiResult<ChatKey> {
    let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], true)?;
    let kind = w.chats[&key].kind;
    w.check_rate(bot, key, kind, p.bool("allow_paid_broadcast"))?;
    Ok(key)
}

fn reply_to(
    w: &World,
    key: ChatKey,
    p: &Params,
    content: &mut Map<String, Value>,
) -> ApiResult<()> {
    let (mid, allow) = match p.get("reply_parameters") {
        Some(rp) => (
            rp["message_id"].as_i64(),
            rp["allow_sending_without_reply"].as_bool().unwrap_or(false),
        ),
        None => (
            p.get("reply_to_message_id").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            }),
            p.bool("allow_sending_without_reply"),
        ),
    };
    if let Some(mid) = mid {
        match w.find_msg(key, mid) {
            Some(m) => {
                let mut j = m.json.clone();
                if let Some(o) = j.as_object_mut() {
                    o.remove("reply_to_message");
                }
                content.insert("reply_to_message".into(), j);
            }
            None if allow => {}
            None => return Err(ApiError::bad("message to be replied not found")),
        }
    }
    Ok(())
}

fn send_message(w: &mut World, bot: i64, p: &Params) -> ApiResult<Value> {
    let mut content = Map::new();
    formatted(p, "text", "entities", 4096, &mut content, true)?;
    let markup = check_markup(p)?;
    let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], true)?;
    reply_to(w, key, p, &mut content)?;
    if let Some(lp) = p.get("link_preview_options") {
        content.insert("link_preview_options".into(), lp.clone());
    }
    let kind = w.chats[&key].kind;
    w.check_rate(bot, key, kind, p.bool("allow_paid_broadcast"))?;
    let from = w.bots[&bot].user_json();
    Ok(w.new_message(key, from, Some(bot), None, content, markup, "sendMessage"))
}

/// Resolves an InputFile: an uploaded part, attach://name, or an existing file_id.
fn input_file(
    w: &mut World,
    p: &Params,
    value: Option<&Value>,
    upload: Option<&crate::http::Part>,
    kind: &str,
) -> ApiResult<StoredFile> {
    let part = match (upload, value.and_then(Value::as_str)) {
        (Some(part), _) => Some(part),
        (None, Some(s)) if s.starts_with("attach://") => {
            Some(p.files.get(&s["attach://".len()..]).ok_or_else(|| {
                ApiError::bad(format!(
                    "can't find attached file \"{}\"",
                    &s["attach://".len()..]
                ))
            })?)
        }
        _ => None,
    };
    if let Some(part) = part {
        if part.data.is_empty() {
            return Err(ApiError::bad("file must be non-empty"));
        }
        if kind == "photo" && !w.local_mode && part.data.len() as u64 > w.photo_limit {
            return Err(ApiError::bad("PHOTO_INVALID_DIMENSIONS: photo is too big"));
        }
        // Telegram re-encodes a photo: bytes it cannot read as an image fail.
        if kind == "photo" && crate::world::image_size(&part.data).is_none() {
            return Err(ApiError::bad("IMAGE_PROCESS_FAILED"));
        }
        let name = part.filename.clone().filter(|n| !n.is_empty());
        let mime = part
            .content_type
            .clone()
            .filter(|c| c != "application/octet-stream" && !c.is_empty())
            .or_else(|| name.as_deref().map(guess_mime));
        let name = name.or_else(|| {
            if kind == "document" {
                Some("file".to_string())
            } else {
                None
            }
        });
        return Ok(w.store_file(part.data.clone(), kind, name, mime));
    }
    match value.and_then(Value::as_str) {
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
            Err(ApiError::bad("failed to get HTTP URL content"))
        }
        Some(id) => {
            let f = w
                .file(id)
                .cloned()
                .ok_or_else(|| ApiError::bad("wrong file identifier/HTTP URL specified"))?;
            // A photo's id is no document, video… and the reverse.
            if (kind == "photo") != (f.kind == "photo") {
                return Err(ApiError::bad("type of file mismatch"));
            }
            Ok(f)
        }
        None => Err(ApiError::bad(format!("there is no {kind} in the request"))),
    }
}

fn send_media(w: &mut World, bot: i64, p: &Params, kind: &str) -> ApiResult<Value> {
    let mut content = Map::new();
    formatted(p, "caption", "caption_entities", 1024, &mut content, false)?;
    let markup = check_markup(p)?;
    let key = w.resolve_chat_for_bot(bot, &p.values["chat_id"], true)?;
    reply_to(w, key, p, &mut content)?;
    let f = input_file(w, p, p.get(kind), p.files.get(kind), kind)?;
    let kind_ = w.chats[&key].kind;
    w.check_rate(bot, key, kind_, p.bool("allow_paid_broadcast"))?;
    content.insert(kind.to_string(), w.media_json(&f, kind));
    if p.bool("has_spoiler") {
        content.insert("has_media_spoiler".into(), json!(true));
    }
    let from = w.bots[&bot].user_json();
    let method = format!("send{}{}", kind[..1].to_ascii_uppercase(), &kind[1..]);
    Ok(w.new_message(key, from, Some(bot), None, content, markup, &method))
}

fn send_media_group(w: &mut World, bot: i64, p: &Params) -> ApiResult<Value> {
    let media = p
        .get("media")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if media.len() < 2 || media.len() > 10 {
        return Err(ApiError::bad(
            "wrong number of media in the group: must be from 2 to 10",
        ));
    }
    let key = target(w, bot, p)?;
    let mut base = Map::new();
    reply_to(w, key, p, &mut base)?;
    let group_id = format!("{}", 13_000_000_000_000_000i64 + w.version as i64);
    let mut prepared = Vec::new();
    for item in &media {
        let kind = item["type"].as_str().unwrap_or("");
        if !matches!(kind, "photo" | "video" | "document" | "audio") {
            return Err(ApiError::bad(
                "can't parse InputMedia JSON object: unsupported media type in a group",
            ));
        }
        let mut c = base.clone();
        let mut ip = Params::default();
        for (k, v) in item.as_object().unwrap() {
            ip.values.insert(k.clone(), v.clone());
        }
        formatted(&ip, "caption", "caption_entities", 1024, &mut c, false)?;
        let f = input_file(w, p, item.get("media"), None, kind)?;
        c.insert(kind.to_string(), w.media_json(&f, kind));
        c.insert("media_group_id".into(), json!(group_id));
        prepared.push(c);
    }
    let kinds: Vec<&str> = media
        .iter()
        .map(|m| m["type"].as_str().unwrap_or(""))
        .collect();
    let mixed_docs = kinds.contains(&"document") && kinds.iter().any(|k| *k != "document");
    let mixed_audio = kinds.contains(&"audio") && kinds.iter().any(|k| *k != "audio");
    if mixed_docs || mixed_audio {
        return Err(ApiError::bad("MEDIA_GROUP_INVALID"));
    }
    let from = w.bots[&bot].user_json();
    Ok(Value::Array(
        prepared
            .into_iter()
            .map(|c| {
                w.new_message(
                    key,
                    from.clone(),
                    Some(bot),
                    None,
                    c,
                    None,
                    "sendMediaGroup",
                )
            })
            .collect(),
    ))
}

fn copy_message(w: &mut World, bot: i64, p: &Params, forward: bool) -> ApiResult<Value> {
    let from_key = w.resolve_chat_for_bot(bot, &p.values["from_chat_id"], false)?;
    let mid = p.i64("message_id").unwrap_or(0);
    let what = if forward { "forward" } else { "copy" };
    let src = w
        .find_msg(from_key, mid)
        .cloned()
        .ok_or_else(|| ApiError::bad(format!("message to {what} not found")))?;
    let mut content = Map::new();
    const KEYS: &[&str] = &[
        "text",
        "entities",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "caption",
        "caption_entities",
        "sticker",
        "location",
        "contact",
    ];
    for k in KEYS {
        if let Some(v) = src.json.get(*k) {
            content.insert(k.to_string(), v.clone());
        }
    }
    if content.is_empty() {
        return Err(ApiError::bad(format!(
            "message can't be {}",
            if forward { "forwarded" } else { "copied" }
        )));
    }
    let key = target(w, bot, p)?;
    let markup = if forward {
        let origin = match src.from_user {
            Some(u) => {
                json!({"type": "user", "sender_user": w.users.get(&u).map(|u| u.to_json()), "date": src.json["date"]})
            }
            None => {
                json!({"type": "user", "sender_user": src.json["from"], "date": src.json["date"]})
            }
        };
        content.insert("forward_origin".into(), origin);
        None
    } else {
        if p.get("caption").is_some() {
            content.remove("caption");
            content.remove("caption_entities");
            formatted(p, "caption", "caption_entities", 1024, &mut content, false)?;
        }
        reply_to(w, key, p, &mut content)?;
        check_markup(p)?
    };
    let from = w.bots[&bot].user_json();
    let m = w.new_message(
        key,
        from,
        Some(bot),
        None,
        content,
        markup,
        if forward {
            "forwardMessage"
        } else {
            "copyMessage"
        },
    );
    Ok(if forward {
        m
    } else {
        json!({"message_id": m["message_id"]})
    })
}

fn edit_message(w: &mut World, bot: i64, p: &Params, name: &str) -> ApiResult<Value> {
    if p.get("inline_message_id").is_some() {
        return Err(ApiError::bad("MESSAGE_ID_INVALID"));
    }
    let chat = p
        .get("chat_id")
        .ok_or_else(|| ApiError::bad("chat_id is empty"))?
        .clone();
    let mid = p
        .i64("message_id")
        .ok_or_else(|| ApiError::bad("message identifier is not specified"))?;
    let key = w.resolve_chat_for_bot(bot, &chat, false)?;
    let mut content = Map::new();
    match name {
        "editMessageText" => formatted(p, "text", "entities", 4096, &mut content, true)?,
        "editMessageCaption" => {
            formatted(p, "caption", "caption_entities", 1024, &mut content, false)?
        }
        _ => {}
    }
    let markup = check_markup(p)?;
    let m = w
        .find_msg_mut(key, mid)
        .ok_or_else(|| ApiError::bad("message to edit not found"))?;
    if m.from_bot != Some(bot) {
        return Err(ApiError::bad("message can't be edited"));
    }
    let mut new = m.json.clone();
    let o = new.as_object_mut().unwrap();
    match name {
        "editMessageText" => {
            if o.get("text").is_none() {
                return Err(ApiError::bad("there is no text in the message to edit"));
            }
            o.remove("entities");
        }
        "editMessageCaption" => {
            if o.get("text").is_some() {
                return Err(ApiError::bad("there is no caption in the message to edit"));
            }
            o.remove("caption");
            o.remove("caption_entities");
        }
        _ => {}
    }
    for (k, v) in content {
        o.insert(k, v);
    }
    o.remove("reply_markup");
    o.remove("edit_date");
    if let Some(mk) = markup
        .as_ref()
        .filter(|m| m.get("inline_keyboard").is_some())
    {
        o.insert("reply_markup".into(), mk.clone());
    }
    let mut old = m.json.clone();
    if let Some(oo) = old.as_object_mut() {
        oo.remove("edit_date");
    }
    if old == new {
        return Err(ApiError::bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"));
    }
    new["edit_date"] = json!(now());
    m.json = new.clone();
    m.edited = true;
    // Telegram drops the inline keyboard of an edited message unless the
    // edit gives one again, whichever edit method it is.
    m.markup = markup;
    w.touch();
    Ok(new)
}

#[allow(dead_code)]
fn is_group(k: ChatKind) -> bool {
    k != ChatKind::Private
}
