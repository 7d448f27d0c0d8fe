//! Turning a `phx_join`'s `postgres_changes` params into bindings: ids, validation, authz.

use concierge_wire::filter::Filter;
use concierge_wire::realtime::{BoundChange, PostgresChangeSpec};

use crate::authz::{self, Principal};
use crate::db::Table;
use crate::hub::Binding;
use crate::hub::matcher::RowFilter;

/// The subscription id of a spec: a stable FNV-1a hash of its canonical form, so identical
/// params get identical ids (hosted uses `:erlang.phash2(params)`; only stability matters).
pub fn subscription_id(spec: &PostgresChangeSpec) -> u32 {
    let event = serde_json::to_string(&spec.event).unwrap_or_default();
    let canonical = [
        event.as_str(),
        spec.schema.as_str(),
        spec.table.as_deref().unwrap_or(""),
        spec.filter.as_deref().map(str::trim).unwrap_or(""),
    ];
    let mut h: u32 = 0x811c_9dc5;
    for (i, part) in canonical.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f; // unit separator: ("a","bc") and ("ab","c") differ
            h = h.wrapping_mul(0x0100_0193);
        }
        for b in part.bytes() {
            h ^= b as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    // Keep it a positive 31-bit integer, like phash2's range, safe in any JSON client.
    h & 0x7fff_ffff
}

pub fn bind(specs: &[PostgresChangeSpec]) -> Vec<BoundChange> {
    specs
        .iter()
        .map(|s| BoundChange {
            id: subscription_id(s),
            spec: s.clone(),
        })
        .collect()
}

fn unable(spec: &PostgresChangeSpec, why: &str) -> String {
    format!(
        "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: {}, schema: {}, table: {}, filters: [{}]]{}",
        serde_json::to_string(&spec.event)
            .unwrap_or_default()
            .trim_matches('"'),
        spec.schema,
        spec.table.as_deref().unwrap_or("*"),
        spec.filter.as_deref().unwrap_or(""),
        if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        },
    )
}

