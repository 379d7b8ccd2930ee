//! The component object handed to the platform: four vtable pointers, in the
//! order of `IComponentBase`'s bases, followed by our own state.
//!
//! Every entry point finds the component from `this`, catches panics, and
//! turns errors into `AddError` calls so that the platform raises a readable
//! exception. Destructor slots point at real code, because hosts such as
//! OneScript delete the object through its virtual destructor.

use std::any::Any;
use std::ffi::{c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::connection::Host;
use super::memory::Memory;
use super::strings::{read_wstr, with_wstr_name};
use super::types::TVariant;
use super::variant::{alloc_name, read_param, write_value, Param};
use super::AddinObject;

/// The `source` passed with every `AddError`.
const ERROR_SOURCE: &str = "Telegram";

/// The C++ destructor slot(s) at the head of every vtable.
#[cfg(not(windows))]
#[repr(C)]
struct Dtors {
    complete: unsafe extern "C" fn(*mut c_void),
    deleting: unsafe extern "C" fn(*mut c_void),
}

#[cfg(all(windows, target_arch = "x86"))]
type ScalarDeletingDtor = unsafe extern "thiscall" fn(*mut c_void, u32) -> *mut c_void;
#[cfg(all(windows, not(target_arch = "x86")))]
type ScalarDeletingDtor = unsafe extern "C" fn(*mut c_void, u32) -> *mut c_void;

/// MSVC's single scalar deleting destructor slot.
#[cfg(windows)]
#[repr(C)]
struct Dtors {
    scalar_deleting: ScalarDeletingDtor,
}

#[repr(C)]
struct InitDoneVTable {
    dtors: Dtors,
    init: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    set_mem_manager: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    get_info: unsafe extern "system" fn(*mut c_void) -> c_long,
    done: unsafe extern "system" fn(*mut c_void),
}

#[repr(C)]
struct LanguageExtenderVTable {
    dtors: Dtors,
    register_extension_as: unsafe extern "system" fn(*mut c_void, *mut *mut u16) -> bool,
    get_n_props: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_prop: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_prop_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    set_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    is_prop_readable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    is_prop_writable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    get_n_methods: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_method: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_method_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_n_params: unsafe extern "system" fn(*mut c_void, c_long) -> c_long,
    get_param_def_value:
        unsafe extern "system" fn(*mut c_void, c_long, c_long, *mut TVariant) -> bool,
    has_ret_val: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    call_as_proc: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant, c_long) -> bool,
    call_as_func: unsafe extern "system" fn(
        *mut c_void,
        c_long,
        *mut TVariant,
        *mut TVariant,
        c_long,
    ) -> bool,
}

#[repr(C)]
struct LocaleVTable {
    dtors: Dtors,
    set_locale: unsafe extern "system" fn(*mut c_void, *const u16),
}

#[repr(C)]
struct UserLanguageVTable {
    dtors: Dtors,
    set_user_interface_language_code: unsafe extern "system" fn(*mut c_void, *const u16),
}

/// Word offsets of the four vtable pointers inside [`Component`].
const INIT_DONE: usize = 0;
const LANGUAGE_EXTENDER: usize = 1;
const LOCALE: usize = 2;
const USER_LANGUAGE: usize = 3;

/// The object the platform holds a pointer to.
#[repr(C)]
pub(super) struct Component {
    init_done: &'static InitDoneVTable,
    language_extender: &'static LanguageExtenderVTable,
    locale: &'static LocaleVTable,
    user_language: &'static UserLanguageVTable,
    memory: Option<Memory>,
    host: Option<Host>,
    done_called: bool,
    object: Box<dyn AddinObject>,
}

static INIT_DONE_VTABLE: InitDoneVTable = InitDoneVTable {
    dtors: dtors::<INIT_DONE>(),
    init,
    set_mem_manager,
    get_info,
    done,
};

static LANGUAGE_EXTENDER_VTABLE: LanguageExtenderVTable = LanguageExtenderVTable {
    dtors: dtors::<LANGUAGE_EXTENDER>(),
    register_extension_as,
    get_n_props,
    find_prop,
    get_prop_name,
    get_prop_val,
    set_prop_val,
    is_prop_readable,
    is_prop_writable,
    get_n_methods,
    find_method,
    get_method_name,
    get_n_params,
    get_param_def_value,
    has_ret_val,
    call_as_proc,
    call_as_func,
};

