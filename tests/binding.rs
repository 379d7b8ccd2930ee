//! Binding a 1C contact to a Telegram user by a deep link, a QR code or typed
//! digits, through the built library in the simulator against the sandbox:
//! event and pull mode, BindContact receiving by itself or reading what
//! another receiver redeemed, refusals, the wrong-try limit, restarts, and
//! secrets kept out of logs, errors and the state folder.

mod common;
mod receiving_util;

use std::path::Path;
use std::time::{Duration, Instant};

use receiving_util::*;

const T: Duration = Duration::from_secs(10);

/// `NewBindingCode(subject, ttl)` parsed.
fn new_code(bot: &mut Component, subject: &str, ttl: Option<i32>) -> Json {
    let mut args = vec![Value::str(subject)];
    if let Some(ttl) = ttl {
        args.push(Value::I4(ttl));
    }
    json(bot.call("НовыйКодПривязки", &args).unwrap())
}

/// The `/start` payload of a binding link.
fn payload(code: &Json) -> String {
    let link = code["link"].as_str().unwrap();
    link.split_once("?start=").unwrap().1.to_owned()
}

fn code_of(code: &Json) -> String {
    code["code"].as_str().unwrap().to_owned()
}

/// Texts the bot sent to a private chat.
fn replies(sandbox: &Sandbox, user: i64) -> Vec<String> {
    sandbox
        .bot_messages(user)
        .into_iter()
        .filter_map(|m| m.text)
        .collect()
}

/// Waits until the bot has sent `n` messages to `user`; returns their texts.
fn wait_replies(sandbox: &Sandbox, user: i64, n: usize) -> Vec<String> {
    let got = sandbox.wait_bot_messages(user, n, T);
    assert!(got.len() >= n, "expected {n} replies, got {got:?}");
    got.into_iter().filter_map(|m| m.text).collect()
}

/// Pulls until `n` updates came (each pull confirms the previous batch).
fn pull_n(job: &mut Component, n: usize) -> Vec<Json> {
    let deadline = Instant::now() + T;
    let mut all = Vec::new();
    while all.len() < n && Instant::now() < deadline {
        all.extend(pull(job, 1, 100));
    }
    all
}

/// Texts of the `message` updates in a batch.
fn texts(batch: &[Json]) -> Vec<String> {
    batch
        .iter()
        .filter_map(|u| u["message"]["text"].as_str().map(str::to_owned))
        .collect()
}

fn bindings(batch: &[Json]) -> Vec<Json> {
    batch
        .iter()
        .filter_map(|u| u.get("binding").cloned())
        .collect()
}

#[test]
fn a_deep_link_binds_in_event_mode_and_other_messages_pass_untouched() {
    let (sandbox, mut form, dir) = setup(en(), "deeplink");
    let ivan = sandbox.create_user("Ivan");
    form.set("ОтветПриПривязке", Value::str("Привязано: %1"))
        .unwrap();
    form.call("StartPolling", &[]).unwrap();

    let subject = r#"{"id":"e1cib/data/Справочник.Контрагенты?ref=81a2","title":"ООО Ромашка"}"#;
    let issued = new_code(&mut form, subject, None);
    let code = code_of(&issued);
    assert_eq!(code.len(), 14, "{code}");
    assert!(code.chars().all(|c| c.is_ascii_digit() || c == '-'));
    let link = issued["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://t.me/sandbox_bot?start=bind-"),
        "{link}"
    );
    assert_eq!(issued["qr"], issued["link"]);
    let p = payload(&issued);
    assert!(
        p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );
    assert_eq!(issued["subject"], subject);
    assert_eq!(issued["title"], "ООО Ромашка");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ttl = issued["expires_at"].as_i64().unwrap() - now;
    assert!((895..=900).contains(&ttl), "default TTL 15 minutes: {ttl}");
    assert_eq!(
        form.call("BindContact", &[Value::str(&code)]).unwrap(),
        Value::Empty
    );

    let hello = sandbox.user_sends_text(ivan, "hello").unwrap();
    let promo = sandbox.user_starts(ivan, Some("promo-spring")).unwrap();
    let start = sandbox.user_starts(ivan, Some(&p)).unwrap();
    let after = sandbox.user_sends_text(ivan, "after").unwrap();

    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(next_update(&form, T).expect("an event"));
    }
    let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["message", "message", "binding", "message"]);
    assert_eq!(got[0].1["update_id"], hello.update_id);
    assert_eq!(got[1].1["message"]["text"], "/start promo-spring");
    assert_eq!(got[1].1["update_id"], promo.update_id);
    let b = &got[2].1["binding"];
    assert_eq!(got[2].1["update_id"], start.update_id);
    assert_eq!(b["user_id"], ivan);
    assert_eq!(b["chat_id"], ivan);
    assert_eq!(b["first_name"], "Ivan");
    assert_eq!(b["code"], code.as_str());
    assert_eq!(b["subject"], subject);
    assert_eq!(b["language_code"], "en");
    assert_eq!(got[3].1["update_id"], after.update_id);
    assert!(
        next_update(&form, Duration::from_millis(300)).is_none(),
        "nothing twice"
    );
    assert_eq!(wait_replies(&sandbox, ivan, 1), ["Привязано: ООО Ромашка"]);

    // The dialog's check sees it, by code or by link.
    let bound = json(form.call("ПривязатьКонтакт", &[Value::str(&code)]).unwrap());
    assert_eq!(bound["user_id"], ivan);
    assert_eq!(bound["code"], code.as_str());
    let bound = json(form.call("BindContact", &[Value::str(link)]).unwrap());
    assert_eq!(bound["user_id"], ivan);
    assert!(
        sandbox.wait_for(T, |sb| sb.pending_updates().is_empty()),
        "all confirmed"
    );
    form.call("StopPolling", &[]).unwrap();
    finish(form);
    assert_clean_state(&dir, &[&code, &code.replace('-', ""), &p]);
}

