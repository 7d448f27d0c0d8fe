//! Rooms in a real browser against a real server: two pages' engines (two sockets) in one
//! room see each other's presence and typing, a closed page leaves the room, and a private
//! room the caller may not read shows Supabase's refusal.
//!
//! Run like `wasm_sync` (the tests need `CONCIERGE_TEST_SERVER` at build time):
//! `CHROMEDRIVER=/usr/bin/chromedriver CONCIERGE_TEST_SERVER=http://127.0.0.1:PORT cargo test -p concierge --target wasm32-unknown-unknown --test wasm_room`
#![cfg(target_arch = "wasm32")]

mod wasm_support;

use concierge::sync::{
    self, ChannelStatus, Endpoint, EngineConfig, LiveRoom, PresenceMeta, RoomConfig, RoomSpec,
};
use concierge_wire::AuthorRole;
use concierge_wire::realtime::topic_for;
use leptos::prelude::*;
use wasm_bindgen_test::*;
use wasm_support::{anon_key, test_server, wait_until};

wasm_bindgen_test_configure!(run_in_browser);

fn cfg() -> EngineConfig {
    EngineConfig {
        heartbeat_ms: 1_000,
        reconnect_steps_ms: vec![100, 200, 500],
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    }
}

/// One page: its own engine (its own socket) in its own root owner, in `room` as `key`.
fn page(
    base: &str,
    anon: &str,
    room: &str,
    key: &str,
    name: &str,
    role: AuthorRole,
) -> (Owner, LiveRoom) {
    let owner = Owner::new_root(None);
    let spec = RoomSpec {
        topic: topic_for(room),
        config: RoomConfig {
            presence_key: key.into(),
            ..RoomConfig::default()
        },
        me: Some(PresenceMeta {
            name: name.into(),
            role,
        }),
    };
    let live = owner.with(|| {
        sync::provide_sync_engine_with(cfg(), Endpoint::new(base, anon.to_owned()));
        sync::use_room_with(spec)
    });
    (owner, live)
}

fn names(r: &LiveRoom) -> Vec<String> {
    r.present().into_iter().map(|p| p.name).collect()
}

#[wasm_bindgen_test]
async fn server_two_pages_see_presence_and_typing_and_a_closed_page_leaves() {
    let Some(base) = test_server() else { return };
    let anon = anon_key(base).await;
    let room = format!("lobby-{}", uuid::Uuid::new_v4());
    let (staff_page, staff) = page(base, &anon, &room, "staff-1", "Anna", AuthorRole::Staff);
    let (guest_page, guest) = page(base, &anon, &room, "guest-1", "Carla", AuthorRole::Customer);
    wait_until("the guest sees Anna", 8_000.0, || names(&guest) == ["Anna"]).await;
    wait_until("Anna sees the guest", 2_000.0, || {
        names(&staff) == ["Carla"]
    })
    .await;
    assert_eq!(guest.present()[0].role, Some(AuthorRole::Staff));
    assert_eq!(staff.status(), ChannelStatus::Subscribed);

    staff.typed();
    wait_until("Anna is typing", 2_000.0, || guest.typing() == ["Anna"]).await;
    assert!(
        staff.typing().is_empty(),
        "our own typing is not shown to us"
    );
    // Nothing more is sent: the indicator ends by itself (5 s).
    wait_until("the indicator expires", 7_000.0, || {
        guest.typing().is_empty()
    })
    .await;

    // Anna's page goes: its socket closes and the server drops her presence.
    staff_page.cleanup();
    wait_until("Anna has left", 5_000.0, || names(&guest).is_empty()).await;
    guest_page.cleanup();
}

#[wasm_bindgen_test]
async fn server_a_private_room_we_may_not_read_is_refused() {
    let Some(base) = test_server() else { return };
    let anon = anon_key(base).await;
    let owner = Owner::new_root(None);
    let session = uuid::Uuid::new_v4();
    let live = owner.with(|| {
        sync::provide_sync_engine_with(cfg(), Endpoint::new(base, anon.clone()));
        sync::use_room(&format!("session:{session}"), "nobody".into(), None)
    });
    wait_until("the refusal", 8_000.0, || {
        matches!(live.status(), ChannelStatus::ChannelError(_))
    })
    .await;
    assert_eq!(
        live.status(),
        ChannelStatus::ChannelError(format!(
            "Unauthorized: You do not have permissions to read from this Channel topic: session:{session}"
        ))
    );
    assert!(live.present().is_empty());
    owner.cleanup();
}
