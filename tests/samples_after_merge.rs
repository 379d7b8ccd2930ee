//! The samples' scenarios that need the binding (issue 9) and delivery
//! (issue 10) members: binding a contact, a notification from the outbox
//! through `ОтправитьПакет`, and a mailing through `Рассылка`. They make the
//! calls the BSL makes, with the same arguments, against the sandbox.
//!
//! They run against the library this tree builds, so they fail until those
//! members are merged. To try them against another build, point
//! `SAMPLES_BINDING_LIB` / `SAMPLES_DELIVERY_LIB` at its library (they were
//! checked that way against the binding and delivery branches' debug builds).

mod common;

use common::*;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn num(n: i64) -> Value {
    Value::number(n as f64)
}

fn s(text: impl Into<String>) -> Value {
    Value::str(text)
}

/// `TelegramСервер.НовыйБот` on the library under test (or the one the env var names).
fn new_bot(env: &str, sandbox: &Sandbox, state: &std::path::Path) -> Component {
    static LIBS: std::sync::OnceLock<std::sync::Mutex<HashMap<String, &'static Library>>> =
        std::sync::OnceLock::new();
    let library: &'static Library = match std::env::var(env) {
        Ok(path) => LIBS
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .entry(path.clone())
            .or_insert_with(|| Box::leak(Box::new(Library::load(path).expect("load the library")))),
        Err(_) => library(),
    };
    let mut bot = library
        .create("Bot", HostOptions::default())
        .expect("create Bot");
    bot.set("Токен", s(sandbox.token())).unwrap();
    bot.set("АдресAPI", s(sandbox.api_url())).unwrap();
    bot.set("КаталогСостояния", s(state.to_string_lossy()))
        .unwrap();
    bot.set(
        "ОтветПриПривязке",
        s("Готово: вы привязаны к 1С как «%1». Напишите /menu, чтобы открыть меню."),
    )
    .ok(); // a delivery-only build has no ОтветПриПривязке; the binding test checks the reply
    bot
}

