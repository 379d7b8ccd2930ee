//! `onec-sim`: drive a native 1C add-in from the command line through the simulator.
//!
//! ```text
//! onec-sim [--zip FILE | --lib FILE | --test-addin] [--class NAME] [--server]
//!          [--app-type N] [--capabilities N] [--lang en|ru] [--isolated]
//!          [--teardown onec|onescript] [--keep-going] <ops…>
//! ops:  set PROP VALUE | get PROP | call METHOD [ARGS…] | proc METHOD [ARGS…]
//!       | events DURATION | names | sleep DURATION
//!       (append ! to set/get/call/proc when an exception is expected: `call! Fail x`)
//! ARGS: 42, 1.5 → number (I4/R8 as 1C picks); true/false/истина/ложь; undefined/неопределено;
//!       null; "quoted text" (with "" for a quote); '20240131235959' → date;
//!       @path → BinaryData read from a file; anything else → string.
//! ```
//! Prints every result, AddError, event and the memory report. Exits 1 on an unexpected
//! exception (after finishing the ops with --keep-going), on a leak or invalid free, and 2
//! on usage or load errors.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use onec_simulator::{AppType, Component, DateTime, HostOptions, Library, Teardown, Value};

const OPS: &[&str] = &["set", "get", "call", "proc", "events", "names", "sleep"];

fn usage() -> ExitCode {
    eprintln!(
        "usage: onec-sim [--zip FILE | --lib FILE | --test-addin] [--class NAME] [--server] \
         [--app-type N] [--capabilities N] [--lang en|ru] [--isolated] \
         [--teardown onec|onescript] [--keep-going] <ops…>\n\
         ops: set PROP VALUE | get PROP | call METHOD [ARGS…] | proc METHOD [ARGS…] | \
         events DURATION | names | sleep DURATION  (set!/get!/call!/proc! expect an exception)"
    );
    ExitCode::from(2)
}

fn parse_duration(s: &str) -> Option<Duration> {
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0).then(|| Duration::from_secs_f64(v * mult))
}

/// Parses a command-line argument like a 1C literal.
fn parse_value(s: &str) -> Result<Value, String> {
    let lower = s.to_lowercase();
    match lower.as_str() {
        "true" | "истина" => return Ok(Value::Bool(true)),
        "false" | "ложь" => return Ok(Value::Bool(false)),
        "undefined" | "неопределено" => return Ok(Value::Empty),
        "null" => return Ok(Value::Null),
        _ => {}
    }
    if let Some(path) = s.strip_prefix('@') {
        return std::fs::read(path)
            .map(Value::Blob)
            .map_err(|e| format!("{path}: {e}"));
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        return Ok(Value::Str(s[1..s.len() - 1].replace("\"\"", "\"")));
    }
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        let d: String = s[1..s.len() - 1]
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        if d.len() == 8 || d.len() == 14 {
            let n =
                |a: usize, b: usize| d.get(a..b).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
            return Ok(Value::Date(DateTime::new(
                n(0, 4) as i32,
                n(4, 6),
                n(6, 8),
                n(8, 10),
                n(10, 12),
                n(12, 14),
            )));
        }
        return Err(format!(
            "bad date literal {s} (want 'YYYYMMDD' or 'YYYYMMDDhhmmss')"
        ));
    }
    if let Ok(n) = s.parse::<f64>() {
        if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
            return Ok(Value::number(n));
        }
    }
    Ok(Value::Str(s.to_string()))
}

struct Run {
    comp: Component,
    errors_seen: usize,
    failed: bool,
}

impl Run {
    fn report_add_errors(&mut self) {
        let errs = self.comp.add_errors();
        for e in &errs[self.errors_seen..] {
            println!(
                "  AddError wcode={} scode={} source={:?} descr={:?}",
                e.wcode, e.scode, e.source, e.descr
            );
        }
        self.errors_seen = errs.len();
    }

