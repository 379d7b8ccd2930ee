//! Tests of the simulator's own behaviour against the C++ test add-in (cpp/test_addin.cpp).

use std::io::Write;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use onec_simulator::*;

/// The test add-in keeps one global call log, so the tests run one at a time
/// (`serial()`; `locked()` also clears the log).
static LOG_LOCK: Mutex<()> = Mutex::new(());

struct Hooks {
    lib: libloading::Library,
}

impl Hooks {
    fn new() -> Hooks {
        Hooks {
            lib: unsafe { libloading::Library::new(test_addin_path()) }.unwrap(),
        }
    }
    fn log(&self) -> String {
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn() -> *const std::ffi::c_char> =
                self.lib.get(b"TestAddinLog").unwrap();
            std::ffi::CStr::from_ptr(f()).to_string_lossy().into_owned()
        }
    }
    fn clear(&self) {
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn()> =
                self.lib.get(b"TestAddinClearLog").unwrap();
            f()
        }
    }
}

fn serial() -> MutexGuard<'static, ()> {
    LOG_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn locked() -> (MutexGuard<'static, ()>, Hooks) {
    let g = serial();
    let h = Hooks::new();
    h.clear();
    (g, h)
}

fn lib() -> Library {
    Library::load(test_addin_path()).unwrap()
}

fn tester(opts: HostOptions) -> (Library, Component) {
    let l = lib();
    let c = l.create("Tester", opts).unwrap();
    (l, c)
}

#[test]
fn library_exports() {
    let _serial = serial();
    let l = lib();
    assert_eq!(l.class_names(), vec!["Tester", "Mismatch", "NullDtor"]);
    assert_eq!(l.attach_type(), 3);
}

#[test]
fn creation_follows_platform_order() {
    let (_g, h) = locked();
    let (_l, c) = tester(HostOptions::default());
    assert_eq!(
        h.log(),
        "SetPlatformCapabilities(3);GetAttachType;GetClassNames;GetClassObject(Tester);\
         setMemManager;Init;GetInfo;RegisterExtensionAs;SetLocale(ru_RU);SetUserInterfaceLanguageCode(ru)"
    );
    assert_eq!(c.info(), 2000);
    assert_eq!(c.capabilities_reported(), Some(3));
    // RegisterExtensionAs's string was released by the host.
    let r = c.teardown(Teardown::OneC);
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.allocations, r.frees);
}

#[test]
fn old_platform_does_not_offer_get_interface() {
    let (_g, h) = locked();
    let opts = HostOptions {
        capabilities: 0,
        language: "en".into(),
        ..Default::default()
    };
    let (_l, mut c) = tester(opts);
    assert!(
        h.log().starts_with("GetAttachType;GetClassNames;"),
        "{}",
        h.log()
    );
    assert!(h.log().ends_with("SetUserInterfaceLanguageCode(en)"));
    assert_eq!(c.capabilities_reported(), None);
    assert_eq!(c.call("PlatformInfo", &[]).unwrap(), Value::str("none"));
    assert_eq!(c.get_interface_calls(), 0);
    assert_eq!(c.get_interface_misuse(), 0);
}

#[test]
fn platform_info_and_attached_info() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let s = c.call("PlatformInfo", &[]).unwrap();
    let s = s.as_str().unwrap();
    assert!(
        s.starts_with("0|8.3.25.1257|1C:Enterprise/8.3.25.1257"),
        "{s}"
    );
    assert!(s.ends_with("|not isolated"), "{s}");
    let opts = HostOptions {
        app_type: AppType::Server,
        isolated: true,
        app_version: "8.3.24.1000".into(),
        ..Default::default()
    };
    let (_l2, mut c2) = tester(opts);
    let s = c2.call("PlatformInfo", &[]).unwrap();
    let s = s.as_str().unwrap();
    assert!(s.starts_with("3|8.3.24.1000|"), "{s}");
    assert!(s.ends_with("|isolated"), "{s}");
    assert_eq!(c2.get_interface_calls(), 2);
}

