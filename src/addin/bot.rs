//! The `Bot` object: settings, the Telegram client, and dispatch of the
//! member table to code.

use std::time::Duration;

use crate::ffi::{AddinObject, Host, Param, Value};
use crate::telegram::{
    self, check_proxy, normalize_api_url, Client, ClientConfig, Token, TokenError,
};

use super::errors::{AddinError, Invalid, Lang, Name};
use super::members::{self, MethodId, MethodSpec, PropId, METHODS, PROPS};
use super::params;

/// The class name, also given to `RegisterExtensionAs`.
pub const CLASS_NAME: &str = "Bot";
/// The event source of every external event.
pub const EVENT_SOURCE: &str = "Telegram";
/// Default `Timeout`, seconds.
const DEFAULT_TIMEOUT_SECS: i64 = 30;
/// Largest `Timeout`, seconds.
const MAX_TIMEOUT_SECS: i64 = 3600;

/// Settings a 1C developer sets through properties.
#[derive(Clone, Debug)]
pub(super) struct Settings {
    pub(super) token: Option<Token>,
    pub(super) api_url: String,
    pub(super) proxy: String,
    pub(super) timeout_secs: i64,
    /// A PEM file of extra root certificates; empty for the system's roots.
    pub(super) ca_file: String,
    pub(super) sending: super::sending::SendSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token: None,
            api_url: telegram::DEFAULT_API_URL.to_owned(),
            proxy: String::new(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            ca_file: String::new(),
            sending: Default::default(),
        }
    }
}

/// Where a debug build was told to panic next.
#[cfg(debug_assertions)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PanicPoint {
    Get,
    Set,
    Call,
    Find,
}

/// The `AddIn.<Name>.Bot` object.
#[derive(Default)]
pub struct Bot {
    pub(super) settings: Settings,
    pub(super) client: Option<Client>,
    pub(super) lang: Lang,
    lang_from_ui: bool,
    pub(super) last_error: String,
    pub(super) host: Option<Host>,
    pub(super) receiving: super::receiving::Receiving,
    pub(super) send: super::sending::SendState,
    delivery: super::delivery::DeliveryPart,
    #[cfg(debug_assertions)]
    panic_at: std::sync::Mutex<Option<PanicPoint>>,
}

impl Bot {
    /// A new object with default settings.
    pub fn new() -> Bot {
        Bot::default()
    }

    #[cfg(debug_assertions)]
    fn maybe_panic(&self, point: PanicPoint) {
        let mut slot = self.panic_at.lock().unwrap_or_else(|e| e.into_inner());
        if *slot == Some(point) {
            *slot = None;
            drop(slot);
            panic!("forced panic at {point:?} (DebugPanic)");
        }
    }

    fn redact(&self, text: &str) -> String {
        match &self.settings.token {
            Some(token) => token.redact(text),
            None => text.to_owned(),
        }
    }

    fn fail(&mut self, error: AddinError) -> String {
        let text = self.redact(&error.text(self.lang));
        self.last_error = text.clone();
        log::warn!("{text}");
        text
    }

    fn client_config(&self) -> Result<ClientConfig, AddinError> {
        let token = self.settings.token.clone().ok_or(AddinError::TokenNotSet)?;
        Ok(ClientConfig {
            token,
            api_url: self.settings.api_url.clone(),
            proxy: self.settings.proxy.clone(),
            timeout: Duration::from_secs(self.settings.timeout_secs as u64),
            ca_file: self.settings.ca_file.clone(),
        })
    }

    pub(super) fn client(&mut self) -> Result<&Client, AddinError> {
        if self.client.is_none() {
            let config = self.client_config()?;
            let options = self.settings.sending.client_options();
            self.client =
                Some(Client::with_options(config, options).map_err(AddinError::Telegram)?);
        }
        self.client.as_ref().ok_or(AddinError::TokenNotSet)
    }

    fn read_prop(&self, id: PropId) -> Value {
        match id {
            PropId::Version => Value::from(env!("CARGO_PKG_VERSION")),
            PropId::Token => Value::from(
                self.settings
                    .token
                    .as_ref()
                    .map(Token::masked)
                    .unwrap_or_default(),
            ),
            PropId::ApiUrl => Value::from(self.settings.api_url.clone()),
            PropId::Proxy => Value::from(telegram::without_userinfo(&self.settings.proxy)),
            PropId::Timeout => Value::Int(self.settings.timeout_secs as i32),
            PropId::CaFile => Value::from(self.settings.ca_file.clone()),
            PropId::LastError => Value::from(self.last_error.clone()),
            PropId::LongPollTimeout
            | PropId::Polling
            | PropId::StateDir
            | PropId::WebhookSecret => self.read_receiving_prop(id),
            PropId::MaxRetries
            | PropId::ConnectTimeout
            | PropId::LocalServer
            | PropId::LogFile
            | PropId::LogLevel
            | PropId::MigratedChatId => self.read_sending_prop(id),
        }
    }

