//! Receiving on the `Bot` object: polling to external events on clients,
//! pull with confirmation on the server, webhooks. The work itself is in
//! [`crate::receiving`]; this file turns it into 1C members and texts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::ffi::{Host, Param, Value};
use crate::receiving::{
    self, default_state_dir, json_array, parse_webhook, BackoffConfig, Delivery, Notice,
    PollerConfig, PullError, Status, Subscription, Update, UpdateSink, WebhookError,
};
use crate::telegram::{self, ClientConfig, Token};

use super::bot::Bot;
use super::errors::{AddinError, Invalid, Lang, Name};
use super::members::{MethodId, MethodSpec, PropId};
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
/// The event message of connection notices.
pub const ERROR_EVENT: &str = "error";

/// Tuning that only tests change (through `DebugReceiving` in debug builds).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tuning {
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

/// The receiving state of one `Bot` object.
#[derive(Default)]
pub(super) struct Receiving {
    long_poll_secs: Option<i64>,
    state_dir: String,
    webhook_secret: String,
    subscription: Option<Subscription>,
    /// The subscription raises external events (else it is pulled).
    events: bool,
    tuning: Tuning,
}

impl Receiving {
    /// The state folder (`StateDir`, or the default one).
    pub(super) fn state_dir(&self) -> PathBuf {
        if self.state_dir.is_empty() {
            default_state_dir()
        } else {
            PathBuf::from(&self.state_dir)
        }
    }
}

/// Raises updates and notices as external events of one object.
struct HostSink {
    host: Host,
    lang: Lang,
    token: Token,
}

impl UpdateSink for HostSink {
    fn offer(&self, update: &Update) -> bool {
        super::events::raise(&self.host, &update.kind, &update.json)
    }

    fn notify(&self, notice: &Notice) -> bool {
        let data = notice_json(notice, self.lang, &self.token);
        super::events::raise(&self.host, ERROR_EVENT, &data)
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
            "description": pick(lang,
                format!("Connection to Telegram lost: {} Retrying with growing pauses; an event with state \"restored\" follows when it works again.", text(e)),
                format!("Связь с Telegram потеряна: {} Повторяем с растущими паузами; когда связь вернётся, придёт событие с state \"restored\".", text(e))),
        }),
        Notice::Conflict(e) => json!({
            "state": "conflict",
            "code": 409,
            "description": pick(lang,
                format!("{} Another program receives updates of this bot, or a webhook is set. Stop the other program, or call DeleteWebhook; retrying meanwhile.", text(e)),
                format!("{} Обновления этого бота получает другая программа, или установлен webhook. Остановите другую программу или вызовите УдалитьWebhook; пока повторяем.", text(e))),
        }),
        Notice::Restored => json!({
            "state": "restored",
            "description": pick(lang, "Connection to Telegram restored.".into(), "Связь с Telegram восстановлена.".into()),
        }),
        Notice::Stopped(e) => json!({
            "state": "stopped",
            "code": code(e),
            "description": stopped_text(lang, &text(e)),
        }),
    };
    value.to_string()
}

fn stopped_text(lang: Lang, detail: &str) -> String {
    pick(lang,
        format!("{detail} Receiving stopped: the token was revoked or is wrong. Set a valid Token and call StartPolling again."),
        format!("{detail} Получение остановлено: токен отозван или неверен. Задайте верный Токен и снова вызовите НачатьПолучение."))
}

fn pick(lang: Lang, en: String, ru: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Ru => ru,
    }
}

fn localized(en: String, ru: String) -> AddinError {
    AddinError::Localized { en, ru }
}

/// An optional whole number; Undefined gives `default`.
fn opt_integer(
    name: Name,
    param: &Param<'_>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, AddinError> {
    match param {
        Param::Empty => Ok(default),
        other => params::integer(name, other, min, max),
    }
}

