//! The 1C samples' scenarios end to end: the built library in the simulator
//! against the sandbox. Each test makes the add-in calls that the BSL in
//! `1c-samples/` makes for the same updates, with the same arguments (the BSL
//! builds its JSON with `ЗаписатьJSON` from a `Структура`; here `json!` builds
//! the same objects), and asserts what the Telegram user sees. The 1C side's
//! registers and catalogs are plain Rust values. The module and procedure each
//! step mirrors is named in a comment.
//!
//! Binding, the outbox notification delivered by `ОтправитьПакет` and the
//! mailing by `Рассылка` need the binding and delivery members: they are in
//! `tests/samples_after_merge.rs`.

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
    let batch = json(
        bot.call("ПолучитьОбновления", &[num(25), num(100)])
            .unwrap(),
    );
    let batch = batch.as_array().expect("an array of updates").clone();
    assert_eq!(batch.len(), 1, "one update expected: {batch:?}");
    batch[0].clone()
}

/// `Бот.ПодтвердитьОбновления(Обновление.update_id)` after handling.
fn confirm(bot: &mut Component, update: &Json) {
    bot.call(
        "ПодтвердитьОбновления",
        &[num(update["update_id"].as_i64().unwrap())],
    )
    .unwrap();
}

/// The bot's last message in a chat, once there are `n`.
fn nth(sandbox: &Sandbox, chat: i64, n: usize) -> tg_sandbox::ChatMessage {
    let all = sandbox.wait_bot_messages(chat, n, WAIT);
    assert!(
        all.len() >= n,
        "{} of {n} bot messages in {chat}",
        all.len()
    );
    all[n - 1].clone()
}