    fn outcome<T>(
        &mut self,
        what: &str,
        expect_error: bool,
        r: Result<T, onec_simulator::Exception>,
        show: impl Fn(T) -> String,
    ) {
        match r {
            Ok(v) => {
                println!("{what} = {}", show(v));
                if expect_error {
                    println!("  ERROR: an exception was expected");
                    self.failed = true;
                }
            }
            Err(e) => {
                println!("{what} raised: {}", e.text);
                if !expect_error {
                    self.failed = true;
                }
            }
        }
        self.report_add_errors();
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = HostOptions::default();
    let mut source: Option<(bool, String)> = None;
    let mut class: Option<String> = None;
    let mut teardown = Teardown::OneC;
    let mut keep_going = false;
    let mut i = 0;
    while i < args.len() && args[i].starts_with("--") {
        let a = args[i].as_str();
        let mut next = || {
            i += 1;
            args.get(i).cloned()
        };
        match a {
            "--zip" => source = next().map(|p| (true, p)),
            "--lib" => source = next().map(|p| (false, p)),
            "--test-addin" => {
                source = Some((
                    false,
                    onec_simulator::test_addin_path().display().to_string(),
                ))
            }
            "--class" => class = next(),
            "--server" => opts.app_type = AppType::Server,
            "--isolated" => opts.isolated = true,
            "--keep-going" => keep_going = true,
            "--lang" => match next() {
                Some(l) => opts.language = l,
                None => return usage(),
            },
            "--capabilities" => match next().and_then(|n| n.parse().ok()) {
                Some(n) => opts.capabilities = n,
                None => return usage(),
            },
            "--app-type" => {
                opts.app_type = match next().as_deref() {
                    Some("0") => AppType::ThinClient,
                    Some("1") => AppType::ThickClient,
                    Some("2") => AppType::WebClient,
                    Some("3") => AppType::Server,
                    Some("4") => AppType::ExtConnection,
                    Some("5") => AppType::MobileClient,
                    Some("6") => AppType::MobileServer,
                    _ => return usage(),
                }
            }
            "--teardown" => {
                teardown = match next().as_deref() {
                    Some("onec") | Some("1c") => Teardown::OneC,
                    Some("onescript") => Teardown::OneScript,
                    _ => return usage(),
                }
            }
            "--help" | "-h" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
        i += 1;
    }
    let Some((is_zip, path)) = source else {
        return usage();
    };
    let lib = match if is_zip {
        Library::load_zip(&path)
    } else {
        Library::load(&path)
    } {
        Ok(l) => l,
        Err(e) => {
            eprintln!("onec-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let names = lib.class_names();
    println!(
        "library {} classes {:?} attach type {}",
        lib.path().display(),
        names,
        lib.attach_type()
    );
    let class = class.or_else(|| names.first().cloned()).unwrap_or_default();
    let comp = match lib.create(&class, opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("onec-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let mut run = Run {
        comp,
        errors_seen: 0,
        failed: false,
    };
    run.report_add_errors();

    let ops = &args[i..];
    let mut k = 0;
    while k < ops.len() {
        if run.failed && !keep_going {
            println!("stopping after an unexpected exception (use --keep-going to continue)");
            break;
        }
        let op = ops[k].as_str();
        let (base, expect_error) = match op.strip_suffix('!') {
            Some(b) => (b, true),
            None => (op, false),
        };
        k += 1;
        let mut operands = Vec::new();
        while k < ops.len() && !OPS.contains(&ops[k].trim_end_matches('!')) {
            operands.push(ops[k].clone());
            k += 1;
        }
        let values: Result<Vec<Value>, String> =
            operands.iter().skip(1).map(|s| parse_value(s)).collect();
        let values = match values {
            Ok(v) => v,
            Err(e) => {
                eprintln!("onec-sim: {e}");
                return ExitCode::from(2);
            }
        };
        let name = operands.first().cloned().unwrap_or_default();
        match base {
            "get" if operands.len() == 1 => {
                let r = run.comp.get(&name);
                run.outcome(&format!("get {name}"), expect_error, r, |v| v.to_string());
            }
            "set" if operands.len() == 2 => {
                let r = run.comp.set(&name, values[0].clone());
                run.outcome(&format!("set {name}"), expect_error, r, |_| {
                    "ok".to_string()
                });
            }
            "call" if !operands.is_empty() => {
                let r = run.comp.call(&name, &values);
                run.outcome(&format!("call {name}"), expect_error, r, |v| v.to_string());
            }
            "proc" if !operands.is_empty() => {
                let r = run.comp.call_proc(&name, &values);
                run.outcome(&format!("proc {name}"), expect_error, r, |_| {
                    "ok".to_string()
                });
            }
            "events" | "sleep" if operands.len() <= 1 => {
                let d = match operands.first().map(|s| parse_duration(s)) {
                    None => Duration::ZERO,
                    Some(Some(d)) => d,
                    Some(None) => return usage(),
                };
                if base == "sleep" {
                    std::thread::sleep(d);
                    continue;
                }
                let deadline = Instant::now() + d;
                let mut n = 0;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match run.comp.next_event(left) {
                        Some(e) => {
                            n += 1;
                            println!(
                                "event source={:?} message={:?} data={:?}",
                                e.source, e.message, e.data
                            );
                        }
                        None => break,
                    }
                }
                println!(
                    "events: {n} received; rejected by the platform so far: {} (server: {})",
                    run.comp.rejected_events(),
                    run.comp.server_events()
                );
            }
            "names" if operands.is_empty() => {
                let (en, ru) = (run.comp.method_names(0), run.comp.method_names(1));
                println!("methods:");
                for (e, r) in en.iter().zip(ru.iter()) {
                    println!("  {e} / {r}");
                }
                let (en, ru) = (run.comp.prop_names(0), run.comp.prop_names(1));
                println!("properties:");
                for (e, r) in en.iter().zip(ru.iter()) {
                    println!("  {e} / {r}");
                }
            }
            _ => {
                eprintln!("onec-sim: bad operation: {op} {}", operands.join(" "));
                return usage();
            }
        }
    }

    for b in run.comp.message_box_log() {
        println!(
            "message box ({}): {}",
            if b.confirm { "confirm" } else { "alert" },
            b.text
        );
    }
    let left = run.comp.drain_events();
    if !left.is_empty() {
        println!("{} event(s) left undelivered in the queue", left.len());
    }
    let report = run.comp.teardown_checked(teardown);
    match report {
        Ok(r) => {
            println!("memory: {r}");
            if !r.is_clean() {
                println!("FAIL: leaked blocks or invalid frees");
                return ExitCode::from(1);
            }
        }
        Err(e) => {
            println!("teardown: {e}");
            return ExitCode::from(1);
        }
    }
    if run.failed {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(parse_value("42").unwrap(), Value::I4(42));
        assert_eq!(parse_value("1.5").unwrap(), Value::R8(1.5));
        assert_eq!(parse_value("123:ABC").unwrap(), Value::str("123:ABC"));
        assert_eq!(parse_value("Привет").unwrap(), Value::str("Привет"));
        assert_eq!(parse_value("\"42\"").unwrap(), Value::str("42"));
        assert_eq!(parse_value("\"a\"\"b\"").unwrap(), Value::str("a\"b"));
        assert_eq!(parse_value("Истина").unwrap(), Value::Bool(true));
        assert_eq!(parse_value("undefined").unwrap(), Value::Empty);
        assert_eq!(parse_value("inf").unwrap(), Value::str("inf"));
        assert_eq!(
            parse_value("'20240131235958'").unwrap(),
            Value::Date(DateTime::new(2024, 1, 31, 23, 59, 58))
        );
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    }
}
