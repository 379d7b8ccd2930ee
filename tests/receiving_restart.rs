//! The host process is killed with SIGKILL between updates and started again:
//! nothing is lost, and nothing is doubled beyond the unconfirmed batch.
//!
//! The host is this very test binary started again as a child (the
//! `child_host` test, ignored in a normal run and doing nothing unless
//! `RECV_CHILD` is set): it loads the add-in through the simulator and prints
//! what it receives.

#![cfg(unix)]

mod common;
mod receiving_util;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use receiving_util::*;

const T: Duration = Duration::from_secs(15);

/// The child side: a 1C server job pulling in a loop (`pull`) or a client
/// form receiving events (`events`), printing `GOT <ids>` lines.
#[test]
#[ignore = "run as a child process by the two restart tests below"]
fn child_host() {
    let Ok(mode) = std::env::var("RECV_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).expect(k);
    let options = if mode == "pull" {
        HostOptions::server()
    } else {
        HostOptions::default()
    };
    let mut bot = bot_with(options);
    bot.set("Token", Value::str(var("RECV_TOKEN"))).unwrap();
    bot.set("ApiUrl", Value::str(var("RECV_API"))).unwrap();
    bot.set("StateDir", Value::str(var("RECV_DIR"))).unwrap();
    if mode == "pull" {
        let stdin = std::io::stdin();
        loop {
            let batch = pull(&mut bot, 5, 100);
            if !batch.is_empty() {
                println!("GOT {:?}", ids(&batch));
                // "Processing" lasts until the parent says go on; the next
                // GetUpdates then confirms this batch.
                let mut line = String::new();
                if stdin.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
            }
        }
    } else {
        bot.call("StartPolling", &[]).unwrap();
        loop {
            if let Some((_, u)) = next_update(&bot, Duration::from_secs(60)) {
                println!("GOT {:?}", [u["update_id"].as_i64().unwrap()]);
            }
        }
    }
}

struct Host {
    child: Child,
    lines: Receiver<Vec<i64>>,
}

impl Host {
    fn start(mode: &str, sandbox: &Sandbox, dir: &std::path::Path) -> Host {
        let mut child = common::child_test("child_host")
            .env("RECV_CHILD", mode)
            .env("RECV_TOKEN", sandbox.token())
            .env("RECV_API", sandbox.api_url())
            .env("RECV_DIR", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the child host");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may print "test child_host ... " before it on the same line.
                if let Some(list) = line.split_once("GOT ").map(|(_, l)| l) {
                    let ids: Vec<i64> = serde_json::from_str(list).expect("ids");
                    if tx.send(ids).is_err() {
                        return;
                    }
                }
            }
        });
        Host { child, lines }
    }

    fn proceed(&mut self) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"next\n").unwrap();
        stdin.flush().unwrap();
    }

    fn next(&self, timeout: Duration) -> Option<Vec<i64>> {
        self.lines.recv_timeout(timeout).ok()
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        let status = self.child.wait().unwrap();
        assert!(!status.success());
    }
}

#[test]
fn a_killed_server_job_gets_only_its_unconfirmed_batch_again() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let dir = state_dir("kill-pull");
    let user = sandbox.create_user("Kill");
    let send = |t: &str| sandbox.user_sends_text(user, t).unwrap().update_id;
    let first: Vec<i64> = (0..3).map(|i| send(&format!("a{i}"))).collect();

    let mut host = Host::start("pull", &sandbox, &dir);
    let got = host.next(T);
    assert_eq!(
        got.unwrap_or_else(|| panic!("first batch: {:?}", sandbox.stats())),
        first
    );
    host.proceed();
    // The job's next GetUpdates confirmed `first`; the next update is handed
    // out and still being processed (unconfirmed) when the process dies.
    let second = send("b");
    assert_eq!(host.next(T).expect("second batch"), [second]);
    host.kill();

    let third = send("c");
    let host = Host::start("pull", &sandbox, &dir);
    assert_eq!(
        host.next(T).expect("after restart"),
        [second, third],
        "only the unconfirmed batch again, then the new one"
    );
    assert!(host.next(Duration::from_millis(500)).is_none());
    host.kill();
}

#[test]
fn a_killed_client_resumes_after_the_last_update_it_accepted() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let dir = state_dir("kill-events");
    let user = sandbox.create_user("Kill");
    let send = |t: &str| sandbox.user_sends_text(user, t).unwrap().update_id;

    let host = Host::start("events", &sandbox, &dir);
    let before: Vec<i64> = (0..3).map(|i| send(&format!("a{i}"))).collect();
    for id in &before {
        assert_eq!(host.next(T).expect("event"), [*id]);
    }
    // Between updates: everything accepted and confirmed to Telegram.
    assert!(sandbox.wait_for(T, |sb| sb.pending_updates().is_empty()));
    host.kill();

    let after: Vec<i64> = (0..2).map(|i| send(&format!("b{i}"))).collect();
    let host = Host::start("events", &sandbox, &dir);
    for id in &after {
        assert_eq!(host.next(T).expect("event after restart"), [*id]);
    }
    assert!(
        host.next(Duration::from_millis(500)).is_none(),
        "nothing doubled"
    );
    host.kill();
}
