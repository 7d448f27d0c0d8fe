//! The sign-in and sign-up abuse limits and their flags (each with a `CONCIERGE_…` twin).

use clap::Args;

use super::hash_gate::HashGate;
use super::limit::{Rate, RateLimiter};
use super::store::RotationPolicy;

/// Password sign-ins and email sign-ups per client address: the refill per hour and the burst.
/// GoTrue allows 30 per 5 minutes per address; a hotel's guests behind one Wi-Fi address, and
/// the test suites, need more; a password-spraying script gets no further.
pub const DEFAULT_SIGN_INS_PER_HOUR: u32 = 600;
pub const DEFAULT_SIGN_IN_BURST: u32 = 100;
/// Failed sign-ins per account (keyed by the normalized email, whether or not it exists, so
/// the answer says nothing about which accounts exist).
pub const DEFAULT_FAILED_SIGN_INS_PER_HOUR: u32 = 60;
pub const DEFAULT_FAILED_SIGN_IN_BURST: u32 = 10;
/// Argon2id costs about 19 MiB a hash: 4 at once bound that to under 100 MiB.
pub const DEFAULT_HASH_WORKERS: usize = 4;
/// Sign-ins waiting for a hashing worker; a waiting request holds only its small body.
pub const DEFAULT_HASH_QUEUE: usize = 32;

/// An unused refresh token lives 30 days (each refresh starts a new one).
pub const DEFAULT_REFRESH_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;
/// GoTrue's `GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL` default.
pub const DEFAULT_REFRESH_TOKEN_REUSE_INTERVAL_SECS: u64 = 10;

#[derive(Debug, Clone, Args)]
pub struct AuthLimitArgs {
    /// Password sign-ins and email sign-ups per client address and hour, refilled continuously.
    #[arg(long, env = "CONCIERGE_SIGN_INS_PER_HOUR", default_value_t = DEFAULT_SIGN_INS_PER_HOUR, global = true)]
    pub sign_ins_per_hour: u32,
    /// How many of them one client address may make at once before the hourly rate applies.
    #[arg(long, env = "CONCIERGE_SIGN_IN_BURST", default_value_t = DEFAULT_SIGN_IN_BURST, global = true)]
    pub sign_in_burst: u32,
    /// Failed password sign-ins per account and hour, refilled continuously.
    #[arg(long, env = "CONCIERGE_FAILED_SIGN_INS_PER_HOUR", default_value_t = DEFAULT_FAILED_SIGN_INS_PER_HOUR, global = true)]
    pub failed_sign_ins_per_hour: u32,
    /// How many failed sign-ins one account may take at once before the hourly rate applies.
    #[arg(long, env = "CONCIERGE_FAILED_SIGN_IN_BURST", default_value_t = DEFAULT_FAILED_SIGN_IN_BURST, global = true)]
    pub failed_sign_in_burst: u32,
    /// Password hashes (sign-up) and verifications (sign-in) running at once.
    #[arg(long, env = "CONCIERGE_HASH_WORKERS", default_value_t = DEFAULT_HASH_WORKERS, global = true)]
    pub hash_workers: usize,
    /// Sign-ins and sign-ups waiting for a hashing worker; beyond it `429`.
    #[arg(long, env = "CONCIERGE_HASH_QUEUE", default_value_t = DEFAULT_HASH_QUEUE, global = true)]
    pub hash_queue: usize,
    /// Lifetime of an unused refresh token (seconds); a refresh past it gets `session_expired`.
    #[arg(long, env = "CONCIERGE_REFRESH_TOKEN_TTL_SECS", default_value_t = DEFAULT_REFRESH_TOKEN_TTL_SECS, global = true)]
    pub refresh_token_ttl_secs: u64,
    /// A rotated refresh token presented again within this many seconds gets the same
    /// successor; later, it revokes the whole chain (a stolen token replayed).
    #[arg(long, env = "CONCIERGE_REFRESH_TOKEN_REUSE_INTERVAL_SECS", default_value_t = DEFAULT_REFRESH_TOKEN_REUSE_INTERVAL_SECS, global = true)]
    pub refresh_token_reuse_interval_secs: u64,
}

impl Default for AuthLimitArgs {
    fn default() -> Self {
        AuthLimitArgs {
            sign_ins_per_hour: DEFAULT_SIGN_INS_PER_HOUR,
            sign_in_burst: DEFAULT_SIGN_IN_BURST,
            failed_sign_ins_per_hour: DEFAULT_FAILED_SIGN_INS_PER_HOUR,
            failed_sign_in_burst: DEFAULT_FAILED_SIGN_IN_BURST,
            hash_workers: DEFAULT_HASH_WORKERS,
            hash_queue: DEFAULT_HASH_QUEUE,
            refresh_token_ttl_secs: DEFAULT_REFRESH_TOKEN_TTL_SECS,
            refresh_token_reuse_interval_secs: DEFAULT_REFRESH_TOKEN_REUSE_INTERVAL_SECS,
        }
    }
}

/// The limiters these flags configure, shared by every clone of the auth service.
#[derive(Debug)]
pub struct AuthLimits {
    pub by_address: RateLimiter,
    pub by_account: RateLimiter<String>,
    pub hashing: HashGate,
    pub rotation: RotationPolicy,
}

impl AuthLimitArgs {
    pub fn limits(&self) -> AuthLimits {
        AuthLimits {
            by_address: RateLimiter::new(Rate {
                per_hour: self.sign_ins_per_hour,
                burst: self.sign_in_burst,
            }),
            by_account: RateLimiter::new(Rate {
                per_hour: self.failed_sign_ins_per_hour,
                burst: self.failed_sign_in_burst,
            }),
            hashing: HashGate::new(self.hash_workers, self.hash_queue),
            rotation: RotationPolicy {
                reuse_interval_ms: ms(self.refresh_token_reuse_interval_secs),
                lifetime_ms: ms(self.refresh_token_ttl_secs.max(1)),
            },
        }
    }
}

fn ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}
