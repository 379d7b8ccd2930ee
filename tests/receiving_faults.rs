//! Across 200 injected faults every update arrives exactly once, in order.

mod common;
mod receiving_util;

use std::time::Duration;

use receiving_util::*;

#[test]
fn across_200_faults_every_update_arrives_exactly_once() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "faults");
    tune(
        &mut bot,
        json!({"backoff_initial_ms": 2, "backoff_cap_ms": 20, "min_interval_ms": 5}),
    );
    bot.set("LongPollTimeout", Value::I4(1)).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Faulty");
    let faults = [
        Fault::Drop,
        Fault::ResetMidAnswer,
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(429),
        Fault::MalformedJson,
        Fault::Hang(Duration::from_millis(50)),
        Fault::Status(504),
    ];
    let mut sent = Vec::new();
    let mut got = Vec::new();
    for round in 0..25 {
        for fault in &faults {
            sandbox.inject(FaultRule::new(fault.clone()).method("getUpdates"));
        }
        for i in 0..4 {
            sent.push(
                sandbox
                    .user_sends_text(user, &format!("r{round} m{i}"))
                    .unwrap()
                    .update_id,
            );
        }
        // Consume as a form would, while faults are still being hit.
        while let Some((_, u)) = next_update(&bot, Duration::ZERO) {
            got.push(u["update_id"].as_i64().unwrap());
        }
    }
    while got.len() < sent.len() {
        let (_, u) = next_update(&bot, Duration::from_secs(20)).expect("every update arrives");
        got.push(u["update_id"].as_i64().unwrap());
    }
    assert!(
        sandbox.wait_for(Duration::from_secs(20), |sb| sb.stats().faults_injected
            >= 200),
        "faults hit: {}",
        sandbox.stats().faults_injected
    );
    assert!(sandbox.wait_for(Duration::from_secs(10), |sb| sb
        .pending_updates()
        .is_empty()));
    while let Some((_, u)) = next_update(&bot, Duration::from_millis(300)) {
        got.push(u["update_id"].as_i64().unwrap());
    }
    assert_eq!(sandbox.stats().faults_injected, 200);
    assert_eq!(got, sent, "exactly once, in order");
    finish(bot);
}
