//! Booking an event (issue 17): what a `reserve` call asks for and every way it can be refused.
//! The refusals are the local twin of the `raise` statements in
//! `supabase/migrations/0004_reservations.sql`: the same messages, the same SQLSTATEs (P0001,
//! PostgREST's 400, for a rule; P0002, its 404, for an unknown row).

use concierge_wire::reservation::{MAX_GUEST_NAME_CHARS, MAX_ROOM_CHARS, PARTY_SIZE};

/// A `reserve` call's arguments, as sent (checked by [`Booking::check`] before any write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// A canonical lowercase UUID, or `None` for JSON null (no such event).
    pub event_id: Option<String>,
    pub guest_name: Option<String>,
    pub room: Option<String>,
    pub party_size: Option<i64>,
}

/// Why a booking or a cancellation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown event")]
    UnknownEvent,
    #[error("event is not bookable")]
    NotBookable,
    #[error("event has started")]
    EventStarted,
    #[error("no places left")]
    NoPlacesLeft { left: i64, asked: i64 },
    #[error("party size must be between 1 and 10")]
    BadPartySize,
    #[error("guest name must be 1 to 120 characters")]
    BadGuestName,
    #[error("room must be 1 to 20 characters")]
    BadRoom,
    #[error("unknown reservation")]
    UnknownReservation,
    #[error("reservation is already cancelled")]
    AlreadyCancelled,
}

impl Refusal {
    /// The SQLSTATE the hosted function raises for the same refusal.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Refusal::UnknownEvent | Refusal::UnknownReservation => "P0002",
            _ => "P0001",
        }
    }

    /// The `details` the hosted function adds.
    pub fn details(&self) -> Option<String> {
        match self {
            Refusal::NoPlacesLeft { left, asked } => {
                Some(format!("{left} places left, {asked} asked"))
            }
            _ => None,
        }
    }
}

fn text_ok(s: Option<&str>, max: usize) -> bool {
    s.map(str::trim)
        .is_some_and(|t| !t.is_empty() && t.chars().count() <= max)
}

impl Booking {
    /// The checks that need no row: party size, then name and room (the hosted function's
    /// order). Names and rooms are stored trimmed.
    pub fn check(mut self) -> Result<Booking, Refusal> {
        if !self.party_size.is_some_and(|n| PARTY_SIZE.contains(&n)) {
            return Err(Refusal::BadPartySize);
        }
        if !text_ok(self.guest_name.as_deref(), MAX_GUEST_NAME_CHARS) {
            return Err(Refusal::BadGuestName);
        }
        if !text_ok(self.room.as_deref(), MAX_ROOM_CHARS) {
            return Err(Refusal::BadRoom);
        }
        self.guest_name = self.guest_name.map(|s| s.trim().to_owned());
        self.room = self.room.map(|s| s.trim().to_owned());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(name: &str, room: &str, n: i64) -> Booking {
        Booking {
            event_id: None,
            guest_name: Some(name.into()),
            room: Some(room.into()),
            party_size: Some(n),
        }
    }

    #[test]
    fn bounds_are_the_wire_crates() {
        assert_eq!(b("a", "1", 0).check(), Err(Refusal::BadPartySize));
        assert_eq!(b("a", "1", 11).check(), Err(Refusal::BadPartySize));
        assert_eq!(b("  ", "1", 2).check(), Err(Refusal::BadGuestName));
        assert_eq!(b("a", &"9".repeat(21), 2).check(), Err(Refusal::BadRoom));
        let ok = b(" Ada ", " 12 ", 10).check().unwrap();
        assert_eq!(
            (ok.guest_name.as_deref(), ok.room.as_deref()),
            (Some("Ada"), Some("12"))
        );
        assert_eq!(
            Refusal::NoPlacesLeft { left: 1, asked: 2 }.details(),
            Some("1 places left, 2 asked".into())
        );
        assert_eq!(Refusal::UnknownEvent.sqlstate(), "P0002");
    }

    /// The app tells refusals apart by their message (`concierge_wire::reservation`).
    #[test]
    fn messages_are_the_ones_the_app_reads() {
        use concierge_wire::reservation::BookingRefusal as W;
        let pairs = [
            (Refusal::UnknownEvent, W::UnknownEvent),
            (Refusal::NotBookable, W::NotBookable),
            (Refusal::EventStarted, W::EventStarted),
            (Refusal::NoPlacesLeft { left: 0, asked: 1 }, W::NoPlacesLeft),
            (Refusal::BadPartySize, W::BadPartySize),
            (Refusal::BadGuestName, W::BadGuestName),
            (Refusal::BadRoom, W::BadRoom),
            (Refusal::UnknownReservation, W::UnknownReservation),
            (Refusal::AlreadyCancelled, W::AlreadyCancelled),
        ];
        for (server, wire) in pairs {
            assert_eq!(server.to_string(), wire.message());
        }
    }
}
