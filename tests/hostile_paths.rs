//! Hostile paths give a clear error at once, in both languages: a FIFO, a
//! device, a huge file as CaFile, LogFile, an offset file in StateDir or a
//! file to send; an existing non-log file is never taken over as LogFile;
//! stale temp files are cleaned; state files are owner-only.
//!
//! A watchdog aborts the test binary if any call blocks (the failure mode
//! being fixed is a call that never returns).

#![cfg(unix)]

mod common;
mod receiving_util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use receiving_util::*;

/// Aborts the process unless dropped within `limit`: a hung call fails the run.
struct Watchdog(Arc<AtomicBool>);

fn watchdog(what: &'static str, limit: Duration) -> Watchdog {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
        eprintln!("HUNG: {what} did not return within {limit:?}");
        std::process::abort();
    });
    Watchdog(done)
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success());
}

/// A sparse file of `len` bytes (no disk used).
fn huge(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

fn s(path: &Path) -> Value {
    Value::str(path.to_string_lossy())
}

#[test]
fn ca_file_refuses_fifos_devices_and_huge_files_at_once() {
    let dir = temp_dir("ca");
    let fifo = dir.join("ca.pipe");
    mkfifo(&fifo);
    let big = dir.join("big.pem");
    huge(&big, 3 * 1024 * 1024 * 1024);
    let _dog = watchdog("CaFile", Duration::from_secs(30));
    let mut ru = bot();
    let mut en = bot_en();
    for (path, en_why, ru_why) in [
        (
            fifo.clone(),
            "named pipe (FIFO)",
            "именованный канал (FIFO)",
        ),
        (PathBuf::from("/dev/zero"), "a device", "устройство"),
        (PathBuf::from("/dev/urandom"), "a device", "устройство"),
        (
            big.clone(),
            "over the limit of 1048576 bytes",
            "больше предела в 1048576 байт",
        ),
        (dir.clone(), "a folder", "каталог"),
    ] {
        let e = en.set("CaFile", s(&path)).unwrap_err();
        assert!(
            e.text.contains(en_why) && e.text.contains("CaFile"),
            "{}",
            e.text
        );
        let e = ru.set("ФайлСертификатовCA", s(&path)).unwrap_err();
        assert!(e.text.contains(ru_why), "{}", e.text);
        assert!(
            !e.text.contains("cannot be used"),
            "Russian text: {}",
            e.text
        );
    }
    assert_eq!(text(en.get("CaFile").unwrap()), "", "nothing changed");
    finish(en);
    finish(ru);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn log_file_refuses_a_fifo_and_never_takes_over_a_users_file() {
    let dir = temp_dir("log");
    let fifo = dir.join("log.pipe");
    mkfifo(&fifo);
    let _dog = watchdog("LogFile", Duration::from_secs(30));
    let mut en = bot_en();
    let e = en.set("LogFile", s(&fifo)).unwrap_err();
    assert!(e.text.contains("named pipe"), "{}", e.text);

    // A user's 11 MB file: over the rotation size, not a log of ours.
    let users = dir.join("accounts.csv");
    huge(&users, 11 * 1024 * 1024);
    let mut ru = bot();
    let e = ru.set("ФайлЖурнала", s(&users)).unwrap_err();
    assert!(e.text.contains("не является журналом"), "{}", e.text);
    en.set("LogLevel", Value::str("debug")).unwrap();
    assert!(en.set("LogFile", s(&users)).is_err());
    assert_eq!(
        std::fs::metadata(&users).unwrap().len(),
        11 * 1024 * 1024,
        "untouched"
    );
    assert!(!dir.join("accounts.csv.1").exists(), "never renamed");

    // A new file is ours, owner-only, and may be set again.
    let log = dir.join("bot.log");
    en.set("LogFile", s(&log)).unwrap();
    en.call("EscapeHtml", &[Value::str("<b>")]).unwrap();
    en.set("LogFile", Value::str("")).unwrap();
    en.set("LogFile", s(&log)).unwrap();
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "log is owner-only: {mode:o}");
    en.set("LogFile", Value::str("")).unwrap();
    finish(en);
    finish(ru);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The offset file name of the sandbox bot in `dir` (as `OffsetStore` names it).
fn offset_file(dir: &Path, sandbox: &Sandbox) -> PathBuf {
    let token = sandbox.token();
    let bot_id = token.split(':').next().unwrap();
    let url = sandbox.api_url();
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    }) as u32;
    dir.join(format!("{bot_id}-{hash:08x}.offset"))
}

