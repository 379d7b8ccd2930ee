//! README's member reference is generated from the member table
//! (`src/addin/members.rs`); this test fails when they differ.
//! Regenerate with `UPDATE_README=1 cargo test --test readme_members`.

#[allow(dead_code)]
#[path = "../src/addin/members.rs"]
mod members;

use members::{METHODS, PROPS};

const BEGIN: &str = "<!-- members:begin -->";
const END: &str = "<!-- members:end -->";

/// Debug builds add test hooks that release builds (and the README) do not have.
fn released(en: &str) -> bool {
    !en.starts_with("Debug")
}

fn reference() -> String {
    let mut out = String::new();
    out.push_str("_Сгенерировано из `src/addin/members.rs` / generated from it: `UPDATE_README=1 cargo test --test readme_members`._\n\n");
    out.push_str("| Свойство | Property | Чтение / Read | Запись / Write |\n|---|---|---|---|\n");
    for p in PROPS.iter().filter(|p| released(p.en)) {
        let yes = |b: bool| if b { "да / yes" } else { "—" };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            p.ru,
            p.en,
            yes(p.readable),
            yes(p.writable)
        ));
    }
    out.push_str("\n| Метод | Method | Параметры / Parameters (`[…]` — необязательный / optional) | Значение / Returns |\n|---|---|---|---|\n");
    for m in METHODS.iter().filter(|m| released(m.en)) {
        let params: Vec<String> = m
            .params
            .iter()
            .map(|p| {
                let name = format!("`{}` / `{}`", p.ru, p.en);
                if p.default.is_some() {
                    format!("[{name}]")
                } else {
                    name
                }
            })
            .collect();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            m.ru,
            m.en,
            if params.is_empty() {
                "—".to_owned()
            } else {
                params.join(", ")
            },
            if m.returns { "да / yes" } else { "—" }
        ));
    }
    out
}

#[test]
fn readme_member_reference_matches_the_member_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (Some(start), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no {BEGIN} … {END} block");
    };
    let current = &readme[start + BEGIN.len()..end];
    let wanted = format!("\n{}", reference());
    if current == wanted {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!(
            "{}{wanted}{}",
            &readme[..start + BEGIN.len()],
            &readme[end..]
        );
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    panic!(
        "README.md's member reference differs from src/addin/members.rs; \
         run `UPDATE_README=1 cargo test --test readme_members`.\nExpected:\n{wanted}"
    );
}
