//! Binding on the `Bot` object: `NewBindingCode`, `BindingQR`,
//! `BindContact`, `CancelBindingCode` and `BindingReply`. The work itself is
//! in [`crate::binding`]; this file turns it into 1C members and texts, and
//! wires the binding room into receiving as an update interceptor.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use crate::binding::{self, Attempt, Binding, Ended, Outcome, Redeemer, Replies, Store};
use crate::ffi::{Param, Value};
use crate::receiving::{
    self, Intercepted, InterceptorSource, PollerConfig, Update, UpdateInterceptor,
};
use crate::telegram::{self, Client, ClientConfig, ClientOptions};

use super::context::Context;
use super::errors::{AddinError, ErrorKind, Invalid, Name};
use super::members::{MethodId, PropId};
use super::params::{self, Args};

/// Default and largest `Size` of `BindingQR`, pixels.
const DEFAULT_QR_SIZE: i64 = 300;
const MAX_QR_SIZE: i64 = 4096;
/// Largest `WaitSeconds` of `BindContact`.
const MAX_WAIT_SECS: i64 = 600;
/// Longest single `getUpdates` of `BindContact` receiving by itself.
const PEEK_CHUNK: Duration = Duration::from_secs(5);
/// Pause between looks at the state folder while someone else receives.
const STORE_PAUSE: Duration = Duration::from_millis(200);
/// Pause between peeks while updates for others are pending (they make
/// `getUpdates` answer at once).
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// The binding state of one `Bot` object.
#[derive(Default)]
pub struct BindingPart {
    /// `BindingReply`, shared with the interceptors made by this object.
    replies: Arc<RwLock<Replies>>,
    /// The bot's username from `getMe`, by bot id.
    username: Option<(String, String)>,
    /// Payloads of the codes this object issued, by digits, for `BindingQR`.
    issued: HashMap<String, String>,
}

fn localized(kind: ErrorKind, en: String, ru: String) -> AddinError {
    AddinError::Localized { kind, en, ru }
}

/// The binding JSON 1C gets.
fn binding_json(code: &str, b: &Binding) -> Json {
    json!({
        "id": b.code_id,
        "code": if code.is_empty() { Json::Null } else { Json::from(binding::display(code)) },
        "subject": b.subject,
        "title": b.title,
        "user_id": b.user_id,
        "chat_id": b.chat_id,
        "username": b.username,
        "first_name": b.first_name,
        "last_name": b.last_name,
        "language_code": b.language_code,
        "date": b.date,
    })
}

/// The binding room behind receiving: redeems attempts, marks that this
/// process receives.
struct BindingInterceptor {
    redeemer: Redeemer,
}

impl UpdateInterceptor for BindingInterceptor {
    fn intercept(&self, update: &Update) -> Intercepted {
        if update.kind != "message" {
            return Intercepted::Pass;
        }
        let Ok(value) = serde_json::from_str::<Json>(&update.json) else {
            return Intercepted::Pass;
        };
        match self.redeemer.handle(update.id, &value) {
            Outcome::Pass => Intercepted::Pass,
            Outcome::Consumed => Intercepted::Consumed,
            Outcome::Bound { code, binding } => {
                let json =
                    json!({ "update_id": update.id, "binding": binding_json(&code, &binding) });
                Intercepted::Replaced(Update {
                    id: update.id,
                    kind: "binding".into(),
                    json: json.to_string(),
                })
            }
        }
    }

    fn receiving(&self, long_poll: Duration) {
        let store = self.redeemer.store();
        let now = binding::now();
        let needed = now + long_poll.as_secs() as i64 + 30;
        if store.leased_until() < needed {
            if let Err(e) = store.lease(needed + 30) {
                log::warn!("binding: cannot write the receiver lease: {e}");
            }
        }
    }

    fn stopped(&self) {
        self.redeemer.store().release();
    }
}

/// Answers people in chats from the receiving thread.
fn replier(config: ClientConfig) -> Box<binding::Reply> {
    let client: OnceLock<Option<Client>> = OnceLock::new();
    Box::new(move |chat_id: i64, text: &str| {
        let client = client
            .get_or_init(|| Client::with_options(config.clone(), ClientOptions::default()).ok());
        let Some(client) = client else {
            log::warn!("binding: cannot answer in chat {chat_id}: no client");
            return;
        };
        if let Err(e) = client.call("sendMessage", &json!({ "chat_id": chat_id, "text": text })) {
            let detail = config.token.redact(&e.to_string());
            log::warn!("binding: cannot answer in chat {chat_id}: {detail}");
        }
    })
}

/// The store of `config`'s bot in `state_dir`.
fn store_of(config: &ClientConfig, state_dir: &Path) -> Store {
    Store::new(state_dir, config.token.bot_id())
}

/// Makes the binding interceptors of one object: they answer with the
/// object's `BindingReply`.
struct BindingInterceptors {
    replies: Arc<RwLock<Replies>>,
}

