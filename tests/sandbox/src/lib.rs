//! # tg-sandbox — a local Telegram Bot API server for tests
//!
//! A faithful-enough Bot API (validated against the official spec, Bot API 10.1,
//! bundled in `spec/api.json`) with real state, a control API to play users,
//! fault injection, rate limits and a web chat page.
//!
//! ```no_run
//! use tg_sandbox::{Sandbox, SandboxConfig};
//! use std::time::Duration;
//! let sb = Sandbox::start(SandboxConfig::default()).unwrap();
//! let url = sb.api_url(); // "http://127.0.0.1:PORT" — the bot's API base URL
//! let user = sb.create_user("Ivan");
//! sb.user_sends_text(user, "hello").unwrap();
//! let msgs = sb.wait_bot_messages(user, 1, Duration::from_secs(5));
//! ```
//!
//! Routes: `/bot<token>/<method>`, `/file/bot<token>/<file_path>`, `/control/...`
//! (see [`control`]), `/` (web chat).
//!
//! Methods that are not implemented with state: when the spec says they return
//! `True`, they are validated and answer `true`; others answer
//! 400 "Bad Request: method X is not implemented in sandbox".

pub mod botapi;
pub mod control;
pub mod format;
pub mod http;
pub mod spec;
pub mod world;

use crate::http::{Conn, ReadError, Request, Response};
use crate::spec::RawParam;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use world::World;

pub const DEFAULT_TOKEN: &str = "123456:TEST-token";
pub const MB: u64 = 1024 * 1024;

/// A bot the sandbox accepts.
#[derive(Debug, Clone)]
pub struct BotConfig {
    pub token: String,
    pub username: String,
    pub first_name: String,
}

impl BotConfig {
    pub fn new(token: &str, username: &str) -> Self {
        BotConfig {
            token: token.into(),
            username: username.into(),
            first_name: username.into(),
        }
    }
}

/// Telegram's rate limits (token buckets). `enabled: false` switches all off.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub enabled: bool,
    /// Messages per second to one private chat (Telegram: about 1).
    pub per_chat_per_sec: f64,
    /// Burst allowed to one private chat.
    pub per_chat_burst: f64,
    /// Messages per minute to one group (Telegram: 20).
    pub group_per_minute: f64,
    /// Messages per second overall (Telegram: 30).
    pub global_per_sec: f64,
    /// Overall limit with `allow_paid_broadcast` (Telegram: 1000).
    pub paid_per_sec: f64,
}

impl RateLimits {
    /// Telegram's documented numbers, enabled.
    pub fn telegram() -> Self {
        RateLimits {
            enabled: true,
            per_chat_per_sec: 1.0,
            per_chat_burst: 3.0,
            group_per_minute: 20.0,
            global_per_sec: 30.0,
            paid_per_sec: 1000.0,
        }
    }
    /// Limits switched off (the default for tests).
    pub fn off() -> Self {
        RateLimits {
            enabled: false,
            ..Self::telegram()
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::off()
    }
}

/// Sandbox configuration. `Default` is for tests: 127.0.0.1 port 0, the default
/// bot `123456:TEST-token` (@sandbox_bot), rate limits off, Telegram's file limits.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub host: String,
    pub port: u16,
    pub bots: Vec<BotConfig>,
    pub rate_limits: RateLimits,
    /// Self-hosted Bot API server mode: file limits become `local_limit`.
    pub local_mode: bool,
    /// Max request body (multipart upload) — Telegram: 50 MB.
    pub upload_limit: u64,
    /// Max photo size — Telegram: 10 MB.
    pub photo_limit: u64,
    /// Max size getFile serves — Telegram: 20 MB.
    pub download_limit: u64,
    /// All file limits in local mode — 2000 MB.
    pub local_limit: u64,
    /// First webhook retry delay (doubles up to 60 s).
    pub webhook_retry_initial: Duration,
    /// Timeout of one webhook POST.
    pub webhook_timeout: Duration,
    /// Added to every Bot API request before it is processed (round trip to Telegram).
    pub latency: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: "127.0.0.1".into(),
            port: 0,
            bots: vec![BotConfig {
                token: DEFAULT_TOKEN.into(),
                username: "sandbox_bot".into(),
                first_name: "Sandbox Bot".into(),
            }],
            rate_limits: RateLimits::off(),
            local_mode: false,
            upload_limit: 50 * MB,
            photo_limit: 10 * MB,
            download_limit: 20 * MB,
            local_limit: 2000 * MB,
            webhook_retry_initial: Duration::from_millis(100),
            webhook_timeout: Duration::from_secs(2),
            latency: Duration::ZERO,
        }
    }
}

