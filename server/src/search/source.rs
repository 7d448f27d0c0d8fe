//! Where the search reads its catalogue and writes its result: the local database, or a hosted
//! project's REST API (upstream mode). The search itself (validation, matching, ordering, the
//! result document, the error shapes) is the same code for both; only these four steps differ.

use axum::http::StatusCode;
use concierge_wire::Filter;

use crate::authz::Principal;
use crate::credentials::Credentials;
use crate::db::{ReadQuery, Row, Table};
use crate::rest_error::RestError;
use crate::state::AppState;
use crate::upstream::Upstream;

/// The search's catalogue source and result sink.
#[derive(Clone, Copy)]
pub(crate) enum Backend<'a> {
    Local(&'a AppState),
    Upstream(&'a Upstream),
}

impl Backend<'_> {
    /// The gateway's rule: a valid API key (any role may search; none widens what is written).
    pub(crate) fn check_key(self, creds: &Credentials) -> Result<(), RestError> {
        match self {
            Backend::Local(state) => creds.principal(&state.keys).map(drop).map_err(Into::into),
            Backend::Upstream(up) => up.check_key(creds),
        }
    }

    /// The hotel, or PGRST116 (404) when there is none.
    pub(crate) async fn hotel(self, hotel_id: &str) -> Result<Row, RestError> {
        let found = match self {
            Backend::Local(state) => {
                let q = ReadQuery {
                    filters: vec![Filter::eq("id", hotel_id)],
                    limit: Some(1),
                    ..ReadQuery::default()
                };
                state
                    .db
                    .select(&Principal::ServiceRole, Table::Hotels, q)
                    .await
                    .map_err(|e| RestError::from_db(e, &Principal::ServiceRole))?
                    .rows
                    .into_iter()
                    .next()
            }
            Backend::Upstream(up) => up.hotel(hotel_id).await?,
        };
        found.ok_or_else(|| {
            RestError::new(
                StatusCode::NOT_FOUND,
                "PGRST116",
                format!(
                    "unknown hotel \"{}\"",
                    crate::rest_error::truncate(hotel_id)
                ),
            )
        })
    }

    /// The hotel's events, past ones included; the caller filters and orders.
    pub(crate) async fn events(self, hotel_id: &str) -> Result<Vec<Row>, RestError> {
        match self {
            Backend::Local(state) => crate::matcher::local_events(&state.db, hotel_id)
                .await
                .map_err(|e| RestError::from_db(e, &Principal::ServiceRole)),
            Backend::Upstream(up) => Ok(up.events(hotel_id).await?),
        }
    }

    /// Writes one `kiosk_results` row as the service role and returns it as stored. Locally it
    /// goes through the single write path, so realtime sees it; upstream, the project's own
    /// Realtime does.
    pub(crate) async fn insert_result(self, row: Row) -> Result<Row, RestError> {
        match self {
            Backend::Local(state) => state
                .writer
                .insert_one(&Principal::ServiceRole, Table::KioskResults, row)
                .await
                .map_err(|e| RestError::from_db(e, &Principal::ServiceRole)),
            Backend::Upstream(up) => Ok(up.insert_result(row).await?),
        }
    }
}
