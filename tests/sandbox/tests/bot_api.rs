//! The Bot API rules, shown with a plain HTTP client against an in-process sandbox.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tg_sandbox::{RateLimits, Sandbox, SandboxConfig, MB};

fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).unwrap()
}

#[test]
fn get_me_and_tokens() {
    let sb = start();
    let a = agent();
    let (s, v) = read(a.get(sb.method_url("getMe")).call());
    assert_eq!(s, 200);
    assert_eq!(v["result"]["username"], "sandbox_bot");
    assert_eq!(v["result"]["is_bot"], true);
    // method names are case-insensitive
    let (s, _) = read(a.get(sb.method_url("GETME")).call());
    assert_eq!(s, 200);
    let (s, v) = read(
        a.get(format!("{}/bot999:unknown/getMe", sb.api_url()))
            .call(),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (401, "Unauthorized")
    );
    let (s, v) = read(a.get(format!("{}/botnotatoken/getMe", sb.api_url())).call());
    assert_eq!((s, v["description"].as_str().unwrap()), (404, "Not Found"));
}

#[test]
fn spec_validation() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let base = sb.api_url();
    let t = sb.token();
    let (s, v) = call(
        &a,
        &base,
        t,
        "sendMesage",
        json!({"chat_id": u, "text": "x"}),
    );
    assert_eq!((s, v["description"].as_str().unwrap()), (404, "Not Found"));
    let (s, v) = call(&a, &base, t, "sendMessage", json!({"chat_id": u}));
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: message text is empty")
    );
    let (s, v) = call(&a, &base, t, "sendMessage", json!({"text": "x"}));
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: chat_id is empty")
    );
    let (s, v) = call(
        &a,
        &base,
        t,
        "sendMessage",
        json!({"chat_id": u, "text": "x", "disable_notification": "maybe"}),
    );
    assert_eq!(s, 400);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("disable_notification"),
        "{v}"
    );
    let (s, v) = call(
        &a,
        &base,
        t,
        "sendMessage",
        json!({"chat_id": u, "text": "x", "reply_markup": {"inline_keyboard": "no"}}),
    );
    assert_eq!(s, 400);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: can't parse reply keyboard markup JSON object"),
        "{v}"
    );
    // strings are coerced: query string and urlencoded
    let (s, v) = read(
        a.get(format!(
            "{}?chat_id={u}&text=hi%20there&disable_notification=true",
            sb.method_url("sendMessage")
        ))
        .call(),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"]["text"], "hi there");
    let (s, v) = read(a.post(sb.method_url("sendMessage")).header("Content-Type", "application/x-www-form-urlencoded").send(format!("chat_id={u}&text=form&reply_markup=%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22a%22%2C%22callback_data%22%3A%22b%22%7D%5D%5D%7D")));
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "b"
    );
    let (s, v) = call(
        &a,
        &base,
        t,
        "sendMessage",
        json!({"chat_id": 42, "text": "x"}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: chat not found")
    );
}

#[test]
fn send_message_shape_and_limits() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let (base, t) = (sb.api_url(), sb.token().to_string());
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "<b>Hi</b> &amp; bye", "parse_mode": "HTML"}),
    );
    assert_eq!(s, 200, "{v}");
    let m = &v["result"];
    assert_eq!(m["message_id"], 1);
    assert_eq!(m["from"]["id"], sb.bot_id());
    assert_eq!(m["chat"]["id"], u);
    assert_eq!(m["chat"]["type"], "private");
    assert_eq!(m["text"], "Hi & bye");
    assert_eq!(
        m["entities"],
        json!([{"type": "bold", "offset": 0, "length": 2}])
    );
    assert!(m["date"].as_i64().unwrap() > 1_600_000_000);
    let (_, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "second"}),
    );
    assert_eq!(v["result"]["message_id"], 2);
    // 4096 UTF-16 code units: an emoji counts 2
    let (s, _) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "😀".repeat(2048)}),
    );
    assert_eq!(s, 200);
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": format!("{}a", "😀".repeat(2048))}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: message is too long")
    );
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "bad *md", "parse_mode": "MarkdownV2"}),
    );
    assert_eq!(s, 400);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: can't parse entities"),
        "{v}"
    );
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "d".repeat(65)}]]}}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: BUTTON_DATA_INVALID")
    );
    let (s, _) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "d".repeat(64)}]]}}),
    );
    assert_eq!(s, 200);
    let (s, v) = call_multipart(
        &a,
        &base,
        &t,
        "sendPhoto",
        &[("chat_id", &u.to_string()), ("caption", &"c".repeat(1025))],
        &[(
            "photo",
            "p.png",
            b"\x89PNG\r\n\x1a\n0000IHDR\0\0\0\x10\0\0\0\x10",
        )],
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: message caption is too long")
    );
    assert_eq!(sb.bot_messages(u).len(), 4);
}

