//! Fault injection and webhook delivery.

mod common;
use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tg_sandbox::{Fault, FaultRule, Sandbox, SandboxConfig};

fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).unwrap()
}

/// Sends "x" to `user` as a bot would, returning the raw outcome.
fn send_x(sb: &Sandbox, user: i64) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent()
        .post(sb.method_url("sendMessage"))
        .header("Content-Type", "application/json")
        .send(json!({"chat_id": user, "text": "x"}).to_string())
}

#[test]
fn latency_fixed_and_per_request() {
    let sb = start();
    let a = agent();
    sb.inject_once("getMe", Fault::Latency(Duration::from_millis(400)));
    let t0 = Instant::now();
    assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
    assert!(t0.elapsed() >= Duration::from_millis(400));
    sb.inject_latencies(
        "getMe",
        &[
            Duration::from_millis(300),
            Duration::ZERO,
            Duration::from_millis(300),
        ],
    );
    let mut el = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
        el.push(t0.elapsed());
    }
    assert!(el[0] >= Duration::from_millis(300) && el[2] >= Duration::from_millis(300));
    assert!(el[1] < el[0]);
}

#[test]
fn drop_does_not_process() {
    let sb = start();
    let u = sb.create_user("Ivan");
    sb.inject_once("sendMessage", Fault::Drop);
    let r = send_x(&sb, u);
    assert!(r.is_err(), "expected a connection error");
    assert!(sb.bot_messages(u).is_empty());
    assert_eq!(sb.stats().faults_injected, 1);
}

#[test]
fn reset_mid_answer_processes_but_loses_answer() {
    let sb = start();
    let u = sb.create_user("Ivan");
    sb.inject_once("sendMessage", Fault::ResetMidAnswer);
    let r = send_x(&sb, u);
    let failed = match r {
        Err(_) => true,
        Ok(mut resp) => resp.body_mut().read_to_string().is_err(),
    };
    assert!(failed, "expected a truncated answer");
    assert_eq!(sb.bot_messages(u).len(), 1);
}

#[test]
fn status_500_502_and_malformed() {
    let sb = start();
    let a = agent();
    sb.inject(FaultRule::new(Fault::Status(500)).method("getMe"));
    let (s, v) = read(a.get(sb.method_url("getMe")).call());
    assert_eq!(s, 500);
    assert_eq!(v["error_code"], 500);
    sb.inject(FaultRule::new(Fault::Status(502)).bot(sb.token()).times(2));
    for _ in 0..2 {
        let (s, v) = read(a.get(sb.method_url("getMe")).call());
        assert_eq!(s, 502);
        assert!(v.as_str().unwrap().contains("502 Bad Gateway"));
    }
    sb.inject_once("getMe", Fault::MalformedJson);
    let mut r = a.get(sb.method_url("getMe")).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.body_mut().read_to_string().unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "{body}"
    );
    assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
}

#[test]
fn hang_past_client_timeout_and_quick_shutdown() {
    let mut sb = start();
    sb.inject_once("getMe", Fault::Hang(Duration::from_secs(60)));
    let short: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(500)))
        .build()
        .into();
    let t0 = Instant::now();
    assert!(short.get(sb.method_url("getMe")).call().is_err());
    assert!(t0.elapsed() >= Duration::from_millis(450));
    let t0 = Instant::now();
    sb.shutdown();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[test]
fn faults_via_control_api_for_one_bot_only() {
    let sb = start();
    sb.add_bot("777:OTHER-token", "other_bot").unwrap();
    let a = agent();
    let (s, _) = read(
        a.post(format!("{}/control/faults", sb.api_url()))
            .header("Content-Type", "application/json")
            .send(
                json!({"bot": "other_bot", "fault": {"type": "status", "status": 500}, "times": 0})
                    .to_string(),
            ),
    );
    assert_eq!(s, 200);
    assert_eq!(read(a.get(sb.method_url("getMe")).call()).0, 200);
    assert_eq!(
        read(
            a.get(format!("{}/bot777:OTHER-token/getMe", sb.api_url()))
                .call()
        )
        .0,
        500
    );
    assert_eq!(
        read(
            a.get(format!("{}/bot777:OTHER-token/getMe", sb.api_url()))
                .call()
        )
        .0,
        500
    );
    sb.clear_faults();
    assert_eq!(
        read(
            a.get(format!("{}/bot777:OTHER-token/getMe", sb.api_url()))
                .call()
        )
        .0,
        200
    );
}

/// A tiny webhook receiver: answers the statuses in order (then 200) and
/// reports (secret header, body) of every request.
fn receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<(Option<String>, serde_json::Value)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for s in l.incoming() {
            let Ok(s) = s else { break };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut secret = None;
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap_or((line, ""));
                if k.eq_ignore_ascii_case("x-telegram-bot-api-secret-token") {
                    secret = Some(v.trim().to_string());
                }
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).unwrap();
            let status = statuses.next().unwrap_or(200);
            let mut s = s;
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if tx
                .send((secret, serde_json::from_slice(&body).unwrap()))
                .is_err()
            {
                break;
            }
        }
    });
    (url, rx)
}

#[test]
fn webhook_delivery_with_secret_and_retry() {
    let sb = start();
    let a = agent();
    let (url, rx) = receiver(vec![500]);
    let (s, v) = call(
        &a,
        &sb.api_url(),
        sb.token(),
        "setWebhook",
        json!({"url": url, "secret_token": "s3cr3t"}),
    );
    assert_eq!(s, 200, "{v}");
    let u = sb.create_user("Ivan");
    let upd = sb.user_sends_text(u, "hook me").unwrap().update_id;
    let (sec1, b1) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let (sec2, b2) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(sec1.as_deref(), Some("s3cr3t"));
    assert_eq!(sec2.as_deref(), Some("s3cr3t"));
    assert_eq!(b1["update_id"], upd);
    assert_eq!(b2, b1, "the failed update is retried");
    assert!(sb.wait_for(Duration::from_secs(5), |sb| sb.pending_updates().is_empty()));
    let (_, v) = call(&a, &sb.api_url(), sb.token(), "getWebhookInfo", json!({}));
    assert_eq!(v["result"]["url"], url);
    assert_eq!(v["result"]["pending_update_count"], 0);
    assert_eq!(
        v["result"]["last_error_message"],
        "Wrong response from the webhook: 500 Internal Server Error"
    );
    let st = sb.stats();
    assert_eq!((st.webhook_failures, st.webhook_deliveries), (1, 1));
    let (_, v) = call(&a, &sb.api_url(), sb.token(), "deleteWebhook", json!({}));
    assert_eq!(v["description"], "Webhook was deleted");
}
