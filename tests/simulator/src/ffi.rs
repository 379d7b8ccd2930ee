//! Declarations of the C++ host (cpp/host.cpp). Nothing here knows a vtable or the
//! tVariant layout: the C++ compiler handles both; Rust only sees `SimValue`, a plain
//! C struct of the simulator's own.
#![allow(dead_code)]

use std::ffi::c_void;

/// Mirror of `SimValue` in cpp/host.cpp.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SimValue {
    pub vt: u16,
    pub reserved: u16,
    pub cb_elements: u32,
    pub i: i64,
    pub f: f64,
    pub ptr: *const c_void,
    pub len: u32,
    /// sec, min, hour, mday, mon, year, wday, yday, isdst (struct tm order).
    pub tm: [i32; 9],
    pub raw: [u8; 8],
}

impl Default for SimValue {
    fn default() -> Self {
        SimValue {
            vt: 0,
            reserved: 0,
            cb_elements: 0,
            i: 0,
            f: 0.0,
            ptr: std::ptr::null(),
            len: 0,
            tm: [0; 9],
            raw: [0; 8],
        }
    }
}

/// Mirror of `SimMemReport` in cpp/host.cpp.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SimMemReport {
    pub live_blocks: u64,
    pub live_bytes: u64,
    pub allocations: u64,
    pub frees: u64,
    pub invalid_frees: u64,
    pub leaked_blocks: u64,
    pub leaked_bytes: u64,
}

pub const C_ACCEPTED: i32 = 0;
pub const C_REJECTED: i32 = 1;
pub const C_SERVER_DISCARDED: i32 = 2;
pub const C_QUEUED: i32 = 3;
pub const C_GET_INTERFACE_MISUSE: i32 = 4;
pub const C_GET_INTERFACE_CALLS: i32 = 5;
pub const C_STATUS_LINE_SETS: i32 = 6;
pub const C_DEPTH: i32 = 7;

extern "C" {
    pub fn sim_abi_sim_value_size() -> usize;
    pub fn sim_abi_tvariant_size() -> usize;

    pub fn sim_host_new(
        capabilities: i32,
        app_type: i32,
        isolated: i32,
        version: *const u16,
        user_agent: *const u16,
    ) -> *mut c_void;
    pub fn sim_host_free(host: *mut c_void);
    pub fn sim_host_connection(host: *mut c_void) -> *mut c_void;
    pub fn sim_host_memory_manager(host: *mut c_void) -> *mut c_void;
    pub fn sim_host_mem_report(host: *mut c_void, out: *mut SimMemReport);
    pub fn sim_host_mem_release_all(host: *mut c_void);
    pub fn sim_global_mem_report(out: *mut SimMemReport);
    pub fn sim_host_mem_free(host: *mut c_void, p: *const c_void);
    pub fn sim_host_counter(host: *mut c_void, which: i32) -> u64;
    pub fn sim_host_take_event(host: *mut c_void, timeout_ms: i64) -> *mut c_void;
    pub fn sim_host_clean_events(host: *mut c_void);
    pub fn sim_host_error(host: *mut c_void, idx: usize) -> *mut c_void;
    pub fn sim_host_error_count(host: *mut c_void) -> usize;
    pub fn sim_host_msgbox(host: *mut c_void, idx: usize) -> *mut c_void;
    pub fn sim_host_status_line(host: *mut c_void) -> *mut c_void;
    pub fn sim_record_int(rec: *mut c_void, idx: i32) -> i64;
    pub fn sim_record_str(rec: *mut c_void, idx: usize, len: *mut usize) -> *const u16;
    pub fn sim_record_free(rec: *mut c_void);

    pub fn sim_c_init(c: *mut c_void, connection: *mut c_void) -> i32;
    pub fn sim_c_set_mem_manager(c: *mut c_void, mem: *mut c_void) -> i32;
    pub fn sim_c_get_info(c: *mut c_void) -> i64;
    pub fn sim_c_done(c: *mut c_void);
    pub fn sim_c_register_extension_as(c: *mut c_void, out: *mut *const u16) -> i32;
    pub fn sim_c_get_n_props(c: *mut c_void) -> i64;
    pub fn sim_c_find_prop(c: *mut c_void, name: *const u16) -> i64;
    pub fn sim_c_get_prop_name(c: *mut c_void, num: i64, alias: i64) -> *const u16;
    pub fn sim_c_get_prop_val(c: *mut c_void, num: i64, out: *mut SimValue) -> i32;
    pub fn sim_c_set_prop_val(c: *mut c_void, num: i64, value: *const SimValue) -> i32;
    pub fn sim_c_is_prop_readable(c: *mut c_void, num: i64) -> i32;
    pub fn sim_c_is_prop_writable(c: *mut c_void, num: i64) -> i32;
    pub fn sim_c_get_n_methods(c: *mut c_void) -> i64;
    pub fn sim_c_find_method(c: *mut c_void, name: *const u16) -> i64;
    pub fn sim_c_get_method_name(c: *mut c_void, num: i64, alias: i64) -> *const u16;
    pub fn sim_c_get_n_params(c: *mut c_void, num: i64) -> i64;
    pub fn sim_c_get_param_def_value(
        c: *mut c_void,
        method: i64,
        param: i64,
        out: *mut SimValue,
    ) -> i32;
    pub fn sim_c_has_ret_val(c: *mut c_void, num: i64) -> i32;
    pub fn sim_c_call_as_proc(
        c: *mut c_void,
        num: i64,
        args: *const SimValue,
        nargs: i64,
        pass_null: i32,
        count: i64,
    ) -> i32;
    pub fn sim_c_call_as_func(
        c: *mut c_void,
        num: i64,
        ret: *mut SimValue,
        args: *const SimValue,
        nargs: i64,
        pass_null: i32,
        count: i64,
    ) -> i32;
    pub fn sim_c_set_locale(c: *mut c_void, loc: *const u16);
    pub fn sim_c_set_user_interface_language_code(c: *mut c_void, lang: *const u16);
    pub fn sim_c_delete(c: *mut c_void) -> i32;
}

/// A NUL-terminated UTF-16 copy of `s`.
pub fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Reads a NUL-terminated UTF-16 string.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated UTF-16 string.
pub unsafe fn read_wide(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    Some(String::from_utf16_lossy(std::slice::from_raw_parts(p, n)))
}

/// Owned copy of a C++ `SimRecord`, freed on return.
pub struct Record {
    pub ints: [i64; 2],
    pub strs: Vec<String>,
}

/// # Safety
/// `rec` must be null or a fresh record from the host; it is freed here.
pub unsafe fn take_record(rec: *mut c_void) -> Option<Record> {
    if rec.is_null() {
        return None;
    }
    let mut strs = Vec::new();
    let mut idx = 0;
    loop {
        let mut len = 0usize;
        let p = sim_record_str(rec, idx, &mut len);
        if p.is_null() {
            break;
        }
        strs.push(String::from_utf16_lossy(std::slice::from_raw_parts(p, len)));
        idx += 1;
    }
    let r = Record {
        ints: [sim_record_int(rec, 0), sim_record_int(rec, 1)],
        strs,
    };
    sim_record_free(rec);
    Some(r)
}
