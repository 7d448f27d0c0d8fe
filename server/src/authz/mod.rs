//! The one authorization layer. REST handlers, the write path and realtime delivery all ask
//! this module; nothing else decides who may see or change what.
//!
//! It mirrors the row-level security in `supabase/migrations/0002_rules_level.sql`, one module
//! per table, each rule naming the SQL grant or policy it stands for:
//! - [`catalogue`] (`hotels` and `events`): anyone with a key reads it.
//! - [`kiosk_results`]: read only by the kiosk identity (an anonymous sign-in) that claimed
//!   the session in [`kiosk_sessions`]; written only by the search endpoint (as the service
//!   role). The bare anon key reads none, whatever session it names.
//! - [`kiosk_sessions`]: a kiosk claims the session ids it shows, and reads its own claims.
//! - [`sessions`]: a **customer** reads and writes only their own requests and may only end
//!   one; a **staff** member reads the pending requests and their own, and walks them through
//!   the lifecycle in [`concierge_wire::SessionStatus`].
//! - [`messages`]: the conversation of a session, reached through the session (its customer
//!   while open, the staff member holding it, the kiosk that claimed it); see [`Conversation`].
//! - [`reservations`]: staff read them; they are written only by the `reserve` and
//!   `cancel_reservation` calls ([`may_call`]).
//!
//! The service role bypasses all of it, as it bypasses row-level security in Postgres.
//!
//! Reads are restricted in SQL by a [`RowScope`] (ANDed with whatever the caller filtered, so a
//! filter can never widen access) and, for realtime, per change with [`row_visible`]; both come
//! from the same table module. Writes are checked row by row ([`prepare_insert`],
//! [`prepare_update`], [`check_update`]) inside the writer's transaction.

mod catalogue;
pub mod channels;
mod kiosk_results;
mod kiosk_sessions;
mod messages;
pub mod principal;
pub mod reservations;
mod sessions;
#[cfg(test)]
mod testing;

use concierge_wire::filter::Filter;

pub use messages::Conversation;
pub use principal::{AuthError, Kiosk, Principal, User};
pub use reservations::{Function, may_call};

use crate::schema::{Row, Table};

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
pub enum Denied {
    #[error("permission denied for table {table}")]
    NoGrant { table: &'static str, action: Action },
    /// A written row fails the table's row-level policy (Postgres' 42501 "new row violates
    /// row-level security policy"); `why` says which rule, for the person debugging.
    #[error("new row violates row-level security policy for table \"{table}\": {why}")]
    RowPolicy {
        table: &'static str,
        why: &'static str,
    },
    /// `revoke execute`, or a function that checks who calls it (Postgres' 42501).
    #[error("permission denied for function {name}")]
    Function { name: &'static str },
}

impl Denied {
    fn no_grant(table: Table, action: Action) -> Denied {
        Denied::NoGrant {
            table: table.name(),
            action,
        }
    }
}

/// Which rows of a table a principal reaches, as SQL will see it: every row, or the rows that
/// match at least one of several conjunctions of filters (row-level security as OR-of-ANDs).
/// The layer ANDs it onto every read, update and delete, after the caller's own filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    AnyOf(Vec<Vec<Filter>>),
    /// The rows whose `column` names a row of `table` that matches `filters`: a policy that
    /// reads another table (`column in (select id from table where …)`).
    Through {
        column: &'static str,
        table: Table,
        filters: Vec<Filter>,
    },
}

/// A caller the rules apply to: everyone but the service role.
#[derive(Debug, Clone, Copy)]
enum Caller<'a> {
    /// The bare anon key (`to anon` in SQL).
    Anon,
    /// A signed-in customer or staff member (`to authenticated`).
    User(&'a User),
    /// An anonymous sign-in (`to authenticated`, `app_role() = 'kiosk'` in SQL).
    Kiosk(&'a Kiosk),
}

impl Caller<'_> {
    /// `None` for the service role, which no rule binds.
    fn of(p: &Principal) -> Option<Caller<'_>> {
        match p {
            Principal::ServiceRole => None,
            Principal::Anon => Some(Caller::Anon),
            Principal::User(u) => Some(Caller::User(u)),
            Principal::Kiosk(k) => Some(Caller::Kiosk(k)),
        }
    }
}

