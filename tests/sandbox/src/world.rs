//! The sandbox's shared state: bots, users, chats, messages, files, update
//! queues, webhooks, rate limits and faults. Everything is behind one mutex
//! with one condvar; `version` grows on every change so waiters can sleep on it.

use crate::format;
use crate::{Fault, FaultRule, RateLimits, Stats};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A Bot API error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    pub parameters: Option<Value>,
}

impl ApiError {
    pub fn new(code: u16, d: impl Into<String>) -> Self {
        ApiError {
            code,
            description: d.into(),
            parameters: None,
        }
    }
    pub fn bad(d: impl AsRef<str>) -> Self {
        Self::new(400, format!("Bad Request: {}", d.as_ref()))
    }
    pub fn to_json(&self) -> Value {
        let mut v = json!({"ok": false, "error_code": self.code, "description": self.description});
        if let Some(p) = &self.parameters {
            v["parameters"] = p.clone();
        }
        v
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct UserInfo {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
}

impl UserInfo {
    pub fn to_json(&self) -> Value {
        let mut v = json!({"id": self.id, "is_bot": false, "first_name": self.first_name, "language_code": "en"});
        if let Some(l) = &self.last_name {
            v["last_name"] = json!(l);
        }
        if let Some(u) = &self.username {
            v["username"] = json!(u);
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: i64,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
    pub next_attempt: Instant,
    pub backoff: Duration,
}

pub struct Bot {
    pub id: i64,
    pub token: String,
    pub username: String,
    pub first_name: String,
    pub updates: VecDeque<Value>,
    pub next_update_id: i64,
    pub allowed_updates: Option<Vec<String>>,
    pub webhook: Option<Webhook>,
    pub poll_gen: u64,
    pub commands: HashMap<String, Value>,
    pub blocked_by: HashSet<i64>,
}

impl Bot {
    pub fn user_json(&self) -> Value {
        json!({"id": self.id, "is_bot": true, "first_name": self.first_name, "username": self.username})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
}

pub struct Chat {
    pub id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub members: Vec<i64>,
    pub bots: Vec<i64>,
    pub migrated_to: Option<i64>,
    pub next_message_id: i64,
    pub messages: Vec<StoredMsg>,
}

/// A message as stored: the JSON Telegram would show plus sandbox metadata.
#[derive(Debug, Clone)]
pub struct StoredMsg {
    pub json: Value,
    /// Any reply_markup the bot sent (inline or reply keyboard, remove, force_reply).
    pub markup: Option<Value>,
    pub from_bot: Option<i64>,
    pub from_user: Option<i64>,
    pub deleted: bool,
    pub edited: bool,
    pub method: String,
}

/// (owner bot id for private chats, or 0 for groups; chat id)
pub type ChatKey = (i64, i64);

#[derive(Debug, Clone)]
pub struct StoredFile {
    pub file_id: String,
    /// What it was stored as: "photo", "document", "video", … (a photo's id is
    /// refused by the other send methods and the reverse, as Telegram does).
    pub kind: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_path: String,
    pub data: Arc<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct CallbackInfo {
    pub bot_id: i64,
    pub user_id: i64,
    pub answer: Option<Value>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct World {
    pub version: u64,
    /// The first registered bot.
    pub default_bot: i64,
    pub bots: BTreeMap<i64, Bot>,
    pub users: BTreeMap<i64, UserInfo>,
    /// Users who never wrote to a bot: bots cannot start a chat with them.
    pub strangers: HashSet<i64>,
    pub chats: HashMap<ChatKey, Chat>,
    pub files: HashMap<String, StoredFile>,
    pub callbacks: HashMap<String, CallbackInfo>,
    pub faults: Vec<FaultRule>,
    pub limits: RateLimits,
    buckets: HashMap<(i64, String), Bucket>,
    pub local_mode: bool,
    pub upload_limit: u64,
    pub photo_limit: u64,
    pub download_limit: u64,
    pub local_limit: u64,
    pub webhook_retry_initial: Duration,
    /// The first update_id of every bot's queue (None: random, as Telegram).
    pub first_update_id: Option<i64>,
    /// Injected before every Bot API request and file download is processed.
    pub latency: Duration,
    pub stats: Stats,
    pub chat_actions: Vec<(i64, i64, String)>,
    next_user_id: i64,
    next_group_seq: i64,
    next_file_seq: u64,
    next_callback_seq: u64,
}

impl World {
    pub fn new(cfg: &crate::SandboxConfig) -> Self {
        World {
            version: 0,
            default_bot: 0,
            bots: BTreeMap::new(),
            users: BTreeMap::new(),
            strangers: HashSet::new(),
            chats: HashMap::new(),
            files: HashMap::new(),
            callbacks: HashMap::new(),
            faults: Vec::new(),
            limits: cfg.rate_limits.clone(),
            buckets: HashMap::new(),
            local_mode: cfg.local_mode,
            upload_limit: cfg.upload_limit,
            photo_limit: cfg.photo_limit,
            download_limit: cfg.download_limit,
            local_limit: cfg.local_limit,
            webhook_retry_initial: cfg.webhook_retry_initial,
            first_update_id: cfg.first_update_id,
            latency: cfg.latency,
            stats: Stats::default(),
            chat_actions: Vec::new(),
            next_user_id: 1_000_001,
            next_group_seq: 1,
            next_file_seq: 1,
            next_callback_seq: 1,
        }
    }

    pub fn touch(&mut self) {
        self.version += 1;
    }

    pub fn effective_upload_limit(&self) -> u64 {
        if self.local_mode {
            self.local_limit
        } else {
            self.upload_limit
        }
    }

    // ---------------------------------------------------------------- bots

    pub fn add_bot(
        &mut self,
        token: &str,
        username: &str,
        first_name: &str,
    ) -> Result<i64, String> {
        if !valid_token(token) {
            return Err(format!("malformed token {token:?}"));
        }
        let id: i64 = token
            .split(':')
            .next()
            .unwrap()
            .parse()
            .map_err(|_| "bad id")?;
        if let Some(b) = self.bots.get_mut(&id) {
            b.token = token.to_string();
            b.username = username.to_string();
            b.first_name = first_name.to_string();
        } else {
            if self.bots.is_empty() {
                self.default_bot = id;
            }
            self.bots.insert(
                id,
                Bot {
                    id,
                    token: token.to_string(),
                    username: username.to_string(),
                    first_name: first_name.to_string(),
                    updates: VecDeque::new(),
                    next_update_id: self.first_update_id.unwrap_or_else(random_first_update_id),
                    allowed_updates: None,
                    webhook: None,
                    poll_gen: 0,
                    commands: HashMap::new(),
                    blocked_by: HashSet::new(),
                },
            );
        }
        self.touch();
        Ok(id)
    }

    pub fn bot_by_token(&self, token: &str) -> Option<i64> {
        self.bots.values().find(|b| b.token == token).map(|b| b.id)
    }

    /// Resolves a bot reference: a token, a numeric id or a username.
    pub fn resolve_bot(&self, r: &str) -> Option<i64> {
        self.bot_by_token(r)
            .or_else(|| {
                r.parse::<i64>()
                    .ok()
                    .filter(|id| self.bots.contains_key(id))
            })
            .or_else(|| {
                let u = r.trim_start_matches('@');
                self.bots
                    .values()
                    .find(|b| b.username.eq_ignore_ascii_case(u))
                    .map(|b| b.id)
            })
    }

    /// Adds an update for the bot unless its allowed_updates exclude the kind.
    pub fn push_update(&mut self, bot_id: i64, kind: &str, payload: Value) -> Option<i64> {
        let bot = self.bots.get_mut(&bot_id)?;
        let allowed = match &bot.allowed_updates {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !matches!(
                kind,
                "chat_member" | "message_reaction" | "message_reaction_count"
            ),
        };
        if !allowed {
            return None;
        }
        let id = bot.next_update_id;
        bot.next_update_id += 1;
        let mut u = json!({ "update_id": id });
        u[kind] = payload;
        bot.updates.push_back(u);
        self.touch();
        Some(id)
    }

    // ---------------------------------------------------------------- users, chats

    pub fn add_user(
        &mut self,
        id: Option<i64>,
        first_name: &str,
        last_name: Option<&str>,
        username: Option<&str>,
    ) -> i64 {
        let id = id.unwrap_or_else(|| {
            while self.users.contains_key(&self.next_user_id) {
                self.next_user_id += 1;
            }
            self.next_user_id
        });
        self.users.insert(
            id,
            UserInfo {
                id,
                first_name: first_name.to_string(),
                last_name: last_name.map(str::to_string),
                username: username.map(str::to_string),
            },
        );
        self.touch();
        id
    }

    pub fn add_group(&mut self, title: &str, members: &[i64], bots: &[i64]) -> i64 {
        let id = -(5_000_000_000 + self.next_group_seq);
        self.next_group_seq += 1;
        self.chats.insert(
            (0, id),
            Chat {
                id,
                kind: ChatKind::Group,
                title: title.to_string(),
                members: members.to_vec(),
                bots: Vec::new(),
                migrated_to: None,
                next_message_id: 1,
                messages: Vec::new(),
            },
        );
        for &b in bots {
            self.add_bot_to_group(id, b);
        }
        self.touch();
        id
    }

    pub fn add_bot_to_group(&mut self, chat_id: i64, bot_id: i64) {
        let Some(chat) = self.chats.get_mut(&(0, chat_id)) else {
            return;
        };
        if chat.bots.contains(&bot_id) {
            return;
        }
        chat.bots.push(bot_id);
        let chat_json = chat_json_of(chat, None, &self.users);
        let from = chat
            .members
            .first()
            .and_then(|u| self.users.get(u))
            .map(|u| u.to_json())
            .unwrap_or(json!({"id": 777000, "is_bot": false, "first_name": "Telegram"}));
        let bot_user = self
            .bots
            .get(&bot_id)
            .map(|b| b.user_json())
            .unwrap_or(Value::Null);
        let upd = json!({
            "chat": chat_json, "from": from, "date": now(),
            "old_chat_member": {"user": bot_user, "status": "left"},
            "new_chat_member": {"user": bot_user, "status": "member"},
        });
        self.push_update(bot_id, "my_chat_member", upd);
    }

    pub fn private_key(&self, bot_id: i64, user_id: i64) -> ChatKey {
        (bot_id, user_id)
    }

    /// Ensures the private chat of a bot with a user exists.
    pub fn ensure_private(&mut self, bot_id: i64, user_id: i64) -> ChatKey {
        let key = (bot_id, user_id);
        self.chats.entry(key).or_insert_with(|| Chat {
            id: user_id,
            kind: ChatKind::Private,
            title: String::new(),
            members: vec![user_id],
            bots: vec![bot_id],
            migrated_to: None,
            next_message_id: 1,
            messages: Vec::new(),
        });
        key
    }

    pub fn chat_json(&self, key: ChatKey) -> Value {
        match self.chats.get(&key) {
            Some(c) => chat_json_of(c, None, &self.users),
            None => Value::Null,
        }
    }

    /// Resolves `chat_id` (number or @username) as seen by a bot, applying
    /// migration and blocking rules.
    pub fn resolve_chat_for_bot(
        &mut self,
        bot_id: i64,
        chat_id: &Value,
        sending: bool,
    ) -> ApiResult<ChatKey> {
        let id: i64 = match chat_id {
            Value::Number(n) => n.as_i64().ok_or_else(|| ApiError::bad("chat not found"))?,
            Value::String(s) => {
                if let Some(name) = s.strip_prefix('@') {
                    self.users
                        .values()
                        .find(|u| {
                            u.username
                                .as_deref()
                                .is_some_and(|x| x.eq_ignore_ascii_case(name))
                        })
                        .map(|u| u.id)
                        .ok_or_else(|| ApiError::bad("chat not found"))?
                } else {
                    s.trim()
                        .parse()
                        .map_err(|_| ApiError::bad("chat not found"))?
                }
            }
            _ => return Err(ApiError::bad("chat not found")),
        };
        if id > 0 {
            if self.bots.contains_key(&id) {
                return Err(ApiError::new(
                    403,
                    "Forbidden: bot can't send messages to bots",
                ));
            }
            if !self.users.contains_key(&id) {
                return Err(ApiError::bad("chat not found"));
            }
            if sending
                && self
                    .bots
                    .get(&bot_id)
                    .is_some_and(|b| b.blocked_by.contains(&id))
            {
                return Err(ApiError::new(403, "Forbidden: bot was blocked by the user"));
            }
            if sending && self.strangers.contains(&id) {
                return Err(ApiError::new(
                    403,
                    "Forbidden: bot can't initiate conversation with a user",
                ));
            }
            return Ok(self.ensure_private(bot_id, id));
        }
        let chat = self
            .chats
            .get(&(0, id))
            .ok_or_else(|| ApiError::bad("chat not found"))?;
        if let Some(to) = chat.migrated_to {
            let mut e = ApiError::bad("group chat was upgraded to a supergroup chat");
            e.parameters = Some(json!({"migrate_to_chat_id": to}));
            return Err(e);
        }
        if !chat.bots.contains(&bot_id) {
            if sending {
                return Err(ApiError::new(
                    403,
                    "Forbidden: bot is not a member of the group chat",
                ));
            }
            return Err(ApiError::bad("chat not found"));
        }
        Ok((0, id))
    }

    /// Stores a new message in a chat; `build` fills content fields.
    #[allow(clippy::too_many_arguments)]
    pub fn new_message(
        &mut self,
        key: ChatKey,
        from: Value,
        from_bot: Option<i64>,
        from_user: Option<i64>,
        content: Map<String, Value>,
        markup: Option<Value>,
        method: &str,
    ) -> Value {
        let chat_json = self.chat_json(key);
        let chat = self.chats.get_mut(&key).expect("chat exists");
        let mid = chat.next_message_id;
        chat.next_message_id += 1;
        let mut m = Map::new();
        m.insert("message_id".into(), json!(mid));
        m.insert("from".into(), from);
        m.insert("chat".into(), chat_json);
        m.insert("date".into(), json!(now()));
        for (k, v) in content {
            m.insert(k, v);
        }
        if let Some(mk) = &markup {
            if mk.get("inline_keyboard").is_some() {
                m.insert("reply_markup".into(), mk.clone());
            }
        }
        let json = Value::Object(m);
        chat.messages.push(StoredMsg {
            json: json.clone(),
            markup,
            from_bot,
            from_user,
            deleted: false,
            edited: false,
            method: method.to_string(),
        });
        self.touch();
        json
    }

    pub fn find_msg(&self, key: ChatKey, message_id: i64) -> Option<&StoredMsg> {
        self.chats
            .get(&key)?
            .messages
            .iter()
            .find(|m| !m.deleted && m.json["message_id"].as_i64() == Some(message_id))
    }

    pub fn find_msg_mut(&mut self, key: ChatKey, message_id: i64) -> Option<&mut StoredMsg> {
        self.chats
            .get_mut(&key)?
            .messages
            .iter_mut()
            .find(|m| !m.deleted && m.json["message_id"].as_i64() == Some(message_id))
    }

    // ---------------------------------------------------------------- files

    pub fn store_file(
        &mut self,
        data: Vec<u8>,
        kind: &str,
        file_name: Option<String>,
        mime: Option<String>,
    ) -> StoredFile {
        let seq = self.next_file_seq;
        self.next_file_seq += 1;
        let prefix = match kind {
            "photo" => "AgACAgIAAxkBAAI",
            "video" => "BAACAgIAAxkBAAI",
            "audio" => "CQACAgIAAxkBAAI",
            "voice" => "AwACAgIAAxkBAAI",
            "animation" => "CgACAgIAAxkBAAI",
            _ => "BQACAgIAAxkBAAI",
        };
        let file_id = format!(
            "{prefix}{seq:06}sandbox{:08x}",
            (seq as u32).wrapping_mul(2654435761)
        );
        // Telegram re-encodes every photo to JPEG: its path ends in .jpg
        // whatever was uploaded (the sandbox keeps the uploaded bytes).
        let ext = if kind == "photo" {
            "jpg".to_string()
        } else {
            file_name
                .as_deref()
                .and_then(|n| n.rsplit_once('.').map(|x| x.1.to_string()))
                .unwrap_or_else(|| "bin".into())
        };
        let dir = match kind {
            "photo" => "photos",
            "video" => "videos",
            "audio" => "music",
            "voice" => "voice",
            "animation" => "animations",
            _ => "documents",
        };
        let f = StoredFile {
            file_id: file_id.clone(),
            kind: kind.to_string(),
            file_unique_id: format!("AQAD{seq:06}"),
            file_name,
            mime_type: mime,
            file_path: format!("{dir}/file_{seq}.{ext}"),
            data: Arc::new(data),
        };
        self.files.insert(file_id, f.clone());
        f
    }

    pub fn file_by_path(&self, path: &str) -> Option<&StoredFile> {
        self.files.values().find(|f| f.file_path == path)
    }

    /// Builds the media object (document/video/…) or photo array for a stored file.
    pub fn media_json(&self, f: &StoredFile, kind: &str) -> Value {
        let size = f.data.len();
        match kind {
            "photo" => {
                // Telegram keeps a photo as several JPEG sizes: each box of
                // 90 (s), 320 (m), 800 (x) and 1280 (y) px the photo is larger
                // than, then the photo itself up to 2560 px; the largest last.
                let (w, h) = image_size(&f.data).unwrap_or((800, 600));
                let scaled = |limit: u32| -> (u32, u32) {
                    let side = w.max(h);
                    if side <= limit {
                        return (w, h);
                    }
                    let s = limit as f64 / side as f64;
                    (
                        ((w as f64) * s).round().max(1.0) as u32,
                        ((h as f64) * s).round().max(1.0) as u32,
                    )
                };
                let area = (w as u64 * h as u64).max(1);
                let entry = |suffix: &str, (pw, ph): (u32, u32)| {
                    let bytes = (size as u64 * (pw as u64 * ph as u64) / area).max(1);
                    json!({"file_id": format!("{}{suffix}", f.file_id), "file_unique_id": format!("{}{suffix}", f.file_unique_id), "file_size": bytes, "width": pw, "height": ph})
                };
                let mut sizes: Vec<Value> = PHOTO_SIZES
                    .iter()
                    .filter(|(_, limit)| w.max(h) > *limit)
                    .map(|(suffix, limit)| entry(suffix, scaled(*limit)))
                    .collect();
                sizes.push(entry("", scaled(2560)));
                Value::Array(sizes)
            }
            _ => {
                let mut v = json!({"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_size": size});
                if let Some(n) = &f.file_name {
                    if kind != "voice" {
                        v["file_name"] = json!(n);
                    }
                }
                if let Some(m) = &f.mime_type {
                    v["mime_type"] = json!(m);
                }
                match kind {
                    "video" | "animation" => {
                        v["width"] = json!(640);
                        v["height"] = json!(360);
                        v["duration"] = json!(1);
                    }
                    "audio" | "voice" => v["duration"] = json!(1),
                    _ => {}
                }
                v
            }
        }
    }

    /// Resolves a file id (including the `_s` thumbnail ids of photos).
    pub fn file(&self, file_id: &str) -> Option<&StoredFile> {
        self.files.get(file_id).or_else(|| {
            PHOTO_SIZES
                .iter()
                .find_map(|(suffix, _)| file_id.strip_suffix(suffix))
                .and_then(|b| self.files.get(b))
        })
    }

    // ---------------------------------------------------------------- rate limits

    /// Replaces the limits and refills all buckets.
    pub fn set_limits(&mut self, l: RateLimits) {
        self.limits = l;
        self.buckets.clear();
    }

    /// Checks and consumes rate-limit tokens for a send to a chat.
    pub fn check_rate(
        &mut self,
        bot_id: i64,
        chat: ChatKey,
        kind: ChatKind,
        paid: bool,
    ) -> ApiResult<()> {
        if !self.limits.enabled {
            return Ok(());
        }
        let l = self.limits.clone();
        let now = Instant::now();
        let chat_rule = match kind {
            ChatKind::Private => (l.per_chat_burst.max(1.0), l.per_chat_per_sec),
            _ => (l.group_per_minute.max(1.0), l.group_per_minute / 60.0),
        };
        let global_rule = if paid {
            (l.paid_per_sec.max(1.0), l.paid_per_sec)
        } else {
            (l.global_per_sec.max(1.0), l.global_per_sec)
        };
        let keys = [
            ((bot_id, format!("chat:{}", chat.1)), chat_rule),
            (
                (
                    bot_id,
                    if paid {
                        "paid".to_string()
                    } else {
                        "global".to_string()
                    },
                ),
                global_rule,
            ),
        ];
        let mut wait: f64 = 0.0;
        for (k, (cap, rate)) in &keys {
            let b = self.buckets.entry(k.clone()).or_insert(Bucket {
                tokens: *cap,
                last: now,
            });
            let el = now.duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + el * rate).min(*cap);
            b.last = now;
            if b.tokens < 1.0 {
                wait = wait.max((1.0 - b.tokens) / rate.max(1e-9));
            }
        }
        if wait > 0.0 {
            let mut e = ApiError::new(
                429,
                format!(
                    "Too Many Requests: retry after {}",
                    wait.ceil().max(1.0) as u64
                ),
            );
            e.parameters = Some(json!({"retry_after": wait.ceil().max(1.0) as u64}));
            self.stats.rate_limited += 1;
            return Err(e);
        }
        for (k, _) in &keys {
            if let Some(b) = self.buckets.get_mut(k) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- faults

    /// Takes the first matching fault rule (decrementing its count).
    pub fn take_fault(&mut self, token: Option<&str>, method: &str) -> Option<Fault> {
        let idx = self.faults.iter().position(|r| {
            r.remaining != Some(0)
                && r.token.as_deref().is_none_or(|t| Some(t) == token)
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let r = &mut self.faults[idx];
        let f = r.fault.clone();
        if let Some(n) = r.remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.faults.remove(idx);
            }
        }
        self.stats.faults_injected += 1;
        Some(f)
    }

    // ---------------------------------------------------------------- user actions

    fn user(&self, user_id: i64) -> Result<UserInfo, String> {
        self.users
            .get(&user_id)
            .cloned()
            .ok_or_else(|| format!("unknown user {user_id}"))
    }

    /// Target chat of a user action: the group `chat_id`, or the private chat with `bot_id`.
    fn user_chat(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
    ) -> Result<ChatKey, String> {
        match chat_id {
            Some(c) if c < 0 => {
                let chat = self
                    .chats
                    .get(&(0, c))
                    .ok_or_else(|| format!("unknown chat {c}"))?;
                if let Some(to) = chat.migrated_to {
                    return Err(format!("chat {c} was upgraded to {to}"));
                }
                if !chat.members.contains(&user_id) {
                    return Err(format!("user {user_id} is not a member of chat {c}"));
                }
                Ok((0, c))
            }
            _ => {
                if !self.bots.contains_key(&bot_id) {
                    return Err(format!("unknown bot {bot_id}"));
                }
                Ok(self.ensure_private(bot_id, user_id))
            }
        }
    }

    /// Bots that receive updates from a chat.
    fn chat_bots(&self, key: ChatKey) -> Vec<i64> {
        if key.0 != 0 {
            vec![key.0]
        } else {
            self.chats
                .get(&key)
                .map(|c| c.bots.clone())
                .unwrap_or_default()
        }
    }

    /// A user sends a message with the given content (text, photo, …).
    /// Returns (update id of the first bot's update or 0, message JSON).
    pub fn user_message(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
        mut content: Map<String, Value>,
        reply_to: Option<i64>,
    ) -> Result<(i64, Value), String> {
        let user = self.user(user_id)?;
        let key = self.user_chat(bot_id, user_id, chat_id)?;
        self.strangers.remove(&user_id);
        if key.0 != 0 {
            if let Some(b) = self.bots.get(&bot_id) {
                if b.blocked_by.contains(&user_id) {
                    return Err("the user has blocked the bot; unblock first".into());
                }
            }
        }
        if let Some(r) = reply_to {
            let m = self
                .find_msg(key, r)
                .ok_or_else(|| format!("message {r} not found"))?;
            let mut rj = m.json.clone();
            if let Some(o) = rj.as_object_mut() {
                o.remove("reply_to_message");
            }
            content.insert("reply_to_message".into(), rj);
        }
        let msg = self.new_message(
            key,
            user.to_json(),
            None,
            Some(user_id),
            content,
            None,
            "user",
        );
        let mut first = 0;
        for b in self.chat_bots(key) {
            if let Some(id) = self.push_update(b, "message", msg.clone()) {
                if first == 0 {
                    first = id;
                }
            }
        }
        Ok((first, msg))
    }

    pub fn user_text(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
        text: &str,
        reply_to: Option<i64>,
    ) -> Result<(i64, Value), String> {
        if text.is_empty() {
            return Err("text is empty".into());
        }
        let mut c = Map::new();
        c.insert("text".into(), json!(text));
        let ents = format::detect_entities(text);
        if !ents.is_empty() {
            c.insert("entities".into(), json!(ents));
        }
        self.user_message(bot_id, user_id, chat_id, c, reply_to)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn user_file(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
        kind: &str,
        data: Vec<u8>,
        file_name: Option<String>,
        mime: Option<String>,
        caption: Option<String>,
    ) -> Result<(i64, Value), String> {
        let kind = match kind {
            "photo" | "document" | "video" | "audio" | "voice" | "animation" => kind,
            other => return Err(format!("unsupported file kind {other}")),
        };
        let mime = mime.or_else(|| file_name.as_deref().map(guess_mime));
        let f = self.store_file(data, kind, file_name, mime);
        let mut c = Map::new();
        c.insert(kind.into(), self.media_json(&f, kind));
        if let Some(cap) = caption.filter(|c| !c.is_empty()) {
            c.insert("caption".into(), json!(cap));
        }
        self.user_message(bot_id, user_id, chat_id, c, None)
    }

    /// The user presses an inline button with `data` under a bot message.
    pub fn user_press(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
        message_id: i64,
        data: &str,
    ) -> Result<(i64, String), String> {
        let user = self.user(user_id)?;
        let key = self.user_chat(bot_id, user_id, chat_id)?;
        let m = self
            .find_msg(key, message_id)
            .cloned()
            .ok_or_else(|| format!("message {message_id} not found"))?;
        let owner = m.from_bot.ok_or("message is not from a bot")?;
        let has = m.json["reply_markup"]["inline_keyboard"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .any(|b| b["callback_data"].as_str() == Some(data))
            })
            .unwrap_or(false);
        if !has {
            return Err(format!(
                "message {message_id} has no inline button with callback_data {data:?}"
            ));
        }
        let seq = self.next_callback_seq;
        self.next_callback_seq += 1;
        let id = format!(
            "{}{:010}",
            4_000_000_000_000_000_000u64 + user_id as u64 % 1_000_000,
            seq
        );
        let cq = json!({
            "id": id,
            "from": user.to_json(),
            "message": m.json.clone(),
            "chat_instance": format!("{}", (key.1.unsigned_abs()).wrapping_mul(31) + owner as u64),
            "data": data,
        });
        self.callbacks.insert(
            id.clone(),
            CallbackInfo {
                bot_id: owner,
                user_id,
                answer: None,
            },
        );
        let uid = self.push_update(owner, "callback_query", cq).unwrap_or(0);
        Ok((uid, id))
    }

    pub fn user_edit(
        &mut self,
        bot_id: i64,
        user_id: i64,
        chat_id: Option<i64>,
        message_id: i64,
        text: &str,
    ) -> Result<(i64, Value), String> {
        let key = self.user_chat(bot_id, user_id, chat_id)?;
        let m = self
            .find_msg_mut(key, message_id)
            .ok_or_else(|| format!("message {message_id} not found"))?;
        if m.from_user != Some(user_id) {
            return Err("a user can edit only own messages".into());
        }
        m.json["text"] = json!(text);
        m.json["edit_date"] = json!(now());
        let ents = format::detect_entities(text);
        if let Some(o) = m.json.as_object_mut() {
            if ents.is_empty() {
                o.remove("entities");
            } else {
                o.insert("entities".into(), json!(ents));
            }
        }
        m.edited = true;
        let msg = m.json.clone();
        self.touch();
        let mut first = 0;
        for b in self.chat_bots(key) {
            if let Some(id) = self.push_update(b, "edited_message", msg.clone()) {
                if first == 0 {
                    first = id;
                }
            }
        }
        Ok((first, msg))
    }

    pub fn set_blocked(&mut self, bot_id: i64, user_id: i64, blocked: bool) -> Result<i64, String> {
        let user = self.user(user_id)?;
        let key = self.ensure_private(bot_id, user_id);
        let bot = self.bots.get_mut(&bot_id).ok_or("unknown bot")?;
        let changed = if blocked {
            bot.blocked_by.insert(user_id)
        } else {
            bot.blocked_by.remove(&user_id)
        };
        if !changed {
            return Ok(0);
        }
        let bu = bot.user_json();
        let (old, new) = if blocked {
            ("member", "kicked")
        } else {
            ("kicked", "member")
        };
        let mut newm = json!({"user": bu, "status": new});
        if blocked {
            newm["until_date"] = json!(0);
        }
        let upd = json!({
            "chat": self.chat_json(key), "from": user.to_json(), "date": now(),
            "old_chat_member": {"user": bu, "status": old}, "new_chat_member": newm,
        });
        Ok(self.push_update(bot_id, "my_chat_member", upd).unwrap_or(0))
    }

    /// Upgrades a basic group to a supergroup; returns the new chat id.
    pub fn upgrade_group(&mut self, chat_id: i64) -> Result<i64, String> {
        let chat = self.chats.get(&(0, chat_id)).ok_or("unknown chat")?;
        if chat.kind != ChatKind::Group || chat.migrated_to.is_some() {
            return Err("only a basic group can be upgraded".into());
        }
        let new_id = -1_000_000_000_000 - chat_id.abs() % 1_000_000_000;
        let new_chat = Chat {
            id: new_id,
            kind: ChatKind::Supergroup,
            title: chat.title.clone(),
            members: chat.members.clone(),
            bots: chat.bots.clone(),
            migrated_to: None,
            next_message_id: 1,
            messages: Vec::new(),
        };
        let bots = chat.bots.clone();
        let from = chat
            .members
            .first()
            .and_then(|u| self.users.get(u))
            .map(|u| u.to_json())
            .unwrap_or(json!({"id": 777000, "is_bot": false, "first_name": "Telegram"}));
        self.chats.insert((0, new_id), new_chat);
        let mut c = Map::new();
        c.insert("migrate_to_chat_id".into(), json!(new_id));
        let m1 = self.new_message((0, chat_id), from.clone(), None, None, c, None, "service");
        let mut c = Map::new();
        c.insert("migrate_from_chat_id".into(), json!(chat_id));
        let m2 = self.new_message((0, new_id), from, None, None, c, None, "service");
        self.chats.get_mut(&(0, chat_id)).unwrap().migrated_to = Some(new_id);
        for b in bots {
            self.push_update(b, "message", m1.clone());
            self.push_update(b, "message", m2.clone());
        }
        self.touch();
        Ok(new_id)
    }
}

pub fn chat_json_of(c: &Chat, _bot: Option<i64>, users: &BTreeMap<i64, UserInfo>) -> Value {
    match c.kind {
        ChatKind::Private => {
            let u = users.get(&c.id);
            let mut v = json!({"id": c.id, "first_name": u.map(|u| u.first_name.clone()).unwrap_or_default(), "type": "private"});
            if let Some(u) = u {
                if let Some(l) = &u.last_name {
                    v["last_name"] = json!(l);
                }
                if let Some(n) = &u.username {
                    v["username"] = json!(n);
                }
            }
            v
        }
        ChatKind::Group => {
            json!({"id": c.id, "title": c.title, "type": "group", "all_members_are_administrators": true})
        }
        ChatKind::Supergroup => json!({"id": c.id, "title": c.title, "type": "supergroup"}),
    }
}

pub fn valid_token(t: &str) -> bool {
    match t.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.len() <= 19
                && id.bytes().all(|b| b.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// The smaller sizes Telegram keeps of a photo: file_id suffix, box side in px.
const PHOTO_SIZES: [(&str, u32); 4] = [("_s", 90), ("_m", 320), ("_x", 800), ("_y", 1280)];

/// A random first update_id as Telegram's server picks one for a new queue:
/// from 2,000,001 to 1,000,000,000 (td's `TQueue::push`:
/// `Random::fast(2 * MAX_QUEUE_EVENTS + 1, EventId::MAX_ID / 2)`).
pub fn random_first_update_id() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    const LOW: i64 = 2_000_001;
    const HIGH: i64 = 1_000_000_000;
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(nanos);
    LOW + (h.finish() % (HIGH - LOW + 1) as u64) as i64
}

pub fn guess_mime(name: &str) -> String {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "html" | "htm" => "text/html",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// Width/height of a PNG, GIF, JPEG, WebP or BMP image; None: not an image
/// Telegram could process as a photo.
pub fn image_size(d: &[u8]) -> Option<(u32, u32)> {
    if d.len() > 24 && &d[..8] == b"\x89PNG\r\n\x1a\n" {
        let w = u32::from_be_bytes([d[16], d[17], d[18], d[19]]);
        let h = u32::from_be_bytes([d[20], d[21], d[22], d[23]]);
        return Some((w, h));
    }
    if d.len() > 10 && &d[..3] == b"GIF" {
        return Some((
            u16::from_le_bytes([d[6], d[7]]) as u32,
            u16::from_le_bytes([d[8], d[9]]) as u32,
        ));
    }
    if d.len() > 30 && &d[..4] == b"RIFF" && &d[8..12] == b"WEBP" {
        let le24 = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], 0]);
        return match &d[12..16] {
            b"VP8X" => Some((le24(24) + 1, le24(27) + 1)),
            b"VP8L" => {
                let b = u32::from_le_bytes([d[21], d[22], d[23], d[24]]);
                Some(((b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1))
            }
            _ => Some((
                u16::from_le_bytes([d[26], d[27]]) as u32 & 0x3FFF,
                u16::from_le_bytes([d[28], d[29]]) as u32 & 0x3FFF,
            )),
        };
    }
    if d.len() > 26 && &d[..2] == b"BM" {
        let w = i32::from_le_bytes([d[18], d[19], d[20], d[21]]).unsigned_abs();
        let h = i32::from_le_bytes([d[22], d[23], d[24], d[25]]).unsigned_abs();
        return Some((w, h));
    }
    if d.len() > 4 && d[0] == 0xFF && d[1] == 0xD8 {
        let mut i = 2;
        while i + 9 < d.len() {
            if d[i] != 0xFF {
                i += 1;
                continue;
            }
            let marker = d[i + 1];
            let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
            if (0xC0..=0xCF).contains(&marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            {
                let h = u16::from_be_bytes([d[i + 5], d[i + 6]]) as u32;
                let w = u16::from_be_bytes([d[i + 7], d[i + 8]]) as u32;
                return Some((w, h));
            }
            i += 2 + len;
        }
    }
    None
}
