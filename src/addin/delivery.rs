//! Broadcasts and batch sending on the `Bot` object: `Broadcast`,
//! `BroadcastStatus`, `CancelBroadcast` and `SendBatch`. The engine itself
//! is in [`crate::delivery`]; this part turns it into 1C members, texts and
//! external events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value as Json};

use crate::delivery::{
    self, BatchItem, EngineHandle, ItemResult, Journal, Limits, Message, Notify, Outcome, Recorded,
};
use crate::ffi::{Host, Param, Value};
use crate::telegram::{self, ClientConfig, Token, TEXT_LIMIT};

use super::context::Context;
use super::errors::{AddinError, ErrorKind, Invalid, Lang, Name};
use super::members::MethodId;
use super::params::{self, Args};
use super::sending::Sending;

/// Default `deadline` of `SendBatch`, seconds.
const DEFAULT_DEADLINE_SECS: i64 = 60;
/// Largest `deadline` of `SendBatch` and `WaitSeconds` of `BroadcastStatus`.
const MAX_WAIT_SECS: i64 = 3600;
/// The event buffer depth asked of a client platform for broadcast events.
const EVENT_BUFFER_DEPTH: i64 = 64;
/// The file fields of the send methods, and their methods.
const FILE_FIELDS: &[(&str, &str)] = &[
    ("photo", "sendPhoto"),
    ("document", "sendDocument"),
    ("video", "sendVideo"),
    ("audio", "sendAudio"),
    ("voice", "sendVoice"),
    ("animation", "sendAnimation"),
    ("sticker", "sendSticker"),
    ("video_note", "sendVideoNote"),
];

/// What a delivery call needs of the object, taken from the call's
/// [`Context`] and the receiving part's `StateDir`.
struct Call {
    /// How to reach the Bot API.
    pub client: ClientConfig,
    /// The language of texts.
    pub lang: Lang,
    /// The platform, for events (none on a server: it has no events).
    pub host: Option<Host>,
    /// `StateDir`.
    pub state_dir: PathBuf,
}

/// Raises broadcast events toward one object's host until it is done.
struct HostNotify {
    host: Mutex<Option<Host>>,
    token: Token,
}

