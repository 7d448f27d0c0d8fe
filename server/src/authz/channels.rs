//! Private Realtime channels (`config.private: true`): who may join a topic, and so send and
//! receive its Broadcast and Presence.
//!
//! Hosted Supabase decides this with RLS policies on `realtime.messages`; the rule here is the
//! one the Concierge migration gives them: the topic `session:<id>` belongs to that session's
//! customer and to the staff member holding it (`staff_id`). The service role bypasses it, as
//! it bypasses RLS. Any other private topic has no policy, so nobody else may join it.

use super::Principal;

/// The people a session's private channel belongs to (`sessions.customer_id`, `staff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParties {
    pub customer_id: String,
    pub staff_id: Option<String>,
}

/// Why a private join is refused. The text is Supabase's, so clients can match on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized: You do not have permissions to read from this Channel topic: {topic}")]
pub struct ChannelDenied {
    /// The topic without its `realtime:` prefix, as Supabase names it.
    pub topic: String,
}

/// The session id a private topic names (`session:<uuid>`, canonical lowercase), if any: the
/// row the caller must look up before asking [`may_join`].
pub fn session_of(topic: &str) -> Option<String> {
    let id = topic.strip_prefix("session:")?;
    uuid::Uuid::parse_str(id).ok().map(|u| u.to_string())
}

/// Whether `who` may join the private channel `topic` (without `realtime:`). `parties` is the
/// session [`session_of`] named, or `None` when there is no such session.
pub fn may_join(
    who: &Principal,
    topic: &str,
    parties: Option<&SessionParties>,
) -> Result<(), ChannelDenied> {
    let allowed = match who {
        Principal::ServiceRole => true,
        Principal::User(u) => {
            session_of(topic).is_some()
                && parties.is_some_and(|p| {
                    p.customer_id == u.id || p.staff_id.as_deref() == Some(u.id.as_str())
                })
        }
        // Bare API keys own no conversation. A kiosk owns its kiosk conversations, but
        // nobody else may be in one: no staff member holds a kiosk claim (`kiosk_sessions`
        // has no `staff_id`, and staff have no rule on kiosk conversations), so its channel
        // could only ever show the kiosk to itself. A "person is here" at the kiosk needs
        // staff to hold kiosk conversations first; this rule changes with that.
        Principal::Kiosk(_) | Principal::Anon => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ChannelDenied {
            topic: topic.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::User;
    use concierge_wire::AppRole;

    const CUSTOMER: &str = "11111111-1111-4111-8111-111111111111";
    const STAFF: &str = "22222222-2222-4222-8222-222222222222";
    const OTHER: &str = "33333333-3333-4333-8333-333333333333";
    const SESSION: &str = "44444444-4444-4444-8444-444444444444";

    fn user(id: &str, role: AppRole) -> Principal {
        Principal::User(User {
            id: id.into(),
            role,
            name: None,
            exp: i64::MAX,
            session_id: None,
        })
    }

    fn parties() -> SessionParties {
        SessionParties {
            customer_id: CUSTOMER.into(),
            staff_id: Some(STAFF.into()),
        }
    }

    #[test]
    fn the_sessions_customer_and_staff_may_join() {
        let topic = format!("session:{SESSION}");
        let p = parties();
        assert!(may_join(&user(CUSTOMER, AppRole::Customer), &topic, Some(&p)).is_ok());
        assert!(may_join(&user(STAFF, AppRole::Staff), &topic, Some(&p)).is_ok());
        assert!(may_join(&Principal::ServiceRole, &topic, None).is_ok());
    }

    #[test]
    fn everyone_else_gets_supabases_error() {
        let topic = format!("session:{SESSION}");
        let p = parties();
        let denied = may_join(&user(OTHER, AppRole::Staff), &topic, Some(&p)).unwrap_err();
        assert_eq!(
            denied.to_string(),
            format!(
                "Unauthorized: You do not have permissions to read from this Channel topic: session:{SESSION}"
            )
        );
        assert!(may_join(&Principal::Anon, &topic, Some(&p)).is_err());
        assert!(may_join(&user(CUSTOMER, AppRole::Customer), &topic, None).is_err());
        assert!(may_join(&user(CUSTOMER, AppRole::Customer), "lobby", Some(&p)).is_err());
    }

    #[test]
    fn session_topics_are_parsed_strictly() {
        assert_eq!(
            session_of(&format!("session:{}", SESSION.to_uppercase())),
            Some(SESSION.into())
        );
        assert_eq!(session_of("session:not-a-uuid"), None);
        assert_eq!(session_of(SESSION), None);
    }
}