#[test]
fn long_polling_early_and_late() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    // late: no update → answers after the timeout
    let t0 = Instant::now();
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getUpdates",
        json!({"timeout": 1}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["result"], json!([]));
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
    // early: an update arrives while polling with timeout 10
    let base = sb.api_url();
    let tok = sb.token().to_string();
    let poll = std::thread::spawn(move || {
        let t0 = Instant::now();
        let r = call(&agent(), &base, &tok, "getUpdates", json!({"timeout": 10}));
        (r, t0.elapsed())
    });
    // wait until the poll is in progress (it bumps the state), then send
    sb.wait_for(Duration::from_secs(5), |sb| {
        sb.stats().requests("getUpdates") >= 2
    });
    sb.user_sends_text(u, "/start hello").unwrap();
    let ((s, v), el) = poll.join().unwrap();
    assert_eq!(s, 200);
    assert!(el < Duration::from_secs(5), "answered late: {el:?}");
    let upd = &v["result"][0];
    assert_eq!(upd["message"]["text"], "/start hello");
    assert_eq!(
        upd["message"]["entities"][0],
        json!({"type": "bot_command", "offset": 0, "length": 6})
    );
    let _ = a;
}

#[test]
fn offsets() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let ids: Vec<i64> = (0..5)
        .map(|i| sb.user_sends_text(u, &format!("m{i}")).unwrap().update_id)
        .collect();
    let (base, t) = (sb.api_url(), sb.token().to_string());
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({"limit": 2}));
    assert_eq!(v["result"].as_array().unwrap().len(), 2);
    // offset confirms earlier updates
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({"offset": ids[2]}));
    let got: Vec<i64> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[2..].to_vec());
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({}));
    assert_eq!(v["result"].as_array().unwrap().len(), 3);
    // negative offset: only the last N remain
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({"offset": -1}));
    let got: Vec<i64> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[4]]);
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({"offset": ids[4] + 1}));
    assert_eq!(v["result"], json!([]));
    // allowed_updates is remembered
    let (_, _) = call(
        &a,
        &base,
        &t,
        "getUpdates",
        json!({"offset": ids[4] + 1, "allowed_updates": ["callback_query"]}),
    );
    assert_eq!(sb.user_sends_text(u, "filtered").unwrap().update_id, 0);
}

