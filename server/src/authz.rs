//! The one authorization layer. REST handlers, the write path and realtime delivery all ask
//! this module; nothing else decides who may see or change what.
//!
//! Rules (summed up in the README's "Who sees what" table; issue 6):
//! - `anon` (the kiosk's key) may read `events` and `hotels` (public catalogue data; the kiosk
//!   needs the hotel's time zone), and `kiosk_results` only for one session id it names with
//!   `session_id=eq.<id>`; it writes nothing over REST (searches go through `/api`).
//! - `service_role` may do everything.
//! - A signed-in **customer** reads the catalogue like anon, and reads and writes only their own
//!   `sessions` rows: an insert is forced to `customer_id = sub`, `customer_name` = the
//!   token's name and `status = pending`; an update may only end an active session
//!   (`cancelled` / `completed`).
//! - A signed-in **staff** member reads the pending sessions and the ones assigned to them, and
//!   moves them through accept (`pending → waiting`, assigning themselves) → `live` →
//!   `completed` (or `waiting → cancelled`).
//!
//! Reads are restricted in SQL by a [`RowScope`] (ANDed with whatever the caller filtered, so a
//! filter can never widen access) and, for realtime, per change with [`row_visible`]; both are
//! derived from the same rules. Writes are checked row by row ([`prepare_insert`],
//! [`prepare_update`], [`check_update`]) inside the writer's transaction.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::schema::Table;
use crate::jwt::{Claims, Keys, TokenError};

/// Who is asking, derived only from a verified JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anon,
    ServiceRole,
    /// A signed-in user (`role: authenticated`), from a token our `/auth/v1` issued.
    User(User),
}

/// What a signed-in user is in the app: carried in the token's `app_metadata.role`, which only
/// the server can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppRole {
    Customer,
    Staff,
}

impl AppRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Customer => "customer",
            AppRole::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<AppRole> {
        match s {
            "customer" => Some(AppRole::Customer),
            "staff" => Some(AppRole::Staff),
            _ => None,
        }
    }
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Select,
    Insert,
    Update,
    Delete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Select => "select",
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("permission denied for table {table}")]
    NoGrant { table: &'static str, action: Action },
    #[error(
        "permission denied for table {table}: {role} may read it only with a {column}=eq.<value> filter"
    )]
    NeedsEqFilter {
        table: &'static str,
        column: &'static str,
        role: &'static str,
    },
    /// A written row fails the table's row-level policy (Postgres' 42501 "new row violates
    /// row-level security policy"); `why` says which rule, for the person debugging.
    #[error("new row violates row-level security policy for table \"{table}\": {why}")]
    RowPolicy {
        table: &'static str,
        why: &'static str,
    },
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
}

impl Principal {
    pub fn from_claims(claims: &Claims) -> Result<Principal, AuthError> {
        match claims.role.as_str() {
            "anon" => Ok(Principal::Anon),
            "service_role" => Ok(Principal::ServiceRole),
            other => Err(AuthError::UnknownRole(other.chars().take(32).collect())),
        }
    }

    /// Verifies `token` (signature, HS256 only, expiry) and maps its claims.
    pub fn from_token(keys: &Keys, token: &str) -> Result<Principal, AuthError> {
        let c: TokenClaims = keys.verify_as(token)?;
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
                }))
            }
            other => Err(AuthError::UnknownRole(other.chars().take(32).collect())),
        }
    }

    pub fn role(&self) -> &'static str {
        match self {
            Principal::Anon => "anon",
            Principal::ServiceRole => "service_role",
            Principal::User(_) => "authenticated",
        }
    }

    /// Whether this principal is a signed-in user rather than a bare API key (PostgREST
    /// answers 403 instead of 401 then).
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Principal::ServiceRole | Principal::User(_))
    }

    /// When the token this principal came from expires (user tokens only; API keys are long
    /// lived and not watched).
    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Principal::User(u) => Some(u.exp),
            _ => None,
        }
    }
}

