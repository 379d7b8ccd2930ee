//! The 1C samples' scenarios end to end: the built library in the simulator
//! against the sandbox. Each test makes the add-in calls that the BSL in
//! `1c-samples/` makes for the same updates, with the same arguments (the BSL
//! builds its JSON with `ЗаписатьJSON` from a `Структура`; here `json!` builds
//! the same objects), and asserts what the Telegram user sees. The 1C side's
//! registers and catalogs are plain Rust values. The module and procedure each
//! step mirrors is named in a comment.
//!
//! Left for after the merge of the binding and delivery members (their samples
//! exist, their tests need the members): binding by QR/link/digits, the outbox
//! notification delivered by `ОтправитьПакет`, and the mailing by `Рассылка`.

mod common;

use common::*;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A 1×1 PNG: the product photo.
const PNG: [u8; 70] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 100, 96, 248, 95, 15, 0, 2,
    135, 1, 128, 235, 71, 186, 146, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

fn num(n: i64) -> Value {
    Value::number(n as f64)
}

fn s(text: impl Into<String>) -> Value {
    Value::str(text)
}

/// `TelegramКлиентСервер.ВJSON(Структура)`.
fn js(v: Json) -> Value {
    Value::str(v.to_string())
}

/// `Бот.ЭкранироватьHTML(Текст)`.
fn esc(bot: &mut Component, text: &str) -> String {
    common::text(bot.call("ЭкранироватьHTML", &[s(text)]).unwrap())
}

/// `TelegramПолучение.ПолучениеTelegram`: `ПолучитьОбновления(25, 100)` for the one update the user made.
fn next_update(bot: &mut Component) -> Json {
    let batch = json(bot.call("ПолучитьОбновления", &[num(25), num(100)]).unwrap());
    let batch = batch.as_array().expect("an array of updates").clone();
    assert_eq!(batch.len(), 1, "one update expected: {batch:?}");
    batch[0].clone()
}

/// `Бот.ПодтвердитьОбновления(Обновление.update_id)` after handling.
fn confirm(bot: &mut Component, update: &Json) {
    bot.call("ПодтвердитьОбновления", &[num(update["update_id"].as_i64().unwrap())])
        .unwrap();
}

/// The bot's last message in a chat, once there are `n`.
fn nth(sandbox: &Sandbox, chat: i64, n: usize) -> tg_sandbox::ChatMessage {
    let all = sandbox.wait_bot_messages(chat, n, WAIT);
    assert!(all.len() >= n, "{} of {n} bot messages in {chat}", all.len());
    all[n - 1].clone()
}

