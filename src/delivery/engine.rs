//! The delivery engine of one bot in one process: a small fixed pool of
//! worker threads on one Bot API client, paced by the bot's [`Limiter`].
//!
//! Every `Bot` object with the same token (and server and proxy) shares the
//! engine, as they share the poller. The last [`EngineHandle`] to go stops
//! the workers and joins them, so no thread outlives the add-in's objects.
//!
//! What a worker does with a failed attempt:
//! - 429: pauses every sender of the bot for `retry_after`, then repeats
//!   (Telegram did not act on the request);
//! - 400 with `migrate_to_chat_id`: repeats once at the new id and reports it;
//! - any other Telegram error (403 blocked, 400 chat not found, …): final;
//! - a network error before the request was written: repeats with backoff;
//! - a failure after the request may have reached Telegram (a timeout, a
//!   reset, a 5xx): never repeated, reported as unknown.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, unbounded, Receiver, Sender};
use serde_json::{Map, Value as Json};

use crate::telegram::{self, Client, ClientConfig, ClientOptions, Request, Source, Upload};

use super::limiter::{Limiter, Limits};

/// Worker threads per engine: enough to keep 30 messages a second going
/// over a 300 ms round trip with room to spare.
pub const WORKERS: usize = 16;
/// Repeats of a request that failed before it was written.
const NETWORK_RETRIES: u32 = 4;
/// Repeats after consecutive 429 answers before the request is given up as not sent.
const RATE_LIMIT_RETRIES: u32 = 20;
/// Longest nap while waiting for a slot, so cancels and stops are seen.
const NAP: Duration = Duration::from_millis(50);

/// What became of one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Telegram accepted it; `result` is its answer.
    Sent {
        result: Json,
        migrated_to: Option<i64>,
    },
    /// Telegram refused it (blocked, chat not found, bad request): final.
    Failed {
        error: telegram::Error,
        migrated_to: Option<i64>,
    },
    /// It may have reached Telegram, and no answer came: not repeated.
    Unknown {
        error: telegram::Error,
        migrated_to: Option<i64>,
    },
    /// It never reached Telegram (network down, deadline, cancel, stop);
    /// sending it again is safe.
    NotSent { error: Option<telegram::Error> },
}

/// The bytes of a file to upload.
#[derive(Debug)]
pub enum FileData {
    /// In memory.
    Bytes(Vec<u8>),
    /// A local file, read while sending.
    Path(PathBuf),
}

/// A file attached to a request.
#[derive(Clone, Debug)]
pub struct FileRef {
    /// The form field (`photo`, `document`, or an `attach://` name).
    pub field: String,
    /// The file name Telegram shows.
    pub file_name: String,
    /// The bytes, shared by every request that uploads them.
    pub data: Arc<FileData>,
}

/// Who may still take a queued request: the worker (to send it) or its
/// owner (to give it up at a deadline). Exactly one of them wins.
#[derive(Debug, Default)]
pub struct Ticket(AtomicU8);

const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const GIVEN_UP: u8 = 2;

impl Ticket {
    /// A new, queued ticket.
    pub fn new() -> Arc<Ticket> {
        Arc::new(Ticket(AtomicU8::new(QUEUED)))
    }

