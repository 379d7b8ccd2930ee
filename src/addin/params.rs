//! Turning what 1C passed into typed values, with errors that name the
//! parameter and the expected type.

use crate::ffi::Param;

use super::errors::{AddinError, Expected, Got, Invalid, Name};
use super::members::{MethodId, MethodSpec};

/// The largest integer an R8 holds exactly (2^53).
const EXACT_F64_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The parameters of one call, with the method's names for them.
pub struct Args<'s, 'p> {
    spec: &'s MethodSpec,
    args: &'s [Param<'p>],
}

impl<'s, 'p> Args<'s, 'p> {
    /// The parameters `args` of a call to `spec`.
    pub fn new(spec: &'s MethodSpec, args: &'s [Param<'p>]) -> Self {
        Args { spec, args }
    }

    /// The method called.
    pub fn id(&self) -> MethodId {
        self.spec.id
    }

    /// Parameter `i`; Undefined when it was left out: 1C passed fewer, or
    /// passed back an optional parameter's default (`Null`).
    pub fn get(&self, i: usize) -> Param<'p> {
        let optional = self.spec.params.get(i).is_some_and(|p| p.default.is_some());
        match self.args.get(i).copied() {
            None => Param::Empty,
            Some(Param::Null) if optional => Param::Empty,
            Some(param) => param,
        }
    }

    /// The English and Russian names of parameter `i`, for error texts.
    pub fn name(&self, i: usize) -> Name {
        self.spec
            .params
            .get(i)
            .map_or(Name { en: "?", ru: "?" }, |p| Name { en: p.en, ru: p.ru })
    }
}

/// The 1C type of a parameter, for messages.
pub fn got(param: &Param<'_>) -> Got {
    match param {
        Param::Empty => Got::Undefined,
        Param::Null => Got::Null,
        Param::Bool(_) => Got::Boolean,
        Param::I4(_) | Param::R8(_) => Got::Number,
        Param::Date(_) => Got::Date,
        Param::Str(_) => Got::String,
        Param::Blob(_) => Got::BinaryData,
        Param::Unsupported(vt) => Got::Other(*vt),
    }
}

fn wrong(name: Name, expected: Expected, param: &Param<'_>) -> AddinError {
    AddinError::WrongType {
        name,
        expected,
        got: got(param),
    }
}

/// Decodes 1C's UTF-16 exactly; refuses lone surrogates and NUL.
pub fn decode(name: Name, units: &[u16]) -> Result<String, AddinError> {
    if units.contains(&0) {
        return Err(AddinError::Invalid {
            name,
            why: Invalid::Nul,
        });
    }
    String::from_utf16(units).map_err(|_| AddinError::Invalid {
        name,
        why: Invalid::BrokenUnicode,
    })
}

/// A required string.
pub fn string(name: Name, param: &Param<'_>) -> Result<String, AddinError> {
    match param {
        Param::Str(units) => decode(name, units),
        other => Err(wrong(name, Expected::String, other)),
    }
}

/// An optional string: Undefined gives `None`.
pub fn opt_string(name: Name, param: &Param<'_>) -> Result<Option<String>, AddinError> {
    match param {
        Param::Empty => Ok(None),
        other => string(name, other).map(Some),
    }
}

/// An optional Boolean: Undefined gives `default`.
pub fn opt_bool(name: Name, param: &Param<'_>, default: bool) -> Result<bool, AddinError> {
    match param {
        Param::Empty => Ok(default),
        Param::Bool(b) => Ok(*b),
        other => Err(wrong(name, Expected::Boolean, other)),
    }
}

/// An optional whole number within `min..=max`: Undefined gives `default`.
pub fn opt_integer(
    name: Name,
    param: &Param<'_>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, AddinError> {
    match param {
        Param::Empty => Ok(default),
        other => integer(name, other, min, max),
    }
}