#[test]
fn an_offset_fifo_fails_start_polling_and_get_updates_clearly() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let dir = temp_dir("state-fifo");
    let offset = offset_file(&dir, &sandbox);
    mkfifo(&offset);
    let _dog = watchdog("StartPolling/GetUpdates", Duration::from_secs(30));

    let mut client = bot_with(en());
    configure(&mut client, &sandbox, &dir);
    let e = client.call("StartPolling", &[]).unwrap_err();
    assert!(
        e.text.contains("named pipe") && e.text.contains("StateDir"),
        "{}",
        e.text
    );
    assert_eq!(client.get("Polling").unwrap(), Value::Bool(false));

    let mut server = bot_with(HostOptions::server());
    configure(&mut server, &sandbox, &dir);
    let e = server
        .call("ПолучитьОбновления", &[Value::I4(0)])
        .unwrap_err();
    assert!(e.text.contains("именованный канал"), "{}", e.text);
    finish(client);
    finish(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stale_temp_files_are_cleaned_and_state_files_are_owner_only() {
    let (sandbox, mut server, dir) = setup(HostOptions::server(), "state-clean");
    std::fs::create_dir_all(&dir).unwrap();
    let offset = offset_file(&dir, &sandbox);
    // A killed process's temp file: another pid, two minutes old.
    let stale = offset.with_file_name(format!(
        "{}.tmp999999",
        offset.file_name().unwrap().to_string_lossy()
    ));
    let file = std::fs::File::create(&stale).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(120))
        .unwrap();
    drop(file);
    let user = sandbox.create_user("Owner");
    let id = sandbox.user_sends_text(user, "hi").unwrap().update_id;
    assert_eq!(ids(&pull(&mut server, 5, 10)), [id]);
    assert!(pull(&mut server, 0, 10).is_empty());
    assert!(!stale.exists(), "the stale temp file is removed at start");
    let mode = std::fs::metadata(&offset).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "offset file mode {mode:o}");
    // Besides the offset file, only the binding folder (its "receiving" lease)
    // may be there; no temp file anywhere, and everything owner-only.
    let offset_name = offset.file_name().unwrap().to_string_lossy().into_owned();
    let mut stack = vec![dir.clone()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().unwrap();
            let mode = meta.permissions().mode() & 0o777;
            assert!(!name.contains(".tmp"), "a temp file is left: {name}");
            if folder == dir {
                assert!(
                    name == offset_name || name.starts_with("binding-"),
                    "only the offset file and the binding folder: {name}"
                );
            }
            if meta.is_dir() {
                assert_eq!(mode, 0o700, "{name} folder mode {mode:o}");
                stack.push(entry.path());
            } else {
                assert_eq!(mode, 0o600, "{name} file mode {mode:o}");
            }
        }
    }
    finish(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_to_send_must_be_regular() {
    let (sandbox, mut bot) = bot_on_sandbox();
    let user = sandbox.create_user("Files");
    let dir = temp_dir("send");
    let fifo = dir.join("photo.jpg");
    mkfifo(&fifo);
    let _dog = watchdog("SendFile/AddFile", Duration::from_secs(30));
    let chat = Value::number(user as f64);
    for path in [fifo.clone(), PathBuf::from("/dev/zero"), dir.clone()] {
        let e = bot
            .call(
                "ОтправитьФайл",
                &[chat.clone(), s(&path), Value::Empty, Value::Empty],
            )
            .unwrap_err();
        assert!(e.text.contains("не обычный файл"), "{}", e.text);
        let e = bot
            .call("AddFile", &[Value::str("a"), s(&path), Value::Empty])
            .unwrap_err();
        assert!(e.text.contains("не обычный файл"), "{}", e.text);
    }
    assert_eq!(sandbox.stats().requests("sendDocument"), 0);
    finish(bot);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn download_file_saves_only_inside_the_folder_and_only_over_regular_files() {
    let (sandbox, mut bot) = bot_on_sandbox();
    let user = sandbox.create_user("Sender");
    let bytes = b"report body".to_vec();
    sandbox
        .user_sends_document(user, "../../report.pdf", bytes.clone(), None)
        .unwrap();
    let file_id = sandbox
        .chat_history(user)
        .last()
        .unwrap()
        .file_id
        .clone()
        .unwrap();
    let dir = temp_dir("download");
    let _dog = watchdog("DownloadFile", Duration::from_secs(30));
    let saved = PathBuf::from(text(
        bot.call("DownloadFile", &[Value::str(&file_id), s(&dir)])
            .unwrap(),
    ));
    assert_eq!(saved.parent(), Some(dir.as_path()), "{saved:?}");
    assert_eq!(std::fs::read(&saved).unwrap(), bytes);
    // Without a folder the bytes come back as before.
    assert_eq!(
        bot.call("СкачатьФайл", &[Value::str(&file_id)]).unwrap(),
        Value::Blob(bytes)
    );
    // Something else put under that name is not written through.
    std::fs::remove_file(&saved).unwrap();
    mkfifo(&saved);
    let e = bot
        .call("СкачатьФайл", &[Value::str(&file_id), s(&dir)])
        .unwrap_err();
    assert!(e.text.contains("именованный канал"), "{}", e.text);
    let e = bot
        .call("СкачатьФайл", &[Value::str(&file_id), s(&dir.join("none"))])
        .unwrap_err();
    assert!(e.text.contains("Скачиваемый файл"), "{}", e.text);
    finish(bot);
    let _ = std::fs::remove_dir_all(&dir);
}
