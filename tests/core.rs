//! The add-in core through the 1C platform simulator: exports, names,
//! parameters, call styles, errors, panics, memory and teardown.

mod common;

use common::*;
use onec_simulator::{DateTime, ExceptionKind};

const PROPS: &[(&str, &str)] = &[
    ("Version", "Версия"),
    ("Token", "Токен"),
    ("ApiUrl", "АдресAPI"),
    ("Proxy", "Прокси"),
    ("Timeout", "Таймаут"),
    ("CaFile", "ФайлСертификатовCA"),
    ("LastError", "ПоследняяОшибка"),
    ("MaxRetries", "МаксимумПовторов"),
    ("ConnectTimeout", "ТаймаутПодключения"),
    ("LocalServer", "ЛокальныйСервер"),
    ("LogFile", "ФайлЖурнала"),
    ("LogLevel", "УровеньЖурнала"),
    ("MigratedChatId", "НовыйИдЧата"),
    ("LongPollTimeout", "ТаймаутОжидания"),
    ("Polling", "ПолучениеЗапущено"),
    ("StateDir", "КаталогСостояния"),
    ("WebhookSecret", "СекретWebhook"),
    ("LastErrorKind", "ВидПоследнейОшибки"),
    ("ConfirmEvents", "ПодтверждатьСобытия"),
    ("MaxParts", "МаксимумЧастей"),
    ("BindingReply", "ОтветПриПривязке"),
];

const METHODS: &[(&str, &str, i64)] = &[
    ("GetMe", "ПолучитьИнформациюБота", 0),
    ("SendMessage", "ОтправитьСообщение", 3),
    ("SendFile", "ОтправитьФайл", 4),
    ("AddFile", "ДобавитьФайл", 3),
    ("CallMethod", "ВызватьМетод", 2),
    ("AnswerCallbackQuery", "ОтветитьНаНажатие", 3),
    ("EditMessage", "ИзменитьСообщение", 4),
    ("DeleteMessage", "УдалитьСообщение", 2),
    ("DownloadFile", "СкачатьФайл", 2),
    ("EscapeMarkdown", "ЭкранироватьMarkdown", 1),
    ("EscapeHtml", "ЭкранироватьHTML", 1),
    ("StartPolling", "НачатьПолучение", 1),
    ("StopPolling", "ОстановитьПолучение", 0),
    ("GetUpdates", "ПолучитьОбновления", 2),
    ("ConfirmUpdates", "ПодтвердитьОбновления", 1),
    ("SetWebhook", "УстановитьWebhook", 3),
    ("DeleteWebhook", "УдалитьWebhook", 1),
    ("ParseWebhook", "РазобратьWebhook", 2),
    ("NewBindingCode", "НовыйКодПривязки", 2),
    ("BindingQR", "QRКодПривязки", 2),
    ("BindContact", "ПривязатьКонтакт", 2),
    ("CancelBindingCode", "ОтменитьКодПривязки", 1),
];

fn flip_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().collect::<String>()
            } else {
                c.to_uppercase().collect::<String>()
            }
        })
        .collect()
}

#[test]
fn library_exports_exactly_the_five_platform_functions() {
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(addin_path())
        .output()
        .expect("run nm");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut exported: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" T "))
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    exported.sort();
    assert_eq!(
        exported,
        [
            "DestroyObject",
            "GetAttachType",
            "GetClassNames",
            "GetClassObject",
            "SetPlatformCapabilities"
        ]
    );
}

#[test]
fn class_name_matches_the_registered_extension_and_attaches_any_way() {
    assert_eq!(library().class_names(), ["Bot"]);
    assert_eq!(library().attach_type(), 3, "AttachType Any");
    let mut bot = bot();
    let (ok, name) = bot.raw().register_extension_as();
    assert!(ok);
    assert_eq!(name.as_deref(), Some("Bot"));
    assert_eq!(bot.raw().get_info(), 2000);
    finish(bot);
}

#[test]
fn unknown_class_is_refused() {
    assert!(library().create("Robot", HostOptions::default()).is_err());
}

