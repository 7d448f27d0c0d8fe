//! The fallback poller of one live query: when to fetch, when to skip, how the interval moves.
//!
//! The schedule is a single repeating tick. The interval starts at `base`, grows ×`factor` after
//! every tick whose fetch found no change or failed (capped at `max`) and returns to `base` on a
//! change. Each due tick **stays scheduled but skips its fetch** while realtime is confirmed
//! for this query, while the page is hidden, or while a fetch is already in flight (never two
//! requests for one query). A *resync* — the first load, realtime lost, realtime (re)confirmed,
//! page visible again, browser back online, an explicit refresh — fetches at once and restarts
//! the curve from `base`; if a fetch is in flight, the resync is queued behind it because the
//! running request may have started before the event that demanded fresh data.
//!
//! A request unanswered for the fetch timeout is given up ([`Poller::timed_out`]) so one that
//! never answers cannot stall the schedule.

use crate::Millis;
use crate::spec::FetchId;

/// Why a fetch was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchReason {
    /// The first load of the query.
    Initial,
    /// A regular poller tick with realtime down.
    Tick,
    /// Realtime stopped delivering for this query: catch up now.
    RealtimeLost,
    /// Realtime became (or was re-)confirmed; it does not replay what was missed.
    Subscribed,
    /// The page became visible (or was restored from the bfcache).
    Visible,
    /// The browser reported `online`.
    Online,
    /// The view asked for it.
    Refresh,
}

/// Conditions under which a due tick must not fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gate {
    pub hidden: bool,
    pub realtime_live: bool,
}

/// The fetch in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    pub id: FetchId,
    pub reason: FetchReason,
    /// The store's event sequence when the request started (the store's `mark`).
    pub mark: u64,
    pub started_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Poller {
    base: f64,
    max: f64,
    factor: f64,
    interval: f64,
    /// `None`: requests are never given up (the engine always sets one).
    fetch_timeout_ms: Option<u64>,
    next_tick: Option<Millis>,
    in_flight: Option<InFlight>,
    queued: Option<FetchReason>,
    pub polls_made: u64,
    pub polls_skipped: u64,
    /// The last fetch's error, cleared by the next success.
    pub last_error: Option<String>,
}

impl Poller {
    pub fn new(base_ms: u64, max_ms: u64, factor: f64) -> Poller {
        let base = base_ms.max(1) as f64;
        let max = (max_ms as f64).max(base);
        let factor = if factor.is_finite() && factor >= 1.0 {
            factor
        } else {
            1.5
        };
        Poller {
            base,
            max,
            factor,
            interval: base,
            fetch_timeout_ms: None,
            next_tick: None,
            in_flight: None,
            queued: None,
            polls_made: 0,
            polls_skipped: 0,
            last_error: None,
        }
    }

    /// Gives up a request unanswered for `ms` (see [`Poller::timed_out`]).
    pub fn with_fetch_timeout(mut self, ms: u64) -> Poller {
        self.fetch_timeout_ms = Some(ms);
        self
    }

    /// The current interval in whole milliseconds.
    pub fn interval_ms(&self) -> u64 {
        self.interval.round() as u64
    }

    pub fn next_tick(&self) -> Option<Millis> {
        self.next_tick
    }

    pub fn in_flight(&self) -> Option<InFlight> {
        self.in_flight
    }

    /// When the fetch in flight times out.
    fn fetch_deadline(&self) -> Option<Millis> {
        let f = self.in_flight?;
        Some(f.started_at + self.fetch_timeout_ms?)
    }

