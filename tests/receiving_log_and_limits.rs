//! Smaller defects of issue 15: receiving writes to LogFile (outcomes, state
//! changes, retries; message texts only at debug), no answer bodies in error
//! texts or events, GetUpdates after a 401 stopped event polling, and
//! MaxParts for long texts.

mod common;
mod receiving_util;

use std::time::Duration;

use receiving_util::*;

const T: Duration = Duration::from_secs(15);

fn log_path(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    dir.join("bot.log")
}

#[test]
fn receiving_logs_outcomes_state_changes_and_retries_without_texts() {
    let (sandbox, mut bot, dir) = setup(en(), "log-info");
    tune(
        &mut bot,
        json!({"backoff_initial_ms": 2, "backoff_cap_ms": 20, "min_interval_ms": 5}),
    );
    bot.set("LongPollTimeout", Value::I4(1)).unwrap();
    let log = log_path(&dir);
    bot.set("LogFile", Value::str(log.to_string_lossy()))
        .unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Logged");
    sandbox.inject(
        FaultRule::new(Fault::Status(500))
            .method("getUpdates")
            .times(3),
    );
    let id = sandbox
        .user_sends_text(user, "private words")
        .unwrap()
        .update_id;
    let (_, u) = next_update(&bot, T).expect("the update arrives");
    assert_eq!(u["update_id"], id);
    assert!(sandbox.wait_for(T, |sb| sb.stats().faults_injected == 3));
    bot.call("StopPolling", &[]).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    for needle in [
        "receiving started",
        "getUpdates failed",
        "retrying in",
        "connection to Telegram restored",
        "receiving stopped",
    ] {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
    assert!(
        !text.contains("private words"),
        "a message text at info:\n{text}"
    );
    assert!(!text.contains("getUpdates (offset"), "debug lines at info");

    // At debug every poll outcome is written.
    bot.set("LogLevel", Value::str("debug")).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    sandbox.user_sends_text(user, "more").unwrap();
    next_update(&bot, T).expect("the next update");
    bot.call("StopPolling", &[]).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("getUpdates (offset"), "{text}");
    assert!(!text.contains(sandbox.token()), "the token in the log");
    bot.set("LogFile", Value::str("")).unwrap();
    finish(bot);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_answers_keep_their_bodies_out_of_errors_and_events() {
    let (sandbox, mut bot, _dir) = setup(en(), "malformed");
    tune(
        &mut bot,
        json!({"backoff_initial_ms": 2, "backoff_cap_ms": 20, "min_interval_ms": 5}),
    );
    bot.set("LongPollTimeout", Value::I4(1)).unwrap();
    let user = sandbox.create_user("Ann Secretname");
    sandbox.user_starts(user, None).unwrap();
    // A send whose answer is cut off: the body holds the message and the name.
    bot.set("MaxRetries", Value::I4(0)).unwrap();
    sandbox.inject(FaultRule::new(Fault::MalformedJson).method("sendMessage"));
    let e = bot
        .call(
            "SendMessage",
            &[Value::number(user as f64), Value::str("private words")],
        )
        .unwrap_err();
    assert!(
        !e.text.contains("private") && !e.text.contains("Secretname"),
        "{}",
        e.text
    );
    // The same during polling: the `error` event carries no body either.
    sandbox.inject(FaultRule::new(Fault::MalformedJson).method("getUpdates"));
    sandbox.user_sends_text(user, "private words").unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let mut notices = Vec::new();
    let deadline = std::time::Instant::now() + T;
    loop {
        let e = event(
            &bot,
            deadline.saturating_duration_since(std::time::Instant::now()),
        );
        if e.message == "error" {
            notices.push(e.data);
            continue;
        }
        break;
    }
    assert!(!notices.is_empty(), "the fault is reported");
    for n in &notices {
        assert!(!n.contains("private") && !n.contains("Secretname"), "{n}");
    }
    finish(bot);
}

#[test]
fn after_a_401_stopped_event_polling_get_updates_pulls_again() {
    let (_sandbox, mut bot, _dir) = setup(en(), "401-pull");
    bot.set("Token", Value::str("999:NOT-a-known-bot")).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let e = event(&bot, T);
    assert!(e.data.contains("stopped"), "{}", e.data);
    assert_eq!(bot.get("Polling").unwrap(), Value::Bool(false));
    let err = bot.call("GetUpdates", &[Value::I4(5)]).unwrap_err().text;
    assert!(!err.contains("while StartPolling runs"), "{err}");
    assert!(err.contains("401") || err.contains("token"), "{err}");
    assert!(
        !err.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "a Russian word in the English text: {err}"
    );
    finish(bot);
}

#[test]
fn the_refusal_while_polling_is_english_in_english() {
    let (_sandbox, mut bot, _dir) = setup(en(), "refusal");
    bot.call("StartPolling", &[]).unwrap();
    let err = bot.call("GetUpdates", &[Value::I4(0)]).unwrap_err().text;
    assert!(err.contains("ExternalEvent"), "{err}");
    assert!(
        !err.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "{err}"
    );
    finish(bot);
}

#[test]
fn max_parts_refuses_a_huge_text_and_sends_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let mut bot = bot_with(en());
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let user = sandbox.create_user("Parts");
    sandbox.user_starts(user, None).unwrap();
    assert_eq!(bot.get("MaxParts").unwrap(), Value::I4(20));
    let chat = Value::number(user as f64);
    // 10 MB of text: about 2,560 messages before; refused at once now.
    let huge = "word ".repeat(2 * 1024 * 1024);
    let e = bot
        .call("SendMessage", &[chat.clone(), Value::str(&huge)])
        .unwrap_err();
    assert!(
        e.text.contains("MaxParts (20)") && e.text.contains("nothing was sent"),
        "{}",
        e.text
    );
    // 21 parts at the default refused; allowed when raised.
    let text21 = "a".repeat(4096 * 20 + 10);
    assert!(bot
        .call("SendMessage", &[chat.clone(), Value::str(&text21)])
        .is_err());
    assert_eq!(
        sandbox.stats().requests("sendMessage"),
        0,
        "nothing was sent"
    );
    bot.set("МаксимумЧастей", Value::I4(21)).unwrap();
    bot.call("SendMessage", &[chat.clone(), Value::str(&text21)])
        .unwrap();
    assert_eq!(sandbox.stats().requests("sendMessage"), 21);
    assert!(bot.set("MaxParts", Value::I4(0)).is_err());
    assert_eq!(bot.get("MaxParts").unwrap(), Value::I4(21));
    finish(bot);
}

