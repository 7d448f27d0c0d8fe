//! Kiosk results expire: each search leaves a row, and a kiosk only ever shows the newest, so
//! rows older than the retention are deleted by a background task. The deletes go through the
//! one writer, so realtime publishes each DELETE like any other write.

use std::time::Duration;

use concierge_wire::filter::{Filter, FilterOp, FilterValue};

use super::{DbError, Table, Writer};
use crate::authz::Principal;
use crate::time_fmt;

/// Default for `--kiosk-result-retention-secs`: a day.
pub const DEFAULT_KIOSK_RESULT_RETENTION_SECS: u64 = 24 * 3600;

/// Deletes every kiosk result created more than `retention` ago; returns how many.
pub async fn sweep(writer: &Writer, retention: Duration) -> Result<usize, DbError> {
    let age = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = time_fmt::format_ms(time_fmt::now_ms().saturating_sub(age));
    let older = Filter::new("created_at", FilterOp::Lt, FilterValue::One(cutoff));
    let gone = writer
        .delete(
            &Principal::ServiceRole,
            Table::KioskResults,
            (vec![older], vec![]),
        )
        .await?;
    Ok(gone.len())
}

/// Sweeps until `stop` is cancelled, about four times per retention (at most once a minute, at least every
/// 100 ms), so a row outlives its retention by at most a quarter of it.
pub async fn run(writer: Writer, retention: Duration, stop: tokio_util::sync::CancellationToken) {
    let period = (retention / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        match sweep(&writer, retention).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "expired kiosk results"),
            Err(e) => tracing::warn!("expiring kiosk results failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{migrate, sql};

    /// The sweep finds expired rows through an index: it never reads the whole table (which
    /// grows by the hour while the sweep runs every minute, holding the writer).
    #[test]
    fn the_sweep_searches_an_index_rather_than_scanning_the_table() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate::apply(&mut conn).unwrap();
        let older = Filter::new(
            "created_at",
            FilterOp::Lt,
            FilterValue::One("2026-01-01T00:00:00.000Z".into()),
        );
        let scope = crate::authz::row_scope(&Principal::ServiceRole, Table::KioskResults);
        let mut params = Vec::new();
        let wh = sql::scoped_where_clause(Table::KioskResults, &[older], &[], &scope, &mut params)
            .unwrap();
        let text = format!(
            "EXPLAIN QUERY PLAN DELETE FROM {}{wh}",
            sql::quote(Table::KioskResults.name())
        );
        let plan: Vec<String> = conn
            .prepare(&text)
            .unwrap()
            .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX kiosk_results_created")),
            "{text}: {plan:?}"
        );
    }
}
