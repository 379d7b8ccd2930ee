//! OneScript's Native API bridge as a second host: it counts a parameter as
//! optional only when `GetParamDefValue` succeeds with a non-empty variant,
//! and it passes a left-out parameter as Undefined; 1C passes the default
//! itself back. Both must behave as if the parameter had been left out.

mod common;
mod support;

use common::*;
use support::*;

/// What OneScript's `HasParamDefValue` answers: a default that is not empty.
fn onescript_optional(bot: &mut Component, method: i64, param: i64) -> bool {
    let (ok, value) = bot.raw().get_param_def_value(method, param);
    ok && value != Value::Empty
}

#[test]
fn every_optional_parameter_has_a_default_onescript_sees() {
    let mut bot = bot();
    let names = bot.method_names(0);
    let mut optional = 0;
    for (m, name) in names.iter().enumerate() {
        let m = m as i64;
        let n = bot.raw().get_n_params(m);
        let mut seen_optional = false;
        for p in 0..n {
            let (ok, value) = bot.raw().get_param_def_value(m, p);
            if ok {
                assert_eq!(value, Value::Null, "{name}({p}): the default is Null");
                assert!(onescript_optional(&mut bot, m, p), "{name}({p})");
                seen_optional = true;
                optional += 1;
            } else {
                assert!(
                    !seen_optional,
                    "{name}({p}): required after an optional one"
                );
            }
        }
    }
    assert!(optional >= 15, "only {optional} optional parameters found");
    let send = bot.raw().find_method(Some("SendMessage"));
    assert!(!onescript_optional(&mut bot, send, 1), "Text is required");
    assert!(onescript_optional(&mut bot, send, 2), "Options is optional");
    finish(bot);
}

#[test]
fn a_default_passed_back_or_undefined_acts_as_left_out() {
    let (sandbox, mut bot, user) = setup(false);
    let chat = Value::number(user as f64);
    // 1C: the simulator asks GetParamDefValue and passes the Null back.
    let sent = json(
        bot.call("SendMessage", &[chat.clone(), Value::str("one")])
            .unwrap(),
    );
    assert_eq!(sent["text"], "one");
    // OneScript: a skipped parameter arrives as Undefined.
    let sent = json(
        bot.call(
            "SendMessage",
            &[chat.clone(), Value::str("two"), Value::Empty],
        )
        .unwrap(),
    );
    assert_eq!(sent["text"], "two");
    // An explicit Null reads the same way.
    bot.call(
        "SendMessage",
        &[chat.clone(), Value::str("three"), Value::Null],
    )
    .unwrap();
    let texts: Vec<String> = sandbox
        .chat_history(user)
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert!(
        texts.ends_with(&["one".into(), "two".into(), "three".into()]),
        "{texts:?}"
    );
    // Numbers and Booleans left out take their documented defaults.
    assert_eq!(bot.call("DeleteWebhook", &[]).unwrap(), Value::Bool(true));
    let mut job = bot_with(HostOptions::server());
    job.set("Token", Value::str(sandbox.token())).unwrap();
    job.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    let dir = temp_path("state");
    job.set("StateDir", Value::str(dir.to_str().unwrap()))
        .unwrap();
    assert_eq!(job.call("GetUpdates", &[]).unwrap(), Value::str("[]"));
    assert_eq!(job.get("LastError").unwrap(), Value::str(""));
    finish(job);
    finish(bot);
}