#[test]
fn conflicts_409() {
    let sb = start();
    let (base, tok) = (sb.api_url(), sb.token().to_string());
    let first = {
        let (base, tok) = (base.clone(), tok.clone());
        std::thread::spawn(move || {
            call(&agent(), &base, &tok, "getUpdates", json!({"timeout": 20}))
        })
    };
    sb.wait_for(Duration::from_secs(5), |sb| {
        sb.stats().requests("getUpdates") >= 1
    });
    // make sure the first poll registered (it bumps poll_gen under the lock before waiting)
    let second = {
        let (base, tok) = (base.clone(), tok.clone());
        std::thread::spawn(move || call(&agent(), &base, &tok, "getUpdates", json!({"timeout": 1})))
    };
    let (s, v) = first.join().unwrap();
    assert_eq!(s, 409);
    assert_eq!(v["description"], "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
    assert_eq!(second.join().unwrap().0, 200);
    let a = agent();
    let (s, v) = call(
        &a,
        &base,
        &tok,
        "setWebhook",
        json!({"url": "http://127.0.0.1:9/hook"}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["description"], "Webhook was set");
    let (s, v) = call(&a, &base, &tok, "getUpdates", json!({}));
    assert_eq!(s, 409);
    assert_eq!(v["description"], "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    call(&a, &base, &tok, "deleteWebhook", json!({}));
    assert_eq!(call(&a, &base, &tok, "getUpdates", json!({})).0, 200);
}

#[test]
fn rate_limit_429() {
    let sb = start();
    sb.set_rate_limits(RateLimits {
        per_chat_per_sec: 0.5,
        per_chat_burst: 2.0,
        ..RateLimits::telegram()
    });
    let a = agent();
    let u = sb.create_user("Ivan");
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for i in 0..4 {
        let (s, v) = call(
            &a,
            &sb.api_url(),
            sb.token(),
            "sendMessage",
            json!({"chat_id": u, "text": format!("m{i}")}),
        );
        statuses.push(s);
        if s == 429 {
            last = v;
        }
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    assert_eq!(last["parameters"]["retry_after"], 2);
    assert_eq!(last["description"], "Too Many Requests: retry after 2");
    // the overall limit, and allow_paid_broadcast raising it
    sb.set_rate_limits(RateLimits {
        global_per_sec: 3.0,
        per_chat_burst: 100.0,
        per_chat_per_sec: 100.0,
        ..RateLimits::telegram()
    });
    let users: Vec<i64> = (0..5).map(|i| sb.create_user(&format!("u{i}"))).collect();
    let st: Vec<u16> = users
        .iter()
        .map(|u| {
            call(
                &a,
                &sb.api_url(),
                sb.token(),
                "sendMessage",
                json!({"chat_id": u, "text": "x"}),
            )
            .0
        })
        .collect();
    assert_eq!(st, vec![200, 200, 200, 429, 429]);
    let st: Vec<u16> = users
        .iter()
        .map(|u| {
            call(
                &a,
                &sb.api_url(),
                sb.token(),
                "sendMessage",
                json!({"chat_id": u, "text": "x", "allow_paid_broadcast": true}),
            )
            .0
        })
        .collect();
    assert_eq!(st, vec![200; 5]);
    // groups: 20 per minute
    sb.set_rate_limits(RateLimits::telegram());
    let g = sb.create_group("G", &[u]);
    let st: Vec<u16> = (0..21)
        .map(|_| {
            call(
                &a,
                &sb.api_url(),
                sb.token(),
                "sendMessage",
                json!({"chat_id": g, "text": "x"}),
            )
            .0
        })
        .collect();
    assert_eq!(st.iter().filter(|s| **s == 200).count(), 20);
    assert_eq!(st[20], 429);
}

#[test]
fn media_group_with_attach_and_files() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let uid = u.to_string();
    let media = json!([
        {"type": "photo", "media": "attach://p1", "caption": "one"},
        {"type": "photo", "media": "attach://p2"},
        {"type": "photo", "media": "attach://p3"}
    ])
    .to_string();
    let (s, v) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendMediaGroup",
        &[("chat_id", &uid), ("media", &media)],
        &[
            ("p1", "1.png", &png(10, 10, 40)),
            ("p2", "2.png", &png(20, 20, 40)),
            ("p3", "3.png", &png(30, 30, 40)),
        ],
    );
    assert_eq!(s, 200, "{v}");
    let msgs = v["result"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["caption"], "one");
    assert_eq!(msgs[0]["media_group_id"], msgs[2]["media_group_id"]);
    let fid = msgs[2]["photo"].as_array().unwrap().last().unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sb.file_bytes(&fid).unwrap(), png(30, 30, 40));
    // getFile + download
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": fid}),
    );
    assert_eq!(s, 200);
    let path = v["result"]["file_path"].as_str().unwrap();
    let mut r = a
        .get(format!("{}/file/bot{}/{}", sb.api_url(), sb.token(), path))
        .call()
        .unwrap();
    assert_eq!(r.body_mut().read_to_vec().unwrap(), png(30, 30, 40));
    // document shape; resend by file_id
    let (s, v) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        &[("chat_id", &uid)],
        &[("document", "report.txt", b"hello")],
    );
    assert_eq!(s, 200);
    let d = &v["result"]["document"];
    assert_eq!(d["file_name"], "report.txt");
    assert_eq!(d["mime_type"], "text/plain");
    assert_eq!(d["file_size"], 5);
    assert!(d["file_unique_id"].is_string());
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        json!({"chat_id": u, "document": d["file_id"]}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["result"]["document"]["file_id"], d["file_id"]);
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        json!({"chat_id": u, "document": "nope"}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: wrong file identifier/HTTP URL specified")
    );
    // user files are retrievable by the bot
    let act = sb
        .user_sends_document(u, "in.csv", b"a;b".to_vec(), Some("cap"))
        .unwrap();
    let fid = act.message["document"]["file_id"].as_str().unwrap();
    let (_, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": fid}),
    );
    let mut r = a
        .get(format!(
            "{}/file/bot{}/{}",
            sb.api_url(),
            sb.token(),
            v["result"]["file_path"].as_str().unwrap()
        ))
        .call()
        .unwrap();
    assert_eq!(r.body_mut().read_to_vec().unwrap(), b"a;b");
}

