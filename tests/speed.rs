//! Speed properties that must hold (no timings here; `cargo bench` measures):
//! at most one name lookup per connection, also through proxies, and no
//! thread started per request.

mod common;
mod support;

use std::time::Duration;

use common::*;
use support::proxy::{Kind, Proxy};

const WAIT: Duration = Duration::from_secs(10);

/// The tests of this file run one at a time: the thread count must not see
/// the sandboxes and proxies of the others.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fewer tasks than this may be created during 200 sends (a thread per
/// request makes at least 200; other processes on the machine make a few).
const TASKS_ALLOWED: u64 = 100;

/// `http://localhost:<port>` of the sandbox: a host name, so it must be looked up.
fn by_name(sandbox: &Sandbox) -> String {
    format!("http://localhost:{}", sandbox.addr().port())
}

/// A bot on `api_url` (through `proxy`) that logs at debug level to its own
/// file; the resolver writes one `name lookup:` line per lookup there.
struct Logged {
    bot: Component,
    log: std::path::PathBuf,
}

impl Logged {
    fn new(name: &str, api_url: String, proxy: String) -> Logged {
        let log = std::env::temp_dir().join(format!("tg-speed-{name}-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let mut bot = bot();
        bot.set("Token", Value::str(tg_sandbox::DEFAULT_TOKEN))
            .unwrap();
        bot.set("ApiUrl", Value::str(api_url)).unwrap();
        bot.set("Proxy", Value::str(proxy)).unwrap();
        bot.set("Timeout", Value::I4(30)).unwrap();
        bot.set("LogFile", Value::str(log.to_str().unwrap()))
            .unwrap();
        bot.set("LogLevel", Value::str("debug")).unwrap();
        Logged { bot, log }
    }

    fn send(&mut self, user: i64, n: usize) {
        for i in 0..n {
            self.bot
                .call(
                    "SendMessage",
                    &[Value::number(user as f64), Value::str(format!("№{i}"))],
                )
                .unwrap();
        }
    }

    /// How many name lookups the add-in has made (lines in its log).
    fn name_lookups(&self) -> u64 {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().filter(|l| l.contains("name lookup:")).count() as u64
    }

    fn finish(self) {
        finish(self.bot);
        let _ = std::fs::remove_file(&self.log);
    }
}

fn sandbox_with_user() -> (Sandbox, i64) {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("start sandbox");
    let user = sandbox.create_user("Иван");
    sandbox.user_starts(user, None).unwrap();
    (sandbox, user)
}

/// The lookups are counted by the resolver's own log lines, the connections
/// by the sandbox.
#[test]
fn a_host_name_is_looked_up_once_per_connection_not_per_request() {
    let _serial = serial();
    let (sandbox, user) = sandbox_with_user();
    let mut client = Logged::new("name", by_name(&sandbox), String::new());
    client.send(user, 200);
    client.bot.call("GetMe", &[]).unwrap();
    let connections = sandbox.stats().connections_accepted;
    assert_eq!(connections, 1);
    assert_eq!(client.name_lookups(), 1, "one lookup for one connection");
    assert_eq!(sandbox.wait_bot_messages(user, 200, WAIT).len(), 200);
    client.finish();

    // An IP literal needs no lookup at all.
    let mut literal = Logged::new("literal", sandbox.api_url(), String::new());
    literal.send(user, 5);
    assert_eq!(literal.name_lookups(), 0);
    literal.finish();
}

#[test]
fn through_a_connect_proxy_only_the_proxys_name_is_looked_up_per_connection() {
    let _serial = serial();
    let (sandbox, user) = sandbox_with_user();
    let proxy = Proxy::start(Kind::Connect, None);
    let mut client = Logged::new(
        "connect",
        by_name(&sandbox),
        format!("http://localhost:{}", proxy.port()),
    );
    client.send(user, 50);
    // The proxy is given the target's name; only the proxy's name is resolved here.
    assert!(
        proxy.targets().iter().all(|t| t.starts_with("localhost:")),
        "{:?}",
        proxy.targets()
    );
    let tunnels = proxy.targets().len() as u64;
    assert!(tunnels >= 1);
    assert!(client.name_lookups() >= 1, "the proxy's name is looked up");
    assert!(
        client.name_lookups() <= tunnels,
        "{} lookups for {tunnels} tunnels",
        client.name_lookups()
    );
    assert_eq!(sandbox.wait_bot_messages(user, 50, WAIT).len(), 50);
    client.finish();
}

#[test]
fn through_socks5h_nothing_is_resolved_locally() {
    let _serial = serial();
    let (sandbox, user) = sandbox_with_user();
    let proxy = Proxy::start(Kind::Socks5, None);
    let mut client = Logged::new(
        "socks5h",
        by_name(&sandbox),
        format!("socks5h://127.0.0.1:{}", proxy.port()),
    );
    client.send(user, 20);
    assert_eq!(client.name_lookups(), 0);
    assert!(proxy.targets().iter().all(|t| t.starts_with("localhost:")));
    assert_eq!(sandbox.wait_bot_messages(user, 20, WAIT).len(), 20);
    client.finish();
}

/// The id the kernel gives the next thread: ids grow by one per task created
/// anywhere on the machine (no wrap-around within a test).
#[cfg(target_os = "linux")]
fn next_task_id() -> u64 {
    std::thread::spawn(|| {
        let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
        let tid = link.file_name().expect("a task id").to_string_lossy();
        tid.parse::<u64>().expect("a numeric task id")
    })
    .join()
    .unwrap()
}

#[cfg(target_os = "linux")]
fn live_threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// 200 `SendMessage` calls through the simulator start no thread: the tasks the
/// kernel creates meanwhile are counted by their ids. Other processes on the
/// machine also create tasks, so a measurement may be repeated; a thread per
/// request would put at least 200 into every one.
#[cfg(target_os = "linux")]
#[test]
fn two_hundred_sends_start_no_thread() {
    let _serial = serial();
    let (sandbox, user) = sandbox_with_user();
    let mut bot = bot();
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(by_name(&sandbox))).unwrap();
    let send = |bot: &mut Component, i: usize| {
        bot.call(
            "SendMessage",
            &[Value::number(user as f64), Value::str(format!("№{i}"))],
        )
        .unwrap();
    };
    // Warm up: the connection and the one name lookup (its thread) happen here.
    send(&mut bot, 0);
    let live_before = live_threads();
    let mut created = Vec::new();
    for _ in 0..10 {
        let before = next_task_id();
        for i in 0..200 {
            send(&mut bot, i);
        }
        // Minus the one this measurement itself starts.
        created.push(next_task_id() - before - 1);
        if created[created.len() - 1] < TASKS_ALLOWED {
            break;
        }
    }
    eprintln!("tasks created on the machine during 200 sends, per try: {created:?}");
    assert!(
        created.iter().any(|n| *n < TASKS_ALLOWED),
        "tasks created during 200 sends, per try: {created:?}"
    );
    assert_eq!(live_threads(), live_before, "no thread is left behind");
    assert_eq!(sandbox.stats().connections_accepted, 1);
    assert!(sandbox.wait_for(WAIT, |s| s.bot_messages(user).len() > 200));
    finish(bot);
}
