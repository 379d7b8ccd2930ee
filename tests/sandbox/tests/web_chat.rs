//! End-to-end test of the web chat in headless Chromium, driven by chromedriver
//! over plain WebDriver HTTP calls, at 1280 px and at 400 px (a phone) wide.
//! Its prerequisites: chromium, chromedriver and a colour emoji font
//! (`apt-get install -y chromium chromium-driver fonts-noto-color-emoji`, as
//! tests/run.sh does). Without them it skips with a message, and FAILS when
//! the environment variable CI is set (CI=true).
//! Screenshots are left in Cargo's target/tmp (web_chat_1280.png, web_chat_400.png).

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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

impl Driver {
    fn script(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }
    fn script_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
    }
    /// The viewport as a device of this size (Chrome DevTools emulation).
    fn viewport(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride",
                "params": {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}}),
        );
        let inner = self.script("return [innerWidth, innerHeight];", json!([]));
        assert_eq!(inner, json!([width, height]), "viewport");
    }
    /// A PNG screenshot of the page or of one element, base64.
    fn screenshot(&self, element: Option<&str>) -> String {
        let path = match element {
            Some(e) => format!("/element/{e}/screenshot"),
            None => "/screenshot".to_string(),
        };
        self.cmd("GET", &path, json!({}))
            .as_str()
            .expect("screenshot")
            .to_string()
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

/// CI=true (any value but empty, 0 or false) turns a missing prerequisite
/// into a failure; elsewhere the test skips with a message.
fn missing_prerequisite(what: &str) {
    let ci = std::env::var("CI").unwrap_or_default();
    if !matches!(ci.as_str(), "" | "0" | "false") {
        panic!("{what}, and CI={ci}: a missing prerequisite fails the test (apt-get install -y chromium chromium-driver fonts-noto-color-emoji)");
    }
    eprintln!(
        "SKIPPED: {what} (apt-get install -y chromium chromium-driver fonts-noto-color-emoji)"
    );
}

/// Debian's fonts-noto-color-emoji (what tests/run.sh installs).
const EMOJI_FONT: &str = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";

/// The 60° hue sectors (0..6) of the clearly coloured pixels of a PNG,
/// counted by the page itself (canvas): black text, grey and white are none.
const HUES_OF_PNG: &str = r#"
const [b64, done] = arguments;
const img = new Image();
img.onload = () => {
  const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
  const x = c.getContext("2d"); x.drawImage(img, 0, 0);
  const d = x.getImageData(0, 0, c.width, c.height).data, hues = {};
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2], mx = Math.max(r, g, b), mn = Math.min(r, g, b);
    if (mx - mn < 80) continue;
    const h = mx === r ? ((g - b) / (mx - mn) + 6) % 6 : mx === g ? (b - r) / (mx - mn) + 2 : (r - g) / (mx - mn) + 4;
    const k = Math.floor(h); hues[k] = (hues[k] || 0) + 1;
  }
  // a sector counts from 10 pixels on: no stray anti-aliasing
  done(Object.keys(hues).filter(k => hues[k] >= 10).map(Number).sort());
};
img.onerror = () => done("not an image");
img.src = "data:image/png;base64," + b64;
"#;

/// Waits in the page (no sleeps here) until the toast shows; returns false on timeout.
const TOAST_SHOWN: &str = r#"
const done = arguments[0], t0 = Date.now();
(function check() {
  if (getComputedStyle(document.getElementById("toast")).display !== "none") return done(true);
  if (Date.now() - t0 > 15000) return done(false);
  requestAnimationFrame(check);
})();
"#;

