//! Delivery at Telegram's limits: one engine per bot per process (a rate
//! limiter shared by every sender of the bot, a small fixed pool of worker
//! threads), broadcasts that resume after the process died, and batches
//! whose keys an idempotency journal in the state folder remembers.
//!
//! It knows nothing of 1C: progress leaves through [`Notify`], results as
//! plain values.

mod batch;
mod broadcast;
mod engine;
mod journal;
mod limiter;

pub use batch::{run as run_batch, BatchItem, ItemResult};
pub use broadcast::{
    cancel as cancel_broadcast, new_id as new_broadcast_id, start as start_broadcast,
    status as broadcast_status, valid_id as valid_broadcast_id, Message, Notify, Phase,
};
pub use engine::{acquire, Engine, EngineHandle, Outcome, WORKERS};
pub use journal::{open as open_journal, Journal, Recorded};
pub use limiter::{is_group, Limiter, Limits};

/// The journal file of a bot in a state folder: `<bot id>.journal` for the
/// public server, `<bot id>-<hash of the address>.journal` for another one.
pub fn journal_path(dir: &std::path::Path, bot_id: &str, api_url: &str) -> std::path::PathBuf {
    dir.join(format!("{}.journal", bot_file_stem(bot_id, api_url)))
}

/// The folder of a bot's broadcast logs in a state folder.
pub fn broadcast_dir(dir: &std::path::Path, bot_id: &str, api_url: &str) -> std::path::PathBuf {
    dir.join(format!("{}-broadcasts", bot_file_stem(bot_id, api_url)))
}

fn bot_file_stem(bot_id: &str, api_url: &str) -> String {
    if api_url == crate::telegram::DEFAULT_API_URL {
        bot_id.to_owned()
    } else {
        let hash = api_url.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        format!("{bot_id}-{hash:08x}")
    }
}
