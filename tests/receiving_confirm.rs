//! `ConfirmEvents`: in event mode the offset moves only when 1C confirms an
//! update from its handler, so what the platform queued but the form never
//! handled comes again after a restart (at-least-once). Without it, the
//! offset is saved as soon as the platform accepts an event (at-most-once
//! for queued events): the window between the two is measured here.
//!
//! The kill tests start this very test binary again as a host process (the
//! `confirm_child_host` test, which does nothing unless `CONFIRM_CHILD` is
//! set) with a slow handler, kill it with SIGKILL at varying points, and
//! count what was lost and what came twice.

mod common;
mod receiving_util;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use receiving_util::*;

const T: Duration = Duration::from_secs(15);

fn update_id(data: &str) -> i64 {
    let v: Json = serde_json::from_str(data).expect("event data is JSON");
    v["update_id"].as_i64().expect("update_id")
}

/// The next update event (skipping `error` notices), raw.
fn next_raw(bot: &Component, timeout: Duration) -> Option<Event> {
    let deadline = Instant::now() + timeout;
    loop {
        let e = bot.next_event(deadline.saturating_duration_since(Instant::now()))?;
        if e.message != "error" {
            return Some(e);
        }
    }
}

#[test]
fn with_confirm_events_the_offset_moves_only_on_confirm_updates() {
    let (sandbox, mut bot, dir) = setup(HostOptions::default(), "confirm");
    assert_eq!(bot.get("ConfirmEvents").unwrap(), Value::Bool(false));
    bot.set("ПодтверждатьСобытия", Value::Bool(true)).unwrap();
    assert_eq!(bot.get("ConfirmEvents").unwrap(), Value::Bool(true));
    bot.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Confirm");
    let sent: Vec<i64> = (0..3)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("m{i}"))
                .unwrap()
                .update_id
        })
        .collect();
    let events: Vec<Event> = (0..3).map(|_| next_raw(&bot, T).expect("event")).collect();
    for (e, id) in events.iter().zip(&sent) {
        assert_eq!(
            e.message, "message",
            "the event name is the update kind, as before"
        );
        // The id leads the data: readable without parsing the JSON.
        assert!(
            e.data.starts_with(&format!("{{\"update_id\":{id},")),
            "{}",
            e.data
        );
    }
    // Handed to the platform, not confirmed: Telegram still holds all three.
    assert_eq!(sandbox.pending_updates().len(), 3);

    // Confirming the first by its event data confirms only the first.
    assert_eq!(
        bot.call("ConfirmUpdates", &[Value::str(&events[0].data)])
            .unwrap(),
        Value::Bool(true)
    );
    // A restart now gets the two unconfirmed ones again.
    bot.call("StopPolling", &[]).unwrap();
    let mut again = bot_with(HostOptions::default());
    configure(&mut again, &sandbox, &dir);
    again.set("ConfirmEvents", Value::Bool(true)).unwrap();
    again.call("StartPolling", &[]).unwrap();
    let redelivered: Vec<i64> = (0..2)
        .map(|_| update_id(&next_raw(&again, T).expect("redelivered").data))
        .collect();
    assert_eq!(redelivered, sent[1..]);
    // Confirming by number (cumulative, like GetUpdates' confirmation).
    assert_eq!(
        again
            .call("ПодтвердитьОбновления", &[Value::number(sent[2] as f64)])
            .unwrap(),
        Value::Bool(true)
    );
    assert!(
        sandbox.wait_for(T, |sb| sb.pending_updates().is_empty()),
        "pending {:?}, sent {sent:?}, stats {:?}",
        sandbox.pending_updates(),
        sandbox.stats()
    );
    let next = sandbox.user_sends_text(user, "after").unwrap().update_id;
    assert_eq!(update_id(&next_raw(&again, T).unwrap().data), next);
    assert!(again
        .call("ConfirmUpdates", &[Value::str("not an update")])
        .is_err());
    finish(again);
    finish(bot);
}

#[test]
fn without_confirm_events_confirm_updates_does_nothing_in_event_mode() {
    let (sandbox, mut bot, _dir) = setup(HostOptions::default(), "noconfirm");
    bot.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Plain");
    let id = sandbox.user_sends_text(user, "x").unwrap().update_id;
    let e = next_raw(&bot, T).unwrap();
    assert_eq!(update_id(&e.data), id);
    assert!(sandbox.wait_for(T, |sb| sb.pending_updates().is_empty()));
    assert_eq!(
        bot.call("ConfirmUpdates", &[Value::number(id as f64)])
            .unwrap(),
        Value::Bool(false)
    );
    finish(bot);
}