fn state_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("samples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `TelegramСервер.ПредметКонтакта`: {"id": "<справочник>:<uuid>", "title": "<представление>"}.
fn subject(kind: &str, uuid: &str, title: &str) -> String {
    json!({"id": format!("{kind}:{uuid}"), "title": title}).to_string()
}

/// `TelegramСервер.ЗаписатьПривязку` / `КонтактПоПредмету`: the contact is the subject's id.
fn record(bindings: &mut HashMap<String, (i64, i64)>, binding: &Json) {
    let subject: Json = serde_json::from_str(binding["subject"].as_str().unwrap()).unwrap();
    let contact = subject["id"].as_str().unwrap().to_string();
    let ids = (
        binding["user_id"].as_i64().unwrap(),
        binding["chat_id"].as_i64().unwrap(),
    );
    bindings.insert(contact, ids);
}

#[test]
fn binding_by_link_and_by_digits_records_the_contact() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let state = state_dir("binding");
    const ENV: &str = "SAMPLES_BINDING_LIB";
    // РегистрСведений.ПривязкиTelegram: контакт -> (user_id, chat_id).
    let mut bindings: HashMap<String, (i64, i64)> = HashMap::new();

    // The dialog (TelegramВызовСервера.НовыйКодПривязки) for a partner: code, link, QR.
    let mut dialog = new_bot(ENV, &sandbox, &state);
    let partner = subject(
        "Партнеры",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "ООО Ромашка",
    );
    let code = json(
        dialog
            .call("НовыйКодПривязки", &[s(&partner), num(900)])
            .unwrap(),
    );
    let png = dialog
        .call(
            "QRКодПривязки",
            &[s(code["qr"].as_str().unwrap()), num(300)],
        )
        .unwrap();
    assert!(matches!(&png, Value::Blob(b) if b.starts_with(b"\x89PNG")));
    assert!(code["link"]
        .as_str()
        .unwrap()
        .starts_with("https://t.me/sandbox_bot?start="));

    // Setup (b): nobody receives. The person opens the link; the dialog's timer
    // calls ПривязатьКонтакт(Код, 0) until it returns the binding.
    let ivan = sandbox.create_user("Иван");
    let payload = code["link"]
        .as_str()
        .unwrap()
        .split("start=")
        .nth(1)
        .unwrap()
        .to_string();
    sandbox.user_starts(ivan, Some(&payload)).unwrap();
    let mut found = Value::Empty;
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        found = dialog
            .call(
                "ПривязатьКонтакт",
                &[s(code["code"].as_str().unwrap()), num(0)],
            )
            .unwrap();
        if matches!(found, Value::Str(_)) {
            break;
        }
        // Until the next tick: wait for the bot's answer to the person (or a moment).
        sandbox.wait_for(Duration::from_millis(200), |s| {
            !s.bot_messages(ivan).is_empty()
        });
    }
    record(&mut bindings, &json(found));
    assert_eq!(
        bindings["Партнеры:0f8fad5b-d9cb-469f-a165-70867728950e"],
        (ivan, ivan)
    );
    let reply = sandbox.wait_bot_messages(ivan, 1, WAIT);
    assert_eq!(
        reply[0].text.as_deref(),
        Some("Готово: вы привязаны к 1С как «ООО Ромашка». Напишите /menu, чтобы открыть меню.")
    );

    // Setup (a): the scheduled job receives (ПолучитьОбновления) in another
    // session with the same StateDir; the person types the digits.
    let mut job = new_bot(ENV, &sandbox, &state);
    let employee = subject(
        "Пользователи",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "Петров П.",
    );
    let code = json(
        dialog
            .call("НовыйКодПривязки", &[s(&employee), num(900)])
            .unwrap(),
    );
    let petr = sandbox.create_user("Пётр");
    sandbox
        .user_sends_text(petr, code["code"].as_str().unwrap())
        .unwrap();
    let batch = json(
        job.call("ПолучитьОбновления", &[num(25), num(100)])
            .unwrap(),
    );
    let update = &batch[0];
    assert!(
        update.get("message").is_none(),
        "the digits are consumed, not a message"
    );
    // TelegramМеню.ОбработатьОбновление: Обновление.binding -> ЗаписатьПривязку.
    record(&mut bindings, &update["binding"]);
    job.call(
        "ПодтвердитьОбновления",
        &[num(update["update_id"].as_i64().unwrap())],
    )
    .unwrap();
    assert_eq!(
        bindings["Пользователи:6ba7b810-9dad-11d1-80b4-00c04fd430c8"],
        (petr, petr)
    );
    // The dialog's «Проверить» sees it too (it reads the shared StateDir).
    let checked = json(
        dialog
            .call(
                "ПривязатьКонтакт",
                &[s(code["code"].as_str().unwrap()), num(0)],
            )
            .unwrap(),
    );
    assert_eq!(checked["user_id"], petr);

    // A dialog closed without a binding cancels its code: typing it binds nobody.
    let code = json(
        dialog
            .call(
                "НовыйКодПривязки",
                &[s(subject("Партнеры", "1", "ООО Лютик")), num(900)],
            )
            .unwrap(),
    );
    dialog
        .call("ОтменитьКодПривязки", &[s(code["code"].as_str().unwrap())])
        .unwrap();
    let late = sandbox.create_user("Опоздавший");
    sandbox
        .user_sends_text(late, code["code"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        sandbox.wait_bot_messages(late, 1, WAIT).len(),
        1,
        "a polite refusal"
    );
    // The job's last call (ПолучитьОбновления(0, 1)) sees no binding.
    let batch = json(job.call("ПолучитьОбновления", &[num(0), num(1)]).unwrap());
    assert!(batch
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u.get("binding").is_none()));
    assert_eq!(bindings.len(), 2);
    finish(job);
    finish(dialog);
}

#[test]
fn a_notification_in_the_outbox_is_delivered_once_by_send_batch() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let state = state_dir("outbox");
    let manager = sandbox.create_user("Менеджер");
    sandbox.user_starts(manager, None).unwrap();

    // TelegramУведомления.ОповеститьПоШаблонам wrote this row inside the posting
    // transaction: template text with [Контрагент], [СуммаДокумента], [Долг] filled and escaped.
    let key = "000000001:6f9619ff-8b86-d011-b42d-00c04fc964ff:6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let text = "💰 Оплата от <b>ООО &lt;Ромашка&gt;</b>: 150 000,00 руб.\nДолг: 20 000,00 руб., лимит 500 000,00 руб.";
    let params = json!({"chat_id": manager, "text": text, "parse_mode": "HTML"});
    // РегистрСведений.ИсходящиеTelegram: key -> (state, attempt, message_id).
    let mut outbox: HashMap<String, (&str, i64, i64)> =
        HashMap::from([(key.to_string(), ("Ожидает", 1, 0))]);

    // TelegramУведомления.ОтправитьИсходящие, run twice: the second run is a job
    // that died before it wrote the result back, so the row is still pending.
    for run in 0..2 {
        let mut bot = new_bot("SAMPLES_DELIVERY_LIB", &sandbox, &state);
        let pending: Vec<(String, i64)> = outbox
            .iter()
            .filter(|(_, r)| run == 1 || r.0 == "Ожидает")
            .map(|(k, r)| (k.clone(), r.1))
            .collect();
        let requests: Vec<Json> = pending
            .iter()
            .map(|(k, attempt)| json!({"key": format!("{k}#{attempt}"), "method": "sendMessage", "params": params}))
            .collect();
        let results = json(
            bot.call(
                "ОтправитьПакет",
                &[
                    s(Json::Array(requests).to_string()),
                    s("{\"deadline\": 50}"),
                ],
            )
            .unwrap(),
        );
        for result in results.as_array().unwrap() {
            // ЗаписатьРезультат: the key without "#attempt" finds the row.
            let batch_key = result["key"].as_str().unwrap();
            let row = outbox
                .get_mut(batch_key.rsplit_once('#').unwrap().0)
                .unwrap();
            assert_eq!(result["state"], "sent", "{result}");
            *row = (
                "Отправлено",
                row.1,
                result["result"]["message_id"].as_i64().unwrap(),
            );
        }
        finish(bot);
    }
    let got = sandbox.wait_bot_messages(manager, 1, WAIT);
    assert_eq!(got.len(), 1, "delivered once across two runs");
    assert_eq!(
        got[0].text.as_deref(),
        Some("💰 Оплата от ООО <Ромашка>: 150 000,00 руб.\nДолг: 20 000,00 руб., лимит 500 000,00 руб.")
    );
    assert_eq!(outbox[key], ("Отправлено", 1, got[0].message_id));
}

