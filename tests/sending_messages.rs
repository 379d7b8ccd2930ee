//! Sending, editing and deleting messages through the simulator against the
//! sandbox: options, keyboards, long texts, Unicode, escaping, keep-alive.

mod common;
mod support;

use std::time::Duration;

use common::*;
use support::*;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn many_calls_share_one_keep_alive_connection() {
    let (sandbox, mut bot, user) = setup(false);
    for i in 0..20 {
        bot.call(
            "SendMessage",
            &[Value::number(user as f64), Value::str(format!("№{i}"))],
        )
        .unwrap();
    }
    bot.call("GetMe", &[]).unwrap();
    assert_eq!(sandbox.stats().connections_accepted, 1);
    assert_eq!(sandbox.wait_bot_messages(user, 20, WAIT).len(), 20);
    finish(bot);
}

#[test]
fn unicode_round_trips_and_broken_text_is_refused() {
    let (sandbox, mut bot, user) = setup(false);
    let samples = [
        "Съешь же ещё этих мягких французских булок",
        "emoji 😀 with a surrogate pair",
        "семья 👨‍👩‍👧‍👦 (ZWJ) и 👍🏽",
        "флаги 🇷🇺🇰🇿🇺🇦",
        "עברית RTL שלום ו-العربية مرحبا",
    ];
    for s in samples {
        let sent = json(
            bot.call(
                "ОтправитьСообщение",
                &[Value::number(user as f64), Value::str(s)],
            )
            .unwrap(),
        );
        assert_eq!(sent["text"], s);
    }
    let stored: Vec<String> = sandbox
        .wait_bot_messages(user, samples.len(), WAIT)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(stored, samples);
    let err = error_of(
        &mut bot,
        "SendMessage",
        &[Value::number(user as f64), Value::str("a\0b")],
    );
    assert!(err.contains("NUL"), "{err}");
    // A lone high surrogate, as a broken 1C string can hold: refused, not mangled.
    let mut broken: Vec<u16> = "ab".encode_utf16().collect();
    broken.insert(1, 0xD83D);
    let err = error_of(
        &mut bot,
        "SendMessage",
        &[Value::number(user as f64), Value::Utf16(broken)],
    );
    assert!(err.contains("суррогат"), "{err}");
    assert_eq!(
        sandbox.bot_messages(user).len(),
        samples.len(),
        "nothing more was sent"
    );
    finish(bot);
}

