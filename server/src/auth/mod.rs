//! `/auth/v1`: the GoTrue subset the official supabase-js auth client needs.
//!
//! - `POST /signup` `{email, password, data?: {name}}` → a session (emails are auto-confirmed,
//!   as on a local Supabase). Everyone who signs up is a **customer**; staff are made with
//!   `concierge-server add-staff` (or the `--seed-demo` accounts).
//! - `POST /signup` with neither email nor password (supabase-js `signInAnonymously()`) → an
//!   anonymous user (`is_anonymous: true`): a **kiosk** identity. Rate-limited per client
//!   address ([`limit`]); `429 over_request_rate_limit` beyond it.
//! - `POST /signup` with neither email nor password (supabase-js `signInAnonymously()`) → an
//!   anonymous user (`is_anonymous: true`): a **kiosk** identity. Rate-limited per client
//!   address (`accounts::limit`); `429 over_request_rate_limit` beyond it.
//! - `POST /token?grant_type=password` `{email, password}` → a session.
//! - `POST /token?grant_type=refresh_token` `{refresh_token}` → a new session; the presented
//!   token is revoked (rotation), and presenting a revoked token again revokes its whole chain.
//! - `POST /logout?scope=global|local|others` (Bearer) → 204, refresh tokens revoked.
//! - `GET /user` (Bearer) → the user.
//!
//! Every request needs a valid API key in `apikey` (as the Supabase gateway demands).

mod routes;

pub use crate::accounts::{
    AuthService, AuthSetupError, DEFAULT_ACCESS_TOKEN_TTL_SECS, DEMO_USERS, MIN_PASSWORD_LEN,
    error, normalize_email, password, store, tokens,
};
pub use routes::router;