#[test]
fn file_size_limits_lowered_and_local_mode() {
    let sb = start();
    sb.set_file_limits(1000, 100, 200);
    let a = agent();
    let u = sb.create_user("Ivan");
    let uid = u.to_string();
    let (s, v) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendPhoto",
        &[("chat_id", &uid)],
        &[("photo", "p.png", &png(16, 16, 150))],
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (
            400,
            "Bad Request: PHOTO_INVALID_DIMENSIONS: photo is too big"
        )
    );
    let (s, v) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        &[("chat_id", &uid)],
        &[("document", "big.bin", &[1u8; 300])],
    );
    assert_eq!(s, 200);
    let fid = v["result"]["document"]["file_id"].clone();
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": fid}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: file is too big")
    );
    // the upload limit: request bodies beyond it get 413
    let (s, _) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendDocument",
        &[("chat_id", &uid)],
        &[("document", "huge.bin", &vec![1u8; 2 * MB as usize])],
    );
    assert_eq!(s, 413);
    sb.set_local_mode(true);
    let (s, _) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": fid}),
    );
    assert_eq!(s, 200);
    let (s, _) = call_multipart(
        &a,
        &sb.api_url(),
        sb.token(),
        "sendPhoto",
        &[("chat_id", &uid)],
        &[("photo", "p.png", &png(16, 16, 150))],
    );
    assert_eq!(s, 200);
}

#[test]
fn real_20mb_get_file_limit() {
    let sb = start();
    let u = sb.create_user("Ivan");
    let act = sb
        .user_sends_document(u, "big.bin", vec![7u8; 20 * MB as usize + 1], None)
        .unwrap();
    let fid = act.message["document"]["file_id"].clone();
    let a = agent();
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "getFile",
        json!({"file_id": fid}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: file is too big")
    );
    sb.set_local_mode(true);
    assert_eq!(
        call(
            &a,
            &sb.api_url(),
            sb.token(),
            "getFile",
            json!({"file_id": fid})
        )
        .0,
        200
    );
}

