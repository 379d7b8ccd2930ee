//! 2,000 `SendMessage` calls on loopback: through the 1C simulator and the
//! add-in, next to a bare `ureq` keep-alive client sending the same requests
//! to the same sandbox. Run with `cargo bench --bench send_message`.
//! Prints a table; it asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

const CALLS: usize = 2_000;

fn through_the_addin(sandbox: &Sandbox, user: i64) -> Duration {
    let mut bot = bot();
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    bot.call("GetMe", &[]).unwrap();
    let started = Instant::now();
    for i in 0..CALLS {
        bot.call(
            "SendMessage",
            &[
                Value::number(user as f64),
                Value::str(format!("Сообщение {i}")),
            ],
        )
        .unwrap();
    }
    let elapsed = started.elapsed();
    finish(bot);
    elapsed
}

fn bare_ureq(sandbox: &Sandbox, user: i64) -> Duration {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = sandbox.method_url("sendMessage");
    agent.post(&sandbox.method_url("getMe")).send("").unwrap();
    let started = Instant::now();
    for i in 0..CALLS {
        let body =
            serde_json::json!({"chat_id": user, "text": format!("Сообщение {i}")}).to_string();
        let text = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["ok"], true);
    }
    started.elapsed()
}

fn main() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let user = sandbox.create_user("Bench");
    // Warm both paths once, then measure each twice and keep the better run.
    let _ = bare_ureq(&sandbox, user);
    let addin = through_the_addin(&sandbox, user).min(through_the_addin(&sandbox, user));
    let bare = bare_ureq(&sandbox, user).min(bare_ureq(&sandbox, user));
    let per = |d: Duration| d.as_secs_f64() * 1e6 / CALLS as f64;
    println!("{CALLS} sendMessage calls on loopback (best of 2 runs)");
    println!("| path                      | total, ms | per call, µs | ratio |");
    println!("|---------------------------|----------:|-------------:|------:|");
    println!(
        "| bare ureq keep-alive      | {:9.1} | {:12.1} | {:5.2} |",
        bare.as_secs_f64() * 1e3,
        per(bare),
        1.0
    );
    println!(
        "| 1C simulator + add-in     | {:9.1} | {:12.1} | {:5.2} |",
        addin.as_secs_f64() * 1e3,
        per(addin),
        addin.as_secs_f64() / bare.as_secs_f64()
    );
    println!(
        "connections accepted by the sandbox: {}",
        sandbox.stats().connections_accepted
    );
}