/// Validates every spec for `principal`. All or nothing, like hosted: one bad param and the
/// channel gets a `system` error and no subscription.
pub fn compile(
    principal: &Principal,
    specs: &[PostgresChangeSpec],
) -> Result<Vec<Binding>, String> {
    let mut out = Vec::new();
    for spec in specs {
        let id = subscription_id(spec);
        if spec.schema != "public" && spec.schema != "*" {
            return Err(unable(spec, "unknown schema"));
        }
        let filter = match spec.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(
                Filter::parse_realtime(f)
                    .map_err(|e| format!("Error parsing `filter` params: {e}"))?,
            ),
        };
        let tables: Vec<Table> = match spec.table.as_deref() {
            None | Some("*") => {
                if filter.is_some() {
                    return Err(
                        "Error parsing `filter` params: a filter needs an explicit table".into(),
                    );
                }
                // A wildcard covers the tables this principal may watch unfiltered.
                Table::ALL
                    .into_iter()
                    .filter(|t| t.published())
                    .filter(|t| authz::check_subscribe(principal, *t, None).is_ok())
                    .collect()
            }
            Some(name) => {
                let t = Table::parse(name).ok_or_else(|| unable(spec, "no such table"))?;
                if !t.published() {
                    return Err(unable(
                        spec,
                        "the table is not in the supabase_realtime publication",
                    ));
                }
                authz::check_subscribe(principal, t, filter.as_ref())
                    .map_err(|d| unable(spec, &d.to_string()))?;
                vec![t]
            }
        };
        for table in tables {
            let compiled = match &filter {
                None => None,
                Some(f) => Some(
                    RowFilter::compile(table, f)
                        .map_err(|e| format!("Error parsing `filter` params: {e}"))?,
                ),
            };
            out.push(Binding {
                id,
                event: spec.event,
                table,
                filter: compiled,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_wire::realtime::ChangeEvent;

    fn spec(event: ChangeEvent, table: Option<&str>, filter: Option<&str>) -> PostgresChangeSpec {
        PostgresChangeSpec {
            event,
            schema: "public".into(),
            table: table.map(Into::into),
            filter: filter.map(Into::into),
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = spec(
            ChangeEvent::Insert,
            Some("kiosk_results"),
            Some("session_id=eq.abc"),
        );
        assert_eq!(subscription_id(&a), subscription_id(&a.clone()));
        // Pinned value: changing the hash would break nothing on the wire, but it must be a
        // deliberate change (clients compare ids within one connection only).
        assert_eq!(
            subscription_id(&a),
            subscription_id(&spec(
                ChangeEvent::Insert,
                Some("kiosk_results"),
                Some("session_id=eq.abc")
            ))
        );
        let others = [
            spec(
                ChangeEvent::All,
                Some("kiosk_results"),
                Some("session_id=eq.abc"),
            ),
            spec(
                ChangeEvent::Insert,
                Some("kiosk_results"),
                Some("session_id=eq.abd"),
            ),
            spec(ChangeEvent::Insert, Some("events"), None),
            spec(
                ChangeEvent::Insert,
                Some("kiosk_result"),
                Some("ssession_id=eq.abc"),
            ),
        ];
        for o in &others {
            assert_ne!(subscription_id(&a), subscription_id(o), "{o:?}");
        }
        let ids: std::collections::HashSet<u32> = (0..10_000)
            .map(|i| {
                subscription_id(&spec(
                    ChangeEvent::Insert,
                    Some("kiosk_results"),
                    Some(&format!("session_id=eq.{i}")),
                ))
            })
            .collect();
        assert!(
            ids.len() > 9_990,
            "FNV should barely collide: {}",
            ids.len()
        );
        assert!(ids.iter().all(|i| *i <= i32::MAX as u32));
    }

    #[test]
    fn validation_errors_are_clear() {
        let anon = Principal::Anon;
        let e = compile(&anon, &[spec(ChangeEvent::All, Some("nope"), None)]).unwrap_err();
        assert!(e.starts_with("Unable to subscribe"), "{e}");
        let e = compile(
            &anon,
            &[spec(ChangeEvent::All, Some("events"), Some("title=like.x"))],
        )
        .unwrap_err();
        assert!(e.starts_with("Error parsing `filter` params"), "{e}");
        let e = compile(
            &anon,
            &[spec(ChangeEvent::All, Some("events"), Some("nope=eq.1"))],
        )
        .unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let e = compile(&anon, &[spec(ChangeEvent::All, Some("sessions"), None)]).unwrap_err();
        assert!(e.contains("permission denied"), "{e}");
        // A kiosk identity watches kiosk_results (delivery then keeps to the rows it owns)…
        let kiosk = Principal::Kiosk(authz::Kiosk {
            id: "11111111-1111-4111-8111-111111111111".into(),
            exp: 4_000_000_000,
            session_id: None,
        });
        assert_eq!(
            compile(
                &kiosk,
                &[spec(
                    ChangeEvent::Insert,
                    Some("kiosk_results"),
                    Some("session_id=eq.k1")
                )]
            )
            .unwrap()
            .len(),
            1
        );
        // …and the bare anon key watches no kiosk's results, filtered or not.
        let e = compile(
            &anon,
            &[spec(ChangeEvent::Insert, Some("kiosk_results"), None)],
        )
        .unwrap_err();
        assert!(e.contains("permission denied"), "{e}");
        let e = compile(
            &Principal::Anon,
            &[spec(
                ChangeEvent::Insert,
                Some("kiosk_results"),
                Some("session_id=eq.k1"),
            )],
        )
        .unwrap_err();
        assert!(e.contains("permission denied"), "{e}");
        // Wildcard: only what anon may watch unfiltered.
        let b = compile(&anon, &[spec(ChangeEvent::All, None, None)]).unwrap();
        assert_eq!(
            b.iter().map(|b| b.table).collect::<Vec<_>>(),
            vec![Table::Events]
        );
        let e = compile(&anon, &[spec(ChangeEvent::All, Some("hotels"), None)]).unwrap_err();
        assert!(e.contains("publication"), "{e}");
        assert_eq!(
            compile(
                &Principal::ServiceRole,
                &[spec(ChangeEvent::All, Some("*"), None)]
            )
            .unwrap()
            .len(),
            5,
            "every published table (events, kiosk_results, sessions, messages, reservations)"
        );
        // An empty filter is no filter.
        assert!(
            compile(&anon, &[spec(ChangeEvent::All, Some("events"), Some("  "))]).unwrap()[0]
                .filter
                .is_none()
        );
    }
}
