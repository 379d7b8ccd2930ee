//! The add-in's own log: records of the `log` crate written to a file that
//! rotates by size.
//!
//! A cdylib has one `log` global logger per process, while 1C may create
//! several `Bot` objects, each with its own `LogFile`. So one [`Router`] is
//! installed once (`log::set_logger`) and routes every record:
//! - to the sink of the object whose call runs on the current thread (a
//!   thread-local set by [`enter`] for the duration of a call), or else
//! - to the most recently configured sink (records of background threads
//!   and of other crates).
//!
//! Logging never fails or stalls a call: every I/O error is ignored, the
//! file is written under a lock held only for one line, and lines are
//! masked so that nothing shaped like a bot token reaches the file.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::fsguard::{self, FsError};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Size at which the file rotates: `x.log` becomes `x.log.1`, and so on.
pub const ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// How many rotated files are kept.
pub const KEEP_FILES: u32 = 3;

/// Parses a `LogLevel` value: off, error, warn, info, debug (or Russian).
pub fn parse_level(text: &str) -> Option<LevelFilter> {
    Some(match text.trim().to_lowercase().as_str() {
        "" | "off" | "none" | "выкл" | "нет" => LevelFilter::Off,
        "error" | "ошибка" | "ошибки" => LevelFilter::Error,
        "warn" | "warning" | "предупреждение" | "предупреждения" => {
            LevelFilter::Warn
        }
        "info" | "информация" => LevelFilter::Info,
        "debug" | "отладка" => LevelFilter::Debug,
        _ => return None,
    })
}

/// The name of a level as `LogLevel` shows it.
pub fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::Off => "off",
        LevelFilter::Error => "error",
        LevelFilter::Warn => "warn",
        LevelFilter::Info => "info",
        LevelFilter::Debug | LevelFilter::Trace => "debug",
    }
}

/// One log file with its level.
pub struct Sink {
    path: PathBuf,
    level: LevelFilter,
    file: Mutex<Option<(File, u64)>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("path", &self.path).finish()
    }
}

impl Sink {
    /// Opens (creates) the file now, so a bad path is reported when it is set.
    pub fn open(path: &str, level: LevelFilter) -> Result<Arc<Sink>, FsError> {
        let path = PathBuf::from(path);
        fsguard::check_log_file(&path)?;
        let file = fsguard::open_append(&path)?;
        let size = file.metadata().map_or(0, |m| m.len());
        let sink = Arc::new(Sink {
            path,
            level,
            file: Mutex::new(Some((file, size))),
        });
        install();
        if let Ok(mut last) = router().latest.lock() {
            *last = Arc::downgrade(&sink);
        }
        Ok(sink)
    }

    fn enabled(&self, level: Level) -> bool {
        level <= self.level
    }

    fn write_line(&self, line: &str) {
        let Ok(mut slot) = self.file.lock() else {
            return;
        };
        if let Some((_, size)) = slot.as_ref() {
            if size + line.len() as u64 > ROTATE_BYTES {
                *slot = None;
                self.rotate();
            }
        }
        if slot.is_none() {
            // A file put in its place since is not ours: write nothing there.
            *slot = fsguard::check_log_file(&self.path)
                .and_then(|()| fsguard::open_append(&self.path))
                .ok()
                .map(|f| {
                    let size = f.metadata().map_or(0, |m| m.len());
                    (f, size)
                });
        }
        if let Some((file, size)) = slot.as_mut() {
            if file.write_all(line.as_bytes()).is_ok() {
                *size += line.len() as u64;
            }
        }
    }

    fn rotate(&self) {
        if fsguard::check_log_file(&self.path).is_err() {
            return; // never rename a file that is not our log
        }
        let name = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        for n in (1..KEEP_FILES).rev() {
            let _ = std::fs::rename(name(n), name(n + 1));
        }
        let _ = std::fs::rename(&self.path, name(1));
    }
}

/// The object context of a thread: `None` outside any call, `Some(None)`
/// in a call of an object that does not log.
type Context = Option<Option<Arc<Sink>>>;

thread_local! {
    static CURRENT: RefCell<Context> = const { RefCell::new(None) };
}

/// The log of the object whose call runs on this thread, to hand to a thread
/// that works for that object (the poller, delivery workers).
pub fn current() -> Option<Arc<Sink>> {
    CURRENT
        .try_with(|c| c.borrow().clone())
        .ok()
        .flatten()
        .flatten()
}

/// Restores the previous context of the thread when dropped.
pub struct Scope(Context);

/// Routes this thread's records to `sink` (or nowhere, for `None`) until the
/// returned scope is dropped.
pub fn enter(sink: Option<Arc<Sink>>) -> Scope {
    let previous = CURRENT.try_with(|c| c.replace(Some(sink))).ok().flatten();
    Scope(previous)
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|c| c.replace(previous));
    }
}

struct Router {
    latest: Mutex<Weak<Sink>>,
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| Router {
        latest: Mutex::new(Weak::new()),
    })
}

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if log::set_logger(router()).is_ok() {
            log::set_max_level(LevelFilter::Debug);
        }
    });
}

impl Router {
    fn sink(&self) -> Option<Arc<Sink>> {
        match CURRENT.try_with(|c| c.borrow().clone()).ok().flatten() {
            Some(own) => own,
            None => self.latest.try_lock().ok().and_then(|w| w.upgrade()),
        }
    }
}

/// Whether a record of another crate is worth writing (ureq's debug lines
/// are noise and may hold URLs).
fn wanted(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("telegram_addin") || metadata.level() <= Level::Warn
}

impl Log for Router {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        wanted(metadata) && self.sink().is_some_and(|s| s.enabled(metadata.level()))
    }

    fn log(&self, record: &Record<'_>) {
        if !wanted(record.metadata()) {
            return;
        }
        let Some(sink) = self.sink() else { return };
        if !sink.enabled(record.level()) {
            return;
        }
        let line = format!(
            "{} {:<5} {}: {}\n",
            timestamp(),
            record.level(),
            record.target(),
            mask_tokens(&record.args().to_string())
        );
        sink.write_line(&line);
    }

    fn flush(&self) {
        if let Some(sink) = self.sink() {
            if let Ok(mut slot) = sink.file.lock() {
                if let Some((f, _)) = slot.as_mut() {
                    let _ = f.flush();
                }
            }
        }
    }
}

/// Replaces the secret of anything shaped like a bot token (`digits:secret`).
pub fn mask_tokens(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let digits_end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits_end - i >= 3 && bytes.get(digits_end) == Some(&b':') {
                let secret_end = digits_end
                    + 1
                    + bytes[digits_end + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                        .count();
                if secret_end - digits_end > 6 {
                    out.push_str(&text[copied..=digits_end]);
                    out.push_str("***");
                    copied = secret_end;
                    i = secret_end;
                    continue;
                }
            }
            i = digits_end;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// UTC time as `YYYY-MM-DD hh:mm:ss.mmm`, without a date crate.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        assert_eq!(
            mask_tokens("GET /bot123456:AAE-secret_x/getMe id 42:ab t=99:x"),
            "GET /bot123456:***/getMe id 42:ab t=99:x"
        );
        assert_eq!(mask_tokens("время 12:30:45"), "время 12:30:45");
    }

    #[test]
    fn levels() {
        assert_eq!(parse_level("Отладка"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("WARN"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("loud"), None);
        assert_eq!(level_name(LevelFilter::Info), "info");
        assert_eq!(timestamp().len(), 24);
    }
}
