//! Legitimate fan-out through both phases: the catalogue edited (as the service role, the way
//! staff tools or an import would) at a steady rate, each change with a long description. Any
//! socket watching `events` receives them; the non-reading attackers' queues fill with them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::Ctx;
use super::tally::{Tally, http_kind};

/// Catalogue changes per second, and each one's description length.
pub const RATE: u32 = 20;
pub const DESCRIPTION_CHARS: usize = 1500;
/// Rows edited in turn.
const ROWS: usize = 4;

/// Edits [`ROWS`] `events` rows in turn at [`RATE`] a second until `stop`.
pub async fn run(ctx: Ctx, tally: Arc<Tally>, stop: watch::Receiver<bool>) {
    let ids = match event_ids(&ctx).await {
        Ok(ids) if !ids.is_empty() => ids,
        other => {
            eprintln!("abuse feeder: no events to edit ({other:?}); running without it");
            return;
        }
    };
    let pad = "x".repeat(DESCRIPTION_CHARS);
    let every = Duration::from_secs_f64(1.0 / f64::from(RATE));
    let mut at = Instant::now();
    let mut n: u64 = 0;
    // Open loop, like the probe: a slow server does not slow the edits down.
    let mut in_flight = Vec::new();
    while !*stop.borrow() {
        sleep_until(at).await;
        at += every;
        n += 1;
        let id = &ids[n as usize % ids.len()];
        let req = ctx
            .http
            .patch(format!("{}/rest/v1/events?id=eq.{id}", ctx.url))
            .header("apikey", &*ctx.service_key)
            .bearer_auth(&*ctx.service_key)
            .header("Content-Type", "application/json")
            .header("Prefer", "return=minimal")
            .body(format!(r#"{{"description":"feed-{n} {pad}"}}"#));
        tally.sent();
        let tally = tally.clone();
        in_flight.push(tokio::spawn(async move {
            match req.send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let body = res.text().await.unwrap_or_default();
                    tally.note(http_kind(status, &body));
                }
                Err(_) => tally.note("error"),
            }
        }));
        in_flight.retain(|t| !t.is_finished());
    }
    for t in in_flight {
        let _ = t.await;
    }
}

async fn event_ids(ctx: &Ctx) -> Result<Vec<String>, reqwest::Error> {
    let text = ctx
        .http
        .get(format!(
            "{}/rest/v1/events?select=id&order=id&limit={ROWS}",
            ctx.url
        ))
        .header("apikey", &*ctx.service_key)
        .bearer_auth(&*ctx.service_key)
        .send()
        .await?
        .text()
        .await?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    Ok(rows
        .iter()
        .filter_map(|r| r.get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .collect())
}
