//! The `Bot` object: dispatch of the member table to its parts, the last
//! error, the language of texts and the debug hooks. Everything else lives
//! in the parts (`connection.rs`, `journal.rs`, `sending.rs`,
//! `receiving.rs`, `binding.rs`, `delivery.rs`), each with its own state.

use crate::ffi::{AddinObject, Host, Param, Value};

use super::binding::BindingPart;
use super::connection::Connection;
use super::context::Context;
use super::delivery::DeliveryPart;
use super::errors::{AddinError, Lang, Name};
use super::journal::Journal;
use super::members::{self, MethodSpec, Part, PropId, PropSpec, METHODS, PROPS};
use super::params::Args;
use super::receiving::Receiving;
use super::sending::Sending;

/// The class name, also given to `RegisterExtensionAs`.
pub const CLASS_NAME: &str = "Bot";

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
pub struct Bot {
    connection: Connection,
    journal: Journal,
    sending: Sending,
    receiving: Receiving,
    binding: BindingPart,
    delivery: DeliveryPart,
    lang: Lang,
    lang_from_ui: bool,
    last_error: String,
    /// `LastErrorKind` of `last_error`; empty after a call that succeeded.
    last_error_kind: String,
    host: Option<Host>,
    #[cfg(debug_assertions)]
    panic_at: std::sync::Mutex<Option<PanicPoint>>,
}

impl Bot {
    /// A new object with default settings.
    pub fn new() -> Bot {
        let binding = BindingPart::default();
        Bot {
            connection: Connection::default(),
            journal: Journal::default(),
            sending: Sending::default(),
            // Binding attempts are redeemed wherever updates arrive.
            receiving: Receiving::with_interceptors(binding.interceptors()),
            binding,
            delivery: DeliveryPart::default(),
            lang: Lang::default(),
            lang_from_ui: false,
            last_error: String::new(),
            last_error_kind: String::new(),
            host: None,
            #[cfg(debug_assertions)]
            panic_at: std::sync::Mutex::new(None),
        }
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

    fn fail(&mut self, error: AddinError) -> String {
        let text = self.connection.redact(&error.text(self.lang));
        self.last_error = text.clone();
        self.last_error_kind = error.kind().code();
        log::warn!("{text}");
        text
    }

    fn read_prop(&self, spec: &PropSpec) -> Value {
        match spec.part {
            Part::Object => match spec.id {
                PropId::Version => Value::from(env!("CARGO_PKG_VERSION")),
                PropId::LastError => Value::from(self.last_error.clone()),
                PropId::LastErrorKind => Value::from(self.last_error_kind.clone()),
                _ => Value::Empty,
            },
            Part::Connection => self.connection.read_prop(spec.id),
            Part::Journal => self.journal.read_prop(spec.id),
            Part::Sending => self.sending.read_prop(spec.id),
            Part::Receiving => self.receiving.read_prop(spec.id),
            Part::Binding => self.binding.read_prop(spec.id),
            Part::Delivery => Value::Empty,
        }
    }

    fn write_prop(&mut self, spec: &PropSpec, value: &Param<'_>) -> Result<(), AddinError> {
        let name = Name {
            en: spec.en,
            ru: spec.ru,
        };
        if !spec.writable {
            return Err(AddinError::ReadOnly(name));
        }
        match spec.part {
            Part::Object => Err(AddinError::ReadOnly(name)),
            Part::Connection => self.connection.write_prop(spec.id, name, value),
            Part::Journal => self.journal.write_prop(spec.id, name, value),
            Part::Sending => self.sending.write_prop(spec.id, name, value),
            Part::Receiving => self.receiving.write_prop(spec.id, name, value),
            Part::Binding => self.binding.write_prop(spec.id, name, value),
            Part::Delivery => Err(AddinError::ReadOnly(name)),
        }
    }

    fn run(&mut self, spec: &MethodSpec, args: &[Param<'_>]) -> Result<Value, AddinError> {
        let a = Args::new(spec, args);
        if spec.part == Part::Object {
            #[cfg(debug_assertions)]
            return self.run_debug(&a);
            #[cfg(not(debug_assertions))]
            return Err(AddinError::Internal(format!("{} has no handler", spec.en)));
        }
        let mut cx = Context {
            connection: &mut self.connection,
            lang: self.lang,
            host: self.host.as_ref(),
            warning: None,
        };
        let result = match spec.part {
            Part::Connection => cx.connection.run(&a),
            Part::Sending => self.sending.run(&mut cx, &a),
            Part::Receiving => self.receiving.run(&mut cx, &a),
            Part::Binding => match self.receiving.poller_config(&cx) {
                Ok(config) => self.binding.run(&mut cx, &config, &a),
                Err(e) => Err(e),
            },
            Part::Delivery => {
                let state_dir = self.receiving.state_dir();
                self.delivery.run(&mut cx, &a, state_dir, &mut self.sending)
            }
            Part::Object | Part::Journal => {
                Err(AddinError::Internal(format!("{} has no handler", spec.en)))
            }
        };
        if let Some(warning) = cx.warning {
            self.last_error = self.connection.redact(&warning);
        }
        result
    }

    /// The debug-only test hooks.
    #[cfg(debug_assertions)]
    fn run_debug(&mut self, a: &Args<'_, '_>) -> Result<Value, AddinError> {
        use super::errors::Invalid;
        use super::members::MethodId;
        use super::params;
        let (arg, name) = (|i: usize| a.get(i), |i: usize| a.name(i));
        match a.id() {
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
            other => Err(AddinError::Internal(format!("{other:?} has no handler"))),
        }
    }
}

impl AddinObject for Bot {
    fn init(&mut self, host: Host) {
        self.host = Some(host);
    }

    fn done(&mut self) {
        self.receiving.stop();
        self.delivery.done();
        self.connection.close();
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
            Some(spec) => Ok(self.read_prop(spec)),
            None => Err(self.fail(AddinError::Internal("property number out of range".into()))),
        }
    }

    fn set_prop(&mut self, num: usize, value: Param<'_>) -> Result<(), String> {
        #[cfg(debug_assertions)]
        self.maybe_panic(PanicPoint::Set);
        let Some(spec) = PROPS.get(num) else {
            return Err(self.fail(AddinError::Internal("property number out of range".into())));
        };
        self.write_prop(spec, &value).map_err(|e| self.fail(e))
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
            members::ParamDefault::LeftOut => Value::Null,
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
        self.last_error_kind.clear();
        let _log = crate::logging::enter(self.journal.sink());
        self.run(spec, params).map_err(|e| self.fail(e))
    }

    fn panic_text(&mut self, detail: &str) -> String {
        let detail = self.connection.redact(detail);
        self.fail(AddinError::Internal(detail))
    }
}
