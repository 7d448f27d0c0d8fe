//! Keyed token buckets: the abuse limits on sign-ups and sign-ins, per client address (GoTrue's
//! `RATE_LIMIT_ANONYMOUS_USERS`, 30 an hour per IP by default there, and its sign-in limit) and
//! per account (failed passwords). Every kiosk makes a new identity at each idle reset, so a
//! lobby behind one address needs some headroom; a script minting identities does not get it.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered at most; beyond it, buckets that have refilled are forgotten first
/// (they are indistinguishable from new ones), so memory stays bounded under a spray of
/// addresses.
const MAX_ADDRESSES: usize = 10_000;

/// How many, how fast: a bucket holds `burst` tokens and refills `per_hour` an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_hour: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by client address (the default) or by any other key, e.g. an account.
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate: Rate) -> RateLimiter<K> {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this limit lets anything through at all (`per_hour = 0` switches it off).
    pub fn enabled(&self) -> bool {
        self.rate.per_hour > 0 && self.rate.burst > 0
    }

    fn per_sec(&self) -> f64 {
        f64::from(self.rate.per_hour) / 3600.0
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        let grown = now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec();
        (b.tokens + grown).min(f64::from(self.rate.burst))
    }

    /// Takes one token for `ip` (any key) at `now`, or says how long until one is there.
    pub fn take(&self, ip: K, now: Instant) -> Result<(), Duration> {
        if !self.enabled() {
            return Err(Duration::from_secs(3600));
        }
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still counts.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&ip) {
            let full = f64::from(self.rate.burst);
            buckets.retain(|_, b| self.refilled(*b, now) < full);
            if buckets.len() >= MAX_ADDRESSES {
                // Everyone is busy: refuse the newcomer rather than grow without bound.
                return Err(Duration::from_secs_f64(1.0 / self.per_sec()));
            }
        }
        let full = Bucket {
            tokens: f64::from(self.rate.burst),
            at: now,
        };
        let b = buckets.entry(ip).or_insert(full);
        let tokens = self.refilled(*b, now);
        if tokens >= 1.0 {
            *b = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec()))
        }
    }

    /// Gives back a token taken for `key` (a sign-in that turned out right does not count as
    /// a failed one). Taking first and giving back after keeps concurrent failures from all
    /// passing a check that only looked.
    pub fn refund(&self, key: &K, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            let tokens = (self.refilled(*b, now) + 1.0).min(f64::from(self.rate.burst));
            *b = Bucket { tokens, at: now };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_refill_rate_per_address() {
        let l: RateLimiter = RateLimiter::new(Rate {
            per_hour: 3600,
            burst: 3,
        });
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take(a, t0).is_ok());
        }
        let wait = l.take(a, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(l.take(b, t0).is_ok(), "another address has its own bucket");
        assert!(
            l.take(a, t0 + Duration::from_secs(1)).is_ok(),
            "one a second"
        );
        assert!(l.take(a, t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn zero_switches_it_off_and_memory_stays_bounded() {
        let off: RateLimiter = RateLimiter::new(Rate {
            per_hour: 0,
            burst: 30,
        });
        assert!(
            off.take("10.0.0.1".parse().unwrap(), Instant::now())
                .is_err()
        );
        let l: RateLimiter = RateLimiter::new(Rate {
            per_hour: 1,
            burst: 1,
        });
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            let _ = l.take(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(l.buckets.lock().unwrap().len() <= MAX_ADDRESSES);
    }

    #[test]
    fn a_refund_gives_one_back_up_to_the_burst() {
        let l: RateLimiter<String> = RateLimiter::new(Rate {
            per_hour: 1,
            burst: 2,
        });
        let (k, t0) = ("a@x.test".to_owned(), Instant::now());
        assert!(l.take(k.clone(), t0).is_ok());
        l.refund(&k, t0);
        l.refund(&k, t0);
        assert!(l.take(k.clone(), t0).is_ok());
        assert!(l.take(k.clone(), t0).is_ok());
        assert!(l.take(k, t0).is_err(), "never more than the burst");
    }
}
