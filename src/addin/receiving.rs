//! The receiving part: polling to external events on clients, pull with
//! confirmation on the server, webhooks. The work itself is in
//! [`crate::receiving`]; this file turns it into 1C members and texts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::ffi::{Host, Param, Value};
use crate::receiving::{
    self, default_state_dir, json_array, parse_webhook, BackoffConfig, Delivery, Intercepted,
    InterceptorSource, Notice, OffsetStore, PollerConfig, PullError, Status, Subscription, Update,
    UpdateSink, WebhookError,
};
use crate::telegram::{self, Token};

use super::context::Context;
use super::errors::{AddinError, ErrorKind, Invalid, Lang, Name, PathRole};
use super::events::{self, ERROR_EVENT};
use super::members::{MethodId, PropId};
use super::params::{self, Args};

/// Default `LongPollTimeout`, seconds.
const DEFAULT_LONG_POLL_SECS: i64 = 25;
/// Largest `LongPollTimeout`, seconds.
const MAX_LONG_POLL_SECS: i64 = 600;
/// The event buffer depth asked of the platform when polling starts.
const EVENT_BUFFER_DEPTH: i64 = 256;
/// Largest `WaitSeconds` of `GetUpdates`.
const MAX_WAIT_SECS: i64 = 3600;
/// Default and largest `Limit` of `GetUpdates`.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// Tuning that only tests change (through `DebugReceiving` in debug builds).
#[derive(Clone, Copy, Debug)]
struct Tuning {
    backoff: BackoffConfig,
    min_interval: Duration,
    redelivery_cap: Duration,
    /// Event buffer depth to set instead of [`EVENT_BUFFER_DEPTH`].
    event_depth: Option<i64>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            backoff: BackoffConfig::default(),
            min_interval: Duration::from_millis(500),
            redelivery_cap: Duration::from_millis(50),
            event_depth: None,
        }
    }
}

/// The receiving state of one object.
#[derive(Default)]
pub struct Receiving {
    long_poll_secs: Option<i64>,
    state_dir: String,
    webhook_secret: String,
    subscription: Option<Subscription>,
    /// The subscription raises external events (else it is pulled).
    events: bool,
    /// `ConfirmEvents`: in event mode the offset moves only on `ConfirmUpdates`.
    confirm_events: bool,
    /// Whether the running event subscription was started with `confirm_events`.
    events_confirmed: bool,
    tuning: Tuning,
    /// Makes the interceptor put in front of subscribers (the object's binding).
    interceptors: Option<Arc<dyn InterceptorSource>>,
}

/// Raises updates and notices as external events of one object.
struct HostSink {
    host: Host,
    lang: Lang,
    token: Token,
    confirm: bool,
}

impl UpdateSink for HostSink {
    fn offer(&self, update: &Update) -> bool {
        events::raise(&self.host, &update.kind, &update.json)
    }

    fn notify(&self, notice: &Notice) -> bool {
        let data = notice_json(notice, self.lang, &self.token);
        events::raise(&self.host, ERROR_EVENT, &data)
    }

    fn needs_confirmation(&self) -> bool {
        self.confirm
    }
}

/// The data of an `error` event: `{"state":…, "code":…, "description":…}`.
fn notice_json(notice: &Notice, lang: Lang, token: &Token) -> String {
    let text = |e: &telegram::Error| token.redact(&AddinError::Telegram(e.clone()).text(lang));
    let code = |e: &telegram::Error| match e {
        telegram::Error::Api { code, .. } => json!(code),
        _ => Json::Null,
    };
    let value = match notice {
        Notice::Lost(e) => json!({
            "state": "lost",
            "code": code(e),
            "description": lang.pick(
                format!("Connection to Telegram lost: {} Retrying with growing pauses; an event with state \"restored\" follows when it works again.", text(e)),
                format!("Связь с Telegram потеряна: {} Повторяем с растущими паузами; когда связь вернётся, придёт событие с state \"restored\".", text(e))),
        }),
        Notice::Conflict(e) => json!({
            "state": "conflict",
            "code": 409,
            "description": lang.pick(
                format!("{} Another program receives updates of this bot, or a webhook is set. Stop the other program, or call DeleteWebhook; retrying meanwhile.", text(e)),
                format!("{} Обновления этого бота получает другая программа, или установлен webhook. Остановите другую программу или вызовите УдалитьWebhook; пока повторяем.", text(e))),
        }),
        Notice::Restored => json!({
            "state": "restored",
            "description": lang.pick( "Connection to Telegram restored.".into(), "Связь с Telegram восстановлена.".into()),
        }),
        Notice::Stopped(e) => json!({
            "state": "stopped",
            "code": code(e),
            "description": stopped_text(lang, &text(e)),
        }),
        Notice::NotSaved(detail) => json!({
            "state": "not_saved",
            "description": not_saved_text(lang, &token.redact(detail)),
        }),
    };
    value.to_string()
}

