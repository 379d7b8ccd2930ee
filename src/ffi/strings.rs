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

/// Longest member name decoded on the stack; longer ones are not members.
const NAME_BUFFER: usize = 256;

/// Decodes a NUL-terminated UTF-16 member name into a stack buffer and
/// passes it to `f`, without allocating; `None` for null, invalid UTF-16 or a
/// name longer than any member's.
///
/// # Safety
/// As for [`read_wstr_units`].
pub unsafe fn with_wstr_name<R>(ptr: *const u16, f: impl FnOnce(&str) -> Option<R>) -> Option<R> {
    let units = read_wstr_units(ptr)?;
    let mut buffer = [0u8; NAME_BUFFER];
    let mut used = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        let c = c.ok()?;
        let end = used + c.len_utf8();
        if end > NAME_BUFFER {
            return None;
        }
        c.encode_utf8(&mut buffer[used..end]);
        used = end;
    }
    f(std::str::from_utf8(&buffer[..used]).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode_on_the_stack() {
        let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
        let name = wide("ОтправитьСообщение😀");
        let got = unsafe { with_wstr_name(name.as_ptr(), |n| Some(n.to_owned())) };
        assert_eq!(got.as_deref(), Some("ОтправитьСообщение😀"));
        let long = wide(&"я".repeat(200));
        assert_eq!(unsafe { with_wstr_name(long.as_ptr(), |_| Some(())) }, None);
        let broken = [0xD800u16, 0x41, 0];
        assert_eq!(
            unsafe { with_wstr_name(broken.as_ptr(), |_| Some(())) },
            None
        );
        assert_eq!(
            unsafe { with_wstr_name(std::ptr::null(), |_| Some(())) },
            None
        );
    }
}
