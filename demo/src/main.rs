//! `telegram-demo`: starts the Telegram sandbox, loads the add-in as 1C does and
//! answers people in the sandbox's web chat as the trading company's bot.

use std::path::PathBuf;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use telegram_demo::addin::{self, Source};
use tg_sandbox::{RateLimits, Sandbox, SandboxConfig};

const HELP: &str = "telegram-demo — a demo bot to chat with in the sandbox's web chat

USAGE: telegram-demo [OPTIONS]

OPTIONS:
  --port PORT   the sandbox's port (default 8081; 0 = any free port)
  --lib PATH    the add-in library (default: the build next to this program,
                target/debug/deps/ or target/debug/)
  --zip PATH    the add-in's release ZIP package instead of --lib
  -h, --help    this help

Stop with Ctrl+C.";

/// Set by SIGINT/SIGTERM; the event loop checks it every 100 ms.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Command-line options.
struct Args {
    port: u16,
    source: Option<Source>,
}

fn parse_args() -> Args {
    let mut out = Args {
        port: 8081,
        source: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("{arg} needs a value; see --help");
                exit(2)
            })
        };
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{HELP}");
                exit(0)
            }
            "--port" => {
                out.port = value().parse().unwrap_or_else(|_| {
                    eprintln!("--port needs a number");
                    exit(2)
                })
            }
            "--lib" => out.source = Some(Source::Lib(PathBuf::from(value()))),
            "--zip" => out.source = Some(Source::Zip(PathBuf::from(value()))),
            other => {
                eprintln!("unknown argument {other}; see --help");
                exit(2)
            }
        }
    }
    out
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("telegram-demo: {message}");
    exit(1)
}

fn main() {
    let args = parse_args();
    let source = args
        .source
        .or_else(|| addin::built_library().map(Source::Lib))
        .unwrap_or_else(|| {
            fail("the add-in is not built: run `cargo build -p telegram-addin --lib`, or pass --lib/--zip")
        });
    let library = source.load().unwrap_or_else(|e| fail(e));
    let mut sandbox = Sandbox::start(SandboxConfig {
        port: args.port,
        rate_limits: RateLimits::telegram(),
        ..SandboxConfig::default()
    })
    .unwrap_or_else(|e| {
        fail(format!(
            "cannot start the sandbox on port {}: {e}",
            args.port
        ))
    });
    let state_dir = tempfile::tempdir().unwrap_or_else(|e| fail(e));
    let mut bot =
        addin::start_bot(&library, &sandbox, state_dir.path()).unwrap_or_else(|e| fail(e));

    let handler = on_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
    println!("Add-in: {}", source.path().display());
    println!("Open {}/ and chat with @sandbox_bot", sandbox.api_url());
    println!("(Ctrl+C to stop)");

    let handled = telegram_demo::bot::serve(&mut bot, |_| STOP.load(Ordering::SeqCst));

    let report = addin::stop_bot(bot);
    sandbox.shutdown();
    println!("Stopped after {handled} update(s).");
    if !report.is_clean() {
        eprintln!("memory accounting after teardown: {report}");
    }
}