    fn write_prop(&mut self, num: usize, value: Param<'_>) -> Result<(), AddinError> {
        let spec = &PROPS[num];
        let name = Name {
            en: spec.en,
            ru: spec.ru,
        };
        match spec.id {
            PropId::Version | PropId::LastError => return Err(AddinError::ReadOnly(name)),
            PropId::LongPollTimeout
            | PropId::Polling
            | PropId::StateDir
            | PropId::WebhookSecret => return self.write_receiving_prop(spec.id, name, &value),
            PropId::MaxRetries
            | PropId::ConnectTimeout
            | PropId::LocalServer
            | PropId::LogFile
            | PropId::LogLevel
            | PropId::MigratedChatId => self.write_sending_prop(spec.id, name, value)?,
            PropId::Token => {
                let text = params::opt_string(name, &value)?.unwrap_or_default();
                self.settings.token = match Token::parse(&text) {
                    Ok(token) => Some(token),
                    Err(TokenError::Empty) => None,
                    Err(TokenError::Malformed) => {
                        return Err(AddinError::Invalid {
                            name,
                            why: Invalid::TokenShape,
                        })
                    }
                };
            }
            PropId::ApiUrl => {
                let text = params::opt_string(name, &value)?.unwrap_or_default();
                let text = if text.trim().is_empty() {
                    telegram::DEFAULT_API_URL.to_owned()
                } else {
                    text
                };
                self.settings.api_url =
                    normalize_api_url(&text).map_err(|_| AddinError::Invalid {
                        name,
                        why: Invalid::ApiUrl,
                    })?;
            }
            PropId::Proxy => {
                let text = params::opt_string(name, &value)?.unwrap_or_default();
                check_proxy(&text).map_err(|_| AddinError::Invalid {
                    name,
                    why: Invalid::Proxy,
                })?;
                self.settings.proxy = text.trim().to_owned();
            }
            PropId::Timeout => {
                self.settings.timeout_secs = params::integer(name, &value, 1, MAX_TIMEOUT_SECS)?;
            }
            PropId::CaFile => {
                let path = params::opt_string(name, &value)?.unwrap_or_default();
                if !path.trim().is_empty() {
                    telegram::read_ca_file(&path)
                        .map_err(|e| AddinError::Telegram(telegram::Error::Config(e)))?;
                }
                self.settings.ca_file = path.trim().to_owned();
            }
        }
        self.client = None;
        Ok(())
    }

