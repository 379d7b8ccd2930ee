//! Helpers for the receiving tests: a bot on a sandbox with its own state
//! folder, fast backoff, and reading update events.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use crate::common::*;
pub use onec_simulator::Event;
pub use serde_json::{json, Value as Json};
pub use tg_sandbox::{Fault, FaultRule};

/// An English-speaking thin client.
pub fn en() -> HostOptions {
    HostOptions {
        language: "en".into(),
        locale: "en_US".into(),
        ..HostOptions::default()
    }
}

/// A fresh, empty state folder for one test.
pub fn state_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tg-receiving-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Points a bot at the sandbox and at a new state folder.
pub fn configure(bot: &mut Component, sandbox: &Sandbox, dir: &Path) {
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    bot.set("StateDir", Value::str(dir.to_string_lossy()))
        .unwrap();
}

/// A sandbox and a bot (client or server) on it with its own state folder.
pub fn setup(options: HostOptions, tag: &str) -> (Sandbox, Component, PathBuf) {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("start sandbox");
    let mut bot = bot_with(options);
    let dir = state_dir(tag);
    configure(&mut bot, &sandbox, &dir);
    (sandbox, bot, dir)
}

/// Debug tuning: short backoff, so fault tests run in seconds.
pub fn tune(bot: &mut Component, options: Json) {
    assert_eq!(
        bot.call("DebugReceiving", &[Value::str(options.to_string())])
            .unwrap(),
        Value::Bool(true)
    );
}

/// The next event, which must come within `timeout`.
pub fn event(bot: &Component, timeout: Duration) -> Event {
    bot.next_event(timeout).expect("an event in time")
}

/// Next event that is an update (not an `error` notice); returns (kind, update).
pub fn next_update(bot: &Component, timeout: Duration) -> Option<(String, Json)> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let e = bot.next_event(left)?;
        assert_eq!(e.source, "Telegram");
        if e.message == "error" {
            continue;
        }
        let data: Json = serde_json::from_str(&e.data).expect("event data is JSON");
        return Some((e.message, data));
    }
}

/// `GetUpdates(wait, limit)` parsed.
pub fn pull(bot: &mut Component, wait: i32, limit: i32) -> Vec<Json> {
    let v = json(
        bot.call("GetUpdates", &[Value::I4(wait), Value::I4(limit)])
            .unwrap(),
    );
    v.as_array().expect("an array").clone()
}

/// The update ids of a batch.
pub fn ids(batch: &[Json]) -> Vec<i64> {
    batch
        .iter()
        .map(|u| u["update_id"].as_i64().expect("update_id"))
        .collect()
}