/// Texts of a reply keyboard, row by row.
fn reply_buttons(message: &tg_sandbox::ChatMessage) -> Vec<Vec<String>> {
    message.reply_markup.as_ref().expect("a keyboard")["keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|b| b["text"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// A user group's rights (Справочник.ГруппыПользователейTelegram).
#[derive(Clone, Copy)]
struct Rights {
    news: bool,
    reports: bool,
    answers_questions: bool,
}

const EMPLOYEES: Rights = Rights {
    news: true,
    reports: true,
    answers_questions: false,
};
const DIRECTORS: Rights = Rights {
    news: true,
    reports: true,
    answers_questions: true,
};

/// `TelegramМеню.ПоказатьМеню`.
fn show_menu(bot: &mut Component, chat: i64, rights: Rights) {
    let mut row1 = vec![];
    if rights.news {
        row1.push(json!({"text": "📰 Новости"}));
    }
    if rights.reports {
        row1.push(json!({"text": "📊 Отчёты"}));
    }
    let mut row2 = vec![
        json!({"text": "✉️ Вопрос директору"}),
        json!({"text": "ℹ️ Инструкции"}),
    ];
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
    let rows: Vec<Json> = buttons
        .iter()
        .map(|(t, d)| json!([{"text": t, "callback_data": d}]))
        .collect();
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
    bot.call("ВызватьМетод", &[s("setMyCommands"), js(commands)])
        .unwrap();
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
        [
            vec!["📰 Новости", "📊 Отчёты"],
            vec!["✉️ Вопрос директору", "ℹ️ Инструкции"]
        ]
    );

    // Reports menu (TelegramОтчеты.ПоказатьГруппу), then Иван is unbound in 1C.
    sandbox
        .user_presses_reply_button(ivan, "📊 Отчёты")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтправитьСообщение",
        &[
            num(ivan),
            s("📊 Отчёты: выберите отчёт."),
            js(inline(&[("📁 Продажи", "rg:000000001")])),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let reports = nth(&sandbox, ivan, 2);
    bindings.remove(&ivan);

    // His press on the old button is checked too (TelegramМеню.ОбработатьНажатие).
    let (_, query) = sandbox
        .user_presses_button(ivan, reports.message_id, "rg:000000001")
        .unwrap();
    let update = next_update(&mut bot);
    assert!(!bindings.contains_key(&update["callback_query"]["from"]["id"].as_i64().unwrap()));
    bot.call(
        "ОтветитьНаНажатие",
        &[
            s(update["callback_query"]["id"].as_str().unwrap()),
            s("Нет доступа: вы не привязаны к 1С."),
            Value::Bool(true),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let answer = sandbox
        .callback_answer(&query)
        .expect("the press is answered");
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
    let mut items: Vec<&(&str, &str, &str, bool, bool)> = REPORTS
        .iter()
        .filter(|r| r.1 == group && (r.3 || r.4))
        .collect();
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
    let pairs: Vec<(&str, &str)> = buttons
        .iter()
        .map(|(t, d)| (t.as_str(), d.as_str()))
        .collect();
    (title, inline(&pairs))
}

#[test]
fn the_reports_menu_navigates_groups_and_sends_the_report_as_a_document() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user("Иван");
    sandbox
        .user_presses_reply_button(ivan, "📊 Отчёты")
        .unwrap();
    let update = next_update(&mut bot);
    let (title, keyboard) = report_level("");
    bot.call("ОтправитьСообщение", &[num(ivan), s(title), js(keyboard)])
        .unwrap();
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
        let (_, query) = sandbox
            .user_presses_button(ivan, menu.message_id, data)
            .unwrap();
        let update = next_update(&mut bot);
        let press = &update["callback_query"];
        // TelegramОтчеты.ОбработатьНажатие, вид "rg".
        bot.call("ОтветитьНаНажатие", &[s(press["id"].as_str().unwrap())])
            .unwrap();
        let (title, keyboard) = report_level(&press["data"].as_str().unwrap()[3..]);
        bot.call(
            "ИзменитьСообщение",
            &[
                num(ivan),
                num(press["message"]["message_id"].as_i64().unwrap()),
                s(title),
                js(keyboard),
            ],
        )
        .unwrap();
        confirm(&mut bot, &update);
        assert!(sandbox.wait_for(WAIT, |s| s.callback_answer(&query).is_some()));
        let edited = nth(&sandbox, ivan, 1);
        assert!(edited.edited);
        assert_eq!(edited.callback_data(), expected, "after {data}");
        assert!(edited.callback_data().iter().all(|d| d.len() <= 64));
    }
    assert_eq!(
        nth(&sandbox, ivan, 1).text.unwrap(),
        "📊 Продажи: выберите отчёт."
    );

    // The report: answer, chat action, the PDF as a document (TelegramОтчеты.ОтправитьОтчет).
    let (_, query) = sandbox
        .user_presses_button(ivan, menu.message_id, "rp:000000002")
        .unwrap();
    let update = next_update(&mut bot);
    let id = update["callback_query"]["id"].as_str().unwrap().to_string();
    bot.call(
        "ОтветитьНаНажатие",
        &[s(&id), s("Формирую «Продажи за месяц»…")],
    )
    .unwrap();
    bot.call(
        "ВызватьМетод",
        &[
            s("sendChatAction"),
            s(format!(
                "{{\"chat_id\": {ivan}, \"action\": \"upload_document\"}}"
            )),
        ],
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
    assert_eq!(
        sandbox.callback_answer(&query).unwrap()["text"],
        "Формирую «Продажи за месяц»…"
    );
    assert!(sandbox
        .chat_actions()
        .contains(&(ivan, "upload_document".to_string())));
    let doc = nth(&sandbox, ivan, 2);
    assert_eq!(doc.method, "sendDocument");
    assert_eq!(doc.json["document"]["file_name"], "Продажи за месяц.pdf");
    assert_eq!(
        doc.caption.as_deref(),
        Some("Продажи за месяц на 01.12.2026")
    );
    assert_eq!(
        sandbox.file_bytes(doc.file_id.as_ref().unwrap()).unwrap(),
        bytes
    );
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

/// Справочник.Номенклатура with stock (РегистрНакопления.ТоварыНаСкладах) and
/// prices (РегистрСведений.ЦеныНоменклатуры).
struct Product {
    code: &'static str,
    name: &'static str,
    article: &'static str,
    description: String,
    stock: Vec<(&'static str, i64)>,
    prices: Vec<(&'static str, &'static str)>,
}

fn products() -> Vec<Product> {
    vec![
        Product {
            code: "00-001",
            name: "Дрель <Bosch> & Co",
            article: "B&D<1>",
            description: "Мощность 750 Вт".into(),
            stock: vec![("Склад Москва", 12)],
            // Формат(Цена, "ЧДЦ=2") in a Russian session: a no-break space between groups.
            prices: vec![("Розничная", "8\u{a0}990,00"), ("Оптовая", "7\u{a0}990,00")],
        },
        Product {
            code: "00-002",
            name: "Дрель-шуруповёрт Makita",
            article: "DF333",
            description: format!(
                "{} КОНЕЦ",
                "Двухскоростной редуктор, два аккумулятора. ".repeat(25)
            ),
            stock: vec![("Склад Москва", 3)],
            prices: vec![("Розничная", "5\u{a0}490,00")],
        },
    ]
}

/// `TelegramТовары.ОтправитьПодробнуюКарточку`.
fn send_detailed_card(bot: &mut Component, chat: i64, p: &Product) {
    let title = format!("<b>{}</b>", esc(bot, p.name));
    let mut lines = vec![title.clone(), format!("Артикул: {}", esc(bot, p.article))];
    if !p.description.is_empty() {
        lines.push(esc(bot, &p.description));
    }
    lines.push(String::new());
    lines.push("<b>Остатки:</b>".into());
    for (store, qty) in &p.stock {
        lines.push(format!("{}: {qty} шт.", esc(bot, store)));
    }
    lines.push(String::new());
    lines.push("<b>Цены:</b>".into());
    for (kind, price) in &p.prices {
        lines.push(format!("{}: {price} руб.", esc(bot, kind)));
    }
    let text = lines.join("\n");
    let photo = Value::Blob(PNG.to_vec()); // РаботаСФайлами.ДвоичныеДанныеФайла(Товар.ФайлКартинки)
    if text.encode_utf16().count() <= 1024 {
        let options = json!({"type": "photo", "caption": text, "parse_mode": "HTML"});
        bot.call(
            "ОтправитьФайл",
            &[num(chat), photo, s("photo.jpg"), js(options)],
        )
        .unwrap();
    } else {
        let options = json!({"type": "photo", "caption": title, "parse_mode": "HTML"});
        bot.call(
            "ОтправитьФайл",
            &[num(chat), photo, s("photo.jpg"), js(options)],
        )
        .unwrap();
        bot.call(
            "ОтправитьСообщение",
            &[num(chat), s(text), s("{\"parse_mode\": \"HTML\"}")],
        )
        .unwrap();
    }
}

/// `TelegramТовары.ОтправитьКраткуюКарточку`.
fn send_short_card(bot: &mut Component, chat: i64, p: &Product) {
    let text = format!(
        "<b>{}</b>\nАртикул: {}\nЦена: {} руб.",
        esc(bot, p.name),
        esc(bot, p.article),
        p.prices[0].1
    );
    let mut options = inline(&[("Подробнее", &format!("pd:{}", p.code))]);
    options["parse_mode"] = json!("HTML");
    bot.call("ОтправитьСообщение", &[num(chat), s(text), js(options)])
        .unwrap();
}

#[test]
fn product_cards_escape_html_and_split_a_long_caption() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user("Иван");
    let catalog = products();

    // TelegramТовары.НайтиТовары: the found products as buttons.
    sandbox.user_sends_text(ivan, "дрель").unwrap();
    let update = next_update(&mut bot);
    let query = update["message"]["text"].as_str().unwrap().to_lowercase();
    let found: Vec<&Product> = catalog
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&query))
        .collect();
    let buttons: Vec<(String, String)> = found
        .iter()
        .map(|p| (p.name.to_string(), format!("pc:{}", p.code)))
        .collect();
    let pairs: Vec<(&str, &str)> = buttons
        .iter()
        .map(|(t, d)| (t.as_str(), d.as_str()))
        .collect();
    bot.call(
        "ОтправитьСообщение",
        &[
            num(ivan),
            s(format!("Найдено: {}. Выберите товар:", found.len())),
            js(inline(&pairs)),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let list = nth(&sandbox, ivan, 1);
    assert_eq!(list.callback_data(), ["pc:00-001", "pc:00-002"]);

    // The short card (TelegramТовары.ОтправитьКраткуюКарточку) with «Подробнее».
    sandbox
        .user_presses_button(ivan, list.message_id, "pc:00-001")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтветитьНаНажатие",
        &[s(update["callback_query"]["id"].as_str().unwrap())],
    )
    .unwrap();
    let p = &catalog[0];
    send_short_card(&mut bot, ivan, p);
    confirm(&mut bot, &update);
    let card = nth(&sandbox, ivan, 2);
    assert_eq!(
        card.text.as_deref(),
        Some("Дрель <Bosch> & Co\nАртикул: B&D<1>\nЦена: 8\u{a0}990,00 руб.")
    );
    assert_eq!(card.json["entities"][0]["type"], "bold");
    assert_eq!(card.callback_data(), ["pd:00-001"]);

    // The detailed card: a photo whose caption has the properties, stock and prices.
    sandbox
        .user_presses_button(ivan, card.message_id, "pd:00-001")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтветитьНаНажатие",
        &[s(update["callback_query"]["id"].as_str().unwrap())],
    )
    .unwrap();
    send_detailed_card(&mut bot, ivan, p);
    confirm(&mut bot, &update);
    let photo = nth(&sandbox, ivan, 3);
    assert_eq!(photo.method, "sendPhoto");
    let caption = photo.caption.clone().unwrap();
    assert!(
        caption.starts_with("Дрель <Bosch> & Co\nАртикул: B&D<1>\nМощность 750 Вт"),
        "{caption}"
    );
    assert!(
        caption.contains("Склад Москва: 12 шт.") && caption.contains("Оптовая: 7\u{a0}990,00 руб.")
    );
    assert!(photo.json["caption_entities"].as_array().unwrap().len() >= 3);
    assert_eq!(
        sandbox.file_bytes(photo.file_id.as_ref().unwrap()).unwrap(),
        PNG
    );

    // A card over 1024 characters: the photo with the name, then the whole card as text.
    sandbox
        .user_presses_button(ivan, list.message_id, "pc:00-002")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтветитьНаНажатие",
        &[s(update["callback_query"]["id"].as_str().unwrap())],
    )
    .unwrap();
    send_short_card(&mut bot, ivan, &catalog[1]);
    confirm(&mut bot, &update);
    let card = nth(&sandbox, ivan, 4);
    sandbox
        .user_presses_button(ivan, card.message_id, "pd:00-002")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтветитьНаНажатие",
        &[s(update["callback_query"]["id"].as_str().unwrap())],
    )
    .unwrap();
    send_detailed_card(&mut bot, ivan, &catalog[1]);
    confirm(&mut bot, &update);
    let photo = nth(&sandbox, ivan, 5);
    let text = nth(&sandbox, ivan, 6);
    assert_eq!(photo.method, "sendPhoto");
    assert_eq!(photo.caption.as_deref(), Some("Дрель-шуруповёрт Makita"));
    let body = text.text.unwrap();
    assert!(
        body.chars().count() > 1024
            && body.contains("КОНЕЦ")
            && body.contains("Склад Москва: 3 шт.")
    );
    finish(bot);
}

