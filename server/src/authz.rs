//! The one authorization layer. REST handlers, the write path and realtime delivery all ask
//! this module; nothing else decides who may see or change what.
//!
//! Rules today (product.md, "Data model"):
//! - `anon` (the kiosk's key) may read `events` and `hotels` (public catalogue data; the kiosk
//!   needs the hotel's time zone), and `kiosk_results` only for one session id it names with
//!   `session_id=eq.<id>`; it writes nothing over REST (searches go through `/api`).
//! - `service_role` may do everything.
//!
//! Per-user rules (customers see their own sessions, staff the ones they can act on) drop in
//! as a new [`Principal`] variant plus arms in [`check`], [`row_visible`] and [`forced_filters`].

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use serde_json::{Map, Value};

use crate::db::schema::Table;
use crate::jwt::{Claims, Keys, TokenError};

/// Who is asking, derived only from a verified JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anon,
    ServiceRole,
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
}

impl Principal {
    pub fn from_claims(claims: &Claims) -> Result<Principal, AuthError> {
        match claims.role.as_str() {
            "anon" => Ok(Principal::Anon),
            "service_role" => Ok(Principal::ServiceRole),
            other => Err(AuthError::UnknownRole(other.chars().take(32).collect())),
        }
    }

    /// Verifies `token` and maps its `role` claim.
    pub fn from_token(keys: &Keys, token: &str) -> Result<Principal, AuthError> {
        Principal::from_claims(&keys.verify(token)?)
    }

    pub fn role(&self) -> &'static str {
        match self {
            Principal::Anon => "anon",
            Principal::ServiceRole => "service_role",
        }
    }

    /// Whether this principal is a signed-in user rather than a bare API key (PostgREST
    /// answers 403 instead of 401 then).
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Principal::ServiceRole)
    }
}

/// Does `filters` pin `column` to exactly one value (`column=eq.v`)?
fn pins(filters: &[Filter], column: &str) -> bool {
    filters.iter().any(|f| {
        f.column == column && f.op == FilterOp::Eq && matches!(f.value, FilterValue::One(_))
    })
}

/// May `p` perform `action` on `table` with a statement restricted by `filters`?
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
    match p {
        Principal::ServiceRole => Ok(()),
        Principal::Anon => match (table, action) {
            (Table::Events | Table::Hotels, Action::Select) => Ok(()),
            (Table::KioskResults, Action::Select) => {
                if pins(filters, "session_id") {
                    Ok(())
                } else {
                    Err(Denied::NeedsEqFilter {
                        table: table.name(),
                        column: "session_id",
                        role: p.role(),
                    })
                }
            }
            _ => no,
        },
    }
}

/// May `p` subscribe to realtime changes of `table` with this binding filter? Realtime and
/// REST reads share the rule: a subscription is a standing read.
pub fn check_subscribe(p: &Principal, table: Table, filter: Option<&Filter>) -> Result<(), Denied> {
    check(p, table, Action::Select, filter.cloned().as_slice())
}

/// Row-level visibility for realtime delivery, evaluated per change and subscriber.
/// (Subscription-time checks already pinned anon to one kiosk session.)
pub fn row_visible(p: &Principal, table: Table, _row: &Map<String, Value>) -> bool {
    match p {
        Principal::ServiceRole => true,
        Principal::Anon => matches!(table, Table::Events | Table::Hotels | Table::KioskResults),
    }
}

/// Extra conditions the layer ANDs onto every query of `p` on `table` (row-level security
/// for reads, updates and deletes). None yet; a customer principal will get `customer_id=eq.<id>`.
pub fn forced_filters(p: &Principal, _table: Table) -> Vec<Filter> {
    match p {
        Principal::Anon | Principal::ServiceRole => Vec::new(),
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
}
