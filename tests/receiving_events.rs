//! Receiving in client forms: updates become external events, stopping is
//! immediate, the poller is shared per token, connection problems become
//! single `error` events, and the platform's full buffer loses nothing.

mod common;
mod receiving_util;

use std::time::{Duration, Instant};

use receiving_util::*;

const T: Duration = Duration::from_secs(10);

#[test]
fn a_message_a_button_press_and_an_edit_arrive_as_events() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "kinds");
    let user = sandbox.create_user("Ivan");
    assert_eq!(bot.get("Polling").unwrap(), Value::Bool(false));
    assert_eq!(bot.call("НачатьПолучение", &[]).unwrap(), Value::Bool(true));
    assert_eq!(bot.get("ПолучениеЗапущено").unwrap(), Value::Bool(true));
    assert!(bot.event_buffer_depth() > 1, "the add-in raised the depth");

    let sent = sandbox.user_sends_text(user, "hello").unwrap();
    let e = event(&bot, T);
    assert_eq!(
        (e.source.as_str(), e.message.as_str()),
        ("Telegram", "message")
    );
    let data: Json = serde_json::from_str(&e.data).unwrap();
    assert_eq!(data["update_id"], sent.update_id);
    assert_eq!(data["message"]["text"], "hello");
    assert_eq!(data["message"]["from"]["id"], user);

    let options =
        json!({"reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}});
    let msg = json(
        bot.call(
            "SendMessage",
            &[
                Value::I4(user as i32),
                Value::str("Sure?"),
                Value::str(options.to_string()),
            ],
        )
        .unwrap(),
    );
    let (update_id, query_id) = sandbox
        .user_presses_button(user, msg["message_id"].as_i64().unwrap(), "yes")
        .unwrap();
    let (kind, data) = next_update(&bot, T).expect("callback event");
    assert_eq!(kind, "callback_query");
    assert_eq!(data["update_id"], update_id);
    assert_eq!(data["callback_query"]["id"], query_id.as_str());
    assert_eq!(data["callback_query"]["data"], "yes");

    let edited = sandbox
        .user_edits(user, sent.message_id, "hello, edited")
        .unwrap();
    let (kind, data) = next_update(&bot, T).expect("edit event");
    assert_eq!(kind, "edited_message");
    assert_eq!(data["update_id"], edited.update_id);
    assert_eq!(data["edited_message"]["text"], "hello, edited");

    assert_eq!(bot.call("StopPolling", &[]).unwrap(), Value::Bool(true));
    assert_eq!(bot.get("Polling").unwrap(), Value::Bool(false));
    finish(bot);
}

#[test]
fn allowed_updates_filter_what_an_object_gets() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "allowed");
    let user = sandbox.create_user("Olga");
    bot.call("StartPolling", &[Value::str(r#"["callback_query"]"#)])
        .unwrap();
    let msg = json(
        bot.call(
            "SendMessage",
            &[
                Value::I4(user as i32),
                Value::str("pick"),
                Value::str(
                    json!({"reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}})
                        .to_string(),
                ),
            ],
        )
        .unwrap(),
    );
    sandbox.user_sends_text(user, "ignored").unwrap();
    let (update_id, _) = sandbox
        .user_presses_button(user, msg["message_id"].as_i64().unwrap(), "a")
        .unwrap();
    let (kind, data) = next_update(&bot, T).expect("callback");
    assert_eq!(
        (kind.as_str(), data["update_id"].as_i64()),
        ("callback_query", Some(update_id))
    );
    assert!(bot.call("StartPolling", &[Value::str("{}")]).is_err());
    finish(bot);
}

#[test]
fn stop_and_done_return_at_once_during_a_long_poll_and_the_library_unloads() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "stop");
    bot.set("LongPollTimeout", Value::I4(50)).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    // The long poll is in flight once the sandbox has seen it.
    assert!(sandbox.wait_for(T, |sb| sb.stats().requests("getUpdates") >= 1));
    let started = Instant::now();
    bot.call("StopPolling", &[]).unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(200),
        "StopPolling took {took:?}"
    );

    // Done in the middle of a long poll, on a separately loaded library that is then unloaded.
    let lib = Library::load(addin_path()).unwrap();
    let mut other = lib.create("Bot", HostOptions::default()).unwrap();
    let dir = state_dir("unload");
    receiving_util::configure(&mut other, &sandbox, &dir);
    other.set("LongPollTimeout", Value::I4(50)).unwrap();
    other.call("StartPolling", &[]).unwrap();
    assert!(sandbox.wait_for(T, |sb| sb.stats().requests("getUpdates") >= 2));
    let started = Instant::now();
    let report = other.teardown(Teardown::OneC);
    let took = started.elapsed();
    assert!(report.is_clean(), "{report}");
    assert!(took < Duration::from_millis(200), "Done took {took:?}");
    lib.close().expect("unload right after Done");
    finish(bot);
}

#[test]
fn an_instantly_answering_server_does_not_make_it_spin() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "spin");
    // Timeout 0: the sandbox answers every getUpdates at once with nothing.
    bot.set("LongPollTimeout", Value::I4(0)).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    assert!(sandbox.wait_for(T, |sb| sb.stats().requests("getUpdates") >= 1));
    let before = sandbox.stats().requests("getUpdates");
    // Measure over a window: an event that never comes bounds it.
    assert!(bot.next_event(Duration::from_secs(3)).is_none());
    let during = sandbox.stats().requests("getUpdates") - before;
    assert!(during <= 3 * 3, "{during} requests in 3 s");
    assert!(during >= 2, "it still polls: {during}");
    // Instant 500s must not make it spin either.
    sandbox.inject(
        FaultRule::new(Fault::Status(500))
            .method("getUpdates")
            .always(),
    );
    let before = sandbox.stats().requests("getUpdates");
    let lost = event(&bot, T);
    assert_eq!(lost.message, "error");
    assert!(
        bot.next_event(Duration::from_secs(3)).is_none(),
        "one error event, not one per retry"
    );
    let during = sandbox.stats().requests("getUpdates") - before;
    assert!(during <= 8, "{during} requests in about 3 s of 500s");
    finish(bot);
}

