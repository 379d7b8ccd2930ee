//! The user side over HTTP: JSON endpoints under `/control/`.
//!
//! All POST bodies are JSON; answers are `{"ok":true,"result":…}` or
//! `{"ok":false,"error":"…"}` (HTTP 400/404). `bot` parameters accept a token,
//! a bot id or a username and default to the first bot.
//!
//! | endpoint | body / query | result |
//! |---|---|---|
//! | `GET state` | | bots, users, chats, version |
//! | `POST users` | `{id?, first_name, last_name?, username?}` — a user who has not written to any bot yet: bots get 403 until they send something (`POST start`) | `{id}` |
//! | `POST bots` | `{token, username, first_name?}` | `{id}` |
//! | `POST groups` | `{title, members:[user ids], bots?:[refs]}` | `{id}` |
//! | `POST groups/upgrade` | `{chat_id}` | `{new_chat_id}` |
//! | `POST send` | `{user_id, text, bot?, chat_id?, reply_to_message_id?}` | `{update_id, message}` |
//! | `POST start` | `{user_id, payload?, bot?}` | `{update_id, message}` |
//! | `POST send_file` | `{user_id, kind:"photo"/"document"/…, file_name, data_base64, mime_type?, caption?, bot?, chat_id?}` | `{update_id, message}` |
//! | `POST press` | `{user_id, message_id, data, bot?, chat_id?}` | `{update_id, callback_query_id}` |
//! | `POST edit` | `{user_id, message_id, text, bot?, chat_id?}` | `{update_id, message}` |
//! | `POST block` / `POST unblock` | `{user_id, bot?}` | `{update_id}` |
//! | `GET messages` | `?user_id=&bot=` or `?chat_id=`, `&since=VERSION&wait=SECONDS` (long poll) | `{version, messages:[…], callback_answers:{…}, actions:[…]}` |
//! | `GET files/<file_id>` | | the bytes |
//! | `GET updates` | `?bot=` | pending updates of the bot |
//! | `GET faults` / `POST faults` / `POST faults/clear` | `{fault:{type:"latency",ms}|{type:"drop"}|{type:"reset"}|{type:"status",status}|{type:"malformed"}|{type:"hang",ms}, method?, bot?, times?}` (times null/absent = once, 0 = always) | |
//! | `POST limits` | `{enabled?, per_chat_per_sec?, per_chat_burst?, group_per_minute?, global_per_sec?, paid_per_sec?}` | limits |
//! | `POST local_mode` | `{on}` | |
//! | `POST file_limits` | `{upload?, photo?, download?}` (bytes) | |
//! | `POST latency` | `{ms}` — added to every Bot API request and file download (0 = off) | `ms` |
//! | `GET stats` | | counters |

use crate::http::{parse_urlencoded, Request, Response};
use crate::world::{ChatKind, World};
use crate::{ChatMessage, Fault, FaultRule, Shared};
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn ok(v: Value) -> Response {
    Response::json(200, &json!({"ok": true, "result": v}))
}
fn err(code: u16, e: impl std::fmt::Display) -> Response {
    Response::json(code, &json!({"ok": false, "error": e.to_string()}))
}

