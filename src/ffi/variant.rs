//! Reading parameters out of `tVariant` and writing results into it.

use std::ffi::c_void;

use super::memory::Memory;
use super::types::{vt, TVariant, Tm};

/// A parameter as the platform passed it, borrowed for the duration of a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param<'a> {
    /// `Неопределено` (VTYPE_EMPTY), also used for an omitted optional parameter.
    Empty,
    /// `NULL` (VTYPE_NULL).
    Null,
    Bool(bool),
    /// An integral number in the i32 range (VTYPE_I4).
    I4(i32),
    /// Any other number (VTYPE_R8).
    R8(f64),
    /// A date (VTYPE_TM).
    Date(DateTime),
    /// A string as UTF-16 code units (VTYPE_PWSTR).
    Str(&'a [u16]),
    /// BinaryData (VTYPE_BLOB).
    Blob(&'a [u8]),
    /// A variant type the add-in does not take, by its `vt` code.
    Unsupported(u16),
}

/// A calendar date and time as 1C passes it (no time zone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// A result handed back to the platform.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Empty,
    /// `Null` (VTYPE_NULL).
    Null,
    Bool(bool),
    Int(i32),
    Number(f64),
    Str(String),
    Blob(Vec<u8>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

/// Reads a parameter.
///
/// # Safety
/// `v` must be a variant prepared by the platform: when `vt` says PWSTR or
/// BLOB, the pointer (when non-null) must cover the stated length.
pub unsafe fn read_param<'a>(v: &'a TVariant) -> Param<'a> {
    match v.vt {
        vt::EMPTY => Param::Empty,
        vt::NULL => Param::Null,
        vt::BOOL => Param::Bool(v.value.bool_val),
        vt::I4 => Param::I4(v.value.i32_val),
        vt::R8 => Param::R8(v.value.f64_val),
        vt::TM => Param::Date(from_tm(&v.value.tm_val)),
        vt::PWSTR => {
            let s = v.value.wstr;
            match (s.ptr.is_null(), s.len) {
                (_, 0) => Param::Str(&[]),
                (true, _) => Param::Unsupported(vt::PWSTR),
                (false, len) => Param::Str(std::slice::from_raw_parts(s.ptr, len as usize)),
            }
        }
        vt::BLOB => {
            let b = v.value.blob;
            match (b.ptr.is_null(), b.len) {
                (_, 0) => Param::Blob(&[]),
                (true, _) => Param::Unsupported(vt::BLOB),
                (false, len) => Param::Blob(std::slice::from_raw_parts(b.ptr, len as usize)),
            }
        }
        other => Param::Unsupported(other),
    }
}

fn from_tm(tm: &Tm) -> DateTime {
    let clamp = |v: i32, lo: i32, hi: i32| v.clamp(lo, hi) as u32;
    DateTime {
        year: tm.year.saturating_add(1900),
        month: clamp(tm.mon.saturating_add(1), 1, 12),
        day: clamp(tm.mday, 1, 31),
        hour: clamp(tm.hour, 0, 23),
        minute: clamp(tm.min, 0, 59),
        second: clamp(tm.sec, 0, 59),
    }
}

/// Writes `value` into the platform's variant, allocating strings and blobs
/// with the platform's memory manager. False when the allocation failed.
///
/// # Safety
/// `out` must be a variant owned by the platform for this call.
pub unsafe fn write_value(out: &mut TVariant, value: &Value, memory: Memory) -> bool {
    match value {
        Value::Empty => out.vt = vt::EMPTY,
        Value::Null => out.vt = vt::NULL,
        Value::Bool(b) => {
            out.value.bool_val = *b;
            out.vt = vt::BOOL;
        }
        Value::Int(i) => {
            out.value.i32_val = *i;
            out.vt = vt::I4;
        }
        Value::Number(f) => {
            out.value.f64_val = *f;
            out.vt = vt::R8;
        }
        Value::Str(s) => {
            if u32::try_from(s.len()).is_err() {
                return false;
            }
            // At most one UTF-16 unit per UTF-8 byte: the length fits too.
            let Some((block, len)) = memory.alloc_utf16(s) else {
                return false;
            };
            let len = len as u32;
            out.value.wstr.ptr = block.as_ptr();
            out.value.wstr.len = len;
            out.vt = vt::PWSTR;
        }
        Value::Blob(bytes) => {
            let Ok(len) = u32::try_from(bytes.len()) else {
                return false;
            };
            let Some(block) = memory.alloc_bytes(bytes) else {
                return false;
            };
            out.value.blob.ptr = block.as_ptr();
            out.value.blob.len = len;
            out.vt = vt::BLOB;
        }
    }
    true
}

/// Returns a name to the platform as a NUL-terminated block it will free.
pub fn alloc_name(memory: Memory, name: &str) -> *mut c_void {
    memory
        .alloc_utf16(name)
        .map_or(std::ptr::null_mut(), |(p, _)| p.as_ptr().cast())
}