    /// The worker takes it; false when the owner gave it up.
    fn take(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, TAKEN, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The worker puts it back between attempts, when nothing it sent may
    /// have arrived (so the owner may give it up meanwhile).
    fn rest(&self) {
        let _ = self
            .0
            .compare_exchange(TAKEN, QUEUED, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The owner gives it up; false when a worker already took it (it may
    /// be in flight).
    pub fn give_up(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
            || self.0.load(Ordering::SeqCst) == GIVEN_UP
    }
}

/// One request for the engine.
pub struct Job {
    /// The Bot API method.
    pub method: String,
    /// Its parameters (`chat_id` decides the per-chat pacing).
    pub params: Map<String, Json>,
    /// Files to upload with it.
    pub files: Vec<FileRef>,
    /// `allow_paid_broadcast`: the paid overall rate applies.
    pub paid: bool,
    /// Not started after this instant (then: not sent).
    pub deadline: Option<Instant>,
    /// Taken by the worker or given up by the owner.
    pub ticket: Arc<Ticket>,
    /// Set to give up every request of a broadcast that is not yet taken.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Runs once the worker took the ticket, right before the first
    /// attempt (a journal marks the request in flight here).
    pub on_start: Option<Box<dyn FnOnce() + Send>>,
    /// Receives the outcome (not called when the engine stops first).
    pub done: Box<dyn FnOnce(Outcome) + Send>,
}

/// Which queue a job joins: batches go before broadcasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// `SendBatch`: a job waits for the answer.
    Batch,
    /// A broadcast in the background.
    Background,
}

/// The engine of one bot.
pub struct Engine {
    client: Client,
    limiter: Limiter,
    stop: AtomicBool,
    batch: Sender<Job>,
    background: Sender<Job>,
    /// Dropped on stop, which wakes every idle worker.
    stop_tx: Mutex<Option<Sender<()>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// Jobs waiting behind the one in progress for the same chat.
    lanes: Mutex<HashMap<String, VecDeque<Job>>>,
}

struct Queues {
    batch: Receiver<Job>,
    background: Receiver<Job>,
    stop: Receiver<()>,
}

impl Engine {
    fn start(config: ClientConfig) -> Result<Arc<Engine>, telegram::Error> {
        let options = ClientOptions {
            max_retries: 0,
            ..ClientOptions::default()
        };
        let client = Client::with_options(config, options)?;
        let (batch, batch_rx) = unbounded();
        let (background, background_rx) = unbounded();
        let (stop_tx, stop_rx) = unbounded();
        let engine = Arc::new(Engine {
            client,
            limiter: Limiter::new(Limits::default()),
            stop: AtomicBool::new(false),
            batch,
            background,
            stop_tx: Mutex::new(Some(stop_tx)),
            workers: Mutex::new(Vec::new()),
            lanes: Mutex::new(HashMap::new()),
        });
        // The workers write to the log of the object that started the engine.
        let log = crate::logging::current();
        let mut handles = Vec::new();
        for n in 0..WORKERS {
            let queues = Queues {
                batch: batch_rx.clone(),
                background: background_rx.clone(),
                stop: stop_rx.clone(),
            };
            let me = engine.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tg-delivery-{n}"))
                .spawn({
                    let log = log.clone();
                    move || {
                        let _log = crate::logging::enter(log);
                        me.work(queues)
                    }
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    log::error!("cannot start a delivery worker: {e}");
                    break;
                }
            }
        }
        if handles.is_empty() {
            return Err(telegram::Error::Config(telegram::ConfigError::ApiUrl(
                "no delivery worker thread could be started".into(),
            )));
        }
        *engine.workers.lock().unwrap_or_else(|e| e.into_inner()) = handles;
        Ok(engine)
    }

    /// The bot's pacer.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Queues a job; it runs when a worker and a slot are free.
    pub fn submit(&self, job: Job, priority: Priority) {
        let queue = match priority {
            Priority::Batch => &self.batch,
            Priority::Background => &self.background,
        };
        if self.stop.load(Ordering::SeqCst) {
            return;
        }
        // A chat's lane is claimed here, in the order jobs are submitted: two
        // workers that took a chat's jobs from the queue could otherwise
        // reach the lane in either order.
        if let Some(key) = job.params.get("chat_id").map(super::limiter::chat_key) {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(waiting) = lanes.get_mut(&key) {
                waiting.push_back(job);
                return;
            }
            lanes.insert(key, VecDeque::new());
        }
        let _ = queue.send(job);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Whether the engine is stopping (its last user is gone).
    pub fn is_stopping(&self) -> bool {
        self.stopping()
    }

    /// Stops the workers after their current request and joins them; queued
    /// jobs are dropped unsent.
    fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        drop(
            self.stop_tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let workers: Vec<_> = self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        let me = std::thread::current().id();
        for w in workers {
            if w.thread().id() != me {
                let _ = w.join();
            }
        }
    }

    fn work(self: Arc<Self>, queues: Queues) {
        loop {
            if self.stopping() {
                break;
            }
            let job = match queues.batch.try_recv() {
                Ok(job) => job,
                Err(_) => select! {
                    recv(queues.batch) -> j => match j { Ok(j) => j, Err(_) => break },
                    recv(queues.background) -> j => match j { Ok(j) => j, Err(_) => break },
                    recv(queues.stop) -> _ => break,
                },
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(job)));
            if result.is_err() {
                log::error!("a delivery worker caught a panic");
            }
        }
        // Drop what is still queued, so nothing holds its owner's state.
        while queues.batch.try_recv().is_ok() || queues.background.try_recv().is_ok() {}
        let lanes = std::mem::take(&mut *self.lanes.lock().unwrap_or_else(|e| e.into_inner()));
        drop(lanes);
    }

    /// Sleeps `d`, waking early when the engine stops.
    fn nap(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() {
            let now = Instant::now();
            if now >= until {
                return;
            }
            std::thread::sleep((until - now).min(NAP));
        }
    }

    /// Waits for a slot; false when the job should not go any more.
    fn wait_for_slot(&self, job: &Job, chat: Option<&Json>) -> bool {
        loop {
            if self.stopping()
                || job
                    .cancel
                    .as_ref()
                    .is_some_and(|c| c.load(Ordering::SeqCst))
                || job.deadline.is_some_and(|d| Instant::now() >= d)
            {
                return false;
            }
            match self.limiter.try_acquire(chat, job.paid) {
                Ok(()) => return true,
                Err(wait) => std::thread::sleep(wait.min(NAP)),
            }
        }
    }

    /// Runs a job that holds its chat's lane (claimed in [`Engine::submit`]),
    /// then the jobs that joined the lane meanwhile, in the order they were
    /// submitted: one request per chat at a time.
    fn run(&self, job: Job) {
        let lane = job.params.get("chat_id").map(super::limiter::chat_key);
        let mut next = Some(job);
        while let Some(job) = next.take() {
            // A panic must not leave the lane busy for ever.
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_one(job)));
            if run.is_err() {
                log::error!("a delivery worker caught a panic; the request's outcome is lost");
            }
            if let Some(key) = &lane {
                let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
                let queued = lanes.get_mut(key).and_then(VecDeque::pop_front);
                match queued {
                    Some(job) if !self.stopping() => next = Some(job),
                    _ => {
                        lanes.remove(key);
                    }
                }
            }
        }
    }

    fn run_one(&self, mut job: Job) {
        let chat = job.params.get("chat_id").cloned();
        if !self.wait_for_slot(&job, chat.as_ref()) {
            if !self.stopping() && job.ticket.give_up() {
                (job.done)(Outcome::NotSent { error: None });
            }
            return;
        }
        if !job.ticket.take() {
            return; // the owner gave it up and reported it already
        }
        if let Some(start) = job.on_start.take() {
            start();
        }
        let outcome = self.send(&mut job);
        (job.done)(outcome);
    }

    /// Sends a taken job, repeating it only where that cannot deliver twice.
    fn send(&self, job: &mut Job) -> Outcome {
        let mut migrated_to = None;
        let mut network_retries = 0;
        let mut rate_retries = 0;
        loop {
            let files: Vec<Upload<'_>> = job
                .files
                .iter()
                .map(|f| Upload {
                    field: f.field.clone(),
                    file_name: f.file_name.clone(),
                    source: match f.data.as_ref() {
                        FileData::Bytes(b) => Source::Bytes(b),
                        FileData::Path(p) => Source::Path(p.clone()),
                    },
                })
                .collect();
            let request = Request {
                method: job.method.clone(),
                params: job.params.clone(),
                files,
            };
            let answer = self.client.attempt(&request);
            if let Some(chat) = job.params.get("chat_id") {
                self.limiter.settle(chat, Instant::now());
            }
            let failure = match answer {
                Ok(result) => {
                    return Outcome::Sent {
                        result,
                        migrated_to,
                    }
                }
                Err(error) => error,
            };
            let again = match judge(&failure, migrated_to.is_some()) {
                Verdict::RateLimited(wait) => {
                    rate_retries += 1;
                    log::warn!(
                        "{}: 429, every sender of the bot pauses {} s",
                        job.method,
                        wait.as_secs()
                    );
                    self.limiter.pause(wait);
                    rate_retries <= RATE_LIMIT_RETRIES
                }
                Verdict::Migrate(to) => {
                    log::warn!("{}: the group is now supergroup {to}", job.method);
                    job.params.insert("chat_id".into(), Json::from(to));
                    migrated_to = Some(to);
                    true
                }
                Verdict::Refused => {
                    return Outcome::Failed {
                        error: failure,
                        migrated_to,
                    }
                }
                Verdict::MaybeArrived => {
                    return Outcome::Unknown {
                        error: failure,
                        migrated_to,
                    }
                }
                Verdict::NotWritten => {
                    network_retries += 1;
                    let pause = backoff(network_retries - 1);
                    let in_time = job.deadline.is_none_or(|d| Instant::now() + pause < d);
                    if network_retries <= NETWORK_RETRIES && in_time && !self.stopping() {
                        job.ticket.rest();
                        self.nap(pause);
                        true
                    } else {
                        false
                    }
                }
            };
            // Nothing of this request reached Telegram so far: its owner may
            // give it up while it waits.
            job.ticket.rest();
            let chat = job.params.get("chat_id").cloned();
            if !again || !self.wait_for_slot(job, chat.as_ref()) || !job.ticket.take() {
                // Every attempt so far was refused or never written: nothing arrived.
                return Outcome::NotSent {
                    error: Some(failure),
                };
            }
        }
    }
}

/// What a failed attempt means.
#[derive(Debug, PartialEq)]
enum Verdict {
    RateLimited(Duration),
    Migrate(i64),
    Refused,
    MaybeArrived,
    NotWritten,
}

fn judge(failure: &telegram::Error, migrated: bool) -> Verdict {
    match failure {
        telegram::Error::Api {
            code: 429,
            parameters,
            ..
        } => Verdict::RateLimited(Duration::from_secs(parameters.retry_after.unwrap_or(1))),
        telegram::Error::Api {
            code: 400,
            parameters,
            ..
        } if parameters.migrate_to_chat_id.is_some() && !migrated => {
            Verdict::Migrate(parameters.migrate_to_chat_id.unwrap_or_default())
        }
        telegram::Error::Api { code, .. } if *code >= 500 => Verdict::MaybeArrived,
        telegram::Error::Api { .. }
        | telegram::Error::Config(_)
        | telegram::Error::LocalFile { .. } => Verdict::Refused,
        _ if failure.maybe_delivered() => Verdict::MaybeArrived,
        _ => Verdict::NotWritten,
    }
}

/// Backoff before network retry `n` (0-based): 0.25 s, 0.5 s, 1 s, 2 s.
fn backoff(n: u32) -> Duration {
    Duration::from_millis(250u64 << n.min(3))
}

/// Running engines by key (server, token, proxy) and how many handles use each.
static ENGINES: Mutex<Vec<(String, Arc<Engine>, usize)>> = Mutex::new(Vec::new());

fn key_of(config: &ClientConfig) -> String {
    format!(
        "{}\n{}\n{}",
        config.api_url,
        config.token.expose(),
        config.proxy
    )
}

/// One user's hold on a bot's engine. The last one dropped stops the
/// engine and joins its threads.
pub struct EngineHandle {
    engine: Arc<Engine>,
    key: String,
}

/// The engine of `config`'s bot, started when none runs.
pub fn acquire(config: ClientConfig) -> Result<EngineHandle, telegram::Error> {
    let key = key_of(&config);
    let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, engine, users)) = engines.iter_mut().find(|(k, _, _)| *k == key) {
        *users += 1;
        return Ok(EngineHandle {
            engine: engine.clone(),
            key,
        });
    }
    let engine = Engine::start(config)?;
    engines.push((key.clone(), engine.clone(), 1));
    Ok(EngineHandle { engine, key })
}

