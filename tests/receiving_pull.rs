//! Receiving in server code: pull with confirmation, re-delivery of an
//! unconfirmed batch, the saved offset, and webhooks.

mod common;
mod receiving_util;

use std::time::Duration;

use receiving_util::*;

const T: Duration = Duration::from_secs(10);

#[test]
fn pull_confirms_on_the_next_call_and_an_unconfirmed_batch_comes_again() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "pull");
    let user = sandbox.create_user("Job");
    let sent: Vec<i64> = (0..3)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("u{i}"))
                .unwrap()
                .update_id
        })
        .collect();
    let batch = pull(&mut job, 5, 100);
    assert_eq!(ids(&batch), sent);
    assert_eq!(batch[0]["message"]["text"], "u0");
    assert_eq!(job.get("Polling").unwrap(), Value::Bool(true));
    assert_eq!(job.server_events(), 0, "no external events on the server");
    // The job "crashes": the object goes away without confirming.
    finish(job);
    assert_eq!(
        sandbox.pending_updates().len(),
        3,
        "not confirmed to Telegram"
    );

    let mut job = bot_with(HostOptions::server());
    configure(&mut job, &sandbox, &dir);
    assert_eq!(ids(&pull(&mut job, 5, 100)), sent, "the batch again");
    // The next call confirms it; nothing is handed out twice after that.
    assert!(pull(&mut job, 0, 100).is_empty());
    let more = sandbox.user_sends_text(user, "more").unwrap().update_id;
    assert_eq!(ids(&pull(&mut job, 5, 100)), [more]);
    assert!(sandbox.wait_for(T, |sb| sb.pending_updates().len() <= 1));
    assert_eq!(
        job.call("ПодтвердитьОбновления", &[Value::I4(more as i32)])
            .unwrap(),
        Value::Bool(true)
    );
    finish(job);

    let mut job = bot_with(HostOptions::server());
    configure(&mut job, &sandbox, &dir);
    assert!(pull(&mut job, 1, 100).is_empty(), "all were confirmed");
    finish(job);
}

#[test]
fn a_partial_confirmation_and_the_limit_are_kept() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "partial");
    let user = sandbox.create_user("Job");
    let sent: Vec<i64> = (0..4)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("p{i}"))
                .unwrap()
                .update_id
        })
        .collect();
    // Started explicitly this time, with a short long poll.
    job.set("ТаймаутОжидания", Value::I4(5)).unwrap();
    job.call("StartPolling", &[]).unwrap();
    let first = pull(&mut job, 5, 2);
    assert_eq!(ids(&first), sent[..2]);
    job.call("ConfirmUpdates", &[Value::R8(sent[0] as f64)])
        .unwrap();
    finish(job);

    let mut job = bot_with(HostOptions::server());
    configure(&mut job, &sandbox, &dir);
    assert_eq!(
        ids(&pull(&mut job, 5, 100)),
        sent[1..],
        "from the first unconfirmed"
    );
    finish(job);
}

#[test]
fn get_updates_is_refused_while_a_client_receives_events_and_a_bad_token_raises() {
    let (_sandbox, mut form, _dir) = setup(en(), "client-pull");
    form.call("StartPolling", &[]).unwrap();
    let err = form.call("GetUpdates", &[]).unwrap_err();
    assert!(err.text.contains("StopPolling"), "{err:?}");
    form.call("StopPolling", &[]).unwrap();
    assert!(
        form.call("GetUpdates", &[Value::I4(0)]).is_ok(),
        "pull works after stopping"
    );
    finish(form);

    let (_sandbox, mut job, _dir) = setup(HostOptions::server(), "pull-401");
    job.set("Token", Value::str("777:UNKNOWN-bot")).unwrap();
    let err = job.call("GetUpdates", &[Value::I4(5)]).unwrap_err();
    assert!(err.text.contains("Токен"), "{err:?}");
    assert!(!err.text.contains("UNKNOWN-bot"));
    assert_eq!(job.get("Polling").unwrap(), Value::Bool(false));
    finish(job);
}

#[test]
fn properties_have_defaults_and_checks() {
    let mut bot = bot();
    assert_eq!(bot.get("LongPollTimeout").unwrap(), Value::I4(25));
    assert!(bot.set("LongPollTimeout", Value::I4(-1)).is_err());
    let dir = text(bot.get("КаталогСостояния").unwrap());
    assert!(dir.ends_with("telegram-addin"), "{dir}");
    assert!(bot.set("Polling", Value::Bool(true)).is_err());
    assert!(bot.set("WebhookSecret", Value::str("bad secret!")).is_err());
    assert_eq!(bot.get("WebhookSecret").unwrap(), Value::str(""));
    bot.set("WebhookSecret", Value::str("abc")).unwrap();
    assert_eq!(bot.get("WebhookSecret").unwrap(), Value::str("***"));
    let err = bot.call("StartPolling", &[]).unwrap_err();
    assert!(err.text.contains("Токен"), "{err:?}");
    finish(bot);

    // A state folder that cannot be written is a clear error at start.
    let (_sandbox, mut bot, _dir) = setup(HostOptions::default(), "baddir");
    let file = state_dir("a-file");
    std::fs::write(&file, b"x").unwrap();
    bot.set("StateDir", Value::str(file.to_string_lossy()))
        .unwrap();
    let err = bot.call("StartPolling", &[]).unwrap_err();
    assert!(err.text.contains("КаталогСостояния"), "{err:?}");
    finish(bot);
}

#[test]
fn webhook_parse_accepts_the_right_secret_and_rejects_a_wrong_one() {
    let (sandbox, mut site, _dir) = setup(en(), "webhook");
    let body = r#"{"update_id":41,"message":{"message_id":1,"text":"hi"}}"#;
    let err = site
        .call("ParseWebhook", &[Value::str(body), Value::str("x")])
        .unwrap_err();
    assert!(err.text.contains("WebhookSecret"), "{err:?}");

    assert_eq!(
        site.call(
            "УстановитьWebhook",
            &[
                Value::str("https://example.com/hook"),
                Value::str("Secret_1"),
                Value::str(r#"{"max_connections": 5}"#),
            ],
        )
        .unwrap(),
        Value::Bool(true)
    );
    assert_eq!(
        sandbox.webhook_url().as_deref(),
        Some("https://example.com/hook")
    );
    let update = json(
        site.call("ParseWebhook", &[Value::str(body), Value::str("Secret_1")])
            .unwrap(),
    );
    assert_eq!(update["update_id"], 41);
    assert_eq!(update["message"]["text"], "hi");
    let update = json(
        site.call(
            "РазобратьWebhook",
            &[
                Value::Blob(body.as_bytes().to_vec()),
                Value::str("Secret_1"),
            ],
        )
        .unwrap(),
    );
    assert_eq!(update["update_id"], 41);

    for wrong in ["", "Secret_2", "Secret_", "secret_1"] {
        let err = site
            .call("ParseWebhook", &[Value::str(body), Value::str(wrong)])
            .unwrap_err();
        assert!(err.text.contains("403"), "{err:?}");
        assert!(text(site.get("LastError").unwrap()).contains("Secret-Token"));
    }
    let err = site
        .call(
            "ParseWebhook",
            &[Value::str("{\"a\":1}"), Value::str("Secret_1")],
        )
        .unwrap_err();
    assert!(err.text.contains("not a Telegram update"), "{err:?}");

    assert_eq!(
        site.call("DeleteWebhook", &[Value::Bool(true)]).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(sandbox.webhook_url(), None);
    finish(site);
}
