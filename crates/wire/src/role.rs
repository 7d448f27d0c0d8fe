//! Who a signed-in user is in the app.

use serde::{Deserialize, Serialize};

/// What a signed-in user is in the app: carried in the token's `app_metadata.role`, which only
/// the server can set. The database role (`anon`, `authenticated`, `service_role`) is a
/// different thing: every signed-in user is `authenticated`, and this says which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppRole {
    Customer,
    Staff,
}

impl AppRole {
    pub const ALL: [AppRole; 2] = [AppRole::Customer, AppRole::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Customer => "customer",
            AppRole::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<AppRole> {
        AppRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        for r in AppRole::ALL {
            assert_eq!(AppRole::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(AppRole::parse("Staff"), None);
        assert_eq!(AppRole::parse("service_role"), None);
    }
}