impl EngineHandle {
    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// A weak reference, for callbacks that queue follow-up jobs.
    pub fn weak(&self) -> Weak<Engine> {
        Arc::downgrade(&self.engine)
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = false;
        engines.retain_mut(|(k, e, users)| {
            if *k == self.key && Arc::ptr_eq(e, &self.engine) {
                *users -= 1;
                last = *users == 0;
                !last
            } else {
                true
            }
        });
        drop(engines);
        if last {
            self.engine.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::{Error, ResponseParameters};

    fn api(code: i64, parameters: ResponseParameters) -> Error {
        Error::Api {
            method: "sendMessage".into(),
            code,
            description: String::new(),
            parameters,
        }
    }

    #[test]
    fn verdicts() {
        let p = |retry_after, migrate_to_chat_id| ResponseParameters {
            retry_after,
            migrate_to_chat_id,
        };
        assert_eq!(
            judge(&api(429, p(Some(3), None)), false),
            Verdict::RateLimited(Duration::from_secs(3))
        );
        assert_eq!(
            judge(&api(400, p(None, Some(-100))), false),
            Verdict::Migrate(-100)
        );
        assert_eq!(
            judge(&api(400, p(None, Some(-100))), true),
            Verdict::Refused
        );
        assert_eq!(judge(&api(403, p(None, None)), false), Verdict::Refused);
        assert_eq!(
            judge(&api(502, p(None, None)), false),
            Verdict::MaybeArrived
        );
        let reset = |written| Error::Interrupted {
            method: "sendMessage".into(),
            host: "h".into(),
            detail: "x".into(),
            written,
        };
        assert_eq!(judge(&reset(true), false), Verdict::MaybeArrived);
        assert_eq!(judge(&reset(false), false), Verdict::NotWritten);
        let refused = Error::Connect {
            host: "h".into(),
            detail: "x".into(),
        };
        assert_eq!(judge(&refused, false), Verdict::NotWritten);
    }

    #[test]
    fn tickets_go_to_one_side_only() {
        let t = Ticket::new();
        assert!(t.take());
        assert!(!t.give_up());
        let t = Ticket::new();
        assert!(t.give_up());
        assert!(!t.take());
        assert!(t.give_up());
    }
}
