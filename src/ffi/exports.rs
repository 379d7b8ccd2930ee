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
/// # Safety
/// `name` must be null or point to a NUL-terminated UTF-16 string, and `out`
/// must be null or point to a writable pointer slot. Both are read or
/// written through directly.
pub unsafe fn get_class_object(
    name: *const u16,
    out: *mut *mut c_void,
    make: fn(&str) -> Option<Box<dyn AddinObject>>,
) -> c_long {
    if out.is_null() {
        return 0;
    }
    // SAFETY: the caller promises a NUL-terminated class name or null.
    let created = catch_unwind(AssertUnwindSafe(|| {
        unsafe { read_wstr(name) }.and_then(|n| make(&n))
    }));
    match created {
        Ok(Some(object)) => {
            // SAFETY: `out` is non-null and, as the caller promises, writable.
            unsafe { *out = component::create(object) };
            1
        }
        _ => 0,
    }
}

/// `DestroyObject`: frees the object and nulls the pointer.
///
/// # Safety
/// `ptr` must be null or point to a writable slot holding a pointer that
/// `get_class_object` returned and that was not destroyed yet (or null).
pub unsafe fn destroy_object(ptr: *mut *mut c_void) -> c_long {
    if ptr.is_null() {
        return -1;
    }
    // SAFETY: the caller promises a writable slot with our pointer or null;
    // the slot is nulled so a second call is harmless.
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
