//! The platform's plain data types: `tVariant`, `struct tm`, `WCHAR_T` strings.
//!
//! Layouts follow 1C's `types.h`; the sizes are checked at compile time for
//! every target we ship (see `shared/native-api-facts.md`).

use std::ffi::{c_char, c_int, c_long, c_void};

/// `struct tm` as the C library of the target lays it out.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Tm {
    pub sec: c_int,
    pub min: c_int,
    pub hour: c_int,
    pub mday: c_int,
    pub mon: c_int,
    pub year: c_int,
    pub wday: c_int,
    pub yday: c_int,
    pub isdst: c_int,
    #[cfg(unix)]
    pub gmtoff: c_long,
    #[cfg(unix)]
    pub zone: ZonePtr,
}

/// The `tm_zone` pointer of glibc's `struct tm`; never dereferenced.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZonePtr(pub *const c_char);

impl Default for ZonePtr {
    fn default() -> Self {
        ZonePtr(std::ptr::null())
    }
}

/// The string member of the variant union (`pwstrVal`/`wstrLen`, `pstrVal`/`strLen`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawStr<T> {
    pub ptr: *mut T,
    pub len: u32,
}

/// The interface member (`pInterfaceVal` + `InterfaceID`); present only for the union's size.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawIface {
    pub ptr: *mut c_void,
    pub iid: [u8; 16],
}

/// The value union of `tVariant`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union VariantValue {
    pub bool_val: bool,
    pub i32_val: i32,
    pub i64_val: i64,
    pub f64_val: f64,
    pub tm_val: Tm,
    pub wstr: RawStr<u16>,
    pub blob: RawStr<u8>,
    pub iface: RawIface,
}

/// 1C's `tVariant`: a union, then `cbElements`, then `vt`.
///
/// `vt` is kept as a raw `u16`: the platform may put any value there, and
/// reading an unknown value into a Rust enum would be undefined behaviour.
#[repr(C)]
pub struct TVariant {
    pub value: VariantValue,
    pub elements: u32,
    pub vt: u16,
}

/// Variant type codes (`VTYPE_*`).
pub mod vt {
    pub const EMPTY: u16 = 0;
    pub const NULL: u16 = 1;
    pub const I4: u16 = 3;
    pub const R8: u16 = 5;
    pub const TM: u16 = 7;
    pub const BOOL: u16 = 11;
    pub const PWSTR: u16 = 22;
    pub const BLOB: u16 = 23;
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const _: () =
    assert!(std::mem::size_of::<TVariant>() == 64 && std::mem::offset_of!(TVariant, vt) == 60);
#[cfg(all(target_os = "linux", target_arch = "x86"))]
const _: () =
    assert!(std::mem::size_of::<TVariant>() == 52 && std::mem::offset_of!(TVariant, vt) == 48);
#[cfg(windows)]
const _: () =
    assert!(std::mem::size_of::<TVariant>() == 48 && std::mem::offset_of!(TVariant, vt) == 44);
