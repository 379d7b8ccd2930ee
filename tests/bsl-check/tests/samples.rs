//! The 1C samples compile, as far as a parser can tell. Each check runs on the
//! real `1c-samples/` and must find nothing, and on a broken copy (one line
//! changed in memory) where it must find exactly that break.

use bsl_check::*;
use std::path::Path;

fn samples() -> Vec<Module> {
    let modules = load_all(&samples_dir());
    assert!(modules.len() >= 20, "only {} modules found", modules.len());
    modules
}

fn metadata() -> serde_json::Value {
    let text = std::fs::read_to_string(samples_dir().join("metadata.json")).expect("metadata.json");
    serde_json::from_str(&text).expect("metadata.json is JSON")
}

/// The samples with one module's text changed by `edit`.
fn broken(file: &str, edit: impl Fn(&str) -> String) -> Vec<Module> {
    let mut modules = samples();
    let i = modules
        .iter()
        .position(|m| m.file == file)
        .unwrap_or_else(|| panic!("{file}"));
    let code = edit(&modules[i].code);
    assert_ne!(code, modules[i].code, "the edit changed nothing");
    modules[i] = Module::from_text(file.to_string(), code);
    modules
}

fn assert_clean(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn assert_finds(problems: Vec<String>, needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "the broken copy was not caught ({needle}); found: {problems:#?}"
    );
}

const MENU: &str = "ОбщийМодуль.TelegramМеню.bsl";

#[test]
fn every_module_parses_without_error_or_missing_nodes() {
    assert_clean(check_syntax(&samples()));
}

#[test]
fn the_parse_check_catches_a_broken_copy() {
    let copy = broken(MENU, |c| {
        c.replacen("КонецЕсли;", "КонецЕсли", 1)
            .replacen("Тогда", "", 1)
    });
    assert!(!check_syntax(&copy).is_empty());
}

#[test]
fn every_bare_call_is_a_module_method_or_a_platform_global() {
    assert_clean(check_bare_calls(&samples()));
}

#[test]
fn the_bare_call_check_catches_an_undefined_procedure() {
    // The seed's bug: a call to a procedure defined nowhere.
    let copy = broken(MENU, |c| {
        c.replacen(
            "ПоказатьМеню(Бот, ИдЧата, Группа);",
            "ЗаписатьОценку(Бот, ИдЧата, Группа);",
            1,
        )
    });
    assert_finds(check_bare_calls(&copy), "ЗаписатьОценку()");
}

#[test]
fn calls_into_sample_common_modules_name_exported_methods() {
    assert_clean(check_common_module_calls(&samples()));
}

#[test]
fn the_common_module_check_catches_unexported_and_missing_methods() {
    let copy = broken("ОбщийМодуль.TelegramСервер.bsl", |c| {
        c.replacen(
            "Функция ЧатКонтакта(Контакт) Экспорт",
            "Функция ЧатКонтакта(Контакт)",
            1,
        )
    });
    assert_finds(
        check_common_module_calls(&copy),
        "TelegramСервер.ЧатКонтакта is not exported",
    );
    let copy = broken(MENU, |c| {
        c.replacen(
            "TelegramОтчеты.ПоказатьГруппу(",
            "TelegramОтчеты.ПоказатьГруппуОтчетов(",
            1,
        )
    });
    assert_finds(
        check_common_module_calls(&copy),
        "ПоказатьГруппуОтчетов is not defined",
    );
}

#[test]
fn no_identifier_has_yo() {
    assert_clean(check_no_yo(&samples()));
}

#[test]
fn the_yo_check_catches_a_name_with_yo() {
    let copy = broken("ОбщийМодуль.TelegramОтчеты.bsl", |c| {
        c.replace("ОтправитьОтчет", "ОтправитьОтчёт")
    });
    assert_finds(check_no_yo(&copy), "ОтправитьОтчёт");
}

#[test]
fn every_metadata_object_used_is_declared() {
    let meta = metadata();
    assert_clean(check_metadata_keys(&meta));
    assert_clean(check_metadata(&samples(), &meta));
}

#[test]
fn the_metadata_check_catches_undeclared_objects_in_code_and_queries() {
    let meta = metadata();
    let copy = broken(MENU, |c| {
        c.replacen(
            "Справочники.ИнструкцииTelegram.НайтиПоКоду",
            "Справочники.ИнструкцииБота.НайтиПоКоду",
            1,
        )
    });
    assert_finds(
        check_metadata(&copy, &meta),
        "Справочник.ИнструкцииБота is not declared",
    );
    let copy = broken(MENU, |c| {
        c.replacen(
            "Справочник.ИнструкцииTelegram КАК",
            "Справочник.Инструкции КАК",
            1,
        )
    });
    assert_finds(
        check_metadata(&copy, &meta),
        "Справочник.Инструкции is not declared",
    );
    let mut meta = meta;
    meta["objects"]["Регистр.Привязки"] = serde_json::json!({});
    assert_finds(check_metadata_keys(&meta), "Регистр.Привязки");
}

