//! The booking call's abuse limit (issue 17): `rpc/reserve` calls per client address and per
//! signed-in user in a fixed window. Each call takes the writer for a transaction and every
//! booking fans out to every kiosk, so an unlimited caller with the anon key could hold the
//! places of a whole event (or the writer) to itself.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::rate_window::Window;
use crate::rest_error::RestError;

/// Defaults: a guest books a few things per visit (a kiosk's anonymous sign-in is one user);
/// a lobby behind one address has tens of kiosks.
pub const DEFAULT_RESERVES_PER_USER_PER_MINUTE: u32 = 10;
pub const DEFAULT_RESERVES_PER_IP_PER_MINUTE: u32 = 120;

#[derive(Debug)]
pub struct ReserveLimits {
    per_ip: Window<IpAddr>,
    per_user: Window<String>,
}

impl ReserveLimits {
    /// 0 = no limit, for either.
    pub fn per_minute(per_user: u32, per_ip: u32) -> ReserveLimits {
        let minute = Duration::from_secs(60);
        ReserveLimits {
            per_ip: Window::new(per_ip, minute),
            per_user: Window::new(per_user, minute),
        }
    }

    /// One call from `ip` by `user` (a signed-in user's id, `None` for a bare key).
    pub fn check(&self, user: Option<&str>, ip: IpAddr) -> Result<(), TooManyBookings> {
        let now = Instant::now();
        self.per_ip
            .take(&ip, now)
            .map_err(|wait| TooManyBookings::new("client address", wait))?;
        match user {
            Some(u) => self
                .per_user
                .take(&u.to_owned(), now)
                .map_err(|wait| TooManyBookings::new("user", wait)),
            None => Ok(()),
        }
    }
}

impl Default for ReserveLimits {
    fn default() -> Self {
        ReserveLimits::per_minute(
            DEFAULT_RESERVES_PER_USER_PER_MINUTE,
            DEFAULT_RESERVES_PER_IP_PER_MINUTE,
        )
    }
}

/// A 429 in PostgREST's error shape, with `Retry-After` in whole seconds.
#[derive(Debug)]
pub struct TooManyBookings {
    per: &'static str,
    retry_after_secs: u64,
}

impl TooManyBookings {
    fn new(per: &'static str, wait: Duration) -> TooManyBookings {
        TooManyBookings {
            per,
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

impl IntoResponse for TooManyBookings {
    fn into_response(self) -> Response {
        let mut r = RestError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "PGRST429",
            format!("too many reservations from this {}", self.per),
        )
        .hint(format!("Retry after {} s.", self.retry_after_secs))
        .into_response();
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_and_per_address() {
        let l = ReserveLimits::per_minute(1, 3);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!(l.check(Some("u1"), ip).is_ok());
        assert!(l.check(Some("u1"), ip).is_err(), "the user's one is spent");
        assert!(l.check(None, ip).is_ok(), "the address had 3");
        assert!(l.check(None, ip).is_err());
        assert!(ReserveLimits::per_minute(0, 0).check(Some("u"), ip).is_ok());
    }
}
