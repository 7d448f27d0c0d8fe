//! Timestamps, as the sync core reads them: versions and `commit_timestamp`s to one integer.
//!
//! Only a re-export, on purpose: the server canonicalises stored timestamps and the app reads
//! event times with `concierge_wire::timestamp`, and the store must order versions exactly as
//! they do. A second parser here could disagree with it on some shape (`…Z` vs `…+00:00`) and
//! let an older copy of a row win, so there is one parser and this module only names it.

pub use concierge_wire::timestamp::*;
