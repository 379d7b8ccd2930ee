//! Receiving updates: one long-polling thread per token per process, queues
//! per subscriber, the persisted offset and webhook parsing.
//!
//! It knows nothing of 1C: updates leave through an [`UpdateSink`] (events)
//! or through [`Subscription::pull`]. The delivery guarantee: the offset sent
//! to Telegram, and the one saved in the state folder, only move past an
//! update once every subscriber has it (the sink accepted it, or the pull was
//! confirmed). Batches are stop-and-wait: the next `getUpdates` is sent only
//! when the previous batch is fully delivered, because its `offset` is what
//! confirms that batch to Telegram.

mod backoff;
mod intercept;
mod peek;
mod poller;
mod registry;
mod sink;
mod store;
mod update;
mod webhook;

pub use backoff::BackoffConfig;
pub use intercept::{Intercepted, InterceptorSource, UpdateInterceptor};
pub use peek::peek;
pub use poller::{Delivery, PollerConfig, Status};
pub use registry::{polling, subscribe, PullError, Subscription};
pub use sink::{Notice, UpdateSink};
pub use store::{default_state_dir, OffsetStore};
pub use update::{json_array, leading_update_id, Update};
pub use webhook::{parse_webhook, WebhookError};
