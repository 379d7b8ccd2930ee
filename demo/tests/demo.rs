//! The demo bot end to end: the add-in loaded through the simulator, a sandbox
//! on a free port, and a user playing the whole menu.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use telegram_demo::addin::{self, Source};
use telegram_demo::bot::{self, NEWS, RATE, THANKS};
use tg_sandbox::{ChatMessage, Sandbox, SandboxConfig};

const WAIT: Duration = Duration::from_secs(10);

/// The add-in cargo built, found as `tests/common/mod.rs` finds it. `cargo test
/// -p telegram-demo` alone does not build it: then the test is skipped, except
/// in CI (`CI` set), where `cargo build --workspace --all-targets` runs first.
fn library() -> Option<PathBuf> {
    let found = addin::built_library();
    if found.is_none() {
        let hint = "the add-in is not built; run `cargo build -p telegram-addin --lib` first";
        assert!(std::env::var_os("CI").is_none(), "{hint}");
        eprintln!("SKIPPED: {hint}");
    }
    found
}

/// Lets the bot handle `n` updates (the user's actions so far), within WAIT.
fn handle(bot: &mut onec_simulator::Component, n: usize) {
    let deadline = Instant::now() + WAIT;
    let handled = bot::serve(bot, |done| done >= n || Instant::now() > deadline);
    assert_eq!(handled, n, "updates handled before the deadline");
}

/// The bot's messages in the chat once there are at least `n`.
fn bot_messages(sandbox: &Sandbox, user: i64, n: usize) -> Vec<ChatMessage> {
    let messages = sandbox.wait_bot_messages(user, n, WAIT);
    assert!(messages.len() >= n, "{} of {n} messages", messages.len());
    messages
}

#[test]
fn a_user_plays_the_whole_menu() {
    let Some(path) = library() else { return };
    let library = Source::Lib(path).load().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut bot = addin::start_bot(&library, &sandbox, state.path()).unwrap();
    let user = sandbox.create_user("Иван");

    // /start: a greeting with the menu keyboard.
    sandbox.user_starts(user, None).unwrap();
    handle(&mut bot, 1);
    let greeting = bot_messages(&sandbox, user, 1).remove(0);
    assert!(greeting.text.as_deref().unwrap().contains("Иван"));
    let keyboard = greeting.reply_markup.expect("a reply keyboard");
    let buttons: Vec<&str> = keyboard["keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(buttons, ["📰 Новости", "🔎 Поиск товара", "⭐ Оценить"]);

    // News: HTML became entities.
    sandbox.user_presses_reply_button(user, NEWS).unwrap();
    handle(&mut bot, 1);
    let news = bot_messages(&sandbox, user, 2).remove(1);
    assert!(news.text.unwrap().contains("Новости компании"));
    assert!(news.json["entities"].as_array().unwrap().len() >= 3);

    // A search: two drills, each with «Подробнее».
    sandbox.user_sends_text(user, "дрель").unwrap();
    handle(&mut bot, 1);
    let cards = bot_messages(&sandbox, user, 4).split_off(2);
    assert_eq!(cards.len(), 2);
    for card in &cards {
        assert!(card.text.as_deref().unwrap().contains("Дрель"));
        let button = &card.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0];
        assert_eq!(button["text"], "Подробнее");
    }

    // «Подробнее»: the press is answered and a photo with price and stock arrives.
    let card = &cards[0];
    let data = &card.callback_data()[0];
    let (_, query) = sandbox
        .user_presses_button(user, card.message_id, data)
        .unwrap();
    handle(&mut bot, 1);
    assert!(sandbox.wait_for(WAIT, |s| s.callback_answer(&query).is_some()));
    let photo = bot_messages(&sandbox, user, 5).remove(4);
    assert_eq!(photo.method, "sendPhoto");
    let caption = photo.caption.unwrap();
    assert!(caption.contains("8 990 ₽") && caption.contains("Склад Москва: 12 шт."));
    let png = sandbox.file_bytes(&photo.file_id.unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG"));

    // A rating: «Спасибо!», and the buttons are gone.
    sandbox.user_presses_reply_button(user, RATE).unwrap();
    handle(&mut bot, 1);
    let rating = bot_messages(&sandbox, user, 6).remove(5);
    assert_eq!(rating.callback_data(), ["rate:5", "rate:3", "rate:1"]);
    let (_, query) = sandbox
        .user_presses_button(user, rating.message_id, "rate:5")
        .unwrap();
    handle(&mut bot, 1);
    assert!(sandbox.wait_for(WAIT, |s| s.bot_messages(user)[5].edited));
    let edited = &sandbox.bot_messages(user)[5];
    assert!(edited.json.get("reply_markup").is_none(), "{}", edited.json);
    assert!(
        edited.callback_data().is_empty(),
        "the web chat still shows buttons"
    );
    assert!(edited
        .text
        .as_deref()
        .unwrap()
        .contains("Ваша оценка: 👍 Отлично"));
    let answer = sandbox.callback_answer(&query).unwrap();
    assert_eq!(answer["text"], THANKS);

    let report = addin::stop_bot(bot);
    assert!(
        report.is_clean(),
        "memory accounting after teardown: {report}"
    );
}
