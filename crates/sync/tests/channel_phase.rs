//! A channel's status, confirmation and deadline follow its phase alone (the phase enum is
//! private to `channel.rs`, so every phase is reached here through the channel's own API).

use concierge_sync::ChannelStatus;
use concierge_sync::channel::{Channel, ChannelConfig, ChannelEvent};
use concierge_sync::socket::Refs;
use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::{ChangeEvent, PostgresChangeSpec, SUBSCRIBED_TO_POSTGRES};
use serde_json::{Value, json};

const TOPIC: &str = "realtime:orders";
const PUSH_TIMEOUT: u64 = 10_000;
const GRACE: u64 = 3_000;
const REJOIN: u64 = 1_000;

fn channel() -> Channel {
    let binding = PostgresChangeSpec {
        event: ChangeEvent::All,
        schema: "public".into(),
        table: Some("orders".into()),
        filter: None,
    };
    let cfg = ChannelConfig {
        push_timeout_ms: PUSH_TIMEOUT,
        subscribe_grace_ms: GRACE,
        rejoin_steps_ms: vec![REJOIN],
    };
    Channel::new(TOPIC.into(), vec![binding], cfg)
}

/// The status, and "confirmed" exactly when the status is `Subscribed`.
fn check(ch: &Channel, status: ChannelStatus) {
    assert_eq!(ch.status(), status);
    assert_eq!(
        ch.is_confirmed(),
        status == ChannelStatus::Subscribed,
        "{status:?}"
    );
}

fn to(join: &Message, event: Event, payload: Value) -> Message {
    Message::new(TOPIC, event, payload).with_refs(join.join_ref.clone(), join.msg_ref.clone())
}

fn reply(join: &Message, table: &str) -> Message {
    let response = json!({"postgres_changes": [
        {"id": 5, "event": "*", "schema": "public", "table": table}
    ]});
    to(
        join,
        Event::Reply,
        json!({"status": "ok", "response": response}),
    )
}

fn system(join: &Message, status: &str, message: &str) -> Message {
    let payload = json!({"extension": "postgres_changes", "status": status, "message": message});
    to(join, Event::System, payload)
}

/// A channel joined at `now`, its join message, and its ref counter.
fn joined(now: u64) -> (Channel, Message, Refs) {
    let (mut ch, mut refs) = (channel(), Refs::default());
    let join = ch
        .join(now, "tok", &mut refs)
        .expect("a fresh channel joins");
    let ev = ch.on_message(now, reply(&join, "orders"), &mut refs);
    assert_eq!(ev, ChannelEvent::Nothing);
    (ch, join, refs)
}

#[test]
fn idle_joining_timed_out() {
    let (mut ch, mut refs) = (channel(), Refs::default());
    check(&ch, ChannelStatus::Idle);
    assert_eq!(ch.deadline(), None);

    ch.join(0, "tok", &mut refs).expect("joins");
    check(&ch, ChannelStatus::Joining);
    assert_eq!(ch.deadline(), Some(PUSH_TIMEOUT));

    ch.on_tick(PUSH_TIMEOUT, true, "tok", &mut refs);
    check(&ch, ChannelStatus::TimedOut);
    assert_eq!(
        ch.deadline(),
        Some(PUSH_TIMEOUT + REJOIN),
        "only the rejoin timer"
    );
}

#[test]
fn joined_until_confirmed_by_the_system_message_or_the_grace_period() {
    let (ch, _, _) = joined(100);
    check(&ch, ChannelStatus::Joined);
    assert_eq!(ch.deadline(), Some(100 + GRACE));

    let (mut ch, join, mut refs) = joined(100);
    ch.on_message(200, system(&join, "ok", SUBSCRIBED_TO_POSTGRES), &mut refs);
    check(&ch, ChannelStatus::Subscribed);
    assert_eq!(ch.deadline(), None);

    let (mut ch, _, mut refs) = joined(100);
    ch.on_tick(100 + GRACE, true, "tok", &mut refs);
    check(&ch, ChannelStatus::Subscribed);
    assert_eq!(ch.deadline(), None);
}

#[test]
fn a_failed_subscription_stays_joined_with_an_error_status() {
    let (mut ch, join, mut refs) = joined(100);
    ch.on_message(200, system(&join, "error", "no"), &mut refs);
    check(&ch, ChannelStatus::ChannelError("no".into()));
    assert_eq!(ch.deadline(), None);
    assert!(!ch.is_ended());
}

#[test]
fn errored_by_the_server_or_the_socket() {
    let (mut ch, join, mut refs) = joined(100);
    ch.on_message(200, to(&join, Event::Error, json!({})), &mut refs);
    check(
        &ch,
        ChannelStatus::ChannelError("channel crashed on the server".into()),
    );
    assert_eq!(ch.deadline(), Some(200 + REJOIN));

    let (mut ch, _, _) = joined(100);
    ch.on_socket_down("down");
    check(&ch, ChannelStatus::ChannelError("down".into()));
    assert_eq!(ch.deadline(), None, "rejoins when the socket reopens");
    assert!(!ch.is_ended());
}

#[test]
fn ended_closed_or_mismatched() {
    let (mut ch, join, mut refs) = joined(100);
    ch.on_message(200, to(&join, Event::Close, json!({})), &mut refs);
    check(&ch, ChannelStatus::Closed);
    assert!(ch.is_ended());
    assert_eq!(ch.deadline(), None);

    let (mut ch, _, mut refs) = joined(100);
    assert!(ch.leave(&mut refs).is_some());
    check(&ch, ChannelStatus::Closed);
    assert!(ch.is_ended());

    let (mut ch, mut refs) = (channel(), Refs::default());
    let join = ch.join(0, "tok", &mut refs).expect("joins");
    let ev = ch.on_message(10, reply(&join, "customers"), &mut refs);
    assert!(matches!(ev, ChannelEvent::Send(m) if m.event == Event::Leave));
    check(
        &ch,
        ChannelStatus::ChannelError(
            "mismatch between server and client bindings for postgres changes".into(),
        ),
    );
    assert!(ch.is_ended());
    assert_eq!(ch.deadline(), None);
}
