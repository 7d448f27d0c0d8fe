//! Users and refresh tokens in SQLite (migration 2). The auth service has its own connection
//! to the database file: these tables are private to `/auth/v1` and never published to
//! realtime, so they need not go through the data writer.

use std::path::Path;
use std::sync::{Arc, Mutex};

use concierge_wire::AppRole;
use rusqlite::{Connection, OptionalExtension, params};

use crate::time_fmt;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("auth store worker failed: {0}")]
    Worker(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub identity: Identity,
    pub name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_sign_in_at: Option<String>,
}

/// How a user signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Email and password: a customer or a staff member.
    Email {
        email: String,
        password_hash: String,
        role: AppRole,
    },
    /// An anonymous sign-in (GoTrue's `is_anonymous`): a kiosk, with no email, password or
    /// app role. It keeps its identity only as long as it keeps its refresh token.
    Anonymous,
}

impl UserRecord {
    pub fn email(&self) -> Option<&str> {
        match &self.identity {
            Identity::Email { email, .. } => Some(email),
            Identity::Anonymous => None,
        }
    }

    pub fn role(&self) -> Option<AppRole> {
        match &self.identity {
            Identity::Email { role, .. } => Some(*role),
            Identity::Anonymous => None,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.identity == Identity::Anonymous
    }
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now revoked and `new_hash` continues the chain.
    Rotated {
        user: UserRecord,
        session_id: String,
    },
    /// Unknown token (never issued, or its user is gone).
    NotFound,
    /// The token outlived the refresh-token lifetime unused; it is revoked now.
    Expired,
    /// A token that had already been rotated or revoked: the whole chain is revoked now,
    /// because either the client is confused or someone replayed a stolen token.
    Reused,
}

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

const USER_COLS: &str = "id, email, password_hash, app_role, name, created_at, updated_at, \
     last_sign_in_at, is_anonymous";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let anonymous: bool = r.get(8)?;
    // The table's CHECK makes email, password and role present exactly for non-anonymous users.
    let identity = if anonymous {
        Identity::Anonymous
    } else {
        let role: String = r.get(3)?;
        Identity::Email {
            email: r.get(1)?,
            password_hash: r.get(2)?,
            // The CHECK constraint keeps other values out; customer is the least privilege anyway.
            role: AppRole::parse(&role).unwrap_or(AppRole::Customer),
        }
    };
    Ok(UserRecord {
        id: r.get(0)?,
        identity,
        name: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        last_sign_in_at: r.get(7)?,
    })
}

fn now() -> String {
    time_fmt::format_ms(time_fmt::now_ms())
}

impl Store {
    /// Opens the database file (migrations are applied if this connection comes first).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        crate::db::migrate::apply(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection off the async runtime.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn
                .lock()
                .map_err(|_| StoreError::Worker("auth store lock poisoned".into()))?;
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// The same, for callers that are not async (the CLI).
    pub fn run_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut c = self
            .conn
            .lock()
            .map_err(|_| StoreError::Worker("auth store lock poisoned".into()))?;
        f(&mut c)
    }
}

pub fn find_by_email(c: &Connection, email: &str) -> Result<Option<UserRecord>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE email = ?1"),
        params![email],
        user_from_row,
    )
    .optional()?)
}

pub fn find_by_id(c: &Connection, id: &str) -> Result<Option<UserRecord>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        params![id],
        user_from_row,
    )
    .optional()?)
}

pub fn insert_user(
    c: &Connection,
    email: &str,
    password_hash: &str,
    role: AppRole,
    name: Option<&str>,
) -> Result<UserRecord, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let ts = now();
    let r = c.execute(
        "INSERT INTO users (id, email, password_hash, app_role, name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, email, password_hash, role.as_str(), name, ts],
    );
    match r {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            return Err(StoreError::EmailTaken);
        }
        Err(e) => return Err(e.into()),
    }
    find_by_id(c, &id)?.ok_or_else(|| StoreError::Worker("inserted user vanished".into()))
}

