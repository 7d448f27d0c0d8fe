//! `public.kiosk_sessions`: the session ids a kiosk identity has claimed, one insert each. A
//! claim makes the search results written for that session the kiosk's own (`owner_id` on
//! `kiosk_results`). A session id is claimed once (the primary key), so nobody takes over a
//! kiosk's session; claims are never moved or deleted by clients.

use concierge_wire::filter::Filter;
use serde_json::Value;

use super::{Action, Caller, Denied, RowScope, TableRules};
use crate::schema::{Row, Table};

pub(super) struct KioskSessions;

impl TableRules for KioskSessions {
    /// `grant select, insert on public.kiosk_sessions to authenticated`; the policies
    /// (`kiosk_sessions_read`, `kiosk_sessions_claim`) admit kiosks only, so a customer reads
    /// none and may not claim.
    fn grant(&self, who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        match (action, who) {
            (Action::Select, Caller::User(_) | Caller::Kiosk(_)) => Ok(()),
            (Action::Insert, Caller::Kiosk(_)) => Ok(()),
            (Action::Insert, Caller::User(_)) => Err(Denied::RowPolicy {
                table: Table::KioskSessions.name(),
                why: "only a kiosk (an anonymous sign-in) claims kiosk sessions",
            }),
            _ => Err(Denied::no_grant(Table::KioskSessions, action)),
        }
    }

    /// `kiosk_sessions_read`: `app_role() = 'kiosk' and owner_id = auth.uid()`.
    fn scope(&self, who: Caller<'_>) -> RowScope {
        match who {
            Caller::Kiosk(k) => RowScope::AnyOf(vec![vec![Filter::eq("owner_id", &k.id)]]),
            _ => RowScope::AnyOf(vec![]),
        }
    }

    fn visible(&self, who: Caller<'_>, row: &Row) -> bool {
        match who {
            Caller::Kiosk(k) => row.get("owner_id").and_then(Value::as_str) == Some(&k.id),
            _ => false,
        }
    }

    /// `kiosk_sessions_guard`: the owner is the token's and the time the server's, whatever
    /// was sent (the writer fills `created_at` in when it is missing).
    fn on_insert(&self, who: Caller<'_>, row: &mut Row) -> Result<(), Denied> {
        let Caller::Kiosk(k) = who else {
            return Err(Denied::no_grant(Table::KioskSessions, Action::Insert));
        };
        row.insert("owner_id".into(), Value::String(k.id.clone()));
        row.remove("created_at");
        Ok(())
    }

    /// No update policy on `public.kiosk_sessions`.
    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(Table::KioskSessions, Action::Update))
    }
}

#[cfg(test)]
mod tests {
    use concierge_wire::AppRole;

    use crate::authz::testing::{ME, OTHER, kiosk, row, user};
    use crate::authz::{Action, Principal, check, prepare_insert, row_visible};
    use crate::schema::Table;

    #[test]
    fn a_kiosk_claims_for_itself_and_reads_its_own() {
        let k = kiosk(ME);
        let mut claim = row(serde_json::json!({"id": "k1", "owner_id": OTHER, "created_at": "x"}));
        prepare_insert(&k, Table::KioskSessions, &mut claim).unwrap();
        assert_eq!(claim["owner_id"], ME);
        assert!(claim.get("created_at").is_none(), "the writer stamps it");
        assert!(row_visible(&k, Table::KioskSessions, &claim));
        assert!(!row_visible(&kiosk(OTHER), Table::KioskSessions, &claim));
        for act in [Action::Update, Action::Delete] {
            assert!(check(&k, Table::KioskSessions, act, &[]).is_err());
        }
    }

    #[test]
    fn nobody_else_claims_or_reads() {
        for p in [
            Principal::Anon,
            user(AppRole::Customer, ME),
            user(AppRole::Staff, ME),
        ] {
            assert!(check(&p, Table::KioskSessions, Action::Insert, &[]).is_err());
            let claim = row(serde_json::json!({"id": "k1", "owner_id": ME}));
            assert!(!row_visible(&p, Table::KioskSessions, &claim), "{p:?}");
        }
        assert!(check(&Principal::Anon, Table::KioskSessions, Action::Select, &[]).is_err());
    }
}