fn stopped_text(lang: Lang, detail: &str) -> String {
    lang.pick(
        format!("{detail} Receiving stopped: the token was revoked or is wrong. Set a valid Token and call StartPolling again."),
        format!("{detail} Получение остановлено: токен отозван или неверен. Задайте верный Токен и снова вызовите НачатьПолучение."))
}

fn not_saved_text(lang: Lang, detail: &str) -> String {
    lang.pick(
        format!("Cannot save the receiving position (offset) to {detail}. Receiving goes on, but after a restart updates already handled may come again. Check that the state folder (StateDir) can be written."),
        format!("Не удалось сохранить позицию получения (offset) в {detail}. Получение продолжается, но после перезапуска уже обработанные обновления могут прийти снова. Проверьте, что в каталог состояния (КаталогСостояния) можно писать."),
    )
}

fn localized(kind: ErrorKind, en: String, ru: String) -> AddinError {
    AddinError::Localized { kind, en, ru }
}

/// `UpdateId` of `ConfirmUpdates`: a number, or an update's JSON text as an
/// event's `Data` (or `GetUpdates`) gives it — its leading `update_id` is read.
fn update_id_param(name: Name, param: &Param<'_>) -> Result<i64, AddinError> {
    let limit = 1i64 << 53;
    let Param::Str(units) = param else {
        return params::integer(name, param, -limit, limit);
    };
    let text = params::decode(name, units)?;
    let text = text.trim();
    let id = if text.starts_with('{') {
        receiving::leading_update_id(text)
    } else {
        text.parse().ok()
    };
    id.filter(|id| id.abs() <= limit).ok_or_else(|| AddinError::Invalid {
        name,
        why: Invalid::Other(
            "pass the update_id (a number) or the event's Data as it came / передайте update_id (число) или Данные события как есть".into(),
        ),
    })
}

/// `AllowedUpdates`: a JSON array of update kinds; Undefined, "" or `[]` mean all.
fn allowed_updates(name: Name, param: &Param<'_>) -> Result<Option<Vec<String>>, AddinError> {
    let text = params::opt_string(name, param)?.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(None);
    }
    let invalid = |why: String| AddinError::Invalid {
        name,
        why: Invalid::Other(why),
    };
    let value: Json = serde_json::from_str(&text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let Json::Array(items) = value else {
        return Err(invalid(
            "must be a JSON array of update kinds, e.g. [\"message\",\"callback_query\"]".into(),
        ));
    };
    let mut kinds = Vec::new();
    for item in items {
        match item {
            Json::String(s) if !s.trim().is_empty() => kinds.push(s.trim().to_owned()),
            _ => return Err(invalid("every item must be an update kind string".into())),
        }
    }
    Ok((!kinds.is_empty()).then_some(kinds))
}

impl Receiving {
    /// A receiving part whose updates pass `source`'s interceptor first.
    pub fn with_interceptors(source: Arc<dyn InterceptorSource>) -> Receiving {
        Receiving {
            interceptors: Some(source),
            ..Receiving::default()
        }
    }

    /// The folder of the offset files (`StateDir`, or the default).
    pub fn state_dir(&self) -> PathBuf {
        if self.state_dir.is_empty() {
            default_state_dir()
        } else {
            PathBuf::from(&self.state_dir)
        }
    }

