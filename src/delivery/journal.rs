//! The idempotency journal of `SendBatch`: which keys were sent, and what
//! Telegram answered, in an append-only file of JSON lines in the state
//! folder.
//!
//! A key is marked in flight right before its request goes, and gets its
//! result when the answer comes. A key found in flight when the journal is
//! read (its process died meanwhile) may have been delivered: it is reported
//! as unknown, never sent again. Keys that were not sent, or were refused,
//! are forgotten, so a rerun tries them again. Every process appends whole
//! lines and reads what others appended before each batch, so a folder that
//! every server sees spans a cluster.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value as Json};

/// What the journal knows of a key.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// Its request went and no answer is recorded (yet, or ever).
    InFlight,
    /// Telegram accepted it with this result.
    Sent(Json),
    /// It may have reached Telegram; the text says why it is not known.
    Unknown(String),
}

struct Inner {
    entries: HashMap<String, Recorded>,
    /// How far the file has been read.
    offset: u64,
    /// The file, open for appending.
    file: Option<File>,
}

/// One journal file.
pub struct Journal {
    path: PathBuf,
    inner: Mutex<Inner>,
}

/// Journals by path, shared in the process while someone holds them (a
/// `Bot` object, or a request in flight); the last holder closes the file.
static JOURNALS: Mutex<Vec<(PathBuf, Weak<Journal>)>> = Mutex::new(Vec::new());

/// The journal at `path`, one per process. Fails when the folder or the
/// file cannot be written.
pub fn open(path: &Path) -> io::Result<Arc<Journal>> {
    let mut all = JOURNALS.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(_, j)| j.strong_count() > 0);
    if let Some(j) = all
        .iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, j)| j.upgrade())
    {
        j.refresh();
        return Ok(j);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)?;
    let journal = Arc::new(Journal {
        path: path.to_owned(),
        inner: Mutex::new(Inner {
            entries: HashMap::new(),
            offset: 0,
            file: None,
        }),
    });
    journal.refresh();
    all.push((path.to_owned(), Arc::downgrade(&journal)));
    Ok(journal)
}

/// How long a key is remembered: lines older than this are skipped when
/// the journal is read, so its memory stays bounded.
pub const RETENTION_SECS: u64 = 30 * 24 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn apply(entries: &mut HashMap<String, Recorded>, line: &str) {
    let Ok(v) = serde_json::from_str::<Json>(line) else {
        return;
    };
    let Some(key) = v.get("k").and_then(Json::as_str) else {
        return;
    };
    let written = v.get("t").and_then(Json::as_u64).unwrap_or(u64::MAX);
    if written.saturating_add(RETENTION_SECS) < unix_now() {
        return;
    }
    let state = v.get("s").and_then(Json::as_str).unwrap_or("");
    match state {
        "inflight" => {
            entries.insert(key.to_owned(), Recorded::InFlight);
        }
        "sent" => {
            let result = v.get("r").cloned().unwrap_or(Json::Null);
            entries.insert(key.to_owned(), Recorded::Sent(result));
        }
        "unknown" => {
            let why = v.get("e").and_then(Json::as_str).unwrap_or("").to_owned();
            entries.insert(key.to_owned(), Recorded::Unknown(why));
        }
        _ => {
            entries.remove(key);
        }
    }
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads what was appended since the last read (by any process).
    pub fn refresh(&self) {
        let mut inner = self.lock();
        let Ok(mut file) = File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(inner.offset)).is_err() {
            return;
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return;
        }
        // Only whole lines: another process may be writing the last one.
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let text = String::from_utf8_lossy(&bytes[..end]);
        for line in text.lines() {
            apply(&mut inner.entries, line);
        }
        inner.offset += end as u64 + 1;
    }

    /// What is recorded for `key`.
    pub fn get(&self, key: &str) -> Option<Recorded> {
        self.lock().entries.get(key).cloned()
    }

    fn append(&self, mut line: Json) {
        line["t"] = Json::from(unix_now());
        let mut inner = self.lock();
        apply(&mut inner.entries, &line.to_string());
        let text = format!("{line}\n");
        if inner.file.is_none() {
            inner.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        let written = match inner.file.as_mut() {
            // One write of a whole line, appended: lines of several processes never mix.
            Some(f) => f.write_all(text.as_bytes()),
            None => Err(io::Error::other("cannot open the file")),
        };
        if let Err(e) = written {
            inner.file = None;
            log::error!(
                "cannot write the delivery journal {}: {e}",
                self.path.display()
            );
        }
    }

    /// Marks `key` in flight (right before its request goes).
    pub fn in_flight(&self, key: &str) {
        self.append(json!({"k": key, "s": "inflight"}));
    }

    /// Records that `key` was sent with `result`.
    pub fn sent(&self, key: &str, result: &Json) {
        self.append(json!({"k": key, "s": "sent", "r": result}));
    }

    /// Records that `key` may have been delivered.
    pub fn unknown(&self, key: &str, why: &str) {
        self.append(json!({"k": key, "s": "unknown", "e": why}));
    }

    /// Forgets `key` (not sent, or refused): a rerun sends it again.
    pub fn forget(&self, key: &str) {
        self.append(json!({"k": key, "s": "clear"}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_and_in_flight_stays_in_flight() {
        let dir = std::env::temp_dir().join(format!("tg-journal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = dir.join("j.journal");
        let j = open(&path).unwrap();
        j.in_flight("a");
        j.sent("a", &json!({"message_id": 1}));
        j.in_flight("b");
        j.in_flight("c");
        j.forget("c");
        // Another process reads the same file from the start.
        let mut entries = HashMap::new();
        for line in fs::read_to_string(&path).unwrap().lines() {
            apply(&mut entries, line);
        }
        assert_eq!(
            entries.get("a"),
            Some(&Recorded::Sent(json!({"message_id": 1})))
        );
        assert_eq!(entries.get("b"), Some(&Recorded::InFlight));
        assert_eq!(entries.get("c"), None);
        // Lines older than the retention are forgotten.
        apply(&mut entries, r#"{"k":"old","s":"sent","r":1,"t":1000}"#);
        assert_eq!(entries.get("old"), None);
        // A torn last line is left for later.
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(br#"{"k":"d","s":"se"#)
            .unwrap();
        j.refresh();
        assert_eq!(j.get("d"), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
