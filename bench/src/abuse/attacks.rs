//! The HTTP attacks: slow `ilike` patterns at the query bounds against long text, and
//! password sign-in floods with wrong passwords. Each loops until told to stop and counts what
//! the server answered.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::Ctx;
use super::tally::{Tally, http_kind};
use crate::clock::now_us;

/// Attacker identities, each with its own kiosk conversation of long messages to search.
pub const PATTERN_ATTACKERS: usize = 8;
/// Long messages each attacker writes first (a user may write 60 a minute).
const LONG_ROWS: usize = 50;
/// The longest message body (crates/wire `MAX_MESSAGE_CHARS`).
const BODY_CHARS: usize = 2000;
/// The server's bounds (server/src/rest/query/bounds.rs): bytes per filter value, wildcards
/// per pattern.
const MAX_VALUE_BYTES: usize = 1024;
const MAX_WILDCARDS: usize = 16;
/// The bound counts the operator too (`ilike.<pattern>`).
const PATTERN_BYTES: usize = MAX_VALUE_BYTES - "ilike.".len();
/// `ilike` terms in one `or=(…)`: each within the bounds, together many times the work.
const OR_TERMS: usize = 16;
/// One request in this many (the first of each run of them) has a pattern one wildcard over
/// the bound (refused up front).
const OVER_BOUND_EVERY: u64 = 10;

/// Concurrent sign-in flooders and the least time between one's requests (so this client's
/// own CPU, on the server's machine, stays a small part of the picture).
pub const SIGN_IN_FLOODERS: usize = 8;
const SIGN_IN_GAP: Duration = Duration::from_millis(20);
/// A seeded demo account (`--seed-demo`): the per-account limit acts on it too.
const KNOWN_EMAIL: &str = "staff@concierge.test";

/// A pattern at the bounds whose two-pointer match costs about text × pattern steps on a text
/// of `a`s: `wildcards - 1` cheap `*a` steps, then one `*` before a long run of `a`s that
/// never matches (it ends in `b`), `bytes` long in all.
pub fn slow_pattern(wildcards: usize, bytes: usize) -> String {
    let mut p = "*a".repeat(wildcards.saturating_sub(1));
    p.push('*');
    let run = bytes.saturating_sub(p.len() + 1);
    p.push_str(&"a".repeat(run));
    p.push('b');
    p
}

/// An attacker of the slow-pattern kind: its token and the session its long messages are in.
pub struct PatternAttacker {
    token: String,
    session: String,
}

/// Signs up the attackers and writes their long messages.
pub async fn prepare_patterns(ctx: &Ctx) -> Result<Vec<PatternAttacker>, String> {
    let body = format!(r#""body":"{}""#, "a".repeat(BODY_CHARS));
    let mut out = Vec::new();
    for _ in 0..PATTERN_ATTACKERS {
        let session = uuid::Uuid::new_v4().to_string();
        let token = ctx
            .identities
            .kiosk(&session)
            .await
            .map_err(|e| format!("attacker identity: {e}"))?;
        let mut writes = Vec::new();
        for _ in 0..LONG_ROWS {
            let req = ctx
                .http
                .post(format!("{}/rest/v1/messages", ctx.url))
                .header("apikey", &*ctx.anon_key)
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .header("Prefer", "return=minimal")
                .body(format!(r#"{{"session_id":"{session}",{body}}}"#));
            writes.push(async move { req.send().await.map(|r| r.status().as_u16()) });
        }
        let statuses = futures_util::future::join_all(writes).await;
        if let Some(bad) = statuses.iter().find(|s| !matches!(s, Ok(201))) {
            return Err(format!("attacker's long messages: {bad:?}"));
        }
        out.push(PatternAttacker { token, session });
    }
    Ok(out)
}

/// Each attacker searches its own long messages with [`OR_TERMS`] patterns at the bounds, one
/// request in flight each, as fast as answers come.
pub async fn slow_patterns(
    ctx: Ctx,
    attackers: Vec<PatternAttacker>,
    tally: Arc<Tally>,
    stop: watch::Receiver<bool>,
) {
    let at_bound = slow_pattern(MAX_WILDCARDS, PATTERN_BYTES);
    let over_bound = slow_pattern(MAX_WILDCARDS + 1, PATTERN_BYTES);
    let terms = |p: &str| {
        (0..OR_TERMS)
            .map(|_| format!("body.ilike.{p}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (ok_q, over_q) = (Arc::new(terms(&at_bound)), Arc::new(terms(&over_bound)));
    let mut tasks = Vec::new();
    for me in attackers {
        let (ctx, tally, stop) = (ctx.clone(), tally.clone(), stop.clone());
        let (ok_q, over_q) = (ok_q.clone(), over_q.clone());
        tasks.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while !*stop.borrow() {
                n += 1;
                // The first of every ten goes over the bound, so even a short phase shows it.
                let q = if n % OVER_BOUND_EVERY == 1 {
                    &over_q
                } else {
                    &ok_q
                };
                let req = ctx
                    .http
                    .get(format!(
                        "{}/rest/v1/messages?select=id&session_id=eq.{}&or=({q})",
                        ctx.url, me.session
                    ))
                    .header("apikey", &*ctx.anon_key)
                    .bearer_auth(&me.token);
                send(&tally, req).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Password sign-ins with wrong passwords, half for a real account and half for made-up
/// ones, from [`SIGN_IN_FLOODERS`] tasks.
pub async fn sign_in_flood(ctx: Ctx, tally: Arc<Tally>, stop: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for f in 0..SIGN_IN_FLOODERS {
        let (ctx, tally, stop) = (ctx.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            let mut next = Instant::now();
            while !*stop.borrow() {
                sleep_until(next).await;
                next = Instant::now() + SIGN_IN_GAP;
                n += 1;
                let email = if (n + f as u64).is_multiple_of(2) {
                    KNOWN_EMAIL.to_owned()
                } else {
                    format!("nobody-{}@example.test", uuid::Uuid::new_v4())
                };
                let req = ctx
                    .http
                    .post(format!("{}/auth/v1/token?grant_type=password", ctx.url))
                    .header("apikey", &*ctx.anon_key)
                    .header("x-supabase-api-version", "2024-01-01")
                    .header("Content-Type", "application/json")
                    .body(format!(
                        r#"{{"email":"{email}","password":"wrong-password-{n}"}}"#
                    ));
                send(&tally, req).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Sends one attack request and counts the answer.
async fn send(tally: &Tally, req: reqwest::RequestBuilder) {
    tally.sent();
    let t0 = now_us();
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            tally.answered_after(now_us().saturating_sub(t0));
            tally.note(http_kind(status, &body));
        }
        Err(e) => tally.note(if e.is_timeout() { "timeout" } else { "error" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_pattern_sits_at_the_bounds() {
        let p = slow_pattern(MAX_WILDCARDS, PATTERN_BYTES);
        assert_eq!(format!("ilike.{p}").len(), MAX_VALUE_BYTES);
        assert_eq!(p.matches('*').count(), MAX_WILDCARDS);
        assert!(p.ends_with("aab"));
        let over = slow_pattern(MAX_WILDCARDS + 1, PATTERN_BYTES);
        assert_eq!(over.matches('*').count(), MAX_WILDCARDS + 1);
        assert_eq!(over.len(), PATTERN_BYTES);
    }
}
