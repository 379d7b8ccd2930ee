//! One poller per bot per process, shared by every subscriber of that bot.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::telegram;

use super::poller::{Delivery, Item, Poller, PollerConfig, Status, Sub};
use super::store::Durability;
use super::store::OffsetStore;
use super::update::Update;

/// Running pollers by key (server, token, proxy).
static POLLERS: Mutex<Vec<(String, Arc<Poller>)>> = Mutex::new(Vec::new());

/// Why `pull` returned no updates.
#[derive(Clone, Debug, PartialEq)]
pub enum PullError {
    /// Telegram refused the token; the poller stopped.
    Unauthorized(telegram::Error),
    /// The poller was stopped.
    Stopped,
}

/// One subscriber's place at a shared poller. Dropping it unsubscribes; the
/// last subscriber to leave stops the poller and joins its thread.
pub struct Subscription {
    poller: Arc<Poller>,
    id: u64,
    key: String,
}

fn key_of(config: &PollerConfig) -> String {
    format!(
        "{}\n{}\n{}",
        config.client.api_url,
        config.client.token.expose(),
        config.client.proxy
    )
}

/// Whether a poller of `config`'s bot runs in this process.
pub fn polling(config: &PollerConfig) -> bool {
    let key = key_of(config);
    let pollers = POLLERS.lock().unwrap_or_else(|e| e.into_inner());
    pollers.iter().any(|(k, p)| *k == key && p.alive())
}

/// Subscribes to the poller of `config`'s bot, starting one when none runs.
/// The first subscriber's settings (long-poll timeout, state folder, backoff)
/// are the poller's; each subscriber gets the update kinds in `allowed`
/// (`None`: all). Fails when the offset file cannot be written, or on
/// unusable client settings; the text holds no token.
pub fn subscribe(
    config: PollerConfig,
    delivery: Delivery,
    allowed: Option<Vec<String>>,
) -> Result<Subscription, String> {
    let sub = Sub {
        delivery,
        allowed: allowed.map(|a| a.into_iter().collect::<HashSet<_>>()),
        queue: VecDeque::new(),
        handed: Vec::new(),
    };
    let key = key_of(&config);
    let mut pollers = POLLERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, poller)) = pollers.iter().find(|(k, p)| *k == key && p.alive()) {
        let poller = poller.clone();
        let id = {
            let mut st = poller.shared.lock();
            let id = st.next_sub;
            st.next_sub += 1;
            st.subs.insert(id, sub);
            id
        };
        poller.shared.cv.notify_all();
        return Ok(Subscription { poller, id, key });
    }
    let store = OffsetStore::new(
        &config.state_dir,
        &config.client.token,
        &config.client.api_url,
    );
    let token = config.client.token.clone();
    let (poller, id) = Poller::start(config, store, sub).map_err(|e| token.redact(&e))?;
    let poller = Arc::new(poller);
    pollers.push((key.clone(), poller.clone()));
    Ok(Subscription { poller, id, key })
}

impl Subscription {
    /// Confirms what the previous `pull` returned, then waits up to `wait`
    /// for updates and returns up to `limit` of them (they stay unconfirmed
    /// until the next `pull` or `confirm`).
    pub fn pull(&self, wait: Duration, limit: usize) -> Result<Vec<Update>, PullError> {
        let shared = &self.poller.shared;
        let mut st = shared.lock();
        if let Some(sub) = st.subs.get_mut(&self.id) {
            sub.handed.clear();
        }
        st.persist(Durability::Flushed);
        shared.cv.notify_all();
        let deadline = Instant::now() + wait;
        loop {
            let status = st.status.clone();
            let stopped = st.stop;
            let sub = st.subs.get_mut(&self.id).ok_or(PullError::Stopped)?;
            let updates = sub
                .queue
                .iter()
                .filter(|i| matches!(i, Item::Update(_)))
                .count();
            if updates > 0 {
                let mut batch = Vec::new();
                while batch.len() < limit.max(1) {
                    match sub.queue.pop_front() {
                        Some(Item::Update(u)) => batch.push(u),
                        Some(Item::Notice(_)) => {}
                        None => break,
                    }
                }
                sub.handed.extend(batch.iter().cloned());
                return Ok(batch);
            }
            if let Status::Stopped(e) = status {
                return Err(PullError::Unauthorized(e));
            }
            if stopped {
                return Err(PullError::Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            st = shared
                .cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Confirms pulled updates up to `update_id` inclusive.
    pub fn confirm(&self, update_id: i64) {
        let shared = &self.poller.shared;
        let mut st = shared.lock();
        if let Some(sub) = st.subs.get_mut(&self.id) {
            sub.handed.retain(|u| u.id > update_id);
        }
        st.persist(Durability::Flushed);
        drop(st);
        shared.cv.notify_all();
    }

    /// What the poller is doing now.
    pub fn status(&self) -> Status {
        self.poller.shared.lock().status.clone()
    }

    /// Whether the poller still runs (false after a 401).
    pub fn running(&self) -> bool {
        self.poller.alive()
    }

    /// The last failure to save the offset, if the latest attempt failed.
    pub fn store_error(&self) -> Option<String> {
        self.poller.shared.lock().store_error.clone()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut pollers = POLLERS.lock().unwrap_or_else(|e| e.into_inner());
        let last = {
            let mut st = self.poller.shared.lock();
            st.subs.remove(&self.id);
            // Stop in the same breath, so the thread never polls (and so
            // confirms) on behalf of nobody.
            st.stop |= st.subs.is_empty();
            st.subs.is_empty()
        };
        self.poller.shared.cv.notify_all();
        if last {
            log::info!("receiving stopped: no subscriber left");
            pollers.retain(|(k, p)| !(k == &self.key && Arc::ptr_eq(p, &self.poller)));
            drop(pollers);
            self.poller.stop();
        }
    }
}
