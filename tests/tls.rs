//! HTTPS end to end: the add-in talks TLS (native-tls, verification always
//! on) to a front that holds a certificate of a test company CA.
#![cfg(target_os = "linux")]

mod common;
mod support;

use std::time::Duration;

use common::*;
use support::tls::{TestCa, TlsFront};
use support::{assert_no_token, error_of};

fn https_bot(front: &TlsFront, sandbox: &Sandbox) -> Component {
    let mut bot = bot();
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(front.url())).unwrap();
    bot.set("Timeout", Value::I4(10)).unwrap();
    bot
}

#[test]
fn a_server_certificate_the_system_does_not_trust_is_refused_readably() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let ca = TestCa::new();
    let front = TlsFront::start(&ca, sandbox.addr());
    let mut bot = https_bot(&front, &sandbox);
    let err = error_of(&mut bot, "GetMe", &[]);
    assert!(err.contains("защищённое соединение"), "{err}");
    assert!(err.contains("сертификат"), "says what to check: {err}");
    assert_eq!(
        sandbox.stats().requests_by_method.get("getMe"),
        None,
        "nothing got through"
    );
    finish(bot);
}

#[test]
fn with_the_company_ca_file_sending_and_polling_work_over_https() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let ca = TestCa::new();
    let front = TlsFront::start(&ca, sandbox.addr());
    let ca_file = ca.write_ca_file("ok");
    let mut bot = https_bot(&front, &sandbox);
    bot.set("ФайлСертификатовCA", Value::str(ca_file.to_str().unwrap()))
        .unwrap();
    assert_eq!(text(bot.get("CaFile").unwrap()), ca_file.to_str().unwrap());

    let me = json(bot.call("GetMe", &[]).unwrap());
    assert_eq!(me["id"].as_i64(), Some(sandbox.bot_id()));
    let user = sandbox.create_user("Ирина");
    sandbox.user_starts(user, None).unwrap();
    let sent = json(
        bot.call(
            "SendMessage",
            &[Value::number(user as f64), Value::str("по HTTPS 🔒")],
        )
        .unwrap(),
    );
    assert_eq!(sent["text"], "по HTTPS 🔒");

    // The long poll has its own agent: it must use the same TLS settings.
    bot.call("StartPolling", &[]).unwrap();
    let start = bot
        .next_event(Duration::from_secs(10))
        .expect("the /start update as an event");
    assert_eq!(start.message, "message");
    sandbox.user_sends_text(user, "привет").unwrap();
    let event = bot
        .next_event(Duration::from_secs(10))
        .expect("an event over HTTPS");
    assert_eq!(event.message, "message");
    assert!(event.data.contains("привет"), "{}", event.data);
    assert_no_token(&event.data);
    bot.call("StopPolling", &[]).unwrap();
    finish(bot);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn a_ca_file_without_certificates_is_refused_and_changes_nothing() {
    let mut bot = bot();
    let bad = std::env::temp_dir().join(format!("tg-bad-ca-{}.pem", std::process::id()));
    std::fs::write(&bad, "hello").unwrap();
    let err = bot
        .set("CaFile", Value::str(bad.to_str().unwrap()))
        .unwrap_err();
    assert!(err.text.contains("BEGIN CERTIFICATE"), "{}", err.text);
    assert_eq!(text(bot.get("CaFile").unwrap()), "");
    let err = bot
        .set("CaFile", Value::str("/no/such/ca.pem"))
        .unwrap_err();
    assert!(err.text.contains("/no/such/ca.pem"), "{}", err.text);
    bot.set("CaFile", Value::str("")).unwrap();
    finish(bot);
    let _ = std::fs::remove_file(bad);
}