#[test]
fn the_polling_thread_writes_to_the_log_of_the_object_that_started_it() {
    let (sandbox, mut polling, dir) = setup(en(), "log-own");
    let own = log_path(&dir);
    polling.set("LogLevel", Value::str("debug")).unwrap();
    polling
        .set("LogFile", Value::str(own.to_string_lossy()))
        .unwrap();
    polling.call("StartPolling", &[]).unwrap();
    // Another object sets its log later: the process's "latest" log.
    let (_other_sandbox, mut other, other_dir) = setup(en(), "log-other");
    let theirs = log_path(&other_dir);
    other.set("LogLevel", Value::str("debug")).unwrap();
    other
        .set("LogFile", Value::str(theirs.to_string_lossy()))
        .unwrap();
    let user = sandbox.create_user("Routed");
    let id = sandbox.user_sends_text(user, "x").unwrap().update_id;
    next_update(&polling, T).expect("the update arrives");
    polling.call("StopPolling", &[]).unwrap();
    let needle = format!("update {id} accepted by the platform");
    let own_text = std::fs::read_to_string(&own).unwrap();
    let their_text = std::fs::read_to_string(&theirs).unwrap();
    assert!(
        own_text.contains(&needle),
        "not in its own log:\n{own_text}"
    );
    assert!(
        !their_text.contains(&needle),
        "in the other object's log:\n{their_text}"
    );
    for bot in [&mut polling, &mut other] {
        bot.set("LogFile", Value::str("")).unwrap();
    }
    finish(other);
    finish(polling);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}
