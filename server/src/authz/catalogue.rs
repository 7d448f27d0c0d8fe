//! `public.hotels` and `public.events`: the public catalogue. Their SQL is the same, word for
//! word, so one set of rules serves both (the kiosk needs the events and the hotel's time zone).

use concierge_wire::filter::Filter;

use super::{Action, Caller, Denied, TableRules};
use crate::schema::{Row, Table};

/// The rules of one catalogue table (`Table::Hotels` or `Table::Events`).
pub(super) struct Catalogue(pub Table);

impl TableRules for Catalogue {
    /// `grant select on public.hotels, public.events … to anon, authenticated` with the
    /// policies `hotels_read` and `events_read` (`using (true)`): anyone with a key reads every
    /// row; only the service role writes.
    fn grant(&self, _who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        match action {
            Action::Select => Ok(()),
            _ => Err(Denied::no_grant(self.0, action)),
        }
    }

    /// No update policy on either table.
    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(self.0, Action::Update))
    }
}

#[cfg(test)]
mod tests {
    use concierge_wire::AppRole;

    use crate::authz::testing::{ME, f, user};
    use crate::authz::{Action, Principal, RowScope, check, check_update, row_scope, row_visible};
    use crate::schema::{Row, Table};

    #[test]
    fn everyone_reads_the_catalogue_and_only_the_service_role_writes_it() {
        for t in [Table::Hotels, Table::Events] {
            for p in [
                Principal::Anon,
                user(AppRole::Customer, ME),
                user(AppRole::Staff, ME),
            ] {
                assert!(check(&p, t, Action::Select, &[]).is_ok(), "{t:?} {p:?}");
                assert_eq!(row_scope(&p, t), RowScope::All);
                assert!(row_visible(&p, t, &Row::new()));
                for act in [Action::Insert, Action::Update, Action::Delete] {
                    assert!(
                        check(&p, t, act, &[f("id=eq.1")]).is_err(),
                        "{t:?} {p:?} {act:?}"
                    );
                }
                assert!(check_update(&p, t, &Row::new(), &Row::new()).is_err());
            }
        }
    }
}