#[test]
fn feedback_goes_to_the_director_and_the_answer_comes_back() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user_with(None, "Иван", Some("ivan_p"));
    let director = sandbox.create_user("Директор");
    sandbox.user_starts(director, None).unwrap(); // the director has written to the bot once
    let update = next_update(&mut bot);
    show_menu(&mut bot, director, DIRECTORS);
    confirm(&mut bot, &update);
    let answerers_chat = director; // Константы.ЧатОтвечающихTelegram
    const PROMPT: &str = "Напишите вопрос ответом на это сообщение - директор ответит здесь же.";
    // РегистрСведений.ВопросыTelegram: message id in the answerers' chat -> (author chat, author message, answered).
    let mut questions: HashMap<i64, (i64, i64, bool)> = HashMap::new();

    // TelegramОбратнаяСвязь.ПригласитьКВопросу: force_reply.
    sandbox
        .user_presses_reply_button(ivan, "✉️ Вопрос директору")
        .unwrap();
    let update = next_update(&mut bot);
    bot.call(
        "ОтправитьСообщение",
        &[num(ivan), s(PROMPT), s("{\"reply_markup\": {\"force_reply\": true, \"input_field_placeholder\": \"Ваш вопрос\"}}")],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let prompt = nth(&sandbox, ivan, 1);
    assert_eq!(prompt.reply_markup.as_ref().unwrap()["force_reply"], true);

    // Two questions, each a Reply to the prompt (TelegramОбратнаяСвязь.ЭтоНовыйВопрос, ПереслатьВопрос).
    let mut asked = vec![];
    for question in ["Когда придёт <товар> & счёт?", "А скидка будет?"]
    {
        sandbox
            .user_replies(ivan, prompt.message_id, question)
            .unwrap();
        let update = next_update(&mut bot);
        let message = &update["message"];
        assert_eq!(
            message["reply_to_message"]["text"], PROMPT,
            "a question, not a menu press"
        );
        let who = format!("{} (@{})", esc(&mut bot, "Иван"), esc(&mut bot, "ivan_p"));
        let text = format!(
            "❓ Вопрос от <b>{who}</b>:\n{}\n\n<i>Ответьте на это сообщение (Reply).</i>",
            esc(&mut bot, message["text"].as_str().unwrap())
        );
        let sent = json(
            bot.call(
                "ОтправитьСообщение",
                &[
                    num(answerers_chat),
                    s(text),
                    s("{\"parse_mode\": \"HTML\"}"),
                ],
            )
            .unwrap(),
        );
        questions.insert(
            sent["message_id"].as_i64().unwrap(),
            (ivan, message["message_id"].as_i64().unwrap(), false),
        );
        bot.call(
            "ОтправитьСообщение",
            &[num(ivan), s("Вопрос передан директору. Ответ придёт сюда.")],
        )
        .unwrap();
        confirm(&mut bot, &update);
        asked.push(message["message_id"].as_i64().unwrap());
    }
    let forwarded = sandbox.wait_bot_messages(director, 3, WAIT);
    assert_eq!(
        forwarded[1].text.as_deref(),
        Some("❓ Вопрос от Иван (@ivan_p):\nКогда придёт <товар> & счёт?\n\nОтветьте на это сообщение (Reply).")
    );

    // The director answers the first with a text Reply (ЭтоОтветНаВопрос, ПереслатьОтвет).
    sandbox
        .user_replies(director, forwarded[1].message_id, "Завтра, <b>до обеда</b>")
        .unwrap();
    let update = next_update(&mut bot);
    let message = update["message"].clone();
    let key = message["reply_to_message"]["message_id"].as_i64().unwrap();
    let (author, author_message, _) = questions[&key];
    let options = json!({"parse_mode": "HTML", "reply_parameters": {"message_id": author_message, "allow_sending_without_reply": true}});
    let answer = format!(
        "💬 <b>Ответ директора:</b>\n{}",
        esc(&mut bot, message["text"].as_str().unwrap())
    );
    bot.call("ОтправитьСообщение", &[num(author), s(answer), js(options)])
        .unwrap();
    questions.get_mut(&key).unwrap().2 = true;
    let done = json!({"reply_parameters": {"message_id": message["message_id"]}});
    bot.call(
        "ОтправитьСообщение",
        &[num(director), s("✅ Ответ отправлен автору."), js(done)],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let reply = nth(&sandbox, ivan, 4);
    assert_eq!(
        reply.text.as_deref(),
        Some("💬 Ответ директора:\nЗавтра, <b>до обеда</b>")
    );
    assert_eq!(reply.json["reply_to_message"]["message_id"], asked[0]);

    // «Неотвеченные» (TelegramОбратнаяСвязь.ПоказатьНеотвеченные) counts the open one.
    sandbox
        .user_presses_reply_button(director, "❓ Неотвеченные")
        .unwrap();
    let update = next_update(&mut bot);
    let open: Vec<&(i64, i64, bool)> = questions.values().filter(|q| !q.2).collect();
    let text = format!(
        "<b>Без ответа: {}</b>\n1. 01.12 10:00 Иван: {}",
        open.len(),
        esc(&mut bot, "А скидка будет?")
    );
    bot.call(
        "ОтправитьСообщение",
        &[num(director), s(text), s("{\"parse_mode\": \"HTML\"}")],
    )
    .unwrap();
    confirm(&mut bot, &update);
    assert!(nth(&sandbox, director, 5)
        .text
        .unwrap()
        .starts_with("Без ответа: 1\n"));

    // The second is answered with a photo: copyMessage, so Иван sees the photo itself.
    let shot = sandbox
        .user_sends_photo(director, PNG.to_vec(), Some("вот прайс"))
        .unwrap();
    let update = next_update(&mut bot);
    confirm(&mut bot, &update); // a photo without Reply: not an answer, the menu would show
    let photo_json = shot.message["photo"].clone();
    let mut content = serde_json::Map::new();
    content.insert("photo".into(), photo_json);
    content.insert("caption".into(), json!("вот прайс"));
    let bot_id = sandbox.bot_id();
    sandbox
        .shared()
        .with(|w| {
            w.user_message(
                bot_id,
                director,
                None,
                content,
                Some(forwarded[2].message_id),
            )
        })
        .unwrap();
    let update = next_update(&mut bot);
    let message = update["message"].clone();
    assert!(message.get("text").is_none() && message.get("photo").is_some());
    let key = message["reply_to_message"]["message_id"].as_i64().unwrap();
    let (author, author_message, _) = questions[&key];
    let params = json!({
        "chat_id": author, "from_chat_id": director, "message_id": message["message_id"],
        "reply_parameters": {"message_id": author_message, "allow_sending_without_reply": true}});
    bot.call("ВызватьМетод", &[s("copyMessage"), js(params)])
        .unwrap();
    confirm(&mut bot, &update);
    let copy = nth(&sandbox, ivan, 5);
    assert_eq!(copy.method, "copyMessage");
    assert_eq!(copy.caption.as_deref(), Some("вот прайс"));
    assert_eq!(
        sandbox.file_bytes(copy.file_id.as_ref().unwrap()).unwrap(),
        PNG
    );
    assert_eq!(copy.json["reply_to_message"]["message_id"], asked[1]);
    finish(bot);
}

#[test]
fn instructions_are_uploaded_once_then_sent_by_file_id() {
    let (sandbox, mut bot) = bound_bot();
    let ivan = sandbox.create_user("Иван");
    // Справочник.ИнструкцииTelegram: code, name, file, file name, ИдФайлаTelegram.
    let manual = b"%PDF-1.4\n% how to order\n%%EOF\n".to_vec();
    let mut file_id: Option<String> = None;

    // «ℹ️ Инструкции» lists the catalog (it must not fall into the product search).
    sandbox
        .user_presses_reply_button(ivan, "ℹ️ Инструкции")
        .unwrap();
    let update = next_update(&mut bot);
    assert_eq!(update["message"]["text"], "ℹ️ Инструкции");
    bot.call(
        "ОтправитьСообщение",
        &[
            num(ivan),
            s("Какую инструкцию прислать?"),
            js(inline(&[("📄 Как оформить заказ", "ins:000000001")])),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let list = nth(&sandbox, ivan, 1);

    // Two presses: the first uploads and keeps file_id, the second sends by file_id
    // (TelegramМеню.ОтправитьИнструкцию).
    for press in 0..2 {
        sandbox
            .user_presses_button(ivan, list.message_id, "ins:000000001")
            .unwrap();
        let update = next_update(&mut bot);
        bot.call(
            "ОтветитьНаНажатие",
            &[
                s(update["callback_query"]["id"].as_str().unwrap()),
                s("Отправляю…"),
            ],
        )
        .unwrap();
        match &file_id {
            Some(id) => {
                bot.call("ОтправитьФайл", &[num(ivan), s(id)]).unwrap();
            }
            None => {
                let sent = json(
                    bot.call(
                        "ОтправитьФайл",
                        &[
                            num(ivan),
                            Value::Blob(manual.clone()),
                            s("Как оформить заказ.pdf"),
                        ],
                    )
                    .unwrap(),
                );
                file_id = Some(sent["document"]["file_id"].as_str().unwrap().to_string());
            }
        }
        confirm(&mut bot, &update);
        let doc = nth(&sandbox, ivan, 2 + press);
        assert_eq!(doc.method, "sendDocument");
        assert_eq!(doc.file_id, file_id, "press {press}");
        assert_eq!(doc.json["document"]["file_name"], "Как оформить заказ.pdf");
        assert_eq!(
            sandbox.file_bytes(doc.file_id.as_ref().unwrap()).unwrap(),
            manual
        );
    }
    finish(bot);
}

#[test]
fn rating_buttons_are_removed_after_a_press() {
    let (sandbox, mut bot) = bound_bot();
    let client = sandbox.create_user("ООО Ромашка");
    sandbox.user_starts(client, None).unwrap();
    let update = next_update(&mut bot);
    confirm(&mut bot, &update);
    // РегистрСведений.ОценкиTelegram: order -> (client, score).
    let order = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let mut ratings: HashMap<&str, (i64, u8)> = HashMap::from([(order, (client, 0))]);

    // TelegramОценки.ПараметрыЗапросаОценки: the outbox holds these sendMessage
    // params; ОтправитьПакет sends them after the delivery merge, SendMessage here.
    let row: Vec<Json> = (1..=5)
        .map(|n| json!({"text": n.to_string(), "callback_data": format!("rt:{order}:{n}")}))
        .collect();
    let text = "Оцените обслуживание по заказу № 00015 от 01.12.2026: 1 - плохо, 5 - отлично.";
    let params =
        json!({"chat_id": client, "text": text, "reply_markup": {"inline_keyboard": [row]}});
    bot.call(
        "ОтправитьСообщение",
        &[
            num(client),
            s(text),
            js(json!({"reply_markup": params["reply_markup"]})),
        ],
    )
    .unwrap();
    let ask = nth(&sandbox, client, 1);
    assert_eq!(ask.callback_data().len(), 5);
    assert!(ask.callback_data().iter().all(|d| d.len() <= 64));

    // A press: stored, thanked, the buttons go (TelegramОценки.ОбработатьОценку).
    let (_, query) = sandbox
        .user_presses_button(client, ask.message_id, &format!("rt:{order}:4"))
        .unwrap();
    let update = next_update(&mut bot);
    let press = &update["callback_query"];
    let value = &press["data"].as_str().unwrap()[3..];
    let (id, score) = value.rsplit_once(':').unwrap();
    let record = ratings.get_mut(id).unwrap();
    assert_eq!(
        record.0,
        press["from"]["id"].as_i64().unwrap(),
        "the order's client pressed"
    );
    if record.1 == 0 {
        record.1 = score.parse().unwrap();
    }
    bot.call(
        "ОтветитьНаНажатие",
        &[s(press["id"].as_str().unwrap()), s("Спасибо за оценку!")],
    )
    .unwrap();
    bot.call(
        "ИзменитьСообщение",
        &[
            num(client),
            num(press["message"]["message_id"].as_i64().unwrap()),
            s(format!(
                "{}\nВаша оценка: {} из 5. Спасибо!",
                press["message"]["text"].as_str().unwrap(),
                record.1
            )),
            s("{\"reply_markup\": null}"),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    assert_eq!(ratings[order].1, 4);
    assert_eq!(
        sandbox.callback_answer(&query).unwrap()["text"],
        "Спасибо за оценку!"
    );
    let rated = nth(&sandbox, client, 1);
    assert!(rated.edited);
    assert!(rated
        .text
        .as_deref()
        .unwrap()
        .ends_with("Ваша оценка: 4 из 5. Спасибо!"));
    assert!(rated.callback_data().is_empty(), "the buttons are gone");
    assert!(
        sandbox
            .user_presses_button(client, ask.message_id, &format!("rt:{order}:5"))
            .is_err(),
        "no second vote"
    );
    finish(bot);
}

#[test]
fn a_file_from_a_contact_card_reaches_the_bound_contact() {
    let (sandbox, mut bot) = bound_bot();
    let client = sandbox.create_user("ООО Ромашка");
    sandbox.user_starts(client, None).unwrap();
    let update = next_update(&mut bot);
    confirm(&mut bot, &update);

    // TelegramВызовСервера.ОтправитьПечатнуюФормуКонтакту -> ОтправитьДанныеКонтакту:
    // the waybill as PDF with the document's name as the caption.
    let waybill = b"%PDF-1.4\n% TORG-12\n%%EOF\n".to_vec();
    let caption = "Реализация товаров и услуг 00015 от 01.12.2026";
    bot.call(
        "ОтправитьФайл",
        &[
            num(client),
            Value::Blob(waybill.clone()),
            s(format!("{caption}.pdf")),
            js(json!({"caption": caption})),
        ],
    )
    .unwrap();
    let doc = nth(&sandbox, client, 1);
    assert_eq!(doc.json["document"]["file_name"], format!("{caption}.pdf"));
    assert_eq!(doc.caption.as_deref(), Some(caption));
    assert_eq!(
        sandbox.file_bytes(doc.file_id.as_ref().unwrap()).unwrap(),
        waybill
    );

    // A contact who blocked the bot: the form shows ПоследняяОшибка, nothing is sent.
    sandbox.user_blocks_bot(client).unwrap();
    let failed = bot.call(
        "ОтправитьФайл",
        &[
            num(client),
            Value::Blob(waybill),
            s("x.pdf"),
            js(json!({"caption": "x"})),
        ],
    );
    assert!(failed.is_err());
    let reason = common::text(bot.get("ПоследняяОшибка").unwrap());
    assert!(reason.contains("403"), "{reason}");
    assert_eq!(sandbox.bot_messages(client).len(), 1);
    finish(bot);
}

#[test]
fn the_receiving_job_records_a_failing_update_and_goes_on() {
    let (sandbox, mut bot) = bound_bot();
    let state = tempfile_dir();
    bot.set("КаталогСостояния", s(state.to_string_lossy()))
        .unwrap();
    bot.set("ТаймаутОжидания", num(25)).unwrap();
    let ivan = sandbox.create_user("Иван");
    for text in ["раз", "сломай", "три"] {
        sandbox.user_sends_text(ivan, text).unwrap();
    }
    // TelegramПолучение.ПолучениеTelegram: every update in Попытка; a failure is
    // recorded (РегистрСведений.ОшибкиОбновленийTelegram) and confirmed.
    let mut handled = vec![];
    let mut failed = vec![];
    while handled.len() + failed.len() < 3 {
        let batch = json(
            bot.call("ПолучитьОбновления", &[num(25), num(100)])
                .unwrap(),
        );
        for update in batch.as_array().unwrap() {
            let text = update["message"]["text"].as_str().unwrap().to_string();
            // TelegramПолучение.ОбработатьБезопасно: the router raises on this one.
            if text == "сломай" {
                failed.push(update["update_id"].as_i64().unwrap());
            } else {
                bot.call(
                    "ОтправитьСообщение",
                    &[num(ivan), s(format!("Получено: {text}"))],
                )
                .unwrap();
                handled.push(text);
            }
            confirm(&mut bot, update);
        }
    }
    assert_eq!(handled, ["раз", "три"]);
    assert_eq!(failed.len(), 1);
    // The job ends: a last call without waiting confirms the batch, then StopPolling.
    bot.call("ПолучитьОбновления", &[num(0), num(1)]).unwrap();
    bot.call("ОстановитьПолучение", &[]).unwrap();
    finish(bot);

    // The next run of the job (a new object, the same StateDir) gets nothing again.
    let mut next = common::bot();
    next.set("Токен", s(sandbox.token())).unwrap();
    next.set("АдресAPI", s(sandbox.api_url())).unwrap();
    next.set("КаталогСостояния", s(state.to_string_lossy()))
        .unwrap();
    let again = json(
        next.call("ПолучитьОбновления", &[num(1), num(100)])
            .unwrap(),
    );
    assert_eq!(again, json!([]), "a failed update does not come back");
    assert!(sandbox.pending_updates().is_empty());
    assert_eq!(sandbox.bot_messages(ivan).len(), 2);
    finish(next);
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn the_client_bot_shows_settlements_sends_the_price_list_and_takes_an_invoice_request() {
    let (sandbox, mut bot) = bound_bot();
    let client = sandbox.create_user("ООО Ромашка");
    let dir = tempfile_dir();

    // TelegramКлиентскийБот.ОтправитьВзаиморасчеты: the debt and the credit limit.
    sandbox
        .user_presses_reply_button(client, "💰 Взаиморасчёты")
        .unwrap();
    let update = next_update(&mut bot);
    assert_eq!(update["message"]["text"], "💰 Взаиморасчёты");
    let text = "Ваш долг: <b>15\u{a0}000,00 руб.</b>\nКредитный лимит: 50\u{a0}000,00 руб.";
    bot.call(
        "ОтправитьСообщение",
        &[num(client), s(text), s("{\"parse_mode\": \"HTML\"}")],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let settlements = nth(&sandbox, client, 1);
    assert_eq!(
        settlements.text.as_deref(),
        Some("Ваш долг: 15\u{a0}000,00 руб.\nКредитный лимит: 50\u{a0}000,00 руб.")
    );
    assert_eq!(settlements.json["entities"][0]["type"], "bold");

    // ОтправитьПрайсЛист: an XLSX written to a temporary file, sent by its path.
    sandbox
        .user_presses_reply_button(client, "📋 Прайс-лист")
        .unwrap();
    let update = next_update(&mut bot);
    let xlsx = dir.join("price.xlsx");
    std::fs::write(&xlsx, b"PK\x03\x04 price list").unwrap();
    bot.call(
        "ОтправитьФайл",
        &[num(client), s(xlsx.to_string_lossy()), s("Прайс-лист.xlsx")],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let price = nth(&sandbox, client, 2);
    assert_eq!(price.json["document"]["file_name"], "Прайс-лист.xlsx");

    // «Запросить счёт»: two buttons; a press is thanked and the buttons go (ОбработатьНажатие).
    sandbox
        .user_presses_reply_button(client, "🧾 Запросить счёт")
        .unwrap();
    let update = next_update(&mut bot);
    let keyboard = inline(&[
        ("На сумму долга", "cl:debt"),
        ("По последнему заказу", "cl:order"),
    ]);
    bot.call(
        "ОтправитьСообщение",
        &[num(client), s("Какой счёт выставить?"), js(keyboard)],
    )
    .unwrap();
    confirm(&mut bot, &update);
    let ask = nth(&sandbox, client, 3);
    let (_, query) = sandbox
        .user_presses_button(client, ask.message_id, "cl:debt")
        .unwrap();
    let update = next_update(&mut bot);
    let press = &update["callback_query"];
    assert_eq!(press["data"], "cl:debt");
    bot.call(
        "ОтветитьНаНажатие",
        &[s(press["id"].as_str().unwrap()), s("Запрос принят")],
    )
    .unwrap();
    bot.call(
        "ИзменитьСообщение",
        &[
            num(client),
            num(press["message"]["message_id"].as_i64().unwrap()),
            s("Запрос счёта принят: менеджер пришлёт его сюда."),
            s("{\"reply_markup\": null}"),
        ],
    )
    .unwrap();
    confirm(&mut bot, &update);
    assert_eq!(
        sandbox.callback_answer(&query).unwrap()["text"],
        "Запрос принят"
    );
    let accepted = nth(&sandbox, client, 3);
    assert!(accepted.edited && accepted.callback_data().is_empty());
    assert_eq!(
        accepted.text.as_deref(),
        Some("Запрос счёта принят: менеджер пришлёт его сюда.")
    );
    let _ = std::fs::remove_dir_all(dir);
    finish(bot);
}
