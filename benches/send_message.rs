//! `SendMessage` and `GetMe` on loopback: through the 1C simulator and the
//! add-in, next to a bare `ureq` keep-alive client sending the same requests
//! to the same sandbox, and a raw TCP round trip of the same sizes as the
//! floor. Run with `cargo build --release --lib && cargo bench --bench send_message`.
//!
//! Fairness: the paths run interleaved in small batches (the order rotates
//! each round), and each path's figure is the median over the rounds. Wall
//! time, the calling thread's CPU time and the whole process's CPU time are
//! shown: on a busy machine the thread's CPU time is the steadiest. The
//! sandbox runs in this process, built with the bench profile (optimized).
//! The bare client is shown without timeouts (ureq's defaults) and with the
//! add-in's (30 s in all, 10 s to connect). It prints tables; it asserts
//! nothing about time.
//!
//! `BENCH_ONLY=<path>` with `BENCH_CALLS=<n>` runs one path alone, for
//! instruction counts under `valgrind --tool=callgrind` (`BENCH_ONLY=none`
//! gives the set-up cost to subtract). Paths: `addin`, `bare`, `bare-timeouts`,
//! `addin-getme`, `bare-getme`, `bare-timeouts-getme`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// Calls per batch of one path.
const BATCH: usize = 50;
/// Rounds; each runs one batch of every path.
const ROUNDS: usize = 40;

