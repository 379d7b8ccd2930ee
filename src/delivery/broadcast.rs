//! Broadcasts: one message to many chats in the background, with progress,
//! cancel, and a log in the state folder from which a broadcast resumes
//! after the process died.
//!
//! The log (`<id>.broadcast`, JSON lines) starts with the broadcast itself
//! (recipients and message); then every recipient gets an `inflight` line
//! right before its request goes and a result line when the answer comes.
//! On resume, a recipient with a result is skipped, one left in flight may
//! have been messaged and is marked unknown (never messaged again), and the
//! rest are sent. A file for many recipients is uploaded with the first
//! request; the others get its `file_id`, which the log keeps as well.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value as Json};

use super::engine::{Engine, FileData, FileRef, Job, Outcome, Priority, Ticket};

/// Where progress events go (a 1C form through the host, or nowhere).
pub trait Notify: Send + Sync {
    /// Raises one event; `message` is `broadcast_progress` or `broadcast_done`.
    fn event(&self, message: &str, data: &str);
}

/// The message of a broadcast.
#[derive(Clone, Debug)]
pub struct Message {
    /// The Bot API method (`sendMessage`, `sendPhoto`, …).
    pub method: String,
    /// Its parameters, without `chat_id`.
    pub params: Map<String, Json>,
    /// A file to upload once: its field, file name and bytes.
    pub upload: Option<(String, String, Vec<u8>)>,
}

/// What is known of one recipient.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    Pending(Option<String>),
    InFlight,
    Sent {
        message_id: Option<i64>,
        migrated_to: Option<i64>,
    },
    Failed(String, Option<i64>),
    Unknown(String),
}

/// What a broadcast is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Sending.
    Running,
    /// Every recipient has a result (some may be pending: not sent, e.g. the
    /// network was down; calling `Broadcast` with the id sends those).
    Done,
    /// Stopped by `CancelBroadcast`.
    Cancelled,
    /// Its process stopped before the end; `Broadcast` with the id resumes.
    Interrupted,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Done => "done",
            Phase::Cancelled => "cancelled",
            Phase::Interrupted => "interrupted",
        }
    }
}

struct State {
    recipients: Vec<Json>,
    slots: Vec<Slot>,
    method: String,
    params: Map<String, Json>,
    paid: bool,
    /// Field of the file to upload once, and its `file_id` when known.
    file_field: Option<String>,
    file_id: Option<String>,
    /// Whether a request carrying the upload is out.
    uploading: bool,
    phase: Phase,
    started: Instant,
    finished: Option<Instant>,
    /// Results that came in this run (for the rate).
    answered: usize,
    /// Jobs queued and not yet answered.
    outstanding: usize,
    last_progress: Instant,
}

/// A broadcast running in this process.
pub struct Broadcast {
    id: String,
    log: PathBuf,
    file: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    cancel: Arc<AtomicBool>,
    engine: Weak<Engine>,
    notify: Arc<dyn Notify>,
}

/// Broadcasts running in this process, by log path.
static RUNNING: Mutex<Vec<Arc<Broadcast>>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<Arc<Broadcast>>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether an id may name a broadcast: 1–64 of `A-Z a-z 0-9 _ -`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A new id: time and a counter.
pub fn new_id() -> String {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "b{}-{}-{}",
        now.as_millis(),
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn log_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.broadcast"))
}

fn append(path: &Path, line: &Json) {
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = written {
        log::error!("cannot write the broadcast log {}: {e}", path.display());
    }
}

/// The `file_id` of what a send method returned for a file field.
fn file_id_of(result: &Json, field: &str) -> Option<String> {
    let value = result.get(field)?;
    let file = match value {
        Json::Array(sizes) => sizes.last()?,
        other => other,
    };
    file.get("file_id")?.as_str().map(str::to_owned)
}