/// One table's rules, a method per kind of SQL statement that governs it. Each table module
/// implements the ones its migration has; the defaults are what a table without such a policy
/// gets (no grant, or nothing to add).
trait TableRules: Sync {
    /// `GRANT … ON <table>`: may `who` run `action` at all, with a statement restricted by
    /// `filters`? (Which rows it reaches is [`TableRules::scope`]'s business.)
    fn grant(&self, who: Caller<'_>, action: Action, filters: &[Filter]) -> Result<(), Denied>;

    /// The `USING` clause of the select and update policies, as filters SQL ANDs onto the
    /// statement.
    fn scope(&self, _who: Caller<'_>) -> RowScope {
        RowScope::All
    }

    /// The same `USING` clause evaluated on one row in memory (realtime delivery). It must
    /// agree with [`TableRules::scope`].
    fn visible(&self, _who: Caller<'_>, _row: &Row) -> bool {
        true
    }

    /// [`TableRules::visible`] for a table whose policy reads the row's conversation.
    fn visible_in(&self, who: Caller<'_>, row: &Row, _conversation: Option<&Conversation>) -> bool {
        self.visible(who, row)
    }

    /// An insert: the columns the server forces, then the insert policy's `WITH CHECK`.
    fn on_insert(&self, _who: Caller<'_>, _row: &mut Row) -> Result<(), Denied> {
        Ok(())
    }

    /// The part of the insert policy's `WITH CHECK` that reads another table: judged on the
    /// writer's connection with the row's [`Conversation`].
    fn on_insert_in(
        &self,
        _who: Caller<'_>,
        _row: &Row,
        _conversation: Option<&Conversation>,
    ) -> Result<(), Denied> {
        Ok(())
    }

    /// An update's patch for one row `old`, before it runs: the columns the server writes
    /// itself (a `BEFORE UPDATE` trigger in SQL, which sees the old row too).
    fn before_update(
        &self,
        _who: Caller<'_>,
        _old: &Row,
        _patch: &mut Row,
        _now: &str,
    ) -> Result<(), Denied> {
        Ok(())
    }

    /// The update policy's `WITH CHECK`, per row: may `who` turn `old` into `new`? A table
    /// without an update policy refuses.
    fn on_update(&self, who: Caller<'_>, old: &Row, new: &Row) -> Result<(), Denied>;
}

fn rules(table: Table) -> &'static dyn TableRules {
    match table {
        Table::Hotels => &catalogue::Catalogue(Table::Hotels),
        Table::Events => &catalogue::Catalogue(Table::Events),
        Table::KioskResults => &kiosk_results::KioskResults,
        Table::KioskSessions => &kiosk_sessions::KioskSessions,
        Table::Sessions => &sessions::Sessions,
        Table::Messages => &messages::Messages,
        Table::Reservations => &reservations::Reservations,
    }
}

/// May `p` perform `action` on `table` with a statement restricted by `filters`? (Which rows
/// it reaches is [`row_scope`]'s business.)
pub fn check(
    p: &Principal,
    table: Table,
    action: Action,
    filters: &[Filter],
) -> Result<(), Denied> {
    match Caller::of(p) {
        None => Ok(()),
        Some(who) => rules(table).grant(who, action, filters),
    }
}

/// May `p` subscribe to realtime changes of `table` with this binding filter? Realtime and
/// REST reads share the rule: a subscription is a standing read.
pub fn check_subscribe(p: &Principal, table: Table, filter: Option<&Filter>) -> Result<(), Denied> {
    check(p, table, Action::Select, filter.cloned().as_slice())
}

/// Row-level visibility for realtime delivery, evaluated per change and subscriber: the
/// in-memory twin of [`row_scope`] (each table's tests check the two against each other).
pub fn row_visible(p: &Principal, table: Table, row: &Row) -> bool {
    match Caller::of(p) {
        None => true,
        Some(who) => rules(table).visible(who, row),
    }
}

/// [`row_visible`] for a change that carries its row's [`Conversation`] (messages).
pub fn change_visible(
    p: &Principal,
    table: Table,
    row: &Row,
    conversation: Option<&Conversation>,
) -> bool {
    match Caller::of(p) {
        None => true,
        Some(who) => rules(table).visible_in(who, row, conversation),
    }
}

/// Whether the table's policies read the row's [`Conversation`] (the writer looks it up).
pub fn needs_conversation(table: Table) -> bool {
    table == Table::Messages
}

/// The insert policy's cross-table check of a prepared row, with its conversation as the
/// writer found it (`None`: no such session).
pub fn check_insert_in(
    p: &Principal,
    table: Table,
    row: &Row,
    conversation: Option<&Conversation>,
) -> Result<(), Denied> {
    match Caller::of(p) {
        None => Ok(()),
        Some(who) => rules(table).on_insert_in(who, row, conversation),
    }
}

/// Row-level security for reads, updates and deletes of `p` on `table`.
pub fn row_scope(p: &Principal, table: Table) -> RowScope {
    match Caller::of(p) {
        None => RowScope::All,
        Some(who) => rules(table).scope(who),
    }
}

/// Fills in and checks a row `p` is inserting (Postgres: column defaults forced by a trigger,
/// then the policy's `WITH CHECK`).
pub fn prepare_insert(p: &Principal, table: Table, row: &mut Row) -> Result<(), Denied> {
    match Caller::of(p) {
        None => Ok(()),
        Some(who) => rules(table).on_insert(who, row),
    }
}

/// Adjusts an update's patch for the row `old` before it runs (columns the server stamps
/// itself, from the old row and the token).
pub fn prepare_update(
    p: &Principal,
    table: Table,
    old: &Row,
    patch: &mut Row,
    now: &str,
) -> Result<(), Denied> {
    match Caller::of(p) {
        None => Ok(()),
        Some(who) => rules(table).before_update(who, old, patch, now),
    }
}

/// The update policy's `WITH CHECK`, per row: may `p` turn `old` into `new`?
pub fn check_update(p: &Principal, table: Table, old: &Row, new: &Row) -> Result<(), Denied> {
    match Caller::of(p) {
        None => Ok(()),
        Some(who) => rules(table).on_update(who, old, new),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::f;
    use super::*;

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
        assert!(check_subscribe(&a, Table::Sessions, None).is_err());
        assert!(!row_visible(&a, Table::Sessions, &Row::new()));
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
            assert!(row_visible(&s, t, &Row::new()));
        }
    }
}