fn bot_of(w: &World, b: &Value) -> Result<i64, String> {
    match b {
        Value::Null => Ok(w.default_bot),
        Value::Number(n) => n
            .as_i64()
            .filter(|i| w.bots.contains_key(i))
            .ok_or_else(|| "unknown bot".into()),
        Value::String(s) if s.is_empty() => Ok(w.default_bot),
        Value::String(s) => w.resolve_bot(s).ok_or_else(|| format!("unknown bot {s}")),
        _ => Err("bad bot".into()),
    }
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn action_json(r: Result<(i64, Value), String>) -> Result<Value, String> {
    r.map(|(u, m)| json!({"update_id": u, "message_id": m["message_id"], "message": m}))
}

pub fn handle(sh: &Shared, req: &Request, path: &str) -> Response {
    let q: Value = Value::Object(
        parse_urlencoded(&req.query)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    );
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return err(400, format!("body is not JSON: {e}")),
        }
    };
    let get = |k: &str| -> Value {
        match body.get(k) {
            Some(v) if !v.is_null() => v.clone(),
            _ => q.get(k).cloned().unwrap_or(Value::Null),
        }
    };
    let method = req.method.as_str();
    if let Some(id) = path.strip_prefix("files/") {
        let id = crate::http::decode_component(id, false);
        let w = sh.world.lock().unwrap();
        return match w.file(&id) {
            Some(f) => Response::new(
                200,
                f.mime_type.as_deref().unwrap_or("application/octet-stream"),
                f.data.as_ref().clone(),
            ),
            None => err(404, "no such file"),
        };
    }
    if path == "messages" {
        return messages(sh, &get);
    }
    let r: Result<Value, String> = match (method, path) {
        ("GET", "state") => Ok(state(&sh.world.lock().unwrap())),
        ("GET", "stats") => {
            let s = sh.world.lock().unwrap().stats.clone();
            Ok(
                json!({"connections_accepted": s.connections_accepted, "requests_total": s.requests_total,
                "requests_by_method": s.requests_by_method, "webhook_deliveries": s.webhook_deliveries,
                "webhook_failures": s.webhook_failures, "rate_limited": s.rate_limited, "faults_injected": s.faults_injected}),
            )
        }
        ("GET", "updates") => {
            let w = sh.world.lock().unwrap();
            bot_of(&w, &get("bot")).map(|b| json!(w.bots[&b].updates))
        }
        ("GET", "faults") => {
            let w = sh.world.lock().unwrap();
            Ok(json!(w.faults.iter().map(|r| json!({"bot": r.token, "method": r.method, "remaining": r.remaining, "fault": format!("{:?}", r.fault)})).collect::<Vec<_>>()))
        }
        ("POST", p) => sh.with(|w| post(w, p, &get)),
        _ => Err(format!("unknown control endpoint {method} /control/{path}")),
    };
    sh.cv.notify_all();
    match r {
        Ok(v) => ok(v),
        Err(e) if e.starts_with("unknown control endpoint") => err(404, e),
        Err(e) => err(400, e),
    }
}

fn state(w: &World) -> Value {
    let bots: Vec<Value> = w.bots.values().map(|b| json!({"id": b.id, "token": b.token, "username": b.username, "first_name": b.first_name, "webhook": b.webhook.as_ref().map(|h| h.url.clone()), "pending_updates": b.updates.len()})).collect();
    let users: Vec<Value> = w.users.values().map(|u| u.to_json()).collect();
    let chats: Vec<Value> = w
        .chats
        .iter()
        .filter(|(_, c)| c.kind != ChatKind::Private)
        .map(|(_, c)| json!({"id": c.id, "title": c.title, "type": if c.kind == ChatKind::Group {"group"} else {"supergroup"}, "members": c.members, "bots": c.bots, "migrated_to": c.migrated_to}))
        .collect();
    json!({"version": w.version, "default_bot": w.default_bot, "bots": bots, "users": users, "groups": chats, "local_mode": w.local_mode, "rate_limits_enabled": w.limits.enabled})
}

