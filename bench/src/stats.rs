//! Latency summaries.

/// Percentiles of a sample set, in the sample unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// Nearest-rank percentiles; an empty set gives all zeros with `count == 0`.
    pub fn of(mut samples: Vec<u64>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let n = samples.len();
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            samples[i] as f64
        };
        Summary {
            count: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples[samples.len() - 1] as f64,
        }
    }

    /// The same summary with every figure divided by `d` (e.g. µs → ms).
    pub fn scaled(self, d: f64) -> Summary {
        Summary {
            count: self.count,
            p50: self.p50 / d,
            p99: self.p99 / d,
            max: self.max / d,
        }
    }
}

/// Latency measured from the server's `commit_timestamp` (wall clock, ms). Kept apart from
/// [`Summary`] because it can be negative: a server whose timestamps run ahead of real time
/// (e.g. forced strictly increasing at more than 1,000 writes/s) makes it meaningless, and the
/// report must say so instead of showing zeros.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CommitLatency {
    pub summary: Summary,
    /// How far the latest-running commit_timestamp was ahead of the receive time, ms (≤ 0 when
    /// every timestamp was in the past).
    pub max_ahead_ms: i64,
}

impl CommitLatency {
    /// Tolerance for the timestamps' ms truncation.
    pub const SLACK_MS: i64 = 2;

    pub fn of(samples: Vec<i64>) -> CommitLatency {
        let max_ahead_ms = samples.iter().map(|d| -d).max().unwrap_or(0);
        let clamped = samples
            .into_iter()
            .map(|d| u64::try_from(d).unwrap_or(0))
            .collect();
        CommitLatency {
            summary: Summary::of(clamped),
            max_ahead_ms,
        }
    }

    /// Whether the figures mean anything (no timestamp from the future).
    pub fn valid(&self) -> bool {
        self.max_ahead_ms <= Self::SLACK_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of((1..=100).collect());
        assert_eq!((s.count, s.p50, s.p99, s.max), (100, 50.0, 99.0, 100.0));
        let one = Summary::of(vec![7]);
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
        assert_eq!(Summary::of(vec![]).count, 0);
        assert_eq!(Summary::of(vec![1000, 3000]).scaled(1000.0).max, 3.0);
    }

    #[test]
    fn commit_latency_flags_timestamps_from_the_future() {
        let ok = CommitLatency::of(vec![0, 1, 5, -1]);
        assert!(ok.valid());
        assert_eq!(ok.summary.max, 5.0);
        let bad = CommitLatency::of(vec![3, -900, 0]);
        assert!(!bad.valid());
        assert_eq!(bad.max_ahead_ms, 900);
        assert!(CommitLatency::of(vec![]).valid());
    }
}