#[test]
fn two_objects_on_one_token_share_the_poller_and_both_see_every_update() {
    let (sandbox, mut first, _dir) = setup(HostOptions::default(), "shared1");
    let mut second = bot();
    receiving_util::configure(&mut second, &sandbox, &state_dir("shared2"));
    first.call("StartPolling", &[]).unwrap();
    second.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Petr");
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            sandbox
                .user_sends_text(user, &format!("m{i}"))
                .unwrap()
                .update_id,
        );
    }
    for bot in [&first, &second] {
        let got: Vec<i64> = (0..5)
            .map(|_| {
                next_update(bot, T).expect("update").1["update_id"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(got, sent);
    }
    // No 409: nothing reported an error, and all were confirmed.
    assert!(sandbox.wait_for(T, |sb| sb.pending_updates().is_empty()));
    assert!(first.drain_events().is_empty() && second.drain_events().is_empty());
    // One leaves, the other keeps receiving.
    first.call("StopPolling", &[]).unwrap();
    let later = sandbox.user_sends_text(user, "later").unwrap().update_id;
    assert_eq!(next_update(&second, T).unwrap().1["update_id"], later);
    assert!(first.drain_events().is_empty());
    finish(first);
    finish(second);
}

#[test]
fn a_burst_of_1000_with_buffer_depth_1_and_a_slow_consumer_arrives_in_order_once() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "burst");
    tune(&mut bot, json!({"event_depth": 1}));
    bot.call("StartPolling", &[]).unwrap();
    assert_eq!(bot.event_buffer_depth(), 1);
    let user = sandbox.create_user("Burst");
    let sent: Vec<i64> = (0..1000)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("{i}"))
                .unwrap()
                .update_id
        })
        .collect();
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let (_, data) = next_update(&bot, T).expect("the burst keeps coming");
        got.push(data["update_id"].as_i64().unwrap());
        if got.len() % 100 == 0 {
            // A slow consumer: the form is busy now and then (not synchronisation).
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    assert!(
        bot.next_event(Duration::from_millis(300)).is_none(),
        "nothing doubled"
    );
    assert_eq!(got, sent, "all, in order, once");
    assert!(bot.rejected_events() > 0, "the full buffer was exercised");
    finish(bot);
}

#[test]
fn connection_loss_and_restore_are_one_event_each_and_nothing_is_lost() {
    let (sandbox, mut bot, _dir) = setup(en(), "lost");
    tune(
        &mut bot,
        json!({"backoff_initial_ms": 20, "backoff_cap_ms": 100, "min_interval_ms": 10}),
    );
    bot.call("StartPolling", &[]).unwrap();
    assert!(sandbox.wait_for(T, |sb| sb.stats().requests("getUpdates") >= 1));
    sandbox.inject(
        FaultRule::new(Fault::Status(502))
            .method("getUpdates")
            .times(6),
    );
    let user = sandbox.create_user("Lost");
    // This one ends the long poll in flight; the polls after it fail.
    let first = sandbox.user_sends_text(user, "before").unwrap();
    assert_eq!(
        next_update(&bot, T).unwrap().1["update_id"],
        first.update_id
    );
    let lost = event(&bot, T);
    assert_eq!(lost.message, "error");
    let data: Json = serde_json::from_str(&lost.data).unwrap();
    assert_eq!(data["state"], "lost");
    assert!(
        data["description"].as_str().unwrap().contains("lost"),
        "{data}"
    );
    assert!(!lost.data.contains("TEST-token"), "no token in events");
    let sent = sandbox.user_sends_text(user, "through the outage").unwrap();
    let restored = event(&bot, T);
    let data: Json = serde_json::from_str(&restored.data).unwrap();
    assert_eq!(
        (restored.message.as_str(), data["state"].as_str()),
        ("error", Some("restored"))
    );
    let (_, update) = next_update(&bot, T).unwrap();
    assert_eq!(update["update_id"], sent.update_id);
    assert!(
        bot.next_event(Duration::from_millis(300)).is_none(),
        "one event each"
    );
    finish(bot);
}

