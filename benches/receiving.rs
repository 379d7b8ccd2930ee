//! Receiving benchmark (`cargo bench --bench receiving`): latency from the
//! sandbox having an update to the external event in the simulator, and
//! updates per second in a burst. Prints a table; asserts nothing about time.
//!
//! Honest counting: every run gets a state folder of its own, and only the
//! update ids this run sent are counted (a fresh folder starts at offset 0, so
//! the updates an earlier run left unconfirmed arrive first; they are counted
//! apart and shown). A row that cannot be measured stops the bench with a
//! message; nothing is skipped silently.
//!
//! The depth-1 burst (the platform's buffer holding one event, so the add-in
//! retries each full-buffer refusal) needs `DebugReceiving`, which exists in
//! debug builds only. That row runs on the debug build of the add-in (built by
//! `cargo build --lib` from this bench), next to a default-depth row on the
//! same debug build, so that the two are compared within one build.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use onec_simulator::{Component, HostOptions, Library, Value};
use serde_json::Value as Json;
use tg_sandbox::{Sandbox, SandboxConfig};

const BURST: usize = 1000;
const LATENCY_SAMPLES: usize = 300;

/// The add-in in this binary's `target/<profile>/deps/` (fresh after any
/// cargo command), or in `target/<profile>/` (copied there by `cargo build`).
fn release_addin() -> PathBuf {
    let exe = std::env::current_exe().expect("bench binary path");
    let profile = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let name = format!(
        "{}telegram_addin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [profile.join("deps").join(&name), profile.join(&name)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "the add-in is not built next to {} (cargo bench builds it)",
                exe.display()
            )
        })
}

/// The debug build of the add-in, built (or found up to date) by cargo now, so
/// that it matches the code under benchmark.
fn debug_addin() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "telegram-addin",
            "--lib",
            "--message-format=json",
        ])
        .output()
        .expect("run cargo build for the debug add-in");
    assert!(
        out.status.success(),
        "the depth-1 row needs the debug build (DebugReceiving), and `cargo build -p telegram-addin --lib` failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let suffix = std::env::consts::DLL_SUFFIX;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "telegram_addin")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("cargo built no {suffix} for telegram_addin"))
}

/// A state folder no earlier run has used.
fn fresh_state_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "tg-bench-{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    assert!(
        !dir.exists(),
        "state folder {} already exists",
        dir.display()
    );
    dir
}

/// A client-form `Bot` on the sandbox with its own state folder.
fn bot(lib: &Library, sandbox: &Sandbox, tag: &str) -> (Component, PathBuf) {
    let mut bot = lib
        .create("Bot", HostOptions::default())
        .expect("create Bot");
    let dir = fresh_state_dir(tag);
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    bot.set("StateDir", Value::str(dir.to_string_lossy()))
        .unwrap();
    (bot, dir)
}

/// Stops polling, tears the object down and removes its state folder.
fn done(mut bot: Component, dir: &Path) {
    bot.call("StopPolling", &[]).expect("StopPolling");
    drop(bot);
    let _ = std::fs::remove_dir_all(dir);
}

/// The next update event's id; an `error` event stops the bench.
fn next_update_id(form: &Component, timeout: Duration, what: &str) -> i64 {
    let event = form
        .next_event(timeout)
        .unwrap_or_else(|| panic!("{what}: no event within {timeout:?}"));
    assert_ne!(event.message, "error", "{what}: {}", event.data);
    let data: Json = serde_json::from_str(&event.data)
        .unwrap_or_else(|e| panic!("{what}: event data is not JSON ({e}): {}", event.data));
    data["update_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: no update_id in {}", event.data))
}

/// Updates per second, the time taken and the stale updates seen on the way.
struct Burst {
    label: String,
    rate: f64,
    took: Duration,
    stale: usize,
}

