//! Reading updates without taking them from anyone: `BindContact` receives
//! by itself this way when nothing else receives. Updates the interceptor
//! passes stay unconfirmed for the next `GetUpdates` or `StartPolling`; the
//! offset moves only past a leading run of consumed ones.

use std::time::Duration;

use crate::telegram::{self, LongPoll, PollRequest};

use super::intercept::{Intercepted, UpdateInterceptor};
use super::poller::PollerConfig;
use super::store::{Durability, OffsetStore};
use super::update::{Update, ALL_KINDS};

/// What one peek saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peeked {
    /// Updates left for others (they come again on the next peek).
    pub left: usize,
    /// Updates the interceptor took.
    pub taken: usize,
}

/// Asks for pending updates (waiting up to `wait` when there are none),
/// shows each to `interceptor`, and confirms only the leading run it took.
/// A 409 means that someone else receives (another process or a webhook).
pub fn peek(
    config: &PollerConfig,
    interceptor: &dyn UpdateInterceptor,
    wait: Duration,
) -> Result<Peeked, telegram::Error> {
    let store = OffsetStore::new(
        &config.state_dir,
        &config.client.token,
        &config.client.api_url,
    );
    let saved = store.load();
    let poll = LongPoll::new(&config.client, wait)?;
    let request = PollRequest {
        offset: if saved > 0 { saved + 1 } else { 0 },
        timeout: wait,
        limit: 100,
        // Every kind, as a poller without a filter asks: a narrower list
        // would make Telegram drop other kinds for the next receiver.
        allowed_updates: ALL_KINDS.iter().map(|k| (*k).to_owned()).collect(),
    };
    let values = poll.get_updates(&request)?;
    let mut updates: Vec<Update> = values.iter().filter_map(Update::from_value).collect();
    updates.sort_by_key(|u| u.id);
    let mut report = Peeked::default();
    let mut confirm = saved;
    let mut leading = true;
    for update in updates.iter().filter(|u| u.id > saved) {
        match interceptor.intercept(update) {
            Intercepted::Pass => {
                leading = false;
                report.left += 1;
            }
            Intercepted::Consumed | Intercepted::Replaced(_) => {
                report.taken += 1;
                if leading {
                    confirm = update.id;
                }
            }
        }
    }
    if confirm > saved {
        // Telegram forgets them with the next getUpdates, ours or a poller's.
        if let Err(e) = store.save(confirm, Durability::Flushed) {
            log::warn!("cannot save the offset: {e}");
        }
    }
    Ok(report)
}
