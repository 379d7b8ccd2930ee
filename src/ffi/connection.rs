//! The connection the platform gives to `Init` (`IAddInDefBase` and the
//! extended `IAddInDefBaseEx`), and the platform info behind `GetInterface`.
//!
//! `addin1c` 0.7 declares this vtable but exposes neither `AddError` nor
//! `GetInterface`, so we declare the whole vtable here, in the platform's order.

use std::ffi::{c_int, c_long, c_ushort, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

use addin1c::CString1C;

use super::types::TVariant;

#[repr(C)]
struct ConnectionVTable {
    dtor: usize,
    #[cfg(not(windows))]
    dtor2: usize,
    add_error: unsafe extern "system" fn(
        *mut RawConnection,
        c_ushort,
        *const u16,
        *const u16,
        c_long,
    ) -> bool,
    read: unsafe extern "system" fn(
        *mut RawConnection,
        *mut u16,
        *mut TVariant,
        *mut c_long,
        *mut *mut u16,
    ) -> bool,
    write: unsafe extern "system" fn(*mut RawConnection, *mut u16, *mut TVariant) -> bool,
    register_profile_as: unsafe extern "system" fn(*mut RawConnection, *mut u16) -> bool,
    set_event_buffer_depth: unsafe extern "system" fn(*mut RawConnection, c_long) -> bool,
    get_event_buffer_depth: unsafe extern "system" fn(*mut RawConnection) -> c_long,
    external_event:
        unsafe extern "system" fn(*mut RawConnection, *mut u16, *mut u16, *mut u16) -> bool,
    clean_event_buffer: unsafe extern "system" fn(*mut RawConnection),
    set_status_line: unsafe extern "system" fn(*mut RawConnection, *mut u16) -> bool,
    reset_status_line: unsafe extern "system" fn(*mut RawConnection),
    /// Only in `IAddInDefBaseEx`; read it only when capabilities ≥ 1.
    get_interface: unsafe extern "system" fn(*mut RawConnection, c_int) -> *mut c_void,
}

#[repr(C)]
struct RawConnection {
    vptr: *const ConnectionVTable,
}

#[repr(C)]
struct PlatformInfoVTable {
    get_platform_info: unsafe extern "system" fn(*mut c_void) -> *const AppInfo,
}

#[repr(C)]
struct AppInfo {
    _app_version: *const u16,
    _user_agent: *const u16,
    application: c_int,
}

/// `Interfaces::eIPlatformInfo`.
const INTERFACE_PLATFORM_INFO: c_int = 1;
/// `ADDIN_E_FAIL`: the message icon for a failure.
const WCODE_FAIL: c_ushort = 1006;
/// `E_FAIL`; any non-zero `scode` makes the platform raise an exception.
const SCODE_FAIL: c_long = 0x8000_4005_u32 as i32 as c_long;

/// What `SetPlatformCapabilities` told us (0 until it is called).
static PLATFORM_CAPABILITIES: AtomicI32 = AtomicI32::new(0);

/// Records the capabilities the platform reported.
pub fn set_platform_capabilities(value: i32) {
    PLATFORM_CAPABILITIES.store(value, Ordering::SeqCst);
}

/// The kind of 1C application hosting the add-in (`IPlatformInfo::AppType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppType {
    /// The platform did not say (old platform, or no extended connection).
    Unknown,
    ThinClient,
    ThickClient,
    WebClient,
    Server,
    ExternalConnection,
    MobileClient,
    MobileServer,
}

impl AppType {
    fn from_code(code: c_int) -> AppType {
        match code {
            0 => AppType::ThinClient,
            1 => AppType::ThickClient,
            2 => AppType::WebClient,
            3 => AppType::Server,
            4 => AppType::ExternalConnection,
            5 => AppType::MobileClient,
            6 => AppType::MobileServer,
            _ => AppType::Unknown,
        }
    }

    /// True where the platform never delivers external events.
    pub fn is_server(self) -> bool {
        matches!(
            self,
            AppType::Server | AppType::MobileServer | AppType::ExternalConnection
        )
    }
}

struct Live(*mut RawConnection);
// SAFETY: the platform's connection may be called from any thread (1C's own
// sample raises ExternalEvent from a worker thread); the pointer is cleared
// under the lock before the object is destroyed.
unsafe impl Send for Live {}
unsafe impl Sync for Live {}

/// A thread-safe handle to the platform connection.
///
/// Cloned into background threads. After `Done` it is disconnected and every
/// call becomes a no-op that reports failure, so a late call can never touch a
/// dead platform object.
#[derive(Clone)]
pub struct Host {
    raw: Arc<RwLock<Live>>,
    app_type: AppType,
}