/// A fault to inject into the answer to a bot request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Wait, then process and answer normally.
    Latency(Duration),
    /// Close the connection without processing or answering.
    Drop,
    /// Process the request, write the head and half of the body, then close.
    ResetMidAnswer,
    /// Do not process; answer with this HTTP status (500 → Telegram JSON
    /// "Internal Server Error"; 502/504 → nginx HTML page as Telegram's front does).
    Status(u16),
    /// Process the request, answer 200 with truncated (invalid) JSON.
    MalformedJson,
    /// Do not process; keep the connection silent for this long, then close.
    /// Shutdown interrupts it.
    Hang(Duration),
}

/// "The next `remaining` requests (None = all) to `method` (None = any) of bot
/// `token` (None = any) get `fault`." Rules are matched in insertion order.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub token: Option<String>,
    pub method: Option<String>,
    pub remaining: Option<u32>,
    pub fault: Fault,
}

impl FaultRule {
    /// Applies once, to any method of any bot.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            token: None,
            method: None,
            remaining: Some(1),
            fault,
        }
    }
    /// Only this method (case-insensitive); `file` for file downloads.
    pub fn method(mut self, m: &str) -> Self {
        self.method = Some(m.to_string());
        self
    }
    pub fn bot(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }
}

/// Counters.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub connections_accepted: u64,
    pub requests_total: u64,
    /// Bot API requests by canonical method name (unknown names as sent).
    pub requests_by_method: BTreeMap<String, u64>,
    pub webhook_deliveries: u64,
    pub webhook_failures: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
}

impl Stats {
    pub fn requests(&self, method: &str) -> u64 {
        self.requests_by_method.get(method).copied().unwrap_or(0)
    }
}

/// A message in a chat as the sandbox stored it.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// Sent by a bot (true) or by a user / service (false).
    pub from_bot: bool,
    pub from_id: i64,
    pub text: Option<String>,
    pub caption: Option<String>,
    /// Any reply_markup sent with it (inline keyboard, reply keyboard, remove…).
    pub reply_markup: Option<Value>,
    /// file_id of the largest photo size or of the document/video/audio/voice/animation.
    pub file_id: Option<String>,
    /// Bot API method that created it ("sendMessage", …; "user" for users).
    pub method: String,
    pub edited: bool,
    pub deleted: bool,
    /// The Message object as Telegram would show it.
    pub json: Value,
}

impl ChatMessage {
    fn from_stored(chat_id: i64, m: &world::StoredMsg) -> Self {
        let j = &m.json;
        let file_id = j["photo"]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|p| p["file_id"].as_str())
            .or_else(|| {
                ["document", "video", "audio", "voice", "animation"]
                    .iter()
                    .find_map(|k| j[*k]["file_id"].as_str())
            })
            .map(str::to_string);
        ChatMessage {
            chat_id,
            message_id: j["message_id"].as_i64().unwrap_or(0),
            from_bot: m.from_bot.is_some(),
            from_id: j["from"]["id"].as_i64().unwrap_or(0),
            text: j["text"].as_str().map(str::to_string),
            caption: j["caption"].as_str().map(str::to_string),
            reply_markup: m.markup.clone(),
            file_id,
            method: m.method.clone(),
            edited: m.edited,
            deleted: m.deleted,
            json: j.clone(),
        }
    }

    /// callback_data of all inline buttons, row by row.
    pub fn callback_data(&self) -> Vec<String> {
        self.reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array())
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Result of a user action that produced a message.
#[derive(Debug, Clone)]
pub struct UserAction {
    /// update_id of the update the bot got (0 if none, e.g. filtered by allowed_updates).
    pub update_id: i64,
    pub message_id: i64,
    pub message: Value,
}

impl From<(i64, Value)> for UserAction {
    fn from((update_id, message): (i64, Value)) -> Self {
        UserAction {
            update_id,
            message_id: message["message_id"].as_i64().unwrap_or(0),
            message,
        }
    }
}

