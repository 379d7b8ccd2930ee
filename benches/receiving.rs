//! Receiving benchmark (`cargo bench --bench receiving`): latency from the
//! sandbox having an update to the external event in the simulator, and
//! updates per second in a burst. Prints a table; asserts nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use onec_simulator::{Component, HostOptions, Library, Value};
use tg_sandbox::{Sandbox, SandboxConfig};

/// The add-in in this binary's `target/<profile>/deps/` (fresh after any
/// cargo command), or in `target/<profile>/` (copied there by `cargo build`).
fn addin_path() -> PathBuf {
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
        .expect("the add-in is built (cargo build --release --lib)")
}

fn bot(lib: &Library, sandbox: &Sandbox, tag: &str) -> Component {
    let mut bot = lib
        .create("Bot", HostOptions::default())
        .expect("create Bot");
    let dir = std::env::temp_dir().join(format!("tg-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    bot.set("Token", Value::str(sandbox.token())).unwrap();
    bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
    bot.set("StateDir", Value::str(dir.to_string_lossy()))
        .unwrap();
    bot
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let lib = Library::load(addin_path()).expect("load the add-in");
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let user = sandbox.create_user("Bench");

    // Latency: one update at a time, the poller idle in a long poll.
    let mut form = bot(&lib, &sandbox, "latency");
    form.call("StartPolling", &[]).unwrap();
    let mut latencies = Vec::new();
    for i in 0..300 {
        let started = Instant::now();
        sandbox.user_sends_text(user, &format!("l{i}")).unwrap();
        form.next_event(Duration::from_secs(10)).expect("event");
        latencies.push(started.elapsed());
    }
    latencies.sort();
    form.call("StopPolling", &[]).unwrap();
    drop(form);

    // Burst: 1000 updates as fast as the sandbox takes them, drained by a fast form.
    let mut burst = Vec::new();
    for (tag, depth) in [("default depth (256)", None), ("depth 1", Some(1))] {
        let mut form = bot(&lib, &sandbox, "burst");
        if let Some(d) = depth {
            // DebugReceiving exists in debug builds only.
            let knob = format!("{{\"event_depth\":{d}}}");
            if form.call("DebugReceiving", &[Value::str(knob)]).is_err() {
                continue;
            }
        }
        form.call("StartPolling", &[]).unwrap();
        let started = Instant::now();
        for i in 0..1000 {
            sandbox.user_sends_text(user, &format!("b{i}")).unwrap();
        }
        for _ in 0..1000 {
            form.next_event(Duration::from_secs(30))
                .expect("burst event");
        }
        let took = started.elapsed();
        burst.push((tag, 1000.0 / took.as_secs_f64(), took));
        form.call("StopPolling", &[]).unwrap();
    }

    println!("receiving benchmark (sandbox → poller → ExternalEvent → simulator queue)");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| latency median (n={}) | {:.2} ms |",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3
    );
    println!(
        "| latency p99 | {:.2} ms |",
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| latency max | {:.2} ms |",
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    );
    for (tag, rate, took) in burst {
        println!(
            "| burst of 1000, {tag} | {rate:.0} updates/s ({:.2} s) |",
            took.as_secs_f64()
        );
    }
}
