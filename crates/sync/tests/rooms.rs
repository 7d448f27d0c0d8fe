//! Rooms: a Broadcast + Presence channel on the engine's socket — the join supabase-js
//! sends, presence merged as realtime-js merges it, the typing indicator's throttle and
//! expiry, re-tracking after a reconnect, and a refused private join.

mod harness;

use concierge_sync::presence::{Meta, PresenceState};
use concierge_sync::*;
use concierge_wire::AuthorRole;
use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::RoomConfig;
use concierge_wire::room::{PresenceMeta, RawPresenceDiff, RawPresenceState};
use harness::*;
use serde_json::{Value, json};

const TOPIC: &str = "realtime:session:44444444-4444-4444-8444-444444444444";
const ROOM: RoomId = RoomId(1);

fn anna() -> PresenceMeta {
    PresenceMeta {
        name: "Anna".into(),
        role: AuthorRole::Staff,
    }
}

fn spec(key: &str, me: Option<PresenceMeta>) -> RoomSpec {
    RoomSpec {
        topic: TOPIC.into(),
        config: RoomConfig {
            broadcast_self: false,
            ack: false,
            presence_key: key.into(),
            private: true,
        },
        me,
    }
}

/// An engine with one room joined (the fake server accepts joins) as `key`.
fn joined(key: &str, me: Option<PresenceMeta>) -> H {
    let mut h = H::new(cfg());
    h.input(Input::Room(RoomInput::Join {
        room: ROOM,
        spec: spec(key, me),
    }));
    h
}

fn view(h: &H) -> RoomView {
    h.rooms
        .get(&ROOM)
        .cloned()
        .expect("a room view was emitted")
}

/// A server frame on the room's topic for its current join (`join_ref` set) or for the
/// whole topic (refs null, as broadcasts and diffs come).
fn push(h: &mut H, for_join: bool, event: Event, payload: Value) {
    let jr = for_join.then(|| h.last_join().join_ref.expect("join ref"));
    let text = h.server_msg(jr, None, TOPIC, event, payload);
    h.frame(text);
}

fn room_pushes(h: &H, event: Event) -> Vec<(u64, Message)> {
    h.sent_events(event)
        .into_iter()
        .filter(|(_, m)| m.topic == TOPIC)
        .collect()
}

fn names(v: &RoomView) -> Vec<(&str, &str)> {
    v.present
        .iter()
        .map(|p| (p.key.as_str(), p.name.as_str()))
        .collect()
}

#[test]
fn join_sends_supabase_js_config_and_tracks_once_accepted() {
    let h = joined("staff-1", Some(anna()));
    let join = h.last_join();
    assert_eq!(join.topic, TOPIC);
    assert_eq!(
        join.payload,
        json!({"config": {"postgres_changes": [], "broadcast": {"ack": false, "self": false},
            "presence": {"key": "staff-1", "enabled": true}, "private": true},
            "access_token": "anon"})
    );
    let tracks = room_pushes(&h, Event::Presence);
    assert_eq!(tracks.len(), 1);
    let (_, t) = &tracks[0];
    assert_eq!(t.join_ref, join.join_ref);
    assert_eq!(
        t.payload,
        json!({"type": "presence", "event": "track", "payload": {"name": "Anna", "role": "staff"}})
    );
    assert_eq!(view(&h).status, ChannelStatus::Subscribed);
}

#[test]
fn presence_state_and_diffs_merge_like_realtime_js() {
    let mut h = joined("cust-1", None);
    push(
        &mut h,
        true,
        Event::PresenceState,
        json!({"staff-1": {"metas": [{"phx_ref": "F1", "name": "Anna", "role": "staff"}]}}),
    );
    assert_eq!(names(&view(&h)), [("staff-1", "Anna")]);
    assert_eq!(view(&h).present[0].role, Some(AuthorRole::Staff));

    // A second tab of Anna: same key, one more meta; still one person.
    push(
        &mut h,
        false,
        Event::PresenceDiff,
        json!({"joins": {"staff-1": {"metas": [{"phx_ref": "F2", "name": "Anna", "role": "staff"}]}}, "leaves": {}}),
    );
    assert_eq!(names(&view(&h)), [("staff-1", "Anna")]);
    // The first tab closes: Anna is still here (the second tab).
    push(
        &mut h,
        false,
        Event::PresenceDiff,
        json!({"joins": {}, "leaves": {"staff-1": {"metas": [{"phx_ref": "F1", "name": "Anna", "role": "staff"}]}}}),
    );
    assert_eq!(names(&view(&h)), [("staff-1", "Anna")]);
    // The last one closes: gone.
    push(
        &mut h,
        false,
        Event::PresenceDiff,
        json!({"joins": {}, "leaves": {"staff-1": {"metas": [{"phx_ref": "F2"}]}}}),
    );
    assert_eq!(view(&h).present, vec![]);
}

