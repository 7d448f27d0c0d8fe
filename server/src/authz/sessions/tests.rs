//! The sessions rules, case by case, and the SQL scope checked against the in-memory one.

use concierge_wire::filter::{FilterOp, FilterValue};
use concierge_wire::{AppRole, SessionStatus};
use serde_json::Value;

use super::text;
use crate::authz::testing::{ME, OTHER, f, row, user};
use crate::authz::{
    Action, RowScope, check, check_update, prepare_insert, prepare_update, row_scope, row_visible,
};
use crate::schema::{Row, Table};

fn session(customer: &str, status: &str, staff: Option<&str>) -> Row {
    row(serde_json::json!({
        "id": "33333333-3333-4333-8333-333333333333",
        "customer_id": customer, "customer_name": format!("{customer}-name"),
        "status": status, "kind": "chat", "staff_id": staff, "staff_name": staff.map(|s| format!("{s}-name")),
        "topic": "help", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "ended_at": null
    }))
}

fn with(mut r: Row, k: &str, v: Value) -> Row {
    r.insert(k.into(), v);
    r
}

#[test]
fn customers_see_and_touch_only_their_own_sessions() {
    let me = user(AppRole::Customer, ME);
    assert!(check(&me, Table::Sessions, Action::Select, &[]).is_ok());
    assert!(check(&me, Table::Sessions, Action::Delete, &[f("id=eq.1")]).is_err());
    // Kiosk results: a customer may ask (the grant is to `authenticated`), and owns none.
    assert!(!row_visible(
        &me,
        Table::KioskResults,
        &row(serde_json::json!({"session_id": "k", "owner_id": OTHER}))
    ));
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
    assert!(check_update(&me, Table::Sessions, &old, &with(ok, "staff_id", ME.into())).is_err());

    // The end time is the server's: stamped when the session ends, otherwise kept, whatever
    // the patch says (the rule book's `customer-end-time-is-the-server`,
    // `customer-cannot-set-end-without-ending`, `customer-ended-session-stays-ended`).
    let mut patch =
        row(serde_json::json!({"status": "completed", "ended_at": "2020-01-01T00:00:00Z"}));
    prepare_update(
        &me,
        Table::Sessions,
        &old,
        &mut patch,
        "2026-01-01T00:00:01Z",
    )
    .unwrap();
    assert_eq!(patch["ended_at"], "2026-01-01T00:00:01Z");
    let mut patch = row(serde_json::json!({"ended_at": "2020-01-01T00:00:00Z"}));
    prepare_update(&me, Table::Sessions, &old, &mut patch, "t").unwrap();
    assert!(patch.get("ended_at").is_none(), "kept, not set");
    let mut patch = row(serde_json::json!({"status": "completed"}));
    prepare_update(&me, Table::Sessions, &done, &mut patch, "t").unwrap();
    assert!(
        patch.get("ended_at").is_none(),
        "ending twice keeps the first end"
    );
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
    prepare_update(&st, Table::Sessions, &pending, &mut patch, "t").unwrap();
    assert_eq!(patch["staff_name"], format!("{ME}-name"));
    assert!(patch.get("ended_at").is_none());
    // After accept the name is kept: a later one is ignored, not stored.
    let mut patch = row(serde_json::json!({"staff_name": "Someone Else"}));
    prepare_update(&st, Table::Sessions, &live, &mut patch, "t").unwrap();
    assert!(patch.get("staff_name").is_none());
}

#[test]
fn row_scope_and_row_visible_agree() {
    // The SQL scope's filters, evaluated by hand, must select exactly the visible rows.
    let principals = [user(AppRole::Customer, ME), user(AppRole::Staff, ME)];
    let people = [ME, OTHER];
    for p in &principals {
        for cust in people {
            for status in SessionStatus::ALL.map(SessionStatus::as_str) {
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
                        RowScope::Through { .. } => {
                            unreachable!("sessions are scoped by their own columns")
                        }
                    };
                    assert_eq!(by_scope, row_visible(p, Table::Sessions, &r), "{p:?} {r:?}");
                }
            }
        }
    }
}