#[test]
fn a_revoked_token_stops_the_poller_with_a_clear_event() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "401");
    bot.set("Token", Value::str("999:NOT-a-known-bot")).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let e = event(&bot, T);
    assert_eq!(e.message, "error");
    let data: Json = serde_json::from_str(&e.data).unwrap();
    assert_eq!(
        (data["state"].as_str(), data["code"].as_i64()),
        (Some("stopped"), Some(401))
    );
    assert!(
        data["description"].as_str().unwrap().contains("Токен"),
        "{data}"
    );
    assert!(!e.data.contains("NOT-a-known-bot"));
    assert_eq!(bot.get("Polling").unwrap(), Value::Bool(false));
    let requests = sandbox.stats().requests("getUpdates");
    assert!(bot.next_event(Duration::from_millis(500)).is_none());
    assert_eq!(
        sandbox.stats().requests("getUpdates"),
        requests,
        "no more requests"
    );
    finish(bot);
}

#[test]
fn a_webhook_conflict_is_reported_once_with_what_to_do() {
    let (sandbox, mut bot, _dir) = setup(en(), "409");
    tune(
        &mut bot,
        json!({"backoff_initial_ms": 20, "backoff_cap_ms": 100}),
    );
    assert_eq!(
        bot.call(
            "SetWebhook",
            &[Value::str("https://example.com/hook"), Value::str("s3cret")]
        )
        .unwrap(),
        Value::Bool(true)
    );
    bot.call("StartPolling", &[]).unwrap();
    assert!(sandbox.wait_for(T, |sb| sb.stats().requests("getUpdates") >= 1));
    let e = bot
        .next_event(T)
        .unwrap_or_else(|| panic!("{:?} {:?}", sandbox.stats(), bot.get("LastError")));
    let data: Json = serde_json::from_str(&e.data).unwrap();
    assert_eq!(
        (data["state"].as_str(), data["code"].as_i64()),
        (Some("conflict"), Some(409))
    );
    assert!(
        data["description"]
            .as_str()
            .unwrap()
            .contains("DeleteWebhook"),
        "{data}"
    );
    assert!(
        bot.next_event(Duration::from_millis(400)).is_none(),
        "reported once"
    );
    bot.call("DeleteWebhook", &[]).unwrap();
    let n = sandbox.stats().requests("getUpdates");
    let restored = bot.next_event(T).unwrap_or_else(|| {
        panic!(
            "{n} {:?} {:?} {:?}",
            sandbox.stats(),
            bot.get("Polling"),
            sandbox.webhook_url()
        )
    });
    assert!(restored.data.contains("restored"), "{restored:?}");
    finish(bot);
}

/// Every application type 1C reports: the add-in raises events where client
/// code can handle them (thin, thick, web and mobile client) and never where it
/// cannot (server, external connection, mobile server), where StartPolling
/// keeps the updates for GetUpdates instead.
#[test]
fn events_are_raised_in_client_app_types_only_and_servers_pull() {
    use onec_simulator::AppType;
    let clients = [
        AppType::ThinClient,
        AppType::ThickClient,
        AppType::WebClient,
        AppType::MobileClient,
    ];
    for app_type in AppType::ALL {
        let options = HostOptions {
            app_type,
            ..HostOptions::default()
        };
        let (sandbox, mut bot, _dir) = setup(options, "apps");
        let user = sandbox.create_user("Apps");
        assert_eq!(bot.call("StartPolling", &[]).unwrap(), Value::Bool(true));
        let sent = sandbox
            .user_sends_text(user, &format!("{app_type:?}"))
            .unwrap();
        if clients.contains(&app_type) {
            let (kind, data) = next_update(&bot, T).expect("an event in a client");
            assert_eq!(kind, "message", "{app_type:?}");
            assert_eq!(data["update_id"], sent.update_id, "{app_type:?}");
            let err = bot.call("GetUpdates", &[Value::I4(0)]).unwrap_err();
            assert!(err.text.contains("ВнешнееСобытие"), "{app_type:?}: {err:?}");
        } else {
            let batch = pull(&mut bot, 5, 100);
            assert_eq!(ids(&batch), [sent.update_id], "{app_type:?}");
            assert_eq!(bot.accepted_events(), 0, "{app_type:?}");
            assert!(bot.drain_events().is_empty(), "{app_type:?}");
        }
        assert_eq!(
            bot.server_events(),
            0,
            "{app_type:?}: ExternalEvent never called where nothing receives it"
        );
        finish(bot);
    }
}
