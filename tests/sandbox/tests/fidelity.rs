//! Where the sandbox once differed from Telegram (issue 12), one test a point:
//! each failed on the sandbox before the fix.

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use tg_sandbox::{Sandbox, SandboxConfig, MB};

fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).unwrap()
}

/// POST with exactly these headers (no Content-Type unless given), as 1C's
/// `HTTPЗапрос` sends; returns (status, JSON body).
fn raw_post(sb: &Sandbox, method: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(sb.addr()).unwrap();
    let ct = content_type
        .map(|c| format!("Content-Type: {c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /bot{}/{method} HTTP/1.1\r\nHost: {}\r\n{ct}Content-Length: {}\r\nConnection: close\r\n\r\n",
        sb.token(),
        sb.addr(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let json = answer.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(json).unwrap())
}

fn description(v: &Value) -> &str {
    v["description"].as_str().unwrap_or("")
}

fn control_post(sb: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    read(
        agent()
            .post(format!("{}/control/{path}", sb.api_url()))
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

// 1 ------------------------------------------------------------------------

#[test]
fn a_body_without_a_known_content_type_is_not_read() {
    let sb = start();
    let u = sb.create_user("Ivan");
    let body = format!("chat_id={u}&text=hi");
    for ct in [None, Some("text/plain"), Some("text/plain; charset=utf-8")] {
        let (s, v) = raw_post(&sb, "sendMessage", ct, &body);
        assert_eq!(
            (s, description(&v)),
            (400, "Bad Request: chat_id is empty"),
            "Content-Type {ct:?}"
        );
    }
    assert!(sb.bot_messages(u).is_empty(), "nothing was sent");
    // The same body as urlencoded is read.
    let (s, v) = raw_post(
        &sb,
        "sendMessage",
        Some("application/x-www-form-urlencoded"),
        &body,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(sb.bot_messages(u).len(), 1);
}

// 2 ------------------------------------------------------------------------

#[test]
fn a_user_created_over_http_has_not_started_the_bot() {
    let sb = start();
    let a = agent();
    let (s, v) = control_post(&sb, "users", json!({"first_name": "Olga"}));
    assert_eq!(s, 200, "{v}");
    let u = v["result"]["id"].as_i64().unwrap();
    let send = || {
        call(
            &a,
            &sb.api_url(),
            sb.token(),
            "sendMessage",
            json!({"chat_id": u, "text": "hi"}),
        )
    };
    let (s, v) = send();
    assert_eq!(
        (s, description(&v)),
        (
            403,
            "Forbidden: bot can't initiate conversation with a user"
        )
    );
    let (s, _) = control_post(&sb, "start", json!({"user_id": u}));
    assert_eq!(s, 200);
    let (s, v) = send();
    assert_eq!(s, 200, "after /start the bot may write: {v}");
}

// 3 ------------------------------------------------------------------------

#[test]
fn a_photo_must_be_an_image_and_a_document_id_is_no_photo() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let uid = u.to_string();
    let send_photo = |bytes: &[u8]| {
        call_multipart(
            &a,
            &sb.api_url(),
            sb.token(),
            "sendPhoto",
            &[("chat_id", &uid)],
            &[("photo", "report.jpg", bytes)],
        )
    };
    let (s, v) = send_photo(b"this is a text file, not a picture");
    assert_eq!(
        (s, description(&v)),
        (400, "Bad Request: IMAGE_PROCESS_FAILED")
    );

    let (s, v) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        &[("chat_id", &uid)],
        &[("document", "report.pdf", b"%PDF-1.4 ...")],
    );
    assert_eq!(s, 200, "{v}");
    let doc_id = v["result"]["document"]["file_id"].clone();
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendPhoto",
        json!({"chat_id": u, "photo": doc_id}),
    );
    assert_eq!(
        (s, description(&v)),
        (400, "Bad Request: type of file mismatch")
    );
    assert_eq!(sb.bot_messages(u).len(), 1, "only the document went out");

    // A real image: several sizes, the largest last, stored as a JPEG.
    let (s, v) = send_photo(&png(2000, 1000, 500));
    assert_eq!(s, 200, "{v}");
    let sizes = v["result"]["photo"].as_array().unwrap();
    let widths: Vec<i64> = sizes.iter().map(|p| p["width"].as_i64().unwrap()).collect();
    assert_eq!(widths, [90, 320, 800, 1280, 2000]);
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": sizes[4]["file_id"]}),
    );
    assert_eq!(s, 200);
    assert!(v["result"]["file_path"].as_str().unwrap().ends_with(".jpg"));
}

// 4 ------------------------------------------------------------------------

#[test]
fn an_upload_over_50_mb_is_refused_and_50_mb_pass() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let uid = u.to_string();
    let send = |len: usize| {
        call_multipart(
            &a,
            &sb.api_url(),
            sb.token(),
            "sendDocument",
            &[("chat_id", &uid), ("caption", "archive")],
            &[("document", "archive.zip", &vec![7u8; len])],
        )
    };
    let (s, v) = send(50 * MB as usize + MB as usize / 2);
    assert_eq!((s, description(&v)), (413, "Request Entity Too Large"));
    let (s, v) = send(50 * MB as usize);
    assert_eq!(s, 200, "{v}");
    assert_eq!(sb.bot_messages(u).len(), 1);
}

// 5 ------------------------------------------------------------------------

#[test]
fn a_reply_keyboard_of_plain_strings_is_accepted() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "Согласны?", "reply_markup": {"keyboard": [["Да", "Нет"]], "resize_keyboard": true}}),
    );
    assert_eq!(s, 200, "{v}");
    let markup = sb.bot_messages(u)[0].reply_markup.clone().unwrap();
    assert_eq!(
        markup["keyboard"],
        json!([[{"text": "Да"}, {"text": "Нет"}]])
    );
    // Not a string nor a KeyboardButton: still refused.
    let (s, _) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "?", "reply_markup": {"keyboard": [[42]]}}),
    );
    assert_eq!(s, 400);
}