/// Starts a broadcast, or resumes the one with this id: a broadcast already
/// running in this process is left as it is; one found in `dir` continues
/// with the recipients that have no result (its own recipients and message,
/// not the ones given now). Returns the id.
pub fn start(
    engine: &Arc<Engine>,
    dir: &Path,
    id: &str,
    recipients: Vec<Json>,
    message: Message,
    notify: Arc<dyn Notify>,
) -> io::Result<String> {
    let log = log_path(dir, id);
    let mut all = running();
    all.retain(|b| !b.is_over());
    if all.iter().any(|b| b.log == log) {
        return Ok(id.to_owned());
    }
    fs::create_dir_all(dir)?;
    let file = dir.join(format!("{id}.file"));
    let state = if log.exists() {
        let mut st = load(&log)?;
        // In flight when the process died: may have been messaged.
        for (i, slot) in st.slots.iter_mut().enumerate() {
            if *slot == Slot::InFlight {
                let why = "the request was in flight when the process stopped; it may have been delivered";
                *slot = Slot::Unknown(why.into());
                append(&log, &json!({"i": i, "s": "unknown", "e": why}));
            }
        }
        st
    } else {
        let file_field = message.upload.as_ref().map(|(field, _, _)| field.clone());
        if let Some((_, _, bytes)) = &message.upload {
            fs::write(&file, bytes)?;
        }
        let paid = message.params.get("allow_paid_broadcast") == Some(&Json::Bool(true));
        let header = json!({
            "broadcast": id,
            "recipients": recipients,
            "method": message.method,
            "params": message.params,
            "file_field": file_field,
            "file_name": message.upload.as_ref().map(|(_, name, _)| name.clone()),
        });
        append(&log, &header);
        State {
            slots: vec![Slot::Pending(None); recipients.len()],
            recipients,
            method: message.method,
            params: message.params,
            paid,
            file_field,
            file_id: None,
            uploading: false,
            phase: Phase::Running,
            started: Instant::now(),
            finished: None,
            answered: 0,
            outstanding: 0,
            last_progress: Instant::now(),
        }
    };
    append(&log, &json!({"phase": "running"}));
    let broadcast = Arc::new(Broadcast {
        id: id.to_owned(),
        log,
        file,
        state: Mutex::new(State {
            phase: Phase::Running,
            started: Instant::now(),
            finished: None,
            answered: 0,
            outstanding: 0,
            last_progress: Instant::now(),
            ..state
        }),
        changed: Condvar::new(),
        cancel: Arc::new(AtomicBool::new(false)),
        engine: Arc::downgrade(engine),
        notify,
    });
    all.push(broadcast.clone());
    drop(all);
    broadcast.submit(engine);
    Ok(id.to_owned())
}

/// Reads a broadcast log into a state (phase from its last phase line).
fn load(path: &Path) -> io::Result<State> {
    let text = fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Json = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no broadcast header"))?;
    let recipients = header["recipients"].as_array().cloned().unwrap_or_default();
    let params = header["params"].as_object().cloned().unwrap_or_default();
    let mut st = State {
        slots: vec![Slot::Pending(None); recipients.len()],
        recipients,
        method: header["method"]
            .as_str()
            .unwrap_or("sendMessage")
            .to_owned(),
        paid: params.get("allow_paid_broadcast") == Some(&Json::Bool(true)),
        params,
        file_field: header["file_field"].as_str().map(str::to_owned),
        file_id: None,
        uploading: false,
        phase: Phase::Interrupted,
        started: Instant::now(),
        finished: None,
        answered: 0,
        outstanding: 0,
        last_progress: Instant::now(),
    };
    let mut last_phase = "running".to_owned();
    for line in lines {
        let Ok(v) = serde_json::from_str::<Json>(line) else {
            continue; // a torn last line
        };
        if let Some(p) = v.get("phase").and_then(Json::as_str) {
            last_phase = p.to_owned();
            continue;
        }
        if let Some(id) = v.get("file_id").and_then(Json::as_str) {
            st.file_id = Some(id.to_owned());
            continue;
        }
        let Some(i) = v.get("i").and_then(Json::as_u64).map(|i| i as usize) else {
            continue;
        };
        let Some(slot) = st.slots.get_mut(i) else {
            continue;
        };
        let text = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        *slot = match v.get("s").and_then(Json::as_str).unwrap_or("") {
            "inflight" => Slot::InFlight,
            "sent" => Slot::Sent {
                message_id: v.get("m").and_then(Json::as_i64),
                migrated_to: v.get("to").and_then(Json::as_i64),
            },
            "failed" => Slot::Failed(text("e"), v.get("to").and_then(Json::as_i64)),
            "unknown" => Slot::Unknown(text("e")),
            _ => Slot::Pending(Some(text("e")).filter(|e| !e.is_empty())),
        };
    }
    st.phase = match last_phase.as_str() {
        "done" => Phase::Done,
        "cancelled" => Phase::Cancelled,
        _ => Phase::Interrupted,
    };
    Ok(st)
}

impl Broadcast {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether it finished, or its engine stopped under it.
    fn is_over(&self) -> bool {
        self.lock().phase != Phase::Running || self.engine_gone()
    }

    fn engine_gone(&self) -> bool {
        self.engine.upgrade().is_none_or(|e| e.is_stopping())
    }

