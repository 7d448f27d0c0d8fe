//! The auth service: sign-up, sign-in, refresh-token rotation, sign-out and the current user,
//! over the [`Store`] and the signing keys.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use concierge_wire::AppRole;
use serde_json::{Value, json};

use super::error::AuthApiError;
use super::hash_gate::{self, GateError};
use super::limit::{Rate, RateLimiter};
use super::limit_args::{AuthLimitArgs, AuthLimits};
use super::store::{self, Identity, LogoutScope, Rotation, Store, StoreError, UserRecord};
use super::validate::{check_password, clean_name, normalize_email};
use super::{
    AuthSetupError, DEFAULT_ANONYMOUS_SIGN_UP_BURST, DEFAULT_ANONYMOUS_SIGN_UPS_PER_HOUR,
    DEMO_USERS, password, tokens,
};
use crate::authz::Principal;
use crate::credentials::Credentials;
use crate::jwt::Keys;

/// The auth service: its store, the signing keys and the access-token lifetime.
#[derive(Clone)]
pub struct AuthService {
    store: Store,
    keys: Arc<Keys>,
    access_ttl_secs: u64,
    /// Anonymous sign-ups per client address.
    anonymous: Arc<RateLimiter>,
    /// Password sign-ins and sign-ups per address, failed sign-ins per account, hashing.
    limits: Arc<AuthLimits>,
}

fn now_secs() -> i64 {
    crate::time_fmt::now_ms() / 1000
}

/// A limiter with a zero rate or burst is switched off (these limits only slow abuse down;
/// the anonymous one, where zero disables the feature, is checked separately).
fn check<K: std::hash::Hash + Eq + Clone>(l: &RateLimiter<K>, key: K) -> Result<(), AuthApiError> {
    if !l.enabled() {
        return Ok(());
    }
    l.take(key, Instant::now())
        .map_err(AuthApiError::RateLimited)
}

fn gate_error(e: GateError) -> AuthApiError {
    match e {
        GateError::Busy(_) => {
            tracing::warn!("password hashing at capacity: request refused");
            AuthApiError::RateLimited(hash_gate::RETRY_AFTER)
        }
        GateError::Closed => AuthApiError::Internal,
    }
}

fn internal<E: std::error::Error + 'static>(e: E) -> AuthApiError {
    let err: &(dyn std::error::Error + 'static) = &e;
    if let Some(StoreError::Sqlite(s)) = err.downcast_ref::<StoreError>()
        && s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
    {
        tracing::warn!("auth: the storage limit is reached; refusing the write");
        return AuthApiError::StorageFull;
    }
    tracing::error!("auth: {e}");
    AuthApiError::Internal
}

impl AuthService {
    pub fn open(
        db: &Path,
        keys: Arc<Keys>,
        access_ttl_secs: u64,
    ) -> Result<AuthService, AuthSetupError> {
        let store = Store::open(db)?;
        let access_ttl_secs = access_ttl_secs.max(1);
        let ttl = i64::try_from(access_ttl_secs).unwrap_or(i64::MAX / 2);
        let now = now_secs();
        let since = crate::time_fmt::format_ms(now.saturating_sub(ttl).saturating_mul(1000));
        for (sid, at) in store.run_blocking(|c| store::ended_since(c, &since))? {
            let at = crate::time_fmt::parse_ms(&at).map_or(now, |ms| ms / 1000);
            keys.signed_out().add(sid, at.saturating_add(ttl), now);
        }
        Ok(AuthService {
            store,
            keys,
            access_ttl_secs,
            anonymous: Arc::new(RateLimiter::new(Rate {
                per_hour: DEFAULT_ANONYMOUS_SIGN_UPS_PER_HOUR,
                burst: DEFAULT_ANONYMOUS_SIGN_UP_BURST,
            })),
            limits: Arc::new(AuthLimitArgs::default().limits()),
        })
    }

    /// Caps what the auth tables may grow the database to (`--max-db-mib`), like the data
    /// writer: users and refresh tokens count under the same limit, so anonymous sign-ups
    /// cannot fill the disk.
    pub fn with_max_db_bytes(self, max: Option<u64>) -> Result<AuthService, AuthSetupError> {
        let opts = crate::db::Options {
            max_db_bytes: max,
            ..crate::db::Options::default()
        };
        self.store
            .run_blocking(move |c| Ok(crate::db::writer::limit_size(c, &opts)?))?;
        Ok(self)
    }

    /// Sets the sign-in and sign-up limits and the bound on concurrent hashing.
    pub fn with_limits(mut self, limits: AuthLimits) -> AuthService {
        self.limits = Arc::new(limits);
        self
    }

