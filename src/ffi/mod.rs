//! The FFI boundary with the 1C platform: the only home of `unsafe`.
//!
//! We build on `addin1c` for UTF-16 strings and the attach type, but declare
//! the component, connection and memory-manager vtables ourselves, because
//! `addin1c` 0.7 leaves destructor slots zero, hides `AddError` and
//! `GetInterface`, reads `vt` into an enum (undefined behaviour for an unknown
//! value) and does not catch panics at every entry point.
//!
//! Everything above this module is safe Rust: an add-in object implements
//! [`AddinObject`] and never sees a raw pointer.

mod component;
mod connection;
pub mod exports;
mod memory;
mod strings;
mod types;
mod variant;

pub use connection::Host;
pub use variant::{Param, Value};

/// A 1C add-in object, as the platform sees it, in safe Rust.
///
/// Indexes are those of the object's own member table. Errors are the final
/// texts to show: the FFI layer turns them into a platform exception.
pub trait AddinObject: Send {
    /// `Init`: the platform connection is ready.
    fn init(&mut self, host: Host);
    /// `Done`: stop and join every thread; the host is disconnected right after.
    fn done(&mut self);
    /// The name given to `RegisterExtensionAs` (same as the class name).
    fn extension_name(&self) -> &'static str;
    /// `SetLocale`.
    fn set_locale(&mut self, locale: &str);
    /// `SetUserInterfaceLanguageCode`.
    fn set_user_language(&mut self, code: &str);

    /// Number of properties.
    fn prop_count(&self) -> usize;
    /// Finds a property by name, any letter case, either language.
    fn find_prop(&self, name: &str) -> Option<usize>;
    /// Property name for alias 0 (English) or 1 (Russian).
    fn prop_name(&self, num: usize, alias: usize) -> Option<&'static str>;
    /// Whether the property can be read.
    fn is_prop_readable(&self, num: usize) -> bool;
    /// Whether the property can be written.
    fn is_prop_writable(&self, num: usize) -> bool;
    /// Reads a property.
    fn get_prop(&mut self, num: usize) -> Result<Value, String>;
    /// Writes a property.
    fn set_prop(&mut self, num: usize, value: Param<'_>) -> Result<(), String>;

    /// Number of methods.
    fn method_count(&self) -> usize;
    /// Finds a method by name, any letter case, either language.
    fn find_method(&self, name: &str) -> Option<usize>;
    /// Method name for alias 0 (English) or 1 (Russian).
    fn method_name(&self, num: usize, alias: usize) -> Option<&'static str>;
    /// Number of parameters, optional ones included.
    fn param_count(&self, method: usize) -> usize;
    /// The default of an optional parameter; `None` when it is required.
    fn param_default(&self, method: usize, param: usize) -> Option<Value>;
    /// Whether the method returns a value.
    fn has_result(&self, method: usize) -> bool;
    /// Calls a method; `want_result` tells `CallAsFunc` from `CallAsProc`.
    fn call(
        &mut self,
        method: usize,
        params: &[Param<'_>],
        want_result: bool,
    ) -> Result<Value, String>;

    /// Called after a panic was caught at an entry point; returns the text
    /// to report (and may keep it as the last error).
    fn panic_text(&mut self, detail: &str) -> String;
}
