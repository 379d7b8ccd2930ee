//! Runs every static check on a folder of `.bsl` modules and its `metadata.json`:
//! `cargo run -p bsl-check --example check -- 1c-samples`.
use bsl_check::*;
use std::path::PathBuf;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(samples_dir);
    let modules = load_all(&dir);
    let metadata: serde_json::Value = std::fs::read_to_string(dir.join("metadata.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({"objects": {}}));
    let checks: Vec<(&str, Vec<String>)> = vec![
        ("syntax", check_syntax(&modules)),
        ("bare calls", check_bare_calls(&modules)),
        ("common module calls", check_common_module_calls(&modules)),
        ("ё", check_no_yo(&modules)),
        ("metadata keys", check_metadata_keys(&metadata)),
        ("metadata", check_metadata(&modules, &metadata)),
        ("ordinary forms", check_ordinary_forms(&modules)),
        ("token on server", check_token_stays_on_server(&modules)),
        (
            "forms call server-call modules",
            check_forms_call_server_call_modules(&modules),
        ),
    ];
    let mut failed = false;
    for (name, problems) in checks {
        println!(
            "{name}: {}",
            if problems.is_empty() { "ok" } else { "FAILED" }
        );
        for p in &problems {
            println!("  {p}");
        }
        failed |= !problems.is_empty();
    }
    println!("{} modules", modules.len());
    std::process::exit(i32::from(failed));
}
