//! Dispatch through the index: who gets a change, in how many frames, and overflow.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use concierge_wire::filter::Filter;
use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::{ChangeEvent, ChangeType, ChangesPayload};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Binding, Channel, CloseReason, FRAME_OVERHEAD, Hub, Limits, Outbox, Queue};
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
        conversation: None,
    }
}

fn channel(hub: &Hub, p: Principal, vsn: Vsn, bindings: Vec<Binding>) -> (u64, Queue) {
    let (outbox, rx) = Outbox::new(1 << 20, CancellationToken::new());
    let id = hub.next_channel_id();
    hub.join(
        id,
        Channel {
            outbox: Arc::new(outbox),
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
    let (_a, mut ra) = channel(&hub, Principal::ServiceRole, Vsn::V2, vec![kiosk(7, "A")]);
    let (b, mut rb) = channel(&hub, Principal::ServiceRole, Vsn::V1, vec![kiosk(8, "B")]);
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
    assert!(rb.try_recv().is_none());
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
        Principal::ServiceRole,
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
    assert!(ra.try_recv().is_none(), "one frame, not one per binding");
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
    assert!(anon.try_recv().is_none(), "anon never sees sessions");
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
    let c = change(Table::Events, ChangeType::Insert, json!({"id": "e"}));
    // Room for exactly two of this change's frames.
    let frame = super::encode_frame(Vsn::V2, "realtime:e", &[1], &super::encode_data(&c));
    let (outbox, rx) = Outbox::new(2 * (frame.len() + FRAME_OVERHEAD), CancellationToken::new());
    let outbox = Arc::new(outbox);
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
    assert_eq!(hub.dispatch(&c), 1);
    assert_eq!(hub.dispatch(&c), 1);
    assert!(!outbox.kill.is_cancelled());
    assert_eq!(hub.dispatch(&c), 0);
    assert!(outbox.kill.is_cancelled());
    assert_eq!(
        rx.close_reason(),
        Some(CloseReason::SlowConsumer {
            limit_bytes: 2 * (frame.len() + FRAME_OVERHEAD)
        })
    );
    // The refused frame was not charged; a closed outbox takes nothing more.
    assert_eq!(outbox.queued_bytes(), 2 * (frame.len() + FRAME_OVERHEAD));
    assert!(!outbox.push(Utf8Bytes::from_static("x")));
}

#[test]
fn the_queue_is_bounded_in_bytes_not_frames() {
    let (outbox, mut rx) = Outbox::new(10_000, CancellationToken::new());
    // Many small frames fit...
    for _ in 0..50 {
        assert!(outbox.push(Utf8Bytes::from_static("0123456789")));
    }
    // ...one big frame does not, though it is a single frame.
    assert!(!outbox.push(Utf8Bytes::from("x".repeat(8_000))));
    assert!(outbox.kill.is_cancelled());
    // Draining gives the bytes back.
    while rx.try_recv().is_some() {}
    assert_eq!(outbox.queued_bytes(), 0);
    let text = CloseReason::SlowConsumer {
        limit_bytes: 10_000,
    }
    .text();
    assert!(text.contains("10000 bytes") && text.len() <= 123, "{text}");
}

#[test]
fn removing_a_channel_touches_only_its_own_entries() {
    let hub = Hub::new(Limits::default());
    // Many channels share one `eq` key; one of them holds thousands of bindings under it.
    let mut others = Vec::new();
    for _ in 0..50 {
        others.push(channel(
            &hub,
            Principal::ServiceRole,
            Vsn::V2,
            vec![kiosk(1, "K")],
        ));
    }
    let big: Vec<Binding> = (0..5_000).map(|i| kiosk(i, "K")).collect();
    let (id, _rx) = channel(&hub, Principal::ServiceRole, Vsn::V2, big);
    let c = change(
        Table::KioskResults,
        ChangeType::Insert,
        json!({"id": "x", "session_id": "K", "results": {}, "created_at": "t"}),
    );
    assert_eq!(hub.dispatch(&c), 51);
    let removed = hub.leave(id).expect("joined");
    assert_eq!(removed.bindings.len(), 5_000);
    assert_eq!(hub.channel_count(), 50);
    // Every other channel is still indexed under the shared key, exactly once.
    assert_eq!(hub.dispatch(&c), 50);
    for (_, rx) in &mut others {
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_none());
    }
    for (id, _) in others {
        hub.leave(id);
    }
    assert_eq!(hub.dispatch(&c), 0);
}

#[test]
fn a_change_to_many_sockets_is_encoded_once_per_serializer() {
    let hub = Hub::new(Limits::default());
    let all = || Binding {
        id: 1,
        event: ChangeEvent::All,
        table: Table::Events,
        filter: None,
    };
    let mut v2: Vec<_> = (0..1_000)
        .map(|_| channel(&hub, Principal::Anon, Vsn::V2, vec![all()]))
        .collect();
    let mut v1: Vec<_> = (0..10)
        .map(|_| channel(&hub, Principal::Anon, Vsn::V1, vec![all()]))
        .collect();
    let c = change(Table::Events, ChangeType::Insert, json!({"id": "e"}));
    let before = hub.frames_encoded();
    assert_eq!(hub.dispatch(&c), 1_010);
    assert_eq!(hub.frames_encoded() - before, 2, "one frame per serializer");
    // Every socket got the same bytes, not a copy.
    let first = v2[0].1.try_recv().unwrap();
    for (_, rx) in &mut v2[1..] {
        assert_eq!(
            rx.try_recv().unwrap().as_str().as_ptr(),
            first.as_str().as_ptr()
        );
    }
    let first = v1[0].1.try_recv().unwrap();
    for (_, rx) in &mut v1[1..] {
        assert_eq!(
            rx.try_recv().unwrap().as_str().as_ptr(),
            first.as_str().as_ptr()
        );
    }
}

#[tokio::test]
async fn the_writer_takes_frames_in_order_until_the_outbox_is_shut() {
    let (outbox, mut rx) = Outbox::new(1 << 20, CancellationToken::new());
    for f in ["a", "b", "c"] {
        assert!(outbox.push(Utf8Bytes::from_static(f)));
    }
    assert_eq!(rx.recv().await.unwrap().as_str(), "a");
    assert_eq!(rx.try_recv().unwrap().as_str(), "b");
    assert_eq!(rx.recv().await.unwrap().as_str(), "c");
    // A writer waiting on an empty queue is woken by a close, and takes nothing after it.
    let outbox = Arc::new(outbox);
    let closer = outbox.clone();
    let waiting = tokio::spawn(async move { rx.recv().await.is_none() });
    tokio::task::yield_now().await;
    closer.shut();
    assert!(waiting.await.unwrap());
    assert!(outbox.kill.is_cancelled());
    assert!(!outbox.push(Utf8Bytes::from_static("d")));
}

#[tokio::test]
async fn closing_resolves_a_waiting_write() {
    let (outbox, rx) = Outbox::new(1 << 20, CancellationToken::new());
    let closing = rx.closing();
    let waiting = tokio::spawn(async move { closing.wait().await });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    outbox.close(CloseReason::SlowConsumer { limit_bytes: 1 });
    waiting.await.unwrap();
    assert_eq!(
        rx.close_reason(),
        Some(CloseReason::SlowConsumer { limit_bytes: 1 })
    );
}