#[test]
fn buttons_callbacks_edits() {
    let sb = start();
    let a = agent();
    let u = sb.create_user_with(Some(555), "Ivan", Some("ivan"));
    let (base, t) = (sb.api_url(), sb.token().to_string());
    let (_, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": "@ivan", "text": "choose", "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]}}),
    );
    let mid = v["result"]["message_id"].as_i64().unwrap();
    let (uid, cq) = sb.user_presses_button(u, mid, "yes").unwrap();
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({}));
    let upd = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["update_id"] == uid)
        .unwrap()
        .clone();
    assert_eq!(upd["callback_query"]["data"], "yes");
    assert_eq!(upd["callback_query"]["message"]["message_id"], mid);
    assert_eq!(upd["callback_query"]["from"]["id"], u);
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "answerCallbackQuery",
            json!({"callback_query_id": cq, "text": "ok"})
        )
        .0,
        200
    );
    assert_eq!(sb.callback_answer(&cq).unwrap()["text"], "ok");
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "answerCallbackQuery",
            json!({"callback_query_id": cq})
        )
        .0,
        400
    );
    assert!(sb.user_presses_button(u, mid, "absent").is_err());
    // edit text keeps a new keyboard; same content → not modified
    let (s, v) = call(
        &a,
        &base,
        &t,
        "editMessageText",
        json!({"chat_id": u, "message_id": mid, "text": "done"}),
    );
    assert_eq!(s, 200);
    assert!(v["result"]["edit_date"].is_i64());
    assert!(v["result"].get("reply_markup").is_none());
    let (s, v) = call(
        &a,
        &base,
        &t,
        "editMessageText",
        json!({"chat_id": u, "message_id": mid, "text": "done"}),
    );
    assert_eq!(s, 400);
    assert!(v["description"]
        .as_str()
        .unwrap()
        .starts_with("Bad Request: message is not modified"));
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "deleteMessage",
            json!({"chat_id": u, "message_id": mid})
        )
        .0,
        200
    );
    let (s, v) = call(
        &a,
        &base,
        &t,
        "deleteMessage",
        json!({"chat_id": u, "message_id": mid}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (400, "Bad Request: message to delete not found")
    );
    // user edits, replies; reply keyboard press is a text message
    let m = sb.user_sends_text(u, "typo").unwrap();
    let e = sb.user_edits(u, m.message_id, "fixed").unwrap();
    let r = sb.user_replies(u, m.message_id, "answer").unwrap();
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({"offset": uid + 1}));
    let res = v["result"].as_array().unwrap();
    assert!(res
        .iter()
        .any(|x| x["update_id"] == e.update_id && x["edited_message"]["text"] == "fixed"));
    assert!(res.iter().any(|x| x["update_id"] == r.update_id
        && x["message"]["reply_to_message"]["message_id"] == m.message_id));
    // commands, chat action, copy/forward
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "setMyCommands",
            json!({"commands": [{"command": "start", "description": "Start"}]})
        )
        .0,
        200
    );
    assert_eq!(
        call(&a, &base, &t, "getMyCommands", json!({})).1["result"][0]["command"],
        "start"
    );
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "setMyCommands",
            json!({"commands": [{"command": "Bad Cmd", "description": "x"}]})
        )
        .0,
        400
    );
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "sendChatAction",
            json!({"chat_id": u, "action": "typing"})
        )
        .0,
        200
    );
    assert_eq!(sb.chat_actions(), vec![(u, "typing".to_string())]);
    let (s, v) = call(
        &a,
        &base,
        &t,
        "copyMessage",
        json!({"chat_id": u, "from_chat_id": u, "message_id": m.message_id}),
    );
    assert_eq!(s, 200);
    assert!(v["result"]["message_id"].is_i64());
    let (s, v) = call(
        &a,
        &base,
        &t,
        "forwardMessage",
        json!({"chat_id": u, "from_chat_id": u, "message_id": m.message_id}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["result"]["forward_origin"]["sender_user"]["id"], u);
}