/// Does `filters` pin `column` to exactly one value (`column=eq.v`)? A negated one
/// (`column=not.eq.v`) selects every *other* value: the opposite of pinning.
fn pins(filters: &[Filter], column: &str) -> bool {
    filters.iter().any(|f| {
        f.column == column
            && f.op == FilterOp::Eq
            && !f.negated
            && matches!(f.value, FilterValue::One(_))
    })
}

/// May `p` perform `action` on `table` with a statement restricted by `filters`? (Which rows
/// it reaches is [`row_scope`]'s business.)
pub fn check(
    p: &Principal,
    table: Table,
    action: Action,
    filters: &[Filter],
) -> Result<(), Denied> {
    let no = Err(Denied::NoGrant {
        table: table.name(),
        action,
    });
    let pinned_kiosk_read = || {
        if pins(filters, "session_id") {
            Ok(())
        } else {
            Err(Denied::NeedsEqFilter {
                table: table.name(),
                column: "session_id",
                role: p.role(),
            })
        }
    };
    match p {
        Principal::ServiceRole => Ok(()),
        Principal::Anon => match (table, action) {
            (Table::Events | Table::Hotels, Action::Select) => Ok(()),
            (Table::KioskResults, Action::Select) => pinned_kiosk_read(),
            _ => no,
        },
        Principal::User(u) => match (table, action, u.role) {
            (Table::Events | Table::Hotels, Action::Select, _) => Ok(()),
            (Table::KioskResults, Action::Select, _) => pinned_kiosk_read(),
            (Table::Sessions, Action::Select | Action::Update, _) => Ok(()),
            (Table::Sessions, Action::Insert, AppRole::Customer) => Ok(()),
            _ => no,
        },
    }
}

/// May `p` subscribe to realtime changes of `table` with this binding filter? Realtime and
/// REST reads share the rule: a subscription is a standing read.
pub fn check_subscribe(p: &Principal, table: Table, filter: Option<&Filter>) -> Result<(), Denied> {
    check(p, table, Action::Select, filter.cloned().as_slice())
}

fn text<'a>(row: &'a Map<String, Value>, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

/// Row-level visibility for realtime delivery, evaluated per change and subscriber. It is the
/// in-memory twin of [`row_scope`]: the two must agree (a test checks them against each other).
/// (Subscription-time checks already pinned anon to one kiosk session.)
pub fn row_visible(p: &Principal, table: Table, row: &Map<String, Value>) -> bool {
    match p {
        Principal::ServiceRole => true,
        Principal::Anon => matches!(table, Table::Events | Table::Hotels | Table::KioskResults),
        Principal::User(u) => match table {
            Table::Events | Table::Hotels | Table::KioskResults => true,
            Table::Sessions => match u.role {
                AppRole::Customer => text(row, "customer_id") == Some(u.id.as_str()),
                AppRole::Staff => {
                    text(row, "status") == Some("pending")
                        || text(row, "staff_id") == Some(u.id.as_str())
                }
            },
        },
    }
}

/// Which rows of a table a principal reaches, as SQL will see it: every row, or the rows that
/// match at least one of several conjunctions of filters (row-level security as OR-of-ANDs).
/// The layer ANDs it onto every read, update and delete, after the caller's own filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    AnyOf(Vec<Vec<Filter>>),
}

fn eq(column: &str, value: &str) -> Filter {
    Filter::new(column, FilterOp::Eq, FilterValue::One(value.into()))
}

/// Row-level security for reads, updates and deletes of `p` on `table`.
pub fn row_scope(p: &Principal, table: Table) -> RowScope {
    match (p, table) {
        (Principal::User(u), Table::Sessions) => match u.role {
            AppRole::Customer => RowScope::AnyOf(vec![vec![eq("customer_id", &u.id)]]),
            AppRole::Staff => RowScope::AnyOf(vec![
                vec![eq("status", "pending")],
                vec![eq("staff_id", &u.id)],
            ]),
        },
        _ => RowScope::All,
    }
}

const SESSION_ENDED: [&str; 2] = ["completed", "cancelled"];