#[test]
fn method_call_sequence_and_default_params() {
    let (_g, h) = locked();
    let (_l, mut c) = tester(HostOptions::default());
    h.clear();
    assert_eq!(c.call("Add", &[Value::I4(5)]).unwrap(), Value::R8(15.0));
    assert_eq!(
        h.log(),
        "FindMethod(Add);GetNParams(0);GetParamDefValue(0,1);HasRetVal(0);CallAsFunc(0,2)"
    );
    h.clear();
    assert_eq!(
        c.call("сЛОЖИТЬ", &[Value::I4(1), Value::R8(0.5)]).unwrap(),
        Value::R8(1.5)
    );
    assert_eq!(
        h.log(),
        "FindMethod(сЛОЖИТЬ);GetNParams(0);HasRetVal(0);CallAsFunc(0,2)"
    );

    let e = c.call("Add", &[]).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::NotEnoughParams);
    assert_eq!(e.text, "Недостаточно фактических параметров");
    let e = c.call("Add", &[1.into(), 2.into(), 3.into()]).unwrap_err();
    assert_eq!(e.text, "Слишком много фактических параметров");
    let e = c.call("NoSuchMethod", &[]).unwrap_err();
    assert_eq!(e.text, "Метод объекта не обнаружен (NoSuchMethod)");
}

#[test]
fn function_versus_procedure() {
    let (_g, h) = locked();
    let (_l, mut c) = tester(HostOptions::default());
    h.clear();
    c.call_proc("Increment", &[]).unwrap();
    assert_eq!(
        h.log(),
        "FindMethod(Increment);GetNParams(10);HasRetVal(10);CallAsProc(10,0)"
    );
    assert_eq!(c.get("Counter").unwrap(), Value::I4(1));
    let e = c.call("Increment", &[]).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::ProcedureAsFunction);
    assert_eq!(
        e.text,
        "Обращение к процедуре объекта как к функции (Increment)"
    );
    // A function used as a statement goes through CallAsProc.
    h.clear();
    c.call_proc("Add", &[1.into(), 2.into()]).unwrap();
    assert!(
        h.log().ends_with("HasRetVal(0);CallAsProc(0,2)"),
        "{}",
        h.log()
    );
}

#[test]
fn exception_texts() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let e = c.call("Fail", &[Value::str("Бот не запущен")]).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::AddIn);
    assert_eq!(e.text, "Бот не запущен");
    let rec = e.add_error.unwrap();
    assert_eq!(rec.wcode, 1006);
    assert_eq!(rec.source, "Tester");
    assert_eq!(rec.scode, -2147467259);

    let e = c.call("FailSilently", &[]);
    assert!(e.is_err());
    let e = c.call_proc("FailSilently", &[]).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::CallFailed);
    assert_eq!(e.text, "Ошибка при вызове метода контекста (FailSilently)");

    // scode 0: recorded, no exception.
    c.call_proc("Warn", &[Value::str("just so you know")])
        .unwrap();
    let errs = c.add_errors();
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[1].scode, 0);
    assert_eq!(errs[1].wcode, 1005);
    assert_eq!(errs[1].descr, "just so you know");

    // Properties.
    assert_eq!(c.get("Broken").unwrap_err().text, "Свойство сломано");
    assert_eq!(
        c.get("WriteOnly").unwrap_err().kind,
        ExceptionKind::PropertyNotReadable
    );
    assert_eq!(
        c.set("Counter", 1.into()).unwrap_err().text,
        "Поле объекта недоступно для записи (Counter)"
    );
    assert_eq!(
        c.get("Nope").unwrap_err().text,
        "Поле объекта не обнаружено (Nope)"
    );
    assert_eq!(
        c.set("Name", Value::I4(1)).unwrap_err().text,
        "Name must be a string"
    );
    c.set("WriteOnly", Value::Empty).unwrap();
    c.set("Имя", Value::str("Бот")).unwrap();
    assert_eq!(c.get("name").unwrap(), Value::str("Бот"));
}

