//! Booking an event at the kiosk (issue 17), the parts that need no screen: what a card says
//! about the places left, the form's checks, the `rpc/reserve` call and the words a guest reads
//! for each way it can be refused. The dialog that uses them is [`super::reserve`].

use concierge_wire::model::EventRow;
use concierge_wire::reservation::{
    BookingRefusal, MAX_GUEST_NAME_CHARS, MAX_ROOM_CHARS, PARTY_SIZE,
};
use serde_json::{Value, json};

use super::when::{UnixSeconds, parse_timestamp};
use crate::http::{Backend, HttpError};

/// Parties above this many places left are still allowed in the stepper (the server has the
/// last word), but the card warns that places are running out.
const FEW_PLACES: i32 = 3;

/// What a bookable card says about its places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub text: String,
    pub state: PlacesState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacesState {
    Plenty,
    Few,
    Full,
}

impl PlacesState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacesState::Plenty => "plenty",
            PlacesState::Few => "few",
            PlacesState::Full => "full",
        }
    }
}

/// The places label of an event, `None` when it is not booked through Concierge.
pub fn places(event: &EventRow) -> Option<Places> {
    event.capacity?;
    // A bookable event the server has not counted yet reads as full: never promise places.
    let left = event.places_left.unwrap_or(0).max(0);
    let (text, state) = match left {
        0 => ("Fully booked".to_owned(), PlacesState::Full),
        1 => ("1 place left".to_owned(), PlacesState::Few),
        n if n <= FEW_PLACES => (format!("{n} places left"), PlacesState::Few),
        n => (format!("{n} places left"), PlacesState::Plenty),
    };
    Some(Places { text, state })
}

/// Whether the kiosk offers "Reserve" for `event` at `now`: bookable, places left, not started
/// (the server's rules; it refuses anything else all the same).
pub fn can_reserve(event: &EventRow, now: UnixSeconds) -> bool {
    event.capacity.is_some()
        && event.places_left.unwrap_or(0) > 0
        && parse_timestamp(&event.starts_at).is_some_and(|s| s > now)
}

/// The party sizes the stepper offers.
pub fn party_bounds() -> (i32, i32) {
    (*PARTY_SIZE.start() as i32, *PARTY_SIZE.end() as i32)
}

/// `rpc/reserve`'s arguments, checked and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveArgs {
    pub event_id: String,
    pub guest_name: String,
    pub room: String,
    pub party_size: i32,
}

/// Which field a local check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("Please enter the name for the booking.")]
    NameMissing,
    #[error("That name is too long (at most 120 characters).")]
    NameTooLong,
    #[error("Please enter your room number.")]
    RoomMissing,
    #[error("That room number is too long (at most 20 characters).")]
    RoomTooLong,
    #[error("A booking is for 1 to 10 guests.")]
    PartySize,
}

/// The form's checks, the server's bounds (`concierge_wire::reservation`).
pub fn check_form(
    event_id: &str,
    name: &str,
    room: &str,
    party_size: i32,
) -> Result<ReserveArgs, FormError> {
    let (name, room) = (name.trim(), room.trim());
    if name.is_empty() {
        return Err(FormError::NameMissing);
    }
    if name.chars().count() > MAX_GUEST_NAME_CHARS {
        return Err(FormError::NameTooLong);
    }
    if room.is_empty() {
        return Err(FormError::RoomMissing);
    }
    if room.chars().count() > MAX_ROOM_CHARS {
        return Err(FormError::RoomTooLong);
    }
    if !PARTY_SIZE.contains(&i64::from(party_size)) {
        return Err(FormError::PartySize);
    }
    Ok(ReserveArgs {
        event_id: event_id.to_owned(),
        guest_name: name.to_owned(),
        room: room.to_owned(),
        party_size,
    })
}

/// What the confirmation shows of `rpc/reserve`'s answer (`concierge_wire::reservation::Booked`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub id: String,
    pub party_size: i32,
}

/// `POST /rest/v1/rpc/reserve` as the guest's kiosk user (anyone with a key may book; the
/// kiosk's token puts the call under that user's rate limit, not the whole lobby's).
/// The body and the answer go through `serde_json::Value`, which the app already carries:
/// no serde code of their own in the wasm.
pub async fn reserve(
    backend: &Backend,
    access_token: &str,
    args: &ReserveArgs,
) -> Result<Confirmed, HttpError> {
    let body = json!({
        "event_id": args.event_id,
        "guest_name": args.guest_name,
        "room": args.room,
        "party_size": args.party_size,
    });
    let text = backend
        .post("/rest/v1/rpc/reserve")
        .bearer(access_token)
        .json(&body)?
        .text()
        .await?;
    confirmed_from(&text)
}

