//! Rows of the Concierge tables, as they travel over REST and realtime (JSON).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::lifecycle::SessionStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    Chat,
    Video,
    Concierge,
}

impl SessionKind {
    pub const ALL: [SessionKind; 3] = [
        SessionKind::Chat,
        SessionKind::Video,
        SessionKind::Concierge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Chat => "chat",
            SessionKind::Video => "video",
            SessionKind::Concierge => "concierge",
        }
    }

    pub fn parse(s: &str) -> Option<SessionKind> {
        SessionKind::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotel {
    pub id: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// IANA zone, e.g. `Asia/Kolkata`.
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub hotel_id: String,
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub venue: Option<String>,
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub price_text: Option<String>,
    #[serde(default)]
    pub distance_km: Option<f64>,
    #[serde(default)]
    pub is_hotel_service: bool,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub booking_url: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Places an event takes (issue 17); `None`: it is not booked through Concierge.
    #[serde(default)]
    pub capacity: Option<i32>,
    /// Places not yet booked, kept by the server in the booking's own transaction (never
    /// computed by a client); `None` exactly when `capacity` is.
    #[serde(default)]
    pub places_left: Option<i32>,
}

/// `kiosk_results.results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub interests: String,
    pub categories: Vec<String>,
    pub events: Vec<EventRow>,
    /// Offered when nothing matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskResultRow {
    pub id: String,
    pub session_id: String,
    pub results: Value,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub customer_id: String,
    /// The customer's display name, stamped by the server when the session is requested.
    #[serde(default)]
    pub customer_name: Option<String>,
    pub status: SessionStatus,
    pub kind: SessionKind,
    #[serde(default)]
    pub staff_id: Option<String>,
    #[serde(default)]
    pub staff_name: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
}
