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
        let len = text.encode_utf16().count();
        let bytes = len.checked_add(1)?.checked_mul(2)?;
        let block = self.alloc(bytes)?.cast::<u16>();
        // SAFETY: the block holds len + 1 u16 values (alignment of the
        // platform allocator is at least that of u16); `take(len)` keeps every write inside it, and the
        // encoder yields exactly `len` units for the same `text`.
        unsafe {
            let mut written = 0;
            for unit in text.encode_utf16().take(len) {
                block.as_ptr().add(written).write(unit);
                written += 1;
            }
            block.as_ptr().add(written).write(0);
        }
        Some((block, len))
    }
}
