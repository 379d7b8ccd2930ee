//! An add-in object driven the way the platform drives it.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use crate::ffi::{self, wide, SimValue};
use crate::library::LibInner;
use crate::value::{from_sim, owned_pointer, Arena, Value};
use crate::{
    AddErrorRecord, Event, Exception, ExceptionKind, HostOptions, MemoryReport, MessageBox,
    SimError, Teardown,
};

/// An object of an add-in class (`Новый("AddIn.X.Class")`).
///
/// Creation runs the platform's sequence: `SetPlatformCapabilities(capabilities)` (skipped
/// when `capabilities == 0`, an old platform), `GetAttachType`, `GetClassNames`,
/// `GetClassObject(class)`, `setMemManager`, `Init(connection)`, `GetInfo`,
/// `RegisterExtensionAs` (must equal `class`; the string is released with the memory
/// manager), `SetLocale`, `SetUserInterfaceLanguageCode`.
///
/// All calls happen on the caller's thread, as in 1C; events may arrive from the add-in's
/// threads at any time and wait in the connection's queue. `Component` is `Send` (not
/// `Sync`). Dropping it without [`Component::teardown`] performs a 1C-style teardown.
pub struct Component {
    lib: Arc<LibInner>,
    ptr: *mut c_void,
    host: *mut c_void,
    class: String,
    options: HostOptions,
    info: i64,
    capabilities_reported: Option<i32>,
    alive: bool,
    /// AddError records copied out of the host so far (the simulator's own cost).
    records_copied: std::cell::Cell<usize>,
}

// SAFETY: the object and host pointers are used from one thread at a time (&mut self);
// the host's shared state (events, errors, memory) is synchronised in C++.
unsafe impl Send for Component {}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("class", &self.class)
            .field("ptr", &self.ptr)
            .finish()
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

impl Component {
    pub(crate) fn create(
        lib: Arc<LibInner>,
        class: &str,
        options: HostOptions,
    ) -> Result<Component, SimError> {
        // SAFETY (whole function): exports resolved at load time; pointers passed are
        // valid for the duration of each call.
        let mut capabilities_reported = None;
        if options.capabilities != 0 {
            if let Some(f) = lib.set_platform_capabilities {
                capabilities_reported = Some(unsafe { f(options.capabilities) });
            }
        }
        let attach = match lib.get_attach_type {
            Some(f) => unsafe { f() },
            None => 1,
        };
        if options.isolated && attach == 1 {
            return Err(SimError::Create(format!(
                "GetAttachType() = {attach}: the add-in cannot be attached isolated"
            )));
        }
        if !options.isolated && attach == 2 {
            return Err(SimError::Create(format!(
                "GetAttachType() = {attach}: the add-in can only be attached isolated"
            )));
        }
        let names = unsafe { ffi::read_wide((lib.get_class_names)()) }.unwrap_or_default();
        let names: Vec<&str> = names.split('|').filter(|s| !s.is_empty()).collect();
        if !names.iter().any(|n| same_name(n, class)) {
            return Err(SimError::UnknownClass {
                class: class.to_string(),
                available: names.iter().map(|s| s.to_string()).collect(),
            });
        }
        let user_agent = format!(
            "1C:Enterprise/{} ({}; {}) onec-simulator",
            options.app_version,
            crate::library::platform_os(),
            crate::library::platform_arch()
        );
        let host = unsafe {
            ffi::sim_host_new(
                options.capabilities,
                options.app_type as i32,
                options.isolated as i32,
                wide(&options.app_version).as_ptr(),
                wide(&user_agent).as_ptr(),
            )
        };
        let wname = wide(class);
        let mut ptr: *mut c_void = std::ptr::null_mut();
        let rc = unsafe { (lib.get_class_object)(wname.as_ptr(), &mut ptr) };
        if rc == 0 || ptr.is_null() {
            unsafe { ffi::sim_host_free(host) };
            return Err(SimError::Create(format!(
                "GetClassObject({class:?}) returned {rc}, object {ptr:?}"
            )));
        }
        let mut c = Component {
            lib,
            ptr,
            host,
            class: class.to_string(),
            options,
            info: 0,
            capabilities_reported,
            alive: true,
            records_copied: std::cell::Cell::new(0),
        };
        unsafe {
            if ffi::sim_c_set_mem_manager(c.ptr, ffi::sim_host_memory_manager(c.host)) == 0 {
                return Err(c.abort_creation("setMemManager returned false"));
            }
            if ffi::sim_c_init(c.ptr, ffi::sim_host_connection(c.host)) == 0 {
                return Err(c.abort_creation("Init returned false"));
            }
            c.info = ffi::sim_c_get_info(c.ptr);
            let mut name: *const u16 = std::ptr::null();
            let ok = ffi::sim_c_register_extension_as(c.ptr, &mut name);
            let ext = ffi::read_wide(name);
            if !name.is_null() {
                ffi::sim_host_mem_free(c.host, name.cast());
            }
            if ok == 0 {
                return Err(c.abort_creation("RegisterExtensionAs returned false"));
            }
            match ext {
                Some(ref e) if e == class => {}
                other => {
                    let msg = format!(
                        "RegisterExtensionAs gave {other:?}, but the class is {class:?} \
                         (GetClassNames and RegisterExtensionAs must agree)"
                    );
                    return Err(c.abort_creation(&msg));
                }
            }
            ffi::sim_c_set_locale(c.ptr, wide(&c.options.locale).as_ptr());
            ffi::sim_c_set_user_interface_language_code(c.ptr, wide(&c.options.language).as_ptr());
        }
        Ok(c)
    }

