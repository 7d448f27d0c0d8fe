use concierge_wire::{AppRole, SessionStatus};

use crate::authz::testing::{ME, OTHER, kiosk, row, user};
use crate::authz::{
    Action, Conversation, Principal, RowScope, change_visible, check, check_insert_in,
    prepare_insert, row_scope,
};
use crate::schema::Table;

fn session(customer: &str, staff: Option<&str>, status: SessionStatus) -> Conversation {
    Conversation::Session {
        customer_id: customer.into(),
        staff_id: staff.map(str::to_owned),
        status: Some(status),
    }
}

#[test]
fn the_server_stamps_the_author_and_the_time() {
    let mut m = row(serde_json::json!({
        "id": "m1", "session_id": "s", "body": "hi",
        "author_role": "staff", "author_id": OTHER, "author_name": "Mallory",
        "created_at": "2020-01-01T00:00:00Z"
    }));
    prepare_insert(&user(AppRole::Customer, ME), Table::Messages, &mut m).unwrap();
    assert_eq!(m["author_role"], "customer");
    assert_eq!(m["author_id"], ME);
    assert_eq!(m["author_name"], format!("{ME}-name"));
    assert!(m.get("created_at").is_none(), "the writer stamps it");
    assert_eq!(m["id"], "m1", "the sender's id is kept");

    let mut k = row(serde_json::json!({"session_id": "s", "body": "hi", "author_name": "x"}));
    prepare_insert(&kiosk(ME), Table::Messages, &mut k).unwrap();
    assert_eq!(
        (k["author_role"].as_str(), k["author_name"].is_null()),
        (Some("customer"), true)
    );

    let mut s = row(serde_json::json!({"session_id": "s", "body": "hi"}));
    prepare_insert(&user(AppRole::Staff, ME), Table::Messages, &mut s).unwrap();
    assert_eq!(s["author_role"], "staff");
}

#[test]
fn a_customer_writes_into_their_own_open_sessions_only() {
    let me = user(AppRole::Customer, ME);
    let m = row(serde_json::json!({}));
    let write = |c: &Conversation| check_insert_in(&me, Table::Messages, &m, Some(c));
    for open in [
        SessionStatus::Pending,
        SessionStatus::Waiting,
        SessionStatus::Live,
    ] {
        assert!(write(&session(ME, None, open)).is_ok(), "{open:?}");
        assert!(change_visible(
            &me,
            Table::Messages,
            &m,
            Some(&session(ME, None, open))
        ));
    }
    for closed in [SessionStatus::Completed, SessionStatus::Cancelled] {
        assert!(write(&session(ME, None, closed)).is_err(), "{closed:?}");
        assert!(!change_visible(
            &me,
            Table::Messages,
            &m,
            Some(&session(ME, None, closed))
        ));
    }
    assert!(write(&session(OTHER, None, SessionStatus::Live)).is_err());
    assert!(
        write(&Conversation::Kiosk {
            owner_id: ME.into()
        })
        .is_err()
    );
    assert!(check_insert_in(&me, Table::Messages, &m, None).is_err());
}

#[test]
fn staff_write_while_they_hold_it_and_read_it_afterwards() {
    let me = user(AppRole::Staff, ME);
    let m = row(serde_json::json!({}));
    let held = session(OTHER, Some(ME), SessionStatus::Live);
    assert!(check_insert_in(&me, Table::Messages, &m, Some(&held)).is_ok());
    let ended = session(OTHER, Some(ME), SessionStatus::Completed);
    assert!(check_insert_in(&me, Table::Messages, &m, Some(&ended)).is_err());
    assert!(
        change_visible(&me, Table::Messages, &m, Some(&ended)),
        "read-only, not hidden"
    );
    let pending = session(OTHER, None, SessionStatus::Pending);
    assert!(check_insert_in(&me, Table::Messages, &m, Some(&pending)).is_err());
    assert!(!change_visible(&me, Table::Messages, &m, Some(&pending)));
    let theirs = session(OTHER, Some(OTHER), SessionStatus::Live);
    assert!(!change_visible(&me, Table::Messages, &m, Some(&theirs)));
}

#[test]
fn a_kiosk_reaches_its_own_claims_only() {
    let k = kiosk(ME);
    let m = row(serde_json::json!({}));
    let mine = Conversation::Kiosk {
        owner_id: ME.into(),
    };
    let theirs = Conversation::Kiosk {
        owner_id: OTHER.into(),
    };
    assert!(check_insert_in(&k, Table::Messages, &m, Some(&mine)).is_ok());
    assert!(check_insert_in(&k, Table::Messages, &m, Some(&theirs)).is_err());
    assert!(change_visible(&k, Table::Messages, &m, Some(&mine)));
    assert!(!change_visible(&k, Table::Messages, &m, Some(&theirs)));
    // A customer with the kiosk's id is not the kiosk.
    assert!(!change_visible(
        &user(AppRole::Customer, ME),
        Table::Messages,
        &m,
        Some(&mine)
    ));
}

#[test]
fn nobody_edits_and_the_anon_key_reaches_nothing() {
    for p in [
        user(AppRole::Customer, ME),
        user(AppRole::Staff, ME),
        kiosk(ME),
        Principal::Anon,
    ] {
        for act in [Action::Update, Action::Delete] {
            assert!(
                check(&p, Table::Messages, act, &[]).is_err(),
                "{p:?} {act:?}"
            );
        }
    }
    let anon = Principal::Anon;
    assert!(check(&anon, Table::Messages, Action::Select, &[]).is_err());
    assert_eq!(row_scope(&anon, Table::Messages), RowScope::AnyOf(vec![]));
    // The service role is bound by no rule.
    assert!(
        check_insert_in(
            &Principal::ServiceRole,
            Table::Messages,
            &row(serde_json::json!({})),
            None
        )
        .is_ok()
    );
}

#[test]
fn reads_go_through_the_session() {
    let RowScope::Through {
        column,
        table,
        filters,
    } = row_scope(&user(AppRole::Customer, ME), Table::Messages)
    else {
        panic!("a customer's scope reads sessions");
    };
    assert_eq!((column, table), ("session_id", Table::Sessions));
    assert_eq!(filters.len(), 2, "theirs, and open");
    let RowScope::Through { table, .. } = row_scope(&kiosk(ME), Table::Messages) else {
        panic!("a kiosk's scope reads its claims");
    };
    assert_eq!(table, Table::KioskSessions);
}
