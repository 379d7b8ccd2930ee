//! Telegram's rate limits as one pacer per bot: an overall rate (30/s, or
//! 1000/s for paid broadcasts), one per chat (1/s with short bursts) and one
//! per group (20/min), plus a pause that a 429 imposes on every sender.
//!
//! Each limit is a GCRA ("virtual scheduling") cell: a request may go when
//! the cell's theoretical arrival time is at most `burst - 1` intervals
//! ahead of now; taking it moves that time one interval on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// The limits of one bot, per second unless named otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Messages per second overall (Telegram: about 30).
    pub per_second: f64,
    /// Overall messages per second with `allow_paid_broadcast` (Telegram: 1000).
    pub paid_per_second: f64,
    /// Messages per second to one private chat (Telegram: about 1).
    pub per_chat_per_second: f64,
    /// Messages to one chat that may go at once before pacing starts.
    pub per_chat_burst: f64,
    /// Messages per minute to one group or channel (Telegram: 20).
    pub group_per_minute: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_second: 30.0,
            paid_per_second: 1000.0,
            per_chat_per_second: 1.0,
            per_chat_burst: 3.0,
            group_per_minute: 20.0,
        }
    }
}

impl Limits {
    /// These limits with the fields of a JSON object
    /// (`per_second`, `paid_per_second`, `per_chat_per_second`,
    /// `per_chat_burst`, `group_per_minute`) put over them. Unknown fields
    /// and values that are not positive numbers are errors.
    pub fn with_json(mut self, value: &Json) -> Result<Limits, String> {
        let Json::Object(map) = value else {
            return Err("\"limits\" must be a JSON object".into());
        };
        for (key, v) in map {
            let n = v
                .as_f64()
                .filter(|n| *n > 0.0 && n.is_finite())
                .ok_or_else(|| format!("\"limits\".\"{key}\" must be a positive number"))?;
            match key.as_str() {
                "per_second" => self.per_second = n,
                "paid_per_second" => self.paid_per_second = n,
                "per_chat_per_second" => self.per_chat_per_second = n,
                "per_chat_burst" => self.per_chat_burst = n.max(1.0),
                "group_per_minute" => self.group_per_minute = n,
                other => return Err(format!(
                    "\"limits\".\"{other}\" is unknown; use per_second, paid_per_second, per_chat_per_second, per_chat_burst or group_per_minute"
                )),
            }
        }
        Ok(self)
    }
}

/// One GCRA cell.
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// When the next request would go if all went at the exact rate.
    tat: Instant,
}

impl Cell {
    /// How long to wait before a request may go at `interval` with `burst`.
    fn wait(&self, now: Instant, interval: Duration, burst: f64) -> Duration {
        let tolerance = interval.mul_f64((burst - 1.0).max(0.0));
        self.tat.saturating_duration_since(now + tolerance)
    }

    fn take(&mut self, now: Instant, interval: Duration) {
        self.tat = self.tat.max(now) + interval;
    }
}

struct State {
    limits: Limits,
    overall: Cell,
    paid: Cell,
    chats: HashMap<String, Cell>,
    paused_until: Option<Instant>,
}

/// The pacer of one bot, shared by every sender of it in the process.
pub struct Limiter {
    state: Mutex<State>,
}

/// Overall requests that may go together: 2 lets a request that woke late
/// take its slot without pushing every later one back.
const OVERALL_BURST: f64 = 2.0;

fn interval(per_second: f64) -> Duration {
    Duration::from_secs_f64(1.0 / per_second.max(1e-6))
}

/// Whether a chat id names a group, supergroup or channel (negative ids and
/// `@channel` usernames).
pub fn is_group(chat: &Json) -> bool {
    match chat {
        Json::Number(n) => n.as_i64().is_some_and(|id| id < 0),
        Json::String(s) => s.starts_with('@') || s.trim().starts_with('-'),
        _ => false,
    }
}

/// The interval of one chat's limit.
fn chat_interval(l: &Limits, chat: &Json) -> Duration {
    if is_group(chat) {
        interval(l.group_per_minute / 60.0)
    } else {
        interval(l.per_chat_per_second)
    }
}

/// The key of a chat id in the per-chat table.
pub(crate) fn chat_key(chat: &Json) -> String {
    match chat {
        Json::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    }
}

