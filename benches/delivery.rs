//! The delivery engine, measured side by side in one run:
//! 1. at 300 ms of latency per request, with Telegram's rate limits on in the
//!    sandbox: a `Broadcast` to 300 users next to a sequential sender (one
//!    `SendMessage` after another, as BSL loops do), and their ratio;
//! 2. on loopback without latency or limits: `SendBatch` per request next to
//!    plain `SendMessage` (keyed requests, so the journal is written).
//!
//! Run with `cargo bench --bench delivery`. Prints tables; asserts nothing
//! about time.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value as Json};
use tg_sandbox::RateLimits;

const BROADCAST_USERS: usize = 300;
const SEQUENTIAL_MESSAGES: usize = 30;
const LOOPBACK_REQUESTS: usize = 1_000;

fn bot_on(sandbox: &Sandbox, tag: &str) -> Component {
    let mut bot = bot_with(HostOptions::server());
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let dir = std::env::temp_dir().join(format!("tg-bench-delivery-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    bot.set("StateDir", Value::str(dir.to_string_lossy()))
        .unwrap();
    bot
}

fn broadcast_rate(sandbox: &Sandbox, users: &[i64]) -> (f64, Json) {
    let mut bot = bot_on(sandbox, "broadcast");
    let started = Instant::now();
    let id = text(
        bot.call(
            "Broadcast",
            &[Value::str(json!(users).to_string()), Value::str("Новости")],
        )
        .unwrap(),
    );
    let status = loop {
        let s = json(
            bot.call("BroadcastStatus", &[Value::str(&id), Value::I4(1)])
                .unwrap(),
        );
        if s["state"] != "running" {
            break s;
        }
    };
    let rate = users.len() as f64 / started.elapsed().as_secs_f64();
    finish(bot);
    (rate, status)
}

fn sequential_rate(sandbox: &Sandbox, users: &[i64]) -> f64 {
    let mut bot = bot_on(sandbox, "sequential");
    let started = Instant::now();
    for user in users {
        bot.call(
            "SendMessage",
            &[Value::number(*user as f64), Value::str("Новости")],
        )
        .unwrap();
    }
    let rate = users.len() as f64 / started.elapsed().as_secs_f64();
    finish(bot);
    rate
}

fn requests(users: &[i64], tag: &str, n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            json!({"key": format!("{tag}-{i}"), "method": "sendMessage",
                   "params": {"chat_id": users[i % users.len()], "text": format!("Заказ {i}")}})
        })
        .collect()
}

const FAST: &str = r#"{"limits": {"per_second": 1000000, "per_chat_per_second": 1000000, "per_chat_burst": 1000}}"#;

fn batch_per_request(sandbox: &Sandbox, users: &[i64], tag: &str) -> Duration {
    let mut bot = bot_on(sandbox, tag);
    let list = Json::Array(requests(users, tag, LOOPBACK_REQUESTS)).to_string();
    let started = Instant::now();
    let out = json(
        bot.call("SendBatch", &[Value::str(list), Value::str(FAST)])
            .unwrap(),
    );
    let elapsed = started.elapsed();
    assert!(out.as_array().unwrap().iter().all(|r| r["state"] == "sent"));
    finish(bot);
    elapsed / LOOPBACK_REQUESTS as u32
}

fn single_batches_per_request(
    sandbox: &Sandbox,
    users: &[i64],
    tag: &str,
    keyed: bool,
) -> Duration {
    let mut bot = bot_on(sandbox, tag);
    let mut all = requests(users, tag, LOOPBACK_REQUESTS);
    if !keyed {
        for r in &mut all {
            r.as_object_mut().unwrap().remove("key");
        }
    }
    let started = Instant::now();
    for r in all {
        let out = json(
            bot.call(
                "SendBatch",
                &[Value::str(json!([r]).to_string()), Value::str(FAST)],
            )
            .unwrap(),
        );
        assert_eq!(out[0]["state"], "sent");
    }
    let elapsed = started.elapsed();
    finish(bot);
    elapsed / LOOPBACK_REQUESTS as u32
}

fn send_message_per_request(sandbox: &Sandbox, users: &[i64]) -> Duration {
    let mut bot = bot_on(sandbox, "plain");
    let started = Instant::now();
    for i in 0..LOOPBACK_REQUESTS {
        bot.call(
            "SendMessage",
            &[
                Value::number(users[i % users.len()] as f64),
                Value::str(format!("Заказ {i}")),
            ],
        )
        .unwrap();
    }
    let elapsed = started.elapsed();
    finish(bot);
    elapsed / LOOPBACK_REQUESTS as u32
}

fn main() {
    let slow = Sandbox::start(SandboxConfig {
        rate_limits: RateLimits::telegram(),
        latency: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .unwrap();
    let users: Vec<i64> = (0..BROADCAST_USERS)
        .map(|i| slow.create_user(&format!("U{i}")))
        .collect();
    let sequential = sequential_rate(&slow, &users[..SEQUENTIAL_MESSAGES]);
    let (broadcast, status) = broadcast_rate(&slow, &users);
    println!("Telegram's limits on, 300 ms latency per request");
    println!("| sender                                   | messages | msg/s | ratio |");
    println!("|------------------------------------------|---------:|------:|------:|");
    println!(
        "| sequential SendMessage (a BSL loop)      | {SEQUENTIAL_MESSAGES:8} | {sequential:5.1} | {:5.2} |",
        1.0
    );
    println!(
        "| Broadcast (engine, {} workers)           | {BROADCAST_USERS:8} | {broadcast:5.1} | {:5.2} |",
        telegram_addin::delivery::WORKERS,
        broadcast / sequential
    );
    println!(
        "broadcast: sent {}, failed {}, 429s from the sandbox {}",
        status["sent"],
        status["failed"],
        slow.stats().rate_limited
    );
    drop(slow);

    let fast = Sandbox::start(SandboxConfig::default()).unwrap();
    let users: Vec<i64> = (0..100)
        .map(|i| fast.create_user(&format!("L{i}")))
        .collect();
    let _ = send_message_per_request(&fast, &users); // warm up
    let plain = send_message_per_request(&fast, &users);
    let batch = batch_per_request(&fast, &users, "batch");
    let singles = single_batches_per_request(&fast, &users, "single", true);
    let unkeyed = single_batches_per_request(&fast, &users, "unkeyed", false);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!();
    println!(
        "Loopback, no latency, no limits: {LOOPBACK_REQUESTS} keyed requests (journal written)"
    );
    println!("| path                                      | per request, µs | vs SendMessage |");
    println!("|-------------------------------------------|----------------:|---------------:|");
    println!(
        "| SendMessage, one call each                | {:15.1} | {:14.2} |",
        us(plain),
        1.0
    );
    println!(
        "| SendBatch, all {LOOPBACK_REQUESTS} in one call           | {:15.1} | {:14.2} |",
        us(batch),
        us(batch) / us(plain)
    );
    println!(
        "| SendBatch, one request per call           | {:15.1} | {:14.2} |",
        us(singles),
        us(singles) / us(plain)
    );
    println!(
        "| SendBatch, one request per call, no key   | {:15.1} | {:14.2} |",
        us(unkeyed),
        us(unkeyed) / us(plain)
    );
}