fn raw_state(v: Value) -> RawPresenceState {
    serde_json::from_value(v).unwrap()
}

fn raw_diff(v: Value) -> RawPresenceDiff {
    serde_json::from_value(v).unwrap()
}

fn refs(p: &PresenceState, key: &str) -> Vec<String> {
    p.state()
        .get(key)
        .map(|m| m.iter().map(|m: &Meta| m.presence_ref.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn sync_state_keeps_survivors_first_and_drops_what_left() {
    let mut p = PresenceState::default();
    p.on_state(
        "1",
        raw_state(json!({"a": {"metas": [{"phx_ref": "1"}, {"phx_ref": "2"}]}, "b": {"metas": [{"phx_ref": "3"}]}})),
    );
    assert_eq!(refs(&p, "a"), ["1", "2"]);
    // After a rejoin, the new state: "a" lost ref 1 and gained 4 (listed first by the
    // server); "b" is gone; "c" is new.
    p.on_state(
        "5",
        raw_state(json!({"a": {"metas": [{"phx_ref": "4"}, {"phx_ref": "2"}]}, "c": {"metas": [{"phx_ref": "6"}]}})),
    );
    assert_eq!(refs(&p, "a"), ["2", "4"]);
    assert_eq!(refs(&p, "b"), Vec::<String>::new());
    assert_eq!(refs(&p, "c"), ["6"]);
    assert_eq!(p.state().len(), 2);
}

#[test]
fn an_update_is_a_leave_and_a_join_carrying_phx_ref_prev() {
    let mut p = PresenceState::default();
    p.on_state(
        "1",
        raw_state(json!({"a": {"metas": [{"phx_ref": "1", "name": "Anna"}]}})),
    );
    p.on_diff(
        Some("1"),
        raw_diff(json!({
            "joins": {"a": {"metas": [{"phx_ref": "2", "phx_ref_prev": "1", "name": "Anna B."}]}},
            "leaves": {"a": {"metas": [{"phx_ref": "1", "name": "Anna"}]}}
        })),
    );
    assert_eq!(refs(&p, "a"), ["2"]);
    assert_eq!(p.people()[0].name, "Anna B.");
}

#[test]
fn diffs_before_the_joins_state_wait_for_it() {
    let mut p = PresenceState::default();
    // A diff for join "7" while the state synced so far is none: held.
    p.on_diff(
        Some("7"),
        raw_diff(json!({"joins": {"b": {"metas": [{"phx_ref": "9"}]}}, "leaves": {}})),
    );
    assert!(p.state().is_empty());
    p.on_state("7", raw_state(json!({"a": {"metas": [{"phx_ref": "8"}]}})));
    assert_eq!(refs(&p, "a"), ["8"]);
    assert_eq!(refs(&p, "b"), ["9"]);
    // A later join's diffs wait for that join's state again.
    p.on_diff(
        Some("10"),
        raw_diff(json!({"joins": {}, "leaves": {"a": {"metas": [{"phx_ref": "8"}]}}})),
    );
    assert_eq!(refs(&p, "a"), ["8"]);
}

fn typing_from(h: &mut H, key: &str, name: &str) {
    push(
        h,
        false,
        Event::Broadcast,
        json!({"type": "broadcast", "event": "typing", "payload": {"key": key, "name": name}}),
    );
}

#[test]
fn typing_is_sent_at_most_every_two_seconds_while_joined() {
    let mut h = joined("cust-1", Some(anna()));
    let typed = |h: &mut H, t: u64| h.at(t, Input::Room(RoomInput::Typed { room: ROOM }));
    for t in [1_000, 1_500, 2_999, 3_000, 3_100, 4_000, 5_000, 9_000] {
        typed(&mut h, t);
    }
    let sent: Vec<u64> = room_pushes(&h, Event::Broadcast)
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(sent, [1_000, 3_000, 5_000, 9_000]);
    let (_, b) = &room_pushes(&h, Event::Broadcast)[0];
    assert_eq!(
        b.payload,
        json!({"type": "broadcast", "event": "typing", "payload": {"key": "cust-1", "name": "Anna"}})
    );

    // Down: nothing is sent, and the throttle is not spent by it.
    h.server_up = false;
    h.drop_socket();
    typed(&mut h, 12_000);
    assert_eq!(room_pushes(&h, Event::Broadcast).len(), 4);
}

#[test]
fn others_typing_expires_after_five_seconds_and_ours_is_not_shown() {
    let mut h = joined("cust-1", Some(anna()));
    h.advance_to(1_000);
    typing_from(&mut h, "staff-1", "Bob");
    typing_from(&mut h, "cust-1", "Anna"); // our own other tab
    assert_eq!(view(&h).typing, ["Bob"]);
    assert_eq!(h.timer, Some(6_000));
    h.advance_to(4_000);
    typing_from(&mut h, "staff-1", "Bob"); // still typing: restarts the 5 s
    h.advance_to(8_999);
    assert_eq!(view(&h).typing, ["Bob"]);
    h.advance_to(9_000);
    assert_eq!(view(&h).typing, Vec::<String>::new());
    assert_eq!(h.timer, h.e.next_deadline());
}

#[test]
fn a_message_from_the_typist_ends_the_indicator_at_once() {
    let mut h = joined("cust-1", None);
    typing_from(&mut h, "staff-1", "Bob");
    typing_from(&mut h, "staff-2", "Eve");
    h.input(Input::Room(RoomInput::Spoke {
        room: ROOM,
        key: "staff-1".into(),
    }));
    assert_eq!(view(&h).typing, ["Eve"]);
}

#[test]
fn a_typist_who_leaves_stops_typing_at_once() {
    let mut h = joined("cust-1", None);
    push(
        &mut h,
        true,
        Event::PresenceState,
        json!({"staff-1": {"metas": [{"phx_ref": "F1", "name": "Bob", "role": "staff"}]}}),
    );
    typing_from(&mut h, "staff-1", "Bob");
    assert_eq!(view(&h).typing, ["Bob"]);
    push(
        &mut h,
        false,
        Event::PresenceDiff,
        json!({"joins": {}, "leaves": {"staff-1": {"metas": [{"phx_ref": "F1"}]}}}),
    );
    assert_eq!(view(&h).typing, Vec::<String>::new());
}

#[test]
fn a_rejoin_after_a_reconnect_tracks_again() {
    let mut h = joined("staff-1", Some(anna()));
    assert_eq!(room_pushes(&h, Event::Presence).len(), 1);
    push(
        &mut h,
        true,
        Event::PresenceState,
        json!({"cust-1": {"metas": [{"phx_ref": "F1", "name": "Carla", "role": "customer"}]}}),
    );
    h.advance_to(1_000);
    h.drop_socket();
    assert_eq!(view(&h).present, vec![], "nothing is known while down");
    assert!(matches!(view(&h).status, ChannelStatus::ChannelError(_)));
    h.advance_to(20_000); // reconnect (1 s), rejoin at once, re-track on the ok reply
    let joins = room_pushes(&h, Event::Join);
    let tracks = room_pushes(&h, Event::Presence);
    assert_eq!(joins.len(), 2);
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[1].1.join_ref, joins[1].1.join_ref);
    assert_eq!(tracks[1].1.payload, tracks[0].1.payload);
    assert_eq!(view(&h).status, ChannelStatus::Subscribed);
}

#[test]
fn track_changes_and_untrack_on_the_joined_channel() {
    let mut h = joined("staff-1", None);
    assert_eq!(room_pushes(&h, Event::Presence).len(), 0);
    h.input(Input::Room(RoomInput::Track {
        room: ROOM,
        me: Some(anna()),
    }));
    h.input(Input::Room(RoomInput::Track {
        room: ROOM,
        me: Some(anna()),
    })); // unchanged: not sent again
    h.input(Input::Room(RoomInput::Track {
        room: ROOM,
        me: None,
    }));
    let events: Vec<Value> = room_pushes(&h, Event::Presence)
        .into_iter()
        .map(|(_, m)| m.payload["event"].clone())
        .collect();
    assert_eq!(events, [json!("track"), json!("untrack")]);
}

#[test]
fn a_refused_private_join_is_an_error_state_retried_with_backoff() {
    let mut h = H::new(cfg());
    h.auto_join = false;
    h.input(Input::Room(RoomInput::Join {
        room: ROOM,
        spec: spec("intruder", Some(anna())),
    }));
    let join = h.last_join();
    let reason = "Unauthorized: You do not have permissions to read from this Channel topic: session:44444444-4444-4444-8444-444444444444";
    let text = h.server_msg(
        join.join_ref.clone(),
        join.msg_ref.clone(),
        TOPIC,
        Event::Reply,
        json!({"status": "error", "response": {"reason": reason}}),
    );
    h.frame(text);
    let v = view(&h);
    assert_eq!(v.status, ChannelStatus::ChannelError(reason.into()));
    assert_eq!(v.present, vec![]);
    assert_eq!(room_pushes(&h, Event::Presence).len(), 0, "never tracked");
    h.advance(1_000);
    assert_eq!(room_pushes(&h, Event::Join).len(), 2, "rejoined after 1 s");
}

#[test]
fn token_changes_reach_the_room_and_leave_sends_phx_leave() {
    let mut h = joined("staff-1", Some(anna()));
    h.input(Input::SetToken(Some("jwt-2".into())));
    let tokens = room_pushes(&h, Event::AccessToken);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].1.payload, json!({"access_token": "jwt-2"}));
    h.input(Input::Room(RoomInput::Leave { room: ROOM }));
    assert_eq!(room_pushes(&h, Event::Leave).len(), 1);
    // Frames for a room that is gone are ignored.
    typing_from(&mut h, "x", "X");
    assert_eq!(h.e.next_deadline(), h.timer);
}
