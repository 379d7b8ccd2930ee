//! # onec-simulator: a stand-in for the 1C:Enterprise platform
//!
//! Loads a native add-in library exactly as 1C does (by path or from a ZIP package with
//! MANIFEST.XML), creates objects with the platform's call sequence, and drives them
//! through the platform's interfaces, so tests can exercise an add-in without 1C.
//!
//! The platform's interfaces (`IComponentBase` and its four bases, `IAddInDefBaseEx`,
//! `IMemoryManager`, `IMsgBox`, `IPlatformInfo`, `IAttachedInfo`, `tVariant`) are C++
//! abstract classes in `cpp/include/`, compiled by the system C++ compiler: every call into
//! the add-in goes through vtables laid out by the compiler (cpp/host.cpp), never through
//! layout assumptions made in Rust. The add-in under test is independent of this crate.
//!
//! ```no_run
//! use onec_simulator::{Library, HostOptions, Value, Teardown};
//! let lib = Library::load_zip("target/package.zip").unwrap();
//! let mut bot = lib.create("Bot", HostOptions::default()).unwrap();
//! bot.set("Token", Value::str("123:ABC")).unwrap();
//! let me = bot.call("GetMe", &[]);
//! let report = bot.teardown(Teardown::OneC);
//! assert!(report.is_clean(), "{report:?}");
//! ```
//!
//! ## Platform behaviour modelled
//! * **Calls.** `call` = FindMethod (name as written) → GetNParams → GetParamDefValue for each
//!   omitted parameter (false → "not enough parameters") → HasRetVal → CallAsFunc;
//!   `call_proc` ends in CallAsProc. Calling a method without a return value as a function
//!   is the platform's "procedure called as function" error. Exactly GetNParams variants are
//!   passed; with none, the array pointer is still valid (never null).
//! * **Failures.** The first AddError with a non-zero scode during a call becomes the
//!   exception text (even if the call returned true); otherwise a call that returned false
//!   raises the platform's generic text, e.g. «Ошибка при вызове метода контекста (Name)».
//! * **Memory.** Strings/blobs returned by the add-in (return values, property values,
//!   default values, names from GetMethodName/GetPropName/RegisterExtensionAs) are read
//!   using `wstrLen`/`strLen` and released with `IMemoryManager::FreeMemory`. Parameters are
//!   host memory (not from the memory manager), NUL-terminated, freed after the call.
//!   Unknown/double frees are recorded, not performed. Blocks live at teardown are leaks.
//! * **Events.** One queue per object, depth 1 until SetEventBufferDepth; ExternalEvent returns
//!   false and loses the event when the queue holds `depth` events. With AppType Server,
//!   ExtConnection or MobileServer, ExternalEvent always returns false and drops the event
//!   (no form or client application module exists to receive it: an external connection
//!   runs server-side code only); such calls are counted by [`Component::server_events`].
//! * **GetInterface.** Offered when capabilities ≥ 1. Linux: the returned `IInterface*` is the
//!   interface object itself (offset 0). Windows: one pointer past it (MSVC layout); the add-in
//!   steps back by `sizeof(void*)`. With capabilities 0 (old platform) it returns null and the
//!   call is counted by [`Component::get_interface_misuse`].
//! * **Teardown.** [`Teardown::OneC`]: Done, then `DestroyObject(&ptr)` (must null `ptr`).
//!   [`Teardown::OneScript`]: Done, then `delete` through IComponentBase's virtual destructor.

mod component;
mod ffi;
mod library;
mod value;

pub use component::{Component, Raw};
pub use library::{parse_manifest, platform_arch, platform_os, Library, ManifestEntry};
pub use value::{vt, DateTime, Value};

use std::path::Path;

/// `IPlatformInfo::AppType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(i32)]
pub enum AppType {
    #[default]
    ThinClient = 0,
    ThickClient = 1,
    WebClient = 2,
    Server = 3,
    ExtConnection = 4,
    MobileClient = 5,
    MobileServer = 6,
}

impl AppType {
    /// Every app type the platform reports.
    pub const ALL: [AppType; 7] = [
        AppType::ThinClient,
        AppType::ThickClient,
        AppType::WebClient,
        AppType::Server,
        AppType::ExtConnection,
        AppType::MobileClient,
        AppType::MobileServer,
    ];

    /// True for the app types where external events cannot be delivered: the
    /// server, the mobile server and the external connection (a COM or
    /// `V83.COMConnector` session runs server code, with no form or client
    /// application module to handle ВнешнееСобытие).
    pub fn is_server(self) -> bool {
        matches!(
            self,
            AppType::Server | AppType::ExtConnection | AppType::MobileServer
        )
    }
}