impl Notify for HostNotify {
    fn event(&self, message: &str, data: &str) {
        let data = self.token.redact(data);
        // Progress may be skipped when the platform's event buffer is full;
        // the end is offered again for a while.
        let tries = if message == "broadcast_done" { 100 } else { 1 };
        for _ in 0..tries {
            let host = self.host.lock().unwrap_or_else(|e| e.into_inner());
            match host.as_ref() {
                Some(h) if h.app_type().is_server() => return,
                Some(h) if super::events::raise(h, message, &data) => return,
                Some(_) => {}
                None => return,
            }
            drop(host);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The delivery state of one `Bot` object: its hold on the bot's engine.
#[derive(Default)]
pub struct DeliveryPart {
    engine: Option<(String, EngineHandle)>,
    /// Event targets of this object's broadcasts, one per token used.
    notify: Vec<Arc<HostNotify>>,
    /// The journal of the last keyed batch, kept open for the next one.
    journal: Option<Arc<Journal>>,
}

fn localized(kind: ErrorKind, en: String, ru: String) -> AddinError {
    AddinError::Localized { kind, en, ru }
}

fn invalid(name: Name, why: impl Into<String>) -> AddinError {
    AddinError::Invalid {
        name,
        why: Invalid::Other(why.into()),
    }
}

/// A required JSON text.
fn json_param(name: Name, param: &Param<'_>) -> Result<Json, AddinError> {
    let text = params::string(name, param)?;
    serde_json::from_str(&text).map_err(|e| invalid(name, format!("not JSON: {e}")))
}

/// A chat id out of JSON: a number, or a string with digits or `@name`.
fn chat_of(value: &Json) -> Option<Json> {
    match value {
        Json::Number(n) => n.as_i64().map(Json::from),
        Json::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(id) => Some(Json::from(id)),
                Err(_) if s.starts_with('@') && s.len() > 1 => Some(Json::from(s)),
                Err(_) => None,
            }
        }
        _ => None,
    }
}

fn state_dir_error(dir: &std::path::Path, e: &std::io::Error) -> AddinError {
    let dir = dir.display();
    localized(
        ErrorKind::Config,
        format!("Cannot write to the state folder {dir} (StateDir): {e}. Nothing was sent. Set StateDir to a folder the 1C process can write (on a cluster, one every server sees)."),
        format!("Не удалось записать в каталог состояния {dir} (КаталогСостояния): {e}. Ничего не отправлено. Укажите в КаталогСостояния каталог, доступный процессу 1С для записи (в кластере — общий для всех серверов)."),
    )
}

impl DeliveryPart {
    /// Runs one of the delivery methods. `state_dir` is the object's
    /// `StateDir`; `sending` holds the files `AddFile` attached.
    pub fn run(
        &mut self,
        cx: &mut Context<'_>,
        a: &Args<'_, '_>,
        state_dir: PathBuf,
        sending: &mut Sending,
    ) -> Result<Value, AddinError> {
        let ctx = Call {
            client: cx.connection.config()?,
            lang: cx.lang,
            host: cx.host.cloned(),
            state_dir,
        };
        match a.id() {
            MethodId::Broadcast => self.broadcast(a, ctx, sending),
            MethodId::BroadcastStatus => {
                let id = broadcast_id(a.name(0), &a.get(0))?;
                let wait = match a.get(1) {
                    Param::Empty => 0,
                    other => params::integer(a.name(1), &other, 0, MAX_WAIT_SECS)?,
                };
                let dir = self.broadcast_dir(&ctx);
                match delivery::broadcast_status(&dir, &id, Duration::from_secs(wait as u64)) {
                    Some(status) => Ok(Value::from(status.to_string())),
                    None => Err(no_broadcast(&id)),
                }
            }
            MethodId::CancelBroadcast => {
                let id = broadcast_id(a.name(0), &a.get(0))?;
                let dir = self.broadcast_dir(&ctx);
                Ok(Value::Bool(delivery::cancel_broadcast(&dir, &id)))
            }
            MethodId::SendBatch => self.send_batch(a, ctx),
            other => Err(AddinError::Internal(format!(
                "{other:?} is not a delivery method"
            ))),
        }
    }

