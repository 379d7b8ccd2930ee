//! The polling thread of one token: `getUpdates`, handing updates to every
//! subscriber, delivery to event sinks, confirmation and the saved offset.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::telegram::{self, Aborter, ClientConfig, LongPoll, PollRequest};

use super::backoff::{Backoff, BackoffConfig};
use super::intercept::{Intercepted, UpdateInterceptor};
use super::sink::{Notice, UpdateSink};
use super::store::{Durability, OffsetStore};
use super::update::{Update, ALL_KINDS};

/// How a poller runs.
#[derive(Clone, Debug)]
pub struct PollerConfig {
    /// The bot, server and proxy (`timeout` is not used).
    pub client: ClientConfig,
    /// The `timeout` of each `getUpdates`.
    pub long_poll: Duration,
    /// The folder of the offset file.
    pub state_dir: PathBuf,
    /// Backoff after failed requests.
    pub backoff: BackoffConfig,
    /// Least time between the starts of two requests when the first brought
    /// nothing, so a server that answers at once does not make us spin.
    pub min_interval: Duration,
    /// Largest pause before offering a refused event again.
    pub redelivery_cap: Duration,
    /// Sees every update before subscribers do (binding).
    pub interceptor: Option<Arc<dyn UpdateInterceptor>>,
    /// The log of the object that started polling: the thread writes there,
    /// not to whichever object set a log last.
    pub log: Option<Arc<crate::logging::Sink>>,
}

/// What the poller is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Polling normally.
    Running,
    /// Requests fail; retrying with backoff.
    Lost(telegram::Error),
    /// Telegram answered 409; retrying with backoff.
    Conflict(telegram::Error),
    /// Telegram refused the token (401); no more requests.
    Stopped(telegram::Error),
}

/// How a subscriber takes its updates.
#[derive(Clone)]
pub enum Delivery {
    /// Offered to the sink by the polling thread.
    Events(Arc<dyn UpdateSink>),
    /// Taken with `Subscription::pull`.
    Pull,
}

pub(super) enum Item {
    Update(Update),
    Notice(Notice),
}

pub(super) struct Sub {
    pub(super) delivery: Delivery,
    pub(super) allowed: Option<HashSet<String>>,
    pub(super) queue: VecDeque<Item>,
    /// Pulled but not confirmed.
    pub(super) handed: Vec<Update>,
}

impl Sub {
    /// The last update id this subscriber has taken for good.
    fn acked(&self, fetched: i64) -> i64 {
        let first_handed = self.handed.iter().map(|u| u.id).min();
        let first_queued = self.queue.iter().find_map(|i| match i {
            Item::Update(u) => Some(u.id),
            Item::Notice(_) => None,
        });
        match (first_handed, first_queued) {
            (None, None) => fetched,
            (a, b) => a.unwrap_or(i64::MAX).min(b.unwrap_or(i64::MAX)) - 1,
        }
    }

    fn busy(&self) -> bool {
        !self.queue.is_empty() || !self.handed.is_empty()
    }
}

pub(super) struct State {
    pub(super) stop: bool,
    pub(super) status: Status,
    pub(super) subs: BTreeMap<u64, Sub>,
    pub(super) next_sub: u64,
    /// The largest update id received.
    pub(super) fetched: i64,
    /// The id saved in the offset file.
    saved: i64,
    store: OffsetStore,
    /// The last failure to save, while saving fails.
    pub(super) store_error: Option<String>,
}

impl State {
    /// Saves the id every subscriber has taken, when it moved.
    pub(super) fn persist(&mut self, durability: Durability) {
        let fetched = self.fetched;
        // With no subscriber left nobody has taken anything: save nothing.
        let Some(acked) = self.subs.values().map(|s| s.acked(fetched)).min() else {
            return;
        };
        if acked > self.saved {
            match self.store.save(acked, durability) {
                Ok(()) => {
                    self.saved = acked;
                    self.store_error = None;
                }
                Err(e) => {
                    let text = format!("{}: {e}", self.store.path().display());
                    log::warn!("cannot save the offset: {text}");
                    if self.store_error.is_none() {
                        self.broadcast(Notice::NotSaved(text.clone()));
                    }
                    self.store_error = Some(text);
                }
            }
        }
    }

    fn allowed_union(&self) -> Vec<String> {
        let mut union = BTreeSet::new();
        for sub in self.subs.values() {
            match &sub.allowed {
                None => return ALL_KINDS.iter().map(|k| (*k).to_owned()).collect(),
                Some(kinds) => union.extend(kinds.iter().cloned()),
            }
        }
        union.into_iter().collect()
    }