#[test]
fn the_accept_to_save_window_is_logged_for_every_event() {
    let (sandbox, mut bot, dir) = setup(en(), "window");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("bot.log");
    bot.set("LogLevel", Value::str("debug")).unwrap();
    bot.set("LogFile", Value::str(log.to_string_lossy()))
        .unwrap();
    bot.call("StartPolling", &[]).unwrap();
    let user = sandbox.create_user("Window");
    let n = 50;
    for i in 0..n {
        sandbox.user_sends_text(user, &format!("w{i}")).unwrap();
    }
    for _ in 0..n {
        next_raw(&bot, T).expect("event");
    }
    bot.call("StopPolling", &[]).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut micros: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            l.split_once("offset saved ")?
                .1
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(micros.len(), n, "one measured save per accepted event");
    micros.sort_unstable();
    println!(
        "accept→save window over {n} events: median {} µs, p90 {} µs, max {} µs",
        micros[n / 2],
        micros[n * 9 / 10],
        micros[n - 1]
    );
    assert!(
        !text.contains("w1"),
        "no message texts below debug… nor here: the poller logs ids only"
    );
    bot.set("LogFile", Value::str("")).unwrap();
    finish(bot);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- kill -9 with a slow handler ------------------------------------------

/// The child side: a client form with a handler that works `CONFIRM_DELAY_MS`
/// per event, prints `GOT <id>` when done and, with ConfirmEvents, confirms
/// and prints `CONF <id>`.
#[test]
#[ignore = "run as a child process by the kill tests below"]
fn confirm_child_host() {
    let Ok(mode) = std::env::var("CONFIRM_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).expect(k);
    let confirm = mode == "confirm";
    let delay = Duration::from_millis(var("CONFIRM_DELAY_MS").parse().unwrap());
    let mut bot = bot_with(HostOptions::default());
    bot.set("Token", Value::str(var("CONFIRM_TOKEN"))).unwrap();
    bot.set("ApiUrl", Value::str(var("CONFIRM_API"))).unwrap();
    bot.set("StateDir", Value::str(var("CONFIRM_DIR"))).unwrap();
    bot.set("ConfirmEvents", Value::Bool(confirm)).unwrap();
    bot.call("StartPolling", &[]).unwrap();
    loop {
        let Some(e) = next_raw(&bot, Duration::from_secs(60)) else {
            continue;
        };
        let id = update_id(&e.data);
        std::thread::sleep(delay); // the handler's work, not synchronisation
        println!("GOT {id}");
        if confirm {
            bot.call("ConfirmUpdates", &[Value::str(&e.data)]).unwrap();
            println!("CONF {id}");
        }
    }
}

/// One line of the child.
enum Line {
    Got(i64),
    Conf(i64),
}

struct Child {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<Line>,
}

impl Child {
    fn start(mode: &str, delay_ms: u64, sandbox: &Sandbox, dir: &std::path::Path) -> Child {
        use std::io::BufRead;
        let mut child = common::child_test("confirm_child_host")
            .env("CONFIRM_CHILD", mode)
            .env("CONFIRM_DELAY_MS", delay_ms.to_string())
            .env("CONFIRM_TOKEN", sandbox.token())
            .env("CONFIRM_API", sandbox.api_url())
            .env("CONFIRM_DIR", dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the child host");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let parsed = if let Some((_, id)) = line.split_once("GOT ") {
                    id.trim().parse().ok().map(Line::Got)
                } else if let Some((_, id)) = line.split_once("CONF ") {
                    id.trim().parse().ok().map(Line::Conf)
                } else {
                    None
                };
                if let Some(l) = parsed {
                    if tx.send(l).is_err() {
                        return;
                    }
                }
            }
        });
        Child { child, lines }
    }

    /// SIGKILL, then the lines it wrote before dying.
    fn kill(mut self) -> Vec<Line> {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
        let mut rest = Vec::new();
        // The reader ends at EOF, which comes once the process is gone.
        while let Ok(line) = self.lines.recv_timeout(T) {
            rest.push(line);
        }
        rest
    }
}

/// What a kill run saw.
#[derive(Debug, Default)]
struct KillReport {
    updates: usize,
    kills: usize,
    /// Handler runs in all (with repeats).
    handled: usize,
    lost: usize,
    duplicates: usize,
    /// Duplicates that were handled but not confirmed when a process died.
    duplicates_unconfirmed: usize,
}

