//! The durable state of binding in `StateDir`, shared by every process of
//! one machine that uses the same folder:
//!
//! ```text
//! binding-<bot id>/codes/<id>.json    a code: hashes, subject, expiry
//! binding-<bot id>/done/<id>.json     how it ended: bound (who) or cancelled
//! binding-<bot id>/tries/<user>.json  times of a user's recent wrong tries
//! binding-<bot id>/seen/<update id>   attempts already handled
//! binding-<bot id>/receiver.lease     "a poller receives until …"
//! ```
//!
//! Files are written whole to a temp file and renamed, so a reader never sees
//! half a file; they are readable by the owner only. A code ends once: its
//! `done` file is made with a hard link, which fails when the file exists,
//! so of two redemptions (or a redemption and a cancel) racing in any
//! processes exactly one wins.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::code;

/// How long ended and expired codes are kept, so that late tries get a
/// polite refusal and `BindContact` still finds the binding.
pub const KEEP_AFTER_EXPIRY_SECS: i64 = 24 * 3600;
/// The window of the wrong-try limit, seconds.
pub const TRY_WINDOW_SECS: i64 = 600;
/// Wrong tries a user gets in [`TRY_WINDOW_SECS`].
pub const MAX_TRIES: usize = 5;

/// Unix time now, seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A code as kept on disk: hashes, never the code or the payload.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CodeRecord {
    pub id: String,
    pub code_hash: String,
    pub payload_hash: String,
    /// The digits sealed with the payload (see [`code::seal`]).
    pub sealed_code: String,
    pub subject: String,
    pub title: String,
    pub created: i64,
    pub expires_at: i64,
}

/// Who redeemed a code.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Binding {
    pub code_id: String,
    pub subject: String,
    pub title: String,
    pub user_id: i64,
    pub chat_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
    /// When it was redeemed, unix time.
    pub date: i64,
    /// The update that redeemed it (0 when unknown).
    pub update_id: i64,
}

/// How a code ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Ended {
    Bound(Binding),
    Cancelled { date: i64 },
}

