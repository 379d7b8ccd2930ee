//! Errors, retries, migration, proxies and the log, through the simulator
//! against the sandbox. Every error text and every log line is checked for
//! the token.

mod common;
mod support;

use std::time::{Duration, Instant};

use common::*;
use support::proxy::{Kind, Proxy};
use support::*;
use tg_sandbox::{Fault, FaultRule, RateLimits};

fn chat(id: i64) -> Value {
    Value::number(id as f64)
}

#[test]
fn telegram_errors_read_as_plain_words_in_both_languages() {
    let (sandbox, mut ru, user) = setup(false);
    let (_, mut en, _) = (0, bot_en(), 0);
    en.set("Token", Value::str(sandbox.token())).unwrap();
    en.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();

    let err = error_of(
        &mut ru,
        "SendMessage",
        &[chat(987_654_321), Value::str("x")],
    );
    assert!(
        err.contains("чат не найден") && err.contains("«Запустить»"),
        "{err}"
    );
    let err = error_of(
        &mut en,
        "SendMessage",
        &[chat(987_654_321), Value::str("x")],
    );
    assert!(
        err.contains("chat not found") && err.contains("pressed Start"),
        "{err}"
    );

    sandbox.user_blocks_bot(user).unwrap();
    let err = error_of(&mut ru, "SendMessage", &[chat(user), Value::str("x")]);
    assert!(
        err.contains("заблокировал бота") && err.contains("403"),
        "{err}"
    );
    let err = error_of(&mut en, "SendFile", &[chat(user), Value::Blob(vec![1])]);
    assert!(
        err.contains("blocked the bot") && err.contains("unblocks"),
        "{err}"
    );
    sandbox.user_unblocks_bot(user).unwrap();

    let stranger = sandbox.create_stranger("Pyotr");
    let err = error_of(&mut ru, "SendMessage", &[chat(stranger), Value::str("x")]);
    assert!(
        err.contains("ещё не запускал") && err.contains("403"),
        "{err}"
    );

    let mut wrong = bot();
    wrong
        .set("Token", Value::str("123456:Wrong-Secret-Value"))
        .unwrap();
    wrong.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let err = error_of(&mut wrong, "CallMethod", &[Value::str("getMe")]);
    assert!(
        err.contains("отклонил токен") && !err.contains("Wrong-Secret"),
        "{err}"
    );

    let err = error_of(
        &mut ru,
        "SendMessage",
        &[
            chat(user),
            Value::str("я".repeat(5000)),
            Value::str(r#"{"entities":[]}"#),
        ],
    );
    assert!(err.contains("entities"), "{err}");
    let err = error_of(
        &mut ru,
        "CallMethod",
        &[
            Value::str("sendMessage"),
            Value::str(format!(
                r#"{{"chat_id":{user},"text":"{}"}}"#,
                "я".repeat(5000)
            )),
        ],
    );
    assert!(
        err.contains("слишком длинный") && err.contains("4096"),
        "{err}"
    );

    // 429 without retries.
    ru.set("МаксимумПовторов", Value::I4(0)).unwrap();
    sandbox.set_rate_limits(RateLimits {
        enabled: true,
        per_chat_per_sec: 0.2,
        per_chat_burst: 1.0,
        ..RateLimits::telegram()
    });
    ru.call("SendMessage", &[chat(user), Value::str("first")])
        .unwrap();
    let err = error_of(&mut ru, "SendMessage", &[chat(user), Value::str("second")]);
    assert!(
        err.contains("слишком много запросов") && err.contains("429"),
        "{err}"
    );
    assert_eq!(
        sandbox.stats().rate_limited,
        1,
        "no retry with MaxRetries = 0"
    );

    // 5xx on a send is not repeated; on a read it is.
    sandbox.set_rate_limits(RateLimits::off());
    sandbox.inject(FaultRule::new(Fault::Status(500)).method("sendMessage"));
    ru.set("MaxRetries", Value::I4(3)).unwrap();
    let before = sandbox.stats().requests("sendMessage");
    let err = error_of(&mut ru, "SendMessage", &[chat(user), Value::str("x")]);
    assert!(err.contains("сервере Telegram"), "{err}");
    assert_eq!(
        sandbox.stats().requests("sendMessage"),
        before + 1,
        "a send that reached Telegram is not repeated"
    );
    sandbox.inject(FaultRule::new(Fault::Drop).method("sendMessage"));
    error_of(&mut ru, "SendMessage", &[chat(user), Value::str("x")]);
    assert_eq!(sandbox.stats().requests("sendMessage"), before + 2);
    sandbox.inject(FaultRule::new(Fault::Status(502)).method("getMe").times(2));
    let reads = sandbox.stats().requests("getMe");
    assert_eq!(json(ru.call("GetMe", &[]).unwrap())["is_bot"], true);
    assert_eq!(
        sandbox.stats().requests("getMe"),
        reads + 3,
        "a read is repeated after 5xx"
    );
    finish(wrong);
    finish(en);
    finish(ru);
}

#[test]
fn a_429_waits_retry_after_and_goes_through() {
    let (sandbox, mut bot, user) = setup(false);
    assert_eq!(bot.get("MaxRetries").unwrap(), Value::I4(3));
    sandbox.set_rate_limits(RateLimits {
        enabled: true,
        per_chat_per_sec: 1.0,
        per_chat_burst: 1.0,
        ..RateLimits::telegram()
    });
    bot.call("SendMessage", &[chat(user), Value::str("раз")])
        .unwrap();
    let started = Instant::now();
    let sent = json(
        bot.call("SendMessage", &[chat(user), Value::str("два")])
            .unwrap(),
    );
    assert_eq!(sent["text"], "два");
    assert!(sandbox.stats().rate_limited >= 1, "Telegram said 429 first");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited retry_after"
    );
    assert_eq!(
        sandbox.bot_messages(user).len(),
        2,
        "each message exactly once"
    );
    finish(bot);
}

