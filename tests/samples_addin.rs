//! Every add-in member the 1C samples use exists in the built library, by its
//! English and its Russian name, and every call passes a parameter count the
//! member accepts. The list is `1c-samples/addin-members.json`, which the
//! bsl-check crate keeps equal to what the samples call.

mod common;

use common::*;
use serde_json::Value as Json;

/// The members of 1c-samples/addin-members.json, optionally only those from one source.
fn members(only_since: Option<&str>) -> Vec<Json> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("1c-samples/addin-members.json");
    let text = std::fs::read_to_string(path).expect("1c-samples/addin-members.json");
    let list: Json = serde_json::from_str(&text).expect("JSON");
    list["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| only_since.is_none_or(|s| m["since"] == s))
        .cloned()
        .collect()
}

/// What is wrong with each member in the built library (empty: all present and callable as used).
fn problems(members: &[Json]) -> Vec<String> {
    let mut bot = bot();
    let mut out = Vec::new();
    {
        let mut raw = bot.raw();
        for m in members {
            let (ru, en) = (m["ru"].as_str().unwrap(), m["en"].as_str().unwrap());
            if m["kind"] == "method" {
                let (i_en, i_ru) = (raw.find_method(Some(en)), raw.find_method(Some(ru)));
                if i_en < 0 || i_ru < 0 || i_en != i_ru {
                    out.push(format!("method {en}/{ru}: found as {i_en}/{i_ru}"));
                    continue;
                }
                let most = raw.get_n_params(i_en);
                let least = (0..most)
                    .filter(|&p| !raw.get_param_def_value(i_en, p).0)
                    .count() as i64;
                for used in m["args"].as_array().unwrap() {
                    let used = used.as_i64().unwrap();
                    if used < least || used > most {
                        out.push(format!("method {en}: the samples pass {used} arguments, it takes {least}..{most}"));
                    }
                }
            } else {
                let (i_en, i_ru) = (raw.find_prop(Some(en)), raw.find_prop(Some(ru)));
                if i_en < 0 || i_ru < 0 || i_en != i_ru {
                    out.push(format!("property {en}/{ru}: found as {i_en}/{i_ru}"));
                    continue;
                }
                let ok = if m["access"] == "write" {
                    raw.is_prop_writable(i_en)
                } else {
                    raw.is_prop_readable(i_en)
                };
                if !ok {
                    out.push(format!("property {en}: not {} ", m["access"]));
                }
            }
        }
    }
    finish(bot);
    out
}

#[test]
fn the_readme_members_the_samples_use_exist_by_both_names() {
    let readme = members(Some("README"));
    assert!(readme.len() >= 15, "{} README members", readme.len());
    let found = problems(&readme);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Fails until the binding (issue 9), delivery (issue 10) and reliability
/// (issue 15) members are merged: the samples already call them.
#[test]
fn every_member_the_samples_use_exists_in_the_built_library() {
    let found = problems(&members(None));
    assert!(
        found.is_empty(),
        "members the samples use but the library lacks:\n{}",
        found.join("\n")
    );
}
