//! The bodies of the five functions the platform looks up in the library.
//! `lib.rs` declares the symbols and forwards here.

use std::ffi::{c_int, c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use addin1c::AttachType;

use super::component;
use super::connection::set_platform_capabilities;
use super::strings::read_wstr;
use super::AddinObject;

/// The highest `AppCapabilities` value we support (`eAppCapabilities3`).
const CAPABILITIES_SUPPORTED: c_int = 3;

/// `GetClassNames`: the names joined by `|`, as a static NUL-terminated string.
pub fn class_names(names: &'static [u16]) -> *const u16 {
    names.as_ptr()
}

/// `GetClassObject`: creates the object for `name` with `make`, or returns 0.
///
/// Trusts the platform: `name` is null or a NUL-terminated UTF-16 string,
/// `out` is null or writable.
pub fn get_class_object(
    name: *const u16,
    out: *mut *mut c_void,
    make: fn(&str) -> Option<Box<dyn AddinObject>>,
) -> c_long {
    if out.is_null() {
        return 0;
    }
    // SAFETY: the platform passes a NUL-terminated class name or null.
    let created = catch_unwind(AssertUnwindSafe(|| {
        unsafe { read_wstr(name) }.and_then(|n| make(&n))
    }));
    match created {
        Ok(Some(object)) => {
            // SAFETY: `out` is non-null and points to the platform's pointer slot.
            unsafe { *out = component::create(object) };
            1
        }
        _ => 0,
    }
}

/// `DestroyObject`: frees the object and nulls the pointer.
///
/// Trusts the platform: `ptr` is null or points to a pointer that
/// `get_class_object` returned and that was not destroyed yet.
pub fn destroy_object(ptr: *mut *mut c_void) -> c_long {
    if ptr.is_null() {
        return -1;
    }
    // SAFETY: see above; the slot is nulled so a second call is harmless.
    unsafe {
        let object = *ptr;
        *ptr = std::ptr::null_mut();
        component::destroy(object);
    }
    0
}

/// `SetPlatformCapabilities`: remembers what the platform offers.
pub fn set_capabilities(capabilities: c_int) -> c_int {
    set_platform_capabilities(capabilities);
    CAPABILITIES_SUPPORTED
}

/// `GetAttachType`: the add-in works both isolated and in-process.
pub fn attach_type() -> c_int {
    AttachType::Any as c_int
}