#[test]
fn ordinary_form_modules_use_nothing_newer_than_8_2() {
    let modules = samples();
    let ordinary: Vec<&str> = modules
        .iter()
        .filter(|m| m.is_ordinary_form())
        .map(|m| m.file.as_str())
        .collect();
    assert!(ordinary.len() >= 5, "ordinary-form modules: {ordinary:?}");
    assert_clean(check_ordinary_forms(&modules));
}

#[test]
fn the_ordinary_form_check_catches_async_and_8_3_6_functions() {
    let file = "Обработка.ПривязкаTelegram.ФормаОбычная.bsl";
    let copy = broken(file, |c| {
        c.replacen(
            "Процедура ПриОткрытии()",
            "Асинх Процедура ПриОткрытии()",
            1,
        )
    });
    assert_finds(check_ordinary_forms(&copy), "«Асинх»");
    let copy = broken(file, |c| {
        c.replacen(
            "Новый_ = TelegramВызовСервера82",
            "Новый_ = Ждать TelegramВызовСервера82",
            1,
        )
    });
    assert_finds(check_ordinary_forms(&copy), "«Ждать»");
    let copy = broken("ОбщийМодуль.TelegramМеню82.bsl", |c| {
        c.replacen("СтрДлина(Текст) >= 3", "СтрНайти(Текст, \" \") >= 3", 1)
    });
    assert_finds(check_ordinary_forms(&copy), "«СтрНайти»");
}

#[test]
fn the_token_stays_on_the_server() {
    assert_clean(check_token_stays_on_server(&samples()));
    assert_clean(check_forms_call_server_call_modules(&samples()));
}

#[test]
fn the_token_check_catches_a_token_sent_to_the_client() {
    // The seed's form fetched the token into the client.
    let copy = broken(
        "ОбщийМодуль.TelegramВызовСервера.bsl",
        |c| {
            c.replacen("Возврат Новый Структура(\"АдресAPI, Билет\", Константы.АдресРелеTelegram.Получить(), Билет);",
            "Возврат Новый Структура(\"АдресAPI, Билет\", Константы.АдресРелеTelegram.Получить(), Константы.ТокенTelegram.Получить());", 1)
        },
    );
    assert_finds(check_token_stays_on_server(&copy), "reads the token");
    let copy = broken(
        "Обработка.КонсольTelegram.Форма.Форма.bsl",
        |c| {
            c.replacen(
                "TelegramВызовСервера.ОбработатьСобытие(Событие, Данные)",
                "TelegramВызовСервера.ОбработатьСобытие(Бот, Данные)",
                1,
            )
        },
    );
    assert_finds(check_token_stays_on_server(&copy), "gets the add-in object");
    let copy = broken(
        "Обработка.КонсольTelegram.Форма.Форма.bsl",
        |c| {
            c.replacen(
                "TelegramВызовСервера.ОбработатьСобытие(Событие, Данные)",
                "TelegramМеню.ОбработатьСобытие(Событие, Данные)",
                1,
            )
        },
    );
    assert_finds(
        check_forms_call_server_call_modules(&copy),
        "without «Вызов сервера»",
    );
}

#[test]
fn the_addin_member_list_matches_the_samples() {
    let text = std::fs::read_to_string(samples_dir().join("addin-members.json"))
        .expect("addin-members.json");
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<(String, String, Vec<usize>)> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let args = m["args"]
                .as_array()
                .map(|a| a.iter().map(|n| n.as_u64().unwrap() as usize).collect())
                .unwrap_or_default();
            (
                m["ru"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
                args,
            )
        })
        .collect();
    let used: Vec<(String, String, Vec<usize>)> = addin_usage(&samples())
        .into_iter()
        .map(|(name, (kind, args))| (name, kind, args))
        .collect();
    assert_eq!(
        listed, used,
        "1c-samples/addin-members.json is out of date with the samples"
    );
}

#[test]
fn every_module_states_its_platform_floor() {
    for m in samples() {
        let header = m.header();
        assert!(
            header.contains("Платформа: 8."),
            "{}: no «Платформа: 8.x» in its first comment",
            m.file
        );
    }
    assert!(Path::new(&samples_dir().join("README.md")).exists());
}

#[test]
fn the_samples_readme_lists_every_module_and_metadata_object() {
    let readme = std::fs::read_to_string(samples_dir().join("README.md")).expect("README.md");
    for m in samples() {
        assert!(
            readme.contains(&format!("`{}`", m.file)),
            "README.md lacks the floor row of {}",
            m.file
        );
    }
    for key in metadata_keys(&metadata()) {
        assert!(
            readme.contains(&format!("`{key}`")),
            "README.md lacks the metadata row of {key}"
        );
    }
}