fn post(w: &mut World, path: &str, get: &dyn Fn(&str) -> Value) -> Result<Value, String> {
    let s = |k: &str| get(k).as_str().map(str::to_string);
    let user = || int(&get("user_id")).ok_or_else(|| "user_id is required".to_string());
    let chat = || int(&get("chat_id")).filter(|c| *c < 0);
    match path {
        "users" => {
            let name = s("first_name")
                .filter(|n| !n.is_empty())
                .ok_or("first_name is required")?;
            let known = int(&get("id")).is_some_and(|id| w.users.contains_key(&id));
            let id = w.add_user(
                int(&get("id")),
                &name,
                s("last_name").as_deref(),
                s("username").as_deref(),
            );
            // As in Telegram, a new user has not started any bot: creating
            // one is not a /start.
            if !known {
                w.strangers.insert(id);
            }
            Ok(json!({"id": id}))
        }
        "bots" => {
            let token = s("token").ok_or("token is required")?;
            let username = s("username").unwrap_or_else(|| "bot".into());
            let first = s("first_name").unwrap_or_else(|| username.clone());
            w.add_bot(&token, &username, &first)
                .map(|id| json!({"id": id}))
        }
        "groups" => {
            let title = s("title").unwrap_or_else(|| "Group".into());
            let members: Vec<i64> = get("members")
                .as_array()
                .map(|a| a.iter().filter_map(int).collect())
                .unwrap_or_default();
            let bots: Vec<i64> = match get("bots").as_array() {
                Some(a) => a.iter().map(|b| bot_of(w, b)).collect::<Result<_, _>>()?,
                None => vec![w.default_bot],
            };
            Ok(json!({"id": w.add_group(&title, &members, &bots)}))
        }
        "groups/upgrade" => {
            let c = int(&get("chat_id")).ok_or("chat_id is required")?;
            w.upgrade_group(c).map(|id| json!({"new_chat_id": id}))
        }
        "send" => {
            let b = bot_of(w, &get("bot"))?;
            let text = s("text").unwrap_or_default();
            action_json(w.user_text(b, user()?, chat(), &text, int(&get("reply_to_message_id"))))
        }
        "start" => {
            let b = bot_of(w, &get("bot"))?;
            let text = match s("payload").filter(|p| !p.is_empty()) {
                Some(p) => format!("/start {p}"),
                None => "/start".into(),
            };
            action_json(w.user_text(b, user()?, None, &text, None))
        }
        "send_file" => {
            let b = bot_of(w, &get("bot"))?;
            let data = base64::engine::general_purpose::STANDARD
                .decode(s("data_base64").unwrap_or_default())
                .map_err(|e| format!("data_base64: {e}"))?;
            let kind = s("kind").unwrap_or_else(|| "document".into());
            action_json(w.user_file(
                b,
                user()?,
                chat(),
                &kind,
                data,
                s("file_name"),
                s("mime_type"),
                s("caption"),
            ))
        }
        "press" => {
            let b = bot_of(w, &get("bot"))?;
            let mid = int(&get("message_id")).ok_or("message_id is required")?;
            let data = s("data").ok_or("data is required")?;
            w.user_press(b, user()?, chat(), mid, &data)
                .map(|(u, id)| json!({"update_id": u, "callback_query_id": id}))
        }
        "edit" => {
            let b = bot_of(w, &get("bot"))?;
            let mid = int(&get("message_id")).ok_or("message_id is required")?;
            action_json(w.user_edit(b, user()?, chat(), mid, &s("text").unwrap_or_default()))
        }
        "block" | "unblock" => {
            let b = bot_of(w, &get("bot"))?;
            w.set_blocked(b, user()?, path == "block")
                .map(|u| json!({"update_id": u}))
        }
        "faults" => {
            let f = get("fault");
            let ms = |k: &str| Duration::from_millis(f[k].as_u64().unwrap_or(0));
            let fault = match f["type"].as_str().unwrap_or("") {
                "latency" => Fault::Latency(ms("ms")),
                "drop" => Fault::Drop,
                "reset" => Fault::ResetMidAnswer,
                "status" => Fault::Status(f["status"].as_u64().unwrap_or(500) as u16),
                "malformed" => Fault::MalformedJson,
                "hang" => Fault::Hang(ms("ms")),
                other => return Err(format!("unknown fault type {other:?}")),
            };
            let mut rule = FaultRule::new(fault);
            rule.method = s("method");
            rule.token = match get("bot") {
                Value::Null => None,
                b => Some(w.bots[&bot_of(w, &b)?].token.clone()),
            };
            rule.remaining = match int(&get("times")) {
                Some(0) => None,
                Some(n) => Some(n as u32),
                None => Some(1),
            };
            w.faults.push(rule);
            Ok(json!(true))
        }
        "faults/clear" => {
            w.faults.clear();
            Ok(json!(true))
        }
        "limits" => {
            let mut l = w.limits.clone();
            let f = |k: &str, d: f64| get(k).as_f64().unwrap_or(d);
            if let Some(e) = get("enabled").as_bool() {
                l.enabled = e;
            }
            l.per_chat_per_sec = f("per_chat_per_sec", l.per_chat_per_sec);
            l.per_chat_burst = f("per_chat_burst", l.per_chat_burst);
            l.group_per_minute = f("group_per_minute", l.group_per_minute);
            l.global_per_sec = f("global_per_sec", l.global_per_sec);
            l.paid_per_sec = f("paid_per_sec", l.paid_per_sec);
            let r = json!({"enabled": l.enabled, "per_chat_per_sec": l.per_chat_per_sec, "per_chat_burst": l.per_chat_burst, "group_per_minute": l.group_per_minute, "global_per_sec": l.global_per_sec, "paid_per_sec": l.paid_per_sec});
            w.set_limits(l);
            Ok(r)
        }
        "latency" => {
            let ms = get("ms").as_u64().ok_or("ms is required")?;
            w.latency = Duration::from_millis(ms);
            Ok(json!(ms))
        }
        "local_mode" => {
            w.local_mode = get("on").as_bool().unwrap_or(true);
            Ok(json!(w.local_mode))
        }
        "file_limits" => {
            if let Some(v) = get("upload").as_u64() {
                w.upload_limit = v;
            }
            if let Some(v) = get("photo").as_u64() {
                w.photo_limit = v;
            }
            if let Some(v) = get("download").as_u64() {
                w.download_limit = v;
            }
            Ok(
                json!({"upload": w.upload_limit, "photo": w.photo_limit, "download": w.download_limit}),
            )
        }
        other => Err(format!("unknown control endpoint POST /control/{other}")),
    }
}

