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

    /// Procedures and functions defined in the module (also inside `#Область`).
    pub fn methods(&self) -> Vec<Method> {
        let mut out = Vec::new();
        walk(self.tree.root_node(), &mut |n| {
            if !matches!(n.kind(), "procedure_definition" | "function_definition") {
                return;
            }
            let name = n.child_by_field_name("name").map(|x| text(x, &self.code));
            // The directive (`&НаКлиенте`) is the preprocessor node right before it.
            let directive = n
                .prev_named_sibling()
                .filter(|p| p.kind() == "preprocessor")
                .map(|p| text(p, &self.code).trim().to_string())
                .filter(|t| t.starts_with('&'));
            out.push(Method {
                name: name.unwrap_or("").to_string(),
                export: n.child_by_field_name("export").is_some(),
                directive,
                line: n.start_position().row + 1,
            });
        });
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
                out.push((text(n, &self.code).to_string(), n.start_position().row + 1));
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
                out.push((text(n, &self.code).to_string(), n.start_position().row + 1));
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

/// Global context methods of the platform that the samples call bare (`Формат(...)`).
/// A bare call outside this list and outside the module's own methods is a call
/// 1C would refuse to compile. Add a name here only after checking it in the
/// Syntax Assistant (Синтакс-помощник).
pub const PLATFORM_GLOBALS: &[&str] = &[
    // strings and numbers
    "Формат",
    "Строка",
    "Число",
    "Дата",
    "Тип",
    "ТипЗнч",
    "СокрЛП",
    "Сред",
    "Лев",
    "ВРег",
    "СтрДлина",
    "СтрЗаменить",
    "Найти",
    "Символ",
    "Окр",
    "НСтр",
    "XMLСтрока",
    "ЗначениеЗаполнено",
    // 8.3.6+ strings (refused in ordinary-form modules)
    "СтрНайти",
    "СтрРазделить",
    "СтрСоединить",
    // dates and session
    "ТекущаяДата",
    "ТекущаяДатаСеанса",
    "МестноеВремя",
    "НачалоДня",
    "КонецДня",
    "ПолучитьТекущийСеансИнформационнойБазы",
    "СтрокаСоединенияИнформационнойБазы",
    // JSON (8.3.6+)
    "ПрочитатьJSON",
    "ЗаписатьJSON",
    // errors, log, transactions
    "ОписаниеОшибки",
    "ИнформацияОбОшибке",
    "ПодробноеПредставлениеОшибки",
    "ЗаписьЖурналаРегистрации",
    "НачатьТранзакцию",
    "ЗафиксироватьТранзакцию",
    "ОтменитьТранзакцию",
    // files and temporary storage
    "ПолучитьИмяВременногоФайла",
    "УдалитьФайлы",
    "ПоместитьВоВременноеХранилище",
    "ПолучитьИзВременногоХранилища",
    "ПоместитьФайлНаСерверАсинх",
    // add-ins
    "ПодключитьВнешнююКомпоненту",
    "УстановитьВнешнююКомпоненту",
    "ПодключитьВнешнююКомпонентуАсинх",
    "УстановитьВнешнююКомпонентуАсинх",
    // client interface
    "ПодключитьОбработчикОжидания",
    "ОтключитьОбработчикОжидания",
    "Оповестить",
    "ПоказатьПредупреждение",
    "ПоказатьОповещениеПользователя",
    "Предупреждение",
];

/// Methods of a form (managed or ordinary) that its module calls bare.
pub const FORM_METHODS: &[&str] = &["Закрыть", "Записать", "Прочитать"];

/// Functions and statements an ordinary-form module (8.2, Trade Management 10.3)
/// must not use: 8.3.6+ string functions, JSON objects and async.
pub const NOT_IN_8_2: &[&str] = &[
    "Асинх",
    "Ждать",
    "СтрРазделить",
    "СтрСоединить",
    "СтрНайти",
    "СтрШаблон",
    "СтрНачинаетсяС",
    "СтрЗаканчиваетсяС",
    "СтрСравнить",
    "СтрНайтиИВыделитьОформление",
    "ЧтениеJSON",
    "ЗаписьJSON",
    "ПрочитатьJSON",
    "ЗаписатьJSON",
    "ПодключитьВнешнююКомпонентуАсинх",
    "УстановитьВнешнююКомпонентуАсинх",
    "ПотокВПамяти",
];

/// The kinds metadata.json keys may have (singular, as in the Designer).
pub const METADATA_KINDS: &[&str] = &[
    "Справочник",
    "Документ",
    "РегистрСведений",
    "РегистрНакопления",
    "Константа",
    "Перечисление",
    "Обработка",
    "Отчет",
    "РегламентноеЗадание",
    "HTTPСервис",
    "ПодпискаНаСобытие",
];

/// Manager words in code and the metadata kind each refers to.
pub const MANAGERS: &[(&str, &str)] = &[
    ("Справочники", "Справочник"),
    ("Документы", "Документ"),
    ("РегистрыСведений", "РегистрСведений"),
    ("РегистрыНакопления", "РегистрНакопления"),
    ("Константы", "Константа"),
    ("Перечисления", "Перечисление"),
    ("Обработки", "Обработка"),
    ("Отчеты", "Отчет"),
    ("РегламентныеЗадания", "РегламентноеЗадание"),
];

/// Query-language table kinds found in query texts (`Справочник.Номенклатура`).
pub const QUERY_KINDS: &[&str] = &[
    "Справочник",
    "Документ",
    "РегистрСведений",
    "РегистрНакопления",
    "Перечисление",
];

/// All modules of a folder.
pub fn load_all(dir: &Path) -> Vec<Module> {
    bsl_files(dir).iter().map(|p| Module::load(p)).collect()
}

/// Lower-case (1C names are case-insensitive).
fn low(s: &str) -> String {
    s.to_lowercase()
}

/// Every ERROR or MISSING node of every module.
pub fn check_syntax(modules: &[Module]) -> Vec<String> {
    modules
        .iter()
        .flat_map(|m| {
            m.syntax_problems()
                .into_iter()
                .map(move |p| format!("{}: {p}", m.file))
        })
        .collect()
}

/// Bare calls that are neither a method of the module nor a platform global.
pub fn check_bare_calls(modules: &[Module]) -> Vec<String> {
    let globals: Vec<String> = PLATFORM_GLOBALS.iter().map(|g| low(g)).collect();
    let form: Vec<String> = FORM_METHODS.iter().map(|g| low(g)).collect();
    let mut out = Vec::new();
    for m in modules {
        let own: Vec<String> = m.methods().iter().map(|x| low(&x.name)).collect();
        let is_form = m.file.contains(".Форма");
        for c in m.calls().iter().filter(|c| !c.dotted) {
            let name = low(&c.name);
            if own.contains(&name) || globals.contains(&name) || (is_form && form.contains(&name)) {
                continue;
            }
            out.push(format!(
                "{} line {}: {}() is not defined in the module nor a platform global",
                m.file, c.line, c.name
            ));
        }
    }
    out
}

/// Calls `Module.Method(...)` into a sample common module whose method is missing or not exported.
pub fn check_common_module_calls(modules: &[Module]) -> Vec<String> {
    let common: Vec<(&str, Vec<Method>)> = modules
        .iter()
        .filter(|m| m.kind_and_name().0 == "ОбщийМодуль")
        .map(|m| (m.kind_and_name().1, m.methods()))
        .collect();
    let mut out = Vec::new();
    for m in modules {
        for c in m.calls() {
            let Some(receiver) = &c.receiver else {
                continue;
            };
            let Some((_, methods)) = common.iter().find(|(n, _)| low(n) == low(receiver)) else {
                continue;
            };
            match methods.iter().find(|x| low(&x.name) == low(&c.name)) {
                Some(x) if x.export => {}
                Some(_) => out.push(format!(
                    "{} line {}: {receiver}.{} is not exported",
                    m.file, c.line, c.name
                )),
                None => out.push(format!(
                    "{} line {}: {receiver}.{} is not defined in ОбщийМодуль.{receiver}",
                    m.file, c.line, c.name
                )),
            }
        }
    }
    out
}

/// Names with `ё` in code (outside strings and comments). tree-sitter-bsl does not
/// take `ё` as a letter, so this reads the text rather than identifier nodes.
pub fn check_no_yo(modules: &[Module]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules {
        for (i, line) in m.code_only().lines().enumerate() {
            for word in line.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if word.contains('ё') || word.contains('Ё') {
                    out.push(format!(
                        "{} line {}: identifier «{word}» has ё",
                        m.file,
                        i + 1
                    ));
                }
            }
        }
    }
    out
}

