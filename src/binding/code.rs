//! The secrets of a binding: the digit code typed by hand and the deep-link
//! payload, both drawn from the OS's cryptographic random generator, their
//! formats, and the hashes kept on disk instead of them.

use sha2::{Digest, Sha256};

/// The prefix that marks a `/start` payload as a binding attempt.
pub const PAYLOAD_PREFIX: &str = "bind-";
/// Random bytes in a payload (128 bits).
const PAYLOAD_BYTES: usize = 16;
/// Random digits in a code (10 digits, 33.2 bits), followed by two check digits.
const RANDOM_DIGITS: usize = 10;
/// Digits in a code, check digits included.
pub const CODE_DIGITS: usize = RANDOM_DIGITS + 2;

/// Fills `buf` from the OS's cryptographic random generator.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| format!("the system random generator failed: {e}"))
}

/// A new code: 10 random digits and 2 check digits (ISO 7064 MOD 97-10, as
/// in IBAN), as 12 digits without separators.
pub fn new_code() -> Result<String, String> {
    const SPACE: u64 = 10_000_000_000; // 10^10
    let zone = u64::MAX - u64::MAX % SPACE; // rejection sampling: no bias
    loop {
        let mut buf = [0u8; 8];
        random_bytes(&mut buf)?;
        let n = u64::from_le_bytes(buf);
        if n < zone {
            let body = n % SPACE;
            let check = 98 - (body * 100) % 97;
            return Ok(format!("{body:010}{check:02}"));
        }
    }
}

/// A new payload: the binding prefix and 128 random bits in base64url
/// (27 characters of `A-Za-z0-9_-`, within Telegram's 64).
pub fn new_payload() -> Result<String, String> {
    let mut buf = [0u8; PAYLOAD_BYTES];
    random_bytes(&mut buf)?;
    Ok(format!("{PAYLOAD_PREFIX}{}", base64url(&buf)))
}

/// A random identifier of a code record (64 bits, hex); not a secret.
pub fn new_id() -> Result<String, String> {
    let mut buf = [0u8; 8];
    random_bytes(&mut buf)?;
    Ok(hex(&buf))
}

/// The code as people read it: `1234-5678-9012`.
pub fn display(code: &str) -> String {
    let digits: Vec<&str> = (0..code.len())
        .step_by(4)
        .map(|i| &code[i..(i + 4).min(code.len())])
        .collect();
    digits.join("-")
}

/// Reads a message as a code: exactly 12 digits, spaces and dashes allowed
/// between them, whose check digits match. Order numbers, phone numbers and
/// dates rarely pass: about one 12-digit number in 97 does, nothing shorter
/// or longer does.
pub fn parse_code(text: &str) -> Option<String> {
    let text = text.trim();
    let mut digits = String::with_capacity(CODE_DIGITS);
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '\u{a0}' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' => {}
            _ => return None,
        }
    }
    if digits.len() != CODE_DIGITS || !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    (n % 97 == 1).then_some(digits)
}

/// Reads a `/start` payload with the binding prefix.
pub fn parse_payload(payload: &str) -> Option<&str> {
    let p = payload.trim();
    let ok = p.starts_with(PAYLOAD_PREFIX)
        && p.len() <= 64
        && p.len() > PAYLOAD_PREFIX.len()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(p)
}

/// The hash kept on disk for a code or a payload.
pub fn hash(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"telegram-addin binding v1\0");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// The code sealed with the payload, so that a redemption by link can name
/// the code while the disk holds nothing that reveals it without the link.
pub fn seal(code: &str, id: &str, payload: &str) -> String {
    let key = seal_key(id, payload);
    let bytes: Vec<u8> = code.bytes().zip(key.iter()).map(|(c, k)| c ^ k).collect();
    hex(&bytes)
}

/// Opens what [`seal`] made; `None` when it does not open to a valid code.
pub fn unseal(sealed: &str, id: &str, payload: &str) -> Option<String> {
    let key = seal_key(id, payload);
    let bytes = unhex(sealed)?;
    let code: String = bytes
        .iter()
        .zip(key.iter())
        .map(|(c, k)| char::from(c ^ k))
        .collect();
    parse_code(&code)
}

fn seal_key(id: &str, payload: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"telegram-addin binding seal\0");
    h.update(id.as_bytes());
    h.update(b"\0");
    h.update(payload.as_bytes());
    h.finalize().to_vec()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn base64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_check_digits_and_read_back_with_separators() {
        for _ in 0..200 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), 12);
            assert_eq!(parse_code(&code).as_deref(), Some(code.as_str()));
            let shown = display(&code);
            assert_eq!(shown.len(), 14);
            assert_eq!(parse_code(&shown).as_deref(), Some(code.as_str()));
            assert_eq!(
                parse_code(&format!(" {} ", shown.replace('-', " "))).as_deref(),
                Some(code.as_str())
            );
            // One wrong digit breaks the check.
            let mut wrong = code.clone().into_bytes();
            wrong[3] = if wrong[3] == b'9' { b'0' } else { wrong[3] + 1 };
            assert_eq!(parse_code(std::str::from_utf8(&wrong).unwrap()), None);
        }
    }

    #[test]
    fn ordinary_numbers_are_not_codes() {
        for text in [
            "12345",
            "Заказ 123456789012",
            "+7 912 345-67-89",
            "2024-01-15",
            "1234567890123",
            "-123456789012",
            "",
        ] {
            assert_eq!(parse_code(text), None, "{text}");
        }
        // About one 12-digit number in 97 passes the check.
        let passing = (0..97_000u64)
            .filter(|i| parse_code(&format!("{:012}", 100_000_000_000 + i * 7919)).is_some())
            .count();
        assert!((900..1100).contains(&passing), "{passing}");
    }

    #[test]
    fn payloads_fit_telegram_and_carry_128_bits() {
        let p = new_payload().unwrap();
        assert_eq!(p.len(), PAYLOAD_PREFIX.len() + 22);
        assert!(p.len() <= 64);
        assert_eq!(parse_payload(&p), Some(p.as_str()));
        assert_ne!(new_payload().unwrap(), p);
        assert_eq!(parse_payload("promo-spring"), None);
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn sealed_codes_open_with_the_payload_only() {
        let (code, payload) = (new_code().unwrap(), new_payload().unwrap());
        let sealed = seal(&code, "id1", &payload);
        assert!(!sealed.contains(&code));
        assert_eq!(unseal(&sealed, "id1", &payload), Some(code.clone()));
        assert_ne!(unseal(&sealed, "id1", "bind-other"), Some(code));
        assert_eq!(hash("a").len(), 64);
        assert_ne!(hash("a"), hash("b"));
    }
}
