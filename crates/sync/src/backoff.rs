//! Timers with a tries counter (phoenix.js `Timer`) and the backoff tables they use.

use crate::Millis;

/// realtime-js `reconnectAfterMs`: 1, 2, 5, 10 s, then 10 s.
pub const RECONNECT_STEPS_MS: [u64; 4] = [1_000, 2_000, 5_000, 10_000];
/// phoenix.js `rejoinAfterMs`: 1, 2, 5 s, then 10 s.
pub const REJOIN_STEPS_MS: [u64; 4] = [1_000, 2_000, 5_000, 10_000];

/// The delay for attempt `tries` (1-based); past the table's end the last step repeats.
pub fn step_delay(steps: &[u64], tries: u32) -> u64 {
    let i = (tries.max(1) - 1) as usize;
    steps
        .get(i)
        .or_else(|| steps.last())
        .copied()
        .unwrap_or(1_000)
}

/// A one-shot deadline plus the number of times it has been scheduled since the last reset,
/// so successive retries walk down a backoff table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timer {
    pub tries: u32,
    pub due: Option<Millis>,
}

impl Timer {
    /// Schedules the next attempt (replacing a pending one) and returns its deadline.
    pub fn schedule(&mut self, now: Millis, steps: &[u64], jitter: f64, rng: &mut Rng) -> Millis {
        self.tries = self.tries.saturating_add(1);
        let delay = rng.jitter(step_delay(steps, self.tries), jitter);
        self.set(now, delay)
    }

    /// [`Timer::schedule`] without jitter (phoenix.js rejoins channels on the exact table).
    pub fn schedule_exact(&mut self, now: Millis, steps: &[u64]) -> Millis {
        self.tries = self.tries.saturating_add(1);
        self.set(now, step_delay(steps, self.tries))
    }

    fn set(&mut self, now: Millis, delay: u64) -> Millis {
        let at = now.saturating_add(delay);
        self.due = Some(at);
        at
    }

    pub fn is_due(&self, now: Millis) -> bool {
        self.due.is_some_and(|d| d <= now)
    }

    pub fn cancel(&mut self) {
        self.due = None;
    }

    /// Forgets the failures: the next schedule uses the first step again.
    pub fn reset(&mut self) {
        self.tries = 0;
        self.due = None;
    }
}

/// SplitMix64: a tiny seeded generator so jitter is deterministic under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `delay` spread uniformly over `delay × [1 − jitter, 1 + jitter)`; so many kiosks
    /// restarted by one outage do not reconnect in lockstep.
    pub fn jitter(&mut self, delay: u64, jitter: f64) -> u64 {
        if jitter <= 0.0 {
            return delay;
        }
        let j = jitter.min(1.0);
        let f = 1.0 - j + 2.0 * j * self.next_f64();
        (delay as f64 * f).round().max(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_repeat_last_step() {
        let d: Vec<u64> = (1..=6)
            .map(|t| step_delay(&RECONNECT_STEPS_MS, t))
            .collect();
        assert_eq!(d, [1_000, 2_000, 5_000, 10_000, 10_000, 10_000]);
        let r: Vec<u64> = (1..=5).map(|t| step_delay(&REJOIN_STEPS_MS, t)).collect();
        assert_eq!(r, [1_000, 2_000, 5_000, 10_000, 10_000]);
    }

    #[test]
    fn jitter_stays_in_band_and_is_seeded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.jitter(10_000, 0.2);
            assert!((8_000..=12_000).contains(&x), "{x}");
            assert_eq!(x, b.jitter(10_000, 0.2));
        }
        assert_eq!(Rng::new(1).jitter(5_000, 0.0), 5_000);
    }

    #[test]
    fn timer_walks_the_table_and_resets() {
        let mut t = Timer::default();
        let mut rng = Rng::new(1);
        assert_eq!(t.schedule(100, &RECONNECT_STEPS_MS, 0.0, &mut rng), 1_100);
        assert_eq!(t.schedule(1_100, &RECONNECT_STEPS_MS, 0.0, &mut rng), 3_100);
        assert!(t.is_due(3_100) && !t.is_due(3_099));
        t.reset();
        assert_eq!(t.schedule(0, &RECONNECT_STEPS_MS, 0.0, &mut rng), 1_000);
        assert_eq!(t.schedule_exact(1_000, &REJOIN_STEPS_MS), 3_000);
        assert_eq!(t.tries, 2);
    }
}