/// The keys of metadata.json's "objects".
pub fn metadata_keys(metadata: &serde_json::Value) -> Vec<String> {
    metadata["objects"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// `Справочники.X`... in code and `Справочник.X`... in query texts not declared in metadata.json.
pub fn check_metadata(modules: &[Module], metadata: &serde_json::Value) -> Vec<String> {
    let keys: Vec<String> = metadata_keys(metadata).iter().map(|k| low(k)).collect();
    let mut out = Vec::new();
    let mut missing = |file: &str, line: usize, key: String| {
        if !keys.contains(&low(&key)) {
            out.push(format!(
                "{file} line {line}: {key} is not declared in metadata.json"
            ));
        }
    };
    let words: Vec<&str> = MANAGERS.iter().map(|(w, _)| *w).collect();
    for m in modules {
        for (word, name, line) in manager_refs(&m.code_only(), &words) {
            let kind = MANAGERS.iter().find(|(w, _)| *w == word).unwrap().1;
            missing(&m.file, line, format!("{kind}.{name}"));
        }
        for (text, line) in m.strings() {
            let Some(query) = query_text(&text) else {
                continue;
            };
            for (kind, name, offset) in manager_refs(&query, QUERY_KINDS) {
                missing(&m.file, line + offset - 1, format!("{kind}.{name}"));
            }
        }
    }
    out
}

/// A string literal that holds a query (it has `ВЫБРАТЬ`), without `|` continuations.
fn query_text(literal: &str) -> Option<String> {
    if !literal.contains("ВЫБРАТЬ") {
        return None;
    }
    Some(
        literal
            .lines()
            .map(|l| l.trim_start().trim_start_matches('|'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// metadata.json keys that are not "Kind.Name" with a known singular kind.
pub fn check_metadata_keys(metadata: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in metadata_keys(metadata) {
        let kind = key.split('.').next().unwrap_or("");
        let parts = key.split('.').count();
        if parts != 2 || !METADATA_KINDS.contains(&kind) {
            out.push(format!(
                "metadata.json: «{key}» is not Kind.Name with a singular kind"
            ));
        }
    }
    out
}

/// Ordinary-form modules using what 8.2 / Trade Management 10.3 lacks.
pub fn check_ordinary_forms(modules: &[Module]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules.iter().filter(|m| m.is_ordinary_form()) {
        let code = m.code_only();
        for (i, line) in code.lines().enumerate() {
            for word in NOT_IN_8_2 {
                let found = line.match_indices(word).any(|(pos, _)| {
                    let before = line[..pos].chars().next_back();
                    let after = line[pos + word.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found {
                    out.push(format!(
                        "{} line {}: «{word}» is not available in 8.2 / compatibility 8.2",
                        m.file,
                        i + 1
                    ));
                }
            }
        }
    }
    out
}

/// Whether the header's «Свойства модуля:» line sets `flag` (e.g. `ВызовСервера`,
/// `Клиент`, `Сервер`) to Истина; a parenthesis after the name is allowed.
pub fn header_flag(m: &Module, flag: &str) -> bool {
    let header = m.header();
    let Some(line) = header.lines().find(|l| l.contains("Свойства модуля:")) else {
        return false;
    };
    let props = line.split_once("Свойства модуля:").map_or("", |(_, p)| p);
    props.split(',').any(|part| {
        let Some((name, value)) = part.split_once('=') else {
            return false;
        };
        let name = name.split('(').next().unwrap_or("").trim();
        name == flag && value.trim().trim_end_matches('.').trim() == "Истина"
    })
}

/// The token must stay on the server: only server-only modules (no server call,
/// no client) and HTTP services read `Константы.ТокенTelegram`; no client code
/// sets `Токен` from anything but a relay ticket; forms never pass the add-in
/// object to the server.
pub fn check_token_stays_on_server(modules: &[Module]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules {
        let (kind, _) = m.kind_and_name();
        let reads_token = m.code_only().contains("Константы.ТокенTelegram");
        if reads_token {
            let server_only = kind == "HTTPСервис"
                || (kind == "ОбщийМодуль"
                    && header_flag(m, "Сервер")
                    && !header_flag(m, "ВызовСервера")
                    && !header_flag(m, "Клиент"));
            if !server_only {
                out.push(format!(
                    "{}: reads the token but is not a server-only module",
                    m.file
                ));
            }
        }
        let client_side = m.file.contains(".Форма")
            || m.file.contains("ФормаОбычная")
            || header_flag(m, "Клиент");
        if !client_side {
            continue;
        }
        for (_, line) in m
            .code_only()
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(".Токен =") && !l.contains(".Билет"))
            .map(|(i, l)| (l, i + 1))
        {
            out.push(format!(
                "{} line {line}: client code sets Токен from something other than a relay ticket",
                m.file
            ));
        }
        for c in m.calls() {
            let Some(receiver) = &c.receiver else {
                continue;
            };
            if !receiver.starts_with("Telegram") {
                continue;
            }
            let args = call_arguments(m, c.line, &c.name);
            if args.iter().any(|a| a == "Бот") {
                out.push(format!(
                    "{} line {}: {receiver}.{} gets the add-in object from a form",
                    m.file, c.line, c.name
                ));
            }
        }
    }
    out
}

/// Forms call only server-call or client modules among the sample common modules.
pub fn check_forms_call_server_call_modules(modules: &[Module]) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules
        .iter()
        .filter(|m| m.file.contains(".Форма") || m.file.contains("ФормаОбычная"))
    {
        let server_procs: Vec<String> = m
            .methods()
            .iter()
            .filter(|x| {
                x.directive
                    .as_deref()
                    .is_some_and(|d| d.contains("НаСервере"))
            })
            .map(|x| low(&x.name))
            .collect();
        for c in m.calls() {
            let Some(receiver) = &c.receiver else {
                continue;
            };
            let Some(target) = modules
                .iter()
                .find(|t| t.kind_and_name() == ("ОбщийМодуль", receiver.as_str()))
            else {
                continue;
            };
            if server_procs.contains(&low(&c.inside)) {
                continue; // a server procedure of the form may call server modules
            }
            if !header_flag(target, "ВызовСервера") && !header_flag(target, "Клиент")
            {
                out.push(format!(
                    "{} line {}: client code calls {receiver}.{}, a server module without «Вызов сервера»",
                    m.file, c.line, c.name
                ));
            }
        }
    }
    out
}

/// The plain-name arguments of a call on a line (for the add-in object check).
fn call_arguments(m: &Module, line: usize, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    fn visit(n: Node, m: &Module, line: usize, name: &str, out: &mut Vec<String>) {
        if n.kind() == "method_call"
            && n.start_position().row + 1 == line
            && n.child_by_field_name("name")
                .is_some_and(|x| text(x, &m.code) == name)
        {
            if let Some(args) = n.child_by_field_name("arguments") {
                let mut c = args.walk();
                for a in args.named_children(&mut c) {
                    out.push(text(a, &m.code).trim().to_string());
                }
            }
        }
        let mut c = n.walk();
        for child in n.children(&mut c) {
            visit(child, m, line, name, out);
        }
    }
    visit(m.tree.root_node(), m, line, name, &mut out);
    out
}

/// Add-in members the samples use: calls and properties on objects named `Бот`.
/// Returns (member name as written, "method"/"property", argument counts used).
pub fn addin_usage(modules: &[Module]) -> std::collections::BTreeMap<String, (String, Vec<usize>)> {
    let mut used: std::collections::BTreeMap<String, (String, Vec<usize>)> = Default::default();
    for m in modules {
        for c in m.calls() {
            if c.receiver.as_deref() == Some("Бот") {
                let entry = used
                    .entry(c.name.clone())
                    .or_insert(("method".into(), vec![]));
                if !entry.1.contains(&c.args) {
                    entry.1.push(c.args);
                    entry.1.sort();
                }
            }
        }
        for (object, prop, _) in m.properties() {
            if object == "Бот" {
                used.entry(prop).or_insert(("property".into(), vec![]));
            }
        }
    }
    used
}
