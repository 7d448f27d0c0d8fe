//! The engine's configuration: every interval and timeout, so tests run the same code fast.
//!
//! The settings an operator may change come from `/config.json` ([`AppConfig`]), whose
//! defaults are written once, in `concierge-wire`; the rest are protocol constants (phoenix.js
//! and realtime-js values) written once, here.

use concierge_wire::config::AppConfig;
use concierge_wire::phoenix::Vsn;

use crate::backoff::{RECONNECT_STEPS_MS, REJOIN_STEPS_MS};
use crate::channel::ChannelConfig;
use crate::poller::Poller;
use crate::socket::Socket;

/// Every interval and timeout of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// `false`: polling only, no socket (the rollback switch).
    pub realtime_enabled: bool,
    pub vsn: Vsn,
    pub heartbeat_ms: u64,
    pub poll_base_ms: u64,
    pub poll_max_ms: u64,
    pub poll_factor: f64,
    /// Join / push timeout (phoenix `DEFAULT_TIMEOUT`).
    pub push_timeout_ms: u64,
    /// How long after an ok join reply, without the `system` confirmation, the channel is
    /// taken as subscribed anyway.
    pub subscribe_grace_ms: u64,
    /// A REST request unanswered for this long is aborted and counted as failed.
    pub fetch_timeout_ms: u64,
    pub reconnect_steps_ms: Vec<u64>,
    pub rejoin_steps_ms: Vec<u64>,
    /// Reconnect delays are spread over `delay × [1 − jitter, 1 + jitter)`.
    pub reconnect_jitter: f64,
}

impl Default for EngineConfig {
    /// The defaults of `/config.json`, and the protocol constants.
    fn default() -> Self {
        EngineConfig::from_app(&AppConfig::default())
    }
}

impl EngineConfig {
    /// The engine settings from `/config.json`; the rest are the protocol constants.
    pub fn from_app(c: &AppConfig) -> EngineConfig {
        EngineConfig {
            realtime_enabled: c.realtime_enabled,
            vsn: c.realtime_vsn,
            heartbeat_ms: c.heartbeat_ms,
            poll_base_ms: c.poll_base_ms,
            poll_max_ms: c.poll_max_ms,
            poll_factor: c.poll_factor,
            push_timeout_ms: 10_000,
            subscribe_grace_ms: 3_000,
            fetch_timeout_ms: 10_000,
            reconnect_steps_ms: RECONNECT_STEPS_MS.to_vec(),
            rejoin_steps_ms: REJOIN_STEPS_MS.to_vec(),
            reconnect_jitter: 0.2,
        }
    }

    /// The page's socket, to `url`.
    pub(crate) fn socket(&self, url: String) -> Socket {
        Socket::new(
            url,
            self.vsn,
            self.heartbeat_ms,
            self.reconnect_steps_ms.clone(),
            self.reconnect_jitter,
        )
    }

    /// A fresh poller for one live query.
    pub(crate) fn poller(&self) -> Poller {
        Poller::new(self.poll_base_ms, self.poll_max_ms, self.poll_factor)
            .with_fetch_timeout(self.fetch_timeout_ms)
    }

    /// The timings every channel is created with.
    pub(crate) fn channel(&self) -> ChannelConfig {
        ChannelConfig {
            push_timeout_ms: self.push_timeout_ms,
            subscribe_grace_ms: self.subscribe_grace_ms,
            rejoin_steps_ms: self.rejoin_steps_ms.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_app_config() {
        let app = AppConfig::default();
        let c = EngineConfig::default();
        assert_eq!(c.poll_base_ms, app.poll_base_ms);
        assert_eq!(c.heartbeat_ms, app.heartbeat_ms);
        assert_eq!(c.vsn, Vsn::V2);
        let v1 = EngineConfig::from_app(&AppConfig {
            realtime_vsn: Vsn::V1,
            ..AppConfig::default()
        });
        assert_eq!(v1.vsn, Vsn::V1);
    }
}