    /// Queues new updates for every subscriber entitled to them; returns how many were new.
    /// An update consumed by the interceptor (`None`) only moves `fetched`.
    fn distribute(&mut self, updates: Vec<(i64, Option<Update>)>) -> usize {
        let mut new = 0;
        for (id, update) in updates {
            if id <= self.fetched {
                continue; // a duplicate
            }
            self.fetched = id;
            new += 1;
            let Some(update) = update else {
                continue;
            };
            for sub in self.subs.values_mut() {
                if sub.allowed.as_ref().is_none_or(|a| {
                    a.contains(&update.kind) || (update.kind == "binding" && a.contains("message"))
                }) {
                    sub.queue.push_back(Item::Update(update.clone()));
                }
            }
        }
        new
    }

    fn broadcast(&mut self, notice: Notice) {
        for sub in self.subs.values_mut() {
            if matches!(sub.delivery, Delivery::Events(_)) {
                sub.queue.push_back(Item::Notice(notice.clone()));
            }
        }
    }
}

pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) cv: Condvar,
    aborter: Aborter,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running poller: its shared state and its thread.
pub(super) struct Poller {
    pub(super) shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Poller {
    /// Starts the thread. The offset file must be usable.
    pub(super) fn start(
        config: PollerConfig,
        store: OffsetStore,
        first: Sub,
    ) -> Result<(Poller, u64), String> {
        let poll = LongPoll::new(&config.client, config.long_poll).map_err(|e| e.to_string())?;
        store
            .check()
            .map_err(|e| format!("{}: {e}", store.path().display()))?;
        let cleaned = store.clean();
        if cleaned > 0 {
            log::info!("removed {cleaned} temp file(s) a stopped process left in the state folder");
        }
        let saved = store.load();
        log::info!(
            "receiving started: state file {}, last confirmed update {saved}",
            store.path().display()
        );
        store
            .save(saved, Durability::Flushed)
            .map_err(|e| format!("{}: {e}", store.path().display()))?;
        let mut subs = BTreeMap::new();
        subs.insert(1, first);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                stop: false,
                status: Status::Running,
                subs,
                next_sub: 2,
                fetched: saved,
                saved,
                store,
                store_error: None,
            }),
            cv: Condvar::new(),
            aborter: poll.aborter(),
        });
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("telegram-poller".into())
            .spawn(move || {
                let _log = crate::logging::enter(config.log.clone());
                run(&for_thread, &poll, &config)
            })
            .map_err(|e| e.to_string())?;
        Ok((
            Poller {
                shared,
                thread: Mutex::new(Some(thread)),
            },
            1,
        ))
    }

    /// Whether it may still deliver updates.
    pub(super) fn alive(&self) -> bool {
        let st = self.shared.lock();
        !st.stop && !matches!(st.status, Status::Stopped(_))
    }

    /// Stops the thread, aborting a request in flight, and joins it.
    pub(super) fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.cv.notify_all();
        self.shared.aborter.abort();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                log::error!("the polling thread panicked");
            }
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sorts a batch and shows each new update to the interceptor, outside the lock.
fn intercept(config: &PollerConfig, offset: i64, values: Vec<Value>) -> Vec<(i64, Option<Update>)> {
    let mut updates: Vec<Update> = values.iter().filter_map(Update::from_value).collect();
    updates.sort_by_key(|u| u.id);
    updates
        .into_iter()
        .map(|u| match &config.interceptor {
            Some(i) if u.id >= offset => match i.intercept(&u) {
                Intercepted::Pass => (u.id, Some(u)),
                Intercepted::Consumed => (u.id, None),
                Intercepted::Replaced(r) => (u.id, Some(r)),
            },
            _ => (u.id, Some(u)),
        })
        .collect()
}

fn run(shared: &Shared, poll: &LongPoll, config: &PollerConfig) {
    run_loop(shared, poll, config);
    if let Some(interceptor) = &config.interceptor {
        interceptor.stopped();
    }
}

