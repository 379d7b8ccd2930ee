//! A standing property test: random calls of every member through the
//! simulator, with every variant type (unknown `vt` included), empty, huge
//! and broken strings, NaN and infinities, wrong parameter counts, hostile
//! paths, and calls after `Done`. It fails on the first crash (the process
//! dies), hang (a per-call watchdog aborts), internal error (a caught
//! panic), leak (the memory report after teardown) or token in any output.
//!
//! Every operation is appended to `target/fuzz/members-<seed>.txt` before it
//! runs, so the last line of that file is the reproducer of a crash or hang.
//! `FUZZ_SECONDS` sets the budget (default 3 s in the normal run; e.g.
//! `FUZZ_SECONDS=600 cargo test --test fuzz_members -- --nocapture` for a
//! long run), `FUZZ_SEED` replays a run.

#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use onec_simulator::{DateTime, Exception};

/// The longest one call may take before it counts as a hang.
const CALL_LIMIT: Duration = Duration::from_secs(20);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Paths a hostile or careless caller may give: FIFOs, devices, folders,
/// huge and missing files, and ordinary ones, all under one temp folder.
struct Paths {
    dir: PathBuf,
    all: Vec<String>,
}

impl Paths {
    fn new(seed: u64) -> Paths {
        let dir = std::env::temp_dir().join(format!("tg-fuzz-{}-{seed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let huge = dir.join("huge.bin");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(5 * 1024 * 1024 * 1024)
            .unwrap();
        let small = dir.join("small.txt");
        std::fs::write(&small, b"some bytes").unwrap();
        let all = [
            fifo,
            huge,
            small,
            dir.join("state"),
            dir.join("new.log"),
            dir.join("missing/deeper/file"),
            dir.clone(),
            PathBuf::from("/dev/zero"),
            PathBuf::from("/dev/urandom"),
            PathBuf::from("/dev/null"),
        ]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
        Paths { dir, all }
    }
}

impl Drop for Paths {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn any_string(rng: &mut Rng, paths: &Paths) -> Value {
    let s = match rng.below(14) {
        0 => String::new(),
        1 => "   ".into(),
        2 => "x".repeat(1 + rng.below(300_000)),
        3 => "{\"a\":".into(),
        4 => "[]".into(),
        5 => {
            "{\"parse_mode\":\"HTML\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\"}]]}}"
                .into()
        }
        6 => "12345".into(),
        7 => "-1001234567890".into(),
        8 => "@someone".into(),
        9 => "http://127.0.0.1:1/file.jpg".into(),
        10 => rng.pick(&paths.all).clone(),
        11 => "<b>привет</b> *жирный* 😀".repeat(1 + rng.below(3000)),
        12 => (0..rng.below(40))
            .map(|_| char::from_u32(rng.below(0x3000) as u32 + 1).unwrap_or('?'))
            .collect(),
        _ => "1e400".into(),
    };
    Value::Str(s)
}

fn any_value(rng: &mut Rng, paths: &Paths) -> Value {
    match rng.below(12) {
        0 => Value::Empty,
        1 => Value::Null,
        2 => Value::Bool(rng.chance(50)),
        3 => Value::I4(*rng.pick(&[0, 1, -1, 5, 100, i32::MIN, i32::MAX, 4097])),
        4 => Value::R8(*rng.pick(&[
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.5,
            1e300,
            9_007_199_254_740_993.0,
            -1e18,
        ])),
        5 | 6 => any_string(rng, paths),
        7 => {
            let units: Vec<u16> = match rng.below(3) {
                0 => vec![0xD800, 0x41],
                1 => vec![0x41, 0, 0x42],
                _ => vec![0xDFFF; 1 + rng.below(10)],
            };
            Value::Utf16(units)
        }
        8 => Value::Blob(vec![7; *rng.pick(&[0, 1, 1000, 3_000_000])]),
        9 => Value::Date(DateTime::new(
            *rng.pick(&[1, 1970, 2026, 9999]),
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
            0,
            0,
            0,
        )),
        10 => Value::i8(*rng.pick(&[i64::MIN, -1, 0, 1 << 53, i64::MAX])),
        _ => {
            // Any type code whose value is not a pointer: the numeric ones
            // 1C converts, and codes the platform never sends.
            let pointer = [8u16, 9, 12, 22, 23, 24];
            let vt = loop {
                let vt = match rng.below(3) {
                    0 => rng.below(25) as u16,
                    1 => 25 + rng.below(0x1000) as u16,
                    _ => *rng.pick(&[0x1000u16, 0x2000, 0x4000, 0xFFFF, 0x1234]),
                };
                if !pointer.contains(&vt) {
                    break vt;
                }
            };
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&rng.next().to_le_bytes());
            Value::Raw { vt, bytes }
        }
    }
}

/// Path-valued properties only ever get paths from the pool (a random
/// string would create files in the working folder).
fn prop_value(rng: &mut Rng, prop: &str, paths: &Paths, sandbox: &Sandbox) -> Value {
    let is = |names: &[&str]| names.contains(&prop);
    if is(&[
        "LogFile",
        "ФайлЖурнала",
        "StateDir",
        "КаталогСостояния",
        "CaFile",
        "ФайлСертификатовCA",
    ]) && rng.chance(80)
    {
        return Value::str(rng.pick(&paths.all).clone());
    }
    if is(&["ApiUrl", "АдресAPI"]) && rng.chance(70) {
        return Value::str(
            rng.pick(&[
                sandbox.api_url(),
                "http://127.0.0.1:1".into(),
                "ftp://x".into(),
            ])
            .clone(),
        );
    }
    if is(&["Proxy", "Прокси"]) && rng.chance(70) {
        return Value::str(*rng.pick(&[
            "",
            "http://127.0.0.1:1",
            "socks5://127.0.0.1:1",
            "bad proxy",
        ]));
    }
    if is(&["Token", "Токен"]) && rng.chance(70) {
        return Value::str(*rng.pick(&[sandbox.token(), "999:NOT-a-known-bot", "no token"]));
    }
    let v = any_value(rng, paths);
    // A string property must never become a path or URL it does not vet.
    match (
        &v,
        is(&[
            "LogFile",
            "ФайлЖурнала",
            "StateDir",
            "КаталогСостояния",
            "CaFile",
            "ФайлСертификатовCA",
            "ApiUrl",
            "АдресAPI",
            "Proxy",
            "Прокси",
        ]),
    ) {
        (Value::Str(_), true) => Value::str(""),
        _ => v,
    }
}

/// Arguments for a method: mostly random, with waits kept short (a long
/// `GetUpdates` wait is not a hang).
fn method_args(rng: &mut Rng, method: &str, n: usize, paths: &Paths) -> Vec<Value> {
    let mut args: Vec<Value> = (0..n).map(|_| any_value(rng, paths)).collect();
    if matches!(method, "GetUpdates" | "ПолучитьОбновления") && !args.is_empty() {
        args[0] = Value::I4(rng.below(2) as i32);
    }
    args
}

/// The watchdog of the call in progress: aborts the process if one call
/// runs longer than [`CALL_LIMIT`].
struct Watchdog {
    started_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl Watchdog {
    fn start(repro: PathBuf) -> Watchdog {
        let started_ms = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let seen = started_ms.clone();
        std::thread::spawn(move || loop {
            std::thread::park_timeout(Duration::from_millis(200));
            let started = seen.load(Ordering::SeqCst);
            if started == u64::MAX {
                return;
            }
            let now = epoch.elapsed().as_millis() as u64;
            if started != 0 && now.saturating_sub(started) > CALL_LIMIT.as_millis() as u64 {
                eprintln!(
                    "HANG: a call ran over {CALL_LIMIT:?}; the reproducer is the last line of {}",
                    repro.display()
                );
                std::process::abort();
            }
        });
        Watchdog { started_ms, epoch }
    }
    fn begin(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.started_ms.store(now.max(1), Ordering::SeqCst);
    }
    fn end(&self) {
        self.started_ms.store(0, Ordering::SeqCst);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.started_ms.store(u64::MAX, Ordering::SeqCst);
    }
}

fn check_text(text: &str, op: &str, repro: &Path) {
    assert!(
        !text.contains("Internal error") && !text.contains("Внутренняя ошибка"),
        "a caught panic at {op}: {text}\nreproducer: {}",
        repro.display()
    );
    let secret = tg_sandbox::DEFAULT_TOKEN.split_once(':').unwrap().1;
    assert!(!text.contains(secret), "the token at {op}: {text}");
}

#[test]
fn random_calls_of_every_member_never_crash_hang_leak_or_leak_the_token() {
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let budget = Duration::from_secs_f64(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    std::fs::create_dir_all(&out).unwrap();
    let repro = out.join(format!("members-{seed}.txt"));
    let mut log = std::fs::File::create(&repro).unwrap();
    println!(
        "fuzz seed {seed}, budget {budget:?}, reproducer {}",
        repro.display()
    );

    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let paths = Paths::new(seed);
    let dog = Watchdog::start(repro.clone());
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut objects, mut calls) = (0u64, 0u64);
    while started.elapsed() < budget {
        let options = match rng.below(3) {
            0 => HostOptions::server(),
            1 => HostOptions {
                language: "en".into(),
                locale: "en_US".into(),
                ..HostOptions::default()
            },
            _ => HostOptions::default(),
        };
        writeln!(log, "new object {options:?}").unwrap();
        let mut bot = bot_with(options);
        objects += 1;
        let props: Vec<String> = bot.prop_names(rng.below(2) as i32);
        let methods: Vec<String> = bot
            .method_names(rng.below(2) as i32)
            .into_iter()
            .filter(|m| !m.starts_with("Debug") && !m.starts_with("Отладка"))
            .collect();
        if rng.chance(80) {
            bot.set("Token", Value::str(sandbox.token())).unwrap();
            bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
            bot.set(
                "StateDir",
                Value::str(paths.dir.join("state").to_string_lossy()),
            )
            .unwrap();
        }
        let mut done = false;
        for _ in 0..(10 + rng.below(40)) {
            if started.elapsed() >= budget {
                break;
            }
            if !done && rng.chance(2) {
                writeln!(log, "Done").unwrap();
                log.flush().unwrap();
                dog.begin();
                bot.raw().done();
                dog.end();
                done = true;
                continue;
            }
            let op;
            let outcome = match rng.below(4) {
                0 => {
                    let p = rng.pick(&props).clone();
                    op = format!("get {p}");
                    writeln!(log, "{op}").unwrap();
                    log.flush().unwrap();
                    dog.begin();
                    let r = bot.get(&p).map(|_| ());
                    dog.end();
                    r
                }
                1 => {
                    let p = rng.pick(&props).clone();
                    let v = prop_value(&mut rng, &p, &paths, &sandbox);
                    op = format!("set {p} = {}", short(&v));
                    writeln!(log, "{op}").unwrap();
                    log.flush().unwrap();
                    dog.begin();
                    let r = bot.set(&p, v);
                    dog.end();
                    r
                }
                _ => {
                    let m = rng.pick(&methods).clone();
                    let num = bot.raw().find_method(Some(&m));
                    let n = bot.raw().get_n_params(num) as usize;
                    let count = match rng.below(10) {
                        0 => n.saturating_sub(1),
                        1 => n + 1 + rng.below(3),
                        _ => n,
                    };
                    let args = method_args(&mut rng, &m, count, &paths);
                    op = format!(
                        "call {m}({}) count {count} of {n}",
                        args.iter().map(short).collect::<Vec<_>>().join(", ")
                    );
                    writeln!(log, "{op}").unwrap();
                    log.flush().unwrap();
                    dog.begin();
                    let r: Result<(), Exception> = if count == n {
                        bot.call(&m, &args).map(|_| ())
                    } else {
                        // Its exception text, if any, is among the AddError records.
                        let _ = bot.raw().call_as_func(num, &args, Some(count as i64));
                        Ok(())
                    };
                    dog.end();
                    r
                }
            };
            calls += 1;
            if let Err(e) = outcome {
                check_text(&e.text, &op, &repro);
            }
        }
        for record in bot.add_errors() {
            check_text(&record.descr, "AddError", &repro);
        }
        writeln!(log, "teardown").unwrap();
        log.flush().unwrap();
        dog.begin();
        let report = finish_with(bot, Teardown::OneC);
        dog.end();
        assert!(
            report.is_clean(),
            "leak: {report}; reproducer {}",
            repro.display()
        );
    }
    drop(dog);
    println!(
        "fuzz: {objects} objects, {calls} calls in {:?}, no crash, hang, leak or token",
        started.elapsed()
    );
    assert!(calls > 0);
    let _ = std::fs::remove_file(&repro);
}

/// A value as one short line for the reproducer.
fn short(v: &Value) -> String {
    match v {
        Value::Str(s) if s.chars().count() > 60 => {
            format!(
                "Str({:?}… {} chars)",
                s.chars().take(30).collect::<String>(),
                s.chars().count()
            )
        }
        Value::Blob(b) => format!("Blob({} bytes)", b.len()),
        Value::Utf16(u) if u.len() > 20 => format!("Utf16({} units)", u.len()),
        other => format!("{other:?}"),
    }
}