static LOCALE_VTABLE: LocaleVTable = LocaleVTable {
    dtors: dtors::<LOCALE>(),
    set_locale,
};

static USER_LANGUAGE_VTABLE: UserLanguageVTable = UserLanguageVTable {
    dtors: dtors::<USER_LANGUAGE>(),
    set_user_interface_language_code,
};

/// Creates a component around `object` and returns the pointer the platform keeps.
pub(super) fn create(object: Box<dyn AddinObject>) -> *mut c_void {
    let component = Box::new(Component {
        init_done: &INIT_DONE_VTABLE,
        language_extender: &LANGUAGE_EXTENDER_VTABLE,
        locale: &LOCALE_VTABLE,
        user_language: &USER_LANGUAGE_VTABLE,
        memory: None,
        host: None,
        done_called: false,
        object,
    });
    Box::into_raw(component).cast()
}

/// Destroys a component made by [`create`].
///
/// # Safety
/// `ptr` must come from [`create`] and not have been destroyed yet.
pub(super) unsafe fn destroy(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    let component = Box::from_raw(ptr.cast::<Component>());
    // Dropping must never unwind into the platform.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(component)));
}

impl Drop for Component {
    fn drop(&mut self) {
        // A host that skipped Done still gets every thread stopped.
        if !self.done_called {
            self.object.done();
        }
        if let Some(host) = &self.host {
            host.disconnect();
        }
    }
}

impl Component {
    fn fail(&mut self, text: &str) -> bool {
        if let Some(host) = &self.host {
            host.add_error(ERROR_SOURCE, text);
        }
        false
    }

    fn report_panic(&mut self, payload: &(dyn Any + Send)) {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        let text = catch_unwind(AssertUnwindSafe(|| self.object.panic_text(&detail)))
            .unwrap_or_else(|_| "Internal error in the Telegram add-in".to_owned());
        let _ = catch_unwind(AssertUnwindSafe(|| self.fail(&text)));
    }

    fn method_index(&self, num: c_long) -> Option<usize> {
        usize::try_from(num)
            .ok()
            .filter(|n| *n < self.object.method_count())
    }

    fn prop_index(&self, num: c_long) -> Option<usize> {
        usize::try_from(num)
            .ok()
            .filter(|n| *n < self.object.prop_count())
    }

    fn internal(&mut self, detail: &str) -> bool {
        let text = self.object.panic_text(detail);
        self.fail(&text)
    }
}

/// Finds the component from the `this` of the base at word offset `base`,
/// runs `f` with panics caught, and returns `fallback` for a null `this` or
/// a panic.
fn guarded<R>(
    this: *mut c_void,
    base: usize,
    fallback: R,
    f: impl FnOnce(&mut Component) -> R,
) -> R {
    if this.is_null() {
        return fallback;
    }
    // SAFETY: the platform calls a base's methods with `this` pointing at that
    // base's vptr inside a Component we created.
    let component = unsafe { this.cast::<usize>().sub(base).cast::<Component>() };
    match catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut *component }))) {
        Ok(result) => result,
        Err(payload) => {
            // SAFETY: the closure that borrowed the component has ended.
            unsafe { &mut *component }.report_panic(payload.as_ref());
            fallback
        }
    }
}

// --- destructors -----------------------------------------------------------

#[cfg(not(windows))]
const fn dtors<const BASE: usize>() -> Dtors {
    Dtors {
        complete: delete_from_base::<BASE>,
        deleting: delete_from_base::<BASE>,
    }
}

/// Both Itanium destructor slots destroy and free: our object's storage is
/// ours alone, so the only meaningful call a host can make is `delete`.
#[cfg(not(windows))]
unsafe extern "C" fn delete_from_base<const BASE: usize>(this: *mut c_void) {
    if !this.is_null() {
        destroy(this.cast::<usize>().sub(BASE).cast());
    }
}

#[cfg(windows)]
const fn dtors<const BASE: usize>() -> Dtors {
    Dtors {
        scalar_deleting: scalar_deleting::<BASE>,
    }
}

