//! The Bot API specification (api.json, Bot API 10.1) and request validation
//! against it: method names, required fields and field types, with Telegram's
//! coercion of string values (query string, urlencoded, multipart).

use crate::http::Part;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

static SPEC_JSON: &str = include_str!("../spec/api.json");

/// One parameter of a method or field of a type.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub types: Vec<String>,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub fields: Vec<Field>,
    pub subtypes: Vec<String>,
}

pub struct Spec {
    pub version: String,
    /// Lowercased method name → method.
    pub methods: HashMap<String, Method>,
    pub types: HashMap<String, TypeDef>,
}

fn fields_of(v: &Value) -> Vec<Field> {
    v.get("fields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| Field {
                    name: f["name"].as_str().unwrap_or("").to_string(),
                    types: f["types"]
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    required: f["required"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The parsed specification (parsed once).
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let v: Value = serde_json::from_str(SPEC_JSON).expect("spec/api.json is valid JSON");
        let mut methods = HashMap::new();
        if let Some(m) = v["methods"].as_object() {
            for (name, def) in m {
                methods.insert(
                    name.to_ascii_lowercase(),
                    Method {
                        name: name.clone(),
                        fields: fields_of(def),
                    },
                );
            }
        }
        let mut types = HashMap::new();
        if let Some(t) = v["types"].as_object() {
            for (name, def) in t {
                types.insert(
                    name.clone(),
                    TypeDef {
                        fields: fields_of(def),
                        subtypes: def["subtypes"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    },
                );
            }
        }
        Spec {
            version: v["version"].as_str().unwrap_or("").to_string(),
            methods,
            types,
        }
    })
}

/// A raw parameter as received.
#[derive(Debug, Clone)]
pub enum RawParam {
    Value(Value),
    File(Part),
}

/// Validated parameters: values coerced to their spec types, files apart.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pub values: Map<String, Value>,
    /// Uploaded multipart parts by name (both InputFile fields and attach:// targets).
    pub files: HashMap<String, Part>,
}

impl Params {
    pub fn str(&self, k: &str) -> Option<&str> {
        self.values.get(k).and_then(Value::as_str)
    }
    pub fn i64(&self, k: &str) -> Option<i64> {
        self.values.get(k).and_then(Value::as_i64)
    }
    pub fn bool(&self, k: &str) -> bool {
        self.values.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.values.get(k)
    }
}

/// A validation failure: (error_code, description).
pub type VErr = (u16, String);

fn type_list(types: &[String]) -> String {
    types.join(" or ")
}