#[test]
fn a_migrated_group_is_followed_once_and_the_new_id_reported() {
    let (sandbox, mut bot, user) = setup(false);
    let group = sandbox.create_group("Склад", &[user]);
    let supergroup = sandbox.upgrade_group(group).unwrap();
    let sent = json(
        bot.call("SendMessage", &[chat(group), Value::str("в группу")])
            .unwrap(),
    );
    assert_eq!(sent["chat"]["id"].as_i64(), Some(supergroup));
    assert_eq!(
        bot.get("НовыйИдЧата").unwrap().as_f64(),
        Some(supergroup as f64)
    );
    bot.call("SendMessage", &[chat(supergroup), Value::str("напрямую")])
        .unwrap();
    assert_eq!(bot.get("MigratedChatId").unwrap().as_f64(), Some(0.0));
    assert_eq!(sandbox.bot_messages(supergroup).len(), 2);
    finish(bot);
}

#[test]
fn traffic_goes_through_http_connect_and_socks5_proxies() {
    let (sandbox, mut bot, user) = setup(false);
    let connect = Proxy::start(Kind::Connect, None);
    bot.set(
        "Proxy",
        Value::str(format!("http://127.0.0.1:{}", connect.port())),
    )
    .unwrap();
    bot.call("SendMessage", &[chat(user), Value::str("через CONNECT")])
        .unwrap();
    bot.call("GetMe", &[]).unwrap();
    assert_eq!(
        connect.targets(),
        [sandbox.addr().to_string()],
        "one tunnel, kept alive"
    );

    let socks = Proxy::start(Kind::Socks5, Some(("user1c", "p@ss-wörd")));
    bot.set(
        "Прокси",
        Value::str(format!(
            "socks5://user1c:p%40ss-w%C3%B6rd@127.0.0.1:{}",
            socks.port()
        )),
    )
    .unwrap();
    bot.call(
        "SendFile",
        &[
            chat(user),
            Value::Blob(vec![5u8; 100_000]),
            Value::str("a.bin"),
        ],
    )
    .unwrap();
    assert_eq!(socks.users(), ["user1c"]);
    assert_eq!(socks.targets(), [sandbox.addr().to_string()]);
    assert_eq!(sandbox.bot_messages(user).len(), 2);

    bot.set(
        "Proxy",
        Value::str(format!(
            "socks5://user1c:wrong-pass@127.0.0.1:{}",
            socks.port()
        )),
    )
    .unwrap();
    bot.set("MaxRetries", Value::I4(0)).unwrap();
    let err = error_of(&mut bot, "SendMessage", &[chat(user), Value::str("x")]);
    assert!(!err.contains("wrong-pass"), "{err}");
    assert!(err.contains("Прокси"), "{err}");
    assert_eq!(socks.refused(), 1);
    finish(bot);
}

