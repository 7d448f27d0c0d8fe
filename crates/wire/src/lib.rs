//! Wire types shared by the Concierge app (wasm) and `concierge-server` (native).
//!
//! Everything here is plain data plus total (never-panicking) parsers: every byte that
//! reaches these functions came from the network or a user.

pub mod category;
pub mod config;
pub mod filter;
pub mod lifecycle;
pub mod message;
pub mod model;
pub mod phoenix;
pub mod realtime;
pub mod reservation;
pub mod role;
pub mod room;
pub mod timestamp;
pub mod user_broadcast;

pub use category::Category;
pub use filter::{Filter, FilterError, FilterOp};
pub use lifecycle::{Move, SessionStatus};
pub use message::AuthorRole;
pub use model::SessionKind;
pub use phoenix::{CodecError, Event, Message, Vsn};
pub use reservation::ReservationStatus;
pub use role::AppRole;