#[test]
fn a_qr_code_read_back_binds_and_digits_typed_by_hand_bind_in_pull_mode() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "qr");
    let anna = sandbox.create_user("Anna");
    let oleg = sandbox.create_user("Oleg");
    // While no code is kept, a code-shaped message is an ordinary message.
    let early = sandbox.user_sends_text(anna, "1234-5678-9012").unwrap();
    let first = pull_n(&mut job, 1);
    assert_eq!(ids(&first), [early.update_id]);

    let issued = new_code(&mut job, "contact-anna", Some(600));
    let png = match job
        .call(
            "QRКодПривязки",
            &[Value::str(issued["qr"].as_str().unwrap()), Value::I4(256)],
        )
        .unwrap()
    {
        Value::Blob(bytes) => bytes,
        other => panic!("expected BinaryData, got {other:?}"),
    };
    let read = read_qr(&png);
    assert_eq!(
        read,
        issued["link"].as_str().unwrap(),
        "the QR holds the link"
    );
    // A code issued by this object gives the same picture.
    let by_code = job
        .call("BindingQR", &[Value::str(code_of(&issued))])
        .unwrap();
    assert_eq!(
        by_code,
        job.call("BindingQR", &[Value::str(&read), Value::I4(300)])
            .unwrap()
    );
    let scanned = read.split_once("?start=").unwrap().1.to_owned();
    let scan = sandbox.user_starts(anna, Some(&scanned)).unwrap();

    let typed = new_code(&mut job, "contact-oleg", None);
    let spaced = code_of(&typed).replace('-', " ");
    let order = sandbox.user_sends_text(oleg, "Заказ 123456789012").unwrap();
    let typing = sandbox
        .user_sends_text(oleg, &format!(" {spaced} "))
        .unwrap();

    let batch = pull_n(&mut job, 3);
    assert_eq!(
        ids(&batch),
        [scan.update_id, order.update_id, typing.update_id]
    );
    let b = bindings(&batch);
    assert_eq!(b.len(), 2, "{batch:?}");
    assert_eq!(
        (b[0]["subject"].as_str(), b[0]["user_id"].as_i64()),
        (Some("contact-anna"), Some(anna))
    );
    assert_eq!(b[0]["code"], issued["code"]);
    assert_eq!(
        (b[1]["subject"].as_str(), b[1]["user_id"].as_i64()),
        (Some("contact-oleg"), Some(oleg))
    );
    assert_eq!(texts(&batch), ["Заказ 123456789012"]);
    assert_eq!(
        wait_replies(&sandbox, anna, 1),
        ["Done! Your Telegram is now linked."]
    );
    assert_eq!(
        wait_replies(&sandbox, oleg, 1),
        ["Done! Your Telegram is now linked."]
    );
    assert_eq!(job.server_events(), 0);
    assert!(pull(&mut job, 0, 100).is_empty());
    finish(job);
    assert_clean_state(&dir, &[&scanned, &code_of(&issued).replace('-', "")]);
}