/// Rectangles of the header, the toast and the Send button, and the viewport.
const LAYOUT: &str = r#"
const r = id => { const b = (id === "header" ? document.querySelector("header") : document.getElementById(id)).getBoundingClientRect();
  return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
return {header: r("header"), toast: r("toast"), send: r("send"), width: innerWidth, height: innerHeight};
"#;

fn save_png(b64: &str, name: &str) -> PathBuf {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 screenshot");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());
    path
}

/// Presses the inline button, waits for the callback's toast, then checks the
/// layout at this width and that the emoji is drawn in colour.
fn check_layout(d: &Driver, rx: &mpsc::Receiver<Value>, width: u32) {
    d.viewport(width, 800);
    d.script(
        "document.getElementById('toast').style.display = 'none';",
        json!([]),
    );
    d.click("button.ikb[data-data='pressed']");
    let cq = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the bot got the callback_query");
    assert_eq!(cq["data"], "pressed");
    assert_eq!(cq["from"]["first_name"], "Alice");
    assert_eq!(cq["message"]["text"], "Hi there!");
    assert_eq!(
        d.script_async(TOAST_SHOWN, json!([])),
        json!(true),
        "the callback answer's toast shows at {width} px"
    );
    let l = d.script(LAYOUT, json!([]));
    save_png(&d.screenshot(None), &format!("web_chat_{width}.png"));
    let (vw, vh) = (l["width"].as_f64().unwrap(), l["height"].as_f64().unwrap());
    let send = &l["send"];
    assert!(
        send["left"].as_f64().unwrap() >= 0.0
            && send["top"].as_f64().unwrap() >= 0.0
            && send["right"].as_f64().unwrap() <= vw
            && send["bottom"].as_f64().unwrap() <= vh,
        "the Send button is inside the {width} px viewport: {l}"
    );
    assert!(
        l["toast"]["top"].as_f64().unwrap() >= l["header"]["bottom"].as_f64().unwrap(),
        "the toast does not cover the header at {width} px: {l}"
    );
    let bubble = d.cmd(
        "POST",
        "/element",
        json!({"using": "xpath", "value": "//div[contains(@class,'bot')][contains(.,'Арбуз')]"}),
    )[ELEM]
        .as_str()
        .expect("the emoji message")
        .to_string();
    let hues = d.script_async(HUES_OF_PNG, json!([d.screenshot(Some(&bubble))]));
    assert!(
        hues.as_array().is_some_and(|h| h.len() >= 2),
        "the emoji 🍉 is drawn in more than one colour at {width} px, hue sectors: {hues}"
    );
}

#[test]
fn web_chat_start_message_inline_button_layout_and_emoji() {
    let (Some(chromium), Some(driver)) = (
        which(&["chromium", "chromium-browser", "google-chrome"]),
        which(&["chromedriver"]),
    ) else {
        missing_prerequisite("chromium and/or chromedriver not found");
        return;
    };
    if !Path::new(EMOJI_FONT).is_file() {
        missing_prerequisite(&format!("no colour emoji font ({EMOJI_FONT})"));
        return;
    }
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
                            json!({"chat_id": m["chat"]["id"], "text": "🍉 Арбуз"}),
                        );
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
    d.cmd(
        "POST",
        "/timeouts",
        json!({"implicit": 15000, "script": 20000}),
    );
    d.viewport(1280, 800);
    d.cmd("POST", "/url", json!({"url": sb.api_url()}));

    // A person creates a user; as in Telegram, the chat offers START first.
    d.type_in("#newUserName", "Alice");
    d.click("#newUserBtn");
    d.find("#user option:checked"); // the page selected the new user
    assert!(sb.wait_for(Duration::from_secs(10), |sb| sb
        .shared()
        .world
        .lock()
        .unwrap()
        .users
        .values()
        .any(|u| u.first_name == "Alice")));
    d.click("#startRow:not([hidden]) #startBig");
    d.type_in("#inputRow:not([hidden]) #text", "hello bot");
    d.click("#send");

    // The bot's answer with the inline keyboard appears.
    d.find("button.ikb[data-data='pressed']");
    let html = d.cmd("GET", "/source", json!({}));
    assert!(
        html.as_str().unwrap().contains("<b>there</b>"),
        "HTML formatting rendered"
    );
    let alice = sb
        .shared()
        .world
        .lock()
        .unwrap()
        .users
        .values()
        .find(|u| u.first_name == "Alice")
        .map(|u| u.id)
        .unwrap();
    let texts: Vec<String> = sb
        .chat_history(alice)
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(
        texts[..2],
        ["/start", "hello bot"],
        "START sent /start first"
    );

    // Wide, then a phone: each press of the button gets a toast.
    check_layout(&d, &rx, 1280);
    check_layout(&d, &rx, 400);
    let html = d.cmd("GET", "/source", json!({}));
    assert!(html.as_str().unwrap().contains("Hi <b>there</b>!"));
    drop(d);
    let _ = std::fs::remove_dir_all(profile);
}