#[test]
fn a_call_copies_only_its_own_error_records() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    const CALLS: usize = 3_000;
    for i in 0..CALLS {
        let e = c
            .call("Fail", &[Value::str(format!("ошибка {i}"))])
            .unwrap_err();
        assert_eq!(e.text, format!("ошибка {i}"));
    }
    // One record per failing call, not every earlier one again (O(n²) before).
    assert_eq!(c.error_records_copied(), CALLS);
    assert_eq!(c.add_errors().len(), CALLS);
    assert_eq!(
        c.add_errors_since(CALLS - 1)[0].descr,
        format!("ошибка {}", CALLS - 1)
    );
}

#[test]
fn english_platform_texts() {
    let _serial = serial();
    let opts = HostOptions {
        language: "en".into(),
        ..Default::default()
    };
    let (_l, mut c) = tester(opts);
    assert_eq!(
        c.call_proc("FailSilently", &[]).unwrap_err().text,
        "Error calling context method (FailSilently)"
    );
    assert_eq!(
        c.call("X", &[]).unwrap_err().text,
        "Object method not found (X)"
    );
}

fn describe(c: &mut Component, v: Value) -> String {
    c.call("Describe", &[v])
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn values_are_passed_as_1c_does() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    assert_eq!(
        describe(&mut c, Value::str("Привет")),
        "vt=22;cb=0;len=6;str=Привет;nul"
    );
    assert_eq!(
        describe(&mut c, Value::str("")),
        "vt=22;cb=0;len=0;str=;nul"
    );
    assert_eq!(
        describe(&mut c, Value::str("😀")),
        "vt=22;cb=0;len=2;str=😀;nul"
    );
    assert_eq!(describe(&mut c, Value::number(42.0)), "vt=3;cb=0;i4=42");
    assert_eq!(
        describe(&mut c, Value::number(2147483648.0)),
        "vt=5;cb=0;r8=2147483648"
    );
    assert_eq!(describe(&mut c, Value::number(-0.25)), "vt=5;cb=0;r8=-0.25");
    assert_eq!(
        describe(&mut c, Value::number(4503599627370495.0)),
        "vt=5;cb=0;r8=4503599627370495"
    );
    assert_eq!(describe(&mut c, Value::Bool(true)), "vt=11;cb=0;bool=true");
    assert_eq!(describe(&mut c, Value::Empty), "vt=0;cb=0");
    assert_eq!(describe(&mut c, Value::Null), "vt=1;cb=0");
    assert_eq!(
        describe(&mut c, Value::Blob(vec![0, 0xff, 0x10])),
        "vt=23;cb=0;len=3;hex=00ff10"
    );
    assert_eq!(
        describe(&mut c, Value::Blob(vec![])),
        "vt=23;cb=0;len=0;hex="
    );
    assert_eq!(
        describe(&mut c, Value::Date(DateTime::new(2024, 3, 1, 12, 30, 5))),
        "vt=7;cb=0;tm=2024-03-01 12:30:05 wday=5 yday=60"
    );
    assert_eq!(
        describe(&mut c, Value::i8(1 << 40)),
        "vt=17;cb=0;i8=1099511627776"
    );
    assert_eq!(
        describe(
            &mut c,
            Value::Raw {
                vt: 0x1234,
                bytes: [1; 8]
            }
        ),
        "vt=4660;cb=0"
    );
    assert_eq!(
        describe(
            &mut c,
            Value::Raw {
                vt: vt::ARRAY | vt::I4,
                bytes: [0; 8]
            }
        ),
        format!("vt={};cb=0", 0x2003)
    );

    for v in [
        Value::str("Привет, мир"),
        Value::Blob(b"\x00binary\x01".to_vec()),
        Value::Bool(false),
        Value::I4(-7),
        Value::R8(3.5),
        Value::Date(DateTime::new(1999, 12, 31, 23, 59, 59)),
        Value::Empty,
        Value::i8(-5),
    ] {
        assert_eq!(c.call("Echo", std::slice::from_ref(&v)).unwrap(), v);
    }
    assert_eq!(Value::i8(-5).as_f64(), Some(-5.0));
    let r = c.teardown(Teardown::OneC);
    assert!(r.is_clean(), "{r:?}");
}