// 6 ------------------------------------------------------------------------

#[test]
fn reply_to_message_id_still_makes_a_reply() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let asked = sb.user_sends_text(u, "Сколько стоит?").unwrap();
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "100 ₽", "reply_to_message_id": asked.message_id}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["result"]["reply_to_message"]["message_id"],
        asked.message_id
    );
    // Urlencoded, as a string, the same.
    let (s, v) = raw_post(
        &sb,
        "sendMessage",
        Some("application/x-www-form-urlencoded"),
        &format!(
            "chat_id={u}&text=ok&reply_to_message_id={}",
            asked.message_id
        ),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["result"]["reply_to_message"]["message_id"],
        asked.message_id
    );
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "?", "reply_to_message_id": 999_999}),
    );
    assert_eq!(
        (s, description(&v)),
        (400, "Bad Request: message to be replied not found")
    );
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "!", "reply_to_message_id": 999_999, "allow_sending_without_reply": true}),
    );
    assert_eq!(s, 200, "{v}");
    assert!(v["result"].get("reply_to_message").is_none());
}

// 7 ------------------------------------------------------------------------

#[test]
fn get_updates_reads_a_non_number_limit_as_zero_then_one() {
    let sb = start();
    let u = sb.create_user("Ivan");
    for t in ["a", "b", "c"] {
        sb.user_sends_text(u, t).unwrap();
    }
    let a = agent();
    let (s, v) = read(a.get(sb.method_url("getUpdates") + "?limit=abc").call());
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getUpdates",
        json!({"limit": "2x"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["result"].as_array().unwrap().len(),
        2,
        "leading digits count"
    );
}

// 8 ------------------------------------------------------------------------

#[test]
fn update_ids_start_high_and_differ_between_runs() {
    let first = || {
        let sb = start();
        let u = sb.create_user("Ivan");
        sb.user_sends_text(u, "hi").unwrap().update_id
    };
    let (one, two) = (first(), first());
    assert!((2_000_001..=1_000_000_000).contains(&one), "{one}");
    assert!((2_000_001..=1_000_000_000).contains(&two), "{two}");
    assert_ne!(one, two, "a new sandbox starts elsewhere");
}

// 9 ------------------------------------------------------------------------

#[test]
fn an_offset_far_beyond_the_queue_confirms_nothing() {
    let sb = start();
    let u = sb.create_user("Ivan");
    let ids: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|t| sb.user_sends_text(u, t).unwrap().update_id)
        .collect();
    let last = ids[2];
    let a = agent();
    let get = |offset: i64| {
        let (s, v) = call(
            &a,
            &sb.api_url(),
            sb.token(),
            "getUpdates",
            json!({"offset": offset}),
        );
        assert_eq!(s, 200, "{v}");
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["update_id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    // Far above the last id (an offset kept from another run): Telegram reads
    // from the head of the queue and confirms nothing.
    assert_eq!(get(last + 1_000_000), ids);
    assert_eq!(
        get(last + 12),
        ids,
        "12 past the last id is 'in the future'"
    );
    assert_eq!(sb.pending_updates().len(), 3);
    // Up to last + 11 still confirms everything.
    assert_eq!(get(last + 11), Vec::<i64>::new());
    assert!(sb.pending_updates().is_empty());
}

// 10 -----------------------------------------------------------------------

#[test]
fn legacy_markdown_errors_read_as_telegrams() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let send = |text: &str| {
        call(
            &a,
            &sb.api_url(),
            sb.token(),
            "sendMessage",
            json!({"chat_id": u, "text": text, "parse_mode": "Markdown"}),
        )
    };
    let (s, v) = send("Hello *world");
    assert_eq!(
        (s, description(&v)),
        (
            400,
            "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 6"
        )
    );
    let (s, v) = send("Итог: _важно");
    assert_eq!(
        description(&v),
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 10",
        "byte offsets, not characters ({s})"
    );
    // Well-formed legacy Markdown still parses.
    let (s, v) = send("*Итог*: `42` [сайт](https://example.com)");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"]["text"], "Итог: 42 сайт");
    let kinds: Vec<&str> = v["result"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bold", "code", "text_link"]);
}

// Knobs for tests ------------------------------------------------------------

#[test]
fn a_test_may_fix_the_first_update_id() {
    let sb = Sandbox::start(SandboxConfig {
        first_update_id: Some(1),
        ..SandboxConfig::default()
    })
    .unwrap();
    let u = sb.create_user("Ivan");
    assert_eq!(sb.user_sends_text(u, "a").unwrap().update_id, 1);
    assert_eq!(sb.user_sends_text(u, "b").unwrap().update_id, 2);
}

/// A lower bound only: the sandbox waits at least the latency it was given.
#[test]
fn latency_is_added_to_every_request() {
    use std::time::{Duration, Instant};
    let sb = Sandbox::start(SandboxConfig {
        latency: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .unwrap();
    let a = agent();
    let timed = |url: String| {
        let t = Instant::now();
        let (s, _) = read(a.get(url).call());
        assert_eq!(s, 200);
        t.elapsed()
    };
    assert!(timed(sb.method_url("getMe")) >= Duration::from_millis(300));
    sb.set_latency(Duration::ZERO);
    let (s, v) = control_post(&sb, "latency", json!({"ms": 450}));
    assert_eq!((s, &v["result"]), (200, &json!(450)));
    assert!(timed(sb.method_url("getMe")) >= Duration::from_millis(450));
}