/// State shared by all threads of one sandbox.
pub struct Shared {
    pub world: Mutex<World>,
    pub cv: Condvar,
    pub shutdown: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    next_conn: AtomicU64,
    pub webhook_timeout: Duration,
    /// [`SandboxConfig::latency`] in microseconds.
    latency_us: AtomicU64,
}

impl Shared {
    /// Sleeps up to `d`; returns early on shutdown.
    pub fn sleep(&self, d: Duration) {
        let deadline = Instant::now() + d;
        let mut w = self.world.lock().unwrap();
        loop {
            if self.shutdown.load(Ordering::SeqCst) {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            w = self.cv.wait_timeout(w, deadline - now).unwrap().0;
        }
    }

    /// Locks, applies `f`, bumps the version and wakes waiters.
    pub fn with<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let r = {
            let mut w = self.world.lock().unwrap();
            let r = f(&mut w);
            w.touch();
            r
        };
        self.cv.notify_all();
        r
    }
}

/// A running sandbox. Stops on [`Sandbox::shutdown`] or drop.
pub struct Sandbox {
    sh: Arc<Shared>,
    addr: SocketAddr,
    main_threads: Vec<JoinHandle<()>>,
    default_token: String,
    default_bot: i64,
}

impl Sandbox {
    /// Binds and starts serving.
    pub fn start(cfg: SandboxConfig) -> io::Result<Sandbox> {
        let listener = TcpListener::bind((cfg.host.as_str(), cfg.port))?;
        let addr = listener.local_addr()?;
        let mut world = World::new(&cfg);
        let mut default_bot = 0;
        for (i, b) in cfg.bots.iter().enumerate() {
            let id = world
                .add_bot(&b.token, &b.username, &b.first_name)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            if i == 0 {
                default_bot = id;
            }
        }
        let default_token = cfg
            .bots
            .first()
            .map(|b| b.token.clone())
            .unwrap_or_default();
        let sh = Arc::new(Shared {
            world: Mutex::new(world),
            cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(1),
            webhook_timeout: cfg.webhook_timeout,
            latency_us: AtomicU64::new(cfg.latency.as_micros() as u64),
        });
        let s1 = sh.clone();
        let accept = std::thread::Builder::new()
            .name("tg-sandbox-accept".into())
            .spawn(move || accept_loop(s1, listener))?;
        let s2 = sh.clone();
        let hooks = std::thread::Builder::new()
            .name("tg-sandbox-webhooks".into())
            .spawn(move || webhook_loop(s2))?;
        Ok(Sandbox {
            sh,
            addr,
            main_threads: vec![accept, hooks],
            default_token,
            default_bot,
        })
    }