/// How the simulated platform presents itself to the add-in.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// Passed to `SetPlatformCapabilities` (default 3). 0 models an old platform: the
    /// function is not called and GetInterface is not offered.
    pub capabilities: i32,
    /// `IPlatformInfo` AppType (default thin client).
    pub app_type: AppType,
    /// Interface language for `SetUserInterfaceLanguageCode` and for the platform's
    /// own exception texts ("ru" default, "en").
    pub language: String,
    /// Passed to `SetLocale` (default "ru_RU").
    pub locale: String,
    /// Attached isolated (`IAttachedInfo`), default false.
    pub isolated: bool,
    /// `IPlatformInfo` AppVersion (default "8.3.25.1257").
    pub app_version: String,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            capabilities: 3,
            app_type: AppType::ThinClient,
            language: "ru".into(),
            locale: "ru_RU".into(),
            isolated: false,
            app_version: "8.3.25.1257".into(),
        }
    }
}

impl HostOptions {
    /// The defaults with a server app type.
    pub fn server() -> Self {
        HostOptions {
            app_type: AppType::Server,
            ..Default::default()
        }
    }
}

/// Which way an object is torn down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// `Done()`, then the exported `DestroyObject(&ptr)`.
    OneC,
    /// `Done()`, then `delete` through IComponentBase's virtual (deleting) destructor.
    OneScript,
}

/// One `IAddInDefBase::AddError` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddErrorRecord {
    pub wcode: u16,
    pub source: String,
    pub descr: String,
    pub scode: i64,
}

/// One external event, as `ВнешнееСобытие(Источник, Событие, Данные)` receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub source: String,
    pub message: String,
    pub data: String,
}

/// One IMsgBox call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBox {
    /// true for Confirm, false for Alert.
    pub confirm: bool,
    pub text: String,
}

/// Memory-manager accounting (per object, or global via [`global_memory`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryReport {
    /// Blocks allocated and not yet released (at teardown: the leaks).
    pub live_blocks: u64,
    pub live_bytes: u64,
    /// AllocMemory calls that succeeded.
    pub allocations: u64,
    /// FreeMemory calls that released a block.
    pub frees: u64,
    /// FreeMemory calls on a pointer that is not a live block (double or foreign free).
    pub invalid_frees: u64,
    /// Blocks still live when their object was torn down.
    pub leaked_blocks: u64,
    pub leaked_bytes: u64,
}

impl MemoryReport {
    /// No live blocks, no leaks, no invalid frees.
    pub fn is_clean(&self) -> bool {
        self.live_blocks == 0 && self.leaked_blocks == 0 && self.invalid_frees == 0
    }
}

impl From<ffi::SimMemReport> for MemoryReport {
    fn from(r: ffi::SimMemReport) -> Self {
        MemoryReport {
            live_blocks: r.live_blocks,
            live_bytes: r.live_bytes,
            allocations: r.allocations,
            frees: r.frees,
            invalid_frees: r.invalid_frees,
            leaked_blocks: r.leaked_blocks,
            leaked_bytes: r.leaked_bytes,
        }
    }
}

impl std::fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "allocations={} frees={} live={} ({} bytes) leaked={} ({} bytes) invalid_frees={}",
            self.allocations,
            self.frees,
            self.live_blocks,
            self.live_bytes,
            self.leaked_blocks,
            self.leaked_bytes,
            self.invalid_frees
        )
    }
}

/// Accounting over every object of the process (all memory managers).
pub fn global_memory() -> MemoryReport {
    let mut r = ffi::SimMemReport::default();
    unsafe { ffi::sim_global_mem_report(&mut r) };
    r.into()
}

/// Why the platform raised an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionKind {
    /// AddError with a non-zero scode: the text is its description.
    AddIn,
    /// The call returned false without such an AddError.
    CallFailed,
    /// GetPropVal returned false.
    GetFailed,
    /// SetPropVal returned false.
    SetFailed,
    MethodNotFound,
    PropertyNotFound,
    PropertyNotReadable,
    PropertyNotWritable,
    NotEnoughParams,
    TooManyParams,
    ProcedureAsFunction,
}

/// An exception as 1C would show it to the calling code.
#[derive(Clone, PartialEq, Eq)]
pub struct Exception {
    /// `ОписаниеОшибки()`.
    pub text: String,
    pub kind: ExceptionKind,
    /// The AddError call that produced it, for [`ExceptionKind::AddIn`].
    pub add_error: Option<AddErrorRecord>,
}