    /// The earliest moment this poller needs a tick: its next tick or its fetch's timeout.
    pub fn deadline(&self) -> Option<Millis> {
        [self.next_tick, self.fetch_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The fetch in flight if it has run past the timeout: the caller aborts it and reports it
    /// failed through [`Poller::finished`].
    pub fn timed_out(&self, now: Millis) -> Option<InFlight> {
        self.fetch_deadline()
            .filter(|d| now >= *d)
            .and(self.in_flight)
    }

    /// A fetch is wanted now for `reason`. Returns true when the caller should start it
    /// ([`Poller::started`]); false when one is in flight (it is then queued) or the page is
    /// hidden (the visible-again resync will cover it).
    pub fn resync(&mut self, now: Millis, reason: FetchReason, hidden: bool) -> bool {
        self.interval = self.base;
        if hidden {
            // Keep ticking (skipping) so the schedule exists when the page returns.
            self.next_tick.get_or_insert(now + self.interval_ms());
            return false;
        }
        if self.in_flight.is_some() {
            self.queued = Some(reason);
            return false;
        }
        true
    }

    /// Handles the tick if due; returns `Some(Tick)` when the caller should fetch.
    pub fn tick(&mut self, now: Millis, gate: Gate) -> Option<FetchReason> {
        let due = self.next_tick?;
        if due > now {
            return None;
        }
        // Stay scheduled whatever happens to this tick.
        self.next_tick = Some(now + self.interval_ms());
        if gate.hidden || gate.realtime_live || self.in_flight.is_some() {
            self.polls_skipped += 1;
            return None;
        }
        Some(FetchReason::Tick)
    }

    /// Records that the caller started a fetch.
    pub fn started(&mut self, now: Millis, id: FetchId, reason: FetchReason, mark: u64) {
        self.polls_made += 1;
        self.in_flight = Some(InFlight {
            id,
            reason,
            mark,
            started_at: now,
        });
        // No tick fires during the request: the next one is scheduled from its answer.
        self.next_tick = None;
    }

    /// Records a fetch's outcome. `Ok(changed)` or `Err(message)`. Returns the in-flight
    /// record when `id` was the fetch in flight (otherwise it is a late answer: ignored) and,
    /// if a resync was queued meanwhile, its reason (the caller should fetch again at once).
    pub fn finished(
        &mut self,
        now: Millis,
        id: FetchId,
        outcome: Result<bool, String>,
    ) -> Option<(InFlight, Option<FetchReason>)> {
        let f = self.in_flight.filter(|f| f.id == id)?;
        self.in_flight = None;
        let grow = match &outcome {
            Err(_) => true,
            // A regular tick's answer drives the curve; a resync already restarted it, and
            // its first answer decides nothing about how quiet the data is.
            Ok(changed) => f.reason == FetchReason::Tick && !changed,
        };
        self.interval = if grow {
            (self.interval * self.factor).min(self.max)
        } else {
            self.base
        };
        self.last_error = outcome.err();
        self.next_tick = Some(now + self.interval_ms());
        Some((f, self.queued.take()))
    }

    /// Forgets the fetch in flight (the view went away); returns it so it can be aborted.
    pub fn cancel(&mut self) -> Option<InFlight> {
        self.queued = None;
        self.next_tick = None;
        self.in_flight.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(p: &mut Poller, now: Millis, id: u64, r: Result<bool, String>) {
        assert!(p.finished(now, FetchId(id), r).is_some());
    }

    #[test]
    fn curve_grows_caps_and_resets() {
        let mut p = Poller::new(10_000, 30_000, 1.5);
        assert!(p.resync(0, FetchReason::Initial, false));
        p.started(0, FetchId(1), FetchReason::Initial, 0);
        finish(&mut p, 0, 1, Ok(true));
        let mut t = 0;
        let mut waits = vec![];
        for i in 2..8 {
            let due = p.next_tick().unwrap();
            waits.push(due - t);
            t = due;
            assert_eq!(p.tick(t, Gate::default()), Some(FetchReason::Tick));
            p.started(t, FetchId(i), FetchReason::Tick, 0);
            finish(&mut p, t, i, Ok(i == 6));
        }
        assert_eq!(waits, [10_000, 15_000, 22_500, 30_000, 30_000, 10_000]);
        assert!(p.interval_ms() <= 30_000);
    }

    #[test]
    fn failures_back_off_and_are_reported() {
        let mut p = Poller::new(10_000, 30_000, 1.5);
        p.started(0, FetchId(1), FetchReason::Tick, 0);
        finish(&mut p, 0, 1, Err("boom".into()));
        assert_eq!(p.interval_ms(), 15_000);
        assert_eq!(p.last_error.as_deref(), Some("boom"));
        p.started(15_000, FetchId(2), FetchReason::Tick, 0);
        finish(&mut p, 15_000, 2, Ok(false));
        assert_eq!(p.last_error, None);
    }

    #[test]
    fn dedupe_and_queue_behind_in_flight() {
        let mut p = Poller::new(1_000, 3_000, 1.5);
        p.started(0, FetchId(1), FetchReason::Initial, 0);
        assert!(
            !p.resync(10, FetchReason::Subscribed, false),
            "queued, not concurrent"
        );
        assert!(
            p.finished(20, FetchId(99), Ok(true)).is_none(),
            "late answers ignored"
        );
        let (f, queued) = p.finished(20, FetchId(1), Ok(true)).unwrap();
        assert_eq!(f.reason, FetchReason::Initial);
        assert_eq!(queued, Some(FetchReason::Subscribed));
    }

    #[test]
    fn a_request_times_out_only_with_a_timeout() {
        let mut p = Poller::new(1_000, 3_000, 1.5);
        p.started(100, FetchId(1), FetchReason::Initial, 0);
        assert_eq!(p.deadline(), None);
        assert_eq!(p.timed_out(1_000_000), None);
        let mut p = p.with_fetch_timeout(500);
        assert_eq!(p.deadline(), Some(600));
        assert_eq!(p.timed_out(599), None);
        assert_eq!(p.timed_out(600).map(|f| f.id), Some(FetchId(1)));
        finish(&mut p, 600, 1, Err("request timed out".into()));
        assert_eq!(p.deadline(), Some(600 + 1_500));
    }
}