#[test]
fn inline_and_reply_keyboards_and_removing_buttons_after_a_press() {
    let (sandbox, mut bot, user) = setup(false);
    let inline = r#"{"reply_markup":{"inline_keyboard":[[{"text":"Да ✅","callback_data":"yes"},{"text":"Нет","callback_data":"no"}]]}}"#;
    let sent = json(
        bot.call(
            "SendMessage",
            &[
                Value::number(user as f64),
                Value::str("Подтвердите"),
                Value::str(inline),
            ],
        )
        .unwrap(),
    );
    let message_id = sent["message_id"].as_i64().unwrap();
    assert_eq!(
        sent["reply_markup"]["inline_keyboard"][0][0]["text"],
        "Да ✅"
    );
    let (_, query) = sandbox
        .user_presses_button(user, message_id, "yes")
        .unwrap();
    assert_eq!(
        bot.call(
            "ОтветитьНаНажатие",
            &[Value::str(&query), Value::str("Принято"), Value::Bool(true)]
        )
        .unwrap(),
        Value::Bool(true)
    );
    let answer = sandbox.callback_answer(&query).unwrap();
    assert_eq!(answer["text"], "Принято");
    assert_eq!(answer["show_alert"], true);

    // Buttons go after the press: keyboard only, then text and keyboard.
    let edited = json(
        bot.call(
            "EditMessage",
            &[
                Value::number(user as f64),
                Value::number(message_id as f64),
                Value::Empty,
                Value::str(r#"{"reply_markup": null}"#),
            ],
        )
        .unwrap(),
    );
    assert!(edited.get("reply_markup").is_none(), "{edited}");
    let history = sandbox.bot_messages(user);
    assert!(
        history[0].json.get("reply_markup").is_none(),
        "{}",
        history[0].json
    );
    assert!(
        history[0].callback_data().is_empty(),
        "the chat no longer shows the buttons"
    );
    let edited = json(
        bot.call(
            "ИзменитьСообщение",
            &[
                Value::number(user as f64),
                Value::number(message_id as f64),
                Value::str("Подтверждено ✅"),
            ],
        )
        .unwrap(),
    );
    assert_eq!(edited["text"], "Подтверждено ✅");

    let reply = r#"{"reply_markup":{"keyboard":[[{"text":"Меню"}],[{"text":"Помощь"}]],"resize_keyboard":true}}"#;
    let sent = json(
        bot.call(
            "SendMessage",
            &[
                Value::number(user as f64),
                Value::str("Выберите"),
                Value::str(reply),
            ],
        )
        .unwrap(),
    );
    assert_eq!(sent["text"], "Выберите");
    let messages = sandbox.wait_bot_messages(user, 2, WAIT);
    assert_eq!(
        messages[1].reply_markup.as_ref().unwrap()["keyboard"][1][0]["text"],
        "Помощь"
    );
    let remove = r#"{"reply_markup":{"remove_keyboard":true}}"#;
    bot.call(
        "SendMessage",
        &[
            Value::number(user as f64),
            Value::str("Убрал"),
            Value::str(remove),
        ],
    )
    .unwrap();
    assert_eq!(
        sandbox.wait_bot_messages(user, 3, WAIT)[2]
            .reply_markup
            .as_ref()
            .unwrap()["remove_keyboard"],
        true
    );
    finish(bot);
}

#[test]
fn delete_message_returns_true_and_removes_it() {
    let (sandbox, mut bot, user) = setup(false);
    let sent = json(
        bot.call(
            "SendMessage",
            &[Value::number(user as f64), Value::str("временно")],
        )
        .unwrap(),
    );
    let id = sent["message_id"].as_i64().unwrap();
    assert_eq!(
        bot.call(
            "УдалитьСообщение",
            &[Value::number(user as f64), Value::number(id as f64)]
        )
        .unwrap(),
        Value::Bool(true)
    );
    assert!(sandbox.bot_messages(user).is_empty());
    let err = error_of(
        &mut bot,
        "DeleteMessage",
        &[Value::number(user as f64), Value::number(id as f64)],
    );
    assert!(err.contains("не найдено"), "{err}");
    finish(bot);
}

#[test]
fn a_ten_thousand_character_text_is_split_with_the_keyboard_on_the_last_part() {
    let (sandbox, mut bot, user) = setup(false);
    let paragraph = "Абзац с эмодзи 👨‍👩‍👧 и флагом 🇷🇺. "
        .repeat(8)
        .trim_end()
        .to_owned();
    let mut text = String::new();
    while text.chars().count() < 10_000 {
        text.push_str(&paragraph);
        text.push_str("\n\n");
    }
    let text: String = text.trim_end().to_owned();
    let keyboard = r#"{"reply_markup":{"inline_keyboard":[[{"text":"OK","callback_data":"ok"}]]}}"#;
    let last = json(
        bot.call(
            "SendMessage",
            &[
                Value::number(user as f64),
                Value::str(&text),
                Value::str(keyboard),
            ],
        )
        .unwrap(),
    );
    let messages = sandbox.bot_messages(user);
    assert!(messages.len() >= 3, "{} parts", messages.len());
    assert_eq!(
        last["message_id"].as_i64(),
        Some(messages.last().unwrap().message_id)
    );
    for (i, m) in messages.iter().enumerate() {
        let t = m.text.as_deref().unwrap();
        assert!(t.encode_utf16().count() <= 4096);
        assert!(
            t.ends_with('.'),
            "cut at a paragraph: …{}",
            &t[t.len() - 20..]
        );
        assert_eq!(m.reply_markup.is_some(), i + 1 == messages.len());
    }
    let joined: Vec<String> = messages.iter().map(|m| m.text.clone().unwrap()).collect();
    assert!(joined.join("\n\n") == text, "nothing lost, nothing broken");
    finish(bot);
}

#[test]
fn long_html_keeps_tags_balanced_and_unsplittable_markdown_is_refused() {
    let (sandbox, mut bot, user) = setup(true);
    let text = format!("<b>{}</b>", "жирный текст ".repeat(500));
    bot.call(
        "SendMessage",
        &[
            Value::number(user as f64),
            Value::str(&text),
            Value::str(r#"{"parse_mode":"HTML"}"#),
        ],
    )
    .unwrap();
    let messages = sandbox.bot_messages(user);
    assert_eq!(messages.len(), 2);
    for m in &messages {
        let bold = &m.json["entities"][0];
        assert_eq!(bold["type"], "bold", "each part is bold: {}", m.json);
    }
    let open = format!("*{}*", "жирный ".repeat(800));
    let err = error_of(
        &mut bot,
        "SendMessage",
        &[
            Value::number(user as f64),
            Value::str(&open),
            Value::str(r#"{"parse_mode":"MarkdownV2"}"#),
        ],
    );
    assert!(
        err.contains("cannot be split") && err.contains("MarkdownV2"),
        "{err}"
    );
    assert_eq!(sandbox.bot_messages(user).len(), 2, "nothing was sent");
    finish(bot);
}

#[test]
fn escaping_makes_text_show_as_is() {
    let (sandbox, mut bot, user) = setup(false);
    let raw = "Цена: 1.5 (скидка_10%)! *не жирный* <b>&</b>";
    let md = text(
        bot.call("ЭкранироватьMarkdown", &[Value::str(raw)])
            .unwrap(),
    );
    let html = text(bot.call("EscapeHtml", &[Value::str(raw)]).unwrap());
    assert_eq!(
        html,
        "Цена: 1.5 (скидка_10%)! *не жирный* &lt;b&gt;&amp;&lt;/b&gt;"
    );
    for (escaped, mode) in [(md, "MarkdownV2"), (html, "HTML")] {
        let sent = json(
            bot.call(
                "SendMessage",
                &[
                    Value::number(user as f64),
                    Value::str(escaped),
                    Value::str(format!(r#"{{"parse_mode":"{mode}"}}"#)),
                ],
            )
            .unwrap(),
        );
        assert_eq!(sent["text"], raw, "{mode}");
        assert!(sent.get("entities").is_none(), "{mode}: {sent}");
    }
    drop(sandbox);
    finish(bot);
}