#[test]
fn a_mailing_reports_each_recipient_and_a_second_run_messages_nobody_twice() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let state = state_dir("mailing");
    let users: Vec<i64> = ["А", "Б", "В"]
        .iter()
        .map(|n| sandbox.create_user(n))
        .collect();
    for u in &users {
        sandbox.user_starts(*u, None).unwrap();
    }
    sandbox.user_blocks_bot(users[2]).unwrap();

    // Документ.РассылкаTelegram -> TelegramРассылки.ПараметрыРассылки / Запустить.
    let id = "mail-6f9619ff-8b86-d011-b42d-00c04fc964ff";
    let recipients = json!(users).to_string();
    let message = json!({"text": "Скидка 10% &amp; доставка"}).to_string();
    let options = json!({"id": id, "parse_mode": "HTML"}).to_string();
    let mut bot = new_bot("SAMPLES_DELIVERY_LIB", &sandbox, &state);
    let started = common::text(
        bot.call("Рассылка", &[s(&recipients), s(&message), s(&options)])
            .unwrap(),
    );
    assert_eq!(started, id);
    // ПродолжитьРассылкиИзИсходящих: СостояниеРассылки(Ид, 10) until done.
    let mut status = Json::Null;
    for _ in 0..10 {
        status = json(bot.call("СостояниеРассылки", &[s(id), num(10)]).unwrap());
        if status["state"] != "running" {
            break;
        }
    }
    assert_eq!(status["state"], "done");
    assert_eq!(
        (status["sent"].as_i64(), status["failed"].as_i64()),
        (Some(2), Some(1))
    );
    // ЗаписатьСостояние: ok -> sent, an error -> failed, per recipient.
    let per: HashMap<i64, &str> = status["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let state = if r["ok"] == true {
                "sent"
            } else if r["error"].is_null() {
                "unknown"
            } else {
                "failed"
            };
            (r["chat_id"].as_i64().unwrap(), state)
        })
        .collect();
    assert_eq!(per[&users[0]], "sent");
    assert_eq!(per[&users[2]], "failed");

    // «Разослать» again (or the job's next run): the same id resumes; nobody gets it twice.
    common::text(
        bot.call("Рассылка", &[s(&recipients), s(&message), s(&options)])
            .unwrap(),
    );
    json(bot.call("СостояниеРассылки", &[s(id), num(10)]).unwrap());
    for u in &users[..2] {
        let got = sandbox.bot_messages(*u);
        assert_eq!(got.len(), 1, "user {u}");
        assert_eq!(got[0].text.as_deref(), Some("Скидка 10% & доставка"));
    }

    // A news item with a file: uploaded once (ДобавитьФайл), sent as a document to each.
    bot.call(
        "ДобавитьФайл",
        &[
            s("attachment"),
            Value::Blob(b"%PDF-1.4\n%%EOF\n".to_vec()),
            s("Новость.pdf"),
        ],
    )
    .unwrap();
    let news =
        json!({"document": "attach://attachment", "caption": "<b>Новый прайс</b>"}).to_string();
    let news_id = "news-6f9619ff-8b86-d011-b42d-00c04fc964fe";
    let news_options = json!({"id": news_id, "parse_mode": "HTML"}).to_string();
    bot.call(
        "Рассылка",
        &[s(json!(users[..2]).to_string()), s(news), s(news_options)],
    )
    .unwrap();
    let status = json(
        bot.call("СостояниеРассылки", &[s(news_id), num(10)])
            .unwrap(),
    );
    assert_eq!(status["sent"], 2);
    let docs: Vec<String> = users[..2]
        .iter()
        .map(|u| sandbox.bot_messages(*u)[1].file_id.clone().unwrap())
        .collect();
    assert_eq!(docs[0], docs[1], "one upload, then its file_id");
    finish(bot);
}
