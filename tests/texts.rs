//! Error texts that were wrong or stale: each says what happened, in the
//! platform's language, and lists what is really accepted.

mod common;
mod support;

use common::*;
use support::*;

#[test]
fn a_boolean_parameter_names_the_1c_type_in_either_language() {
    let (_sandbox, mut ru, _) = setup(false);
    let err = error_of(&mut ru, "DeleteWebhook", &[Value::str("да")]);
    assert!(
        err.contains("'УдалитьОжидающие'") && err.contains("Булево") && err.contains("типа Строка"),
        "{err}"
    );
    assert!(
        !err.contains("String"),
        "no Rust name in a Russian text: {err}"
    );
    let (_sandbox, mut en, _) = setup(true);
    let err = error_of(
        &mut en,
        "AnswerCallbackQuery",
        &[Value::str("1"), Value::str(""), Value::I4(1)],
    );
    assert!(
        err.contains("'ShowAlert'") && err.contains("Boolean") && err.contains("Number"),
        "{err}"
    );
}

#[test]
fn a_file_too_big_to_download_says_nothing_was_downloaded() {
    let (sandbox, mut bot, user) = setup(false);
    // The server would serve it; the add-in stops at the cloud's 20 MB first.
    sandbox.set_file_limits(50 << 20, 10 << 20, 30 << 20);
    sandbox
        .user_sends_document(user, "big.bin", vec![9u8; 20 * 1024 * 1024 + 10], None)
        .unwrap();
    let big_id = sandbox
        .chat_history(user)
        .last()
        .unwrap()
        .file_id
        .clone()
        .unwrap();
    let err = error_of(&mut bot, "DownloadFile", &[Value::str(&big_id)]);
    assert!(
        err.contains("20 МБ")
            && err.contains("ничего не скачано")
            && err.contains("ЛокальныйСервер"),
        "{err}"
    );
    assert!(
        !err.contains("отправлено"),
        "nothing is sent by a download: {err}"
    );
}

#[test]
fn an_unknown_file_type_lists_all_eight_types() {
    let (_sandbox, mut bot, user) = setup(true);
    let err = error_of(
        &mut bot,
        "SendFile",
        &[
            Value::number(user as f64),
            Value::Blob(vec![1]),
            Value::str(""),
            Value::str(r#"{"type":"gif"}"#),
        ],
    );
    for kind in [
        "document",
        "photo",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "video_note",
    ] {
        assert!(err.contains(kind), "{kind} missing: {err}");
    }
}