/// `BURST` updates as fast as the sandbox takes them, drained by a fast form;
/// done when every one of this run's ids has arrived.
fn burst(lib: &Library, sandbox: &Sandbox, user: i64, label: &str, depth: Option<i64>) -> Burst {
    let (mut form, dir) = bot(lib, sandbox, "burst");
    if let Some(d) = depth {
        let knob = format!("{{\"event_depth\":{d}}}");
        form.call("DebugReceiving", &[Value::str(knob)])
            .unwrap_or_else(|e| panic!("{label}: DebugReceiving: {e:?}"));
    }
    form.call("StartPolling", &[]).expect("StartPolling");
    if let Some(d) = depth {
        assert_eq!(form.event_buffer_depth(), d, "{label}: the buffer depth");
    }
    let started = Instant::now();
    let mut own: HashSet<i64> = (0..BURST)
        .map(|i| {
            sandbox
                .user_sends_text(user, &format!("b{i}"))
                .expect("the sandbox takes the update")
                .update_id
        })
        .collect();
    let mut stale = 0;
    while !own.is_empty() {
        let what = format!("{label}: {} of {BURST} updates still due", own.len());
        let id = next_update_id(&form, Duration::from_secs(30), &what);
        if !own.remove(&id) {
            stale += 1;
        }
    }
    let took = started.elapsed();
    done(form, &dir);
    Burst {
        label: label.to_owned(),
        rate: BURST as f64 / took.as_secs_f64(),
        took,
        stale,
    }
}

/// One update at a time, the poller idle in a long poll; only the update each
/// step sent is timed.
fn latencies(lib: &Library, sandbox: &Sandbox, user: i64) -> (Vec<Duration>, usize) {
    let (mut form, dir) = bot(lib, sandbox, "latency");
    form.call("StartPolling", &[]).expect("StartPolling");
    let mut latencies = Vec::new();
    let mut stale = 0;
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        let id = sandbox
            .user_sends_text(user, &format!("l{i}"))
            .expect("the sandbox takes the update")
            .update_id;
        while next_update_id(&form, Duration::from_secs(10), "latency") != id {
            stale += 1;
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    done(form, &dir);
    (latencies, stale)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let release = Library::load(release_addin()).expect("load the add-in");
    let debug_path = debug_addin();
    let debug = Library::load(&debug_path).expect("load the debug add-in");
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let user = sandbox.create_user("Bench");

    let (latencies, latency_stale) = latencies(&release, &sandbox, user);
    let release_row = burst(
        &release,
        &sandbox,
        user,
        "default depth (256), release",
        None,
    );
    let debug_row = burst(&debug, &sandbox, user, "default depth (256), debug", None);
    let depth1_row = burst(&debug, &sandbox, user, "depth 1, debug", Some(1));

    println!("receiving benchmark (sandbox → poller → ExternalEvent → simulator queue)");
    println!(
        "the depth-1 row needs DebugReceiving, so it and its reference row run on the debug build ({})",
        debug_path.display()
    );
    println!("| measure | value | ratio |");
    println!("|---|---|---|");
    let median = percentile(&latencies, 0.5);
    let n = latencies.len();
    println!(
        "| latency median (n={n}), release | {} | 1.00 |",
        ms(median)
    );
    for (name, p) in [("p99", 0.99), ("max", 1.0)] {
        let d = percentile(&latencies, p);
        let ratio = d.as_secs_f64() / median.as_secs_f64();
        println!(
            "| latency {name}, release | {} | {ratio:.2} × median |",
            ms(d)
        );
    }
    let reference = |row: &Burst| match row.label.as_str() {
        l if l.starts_with("depth 1") => (debug_row.rate, "× debug default"),
        _ => (release_row.rate, "× release default"),
    };
    for row in [&release_row, &debug_row, &depth1_row] {
        let (base, of) = reference(row);
        println!(
            "| burst of {BURST}, {} | {:.0} updates/s ({:.2} s) | {:.2} {of} |",
            row.label,
            row.rate,
            row.took.as_secs_f64(),
            row.rate / base
        );
    }
    let stale: usize = latency_stale + release_row.stale + debug_row.stale + depth1_row.stale;
    println!(
        "stale updates from earlier runs, received and not counted: {stale} (latency {latency_stale}, bursts {}, {}, {})",
        release_row.stale, debug_row.stale, depth1_row.stale
    );
}
