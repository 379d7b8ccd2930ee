//! Broadcasts and batch sending through the simulator against the sandbox:
//! Telegram's limits with latency, 429 pauses, final errors, migration,
//! cancel, the idempotency journal and a server that is down.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value as Json};
use tg_sandbox::{Fault, FaultRule, RateLimits};

const T: Duration = Duration::from_secs(60);

fn state_dir(tag: &str) -> std::path::PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tg-delivery-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn setup(config: SandboxConfig, options: HostOptions, tag: &str) -> (Sandbox, Component) {
    let sandbox = Sandbox::start(config).expect("start sandbox");
    let mut bot = bot_with(options);
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    bot.set("StateDir", Value::str(state_dir(tag).to_string_lossy()))
        .unwrap();
    (sandbox, bot)
}

fn users(sandbox: &Sandbox, n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| sandbox.create_user(&format!("U{i}")))
        .collect()
}

fn broadcast(bot: &mut Component, recipients: &[i64], message: &str, options: Json) -> String {
    text(
        bot.call(
            "Broadcast",
            &[
                Value::str(json!(recipients).to_string()),
                Value::str(message),
                Value::str(options.to_string()),
            ],
        )
        .expect("Broadcast"),
    )
}

fn status(bot: &mut Component, id: &str, wait: i32) -> Json {
    json(
        bot.call("BroadcastStatus", &[Value::str(id), Value::I4(wait)])
            .expect("BroadcastStatus"),
    )
}

/// Waits for the `broadcast_done` event; returns it and the progress events before it.
fn wait_done(bot: &Component, timeout: Duration) -> (Json, Vec<Json>) {
    let deadline = Instant::now() + timeout;
    let mut progress = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = bot.next_event(left).expect("broadcast_done in time");
        assert_eq!(e.source, "Telegram");
        let data: Json = serde_json::from_str(&e.data).expect("event data is JSON");
        match e.message.as_str() {
            "broadcast_progress" => progress.push(data),
            "broadcast_done" => return (data, progress),
            other => panic!("unexpected event {other}: {data}"),
        }
    }
}

fn batch(bot: &mut Component, requests: &Json, options: Json) -> Vec<Json> {
    json(
        bot.call(
            "SendBatch",
            &[
                Value::str(requests.to_string()),
                Value::str(options.to_string()),
            ],
        )
        .expect("SendBatch"),
    )
    .as_array()
    .expect("an array")
    .clone()
}

