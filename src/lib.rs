//! Telegram bots for 1C:Enterprise: a Native API add-in.
//!
//! This file holds only the five functions the platform looks up; the FFI
//! boundary is in [`ffi`], the 1C object in [`addin`], the Bot API client in
//! [`telegram`].

use std::ffi::{c_int, c_long, c_void};

pub mod addin;
pub mod delivery;
mod ffi;
mod logging;
pub mod receiving;
pub mod telegram;

/// Creates an object of the named class; nonzero on success.
#[no_mangle]
pub extern "C" fn GetClassObject(name: *const u16, out: *mut *mut c_void) -> c_long {
    ffi::exports::get_class_object(name, out, addin::create)
}

/// Destroys an object made by `GetClassObject` and nulls the pointer.
#[no_mangle]
pub extern "C" fn DestroyObject(object: *mut *mut c_void) -> c_long {
    ffi::exports::destroy_object(object)
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