fn run_loop(shared: &Shared, poll: &LongPoll, config: &PollerConfig) {
    let mut backoff = Backoff::new(config.backoff);
    let mut not_before = Instant::now();
    loop {
        let Some(mut st) = deliver_until_idle(shared, config, not_before) else {
            return;
        };
        // The batch is through: make the offset durable before asking for more.
        st.persist(Durability::Flushed);
        let request = PollRequest {
            offset: if st.fetched > 0 { st.fetched + 1 } else { 0 },
            // After a failure, probe with a short poll so that "restored" is
            // known (and reported) as soon as Telegram answers again.
            timeout: if st.status == Status::Running {
                config.long_poll
            } else {
                Duration::ZERO
            },
            limit: 100,
            allowed_updates: st.allowed_union(),
        };
        drop(st);
        if let Some(interceptor) = &config.interceptor {
            interceptor.receiving(request.timeout);
        }
        let started = Instant::now();
        let result = poll
            .get_updates(&request)
            .map(|values| intercept(config, request.offset, values));
        let mut st = shared.lock();
        if st.stop {
            return;
        }
        match result {
            Ok(values) => {
                backoff.reset();
                if matches!(st.status, Status::Lost(_) | Status::Conflict(_)) {
                    log::info!("receiving: connection to Telegram restored");
                    st.status = Status::Running;
                    st.broadcast(Notice::Restored);
                }
                let received = values.len();
                let new = st.distribute(values);
                log::debug!(
                    "getUpdates (offset {}): {received} update(s), {new} new, last id {}",
                    request.offset,
                    st.fetched
                );
                not_before = if new == 0 {
                    started + config.min_interval
                } else {
                    Instant::now()
                };
            }
            Err(error) => {
                let (code, retry_after) = match &error {
                    telegram::Error::Api {
                        code, parameters, ..
                    } => (*code, parameters.retry_after),
                    _ => (0, None),
                };
                let was_running = st.status == Status::Running;
                let error_text = error.to_string();
                let mut delay = backoff.delay();
                if code == 401 {
                    st.status = Status::Stopped(error.clone());
                    st.broadcast(Notice::Stopped(error));
                } else if code == 409 {
                    st.status = Status::Conflict(error.clone());
                    if was_running {
                        st.broadcast(Notice::Conflict(error));
                    }
                } else {
                    if let Some(seconds) = retry_after {
                        delay = delay.max(Duration::from_secs(seconds.min(3600)));
                    }
                    if was_running {
                        st.broadcast(Notice::Lost(error.clone()));
                    }
                    if !matches!(st.status, Status::Conflict(_)) || was_running {
                        st.status = Status::Lost(error);
                    }
                }
                // The delay runs from the failure: a request that hung long does not count.
                let pause = delay.max(config.min_interval);
                match &st.status {
                    Status::Stopped(_) => {
                        log::error!("receiving stopped: getUpdates was refused (401): {error_text}")
                    }
                    _ if was_running => log::warn!(
                        "receiving: getUpdates failed: {error_text}; retrying in {} ms",
                        pause.as_millis()
                    ),
                    _ => log::info!(
                        "receiving: getUpdates failed again: {error_text}; retrying in {} ms",
                        pause.as_millis()
                    ),
                }
                not_before = Instant::now() + pause;
            }
        }
        drop(st);
        shared.cv.notify_all();
    }
}

/// Offers queued items to event subscribers and waits until every subscriber
/// has taken everything and `not_before` passed. `None` when asked to stop.
fn deliver_until_idle<'a>(
    shared: &'a Shared,
    config: &PollerConfig,
    not_before: Instant,
) -> Option<MutexGuard<'a, State>> {
    let first_retry = Duration::from_millis(1);
    let mut retry = first_retry;
    let mut st = shared.lock();
    loop {
        if st.stop {
            return None;
        }
        let mut refused = false;
        let ready: Vec<u64> = st
            .subs
            .iter()
            .filter(|(_, s)| matches!(s.delivery, Delivery::Events(_)) && !s.queue.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            loop {
                if st.stop {
                    return None;
                }
                let Some(sub) = st.subs.get_mut(&id) else {
                    break;
                };
                let Delivery::Events(sink) = sub.delivery.clone() else {
                    break;
                };
                let Some(item) = sub.queue.pop_front() else {
                    break;
                };
                let confirmed_later = sink.needs_confirmation();
                if let (true, Item::Update(u)) = (confirmed_later, &item) {
                    // Awaiting confirmation from the moment it is offered: the
                    // handler may confirm it before this thread runs again.
                    sub.handed.push(u.clone());
                }
                // Never call into the platform while holding the lock.
                drop(st);
                let taken = match &item {
                    Item::Update(u) => sink.offer(u),
                    Item::Notice(n) => sink.notify(n),
                };
                let accepted = Instant::now();
                st = shared.lock();
                if taken {
                    retry = first_retry;
                    if let Item::Update(update) = item {
                        // With confirmation it is taken for good only when 1C confirms it.
                        if !confirmed_later {
                            // Recorded at once, so a killed process resumes right
                            // after this update; fsynced when the batch is through.
                            st.persist(Durability::Renamed);
                            log::debug!(
                                "update {} accepted by the platform; offset saved {} µs later",
                                update.id,
                                accepted.elapsed().as_micros()
                            );
                        }
                    }
                } else {
                    if let Some(sub) = st.subs.get_mut(&id) {
                        if let Item::Update(u) = &item {
                            sub.handed.retain(|h| h.id != u.id);
                        }
                        sub.queue.push_front(item);
                    }
                    refused = true;
                    break;
                }
            }
        }
        let idle = !matches!(st.status, Status::Stopped(_)) && st.subs.values().all(|s| !s.busy());
        let now = Instant::now();
        if idle && now >= not_before {
            return Some(st);
        }
        let mut wait = refused.then_some(retry);
        if idle {
            let left = not_before - now;
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        if refused {
            retry = (retry * 2).min(config.redelivery_cap);
        }
        st = match wait {
            Some(d) => {
                shared
                    .cv
                    .wait_timeout(st, d)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => shared.cv.wait(st).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
