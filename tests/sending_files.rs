//! Files through the simulator against the sandbox: every kind of input,
//! media types, limits checked before upload, media groups via AddFile +
//! CallMethod, downloads.

mod common;
mod support;

use common::*;
use support::*;

fn chat(user: i64) -> Value {
    Value::number(user as f64)
}

#[test]
fn binary_data_path_url_and_file_id_each_reach_telegram() {
    let (sandbox, mut bot, user) = setup(false);
    // BinaryData, the default type (document), with a file name and caption.
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let sent = json(
        bot.call(
            "ОтправитьФайл",
            &[
                chat(user),
                Value::Blob(bytes.clone()),
                Value::str("отчёт.pdf"),
                Value::str(r#"{"caption":"Отчёт 📄"}"#),
            ],
        )
        .unwrap(),
    );
    assert_eq!(sent["document"]["file_name"], "отчёт.pdf");
    assert_eq!(sent["caption"], "Отчёт 📄");
    let file_id = sent["document"]["file_id"].as_str().unwrap().to_owned();
    assert_eq!(sandbox.file_bytes(&file_id).unwrap(), bytes);

    // A local path: the name comes from the path.
    let path = temp_path("фото.jpg");
    std::fs::write(&path, tg_sandbox::png_bytes(64, 48, 5000)).unwrap();
    let sent = json(
        bot.call(
            "SendFile",
            &[
                chat(user),
                Value::str(path.to_str().unwrap()),
                Value::Empty,
                Value::str(r#"{"type":"photo"}"#),
            ],
        )
        .unwrap(),
    );
    let photo_id = sent["photo"].as_array().unwrap().last().unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sandbox.file_bytes(&photo_id).unwrap().len(), 5000);

    // A file_id: sent again without uploading.
    let again = json(
        bot.call("SendFile", &[chat(user), Value::str(&file_id)])
            .unwrap(),
    );
    assert_eq!(again["document"]["file_id"], file_id.as_str());

    // A URL is passed to Telegram as it is; the sandbox cannot fetch URLs and says so.
    let err = error_of(
        &mut bot,
        "SendFile",
        &[
            chat(user),
            Value::str("https://example.org/cat.jpg"),
            Value::Empty,
            Value::str(r#"{"type":"photo"}"#),
        ],
    );
    assert!(
        err.contains("failed to get HTTP URL content") && err.contains("URL"),
        "{err}"
    );
    assert_eq!(sandbox.stats().requests("sendPhoto"), 2);

    // A path that does not exist is a clear error, and nothing is sent.
    let err = error_of(
        &mut bot,
        "SendFile",
        &[chat(user), Value::str("/no/such/file.txt")],
    );
    assert!(
        err.contains("/no/such/file.txt") && err.contains("Не удалось прочитать"),
        "{err}"
    );
    assert_eq!(sandbox.stats().requests("sendDocument"), 2);
    std::fs::remove_file(&path).ok();
    finish(bot);
}

#[test]
fn every_media_type_goes_to_its_method() {
    let (sandbox, mut bot, user) = setup(false);
    for (kind, method) in [
        ("photo", "sendPhoto"),
        ("video", "sendVideo"),
        ("audio", "sendAudio"),
        ("voice", "sendVoice"),
        ("animation", "sendAnimation"),
        ("document", "sendDocument"),
    ] {
        let options =
            format!(r#"{{"type":"{kind}","caption":"<b>{kind}</b>","parse_mode":"HTML"}}"#);
        // Telegram processes a photo: it must be an image.
        let bytes = if kind == "photo" {
            tg_sandbox::png_bytes(8, 8, 64)
        } else {
            vec![1, 2, 3]
        };
        let sent = json(
            bot.call(
                "SendFile",
                &[
                    chat(user),
                    Value::Blob(bytes),
                    Value::Empty,
                    Value::str(options),
                ],
            )
            .unwrap(),
        );
        assert!(sent.get(kind).is_some(), "{kind}: {sent}");
        assert_eq!(sent["caption"], kind);
        assert_eq!(sandbox.stats().requests(method), 1, "{method}");
    }
    let err = error_of(
        &mut bot,
        "SendFile",
        &[
            chat(user),
            Value::Blob(vec![1]),
            Value::Empty,
            Value::str(r#"{"type":"hologram"}"#),
        ],
    );
    assert!(err.contains("hologram") && err.contains("photo"), "{err}");
    let err = error_of(&mut bot, "SendFile", &[chat(user), Value::Bool(true)]);
    assert!(err.contains("ДвоичныеДанные или Строка"), "{err}");
    finish(bot);
}

#[test]
fn limits_are_checked_before_anything_is_uploaded() {
    let (sandbox, mut bot, user) = setup(true);
    let photo = tg_sandbox::png_bytes(4000, 3000, 10 * 1024 * 1024 + 1);
    let err = error_of(
        &mut bot,
        "SendFile",
        &[
            chat(user),
            Value::Blob(photo.clone()),
            Value::Empty,
            Value::str(r#"{"type":"photo"}"#),
        ],
    );
    assert!(
        err.contains("10 MB") && err.contains("LocalServer"),
        "{err}"
    );
    let caption = "я".repeat(1025);
    let err = error_of(
        &mut bot,
        "SendFile",
        &[
            chat(user),
            Value::Blob(vec![1]),
            Value::Empty,
            Value::str(format!(r#"{{"caption":"{caption}"}}"#)),
        ],
    );
    assert!(err.contains("1025") && err.contains("1024"), "{err}");
    let big = temp_path("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(50 * 1024 * 1024 + 1).unwrap();
    let err = error_of(
        &mut bot,
        "SendFile",
        &[chat(user), Value::str(big.to_str().unwrap())],
    );
    assert!(err.contains("50 MB") && err.contains("big.bin"), "{err}");
    let mut ru = bot_with(HostOptions::default());
    ru.set("Token", Value::str(sandbox.token())).unwrap();
    ru.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let err = error_of(
        &mut ru,
        "SendFile",
        &[chat(user), Value::str(big.to_str().unwrap())],
    );
    assert!(
        err.contains("Файл 'big.bin'") && err.contains("50 МБ"),
        "{err}"
    );
    let err = error_of(
        &mut ru,
        "SendFile",
        &[chat(user), Value::str("/no/such/dir/report.pdf")],
    );
    assert!(
        err.contains("/no/such/dir/report.pdf") && err.contains("такого файла нет"),
        "{err}"
    );
    assert_eq!(
        sandbox.stats().requests_total,
        0,
        "nothing reached the server"
    );

    // A local server takes the 10 MB photo.
    sandbox.set_local_mode(true);
    bot.set("ЛокальныйСервер", Value::Bool(true)).unwrap();
    assert_eq!(bot.get("LocalServer").unwrap(), Value::Bool(true));
    let sent = json(
        bot.call(
            "SendFile",
            &[
                chat(user),
                Value::Blob(photo),
                Value::Empty,
                Value::str(r#"{"type":"photo"}"#),
            ],
        )
        .unwrap(),
    );
    assert!(sent["photo"].is_array());
    std::fs::remove_file(&big).ok();
    finish(bot);
}

#[test]
fn a_media_group_of_three_photos_via_add_file_and_call_method() {
    let (sandbox, mut bot, user) = setup(false);
    let path = temp_path("третья.jpg");
    std::fs::write(&path, tg_sandbox::png_bytes(30, 30, 3000)).unwrap();
    assert_eq!(
        bot.call(
            "AddFile",
            &[
                Value::str("p1"),
                Value::Blob(tg_sandbox::png_bytes(10, 10, 1000)),
                Value::str("один.jpg")
            ]
        )
        .unwrap(),
        Value::I4(1)
    );
    assert_eq!(
        bot.call(
            "ДобавитьФайл",
            &[
                Value::str("p2"),
                Value::Blob(tg_sandbox::png_bytes(20, 20, 2000))
            ]
        )
        .unwrap(),
        Value::I4(2)
    );
    assert_eq!(
        bot.call(
            "AddFile",
            &[Value::str("p3"), Value::str(path.to_str().unwrap())]
        )
        .unwrap(),
        Value::I4(3)
    );
    let params = serde_json::json!({
        "chat_id": user,
        "media": [
            {"type": "photo", "media": "attach://p1", "caption": "Альбом 📸"},
            {"type": "photo", "media": "attach://p2"},
            {"type": "photo", "media": "attach://p3"},
        ]
    });
    let sent = json(
        bot.call(
            "ВызватьМетод",
            &[Value::str("sendMediaGroup"), Value::str(params.to_string())],
        )
        .unwrap(),
    );
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 3);
    let sizes: Vec<usize> = sent
        .iter()
        .map(|m| {
            let id = m["photo"].as_array().unwrap().last().unwrap()["file_id"]
                .as_str()
                .unwrap();
            sandbox.file_bytes(id).unwrap().len()
        })
        .collect();
    assert_eq!(sizes, [1000, 2000, 3000]);
    assert_eq!(sent[0]["caption"], "Альбом 📸");
    // The attached files were used up by that call.
    let err = error_of(
        &mut bot,
        "CallMethod",
        &[Value::str("sendMediaGroup"), Value::str(params.to_string())],
    );
    assert!(err.contains("p1"), "{err}");
    std::fs::remove_file(&path).ok();
    finish(bot);
}

#[test]
fn call_method_reaches_any_method_and_names_unknown_ones() {
    let (sandbox, mut bot, user) = setup(true);
    let done = bot
        .call(
            "CallMethod",
            &[
                Value::str("setMyCommands"),
                Value::str(r#"{"commands":[{"command":"start","description":"Начать"}]}"#),
            ],
        )
        .unwrap();
    assert_eq!(text(done), "true");
    assert_eq!(sandbox.bot_commands()[0]["description"], "Начать");
    let me = json(bot.call("CallMethod", &[Value::str("getMe")]).unwrap());
    assert_eq!(me["id"].as_i64(), Some(sandbox.bot_id()));
    let chat_info = json(
        bot.call(
            "CallMethod",
            &[
                Value::str("getChat"),
                Value::str(format!(r#"{{"chat_id":{user}}}"#)),
            ],
        )
        .unwrap(),
    );
    assert_eq!(chat_info["first_name"], "Иван");
    let err = error_of(
        &mut bot,
        "CallMethod",
        &[Value::str("sendMessage/../getMe")],
    );
    assert!(err.contains("'Method'"), "{err}");
    finish(bot);
}

#[test]
fn download_file_returns_the_bytes_and_honours_the_cloud_limit() {
    let (sandbox, mut bot, user) = setup(false);
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let action = sandbox
        .user_sends_document(user, "данные.bin", bytes.clone(), None)
        .unwrap();
    let _ = action;
    let history = sandbox.chat_history(user);
    let file_id = history.last().unwrap().file_id.clone().unwrap();
    let got = bot.call("СкачатьФайл", &[Value::str(&file_id)]).unwrap();
    assert_eq!(got, Value::Blob(bytes));
    let big = vec![9u8; 20 * 1024 * 1024 + 10];
    sandbox
        .user_sends_document(user, "big.bin", big, None)
        .unwrap();
    let big_id = sandbox
        .chat_history(user)
        .last()
        .unwrap()
        .file_id
        .clone()
        .unwrap();
    let err = error_of(&mut bot, "DownloadFile", &[Value::str(&big_id)]);
    assert!(err.contains("20"), "{err}");
    let err = error_of(
        &mut bot,
        "DownloadFile",
        &[Value::str("nonexistent_file_id_123")],
    );
    assert!(
        err.contains("invalid file_id") || err.contains("file"),
        "{err}"
    );
    finish(bot);
}

#[test]
fn an_attached_file_deleted_before_the_call_is_named_and_not_retried() {
    let (sandbox, mut bot, user) = setup(false);
    let log = temp_path("send.log");
    bot.set("LogFile", Value::str(log.to_str().unwrap()))
        .unwrap();
    bot.set("LogLevel", Value::str("debug")).unwrap();
    let path = temp_path("исчезнет.pdf");
    std::fs::write(&path, b"soon gone").unwrap();
    bot.call(
        "AddFile",
        &[Value::str("doc"), Value::str(path.to_str().unwrap())],
    )
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    let params = serde_json::json!({"chat_id": user, "document": "attach://doc"});
    let err = error_of(
        &mut bot,
        "CallMethod",
        &[Value::str("sendDocument"), Value::str(params.to_string())],
    );
    assert!(
        err.contains(path.to_str().unwrap()) && err.contains("такого файла нет"),
        "{err}"
    );
    assert!(
        !err.contains("подключиться") && !err.contains("АдресAPI"),
        "{err}"
    );
    let lines = std::fs::read_to_string(&log).unwrap();
    assert!(lines.contains("sendDocument failed"), "{lines}");
    assert!(!lines.contains("retry"), "never retried: {lines}");
    assert_eq!(sandbox.stats().requests("sendDocument"), 0);
    finish(bot);
}
