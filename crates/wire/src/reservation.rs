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
}
