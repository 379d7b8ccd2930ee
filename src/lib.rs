//! Telegram bots for 1C:Enterprise: a Native API add-in.
//!
//! This file holds only the five functions the platform looks up; the FFI
//! boundary is in [`ffi`], the 1C object in [`addin`], the Bot API client in
//! [`telegram`].

use std::ffi::{c_int, c_long, c_void};

mod addin;
pub mod binding;
pub mod delivery;
mod ffi;
pub mod fsguard;
mod logging;
mod receiving;
mod telegram;

/// Creates an object of the named class; nonzero on success.
///
/// # Safety
/// `name` is null or a NUL-terminated UTF-16 string; `out` is null or a
/// writable pointer slot (the Native API's contract).
#[no_mangle]
pub unsafe extern "C" fn GetClassObject(name: *const u16, out: *mut *mut c_void) -> c_long {
    // SAFETY: the platform passes a NUL-terminated class name (or null) and
    // a writable pointer slot (or null), as the Native API specifies.
    unsafe { ffi::exports::get_class_object(name, out, addin::create) }
}

/// Destroys an object made by `GetClassObject` and nulls the pointer.
///
/// # Safety
/// `object` is null or the slot `GetClassObject` filled, passed once per object.
#[no_mangle]
pub unsafe extern "C" fn DestroyObject(object: *mut *mut c_void) -> c_long {
    // SAFETY: the platform passes the slot `GetClassObject` filled (or null),
    // once per object.
    unsafe { ffi::exports::destroy_object(object) }
}

/// The class names, separated by `|`.
#[no_mangle]
pub extern "C" fn GetClassNames() -> *const u16 {
    ffi::exports::class_names(addin::CLASS_NAMES)
}

/// Tells the add-in what the platform can do; returns what we support.
#[no_mangle]
pub extern "C" fn SetPlatformCapabilities(capabilities: c_int) -> c_int {
    ffi::exports::set_capabilities(capabilities)
}

/// The add-in can run both isolated and in the platform's process.
#[no_mangle]
pub extern "C" fn GetAttachType() -> c_int {
    ffi::exports::attach_type()
}
