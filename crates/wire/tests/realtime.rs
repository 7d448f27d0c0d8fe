//! The channel vocabulary the sync core reads Realtime frames with: join payloads, join
//! replies, system notices, change routing, and which join a lifecycle message belongs to.

use concierge_wire::phoenix::{Event, Message, Vsn};
use concierge_wire::realtime::*;
use serde_json::{Map, Value, json};

fn spec(event: ChangeEvent, table: &str, filter: Option<&str>) -> PostgresChangeSpec {
    PostgresChangeSpec {
        event,
        schema: "public".into(),
        table: Some(table.into()),
        filter: filter.map(Into::into),
    }
}

fn reply(status: ReplyStatus, response: Value) -> ReplyPayload {
    ReplyPayload { status, response }
}

#[test]
fn postgres_changes_join_has_the_supabase_js_shape() {
    let b = spec(ChangeEvent::All, "orders", None);
    let v = serde_json::to_value(JoinPayload::postgres_changes(vec![b], "tok")).unwrap();
    assert_eq!(
        v,
        json!({
            "config": {"broadcast": {"ack": false, "self": false},
              "presence": {"key": "", "enabled": false},
              "postgres_changes": [{"event": "*", "schema": "public", "table": "orders"}],
              "private": false},
            "access_token": "tok"
        })
    );
}

#[test]
fn a_join_message_carries_its_ref_as_join_ref() {
    let join = JoinPayload::postgres_changes(vec![], "tok");
    let m = join.clone().into_message("realtime:q".into(), "5".into());
    assert_eq!(m.topic, "realtime:q");
    assert_eq!(m.event, Event::Join);
    assert_eq!(m.join_ref.as_deref(), Some("5"));
    assert_eq!(m.msg_ref.as_deref(), Some("5"));
    assert_eq!(m.payload, serde_json::to_value(join).unwrap());
}

#[test]
fn bound_ids_match_bindings_by_index() {
    let ours = [
        spec(ChangeEvent::All, "a", None),
        spec(ChangeEvent::All, "b", Some("id=eq.1")),
    ];
    let ok = |changes: Value| reply(ReplyStatus::Ok, json!({ "postgres_changes": changes }));
    let echo = json!([
        {"id": 7, "event": "*", "schema": "public", "table": "a"},
        {"id": 9, "event": "*", "schema": "public", "table": "b", "filter": "id=eq.1"},
    ]);
    assert_eq!(ok(echo).bound_ids(&ours), Some(vec![7, 9]));
    // Swapped order, a missing entry, a changed filter or event, or garbage: mismatch.
    let swapped = json!([
        {"id": 9, "event": "*", "schema": "public", "table": "b", "filter": "id=eq.1"},
        {"id": 7, "event": "*", "schema": "public", "table": "a"},
    ]);
    assert_eq!(ok(swapped).bound_ids(&ours), None);
    let short = json!([{"id": 7, "event": "*", "schema": "public", "table": "a"}]);
    assert_eq!(ok(short).bound_ids(&ours), None);
    let refiltered = json!([
        {"id": 7, "event": "*", "schema": "public", "table": "a", "filter": "id=eq.2"},
        {"id": 9, "event": "*", "schema": "public", "table": "b", "filter": "id=eq.1"},
    ]);
    assert_eq!(ok(refiltered).bound_ids(&ours), None);
    let other_event = json!([
        {"id": 7, "event": "INSERT", "schema": "public", "table": "a"},
        {"id": 9, "event": "*", "schema": "public", "table": "b", "filter": "id=eq.1"},
    ]);
    assert_eq!(ok(other_event).bound_ids(&ours), None);
    assert_eq!(ok(json!("nope")).bound_ids(&ours), None);
    assert_eq!(ok(json!("nope")).bound_ids(&[]), Some(vec![]));
}

