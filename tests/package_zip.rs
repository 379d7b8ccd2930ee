//! The release ZIP loaded by the simulator as 1C loads it: MANIFEST.XML is
//! read, the entry for this OS and architecture is picked, and a smoke test
//! runs against the sandbox.
//!
//! Runs when `TELEGRAM_ADDIN_ZIP` names the package (as `package/ci-package.sh`
//! does); without it there is no package to test and the test says so.

mod common;

use common::*;

#[test]
fn the_release_zip_loads_and_talks_to_telegram() {
    let Ok(zip) = std::env::var("TELEGRAM_ADDIN_ZIP") else {
        eprintln!(
            "TELEGRAM_ADDIN_ZIP is not set: no package to test (package/ci-package.sh sets it)"
        );
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
        assert!(
            bot.call("DebugPanic", &[Value::str("now")]).is_err(),
            "no debug hooks in release"
        );
        finish_with(bot, style);
    }
    library.close().expect("unload after every object is gone");
}
