//! The platform's memory manager (`IMemoryManager`).
//!
//! Every string or blob handed to the platform must be allocated here: the
//! platform frees it with its own allocator.

use std::ffi::{c_ulong, c_void};
use std::ptr::{self, NonNull};

#[repr(C)]
struct MemoryManagerVTable {
    dtor: usize,
    #[cfg(not(windows))]
    dtor2: usize,
    alloc_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void, c_ulong) -> bool,
    free_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void),
}

/// The platform's `IMemoryManager` object, seen through its vtable.
#[repr(C)]
pub struct MemoryManager {
    vptr: *const MemoryManagerVTable,
}

/// A pointer to the platform's memory manager, kept by the component.
#[derive(Clone, Copy)]
pub struct Memory(NonNull<MemoryManager>);

impl Memory {
    /// Wraps the pointer the platform passed to `setMemManager`; `None` for null.
    pub fn new(raw: *mut c_void) -> Option<Memory> {
        NonNull::new(raw.cast::<MemoryManager>())
            .filter(|m| {
                // SAFETY: the platform passes a live IMemoryManager; we only read its vptr.
                unsafe { !(*m.as_ptr()).vptr.is_null() }
            })
            .map(Memory)
    }

    /// Allocates `bytes` with the platform's allocator.
    pub fn alloc(&self, bytes: usize) -> Option<NonNull<u8>> {
        let size = c_ulong::try_from(bytes.max(1)).ok()?;
        let mut out: *mut c_void = ptr::null_mut();
        // SAFETY: vptr was checked non-null; the platform keeps the manager alive
        // for the object's lifetime.
        let ok = unsafe {
            let this = self.0.as_ptr();
            ((*(*this).vptr).alloc_memory)(this, &mut out, size)
        };
        if ok {
            NonNull::new(out.cast::<u8>())
        } else {
            None
        }
    }

    /// Copies `data` into a new platform block.
    pub fn alloc_bytes(&self, data: &[u8]) -> Option<NonNull<u8>> {
        let block = self.alloc(data.len())?;
        // SAFETY: the block has at least data.len() bytes.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), block.as_ptr(), data.len()) };
        Some(block)
    }

    /// Encodes `text` as UTF-16 straight into a new platform block with a
    /// terminating NUL; returns the block and its length in code units.
    pub fn alloc_utf16(&self, text: &str) -> Option<(NonNull<u16>, usize)> {
        let len = utf16_len(text);
        let bytes = len.checked_add(1)?.checked_mul(2)?;
        let block = self.alloc(bytes)?.cast::<u16>();
        // SAFETY: the block holds len + 1 u16 values (the alignment of the
        // platform allocator is at least that of u16), and the slice covers
        // exactly that memory; it is written before it is read.
        let out = unsafe {
            ptr::write_bytes(block.as_ptr(), 0, len + 1);
            std::slice::from_raw_parts_mut(block.as_ptr(), len + 1)
        };
        encode_utf16(text, &mut out[..len]);
        Some((block, len))
    }
}

/// The length of `text` in UTF-16 code units: one per character, two for
/// those outside the BMP (the ones UTF-8 writes in four bytes).
fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    text.bytes()
        .map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

/// Writes `text` as UTF-16 into `out`, which is [`utf16_len`] units long;
/// runs of ASCII (most of a Bot API answer) are widened byte by byte.
fn encode_utf16(text: &str, out: &mut [u16]) {
    if text.is_ascii() {
        for (unit, byte) in out.iter_mut().zip(text.bytes()) {
            *unit = u16::from(byte);
        }
        return;
    }
    let (mut rest, mut w) = (text, 0);
    while !rest.is_empty() {
        let run = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        for (unit, byte) in out[w..].iter_mut().zip(rest[..run].bytes()) {
            *unit = u16::from(byte);
        }
        w += run;
        let mut chars = rest[run..].chars();
        if let Some(c) = chars.next() {
            w += c.encode_utf16(&mut out[w..]).len();
        }
        rest = chars.as_str();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_matches_the_standard_encoder() {
        for text in [
            "",
            "ascii only",
            "Привет, мир",
            "😀 a 👨‍👩‍👧 б \u{10FFFF}",
            "\0x€",
        ] {
            let expected: Vec<u16> = text.encode_utf16().collect();
            assert_eq!(utf16_len(text), expected.len(), "{text}");
            let mut out = vec![0u16; expected.len()];
            encode_utf16(text, &mut out);
            assert_eq!(out, expected, "{text}");
        }
    }
}