/// Validates and coerces the raw parameters of `method` (already known to exist).
pub fn validate(method: &Method, raw: HashMap<String, RawParam>) -> Result<Params, VErr> {
    let sp = spec();
    let mut out = Params::default();
    let mut raw = raw;
    for f in &method.fields {
        let p = raw.remove(&f.name);
        let p = match p {
            Some(RawParam::Value(Value::String(s))) if s.is_empty() => None,
            Some(RawParam::Value(Value::Null)) => None,
            other => other,
        };
        match p {
            None => {
                if f.required {
                    return Err((400, missing_text(&method.name, &f.name)));
                }
            }
            Some(RawParam::File(part)) => {
                if f.types.iter().any(|t| t == "InputFile") && part.filename.is_some() {
                    out.files.insert(f.name.clone(), part);
                } else if part.filename.is_none() || f.types.iter().any(|t| t == "String") {
                    // a plain form field sent as multipart part
                    let s = String::from_utf8_lossy(&part.data).to_string();
                    let v = coerce(sp, &Value::String(s), &f.types, true)
                        .map_err(|e| (400, field_error(&f.name, &f.types, e)))?;
                    out.values.insert(f.name.clone(), v);
                } else {
                    return Err((
                        400,
                        format!(
                            "Bad Request: field \"{}\" must be of type {}",
                            f.name,
                            type_list(&f.types)
                        ),
                    ));
                }
            }
            Some(RawParam::Value(v)) => {
                let v = coerce(sp, &v, &f.types, true)
                    .map_err(|e| (400, field_error(&f.name, &f.types, e)))?;
                out.values.insert(f.name.clone(), v);
            }
        }
    }
    // Remaining multipart file parts are attach:// targets.
    let replies = method.fields.iter().any(|f| f.name == "reply_parameters");
    for (k, v) in raw {
        match v {
            v if replies && LEGACY_REPLY_PARAMS.contains(&k.as_str()) => {
                if let Some(v) = legacy_reply_param(sp, &k, v) {
                    out.values.insert(k, v);
                }
            }
            RawParam::File(part) => {
                out.files.insert(k, part);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `reply_to_message_id` and `allow_sending_without_reply`: gone from the
/// published API (Bot API 7.0 moved them into `reply_parameters`), still
/// honoured by Telegram and used by many bots. A value that is not a number
/// or boolean is ignored, as Telegram reads it as 0 / false.
const LEGACY_REPLY_PARAMS: [&str; 2] = ["reply_to_message_id", "allow_sending_without_reply"];

fn legacy_reply_param(sp: &Spec, name: &str, raw: RawParam) -> Option<Value> {
    let ty = match name {
        "reply_to_message_id" => "Integer",
        "allow_sending_without_reply" => "Boolean",
        _ => return None,
    };
    let v = match raw {
        RawParam::Value(v) => v,
        RawParam::File(part) => Value::String(String::from_utf8_lossy(&part.data).to_string()),
    };
    coerce_one(sp, &v, ty, true)
        .ok()
        .filter(|v| v.as_i64() != Some(0))
}

fn missing_text(method: &str, field: &str) -> String {
    match field {
        "text" => "Bad Request: message text is empty".to_string(),
        "chat_id" => "Bad Request: chat_id is empty".to_string(),
        "callback_query_id" => "Bad Request: query_id is empty".to_string(),
        "message_id" if method.starts_with("edit") || method == "deleteMessage" => {
            "Bad Request: message identifier is not specified".to_string()
        }
        "photo" | "document" | "video" | "audio" | "voice" | "animation" | "media" => {
            format!("Bad Request: there is no {field} in the request")
        }
        _ => format!("Bad Request: {field} is empty"),
    }
}

fn field_error(name: &str, types: &[String], inner: String) -> String {
    let obj_kind = |t: &str| -> Option<&'static str> {
        match t {
            "InlineKeyboardMarkup"
            | "ReplyKeyboardMarkup"
            | "ReplyKeyboardRemove"
            | "ForceReply" => Some("reply keyboard markup"),
            "Array of MessageEntity" => Some("entities"),
            "ReplyParameters" => Some("reply parameters"),
            "LinkPreviewOptions" => Some("link preview options"),
            _ => None,
        }
    };
    if let Some(kind) = types.iter().find_map(|t| obj_kind(t)) {
        if inner.is_empty() {
            return format!("Bad Request: can't parse {kind} JSON object");
        }
        return format!("Bad Request: can't parse {kind} JSON object: {inner}");
    }
    if inner.is_empty() {
        format!(
            "Bad Request: field \"{name}\" must be of type {}",
            type_list(types)
        )
    } else {
        format!("Bad Request: can't parse \"{name}\": {inner}")
    }
}

/// Tries each type in order; returns the coerced value or an inner message
/// (empty when the top-level value itself has the wrong type).
fn coerce(sp: &Spec, v: &Value, types: &[String], from_top: bool) -> Result<Value, String> {
    let mut last_inner = String::new();
    for t in types {
        match coerce_one(sp, v, t, from_top) {
            Ok(x) => return Ok(x),
            Err(e) => {
                if !e.is_empty() {
                    last_inner = e
                }
            }
        }
    }
    Err(last_inner)
}

fn coerce_one(sp: &Spec, v: &Value, t: &str, from_top: bool) -> Result<Value, String> {
    match t {
        "Integer" => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => Ok(Value::from(f as i64)),
                _ => Err(String::new()),
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| String::new()),
            _ => Err(String::new()),
        },
        "Float" => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                .ok_or_default(),
            _ => Err(String::new()),
        },
        "String" => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) if from_top => Ok(Value::String(b.to_string())),
            _ => Err(String::new()),
        },
        "Boolean" | "True" => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Value::Bool(true)),
                "false" | "0" => Ok(Value::Bool(false)),
                _ => Err(String::new()),
            },
            Value::Number(n) => Ok(Value::Bool(n.as_f64().unwrap_or(0.0) != 0.0)),
            _ => Err(String::new()),
        },
        // Telegram takes a String in place of a KeyboardButton ("keyboard":
        // [["Yes","No"]]), as most libraries and samples send it.
        "KeyboardButton" if v.is_string() && !from_top => Ok(serde_json::json!({ "text": v })),
        "InputFile" => match v {
            Value::String(_) => Ok(v.clone()),
            _ => Err(String::new()),
        },
        _ => {
            // JSON-serialized values: arrays and objects may arrive as strings.
            let parsed;
            let v = match v {
                Value::String(s) => {
                    parsed = serde_json::from_str::<Value>(s).map_err(|_| String::new())?;
                    &parsed
                }
                other => other,
            };
            if let Some(inner) = t.strip_prefix("Array of ") {
                let arr = v.as_array().ok_or_default()?;
                let mut out = Vec::with_capacity(arr.len());
                for item in arr {
                    out.push(coerce_one(sp, item, inner, false)?);
                }
                return Ok(Value::Array(out));
            }
            let obj = v.as_object().ok_or_default()?;
            match sp.types.get(t) {
                Some(td) if !td.subtypes.is_empty() => {
                    let mut last = String::new();
                    for st in &td.subtypes {
                        match coerce_one(sp, v, st, false) {
                            Ok(x) => return Ok(x),
                            Err(e) => last = e,
                        }
                    }
                    Err(last)
                }
                Some(td) => {
                    let mut out = obj.clone();
                    for f in &td.fields {
                        match obj.get(&f.name) {
                            None | Some(Value::Null) => {
                                if f.required {
                                    return Err(format!("field \"{}\" must be specified", f.name));
                                }
                            }
                            Some(x) => {
                                let c = coerce(sp, x, &f.types, false).map_err(|e| {
                                    if e.is_empty() {
                                        format!(
                                            "field \"{}\" must be of type {}",
                                            f.name,
                                            type_list(&f.types)
                                        )
                                    } else {
                                        e
                                    }
                                })?;
                                out.insert(f.name.clone(), c);
                            }
                        }
                    }
                    Ok(Value::Object(out))
                }
                None => Ok(v.clone()),
            }
        }
    }
}

trait OkOrDefault<T> {
    fn ok_or_default(self) -> Result<T, String>;
}
impl<T> OkOrDefault<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, String> {
        self.ok_or_else(String::new)
    }
}