/// Decodes a PNG and reads the one QR code in it.
fn read_qr(png: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[test]
fn setup_a_a_job_receives_and_the_dialog_reads_the_binding_from_the_state_folder() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "setup-a");
    let maria = sandbox.create_user("Maria");
    // The dialog runs "elsewhere": an object that does not share this
    // process's poller (another address of the same server), same StateDir.
    let mut dialog = bot_with(HostOptions::server());
    configure(&mut dialog, &sandbox, &dir);
    let port = sandbox.addr().port();
    dialog
        .set("ApiUrl", Value::str(format!("http://localhost:{port}")))
        .unwrap();

    job.set("LongPollTimeout", Value::I4(5)).unwrap();
    // Knocked off by a 409, the job would stay in "conflict" for a minute.
    tune(
        &mut job,
        json!({"backoff_initial_ms": 60_000, "backoff_cap_ms": 60_000}),
    );
    assert!(pull(&mut job, 0, 100).is_empty(), "the job receives");
    let issued = new_code(&mut dialog, "contact-maria", None);
    let code = code_of(&issued);
    // Nobody redeemed yet: the dialog waits without calling getUpdates,
    // which would knock the job's long poll off (409).
    assert_eq!(
        dialog
            .call("BindContact", &[Value::str(&code), Value::I4(1)])
            .unwrap(),
        Value::Empty
    );
    assert!(pull(&mut job, 0, 100).is_empty());
    assert_eq!(
        text(job.get("LastError").unwrap()),
        "",
        "the job was not knocked off"
    );

    let hi = sandbox.user_sends_text(maria, "hi").unwrap();
    let start = sandbox.user_starts(maria, Some(&payload(&issued))).unwrap();
    let bye = sandbox.user_sends_text(maria, "bye").unwrap();
    let batch = pull_n(&mut job, 3);
    assert_eq!(ids(&batch), [hi.update_id, start.update_id, bye.update_id]);
    assert_eq!(texts(&batch), ["hi", "bye"]);
    let bound = json(
        dialog
            .call("ПривязатьКонтакт", &[Value::str(&code), Value::I4(5)])
            .unwrap(),
    );
    assert_eq!(bound["user_id"], maria);
    assert_eq!(bound["subject"], "contact-maria");
    assert!(pull(&mut job, 0, 100).is_empty(), "exactly once");
    assert_eq!(
        text(job.get("LastError").unwrap()),
        "",
        "no conflict for the job"
    );
    finish(dialog);
    finish(job);
}

#[test]
fn setup_b_bind_contact_receives_by_itself_and_leaves_other_updates() {
    let (sandbox, mut dialog, dir) = setup(HostOptions::default(), "setup-b");
    let a = sandbox.create_user("Alice");
    let b = sandbox.create_user("Bob");

    // The binding comes first: it is taken and confirmed.
    let issued = new_code(&mut dialog, "first", None);
    sandbox.user_starts(b, Some(&payload(&issued))).unwrap();
    let later = sandbox.user_sends_text(a, "later").unwrap();
    let bound = json(
        dialog
            .call("BindContact", &[Value::str(code_of(&issued)), Value::I4(5)])
            .unwrap(),
    );
    assert_eq!(bound["user_id"], b);
    assert_eq!(wait_replies(&sandbox, b, 1).len(), 1);

    // Now it comes after someone else's message: taken, not confirmed.
    let issued = new_code(&mut dialog, "second", None);
    let before = sandbox.user_sends_text(a, "before").unwrap();
    let start = sandbox.user_sends_text(b, &code_of(&issued)).unwrap();
    let bound = json(
        dialog
            .call("BindContact", &[Value::str(code_of(&issued)), Value::I4(5)])
            .unwrap(),
    );
    assert_eq!(
        (bound["user_id"].as_i64(), bound["subject"].as_str()),
        (Some(b), Some("second"))
    );
    assert_eq!(
        wait_replies(&sandbox, b, 2).len(),
        2,
        "one answer per binding"
    );
    assert!(
        dialog.drain_events().is_empty(),
        "BindContact raised nothing"
    );

    // The job that receives next gets every other update exactly once.
    let mut job = bot_with(HostOptions::server());
    configure(&mut job, &sandbox, &dir);
    let batch = pull_n(&mut job, 3);
    assert_eq!(texts(&batch), ["later", "before"]);
    assert_eq!(
        ids(&batch),
        [later.update_id, before.update_id, start.update_id]
    );
    assert_eq!(
        bindings(&batch).len(),
        1,
        "the second binding, seen once: {batch:?}"
    );
    assert!(pull(&mut job, 1, 100).is_empty());
    assert_eq!(replies(&sandbox, b).len(), 2, "no answer twice");
    finish(job);
    finish(dialog);
}