#[test]
fn event_buffer_depth_one_then_raised() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    assert_eq!(c.event_buffer_depth(), 1);
    c.call("Fire", &[2.into()]).unwrap();
    assert_eq!(c.call("Results", &[]).unwrap(), Value::str("1,0"));
    assert_eq!(c.rejected_events(), 1);
    assert_eq!(c.accepted_events(), 1);
    let ev = c.drain_events();
    assert_eq!(
        ev,
        vec![Event {
            source: "Tester".into(),
            message: "Tick".into(),
            data: "data-0".into()
        }]
    );

    assert_eq!(c.call("SetDepth", &[5.into()]).unwrap(), Value::I4(5));
    assert_eq!(c.event_buffer_depth(), 5);
    c.call("Fire", &[3.into()]).unwrap();
    assert_eq!(c.call("Results", &[]).unwrap(), Value::str("1,1,1"));
    let data: Vec<String> = c.drain_events().into_iter().map(|e| e.data).collect();
    assert_eq!(data, ["data-0", "data-1", "data-2"]);
    assert!(c.drain_events().is_empty());

    // CleanEventBuffer empties the queue.
    c.call("Fire", &[2.into()]).unwrap();
    assert_eq!(c.queued_events(), 2);
    c.call_proc("Clean", &[]).unwrap();
    assert_eq!(c.queued_events(), 0);
}

#[test]
fn next_event_waits_for_a_background_thread() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let t = Instant::now();
    assert!(c.next_event(Duration::from_millis(30)).is_none());
    assert!(t.elapsed() >= Duration::from_millis(25));
    c.call("Fire", &[1.into(), 100.into()]).unwrap(); // thread: sleep 100 ms, then event
    let ev = c
        .next_event(Duration::from_secs(10))
        .expect("event from the add-in thread");
    assert_eq!(ev.data, "data-0");
    assert_eq!(c.call("Results", &[]).unwrap(), Value::str("1"));
}

#[test]
fn server_gets_no_events() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::server());
    c.call("SetDepth", &[10.into()]).unwrap();
    c.call("Fire", &[3.into()]).unwrap();
    assert_eq!(c.call("Results", &[]).unwrap(), Value::str("0,0,0"));
    assert_eq!(c.server_events(), 3);
    assert_eq!(c.rejected_events(), 3);
    assert!(c.drain_events().is_empty());
    assert!(AppType::Server.is_server() && !AppType::ThinClient.is_server());
}

#[test]
fn events_reach_client_app_types_only() {
    let _serial = serial();
    let servers = [
        AppType::Server,
        AppType::ExtConnection,
        AppType::MobileServer,
    ];
    for app_type in AppType::ALL {
        let server = servers.contains(&app_type);
        assert_eq!(app_type.is_server(), server, "{app_type:?}");
        let (_l, mut c) = tester(HostOptions {
            app_type,
            ..Default::default()
        });
        c.call("SetDepth", &[10.into()]).unwrap();
        c.call("Fire", &[2.into()]).unwrap();
        let results = c.call("Results", &[]).unwrap();
        if server {
            assert_eq!(results, Value::str("0,0"), "{app_type:?}");
            assert_eq!(c.server_events(), 2, "{app_type:?}");
            assert!(c.drain_events().is_empty(), "{app_type:?}");
        } else {
            assert_eq!(results, Value::str("1,1"), "{app_type:?}");
            assert_eq!(c.server_events(), 0, "{app_type:?}");
            assert_eq!(c.drain_events().len(), 2, "{app_type:?}");
        }
    }
}

#[test]
fn message_boxes_are_recorded() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    c.call_proc("ShowAlert", &[Value::str("Внимание")]).unwrap();
    assert_eq!(c.message_boxes(), vec!["Внимание", "Continue?"]);
    let log = c.message_box_log();
    assert!(!log[0].confirm && log[1].confirm);
}