/// An optional Boolean; Undefined gives false.
fn opt_bool(name: Name, param: &Param<'_>) -> Result<bool, AddinError> {
    match param {
        Param::Empty => Ok(false),
        Param::Bool(b) => Ok(*b),
        other => Err(localized(
            format!(
                "Parameter '{}' must be Boolean, but {:?} was passed.",
                name.en,
                params::got(other)
            ),
            format!(
                "Параметр '{}' должен иметь тип Булево, а передано значение типа {:?}.",
                name.ru,
                params::got(other)
            ),
        )),
    }
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

impl Bot {
    pub(super) fn read_receiving_prop(&self, id: PropId) -> Value {
        let r = &self.receiving;
        match id {
            PropId::LongPollTimeout => {
                Value::Int(r.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS) as i32)
            }
            PropId::Polling => Value::Bool(r.subscription.as_ref().is_some_and(|s| s.running())),
            PropId::StateDir => Value::from(if r.state_dir.is_empty() {
                default_state_dir().display().to_string()
            } else {
                r.state_dir.clone()
            }),
            PropId::WebhookSecret => Value::from(if r.webhook_secret.is_empty() {
                ""
            } else {
                "***"
            }),
            _ => Value::Empty,
        }
    }

    pub(super) fn write_receiving_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        match id {
            PropId::LongPollTimeout => {
                self.receiving.long_poll_secs =
                    Some(params::integer(name, value, 0, MAX_LONG_POLL_SECS)?);
            }
            PropId::StateDir => {
                self.receiving.state_dir = params::opt_string(name, value)?
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
            PropId::WebhookSecret => {
                let secret = params::opt_string(name, value)?.unwrap_or_default();
                check_secret(name, &secret)?;
                self.receiving.webhook_secret = secret;
            }
            _ => return Err(AddinError::ReadOnly(name)),
        }
        Ok(())
    }

    /// Runs a receiving method.
    pub(super) fn run_receiving(
        &mut self,
        spec: &MethodSpec,
        args: &[Param<'_>],
    ) -> Result<Value, AddinError> {
        let a = Args::new(spec, args);
        let arg = |i: usize| a.get(i);
        let name = |i: usize| a.name(i);
        match spec.id {
            MethodId::StartPolling => {
                let allowed = allowed_updates(name(0), &arg(0))?;
                self.start_polling(allowed)?;
                Ok(Value::Bool(true))
            }
            MethodId::StopPolling => {
                let was = self.receiving.subscription.is_some();
                self.stop_receiving();
                Ok(Value::Bool(was))
            }
            MethodId::GetUpdates => {
                let wait = opt_integer(name(0), &arg(0), 0, 0, MAX_WAIT_SECS)?;
                let limit = opt_integer(name(1), &arg(1), DEFAULT_LIMIT, 1, MAX_LIMIT)?;
                self.get_updates(Duration::from_secs(wait as u64), limit as usize)
            }
            MethodId::ConfirmUpdates => {
                let limit = 1i64 << 53;
                let id = params::integer(name(0), &arg(0), -limit, limit)?;
                match &self.receiving.subscription {
                    Some(s) if !self.receiving.events => {
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
                let done = self
                    .client()?
                    .call("setWebhook", &body.into())
                    .map_err(AddinError::Telegram)?;
                if !secret.is_empty() {
                    self.receiving.webhook_secret = secret;
                }
                Ok(Value::Bool(done.as_bool().unwrap_or(true)))
            }
            MethodId::DeleteWebhook => {
                let drop_pending = opt_bool(name(0), &arg(0))?;
                let done = self
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
                match parse_webhook(&body, &header, &self.receiving.webhook_secret) {
                    Ok(update) => Ok(Value::from(update.json)),
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
                let t = &mut self.receiving.tuning;
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
    pub(super) fn stop_receiving(&mut self) {
        self.receiving.subscription = None;
        self.receiving.events = false;
    }

    fn poller_config(&self) -> Result<PollerConfig, AddinError> {
        let token = self.settings.token.clone().ok_or(AddinError::TokenNotSet)?;
        let r = &self.receiving;
        let state_dir = if r.state_dir.is_empty() {
            default_state_dir()
        } else {
            PathBuf::from(&r.state_dir)
        };
        Ok(PollerConfig {
            client: ClientConfig {
                token,
                api_url: self.settings.api_url.clone(),
                proxy: self.settings.proxy.clone(),
                timeout: Duration::from_secs(self.settings.timeout_secs as u64),
                ca_file: self.settings.ca_file.clone(),
            },
            long_poll: Duration::from_secs(
                r.long_poll_secs.unwrap_or(DEFAULT_LONG_POLL_SECS) as u64
            ),
            state_dir,
            backoff: r.tuning.backoff,
            min_interval: r.tuning.min_interval,
            redelivery_cap: r.tuning.redelivery_cap,
        })
    }

    fn subscribe(
        &self,
        delivery: Delivery,
        allowed: Option<Vec<String>>,
    ) -> Result<Subscription, AddinError> {
        let config = self.poller_config()?;
        let dir = config.state_dir.display().to_string();
        receiving::subscribe(config, delivery, allowed).map_err(|e| {
            localized(
                format!("Cannot start receiving updates: {e}. Check that the state folder {dir} (StateDir) can be written, and the ApiUrl and Proxy settings."),
                format!("Не удалось начать получение обновлений: {e}. Проверьте, что в каталог состояния {dir} (КаталогСостояния) можно писать, и настройки АдресAPI и Прокси."),
            )
        })
    }

    fn start_polling(&mut self, allowed: Option<Vec<String>>) -> Result<(), AddinError> {
        self.stop_receiving();
        let server = self.host.as_ref().is_none_or(|h| h.app_type().is_server());
        let delivery = match (&self.host, server) {
            (Some(host), false) => {
                let depth = self
                    .receiving
                    .tuning
                    .event_depth
                    .unwrap_or(EVENT_BUFFER_DEPTH);
                if self.receiving.tuning.event_depth.is_some() || host.event_buffer_depth() < depth
                {
                    host.set_event_buffer_depth(depth);
                }
                let token = self.settings.token.clone().ok_or(AddinError::TokenNotSet)?;
                Delivery::Events(Arc::new(HostSink {
                    host: host.clone(),
                    lang: self.lang,
                    token,
                }))
            }
            _ => Delivery::Pull,
        };
        let events = matches!(delivery, Delivery::Events(_));
        self.receiving.subscription = Some(self.subscribe(delivery, allowed)?);
        self.receiving.events = events;
        Ok(())
    }

    fn get_updates(&mut self, wait: Duration, limit: usize) -> Result<Value, AddinError> {
        if self.receiving.events && self.receiving.subscription.is_some() {
            return Err(localized(
                "Updates arrive as external events while StartPolling runs in a client; handle them in ВнешнееСобытие, or call StopPolling before GetUpdates.".into(),
                "Пока в клиенте работает НачатьПолучение, обновления приходят внешними событиями; обрабатывайте их в ВнешнееСобытие или вызовите ОстановитьПолучение перед ПолучитьОбновления.".into(),
            ));
        }
        if self.receiving.subscription.is_none() {
            self.receiving.subscription = Some(self.subscribe(Delivery::Pull, None)?);
            self.receiving.events = false;
        }
        let Some(subscription) = &self.receiving.subscription else {
            return Err(AddinError::Internal("no subscription".into()));
        };
        match subscription.pull(wait, limit) {
            Ok(batch) => {
                if batch.is_empty() {
                    let status = subscription.status();
                    if let Status::Lost(e) | Status::Conflict(e) = status {
                        let text = AddinError::Telegram(e).text(self.lang);
                        self.last_error = self.redact_text(&pick(
                            self.lang,
                            format!("Connection to Telegram lost, retrying: {text}"),
                            format!("Связь с Telegram потеряна, повторяем: {text}"),
                        ));
                    }
                }
                Ok(Value::from(json_array(&batch)))
            }
            Err(PullError::Unauthorized(e)) => {
                self.stop_receiving();
                let detail = AddinError::Telegram(e).text(self.lang);
                Err(localized(
                    stopped_text(Lang::En, &detail),
                    stopped_text(Lang::Ru, &detail),
                ))
            }
            Err(PullError::Stopped) => {
                self.stop_receiving();
                Err(AddinError::Internal("the poller stopped".into()))
            }
        }
    }

    fn redact_text(&self, text: &str) -> String {
        match &self.settings.token {
            Some(token) => token.redact(text),
            None => text.to_owned(),
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
            "WebhookSecret is not set, so the request cannot be checked. Pass Secret to SetWebhook or set WebhookSecret to the secret given to Telegram.".into(),
            "Не задан СекретWebhook, поэтому запрос нельзя проверить. Передайте Секрет в УстановитьWebhook или задайте СекретWebhook, указанный Telegram.".into(),
        ),
        WebhookError::WrongSecret => localized(
            "The webhook request is refused: its X-Telegram-Bot-Api-Secret-Token header does not match WebhookSecret. It did not come from Telegram; answer it with HTTP 403.".into(),
            "Запрос webhook отклонён: заголовок X-Telegram-Bot-Api-Secret-Token не совпадает с СекретWebhook. Запрос пришёл не от Telegram; ответьте на него кодом HTTP 403.".into(),
        ),
        WebhookError::NotAnUpdate(detail) => localized(
            format!("The webhook request body is not a Telegram update: {detail}."),
            format!("Тело запроса webhook не является обновлением Telegram: {detail}."),
        ),
    }
}
