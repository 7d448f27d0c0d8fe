//! `public.kiosk_results`: the search results a kiosk shows, one row per search. The search
//! endpoint writes them as the service role; each carries the owner of the kiosk session it
//! answers (`owner_id`, derived by the writer), and only that kiosk identity reads it.

use concierge_wire::filter::Filter;
use serde_json::Value;

use super::{Action, Caller, Denied, RowScope, TableRules};
use crate::schema::{Row, Table};

pub(super) struct KioskResults;

/// The signed-in caller whose rows `owner_id = auth.uid()` selects.
fn reader<'a>(who: Caller<'a>) -> Option<&'a str> {
    match who {
        Caller::Kiosk(k) => Some(&k.id),
        Caller::User(u) => Some(&u.id),
        Caller::Anon => None,
    }
}

impl TableRules for KioskResults {
    /// `grant select on public.kiosk_results to authenticated` with policy
    /// `kiosk_results_read` (`owner_id = auth.uid()`): a signed-in caller reads its own rows,
    /// with or without a filter, and the bare anon key reads nothing, whatever session it
    /// names: a session id is not a capability.
    fn grant(&self, who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        match (action, who) {
            (Action::Select, Caller::User(_) | Caller::Kiosk(_)) => Ok(()),
            _ => Err(Denied::no_grant(Table::KioskResults, action)),
        }
    }

    fn scope(&self, who: Caller<'_>) -> RowScope {
        match reader(who) {
            Some(me) => RowScope::AnyOf(vec![vec![Filter::eq("owner_id", me)]]),
            None => RowScope::AnyOf(vec![]),
        }
    }

    fn visible(&self, who: Caller<'_>, row: &Row) -> bool {
        match reader(who) {
            Some(me) => row.get("owner_id").and_then(Value::as_str) == Some(me),
            None => false,
        }
    }

    /// No update policy on `public.kiosk_results`.
    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(Table::KioskResults, Action::Update))
    }
}

#[cfg(test)]
mod tests {
    use concierge_wire::AppRole;

    use crate::authz::testing::{ME, OTHER, f, kiosk, row, user};
    use crate::authz::{Action, Principal, check, check_subscribe, row_visible};
    use crate::schema::{Row, Table};

    #[test]
    fn the_bare_anon_key_reads_no_results() {
        let a = Principal::Anon;
        let pinned = [f("session_id=eq.abc")];
        assert!(check(&a, Table::KioskResults, Action::Select, &pinned).is_err());
        assert!(check_subscribe(&a, Table::KioskResults, Some(&pinned[0])).is_err());
        assert!(!row_visible(&a, Table::KioskResults, &Row::new()));
    }

    #[test]
    fn only_the_owner_reads_and_nobody_writes() {
        let mine = row(serde_json::json!({"session_id": "s", "owner_id": ME}));
        let theirs = row(serde_json::json!({"session_id": "s", "owner_id": OTHER}));
        let nobodys = row(serde_json::json!({"session_id": "s", "owner_id": null}));
        let k = kiosk(ME);
        assert!(check(&k, Table::KioskResults, Action::Select, &[]).is_ok());
        assert!(row_visible(&k, Table::KioskResults, &mine));
        assert!(!row_visible(&k, Table::KioskResults, &theirs));
        assert!(!row_visible(&k, Table::KioskResults, &nobodys));
        for p in [
            kiosk(OTHER),
            user(AppRole::Customer, OTHER),
            user(AppRole::Staff, OTHER),
        ] {
            assert!(!row_visible(&p, Table::KioskResults, &mine), "{p:?}");
        }
        for p in [
            k,
            user(AppRole::Customer, OTHER),
            user(AppRole::Staff, OTHER),
        ] {
            for act in [Action::Insert, Action::Update, Action::Delete] {
                assert!(
                    check(&p, Table::KioskResults, act, &[f("id=eq.1")]).is_err(),
                    "{act:?}"
                );
            }
        }
    }
}
