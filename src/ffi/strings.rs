//! NUL-terminated `WCHAR_T` strings coming from the platform.

/// Reads a NUL-terminated UTF-16 string as code units (without the NUL).
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated UTF-16 string.
pub unsafe fn read_wstr_units<'a>(ptr: *const u16) -> Option<&'a [u16]> {
    if ptr.is_null() {
        return None;
    }
    let mut len = 0usize;
    while *ptr.add(len) != 0 {
        len += 1;
    }
    Some(std::slice::from_raw_parts(ptr, len))
}

/// Reads a NUL-terminated UTF-16 string; `None` for null or invalid UTF-16.
///
/// # Safety
/// As for [`read_wstr_units`].
pub unsafe fn read_wstr(ptr: *const u16) -> Option<String> {
    read_wstr_units(ptr).and_then(|units| String::from_utf16(units).ok())
}
