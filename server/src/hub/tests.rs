//! Dispatch through the index: who gets a change, in how many frames, and overflow.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use concierge_wire::filter::Filter;
use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::{ChangeEvent, ChangeType, ChangesPayload};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Binding, Channel, Hub, Limits, Outbox};
use crate::authz::Principal;
use crate::db::{Change, Table};
use crate::hub::matcher::RowFilter;

fn change(table: Table, t: ChangeType, rec: serde_json::Value) -> Change {
    let r = rec.as_object().cloned().unwrap();
    Change {
        table,
        change_type: t,
        commit_timestamp: "2026-01-01T00:00:00.000Z".into(),
        record: (t != ChangeType::Delete).then(|| r.clone()),
        old_record: (t != ChangeType::Insert).then(|| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), r["id"].clone());
            m
        }),
        deleted_row: (t == ChangeType::Delete).then(|| r.clone()),
    }
}

fn channel(
    hub: &Hub,
    p: Principal,
    vsn: Vsn,
    bindings: Vec<Binding>,
) -> (u64, mpsc::Receiver<Utf8Bytes>) {
    let (tx, rx) = mpsc::channel(4);
    let id = hub.next_channel_id();
    hub.join(
        id,
        Channel {
            outbox: Arc::new(Outbox::new(tx, CancellationToken::new())),
            vsn,
            topic: "realtime:t".into(),
            principal: p,
            bindings,
        },
        None,
    );
    (id, rx)
}

fn kiosk(id: u32, session: &str) -> Binding {
    let f = Filter::parse_realtime(&format!("session_id=eq.{session}")).unwrap();
    Binding {
        id,
        event: ChangeEvent::Insert,
        table: Table::KioskResults,
        filter: Some(RowFilter::compile(Table::KioskResults, &f).unwrap()),
    }
}

#[test]
fn eq_index_delivers_only_to_the_matching_session() {
    let hub = Hub::new(Limits::default());
    let (_a, mut ra) = channel(
        &hub,
        Principal::LegacyKioskAnon,
        Vsn::V2,
        vec![kiosk(7, "A")],
    );
    let (b, mut rb) = channel(
        &hub,
        Principal::LegacyKioskAnon,
        Vsn::V1,
        vec![kiosk(8, "B")],
    );
    let c = change(
        Table::KioskResults,
        ChangeType::Insert,
        json!({"id": "x", "session_id": "A", "results": {}, "created_at": "t"}),
    );
    assert_eq!(hub.dispatch(&c), 1);
    let frame = ra.try_recv().unwrap();
    let m = Message::decode(frame.as_str(), Vsn::V2).unwrap();
    assert_eq!(m.event, Event::PostgresChanges);
    assert_eq!((m.join_ref, m.msg_ref), (None, None));
    let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
    assert_eq!(p.ids, vec![7]);
    assert_eq!(p.data.record.unwrap()["session_id"], "A");
    assert!(p.data.old_record.is_none());
    assert!(rb.try_recv().is_err());
    // After leaving, B's index entry is gone.
    hub.leave(b);
    let c = change(
        Table::KioskResults,
        ChangeType::Insert,
        json!({"id": "y", "session_id": "B", "results": {}, "created_at": "t"}),
    );
    assert_eq!(hub.dispatch(&c), 0);
}

#[test]
fn one_frame_per_channel_when_several_bindings_match() {
    let hub = Hub::new(Limits::default());
    let all = Binding {
        id: 3,
        event: ChangeEvent::All,
        table: Table::KioskResults,
        filter: None,
    };
    let (_a, mut ra) = channel(
        &hub,
        Principal::LegacyKioskAnon,
        Vsn::V2,
        vec![kiosk(1, "A"), kiosk(2, "A"), all],
    );
    let c = change(
        Table::KioskResults,
        ChangeType::Insert,
        json!({"id": "x", "session_id": "A", "results": {}, "created_at": "t"}),
    );
    assert_eq!(hub.dispatch(&c), 1);
    let m = Message::decode(ra.try_recv().unwrap().as_str(), Vsn::V2).unwrap();
    let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
    assert_eq!(p.ids, vec![1, 2, 3]);
    assert!(ra.try_recv().is_err(), "one frame, not one per binding");
}

#[test]
fn visibility_and_event_filters() {
    let hub = Hub::new(Limits::default());
    let all_sessions = Binding {
        id: 1,
        event: ChangeEvent::All,
        table: Table::Sessions,
        filter: None,
    };
    let (_x, mut anon) = channel(&hub, Principal::Anon, Vsn::V2, vec![all_sessions.clone()]);
    let (_y, mut svc) = channel(
        &hub,
        Principal::ServiceRole,
        Vsn::V2,
        vec![
            all_sessions,
            Binding {
                id: 2,
                event: ChangeEvent::Delete,
                table: Table::Sessions,
                filter: None,
            },
        ],
    );
    let c = change(
        Table::Sessions,
        ChangeType::Delete,
        json!({"id": "s1", "customer_id": "c", "status": "live"}),
    );
    assert_eq!(hub.dispatch(&c), 1);
    assert!(anon.try_recv().is_err(), "anon never sees sessions");
    let m = Message::decode(svc.try_recv().unwrap().as_str(), Vsn::V2).unwrap();
    let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
    assert_eq!(p.ids, vec![1, 2]);
    assert_eq!(
        p.data.old_record.unwrap().len(),
        1,
        "DELETE carries the primary key only"
    );
    assert!(p.data.record.is_none());
}

#[test]
fn slow_client_is_disconnected_not_buffered() {
    let hub = Hub::new(Limits::default());
    let b = Binding {
        id: 1,
        event: ChangeEvent::All,
        table: Table::Events,
        filter: None,
    };
    let (tx, _rx) = mpsc::channel(2);
    let outbox = Arc::new(Outbox::new(tx, CancellationToken::new()));
    hub.join(
        1,
        Channel {
            outbox: outbox.clone(),
            vsn: Vsn::V2,
            topic: "realtime:e".into(),
            principal: Principal::Anon,
            bindings: vec![b],
        },
        None,
    );
    let c = change(Table::Events, ChangeType::Insert, json!({"id": "e"}));
    assert_eq!(hub.dispatch(&c), 1);
    assert_eq!(hub.dispatch(&c), 1);
    assert!(!outbox.kill.is_cancelled());
    assert_eq!(hub.dispatch(&c), 0);
    assert!(outbox.kill.is_cancelled());
}