impl InterceptorSource for BindingInterceptors {
    fn interceptor(&self, client: &ClientConfig, state_dir: &Path) -> Arc<dyn UpdateInterceptor> {
        let store = store_of(client, state_dir);
        Arc::new(BindingInterceptor {
            redeemer: Redeemer::new(store, self.replies.clone(), replier(client.clone())),
        })
    }
}

impl BindingPart {
    /// What the receiving part puts in front of subscribers, so that
    /// binding attempts are redeemed wherever updates arrive.
    pub fn interceptors(&self) -> Arc<dyn InterceptorSource> {
        Arc::new(BindingInterceptors {
            replies: self.replies.clone(),
        })
    }

    /// Reads a binding property (`BindingReply`, "" for the default).
    pub fn read_prop(&self, id: PropId) -> Value {
        match id {
            PropId::BindingReply => Value::from(
                self.replies
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .success
                    .clone(),
            ),
            _ => Value::Empty,
        }
    }

    /// Writes a binding property (`BindingReply`).
    pub fn write_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        if id != PropId::BindingReply {
            return Err(AddinError::ReadOnly(name));
        }
        let text = params::opt_string(name, value)?.unwrap_or_default();
        if telegram::utf16_len(&text) > telegram::TEXT_LIMIT {
            return Err(AddinError::Invalid {
                name,
                why: Invalid::Other(format!("at most {} characters", telegram::TEXT_LIMIT)),
            });
        }
        self.replies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .success = text;
        Ok(())
    }

    /// Runs a binding method. `config` is the receiving configuration of
    /// the object (bot, server, state folder, the interceptor).
    pub fn run(
        &mut self,
        cx: &mut Context<'_>,
        config: &PollerConfig,
        a: &Args<'_, '_>,
    ) -> Result<Value, AddinError> {
        let client = cx.client()?;
        let (arg, name) = (|i: usize| a.get(i), |i: usize| a.name(i));
        let store = store_of(&config.client, &config.state_dir);
        match a.id() {
            MethodId::NewBindingCode => {
                let subject = params::opt_string(name(0), &arg(0))?.unwrap_or_default();
                let ttl = match arg(1) {
                    Param::Empty => binding::DEFAULT_TTL_SECS,
                    other => params::integer(name(1), &other, 1, binding::MAX_TTL_SECS)?,
                };
                let title = serde_json::from_str::<Json>(&subject)
                    .ok()
                    .and_then(|v| v.get("title").and_then(Json::as_str).map(str::to_owned))
                    .unwrap_or_default();
                let username = self.username(client, config.client.token.bot_id())?;
                let issued = binding::issue(&store, &subject, &title, ttl).map_err(|e| {
                    localized(
                        ErrorKind::Config,
                        format!("Cannot save the binding code: {e}. Check that the state folder (StateDir) can be written."),
                        format!("Не удалось сохранить код привязки: {e}. Проверьте, что в каталог состояния (КаталогСостояния) можно писать."),
                    )
                })?;
                let link = format!("https://t.me/{username}?start={}", issued.payload);
                self.issued
                    .insert(issued.code.clone(), issued.payload.clone());
                let out = json!({
                    "id": issued.id,
                    "code": binding::display(&issued.code),
                    "link": link,
                    "qr": link,
                    "subject": issued.subject,
                    "title": issued.title,
                    "expires_at": issued.expires_at,
                });
                Ok(Value::from(out.to_string()))
            }
            MethodId::BindingQR => {
                let text = params::string(name(0), &arg(0))?;
                let size = match arg(1) {
                    Param::Empty => DEFAULT_QR_SIZE,
                    other => params::integer(name(1), &other, 21, MAX_QR_SIZE)?,
                };
                let content = match binding::read_secret(&text) {
                    Some(Attempt::Code(code)) => match self.issued.get(&code).cloned() {
                        Some(payload) => {
                            format!("https://t.me/{}?start={payload}", self.username(client, config.client.token.bot_id())?)
                        }
                        None => return Err(localized(
                            ErrorKind::InvalidInput,
                            "BindingQR takes the link (the qr field of NewBindingCode's answer), or a code this object issued.".into(),
                            "QRКодПривязки принимает ссылку (поле qr ответа НовыйКодПривязки) или код, выданный этим объектом.".into(),
                        )),
                    },
                    Some(Attempt::Payload(p)) if text.trim() == p => {
                        format!("https://t.me/{}?start={p}", self.username(client, config.client.token.bot_id())?)
                    }
                    _ => text.trim().to_owned(),
                };
                let png =
                    binding::qr_png(&content, size as u32).map_err(|e| AddinError::Invalid {
                        name: name(0),
                        why: Invalid::Other(e),
                    })?;
                Ok(Value::Blob(png))
            }
            MethodId::BindContact => {
                let secret = secret_arg(name(0), &arg(0))?;
                let wait = match arg(1) {
                    Param::Empty => 0,
                    other => params::integer(name(1), &other, 0, MAX_WAIT_SECS)?,
                };
                let record = binding::find(&store, &secret).ok_or_else(unknown_code)?;
                let deadline = Instant::now() + Duration::from_secs(wait as u64);
                let interceptor = config.interceptor.clone();
                let mut others_receive = false;
                let mut pending_for_others = false;
                loop {
                    match store.ended(&record.id) {
                        Some(Ended::Bound(b)) => {
                            let code = match &secret {
                                Attempt::Code(c) => c.clone(),
                                Attempt::Payload(p) => {
                                    binding::unseal_code(&record, p).unwrap_or_default()
                                }
                            };
                            return Ok(Value::from(binding_json(&code, &b).to_string()));
                        }
                        Some(Ended::Cancelled { .. }) => return Err(cancelled_code()),
                        None => {}
                    }
                    if binding::now() >= record.expires_at {
                        return Err(expired_code());
                    }
                    // Receive by ourselves only when nobody else does: no
                    // poller here, no lease from another process, no 409.
                    let alone = !others_receive
                        && !receiving::polling(config)
                        && store.leased_until() < binding::now();
                    let left = deadline.saturating_duration_since(Instant::now());
                    if let (true, Some(interceptor)) = (alone, &interceptor) {
                        let chunk = if pending_for_others {
                            Duration::ZERO
                        } else {
                            left.min(PEEK_CHUNK)
                        };
                        match receiving::peek(config, interceptor.as_ref(), chunk) {
                            Ok(seen) => {
                                pending_for_others = seen.left > 0;
                                if seen.taken > 0 {
                                    continue;
                                }
                            }
                            Err(telegram::Error::Api { code: 409, .. }) => others_receive = true,
                            Err(e) => return Err(AddinError::Telegram(e)),
                        }
                    }
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Value::Empty);
                    }
                    let pause = if !alone {
                        STORE_PAUSE
                    } else if pending_for_others {
                        BUSY_PAUSE
                    } else {
                        Duration::ZERO
                    };
                    std::thread::sleep(pause.min(left));
                }
            }
            MethodId::CancelBindingCode => {
                let secret = secret_arg(name(0), &arg(0))?;
                match binding::cancel(&store, &secret) {
                    Ok(live) => Ok(Value::Bool(live)),
                    Err(binding::CancelError::Unknown) => Err(unknown_code()),
                    Err(binding::CancelError::Io(e)) => Err(localized(
                        ErrorKind::Config,
                        format!("Cannot cancel the binding code: {e}. Check that the state folder (StateDir) can be written."),
                        format!("Не удалось отменить код привязки: {e}. Проверьте, что в каталог состояния (КаталогСостояния) можно писать."),
                    )),
                }
            }
            _ => Err(AddinError::Internal("not a binding method".into())),
        }
    }

    /// The bot's username, asked of `getMe` once per bot.
    fn username(&mut self, client: &Client, bot_id: &str) -> Result<String, AddinError> {
        if let Some((id, name)) = &self.username {
            if *id == bot_id {
                return Ok(name.clone());
            }
        }
        let me = client
            .call("getMe", &Json::Object(Default::default()))
            .map_err(AddinError::Telegram)?;
        let name = me
            .get("username")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        self.username = Some((bot_id.to_owned(), name.clone()));
        Ok(name)
    }
}

