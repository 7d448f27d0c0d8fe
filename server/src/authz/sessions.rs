//! `public.sessions`: a customer's request for help and its lifecycle. A customer reads and
//! writes only their own and may only end one; staff read the pending requests and the ones
//! assigned to them, and move them along the table of moves in [`SessionStatus`].

use concierge_wire::filter::Filter;
use concierge_wire::{AppRole, SessionStatus};
use serde_json::Value;

use super::{Action, Caller, Denied, RowScope, TableRules, User};
use crate::schema::{Row, Table};

pub(super) struct Sessions;

fn policy(why: &'static str) -> Denied {
    Denied::RowPolicy {
        table: Table::Sessions.name(),
        why,
    }
}

fn text<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

/// A row's status, parsed once; `None` when it is missing or not a status.
fn status(row: &Row) -> Option<SessionStatus> {
    text(row, "status").and_then(SessionStatus::parse)
}

/// The name a user's token carries, as a column value.
fn token_name(u: &User) -> Value {
    u.name.clone().map_or(Value::Null, Value::String)
}

impl TableRules for Sessions {
    /// `grant select, insert, update on public.sessions to authenticated` (nothing to anon, no
    /// deletes); the insert is only for customers (`app_role() = 'customer'` in
    /// `sessions_customer_insert`). A kiosk is authenticated too: it may ask, and reaches no row.
    fn grant(&self, who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        let role = match who {
            Caller::User(u) => Some(u.role),
            Caller::Kiosk(_) => None,
            Caller::Anon => {
                return Err(Denied::no_grant(Table::Sessions, action));
            }
        };
        match (action, role) {
            (Action::Select | Action::Update, _) => Ok(()),
            (Action::Insert, Some(AppRole::Customer)) => Ok(()),
            _ => Err(Denied::no_grant(Table::Sessions, action)),
        }
    }

    /// `sessions_customer_read` (`customer_id = auth.uid()`) and `sessions_staff_read`
    /// (`status = 'pending' or staff_id = auth.uid()`); the update policies' `USING` clauses
    /// reach the same rows, and [`Sessions::on_update`] checks the rest.
    fn scope(&self, who: Caller<'_>) -> RowScope {
        let Caller::User(u) = who else {
            return RowScope::AnyOf(vec![]);
        };
        match u.role {
            AppRole::Customer => RowScope::AnyOf(vec![vec![Filter::eq("customer_id", &u.id)]]),
            AppRole::Staff => RowScope::AnyOf(vec![
                vec![Filter::eq("status", SessionStatus::Pending.as_str())],
                vec![Filter::eq("staff_id", &u.id)],
            ]),
        }
    }

    /// The read policies of [`Sessions::scope`], on one row.
    fn visible(&self, who: Caller<'_>, row: &Row) -> bool {
        let Caller::User(u) = who else { return false };
        let me = Some(u.id.as_str());
        match u.role {
            AppRole::Customer => text(row, "customer_id") == me,
            AppRole::Staff => {
                status(row) == Some(SessionStatus::Pending) || text(row, "staff_id") == me
            }
        }
    }

    /// `sessions_customer_insert`: `customer_id = auth.uid() and status = 'pending' and
    /// staff_id is null and staff_name is null and ended_at is null`. Like a column default
    /// forced by a trigger, the server fills in what is missing (the customer, `pending`) and
    /// stamps the requester's name from the token; `id` and `created_at` are the server's.
    fn on_insert(&self, who: Caller<'_>, row: &mut Row) -> Result<(), Denied> {
        let Caller::User(u) = who else {
            return Err(Denied::no_grant(Table::Sessions, Action::Insert));
        };
        if u.role != AppRole::Customer {
            return Err(Denied::no_grant(Table::Sessions, Action::Insert));
        }
        // The row's identity and times are the server's (the writer fills them in).
        row.remove("id");
        row.remove("created_at");
        match row.get("customer_id") {
            None | Some(Value::Null) => {
                row.insert("customer_id".into(), Value::String(u.id.clone()));
            }
            Some(v) if v.as_str() == Some(u.id.as_str()) => {}
            Some(_) => return Err(policy("customer_id must be your own user id")),
        }
        // Who is asking is a fact from the token, like `customer_id`; a client-sent name is
        // replaced rather than refused, as `staff_name` is on accept.
        row.insert("customer_name".into(), token_name(u));
        match row.get("status") {
            None | Some(Value::Null) => {
                let pending = SessionStatus::Pending.as_str();
                row.insert("status".into(), Value::String(pending.into()));
            }
            Some(_) if status(row) == Some(SessionStatus::Pending) => {}
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

    /// `sessions_guard`'s stamps, per row: `ended_at` is the server's, set when the session
    /// moves into an ended status and otherwise kept whatever the patch says (ending twice
    /// keeps the first time); `staff_name` is the accepting staff member's token name, set on
    /// accept (leaving `pending`) and otherwise kept. A customer who sends a `staff_name` is
    /// refused by [`Sessions::on_update`] instead, as in SQL.
    fn before_update(
        &self,
        who: Caller<'_>,
        old: &Row,
        patch: &mut Row,
        now: &str,
    ) -> Result<(), Denied> {
        let Caller::User(u) = who else { return Ok(()) };
        if u.role == AppRole::Staff {
            if status(old) == Some(SessionStatus::Pending) {
                patch.insert("staff_name".into(), token_name(u));
            } else {
                patch.remove("staff_name");
            }
        }
        patch.remove("ended_at");
        let to = match patch.get("status") {
            Some(_) => status(patch),
            None => status(old),
        };
        if to != status(old) && to.is_some_and(SessionStatus::is_ended) {
            patch.insert("ended_at".into(), Value::String(now.to_owned()));
        }
        Ok(())
    }

    /// `sessions_customer_update` and `sessions_staff_update`'s `WITH CHECK`, per row, plus
    /// the lifecycle: a role changes only its own columns, and a status changes only by a
    /// move [`SessionStatus::may_move`] allows.
    fn on_update(&self, who: Caller<'_>, old: &Row, new: &Row) -> Result<(), Denied> {
        let Caller::User(u) = who else {
            return Err(Denied::no_grant(Table::Sessions, Action::Update));
        };
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
        let me = Some(u.id.as_str());
        let mine = match u.role {
            AppRole::Customer => text(new, "customer_id") == me,
            AppRole::Staff => text(new, "staff_id") == me,
        };
        if !mine {
            return Err(policy(match u.role {
                AppRole::Customer => "not your session",
                AppRole::Staff => "staff act only on sessions assigned to themselves",
            }));
        }
        let moved = match (status(old), status(new)) {
            (Some(from), Some(to)) if from == to => match u.role {
                // Keeping the status is no move; a customer may touch an open or closed one
                // of theirs, staff one they already hold.
                AppRole::Customer => true,
                AppRole::Staff => from != SessionStatus::Pending && text(old, "staff_id") == me,
            },
            (Some(from), Some(to)) => SessionStatus::may_move(u.role, from, to),
            _ => false,
        };
        if moved {
            Ok(())
        } else {
            Err(policy(match u.role {
                AppRole::Customer => "a customer may only end an active session",
                AppRole::Staff => "staff move sessions pending → waiting → live → completed",
            }))
        }
    }
}

#[cfg(test)]
mod tests;
