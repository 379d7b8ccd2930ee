//! Binding a 1C contact to a Telegram user by a one-time code: the digits a
//! person types, a deep link `t.me/<bot>?start=bind-…`, or a QR code of it.
//!
//! It knows nothing of 1C: the add-in issues codes with [`issue`], hands
//! every incoming update to a [`Redeemer`], and reads the outcome from the
//! [`Store`], which lives in the state folder and is shared by the processes
//! of one machine.

mod code;
mod qr;
mod redeem;
mod store;

pub use code::{display, parse_code, parse_payload, CODE_DIGITS, PAYLOAD_PREFIX};
pub use qr::png as qr_png;
pub use redeem::{attempt_in, default_success, Attempt, Outcome, Redeemer, Replies, Reply, Sender};
pub use store::{
    now, Binding, CodeRecord, Ended, Store, KEEP_AFTER_EXPIRY_SECS, MAX_TRIES, TRY_WINDOW_SECS,
};

/// Default lifetime of a code, seconds (15 minutes).
pub const DEFAULT_TTL_SECS: i64 = 15 * 60;
/// Longest lifetime of a code, seconds (7 days).
pub const MAX_TTL_SECS: i64 = 7 * 24 * 3600;

/// A code just issued: the only time its secrets are known in clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The record's id (not a secret).
    pub id: String,
    /// 12 digits without separators.
    pub code: String,
    /// The `/start` payload.
    pub payload: String,
    pub subject: String,
    pub title: String,
    pub expires_at: i64,
}

/// Issues a code for `subject` (with `title` for the reply) that lives
/// `ttl_secs`, and saves its hashes in `store`.
pub fn issue(store: &Store, subject: &str, title: &str, ttl_secs: i64) -> Result<Issued, String> {
    let now = now();
    store.prune(now);
    let id = code::new_id()?;
    let mut digits = code::new_code()?;
    // Two live codes must never share digits (one chance in 10^10 per pair).
    while store.find_code(&digits).is_some() {
        digits = code::new_code()?;
    }
    let payload = code::new_payload()?;
    let record = CodeRecord {
        id: id.clone(),
        code_hash: code::hash(&digits),
        payload_hash: code::hash(&payload),
        sealed_code: code::seal(&digits, &id, &payload),
        subject: subject.to_owned(),
        title: title.to_owned(),
        created: now,
        expires_at: now + ttl_secs,
    };
    store
        .add(&record)
        .map_err(|e| format!("{}: {e}", store.dir().display()))?;
    Ok(Issued {
        id,
        code: digits,
        payload,
        subject: subject.to_owned(),
        title: title.to_owned(),
        expires_at: record.expires_at,
    })
}

/// What a code, a payload or a link names: `Some(attempt)` when it has the
/// shape of one.
pub fn read_secret(text: &str) -> Option<Attempt> {
    let text = text.trim();
    if let Some(code) = parse_code(text) {
        return Some(Attempt::Code(code));
    }
    let payload = text
        .rsplit_once("start=")
        .map_or(text, |(_, p)| p.split('&').next().unwrap_or(p));
    parse_payload(payload).map(|p| Attempt::Payload(p.to_owned()))
}

/// The record a code, payload or link names.
pub fn find(store: &Store, secret: &Attempt) -> Option<CodeRecord> {
    match secret {
        Attempt::Code(c) => store.find_code(c),
        Attempt::Payload(p) => store.find_payload(p),
    }
}

/// Cancels the code `secret` names: `Ok(true)` when it was live, `Ok(false)`
/// when it had already ended, `Err` when no such code is kept.
pub fn cancel(store: &Store, secret: &Attempt) -> Result<bool, CancelError> {
    let record = find(store, secret).ok_or(CancelError::Unknown)?;
    store
        .end(&record.id, &Ended::Cancelled { date: now() })
        .map_err(|e| CancelError::Io(e.to_string()))
}

/// The digits of `record`, opened with its payload.
pub fn unseal_code(record: &CodeRecord, payload: &str) -> Option<String> {
    code::unseal(&record.sealed_code, &record.id, payload)
}

/// Why a code could not be cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelError {
    Unknown,
    Io(String),
}