#[test]
fn join_outcomes() {
    let ours = [spec(ChangeEvent::Insert, "a", None)];
    let echo = json!({"postgres_changes": [
        {"id": 4, "event": "INSERT", "schema": "public", "table": "a"}
    ]});
    assert_eq!(
        reply(ReplyStatus::Ok, echo).join_outcome(&ours),
        JoinOutcome::Joined(vec![4])
    );
    assert_eq!(
        reply(ReplyStatus::Ok, json!({})).join_outcome(&ours),
        JoinOutcome::Mismatch
    );
    let refused = reply(ReplyStatus::Error, json!({"reason": "Too many joins"}));
    assert_eq!(
        refused.join_outcome(&ours),
        JoinOutcome::Refused(Some("Too many joins"))
    );
    assert_eq!(
        reply(ReplyStatus::Timeout, json!({})).join_outcome(&ours),
        JoinOutcome::Refused(None)
    );
}

#[test]
fn reply_reason() {
    let r = reply(ReplyStatus::Error, json!({"reason": "Too many joins"}));
    assert_eq!(r.reason(), Some("Too many joins"));
    assert_eq!(reply(ReplyStatus::Error, json!({})).reason(), None);
    assert_eq!(
        reply(ReplyStatus::Error, json!({"reason": 3})).reason(),
        None
    );
}

#[test]
fn postgres_notices() {
    let sys = |extension: &str, status: &str, message: &str| SystemPayload {
        extension: extension.into(),
        status: status.into(),
        message: message.into(),
        channel: None,
    };
    let ok = sys("postgres_changes", "ok", SUBSCRIBED_TO_POSTGRES);
    assert_eq!(ok.postgres_notice(), Some(PostgresNotice::Subscribed));
    let failed = sys("postgres_changes", "error", "no such table");
    assert_eq!(
        failed.postgres_notice(),
        Some(PostgresNotice::Failed("no such table"))
    );
    assert_eq!(
        sys("postgres_changes", "ok", "hello").postgres_notice(),
        None
    );
    assert_eq!(
        sys("broadcast", "ok", SUBSCRIBED_TO_POSTGRES).postgres_notice(),
        None
    );
}

#[test]
fn changes_are_for_the_bound_ids() {
    let change = |ids: Vec<u32>| ChangesPayload {
        ids,
        data: ChangeData {
            schema: "public".into(),
            table: "t".into(),
            commit_timestamp: "2025-01-01T00:00:00.000Z".into(),
            change_type: ChangeType::Insert,
            columns: vec![],
            record: Some(Map::new()),
            old_record: None,
            errors: None,
        },
    };
    assert!(change(vec![3, 7]).is_for(&[7]));
    assert!(!change(vec![3, 7]).is_for(&[8]));
    assert!(!change(vec![3]).is_for(&[]));
    assert!(change(vec![]).is_for(&[8]));
}

#[test]
fn lifecycle_messages_belong_to_their_join() {
    let m = |event, join_ref: Option<&str>, msg_ref: Option<&str>| {
        Message::new("realtime:q", event, json!({}))
            .with_refs(join_ref.map(Into::into), msg_ref.map(Into::into))
    };
    // V2 (and V1 client) frames carry the join ref.
    assert!(m(Event::Reply, Some("3"), Some("4")).is_for_join("3"));
    assert!(!m(Event::Reply, Some("1"), Some("4")).is_for_join("3"));
    assert!(!m(Event::Close, Some("1"), Some("3")).is_for_join("3"));
    // V1 server frames carry none: phx_close / phx_error name the join in their ref.
    assert!(m(Event::Close, None, Some("3")).is_for_join("3"));
    assert!(!m(Event::Error, None, Some("1")).is_for_join("3"));
    assert!(m(Event::Error, None, None).is_for_join("3"));
    assert!(m(Event::Reply, None, Some("9")).is_for_join("3"));
    assert!(m(Event::System, None, None).is_for_join("3"));
    // A V1 server frame decodes without a join ref, so it is judged by its ref.
    let v1 = r#"{"topic":"realtime:q","event":"phx_close","payload":{},"ref":"1"}"#;
    let decoded = Message::decode(v1, Vsn::V1).unwrap();
    assert!(!decoded.is_for_join("3"));
    assert!(decoded.is_for_join("1"));
}