    /// "http://127.0.0.1:PORT" — the API base URL (requests go to `{api_url}/bot{token}/{method}`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The default bot's token.
    pub fn token(&self) -> &str {
        &self.default_token
    }
    /// The default bot's user id.
    pub fn bot_id(&self) -> i64 {
        self.default_bot
    }
    /// `{api_url}/bot{token}/{method}` for the default bot.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{}", self.api_url(), self.default_token, method)
    }
    pub fn shared(&self) -> &Arc<Shared> {
        &self.sh
    }

    fn with<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        self.sh.with(f)
    }
    fn lock(&self) -> MutexGuard<'_, World> {
        self.sh.world.lock().unwrap()
    }

    // ---------------------------------------------------------------- setup

    /// Registers another bot (token `\d+:[A-Za-z0-9_-]+`); returns its id.
    pub fn add_bot(&self, token: &str, username: &str) -> Result<i64, String> {
        self.with(|w| w.add_bot(token, username, username))
    }
    /// Creates a user with a generated id.
    pub fn create_user(&self, first_name: &str) -> i64 {
        self.with(|w| w.add_user(None, first_name, None, None))
    }
    /// Creates a user who has never written to a bot: sending to them gets
    /// 403 "bot can't initiate conversation with a user" until they write.
    pub fn create_stranger(&self, first_name: &str) -> i64 {
        self.with(|w| {
            let id = w.add_user(None, first_name, None, None);
            w.strangers.insert(id);
            id
        })
    }
    /// Creates a user with a given id (None = generated) and username.
    pub fn create_user_with(
        &self,
        id: Option<i64>,
        first_name: &str,
        username: Option<&str>,
    ) -> i64 {
        self.with(|w| w.add_user(id, first_name, None, username))
    }
    /// Creates a basic group with users and the default bot; returns its (negative) id.
    pub fn create_group(&self, title: &str, members: &[i64]) -> i64 {
        let b = self.default_bot;
        self.with(|w| w.add_group(title, members, &[b]))
    }
    /// Adds a bot (by token, id or username) to a group.
    pub fn add_bot_to_group(&self, chat_id: i64, bot: &str) -> Result<(), String> {
        self.with(|w| {
            let id = w.resolve_bot(bot).ok_or("unknown bot")?;
            w.add_bot_to_group(chat_id, id);
            Ok(())
        })
    }
    /// Upgrades a basic group to a supergroup; returns the new chat id.
    pub fn upgrade_group(&self, chat_id: i64) -> Result<i64, String> {
        self.with(|w| w.upgrade_group(chat_id))
    }

    // ---------------------------------------------------------------- user actions (default bot)

    /// The user sends text to the default bot (private chat). Commands get bot_command entities.
    pub fn user_sends_text(&self, user: i64, text: &str) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| w.user_text(b, user, None, text, None))
            .map(Into::into)
    }
    /// The user sends text in a group (`chat_id` < 0).
    pub fn user_sends_text_in(
        &self,
        chat_id: i64,
        user: i64,
        text: &str,
    ) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| w.user_text(b, user, Some(chat_id), text, None))
            .map(Into::into)
    }
    /// `/start` or `/start <payload>` as a deep link `t.me/bot?start=payload` does.
    pub fn user_starts(&self, user: i64, payload: Option<&str>) -> Result<UserAction, String> {
        let text = match payload {
            Some(p) if !p.is_empty() => format!("/start {p}"),
            _ => "/start".to_string(),
        };
        self.user_sends_text(user, &text)
    }
    /// The user replies to a message (`reply_to_message`).
    pub fn user_replies(
        &self,
        user: i64,
        reply_to_message_id: i64,
        text: &str,
    ) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| w.user_text(b, user, None, text, Some(reply_to_message_id)))
            .map(Into::into)
    }
    /// The user sends a photo (bytes stored; file_id in the message).
    pub fn user_sends_photo(
        &self,
        user: i64,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| {
            w.user_file(
                b,
                user,
                None,
                "photo",
                bytes,
                Some("photo.jpg".into()),
                Some("image/jpeg".into()),
                caption.map(str::to_string),
            )
        })
        .map(Into::into)
    }
    /// The user sends a document.
    pub fn user_sends_document(
        &self,
        user: i64,
        file_name: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
    ) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| {
            w.user_file(
                b,
                user,
                None,
                "document",
                bytes,
                Some(file_name.into()),
                None,
                caption.map(str::to_string),
            )
        })
        .map(Into::into)
    }
    /// Presses an inline button (callback_data `data`) under a bot message in the
    /// private chat; returns (update_id, callback_query id).
    pub fn user_presses_button(
        &self,
        user: i64,
        message_id: i64,
        data: &str,
    ) -> Result<(i64, String), String> {
        let b = self.default_bot;
        self.with(|w| w.user_press(b, user, None, message_id, data))
    }
    /// Same in a group.
    pub fn user_presses_button_in(
        &self,
        chat_id: i64,
        user: i64,
        message_id: i64,
        data: &str,
    ) -> Result<(i64, String), String> {
        let b = self.default_bot;
        self.with(|w| w.user_press(b, user, Some(chat_id), message_id, data))
    }
    /// Presses a reply-keyboard button: sends its text.
    pub fn user_presses_reply_button(&self, user: i64, text: &str) -> Result<UserAction, String> {
        self.user_sends_text(user, text)
    }
    /// The user edits own message (edited_message update).
    pub fn user_edits(&self, user: i64, message_id: i64, text: &str) -> Result<UserAction, String> {
        let b = self.default_bot;
        self.with(|w| w.user_edit(b, user, None, message_id, text))
            .map(Into::into)
    }
    /// The user blocks the default bot (my_chat_member update; sends then get 403).
    pub fn user_blocks_bot(&self, user: i64) -> Result<i64, String> {
        let b = self.default_bot;
        self.with(|w| w.set_blocked(b, user, true))
    }
    pub fn user_unblocks_bot(&self, user: i64) -> Result<i64, String> {
        let b = self.default_bot;
        self.with(|w| w.set_blocked(b, user, false))
    }

    // ---------------------------------------------------------------- reading

    fn chat_key(&self, w: &World, chat_id: i64) -> world::ChatKey {
        if chat_id > 0 {
            (self.default_bot, chat_id)
        } else {
            let _ = w;
            (0, chat_id)
        }
    }

    /// Every message in a chat (users', bots', service), in order, deleted ones included.
    pub fn chat_history(&self, chat_id: i64) -> Vec<ChatMessage> {
        let w = self.lock();
        let key = self.chat_key(&w, chat_id);
        w.chats
            .get(&key)
            .map(|c| {
                c.messages
                    .iter()
                    .map(|m| ChatMessage::from_stored(chat_id, m))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Messages the bot sent to a chat (private chat = user id), in order, not deleted.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.chat_history(chat_id)
            .into_iter()
            .filter(|m| m.from_bot && !m.deleted)
            .collect()
    }
    /// Waits (condvar, no polling) until the bot has sent at least `n` messages
    /// to the chat or the timeout passes; returns what is there.
    pub fn wait_bot_messages(&self, chat_id: i64, n: usize, timeout: Duration) -> Vec<ChatMessage> {
        let mut out = Vec::new();
        self.wait_for(timeout, |sb| {
            out = sb.bot_messages(chat_id);
            out.len() >= n
        });
        out
    }
    /// Waits until `cond` holds, re-checking on every state change. Returns whether it holds.
    /// `cond` may call any reading method of the sandbox.
    pub fn wait_for(&self, timeout: Duration, mut cond: impl FnMut(&Sandbox) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.lock().version;
            if cond(self) {
                return true;
            }
            let mut w = self.lock();
            while w.version == v {
                let now = Instant::now();
                if now >= deadline {
                    drop(w);
                    return cond(self);
                }
                w = self.sh.cv.wait_timeout(w, deadline - now).unwrap().0;
            }
        }
    }
    /// Bytes of a stored file.
    pub fn file_bytes(&self, file_id: &str) -> Option<Vec<u8>> {
        self.lock().file(file_id).map(|f| f.data.as_ref().clone())
    }
    /// The bot's answer to a callback query (`{"text":…,"show_alert":…}`), if answered.
    pub fn callback_answer(&self, callback_query_id: &str) -> Option<Value> {
        self.lock()
            .callbacks
            .get(callback_query_id)
            .and_then(|c| c.answer.clone())
    }
    /// (chat_id, action) of every sendChatAction of any bot.
    pub fn chat_actions(&self) -> Vec<(i64, String)> {
        self.lock()
            .chat_actions
            .iter()
            .map(|(_, c, a)| (*c, a.clone()))
            .collect()
    }
    /// Updates waiting for the default bot (not yet confirmed).
    pub fn pending_updates(&self) -> Vec<Value> {
        self.lock().bots[&self.default_bot]
            .updates
            .iter()
            .cloned()
            .collect()
    }
    /// Commands set with setMyCommands (default scope, no language).
    pub fn bot_commands(&self) -> Value {
        self.lock().bots[&self.default_bot]
            .commands
            .get("default|")
            .cloned()
            .unwrap_or(json!([]))
    }
    /// The default bot's webhook URL, if set.
    pub fn webhook_url(&self) -> Option<String> {
        self.lock().bots[&self.default_bot]
            .webhook
            .as_ref()
            .map(|h| h.url.clone())
    }

    // ---------------------------------------------------------------- knobs

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        self.with(|w| w.faults.push(rule))
    }
    /// Shortcut: the next request to `method` gets `fault`.
    pub fn inject_once(&self, method: &str, fault: Fault) {
        self.inject(FaultRule::new(fault).method(method))
    }
    /// Per-request latencies: the next requests to `method` wait these durations in turn.
    pub fn inject_latencies(&self, method: &str, delays: &[Duration]) {
        for d in delays {
            self.inject(FaultRule::new(Fault::Latency(*d)).method(method));
        }
    }
    pub fn clear_faults(&self) {
        self.with(|w| w.faults.clear())
    }
    /// Latency added to every Bot API request from now on.
    pub fn set_latency(&self, d: Duration) {
        self.sh
            .latency_us
            .store(d.as_micros() as u64, Ordering::SeqCst);
    }
    pub fn set_rate_limits(&self, l: RateLimits) {
        self.with(|w| w.set_limits(l))
    }
    /// Local Bot API server mode: file limits become 2000 MB.
    pub fn set_local_mode(&self, on: bool) {
        self.with(|w| w.local_mode = on)
    }
    /// Upload (request body), photo and getFile limits in bytes.
    pub fn set_file_limits(&self, upload: u64, photo: u64, download: u64) {
        self.with(|w| {
            w.upload_limit = upload;
            w.photo_limit = photo;
            w.download_limit = download;
        })
    }
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Stops: wakes long polls and hangs, closes connections, joins all threads.
    pub fn shutdown(&mut self) {
        if self.sh.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        self.sh.cv.notify_all();
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for (_, s) in self.sh.conns.lock().unwrap().drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        for t in self.main_threads.drain(..) {
            let _ = t.join();
        }
        let threads: Vec<_> = self.sh.threads.lock().unwrap().drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---------------------------------------------------------------------------- server

fn accept_loop(sh: Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        if sh.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        sh.with(|w| w.stats.connections_accepted += 1);
        let id = sh.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            sh.conns.lock().unwrap().insert(id, c);
        }
        let s = sh.clone();
        let h = std::thread::Builder::new()
            .name("tg-sandbox-conn".into())
            .spawn(move || {
                serve_conn(&s, stream);
                s.conns.lock().unwrap().remove(&id);
            });
        if let Ok(h) = h {
            let mut t = sh.threads.lock().unwrap();
            t.retain(|h| !h.is_finished());
            t.push(h);
        }
    }
}