    /// Lets go of the engine (the last object of a bot stops its threads)
    /// and stops raising events toward this object's host.
    pub fn done(&mut self) {
        for n in self.notify.drain(..) {
            *n.host.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.engine = None;
        self.journal = None;
    }

    fn broadcast_dir(&self, ctx: &Call) -> PathBuf {
        delivery::broadcast_dir(
            &ctx.state_dir,
            ctx.client.token.bot_id(),
            &ctx.client.api_url,
        )
    }

    /// The engine of the context's bot (a new hold when the settings changed).
    fn engine(&mut self, ctx: &Call) -> Result<&EngineHandle, AddinError> {
        let key = format!(
            "{}\n{}\n{}",
            ctx.client.api_url,
            ctx.client.token.expose(),
            ctx.client.proxy
        );
        if self.engine.as_ref().is_none_or(|(k, _)| *k != key) {
            self.engine = None;
            let handle = delivery::acquire(ctx.client.clone()).map_err(AddinError::Telegram)?;
            self.engine = Some((key, handle));
        }
        self.engine
            .as_ref()
            .map(|(_, h)| h)
            .ok_or_else(|| AddinError::Internal("no delivery engine".into()))
    }

    fn notify(&mut self, ctx: &Call) -> Arc<HostNotify> {
        if let Some(host) = &ctx.host {
            if !host.app_type().is_server() && host.event_buffer_depth() < EVENT_BUFFER_DEPTH {
                host.set_event_buffer_depth(EVENT_BUFFER_DEPTH);
            }
        }
        let current = self
            .notify
            .iter()
            .find(|n| n.token == ctx.client.token)
            .cloned();
        let n = current.unwrap_or_else(|| {
            // Broadcasts of an earlier token keep theirs; all are let go at Done.
            let n = Arc::new(HostNotify {
                host: Mutex::new(None),
                token: ctx.client.token.clone(),
            });
            self.notify.push(n.clone());
            n
        });
        *n.host.lock().unwrap_or_else(|e| e.into_inner()) = ctx.host.clone();
        n
    }

    /// Applies `"limits"` of the options to the bot's shared limiter.
    fn apply_limits(
        &mut self,
        ctx: &Call,
        name: Name,
        options: &mut Map<String, Json>,
    ) -> Result<(), AddinError> {
        let Some(value) = options.remove("limits") else {
            return Ok(());
        };
        let engine = self.engine(ctx)?.engine().clone();
        let base = engine.limiter().limits();
        let limits: Limits = base.with_json(&value).map_err(|e| invalid(name, e))?;
        engine.limiter().set_limits(limits);
        Ok(())
    }

    fn broadcast(
        &mut self,
        a: &Args<'_, '_>,
        ctx: Call,
        send: &mut Sending,
    ) -> Result<Value, AddinError> {
        let recipients = match json_param(a.name(0), &a.get(0))? {
            Json::Array(items) => items
                .iter()
                .map(|v| {
                    chat_of(v).ok_or_else(|| {
                        invalid(
                            a.name(0),
                            format!("{v} is not a chat id; use numbers or \"@channel\" names"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(invalid(
                    a.name(0),
                    "must be a JSON array of chat ids, e.g. [123, 456]",
                ))
            }
        };
        let mut options = params::options(a.name(2), &a.get(2))?;
        let id = match options.remove("id") {
            None | Some(Json::Null) => delivery::new_broadcast_id(),
            Some(Json::String(s)) if delivery::valid_broadcast_id(s.trim()) => s.trim().to_owned(),
            Some(Json::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(invalid(
                    a.name(2),
                    "\"id\" takes 1-64 characters A-Z, a-z, 0-9, _ and -",
                ))
            }
        };
        let message = message(a.name(1), &a.get(1), options.clone(), send)?;
        self.apply_limits(&ctx, a.name(2), &mut options)?;
        let notify = self.notify(&ctx);
        let dir = self.broadcast_dir(&ctx);
        let engine = self.engine(&ctx)?.engine().clone();
        delivery::start_broadcast(&engine, &dir, &id, recipients, message, notify)
            .map(Value::from)
            .map_err(|e| state_dir_error(&dir, &e))
    }

    fn send_batch(&mut self, a: &Args<'_, '_>, ctx: Call) -> Result<Value, AddinError> {
        let name = a.name(0);
        let Json::Array(list) = json_param(name, &a.get(0))? else {
            return Err(invalid(
                name,
                "must be a JSON array of {\"key\", \"method\", \"params\"} objects",
            ));
        };
        let mut items = Vec::with_capacity(list.len());
        let mut keys = std::collections::HashSet::new();
        for (i, entry) in list.iter().enumerate() {
            let at = |why: &str| invalid(name, format!("item {}: {why}", i + 1));
            let Json::Object(obj) = entry else {
                return Err(at("must be an object {\"key\", \"method\", \"params\"}"));
            };
            let key = match obj.get("key") {
                None | Some(Json::Null) => None,
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Json::Number(n)) => Some(n.to_string()),
                Some(_) => return Err(at("\"key\" must be a non-empty string")),
            };
            if let Some(k) = &key {
                if !keys.insert(k.clone()) {
                    return Err(at(&format!("the key {k:?} is repeated in the batch")));
                }
            }
            let method = obj.get("method").and_then(Json::as_str).unwrap_or("");
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(at(
                    "\"method\" must be a Bot API method name such as sendMessage",
                ));
            }
            let params = match obj.get("params") {
                None | Some(Json::Null) => Map::new(),
                Some(Json::Object(p)) => p.clone(),
                Some(_) => return Err(at("\"params\" must be an object")),
            };
            items.push(BatchItem {
                key,
                method: method.to_owned(),
                params,
            });
        }
        let mut options = params::options(a.name(1), &a.get(1))?;
        let deadline_secs = match options.remove("deadline") {
            None | Some(Json::Null) => DEFAULT_DEADLINE_SECS as f64,
            Some(v) => v
                .as_f64()
                .filter(|s| *s > 0.0 && *s <= MAX_WAIT_SECS as f64)
                .ok_or_else(|| {
                    invalid(
                        a.name(1),
                        format!("\"deadline\" takes 0-{MAX_WAIT_SECS} seconds"),
                    )
                })?,
        };
        let deadline = Instant::now() + Duration::from_secs_f64(deadline_secs);
        self.apply_limits(&ctx, a.name(1), &mut options)?;
        let journal = if keys.is_empty() {
            None
        } else {
            let path = delivery::journal_path(
                &ctx.state_dir,
                ctx.client.token.bot_id(),
                &ctx.client.api_url,
            );
            let journal =
                delivery::open_journal(&path).map_err(|e| state_dir_error(&ctx.state_dir, &e))?;
            self.journal = Some(journal.clone());
            Some(journal)
        };
        let engine = self.engine(&ctx)?.engine().clone();
        let keys: Vec<Option<String>> = items.iter().map(|i| i.key.clone()).collect();
        let results = delivery::run_batch(&engine, journal.as_ref(), items, deadline);
        let out: Vec<Json> = keys
            .iter()
            .zip(results)
            .map(|(key, r)| item_json(key, r, ctx.lang))
            .collect();
        Ok(Value::from(
            ctx.client.token.redact(&Json::Array(out).to_string()),
        ))
    }
}

fn broadcast_id(name: Name, param: &Param<'_>) -> Result<String, AddinError> {
    let id = match param {
        Param::I4(_) | Param::R8(_) => {
            params::integer(name, param, -(1 << 53), 1 << 53)?.to_string()
        }
        other => params::string(name, other)?.trim().to_owned(),
    };
    if delivery::valid_broadcast_id(&id) {
        Ok(id)
    } else {
        Err(invalid(
            name,
            "a broadcast id: 1-64 characters A-Z, a-z, 0-9, _ and -",
        ))
    }
}

fn no_broadcast(id: &str) -> AddinError {
    localized(
        ErrorKind::InvalidInput,
        format!("There is no broadcast with id {id:?} in the state folder (StateDir). Check the id that Broadcast returned, and that StateDir is the same as when it was started."),
        format!("Рассылки с идентификатором {id:?} нет в каталоге состояния (КаталогСостояния). Проверьте идентификатор, который вернула Рассылка, и что КаталогСостояния тот же, что при её запуске."),
    )
}

/// The message of a broadcast: a text, or a JSON object of `send*` fields
/// whose file field names an `AddFile` file (uploaded once) or holds a
/// `file_id` or URL. Options (parse mode, keyboard, …) join its fields.
fn message(
    name: Name,
    param: &Param<'_>,
    options: Map<String, Json>,
    send: &mut Sending,
) -> Result<Message, AddinError> {
    let text = params::string(name, param)?;
    let mut fields = match serde_json::from_str::<Json>(&text) {
        Ok(Json::Object(obj)) if text.trim_start().starts_with('{') => obj,
        _ => {
            let mut m = Map::new();
            m.insert("text".into(), Json::from(text.clone()));
            m
        }
    };
    for (k, v) in options {
        if k != "limits" {
            fields.entry(k).or_insert(v);
        }
    }
    fields.remove("chat_id");
    let explicit = fields
        .remove("method")
        .and_then(|m| m.as_str().map(str::to_owned));
    let file_field = FILE_FIELDS
        .iter()
        .find(|(f, _)| fields.contains_key(*f))
        .copied();
    let method = match (&explicit, file_field) {
        (Some(m), _) => m.clone(),
        (None, Some((_, m))) => m.to_owned(),
        (None, None) if fields.contains_key("text") => "sendMessage".to_owned(),
        (None, None) => {
            return Err(invalid(
                name,
                "give a text, or a JSON object with \"text\" or a file field (photo, document, video, …)",
            ))
        }
    };
    if let Some(t) = fields.get("text").and_then(Json::as_str) {
        if telegram::utf16_len(t) > TEXT_LIMIT {
            return Err(invalid(
                name,
                format!("a broadcast text takes up to {TEXT_LIMIT} characters"),
            ));
        }
    }
    let mut upload = None;
    if let Some((field, _)) = file_field {
        if let Some(value) = fields.get(field).and_then(Json::as_str) {
            let attached = value.strip_prefix("attach://").unwrap_or(value).to_owned();
            if let Some((file_name, bytes)) = send.take_file(&attached) {
                let bytes = bytes.map_err(|e| AddinError::FileUnreadable {
                    path: file_name.clone(),
                    detail: e.to_string(),
                })?;
                fields.remove(field);
                upload = Some((field.to_owned(), file_name, bytes));
            } else if value.starts_with("attach://") {
                return Err(invalid(
                    name,
                    format!("no file was added as {attached:?}; call AddFile first"),
                ));
            }
        }
    }
    Ok(Message {
        method,
        params: fields,
        upload,
    })
}

/// One result of `SendBatch` as 1C gets it.
fn item_json(key: &Option<String>, result: ItemResult, lang: Lang) -> Json {
    let text = |e: &telegram::Error| AddinError::Telegram(e.clone()).text(lang);
    let pick = |en: &str, ru: &str| match lang {
        Lang::En => en.to_owned(),
        Lang::Ru => ru.to_owned(),
    };
    let mut v = match result {
        ItemResult::Done(Outcome::Sent {
            result,
            migrated_to,
        }) => json!({"state": "sent", "result": result, "migrated_to_chat_id": migrated_to}),
        ItemResult::Done(Outcome::Failed { error, migrated_to }) => {
            let code = match &error {
                telegram::Error::Api { code, .. } => json!(code),
                _ => Json::Null,
            };
            json!({"state": "failed", "error": text(&error), "error_code": code, "migrated_to_chat_id": migrated_to})
        }
        ItemResult::Done(Outcome::Unknown { error, .. }) => json!({
            "state": "unknown",
            "error": format!("{} {}", text(&error), pick(
                "The request may have reached Telegram, so it was not repeated.",
                "Запрос мог дойти до Telegram, поэтому он не повторялся.")),
        }),
        ItemResult::Done(Outcome::NotSent { error }) => json!({
            "state": "pending",
            "error": match error {
                Some(e) => format!("{} {}", text(&e), pick("Not sent; send it again later.", "Не отправлено; отправьте позже.")),
                None => pick("Not sent before the deadline; send it again later.", "Не отправлено до срока; отправьте позже."),
            },
        }),
        ItemResult::Recorded(Recorded::Sent(result)) => {
            json!({"state": "sent", "result": result, "recorded": true})
        }
        ItemResult::Recorded(Recorded::Unknown(why)) => json!({
            "state": "unknown",
            "recorded": true,
            "error": format!("{why} {}", pick("(recorded earlier; not sent again)", "(записано ранее; повторно не отправляется)")),
        }),
        ItemResult::Recorded(Recorded::InFlight) => json!({
            "state": "unknown",
            "recorded": true,
            "error": pick(
                "The request was in flight when its process stopped; it may have been delivered, so it is not sent again.",
                "Запрос был в пути, когда его процесс остановился; он мог быть доставлен, поэтому повторно не отправляется."),
        }),
        ItemResult::Pending => json!({
            "state": "pending",
            "error": pick("Not sent before the deadline; send it again later.", "Не отправлено до срока; отправьте позже."),
        }),
        ItemResult::NoAnswerInTime => json!({
            "state": "unknown",
            "error": pick(
                "No answer before the deadline; the message may still be delivered. A rerun with the same key returns its result.",
                "Нет ответа до срока; сообщение ещё может быть доставлено. Повторный вызов с тем же ключом вернёт результат."),
        }),
    };
    if let Json::Object(map) = &mut v {
        map.retain(|_, value| !value.is_null());
        let mut out = Map::new();
        out.insert("key".into(), key.clone().map_or(Json::Null, Json::from));
        out.extend(std::mem::take(map));
        return Json::Object(out);
    }
    v
}
