//! Helpers of the sending tests: a sandbox with a ready user, token checks,
//! and tiny HTTP CONNECT and SOCKS5 proxies on loopback.
#![allow(dead_code)]

pub mod proxy;
#[cfg(target_os = "linux")]
pub mod tls;

use super::common::*;

/// The secret half of the sandbox's default token.
pub const SECRET: &str = "TEST-token";

/// Panics when `text` holds the token or its secret.
pub fn assert_no_token(text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(tg_sandbox::DEFAULT_TOKEN),
        "the token leaked: {text}"
    );
}

/// A sandbox, a `Bot` on it (English texts when `en`), and one user who has
/// pressed Start.
pub fn setup(en: bool) -> (Sandbox, Component, i64) {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("start sandbox");
    let mut bot = if en { bot_en() } else { bot() };
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let user = sandbox.create_user("Иван");
    sandbox.user_starts(user, None).unwrap();
    (sandbox, bot, user)
}

/// Calls a method that must fail; checks the token is not in the error, the
/// LastError property or any AddError record, and returns the text.
pub fn error_of(bot: &mut Component, method: &str, args: &[Value]) -> String {
    let err = bot.call(method, args).expect_err("the call must fail");
    assert_no_token(&err.text);
    let last = text(bot.get("LastError").unwrap());
    assert_eq!(last, err.text);
    for record in bot.add_errors() {
        assert_no_token(&record.descr);
    }
    err.text
}

/// A unique path in the temp directory.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tg1c-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
