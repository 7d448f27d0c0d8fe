//! Private channels: the join-time check. The rule is [`crate::authz::channels`]; this only
//! fetches the session it needs.

use super::conn::Conn;
use crate::authz::Principal;
use crate::authz::channels::{may_join, session_of};

impl Conn {
    /// `Err(reason)` for the join's error reply when `who` may not join the private `topic`
    /// (without `realtime:`).
    pub(super) async fn authorize_private(
        &self,
        who: &Principal,
        topic: &str,
    ) -> Result<(), String> {
        let parties = match (who, session_of(topic)) {
            (Principal::User(_), Some(id)) => match self.db.session_parties(&id).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "private channel check failed");
                    return Err("Realtime was unable to connect to the project database".into());
                }
            },
            _ => None,
        };
        may_join(who, topic, parties.as_ref()).map_err(|e| e.to_string())
    }
}