/// Creates an anonymous user (a kiosk identity).
pub fn insert_anonymous(c: &Connection, name: Option<&str>) -> Result<UserRecord, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let ts = now();
    c.execute(
        "INSERT INTO users (id, name, is_anonymous, created_at, updated_at)
         VALUES (?1, ?2, 1, ?3, ?3)",
        params![id, name, ts],
    )?;
    find_by_id(c, &id)?.ok_or_else(|| StoreError::Worker("inserted user vanished".into()))
}

/// Creates the user or, if the email exists, sets its role, name and password (the CLI's
/// `add-staff` and the demo seed are idempotent this way).
pub fn upsert_user(
    c: &Connection,
    email: &str,
    password_hash: &str,
    role: AppRole,
    name: Option<&str>,
) -> Result<UserRecord, StoreError> {
    match find_by_email(c, email)? {
        None => insert_user(c, email, password_hash, role, name),
        Some(u) => {
            c.execute(
                "UPDATE users SET password_hash = ?2, app_role = ?3, name = ?4, updated_at = ?5
                 WHERE id = ?1",
                params![u.id, password_hash, role.as_str(), name, now()],
            )?;
            find_by_id(c, &u.id)?.ok_or_else(|| StoreError::Worker("updated user vanished".into()))
        }
    }
}

pub fn touch_sign_in(c: &Connection, user_id: &str) -> Result<(), StoreError> {
    let ts = now();
    c.execute(
        "UPDATE users SET last_sign_in_at = ?2 WHERE id = ?1",
        params![user_id, ts],
    )?;
    Ok(())
}

/// Stores a new live refresh token (by hash) in `session_id`'s chain.
pub fn insert_refresh(
    c: &Connection,
    token_hash: &str,
    user_id: &str,
    session_id: &str,
) -> Result<(), StoreError> {
    let ts = now();
    c.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, session_id, revoked, created_at, updated_at)
         VALUES (?1, ?2, ?3, 0, ?4, ?4)",
        params![token_hash, user_id, session_id, ts],
    )?;
    Ok(())
}

/// How long refresh tokens live and how long a rotated one may be presented again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// A rotated token presented again this soon (two tabs refreshing at once, a retried
    /// request) continues the same chain instead of revoking it (GoTrue's 10 s reuse interval).
    pub reuse_interval_ms: i64,
    /// An unused token older than this is refused.
    pub lifetime_ms: i64,
}

