//! Static checks of the 1C (BSL) samples in `1c-samples/`: each module is
//! parsed with the published tree-sitter grammar (`tree-sitter-bsl`), and the
//! tests in `tests/samples.rs` check what 1C's compiler would refuse (calls to
//! undefined methods, unexported methods, undeclared metadata, `ё` in names)
//! and the platform floor of modules written for ordinary forms.

use std::path::{Path, PathBuf};
use tree_sitter::{Node, Parser, Tree};

/// The samples folder of the repository.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../1c-samples")
}

/// Every `.bsl` file of a samples folder, sorted by name.
pub fn bsl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("samples folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bsl"))
        .collect();
    files.sort();
    files
}

/// Parses BSL text with tree-sitter-bsl.
pub fn parse(code: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_bsl::LANGUAGE.into())
        .expect("tree-sitter-bsl matches the tree-sitter runtime");
    parser.parse(code, None).expect("a parse tree")
}

/// A call `Name(...)` or `Receiver.Name(...)` in a module.
#[derive(Debug, Clone)]
pub struct Call {
    /// The text before the dot when the receiver is a plain name (`Бот`, `TelegramСервер`).
    pub receiver: Option<String>,
    /// Whether the call has a receiver of any kind (a plain name or an expression).
    pub dotted: bool,
    pub name: String,
    /// Number of arguments, omitted ones (`Ф(1, , 3)`) included.
    pub args: usize,
    pub line: usize,
    /// The procedure or function the call is in (empty at module level).
    pub inside: String,
}

/// A procedure or function defined in a module.
#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    pub export: bool,
    /// The compilation directive before it (`&НаКлиенте`...), if any.
    pub directive: Option<String>,
    pub line: usize,
}

/// One `.bsl` file, parsed.
pub struct Module {
    pub file: String,
    pub code: String,
    pub tree: Tree,
}

/// What a node's text is.
pub fn text<'a>(node: Node, code: &'a str) -> &'a str {
    &code[node.byte_range()]
}

fn walk<'t>(node: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    f(node);
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        walk(child, f);
    }
}

impl Module {
    /// Reads and parses a file.
    pub fn load(path: &Path) -> Module {
        let code = std::fs::read_to_string(path).expect("read .bsl");
        Module::from_text(
            path.file_name().unwrap().to_string_lossy().into_owned(),
            code,
        )
    }

    /// Parses text as a module named `file`.
    pub fn from_text(file: String, code: String) -> Module {
        let tree = parse(&code);
        Module { file, code, tree }
    }

    /// `Kind.Name` of the file (`ОбщийМодуль.TelegramСервер.bsl` -> ("ОбщийМодуль", "TelegramСервер")).
    pub fn kind_and_name(&self) -> (&str, &str) {
        let mut parts = self.file.split('.');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    }

    /// ERROR and MISSING nodes, as "line N: what".
    pub fn syntax_problems(&self) -> Vec<String> {
        let mut found = Vec::new();
        walk(self.tree.root_node(), &mut |n| {
            if n.is_error() || n.is_missing() {
                let what = if n.is_missing() { "MISSING" } else { "ERROR" };
                let snippet: String = text(n, &self.code).chars().take(60).collect();
                found.push(format!(
                    "line {}: {what} {} «{snippet}»",
                    n.start_position().row + 1,
                    n.kind()
                ));
            }
        });
        found
    }

    /// Procedures and functions defined in the module.
    pub fn methods(&self) -> Vec<Method> {
        let mut out = Vec::new();
        let root = self.tree.root_node();
        let mut directive = None;
        let mut cursor = root.walk();
        let mut visit = |n: Node, directive: &mut Option<String>| match n.kind() {
            "preprocessor" => {
                let t = text(n, &self.code).trim().to_string();
                if t.starts_with('&') {
                    *directive = Some(t);
                }
            }
            "procedure_definition" | "function_definition" => {
                let name = n.child_by_field_name("name").map(|x| text(x, &self.code));
                out.push(Method {
                    name: name.unwrap_or("").to_string(),
                    export: n.child_by_field_name("export").is_some(),
                    directive: directive.take(),
                    line: n.start_position().row + 1,
                });
            }
            _ => {}
        };
        for child in root.children(&mut cursor) {
            visit(child, &mut directive);
        }
        out
    }