impl Exception {
    pub(crate) fn platform(kind: ExceptionKind, name: &str, ru: bool) -> Exception {
        use ExceptionKind::*;
        let text = match (kind, ru) {
            (MethodNotFound, true) => format!("Метод объекта не обнаружен ({name})"),
            (MethodNotFound, false) => format!("Object method not found ({name})"),
            (PropertyNotFound, true) => format!("Поле объекта не обнаружено ({name})"),
            (PropertyNotFound, false) => format!("Object field not found ({name})"),
            (PropertyNotReadable, true) => format!("Поле объекта недоступно для чтения ({name})"),
            (PropertyNotReadable, false) => format!("Object field is not readable ({name})"),
            (PropertyNotWritable, true) => format!("Поле объекта недоступно для записи ({name})"),
            (PropertyNotWritable, false) => format!("Object field is read-only ({name})"),
            (NotEnoughParams, true) => "Недостаточно фактических параметров".to_string(),
            (NotEnoughParams, false) => "Not enough actual parameters".to_string(),
            (TooManyParams, true) => "Слишком много фактических параметров".to_string(),
            (TooManyParams, false) => "Too many actual parameters".to_string(),
            (ProcedureAsFunction, true) => {
                format!("Обращение к процедуре объекта как к функции ({name})")
            }
            (ProcedureAsFunction, false) => format!("Object procedure called as function ({name})"),
            (GetFailed, true) => {
                format!("Ошибка при получении значения атрибута контекста ({name})")
            }
            (GetFailed, false) => format!("Error getting context attribute value ({name})"),
            (SetFailed, true) => {
                format!("Ошибка при установке значения атрибута контекста ({name})")
            }
            (SetFailed, false) => format!("Error setting context attribute value ({name})"),
            (CallFailed, true) | (AddIn, true) => {
                format!("Ошибка при вызове метода контекста ({name})")
            }
            (CallFailed, false) | (AddIn, false) => {
                format!("Error calling context method ({name})")
            }
        };
        Exception {
            text,
            kind,
            add_error: None,
        }
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::fmt::Debug for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Exception({:?}: {:?})", self.kind, self.text)
    }
}

impl std::error::Error for Exception {}

/// Loading/creation/teardown failures of the simulated platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// The library could not be loaded.
    Load(String),
    /// A required export is missing.
    MissingExport(String),
    /// The ZIP package could not be read.
    Zip(String),
    /// MANIFEST.XML is missing or malformed.
    Manifest(String),
    /// No `<component>` for this OS/architecture.
    NoMatchingComponent {
        os: String,
        arch: String,
        entries: Vec<String>,
    },
    /// The class is not in GetClassNames.
    UnknownClass {
        class: String,
        available: Vec<String>,
    },
    /// The creation sequence failed.
    Create(String),
    /// The add-in broke the protocol (e.g. at teardown).
    Protocol(String),
    /// `Library::close` while this many objects are alive.
    StillInUse(usize),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Load(s) => write!(f, "cannot load the add-in library: {s}"),
            SimError::MissingExport(s) => write!(f, "the add-in does not export {s}"),
            SimError::Zip(s) => write!(f, "cannot read the add-in package: {s}"),
            SimError::Manifest(s) => write!(f, "bad MANIFEST.XML: {s}"),
            SimError::NoMatchingComponent { os, arch, entries } => write!(
                f,
                "MANIFEST.XML has no native component for os={os} arch={arch}; it lists: [{}]",
                entries.join("; ")
            ),
            SimError::UnknownClass { class, available } => write!(
                f,
                "class {class:?} is not in GetClassNames ({})",
                available.join("|")
            ),
            SimError::Create(s) => write!(f, "cannot create the object: {s}"),
            SimError::Protocol(s) => write!(f, "protocol violation: {s}"),
            SimError::StillInUse(n) => write!(f, "the library still has {n} live object(s)"),
        }
    }
}

impl std::error::Error for SimError {}

/// Path of the simulator's own C++ test add-in (cpp/test_addin.cpp), built by build.rs.
/// Classes "Tester", "Mismatch" and "NullDtor". Useful to try the CLI: `onec-sim --lib <this> --class Tester names`.
pub fn test_addin_path() -> &'static Path {
    Path::new(env!("ONEC_TEST_ADDIN"))
}

/// Sanity check that the Rust mirror of the host's C structures matches the C++ build.
#[doc(hidden)]
pub fn abi_check() -> (usize, usize) {
    unsafe { (ffi::sim_abi_sim_value_size(), ffi::sim_abi_tvariant_size()) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn abi_sizes() {
        let (sim, tv) = super::abi_check();
        assert_eq!(sim, std::mem::size_of::<super::ffi::SimValue>());
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(tv, 64);
        }
    }
}
