//! End-to-end test of the web chat in headless Chromium, driven by chromedriver
//! over plain WebDriver HTTP calls. Skips (passes with a message) when
//! chromium or chromedriver is not installed (`apt-get install -y chromium chromium-driver`).

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tg_sandbox::{Sandbox, SandboxConfig};

const ELEM: &str = "element-6066-11e4-a52e-4f735466cecf";

fn which(names: &[&str]) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    for n in names {
        for dir in path.split(':') {
            let p = std::path::Path::new(dir).join(n);
            if p.is_file() {
                return Some(p.to_string_lossy().to_string());
            }
        }
    }
    None
}

struct Driver {
    child: Child,
    base: String,
    session: String,
    a: ureq::Agent,
}

impl Driver {
    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let r = if method == "GET" {
            self.a.get(&url).call()
        } else if method == "DELETE" {
            self.a.delete(&url).call()
        } else {
            self.a
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string())
        };
        let (s, v) = read(r);
        assert_eq!(s, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }
    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v[ELEM]
            .as_str()
            .unwrap_or_else(|| panic!("find {css}: {v}"))
            .to_string()
    }
    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }
    fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": text}),
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .a
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn web_chat_message_inline_button_callback() {
    let (Some(chromium), Some(driver)) = (
        which(&["chromium", "chromium-browser", "google-chrome"]),
        which(&["chromedriver"]),
    ) else {
        eprintln!("SKIPPED: chromium and/or chromedriver not found (apt-get install -y chromium chromium-driver)");
        return;
    };
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();

    // The test bot: plain HTTP long polling.
    let (tx, rx) = mpsc::channel::<Value>();
    let (base, token) = (sb.api_url(), sb.token().to_string());
    std::thread::spawn(move || {
        let a = agent();
        let mut offset = 0i64;
        loop {
            let Some((200, v)) = try_call(
                &a,
                &base,
                &token,
                "getUpdates",
                json!({"offset": offset, "timeout": 5}),
            ) else {
                return;
            };
            for u in v["result"].as_array().unwrap() {
                offset = u["update_id"].as_i64().unwrap() + 1;
                if let Some(m) = u.get("message") {
                    if m["text"] == "hello bot" {
                        try_call(
                            &a,
                            &base,
                            &token,
                            "sendMessage",
                            json!({"chat_id": m["chat"]["id"], "text": "Hi <b>there</b>!", "parse_mode": "HTML",
                            "reply_markup": {"inline_keyboard": [[{"text": "Press me", "callback_data": "pressed"}]]}}),
                        );
                    }
                }
                if let Some(cq) = u.get("callback_query") {
                    try_call(
                        &a,
                        &base,
                        &token,
                        "answerCallbackQuery",
                        json!({"callback_query_id": cq["id"], "text": "Thanks"}),
                    );
                    if tx.send(cq.clone()).is_err() {
                        return;
                    }
                }
            }
        }
    });

    // chromedriver on a free port; wait for its "started successfully" line.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("chromedriver exited");
        }
        if line.contains("started successfully") {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    let a: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let base = format!("http://127.0.0.1:{port}");
    let profile =
        std::env::temp_dir().join(format!("tg-sandbox-chromium-{}-{port}", std::process::id()));
    let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": chromium, "args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display())]}}}});
    let (s, v) = read(
        a.post(format!("{base}/session"))
            .header("Content-Type", "application/json")
            .send(caps.to_string()),
    );
    assert_eq!(s, 200, "new session: {v}");
    let d = Driver {
        child,
        base,
        session: v["value"]["sessionId"].as_str().unwrap().to_string(),
        a,
    };
    d.cmd("POST", "/timeouts", json!({"implicit": 15000}));
    d.cmd("POST", "/url", json!({"url": sb.api_url()}));

    // A person creates a user and writes to the bot.
    d.type_in("#newUserName", "Alice");
    d.click("#newUserBtn");
    d.find("#user option"); // the user list is loaded
    assert!(sb.wait_for(Duration::from_secs(10), |sb| sb
        .shared()
        .world
        .lock()
        .unwrap()
        .users
        .values()
        .any(|u| u.first_name == "Alice")));
    // wait until the page selected the new user
    d.find("#user option:checked");
    d.type_in("#text", "hello bot");
    d.click("#send");

    // The bot's answer with the inline keyboard appears; press it.
    let btn = d.find("button.ikb[data-data='pressed']");
    let html = d.cmd("GET", "/source", json!({}));
    assert!(
        html.as_str().unwrap().contains("<b>there</b>"),
        "HTML formatting rendered"
    );
    d.cmd("POST", &format!("/element/{btn}/click"), json!({}));

    let cq = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the bot got the callback_query");
    assert_eq!(cq["data"], "pressed");
    assert_eq!(cq["from"]["first_name"], "Alice");
    assert_eq!(cq["message"]["text"], "Hi there!");
    drop(d);
    let _ = std::fs::remove_dir_all(profile);
}
