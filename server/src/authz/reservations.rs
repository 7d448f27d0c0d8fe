//! `public.reservations` and the two calls that write it (issue 17), the twin of
//! `supabase/migrations/0004_reservations.sql`. Guests' names and rooms are for staff only:
//! staff read every reservation; a kiosk, a customer or the anon key reads none of them (they
//! see an event's `places_left`, which is public like the rest of the catalogue). Nobody but
//! the service role writes the table directly: bookings go through `reserve`, cancellations
//! through `cancel_reservation`.

use concierge_wire::AppRole;
use concierge_wire::filter::Filter;

use super::{Action, Caller, Denied, Principal, RowScope, TableRules};
use crate::schema::{Row, Table};

pub(super) struct Reservations;

fn is_staff(who: Caller<'_>) -> bool {
    matches!(who, Caller::User(u) if u.role == AppRole::Staff)
}

impl TableRules for Reservations {
    /// `grant select on public.reservations to authenticated` with the policy
    /// `reservations_staff_read` (`app_role() = 'staff'`); no grant to anon, no write grants.
    fn grant(&self, who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        match (action, who) {
            (Action::Select, Caller::User(_) | Caller::Kiosk(_)) => Ok(()),
            _ => Err(Denied::no_grant(Table::Reservations, action)),
        }
    }

    fn scope(&self, who: Caller<'_>) -> RowScope {
        if is_staff(who) {
            RowScope::All
        } else {
            RowScope::AnyOf(vec![])
        }
    }

    fn visible(&self, who: Caller<'_>, _row: &Row) -> bool {
        is_staff(who)
    }

    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(Table::Reservations, Action::Update))
    }
}

/// The database functions the REST API exposes at `/rest/v1/rpc/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Reserve,
    CancelReservation,
}

impl Function {
    pub const ALL: [Function; 2] = [Function::Reserve, Function::CancelReservation];

    pub fn name(self) -> &'static str {
        match self {
            Function::Reserve => "reserve",
            Function::CancelReservation => "cancel_reservation",
        }
    }

    pub fn parse(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// `grant execute`: anyone with a key books (a kiosk books for a guest, with the anon key or
/// its anonymous sign-in; a customer for themself); only staff and the service role cancel
/// (the hosted function checks `app_role() = 'staff'`).
pub fn may_call(p: &Principal, f: Function) -> Result<(), Denied> {
    let Some(who) = Caller::of(p) else {
        return Ok(());
    };
    match f {
        Function::Reserve => Ok(()),
        Function::CancelReservation if is_staff(who) => Ok(()),
        Function::CancelReservation => Err(Denied::Function { name: f.name() }),
    }
}

#[cfg(test)]
mod tests {
    use concierge_wire::AppRole;

    use super::*;
    use crate::authz::testing::{ME, kiosk, user};
    use crate::authz::{check, row_scope, row_visible};

    #[test]
    fn staff_read_reservations_and_nobody_else_does() {
        let t = Table::Reservations;
        let staff = user(AppRole::Staff, ME);
        assert_eq!(row_scope(&staff, t), RowScope::All);
        assert!(row_visible(&staff, t, &Row::new()));
        for p in [kiosk(ME), user(AppRole::Customer, ME)] {
            assert!(check(&p, t, Action::Select, &[]).is_ok());
            assert_eq!(row_scope(&p, t), RowScope::AnyOf(vec![]));
            assert!(!row_visible(&p, t, &Row::new()));
        }
        assert!(check(&Principal::Anon, t, Action::Select, &[]).is_err());
        for p in [staff, kiosk(ME), Principal::Anon] {
            for act in [Action::Insert, Action::Update, Action::Delete] {
                assert!(check(&p, t, act, &[]).is_err(), "{p:?} {act:?}");
            }
        }
    }

    #[test]
    fn anyone_reserves_and_only_staff_cancel() {
        for p in [
            Principal::Anon,
            kiosk(ME),
            user(AppRole::Customer, ME),
            user(AppRole::Staff, ME),
            Principal::ServiceRole,
        ] {
            assert!(may_call(&p, Function::Reserve).is_ok(), "{p:?}");
        }
        assert!(may_call(&user(AppRole::Staff, ME), Function::CancelReservation).is_ok());
        assert!(may_call(&Principal::ServiceRole, Function::CancelReservation).is_ok());
        for p in [Principal::Anon, kiosk(ME), user(AppRole::Customer, ME)] {
            assert!(may_call(&p, Function::CancelReservation).is_err(), "{p:?}");
        }
        assert_eq!(Function::parse("reserve"), Some(Function::Reserve));
        assert_eq!(Function::parse("nope"), None);
    }
}