#[test]
fn migration_and_blocked_user() {
    let sb = start();
    let a = agent();
    let u = sb.create_user("Ivan");
    let g = sb.create_group("Team", &[u]);
    let (base, t) = (sb.api_url(), sb.token().to_string());
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": g, "text": "hi group"}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["result"]["chat"]["type"], "group");
    sb.user_sends_text_in(g, u, "hi bot").unwrap();
    let new_id = sb.upgrade_group(g).unwrap();
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": g, "text": "again"}),
    );
    assert_eq!(s, 400);
    assert_eq!(
        v["description"],
        "Bad Request: group chat was upgraded to a supergroup chat"
    );
    assert_eq!(v["parameters"]["migrate_to_chat_id"], new_id);
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": new_id, "text": "again"}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["result"]["chat"]["type"], "supergroup");
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({}));
    let res = v["result"].as_array().unwrap();
    assert!(res
        .iter()
        .any(|x| x["message"]["migrate_to_chat_id"] == new_id));
    // blocked
    sb.user_blocks_bot(u).unwrap();
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": u, "text": "hello?"}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (403, "Forbidden: bot was blocked by the user")
    );
    let (_, v) = call(&a, &base, &t, "getUpdates", json!({}));
    let last = v["result"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["my_chat_member"]["new_chat_member"]["status"],
        "kicked"
    );
    sb.user_unblocks_bot(u).unwrap();
    assert_eq!(
        call(
            &a,
            &base,
            &t,
            "sendMessage",
            json!({"chat_id": u, "text": "back"})
        )
        .0,
        200
    );
}

#[test]
fn keep_alive_reuses_connections() {
    let sb = start();
    let a = agent();
    for _ in 0..5 {
        assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
    }
    let st = sb.stats();
    assert_eq!(st.requests("getMe"), 5);
    assert_eq!(st.connections_accepted, 1);
}

#[test]
fn shutdown_is_quick_with_pending_long_poll() {
    let mut sb = start();
    let url = sb.method_url("getUpdates");
    let h = std::thread::spawn(move || {
        agent()
            .get(format!("{url}?timeout=50"))
            .call()
            .map(|r| r.status().as_u16())
    });
    sb.wait_for(Duration::from_secs(5), |sb| {
        sb.stats().requests("getUpdates") >= 1
    });
    let t0 = Instant::now();
    sb.shutdown();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let _ = h.join();
}

#[test]
fn control_api_roundtrip() {
    let sb = start();
    let a = agent();
    let base = sb.api_url();
    let post = |p: &str, b: Value| {
        read(
            a.post(format!("{base}/control/{p}"))
                .header("Content-Type", "application/json")
                .send(b.to_string()),
        )
    };
    let (s, v) = post("users", json!({"first_name": "Olga", "username": "olga"}));
    assert_eq!(s, 200);
    let u = v["result"]["id"].as_i64().unwrap();
    let (_, v) = post("start", json!({"user_id": u, "payload": "ref42"}));
    assert_eq!(v["result"]["message"]["text"], "/start ref42");
    let (_, v) = call(
        &a,
        &base,
        sb.token(),
        "sendMessage",
        json!({"chat_id": u, "text": "pick", "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}}),
    );
    let mid = v["result"]["message_id"].clone();
    let (s, v) = post(
        "press",
        json!({"user_id": u, "message_id": mid, "data": "a"}),
    );
    assert_eq!(s, 200, "{v}");
    let (_, v) = read(a.get(format!("{base}/control/messages?user_id={u}")).call());
    assert_eq!(v["result"]["messages"].as_array().unwrap().len(), 2);
    let (s, _) = post(
        "faults",
        json!({"fault": {"type": "status", "status": 500}, "method": "getMe"}),
    );
    assert_eq!(s, 200);
    assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 500);
    assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
    let (_, v) = read(a.get(format!("{base}/control/stats")).call());
    assert_eq!(v["result"]["requests_by_method"]["getMe"], 2);
}

#[test]
fn a_bot_cannot_start_a_chat_with_a_user_who_never_wrote() {
    let sb = start();
    let (a, base, t) = (agent(), sb.api_url(), sb.token().to_string());
    let stranger = sb.create_stranger("Pyotr");
    let (s, v) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": stranger, "text": "hi"}),
    );
    assert_eq!(
        (s, v["description"].as_str().unwrap()),
        (
            403,
            "Forbidden: bot can't initiate conversation with a user"
        )
    );
    sb.user_starts(stranger, None).unwrap();
    let (s, _) = call(
        &a,
        &base,
        &t,
        "sendMessage",
        json!({"chat_id": stranger, "text": "hi"}),
    );
    assert_eq!(s, 200, "after /start the bot may write");
}
