//! The one read the realtime server makes for Broadcast and Presence: who a session's private
//! channel belongs to ([`crate::authz::channels`] decides with it).

use rusqlite::OptionalExtension;

use super::{Db, DbError};
use crate::authz::channels::SessionParties;

impl Db {
    /// The customer and staff member of session `id`, or `None` when there is no such row.
    pub async fn session_parties(&self, id: &str) -> Result<Option<SessionParties>, DbError> {
        let id = id.to_owned();
        self.with_reader(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT customer_id, staff_id FROM sessions WHERE id = ?1")?;
            Ok(stmt
                .query_row([&id], |r| {
                    Ok(SessionParties {
                        customer_id: r.get(0)?,
                        staff_id: r.get(1)?,
                    })
                })
                .optional()?)
        })
        .await
    }
}
