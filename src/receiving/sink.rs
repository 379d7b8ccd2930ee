//! Where a poller hands updates and notices for event delivery.

use crate::telegram;

use super::update::Update;

/// What the poller tells a subscriber besides updates.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// Telegram cannot be reached or answers badly; retrying with backoff.
    Lost(telegram::Error),
    /// Another `getUpdates` poller or a webhook conflicts (409); retrying.
    Conflict(telegram::Error),
    /// Updates flow again after `Lost` or `Conflict`.
    Restored,
    /// The token was refused (401); the poller stopped.
    Stopped(telegram::Error),
    /// The offset could not be saved (the file and the OS error): updates
    /// already handed over may come again after a restart. Told once per
    /// run of failures.
    NotSaved(String),
}

/// Takes updates toward 1C. `false` means "not taken now, offer it again
/// later"; the poller then retries with a short backoff, keeping the order.
pub trait UpdateSink: Send + Sync {
    /// Offers one update.
    fn offer(&self, update: &Update) -> bool;
    /// Offers one notice.
    fn notify(&self, notice: &Notice) -> bool;
    /// Whether an accepted update still waits for `Subscription::confirm`
    /// (at-least-once) instead of counting as taken when accepted.
    fn needs_confirmation(&self) -> bool {
        false
    }
}
