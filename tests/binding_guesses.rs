//! The redemption path called directly (going through HTTP 10,000 times
//! would be slow): wrong guesses bind nothing and each user is throttled,
//! and two redeemers over one state folder (two processes) race fairly.

use std::sync::{Arc, Mutex, RwLock};

use serde_json::{json, Value};
use telegram_addin::binding::{self, Outcome, Redeemer, Replies, Store};

fn store(tag: &str) -> Store {
    let dir = std::env::temp_dir().join(format!("tg-binding-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Store::new(&dir, "123456")
}

type Sent = Arc<Mutex<Vec<(i64, String)>>>;

fn redeemer(store: &Store) -> (Redeemer, Sent) {
    let sent: Sent = Arc::default();
    let log = sent.clone();
    let reply =
        Box::new(move |chat: i64, text: &str| log.lock().unwrap().push((chat, text.to_owned())));
    (
        Redeemer::new(
            store.clone(),
            Arc::new(RwLock::new(Replies::default())),
            reply,
        ),
        sent,
    )
}

fn message(user: i64, text: &str) -> Value {
    json!({"message": {"message_id": 1, "date": 0, "text": text,
        "from": {"id": user, "is_bot": false, "first_name": "U"},
        "chat": {"id": user, "type": "private"}}})
}

/// A 12-digit string with valid check digits.
fn code_like(body: u64) -> String {
    let body = body % 10_000_000_000;
    format!("{body:010}{:02}", 98 - (body * 100) % 97)
}

#[test]
fn ten_thousand_wrong_guesses_from_fifty_users_bind_nothing() {
    let store = store("guesses");
    let issued = binding::issue(&store, "target", "", 900).unwrap();
    let (redeemer, sent) = redeemer(&store);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut update_id = 0;
    for round in 0..200 {
        for user in 1..=50i64 {
            update_id += 1;
            let text = if round % 2 == 0 {
                let mut guess = code_like(next());
                if guess == issued.code {
                    guess = code_like(next());
                }
                guess
            } else {
                format!("/start bind-{:022x}", next())
            };
            let outcome = redeemer.handle(update_id, &message(user, &text));
            assert_eq!(outcome, Outcome::Consumed, "guess {update_id}");
        }
    }
    assert_eq!(update_id, 10_000);
    assert_eq!(store.ended(&issued.id), None, "nothing bound");
    let now = binding::now();
    let sent = sent.lock().unwrap();
    for user in 1..=50i64 {
        assert_eq!(
            store.tries(user, now).len(),
            binding::MAX_TRIES,
            "user {user}"
        );
        let to_user: Vec<&String> = sent
            .iter()
            .filter(|(c, _)| *c == user)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            to_user.len(),
            binding::MAX_TRIES + 1,
            "five refusals and one wait notice"
        );
        assert!(to_user[binding::MAX_TRIES].contains("wait"));
    }
    drop(sent);
    // The right code from a throttled user is refused too; a fresh user binds.
    let right = message(7, &binding::display(&issued.code));
    assert_eq!(redeemer.handle(20_001, &right), Outcome::Consumed);
    match redeemer.handle(20_002, &message(51, &issued.code)) {
        Outcome::Bound { code, binding } => {
            assert_eq!(code, issued.code);
            assert_eq!(binding.user_id, 51);
        }
        other => panic!("expected a binding, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(store.dir().parent().unwrap());
}

#[test]
fn two_redeemers_over_one_folder_let_one_user_win() {
    let store = store("race");
    for round in 0..20 {
        let issued = binding::issue(&store, &format!("race-{round}"), "", 900).unwrap();
        let link = format!("/start {}", issued.payload);
        let wins: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2i64)
                .map(|i| {
                    let (redeemer, _) = redeemer(&store);
                    let text = if i == 0 {
                        link.clone()
                    } else {
                        issued.code.clone()
                    };
                    s.spawn(move || {
                        let update = round * 10 + i + 1;
                        matches!(
                            redeemer.handle(update, &message(100 + i, &text)),
                            Outcome::Bound { .. }
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "round {round}: {wins:?}"
        );
    }
    let _ = std::fs::remove_dir_all(store.dir().parent().unwrap());
}

#[test]
fn an_update_that_bound_a_code_before_a_crash_binds_it_again_without_a_second_answer() {
    let store = store("crash");
    let issued = binding::issue(&store, "s", "", 900).unwrap();
    let (before, sent) = redeemer(&store);
    let update = message(5, &format!("/start {}", issued.payload));
    let first = before.handle(77, &update);
    assert!(matches!(first, Outcome::Bound { .. }));
    // The crash came before the update was marked as handled.
    std::fs::remove_file(store.dir().join("seen").join("77")).unwrap();
    let (again, sent_again) = redeemer(&store);
    assert_eq!(again.handle(77, &update), first, "the same binding");
    assert!(sent_again.lock().unwrap().is_empty(), "answered once");
    assert_eq!(sent.lock().unwrap().len(), 1);
    // Another update with the same link is refused.
    assert_eq!(again.handle(78, &update), Outcome::Consumed);
    let _ = std::fs::remove_dir_all(store.dir().parent().unwrap());
}

#[test]
fn no_code_kept_means_no_attempt() {
    let store = store("none");
    let (redeemer, sent) = redeemer(&store);
    assert_eq!(
        redeemer.handle(1, &message(1, &code_like(42))),
        Outcome::Pass
    );
    assert_eq!(
        redeemer.handle(2, &message(1, "/start bind-AAAAAAAAAAAAAAAAAAAAAA")),
        Outcome::Pass
    );
    binding::issue(&store, "s", "", 900).unwrap();
    assert_eq!(
        redeemer.handle(3, &message(1, "hello 123456789012")),
        Outcome::Pass
    );
    assert_eq!(
        redeemer.handle(4, &message(1, "/start promo")),
        Outcome::Pass
    );
    assert_eq!(
        redeemer.handle(5, &message(1, &code_like(42))),
        Outcome::Consumed
    );
    assert_eq!(sent.lock().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(store.dir().parent().unwrap());

    // A day after the last code expired, attempts are ordinary messages again.
    let store = crate::store("stale");
    let long_ago = binding::now() - binding::KEEP_AFTER_EXPIRY_SECS - 10;
    store
        .add(&binding::CodeRecord {
            id: "old".into(),
            code_hash: String::new(),
            payload_hash: String::new(),
            sealed_code: String::new(),
            subject: String::new(),
            title: String::new(),
            created: long_ago - 900,
            expires_at: long_ago,
        })
        .unwrap();
    assert!(store.has_codes());
    let (redeemer, sent) = crate::redeemer(&store);
    assert_eq!(
        redeemer.handle(1, &message(1, &code_like(42))),
        Outcome::Pass
    );
    assert!(!store.has_codes(), "pruned");
    assert!(sent.lock().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(store.dir().parent().unwrap());
}