    fn abort_creation(&mut self, why: &str) -> SimError {
        // The platform gives up on the object: Done, DestroyObject, forget the host.
        let _ = self.teardown_inner(Teardown::OneC);
        SimError::Create(why.to_string())
    }

    /// The class name this object was created with.
    pub fn class(&self) -> &str {
        &self.class
    }

    /// What `GetInfo()` returned (2000 for Native API version 2).
    pub fn info(&self) -> i64 {
        self.info
    }

    /// What `SetPlatformCapabilities` returned (None if not called).
    pub fn capabilities_reported(&self) -> Option<i32> {
        self.capabilities_reported
    }

    /// The options the host was created with.
    pub fn options(&self) -> &HostOptions {
        &self.options
    }

    fn ru(&self) -> bool {
        !self.options.language.eq_ignore_ascii_case("en")
    }

    /// The exception 1C raises after a call into the add-in: the first AddError with a
    /// non-zero scode recorded since `errors_before` wins (even when the call returned
    /// true); otherwise, if the call failed, the platform's generic text.
    fn outcome(
        &self,
        ok: bool,
        errors_before: usize,
        kind: ExceptionKind,
        name: &str,
    ) -> Result<(), Exception> {
        // Only this call's records: a call costs the same after thousands of errors.
        let errors = self.add_errors_since(errors_before);
        if let Some(e) = errors.iter().find(|e| e.scode != 0) {
            return Err(Exception {
                text: e.descr.clone(),
                kind: ExceptionKind::AddIn,
                add_error: Some(e.clone()),
            });
        }
        if ok {
            Ok(())
        } else {
            Err(Exception::platform(kind, name, self.ru()))
        }
    }

    fn error_count(&self) -> usize {
        unsafe { ffi::sim_host_error_count(self.host) }
    }

    /// Converts a variant filled by the add-in and releases its memory, as the platform does.
    fn take_value(&self, s: &SimValue) -> Value {
        // SAFETY: the add-in promised ptr/len describe its allocation.
        let v = unsafe { from_sim(s) };
        if let Some(p) = owned_pointer(s) {
            unsafe { ffi::sim_host_mem_free(self.host, p) };
        }
        v
    }

    fn invoke(
        &mut self,
        name: &str,
        args: &[Value],
        want_result: bool,
    ) -> Result<Value, Exception> {
        let before = self.error_count();
        let ru = self.ru();
        let ex = |kind| Exception::platform(kind, name, ru);
        let mut raw = self.raw();
        let m = raw.find_method(Some(name));
        if m < 0 {
            return Err(ex(ExceptionKind::MethodNotFound));
        }
        let n = raw.get_n_params(m).max(0) as usize;
        if args.len() > n {
            return Err(ex(ExceptionKind::TooManyParams));
        }
        let mut full = args.to_vec();
        for p in args.len()..n {
            let (ok, v) = raw.get_param_def_value(m, p as i64);
            if !ok {
                return Err(ex(ExceptionKind::NotEnoughParams));
            }
            full.push(v);
        }
        let has_ret = raw.has_ret_val(m);
        if want_result && !has_ret {
            return Err(ex(ExceptionKind::ProcedureAsFunction));
        }
        let (ok, ret) = if want_result {
            raw.call_as_func(m, &full, None)
        } else {
            (raw.call_as_proc(m, &full, None), Value::Empty)
        };
        self.outcome(ok, before, ExceptionKind::CallFailed, name)?;
        Ok(ret)
    }