#[test]
fn expired_used_cancelled_and_raced_codes_are_refused() {
    let (sandbox, mut job, _dir) = setup(HostOptions::server(), "refusals");
    let users: Vec<i64> = ["A", "B", "C", "D"]
        .iter()
        .map(|n| sandbox.create_user(n))
        .collect();

    let short = new_code(&mut job, "short", Some(1));
    let until = short["expires_at"].as_i64().unwrap();
    let deadline = Instant::now() + T;
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        <= until
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let race = new_code(&mut job, "race", None);
    let cancelled = new_code(&mut job, "cancelled", None);
    assert_eq!(
        job.call("CancelBindingCode", &[Value::str(code_of(&cancelled))])
            .unwrap(),
        Value::Bool(true)
    );
    assert_eq!(
        job.call("ОтменитьКодПривязки", &[Value::str(code_of(&cancelled))])
            .unwrap(),
        Value::Bool(false)
    );

    sandbox
        .user_starts(users[0], Some(&payload(&short)))
        .unwrap();
    sandbox
        .user_starts(users[1], Some(&payload(&race)))
        .unwrap();
    sandbox.user_sends_text(users[2], &code_of(&race)).unwrap();
    sandbox
        .user_sends_text(users[3], &code_of(&cancelled))
        .unwrap();
    let batch = pull_n(&mut job, 1);
    let b = bindings(&batch);
    assert_eq!(b.len(), 1, "one winner: {batch:?}");
    assert_eq!(b[0]["user_id"], users[1]);
    assert!(texts(&batch).is_empty(), "{batch:?}");
    assert!(wait_replies(&sandbox, users[0], 1)[0].contains("expired"));
    assert!(wait_replies(&sandbox, users[2], 1)[0].contains("already been used"));
    assert!(wait_replies(&sandbox, users[3], 1)[0].contains("already been used or cancelled"));

    let err = job
        .call("BindContact", &[Value::str(code_of(&short))])
        .unwrap_err();
    assert!(err.text.contains("истёк"), "{err:?}");
    let err = job
        .call("BindContact", &[Value::str(code_of(&cancelled))])
        .unwrap_err();
    assert!(err.text.contains("отменён"), "{err:?}");
    let err = job
        .call("BindContact", &[Value::str("0000-0000-0098")])
        .unwrap_err();
    assert!(err.text.contains("нет"), "{err:?}");
    let err = job.call("BindContact", &[Value::str("hello")]).unwrap_err();
    assert!(err.text.contains("Код"), "{err:?}");
    assert!(job
        .call(
            "NewBindingCode",
            &[Value::str("x"), Value::I4(7 * 24 * 3600 + 1)]
        )
        .is_err());
    assert_eq!(
        json(
            job.call("BindContact", &[Value::str(code_of(&race))])
                .unwrap()
        )["user_id"],
        users[1]
    );
    finish(job);
}

#[test]
fn wrong_tries_are_limited_per_user() {
    let (sandbox, mut form, _dir) = setup(en(), "tries");
    let guesser = sandbox.create_user("Guesser");
    let honest = sandbox.create_user("Honest");
    form.call("StartPolling", &[]).unwrap();
    let issued = new_code(&mut form, "target", None);
    let real = code_of(&issued).replace('-', "");
    // Twelve digits that pass the check but are not the code.
    let wrong: Vec<String> = (0..7u64)
        .map(|i| {
            let body = 1_000_000_000 + i;
            format!("{body:010}{:02}", 98 - (body * 100) % 97)
        })
        .filter(|c| *c != real)
        .take(7)
        .collect();
    for w in &wrong {
        sandbox.user_sends_text(guesser, w).unwrap();
    }
    sandbox.user_sends_text(guesser, &real).unwrap();
    let texts = wait_replies(&sandbox, guesser, 6);
    assert_eq!(
        texts.iter().filter(|t| t.contains("did not work")).count(),
        5,
        "{texts:?}"
    );
    assert!(texts[5].contains("wait 10 minutes"), "{texts:?}");
    // Even the right code is refused while the user must wait.
    sandbox.user_sends_text(honest, "sure?").unwrap();
    let (kind, data) = next_update(&form, T).unwrap();
    assert_eq!(
        (kind.as_str(), data["message"]["text"].as_str()),
        ("message", Some("sure?"))
    );
    assert_eq!(
        form.call("BindContact", &[Value::str(&real)]).unwrap(),
        Value::Empty
    );
    // Another user is not held back.
    sandbox
        .user_starts(honest, Some(&payload(&issued)))
        .unwrap();
    let (kind, data) = next_update(&form, T).unwrap();
    assert_eq!(
        (kind.as_str(), data["binding"]["user_id"].as_i64()),
        ("binding", Some(honest))
    );
    assert_eq!(
        replies(&sandbox, guesser).len(),
        6,
        "one wait notice, not one per message"
    );
    finish(form);
}