    fn run(&mut self, spec: &MethodSpec, args: &[Param<'_>]) -> Result<Value, AddinError> {
        match spec.id {
            MethodId::StartPolling
            | MethodId::StopPolling
            | MethodId::GetUpdates
            | MethodId::ConfirmUpdates
            | MethodId::SetWebhook
            | MethodId::DeleteWebhook
            | MethodId::ParseWebhook => self.run_receiving(spec, args),
            #[cfg(debug_assertions)]
            MethodId::DebugReceiving => self.run_receiving(spec, args),
            MethodId::GetMe => {
                let me = self.client()?.get_me().map_err(AddinError::Telegram)?;
                Ok(Value::from(me.to_string()))
            }
            MethodId::SendMessage
            | MethodId::SendFile
            | MethodId::AddFile
            | MethodId::CallMethod
            | MethodId::AnswerCallbackQuery
            | MethodId::EditMessage
            | MethodId::DeleteMessage
            | MethodId::DownloadFile
            | MethodId::EscapeMarkdown
            | MethodId::EscapeHtml => self.run_sending(spec, args),
            #[cfg(debug_assertions)]
            MethodId::DebugPanic | MethodId::DebugEvent => self.run_debug(spec, args),
            MethodId::Broadcast
            | MethodId::BroadcastStatus
            | MethodId::CancelBroadcast
            | MethodId::SendBatch => {
                let ctx = super::delivery::Context {
                    client: self.client_config()?,
                    lang: self.lang,
                    host: self.host.clone(),
                    state_dir: self.receiving.state_dir(),
                };
                self.delivery.run(spec, args, ctx, &mut self.send)
            }
        }
    }

    /// The debug-only test hooks.
    #[cfg(debug_assertions)]
    fn run_debug(&mut self, spec: &MethodSpec, args: &[Param<'_>]) -> Result<Value, AddinError> {
        let a = params::Args::new(spec, args);
        let (arg, name) = (|i: usize| a.get(i), |i: usize| a.name(i));
        match spec.id {
            MethodId::DebugPanic => {
                let point = params::string(name(0), &arg(0))?;
                let point = match point.to_lowercase().as_str() {
                    "now" => panic!("forced panic in DebugPanic"),
                    "get" => PanicPoint::Get,
                    "set" => PanicPoint::Set,
                    "call" => PanicPoint::Call,
                    "find" => PanicPoint::Find,
                    other => {
                        return Err(AddinError::Invalid {
                            name: name(0),
                            why: Invalid::Other(format!(
                                "unknown point {other:?}; use now, get, set, call or find"
                            )),
                        })
                    }
                };
                *self.panic_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(point);
                Ok(Value::Empty)
            }
            MethodId::DebugEvent => {
                let message = params::string(name(0), &arg(0))?;
                let data = params::opt_string(name(1), &arg(1))?.unwrap_or_default();
                let sent = self
                    .host
                    .as_ref()
                    .is_some_and(|h| super::events::raise(h, &message, &data));
                Ok(Value::Bool(sent))
            }
            _ => Ok(Value::Empty),
        }
    }
}

impl AddinObject for Bot {
    fn init(&mut self, host: Host) {
        self.host = Some(host);
    }

    fn done(&mut self) {
        self.stop_receiving();
        self.delivery.done();
        self.client = None;
        self.host = None;
    }

    fn extension_name(&self) -> &'static str {
        CLASS_NAME
    }

    fn set_locale(&mut self, locale: &str) {
        if !self.lang_from_ui {
            self.lang = Lang::from_code(locale);
        }
    }

    fn set_user_language(&mut self, code: &str) {
        self.lang = Lang::from_code(code);
        self.lang_from_ui = true;
    }

    fn prop_count(&self) -> usize {
        PROPS.len()
    }

    fn find_prop(&self, name: &str) -> Option<usize> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Find);
        members::find(PROPS, name, |p| [p.en, p.ru])
    }

    fn prop_name(&self, num: usize, alias: usize) -> Option<&'static str> {
        PROPS
            .get(num)
            .and_then(|p| members::alias_name(p.en, p.ru, alias))
    }

    fn is_prop_readable(&self, num: usize) -> bool {
        PROPS.get(num).is_some_and(|p| p.readable)
    }

    fn is_prop_writable(&self, num: usize) -> bool {
        PROPS.get(num).is_some_and(|p| p.writable)
    }

    fn get_prop(&mut self, num: usize) -> Result<Value, String> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Get);
        match PROPS.get(num) {
            Some(spec) => Ok(self.read_prop(spec.id)),
            None => Err(self.fail(AddinError::Internal("property number out of range".into()))),
        }
    }

    fn set_prop(&mut self, num: usize, value: Param<'_>) -> Result<(), String> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Set);
        if num >= PROPS.len() {
            return Err(self.fail(AddinError::Internal("property number out of range".into())));
        }
        self.write_prop(num, value).map_err(|e| self.fail(e))
    }

    fn method_count(&self) -> usize {
        METHODS.len()
    }

    fn find_method(&self, name: &str) -> Option<usize> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Find);
        members::find(METHODS, name, |m| [m.en, m.ru])
    }

    fn method_name(&self, num: usize, alias: usize) -> Option<&'static str> {
        METHODS
            .get(num)
            .and_then(|m| members::alias_name(m.en, m.ru, alias))
    }

    fn param_count(&self, method: usize) -> usize {
        METHODS.get(method).map_or(0, |m| m.params.len())
    }

    fn param_default(&self, method: usize, param: usize) -> Option<Value> {
        let spec = METHODS.get(method)?.params.get(param)?;
        spec.default.map(|d| match d {
            members::Default::Undefined => Value::Empty,
        })
    }

    fn has_result(&self, method: usize) -> bool {
        METHODS.get(method).is_some_and(|m| m.returns)
    }

    fn call(
        &mut self,
        method: usize,
        params: &[Param<'_>],
        _want_result: bool,
    ) -> Result<Value, String> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Call);
        let Some(spec) = METHODS.get(method) else {
            return Err(self.fail(AddinError::Internal("method number out of range".into())));
        };
        self.last_error.clear();
        let _log = crate::logging::enter(self.send.log_sink());
        self.run(spec, params).map_err(|e| self.fail(e))
    }

    fn panic_text(&mut self, detail: &str) -> String {
        let detail = self.redact(detail);
        self.fail(AddinError::Internal(detail))
    }
}
