//! Values as the 1C platform passes them to an add-in and reads them back.

use crate::ffi::SimValue;

/// `tVariant::vt` codes (types.h of the Native API).
pub mod vt {
    pub const EMPTY: u16 = 0;
    pub const NULL: u16 = 1;
    pub const I2: u16 = 2;
    pub const I4: u16 = 3;
    pub const R4: u16 = 4;
    pub const R8: u16 = 5;
    pub const DATE: u16 = 6;
    pub const TM: u16 = 7;
    pub const PSTR: u16 = 8;
    pub const INTERFACE: u16 = 9;
    pub const ERROR: u16 = 10;
    pub const BOOL: u16 = 11;
    pub const VARIANT: u16 = 12;
    pub const I1: u16 = 13;
    pub const UI1: u16 = 14;
    pub const UI2: u16 = 15;
    pub const UI4: u16 = 16;
    pub const I8: u16 = 17;
    pub const UI8: u16 = 18;
    pub const INT: u16 = 19;
    pub const UINT: u16 = 20;
    pub const HRESULT: u16 = 21;
    pub const PWSTR: u16 = 22;
    pub const BLOB: u16 = 23;
    pub const CLSID: u16 = 24;
    pub const VECTOR: u16 = 0x1000;
    pub const ARRAY: u16 = 0x2000;
    pub const BYREF: u16 = 0x4000;
    pub const ILLEGAL: u16 = 0xFFFF;
}