#[test]
fn a_code_survives_a_restart_and_webhooks_redeem_too() {
    let (sandbox, mut first, dir) = setup(HostOptions::server(), "restart");
    let user = sandbox.create_user("Late");
    let issued = new_code(&mut first, "persisted", None);
    let webhook = new_code(&mut first, "by-webhook", None);
    finish(first);

    let mut second = bot_with(HostOptions::server());
    configure(&mut second, &sandbox, &dir);
    sandbox.user_sends_text(user, &code_of(&issued)).unwrap();
    let batch = pull_n(&mut second, 1);
    assert_eq!(bindings(&batch)[0]["subject"], "persisted");
    assert_eq!(bindings(&batch)[0]["code"], issued["code"]);

    // ParseWebhook: the same redemption on an update posted to 1C.
    second.set("WebhookSecret", Value::str("s3cret")).unwrap();
    let update = |id: i64, text: &str| {
        json!({"update_id": id, "message": {"message_id": id, "date": 0, "text": text,
            "from": {"id": user, "is_bot": false, "first_name": "Late"},
            "chat": {"id": user, "type": "private", "first_name": "Late"}}})
        .to_string()
    };
    let parse = |bot: &mut Component, body: String| {
        json(
            bot.call("ParseWebhook", &[Value::str(body), Value::str("s3cret")])
                .unwrap(),
        )
    };
    let got = parse(
        &mut second,
        update(900_001, &format!("/start {}", payload(&webhook))),
    );
    assert_eq!(got["binding"]["subject"], "by-webhook");
    assert_eq!(got["update_id"], 900_001);
    let got = parse(&mut second, update(900_002, &code_of(&webhook)));
    assert_eq!(
        got,
        json!({"update_id": 900_002}),
        "a refused attempt is consumed"
    );
    let got = parse(&mut second, update(900_003, "/start promo"));
    assert_eq!(got["message"]["text"], "/start promo");
    let answers = wait_replies(&sandbox, user, 3);
    assert!(answers[2].contains("already been used"), "{answers:?}");
    finish(second);
}

#[test]
fn no_code_or_token_in_logs_errors_or_the_state_folder() {
    let (sandbox, mut dialog, dir) = setup(HostOptions::default(), "secrets");
    let user = sandbox.create_user("Quiet");
    let log = dir.with_extension("log");
    dialog
        .set("LogFile", Value::str(log.to_string_lossy()))
        .unwrap();
    dialog.set("LogLevel", Value::str("debug")).unwrap();
    let issued = new_code(&mut dialog, "secret-subject", None);
    let other = new_code(&mut dialog, "other", None);
    sandbox.user_starts(user, Some(&payload(&issued))).unwrap();
    sandbox.user_sends_text(user, &code_of(&issued)).unwrap();
    let bound = json(
        dialog
            .call("BindContact", &[Value::str(code_of(&issued)), Value::I4(5)])
            .unwrap(),
    );
    assert_eq!(bound["user_id"], user);
    let err = dialog
        .call("CancelBindingCode", &[Value::str("9999-9999-9999")])
        .unwrap_err();
    assert_eq!(
        dialog
            .call("BindContact", &[Value::str(code_of(&other))])
            .unwrap(),
        Value::Empty
    );
    let secrets = [
        code_of(&issued),
        code_of(&issued).replace('-', ""),
        payload(&issued),
        code_of(&other).replace('-', ""),
        payload(&other),
    ];
    for s in &secrets {
        assert!(!err.text.contains(s.as_str()));
    }
    finish(dialog);
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        written.contains("binding"),
        "the log says what happened: {written}"
    );
    for s in secrets
        .iter()
        .map(String::as_str)
        .chain([tg_sandbox::DEFAULT_TOKEN.split_once(':').unwrap().1])
    {
        assert!(!written.contains(s), "{s} in the log");
    }
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_clean_state(&dir, &secrets);
    let _ = std::fs::remove_file(log);
}