#[test]
fn every_member_is_found_by_both_names_in_any_letter_case() {
    let mut bot = bot();
    let en: Vec<String> = bot.prop_names(0);
    let ru: Vec<String> = bot.prop_names(1);
    let expected_en: Vec<&str> = PROPS.iter().map(|p| p.0).collect();
    let expected_ru: Vec<&str> = PROPS.iter().map(|p| p.1).collect();
    assert_eq!(en, expected_en);
    assert_eq!(ru, expected_ru);
    for (i, (e, r)) in PROPS.iter().enumerate() {
        for name in [
            e.to_string(),
            r.to_string(),
            e.to_uppercase(),
            r.to_lowercase(),
            flip_case(r),
        ] {
            assert_eq!(bot.raw().find_prop(Some(&name)), i as i64, "{name}");
            assert!(bot.get(&name).is_ok(), "get {name}");
        }
    }
    let methods_en = bot.method_names(0);
    let methods_ru = bot.method_names(1);
    for (e, r, params) in METHODS {
        let i = methods_en
            .iter()
            .position(|m| m == e)
            .unwrap_or_else(|| panic!("{e} missing"));
        assert_eq!(methods_ru[i], *r);
        for name in [
            e.to_string(),
            r.to_string(),
            e.to_lowercase(),
            r.to_uppercase(),
            flip_case(r),
        ] {
            assert_eq!(bot.raw().find_method(Some(&name)), i as i64, "{name}");
        }
        assert_eq!(bot.raw().get_n_params(i as i64), *params, "{e}");
        assert!(bot.raw().has_ret_val(i as i64), "{e} returns a value");
    }
    assert_eq!(bot.raw().find_method(Some("NoSuchMethod")), -1);
    assert_eq!(bot.raw().find_prop(Some("НетТакого")), -1);
    assert!(
        bot.raw().get_method_name(0, 2).is_none(),
        "alias 2 does not exist"
    );
    finish(bot);
}

#[test]
fn version_is_read_only_and_names_the_crate_version() {
    let mut bot = bot();
    assert_eq!(text(bot.get("Версия").unwrap()), env!("CARGO_PKG_VERSION"));
    let err = bot.set("Version", Value::str("9.9")).unwrap_err();
    assert_eq!(err.kind, ExceptionKind::PropertyNotWritable, "{err:?}");
    finish(bot);
}

#[test]
fn token_reads_back_masked_and_a_malformed_one_changes_nothing() {
    let mut bot = bot();
    assert_eq!(text(bot.get("Token").unwrap()), "");
    bot.set("Токен", Value::str("123456:AAEhBP0av28-Secret_x"))
        .unwrap();
    assert_eq!(text(bot.get("Token").unwrap()), "123456:***");
    let err = bot.set("Token", Value::str("not a token")).unwrap_err();
    assert!(err.text.contains("токен"), "{}", err.text);
    // Neither the rejected value (it may be a real token with a typo) nor the
    // secret part of the token in use is echoed back.
    assert!(
        !err.text.contains("not a token") && !err.text.contains("Secret"),
        "{}",
        err.text
    );
    assert_eq!(
        text(bot.get("Token").unwrap()),
        "123456:***",
        "old token kept"
    );
    assert_eq!(text(bot.get("ПоследняяОшибка").unwrap()), err.text);
    bot.set("Token", Value::Empty).unwrap();
    assert_eq!(text(bot.get("Token").unwrap()), "");
    finish(bot);
}

#[test]
fn api_url_has_a_default_and_refuses_what_is_not_http() {
    let mut bot = bot();
    assert_eq!(text(bot.get("ApiUrl").unwrap()), "https://api.telegram.org");
    bot.set("АдресAPI", Value::str("http://127.0.0.1:8081/"))
        .unwrap();
    assert_eq!(text(bot.get("ApiUrl").unwrap()), "http://127.0.0.1:8081");
    let err = bot
        .set("ApiUrl", Value::str("ftp://example.org"))
        .unwrap_err();
    assert!(err.text.contains("https://"), "{}", err.text);
    assert_eq!(text(bot.get("ApiUrl").unwrap()), "http://127.0.0.1:8081");
    bot.set("ApiUrl", Value::str("")).unwrap();
    assert_eq!(text(bot.get("ApiUrl").unwrap()), "https://api.telegram.org");
    finish(bot);
}

#[test]
fn proxy_accepts_http_and_socks_and_never_shows_the_password() {
    let mut bot = bot();
    assert_eq!(text(bot.get("Proxy").unwrap()), "");
    bot.set(
        "Прокси",
        Value::str("socks5://user:pa55word@127.0.0.1:1080"),
    )
    .unwrap();
    assert_eq!(
        text(bot.get("Proxy").unwrap()),
        "socks5://***@127.0.0.1:1080"
    );
    bot.set("Proxy", Value::str("http://127.0.0.1:3128"))
        .unwrap();
    let err = bot
        .set("Proxy", Value::str("gopher://user:pa55word@host:70"))
        .unwrap_err();
    assert!(!err.text.contains("pa55word"), "{}", err.text);
    assert!(err.text.contains("socks5://"), "{}", err.text);
    assert_eq!(text(bot.get("Proxy").unwrap()), "http://127.0.0.1:3128");
    finish(bot);
}