#[test]
fn the_log_has_every_request_and_never_the_token() {
    let (sandbox, mut bot, user) = setup(false);
    let log = temp_path("bot.log");
    assert_eq!(text(bot.get("LogLevel").unwrap()), "info");
    bot.set("ФайлЖурнала", Value::str(log.to_str().unwrap()))
        .unwrap();
    bot.set("УровеньЖурнала", Value::str("debug")).unwrap();
    bot.call("SendMessage", &[chat(user), Value::str("секретный текст")])
        .unwrap();
    sandbox.inject(FaultRule::new(Fault::Status(500)).method("getMe"));
    bot.call("GetMe", &[]).unwrap();
    error_of(&mut bot, "SendMessage", &[chat(404_404), Value::str("x")]);
    bot.call("SendFile", &[chat(user), Value::Blob(vec![1, 2, 3])])
        .unwrap();
    let mut wrong = bot_en();
    wrong
        .set("Token", Value::str("999:ZZZ-other-secret"))
        .unwrap();
    wrong.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    wrong
        .set("LogFile", Value::str(log.to_str().unwrap()))
        .unwrap();
    let err = error_of(&mut wrong, "GetMe", &[]);
    assert!(!err.contains("ZZZ-other-secret"), "{err}");

    let written = std::fs::read_to_string(&log).unwrap();
    assert_no_token(&written);
    assert!(!written.contains("ZZZ-other-secret"), "{written}");
    assert!(written.contains("sendMessage ok in"), "{written}");
    assert!(
        written.contains("getMe ok in") && written.contains("retries 1"),
        "{written}"
    );
    assert!(written.contains("sendDocument ok in"), "{written}");
    assert!(written.contains("секретный текст"), "texts appear at debug");
    assert!(
        written.contains("чат не найден"),
        "errors are logged: {written}"
    );

    bot.set("LogLevel", Value::str("info")).unwrap();
    bot.call("SendMessage", &[chat(user), Value::str("тайна на info")])
        .unwrap();
    bot.set("LogLevel", Value::str("off")).unwrap();
    bot.call("SendMessage", &[chat(user), Value::str("x")])
        .unwrap();
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(!written.contains("тайна на info"), "no texts above debug");
    assert_eq!(
        written.matches("sendMessage ok in").count(),
        2,
        "nothing when off: {written}"
    );

    let err = bot.set("LogLevel", Value::str("громко")).unwrap_err();
    assert!(err.text.contains("debug"), "{}", err.text);
    let err = bot
        .set("LogFile", Value::str("/no/such/dir/x.log"))
        .unwrap_err();
    assert!(err.text.contains("журнала"), "{}", err.text);
    finish(wrong);
    finish(bot);
}

#[test]
fn a_server_that_cannot_be_reached_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut bot = bot();
    bot.set("Token", Value::str(tg_sandbox::DEFAULT_TOKEN))
        .unwrap();
    bot.set("ApiUrl", Value::str(format!("http://127.0.0.1:{port}")))
        .unwrap();
    bot.set("ТаймаутПодключения", Value::I4(2)).unwrap();
    bot.set("MaxRetries", Value::I4(1)).unwrap();
    let err = error_of(&mut bot, "SendMessage", &[chat(1), Value::str("x")]);
    assert!(err.contains("Не удалось подключиться"), "{err}");
    assert_eq!(bot.get("ConnectTimeout").unwrap(), Value::I4(2));
    finish(bot);
}
