//! A socket's budget of Broadcast and Presence messages per second: a fixed one-second window,
//! which is all a per-socket flood guard needs.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Rate {
    per_sec: u32,
    /// When the current window began: at the first message after the previous one ended, so
    /// a burst always meets a whole second's budget.
    window: Option<Instant>,
    used: u32,
}

impl Rate {
    pub fn per_second(per_sec: u32) -> Rate {
        Rate {
            per_sec,
            window: None,
            used: 0,
        }
    }

    /// Counts one message at `now`; `false` when this second's budget is spent.
    pub fn allow(&mut self, now: Instant) -> bool {
        if self
            .window
            .is_none_or(|w| now.duration_since(w) >= Duration::from_secs(1))
        {
            self.window = Some(now);
            self.used = 0;
        }
        if self.used >= self.per_sec {
            return false;
        }
        self.used += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_budget_until_the_next_second() {
        let start = Instant::now();
        let mut r = Rate::per_second(3);
        assert!((0..3).all(|_| r.allow(start)));
        assert!(!r.allow(start + Duration::from_millis(999)));
        assert!(r.allow(start + Duration::from_secs(1)));
    }
}