enum Outcome {
    Resp(Response),
    Drop,
    Truncated(Response),
    Malformed(Response),
}

fn serve_conn(sh: &Shared, stream: TcpStream) {
    let mut conn = Conn::new(stream);
    loop {
        let max = sh.world.lock().unwrap().effective_upload_limit() + MB;
        let req = match conn.read_request(max) {
            Ok(r) => r,
            Err(ReadError::TooLarge(rest)) => {
                conn.drain(rest);
                let r = Response::json(
                    413,
                    &json!({"ok": false, "error_code": 413, "description": "Request Entity Too Large"}),
                );
                let _ = conn.write_response(&r, false);
                return;
            }
            Err(ReadError::Bad) => {
                let _ = conn.write_response(
                    &Response::new(400, "text/plain", b"Bad Request".to_vec()),
                    false,
                );
                return;
            }
            Err(ReadError::Closed) => return,
        };
        if sh.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let keep = req.keep_alive;
        match handle(sh, &req) {
            Outcome::Resp(r) => {
                if conn.write_response(&r, keep).is_err() {
                    return;
                }
            }
            Outcome::Drop => {
                let _ = conn.stream.shutdown(Shutdown::Both);
                return;
            }
            Outcome::Truncated(r) => {
                let bytes = r.to_bytes(keep);
                let cut = bytes.len() - r.body.len() / 2 - 1;
                let _ = conn.stream.write_all(&bytes[..cut]);
                let _ = conn.stream.flush();
                // SO_LINGER 0: closing the socket now sends a real RST, as a
                // broken middlebox or a crashed server does, not a clean FIN.
                let _ = socket2::SockRef::from(&conn.stream).set_linger(Some(Duration::ZERO));
                return;
            }
            Outcome::Malformed(mut r) => {
                let half = r.body.len() / 2;
                r.body.truncate(half.max(1));
                r.status = 200;
                if conn.write_response(&r, keep).is_err() {
                    return;
                }
            }
        }
        if !keep {
            return;
        }
    }
}