#[test]
fn timeout_takes_numbers_as_i4_or_r8_and_refuses_other_types() {
    let mut bot = bot();
    assert_eq!(bot.get("Timeout").unwrap(), Value::I4(30));
    bot.set("Таймаут", Value::I4(5)).unwrap();
    assert_eq!(bot.get("Timeout").unwrap(), Value::I4(5));
    bot.set("Timeout", Value::R8(60.0)).unwrap();
    assert_eq!(bot.get("Timeout").unwrap(), Value::I4(60));
    for bad in [Value::R8(1.5), Value::I4(0), Value::I4(100_000)] {
        let err = bot.set("Timeout", bad.clone()).unwrap_err();
        assert!(err.text.contains("от 1 до 3600"), "{bad:?}: {}", err.text);
    }
    let wrong = [
        (Value::str("10"), "Строка"),
        (Value::Bool(true), "Булево"),
        (Value::Date(DateTime::new(2024, 1, 2, 3, 4, 5)), "Дата"),
        (Value::Blob(vec![1, 2]), "ДвоичныеДанные"),
        (Value::Empty, "Неопределено"),
        (Value::Null, "Null"),
        (
            Value::Raw {
                vt: 0x1234,
                bytes: [0; 8],
            },
            "vt=4660",
        ),
        (Value::i8(5), "vt=17"),
    ];
    for (value, got) in wrong {
        let err = bot.set("Timeout", value.clone()).unwrap_err();
        assert!(
            err.text.contains("'Таймаут'") && err.text.contains("Число") && err.text.contains(got),
            "{value:?}: {}",
            err.text
        );
    }
    assert_eq!(
        bot.get("Timeout").unwrap(),
        Value::I4(60),
        "nothing changed"
    );
    finish(bot);
}

#[test]
fn wrong_parameter_types_name_the_parameter_in_english_too() {
    let (_sandbox, _) = (0, 0);
    let mut bot = bot_en();
    bot.set("Token", Value::str("1:abc")).unwrap();
    let err = bot
        .call("SendMessage", &[Value::Bool(true), Value::str("hi")])
        .unwrap_err();
    assert_eq!(err.kind, ExceptionKind::AddIn);
    assert!(
        err.text.contains("'ChatId'")
            && err.text.contains("Number or String")
            && err.text.contains("Boolean"),
        "{}",
        err.text
    );
    let err = bot
        .call("SendMessage", &[Value::I4(1), Value::Blob(vec![0])])
        .unwrap_err();
    assert!(
        err.text.contains("'Text'")
            && err.text.contains("String")
            && err.text.contains("BinaryData"),
        "{}",
        err.text
    );
    let err = bot
        .call(
            "SendMessage",
            &[Value::I4(1), Value::str("hi"), Value::str("[1]")],
        )
        .unwrap_err();
    assert!(
        err.text.contains("'Options'") && err.text.contains("JSON object"),
        "{}",
        err.text
    );
    finish(bot);
}

#[test]
fn get_me_returns_the_bot_as_json_in_both_call_styles() {
    let (sandbox, mut bot) = bot_on_sandbox();
    let me = json(bot.call("GetMe", &[]).unwrap());
    assert_eq!(me["is_bot"], true);
    assert_eq!(me["id"].as_i64(), Some(sandbox.bot_id()));
    assert!(me["username"].as_str().is_some());
    bot.call_proc("ПолучитьИнформациюБота", &[]).unwrap();
    let calls = sandbox
        .stats()
        .requests_by_method
        .get("getMe")
        .copied()
        .unwrap_or(0);
    assert_eq!(calls, 2);
    finish(bot);
}