fn count_states(results: &[Json]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in results {
        *counts
            .entry(r["state"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    counts
}

#[test]
fn a_broadcast_to_300_users_at_telegram_limits_gets_no_429() {
    let config = SandboxConfig {
        rate_limits: RateLimits::telegram(),
        latency: Duration::from_millis(300),
        ..SandboxConfig::default()
    };
    let (sandbox, mut bot) = setup(config, HostOptions::default(), "300");
    let people = users(&sandbox, 300);
    let started = Instant::now();
    let id = broadcast(&mut bot, &people, "Новости недели", json!({"id": "news-1"}));
    assert_eq!(id, "news-1");
    let (done, progress) = wait_done(&bot, T);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["sent"], 300, "{done}");
    assert_eq!(sandbox.stats().rate_limited, 0, "no 429 from the sandbox");
    for user in &people {
        let got = sandbox.bot_messages(*user);
        assert_eq!(got.len(), 1, "user {user}");
        assert_eq!(got[0].text.as_deref(), Some("Новости недели"));
    }
    // Progress came, counting up.
    assert!(!progress.is_empty(), "progress events during ~10 s");
    let sent: Vec<i64> = progress
        .iter()
        .map(|p| p["sent"].as_i64().unwrap())
        .collect();
    assert!(sent.windows(2).all(|w| w[0] <= w[1]), "{sent:?}");
    let s = status(&mut bot, &id, 0);
    assert_eq!(
        (s["total"].as_i64(), s["pending"].as_i64()),
        (Some(300), Some(0))
    );
    let r = &s["recipients"][0];
    assert_eq!(
        (r["chat_id"].as_i64(), r["ok"].as_bool()),
        (Some(people[0]), Some(true))
    );
    assert!(r["message_id"].as_i64().is_some());
    println!(
        "300 recipients at 300 ms latency: {:.1} msg/s ({seconds:.1} s), status rate {}",
        300.0 / seconds,
        s["rate"]
    );
    finish(bot);
}

#[test]
fn tightened_limits_are_obeyed_through_retry_after() {
    let config = SandboxConfig {
        rate_limits: RateLimits {
            global_per_sec: 10.0,
            ..RateLimits::telegram()
        },
        ..SandboxConfig::default()
    };
    let (sandbox, mut bot) = setup(config, en_host(), "tight");
    let people = users(&sandbox, 30);
    let id = broadcast(&mut bot, &people, "hi", json!({}));
    let (done, _) = wait_done(&bot, T);
    assert_eq!(done["sent"], 30, "{done}; {:?}", sandbox.stats());
    for user in &people {
        assert_eq!(sandbox.bot_messages(*user).len(), 1, "user {user}");
    }
    let limited = sandbox.stats().rate_limited;
    // A 429 pauses every sender for retry_after; hammering on would meet
    // about two 429s for every message here.
    println!("sandbox at 10/s, engine at 30/s: {limited} answers 429 for 30 messages");
    assert!(limited > 0, "the sandbox's limit was met");
    assert!(limited <= 12, "429s: {limited}");
    assert_eq!(status(&mut bot, &id, 0)["failed"], 0);
    finish(bot);
}

#[test]
fn configured_limits_stay_under_the_servers() {
    let config = SandboxConfig {
        rate_limits: RateLimits {
            global_per_sec: 4.0,
            ..RateLimits::telegram()
        },
        ..SandboxConfig::default()
    };
    let (sandbox, mut bot) = setup(config, en_host(), "configured");
    let people = users(&sandbox, 8);
    broadcast(
        &mut bot,
        &people,
        "hi",
        json!({"limits": {"per_second": 3.5}}),
    );
    let (done, _) = wait_done(&bot, T);
    assert_eq!(done["sent"], 8, "{done}");
    assert_eq!(sandbox.stats().rate_limited, 0);
    finish(bot);
}

fn en_host() -> HostOptions {
    HostOptions {
        language: "en".into(),
        locale: "en_US".into(),
        ..HostOptions::default()
    }
}

#[test]
fn blocked_unknown_and_migrated_chats_are_reported() {
    let (sandbox, mut bot) = setup(SandboxConfig::default(), en_host(), "errors");
    let ok = sandbox.create_user("Ok");
    let blocked = sandbox.create_user("Blocked");
    sandbox.user_blocks_bot(blocked).unwrap();
    let unknown = 777_000_111;
    let group = sandbox.create_group("Team", &[ok]);
    let supergroup = sandbox.upgrade_group(group).unwrap();
    let id = broadcast(&mut bot, &[ok, blocked, unknown, group], "hello", json!({}));
    let (done, _) = wait_done(&bot, T);
    assert_eq!(
        (done["sent"].as_i64(), done["failed"].as_i64()),
        (Some(2), Some(2)),
        "{done}"
    );
    let s = status(&mut bot, &id, 0);
    let r = s["recipients"].as_array().unwrap();
    assert_eq!(r[0]["state"], "sent");
    assert_eq!(r[1]["state"], "failed");
    assert!(r[1]["error"].as_str().unwrap().contains("403"), "{}", r[1]);
    assert_eq!(r[2]["state"], "failed");
    assert!(
        r[2]["error"].as_str().unwrap().contains("chat not found"),
        "{}",
        r[2]
    );
    assert_eq!(r[3]["state"], "sent", "{}", r[3]);
    assert_eq!(r[3]["migrated_to_chat_id"], supergroup);
    assert_eq!(sandbox.bot_messages(supergroup).len(), 1);
    assert_eq!(sandbox.bot_messages(blocked).len(), 0);

    // The same through SendBatch.
    let send = |key: &str, chat: i64| json!({"key": key, "method": "sendMessage", "params": {"chat_id": chat, "text": "batch"}});
    let results = batch(
        &mut bot,
        &json!([
            send("a", ok),
            send("b", blocked),
            send("c", unknown),
            send("d", group)
        ]),
        json!({}),
    );
    let states: Vec<&str> = results
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["sent", "failed", "failed", "sent"], "{results:?}");
    assert_eq!(results[1]["error_code"], 403);
    assert_eq!(results[2]["error_code"], 400);
    assert_eq!(results[3]["migrated_to_chat_id"], supergroup);
    assert_eq!(results[0]["key"], "a");
    assert!(results[0]["result"]["message_id"].as_i64().is_some());
    finish(bot);
}

#[test]
fn a_cancelled_broadcast_stops_and_resumes_with_its_id() {
    let config = SandboxConfig {
        latency: Duration::from_millis(100),
        ..SandboxConfig::default()
    };
    let (sandbox, mut bot) = setup(config, en_host(), "cancel");
    let people = users(&sandbox, 60);
    let id = broadcast(
        &mut bot,
        &people,
        "hi",
        json!({"id": "c1", "limits": {"per_second": 20}}),
    );
    let total = || {
        people
            .iter()
            .map(|u| sandbox.bot_messages(*u).len())
            .sum::<usize>()
    };
    assert!(sandbox.wait_for(T, |_| total() >= 5));
    assert_eq!(
        bot.call("CancelBroadcast", &[Value::str(&id)]).unwrap(),
        Value::Bool(true)
    );
    let (done, _) = wait_done(&bot, T);
    assert_eq!(done["state"], "cancelled", "{done}");
    let sent = done["sent"].as_u64().unwrap() as usize;
    assert!(sent < 60 && done["pending"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(total(), sent + done["unknown"].as_u64().unwrap() as usize);
    assert_eq!(status(&mut bot, &id, 0)["state"], "cancelled");

    // Broadcast with the same id sends to those left, once each.
    assert_eq!(
        broadcast(&mut bot, &people, "hi", json!({"id": "c1"})),
        "c1"
    );
    let (done, _) = wait_done(&bot, T);
    assert_eq!(
        (done["state"].as_str(), done["sent"].as_i64()),
        (Some("done"), Some(60)),
        "{done}"
    );
    for user in &people {
        assert_eq!(sandbox.bot_messages(*user).len(), 1, "user {user}");
    }
    assert_eq!(
        bot.call("CancelBroadcast", &[Value::str(&id)]).unwrap(),
        Value::Bool(false)
    );
    finish(bot);
}

#[test]
fn a_file_for_many_recipients_is_uploaded_once() {
    let (sandbox, mut bot) = setup(SandboxConfig::default(), en_host(), "file");
    let people = users(&sandbox, 5);
    bot.call(
        "AddFile",
        &[
            Value::str("pic"),
            Value::Blob(vec![0x89, b'P', b'N', b'G', 1, 2, 3]),
            Value::str("pic.png"),
        ],
    )
    .unwrap();
    broadcast(
        &mut bot,
        &people,
        &json!({"document": "attach://pic", "caption": "Прайс"}).to_string(),
        json!({}),
    );
    let (done, _) = wait_done(&bot, T);
    assert_eq!(done["sent"], 5, "{done}");
    let ids: Vec<String> = people
        .iter()
        .map(|u| {
            sandbox.bot_messages(*u)[0]
                .file_id
                .clone()
                .expect("a document")
        })
        .collect();
    assert!(
        ids.iter().all(|f| f == &ids[0]),
        "one file for all: {ids:?}"
    );
    assert_eq!(sandbox.stats().requests("sendDocument"), 5);
    finish(bot);
}

#[test]
fn a_keyed_batch_of_500_run_twice_sends_500() {
    let (sandbox, mut bot) = setup(SandboxConfig::default(), HostOptions::server(), "batch500");
    let people = users(&sandbox, 100);
    let requests: Vec<Json> = (0..500)
        .map(|i| {
            json!({
                "key": format!("order-{i}"),
                "method": "sendMessage",
                "params": {"chat_id": people[i % 100], "text": format!("Заказ {i} отгружен")},
            })
        })
        .collect();
    let requests = Json::Array(requests);
    let options =
        json!({"limits": {"per_second": 1000, "per_chat_per_second": 100, "per_chat_burst": 10}});
    let first = batch(&mut bot, &requests, options.clone());
    assert_eq!(first.len(), 500);
    assert_eq!(
        count_states(&first).get("sent"),
        Some(&500),
        "{:?}",
        count_states(&first)
    );
    assert!(first
        .iter()
        .enumerate()
        .all(|(i, r)| r["key"] == format!("order-{i}")));
    let second = batch(&mut bot, &requests, options);
    assert_eq!(count_states(&second).get("sent"), Some(&500));
    assert!(second.iter().all(|r| r["recorded"] == true));
    assert_eq!(second[7]["result"], first[7]["result"]);
    assert_eq!(sandbox.stats().requests("sendMessage"), 500);
    let total: usize = people.iter().map(|u| sandbox.bot_messages(*u).len()).sum();
    assert_eq!(total, 500);
    finish(bot);
}

#[test]
fn a_server_that_is_down_gives_pending_within_the_deadline() {
    let (mut sandbox, mut bot) = setup(SandboxConfig::default(), HostOptions::server(), "down");
    let user = sandbox.create_user("U");
    sandbox.shutdown();
    let requests: Vec<Json> = (0..10)
        .map(|i| json!({"key": format!("k{i}"), "method": "sendMessage", "params": {"chat_id": user, "text": "x"}}))
        .collect();
    let started = Instant::now();
    let results = batch(
        &mut bot,
        &Json::Array(requests.clone()),
        json!({"deadline": 2}),
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "returned after {took:?}");
    assert!(
        results
            .iter()
            .all(|r| r["state"] == "pending" || r["state"] == "failed"),
        "{results:?}"
    );
    finish(bot);
}

#[test]
fn a_server_that_never_answers_gives_unknown_or_pending_by_the_deadline() {
    let (sandbox, mut bot) = setup(SandboxConfig::default(), HostOptions::server(), "hang");
    bot.set("Timeout", Value::I4(3)).unwrap();
    let user = sandbox.create_user("U");
    sandbox.inject(
        FaultRule::new(Fault::Hang(Duration::from_secs(20)))
            .method("sendMessage")
            .always(),
    );
    let requests: Vec<Json> = (0..40)
        .map(|i| json!({"key": format!("h{i}"), "method": "sendMessage", "params": {"chat_id": user + i, "text": "x"}}))
        .collect();
    let started = Instant::now();
    let results = batch(&mut bot, &Json::Array(requests), json!({"deadline": 1}));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "returned after {took:?}");
    let states = count_states(&results);
    assert!(states.get("unknown").is_some_and(|n| *n > 0), "{states:?}");
    assert!(states.get("pending").is_some_and(|n| *n > 0), "{states:?}");
    assert_eq!(states.get("sent"), None);
    finish(bot);
}

#[test]
fn bad_input_is_refused_clearly() {
    let (_sandbox, mut bot) = setup(SandboxConfig::default(), en_host(), "bad");
    let err = bot
        .call("Broadcast", &[Value::str("{\"a\":1}"), Value::str("hi")])
        .unwrap_err();
    assert!(err.text.contains("JSON array"), "{}", err.text);
    let err = bot
        .call(
            "SendBatch",
            &[Value::str(
                r#"[{"key":"a","method":"sendMessage"},{"key":"a","method":"sendMessage"}]"#,
            )],
        )
        .unwrap_err();
    assert!(err.text.contains("repeated"), "{}", err.text);
    let err = bot
        .call("BroadcastStatus", &[Value::str("nope")])
        .unwrap_err();
    assert!(err.text.contains("no broadcast"), "{}", err.text);
    let mut ru = common::bot();
    ru.set("Token", Value::str(tg_sandbox::DEFAULT_TOKEN))
        .unwrap();
    let err = ru.call("ОтправитьПакет", &[Value::str("[1]")]).unwrap_err();
    assert!(err.text.contains("Запросы"), "{}", err.text);
    finish(ru);
    finish(bot);
}

#[test]
fn messages_to_one_chat_keep_their_order() {
    let config = SandboxConfig {
        rate_limits: RateLimits::telegram(),
        ..SandboxConfig::default()
    };
    let (sandbox, mut bot) = setup(config, HostOptions::server(), "order");
    let busy = sandbox.create_user("Busy");
    let others = users(&sandbox, 20);
    let mut requests: Vec<Json> = (0..6)
        .map(|i| json!({"key": format!("a{i}"), "method": "sendMessage", "params": {"chat_id": busy, "text": format!("a{i}")}}))
        .collect();
    requests.extend(others.iter().map(|u| {
        json!({"key": format!("o{u}"), "method": "sendMessage", "params": {"chat_id": u, "text": "o"}})
    }));
    let results = batch(&mut bot, &Json::Array(requests), json!({}));
    assert_eq!(count_states(&results).get("sent"), Some(&26), "{results:?}");
    let texts: Vec<String> = sandbox
        .bot_messages(busy)
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect();
    assert_eq!(texts, ["a0", "a1", "a2", "a3", "a4", "a5"]);
    assert_eq!(sandbox.stats().rate_limited, 0);
    finish(bot);
}