/// The tally of one run.
#[derive(Default)]
struct Tally {
    handled: BTreeMap<i64, usize>,
    confirmed: BTreeSet<i64>,
}

impl Tally {
    fn add(&mut self, line: Line) {
        match line {
            Line::Got(id) => *self.handled.entry(id).or_default() += 1,
            Line::Conf(id) => {
                self.confirmed.insert(id);
            }
        }
    }
}

/// Sends `updates` updates, kills the host `kills` times after it handled a
/// varying number of them (2 to 10), then lets a last host finish.
fn kill_run(confirm: bool, updates: usize, kills: usize, delay_ms: u64) -> KillReport {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let dir = state_dir(if confirm {
        "kill-confirm"
    } else {
        "kill-plain"
    });
    let user = sandbox.create_user("Killer");
    let sent: Vec<i64> = (0..updates)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("k{i}"))
                .unwrap()
                .update_id
        })
        .collect();
    let mode = if confirm { "confirm" } else { "plain" };
    let mut tally = Tally::default();
    // Handled but not confirmed at the moment of some kill.
    let mut open_at_kill: BTreeSet<i64> = BTreeSet::new();
    let mut seed = 0x9e37_79b9_u64;
    for _ in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let want = 2 + (seed % 9) as usize;
        let child = Child::start(mode, delay_ms, &sandbox, &dir);
        let mut got = 0;
        let deadline = Instant::now() + T;
        while got < want && Instant::now() < deadline {
            match child.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    got += usize::from(matches!(line, Line::Got(_)));
                    tally.add(line);
                }
                // Quiet, and Telegram holds nothing more: nothing is coming.
                Err(_) if sandbox.pending_updates().is_empty() => break,
                Err(_) => {}
            }
        }
        for line in child.kill() {
            tally.add(line);
        }
        open_at_kill.extend(
            tally
                .handled
                .keys()
                .filter(|id| !tally.confirmed.contains(id)),
        );
    }
    // A last host takes everything that is left.
    let child = Child::start(mode, 0, &sandbox, &dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let all = sent.iter().all(|id| tally.handled.contains_key(id));
        if all || (!confirm && sandbox.pending_updates().is_empty()) {
            break;
        }
        if let Ok(line) = child.lines.recv_timeout(Duration::from_millis(200)) {
            tally.add(line);
        }
    }
    // What the last host still handles of what it was given.
    while let Ok(line) = child.lines.recv_timeout(Duration::from_millis(500)) {
        tally.add(line);
    }
    for line in child.kill() {
        tally.add(line);
    }
    let lost = sent
        .iter()
        .filter(|id| !tally.handled.contains_key(id))
        .count();
    let dups: Vec<i64> = tally
        .handled
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    KillReport {
        updates,
        kills,
        handled: tally.handled.values().sum(),
        lost,
        duplicates: dups.len(),
        duplicates_unconfirmed: dups.iter().filter(|id| open_at_kill.contains(id)).count(),
    }
}

/// The platform's event buffer depth StartPolling asks for: the most a kill
/// can lose without ConfirmEvents.
const EVENT_BUFFER_DEPTH: usize = 256;

fn kill_budget() -> (usize, usize, u64) {
    if std::env::var("RELIABLE_LONG").is_ok() {
        (300, 10, 40)
    } else {
        (60, 3, 20)
    }
}

fn print(mode: &str, r: &KillReport) {
    println!(
        "| {mode} | {} | {} | {} | {} | {} | {} |",
        r.updates, r.kills, r.handled, r.lost, r.duplicates, r.duplicates_unconfirmed
    );
}

#[cfg(unix)]
#[test]
fn killed_with_confirm_events_loses_nothing() {
    let (updates, kills, delay) = kill_budget();
    let r = kill_run(true, updates, kills, delay);
    print("events, ConfirmEvents=True", &r);
    assert_eq!(r.lost, 0, "{r:?}");
    assert_eq!(
        r.duplicates, r.duplicates_unconfirmed,
        "only updates handled but unconfirmed come again: {r:?}"
    );
    assert!(
        r.duplicates <= r.kills,
        "at most one open update per kill: {r:?}"
    );
}

#[cfg(unix)]
#[test]
fn killed_without_confirm_events_loses_at_most_the_queued_events() {
    let (updates, kills, delay) = kill_budget();
    let r = kill_run(false, updates, kills, delay);
    print("events, ConfirmEvents=False", &r);
    assert!(r.lost <= r.kills * EVENT_BUFFER_DEPTH, "{r:?}");
    assert_eq!(r.duplicates, 0, "at-most-once: {r:?}");
}
