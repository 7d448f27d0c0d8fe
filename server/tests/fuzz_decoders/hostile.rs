//! Generators for hostile input: arbitrary JSON, PostgREST query parameters built from the
//! grammar's pieces (so the parser gets past its first check), Phoenix frames of both
//! serializer versions, and tokens that are almost right.

use concierge_server::jwt::Keys;
use concierge_server::schema::Table;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A column of some table, or a name that is none.
pub fn column() -> BoxedStrategy<String> {
    let known: Vec<String> = Table::ALL
        .iter()
        .flat_map(|t| t.columns().iter().map(|c| c.name.to_owned()))
        .collect();
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => "[a-z_.()*!,:-]{0,12}",
        1 => ".{0,8}",
    ]
    .boxed()
}

pub fn table_name() -> BoxedStrategy<String> {
    let known: Vec<String> = Table::ALL.iter().map(|t| t.name().to_owned()).collect();
    prop_oneof![4 => proptest::sample::select(known), 1 => "[a-z_.%]{0,12}"].boxed()
}

/// Text that stresses parsers: delimiters, quotes, escapes, wildcards, non-ASCII.
pub fn nasty_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9 ]{0,10}",
        2 => r#"[(),.*%_\\"':!\-\[\]{} ]{0,12}"#,
        1 => ".{0,24}",
        1 => Just("null".to_owned()),
        1 => Just("\u{0}".to_owned()),
        1 => "[0-9eE+.-]{1,24}",
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,15}Z?",
    ]
    .boxed()
}

/// The right-hand side of a filter: `[not.]op.value` with PostgREST's operators.
pub fn filter_value() -> BoxedStrategy<String> {
    let op = proptest::sample::select(vec![
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "like",
        "ilike",
        "in",
        "is",
        "cs",
        "cd",
        "fts",
        "match",
        "imatch",
        "isdistinct",
        "sl",
        "",
        "not",
    ]);
    let list =
        proptest::collection::vec(nasty_text(), 0..5).prop_map(|v| format!("({})", v.join(",")));
    let is = proptest::sample::select(vec!["null", "true", "false", "unknown", "NULL", "nul", ""]);
    let value = prop_oneof![
        3 => nasty_text(),
        1 => list,
        1 => is.prop_map(str::to_owned),
        1 => "[*%_a]{0,40}",
    ];
    (any::<bool>(), op, value)
        .prop_map(|(neg, op, v)| format!("{}{op}.{v}", if neg { "not." } else { "" }))
        .boxed()
}

/// `or=(…)` / `and=(…)` bodies, nested a little.
pub fn logic_value() -> BoxedStrategy<String> {
    let leaf = (column(), filter_value()).prop_map(|(c, v)| format!("{c}.{v}"));
    leaf.prop_recursive(3, 12, 4, |inner| {
        (
            proptest::sample::select(vec!["or", "and", "not.or", "not.and", ""]),
            proptest::collection::vec(inner, 0..4),
        )
            .prop_map(|(k, items)| format!("{k}({})", items.join(",")))
    })
    .prop_map(|s| {
        // The parameter's value is the parenthesised list.
        s.find('(').map_or(s.clone(), |i| s[i..].to_owned())
    })
    .boxed()
}

pub fn select_value() -> BoxedStrategy<String> {
    let item = prop_oneof![
        3 => column(),
        1 => Just("*".to_owned()),
        1 => (column(), column()).prop_map(|(a, b)| format!("{a}:{b}")),
        1 => (column(), column()).prop_map(|(a, b)| format!("{a}({b})")),
        1 => (column(), "[a-z]{0,6}").prop_map(|(a, t)| format!("{a}::{t}")),
        1 => "[(),*:]{0,6}",
    ];
    proptest::collection::vec(item, 0..6)
        .prop_map(|v| v.join(","))
        .boxed()
}

