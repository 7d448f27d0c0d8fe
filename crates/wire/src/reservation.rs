//! Reservations (issue 17): the words both backends store and the bounds both enforce. The
//! SQLite server, `supabase/migrations/0004_reservations.sql` and the app read them from here.

use serde::{Deserialize, Serialize};

/// A reservation's state: `confirmed` when booked, `cancelled` once staff gave the places back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Confirmed,
    Cancelled,
}

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 2] =
        [ReservationStatus::Confirmed, ReservationStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ReservationStatus> {
        ReservationStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Smallest and largest party one reservation may hold.
pub const PARTY_SIZE: std::ops::RangeInclusive<i64> = 1..=10;
/// Longest guest name and room, in characters (after trimming; neither may be empty).
pub const MAX_GUEST_NAME_CHARS: usize = 120;
pub const MAX_ROOM_CHARS: usize = 20;

/// A `reservations` row, as staff read it over REST and realtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationRow {
    pub id: String,
    pub event_id: String,
    pub guest_name: String,
    pub room: String,
    pub party_size: i32,
    pub status: ReservationStatus,
    pub created_at: String,
}

/// What `rpc/reserve` and `rpc/cancel_reservation` answer: the reservation (without the
/// guest's name and room) and the event's places left after the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booked {
    pub id: String,
    pub event_id: String,
    pub party_size: i32,
    pub status: ReservationStatus,
    pub created_at: String,
    #[serde(default)]
    pub places_left: Option<i32>,
}

/// Why `rpc/reserve` or `rpc/cancel_reservation` changed nothing. Both backends raise these
/// with the same message (PostgREST `message`), which is what tells them apart: most share
/// SQLSTATE P0001.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingRefusal {
    UnknownEvent,
    NotBookable,
    EventStarted,
    NoPlacesLeft,
    BadPartySize,
    BadGuestName,
    BadRoom,
    UnknownReservation,
    AlreadyCancelled,
}

impl BookingRefusal {
    pub const ALL: [BookingRefusal; 9] = [
        BookingRefusal::UnknownEvent,
        BookingRefusal::NotBookable,
        BookingRefusal::EventStarted,
        BookingRefusal::NoPlacesLeft,
        BookingRefusal::BadPartySize,
        BookingRefusal::BadGuestName,
        BookingRefusal::BadRoom,
        BookingRefusal::UnknownReservation,
        BookingRefusal::AlreadyCancelled,
    ];

    /// The server's message for this refusal.
    pub fn message(self) -> &'static str {
        match self {
            BookingRefusal::UnknownEvent => "unknown event",
            BookingRefusal::NotBookable => "event is not bookable",
            BookingRefusal::EventStarted => "event has started",
            BookingRefusal::NoPlacesLeft => "no places left",
            BookingRefusal::BadPartySize => "party size must be between 1 and 10",
            BookingRefusal::BadGuestName => "guest name must be 1 to 120 characters",
            BookingRefusal::BadRoom => "room must be 1 to 20 characters",
            BookingRefusal::UnknownReservation => "unknown reservation",
            BookingRefusal::AlreadyCancelled => "reservation is already cancelled",
        }
    }

    pub fn from_message(message: &str) -> Option<BookingRefusal> {
        BookingRefusal::ALL
            .into_iter()
            .find(|r| r.message() == message)
    }

    /// The places the event had when a booking was refused for want of them: the
    /// `details` of a `no places left` refusal read `"<left> places left, <asked> asked"`.
    pub fn places_left_in(details: &str) -> Option<i32> {
        details.split(' ').next()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for s in ReservationStatus::ALL {
            assert_eq!(ReservationStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReservationStatus::parse("pending"), None);
    }

    #[test]
    fn refusals_are_read_from_their_messages() {
        for r in BookingRefusal::ALL {
            assert_eq!(BookingRefusal::from_message(r.message()), Some(r));
        }
        assert_eq!(BookingRefusal::from_message("No places left"), None);
        assert_eq!(
            BookingRefusal::places_left_in("3 places left, 4 asked"),
            Some(3)
        );
        assert_eq!(BookingRefusal::places_left_in("many"), None);
    }

    #[test]
    fn rows_read_as_the_server_writes_them() {
        let row: ReservationRow = serde_json::from_str(
            r#"{"id":"r","event_id":"e","guest_name":"Asha","room":"1204","party_size":2,
                "status":"cancelled","created_at":"2026-11-22T10:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(row.status, ReservationStatus::Cancelled);
        let booked: Booked = serde_json::from_str(
            r#"{"id":"r","event_id":"e","party_size":2,"status":"confirmed",
                "created_at":"2026-11-22T10:00:00.000Z","places_left":4}"#,
        )
        .unwrap();
        assert_eq!(booked.places_left, Some(4));
    }
}