#[test]
fn send_message_keeps_big_chat_ids_exact_and_options_optional() {
    let (sandbox, mut bot) = bot_on_sandbox();
    // A user id above i32 arrives from 1C as R8 and must stay exact.
    let user = sandbox.create_user_with(Some(7_123_456_789), "Ivan", None);
    assert_eq!(user, 7_123_456_789);
    let sent = json(
        bot.call(
            "SendMessage",
            &[Value::number(user as f64), Value::str("Привет 👋")],
        )
        .unwrap(),
    );
    assert_eq!(sent["chat"]["id"].as_i64(), Some(7_123_456_789));
    assert_eq!(sent["text"], "Привет 👋");
    bot.call_proc(
        "ОтправитьСообщение",
        &[
            Value::str("7123456789"),
            Value::str("<b>жирный</b>"),
            Value::str(r#"{"parse_mode":"HTML"}"#),
        ],
    )
    .unwrap();
    let messages = sandbox.wait_bot_messages(user, 2, std::time::Duration::from_secs(5));
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].text.as_deref(), Some("жирный"));
    finish(bot);
}

#[test]
fn a_wrong_token_raises_a_readable_exception_without_the_token() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let secret = "987654:WrongSecretPart_abcdef";
    for (lang, expected) in [("ru", "отклонил токен"), ("en", "rejected the bot token")]
    {
        let mut bot = bot_with(HostOptions {
            language: lang.into(),
            ..HostOptions::default()
        });
        bot.set("Token", Value::str(secret)).unwrap();
        bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
        let err = bot.call("GetMe", &[]).unwrap_err();
        assert_eq!(err.kind, ExceptionKind::AddIn);
        assert!(
            err.text.contains(expected) && err.text.contains("401"),
            "{}",
            err.text
        );
        assert!(
            !err.text.contains("WrongSecretPart"),
            "token leaked: {}",
            err.text
        );
        assert_eq!(text(bot.get("LastError").unwrap()), err.text);
        for record in bot.add_errors() {
            assert!(!record.descr.contains("WrongSecretPart"));
            assert_ne!(record.scode, 0, "a non-zero scode raises the exception");
        }
        finish(bot);
    }
}

#[test]
fn an_unreachable_server_raises_a_readable_exception() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut bot = bot();
    bot.set("Token", Value::str("123456:SecretSecretSecret"))
        .unwrap();
    bot.set("ApiUrl", Value::str(format!("http://127.0.0.1:{port}")))
        .unwrap();
    bot.set("Timeout", Value::I4(5)).unwrap();
    let err = bot.call("GetMe", &[]).unwrap_err();
    assert!(
        err.text.contains("Не удалось подключиться к 127.0.0.1"),
        "{}",
        err.text
    );
    assert!(
        err.text.contains("Прокси"),
        "says what to check: {}",
        err.text
    );
    assert!(!err.text.contains("SecretSecret"), "{}", err.text);
    finish(bot);
}

#[test]
fn a_call_without_a_token_says_to_set_it() {
    let mut bot = bot();
    let err = bot.call("GetMe", &[]).unwrap_err();
    assert!(err.text.contains("Не задан токен"), "{}", err.text);
    finish(bot);
}

#[test]
fn last_error_is_cleared_by_the_next_successful_call() {
    let (_sandbox, mut bot) = bot_on_sandbox();
    bot.call("SendMessage", &[Value::Bool(false), Value::str("x")])
        .unwrap_err();
    assert!(!text(bot.get("LastError").unwrap()).is_empty());
    bot.call("GetMe", &[]).unwrap();
    assert_eq!(text(bot.get("LastError").unwrap()), "");
    finish(bot);
}

#[test]
fn omitted_required_parameters_are_the_platforms_error() {
    let mut bot = bot();
    let err = bot.call("SendMessage", &[Value::I4(1)]).unwrap_err();
    assert_eq!(err.kind, ExceptionKind::NotEnoughParams, "{err:?}");
    let i = bot.raw().find_method(Some("SendMessage"));
    let (has_default, value) = bot.raw().get_param_def_value(i, 2);
    assert!(has_default);
    assert_eq!(
        value,
        Value::Null,
        "not empty, for OneScript (tests/onescript.rs)"
    );
    assert!(!bot.raw().get_param_def_value(i, 0).0, "ChatId is required");
    assert!(
        !bot.raw().get_param_def_value(i, 3).0,
        "no fourth parameter"
    );
    finish(bot);
}