fn policy(why: &'static str) -> Denied {
    Denied::RowPolicy {
        table: Table::Sessions.name(),
        why,
    }
}

/// Fills in and checks a row `p` is inserting (Postgres: column defaults forced by a trigger,
/// then the policy's `WITH CHECK`). A customer's session is theirs and starts pending.
pub fn prepare_insert(
    p: &Principal,
    table: Table,
    row: &mut Map<String, Value>,
) -> Result<(), Denied> {
    let Principal::User(u) = p else { return Ok(()) };
    if table != Table::Sessions {
        return Ok(());
    }
    if u.role != AppRole::Customer {
        return Err(Denied::NoGrant {
            table: table.name(),
            action: Action::Insert,
        });
    }
    match row.get("customer_id") {
        None | Some(Value::Null) => {
            row.insert("customer_id".into(), Value::String(u.id.clone()));
        }
        Some(v) if v.as_str() == Some(u.id.as_str()) => {}
        Some(_) => return Err(policy("customer_id must be your own user id")),
    }
    // Who is asking is a fact from the token, like `customer_id`; a client-sent name is
    // replaced rather than refused, as `staff_name` is on accept.
    let name = u.name.clone().map_or(Value::Null, Value::String);
    row.insert("customer_name".into(), name);
    match row.get("status") {
        None | Some(Value::Null) => {
            row.insert("status".into(), Value::String("pending".into()));
        }
        Some(v) if v.as_str() == Some("pending") => {}
        Some(_) => return Err(policy("a new session starts as pending")),
    }
    for col in ["staff_id", "staff_name", "ended_at"] {
        if row.get(col).is_some_and(|v| !v.is_null()) {
            return Err(policy(
                "staff and end time are set by staff, not on request",
            ));
        }
    }
    Ok(())
}

/// Adjusts an update's patch before it runs: when staff assign a session to themselves the
/// name written is the one in their token, whatever the client sent; ending a session stamps
/// `ended_at`.
pub fn prepare_update(
    p: &Principal,
    table: Table,
    patch: &mut Map<String, Value>,
    now: &str,
) -> Result<(), Denied> {
    let Principal::User(u) = p else { return Ok(()) };
    if table != Table::Sessions {
        return Ok(());
    }
    if u.role == AppRole::Staff
        && patch.get("staff_id").and_then(Value::as_str) == Some(u.id.as_str())
    {
        let name = u.name.clone().map_or(Value::Null, Value::String);
        patch.insert("staff_name".into(), name);
    }
    if patch
        .get("status")
        .and_then(Value::as_str)
        .is_some_and(|s| SESSION_ENDED.contains(&s))
        && patch.get("ended_at").is_none_or(Value::is_null)
    {
        patch.insert("ended_at".into(), Value::String(now.to_owned()));
    }
    Ok(())
}

