//! Shared test fixtures for the table modules' tests.

use concierge_wire::{AppRole, Filter};
use serde_json::Value;

use super::{Kiosk, Principal, User};
use crate::schema::Row;

pub const ME: &str = "11111111-1111-4111-8111-111111111111";
pub const OTHER: &str = "22222222-2222-4222-8222-222222222222";

/// A filter written as in a realtime binding: `column=op.value`.
pub fn f(s: &str) -> Filter {
    Filter::parse_realtime(s).unwrap()
}

pub fn user(role: AppRole, id: &str) -> Principal {
    Principal::User(User {
        id: id.into(),
        role,
        name: Some(format!("{id}-name")),
        exp: 4_000_000_000,
        session_id: None,
    })
}

pub fn kiosk(id: &str) -> Principal {
    Principal::Kiosk(Kiosk {
        id: id.into(),
        exp: 4_000_000_000,
        session_id: None,
    })
}

pub fn row(v: Value) -> Row {
    v.as_object().cloned().unwrap()
}
