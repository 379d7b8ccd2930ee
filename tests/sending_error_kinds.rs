//! `LastErrorKind` and the "may have been delivered" texts, through the
//! simulator against the sandbox's fault injection: the add-in knows
//! whether it finished writing the request, and says so.

mod common;
mod support;

use std::io::Read;
use std::time::Duration;

use common::*;
use support::*;
use tg_sandbox::{Fault, FaultRule, RateLimits};

fn chat(id: i64) -> Value {
    Value::number(id as f64)
}

fn kind(bot: &mut Component) -> String {
    text(bot.get("LastErrorKind").unwrap())
}

/// Messages the user got from the bot with this text.
fn received(sandbox: &Sandbox, user: i64, body: &str) -> usize {
    sandbox
        .chat_history(user)
        .iter()
        .filter(|m| m.text.as_deref() == Some(body))
        .count()
}

#[test]
fn a_send_that_may_have_arrived_says_so_and_is_delivery_unknown() {
    let (sandbox, mut ru, user) = setup(false);
    let (_, mut en, _) = (0, bot_en(), 0);
    en.set("Token", Value::str(sandbox.token())).unwrap();
    en.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    ru.set("Timeout", Value::I4(1)).unwrap();
    let faults = [
        (Fault::ResetMidAnswer, "reset", 1),
        (Fault::MalformedJson, "malformed", 1),
        (Fault::Hang(Duration::from_secs(3)), "hang", 0),
        (Fault::Drop, "drop", 0),
        (Fault::Status(502), "nginx", 0),
        (Fault::Status(500), "500", 0),
    ];
    for (fault, body, delivered) in faults {
        sandbox.inject(FaultRule::new(fault.clone()).method("sendMessage"));
        let err = error_of(&mut ru, "SendMessage", &[chat(user), Value::str(body)]);
        assert_eq!(kind(&mut ru), "delivery_unknown", "{fault:?}: {err}");
        assert!(
            err.contains("могло быть доставлено") && err.contains("не повторяйте"),
            "{fault:?}: {err}"
        );
        assert!(!err.contains("подключиться"), "{fault:?}: {err}");
        assert_eq!(
            received(&sandbox, user, body),
            delivered,
            "{fault:?}: never repeated"
        );
    }
    sandbox.inject(FaultRule::new(Fault::Drop).method("sendMessage"));
    let err = error_of(&mut en, "SendMessage", &[chat(user), Value::str("x")]);
    assert_eq!(kind(&mut en), "delivery_unknown");
    assert!(
        err.contains("closed before Telegram answered") && err.contains("may have been delivered"),
        "{err}"
    );
    assert!(!err.contains("Cannot connect"), "{err}");
    // A read that fails the same way says nothing about delivery.
    en.set("MaxRetries", Value::I4(0)).unwrap();
    sandbox.inject(FaultRule::new(Fault::Drop).method("getMe"));
    let err = error_of(&mut en, "GetMe", &[]);
    assert!(!err.contains("delivered"), "{err}");
    // Success clears it.
    en.call("GetMe", &[]).unwrap();
    assert_eq!(kind(&mut en), "");
    finish(en);
    finish(ru);
}

#[test]
fn telegram_refusals_limits_tokens_and_input_each_have_their_kind() {
    let (sandbox, mut bot, user) = setup(false);
    error_of(
        &mut bot,
        "SendMessage",
        &[chat(987_654_321), Value::str("x")],
    );
    assert_eq!(kind(&mut bot), "refused_by_telegram:400");
    sandbox.user_blocks_bot(user).unwrap();
    error_of(&mut bot, "SendMessage", &[chat(user), Value::str("x")]);
    assert_eq!(kind(&mut bot), "refused_by_telegram:403");
    sandbox.user_unblocks_bot(user).unwrap();
    error_of(&mut bot, "CallMethod", &[Value::str("noSuchMethod")]);
    assert_eq!(kind(&mut bot), "refused_by_telegram:404");

    bot.set("MaxRetries", Value::I4(0)).unwrap();
    sandbox.set_rate_limits(RateLimits {
        enabled: true,
        per_chat_per_sec: 0.2,
        per_chat_burst: 1.0,
        ..RateLimits::telegram()
    });
    bot.call("SendMessage", &[chat(user), Value::str("first")])
        .unwrap();
    assert_eq!(kind(&mut bot), "");
    error_of(&mut bot, "SendMessage", &[chat(user), Value::str("second")]);
    assert_eq!(kind(&mut bot), "rate_limited");
    sandbox.set_rate_limits(RateLimits::off());

    error_of(
        &mut bot,
        "SendMessage",
        &[Value::Bool(true), Value::str("x")],
    );
    assert_eq!(kind(&mut bot), "invalid_input");
    let err = bot.set("Timeout", Value::I4(0)).unwrap_err();
    assert!(!err.text.is_empty());
    assert_eq!(
        kind(&mut bot),
        "invalid_input",
        "a refused property value too"
    );

    let mut wrong = common::bot();
    wrong
        .set("Token", Value::str("123456:Wrong-Secret-Value"))
        .unwrap();
    wrong.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    error_of(&mut wrong, "SendMessage", &[chat(user), Value::str("x")]);
    assert_eq!(kind(&mut wrong), "unauthorized");

    let mut unset = common::bot();
    error_of(&mut unset, "GetMe", &[]);
    assert_eq!(kind(&mut unset), "config");
    finish(unset);
    finish(wrong);
    finish(bot);
}

#[test]
fn nothing_reached_telegram_is_not_sent_and_safe_to_repeat() {
    // No server: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut bot = bot_en();
    bot.set("Token", Value::str(tg_sandbox::DEFAULT_TOKEN))
        .unwrap();
    bot.set("ApiUrl", Value::str(format!("http://127.0.0.1:{port}")))
        .unwrap();
    bot.set("MaxRetries", Value::I4(0)).unwrap();
    let err = error_of(&mut bot, "SendMessage", &[chat(1), Value::str("x")]);
    assert_eq!(kind(&mut bot), "not_sent");
    assert!(
        err.contains("Cannot connect") && err.contains("can be repeated"),
        "{err}"
    );

    // A server that reads a little of a large upload, then closes: the body
    // was never written in full, so nothing can have been acted on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = [0u8; 1024];
        let _ = stream.read(&mut head);
        drop(stream);
    });
    bot.set("ApiUrl", Value::str(format!("http://127.0.0.1:{port}")))
        .unwrap();
    let err = error_of(
        &mut bot,
        "SendFile",
        &[chat(1), Value::Blob(vec![7u8; 16 << 20])],
    );
    server.join().unwrap();
    assert_eq!(kind(&mut bot), "not_sent", "{err}");
    assert!(
        err.contains("while the request was being sent") && err.contains("Nothing was sent"),
        "{err}"
    );
    finish(bot);
}
