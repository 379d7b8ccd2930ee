//! Two `Bot` objects with one token share one delivery engine: one limiter
//! (together they stay under Telegram's limits) and one pool of threads,
//! which stops with the last object. Its own test binary, so that no other
//! test's engine runs meanwhile.

#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value as Json};
use tg_sandbox::RateLimits;

/// Threads of delivery engines alive in this process.
fn delivery_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("tg-delivery"))
        .count()
}

fn wait_done(bot: &Component) -> Json {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = bot.next_event(left).expect("broadcast_done in time");
        if e.message == "broadcast_done" {
            return serde_json::from_str(&e.data).unwrap();
        }
    }
}

#[test]
fn bots_with_one_token_share_the_limiter_and_the_threads() {
    let sandbox = Sandbox::start(SandboxConfig {
        rate_limits: RateLimits::telegram(),
        latency: Duration::from_millis(100),
        ..SandboxConfig::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("tg-delivery-shared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let make = || {
        let mut bot = bot();
        bot.set("Token", Value::str(sandbox.token())).unwrap();
        bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
        bot.set("StateDir", Value::str(dir.to_string_lossy()))
            .unwrap();
        bot
    };
    let (mut first, mut second) = (make(), make());
    let people: Vec<i64> = (0..90)
        .map(|i| sandbox.create_user(&format!("U{i}")))
        .collect();
    for (bot, half) in [(&mut first, &people[..45]), (&mut second, &people[45..])] {
        bot.call(
            "Broadcast",
            &[Value::str(json!(half).to_string()), Value::str("hi")],
        )
        .unwrap();
    }
    assert_eq!(wait_done(&first)["sent"], 45);
    assert_eq!(wait_done(&second)["sent"], 45);
    // Alone, each would pace itself at 30/s and together go over the limit.
    assert_eq!(sandbox.stats().rate_limited, 0);
    assert_eq!(delivery_threads(), telegram_addin::delivery::WORKERS);

    finish(first);
    assert_eq!(
        delivery_threads(),
        telegram_addin::delivery::WORKERS,
        "the second object still uses them"
    );
    finish(second);
    assert_eq!(delivery_threads(), 0, "joined with the last object");
}