/// The add-in's defaults: `Timeout` and `ConnectTimeout`.
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// CPU time of `clock`.
fn cpu(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One batch's cost per call, µs: wall, this thread's CPU, the process's CPU.
#[derive(Clone, Copy, Default)]
struct Sample {
    wall: f64,
    thread: f64,
    process: f64,
}

fn measure(calls: usize, mut f: impl FnMut(usize)) -> Sample {
    let (w, t, p) = (
        Instant::now(),
        cpu(libc::CLOCK_THREAD_CPUTIME_ID),
        cpu(libc::CLOCK_PROCESS_CPUTIME_ID),
    );
    for i in 0..calls {
        f(i);
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
    Sample {
        wall: per(w.elapsed()),
        thread: per(cpu(libc::CLOCK_THREAD_CPUTIME_ID) - t),
        process: per(cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - p),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One way of making the call under test.
trait Path {
    fn call(&mut self, i: usize);
}

struct AddIn {
    bot: Component,
    user: i64,
    get_me: bool,
}

impl AddIn {
    fn new(sandbox: &Sandbox, user: i64, get_me: bool) -> AddIn {
        let mut bot = bot();
        bot.set("Token", Value::str(sandbox.token())).unwrap();
        bot.set("ApiUrl", Value::str(sandbox.api_url())).unwrap();
        bot.call("GetMe", &[]).unwrap();
        AddIn { bot, user, get_me }
    }
}

impl Path for AddIn {
    fn call(&mut self, i: usize) {
        if self.get_me {
            self.bot.call("GetMe", &[]).unwrap();
        } else {
            self.bot
                .call(
                    "SendMessage",
                    &[
                        Value::number(self.user as f64),
                        Value::str(format!("Сообщение {i}")),
                    ],
                )
                .unwrap();
        }
    }
}

struct Bare {
    agent: ureq::Agent,
    url: String,
    user: i64,
    get_me: bool,
}

impl Bare {
    fn new(sandbox: &Sandbox, user: i64, get_me: bool, timeouts: bool) -> Bare {
        let mut config = ureq::Agent::config_builder().http_status_as_error(false);
        if timeouts {
            config = config
                .timeout_global(Some(TIMEOUT))
                .timeout_connect(Some(CONNECT_TIMEOUT));
        }
        let agent: ureq::Agent = config.build().into();
        agent.post(&sandbox.method_url("getMe")).send("").unwrap();
        let method = if get_me { "getMe" } else { "sendMessage" };
        Bare {
            agent,
            url: sandbox.method_url(method),
            user,
            get_me,
        }
    }
}

impl Path for Bare {
    fn call(&mut self, i: usize) {
        let request = self.agent.post(&self.url);
        let sent = if self.get_me {
            request.send_empty()
        } else {
            let body = serde_json::json!({"chat_id": self.user, "text": format!("Сообщение {i}")})
                .to_string();
            request
                .header("Content-Type", "application/json")
                .send(body)
        };
        let text = sent.unwrap().into_body().read_to_string().unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["ok"], true);
    }
}

/// A raw TCP exchange: `request` bytes out, `answer` bytes back, on one
/// kept-open loopback connection. The floor under any HTTP client.
struct Floor {
    stream: TcpStream,
    request: Vec<u8>,
    answer: Vec<u8>,
}

impl Floor {
    fn new(request: usize, answer: usize) -> Floor {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_nodelay(true).unwrap();
            let (mut inb, out) = (vec![0u8; request], vec![b'x'; answer]);
            while s.read_exact(&mut inb).is_ok() {
                if s.write_all(&out).is_err() {
                    break;
                }
            }
        });
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Floor {
            stream,
            request: vec![b'r'; request],
            answer: vec![0u8; answer],
        }
    }
}

impl Path for Floor {
    fn call(&mut self, _: usize) {
        self.stream.write_all(&self.request).unwrap();
        self.stream.read_exact(&mut self.answer).unwrap();
    }
}

/// The bytes of one HTTP exchange with the sandbox as a client sends it:
/// (request, answer).
fn exchange_sizes(sandbox: &Sandbox, method: &str, body: &str) -> (usize, usize) {
    let mut s = TcpStream::connect(sandbox.addr()).unwrap();
    let path = sandbox
        .method_url(method)
        .split_once("//")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: telegram-addin-1c\r\nAccept: */*\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sandbox.addr(),
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return (request.len(), end + 4 + len);
            }
        }
        assert!(n > 0, "the sandbox closed the connection");
    }
}

/// Runs `paths` interleaved and prints one table; the first path is the base of the ratios.
fn table(title: &str, paths: &mut [(&str, Box<dyn Path>)]) {
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); paths.len()];
    for round in 0..ROUNDS {
        for k in 0..paths.len() {
            let j = (k + round) % paths.len();
            let path = &mut paths[j].1;
            samples[j].push(measure(BATCH, |i| path.call(i)));
        }
    }
    let medians: Vec<Sample> = samples
        .iter()
        .map(|s| Sample {
            wall: median(s.iter().map(|x| x.wall).collect()),
            thread: median(s.iter().map(|x| x.thread).collect()),
            process: median(s.iter().map(|x| x.process).collect()),
        })
        .collect();
    let base = medians[0];
    println!();
    println!("{title}: {ROUNDS} rounds × {BATCH} calls per path, interleaved; medians per call");
    println!("| path                          | wall, µs | ratio | thread CPU, µs | ratio | process CPU, µs | ratio |");
    println!("|-------------------------------|---------:|------:|---------------:|------:|----------------:|------:|");
    for ((name, _), m) in paths.iter().zip(&medians) {
        println!(
            "| {name:<29} | {:8.1} | {:5.2} | {:14.1} | {:5.2} | {:15.1} | {:5.2} |",
            m.wall,
            m.wall / base.wall,
            m.thread,
            m.thread / base.thread,
            m.process,
            m.process / base.process
        );
    }
}

fn only(sandbox: &Sandbox, user: i64, which: &str) {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let mut path: Box<dyn Path> = match which {
        "addin" => Box::new(AddIn::new(sandbox, user, false)),
        "addin-getme" => Box::new(AddIn::new(sandbox, user, true)),
        "bare" => Box::new(Bare::new(sandbox, user, false, false)),
        "bare-getme" => Box::new(Bare::new(sandbox, user, true, false)),
        "bare-timeouts" => Box::new(Bare::new(sandbox, user, false, true)),
        "bare-timeouts-getme" => Box::new(Bare::new(sandbox, user, true, true)),
        _ => return,
    };
    let s = measure(calls, |i| path.call(i));
    println!("{which}: {calls} calls, {:.1} µs per call (wall)", s.wall);
}

fn main() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let user = sandbox.create_user("Bench");
    if let Ok(which) = std::env::var("BENCH_ONLY") {
        only(&sandbox, user, &which);
        return;
    }
    let body = serde_json::json!({"chat_id": user, "text": "Сообщение 1000"}).to_string();
    let (send_req, send_ans) = exchange_sizes(&sandbox, "sendMessage", &body);
    let (me_req, me_ans) = exchange_sizes(&sandbox, "getMe", "");
    let mut send: Vec<(&str, Box<dyn Path>)> = vec![
        (
            "bare ureq, no timeouts",
            Box::new(Bare::new(&sandbox, user, false, false)),
        ),
        (
            "bare ureq, add-in's timeouts",
            Box::new(Bare::new(&sandbox, user, false, true)),
        ),
        (
            "1C simulator + add-in",
            Box::new(AddIn::new(&sandbox, user, false)),
        ),
        (
            "floor: TCP round trip",
            Box::new(Floor::new(send_req, send_ans)),
        ),
    ];
    table("SendMessage", &mut send);
    let mut get_me: Vec<(&str, Box<dyn Path>)> = vec![
        (
            "bare ureq, no timeouts",
            Box::new(Bare::new(&sandbox, user, true, false)),
        ),
        (
            "bare ureq, add-in's timeouts",
            Box::new(Bare::new(&sandbox, user, true, true)),
        ),
        (
            "1C simulator + add-in",
            Box::new(AddIn::new(&sandbox, user, true)),
        ),
        (
            "floor: TCP round trip",
            Box::new(Floor::new(me_req, me_ans)),
        ),
    ];
    table("GetMe", &mut get_me);
    println!();
    println!(
        "floor sizes: sendMessage {send_req} B out, {send_ans} B back; getMe {me_req} B out, {me_ans} B back"
    );
    println!(
        "connections accepted by the sandbox: {} (one per client)",
        sandbox.stats().connections_accepted
    );
    for (_, path) in send.into_iter().chain(get_me) {
        drop(path);
    }
}
