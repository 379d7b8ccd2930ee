//! The release ZIP loaded by the simulator as 1C loads it: MANIFEST.XML is
//! read, the entry for this OS and architecture is picked, and a smoke test
//! runs against the sandbox.
//!
//! The ZIP test is ignored in a plain `cargo test` (the ZIP is built later, by
//! `package/build.sh`); `package/ci-package.sh` runs it with `--ignored` and
//! `TELEGRAM_ADDIN_ZIP` naming the package. Without that variable the test
//! fails under `CI=true` and says "skipped" elsewhere.

mod common;

use common::*;

/// The debug hooks, under both name sets: none of them may exist in release.
const DEBUG_MEMBERS: [&str; 6] = [
    "DebugPanic",
    "ОтладкаПаника",
    "DebugEvent",
    "ОтладкаСобытие",
    "DebugReceiving",
    "ОтладкаПолучения",
];

/// The debug members `FindMethod` finds on this object, plus any method whose
/// English or Russian name says it is one (a hook added later).
fn debug_members(bot: &mut Component) -> Vec<String> {
    let mut found: Vec<String> = DEBUG_MEMBERS
        .iter()
        .filter(|name| bot.raw().find_method(Some(name)) >= 0)
        .map(|name| name.to_string())
        .collect();
    for alias in [0, 1] {
        for name in bot.method_names(alias) {
            let lower = name.to_lowercase();
            if (lower.starts_with("debug") || lower.starts_with("отладка"))
                && !found.contains(&name)
            {
                found.push(name);
            }
        }
    }
    // The lookup itself works: a real method is found by both names.
    for name in ["SendMessage", "ОтправитьСообщение"] {
        assert!(bot.raw().find_method(Some(name)) >= 0, "FindMethod({name})");
    }
    found
}

#[test]
#[ignore = "needs the release ZIP: package/ci-package.sh runs it with --ignored"]
fn the_release_zip_loads_and_talks_to_telegram() {
    let Ok(zip) = std::env::var("TELEGRAM_ADDIN_ZIP") else {
        let why =
            "TELEGRAM_ADDIN_ZIP is not set: no package to test (package/ci-package.sh sets it)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    };
    let library = Library::load_zip(&zip).unwrap_or_else(|e| panic!("load {zip}: {e}"));
    assert_eq!(library.class_names(), ["Bot"]);
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let user = sandbox.create_user("Ольга");
    for style in [Teardown::OneC, Teardown::OneScript] {
        let mut bot = library.create("Bot", HostOptions::default()).unwrap();
        bot.set("Токен", Value::str(sandbox.token())).unwrap();
        bot.set("АдресAPI", Value::str(sandbox.api_url())).unwrap();
        let me = json(bot.call("ПолучитьИнформациюБота", &[]).unwrap());
        assert_eq!(me["id"].as_i64(), Some(sandbox.bot_id()));
        let sent = json(
            bot.call(
                "ОтправитьСообщение",
                &[Value::number(user as f64), Value::str("Из ZIP 📦")],
            )
            .unwrap(),
        );
        assert_eq!(sent["text"], "Из ZIP 📦");
        assert_eq!(
            debug_members(&mut bot),
            Vec::<String>::new(),
            "no debug hooks in the release library"
        );
        finish_with(bot, style);
    }
    library.close().expect("unload after every object is gone");
}

/// The check above can fail: on the library this test run built, the hooks are
/// found exactly when it is a debug build.
#[test]
fn the_debug_member_check_sees_the_hooks_of_a_debug_build() {
    let mut bot = bot();
    let found = debug_members(&mut bot);
    if cfg!(debug_assertions) {
        assert_eq!(found, DEBUG_MEMBERS, "every hook, by both names");
    } else {
        assert_eq!(found, Vec::<String>::new());
    }
    finish(bot);
}