impl Limiter {
    /// A pacer with `limits`.
    pub fn new(limits: Limits) -> Limiter {
        let now = Instant::now();
        Limiter {
            state: Mutex::new(State {
                limits,
                overall: Cell { tat: now },
                paid: Cell { tat: now },
                chats: HashMap::new(),
                paused_until: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Replaces the limits (pacing already granted stays).
    pub fn set_limits(&self, limits: Limits) {
        self.lock().limits = limits;
    }

    /// Takes a slot for one message to `chat` (no chat: only the overall
    /// limit), or says how long to wait before asking again.
    pub fn try_acquire(&self, chat: Option<&Json>, paid: bool) -> Result<(), Duration> {
        let now = Instant::now();
        let mut st = self.lock();
        if let Some(until) = st.paused_until {
            if until > now {
                return Err(until - now);
            }
            st.paused_until = None;
        }
        let l = st.limits;
        let (overall_interval, overall) = if paid {
            (interval(l.paid_per_second), st.paid)
        } else {
            (interval(l.per_second), st.overall)
        };
        let mut wait = overall.wait(now, overall_interval, OVERALL_BURST);
        let chat_rule = chat.map(|c| (chat_key(c), chat_interval(&l, c)));
        if let Some((key, rule)) = &chat_rule {
            if let Some(cell) = st.chats.get(key) {
                wait = wait.max(cell.wait(now, *rule, l.per_chat_burst));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        if paid {
            st.paid.take(now, overall_interval);
        } else {
            st.overall.take(now, overall_interval);
        }
        if let Some((key, rule)) = chat_rule {
            if st.chats.len() > 100_000 {
                st.chats.retain(|_, c| c.tat > now);
            }
            st.chats
                .entry(key)
                .or_insert(Cell { tat: now })
                .take(now, rule);
        }
        Ok(())
    }

    /// Tells that the request to `chat` (the only one in flight to it) got
    /// its answer at `at`. A request reaches Telegram some time between
    /// being sent and answered; counting it as arrived at the answer keeps
    /// the next one to the chat far enough from it, whatever the jitter.
    pub fn settle(&self, chat: &Json, at: Instant) {
        let mut st = self.lock();
        let rule = chat_interval(&st.limits, chat);
        if let Some(cell) = st.chats.get_mut(&chat_key(chat)) {
            cell.tat = cell.tat.max(at + rule);
        }
    }

    /// Pauses every sender of the bot for `wait` (a 429's `retry_after`).
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut st = self.lock();
        st.paused_until = Some(st.paused_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fast() -> Limits {
        Limits {
            per_second: 10.0,
            ..Limits::default()
        }
    }

    #[test]
    fn overall_rate_paces_with_a_burst_of_two() {
        let l = Limiter::new(fast());
        assert!(l.try_acquire(Some(&json!(1)), false).is_ok());
        assert!(l.try_acquire(Some(&json!(9)), false).is_ok());
        let wait = l.try_acquire(Some(&json!(2)), false).unwrap_err();
        assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // A paid broadcast has its own, higher overall rate.
        assert!(l.try_acquire(Some(&json!(3)), true).is_ok());
    }

    #[test]
    fn one_chat_gets_a_short_burst_then_one_a_second() {
        let l = Limiter::new(Limits {
            per_second: 1e6,
            ..Limits::default()
        });
        for _ in 0..3 {
            assert!(l.try_acquire(Some(&json!(7)), false).is_ok());
        }
        let wait = l.try_acquire(Some(&json!(7)), false).unwrap_err();
        assert!(wait > Duration::from_millis(900), "{wait:?}");
        assert!(l.try_acquire(Some(&json!(8)), false).is_ok());
        // An answer that came late pushes the chat's next slot after it.
        l.settle(&json!(8), Instant::now() + Duration::from_secs(5));
        for _ in 0..2 {
            let _ = l.try_acquire(Some(&json!(8)), false);
        }
        let wait = l.try_acquire(Some(&json!(8)), false).unwrap_err();
        assert!(wait > Duration::from_secs(3), "{wait:?}");
    }

    #[test]
    fn groups_get_twenty_a_minute() {
        let l = Limiter::new(Limits {
            per_second: 1e6,
            per_chat_burst: 1.0,
            ..Limits::default()
        });
        assert!(l.try_acquire(Some(&json!(-100)), false).is_ok());
        let wait = l.try_acquire(Some(&json!(-100)), false).unwrap_err();
        assert!(wait > Duration::from_millis(2900), "{wait:?}");
        assert!(is_group(&json!("@news")) && !is_group(&json!(5)));
    }

    #[test]
    fn a_pause_stops_everyone() {
        let l = Limiter::new(Limits::default());
        l.pause(Duration::from_secs(2));
        let wait = l.try_acquire(None, true).unwrap_err();
        assert!(wait > Duration::from_millis(1900));
    }

    #[test]
    fn limits_from_json() {
        let l = Limits::default()
            .with_json(&json!({"per_second": 5, "group_per_minute": 10}))
            .unwrap();
        assert_eq!((l.per_second, l.group_per_minute), (5.0, 10.0));
        assert!(Limits::default().with_json(&json!({"x": 1})).is_err());
        assert!(Limits::default()
            .with_json(&json!({"per_second": 0}))
            .is_err());
    }
}