    /// `Результат = Объект.name(args…)`: FindMethod, GetNParams, GetParamDefValue for
    /// every omitted parameter, HasRetVal, CallAsFunc.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Value, Exception> {
        self.invoke(name, args, true)
    }

    /// `Объект.name(args…);` as a statement: same sequence, then CallAsProc.
    pub fn call_proc(&mut self, name: &str, args: &[Value]) -> Result<(), Exception> {
        self.invoke(name, args, false).map(|_| ())
    }

    /// `Объект.prop`: FindProp, IsPropReadable, GetPropVal.
    pub fn get(&mut self, prop: &str) -> Result<Value, Exception> {
        let before = self.error_count();
        let ru = self.ru();
        let ex = |kind| Exception::platform(kind, prop, ru);
        let mut raw = self.raw();
        let p = raw.find_prop(Some(prop));
        if p < 0 {
            return Err(ex(ExceptionKind::PropertyNotFound));
        }
        if !raw.is_prop_readable(p) {
            return Err(ex(ExceptionKind::PropertyNotReadable));
        }
        let (ok, v) = raw.get_prop_val(p);
        self.outcome(ok, before, ExceptionKind::GetFailed, prop)?;
        Ok(v)
    }

    /// `Объект.prop = value`: FindProp, IsPropWritable, SetPropVal.
    pub fn set(&mut self, prop: &str, value: Value) -> Result<(), Exception> {
        let before = self.error_count();
        let ru = self.ru();
        let ex = |kind| Exception::platform(kind, prop, ru);
        let mut raw = self.raw();
        let p = raw.find_prop(Some(prop));
        if p < 0 {
            return Err(ex(ExceptionKind::PropertyNotFound));
        }
        if !raw.is_prop_writable(p) {
            return Err(ex(ExceptionKind::PropertyNotWritable));
        }
        let ok = raw.set_prop_val(p, &value);
        self.outcome(ok, before, ExceptionKind::SetFailed, prop)
    }

    /// Method names for `alias` (0 English, 1 Russian) via GetNMethods + GetMethodName;
    /// a null name is listed as an empty string.
    pub fn method_names(&mut self, alias: i32) -> Vec<String> {
        let mut raw = self.raw();
        let n = raw.get_n_methods();
        (0..n)
            .map(|i| raw.get_method_name(i, alias as i64).unwrap_or_default())
            .collect()
    }

    /// Property names for `alias` via GetNProps + GetPropName.
    pub fn prop_names(&mut self, alias: i32) -> Vec<String> {
        let mut raw = self.raw();
        let n = raw.get_n_props();
        (0..n)
            .map(|i| raw.get_prop_name(i, alias as i64).unwrap_or_default())
            .collect()
    }

    /// Direct access to each IComponentBase method with raw numbers.
    pub fn raw(&mut self) -> Raw<'_> {
        Raw { c: self }
    }

    /// Every AddError call so far, in order.
    pub fn add_errors(&self) -> Vec<AddErrorRecord> {
        self.add_errors_since(0)
    }

    /// The AddError calls after the first `start`, in order.
    pub fn add_errors_since(&self, start: usize) -> Vec<AddErrorRecord> {
        let mut out = Vec::new();
        let mut i = start;
        // SAFETY: host alive while self is.
        while let Some(r) = unsafe { ffi::take_record(ffi::sim_host_error(self.host, i)) } {
            let mut s = r.strs.into_iter();
            out.push(AddErrorRecord {
                wcode: r.ints[0] as u16,
                scode: r.ints[1],
                source: s.next().unwrap_or_default(),
                descr: s.next().unwrap_or_default(),
            });
            i += 1;
        }
        self.records_copied
            .set(self.records_copied.get() + out.len());
        out
    }

    /// How many AddError records the simulator has copied out of the host for
    /// this object (each call copies only its own).
    pub fn error_records_copied(&self) -> usize {
        self.records_copied.get()
    }

    /// Waits up to `timeout` for the next external event and takes it off the queue, as
    /// the form's idle loop would (blocks on a condition variable).
    pub fn next_event(&self, timeout: Duration) -> Option<Event> {
        let ms = timeout.as_millis().min(i64::MAX as u128) as i64;
        let r = unsafe { ffi::take_record(ffi::sim_host_take_event(self.host, ms)) }?;
        let mut s = r.strs.into_iter();
        Some(Event {
            source: s.next().unwrap_or_default(),
            message: s.next().unwrap_or_default(),
            data: s.next().unwrap_or_default(),
        })
    }

    /// Takes every queued event without waiting, oldest first.
    pub fn drain_events(&self) -> Vec<Event> {
        std::iter::from_fn(|| self.next_event(Duration::ZERO)).collect()
    }

    /// Events waiting in the queue.
    pub fn queued_events(&self) -> u64 {
        self.counter(ffi::C_QUEUED)
    }

    /// Current event buffer depth (1 until the add-in calls SetEventBufferDepth).
    pub fn event_buffer_depth(&self) -> i64 {
        self.counter(ffi::C_DEPTH) as i64
    }

    /// ExternalEvent calls that returned true (event queued).
    pub fn accepted_events(&self) -> u64 {
        self.counter(ffi::C_ACCEPTED)
    }

    /// ExternalEvent calls that returned false (queue full, or server).
    pub fn rejected_events(&self) -> u64 {
        self.counter(ffi::C_REJECTED)
    }

    /// ExternalEvent calls made while the app type is a server (Server, ExtConnection,
    /// MobileServer; see [`crate::AppType::is_server`]):
    /// each returned false and the event was dropped. Also counted in `rejected_events`.
    pub fn server_events(&self) -> u64 {
        self.counter(ffi::C_SERVER_DISCARDED)
    }

    /// GetInterface calls in total.
    pub fn get_interface_calls(&self) -> u64 {
        self.counter(ffi::C_GET_INTERFACE_CALLS)
    }

    /// GetInterface calls made although the platform did not offer it (capabilities 0).
    pub fn get_interface_misuse(&self) -> u64 {
        self.counter(ffi::C_GET_INTERFACE_MISUSE)
    }

    /// The status line text (SetStatusLine / ResetStatusLine).
    pub fn status_line(&self) -> String {
        unsafe { ffi::take_record(ffi::sim_host_status_line(self.host)) }
            .and_then(|r| r.strs.into_iter().next())
            .unwrap_or_default()
    }

    fn counter(&self, which: i32) -> u64 {
        unsafe { ffi::sim_host_counter(self.host, which) }
    }

    /// Texts shown through IMsgBox (Alert and Confirm), in order.
    pub fn message_boxes(&self) -> Vec<String> {
        self.message_box_log().into_iter().map(|m| m.text).collect()
    }

    /// IMsgBox calls with their kind.
    pub fn message_box_log(&self) -> Vec<MessageBox> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(r) = unsafe { ffi::take_record(ffi::sim_host_msgbox(self.host, i)) } {
            out.push(MessageBox {
                confirm: r.ints[0] == 1,
                text: r.strs.into_iter().next().unwrap_or_default(),
            });
            i += 1;
        }
        out
    }

    /// This object's memory-manager accounting so far.
    pub fn memory(&self) -> MemoryReport {
        let mut r = ffi::SimMemReport::default();
        unsafe { ffi::sim_host_mem_report(self.host, &mut r) };
        r.into()
    }

    /// Ends the object's life: `Done()`, then `DestroyObject(&ptr)` (1C) or `delete`
    /// through the virtual destructor (OneScript). Returns the accounting at that moment:
    /// `live_blocks`/`live_bytes` (= `leaked_*`) are blocks the add-in never released.
    /// Those are then freed. Panics on a protocol violation; see [`Component::teardown_checked`].
    pub fn teardown(self, style: Teardown) -> MemoryReport {
        match self.teardown_checked(style) {
            Ok(r) => r,
            Err(e) => panic!("teardown failed: {e}"),
        }
    }

    /// Like [`Component::teardown`], reporting a violation as an error:
    /// `DestroyObject` that does not null the pointer, or (OneScript) a null deleting-destructor
    /// slot in the vtable (the object is then released with DestroyObject instead, so the
    /// process survives).
    pub fn teardown_checked(mut self, style: Teardown) -> Result<MemoryReport, SimError> {
        self.teardown_inner(style)
    }

    fn teardown_inner(&mut self, style: Teardown) -> Result<MemoryReport, SimError> {
        if !self.alive {
            return Err(SimError::Protocol("already torn down".into()));
        }
        self.alive = false;
        let mut problem = None;
        unsafe {
            ffi::sim_c_done(self.ptr);
            match style {
                Teardown::OneC => {
                    let mut p = self.ptr;
                    (self.lib.destroy_object)(&mut p);
                    if !p.is_null() {
                        problem = Some("DestroyObject did not set the pointer to null".to_string());
                    }
                }
                Teardown::OneScript => {
                    if ffi::sim_c_delete(self.ptr) == 0 {
                        problem = Some(
                            "the deleting-destructor slot of the IComponentBase vtable is null: \
                             OneScript's `delete` would crash (released with DestroyObject instead)"
                                .to_string(),
                        );
                        let mut p = self.ptr;
                        (self.lib.destroy_object)(&mut p);
                    }
                }
            }
            self.ptr = std::ptr::null_mut();
        }
        let mut report = self.memory();
        report.leaked_blocks = report.live_blocks;
        report.leaked_bytes = report.live_bytes;
        unsafe {
            ffi::sim_host_mem_release_all(self.host);
            ffi::sim_host_free(self.host);
        }
        self.host = std::ptr::null_mut();
        match problem {
            Some(p) => Err(SimError::Protocol(p)),
            None => Ok(report),
        }
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        if self.alive {
            let _ = self.teardown_inner(Teardown::OneC);
        }
    }
}

