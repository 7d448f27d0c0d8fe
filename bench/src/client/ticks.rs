//! (c) The heartbeat and poll state machines' per-tick cost: in the app they run a few times a
//! minute, so this is only a sanity figure showing the cost is negligible.

use std::fmt::Write as _;
use std::hint::black_box;

use concierge_sync::poller::{Gate, Poller};
use concierge_sync::socket::Socket;
use concierge_sync::{Action, ConnectionState, FetchId, FetchReason, Input, LiveQuerySpec};
use concierge_wire::Filter;
use concierge_wire::phoenix::Vsn;

use super::NOW;
use super::fixtures::SESSION_ID;
use super::harness::{
    Case, Measured, Noise, Settings, fmt_ns, fmt_rate, group_thousands, run_group,
};
use super::live_engine::live_engine;

/// What the engine-tick case did, for the section's closing sentence.
struct EngineTicks {
    heartbeats: u64,
    polls_skipped: u64,
}

/// Measures the four tick paths; returns the section's Markdown.
pub fn section(s: Settings, noise: &mut Noise) -> Result<String, String> {
    let (ms, ticks) = measure(s)?;
    noise.note(&ms);
    Ok(markdown(&ms, &ticks))
}

fn measure(s: Settings) -> Result<(Vec<Measured>, EngineTicks), String> {
    let mut socket = Socket::new(
        "ws://bench.local/realtime/v1/websocket".into(),
        Vsn::V2,
        25_000,
        vec![1000, 2000, 5000, 10_000],
        0.0,
    );
    black_box(socket.connect());
    if !socket.on_open(0, socket.conn()) {
        return Err("socket did not open".into());
    }
    let mut rng = concierge_sync::backoff::Rng::new(1);
    let mut next_ref: u64 = 0;

    let mut skip_poller = polling_poller();
    let mut poll_poller = polling_poller();
    let mut fetch_no = 1u64;

    let kiosk_spec = LiveQuerySpec::new("kiosk_results")
        .filter(
            Filter::parse_realtime(&format!("session_id=eq.{SESSION_ID}"))
                .map_err(|e| format!("filter: {e:?}"))?,
        )
        .order_by("created_at", true)
        .limit(1)
        .version_column("created_at")
        .events(concierge_wire::realtime::ChangeEvent::Insert);
    let mut ke = live_engine(Vsn::V2, kiosk_spec, "[]")?;
    // Refs so far: the join's; every later ref is a heartbeat's.
    let mut engine_ref: u64 = 1;

    let ms = run_group(
        "(c) state machines, per tick",
        s,
        vec![
            Case::simple(
                "Socket::on_tick (sends a heartbeat) + on_heartbeat_reply",
                1,
                || {
                    let Some(due) = socket.deadline() else {
                        panic!("open socket without a heartbeat deadline")
                    };
                    black_box(socket.on_tick(due, false, &mut rng));
                    next_ref += 1;
                    socket.on_heartbeat_reply(Some(&next_ref.to_string()));
                    assert_eq!(socket.heartbeat_timeouts, 0);
                },
            ),
            Case::simple("Poller::tick, skipped (realtime live)", 1, || {
                let due = skip_poller.next_tick().unwrap_or(0);
                let gate = Gate {
                    hidden: false,
                    realtime_live: true,
                };
                assert!(skip_poller.tick(due, gate).is_none());
            }),
            Case::simple(
                "Poller::tick → started → finished (a poll, no change)",
                1,
                || {
                    let due = poll_poller.next_tick().unwrap_or(0);
                    if let Some(reason) = poll_poller.tick(due, Gate::default()) {
                        fetch_no += 1;
                        poll_poller.started(due, FetchId(fetch_no), reason, 0);
                        poll_poller.finished(due, FetchId(fetch_no), Ok(false));
                    }
                },
            ),
            Case::simple(
                "Engine::handle(Tick) at each deadline (+ the heartbeat reply frame)",
                1,
                || {
                    let now = ke.e.next_deadline().unwrap_or(NOW);
                    for a in ke.e.handle(now, Input::Tick) {
                        if matches!(a, Action::Send { .. }) {
                            engine_ref += 1;
                            let text = format!(
                                r#"[null,"{engine_ref}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#
                            );
                            black_box(ke.e.handle(
                                now,
                                Input::SocketFrame {
                                    conn: ke.conn,
                                    text,
                                },
                            ));
                        }
                    }
                },
            ),
        ],
    );
    let diag = ke.e.diagnostics();
    if diag.heartbeat_timeouts != 0 || diag.connection != ConnectionState::Live {
        return Err(format!(
            "engine tick bench went wrong: {} heartbeat timeouts, connection {:?}",
            diag.heartbeat_timeouts, diag.connection
        ));
    }
    let ticks = EngineTicks {
        heartbeats: engine_ref - 1,
        polls_skipped: diag.polls_skipped,
    };
    Ok((ms, ticks))
}

/// A poller that has loaded once and has its next tick scheduled.
fn polling_poller() -> Poller {
    let mut p = Poller::new(10_000, 30_000, 1.5);
    p.resync(0, FetchReason::Initial, false);
    p.started(0, FetchId(1), FetchReason::Initial, 0);
    p.finished(0, FetchId(1), Ok(true));
    p
}

fn markdown(ms: &[Measured], ticks: &EngineTicks) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### (c) Heartbeat and poll state machines (sanity figure)\n\n\
         In the app these run a few times a minute; the figures only show the cost is negligible.\n\n\
         | step | ns/tick | ticks/s |\n|---|---:|---:|"
    );
    for m in ms {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            m.name,
            fmt_ns(m.median()),
            fmt_rate(m.median())
        );
    }
    let _ = writeln!(
        md,
        "\nThe engine-tick row is a kiosk engine (one `kiosk_results` query, realtime live): its \
         deadlines alternate between heartbeats (every 25 s; the reply is fed back as a frame) and \
         poll ticks (skipped while realtime is live). It made {} heartbeats and skipped {} polls \
         in this run, with 0 heartbeat timeouts.\n",
        group_thousands(ticks.heartbeats),
        group_thousands(ticks.polls_skipped)
    );
    md
}