/// A whole number within `min..=max`, from I4 or an integral R8.
pub fn integer(name: Name, param: &Param<'_>, min: i64, max: i64) -> Result<i64, AddinError> {
    let range = || AddinError::Invalid {
        name,
        why: Invalid::Range { min, max },
    };
    let value = match param {
        Param::I4(v) => i64::from(*v),
        Param::R8(v) if v.fract() == 0.0 && v.abs() <= EXACT_F64_LIMIT => *v as i64,
        Param::R8(_) => return Err(range()),
        other => return Err(wrong(name, Expected::Number, other)),
    };
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(range())
    }
}

/// A chat id: a whole number (exact up to 2^53, as R8 carries it) or a
/// string (`@channel` or digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatId {
    Id(i64),
    Username(String),
}

/// Reads a chat id.
pub fn chat_id(name: Name, param: &Param<'_>) -> Result<ChatId, AddinError> {
    match param {
        Param::I4(_) | Param::R8(_) => {
            let limit = EXACT_F64_LIMIT as i64;
            integer(name, param, -limit, limit).map(ChatId::Id)
        }
        Param::Str(units) => {
            let text = decode(name, units)?;
            let text = text.trim();
            match text.parse::<i64>() {
                Ok(id) => Ok(ChatId::Id(id)),
                Err(_) if text.starts_with('@') && text.len() > 1 => {
                    Ok(ChatId::Username(text.to_owned()))
                }
                Err(_) => Err(AddinError::Invalid {
                    name,
                    why: Invalid::ChatId,
                }),
            }
        }
        other => Err(wrong(name, Expected::NumberOrString, other)),
    }
}

impl ChatId {
    /// The id as Telegram's JSON takes it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ChatId::Id(id) => serde_json::Value::from(*id),
            ChatId::Username(name) => serde_json::Value::from(name.as_str()),
        }
    }
}

/// Optional JSON options: Undefined or an empty string give an empty object.
pub fn options(
    name: Name,
    param: &Param<'_>,
) -> Result<serde_json::Map<String, serde_json::Value>, AddinError> {
    let text = opt_string(name, param)?.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(AddinError::Invalid {
            name,
            why: Invalid::JsonObject("not an object".into()),
        }),
        Err(e) => Err(AddinError::Invalid {
            name,
            why: Invalid::JsonObject(e.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Name = Name {
        en: "ChatId",
        ru: "ИдЧата",
    };

    #[test]
    fn chat_ids_stay_exact() {
        assert_eq!(
            chat_id(N, &Param::R8(-1001234567890.0)),
            Ok(ChatId::Id(-1001234567890))
        );
        assert_eq!(chat_id(N, &Param::I4(42)), Ok(ChatId::Id(42)));
        let s: Vec<u16> = "@news".encode_utf16().collect();
        assert_eq!(
            chat_id(N, &Param::Str(&s)),
            Ok(ChatId::Username("@news".into()))
        );
        assert!(chat_id(N, &Param::R8(1.5)).is_err());
        assert!(matches!(
            chat_id(N, &Param::Bool(true)),
            Err(AddinError::WrongType { .. })
        ));
    }

    #[test]
    fn strings_refuse_broken_unicode_and_nul() {
        assert!(matches!(
            string(N, &Param::Str(&[0xD800])),
            Err(AddinError::Invalid {
                why: Invalid::BrokenUnicode,
                ..
            })
        ));
        assert!(matches!(
            string(N, &Param::Str(&[0x41, 0])),
            Err(AddinError::Invalid {
                why: Invalid::Nul,
                ..
            })
        ));
        let emoji: Vec<u16> = "👨‍👩‍👧 🇷🇺 שלום".encode_utf16().collect();
        assert_eq!(string(N, &Param::Str(&emoji)).unwrap(), "👨‍👩‍👧 🇷🇺 שלום");
    }

    #[test]
    fn integers_check_range_and_type() {
        assert_eq!(integer(N, &Param::R8(30.0), 1, 100), Ok(30));
        assert!(integer(N, &Param::I4(0), 1, 100).is_err());
        assert!(integer(N, &Param::Str(&[0x31]), 1, 100).is_err());
    }
}