    /// Every call in the module.
    pub fn calls(&self) -> Vec<Call> {
        let mut out = Vec::new();
        let code = &self.code;
        walk(self.tree.root_node(), &mut |n| {
            if n.kind() != "method_call" {
                return;
            }
            let name = n
                .child_by_field_name("name")
                .map(|x| text(x, code).to_string())
                .unwrap_or_default();
            let args = n
                .child_by_field_name("arguments")
                .map(|a| {
                    let mut c = a.walk();
                    let named = a.named_children(&mut c).count();
                    named
                })
                .unwrap_or(0);
            let prev = n.prev_named_sibling();
            let receiver = prev.and_then(|p| {
                if p.kind() != "access" {
                    return None;
                }
                let mut c = p.walk();
                let kids: Vec<Node> = p.named_children(&mut c).collect();
                (kids.len() == 1 && kids[0].kind() == "identifier")
                    .then(|| text(kids[0], code).to_string())
            });
            out.push(Call {
                receiver,
                dotted: prev.is_some_and(|p| p.kind() == "access"),
                name,
                args,
                line: n.start_position().row + 1,
                inside: enclosing_method(n, code),
            });
        });
        out
    }

    /// Properties read or written on a plain-named object: (object, property, line).
    pub fn properties(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        let code = &self.code;
        walk(self.tree.root_node(), &mut |n| {
            if n.kind() != "property" {
                return;
            }
            let Some(prev) = n.prev_named_sibling() else {
                return;
            };
            if prev.kind() != "access" {
                return;
            }
            let mut c = prev.walk();
            let kids: Vec<Node> = prev.named_children(&mut c).collect();
            if kids.len() == 1 && kids[0].kind() == "identifier" {
                out.push((
                    text(kids[0], code).to_string(),
                    text(n, code).to_string(),
                    n.start_position().row + 1,
                ));
            }
        });
        out
    }

    /// Every identifier-like token (names, properties, method names): (text, line).
    pub fn names(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        walk(self.tree.root_node(), &mut |n| {
            if matches!(n.kind(), "identifier" | "property") {
                out.push((
                    text(n, &self.code).to_string(),
                    n.start_position().row + 1,
                ));
            }
        });
        out
    }

    /// The module's code with string literals and comments blanked (same byte offsets).
    pub fn code_only(&self) -> String {
        let mut bytes = self.code.clone().into_bytes();
        walk(self.tree.root_node(), &mut |n| {
            if matches!(n.kind(), "string" | "line_comment") {
                for b in &mut bytes[n.byte_range()] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
            }
        });
        // Blanking whole UTF-8 sequences keeps the text valid.
        String::from_utf8(bytes).expect("blanked text stays UTF-8")
    }

    /// The text of every string literal (query texts live there), with its line.
    pub fn strings(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        walk(self.tree.root_node(), &mut |n| {
            if n.kind() == "string" {
                out.push((
                    text(n, &self.code).to_string(),
                    n.start_position().row + 1,
                ));
            }
        });
        out
    }

    /// The header comment (leading `//` lines).
    pub fn header(&self) -> String {
        self.code
            .lines()
            .take_while(|l| l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Marked as a module for ordinary forms (8.2 / Trade Management 10.3).
    pub fn is_ordinary_form(&self) -> bool {
        self.file.to_lowercase().contains("обычная") || self.header().contains("обычная форма")
    }
}

fn enclosing_method(mut n: Node, code: &str) -> String {
    while let Some(p) = n.parent() {
        if matches!(p.kind(), "procedure_definition" | "function_definition") {
            return p
                .child_by_field_name("name")
                .map(|x| text(x, code).to_string())
                .unwrap_or_default();
        }
        n = p;
    }
    String::new()
}

/// `Manager.Name` references in code (not strings or comments) for the given
/// manager words, e.g. `Справочники` -> ("Справочники", "Номенклатура", line).
pub fn manager_refs(code_only: &str, managers: &[&str]) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (i, line) in code_only.lines().enumerate() {
        for m in managers {
            let mut rest = line;
            while let Some(pos) = rest.find(m) {
                let before = rest[..pos].chars().next_back();
                let after = &rest[pos + m.len()..];
                rest = after;
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let Some(tail) = after.strip_prefix('.') else {
                    continue;
                };
                let name: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((m.to_string(), name, i + 1));
                }
            }
        }
    }
    out
}