#[test]
fn forced_panics_at_every_kind_of_entry_leave_the_host_alive() {
    let (_sandbox, mut bot) = bot_on_sandbox();
    let err = bot
        .call_proc("DebugPanic", &[Value::str("now")])
        .unwrap_err();
    assert!(err.text.contains("Внутренняя ошибка"), "{}", err.text);
    assert!(text(bot.get("LastError").unwrap()).contains("Внутренняя ошибка"));

    bot.call_proc("DebugPanic", &[Value::str("get")]).unwrap();
    let err = bot.get("Version").unwrap_err();
    assert!(err.text.contains("Внутренняя ошибка"), "{}", err.text);

    bot.call_proc("DebugPanic", &[Value::str("set")]).unwrap();
    let err = bot.set("Timeout", Value::I4(10)).unwrap_err();
    assert!(err.text.contains("Внутренняя ошибка"), "{}", err.text);

    bot.call_proc("DebugPanic", &[Value::str("call")]).unwrap();
    assert!(bot.call("GetMe", &[]).is_err());

    bot.call_proc("DebugPanic", &[Value::str("find")]).unwrap();
    assert!(
        bot.call("GetMe", &[]).is_err(),
        "FindMethod panicked: method not found"
    );

    // Still alive and working.
    assert_eq!(json(bot.call("GetMe", &[]).unwrap())["is_bot"], true);
    finish(bot);
}

#[test]
fn out_of_range_numbers_and_null_pointers_fail_cleanly() {
    let mut bot = bot();
    let mut raw = bot.raw();
    assert!(!raw.call_as_proc(999, &[], None));
    assert!(!raw.call_as_func(-1, &[], None).0);
    assert!(!raw.get_prop_val(999).0);
    assert!(!raw.set_prop_val(-5, &Value::I4(1)));
    assert!(!raw.is_prop_readable(999));
    assert!(!raw.is_prop_writable(-1));
    assert!(raw.get_prop_name(999, 0).is_none());
    assert!(raw.get_method_name(-1, 1).is_none());
    assert_eq!(raw.get_n_params(999), 0);
    assert!(!raw.has_ret_val(999));
    assert!(!raw.get_param_def_value(999, 0).0);
    assert_eq!(raw.find_method(None), -1);
    assert_eq!(raw.find_prop(None), -1);
    let send = raw.find_method(Some("SendMessage"));
    assert!(
        !raw.call_as_func_null_params(send, 3).0,
        "null parameter array"
    );
    raw.set_locale(None);
    raw.set_user_interface_language_code(None);
    assert!(bot.get("Version").is_ok());
    finish(bot);
}

#[test]
fn both_teardowns_run_clean() {
    for style in [Teardown::OneC, Teardown::OneScript] {
        let (_sandbox, mut bot) = bot_on_sandbox();
        bot.call("GetMe", &[]).unwrap();
        bot.get("Token").unwrap();
        let report = finish_with(bot, style);
        assert!(
            report.allocations > 0 && report.frees == report.allocations,
            "{style:?}: {report}"
        );
    }
}

#[test]
fn a_server_component_raises_no_external_events() {
    let mut server = bot_with(HostOptions::server());
    assert_eq!(
        server
            .call("DebugEvent", &[Value::str("message"), Value::str("{}")])
            .unwrap(),
        Value::Bool(false)
    );
    assert_eq!(
        server.server_events(),
        0,
        "ExternalEvent was never called on the server"
    );
    assert!(server.drain_events().is_empty());
    finish(server);

    let mut client = bot();
    assert_eq!(
        client
            .call(
                "DebugEvent",
                &[Value::str("message"), Value::str("{\"a\":1}")]
            )
            .unwrap(),
        Value::Bool(true)
    );
    let event = client
        .next_event(std::time::Duration::from_secs(1))
        .expect("event");
    assert_eq!(
        (
            event.source.as_str(),
            event.message.as_str(),
            event.data.as_str()
        ),
        ("Telegram", "message", "{\"a\":1}")
    );
    finish(client);
}

#[test]
fn the_platform_event_buffer_starts_at_depth_one() {
    let mut bot = bot();
    assert_eq!(bot.event_buffer_depth(), 1);
    assert_eq!(
        bot.call("DebugEvent", &[Value::str("a")]).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(
        bot.call("DebugEvent", &[Value::str("b")]).unwrap(),
        Value::Bool(false),
        "queue full"
    );
    assert_eq!(bot.drain_events().len(), 1);
    finish(bot);
}

#[test]
fn unicode_round_trips_exactly() {
    let (sandbox, mut bot) = bot_on_sandbox();
    let user = sandbox.create_user("Ахмед");
    let text_in = "Привет 👨‍👩‍👧‍👦 🇷🇺🇺🇦 שלום עליכם مرحبا";
    let sent = json(
        bot.call(
            "SendMessage",
            &[Value::I4(user as i32), Value::str(text_in)],
        )
        .unwrap(),
    );
    assert_eq!(sent["text"], text_in);
    finish(bot);
}
