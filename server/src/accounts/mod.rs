//! Users, passwords, auth sessions and tokens: the service behind `/auth/v1` (the router in
//! `auth/` only speaks HTTP). It sits below the routers, so application state can hold it.

pub mod error;
pub mod hash_gate;
pub mod limit;
mod limit_args;
pub mod password;
mod service;
pub mod store;
pub mod tokens;
mod validate;

use concierge_wire::AppRole;

use self::error::AuthApiError;
use self::store::StoreError;

pub use limit_args::{AuthLimitArgs, AuthLimits};
pub use service::AuthService;
pub use validate::{clean_name, normalize_email};

/// GoTrue's default minimum password length.
pub const MIN_PASSWORD_LEN: usize = 6;
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 3600;
/// Anonymous sign-ups per client address: the refill per hour and the burst. GoTrue allows 30
/// an hour per address; a lobby of kiosks behind one address, each making a new identity at
/// every idle reset, needs more, a script minting identities gets no further.
pub const DEFAULT_ANONYMOUS_SIGN_UPS_PER_HOUR: u32 = 360;
pub const DEFAULT_ANONYMOUS_SIGN_UP_BURST: u32 = 60;

/// DEMO ACCOUNTS, created by `--seed-demo` (documented, not secrets): two staff members and a
/// customer, so a demo can drive the banner from the staff console without any setup.
pub const DEMO_USERS: &[(&str, &str, AppRole, &str)] = &[
    (
        "staff@concierge.test",
        "concierge-staff",
        AppRole::Staff,
        "Priya Sharma",
    ),
    (
        "arjun@concierge.test",
        "concierge-staff",
        AppRole::Staff,
        "Arjun Mehta",
    ),
    (
        "guest@concierge.test",
        "concierge-guest",
        AppRole::Customer,
        "Demo Guest",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Hash(#[from] password::HashError),
    #[error("{0}")]
    Invalid(AuthApiError),
}