/// Each IComponentBase method, called as is. Returned strings/blobs are copied and then
/// released with the memory manager, as the platform does; parameters are host-owned.
pub struct Raw<'a> {
    c: &'a mut Component,
}

impl Raw<'_> {
    fn p(&self) -> *mut c_void {
        self.c.ptr
    }

    pub fn get_info(&mut self) -> i64 {
        unsafe { ffi::sim_c_get_info(self.p()) }
    }

    /// `RegisterExtensionAs(&name)`: (result, name).
    pub fn register_extension_as(&mut self) -> (bool, Option<String>) {
        let mut name: *const u16 = std::ptr::null();
        unsafe {
            let ok = ffi::sim_c_register_extension_as(self.p(), &mut name) != 0;
            let s = ffi::read_wide(name);
            if !name.is_null() {
                ffi::sim_host_mem_free(self.c.host, name.cast());
            }
            (ok, s)
        }
    }

    pub fn get_n_props(&mut self) -> i64 {
        unsafe { ffi::sim_c_get_n_props(self.p()) }
    }

    /// `FindProp(name)`; `None` passes a null pointer.
    pub fn find_prop(&mut self, name: Option<&str>) -> i64 {
        let w = name.map(wide);
        unsafe {
            ffi::sim_c_find_prop(
                self.p(),
                w.as_ref().map_or(std::ptr::null(), |w| w.as_ptr()),
            )
        }
    }

    pub fn get_prop_name(&mut self, num: i64, alias: i64) -> Option<String> {
        self.name_result(unsafe { ffi::sim_c_get_prop_name(self.p(), num, alias) })
    }

    fn name_result(&self, p: *const u16) -> Option<String> {
        let s = unsafe { ffi::read_wide(p) };
        if !p.is_null() {
            unsafe { ffi::sim_host_mem_free(self.c.host, p.cast()) };
        }
        s
    }

    pub fn get_prop_val(&mut self, num: i64) -> (bool, Value) {
        let mut s = SimValue::default();
        let ok = unsafe { ffi::sim_c_get_prop_val(self.p(), num, &mut s) } != 0;
        (ok, self.c.take_value(&s))
    }

    pub fn set_prop_val(&mut self, num: i64, value: &Value) -> bool {
        let mut arena = Arena::default();
        let s = arena.variant_for(value);
        unsafe { ffi::sim_c_set_prop_val(self.p(), num, &s) != 0 }
    }

    pub fn is_prop_readable(&mut self, num: i64) -> bool {
        unsafe { ffi::sim_c_is_prop_readable(self.p(), num) != 0 }
    }

    pub fn is_prop_writable(&mut self, num: i64) -> bool {
        unsafe { ffi::sim_c_is_prop_writable(self.p(), num) != 0 }
    }

    pub fn get_n_methods(&mut self) -> i64 {
        unsafe { ffi::sim_c_get_n_methods(self.p()) }
    }

    /// `FindMethod(name)`; `None` passes a null pointer.
    pub fn find_method(&mut self, name: Option<&str>) -> i64 {
        let w = name.map(wide);
        unsafe {
            ffi::sim_c_find_method(
                self.p(),
                w.as_ref().map_or(std::ptr::null(), |w| w.as_ptr()),
            )
        }
    }

    pub fn get_method_name(&mut self, num: i64, alias: i64) -> Option<String> {
        self.name_result(unsafe { ffi::sim_c_get_method_name(self.p(), num, alias) })
    }

    pub fn get_n_params(&mut self, num: i64) -> i64 {
        unsafe { ffi::sim_c_get_n_params(self.p(), num) }
    }

    pub fn get_param_def_value(&mut self, method: i64, param: i64) -> (bool, Value) {
        let mut s = SimValue::default();
        let ok = unsafe { ffi::sim_c_get_param_def_value(self.p(), method, param, &mut s) } != 0;
        (ok, self.c.take_value(&s))
    }

    pub fn has_ret_val(&mut self, num: i64) -> bool {
        unsafe { ffi::sim_c_has_ret_val(self.p(), num) != 0 }
    }

    /// Parameter array for a call: `args`, padded with EMPTY up to `count` so that an
    /// explicit count larger than `args` never reads outside the host's array.
    fn params(args: &[Value], count: Option<i64>) -> (Arena, Vec<SimValue>, i64) {
        let count = count.unwrap_or(args.len() as i64);
        let mut arena = Arena::default();
        let mut sims: Vec<SimValue> = args.iter().map(|a| arena.variant_for(a)).collect();
        while (sims.len() as i64) < count {
            sims.push(SimValue::default());
        }
        (arena, sims, count)
    }

    /// `CallAsProc(num, params, count)`; `count` defaults to `args.len()`. With no
    /// parameters the array pointer still points at a (dummy) variant, never null.
    pub fn call_as_proc(&mut self, num: i64, args: &[Value], count: Option<i64>) -> bool {
        let (_arena, sims, count) = Self::params(args, count);
        unsafe {
            ffi::sim_c_call_as_proc(self.p(), num, sims.as_ptr(), sims.len() as i64, 0, count) != 0
        }
    }

    /// `CallAsFunc(num, &ret, params, count)`: (result, returned value).
    pub fn call_as_func(&mut self, num: i64, args: &[Value], count: Option<i64>) -> (bool, Value) {
        let (_arena, sims, count) = Self::params(args, count);
        let mut ret = SimValue::default();
        let ok = unsafe {
            ffi::sim_c_call_as_func(
                self.p(),
                num,
                &mut ret,
                sims.as_ptr(),
                sims.len() as i64,
                0,
                count,
            )
        } != 0;
        (ok, self.c.take_value(&ret))
    }

    /// `CallAsProc(num, nullptr, count)`.
    pub fn call_as_proc_null_params(&mut self, num: i64, count: i64) -> bool {
        unsafe { ffi::sim_c_call_as_proc(self.p(), num, std::ptr::null(), 0, 1, count) != 0 }
    }

    /// `CallAsFunc(num, &ret, nullptr, count)`.
    pub fn call_as_func_null_params(&mut self, num: i64, count: i64) -> (bool, Value) {
        let mut ret = SimValue::default();
        let ok = unsafe {
            ffi::sim_c_call_as_func(self.p(), num, &mut ret, std::ptr::null(), 0, 1, count)
        } != 0;
        (ok, self.c.take_value(&ret))
    }

    /// `SetLocale(loc)`; `None` passes a null pointer.
    pub fn set_locale(&mut self, loc: Option<&str>) {
        let w = loc.map(wide);
        unsafe {
            ffi::sim_c_set_locale(
                self.p(),
                w.as_ref().map_or(std::ptr::null(), |w| w.as_ptr()),
            )
        }
    }

    /// `SetUserInterfaceLanguageCode(lang)`; `None` passes a null pointer.
    pub fn set_user_interface_language_code(&mut self, lang: Option<&str>) {
        let w = lang.map(wide);
        unsafe {
            ffi::sim_c_set_user_interface_language_code(
                self.p(),
                w.as_ref().map_or(std::ptr::null(), |w| w.as_ptr()),
            )
        }
    }

    /// Empties the connection's event queue, as CleanEventBuffer would.
    pub fn clean_event_buffer(&mut self) {
        unsafe { ffi::sim_host_clean_events(self.c.host) }
    }

    /// `Done()` alone: the object stays allocated, so calls after `Done` can be
    /// tried (the platform never does this, but a host bug might); teardown later
    /// calls `Done` again before destroying it.
    pub fn done(&mut self) {
        unsafe { ffi::sim_c_done(self.p()) }
    }
}
