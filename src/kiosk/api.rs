//! The kiosk's two plain HTTP calls: the hotel's public details, and "search for this session".
//!
//! Results never come back through here to the screen directly: the kiosk shows what the sync
//! engine delivers for its session (so a search made by a phone or a voice agent looks exactly
//! like one made on the screen). The POST's answer is only used to show the guest's own result
//! without waiting for a slow poll when realtime is down (see `GuestSession`).

use concierge_wire::config::AppConfig;
use concierge_wire::model::KioskResultRow;
use serde::{Deserialize, Serialize};

/// The hotel as the kiosk needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HotelInfo {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("the concierge service cannot be reached")]
    Network(String),
    /// A PostgREST-shaped error body (`{code, message, details, hint}`), or a bare status.
    #[error("{message}")]
    Refused { status: u16, message: String },
    #[error("the concierge service sent an answer we could not read")]
    Malformed(String),
}

#[derive(Debug, Deserialize)]
struct PgError {
    message: Option<String>,
}

fn request(
    builder: gloo_net::http::RequestBuilder,
    config: &AppConfig,
) -> gloo_net::http::RequestBuilder {
    builder
        .header("apikey", &config.anon_key)
        .header("Authorization", &format!("Bearer {}", config.anon_key))
}

async fn refused(resp: gloo_net::http::Response) -> ApiError {
    let status = resp.status();
    let message = resp
        .json::<PgError>()
        .await
        .ok()
        .and_then(|e| e.message)
        .unwrap_or_else(|| format!("HTTP {status}"));
    ApiError::Refused { status, message }
}

/// `GET /rest/v1/hotels?id=eq.<id>`; `Ok(None)` when the hotel does not exist.
pub async fn fetch_hotel(config: &AppConfig) -> Result<Option<HotelInfo>, ApiError> {
    let base = crate::boot::api_base(config);
    let url = format!("{base}/rest/v1/hotels");
    let id_filter = format!("eq.{}", config.hotel_id);
    let resp = request(gloo_net::http::Request::get(&url), config)
        .query([("id", id_filter.as_str()), ("select", "id,name,timezone")])
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !resp.ok() {
        return Err(refused(resp).await);
    }
    let rows: Vec<HotelInfo> = resp
        .json()
        .await
        .map_err(|e| ApiError::Malformed(e.to_string()))?;
    Ok(rows.into_iter().next())
}

#[derive(Serialize)]
struct SearchBody<'a> {
    interests: &'a str,
    hotel_id: &'a str,
}

/// `POST /api/event/by-interests?session_id=<id>`: the server writes one `kiosk_results` row
/// for the session and returns it.
pub async fn search(
    config: &AppConfig,
    session_id: &str,
    interests: &str,
) -> Result<KioskResultRow, ApiError> {
    let base = crate::boot::api_base(config);
    let url = format!("{base}/api/event/by-interests");
    let body = SearchBody {
        interests,
        hotel_id: &config.hotel_id,
    };
    let resp = request(gloo_net::http::Request::post(&url), config)
        .query([("session_id", session_id)])
        .json(&body)
        .map_err(|e| ApiError::Malformed(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !resp.ok() {
        return Err(refused(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| ApiError::Malformed(e.to_string()))
}
