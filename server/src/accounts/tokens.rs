//! What `/auth/v1` hands out: GoTrue-shaped HS256 access tokens and opaque refresh tokens.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{Identity, UserRecord};
use crate::jwt::Keys;

/// The access token's claims, as GoTrue issues them. The authorization layer reads `role`,
/// `sub`, `exp`, `app_metadata.role` (customer | staff, server-set) and `user_metadata.name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub sub: String,
    pub email: String,
    pub phone: String,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub role: String,
    pub aal: String,
    pub amr: Value,
    pub session_id: String,
    pub is_anonymous: bool,
}

pub fn app_metadata(u: &UserRecord) -> Value {
    match &u.identity {
        Identity::Email { role, .. } => {
            json!({"provider": "email", "providers": ["email"], "role": role.as_str()})
        }
        // No app role: an anonymous user is neither a customer nor staff.
        Identity::Anonymous => json!({"provider": "anonymous", "providers": ["anonymous"]}),
    }
}

pub fn user_metadata(u: &UserRecord) -> Value {
    match &u.name {
        Some(n) => json!({"name": n}),
        None => json!({}),
    }
}

/// The GoTrue `User` object.
pub fn user_json(u: &UserRecord) -> Value {
    let confirmed = (!u.is_anonymous()).then_some(&u.created_at);
    json!({
        "id": u.id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": u.email().unwrap_or_default(),
        "email_confirmed_at": confirmed,
        "phone": "",
        "confirmed_at": confirmed,
        "last_sign_in_at": u.last_sign_in_at,
        "app_metadata": app_metadata(u),
        "user_metadata": user_metadata(u),
        "identities": [],
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        "is_anonymous": u.is_anonymous(),
    })
}

pub fn access_token(
    keys: &Keys,
    u: &UserRecord,
    session_id: &str,
    now: i64,
    ttl_secs: u64,
) -> (String, i64) {
    let exp = now.saturating_add(ttl_secs.min(i64::MAX as u64) as i64);
    let method = if u.is_anonymous() {
        "anonymous"
    } else {
        "password"
    };
    let claims = AccessClaims {
        aud: "authenticated".into(),
        exp,
        iat: now,
        iss: "concierge/auth/v1".into(),
        sub: u.id.clone(),
        email: u.email().unwrap_or_default().to_owned(),
        phone: String::new(),
        app_metadata: app_metadata(u),
        user_metadata: user_metadata(u),
        role: "authenticated".into(),
        aal: "aal1".into(),
        amr: json!([{"method": method, "timestamp": now}]),
        session_id: session_id.to_owned(),
        is_anonymous: u.is_anonymous(),
    };
    (keys.sign_as(&claims), exp)
}

/// 256 random bits, hex: the opaque refresh token the client keeps.
pub fn new_refresh_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The successor of a refresh token: the same for every presentation of `token`, so a reuse
/// within the reuse interval can be answered with the successor already issued although only
/// hashes are stored. Keyed with the signing secret (a JWT's signature is HMAC-SHA256 over a
/// fixed header and these claims), so it cannot be computed from the token alone.
pub fn successor(keys: &Keys, token: &str) -> String {
    refresh_hash(&keys.sign_as(&json!({ "refresh_successor": token })))
}

/// Only this hash is stored, so a copy of the database does not yield usable tokens.
pub fn refresh_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_wire::AppRole;

    use crate::authz::{Kiosk, Principal, User};

    #[test]
    fn access_tokens_become_user_principals() {
        let keys = Keys::new("s");
        let u = UserRecord {
            id: "11111111-1111-4111-8111-111111111111".into(),
            identity: Identity::Email {
                email: "p@x.test".into(),
                password_hash: String::new(),
                role: AppRole::Staff,
            },
            name: Some("Priya Sharma".into()),
            created_at: "c".into(),
            updated_at: "u".into(),
            last_sign_in_at: None,
        };
        let now = crate::time_fmt::now_ms() / 1000;
        let (tok, exp) = access_token(&keys, &u, "sid", now, 60);
        assert_eq!(exp, now + 60);
        assert_eq!(
            Principal::from_token(&keys, &tok).unwrap(),
            Principal::User(User {
                id: u.id.clone(),
                role: AppRole::Staff,
                name: Some("Priya Sharma".into()),
                exp,
                session_id: Some("sid".into()),
            })
        );
        let (old, _) = access_token(&keys, &u, "sid", now - 100, 60);
        assert!(Principal::from_token(&keys, &old).is_err(), "expired");
        // An anonymous user's token names a kiosk.
        let k = UserRecord {
            identity: Identity::Anonymous,
            name: None,
            ..u.clone()
        };
        let (tok, exp) = access_token(&keys, &k, "sid", now, 60);
        assert_eq!(
            Principal::from_token(&keys, &tok).unwrap(),
            Principal::Kiosk(Kiosk {
                id: k.id.clone(),
                exp,
                session_id: Some("sid".into()),
            })
        );
        let r = new_refresh_token();
        assert_eq!(r.len(), 64);
        assert_ne!(r, new_refresh_token());
        assert_eq!(refresh_hash(&r).len(), 64);
        assert_ne!(refresh_hash(&r), r);
    }
}