/// MSVC's scalar deleting destructor; the storage is ours, so it always frees.
#[cfg(all(windows, target_arch = "x86"))]
unsafe extern "thiscall" fn scalar_deleting<const BASE: usize>(
    this: *mut c_void,
    _flags: u32,
) -> *mut c_void {
    if !this.is_null() {
        destroy(this.cast::<usize>().sub(BASE).cast());
    }
    this
}

#[cfg(all(windows, not(target_arch = "x86")))]
unsafe extern "C" fn scalar_deleting<const BASE: usize>(
    this: *mut c_void,
    _flags: u32,
) -> *mut c_void {
    if !this.is_null() {
        destroy(this.cast::<usize>().sub(BASE).cast());
    }
    this
}

// --- IInitDoneBase ---------------------------------------------------------

unsafe extern "system" fn init(this: *mut c_void, connection: *mut c_void) -> bool {
    guarded(this, INIT_DONE, false, |c| {
        let Some(host) = Host::new(connection) else {
            return false;
        };
        c.host = Some(host.clone());
        c.object.init(host);
        true
    })
}

unsafe extern "system" fn set_mem_manager(this: *mut c_void, memory: *mut c_void) -> bool {
    guarded(this, INIT_DONE, false, |c| {
        c.memory = Memory::new(memory);
        c.memory.is_some()
    })
}

unsafe extern "system" fn get_info(this: *mut c_void) -> c_long {
    guarded(this, INIT_DONE, 2000, |_| 2000)
}

unsafe extern "system" fn done(this: *mut c_void) {
    guarded(this, INIT_DONE, (), |c| {
        if !c.done_called {
            c.done_called = true;
            c.object.done();
        }
        if let Some(host) = &c.host {
            host.disconnect();
        }
    })
}

// --- ILanguageExtenderBase -------------------------------------------------

unsafe extern "system" fn register_extension_as(this: *mut c_void, out: *mut *mut u16) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let (Some(memory), false) = (c.memory, out.is_null()) else {
            return false;
        };
        let name = alloc_name(memory, c.object.extension_name());
        if name.is_null() {
            return false;
        }
        *out = name.cast();
        true
    })
}

unsafe extern "system" fn get_n_props(this: *mut c_void) -> c_long {
    guarded(this, LANGUAGE_EXTENDER, 0, |c| {
        c.object.prop_count() as c_long
    })
}

unsafe extern "system" fn find_prop(this: *mut c_void, name: *const u16) -> c_long {
    guarded(this, LANGUAGE_EXTENDER, -1, |c| {
        with_wstr_name(name, |n| c.object.find_prop(n)).map_or(-1, |i| i as c_long)
    })
}

unsafe extern "system" fn get_prop_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const u16 {
    guarded(this, LANGUAGE_EXTENDER, std::ptr::null(), |c| {
        let (Some(memory), Some(num), Ok(alias)) =
            (c.memory, c.prop_index(num), usize::try_from(alias))
        else {
            return std::ptr::null();
        };
        c.object
            .prop_name(num, alias)
            .map_or(std::ptr::null(), |n| alloc_name(memory, n).cast())
    })
}

unsafe extern "system" fn get_prop_val(this: *mut c_void, num: c_long, out: *mut TVariant) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let Some(num) = c.prop_index(num) else {
            return c.internal("property number out of range");
        };
        let (Some(memory), false) = (c.memory, out.is_null()) else {
            return false;
        };
        match c.object.get_prop(num) {
            Ok(value) => write_value(&mut *out, &value, memory) || c.internal("out of memory"),
            Err(text) => c.fail(&text),
        }
    })
}

unsafe extern "system" fn set_prop_val(
    this: *mut c_void,
    num: c_long,
    value: *mut TVariant,
) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let Some(num) = c.prop_index(num) else {
            return c.internal("property number out of range");
        };
        if value.is_null() {
            return c.internal("null value");
        }
        match c.object.set_prop(num, read_param(&*value)) {
            Ok(()) => true,
            Err(text) => c.fail(&text),
        }
    })
}

unsafe extern "system" fn is_prop_readable(this: *mut c_void, num: c_long) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        c.prop_index(num)
            .is_some_and(|n| c.object.is_prop_readable(n))
    })
}

unsafe extern "system" fn is_prop_writable(this: *mut c_void, num: c_long) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        c.prop_index(num)
            .is_some_and(|n| c.object.is_prop_writable(n))
    })
}