    /// Reads a receiving property.
    pub fn read_prop(&self, id: PropId) -> Value {
        match id {
            PropId::LongPollTimeout => {
                Value::Int(self.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS) as i32)
            }
            PropId::Polling => Value::Bool(self.subscription.as_ref().is_some_and(|s| s.running())),
            PropId::StateDir => Value::from(self.state_dir().display().to_string()),
            PropId::WebhookSecret => Value::from(if self.webhook_secret.is_empty() {
                ""
            } else {
                "***"
            }),
            PropId::ConfirmEvents => Value::Bool(self.confirm_events),
            _ => Value::Empty,
        }
    }

    /// Writes a receiving property.
    pub fn write_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        match id {
            PropId::LongPollTimeout => {
                self.long_poll_secs = Some(params::integer(name, value, 0, MAX_LONG_POLL_SECS)?);
            }
            PropId::StateDir => {
                self.state_dir = params::opt_string(name, value)?
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
            PropId::WebhookSecret => {
                let secret = params::opt_string(name, value)?.unwrap_or_default();
                check_secret(name, &secret)?;
                self.webhook_secret = secret;
            }
            PropId::ConfirmEvents => {
                // Takes effect at the next StartPolling.
                self.confirm_events = params::opt_bool(name, value, false)?;
            }
            _ => return Err(AddinError::ReadOnly(name)),
        }
        Ok(())
    }

    /// Runs a receiving method; a failure to save the offset is told in `LastError`.
    pub fn run(&mut self, cx: &mut Context<'_>, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        let store_error = || self.subscription.as_ref().and_then(|s| s.store_error());
        let before = store_error();
        let result = self.run_method(cx, a);
        let store_error = self.subscription.as_ref().and_then(|s| s.store_error());
        if let Some(detail) = store_error.or(before) {
            cx.warning = Some(not_saved_text(cx.lang, &detail));
        }
        result
    }

    fn run_method(&mut self, cx: &mut Context<'_>, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        let arg = |i: usize| a.get(i);
        let name = |i: usize| a.name(i);
        match a.id() {
            MethodId::StartPolling => {
                let allowed = allowed_updates(name(0), &arg(0))?;
                self.start_polling(cx, allowed)?;
                Ok(Value::Bool(true))
            }
            MethodId::StopPolling => {
                let was = self.subscription.is_some();
                self.stop();
                Ok(Value::Bool(was))
            }
            MethodId::GetUpdates => {
                let wait = params::opt_integer(name(0), &arg(0), 0, 0, MAX_WAIT_SECS)?;
                let limit = params::opt_integer(name(1), &arg(1), DEFAULT_LIMIT, 1, MAX_LIMIT)?;
                self.get_updates(cx, Duration::from_secs(wait as u64), limit as usize)
            }
            MethodId::ConfirmUpdates => {
                let id = update_id_param(name(0), &arg(0))?;
                match &self.subscription {
                    Some(s) if !self.events || self.events_confirmed => {
                        s.confirm(id);
                        Ok(Value::Bool(true))
                    }
                    _ => Ok(Value::Bool(false)),
                }
            }
            MethodId::SetWebhook => {
                let url = params::string(name(0), &arg(0))?;
                let secret = params::opt_string(name(1), &arg(1))?.unwrap_or_default();
                check_secret(name(1), &secret)?;
                let mut body = params::options(name(2), &arg(2))?;
                body.insert("url".into(), url.trim().into());
                if !secret.is_empty() {
                    body.insert("secret_token".into(), secret.clone().into());
                }
                let done = cx
                    .client()?
                    .call("setWebhook", &body.into())
                    .map_err(AddinError::Telegram)?;
                if !secret.is_empty() {
                    self.webhook_secret = secret;
                }
                Ok(Value::Bool(done.as_bool().unwrap_or(true)))
            }
            MethodId::DeleteWebhook => {
                let drop_pending = params::opt_bool(name(0), &arg(0), false)?;
                let done = cx
                    .client()?
                    .call(
                        "deleteWebhook",
                        &json!({ "drop_pending_updates": drop_pending }),
                    )
                    .map_err(AddinError::Telegram)?;
                Ok(Value::Bool(done.as_bool().unwrap_or(true)))
            }
            MethodId::ParseWebhook => {
                let body = match arg(0) {
                    Param::Blob(bytes) => {
                        String::from_utf8(bytes.to_vec()).map_err(|_| AddinError::Invalid {
                            name: name(0),
                            why: Invalid::Other("not UTF-8 text".into()),
                        })?
                    }
                    other => params::string(name(0), &other)?,
                };
                let header = params::opt_string(name(1), &arg(1))?.unwrap_or_default();
                match parse_webhook(&body, &header, &self.webhook_secret) {
                    // A binding attempt is redeemed here too (without a
                    // token nothing can be answered, so nothing is).
                    Ok(update) => Ok(Value::from(match self.poller_config(cx) {
                        Ok(PollerConfig {
                            interceptor: Some(i),
                            ..
                        }) => match i.intercept(&update) {
                            Intercepted::Pass => update.json,
                            Intercepted::Replaced(u) => u.json,
                            Intercepted::Consumed => json!({ "update_id": update.id }).to_string(),
                        },
                        _ => update.json,
                    })),
                    Err(e) => Err(webhook_error(&e)),
                }
            }
            #[cfg(debug_assertions)]
            MethodId::DebugReceiving => {
                let options = params::options(name(0), &arg(0))?;
                let ms = |key: &str| {
                    options
                        .get(key)
                        .and_then(Json::as_u64)
                        .map(Duration::from_millis)
                };
                let t = &mut self.tuning;
                if let Some(d) = ms("backoff_initial_ms") {
                    t.backoff.initial = d;
                }
                if let Some(d) = ms("backoff_cap_ms") {
                    t.backoff.cap = d;
                }
                if let Some(d) = ms("min_interval_ms") {
                    t.min_interval = d;
                }
                if let Some(d) = ms("redelivery_cap_ms") {
                    t.redelivery_cap = d;
                }
                if let Some(depth) = options.get("event_depth").and_then(Json::as_i64) {
                    t.event_depth = Some(depth);
                }
                Ok(Value::Bool(true))
            }
            _ => Err(AddinError::Internal("not a receiving method".into())),
        }
    }

    /// Stops this object's polling; the shared poller stops with its last subscriber.
    pub fn stop(&mut self) {
        self.subscription = None;
        self.events = false;
        self.events_confirmed = false;
    }

    /// The receiving configuration of this object's bot, with the
    /// interceptor from the object's source (binding) in front of subscribers.
    pub fn poller_config(&self, cx: &Context<'_>) -> Result<PollerConfig, AddinError> {
        let client = cx.connection.config()?;
        let state_dir = self.state_dir();
        let interceptor = self
            .interceptors
            .as_ref()
            .map(|source| source.interceptor(&client, &state_dir));
        Ok(PollerConfig {
            client,
            long_poll: Duration::from_secs(
                self.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS) as u64
            ),
            state_dir,
            backoff: self.tuning.backoff,
            min_interval: self.tuning.min_interval,
            redelivery_cap: self.tuning.redelivery_cap,
            interceptor,
            log: crate::logging::current(),
        })
    }

    fn subscribe(
        &self,
        cx: &Context<'_>,
        delivery: Delivery,
        allowed: Option<Vec<String>>,
    ) -> Result<Subscription, AddinError> {
        let config = self.poller_config(cx)?;
        let dir = config.state_dir.display().to_string();
        let store = OffsetStore::new(
            &config.state_dir,
            &config.client.token,
            &config.client.api_url,
        );
        store.check().map_err(|error| AddinError::Path {
            role: PathRole::State,
            path: store.path().display().to_string(),
            error,
        })?;
        receiving::subscribe(config, delivery, allowed).map_err(|e| {
            localized(
                ErrorKind::Config,
                format!("Cannot start receiving updates: {e}. Check that the state folder {dir} (StateDir) can be written, and the ApiUrl and Proxy settings."),
                format!("Не удалось начать получение обновлений: {e}. Проверьте, что в каталог состояния {dir} (КаталогСостояния) можно писать, и настройки АдресAPI и Прокси."),
            )
        })
    }

    fn start_polling(
        &mut self,
        cx: &Context<'_>,
        allowed: Option<Vec<String>>,
    ) -> Result<(), AddinError> {
        self.stop();
        let server = cx.host.is_none_or(|h| h.app_type().is_server());
        let delivery = match (cx.host, server) {
            (Some(host), false) => {
                let depth = self.tuning.event_depth.unwrap_or(EVENT_BUFFER_DEPTH);
                if self.tuning.event_depth.is_some() || host.event_buffer_depth() < depth {
                    host.set_event_buffer_depth(depth);
                }
                let token = cx.connection.token().ok_or(AddinError::TokenNotSet)?;
                Delivery::Events(Arc::new(HostSink {
                    host: host.clone(),
                    lang: cx.lang,
                    token: token.clone(),
                    confirm: self.confirm_events,
                }))
            }
            _ => Delivery::Pull,
        };
        let events = matches!(delivery, Delivery::Events(_));
        self.subscription = Some(self.subscribe(cx, delivery, allowed)?);
        self.events = events;
        self.events_confirmed = events && self.confirm_events;
        Ok(())
    }

    fn get_updates(
        &mut self,
        cx: &mut Context<'_>,
        wait: Duration,
        limit: usize,
    ) -> Result<Value, AddinError> {
        let polling = self
            .subscription
            .as_ref()
            .is_some_and(Subscription::running);
        if self.events && !polling {
            // Polling stopped by itself (a 401): pulling is allowed again.
            self.stop();
        }
        if self.events && polling {
            return Err(localized(
                ErrorKind::InvalidInput,
                "Updates arrive as external events while StartPolling runs in a client; handle them in the form's ExternalEvent handler, or call StopPolling before GetUpdates.".into(),
                "Пока в клиенте работает НачатьПолучение, обновления приходят внешними событиями; обрабатывайте их в ВнешнееСобытие или вызовите ОстановитьПолучение перед ПолучитьОбновления.".into(),
            ));
        }
        if self.subscription.is_none() {
            self.subscription = Some(self.subscribe(cx, Delivery::Pull, None)?);
            self.events = false;
        }
        let Some(subscription) = &self.subscription else {
            return Err(AddinError::Internal("no subscription".into()));
        };
        match subscription.pull(wait, limit) {
            Ok(batch) => {
                if batch.is_empty() {
                    let status = subscription.status();
                    if let Status::Lost(e) | Status::Conflict(e) = status {
                        let text = AddinError::Telegram(e).text(cx.lang);
                        cx.warning = Some(cx.lang.pick(
                            format!("Connection to Telegram lost, retrying: {text}"),
                            format!("Связь с Telegram потеряна, повторяем: {text}"),
                        ));
                    }
                }
                Ok(Value::from(json_array(&batch)))
            }
            Err(PullError::Unauthorized(e)) => {
                self.stop();
                let detail = AddinError::Telegram(e).text(cx.lang);
                Err(localized(
                    ErrorKind::Unauthorized,
                    stopped_text(Lang::En, &detail),
                    stopped_text(Lang::Ru, &detail),
                ))
            }
            Err(PullError::Stopped) => {
                self.stop();
                Err(AddinError::Internal("the poller stopped".into()))
            }
        }
    }
}