    /// The most password hashes that ever ran at once.
    pub fn peak_concurrent_hashes(&self) -> usize {
        self.limits.hashing.peak()
    }

    /// Sets the abuse limit on anonymous sign-ups (`per_hour = 0` disables them).
    pub fn with_anonymous_limit(mut self, rate: Rate) -> AuthService {
        self.anonymous = Arc::new(RateLimiter::new(rate));
        self
    }

    /// Creates or updates a staff or customer account (the CLI and the demo seed).
    pub fn upsert_user_blocking(
        &self,
        email: &str,
        password: &str,
        role: AppRole,
        name: Option<&str>,
    ) -> Result<UserRecord, AuthSetupError> {
        let email = normalize_email(email).map_err(AuthSetupError::Invalid)?;
        check_password(password).map_err(AuthSetupError::Invalid)?;
        let hash = password::hash(password)?;
        let name = clean_name(name);
        Ok(self
            .store
            .run_blocking(|c| store::upsert_user(c, &email, &hash, role, name.as_deref()))?)
    }

    /// `--seed-demo`: the demo accounts, unless they exist already (their passwords stay).
    pub fn seed_demo_blocking(&self) -> Result<(), AuthSetupError> {
        for (email, pw, role, name) in DEMO_USERS {
            let exists = self
                .store
                .run_blocking(|c| store::find_by_email(c, email))?
                .is_some();
            if !exists {
                self.upsert_user_blocking(email, pw, *role, Some(name))?;
                tracing::info!(email, role = role.as_str(), "seeded demo account");
            }
        }
        Ok(())
    }

