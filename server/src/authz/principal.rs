//! Who is asking: the [`Principal`] a verified token names. Nothing else is trusted.

use concierge_wire::AppRole;
use serde::Deserialize;
use serde_json::Value;

use crate::jwt::{Claims, Keys, TokenError};

/// Who is asking, derived only from a verified JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anon,
    ServiceRole,
    /// A signed-in user (`role: authenticated`), from a token our `/auth/v1` issued.
    User(User),
    /// An anonymous sign-in (`role: authenticated`, `is_anonymous: true`): a kiosk. Neither a
    /// customer nor staff; it claims kiosk sessions and reads their results.
    Kiosk(Kiosk),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kiosk {
    /// The anonymous user's id (`sub`), a canonical lowercase UUID.
    pub id: String,
    /// Token expiry (Unix seconds).
    pub exp: i64,
    /// The auth session (`session_id` claim): realtime closes the channel at its logout.
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id (`sub`), a canonical lowercase UUID.
    pub id: String,
    pub role: AppRole,
    /// Display name (`user_metadata.name`); staff write it into the sessions they accept.
    pub name: Option<String>,
    /// Token expiry (Unix seconds): realtime closes the channel when it passes.
    pub exp: i64,
    /// The auth session (`session_id` claim): realtime closes the channel at its logout.
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("invalid claim: {0}")]
    BadClaim(&'static str),
}

/// The claims the authorization layer reads; everything else in a token is ignored.
#[derive(Debug, Deserialize)]
struct TokenClaims {
    role: String,
    #[serde(default)]
    sub: Option<String>,
    exp: i64,
    #[serde(default)]
    app_metadata: Option<Value>,
    #[serde(default)]
    user_metadata: Option<Value>,
    #[serde(default)]
    is_anonymous: bool,
    #[serde(default)]
    session_id: Option<String>,
}

impl Principal {
    pub fn from_claims(claims: &Claims) -> Result<Principal, AuthError> {
        match claims.role.as_str() {
            "anon" => Ok(Principal::Anon),
            "service_role" => Ok(Principal::ServiceRole),
            other => Err(AuthError::UnknownRole(other.chars().take(32).collect())),
        }
    }