unsafe extern "system" fn get_n_methods(this: *mut c_void) -> c_long {
    guarded(this, LANGUAGE_EXTENDER, 0, |c| {
        c.object.method_count() as c_long
    })
}

unsafe extern "system" fn find_method(this: *mut c_void, name: *const u16) -> c_long {
    guarded(this, LANGUAGE_EXTENDER, -1, |c| {
        with_wstr_name(name, |n| c.object.find_method(n)).map_or(-1, |i| i as c_long)
    })
}

unsafe extern "system" fn get_method_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const u16 {
    guarded(this, LANGUAGE_EXTENDER, std::ptr::null(), |c| {
        let (Some(memory), Some(num), Ok(alias)) =
            (c.memory, c.method_index(num), usize::try_from(alias))
        else {
            return std::ptr::null();
        };
        c.object
            .method_name(num, alias)
            .map_or(std::ptr::null(), |n| alloc_name(memory, n).cast())
    })
}

unsafe extern "system" fn get_n_params(this: *mut c_void, num: c_long) -> c_long {
    guarded(this, LANGUAGE_EXTENDER, 0, |c| {
        c.method_index(num)
            .map_or(0, |m| c.object.param_count(m) as c_long)
    })
}

unsafe extern "system" fn get_param_def_value(
    this: *mut c_void,
    method: c_long,
    param: c_long,
    out: *mut TVariant,
) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let (Some(method), Ok(param), Some(memory), false) = (
            c.method_index(method),
            usize::try_from(param),
            c.memory,
            out.is_null(),
        ) else {
            return false;
        };
        if param >= c.object.param_count(method) {
            return false;
        }
        match c.object.param_default(method, param) {
            Some(value) => write_value(&mut *out, &value, memory),
            None => false,
        }
    })
}

unsafe extern "system" fn has_ret_val(this: *mut c_void, num: c_long) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        c.method_index(num).is_some_and(|m| c.object.has_result(m))
    })
}

/// Reads the platform's parameter array.
///
/// # Safety
/// `params` must hold `count` variants when non-null.
unsafe fn read_params<'a>(params: *mut TVariant, count: c_long) -> Option<Vec<Param<'a>>> {
    let count = usize::try_from(count).ok()?;
    if count == 0 {
        return Some(Vec::new());
    }
    if params.is_null() {
        return None;
    }
    Some(
        std::slice::from_raw_parts(params, count)
            .iter()
            .map(|v| read_param(v))
            .collect(),
    )
}

unsafe extern "system" fn call_as_proc(
    this: *mut c_void,
    method: c_long,
    params: *mut TVariant,
    count: c_long,
) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let Some(method) = c.method_index(method) else {
            return c.internal("method number out of range");
        };
        let Some(params) = read_params(params, count) else {
            return c.internal("bad parameter array");
        };
        match c.object.call(method, &params, false) {
            Ok(_) => true,
            Err(text) => c.fail(&text),
        }
    })
}

unsafe extern "system" fn call_as_func(
    this: *mut c_void,
    method: c_long,
    out: *mut TVariant,
    params: *mut TVariant,
    count: c_long,
) -> bool {
    guarded(this, LANGUAGE_EXTENDER, false, |c| {
        let Some(method) = c.method_index(method) else {
            return c.internal("method number out of range");
        };
        let Some(params) = read_params(params, count) else {
            return c.internal("bad parameter array");
        };
        let result = c.object.call(method, &params, true);
        match (result, c.memory, out.is_null()) {
            (Err(text), _, _) => c.fail(&text),
            (Ok(_), _, true) => true,
            (Ok(value), Some(memory), false) => {
                write_value(&mut *out, &value, memory) || c.internal("out of memory")
            }
            (Ok(_), None, false) => c.internal("no memory manager"),
        }
    })
}

// --- LocaleBase and IUserLanguageBase --------------------------------------

unsafe extern "system" fn set_locale(this: *mut c_void, locale: *const u16) {
    guarded(this, LOCALE, (), |c| {
        if let Some(locale) = read_wstr(locale) {
            c.object.set_locale(&locale);
        }
    })
}

unsafe extern "system" fn set_user_interface_language_code(this: *mut c_void, code: *const u16) {
    guarded(this, USER_LANGUAGE, (), |c| {
        if let Some(code) = read_wstr(code) {
            c.object.set_user_language(&code);
        }
    })
}
