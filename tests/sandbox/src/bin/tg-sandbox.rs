//! `tg-sandbox` — run the Telegram Bot API sandbox for people.

use std::time::Duration;
use tg_sandbox::{BotConfig, RateLimits, Sandbox, SandboxConfig, MB};

const HELP: &str = "tg-sandbox — a local Telegram Bot API server with a web chat

USAGE: tg-sandbox [OPTIONS]

OPTIONS:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          port to listen on (default 8081; 0 = any free port)
  --token TOKEN[=NAME] accept this bot token (repeatable; format 123456:ABC-def).
                       NAME is the bot's username. Without --token the bot
                       123456:TEST-token (@sandbox_bot) is accepted.
  --local              local Bot API server mode: upload and download limits
                       become 2000 MB (like a self-hosted telegram-bot-api)
  --no-limits          switch off Telegram's rate limits (on by default here:
                       ~1 msg/s per chat with a burst of 3, 20/min per group,
                       30/s overall, 1000/s with allow_paid_broadcast)
  --upload-limit MB    max uploaded file (default 50)
  --photo-limit MB     max photo (default 10)
  --download-limit MB  max file getFile serves (default 20)
  --latency-ms MS      wait this long before answering each Bot API request
                       and file download (default 0; POST /control/latency)
  --first-update-id N  the first update_id (default: random from 2,000,001,
                       as Telegram picks)
  -h, --help           this help

Point a bot at http://HOST:PORT (requests go to /bot<token>/<method>; files to
/file/bot<token>/<file_path>). Open http://HOST:PORT/ in a browser to chat with
the bot as a user. Play users by script through the JSON control API under
/control/ (see the tg_sandbox::control docs).

Files (uploads by bots and users) are kept in memory only and are lost when
the process exits; nothing is written to disk.";

fn main() {
    let mut cfg = SandboxConfig {
        port: 8081,
        rate_limits: RateLimits::telegram(),
        webhook_retry_initial: Duration::from_secs(1),
        webhook_timeout: Duration::from_secs(10),
        ..SandboxConfig::default()
    };
    let mut tokens = Vec::new();
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            eprintln!("{what} needs a number");
            std::process::exit(2)
        })
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{HELP}");
                return;
            }
            "--host" => cfg.host = args.next().unwrap_or_else(|| "127.0.0.1".into()),
            "--port" => cfg.port = num(args.next(), "--port") as u16,
            "--token" => {
                let t = args.next().unwrap_or_default();
                let (tok, name) = t
                    .split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or((t.clone(), format!("bot{}", tokens.len() + 1)));
                tokens.push(BotConfig::new(&tok, &name));
            }
            "--local" => cfg.local_mode = true,
            "--no-limits" => cfg.rate_limits = RateLimits::off(),
            "--upload-limit" => cfg.upload_limit = num(args.next(), "--upload-limit") * MB,
            "--photo-limit" => cfg.photo_limit = num(args.next(), "--photo-limit") * MB,
            "--download-limit" => cfg.download_limit = num(args.next(), "--download-limit") * MB,
            "--latency-ms" => cfg.latency = Duration::from_millis(num(args.next(), "--latency-ms")),
            "--first-update-id" => {
                cfg.first_update_id = Some(num(args.next(), "--first-update-id") as i64)
            }
            other => {
                eprintln!("unknown argument {other}; see --help");
                std::process::exit(2)
            }
        }
    }
    if !tokens.is_empty() {
        cfg.bots = tokens;
    }
    let bots: Vec<String> = cfg
        .bots
        .iter()
        .map(|b| format!("{} (@{})", b.token, b.username))
        .collect();
    let sb = match Sandbox::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start: {e}");
            std::process::exit(1)
        }
    };
    println!("tg-sandbox listening on {}", sb.api_url());
    println!("  web chat:  {}/", sb.api_url());
    println!("  bot API:   {}/bot<token>/<method>", sb.api_url());
    println!("  bots:      {}", bots.join(", "));
    loop {
        std::thread::park();
    }
}
