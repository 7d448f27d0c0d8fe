//! The conversation inside a session: a `messages` row and who wrote it.

use serde::{Deserialize, Serialize};

/// Longest message body, in characters (the CHECK constraint on both backends).
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// Who wrote a message. The server stamps it from the caller's token, never from the body:
/// a customer (or a kiosk guest, who is the customer of a kiosk conversation), a staff
/// member, or the server's automatic concierge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorRole {
    Customer,
    Staff,
    Concierge,
}

impl AuthorRole {
    pub const ALL: [AuthorRole; 3] = [
        AuthorRole::Customer,
        AuthorRole::Staff,
        AuthorRole::Concierge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthorRole::Customer => "customer",
            AuthorRole::Staff => "staff",
            AuthorRole::Concierge => "concierge",
        }
    }

    pub fn parse(s: &str) -> Option<AuthorRole> {
        AuthorRole::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One `messages` row. `id` is made by the sender, so a retried send is the same message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    /// A `sessions` id, or for a kiosk conversation the kiosk's claimed session id.
    pub session_id: String,
    pub author_role: AuthorRole,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in AuthorRole::ALL {
            assert_eq!(AuthorRole::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        assert_eq!(AuthorRole::parse("kiosk"), None);
    }
}