#[test]
fn memory_accounting_detects_leak_and_double_free() {
    let _serial = serial();
    let global_before = global_memory();
    let (_l, mut c) = tester(HostOptions::default());
    c.call_proc("Leak", &[100.into()]).unwrap();
    let m = c.memory();
    assert_eq!(m.live_blocks, 1);
    assert_eq!(m.live_bytes, 100);
    c.call_proc("DoubleFree", &[]).unwrap();
    assert_eq!(c.memory().invalid_frees, 1);
    c.call_proc("FreeForeign", &[]).unwrap();
    assert_eq!(c.memory().invalid_frees, 2);
    let r = c.teardown(Teardown::OneC);
    assert_eq!(r.live_blocks, 1);
    assert_eq!(r.leaked_blocks, 1);
    assert_eq!(r.leaked_bytes, 100);
    assert_eq!(r.invalid_frees, 2);
    assert!(!r.is_clean());
    let g = global_memory();
    assert!(g.invalid_frees >= global_before.invalid_frees + 2);
    assert!(g.leaked_blocks > global_before.leaked_blocks);
}

#[test]
fn names_are_listed_and_released() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let en = c.method_names(0);
    assert_eq!(en[0], "Add");
    assert!(en.contains(&"Fire".to_string()));
    assert_eq!(c.method_names(1)[0], "Сложить");
    assert_eq!(
        c.prop_names(0),
        ["Name", "Counter", "Log", "WriteOnly", "Broken"]
    );
    assert_eq!(c.prop_names(1)[0], "Имя");
    let r = c.teardown(Teardown::OneC);
    assert!(r.is_clean(), "{r:?}");
    assert!(r.allocations > 20);
}

#[test]
fn raw_calls_with_odd_arguments() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let mut raw = c.raw();
    assert_eq!(raw.get_method_name(999, 0), None);
    assert_eq!(raw.get_method_name(0, 7), None);
    assert_eq!(raw.get_prop_name(-1, 0), None);
    assert_eq!(raw.find_method(None), -1);
    assert_eq!(raw.find_prop(None), -1);
    assert_eq!(raw.get_n_params(-1), 0);
    assert!(!raw.has_ret_val(1000));
    assert!(!raw.call_as_proc(1000, &[], None));
    assert!(!raw.call_as_proc(10, &[], Some(5))); // Increment with a wrong count
    let (ok, v) = raw.call_as_func_null_params(3, 0);
    assert!(!ok);
    assert_eq!(v, Value::Empty);
    assert!(!raw.call_as_proc_null_params(2, 0));
    let (ok, v) = raw.get_param_def_value(0, 1);
    assert!(ok);
    assert_eq!(v, Value::I4(10));
    assert!(!raw.get_param_def_value(0, 0).0);
    let (ok, name) = raw.register_extension_as();
    assert!(ok);
    assert_eq!(name.as_deref(), Some("Tester"));
    raw.set_locale(None);
    raw.set_user_interface_language_code(Some("en"));
    assert_eq!(raw.get_info(), 2000);
    let (ok, v) = raw.call_as_func(3, &[Value::str("x")], None);
    assert!(ok);
    assert_eq!(v.as_str(), Some("vt=22;cb=0;len=1;str=x;nul"));
    let r = c.teardown(Teardown::OneC);
    assert!(r.is_clean(), "{r:?}");
}

#[test]
fn teardown_like_1c() {
    let (_g, h) = locked();
    let (_l, c) = tester(HostOptions::default());
    h.clear();
    let r = c.teardown(Teardown::OneC);
    assert!(r.is_clean());
    assert_eq!(h.log(), "Done;DestroyObject;~Tester");
}

#[test]
fn teardown_like_onescript_uses_the_virtual_destructor() {
    let (_g, h) = locked();
    let (_l, c) = tester(HostOptions::default());
    h.clear();
    let r = c.teardown(Teardown::OneScript);
    assert!(r.is_clean());
    assert_eq!(h.log(), "Done;~Tester");
}

