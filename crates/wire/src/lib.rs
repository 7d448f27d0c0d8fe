//! Wire types shared by the Concierge app (wasm) and `concierge-server` (native).
//!
//! Everything here is plain data plus total (never-panicking) parsers: every byte that
//! reaches these functions came from the network or a user.

pub mod config;
pub mod filter;
pub mod model;
pub mod phoenix;
pub mod realtime;

pub use filter::{Filter, FilterError, FilterOp};
pub use model::{SessionKind, SessionStatus};
pub use phoenix::{CodecError, Event, Message, Vsn};
