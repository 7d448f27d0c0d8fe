//! The kiosk's plain HTTP calls: the hotel's public details, claiming a session for the
//! kiosk's user, and "search for this session".
//!
//! Results never come back through here to the screen directly: the kiosk shows what the sync
//! engine delivers for its session (so a search made by a phone or a voice agent looks exactly
//! like one made on the screen). The POST's answer is only used to show the guest's own result
//! without waiting for a slow poll when realtime is down (see `GuestSession`).
//!
//! The hotel is public (the anon key reads it); the claim and the search carry the guest's
//! kiosk user's access token (see [`super::identity`]).

use concierge_wire::model::KioskResultRow;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::{Backend, HttpError};

/// The hotel as the kiosk needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HotelInfo {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

/// What a guest reads when a search fails.
pub fn guest_message(e: &HttpError) -> String {
    match e {
        HttpError::Network(_) => "the concierge service cannot be reached".into(),
        HttpError::Refused(r) => r.message.clone(),
        HttpError::Malformed(_) | HttpError::SignedOut => {
            "the concierge service sent an answer we could not read".into()
        }
    }
}

/// `GET /rest/v1/hotels?id=eq.<id>`; `Ok(None)` when the hotel does not exist.
pub async fn fetch_hotel(
    backend: &Backend,
    hotel_id: &str,
) -> Result<Option<HotelInfo>, HttpError> {
    let rows: Vec<HotelInfo> = backend
        .get("/rest/v1/hotels")
        .bearer(&backend.anon_key)
        .query("id", &format!("eq.{hotel_id}"))
        .query("select", "id,name,timezone")
        .fetch_json()
        .await?;
    Ok(rows.into_iter().next())
}

/// `POST /rest/v1/kiosk_sessions` `{"id": <session id>}` as the kiosk's user: the claim that
/// makes the results written for the session its own, readable by it alone. The owner is the
/// token's whatever is sent (concierge-server and the hosted trigger both set it), and a
/// session id is claimed once (`409`, `23505` for anyone after). `return=minimal`: nothing to
/// read back.
pub async fn claim_session(
    backend: &Backend,
    access_token: &str,
    session_id: &str,
) -> Result<(), HttpError> {
    backend
        .post("/rest/v1/kiosk_sessions")
        .bearer(access_token)
        .header("Prefer", "return=minimal")
        .json(&json!({ "id": session_id }))?
        .text()
        .await
        .map(drop)
}

#[derive(Serialize)]
struct SearchBody<'a> {
    interests: &'a str,
    hotel_id: &'a str,
}

/// `POST /api/event/by-interests?session_id=<id>`: the server writes one `kiosk_results` row
/// for the session and returns it. `access_token` is the kiosk user's (any valid key may
/// search; the row belongs to whoever claimed the session, not to the caller).
pub async fn search(
    backend: &Backend,
    access_token: &str,
    hotel_id: &str,
    session_id: &str,
    interests: &str,
) -> Result<KioskResultRow, HttpError> {
    backend
        .post("/api/event/by-interests")
        .bearer(access_token)
        .query("session_id", session_id)
        .json(&SearchBody {
            interests,
            hotel_id,
        })?
        .fetch_json()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Refusal;

    #[test]
    fn guests_read_plain_words_or_the_servers_message() {
        assert_eq!(
            guest_message(&HttpError::Network("x".into())),
            "the concierge service cannot be reached"
        );
        let refused = HttpError::Refused(Refusal::parse(400, r#"{"message":"too long"}"#));
        assert_eq!(guest_message(&refused), "too long");
    }
}