pub fn order_value() -> BoxedStrategy<String> {
    let dir = proptest::sample::select(vec![
        "",
        ".asc",
        ".desc",
        ".nullsfirst",
        ".nullslast",
        ".desc.nullslast",
        ".up",
        ".",
    ]);
    proptest::collection::vec((column(), dir), 0..5)
        .prop_map(|v| {
            v.into_iter()
                .map(|(c, d)| format!("{c}{d}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .boxed()
}

/// One query parameter, most of them well-formed enough to reach the deeper checks.
pub fn query_pair() -> BoxedStrategy<(String, String)> {
    let number = prop_oneof!["-?[0-9]{0,22}", nasty_text()];
    prop_oneof![
        6 => (column(), filter_value()),
        2 => select_value().prop_map(|v| ("select".to_owned(), v)),
        2 => order_value().prop_map(|v| ("order".to_owned(), v)),
        2 => (proptest::sample::select(vec!["or", "and", "not.or", "not.and"]), logic_value())
            .prop_map(|(k, v)| (k.to_owned(), v)),
        1 => (proptest::sample::select(vec!["limit", "offset"]), number)
            .prop_map(|(k, v)| (k.to_owned(), v)),
        1 => (nasty_text(), nasty_text()),
    ]
    .boxed()
}

pub fn query_pairs() -> BoxedStrategy<Vec<(String, String)>> {
    proptest::collection::vec(query_pair(), 0..6).boxed()
}

/// `k=v&…`, percent-encoded as a client would send it.
pub fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Any JSON value, nested a few levels.
pub fn json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty_text().prop_map(Value::String),
        Just(json!(u64::MAX)),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((column(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// A row-like object: real column names with values of any type.
pub fn row() -> BoxedStrategy<Value> {
    proptest::collection::vec((column(), json()), 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
        .boxed()
}

/// An insert or update body: rows, arrays of rows, any JSON, or bytes that are not JSON.
pub fn body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => row().prop_map(|v| v.to_string().into_bytes()),
        2 => proptest::collection::vec(row(), 0..4).prop_map(|v| Value::Array(v).to_string().into_bytes()),
        1 => json().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec()),
    ]
    .boxed()
}

/// A `postgres_changes` entry of a join, any of its fields possibly wrong.
fn change_spec() -> BoxedStrategy<Value> {
    let filter = prop_oneof![
        (column(), filter_value()).prop_map(|(c, v)| format!("{c}={v}")),
        nasty_text(),
    ];
    (
        proptest::sample::select(vec![
            "*", "INSERT", "UPDATE", "DELETE", "insert", "TRUNCATE", "",
        ]),
        proptest::sample::select(vec!["public", "private", ""]),
        table_name(),
        proptest::option::of(filter),
        json(),
    )
        .prop_map(|(event, schema, table, filter, extra)| {
            let mut spec = json!({"event": event, "schema": schema, "table": table});
            if let Some(f) = filter {
                spec["filter"] = Value::String(f);
            }
            if extra.is_object() {
                spec["extra"] = extra;
            }
            spec
        })
        .boxed()
}

/// A `phx_join` payload: supabase-js's shape with arbitrary parts, or anything at all.
pub fn join_payload() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (proptest::collection::vec(change_spec(), 0..4), proptest::option::of(nasty_text()))
            .prop_map(|(specs, token)| {
                let mut p = json!({"config": {"broadcast": {"self": false}, "presence": {"key": ""}, "postgres_changes": specs}});
                if let Some(t) = token {
                    p["access_token"] = Value::String(t);
                }
                p
            }),
        1 => json(),
    ]
    .boxed()
}

/// A text frame: vsn 2 arrays, vsn 1 objects (either may be sent to either socket), with
/// well-known events and arbitrary element types, or text that is not JSON at all.
pub fn phoenix_text() -> BoxedStrategy<String> {
    let reference = prop_oneof![
        Just(Value::Null),
        "[0-9]{1,4}".prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        json(),
    ];
    let event = prop_oneof![
        3 => proptest::sample::select(vec!["phx_join", "phx_leave", "heartbeat", "access_token", "broadcast", "presence", "phx_reply", "postgres_changes"]).prop_map(str::to_owned),
        1 => nasty_text(),
    ];
    let topic = prop_oneof![
        3 => "[a-z0-9-]{0,10}".prop_map(|t| format!("realtime:{t}")),
        1 => Just("phoenix".to_owned()),
        1 => nasty_text(),
    ];
    let payload = prop_oneof![2 => join_payload(), 1 => json()];
    prop_oneof![
        4 => (reference.clone(), reference.clone(), topic.clone(), event.clone(), payload.clone())
            .prop_map(|(j, r, t, e, p)| json!([j, r, t, e, p]).to_string()),
        2 => (topic, event, payload, reference.clone(), reference)
            .prop_map(|(t, e, p, r, j)| json!({"topic": t, "event": e, "payload": p, "ref": r, "join_ref": j}).to_string()),
        1 => proptest::collection::vec(json(), 0..7).prop_map(|v| Value::Array(v).to_string()),
        1 => json().prop_map(|v| v.to_string()),
        1 => ".{0,60}",
    ]
    .boxed()
}

fn b64(bytes: &[u8]) -> String {
    use std::fmt::Write;
    // URL-safe base64 without padding, by hand: the test needs no crate for one encoding.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            let _ = write!(out, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Tokens: signed with the server's secret but with claims of any shape, three segments of
/// arbitrary JSON with a bad signature, `alg: none`, or plain junk.
pub fn token(keys: Keys) -> BoxedStrategy<String> {
    let claims = (
        prop_oneof![
            proptest::sample::select(vec!["anon", "service_role", "authenticated", "admin", ""])
                .prop_map(|r| json!(r)),
            json(),
        ],
        prop_oneof![Just(json!(4_102_444_800_i64)), json()],
        prop_oneof![Just(json!("0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23")), json()],
        json(),
        json(),
        any::<bool>(),
    )
        .prop_map(|(role, exp, sub, app, user, anon)| {
            json!({"role": role, "exp": exp, "sub": sub, "app_metadata": app,
                   "user_metadata": user, "is_anonymous": anon, "session_id": sub, "nbf": exp})
        });
    let signed = claims.prop_map(move |c| keys.sign_as(&c));
    let forged = (
        json(),
        json(),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(h, c, sig)| {
            format!(
                "{}.{}.{}",
                b64(h.to_string().as_bytes()),
                b64(c.to_string().as_bytes()),
                b64(&sig)
            )
        });
    let none = json().prop_map(|c| {
        format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(c.to_string().as_bytes())
        )
    });
    prop_oneof![3 => signed, 2 => forged, 1 => none, 1 => "[A-Za-z0-9._-]{0,80}", 1 => ".{0,40}"]
        .boxed()
}