/// Texts of a reply keyboard, row by row.
fn reply_buttons(message: &tg_sandbox::ChatMessage) -> Vec<Vec<String>> {
    message.reply_markup.as_ref().expect("a keyboard")["keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(|b| b["text"].as_str().unwrap().to_string()).collect())
        .collect()
}

/// A user group's rights (Справочник.ГруппыПользователейTelegram).
#[derive(Clone, Copy)]
struct Rights {
    news: bool,
    reports: bool,
    answers_questions: bool,
}

const EMPLOYEES: Rights = Rights { news: true, reports: true, answers_questions: false };
const DIRECTORS: Rights = Rights { news: true, reports: true, answers_questions: true };

/// `TelegramМеню.ПоказатьМеню`.
fn show_menu(bot: &mut Component, chat: i64, rights: Rights) {
    let mut row1 = vec![];
    if rights.news {
        row1.push(json!({"text": "📰 Новости"}));
    }
    if rights.reports {
        row1.push(json!({"text": "📊 Отчёты"}));
    }
    let mut row2 = vec![json!({"text": "✉️ Вопрос директору"}), json!({"text": "ℹ️ Инструкции"})];
    if rights.answers_questions {
        row2.push(json!({"text": "❓ Неотвеченные"}));
    }
    let mut rows = vec![];
    if !row1.is_empty() {
        rows.push(json!(row1));
    }
    rows.push(json!(row2));
    bot.call(
        "ОтправитьСообщение",
        &[
            num(chat),
            s("Главное меню.\nЧтобы найти товар, напишите часть названия."),
            js(json!({"reply_markup": {"keyboard": rows, "resize_keyboard": true}})),
        ],
    )
    .unwrap();
}

/// `TelegramКлиентСервер.ИнлайнКлавиатура`: one button per row.
fn inline(buttons: &[(&str, &str)]) -> Json {
    let rows: Vec<Json> = buttons.iter().map(|(t, d)| json!([{"text": t, "callback_data": d}])).collect();
    json!({"reply_markup": {"inline_keyboard": rows}})
}

fn bound_bot() -> (Sandbox, Component) {
    bot_on_sandbox()
}

#[test]
fn the_menu_serves_only_bound_users_and_checks_button_presses() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user("Иван");
    let stranger = sandbox.create_user("Пётр");
    // РегистрСведений.ПривязкиTelegram: user_id -> группа прав.
    let mut bindings: HashMap<i64, Rights> = HashMap::from([(ivan, EMPLOYEES)]);

    // TelegramМеню.УстановитьКоманды: setMyCommands через ВызватьМетод.
    let commands = json!({"commands": [
        {"command": "menu", "description": "Главное меню"},
        {"command": "news", "description": "Последние новости"},
        {"command": "reports", "description": "Отчёты"},
        {"command": "help", "description": "Инструкции"}]});
    bot.call("ВызватьМетод", &[s("setMyCommands"), js(commands)]).unwrap();
    assert_eq!(sandbox.bot_commands()[0]["command"], "menu");

    // A stranger writes: TelegramМеню.ОтправитьИнструкциюПоПривязке, nothing else.
    sandbox.user_sends_text(stranger, "привет").unwrap();
    let update = next_update(&mut bot);
    assert!(!bindings.contains_key(&update["message"]["from"]["id"].as_i64().unwrap()));
    bot.call(
        "ОтправитьСообщение",
        &[
            num(stranger),
            s("Бот работает только с сотрудниками и клиентами компании.\nПопросите менеджера открыть вашу карточку в 1С и нажать «Привязать Telegram»: отсканируйте QR-код камерой телефона или отправьте сюда цифры из окна привязки."),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let refusal = nth(&sandbox, stranger, 1);
    assert!(refusal.text.unwrap().contains("«Привязать Telegram»"));
    assert!(refusal.reply_markup.is_none(), "a stranger gets no menu");

    // A bound employee: /start -> the menu his group allows.
    sandbox.user_sends_text(ivan, "/start").unwrap();
    let update = next_update(&mut bot);
    let rights = bindings[&update["message"]["from"]["id"].as_i64().unwrap()];
    show_menu(&mut bot, ivan, rights);
    confirm(&mut bot, &update);
    let menu = nth(&sandbox, ivan, 1);
    assert_eq!(
        reply_buttons(&menu),
        [vec!["📰 Новости", "📊 Отчёты"], vec!["✉️ Вопрос директору", "ℹ️ Инструкции"]]
    );

    // Reports menu (TelegramОтчеты.ПоказатьГруппу), then Иван is unbound in 1C.
    sandbox.user_presses_reply_button(ivan, "📊 Отчёты").unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтправитьСообщение",
        &[num(ivan), s("📊 Отчёты: выберите отчёт."), js(inline(&[("📁 Продажи", "rg:000000001")]))],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let reports = nth(&sandbox, ivan, 2);
    bindings.remove(&ivan);

    // His press on the old button is checked too (TelegramМеню.ОбработатьНажатие).
    let (_, query) = sandbox.user_presses_button(ivan, reports.message_id, "rg:000000001").unwrap();
    let update = next_update(&mut bot);
    assert!(!bindings.contains_key(&update["callback_query"]["from"]["id"].as_i64().unwrap()));
    bot.call(
        "ОтветитьНаНажатие",
        &[s(update["callback_query"]["id"].as_str().unwrap()), s("Нет доступа: вы не привязаны к 1С."), Value::Bool(true)],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let answer = sandbox.callback_answer(&query).expect("the press is answered");
    assert_eq!(answer["text"], "Нет доступа: вы не привязаны к 1С.");
    assert_eq!(answer["show_alert"], true);
    let after = sandbox.bot_messages(ivan);
    assert_eq!(after.len(), 2, "no report, no menu");
    assert!(!after[1].edited, "the menu message is untouched");
    finish(bot);
}

/// Справочник.ОтчетыTelegram: (code, parent code, name, is group, allowed to the employees).
const REPORTS: [(&str, &str, &str, bool, bool); 4] = [
    ("000000001", "", "Продажи", true, true),
    ("000000002", "000000001", "Продажи за месяц", false, true),
    ("000000003", "", "Склад", true, true),
    ("000000004", "000000003", "Остатки по складам", false, false),
];

/// `TelegramОтчеты.ПоказатьГруппу`: the text and keyboard of a group's level.
fn report_level(group: &str) -> (String, Json) {
    let mut items: Vec<&(&str, &str, &str, bool, bool)> =
        REPORTS.iter().filter(|r| r.1 == group && (r.3 || r.4)).collect();
    items.sort_by_key(|r| (!r.3, r.2));
    let mut buttons: Vec<(String, String)> = items
        .iter()
        .map(|r| {
            if r.3 {
                (format!("📁 {}", r.2), format!("rg:{}", r.0))
            } else {
                (format!("📄 {}", r.2), format!("rp:{}", r.0))
            }
        })
        .collect();
    let title = match REPORTS.iter().find(|r| r.0 == group) {
        Some(parent) => {
            buttons.push(("⬅️ Назад".into(), format!("rg:{}", parent.1)));
            format!("📊 {}: выберите отчёт.", parent.2)
        }
        None => "📊 Отчёты: выберите отчёт.".to_string(),
    };
    let pairs: Vec<(&str, &str)> = buttons.iter().map(|(t, d)| (t.as_str(), d.as_str())).collect();
    (title, inline(&pairs))
}

#[test]
fn the_reports_menu_navigates_groups_and_sends_the_report_as_a_document() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user("Иван");
    sandbox.user_presses_reply_button(ivan, "📊 Отчёты").unwrap();
    let update = next_update(&mut bot);
    let (title, keyboard) = report_level("");
    bot.call("ОтправитьСообщение", &[num(ivan), s(title), js(keyboard)]).unwrap();
    confirm(&mut bot, &update);
    let menu = nth(&sandbox, ivan, 1);
    assert_eq!(menu.callback_data(), ["rg:000000001", "rg:000000003"]);

    // Presses: Продажи, Назад, Склад (its report is not allowed: only «Назад»), Назад, Продажи.
    let steps = [
        ("rg:000000001", vec!["rp:000000002", "rg:"]),
        ("rg:", vec!["rg:000000001", "rg:000000003"]),
        ("rg:000000003", vec!["rg:"]),
        ("rg:", vec!["rg:000000001", "rg:000000003"]),
        ("rg:000000001", vec!["rp:000000002", "rg:"]),
    ];
    for (data, expected) in steps {
        let (_, query) = sandbox.user_presses_button(ivan, menu.message_id, data).unwrap();
        let update = next_update(&mut bot);
        let press = &update["callback_query"];
        // TelegramОтчеты.ОбработатьНажатие, вид "rg".
        bot.call("ОтветитьНаНажатие", &[s(press["id"].as_str().unwrap())]).unwrap();
        let (title, keyboard) = report_level(&press["data"].as_str().unwrap()[3..]);
        bot.call(
            "ИзменитьСообщение",
            &[num(ivan), num(press["message"]["message_id"].as_i64().unwrap()), s(title), js(keyboard)],
        )
        .unwrap();
        confirm(&mut bot, &update);
        assert!(sandbox.wait_for(WAIT, |s| s.callback_answer(&query).is_some()));
        let edited = nth(&sandbox, ivan, 1);
        assert!(edited.edited);
        assert_eq!(edited.callback_data(), expected, "after {data}");
        assert!(edited.callback_data().iter().all(|d| d.len() <= 64));
    }
    assert_eq!(nth(&sandbox, ivan, 1).text.unwrap(), "📊 Продажи: выберите отчёт.");

    // The report: answer, chat action, the PDF as a document (TelegramОтчеты.ОтправитьОтчет).
    let (_, query) = sandbox.user_presses_button(ivan, menu.message_id, "rp:000000002").unwrap();
    let update = next_update(&mut bot);
    let id = update["callback_query"]["id"].as_str().unwrap().to_string();
    bot.call("ОтветитьНаНажатие", &[s(&id), s("Формирую «Продажи за месяц»…")]).unwrap();
    bot.call(
        "ВызватьМетод",
        &[s("sendChatAction"), s(format!("{{\"chat_id\": {ivan}, \"action\": \"upload_document\"}}"))],
    )
    .unwrap();
    let dir = tempfile_dir();
    let pdf = dir.join("tmp1c.pdf"); // ПолучитьИмяВременногоФайла("pdf"), ТабличныйДокумент.Записать
    let bytes = b"%PDF-1.4\n% report\n%%EOF\n".to_vec();
    std::fs::write(&pdf, &bytes).unwrap();
    bot.call(
        "ОтправитьФайл",
        &[
            num(ivan),
            s(pdf.to_string_lossy()),
            s("Продажи за месяц.pdf"),
            js(json!({"caption": "Продажи за месяц на 01.12.2026"})),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    assert_eq!(sandbox.callback_answer(&query).unwrap()["text"], "Формирую «Продажи за месяц»…");
    assert!(sandbox.chat_actions().contains(&(ivan, "upload_document".to_string())));
    let doc = nth(&sandbox, ivan, 2);
    assert_eq!(doc.method, "sendDocument");
    assert_eq!(doc.json["document"]["file_name"], "Продажи за месяц.pdf");
    assert_eq!(doc.caption.as_deref(), Some("Продажи за месяц на 01.12.2026"));
    assert_eq!(sandbox.file_bytes(doc.file_id.as_ref().unwrap()).unwrap(), bytes);
    let _ = std::fs::remove_dir_all(dir);
    finish(bot);
}

/// A fresh folder for temporary files of one test.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "samples-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