static INDEX_HTML: &str = include_str!("web/index.html");

fn handle(sh: &Shared, req: &Request) -> Outcome {
    let path = req.path.as_str();
    if path == "/" || path == "/index.html" {
        return Outcome::Resp(Response::new(
            200,
            "text/html; charset=utf-8",
            INDEX_HTML.as_bytes().to_vec(),
        ));
    }
    if let Some(rest) = path.strip_prefix("/control/") {
        return Outcome::Resp(control::handle(sh, req, rest));
    }
    if let Some(rest) = path.strip_prefix("/file/bot") {
        let (token, fpath) = rest.split_once('/').unwrap_or((rest, ""));
        let token = http::decode_component(token, false);
        let fpath = http::decode_component(fpath, false);
        let fault = sh.with(|w| {
            w.stats.requests_total += 1;
            *w.stats.requests_by_method.entry("file".into()).or_default() += 1;
            w.take_fault(Some(&token), "file")
        });
        if let Some(o) = pre_fault(sh, &fault) {
            return o;
        }
        let w = sh.world.lock().unwrap();
        let resp = if !world::valid_token(&token) {
            Response::json(
                404,
                &json!({"ok": false, "error_code": 404, "description": "Not Found"}),
            )
        } else if w.bot_by_token(&token).is_none() {
            Response::json(
                401,
                &json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            )
        } else {
            match w.file_by_path(&fpath) {
                Some(f) => Response::new(
                    200,
                    f.mime_type.as_deref().unwrap_or("application/octet-stream"),
                    f.data.as_ref().clone(),
                ),
                None => Response::json(
                    404,
                    &json!({"ok": false, "error_code": 404, "description": "Not Found"}),
                ),
            }
        };
        drop(w);
        return post_fault(fault, resp);
    }
    if let Some(rest) = path.strip_prefix("/bot") {
        let (token, method) = rest.split_once('/').unwrap_or((rest, ""));
        let token = http::decode_component(token, false);
        let method = http::decode_component(method, false);
        let canonical = spec::spec()
            .methods
            .get(&method.to_ascii_lowercase())
            .map(|m| m.name.clone())
            .unwrap_or_else(|| method.clone());
        let fault = sh.with(|w| {
            w.stats.requests_total += 1;
            *w.stats
                .requests_by_method
                .entry(canonical.clone())
                .or_default() += 1;
            w.take_fault(Some(&token), &canonical)
        });
        let latency = sh.latency_us.load(Ordering::SeqCst);
        if latency > 0 {
            sh.sleep(Duration::from_micros(latency));
        }
        if let Some(o) = pre_fault(sh, &fault) {
            return o;
        }
        let resp = match parse_params(req) {
            Ok(raw) => {
                let r = botapi::call(sh, &token, &method, raw);
                let (status, v) = botapi::answer_json(&r);
                Response::json(status, &v)
            }
            Err(e) => Response::json(e.code, &e.to_json()),
        };
        return post_fault(fault, resp);
    }
    Outcome::Resp(Response::json(
        404,
        &json!({"ok": false, "error_code": 404, "description": "Not Found"}),
    ))
}

