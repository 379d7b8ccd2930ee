//! A hook that sees every update before subscribers do, so that another
//! room (binding) can take some updates for itself without receiving
//! depending on it.

use std::sync::Arc;
use std::time::Duration;

use super::update::Update;

/// What becomes of an intercepted update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intercepted {
    /// Deliver it as it is.
    Pass,
    /// Nobody gets it; it is confirmed with the rest.
    Consumed,
    /// Deliver this update (same `update_id`) instead.
    Replaced(Update),
}

/// Sees updates before subscribers; called outside every lock.
pub trait UpdateInterceptor: Send + Sync {
    /// Decides about one update.
    fn intercept(&self, update: &Update) -> Intercepted;
    /// Told before each `getUpdates` that may block for `long_poll`, so
    /// others can tell that this process receives.
    fn receiving(&self, _long_poll: Duration) {}
    /// Told when the poller stops.
    fn stopped(&self) {}
}

impl std::fmt::Debug for dyn UpdateInterceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdateInterceptor")
    }
}

/// Makes the interceptor for one bot and state folder; an object hands one
/// to its receiving part, which puts what it makes in front of subscribers.
pub trait InterceptorSource: Send + Sync {
    /// The interceptor of the bot of `client`, keeping its state in `state_dir`.
    fn interceptor(
        &self,
        client: &crate::telegram::ClientConfig,
        state_dir: &std::path::Path,
    ) -> Arc<dyn UpdateInterceptor>;
}