/// Presents a refresh token: revokes it and stores `new_hash` as its successor, atomically.
/// `new_hash` is the same for every presentation of one token (see `tokens::successor`), so a
/// reuse within the interval finds its successor already there, live, and answers with it.
pub fn rotate(
    c: &mut Connection,
    token_hash: &str,
    new_hash: &str,
    policy: RotationPolicy,
) -> Result<Rotation, StoreError> {
    let tx = c.transaction()?;
    let found: Option<(String, String, i64, String, String)> = tx
        .query_row(
            "SELECT user_id, session_id, revoked, created_at, updated_at FROM refresh_tokens
             WHERE token_hash = ?1",
            params![token_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((user_id, session_id, revoked, created_at, updated_at)) = found else {
        return Ok(Rotation::NotFound);
    };
    let now_ms = time_fmt::now_ms();
    let ts = time_fmt::format_ms(now_ms);
    let age = |t: &str| time_fmt::parse_ms(t).map_or(i64::MAX, |t| now_ms.saturating_sub(t));
    if revoked != 0 {
        let successor_live = tx
            .query_row(
                "SELECT 1 FROM refresh_tokens WHERE token_hash = ?1 AND session_id = ?2 AND revoked = 0",
                params![new_hash, session_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if successor_live && age(&updated_at) <= policy.reuse_interval_ms {
            let Some(user) = find_by_id(&tx, &user_id)? else {
                return Ok(Rotation::NotFound);
            };
            return Ok(Rotation::Rotated { user, session_id });
        }
        tx.execute(
            "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE session_id = ?1 AND revoked = 0",
            params![session_id, ts],
        )?;
        tx.commit()?;
        return Ok(Rotation::Reused);
    }
    if age(&created_at) > policy.lifetime_ms {
        tx.execute(
            "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE token_hash = ?1",
            params![token_hash, ts],
        )?;
        tx.commit()?;
        return Ok(Rotation::Expired);
    }
    let Some(user) = find_by_id(&tx, &user_id)? else {
        return Ok(Rotation::NotFound);
    };
    tx.execute(
        "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE token_hash = ?1",
        params![token_hash, ts],
    )?;
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, session_id, revoked, created_at, updated_at)
         VALUES (?1, ?2, ?3, 0, ?4, ?4)",
        params![new_hash, user_id, session_id, ts],
    )?;
    tx.commit()?;
    Ok(Rotation::Rotated { user, session_id })
}

/// Which chains a sign-out ends (GoTrue's `scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// Every sign-in of the user.
    Global,
    /// Only this sign-in.
    Local,
    /// Every sign-in but this one.
    Others,
}

pub fn revoke(
    c: &Connection,
    user_id: &str,
    session_id: Option<&str>,
    scope: LogoutScope,
) -> Result<usize, StoreError> {
    let ts = now();
    let n = match (scope, session_id) {
        (LogoutScope::Global, _) | (LogoutScope::Local, None) => c.execute(
            "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE user_id = ?1 AND revoked = 0",
            params![user_id, ts],
        )?,
        (LogoutScope::Local, Some(sid)) => c.execute(
            "UPDATE refresh_tokens SET revoked = 1, updated_at = ?3
             WHERE user_id = ?1 AND session_id = ?2 AND revoked = 0",
            params![user_id, sid, ts],
        )?,
        (LogoutScope::Others, sid) => c.execute(
            "UPDATE refresh_tokens SET revoked = 1, updated_at = ?3
             WHERE user_id = ?1 AND session_id <> ?2 AND revoked = 0",
            params![user_id, sid.unwrap_or_default(), ts],
        )?,
    };
    Ok(n)
}

/// The live sign-ins a sign-out with `scope` ends (before [`revoke`] ends them).
pub fn sessions_ending(
    c: &Connection,
    user_id: &str,
    session_id: Option<&str>,
    scope: LogoutScope,
) -> Result<Vec<String>, StoreError> {
    let mut q = c.prepare(
        "SELECT DISTINCT session_id FROM refresh_tokens WHERE user_id = ?1 AND revoked = 0",
    )?;
    let live = q
        .query_map(params![user_id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match (scope, session_id) {
        (LogoutScope::Global, _) | (LogoutScope::Local, None) => live,
        (LogoutScope::Local, Some(sid)) => vec![sid.to_owned()],
        (LogoutScope::Others, sid) => live
            .into_iter()
            .filter(|s| Some(s.as_str()) != sid)
            .collect(),
    })
}

/// Sign-ins ended (no live refresh token) at or after `since`, with when: after a restart,
/// their access tokens are still refused until they expire.
pub fn ended_since(c: &Connection, since: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut q = c.prepare(
        "SELECT session_id, MAX(updated_at) FROM refresh_tokens GROUP BY session_id
         HAVING SUM(revoked = 0) = 0 AND MAX(updated_at) >= ?1",
    )?;
    let rows = q
        .query_map(params![since], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether a sign-in still has a live refresh token (i.e. was not signed out).
pub fn session_alive(c: &Connection, session_id: &str) -> Result<bool, StoreError> {
    let n: i64 = c.query_row(
        "SELECT COUNT(*) FROM refresh_tokens WHERE session_id = ?1 AND revoked = 0",
        params![session_id],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests;