    /// Queues the recipients that have no result. With a file still to
    /// upload, only one goes (it carries the upload); the rest follow with
    /// its `file_id`.
    fn submit(self: &Arc<Self>, engine: &Engine) {
        let mut jobs = Vec::new();
        {
            let mut st = self.lock();
            if st.phase != Phase::Running || st.uploading {
                return;
            }
            let upload = st.file_field.is_some() && st.file_id.is_none();
            for i in 0..st.slots.len() {
                if !matches!(st.slots[i], Slot::Pending(_)) {
                    continue;
                }
                let mut params = st.params.clone();
                params.insert("chat_id".into(), st.recipients[i].clone());
                let mut files = Vec::new();
                if let Some(field) = st.file_field.clone() {
                    match &st.file_id {
                        Some(id) => {
                            params.insert(field, Json::from(id.as_str()));
                        }
                        None => files.push(FileRef {
                            file_name: self.file_name(),
                            field: field.clone(),
                            data: Arc::new(FileData::Path(self.file.clone())),
                        }),
                    }
                }
                st.slots[i] = Slot::Pending(None);
                let method = st.method.clone();
                jobs.push(self.job(i, method, params, files, st.paid));
                if upload {
                    st.uploading = true;
                    break;
                }
            }
            st.outstanding += jobs.len();
            if jobs.is_empty() && st.outstanding == 0 {
                drop(st);
                self.finish();
                return;
            }
        }
        for job in jobs {
            engine.submit(job, Priority::Background);
        }
    }

