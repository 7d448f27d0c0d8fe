//! What a request presents to say who is asking: an API key and, optionally, a bearer token.
//!
//! One extractor reads them for every surface (PostgREST, the search, `/auth/v1`, realtime),
//! so where a key may come from is decided once. Verifying them is [`Principal::from_token`];
//! each surface turns a [`CredentialError`] into its own error shape (PostgREST's, GoTrue's,
//! Realtime's), which clients parse and tests pin down.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::authz::{AuthError, Principal};
use crate::jwt::Keys;

/// The credentials a request carries, as sent (nothing verified yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The API key: the `apikey` header (the Supabase gateway's), else `x-api-key`
    /// (Realtime's), else the `apikey` query parameter (a browser cannot set headers on a
    /// WebSocket). An empty one counts as none.
    pub api_key: Option<String>,
    pub authorization: Authorization,
}

/// The `Authorization` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Authorization {
    #[default]
    Absent,
    /// `Bearer <token>` (or `bearer <token>`): the token, trimmed; it may be empty.
    Bearer(String),
    /// Present, but not a bearer token.
    NotBearer,
    /// Present, but not visible ASCII.
    NotText,
}

/// Why credentials name no principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("No API key found in request")]
    MissingApiKey,
    #[error("Invalid API key")]
    InvalidApiKey(AuthError),
    #[error("Authorization header must be `Bearer <JWT>`")]
    NotBearer,
    #[error("Authorization header is not valid text")]
    AuthorizationNotText,
    #[error("Invalid JWT")]
    InvalidJwt(AuthError),
}

impl CredentialError {
    /// Why a key or token failed verification, when that is the trouble.
    pub fn cause(&self) -> Option<&AuthError> {
        match self {
            CredentialError::InvalidApiKey(e) | CredentialError::InvalidJwt(e) => Some(e),
            _ => None,
        }
    }
}

impl Credentials {
    pub fn from_parts(headers: &HeaderMap, query: Option<&str>) -> Credentials {
        let header_text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let query_key = || {
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "apikey")
                .map(|(_, v)| v.into_owned())
        };
        let api_key = header_text("apikey")
            .filter(|k| !k.is_empty())
            .or_else(|| header_text("x-api-key").filter(|k| !k.is_empty()))
            .or_else(|| query_key().filter(|k| !k.is_empty()));
        let authorization = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
            None => Authorization::Absent,
            Some(Err(_)) => Authorization::NotText,
            Some(Ok(v)) => match v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
            {
                Some(token) => Authorization::Bearer(token.trim().to_owned()),
                None => Authorization::NotBearer,
            },
        };
        Credentials {
            api_key,
            authorization,
        }
    }

    /// The principal the API key names: any key this server signed (anon, service role, a
    /// user's token used as a key).
    pub fn api_key_principal(&self, keys: &Keys) -> Result<Principal, CredentialError> {
        let key = self
            .api_key
            .as_deref()
            .ok_or(CredentialError::MissingApiKey)?;
        Principal::from_token(keys, key).map_err(CredentialError::InvalidApiKey)
    }

    /// The gateway's rule (PostgREST and the search): a valid API key is required, and a
    /// bearer token, when one is sent, says who is asking.
    pub fn principal(&self, keys: &Keys) -> Result<Principal, CredentialError> {
        let from_key = self.api_key_principal(keys)?;
        match &self.authorization {
            Authorization::Absent => Ok(from_key),
            Authorization::Bearer(token) => {
                Principal::from_token(keys, token).map_err(CredentialError::InvalidJwt)
            }
            Authorization::NotBearer => Err(CredentialError::NotBearer),
            Authorization::NotText => Err(CredentialError::AuthorizationNotText),
        }
    }

    /// The bearer token, when a non-empty one was sent.
    pub fn bearer(&self) -> Option<&str> {
        match &self.authorization {
            Authorization::Bearer(t) if !t.is_empty() => Some(t),
            _ => None,
        }
    }
}

/// Never rejects: a request without credentials is refused by the handler, in its surface's
/// error shape and at the point in its checks where that surface refuses it.
impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Credentials::from_parts(&parts.headers, parts.uri.query()))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn creds(headers: &[(&str, &[u8])], query: Option<&str>) -> Credentials {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        Credentials::from_parts(&h, query)
    }

    #[test]
    fn the_api_key_comes_from_one_place_in_a_fixed_order() {
        let key = |c: Credentials| c.api_key;
        assert_eq!(key(creds(&[], None)), None);
        assert_eq!(
            key(creds(&[], Some("apikey=q&vsn=2.0.0"))),
            Some("q".into())
        );
        assert_eq!(
            key(creds(&[("x-api-key", b"x")], Some("apikey=q"))),
            Some("x".into())
        );
        assert_eq!(
            key(creds(
                &[("apikey", b"h"), ("x-api-key", b"x")],
                Some("apikey=q")
            )),
            Some("h".into())
        );
        // Empty or unreadable keys count as none, so the next place is read.
        assert_eq!(key(creds(&[("apikey", b"")], Some("apikey="))), None);
        assert_eq!(
            key(creds(&[("apikey", b"\xff")], Some("apikey=q"))),
            Some("q".into())
        );
    }

    #[test]
    fn authorization_is_a_bearer_token_or_says_why_not() {
        let auth = |v: &[u8]| creds(&[("authorization", v)], None).authorization;
        assert_eq!(creds(&[], None).authorization, Authorization::Absent);
        assert_eq!(auth(b"Bearer abc"), Authorization::Bearer("abc".into()));
        assert_eq!(auth(b"bearer  abc "), Authorization::Bearer("abc".into()));
        assert_eq!(auth(b"Basic abc"), Authorization::NotBearer);
        assert_eq!(auth(b"\xff"), Authorization::NotText);
        assert_eq!(creds(&[("authorization", b"Bearer ")], None).bearer(), None);
    }

    #[test]
    fn the_gateway_rule_wants_a_valid_key_and_lets_a_bearer_token_speak() {
        let k = Keys::new("s");
        let anon = k.anon_key();
        let service = k.service_role_key();
        assert_eq!(
            creds(&[], None).principal(&k),
            Err(CredentialError::MissingApiKey)
        );
        assert!(matches!(
            creds(&[("apikey", b"forged")], None).principal(&k),
            Err(CredentialError::InvalidApiKey(_))
        ));
        assert_eq!(
            creds(&[("apikey", anon.as_bytes())], None).principal(&k),
            Ok(Principal::Anon)
        );
        let bearer = format!("Bearer {service}");
        let both = [
            ("apikey", anon.as_bytes()),
            ("authorization", bearer.as_bytes()),
        ];
        assert_eq!(creds(&both, None).principal(&k), Ok(Principal::ServiceRole));
        // A bearer token does not excuse a bad key.
        let bad_key = [
            ("apikey", &b"forged"[..]),
            ("authorization", bearer.as_bytes()),
        ];
        assert!(matches!(
            creds(&bad_key, None).principal(&k),
            Err(CredentialError::InvalidApiKey(_))
        ));
        let forged = [
            ("apikey", anon.as_bytes()),
            ("authorization", &b"Bearer forged"[..]),
        ];
        assert!(matches!(
            creds(&forged, None).principal(&k),
            Err(CredentialError::InvalidJwt(_))
        ));
        let basic = [
            ("apikey", anon.as_bytes()),
            ("authorization", &b"Basic x"[..]),
        ];
        assert_eq!(
            creds(&basic, None).principal(&k),
            Err(CredentialError::NotBearer)
        );
    }
}