/// Reads `rpc/reserve`'s answer.
pub fn confirmed_from(text: &str) -> Result<Confirmed, HttpError> {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let id = v.get("id").and_then(Value::as_str);
    let party = v.get("party_size").and_then(Value::as_i64);
    match (id, party) {
        (Some(id), Some(n)) => Ok(Confirmed {
            id: id.to_owned(),
            party_size: i32::try_from(n).unwrap_or(0),
        }),
        _ => Err(HttpError::Malformed(
            "the booking's answer had no id".into(),
        )),
    }
}

/// What a guest reads when a booking did not go through.
pub fn refusal_text(e: &HttpError, party_size: i32) -> String {
    let r = match e {
        HttpError::Network(_) => {
            return "The booking service cannot be reached right now. Please try again, or ask \
                    at the front desk."
                .into();
        }
        HttpError::Refused(r) => r,
        HttpError::Malformed(_) | HttpError::SignedOut => {
            return "Something went wrong with the booking. Please ask at the front desk.".into();
        }
    };
    if r.status == 429 || r.code == "PGRST429" {
        return "Too many bookings from this screen just now. Please wait a minute and try again."
            .into();
    }
    match BookingRefusal::from_message(&r.message) {
        Some(BookingRefusal::NoPlacesLeft) => {
            match r
                .details
                .as_deref()
                .and_then(BookingRefusal::places_left_in)
            {
                Some(left) if left > 0 && left < party_size => format!(
                    "Only {} left — please choose a smaller party.",
                    if left == 1 {
                        "1 place is".to_owned()
                    } else {
                        format!("{left} places are")
                    }
                ),
                _ => "Sorry, this event is now fully booked.".into(),
            }
        }
        Some(BookingRefusal::EventStarted) => {
            "This event has already started, so it can no longer be booked here.".into()
        }
        Some(BookingRefusal::BadPartySize) => FormError::PartySize.to_string(),
        Some(BookingRefusal::BadGuestName) => FormError::NameMissing.to_string(),
        Some(BookingRefusal::BadRoom) => FormError::RoomMissing.to_string(),
        Some(BookingRefusal::NotBookable | BookingRefusal::UnknownEvent) => {
            "This event can no longer be booked here. Please ask at the front desk.".into()
        }
        Some(BookingRefusal::UnknownReservation | BookingRefusal::AlreadyCancelled) | None => {
            format!("The booking did not go through ({}).", r.message)
        }
    }
}

/// The short reference a guest quotes at the venue: the reservation id's first eight hex
/// digits, in two groups (`5F3A-91C2`).
pub fn reference(id: &str) -> String {
    let hex: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
    match hex.len() {
        8 => format!("{}-{}", &hex[..4], &hex[4..]),
        _ => hex,
    }
}