    fn file_name(&self) -> String {
        fs::read_to_string(&self.log)
            .ok()
            .and_then(|t| {
                let first = t.lines().next()?.to_owned();
                serde_json::from_str::<Json>(&first).ok()
            })
            .and_then(|h| h["file_name"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "file".into())
    }

    fn job(
        self: &Arc<Self>,
        i: usize,
        method: String,
        params: Map<String, Json>,
        files: Vec<FileRef>,
        paid: bool,
    ) -> Job {
        let on_start = {
            let me = self.clone();
            Box::new(move || {
                me.lock().slots[i] = Slot::InFlight;
                append(&me.log, &json!({"i": i, "s": "inflight"}));
            })
        };
        let me = self.clone();
        Job {
            method,
            params,
            files,
            paid,
            deadline: None,
            ticket: Ticket::new(),
            cancel: Some(self.cancel.clone()),
            on_start: Some(on_start),
            done: Box::new(move |outcome| me.answered(i, outcome)),
        }
    }

    /// Records one recipient's outcome; raises progress; finishes at the end.
    fn answered(self: &Arc<Self>, i: usize, outcome: Outcome) {
        let mut progress = None;
        let (more, last) = {
            let mut st = self.lock();
            st.outstanding = st.outstanding.saturating_sub(1);
            let carried_upload = st.uploading;
            let (slot, line) = match &outcome {
                Outcome::Sent {
                    result,
                    migrated_to,
                } => {
                    let message_id = result.get("message_id").and_then(Json::as_i64);
                    (
                        Slot::Sent {
                            message_id,
                            migrated_to: *migrated_to,
                        },
                        json!({"i": i, "s": "sent", "m": message_id, "to": migrated_to}),
                    )
                }
                Outcome::Failed { error, migrated_to } => (
                    Slot::Failed(error.to_string(), *migrated_to),
                    json!({"i": i, "s": "failed", "e": error.to_string(), "to": migrated_to}),
                ),
                Outcome::Unknown { error, .. } => (
                    Slot::Unknown(error.to_string()),
                    json!({"i": i, "s": "unknown", "e": error.to_string()}),
                ),
                Outcome::NotSent { error } => {
                    let e = error.as_ref().map(|e| e.to_string());
                    (
                        Slot::Pending(e.clone()),
                        json!({"i": i, "s": "pending", "e": e}),
                    )
                }
            };
            if !matches!(outcome, Outcome::NotSent { error: None }) {
                append(&self.log, &line);
                st.answered += 1;
            }
            st.slots[i] = slot;
            if carried_upload {
                st.uploading = false;
                if let (Outcome::Sent { result, .. }, Some(field)) = (&outcome, &st.file_field) {
                    if let Some(id) = file_id_of(result, field) {
                        append(&self.log, &json!({"file_id": id}));
                        st.file_id = Some(id);
                    }
                }
            }
            let now = Instant::now();
            if now.duration_since(st.last_progress) >= Duration::from_secs(1) {
                st.last_progress = now;
                progress = Some(summary(&self.id, &st).to_string());
            }
            // After an upload, the rest follow (or the next one tries the upload).
            // A request that never went (network down) ends the run: the
            // recipients stay pending for a later `Broadcast` with this id.
            let more = carried_upload
                && !self.cancel.load(Ordering::SeqCst)
                && !matches!(outcome, Outcome::NotSent { .. });
            (more, st.outstanding == 0)
        };
        self.changed.notify_all();
        if let Some(data) = progress {
            self.notify.event("broadcast_progress", &data);
        }
        if more {
            if let Some(engine) = self.engine.upgrade() {
                self.submit(&engine);
                return;
            }
        }
        if last {
            self.finish();
        }
    }

    fn finish(&self) {
        let (data, keep_file) = {
            let mut st = self.lock();
            if st.phase != Phase::Running {
                return;
            }
            st.phase = if self.cancel.load(Ordering::SeqCst) {
                Phase::Cancelled
            } else {
                Phase::Done
            };
            st.finished = Some(Instant::now());
            append(&self.log, &json!({"phase": st.phase.name()}));
            let keep =
                st.file_id.is_none() && st.slots.iter().any(|s| matches!(s, Slot::Pending(_)));
            (summary(&self.id, &st).to_string(), keep)
        };
        self.changed.notify_all();
        if !keep_file {
            // The file is only needed to resume an upload that never succeeded.
            let _ = fs::remove_file(&self.file);
        }
        self.notify.event("broadcast_done", &data);
    }
}

/// Counts of a state: total, sent, failed, unknown, pending, rate.
fn summary(id: &str, st: &State) -> Json {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for slot in &st.slots {
        let k = match slot {
            Slot::Sent { .. } => "sent",
            Slot::Failed(..) => "failed",
            Slot::Unknown(_) => "unknown",
            Slot::InFlight | Slot::Pending(_) => "pending",
        };
        *counts.entry(k).or_default() += 1;
    }
    let end = st.finished.unwrap_or_else(Instant::now);
    let secs = end.duration_since(st.started).as_secs_f64();
    let rate = if secs > 0.0 {
        (st.answered as f64 / secs * 10.0).round() / 10.0
    } else {
        0.0
    };
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    json!({
        "id": id,
        "state": st.phase.name(),
        "total": st.slots.len(),
        "sent": n("sent"),
        "failed": n("failed"),
        "unknown": n("unknown"),
        "pending": n("pending"),
        "rate": rate,
    })
}

/// The full status: the summary and every recipient's result.
fn status_json(id: &str, st: &State) -> Json {
    let mut value = summary(id, st);
    let recipients: Vec<Json> = st
        .slots
        .iter()
        .zip(&st.recipients)
        .map(|(slot, chat)| match slot {
            Slot::Sent {
                message_id,
                migrated_to,
            } => {
                let mut r = json!({"chat_id": chat, "state": "sent", "ok": true, "message_id": message_id, "error": null});
                if let Some(to) = migrated_to {
                    r["migrated_to_chat_id"] = json!(to);
                }
                r
            }
            Slot::Failed(e, migrated_to) => {
                let mut r = json!({"chat_id": chat, "state": "failed", "ok": false, "message_id": null, "error": e});
                if let Some(to) = migrated_to {
                    r["migrated_to_chat_id"] = json!(to);
                }
                r
            }
            Slot::Unknown(e) => {
                json!({"chat_id": chat, "state": "unknown", "ok": null, "message_id": null, "error": e})
            }
            Slot::InFlight | Slot::Pending(_) => {
                let e = match slot {
                    Slot::Pending(Some(e)) => json!(e),
                    _ => Json::Null,
                };
                json!({"chat_id": chat, "state": "pending", "ok": null, "message_id": null, "error": e})
            }
        })
        .collect();
    value["recipients"] = Json::Array(recipients);
    value
}

/// The status of broadcast `id` (running here, or from its log in `dir`),
/// waiting up to `wait` for it to finish. `None` when there is no such broadcast.
pub fn status(dir: &Path, id: &str, wait: Duration) -> Option<Json> {
    let log = log_path(dir, id);
    let found = running().iter().find(|b| b.log == log).cloned();
    if let Some(b) = found {
        if !b.engine_gone() {
            let deadline = Instant::now() + wait;
            let mut st = b.lock();
            while st.phase == Phase::Running {
                let now = Instant::now();
                if now >= deadline || b.engine_gone() {
                    break;
                }
                st = b
                    .changed
                    .wait_timeout(st, (deadline - now).min(Duration::from_millis(200)))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if st.phase != Phase::Running || !b.engine_gone() {
                return Some(status_json(id, &st));
            }
        }
    }
    let st = load(&log).ok()?;
    Some(status_json(id, &st))
}

/// Cancels broadcast `id`: requests not yet started are not sent. False
/// when it does not run in this process.
pub fn cancel(dir: &Path, id: &str) -> bool {
    let log = log_path(dir, id);
    let found = running()
        .iter()
        .find(|b| b.log == log && !b.is_over())
        .cloned();
    match found {
        Some(b) => {
            b.cancel.store(true, Ordering::SeqCst);
            if b.lock().outstanding == 0 {
                b.finish();
            }
            true
        }
        None => false,
    }
}
