//! The bot's behaviour: what the 1C form's `ВнешнееСобытие` does with each
//! Telegram update (after `ОбщийМодуль.TelegramМеню.bsl`), and the event loop.

use crate::{catalog, png};
use onec_simulator::{Component, Event, Exception, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// Reply-keyboard buttons of the main menu.
pub const NEWS: &str = "📰 Новости";
pub const SEARCH: &str = "🔎 Поиск товара";
pub const RATE: &str = "⭐ Оценить";

/// What a user gets after pressing a rating button.
pub const THANKS: &str = "Спасибо!";

/// Rating buttons: (callback data, label).
const RATINGS: [(&str, &str); 3] = [
    ("rate:5", "👍 Отлично"),
    ("rate:3", "👌 Нормально"),
    ("rate:1", "👎 Плохо"),
];
const RATE_QUESTION: &str = "Как вам наш бот? Оцените, пожалуйста:";

const NEWS_HTML: &str = "<b>📰 Новости компании</b>

<b>Открыли склад в Казани</b>
Заказы по Поволжью теперь доставляем <u>за один день</u>.

<b>Скидка 10% на электроинструмент</b>
До конца месяца — на дрели и шуруповёрты. Промокод: <code>ДРЕЛЬ10</code>

<i>Цены и остатки — в поиске товара.</i>";

/// Handles events until `done(updates handled so far)` is true; returns that count.
/// Checks `done` at least every 100 ms.
pub fn serve(bot: &mut Component, mut done: impl FnMut(usize) -> bool) -> usize {
    let mut handled = 0;
    while !done(handled) {
        let Some(event) = bot.next_event(Duration::from_millis(100)) else {
            continue;
        };
        match on_event(bot, &event) {
            Ok(false) => {}
            Ok(true) => handled += 1,
            // As `Попытка … Исключение` in 1C: report and go on with the next update.
            Err(e) => {
                eprintln!("{}: {e}", event.message);
                handled += 1;
            }
        }
    }
    handled
}

/// `ВнешнееСобытие(Источник, Событие, Данные)`. Ok(true) when the event was a
/// Telegram update (answered or deliberately ignored).
pub fn on_event(bot: &mut Component, event: &Event) -> Result<bool, Exception> {
    if event.source != "Telegram" {
        return Ok(false);
    }
    let data: Json = serde_json::from_str(&event.data).unwrap_or_default();
    match event.message.as_str() {
        // Connection state (lost / restored / conflict / stopped), not an update.
        "error" => {
            eprintln!("connection: {}", data["description"].as_str().unwrap_or(""));
            return Ok(false);
        }
        "message" => on_message(bot, &data["message"])?,
        "callback_query" => on_press(bot, &data["callback_query"])?,
        _ => {}
    }
    Ok(true)
}

/// A message from a user: a command, a menu button, or a search.
fn on_message(bot: &mut Component, message: &Json) -> Result<(), Exception> {
    let chat = message["chat"]["id"].as_i64().unwrap_or_default();
    let text = message["text"].as_str().unwrap_or_default().trim();
    match text {
        t if t.starts_with("/start") => {
            let name = message["from"]["first_name"].as_str().unwrap_or("друг");
            let greeting = format!(
                "Здравствуйте, {name}! 👋\nЯ бот торговой компании «СтройМаркет»: \
                 расскажу новости, найду товар, покажу цену и остатки на складах.\n\n\
                 Для поиска просто напишите название товара, например: дрель."
            );
            send(bot, chat, &greeting, menu_keyboard())
        }
        NEWS => send(bot, chat, NEWS_HTML, json!({"parse_mode": "HTML"})),
        SEARCH => send(
            bot,
            chat,
            "Напишите название товара (от трёх букв), например: дрель, краска, перчатки.",
            json!({}),
        ),
        RATE => {
            let row: Vec<Json> = RATINGS
                .iter()
                .map(|(data, label)| json!({"text": label, "callback_data": data}))
                .collect();
            let options = json!({"reply_markup": {"inline_keyboard": [row]}});
            send(bot, chat, RATE_QUESTION, options)
        }
        t if t.chars().count() >= 3 => show_products(bot, chat, t),
        _ => send(
            bot,
            chat,
            "Главное меню. Для поиска товара просто напишите его название.",
            menu_keyboard(),
        ),
    }
}

/// A press of an inline button: a product card or a rating.
fn on_press(bot: &mut Component, press: &Json) -> Result<(), Exception> {
    let id = press["id"].as_str().unwrap_or_default();
    let chat = press["message"]["chat"]["id"].as_i64().unwrap_or_default();
    let message_id = press["message"]["message_id"].as_i64().unwrap_or_default();
    let data = press["data"].as_str().unwrap_or_default();
    if let Some(product) = data.strip_prefix("card:").and_then(catalog::by_code) {
        answer(bot, id, None)?;
        send_card(bot, chat, product)
    } else if let Some((_, label)) = RATINGS.iter().find(|(d, _)| *d == data) {
        answer(bot, id, Some(THANKS))?;
        // Show the choice and remove the buttons, so that nobody votes twice.
        let text = format!("Как вам наш бот?\nВаша оценка: {label}. {THANKS}");
        bot.call(
            "EditMessage",
            &[
                number(chat),
                number(message_id),
                Value::str(text),
                Value::str(r#"{"reply_markup": null}"#),
            ],
        )
        .map(drop)
    } else {
        bot.call(
            "AnswerCallbackQuery",
            &[
                Value::str(id),
                Value::str("Кнопка устарела"),
                Value::Bool(true),
            ],
        )
        .map(drop)
    }
}

/// Short cards of the products matching `query`, each with «Подробнее».
fn show_products(bot: &mut Component, chat: i64, query: &str) -> Result<(), Exception> {
    let found = catalog::search(query);
    if found.is_empty() {
        let text = format!(
            "По запросу «{}» ничего не найдено. Попробуйте: дрель, краска, перчатки.",
            escape_html(bot, query)?
        );
        return send(bot, chat, &text, json!({"parse_mode": "HTML"}));
    }
    for product in found {
        let in_stock: u32 = product.stock.iter().map(|(_, n)| n).sum();
        let text = format!(
            "<b>{}</b>\n{} · в наличии {in_stock} шт.",
            escape_html(bot, product.name)?,
            catalog::rubles(product.price)
        );
        let button =
            json!({"text": "Подробнее", "callback_data": format!("card:{}", product.code)});
        let options =
            json!({"parse_mode": "HTML", "reply_markup": {"inline_keyboard": [[button]]}});
        send(bot, chat, &text, options)?;
    }
    Ok(())
}

/// The detailed card: a photo with price and stock by store in the caption.
fn send_card(bot: &mut Component, chat: i64, product: &catalog::Product) -> Result<(), Exception> {
    let mut caption = format!(
        "<b>{}</b>\nАртикул: {}\nЦена: <b>{}</b>\n\nОстатки:",
        escape_html(bot, product.name)?,
        escape_html(bot, product.article)?,
        catalog::rubles(product.price)
    );
    for (store, units) in product.stock {
        let units = match units {
            0 => "нет".to_string(),
            n => format!("{n} шт."),
        };
        caption += &format!("\n• {}: {units}", escape_html(bot, store)?);
    }
    let options = json!({"type": "photo", "parse_mode": "HTML", "caption": caption});
    bot.call(
        "SendFile",
        &[
            number(chat),
            Value::Blob(png::product_picture(product.colour)),
            Value::str(format!("{}.png", product.article)),
            Value::str(options.to_string()),
        ],
    )
    .map(drop)
}

/// The main menu as a reply keyboard.
fn menu_keyboard() -> Json {
    json!({"reply_markup": {"resize_keyboard": true, "keyboard": [
        [{"text": NEWS}, {"text": SEARCH}],
        [{"text": RATE}]
    ]}})
}

/// `Бот.ОтправитьСообщение(ИдЧата, Текст, Параметры)`.
fn send(bot: &mut Component, chat: i64, text: &str, options: Json) -> Result<(), Exception> {
    bot.call(
        "SendMessage",
        &[
            number(chat),
            Value::str(text),
            Value::str(options.to_string()),
        ],
    )
    .map(drop)
}

/// `Бот.ОтветитьНаНажатие(Ид, [Текст])`.
fn answer(bot: &mut Component, id: &str, text: Option<&str>) -> Result<(), Exception> {
    let mut args = vec![Value::str(id)];
    args.extend(text.map(Value::str));
    bot.call("AnswerCallbackQuery", &args).map(drop)
}

/// `Бот.ЭкранироватьHTML(Текст)`.
fn escape_html(bot: &mut Component, text: &str) -> Result<String, Exception> {
    match bot.call("EscapeHtml", &[Value::str(text)])? {
        Value::Str(s) => Ok(s),
        other => Ok(format!("{other:?}")),
    }
}

/// A chat or message id as a 1C `Число`.
fn number(n: i64) -> Value {
    Value::number(n as f64)
}
