//! The `onec-sim` binary against the C++ test add-in.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_onec-sim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn cli_runs_ops_and_reports() {
    let (code, out) = run(&[
        "--test-addin",
        "--class",
        "Tester",
        "set",
        "Name",
        "Бот",
        "get",
        "Name",
        "call",
        "Add",
        "2",
        "proc",
        "SetDepth",
        "3",
        "call",
        "Fire",
        "2",
        "events",
        "1s",
        "call!",
        "Fail",
        "boom",
        "names",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("get Name = \"Бот\""), "{out}");
    assert!(out.contains("call Add = 12"), "{out}");
    assert!(out.contains("data=\"data-1\""), "{out}");
    assert!(out.contains("call Fail raised: boom"), "{out}");
    assert!(out.contains("AddError wcode=1006"), "{out}");
    assert!(out.contains("  Add / Сложить"), "{out}");
    assert!(out.contains("memory: allocations="), "{out}");
}

#[test]
fn cli_fails_on_leak_and_unexpected_exception() {
    let (code, out) = run(&["--test-addin", "proc", "Leak", "8"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("leaked=1 (8 bytes)"), "{out}");
    let (code, out) = run(&[
        "--test-addin",
        "--lang",
        "en",
        "call",
        "Nope",
        "get",
        "Counter",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Object method not found (Nope)"), "{out}");
    assert!(!out.contains("get Counter"), "{out}");
    let (code, out) = run(&[
        "--test-addin",
        "--keep-going",
        "call",
        "Nope",
        "get",
        "Counter",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("get Counter = 0"), "{out}");
    let (code, _) = run(&["--lib", "/nonexistent.so", "names"]);
    assert_eq!(code, 2);
}