/// A calendar date and time as 1C's `Дата` (no time zone), passed as `VTYPE_TM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl DateTime {
    pub fn new(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Self {
        DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    fn days_from_civil(&self) -> i64 {
        let y = self.year as i64 - if self.month <= 2 { 1 } else { 0 };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    /// `struct tm` fields in order sec, min, hour, mday, mon, year, wday, yday, isdst.
    pub(crate) fn to_tm(self) -> [i32; 9] {
        let days = self.days_from_civil();
        let wday = (days + 4).rem_euclid(7) as i32; // 1970-01-01 was a Thursday
        let jan1 = DateTime::new(self.year, 1, 1, 0, 0, 0).days_from_civil();
        [
            self.second as i32,
            self.minute as i32,
            self.hour as i32,
            self.day as i32,
            self.month as i32 - 1,
            self.year - 1900,
            wday,
            (days - jan1) as i32,
            0,
        ]
    }

    pub(crate) fn from_tm(tm: &[i32; 9]) -> Self {
        DateTime {
            year: tm[5] + 1900,
            month: (tm[4] + 1).max(0) as u32,
            day: tm[3].max(0) as u32,
            hour: tm[2].max(0) as u32,
            minute: tm[1].max(0) as u32,
            second: tm[0].max(0) as u32,
        }
    }
}

/// A value crossing the add-in boundary, typed as the platform types it.
///
/// Going in (parameters, property values) the platform chooses the variant type from
/// the 1C value: `Строка` → `Str` (VTYPE_PWSTR with wstrLen), `Число` → [`Value::number`]
/// (VTYPE_I4 when integral and in i32 range, otherwise VTYPE_R8), `Булево` → `Bool`,
/// `Дата` → `Date` (VTYPE_TM), `ДвоичныеДанные` → `Blob` (VTYPE_BLOB), `Неопределено` →
/// `Empty`. `Raw` sends any `vt` with the given first 8 bytes of the union, for robustness
/// tests (e.g. `0x1234`, VTYPE_I8, VTYPE_ARRAY flags).
///
/// Coming back, VTYPE_EMPTY/NULL/I4/R8/BOOL/PWSTR/BLOB/TM map to the variants of the same
/// name (PSTR also becomes `Str`); every other `vt` comes back as `Raw`, see
/// [`Value::as_f64`] to read the numeric ones as 1C would.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Empty,
    Null,
    Bool(bool),
    I4(i32),
    R8(f64),
    Str(String),
    /// A string given as raw UTF-16 code units: 1C strings may hold what UTF-8
    /// cannot, such as a lone surrogate. Passed as VTYPE_PWSTR like `Str`.
    Utf16(Vec<u16>),
    Blob(Vec<u8>),
    Date(DateTime),
    Raw {
        vt: u16,
        bytes: [u8; 8],
    },
}

impl Value {
    /// A 1C `Число`: I4 when it is an integer within i32, otherwise R8.
    pub fn number(n: f64) -> Value {
        if n.fract() == 0.0 && n >= i32::MIN as f64 && n <= i32::MAX as f64 {
            Value::I4(n as i32)
        } else {
            Value::R8(n)
        }
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A raw VTYPE_I8 variant (1C itself never sends one).
    pub fn i8(n: i64) -> Value {
        Value::Raw {
            vt: vt::I8,
            bytes: n.to_le_bytes(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_blob(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a 1C number: I4, R8, and the raw integer/float types
    /// (I1, I2, UI1, UI2, UI4, I8, UI8, INT, UINT, ERROR, R4) that the platform converts.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::I4(n) => Some(*n as f64),
            Value::R8(f) => Some(*f),
            Value::Raw { vt: t, bytes } => {
                let b = *bytes;
                Some(match *t {
                    vt::I1 => b[0] as i8 as f64,
                    vt::UI1 => b[0] as f64,
                    vt::I2 => i16::from_le_bytes([b[0], b[1]]) as f64,
                    vt::UI2 => u16::from_le_bytes([b[0], b[1]]) as f64,
                    vt::I4 | vt::INT | vt::ERROR => {
                        i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64
                    }
                    vt::UI4 | vt::UINT => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    vt::I8 => i64::from_le_bytes(b) as f64,
                    vt::UI8 => u64::from_le_bytes(b) as f64,
                    vt::R4 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    _ => return None,
                })
            }
            _ => None,
        }
    }

    /// The value as an i64 when it is an integral number.
    pub fn as_i64(&self) -> Option<i64> {
        let f = self.as_f64()?;
        if f.fract() == 0.0 {
            Some(f as i64)
        } else {
            None
        }
    }

    /// The `vt` the platform uses for this value.
    pub fn vt(&self) -> u16 {
        match self {
            Value::Empty => vt::EMPTY,
            Value::Null => vt::NULL,
            Value::Bool(_) => vt::BOOL,
            Value::I4(_) => vt::I4,
            Value::R8(_) => vt::R8,
            Value::Str(_) | Value::Utf16(_) => vt::PWSTR,
            Value::Blob(_) => vt::BLOB,
            Value::Date(_) => vt::TM,
            Value::Raw { vt, .. } => *vt,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Empty => write!(f, "Неопределено"),
            Value::Null => write!(f, "NULL"),
            Value::Bool(b) => write!(f, "{}", if *b { "Истина" } else { "Ложь" }),
            Value::I4(n) => write!(f, "{n}"),
            Value::R8(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Utf16(units) => write!(f, "utf16{units:04x?}"),
            Value::Blob(b) => write!(f, "ДвоичныеДанные({} bytes)", b.len()),
            Value::Date(d) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year, d.month, d.day, d.hour, d.minute, d.second
            ),
            Value::Raw { vt, bytes } => write!(f, "Raw(vt={vt:#x}, {bytes:02x?})"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::I4(n)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::number(n as f64)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Blob(b)
    }
}

/// Host-owned memory behind the variants passed in; lives for the duration of a call.
#[derive(Default)]
pub(crate) struct Arena {
    wide: Vec<Vec<u16>>,
    bytes: Vec<Vec<u8>>,
}

impl Arena {
    /// Builds the variant the platform would pass for `v`. Strings are NUL-terminated
    /// and carry their length (in UTF-16 units) in wstrLen.
    pub(crate) fn variant_for(&mut self, v: &Value) -> SimValue {
        let mut s = SimValue {
            vt: v.vt(),
            ..Default::default()
        };
        match v {
            Value::Empty | Value::Null => {}
            Value::Bool(b) => s.i = *b as i64,
            Value::I4(n) => s.i = *n as i64,
            Value::R8(f) => s.f = *f,
            Value::Str(_) | Value::Utf16(_) => {
                let mut w: Vec<u16> = match v {
                    Value::Utf16(units) => units.clone(),
                    _ => v.as_str().unwrap_or_default().encode_utf16().collect(),
                };
                s.len = w.len() as u32;
                w.push(0);
                s.ptr = w.as_ptr().cast();
                self.wide.push(w);
            }
            Value::Blob(b) => {
                // Never hand out a dangling pointer, even for an empty blob.
                let mut copy = b.clone();
                copy.reserve(1);
                s.len = b.len() as u32;
                s.ptr = copy.as_ptr().cast();
                self.bytes.push(copy);
            }
            Value::Date(d) => s.tm = d.to_tm(),
            Value::Raw { bytes, .. } => s.raw = *bytes,
        }
        s
    }
}

/// Reads a variant the add-in filled. Strings and blobs are copied; the caller then
/// releases the add-in's memory (see `owned_pointer`).
///
/// `String::from_utf16_lossy` with runs of ASCII copied as bytes (the
/// platform converts strings natively; char-by-char decoding would make the
/// simulator's own share of a call larger than the platform's).
fn utf16_to_string(units: &[u16]) -> String {
    let mut bytes = Vec::with_capacity(units.len());
    let mut rest = units;
    while !rest.is_empty() {
        let ascii = rest.iter().take_while(|&&u| u < 0x80).count();
        bytes.extend(rest[..ascii].iter().map(|&u| u as u8));
        rest = &rest[ascii..];
        let other = rest.iter().take_while(|&&u| u >= 0x80).count();
        let mut buf = [0u8; 4];
        for c in char::decode_utf16(rest[..other].iter().copied()) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        rest = &rest[other..];
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod utf16_tests {
    #[test]
    fn matches_the_standard_lossy_decoder() {
        let mut samples: Vec<Vec<u16>> = ["", "ascii", "Привет, мир", "😀 a б"]
            .iter()
            .map(|s| s.encode_utf16().collect())
            .collect();
        samples.push(vec![0x41, 0xD800, 0x42, 0xDC00]);
        samples.push(vec![0xD83D]);
        for units in samples {
            assert_eq!(
                super::utf16_to_string(&units),
                String::from_utf16_lossy(&units)
            );
        }
    }
}

/// # Safety
/// For PWSTR/PSTR/BLOB, `s.ptr` must be null or valid for `s.len` units.
pub(crate) unsafe fn from_sim(s: &SimValue) -> Value {
    match s.vt {
        vt::EMPTY => Value::Empty,
        vt::NULL => Value::Null,
        vt::I4 => Value::I4(s.i as i32),
        vt::R8 => Value::R8(s.f),
        vt::BOOL => Value::Bool(s.i != 0),
        vt::PWSTR => {
            if s.ptr.is_null() {
                Value::Str(String::new())
            } else {
                let units = std::slice::from_raw_parts(s.ptr as *const u16, s.len as usize);
                Value::Str(utf16_to_string(units))
            }
        }
        vt::PSTR => {
            if s.ptr.is_null() {
                Value::Str(String::new())
            } else {
                let b = std::slice::from_raw_parts(s.ptr as *const u8, s.len as usize);
                Value::Str(String::from_utf8_lossy(b).into_owned())
            }
        }
        vt::BLOB => {
            if s.ptr.is_null() {
                Value::Blob(Vec::new())
            } else {
                Value::Blob(std::slice::from_raw_parts(s.ptr as *const u8, s.len as usize).to_vec())
            }
        }
        vt::TM => Value::Date(DateTime::from_tm(&s.tm)),
        other => Value::Raw {
            vt: other,
            bytes: s.raw,
        },
    }
}

/// The memory block the platform must release after reading `s` (PWSTR/PSTR/BLOB).
pub(crate) fn owned_pointer(s: &SimValue) -> Option<*const std::ffi::c_void> {
    match s.vt {
        vt::PWSTR | vt::PSTR | vt::BLOB if !s.ptr.is_null() => Some(s.ptr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_picks_i4_or_r8() {
        assert_eq!(Value::number(42.0), Value::I4(42));
        assert_eq!(Value::number(-2147483648.0), Value::I4(i32::MIN));
        assert_eq!(Value::number(2147483648.0), Value::R8(2147483648.0));
        assert_eq!(Value::number(1.5), Value::R8(1.5));
        assert_eq!(
            Value::number(4503599627370495.0),
            Value::R8(4503599627370495.0)
        );
    }

    #[test]
    fn tm_fields() {
        let d = DateTime::new(2024, 3, 1, 12, 30, 5);
        let tm = d.to_tm();
        assert_eq!(tm, [5, 30, 12, 1, 2, 124, 5, 60, 0]); // Friday, day 60 of a leap year
        assert_eq!(DateTime::from_tm(&tm), d);
        assert_eq!(DateTime::new(1970, 1, 1, 0, 0, 0).to_tm()[6], 4);
    }
}