/// The update policy's `WITH CHECK`, per row: may `p` turn `old` into `new`? Columns a role may
/// not touch must be unchanged and the status must follow the session lifecycle.
pub fn check_update(
    p: &Principal,
    table: Table,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), Denied> {
    let Principal::User(u) = p else { return Ok(()) };
    if table != Table::Sessions {
        return Err(Denied::NoGrant {
            table: table.name(),
            action: Action::Update,
        });
    }
    let may_change: &[&str] = match u.role {
        AppRole::Customer => &["status", "ended_at", "updated_at"],
        AppRole::Staff => &["status", "staff_id", "staff_name", "ended_at", "updated_at"],
    };
    let changed_other = old
        .iter()
        .any(|(k, v)| !may_change.contains(&k.as_str()) && new.get(k) != Some(v));
    if changed_other {
        return Err(policy("that column cannot be changed by this role"));
    }
    let from = text(old, "status").unwrap_or_default();
    let to = text(new, "status").unwrap_or_default();
    let me = Some(u.id.as_str());
    match u.role {
        AppRole::Customer => {
            if text(new, "customer_id") != me {
                return Err(policy("not your session"));
            }
            if from == to {
                return Ok(());
            }
            let active = matches!(from, "pending" | "waiting" | "live");
            if !(active && SESSION_ENDED.contains(&to)) {
                return Err(policy("a customer may only end an active session"));
            }
            Ok(())
        }
        AppRole::Staff => {
            if text(new, "staff_id") != me {
                return Err(policy("staff act only on sessions assigned to themselves"));
            }
            let allowed = matches!(
                (from, to),
                ("pending", "waiting")
                    | ("waiting", "live")
                    | ("waiting", "cancelled")
                    | ("live", "completed")
            ) || (from == to && from != "pending" && text(old, "staff_id") == me);
            if allowed {
                Ok(())
            } else {
                Err(policy(
                    "staff move sessions pending → waiting → live → completed",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Filter {
        Filter::parse_realtime(s).unwrap()
    }

    #[test]
    fn anon_rules() {
        let a = Principal::Anon;
        assert!(check(&a, Table::Events, Action::Select, &[]).is_ok());
        assert!(check(&a, Table::Hotels, Action::Select, &[]).is_ok());
        for act in [Action::Insert, Action::Update, Action::Delete] {
            for t in Table::ALL {
                assert!(check(&a, t, act, &[f("id=eq.1")]).is_err(), "{t:?} {act:?}");
            }
        }
        assert!(check(&a, Table::Sessions, Action::Select, &[f("id=eq.1")]).is_err());
        // kiosk_results: only one pinned session.
        assert!(check(&a, Table::KioskResults, Action::Select, &[]).is_err());
        assert!(
            check(
                &a,
                Table::KioskResults,
                Action::Select,
                &[f("session_id=neq.x")]
            )
            .is_err()
        );
        assert!(
            check(
                &a,
                Table::KioskResults,
                Action::Select,
                &[f("session_id=in.(a,b)")]
            )
            .is_err()
        );
        assert!(check(&a, Table::KioskResults, Action::Select, &[f("id=eq.x")]).is_err());
        // `not.eq` reads every other session's results: the opposite of pinning one.
        let not_eq = Filter::parse_rest("session_id", "not.eq.abc").unwrap();
        assert!(check(&a, Table::KioskResults, Action::Select, &[not_eq]).is_err());
        let like = Filter::parse_rest("session_id", "like.*").unwrap();
        assert!(check(&a, Table::KioskResults, Action::Select, &[like]).is_err());
        assert!(
            check(
                &a,
                Table::KioskResults,
                Action::Select,
                &[f("session_id=eq.abc")]
            )
            .is_ok()
        );
        assert!(check_subscribe(&a, Table::KioskResults, None).is_err());
        assert!(check_subscribe(&a, Table::KioskResults, Some(&f("session_id=eq.abc"))).is_ok());
        assert!(check_subscribe(&a, Table::Sessions, None).is_err());
        assert!(!row_visible(&a, Table::Sessions, &Map::new()));
    }

    #[test]
    fn service_role_may_do_everything() {
        let s = Principal::ServiceRole;
        for t in Table::ALL {
            for act in [
                Action::Select,
                Action::Insert,
                Action::Update,
                Action::Delete,
            ] {
                assert!(check(&s, t, act, &[]).is_ok());
            }
            assert!(row_visible(&s, t, &Map::new()));
        }
    }

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

    fn user(role: AppRole, id: &str) -> Principal {
        Principal::User(User {
            id: id.into(),
            role,
            name: Some(format!("{id}-name")),
            exp: 4_000_000_000,
        })
    }

    const ME: &str = "11111111-1111-4111-8111-111111111111";
    const OTHER: &str = "22222222-2222-4222-8222-222222222222";

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn session(customer: &str, status: &str, staff: Option<&str>) -> Map<String, Value> {
        row(serde_json::json!({
            "id": "33333333-3333-4333-8333-333333333333",
            "customer_id": customer, "customer_name": format!("{customer}-name"),
            "status": status, "kind": "chat", "staff_id": staff, "staff_name": staff.map(|s| format!("{s}-name")),
            "topic": "help", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "ended_at": null
        }))
    }

    fn with(mut r: Map<String, Value>, k: &str, v: Value) -> Map<String, Value> {
        r.insert(k.into(), v);
        r
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
                exp: 4_000_000_000
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

    #[test]
    fn customers_see_and_touch_only_their_own_sessions() {
        let me = user(AppRole::Customer, ME);
        assert!(check(&me, Table::Sessions, Action::Select, &[]).is_ok());
        assert!(check(&me, Table::Sessions, Action::Delete, &[f("id=eq.1")]).is_err());
        assert!(check(&me, Table::KioskResults, Action::Select, &[]).is_err());
        assert!(row_visible(
            &me,
            Table::Sessions,
            &session(ME, "pending", None)
        ));
        assert!(!row_visible(
            &me,
            Table::Sessions,
            &session(OTHER, "pending", None)
        ));
        assert_eq!(
            row_scope(&me, Table::Sessions),
            RowScope::AnyOf(vec![vec![f(&format!("customer_id=eq.{ME}"))]])
        );
        assert_eq!(row_scope(&me, Table::Events), RowScope::All);

        // Insert: forced to me and pending; contradictions refused.
        let mut r = row(serde_json::json!({"kind": "chat", "topic": "x"}));
        prepare_insert(&me, Table::Sessions, &mut r).unwrap();
        assert_eq!(r["customer_id"], ME);
        assert_eq!(r["status"], "pending");
        assert_eq!(
            r["customer_name"],
            format!("{ME}-name"),
            "the name is the token's"
        );
        let mut r = row(serde_json::json!({"kind": "chat", "customer_name": "The Manager"}));
        prepare_insert(&me, Table::Sessions, &mut r).unwrap();
        assert_eq!(
            r["customer_name"],
            format!("{ME}-name"),
            "a client-sent name is replaced"
        );
        for bad in [
            serde_json::json!({"kind": "chat", "customer_id": OTHER}),
            serde_json::json!({"kind": "chat", "status": "live"}),
            serde_json::json!({"kind": "chat", "staff_id": OTHER}),
        ] {
            assert!(
                prepare_insert(&me, Table::Sessions, &mut row(bad.clone())).is_err(),
                "{bad}"
            );
        }

        // Update: only ending an active session of mine.
        let old = session(ME, "live", Some(OTHER));
        let ok = with(old.clone(), "status", "completed".into());
        assert!(check_update(&me, Table::Sessions, &old, &ok).is_ok());
        let cancel = with(session(ME, "pending", None), "status", "cancelled".into());
        assert!(check_update(&me, Table::Sessions, &session(ME, "pending", None), &cancel).is_ok());
        let to_live = with(old.clone(), "status", "live".into());
        let from_pending = session(ME, "pending", None);
        assert!(
            check_update(
                &me,
                Table::Sessions,
                &from_pending,
                &with(from_pending.clone(), "status", "live".into())
            )
            .is_err()
        );
        assert!(
            check_update(&me, Table::Sessions, &old, &to_live).is_ok(),
            "no-op status"
        );
        let done = session(ME, "completed", None);
        assert!(
            check_update(
                &me,
                Table::Sessions,
                &done,
                &with(done.clone(), "status", "cancelled".into())
            )
            .is_err()
        );
        assert!(
            check_update(
                &me,
                Table::Sessions,
                &old,
                &with(ok.clone(), "customer_id", OTHER.into())
            )
            .is_err()
        );
        assert!(
            check_update(
                &me,
                Table::Sessions,
                &old,
                &with(ok.clone(), "topic", "changed".into())
            )
            .is_err()
        );
        assert!(
            check_update(
                &me,
                Table::Sessions,
                &old,
                &with(ok.clone(), "customer_name", "Someone Else".into())
            )
            .is_err(),
            "the name stamped at request time is not the customer's to rewrite"
        );
        assert!(
            check_update(&me, Table::Sessions, &old, &with(ok, "staff_id", ME.into())).is_err()
        );

        let mut patch = row(serde_json::json!({"status": "completed"}));
        prepare_update(&me, Table::Sessions, &mut patch, "2026-01-01T00:00:01Z").unwrap();
        assert_eq!(patch["ended_at"], "2026-01-01T00:00:01Z");
    }

    #[test]
    fn staff_see_pending_and_their_own_and_follow_the_lifecycle() {
        let st = user(AppRole::Staff, ME);
        assert!(check(&st, Table::Sessions, Action::Select, &[]).is_ok());
        assert!(check(&st, Table::Sessions, Action::Insert, &[]).is_err());
        assert!(check(&st, Table::Sessions, Action::Delete, &[f("id=eq.1")]).is_err());
        assert!(row_visible(
            &st,
            Table::Sessions,
            &session(OTHER, "pending", None)
        ));
        assert!(row_visible(
            &st,
            Table::Sessions,
            &session(OTHER, "live", Some(ME))
        ));
        assert!(!row_visible(
            &st,
            Table::Sessions,
            &session(OTHER, "waiting", Some(OTHER))
        ));
        assert!(!row_visible(
            &st,
            Table::Sessions,
            &session(OTHER, "cancelled", None)
        ));

        let pending = session(OTHER, "pending", None);
        let accepted = with(
            with(
                with(pending.clone(), "status", "waiting".into()),
                "staff_id",
                ME.into(),
            ),
            "staff_name",
            "x".into(),
        );
        assert!(check_update(&st, Table::Sessions, &pending, &accepted).is_ok());
        // Accepting for someone else, or skipping straight to live, is refused.
        let for_other = with(accepted.clone(), "staff_id", OTHER.into());
        assert!(check_update(&st, Table::Sessions, &pending, &for_other).is_err());
        let straight_live = with(accepted.clone(), "status", "live".into());
        assert!(check_update(&st, Table::Sessions, &pending, &straight_live).is_err());
        let live = with(accepted.clone(), "status", "live".into());
        assert!(check_update(&st, Table::Sessions, &accepted, &live).is_ok());
        let done = with(live.clone(), "status", "completed".into());
        assert!(check_update(&st, Table::Sessions, &live, &done).is_ok());
        assert!(
            check_update(
                &st,
                Table::Sessions,
                &done,
                &with(done.clone(), "status", "live".into())
            )
            .is_err()
        );
        assert!(
            check_update(
                &st,
                Table::Sessions,
                &live,
                &with(done, "customer_id", ME.into())
            )
            .is_err()
        );

        // The name written on accept is the token's, whatever the client sent.
        let mut patch =
            row(serde_json::json!({"status": "waiting", "staff_id": ME, "staff_name": "Mallory"}));
        prepare_update(&st, Table::Sessions, &mut patch, "t").unwrap();
        assert_eq!(patch["staff_name"], format!("{ME}-name"));
        assert!(patch.get("ended_at").is_none());
    }

    #[test]
    fn row_scope_and_row_visible_agree() {
        // The SQL scope's filters, evaluated by hand, must select exactly the visible rows.
        let principals = [user(AppRole::Customer, ME), user(AppRole::Staff, ME)];
        let people = [ME, OTHER];
        for p in &principals {
            for cust in people {
                for status in crate::db::schema::SESSION_STATUSES {
                    for staff in [None, Some(ME), Some(OTHER)] {
                        let r = session(cust, status, staff);
                        let by_scope = match row_scope(p, Table::Sessions) {
                            RowScope::All => true,
                            RowScope::AnyOf(branches) => branches.iter().any(|conj| {
                                conj.iter().all(|f| match (&f.op, &f.value) {
                                    (FilterOp::Eq, FilterValue::One(v)) => {
                                        text(&r, &f.column) == Some(v.as_str())
                                    }
                                    _ => unreachable!("scopes use eq only"),
                                })
                            }),
                        };
                        assert_eq!(by_scope, row_visible(p, Table::Sessions, &r), "{p:?} {r:?}");
                    }
                }
            }
        }
    }
}
