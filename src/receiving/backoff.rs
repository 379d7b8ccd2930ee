//! Exponential backoff with jitter and a cap.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub cap: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

/// Delays that double after each failure, from `initial` up to `cap`, each
/// drawn at random from its upper half (so pollers do not retry in step).
pub struct Backoff {
    config: BackoffConfig,
    next: Duration,
    seed: u64,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(config: BackoffConfig) -> Backoff {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Backoff {
            config,
            next: config.initial,
            seed: nanos | 1,
        }
    }

    /// After a success: start again from `initial`.
    pub fn reset(&mut self) {
        self.next = self.config.initial;
    }

    /// The delay before the next attempt.
    pub fn delay(&mut self) -> Duration {
        let full = self.next.min(self.config.cap);
        self.next = (self.next * 2).min(self.config.cap);
        // xorshift64: enough randomness for jitter.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let fraction = (self.seed % 1000) as f64 / 1000.0;
        full.mul_f64(0.5 + fraction / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter() {
        let mut b = Backoff::new(BackoffConfig {
            initial: Duration::from_millis(100),
            cap: Duration::from_millis(400),
        });
        let d: Vec<Duration> = (0..5).map(|_| b.delay()).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100));
        assert!(d[1] >= Duration::from_millis(100) && d[1] <= Duration::from_millis(200));
        assert!(d[4] >= Duration::from_millis(200) && d[4] <= Duration::from_millis(400));
        b.reset();
        assert!(b.delay() <= Duration::from_millis(100));
    }
}
