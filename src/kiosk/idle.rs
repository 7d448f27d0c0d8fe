//! The kiosk's idle reset, as a pure state machine on an injected clock.
//!
//! A guest walks away mid-browse; the next guest must not find their results. After
//! `timeout_ms` without a touch the screen shows a countdown of `warning_ms` (WCAG 2.2.1: warn,
//! and let a simple action extend — here any touch), then the kiosk resets to the attract screen
//! with a new session. The guest thus gets `timeout_ms` of quiet plus `warning_ms` of warning.
//!
//! On the attract screen the machine is [`IdlePhase::Dormant`]: there is nothing to reset.
//! [`use_idle_reset`] runs it in the page: it feeds it presence and ticks, and exposes the
//! phase for the countdown to render.

use std::time::Duration;

use leptos::prelude::*;

use crate::clock::now_monotonic;

/// Milliseconds on the page's monotonic clock (`performance.now()` in the browser).
pub type Millis = f64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IdlePhase {
    /// Attract screen: no guest, no countdown.
    Dormant,
    /// A guest is (or recently was) here.
    Active,
    /// The countdown is showing; `remaining_ms` until the reset.
    Warning { remaining_ms: Millis },
    /// Time is up: reset now.
    Expired,
}

impl IdlePhase {
    /// Whole seconds left to show in the countdown (never 0 while still warning).
    pub fn seconds_left(self) -> Option<u64> {
        match self {
            IdlePhase::Warning { remaining_ms } => {
                Some((remaining_ms / 1000.0).ceil().max(1.0) as u64)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdleClock {
    timeout_ms: Millis,
    warning_ms: Millis,
    /// `None` while dormant.
    last_activity: Option<Millis>,
}

impl IdleClock {
    pub fn new(timeout_ms: u64, warning_ms: u64) -> IdleClock {
        IdleClock {
            timeout_ms: timeout_ms as Millis,
            warning_ms: warning_ms as Millis,
            last_activity: None,
        }
    }

    /// A touch, key press or an arriving result: the guest is here. Wakes a dormant clock.
    pub fn activity(&mut self, now: Millis) {
        self.last_activity = Some(now);
    }

    /// Back to the attract screen: stop counting until the next guest.
    pub fn sleep(&mut self) {
        self.last_activity = None;
    }

    pub fn phase(&self, now: Millis) -> IdlePhase {
        let Some(last) = self.last_activity else {
            return IdlePhase::Dormant;
        };
        // A clock that went backwards (it should not, `performance.now()` is monotonic) is
        // treated as fresh activity rather than an instant reset.
        let quiet = (now - last).max(0.0);
        if quiet < self.timeout_ms {
            IdlePhase::Active
        } else if quiet < self.timeout_ms + self.warning_ms {
            IdlePhase::Warning {
                remaining_ms: self.timeout_ms + self.warning_ms - quiet,
            }
        } else {
            IdlePhase::Expired
        }
    }
}

/// One guest's idle clock, running in the page (see [`use_idle_reset`]).
#[derive(Clone, Copy)]
pub struct IdleReset {
    clock: StoredValue<IdleClock>,
    phase: RwSignal<IdlePhase>,
}

impl IdleReset {
    /// The guest is here (a touch, a key, an arriving result): wakes a dormant clock and
    /// cancels a countdown.
    pub fn activity(&self) {
        self.clock.update_value(|c| c.activity(now_monotonic()));
        self.refresh();
    }

    pub fn phase(&self) -> Signal<IdlePhase> {
        self.phase.into()
    }

    /// Re-reads the clock; the signal changes only when the phase does.
    fn refresh(&self) -> IdlePhase {
        let p = self.clock.with_value(|c| c.phase(now_monotonic()));
        if self.phase.get_untracked() != p {
            self.phase.set(p);
        }
        p
    }
}

/// Runs the idle reset for as long as the calling owner (one guest) lives: any touch, click,
/// key or scroll counts as presence while `awake` (on the attract screen there is nothing to
/// keep alive); a 250 ms tick moves the phase on, and when time is up the clock sleeps and
/// `on_reset` runs.
pub fn use_idle_reset(
    timeout_ms: u64,
    warning_ms: u64,
    awake: Signal<bool>,
    on_reset: Callback<()>,
) -> IdleReset {
    let idle = IdleReset {
        clock: StoredValue::new(IdleClock::new(timeout_ms, warning_ms)),
        phase: RwSignal::new(IdlePhase::Dormant),
    };
    let on_presence = move || {
        if awake.get_untracked() {
            idle.activity();
        }
    };
    let listeners = [
        window_event_listener(leptos::ev::pointerdown, move |_| on_presence()),
        window_event_listener(leptos::ev::keydown, move |_| on_presence()),
        window_event_listener(leptos::ev::wheel, move |_| on_presence()),
        window_event_listener(leptos::ev::touchstart, move |_| on_presence()),
    ];
    on_cleanup(move || {
        for l in listeners {
            l.remove();
        }
    });
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if idle.refresh() == IdlePhase::Expired {
                idle.clock.update_value(IdleClock::sleep);
                on_reset.run(());
            }
        },
        Duration::from_millis(250),
    ) {
        on_cleanup(move || handle.clear());
    }
    idle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dormant_until_a_guest_arrives() {
        let c = IdleClock::new(90_000, 20_000);
        assert_eq!(c.phase(1e9), IdlePhase::Dormant);
    }

    #[test]
    fn quiet_then_warning_then_expired() {
        let mut c = IdleClock::new(90_000, 20_000);
        c.activity(1_000.0);
        assert_eq!(c.phase(1_000.0), IdlePhase::Active);
        assert_eq!(c.phase(90_999.0), IdlePhase::Active);
        assert_eq!(
            c.phase(91_000.0),
            IdlePhase::Warning {
                remaining_ms: 20_000.0
            }
        );
        assert_eq!(c.phase(91_000.0).seconds_left(), Some(20));
        assert_eq!(c.phase(91_001.0).seconds_left(), Some(20));
        assert_eq!(c.phase(110_999.0).seconds_left(), Some(1));
        assert_eq!(c.phase(111_000.0), IdlePhase::Expired);
    }

    #[test]
    fn a_touch_during_the_warning_cancels_it() {
        let mut c = IdleClock::new(90_000, 20_000);
        c.activity(0.0);
        assert!(matches!(c.phase(100_000.0), IdlePhase::Warning { .. }));
        c.activity(100_000.0);
        assert_eq!(c.phase(100_000.0), IdlePhase::Active);
        assert_eq!(c.phase(189_999.0), IdlePhase::Active);
    }

    #[test]
    fn sleep_returns_to_dormant() {
        let mut c = IdleClock::new(1_000, 500);
        c.activity(0.0);
        c.sleep();
        assert_eq!(c.phase(10_000.0), IdlePhase::Dormant);
    }

    #[test]
    fn a_clock_going_backwards_is_not_a_reset() {
        let mut c = IdleClock::new(1_000, 500);
        c.activity(5_000.0);
        assert_eq!(c.phase(4_000.0), IdlePhase::Active);
    }
}
