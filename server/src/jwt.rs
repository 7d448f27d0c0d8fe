//! API keys and user tokens: HS256 JWTs with a `role` claim, like Supabase's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// DEVELOPMENT DEFAULT ONLY. Anyone who reads this repository can mint a `service_role` key
/// for a server started without `--jwt-secret` / `CONCIERGE_JWT_SECRET`. Never deploy with it.
pub const DEV_JWT_SECRET: &str = "concierge-dev-secret-not-for-production-use-change-me-0001";

/// Fixed issue/expiry times make the generated API keys deterministic for a given secret,
/// so `concierge-server keys` and `/config.json` agree (hosted Supabase keys are also fixed).
const KEY_IAT: i64 = 1_763_510_400; // 2025-11-19
const KEY_EXP: i64 = 2_078_870_400; // 2035-11-16

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    pub exp: i64,
}

/// How far in the future a token's `nbf` may lie and still be accepted: the clock skew allowed
/// between this server and another issuer (PostgREST allows 30 s). `exp` has no leeway: a
/// leeway there would only extend a token, and realtime closes channels at the exact `exp`.
pub const NBF_LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the sign-in of this token has ended (signed out)")]
    SignedOut,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Signs and verifies tokens with one secret, and remembers the signed-out auth sessions
/// (every principal is made from a token and these keys, so a sign-out reaches REST, the
/// search and realtime alike).
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    signed_out: Arc<SignedOut>,
}

/// Auth sessions (`session_id` claims) that were signed out while their access tokens may still
/// be unexpired, each kept until then (so at most one access-token lifetime of sign-outs).
#[derive(Debug)]
pub struct SignedOut {
    until: Mutex<HashMap<String, i64>>,
    /// Counts sign-outs, so realtime sockets re-check their channels at each one.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Default for SignedOut {
    fn default() -> Self {
        SignedOut {
            until: Mutex::default(),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl SignedOut {
    /// Ends `session_id` for tokens checked before `until` (Unix seconds); forgets the ones
    /// whose tokens have all expired.
    pub fn add(&self, session_id: String, until: i64, now: i64) {
        let mut m = self.until.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, u| *u > now);
        m.insert(session_id, until);
        drop(m);
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Wakes at every later sign-out.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn contains(&self, session_id: &str, now: i64) -> bool {
        let m = self.until.lock().unwrap_or_else(|e| e.into_inner());
        m.get(session_id).is_some_and(|u| *u > now)
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<secret>)")
    }
}

impl Keys {
    pub fn new(secret: &str) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        // Only HS256: `alg: none` and asymmetric algorithms are refused by construction.
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.leeway = 0;
        // User tokens carry `aud: authenticated`; API keys carry none. Roles decide access.
        validation.validate_aud = false;
        Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            signed_out: Arc::default(),
        }
    }

    /// The signed-out auth sessions, shared by every clone of these keys (REST, realtime and
    /// `/auth/v1` all make principals from them).
    pub fn signed_out(&self) -> &SignedOut {
        &self.signed_out
    }

    pub fn sign(&self, claims: &Claims) -> String {
        // HS256 signing of a serialisable struct cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    fn api_key(&self, role: &str) -> String {
        self.sign(&Claims {
            role: role.into(),
            sub: None,
            iss: Some("concierge".into()),
            iat: Some(KEY_IAT),
            exp: KEY_EXP,
        })
    }

    pub fn anon_key(&self) -> String {
        self.api_key("anon")
    }

    pub fn service_role_key(&self) -> String {
        self.api_key("service_role")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_as::<Claims>(token)
    }

    /// Signs any claims set (user access tokens carry more than [`Claims`]).
    pub fn sign_as<T: Serialize>(&self, claims: &T) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Verifies signature, algorithm, expiry and `nbf` like [`Keys::verify`], decoding into `T`.
    pub fn verify_as<T: serde::de::DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            token.trim(),
            &self.decoding,
            &self.validation,
        )
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid(e.to_string()),
        })?;
        check_nbf(&claims, crate::time_fmt::now_ms() / 1000)?;
        serde_json::from_value(claims).map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// `nbf` (not before), honoured with [`NBF_LEEWAY_SECS`]; checked here rather than by the JWT
/// library, whose single leeway would also stretch `exp`.
fn check_nbf(claims: &serde_json::Value, now: i64) -> Result<(), TokenError> {
    match claims.get("nbf") {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(nbf) if nbf <= (now + NBF_LEEWAY_SECS) as f64 => Ok(()),
            Some(_) => Err(TokenError::NotYetValid),
            None => Err(TokenError::Invalid("nbf is not a number".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        // Minimal base64url without padding, enough to forge test tokens.
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &c)| acc | (c as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn keys_round_trip_and_are_deterministic() {
        let k = Keys::new("s1");
        assert_eq!(k.verify(&k.anon_key()).unwrap().role, "anon");
        assert_eq!(
            k.verify(&k.service_role_key()).unwrap().role,
            "service_role"
        );
        assert_eq!(k.anon_key(), Keys::new("s1").anon_key());
        assert_ne!(k.anon_key(), Keys::new("s2").anon_key());
    }

    #[test]
    fn refuses_forged_none_and_expired() {
        let k = Keys::new("s1");
        // Signed with another secret.
        assert!(matches!(
            Keys::new("other").verify(&k.service_role_key()),
            Err(TokenError::Invalid(_))
        ));
        // alg: none with a service_role claim.
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(r#"{"role":"service_role","exp":4000000000}"#)
        );
        assert!(k.verify(&none).is_err());
        // Tampered payload keeps the old signature.
        let anon = k.anon_key();
        let parts: Vec<&str> = anon.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64(r#"{"role":"service_role","exp":4000000000}"#),
            parts[2]
        );
        assert!(k.verify(&forged).is_err());
        let expired = k.sign(&Claims {
            role: "anon".into(),
            sub: None,
            iss: None,
            iat: None,
            exp: 1000,
        });
        assert_eq!(k.verify(&expired), Err(TokenError::Expired));
        assert!(k.verify("garbage").is_err());
        // nbf: in the future beyond the leeway refused, within it (clock skew) accepted.
        let now = crate::time_fmt::now_ms() / 1000;
        let with_nbf = |nbf: serde_json::Value| {
            k.sign_as(&serde_json::json!({"role": "anon", "exp": 4_000_000_000i64, "nbf": nbf}))
        };
        assert_eq!(
            k.verify(&with_nbf((now + 3600).into())),
            Err(TokenError::NotYetValid)
        );
        assert!(
            k.verify(&with_nbf((now + NBF_LEEWAY_SECS / 2).into()))
                .is_ok()
        );
        assert!(k.verify(&with_nbf((now - 60).into())).is_ok());
        assert!(k.verify(&with_nbf("soon".into())).is_err());
        assert!(k.verify("").is_err());
    }
}
