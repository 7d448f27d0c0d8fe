//! A function call's JSON body as PostgREST reads it: an object whose keys are exactly the
//! function's parameter names (PostgREST picks the overload by them; no match is 404
//! `PGRST202`), each value cast to the parameter's type (a bad one is 400 `22P02`).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::authz::Function;
use crate::db::booking::Booking;
use crate::db::writer::uuid_arg;
use crate::rest_error::RestError;

/// The parameters of each function, in the order the hosted migration declares them.
pub fn params(f: Function) -> &'static [&'static str] {
    match f {
        Function::Reserve => &["event_id", "guest_name", "room", "party_size"],
        Function::CancelReservation => &["reservation_id"],
    }
}

fn signature(name: &str, keys: &[&str]) -> String {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    format!("public.{name}({})", keys.join(", "))
}

/// PostgREST's answer to a call no function matches.
pub fn not_found(name: &str, sent: &[&str], known: Option<Function>) -> RestError {
    let e = RestError::new(
        StatusCode::NOT_FOUND,
        "PGRST202",
        format!(
            "Could not find the function {} in the schema cache",
            signature(crate::rest_error::truncate(name).as_str(), sent)
        ),
    );
    match known {
        Some(f) => e.hint(format!(
            "Perhaps you meant to call the function {}",
            signature(f.name(), params(f))
        )),
        None => e.hint(
            "If a new function was created in the database with this name and parameters, \
             try reloading the schema cache.",
        ),
    }
}

/// The body as an object whose keys are exactly `f`'s parameters.
pub fn object(f: Function, body: &[u8]) -> Result<Map<String, Value>, RestError> {
    let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| RestError::bad_json(e.to_string()))?
    };
    let Value::Object(m) = v else {
        return Err(RestError::bad_json("a function call takes one JSON object"));
    };
    let want = params(f);
    if m.len() != want.len() || !want.iter().all(|k| m.contains_key(*k)) {
        let sent: Vec<&str> = m.keys().take(16).map(String::as_str).collect();
        return Err(not_found(f.name(), &sent, Some(f)));
    }
    Ok(m)
}

fn cast_error(ty: &str, v: &Value) -> RestError {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    RestError::new(
        StatusCode::BAD_REQUEST,
        "22P02",
        format!(
            "invalid input syntax for type {ty}: \"{}\"",
            crate::rest_error::truncate(&text)
        ),
    )
}

pub fn uuid(m: &Map<String, Value>, key: &str) -> Result<Option<String>, RestError> {
    let v = m.get(key).unwrap_or(&Value::Null);
    uuid_arg(v).map_err(|_| cast_error("uuid", v))
}

/// `text`: JSON strings as they are, other scalars as their JSON text (Postgres' cast).
fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `integer`: a JSON integer or its text, in range.
fn integer(m: &Map<String, Value>, key: &str) -> Result<Option<i64>, RestError> {
    let v = m.get(key).unwrap_or(&Value::Null);
    let n = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.filter(|n| i32::try_from(*n).is_ok())
        .map(Some)
        .ok_or_else(|| cast_error("integer", v))
}

pub fn booking(m: &Map<String, Value>) -> Result<Booking, RestError> {
    Ok(Booking {
        event_id: uuid(m, "event_id")?,
        guest_name: text(m, "guest_name"),
        room: text(m, "room"),
        party_size: integer(m, "party_size")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exactly_the_parameters_or_pgrst202() {
        let body = json!({"event_id": "e0000000-0000-4000-8000-000000000001",
            "guest_name": "Ada", "room": 12, "party_size": "2"})
        .to_string();
        let m = object(Function::Reserve, body.as_bytes()).unwrap();
        let b = booking(&m).unwrap();
        assert_eq!(b.room.as_deref(), Some("12"));
        assert_eq!(b.party_size, Some(2));
        let e = object(Function::Reserve, br#"{"event_id": null}"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (404, "PGRST202"));
        let e = object(Function::CancelReservation, b"[]").unwrap_err();
        assert_eq!(e.code, "PGRST102");
        let bad = json!({"event_id": "x", "guest_name": "A", "room": "1", "party_size": 1});
        let e = booking(bad.as_object().unwrap()).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "22P02"));
        let big = json!({"event_id": null, "guest_name": "A", "room": "1", "party_size": 1e12});
        assert!(booking(big.as_object().unwrap()).is_err());
    }
}
