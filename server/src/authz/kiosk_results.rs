//! `public.kiosk_results`: the search results a kiosk shows, one row per search. The search
//! endpoint writes them as the service role; the kiosk reads them by the session id it holds.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};

use super::{Action, Caller, Denied, TableRules};
use crate::schema::{Row, Table};

/// The column a reader must pin: the kiosk's session id is the capability.
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

impl TableRules for KioskResults {
    /// `grant select on public.kiosk_results to anon, authenticated` with policy
    /// `kiosk_results_read`. Postgres cannot make a query name the session, so the migration
    /// limits exposure to a day's rows; this server does better and refuses any read that does
    /// not pin one `session_id`.
    fn grant(&self, who: Caller<'_>, action: Action, filters: &[Filter]) -> Result<(), Denied> {
        match action {
            Action::Select if pins(filters, PINNED) => Ok(()),
            Action::Select => Err(Denied::NeedsEqFilter {
                table: Table::KioskResults.name(),
                column: PINNED,
                role: who.role(),
            }),
            _ => Err(Denied::no_grant(Table::KioskResults, action)),
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

    use crate::authz::testing::{ME, f, user};
    use crate::authz::{Action, Principal, check, check_subscribe, row_visible};
    use crate::schema::{Row, Table};

    #[test]
    fn anon_reads_only_one_pinned_session() {
        let a = Principal::Anon;
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
    fn signed_in_users_need_the_pin_too_and_write_nothing() {
        for p in [user(AppRole::Customer, ME), user(AppRole::Staff, ME)] {
            assert!(check(&p, Table::KioskResults, Action::Select, &[]).is_err());
            let pinned = [f("session_id=eq.abc")];
            assert!(check(&p, Table::KioskResults, Action::Select, &pinned).is_ok());
            for act in [Action::Insert, Action::Update, Action::Delete] {
                assert!(
                    check(&p, Table::KioskResults, act, &pinned).is_err(),
                    "{act:?}"
                );
            }
        }
    }
}