/// Telegram allows 1–256 characters `A-Z a-z 0-9 _ -` in a secret token.
fn check_secret(name: Name, secret: &str) -> Result<(), AddinError> {
    let ok = secret.len() <= 256
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AddinError::Invalid {
            name,
            why: Invalid::Other(
                "a secret takes 1-256 characters A-Z, a-z, 0-9, _ and - / секрет: 1-256 символов A-Z, a-z, 0-9, _ и -".into(),
            ),
        })
    }
}

fn webhook_error(e: &WebhookError) -> AddinError {
    match e {
        WebhookError::NoSecret => localized(
                ErrorKind::Config,
            "WebhookSecret is not set, so the request cannot be checked. Pass Secret to SetWebhook or set WebhookSecret to the secret given to Telegram.".into(),
            "Не задан СекретWebhook, поэтому запрос нельзя проверить. Передайте Секрет в УстановитьWebhook или задайте СекретWebhook, указанный Telegram.".into(),
        ),
        WebhookError::WrongSecret => localized(
                ErrorKind::InvalidInput,
            "The webhook request is refused: its X-Telegram-Bot-Api-Secret-Token header does not match WebhookSecret. It did not come from Telegram; answer it with HTTP 403.".into(),
            "Запрос webhook отклонён: заголовок X-Telegram-Bot-Api-Secret-Token не совпадает с СекретWebhook. Запрос пришёл не от Telegram; ответьте на него кодом HTTP 403.".into(),
        ),
        WebhookError::NotAnUpdate(detail) => localized(
                ErrorKind::InvalidInput,
            format!("The webhook request body is not a Telegram update: {detail}."),
            format!("Тело запроса webhook не является обновлением Telegram: {detail}."),
        ),
    }
}
