//! `public.kiosk_results`: the search results a kiosk shows, one row per search. The search
//! endpoint writes them as the service role; each carries the owner of the kiosk session it
//! answers (`owner_id`, derived by the writer), and only that kiosk identity reads it.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use serde_json::Value;

use super::{Action, Caller, Denied, RowScope, TableRules};
use crate::schema::{Row, Table};

/// The column the legacy anon reader must pin: the kiosk's session id was the capability.
const PINNED: &str = "session_id";

pub(super) struct KioskResults;

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

/// The signed-in caller whose rows `owner_id = auth.uid()` selects.
fn reader<'a>(who: Caller<'a>) -> Option<&'a str> {
    match who {
        Caller::Kiosk(k) => Some(&k.id),
        Caller::User(u) => Some(&u.id),
        Caller::Anon | Caller::LegacyKioskAnon => None,
    }
}

impl TableRules for KioskResults {
    /// `grant select on public.kiosk_results to authenticated` with policy
    /// `kiosk_results_read` (`owner_id = auth.uid()`): a signed-in caller reads its own rows,
    /// with or without a filter, and the bare anon key reads nothing. The legacy anon reader
    /// (`--legacy-anon-kiosk-reads`) reads any one session it names.
    fn grant(&self, who: Caller<'_>, action: Action, filters: &[Filter]) -> Result<(), Denied> {
        match (action, who) {
            (Action::Select, Caller::User(_) | Caller::Kiosk(_)) => Ok(()),
            (Action::Select, Caller::LegacyKioskAnon) if pins(filters, PINNED) => Ok(()),
            (Action::Select, Caller::LegacyKioskAnon) => Err(Denied::NeedsEqFilter {
                table: Table::KioskResults.name(),
                column: PINNED,
                role: who.role(),
            }),
            _ => Err(Denied::no_grant(Table::KioskResults, action)),
        }
    }

    fn scope(&self, who: Caller<'_>) -> RowScope {
        match (who, reader(who)) {
            (_, Some(me)) => RowScope::AnyOf(vec![vec![Filter::eq("owner_id", me)]]),
            // The pin is in the caller's own filters, which are ANDed on.
            (Caller::LegacyKioskAnon, None) => RowScope::All,
            (_, None) => RowScope::AnyOf(vec![]),
        }
    }

    fn visible(&self, who: Caller<'_>, row: &Row) -> bool {
        match (who, reader(who)) {
            (_, Some(me)) => row.get("owner_id").and_then(Value::as_str) == Some(me),
            // Delivery trusts the subscription's pin (checked by `grant` at join).
            (Caller::LegacyKioskAnon, None) => true,
            (_, None) => false,
        }
    }

    /// No update policy on `public.kiosk_results`.
    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(Table::KioskResults, Action::Update))
    }
}

#[cfg(test)]
mod tests {
    use concierge_wire::{AppRole, Filter};

    use crate::authz::testing::{ME, OTHER, f, kiosk, row, user};
    use crate::authz::{Action, Principal, check, check_subscribe, row_visible};
    use crate::schema::{Row, Table};

    #[test]
    fn legacy_anon_reads_only_one_pinned_session() {
        let a = Principal::LegacyKioskAnon;
        let read = |filters: &[Filter]| check(&a, Table::KioskResults, Action::Select, filters);
        assert!(read(&[]).is_err());
        assert!(read(&[f("session_id=neq.x")]).is_err());
        assert!(read(&[f("session_id=in.(a,b)")]).is_err());
        assert!(read(&[f("id=eq.x")]).is_err());
        // `not.eq` reads every other session's results: the opposite of pinning one.
        assert!(read(&[Filter::parse_rest("session_id", "not.eq.abc").unwrap()]).is_err());
        assert!(read(&[Filter::parse_rest("session_id", "like.*").unwrap()]).is_err());
        assert!(read(&[f("session_id=eq.abc")]).is_ok());
        assert!(check_subscribe(&a, Table::KioskResults, None).is_err());
        assert!(check_subscribe(&a, Table::KioskResults, Some(&f("session_id=eq.abc"))).is_ok());
        // Delivery trusts the subscription's pin.
        assert!(row_visible(&a, Table::KioskResults, &Row::new()));
    }

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
