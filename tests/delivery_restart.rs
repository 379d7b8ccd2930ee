//! The host process is killed with SIGKILL in the middle of a broadcast and
//! of a batch, then the same broadcast id (or the same keys) is sent again:
//! nobody is messaged twice; what was in flight at the kill is reported as
//! unknown, and the test counts that window.
//!
//! The killed host is this very test binary started again as a child (the
//! `child_host` test, ignored in a normal run and doing nothing unless
//! `DELIVERY_CHILD` is set).

#![cfg(unix)]

mod common;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value as Json};

const T: Duration = Duration::from_secs(60);
/// Requests a killed host may have had in flight: the engine's worker pool.
const WORKERS: usize = 16;

fn state_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-delivery-kill-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The requests of the batch test: one message per key, the key in the text.
fn batch_requests(users: &[i64]) -> Json {
    Json::Array(
        users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                json!({"key": format!("k{i}"), "method": "sendMessage", "params": {"chat_id": u, "text": format!("k{i}")}})
            })
            .collect(),
    )
}

const LIMITS: &str = r#"{"per_second": 40}"#;

fn server_bot(token: &str, api: &str, dir: &str) -> Component {
    let mut bot = bot_with(HostOptions::server());
    bot.set("Token", Value::str(token)).unwrap();
    bot.set("ApiUrl", Value::str(api)).unwrap();
    bot.set("StateDir", Value::str(dir)).unwrap();
    bot
}