    /// A fresh sign-in: a new refresh-token chain and the session response body.
    async fn issue_session(&self, user: UserRecord) -> Result<Value, AuthApiError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh = tokens::new_refresh_token();
        let hash = tokens::refresh_hash(&refresh);
        let (uid, sid) = (user.id.clone(), session_id.clone());
        let user = self
            .store
            .run(move |c| {
                store::insert_refresh(c, &hash, &uid, &sid)?;
                store::touch_sign_in(c, &uid)?;
                Ok(store::find_by_id(c, &uid)?.unwrap_or(user))
            })
            .await
            .map_err(internal)?;
        Ok(self.session_body(&user, &session_id, refresh))
    }

    fn session_body(&self, user: &UserRecord, session_id: &str, refresh: String) -> Value {
        let now = now_secs();
        let (access, exp) =
            tokens::access_token(&self.keys, user, session_id, now, self.access_ttl_secs);
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl_secs,
            "expires_at": exp,
            "refresh_token": refresh,
            "user": tokens::user_json(user),
        })
    }

    /// An email sign-up, at most [`AuthLimitArgs::sign_in_burst`] at once per client address.
    pub async fn sign_up(
        &self,
        client: IpAddr,
        email: &str,
        pw: &str,
        name: Option<String>,
    ) -> Result<Value, AuthApiError> {
        check(&self.limits.by_address, client)?;
        let email = normalize_email(email)?;
        check_password(pw)?;
        let pw = pw.to_owned();
        let hash = self
            .limits
            .hashing
            .run(move || password::hash(&pw))
            .await
            .map_err(gate_error)?
            .map_err(internal)?;
        let user = self
            .store
            .run(move |c| store::insert_user(c, &email, &hash, AppRole::Customer, name.as_deref()))
            .await
            .map_err(|e| match e {
                StoreError::EmailTaken => AuthApiError::UserAlreadyExists,
                other => internal(other),
            })?;
        tracing::info!(user = %user.id, "customer signed up");
        self.issue_session(user).await
    }

    /// GoTrue's anonymous sign-in: a new user with no email, password or app role (a kiosk),
    /// at most [`AuthService::with_anonymous_limit`] per client address.
    pub async fn sign_up_anonymously(
        &self,
        client: IpAddr,
        name: Option<String>,
    ) -> Result<Value, AuthApiError> {
        if !self.anonymous.enabled() {
            return Err(AuthApiError::AnonymousDisabled);
        }
        if let Err(wait) = self.anonymous.take(client, Instant::now()) {
            tracing::warn!(%client, "anonymous sign-ups over the limit");
            return Err(AuthApiError::RateLimited(wait));
        }
        let user = self
            .store
            .run(move |c| store::insert_anonymous(c, name.as_deref()))
            .await
            .map_err(internal)?;
        tracing::info!(user = %user.id, "anonymous sign-in (kiosk)");
        self.issue_session(user).await
    }

    /// A password sign-in, limited per client address (every attempt) and per account (failed
    /// attempts: one is taken before the password is checked and given back if it was right,
    /// so concurrent guesses cannot all slip past the check).
    pub async fn sign_in(
        &self,
        client: IpAddr,
        email: &str,
        pw: &str,
    ) -> Result<Value, AuthApiError> {
        check(&self.limits.by_address, client)?;
        let email = normalize_email(email).map_err(|_| AuthApiError::InvalidCredentials)?;
        check(&self.limits.by_account, email.clone())?;
        let r = self.verify_and_issue(email.clone(), pw).await;
        if matches!(r, Err(AuthApiError::InvalidCredentials)) {
            tracing::warn!(%client, "failed sign-in");
        } else {
            self.limits.by_account.refund(&email, Instant::now());
        }
        r
    }

    async fn verify_and_issue(&self, email: String, pw: &str) -> Result<Value, AuthApiError> {
        let found = self
            .store
            .run(move |c| store::find_by_email(c, &email))
            .await
            .map_err(internal)?;
        let stored = found
            .as_ref()
            .and_then(|u| match &u.identity {
                Identity::Email { password_hash, .. } => Some(password_hash.clone()),
                Identity::Anonymous => None,
            })
            .unwrap_or_else(|| password::decoy().to_owned());
        let pw = pw.to_owned();
        let ok = self
            .limits
            .hashing
            .run(move || password::verify(&pw, &stored))
            .await
            .map_err(gate_error)?;
        match (found, ok) {
            (Some(user), true) => self.issue_session(user).await,
            _ => Err(AuthApiError::InvalidCredentials),
        }
    }

    pub async fn refresh(&self, token: &str) -> Result<Value, AuthApiError> {
        let token = token.trim();
        let old = tokens::refresh_hash(token);
        let next = tokens::successor(&self.keys, token);
        let next_hash = tokens::refresh_hash(&next);
        let policy = self.limits.rotation;
        let r = self
            .store
            .run(move |c| store::rotate(c, &old, &next_hash, policy))
            .await
            .map_err(internal)?;
        match r {
            Rotation::Rotated { user, session_id } => {
                Ok(self.session_body(&user, &session_id, next))
            }
            Rotation::NotFound => Err(AuthApiError::RefreshTokenNotFound),
            Rotation::Expired => Err(AuthApiError::SessionExpired),
            Rotation::Reused => {
                tracing::warn!("a rotated refresh token was presented again; its chain is revoked");
                Err(AuthApiError::RefreshTokenAlreadyUsed)
            }
        }
    }

    /// Verifies a Bearer access token: a user token, whose sign-in is still alive.
    pub async fn bearer_user(
        &self,
        creds: &Credentials,
    ) -> Result<(UserRecord, Option<String>), AuthApiError> {
        let token = creds.bearer().ok_or(AuthApiError::NoAuthorization)?;
        let principal = Principal::from_token(&self.keys, token)
            .map_err(|e| AuthApiError::BadJwt(e.to_string()))?;
        let Some(uid) = principal.user_id() else {
            return Err(AuthApiError::BadJwt("not a user token".into()));
        };
        let claims: tokens::AccessClaims = self
            .keys
            .verify_as(token)
            .map_err(|e| AuthApiError::BadJwt(e.to_string()))?;
        let sid = claims.session_id.clone();
        let id = uid.to_owned();
        let (user, alive) = self
            .store
            .run(move |c| Ok((store::find_by_id(c, &id)?, store::session_alive(c, &sid)?)))
            .await
            .map_err(internal)?;
        let user = user.ok_or(AuthApiError::UserNotFound)?;
        if !alive {
            return Err(AuthApiError::SessionNotFound);
        }
        Ok((user, Some(claims.session_id)))
    }

    pub async fn logout(
        &self,
        creds: &Credentials,
        scope: LogoutScope,
    ) -> Result<(), AuthApiError> {
        let (user, sid) = self.bearer_user(creds).await?;
        let ended = self
            .store
            .run(move |c| {
                let ended = store::sessions_ending(c, &user.id, sid.as_deref(), scope)?;
                store::revoke(c, &user.id, sid.as_deref(), scope)?;
                Ok(ended)
            })
            .await
            .map_err(internal)?;
        // Their access tokens stop working everywhere (REST, realtime, here) until they expire.
        let now = now_secs();
        let until = now + i64::try_from(self.access_ttl_secs).unwrap_or(i64::MAX / 2);
        for sid in ended {
            self.keys.signed_out().add(sid, until, now);
        }
        Ok(())
    }

    /// The gateway's API-key check: any key this server signed (anon, service role, a user).
    pub fn check_api_key(&self, creds: &Credentials) -> Result<(), AuthApiError> {
        creds
            .api_key_principal(&self.keys)
            .map(|_| ())
            .map_err(|_| AuthApiError::BadApiKey)
    }
}