impl Host {
    /// Wraps the connection passed to `Init`. `None` for null.
    pub(super) fn new(raw: *mut c_void) -> Option<Host> {
        let raw = raw.cast::<RawConnection>();
        // SAFETY: the platform passes a live connection object or null.
        if raw.is_null() || unsafe { (*raw).vptr.is_null() } {
            return None;
        }
        let app_type = if PLATFORM_CAPABILITIES.load(Ordering::SeqCst) >= 1 {
            // SAFETY: with capabilities >= 1 the platform passes IAddInDefBaseEx.
            unsafe { query_app_type(raw) }
        } else {
            AppType::Unknown
        };
        Some(Host {
            raw: Arc::new(RwLock::new(Live(raw))),
            app_type,
        })
    }

    /// Marks the connection dead; later calls do nothing.
    pub(super) fn disconnect(&self) {
        let mut guard = self.raw.write().unwrap_or_else(|e| e.into_inner());
        guard.0 = std::ptr::null_mut();
    }

    fn with<R>(&self, dead: R, f: impl FnOnce(*mut RawConnection, &ConnectionVTable) -> R) -> R {
        let guard = self.raw.read().unwrap_or_else(|e| e.into_inner());
        let raw = guard.0;
        if raw.is_null() {
            return dead;
        }
        // SAFETY: non-null means Done has not run yet, so the platform object lives.
        let vtable = unsafe { &*(*raw).vptr };
        f(raw, vtable)
    }

    /// The application type, `Unknown` when the platform did not say.
    pub fn app_type(&self) -> AppType {
        self.app_type
    }

    /// Reports an error that makes the platform raise an exception with `text`.
    pub fn add_error(&self, source: &str, text: &str) -> bool {
        let source = CString1C::new(source);
        let text = CString1C::new(&text.replace('\0', " "));
        self.with(false, |raw, vt| {
            // SAFETY: both strings are NUL-terminated and outlive the call.
            unsafe { (vt.add_error)(raw, WCODE_FAIL, source.as_ptr(), text.as_ptr(), SCODE_FAIL) }
        })
    }

    /// Raises an external event. False when the platform refused it (queue
    /// full, or the object is gone); the caller keeps the event and retries.
    pub fn external_event(&self, source: &str, message: &str, data: &str) -> bool {
        let mut source = wide(source);
        let mut message = wide(message);
        let mut data = wide(data);
        self.with(false, |raw, vt| {
            // SAFETY: the buffers are NUL-terminated and live across the call.
            unsafe {
                (vt.external_event)(
                    raw,
                    source.as_mut_ptr(),
                    message.as_mut_ptr(),
                    data.as_mut_ptr(),
                )
            }
        })
    }

    /// Sets the depth of the platform's event queue.
    pub fn set_event_buffer_depth(&self, depth: i64) -> bool {
        let depth = c_long::try_from(depth).unwrap_or(c_long::MAX);
        self.with(false, |raw, vt| {
            // SAFETY: plain value call on a live object.
            unsafe { (vt.set_event_buffer_depth)(raw, depth) }
        })
    }

    /// The depth of the platform's event queue (0 once disconnected).
    #[allow(clippy::useless_conversion)] // c_long is i32 on Windows
    pub fn event_buffer_depth(&self) -> i64 {
        self.with(0, |raw, vt| {
            // SAFETY: plain value call on a live object.
            i64::from(unsafe { (vt.get_event_buffer_depth)(raw) })
        })
    }
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16()
        .map(|u| if u == 0 { 0x20 } else { u })
        .chain(std::iter::once(0))
        .collect()
}

/// Asks `IAddInDefBaseEx::GetInterface(eIPlatformInfo)` for the application type.
///
/// # Safety
/// `raw` must be a live `IAddInDefBaseEx`.
unsafe fn query_app_type(raw: *mut RawConnection) -> AppType {
    let iface = ((*(*raw).vptr).get_interface)(raw, INTERFACE_PLATFORM_INFO);
    if iface.is_null() {
        return AppType::Unknown;
    }
    // MSVC places the empty `IInterface` base after the vptr, so on Windows the
    // returned `IInterface*` sits one pointer past the object's start.
    #[cfg(windows)]
    let object = iface.cast::<*const c_void>().sub(1).cast::<c_void>();
    #[cfg(not(windows))]
    let object = iface;
    let vptr = *object.cast::<*const PlatformInfoVTable>();
    if vptr.is_null() {
        return AppType::Unknown;
    }
    let info = ((*vptr).get_platform_info)(object);
    if info.is_null() {
        return AppType::Unknown;
    }
    AppType::from_code((*info).application)
}