/// Messages of a chat (private chat of `user_id` with `bot`, or group `chat_id`),
/// optionally long-polling until the state version passes `since`.
fn messages(sh: &Shared, get: &dyn Fn(&str) -> Value) -> Response {
    let since = int(&get("since")).unwrap_or(-1);
    let wait = int(&get("wait")).unwrap_or(0).clamp(0, 30) as u64;
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut w = sh.world.lock().unwrap();
    while (w.version as i64) <= since && !sh.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        w = sh.cv.wait_timeout(w, deadline - now).unwrap().0;
    }
    let bot = match bot_of(&w, &get("bot")) {
        Ok(b) => b,
        Err(e) => return err(400, e),
    };
    let key = match (int(&get("chat_id")), int(&get("user_id"))) {
        (Some(c), _) if c < 0 => (0, c),
        (_, Some(u)) => (bot, u),
        (Some(c), None) => (bot, c),
        _ => return err(400, "user_id or chat_id is required"),
    };
    let chat_id = key.1;
    let msgs: Vec<Value> = w
        .chats
        .get(&key)
        .map(|c| {
            c.messages
                .iter()
                .map(|m| {
                    let cm = ChatMessage::from_stored(chat_id, m);
                    json!({"message_id": cm.message_id, "from_bot": cm.from_bot, "from_id": cm.from_id, "method": cm.method,
                        "edited": cm.edited, "deleted": cm.deleted, "reply_markup": cm.reply_markup, "json": cm.json})
                })
                .collect()
        })
        .unwrap_or_default();
    let answers: serde_json::Map<String, Value> = w
        .callbacks
        .iter()
        .filter(|(_, c)| c.bot_id == bot)
        .filter_map(|(id, c)| c.answer.clone().map(|a| (id.clone(), a)))
        .collect();
    let actions: Vec<Value> = w
        .chat_actions
        .iter()
        .rev()
        .take(5)
        .filter(|(b, c, _)| *b == bot && *c == chat_id)
        .map(|(_, _, a)| json!(a))
        .collect();
    let blocked = w
        .bots
        .get(&bot)
        .is_some_and(|b| b.blocked_by.contains(&chat_id));
    ok(
        json!({"version": w.version, "messages": msgs, "callback_answers": answers, "actions": actions, "blocked": blocked}),
    )
}