/// Asserts that no file under `dir` holds any of `secrets` or the token,
/// and (on Unix) that the binding files are the owner's only.
fn assert_clean_state(dir: &Path, secrets: &[&str]) {
    let token = tg_sandbox::DEFAULT_TOKEN.split_once(':').unwrap().1;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let name = path.to_string_lossy().into_owned();
            let body = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            for s in secrets.iter().chain([&token]) {
                assert!(!body.contains(s) && !name.contains(s), "{s} in {name}");
            }
            #[cfg(unix)]
            if name.contains("binding-") {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
            }
        }
    }
    assert!(files > 1, "the state folder holds the binding files");
}

#[test]
fn setup_a_across_processes_the_dialog_in_another_process_sees_the_binding() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "setup-a-proc");
    let nina = sandbox.create_user("Nina");
    job.set("LongPollTimeout", Value::I4(5)).unwrap();
    tune(
        &mut job,
        json!({"backoff_initial_ms": 60_000, "backoff_cap_ms": 60_000}),
    );
    assert!(pull(&mut job, 0, 100).is_empty(), "the job receives");
    let issued = new_code(&mut job, "contact-nina", None);
    // The job's poller says that it receives before its first long poll.
    let lease = dir.join("binding-123456").join("receiver.lease");
    let deadline = Instant::now() + T;
    while !lease.exists() {
        assert!(Instant::now() < deadline, "no lease at {}", lease.display());
        std::thread::sleep(Duration::from_millis(10));
    }

    // The dialog: this test binary again, in a new process (see child_dialog).
    let request = json!({
        "api_url": sandbox.api_url(),
        "token": sandbox.token(),
        "state_dir": dir,
        "code": code_of(&issued),
    });
    let mut child = common::child_test("child_dialog")
        .env("TG_BINDING_CHILD", request.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It checks once (a second, nobody redeemed), says so, then waits.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut stdout = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains("CHILD-READY") {
            break;
        }
    }
    assert!(stdout.contains("CHILD-READY Empty"), "{stdout}");
    let hello = sandbox.user_sends_text(nina, "hello").unwrap();
    let start = sandbox.user_starts(nina, Some(&payload(&issued))).unwrap();
    let batch = pull_n(&mut job, 2);
    assert_eq!(ids(&batch), [hello.update_id, start.update_id]);
    assert_eq!(bindings(&batch).len(), 1);
    for line in lines {
        stdout.push_str(&line.unwrap());
        stdout.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{stdout}");
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("CHILD-RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
    let bound: Json = serde_json::from_str(line).unwrap_or_else(|_| panic!("{line}"));
    assert_eq!(bound["user_id"], nina);
    assert_eq!(bound["code"], issued["code"]);
    assert!(pull(&mut job, 0, 100).is_empty(), "exactly once");
    assert_eq!(
        text(job.get("LastError").unwrap()),
        "",
        "the job was not knocked off"
    );
    finish(job);
}

/// The second process of the test above; does nothing when run by hand.
#[test]
#[ignore = "the dialog process of setup_a_across_processes_…; started by that test"]
fn child_dialog() {
    let Ok(request) = std::env::var("TG_BINDING_CHILD") else {
        return;
    };
    let request: Json = serde_json::from_str(&request).unwrap();
    let field = |k: &str| request[k].as_str().unwrap().to_owned();
    let mut dialog = bot_with(HostOptions::server());
    dialog.set("Token", Value::str(field("token"))).unwrap();
    dialog.set("ApiUrl", Value::str(field("api_url"))).unwrap();
    dialog
        .set("StateDir", Value::str(field("state_dir")))
        .unwrap();
    let first = dialog
        .call("BindContact", &[Value::str(field("code")), Value::I4(1)])
        .map_or_else(|e| e.text, |v| format!("{v:?}"));
    println!("\nCHILD-READY {first}");
    let result = match dialog.call(
        "ПривязатьКонтакт",
        &[Value::str(field("code")), Value::I4(10)],
    ) {
        Ok(Value::Str(s)) => s,
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("error: {}", e.text),
    };
    println!("CHILD-RESULT {result}");
    finish(dialog);
}