    /// The signed-in user's id (`sub`), for users and kiosks alike.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User(u) => Some(&u.id),
            Principal::Kiosk(k) => Some(&k.id),
            _ => None,
        }
    }

    /// Verifies `token` (signature, HS256 only, expiry) and maps its claims.
    pub fn from_token(keys: &Keys, token: &str) -> Result<Principal, AuthError> {
        let c: TokenClaims = keys.verify_as(token)?;
        if let Some(sid) = &c.session_id
            && keys
                .signed_out()
                .contains(sid, crate::time_fmt::now_ms() / 1000)
        {
            return Err(TokenError::SignedOut.into());
        }
        match c.role.as_str() {
            "anon" => Ok(Principal::Anon),
            "service_role" => Ok(Principal::ServiceRole),
            "authenticated" => {
                let sub = c
                    .sub
                    .as_deref()
                    .ok_or(AuthError::BadClaim("sub is missing"))?;
                let id = uuid::Uuid::parse_str(sub)
                    .map_err(|_| AuthError::BadClaim("sub is not a UUID"))?
                    .to_string();
                if c.is_anonymous {
                    return Ok(Principal::Kiosk(Kiosk {
                        id,
                        exp: c.exp,
                        session_id: c.session_id,
                    }));
                }
                let role = match c.app_metadata.as_ref().and_then(|m| m.get("role")) {
                    None => AppRole::Customer,
                    Some(Value::String(r)) => {
                        AppRole::parse(r).ok_or(AuthError::BadClaim("app_metadata.role"))?
                    }
                    Some(_) => return Err(AuthError::BadClaim("app_metadata.role")),
                };
                let name = c
                    .user_metadata
                    .as_ref()
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .map(|n| n.chars().take(120).collect());
                Ok(Principal::User(User {
                    id,
                    role,
                    name,
                    exp: c.exp,
                    session_id: c.session_id,
                }))
            }
            other => Err(AuthError::UnknownRole(other.chars().take(32).collect())),
        }
    }

    pub fn role(&self) -> &'static str {
        match self {
            Principal::Anon => "anon",
            Principal::ServiceRole => "service_role",
            Principal::User(_) | Principal::Kiosk(_) => "authenticated",
        }
    }

    /// Whether this principal is a signed-in user rather than a bare API key (PostgREST
    /// answers 403 instead of 401 then).
    pub fn is_authenticated(&self) -> bool {
        matches!(
            self,
            Principal::ServiceRole | Principal::User(_) | Principal::Kiosk(_)
        )
    }

    /// When the token this principal came from expires (user tokens only; API keys are long
    /// lived and not watched).
    /// The auth session the token belongs to, for users and kiosks with a `session_id`.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Principal::User(u) => u.session_id.as_deref(),
            Principal::Kiosk(k) => k.session_id.as_deref(),
            _ => None,
        }
    }

    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Principal::User(u) => Some(u.exp),
            Principal::Kiosk(k) => Some(k.exp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "11111111-1111-4111-8111-111111111111";

    #[test]
    fn principal_from_verified_token_only() {
        let k = Keys::new("s");
        assert_eq!(
            Principal::from_token(&k, &k.anon_key()),
            Ok(Principal::Anon)
        );
        assert_eq!(
            Principal::from_token(&k, &k.service_role_key()),
            Ok(Principal::ServiceRole)
        );
        assert!(Principal::from_token(&Keys::new("x"), &k.service_role_key()).is_err());
        let odd = k.sign(&Claims {
            role: "postgres".into(),
            sub: None,
            iss: None,
            iat: None,
            exp: 4_000_000_000,
        });
        assert!(matches!(
            Principal::from_token(&k, &odd),
            Err(AuthError::UnknownRole(_))
        ));
    }

    #[test]
    fn user_tokens_map_to_app_roles() {
        let k = Keys::new("s");
        let tok = |claims: Value| k.sign_as(&claims);
        let p = Principal::from_token(
            &k,
            &tok(
                serde_json::json!({"role": "authenticated", "sub": ME, "exp": 4_000_000_000i64,
                "app_metadata": {"role": "staff"}, "user_metadata": {"name": "Priya"}}),
            ),
        )
        .unwrap();
        assert_eq!(
            p,
            Principal::User(User {
                id: ME.into(),
                role: AppRole::Staff,
                name: Some("Priya".into()),
                exp: 4_000_000_000,
                session_id: None,
            })
        );
        assert_eq!(p.expires_at(), Some(4_000_000_000));
        let c = Principal::from_token(
            &k,
            &tok(serde_json::json!({"role": "authenticated", "sub": ME, "exp": 4_000_000_000i64})),
        )
        .unwrap();
        assert!(matches!(
            c,
            Principal::User(User {
                role: AppRole::Customer,
                ..
            })
        ));
        // No sub, a non-UUID sub, an unknown app role, another database role: all refused.
        for bad in [
            serde_json::json!({"role": "authenticated", "exp": 4_000_000_000i64}),
            serde_json::json!({"role": "authenticated", "sub": "admin", "exp": 4_000_000_000i64}),
            serde_json::json!({"role": "authenticated", "sub": ME, "exp": 4_000_000_000i64, "app_metadata": {"role": "admin"}}),
            serde_json::json!({"role": "supabase_admin", "sub": ME, "exp": 4_000_000_000i64}),
        ] {
            assert!(
                Principal::from_token(&k, &tok(bad.clone())).is_err(),
                "{bad}"
            );
        }
        // An anonymous sign-in is a kiosk, whatever app role it claims.
        let kiosk = tok(
            serde_json::json!({"role": "authenticated", "sub": ME, "exp": 4_000_000_000i64,
            "is_anonymous": true, "app_metadata": {"provider": "anonymous", "role": "staff"}}),
        );
        assert_eq!(
            Principal::from_token(&k, &kiosk),
            Ok(Principal::Kiosk(Kiosk {
                id: ME.into(),
                exp: 4_000_000_000,
                session_id: None,
            }))
        );
        // Expired and wrongly signed user tokens.
        let expired = tok(serde_json::json!({"role": "authenticated", "sub": ME, "exp": 1000}));
        assert!(matches!(
            Principal::from_token(&k, &expired),
            Err(AuthError::Token(TokenError::Expired))
        ));
        let good =
            tok(serde_json::json!({"role": "authenticated", "sub": ME, "exp": 4_000_000_000i64}));
        assert!(Principal::from_token(&Keys::new("other"), &good).is_err());
    }
}