/// What the confirmation's QR code holds: the booking's details as plain text, so a phone
/// keeps them (no link to open; the guest's name and room stay off it).
pub fn qr_text(title: &str, when: &str, party_size: i32, booking_id: &str) -> String {
    let guests = if party_size == 1 {
        "1 guest".to_owned()
    } else {
        format!("{party_size} guests")
    };
    format!(
        "Booking {}\n{title}\n{when}\n{guests}\nid {booking_id}",
        reference(booking_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Refusal;

    fn event(capacity: Option<i32>, left: Option<i32>) -> EventRow {
        serde_json::from_value(serde_json::json!({
            "id": "e", "hotel_id": "h", "title": "Wine tasting", "category": "dining",
            "starts_at": "2026-11-22T13:00:00Z", "capacity": capacity, "places_left": left,
        }))
        .unwrap()
    }

    #[test]
    fn cards_say_how_many_places_are_left() {
        let text = |c, l| places(&event(c, l)).map(|p| (p.text, p.state));
        assert_eq!(text(None, None), None);
        assert_eq!(
            text(Some(10), Some(4)),
            Some(("4 places left".into(), PlacesState::Plenty))
        );
        assert_eq!(
            text(Some(10), Some(3)),
            Some(("3 places left".into(), PlacesState::Few))
        );
        assert_eq!(
            text(Some(10), Some(1)),
            Some(("1 place left".into(), PlacesState::Few))
        );
        assert_eq!(
            text(Some(10), Some(0)),
            Some(("Fully booked".into(), PlacesState::Full))
        );
        assert_eq!(
            text(Some(10), None),
            Some(("Fully booked".into(), PlacesState::Full))
        );
    }

    #[test]
    fn reserve_is_offered_before_the_start_while_places_last() {
        let before = parse_timestamp("2026-11-22T12:59:00Z").unwrap();
        let at = parse_timestamp("2026-11-22T13:00:00Z").unwrap();
        assert!(can_reserve(&event(Some(10), Some(1)), before));
        assert!(!can_reserve(&event(Some(10), Some(1)), at));
        assert!(!can_reserve(&event(Some(10), Some(0)), before));
        assert!(!can_reserve(&event(None, None), before));
    }

    #[test]
    fn the_form_checks_the_servers_bounds() {
        assert_eq!(
            check_form("e", "  Asha Rao ", " 1204 ", 2),
            Ok(ReserveArgs {
                event_id: "e".into(),
                guest_name: "Asha Rao".into(),
                room: "1204".into(),
                party_size: 2,
            })
        );
        assert_eq!(check_form("e", " ", "1", 1), Err(FormError::NameMissing));
        assert_eq!(
            check_form("e", &"a".repeat(121), "1", 1),
            Err(FormError::NameTooLong)
        );
        assert_eq!(check_form("e", "A", "", 1), Err(FormError::RoomMissing));
        assert_eq!(
            check_form("e", "A", &"1".repeat(21), 1),
            Err(FormError::RoomTooLong)
        );
        assert_eq!(check_form("e", "A", "1", 0), Err(FormError::PartySize));
        assert_eq!(check_form("e", "A", "1", 11), Err(FormError::PartySize));
        assert_eq!(party_bounds(), (1, 10));
    }

    fn refused(status: u16, body: &str) -> HttpError {
        HttpError::Refused(Refusal::parse(status, body))
    }

    #[test]
    fn each_refusal_has_its_words() {
        let full = refused(
            400,
            r#"{"code":"P0001","message":"no places left","details":"0 places left, 2 asked"}"#,
        );
        assert_eq!(
            refusal_text(&full, 2),
            "Sorry, this event is now fully booked."
        );
        let short = refused(
            400,
            r#"{"code":"P0001","message":"no places left","details":"3 places left, 4 asked"}"#,
        );
        assert_eq!(
            refusal_text(&short, 4),
            "Only 3 places are left — please choose a smaller party."
        );
        let one = refused(
            400,
            r#"{"code":"P0001","message":"no places left","details":"1 places left, 4 asked"}"#,
        );
        assert_eq!(
            refusal_text(&one, 4),
            "Only 1 place is left — please choose a smaller party."
        );
        let started = refused(400, r#"{"code":"P0001","message":"event has started"}"#);
        assert_eq!(
            refusal_text(&started, 1),
            "This event has already started, so it can no longer be booked here."
        );
        let party = refused(
            400,
            r#"{"code":"P0001","message":"party size must be between 1 and 10"}"#,
        );
        assert_eq!(refusal_text(&party, 11), "A booking is for 1 to 10 guests.");
        let limited = refused(
            429,
            r#"{"code":"PGRST429","message":"too many reservations from this user"}"#,
        );
        assert!(refusal_text(&limited, 1).starts_with("Too many bookings from this screen"));
        assert!(
            refusal_text(&HttpError::Network("x".into()), 1).starts_with("The booking service")
        );
        let odd = refused(500, r#"{"message":"disk full"}"#);
        assert_eq!(
            refusal_text(&odd, 1),
            "The booking did not go through (disk full)."
        );
    }

    #[test]
    fn the_answer_gives_the_booking() {
        let ok = confirmed_from(
            r#"{"id":"r1","event_id":"e","party_size":2,"status":"confirmed",
                "created_at":"2026-11-22T10:00:00.000Z","places_left":4}"#,
        );
        assert_eq!(
            ok,
            Ok(Confirmed {
                id: "r1".into(),
                party_size: 2
            })
        );
        assert!(matches!(confirmed_from("{}"), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn references_and_codes() {
        let id = "5f3a91c2-0b1d-4e2f-8a3b-1c2d3e4f5a6b";
        assert_eq!(reference(id), "5F3A-91C2");
        assert_eq!(reference("ab"), "AB");
        assert_eq!(
            qr_text("Wine tasting", "Tonight 7:00 pm", 2, id),
            format!("Booking 5F3A-91C2\nWine tasting\nTonight 7:00 pm\n2 guests\nid {id}")
        );
        assert!(qr_text("T", "W", 1, id).contains("\n1 guest\n"));
    }
}