/// The child side: a 1C server job that starts a broadcast and watches it,
/// or sends a batch, until it is killed.
#[test]
#[ignore = "run as a child process by the two kill tests below"]
fn child_host() {
    let Ok(mode) = std::env::var("DELIVERY_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).expect(k);
    let mut bot = server_bot(
        &var("DELIVERY_TOKEN"),
        &var("DELIVERY_API"),
        &var("DELIVERY_DIR"),
    );
    let users: Vec<i64> = serde_json::from_str(&var("DELIVERY_USERS")).unwrap();
    if mode == "broadcast" {
        let options = format!(r#"{{"id": "kill-1", "limits": {LIMITS}}}"#);
        bot.call(
            "Broadcast",
            &[
                Value::str(json!(users).to_string()),
                Value::str("news"),
                Value::str(options),
            ],
        )
        .unwrap();
    } else {
        let options = format!(r#"{{"limits": {LIMITS}}}"#);
        bot.call(
            "SendBatch",
            &[
                Value::str(batch_requests(&users).to_string()),
                Value::str(options),
            ],
        )
        .unwrap();
    }
    loop {
        std::thread::park();
    }
}

fn start_child(mode: &str, sandbox: &Sandbox, dir: &std::path::Path, users: &[i64]) -> Child {
    common::child_test("child_host")
        .env("DELIVERY_CHILD", mode)
        .env("DELIVERY_TOKEN", sandbox.token())
        .env("DELIVERY_API", sandbox.api_url())
        .env("DELIVERY_DIR", dir)
        .env("DELIVERY_USERS", json!(users).to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child host")
}

fn kill(mut child: Child) {
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    assert!(!child.wait().unwrap().success());
}

fn setup(users: usize) -> (Sandbox, Vec<i64>) {
    let sandbox = Sandbox::start(SandboxConfig {
        latency: Duration::from_millis(300),
        rate_limits: tg_sandbox::RateLimits::telegram(),
        ..SandboxConfig::default()
    })
    .unwrap();
    let people = (0..users)
        .map(|i| sandbox.create_user(&format!("U{i}")))
        .collect();
    (sandbox, people)
}

fn delivered(sandbox: &Sandbox, users: &[i64]) -> usize {
    users.iter().map(|u| sandbox.bot_messages(*u).len()).sum()
}

#[test]
fn a_broadcast_killed_midway_resumes_without_messaging_anyone_twice() {
    let (sandbox, people) = setup(150);
    let dir = state_dir("broadcast");
    let child = start_child("broadcast", &sandbox, &dir, &people);
    assert!(
        sandbox.wait_for(T, |sb| delivered(sb, &people) >= 40),
        "the child broadcast started: {:?}",
        sandbox.stats()
    );
    kill(child);

    let mut bot = server_bot(sandbox.token(), &sandbox.api_url(), &dir.to_string_lossy());
    let before = status(&mut bot, "kill-1");
    assert_eq!(before["state"], "interrupted", "{}", summary(&before));
    let id = bot
        .call(
            "Broadcast",
            &[
                Value::str(json!(people).to_string()),
                Value::str("news"),
                Value::str(r#"{"id":"kill-1"}"#),
            ],
        )
        .unwrap();
    assert_eq!(text(id), "kill-1");
    let deadline = Instant::now() + T;
    let done = loop {
        let s = json(
            bot.call("BroadcastStatus", &[Value::str("kill-1"), Value::I4(5)])
                .unwrap(),
        );
        if s["state"] == "done" || Instant::now() > deadline {
            break s;
        }
    };
    assert_eq!(done["state"], "done", "{}", summary(&done));
    let unknown = done["unknown"].as_u64().unwrap() as usize;
    assert_eq!(
        done["sent"].as_u64().unwrap() as usize + unknown,
        people.len()
    );
    let mut twice = 0;
    for (user, r) in people.iter().zip(done["recipients"].as_array().unwrap()) {
        let got = sandbox.bot_messages(*user).len();
        twice += usize::from(got > 1);
        match r["state"].as_str().unwrap() {
            "sent" => assert_eq!(got, 1, "user {user}: {r}"),
            "unknown" => assert!(got <= 1, "user {user}: {r}"),
            other => panic!("user {user} is {other}"),
        }
    }
    println!("broadcast killed midway: in-flight window {unknown} (marked unknown), messaged twice {twice}");
    assert!(unknown <= WORKERS, "in flight at the kill: {unknown}");
    assert_eq!(twice, 0);
    finish(bot);
}

#[test]
fn a_batch_killed_midway_and_run_again_duplicates_at_most_the_in_flight() {
    let (sandbox, people) = setup(150);
    let dir = state_dir("batch");
    let child = start_child("batch", &sandbox, &dir, &people);
    assert!(
        sandbox.wait_for(T, |sb| delivered(sb, &people) >= 40),
        "the child batch started: {:?}",
        sandbox.stats()
    );
    kill(child);

    let mut bot = server_bot(sandbox.token(), &sandbox.api_url(), &dir.to_string_lossy());
    let options = format!(r#"{{"limits": {LIMITS}}}"#);
    let results = json(
        bot.call(
            "SendBatch",
            &[
                Value::str(batch_requests(&people).to_string()),
                Value::str(options),
            ],
        )
        .unwrap(),
    );
    let results = results.as_array().unwrap();
    let mut states: HashMap<&str, usize> = HashMap::new();
    for r in results {
        *states.entry(r["state"].as_str().unwrap()).or_default() += 1;
    }
    let unknown = states.get("unknown").copied().unwrap_or(0);
    assert_eq!(
        states.get("sent").copied().unwrap_or(0) + unknown,
        people.len(),
        "{states:?}"
    );
    let mut twice = 0;
    for (i, user) in people.iter().enumerate() {
        let got = sandbox.bot_messages(*user).len();
        twice += got.saturating_sub(1);
        if results[i]["state"] == "sent" {
            assert!(got >= 1, "k{i}");
        }
    }
    println!(
        "batch killed midway: in-flight window {unknown} (marked unknown), duplicates {twice}"
    );
    assert!(twice <= unknown, "duplicates {twice} > in flight {unknown}");
    assert!(unknown <= WORKERS);
    finish(bot);
}

fn status(bot: &mut Component, id: &str) -> Json {
    json(bot.call("BroadcastStatus", &[Value::str(id)]).unwrap())
}

fn summary(s: &Json) -> String {
    let mut s = s.clone();
    s["recipients"] = Json::Null;
    s.to_string()
}
