//! A failure to save the receiving offset reaches 1C: an `error` event with
//! state `not_saved` in a client, and `LastError` in both.

mod common;
mod receiving_util;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use receiving_util::*;

const T: Duration = Duration::from_secs(10);

/// The offset file in `dir`, once the poller has written it.
fn offset_file(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + T;
    loop {
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "offset"))
        });
        if let Some(path) = found {
            return path;
        }
        assert!(Instant::now() < deadline, "no offset file in {dir:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Makes the offset file unsavable: a folder takes its name, so the atomic
/// rename over it fails (even for root).
fn block(path: &Path) {
    std::fs::remove_file(path).unwrap();
    std::fs::create_dir(path).unwrap();
}

fn last_error(bot: &mut Component) -> String {
    match bot.get("LastError").unwrap() {
        Value::Str(s) => s,
        other => panic!("LastError is {other:?}"),
    }
}

#[test]
fn pull_mode_tells_last_error_when_the_offset_cannot_be_saved() {
    let (sandbox, mut job, dir) = setup(HostOptions::server(), "notsaved-pull");
    let user = sandbox.create_user("Job");
    let first = sandbox.user_sends_text(user, "one").unwrap().update_id;
    assert_eq!(ids(&pull(&mut job, 5, 100)), [first]);
    assert_eq!(last_error(&mut job), "");
    let path = offset_file(&dir);
    block(&path);
    // The next call confirms `one`, and the save fails.
    assert!(pull(&mut job, 0, 100).is_empty());
    let text = last_error(&mut job);
    assert!(
        text.contains("КаталогСостояния") && text.contains(&*path.to_string_lossy()),
        "{text}"
    );
    finish(job);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn event_mode_raises_an_error_event_when_the_offset_cannot_be_saved() {
    let (sandbox, mut bot, dir) = setup(en(), "notsaved-events");
    let user = sandbox.create_user("Ann");
    bot.call("StartPolling", &[]).unwrap();
    let path = offset_file(&dir);
    block(&path);
    let sent = sandbox.user_sends_text(user, "hello").unwrap().update_id;
    let (kind, update) = next_update(&bot, T).expect("the update still arrives");
    assert_eq!(
        (kind.as_str(), update["update_id"].as_i64()),
        ("message", Some(sent))
    );
    let e = event(&bot, T);
    assert_eq!(e.message, "error");
    let data: Json = serde_json::from_str(&e.data).unwrap();
    assert_eq!(data["state"], "not_saved", "{data}");
    let text = data["description"].as_str().unwrap();
    assert!(
        text.contains("StateDir") && text.contains("restart"),
        "{text}"
    );
    // Told once, not once per update.
    let again = sandbox.user_sends_text(user, "again").unwrap().update_id;
    let (_, update) = next_update(&bot, T).expect("the next update");
    assert_eq!(update["update_id"].as_i64(), Some(again));
    assert!(bot.next_event(Duration::from_millis(300)).is_none());
    // Any receiving call tells it in LastError too.
    bot.call("StopPolling", &[]).unwrap();
    let text = last_error(&mut bot);
    assert!(text.contains("StateDir"), "{text:?}");
    finish(bot);
    let _ = std::fs::remove_dir_all(&dir);
}
