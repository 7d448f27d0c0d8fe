//! A signed-in session: GoTrue's answer parsed into what the app keeps, and kept in
//! `localStorage` so it survives a reload and is shared by the tabs of one browser.

use concierge_wire::AppRole;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::http::HttpError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub role: AppRole,
    pub name: Option<String>,
}

/// A signed-in session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Lifetime the server gave the access token (seconds), to place the refresh.
    pub expires_in: i64,
    pub user: AuthUser,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn missing(what: &str) -> HttpError {
    HttpError::Malformed(format!("no {what}"))
}

/// GoTrue's session body → our stored session. `now` (Unix seconds) places `expires_at` when
/// the server leaves it out.
pub fn parse_session(v: &Value, now: i64) -> Result<AuthSession, HttpError> {
    let user = v.get("user").ok_or_else(|| missing("user"))?;
    // Only the server can set `app_metadata.role`; anything but staff is a customer.
    let role = user
        .get("app_metadata")
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        .and_then(AppRole::parse)
        .unwrap_or(AppRole::Customer);
    let expires_in = v.get("expires_in").and_then(Value::as_i64).unwrap_or(3600);
    Ok(AuthSession {
        access_token: text(v, "access_token").ok_or_else(|| missing("access_token"))?,
        refresh_token: text(v, "refresh_token").ok_or_else(|| missing("refresh_token"))?,
        expires_at: v
            .get("expires_at")
            .and_then(Value::as_i64)
            .unwrap_or(now + expires_in),
        expires_in,
        user: AuthUser {
            id: text(user, "id").unwrap_or_default(),
            email: text(user, "email").unwrap_or_default(),
            role,
            name: user.get("user_metadata").and_then(|m| text(m, "name")),
        },
    })
}

/// Seconds before expiry at which to refresh: a third of the lifetime, at most a minute, plus
/// up to two seconds of per-tab jitter (`jitter` in 0..1) so tabs sharing a session do not all
/// refresh at once.
pub fn refresh_margin(s: &AuthSession, jitter: f64) -> f64 {
    let base = (s.expires_in as f64 / 3.0).clamp(1.0, 60.0);
    base + jitter * base.min(2.0)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

pub fn load(key: &str) -> Option<AuthSession> {
    let text = storage()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

pub fn store(key: &str, s: Option<&AuthSession>) {
    let Some(st) = storage() else { return };
    let _ = match s.and_then(|s| serde_json::to_string(s).ok()) {
        Some(text) => st.set_item(key, &text),
        None => st.remove_item(key),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_sessions() {
        let v = json!({"access_token": "a", "refresh_token": "r", "expires_in": 60, "expires_at": 100,
            "token_type": "bearer",
            "user": {"id": "u", "email": "e@x.test", "app_metadata": {"role": "staff"}, "user_metadata": {"name": "P"}}});
        let s = parse_session(&v, 0).unwrap();
        assert_eq!(
            (s.expires_at, s.expires_in, s.user.role),
            (100, 60, AppRole::Staff)
        );
        assert_eq!(s.user.name.as_deref(), Some("P"));
        assert!(parse_session(&json!({"user": {}}), 0).is_err());
    }

    #[test]
    fn a_missing_expiry_counts_from_now_and_an_unknown_role_is_a_customer() {
        let v = json!({"access_token": "a", "refresh_token": "r", "expires_in": 60,
            "user": {"id": "u", "app_metadata": {"role": "service_role"}}});
        let s = parse_session(&v, 1_000).unwrap();
        assert_eq!((s.expires_at, s.user.role), (1_060, AppRole::Customer));
    }

    #[test]
    fn stored_sessions_keep_their_text_form() {
        let v = json!({"access_token": "a", "refresh_token": "r", "expires_in": 60, "expires_at": 100,
            "user": {"id": "u", "email": "e", "app_metadata": {"role": "customer"}}});
        let s = parse_session(&v, 0).unwrap();
        let stored = serde_json::to_value(&s).unwrap();
        assert_eq!(stored["user"]["role"], "customer");
        assert_eq!(serde_json::from_value::<AuthSession>(stored).unwrap(), s);
    }

    #[test]
    fn refresh_margin_is_a_third_of_the_lifetime_capped_at_a_minute() {
        let v = json!({"access_token": "a", "refresh_token": "r", "expires_in": 9, "user": {}});
        let mut s = parse_session(&v, 0).unwrap();
        assert_eq!(refresh_margin(&s, 0.0), 3.0);
        assert_eq!(refresh_margin(&s, 1.0), 5.0);
        s.expires_in = 3600;
        assert_eq!(refresh_margin(&s, 0.5), 61.0);
    }
}