/// Faults that act before processing; `None` = go on.
fn pre_fault(sh: &Shared, f: &Option<Fault>) -> Option<Outcome> {
    match f {
        Some(Fault::Latency(d)) => {
            sh.sleep(*d);
            None
        }
        Some(Fault::Drop) => Some(Outcome::Drop),
        Some(Fault::Hang(d)) => {
            sh.sleep(*d);
            Some(Outcome::Drop)
        }
        Some(Fault::Status(code)) => Some(Outcome::Resp(match code {
            502 | 504 => {
                let t = format!("{} {}", code, http::reason(*code));
                Response::new(*code, "text/html", format!("<html>\r\n<head><title>{t}</title></head>\r\n<body>\r\n<center><h1>{t}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n").into_bytes())
            }
            c => Response::json(
                *c,
                &json!({"ok": false, "error_code": c, "description": http::reason(*c)}),
            ),
        })),
        _ => None,
    }
}

fn post_fault(f: Option<Fault>, resp: Response) -> Outcome {
    match f {
        Some(Fault::ResetMidAnswer) => Outcome::Truncated(resp),
        Some(Fault::MalformedJson) => Outcome::Malformed(resp),
        _ => Outcome::Resp(resp),
    }
}

/// Query string + body (JSON, urlencoded, multipart) into raw parameters.
pub fn parse_params(req: &Request) -> Result<HashMap<String, RawParam>, world::ApiError> {
    let mut out = HashMap::new();
    for (k, v) in http::parse_urlencoded(&req.query) {
        out.insert(k, RawParam::Value(Value::String(v)));
    }
    let ct = req.header("content-type").unwrap_or("").to_string();
    let ctl = ct.to_ascii_lowercase();
    if req.body.is_empty() {
        return Ok(out);
    }
    if ctl.starts_with("application/json") {
        let v: Value = serde_json::from_slice(&req.body)
            .map_err(|_| world::ApiError::bad("can't parse JSON object"))?;
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k, RawParam::Value(v));
                }
            }
            _ => return Err(world::ApiError::bad("can't parse JSON object")),
        }
    } else if ctl.starts_with("multipart/form-data") {
        let boundary = ct
            .split(';')
            .find_map(|p| {
                let p = p.trim();
                p.to_ascii_lowercase()
                    .starts_with("boundary=")
                    .then(|| p["boundary=".len()..].trim_matches('"').to_string())
            })
            .ok_or_else(|| world::ApiError::bad("can't parse multipart/form-data: no boundary"))?;
        let parts = http::parse_multipart(&req.body, &boundary)
            .ok_or_else(|| world::ApiError::bad("can't parse multipart/form-data"))?;
        for p in parts {
            out.insert(p.name.clone(), RawParam::File(p));
        }
    } else {
        let s = String::from_utf8_lossy(&req.body);
        for (k, v) in http::parse_urlencoded(&s) {
            out.insert(k, RawParam::Value(Value::String(v)));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- webhooks

fn webhook_loop(sh: Arc<Shared>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(sh.webhook_timeout))
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        // Find one due delivery.
        let job = {
            let mut w = sh.world.lock().unwrap();
            loop {
                if sh.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                let now = Instant::now();
                let mut next: Option<Instant> = None;
                let mut found = None;
                for b in w.bots.values() {
                    if let (Some(h), Some(u)) = (&b.webhook, b.updates.front()) {
                        if h.next_attempt <= now {
                            found = Some((b.id, h.url.clone(), h.secret_token.clone(), u.clone()));
                            break;
                        }
                        next =
                            Some(next.map_or(h.next_attempt, |n: Instant| n.min(h.next_attempt)));
                    }
                }
                if let Some(j) = found {
                    break j;
                }
                let wait = next
                    .map(|n| n.saturating_duration_since(now))
                    .unwrap_or(Duration::from_secs(1));
                w = sh
                    .cv
                    .wait_timeout(w, wait.max(Duration::from_millis(1)))
                    .unwrap()
                    .0;
            }
        };
        let (bot, url, secret, update) = job;
        let mut rq = agent.post(&url).header("Content-Type", "application/json");
        if let Some(s) = &secret {
            rq = rq.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        let res = rq.send(update.to_string());
        let err: Option<String> = match res {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!(
                "Wrong response from the webhook: {} {}",
                r.status().as_u16(),
                r.status().canonical_reason().unwrap_or("")
            )),
            Err(ureq::Error::Timeout(_)) => Some("Read timeout expired".into()),
            Err(ureq::Error::Io(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Some("Connection refused".into())
            }
            Err(e) => Some(format!("Connection failed: {e}")),
        };
        sh.with(|w| {
            let initial = w.webhook_retry_initial;
            let ok = err.is_none();
            if ok {
                w.stats.webhook_deliveries += 1;
            } else {
                w.stats.webhook_failures += 1;
            }
            let Some(b) = w.bots.get_mut(&bot) else {
                return;
            };
            let Some(h) = b.webhook.as_mut().filter(|h| h.url == url) else {
                return;
            };
            match err {
                None => {
                    if b.updates.front().map(|u| &u["update_id"]) == Some(&update["update_id"]) {
                        b.updates.pop_front();
                    }
                    h.backoff = Duration::ZERO;
                    h.next_attempt = Instant::now();
                }
                Some(e) => {
                    h.last_error_date = Some(world::now());
                    h.last_error_message = Some(e);
                    h.backoff = if h.backoff.is_zero() {
                        initial
                    } else {
                        (h.backoff * 2).min(Duration::from_secs(60))
                    };
                    h.next_attempt = Instant::now() + h.backoff;
                }
            }
        });
    }
}