#[test]
fn drop_tears_down_like_1c() {
    let (_g, h) = locked();
    let (_l, c) = tester(HostOptions::default());
    h.clear();
    drop(c);
    assert_eq!(h.log(), "Done;DestroyObject;~Tester");
}

#[test]
fn extension_name_must_match_class() {
    let _serial = serial();
    let l = lib();
    let e = l.create("Mismatch", HostOptions::default()).unwrap_err();
    assert!(
        matches!(e, SimError::Create(ref s) if s.contains("SomethingElse")),
        "{e}"
    );
    let e = l.create("Nope", HostOptions::default()).unwrap_err();
    assert!(matches!(e, SimError::UnknownClass { .. }), "{e}");
}

#[test]
fn library_unloads_after_objects_are_gone() {
    let _serial = serial();
    let l = lib();
    let c = l.create("Tester", HostOptions::default()).unwrap();
    let l2 = lib();
    assert_eq!(l.close(), Err(SimError::StillInUse(1)));
    c.teardown(Teardown::OneC);
    assert_eq!(l2.close(), Ok(()));
}

#[test]
fn component_is_send() {
    let _serial = serial();
    let (_l, mut c) = tester(HostOptions::default());
    let h = std::thread::spawn(move || {
        c.call_proc("Increment", &[]).unwrap();
        c
    });
    let mut c = h.join().unwrap();
    assert_eq!(c.get("Counter").unwrap(), Value::I4(1));
}

fn make_zip(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    let mut z = zip::ZipWriter::new(f.reopen().unwrap());
    for (name, data) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    f
}

#[test]
fn zip_package_via_manifest() {
    let _serial = serial();
    let so = std::fs::read(test_addin_path()).unwrap();
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle">
  <component os="Windows" path="AddIn_x64.dll" type="native" arch="x86_64"/>
  <component os="Linux" path="libAddIn_x32.so" type="native" arch="i386"/>
  <component os="{}" path="libAddIn_x64.so" type="native" arch="{}"/>
</bundle>"#,
        platform_os(),
        platform_arch()
    );
    let z = make_zip(&[
        ("MANIFEST.XML", manifest.as_bytes()),
        ("AddIn_x64.dll", b"not a library"),
        ("libAddIn_x32.so", b"not a library either"),
        ("libAddIn_x64.so", &so),
    ]);
    let l = Library::load_zip(z.path()).unwrap();
    assert!(l.path().ends_with("libAddIn_x64.so"));
    let mut c = l.create("Tester", HostOptions::default()).unwrap();
    assert_eq!(
        c.call("Add", &[2.into(), 3.into()]).unwrap(),
        Value::R8(5.0)
    );
    c.teardown(Teardown::OneC);
    l.close().unwrap();

    let only_windows = r#"<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle"><component os="Windows" path="a.dll" type="native" arch="x86_64"/></bundle>"#;
    let z = make_zip(&[("MANIFEST.XML", only_windows.as_bytes()), ("a.dll", b"x")]);
    let e = Library::load_zip(z.path()).unwrap_err();
    assert!(matches!(e, SimError::NoMatchingComponent { .. }), "{e}");
    assert!(e.to_string().contains("os=Windows"), "{e}");

    let z = make_zip(&[("readme.txt", b"x")]);
    assert!(matches!(
        Library::load_zip(z.path()),
        Err(SimError::Manifest(_))
    ));
}

#[test]
fn onescript_teardown_reports_null_destructor_slot() {
    let _serial = serial();
    let l = lib();
    let mut c = l.create("NullDtor", HostOptions::default()).unwrap();
    assert_eq!(
        c.call("Add", &[1.into(), 1.into()]).unwrap(),
        Value::R8(2.0)
    );
    let e = c.teardown_checked(Teardown::OneScript).unwrap_err();
    assert!(e.to_string().contains("deleting-destructor slot"), "{e}");
    // The 1C way does not need the destructor slots.
    let c = l.create("NullDtor", HostOptions::default()).unwrap();
    assert!(c.teardown(Teardown::OneC).is_clean());
}