/// A code, payload or link parameter.
fn secret_arg(name: Name, param: &Param<'_>) -> Result<Attempt, AddinError> {
    let text = params::string(name, param)?;
    binding::read_secret(&text).ok_or(AddinError::Invalid {
        name,
        why: Invalid::Other(
            "not a binding code: pass the code or the link from NewBindingCode / не код привязки: передайте код или ссылку из НовыйКодПривязки".into(),
        ),
    })
}

fn unknown_code() -> AddinError {
    localized(
        ErrorKind::InvalidInput,
        "No such binding code: it was not issued with this StateDir, or it expired more than a day ago. Issue a new one with NewBindingCode.".into(),
        "Такого кода привязки нет: он выдан не с этим КаталогСостояния или истёк больше суток назад. Получите новый код методом НовыйКодПривязки.".into(),
    )
}

fn expired_code() -> AddinError {
    localized(
        ErrorKind::InvalidInput,
        "The binding code has expired and nobody redeemed it. Issue a new one with NewBindingCode.".into(),
        "Срок действия кода привязки истёк, и им никто не воспользовался. Получите новый код методом НовыйКодПривязки.".into(),
    )
}

fn cancelled_code() -> AddinError {
    localized(
        ErrorKind::InvalidInput,
        "The binding code was cancelled (CancelBindingCode). Issue a new one with NewBindingCode."
            .into(),
        "Код привязки отменён (ОтменитьКодПривязки). Получите новый код методом НовыйКодПривязки."
            .into(),
    )
}