/// The binding folder of one bot.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The folder of bot `bot_id` in `state_dir`.
    pub fn new(state_dir: &Path, bot_id: &str) -> Store {
        Store {
            dir: state_dir.join(format!("binding-{bot_id}")),
        }
    }

    /// Where the files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sub(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Saves a new code.
    pub fn add(&self, record: &CodeRecord) -> io::Result<()> {
        let bytes = serde_json::to_vec(record).map_err(io::Error::other)?;
        write_atomic(
            &self.sub("codes").join(format!("{}.json", record.id)),
            &bytes,
            true,
        )
    }

    /// Every code kept (live, expired or ended, until pruned).
    pub fn codes(&self) -> Vec<CodeRecord> {
        let Ok(entries) = fs::read_dir(self.sub("codes")) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| fs::read(e.path()).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// Whether any code is kept: while none is, no message is an attempt.
    pub fn has_codes(&self) -> bool {
        fs::read_dir(self.sub("codes")).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json")))
        })
    }

    /// The code whose digits are `digits` (12, no separators).
    pub fn find_code(&self, digits: &str) -> Option<CodeRecord> {
        let hash = code::hash(digits);
        self.codes().into_iter().find(|r| r.code_hash == hash)
    }

    /// The code whose payload is `payload`.
    pub fn find_payload(&self, payload: &str) -> Option<CodeRecord> {
        let hash = code::hash(payload);
        self.codes().into_iter().find(|r| r.payload_hash == hash)
    }

    /// How code `id` ended, if it did.
    pub fn ended(&self, id: &str) -> Option<Ended> {
        let bytes = fs::read(self.sub("done").join(format!("{id}.json"))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Ends code `id` as `how`, unless it has ended already: `Ok(false)` then.
    pub fn end(&self, id: &str, how: &Ended) -> io::Result<bool> {
        let dir = self.sub("done");
        create_dir(&dir)?;
        let path = dir.join(format!("{id}.json"));
        let tmp = temp_path(&path);
        let bytes = serde_json::to_vec(how).map_err(io::Error::other)?;
        write_file(&tmp, &bytes, true)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(&dir);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links: an exclusive create is just
            // as exclusive; a reader may briefly see it empty ("not ended").
            Err(_) => match create_new(&path, &bytes) {
                Ok(()) => {
                    sync_dir(&dir);
                    Ok(true)
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// Wrong tries of `user` within the window before `now`.
    pub fn tries(&self, user: i64, now: i64) -> Vec<i64> {
        let path = self.sub("tries").join(format!("{user}.json"));
        let times: Vec<i64> = fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        times
            .into_iter()
            .filter(|t| now - t < TRY_WINDOW_SECS)
            .collect()
    }

    /// Records one wrong try of `user`; returns how many are in the window.
    pub fn add_try(&self, user: i64, now: i64) -> io::Result<usize> {
        let mut times = self.tries(user, now);
        times.push(now);
        let path = self.sub("tries").join(format!("{user}.json"));
        let bytes = serde_json::to_vec(&times).map_err(io::Error::other)?;
        write_atomic(&path, &bytes, false)?;
        Ok(times.len())
    }

    /// Notes that the attempt in update `update_id` was handled, and how
    /// (`Some(code id)` when it bound a code).
    pub fn mark_seen(&self, update_id: i64, bound: Option<&str>) -> io::Result<()> {
        let path = self.sub("seen").join(update_id.to_string());
        write_atomic(&path, bound.unwrap_or("").as_bytes(), false)
    }

    /// Whether update `update_id` was handled: `Some(code id or "")`.
    pub fn seen(&self, update_id: i64) -> Option<String> {
        fs::read_to_string(self.sub("seen").join(update_id.to_string())).ok()
    }

    /// Says that a poller receives until `until` (unix time).
    pub fn lease(&self, until: i64) -> io::Result<()> {
        write_atomic(
            &self.sub("receiver.lease"),
            until.to_string().as_bytes(),
            false,
        )
    }

    /// Until when a poller said it receives; 0 when none.
    pub fn leased_until(&self) -> i64 {
        fs::read_to_string(self.sub("receiver.lease"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Withdraws the lease.
    pub fn release(&self) {
        let _ = fs::remove_file(self.sub("receiver.lease"));
    }

    /// Deletes codes kept past [`KEEP_AFTER_EXPIRY_SECS`], old tries and
    /// old seen marks.
    pub fn prune(&self, now: i64) {
        for record in self.codes() {
            if record.expires_at + KEEP_AFTER_EXPIRY_SECS < now {
                let _ = fs::remove_file(self.sub("codes").join(format!("{}.json", record.id)));
                let _ = fs::remove_file(self.sub("done").join(format!("{}.json", record.id)));
            }
        }
        let old = |path: &Path, age: i64| {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|e| e.as_secs() as i64 > age)
        };
        for (sub, age) in [
            ("tries", TRY_WINDOW_SECS),
            ("seen", 2 * KEEP_AFTER_EXPIRY_SECS),
        ] {
            if let Ok(entries) = fs::read_dir(self.sub(sub)) {
                for e in entries.filter_map(Result::ok) {
                    if old(&e.path(), age) {
                        let _ = fs::remove_file(e.path());
                    }
                }
            }
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Makes a folder (and its parents) readable by the owner only.
fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path`, failing when it exists, and writes it (owner only).
fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes a new file readable by the owner only.
fn write_file(path: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    if durable {
        file.sync_all()?;
    }
    Ok(())
}

/// Writes `path` whole: a temp file renamed over it.
fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir(dir)?;
    let tmp = temp_path(path);
    if let Err(e) = write_file(&tmp, bytes, durable).and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if durable {
        sync_dir(dir);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("tg-binding-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Store::new(&dir, "42")
    }

    fn record(id: &str) -> CodeRecord {
        CodeRecord {
            id: id.into(),
            code_hash: code::hash("123456789012"),
            payload_hash: code::hash("bind-x"),
            sealed_code: String::new(),
            subject: "s".into(),
            title: String::new(),
            created: 1,
            expires_at: 2,
        }
    }

    #[test]
    fn a_code_ends_once_even_when_threads_race() {
        let s = store("race");
        assert!(!s.has_codes());
        s.add(&record("a")).unwrap();
        assert!(s.has_codes());
        assert_eq!(s.find_code("123456789012").unwrap().id, "a");
        assert_eq!(s.find_payload("bind-x").unwrap().id, "a");
        let wins: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let s = s.clone();
                    scope.spawn(move || s.end("a", &Ended::Cancelled { date: i }).unwrap() as usize)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
        assert!(matches!(s.ended("a"), Some(Ended::Cancelled { .. })));
        s.prune(2 + KEEP_AFTER_EXPIRY_SECS + 1);
        assert!(!s.has_codes());
        assert_eq!(s.ended("a"), None);
        let _ = fs::remove_dir_all(s.dir());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let s = store("mode");
        s.add(&record("b")).unwrap();
        s.add_try(7, 100).unwrap();
        for path in [
            s.dir().join("codes"),
            s.dir().join("codes/b.json"),
            s.dir().join("tries/7.json"),
        ] {
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
        }
        assert_eq!(s.tries(7, 100 + TRY_WINDOW_SECS - 1).len(), 1);
        assert_eq!(s.tries(7, 100 + TRY_WINDOW_SECS).len(), 0);
        let _ = fs::remove_dir_all(s.dir());
    }
}
