//! When a failed request is repeated, and after how long.
//!
//! The rule that matters: a request that may have reached Telegram is never
//! blindly sent again, because for a send method that would deliver the
//! message twice. So:
//! - 429 waits `retry_after` and repeats (Telegram did not act on it);
//! - a connection that failed before the request was written is repeated
//!   for every method;
//! - 5xx answers and failures after the request may have been written are
//!   repeated only for reads (`get…` methods and file downloads);
//! - `migrate_to_chat_id` is followed once, whatever `MaxRetries` says.

use std::time::Duration;

use super::error::Error;

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait, then send the same request again.
    Retry(Duration),
    /// Send again to this chat id (the group became a supergroup).
    Migrate(i64),
    /// Give the error to the caller.
    Fail,
}

/// The facts about one failed attempt.
pub(crate) struct Attempt<'a> {
    /// The error of the attempt.
    pub error: &'a Error,
    /// Whether the request may have reached the server.
    pub maybe_sent: bool,
    /// Whether repeating it cannot change anything twice.
    pub idempotent: bool,
    /// Retries made so far.
    pub retries: u32,
    /// `MaxRetries`.
    pub max_retries: u32,
    /// Whether a migration was already followed, or the request has no `chat_id`.
    pub migration_done: bool,
    /// The longest `retry_after` we agree to wait (the request timeout).
    pub max_wait: Duration,
}

/// The method name under which file downloads are logged and reported.
pub const DOWNLOAD: &str = "file download";

/// Whether a request only reads (a `get…` method or a file download): it
/// changes nothing, so repeating it delivers nothing twice.
pub fn is_read(method: &str) -> bool {
    method == DOWNLOAD || is_idempotent(method)
}

/// A read, which can be repeated safely.
pub(crate) fn is_idempotent(method: &str) -> bool {
    method.len() > 3 && method[..3].eq_ignore_ascii_case("get")
}

/// Backoff before retry number `n` (0-based): 0.25 s, 0.5 s, 1 s, … up to 4 s.
pub(crate) fn backoff(n: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << n.min(4)))
}

/// Decides what follows a failed attempt.
pub(crate) fn decide(a: &Attempt<'_>) -> Next {
    if let Error::Api {
        code: 400,
        parameters,
        ..
    } = a.error
    {
        if let (Some(to), false) = (parameters.migrate_to_chat_id, a.migration_done) {
            return Next::Migrate(to);
        }
    }
    if a.retries >= a.max_retries {
        return Next::Fail;
    }
    match a.error {
        Error::Api {
            code: 429,
            parameters,
            ..
        } => {
            let wait = Duration::from_secs(parameters.retry_after.unwrap_or(1));
            if wait <= a.max_wait {
                Next::Retry(wait)
            } else {
                Next::Fail
            }
        }
        Error::Api { code, .. } if *code >= 500 && a.idempotent => Next::Retry(backoff(a.retries)),
        Error::BadResponse { status, .. } if *status >= 500 && a.idempotent => {
            Next::Retry(backoff(a.retries))
        }
        Error::Connect { .. }
        | Error::Timeout { .. }
        | Error::Interrupted { .. }
        | Error::BadResponse { status: 0, .. }
            if !a.maybe_sent || a.idempotent =>
        {
            Next::Retry(backoff(a.retries))
        }
        _ => Next::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ResponseParameters;
    use super::*;

    fn api(code: i64, parameters: ResponseParameters) -> Error {
        Error::Api {
            method: "sendMessage".into(),
            code,
            description: String::new(),
            parameters,
        }
    }

    fn attempt(error: &Error, maybe_sent: bool, idempotent: bool, retries: u32) -> Attempt<'_> {
        Attempt {
            error,
            maybe_sent,
            idempotent,
            retries,
            max_retries: 3,
            migration_done: false,
            max_wait: Duration::from_secs(30),
        }
    }

    #[test]
    fn rate_limits_wait_retry_after_within_the_budget() {
        let e = api(
            429,
            ResponseParameters {
                retry_after: Some(2),
                ..Default::default()
            },
        );
        assert_eq!(
            decide(&attempt(&e, true, false, 0)),
            Next::Retry(Duration::from_secs(2))
        );
        assert_eq!(decide(&attempt(&e, true, false, 3)), Next::Fail);
        let long = api(
            429,
            ResponseParameters {
                retry_after: Some(300),
                ..Default::default()
            },
        );
        assert_eq!(decide(&attempt(&long, true, false, 0)), Next::Fail);
    }

    #[test]
    fn sends_are_not_repeated_once_they_may_have_arrived() {
        let e5 = api(500, Default::default());
        assert_eq!(decide(&attempt(&e5, true, false, 0)), Next::Fail);
        assert_eq!(
            decide(&attempt(&e5, true, true, 0)),
            Next::Retry(backoff(0))
        );
        let reset = Error::Connect {
            host: "h".into(),
            detail: "reset".into(),
        };
        assert_eq!(decide(&attempt(&reset, true, false, 0)), Next::Fail);
        assert_eq!(
            decide(&attempt(&reset, false, false, 1)),
            Next::Retry(backoff(1))
        );
    }

    #[test]
    fn migration_is_followed_once_even_without_retries() {
        let e = api(
            400,
            ResponseParameters {
                migrate_to_chat_id: Some(-1001),
                ..Default::default()
            },
        );
        let mut a = attempt(&e, true, false, 0);
        a.max_retries = 0;
        assert_eq!(decide(&a), Next::Migrate(-1001));
        a.migration_done = true;
        assert_eq!(decide(&a), Next::Fail);
    }

    #[test]
    fn reads_are_idempotent() {
        assert!(is_idempotent("getMe") && is_idempotent("GETFILE"));
        assert!(!is_idempotent("sendMessage") && !is_idempotent("get"));
    }
}
