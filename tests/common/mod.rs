//! Shared helpers for the add-in's end-to-end tests: load the built library
//! into the 1C platform simulator and point it at the Telegram sandbox.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

pub use onec_simulator::{Component, HostOptions, Library, MemoryReport, Teardown, Value};
pub use tg_sandbox::{Sandbox, SandboxConfig};

/// The add-in library cargo built for this test binary.
///
/// `cargo test` rebuilds the cdylib in `target/<profile>/deps/` but copies it
/// to `target/<profile>/` only on `cargo build`, so the `deps/` copy is the
/// one that matches the code under test.
pub fn addin_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps");
    let name = format!(
        "{}telegram_addin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let fresh = deps.join(&name);
    if fresh.exists() {
        return fresh;
    }
    let path = deps.parent().expect("target/<profile>").join(name);
    assert!(
        path.exists(),
        "the add-in is not built at {}",
        path.display()
    );
    path
}

/// The library, loaded once per test process (as 1C keeps it loaded).
pub fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| Library::load(addin_path()).expect("load the add-in"))
}

/// A new `Bot` with the given host options.
pub fn bot_with(options: HostOptions) -> Component {
    library().create("Bot", options).expect("create Bot")
}

/// A new `Bot` as a Russian thin client creates it.
pub fn bot() -> Component {
    bot_with(HostOptions::default())
}

/// A new `Bot` with an English interface language.
pub fn bot_en() -> Component {
    bot_with(HostOptions {
        language: "en".into(),
        locale: "en_US".into(),
        ..HostOptions::default()
    })
}

/// A sandbox with the default bot, and a `Bot` pointed at it.
pub fn bot_on_sandbox() -> (Sandbox, Component) {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("start sandbox");
    let mut bot = bot();
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    (sandbox, bot)
}

/// Tears the object down as 1C does and asserts the memory accounting is clean.
pub fn finish(bot: Component) {
    finish_with(bot, Teardown::OneC);
}

/// Checks every error the object reported and every event still queued for
/// the sandbox token's secret part: the whole suite runs this at teardown.
pub fn assert_no_token_leaked(bot: &Component) {
    let secret = tg_sandbox::DEFAULT_TOKEN
        .split_once(':')
        .map_or(tg_sandbox::DEFAULT_TOKEN, |(_, secret)| secret);
    for record in bot.add_errors() {
        assert!(
            !record.descr.contains(secret),
            "token in an error: {}",
            record.descr
        );
    }
    for event in bot.drain_events() {
        assert!(
            !event.data.contains(secret) && !event.message.contains(secret),
            "token in an event: {event:?}"
        );
    }
}

/// Tears the object down in the given style and asserts a clean memory report.
pub fn finish_with(bot: Component, style: Teardown) -> MemoryReport {
    assert_no_token_leaked(&bot);
    let report = bot.teardown(style);
    assert!(
        report.is_clean(),
        "memory accounting after teardown: {report}"
    );
    report
}

/// The string inside a `Value::Str`, or a panic naming what came instead.
pub fn text(value: Value) -> String {
    match value {
        Value::Str(s) => s,
        other => panic!("expected a string, got {other:?}"),
    }
}

/// Parses a JSON string result.
pub fn json(value: Value) -> serde_json::Value {
    serde_json::from_str(&text(value)).expect("JSON result")
}

/// This test binary again, running only the `#[ignore]`d test `name` in a new
/// process (a host to kill, a second process sharing a folder); the caller adds
/// its environment and stdio.
pub fn child_test(name: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command
}
